// Chooses the host nest acts on: FreeBSD itself, or the embedded simulated FreeBSD host where
// no FreeBSD kernel is found. With src/host/sim-control.ts (for `nest sim`), the only product
// files that reach src/sim (house style §19).
import {existsSync, rmSync} from 'node:fs'
import {mkdtemp} from 'node:fs/promises'
import {homedir, tmpdir} from 'node:os'
import path from 'node:path'

import {errAsync, okAsync, ResultAsync} from 'neverthrow'

import {internal, invalidInput, type NestError, preflight} from '../domain/errors.js'
import {NEST_ENTRY, NEST_MOUNT, NEST_WRAPPER} from '../domain/install.js'

// The simulator's control plane is imported when the simulated host is selected, never on
// FreeBSD and never for --version or --help (it brings the kernel model and its store).
const control = (): Promise<typeof import('../sim/control.js')> => import('../sim/control.js')

export type HostKind = 'freebsd' | 'sim'

export interface HostInfo {
  kind: HostKind
  /** PATH for every command nest runs on this host. */
  path: string
  /** Where "/" of this host is on the local file system (the sim's fs/ tree). */
  fsRoot: string
  /** The sim root, for the simulated host. */
  simRoot?: string
  /** The jail this process runs in on the simulated host (child managers). */
  simJid?: number
  /** How jail.conf hooks run nest on this host (an absolute path). */
  nestBin: string
  /** nest's installation on this host, mounted read-only into parent jails (an absolute path). */
  nestInstall: string
  /** nest runs inside a jail (known up front on the simulated host; FreeBSD says it by sysctl). */
  jailed?: boolean
}

/** This installation (where package.json is): from src/host, dist/src/host or a bundled file in dist/cli. */
function installRoot(): string {
  for (let dir = import.meta.dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir
  }
  return path.resolve(import.meta.dirname, '..', '..', '..')
}
/** This installation's bin/run.js, for hooks on FreeBSD. */
const INSTALL_ROOT = installRoot()
const INSTALLED_NEST = path.join(INSTALL_ROOT, 'bin', 'run.js')

export const FREEBSD_PATH = '/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin'

export function defaultSimRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env['NEST_SIM_ROOT']) return path.resolve(env['NEST_SIM_ROOT'])
  const state = env['XDG_STATE_HOME'] || path.join(homedir(), '.local', 'state')
  return path.join(state, 'nest', 'sim')
}

const SIM_ROOT_FIX = 'set NEST_SIM_ROOT to a simulated host, or to a missing or empty directory for a new one'

export function pickHostKind(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): HostKind | NestError {
  const want = flag ?? env['NEST_HOST']
  if (want === undefined || want === '') return process.platform === 'freebsd' ? 'freebsd' : 'sim'
  if (want === 'freebsd' || want === 'sim') return want
  return invalidInput(`unknown host "${want}"`, 'use --host freebsd or --host sim')
}

/**
 * Resolve the host. The simulated one is initialized on first use; `notice` gets one line
 * saying that it is in use and where (nest's child managers inside a jail stay quiet).
 */
export function selectHost(flag: string | undefined, notice: (line: string) => void, env: NodeJS.ProcessEnv = process.env): ResultAsync<HostInfo, NestError> {
  const kind = pickHostKind(flag, env)
  if (typeof kind !== 'string') return errAsync(kind)
  if (kind === 'freebsd') return okAsync({kind, path: FREEBSD_PATH, fsRoot: '/', nestBin: INSTALLED_NEST, nestInstall: INSTALL_ROOT})
  const root = defaultSimRoot(env)
  return ResultAsync.fromPromise(control(), (e) => internal(`cannot load the simulated host: ${String(e)}`)).andThen(({initSim, jailPathOf, simPaths, simRootState, writeShims}) => {
    let state: ReturnType<typeof simRootState>
    try {
      state = simRootState(root)
    } catch (error) {
      return errAsync(invalidInput(`cannot use ${root} for the simulated host: ${(error as Error).message}`, SIM_ROOT_FIX))
    }
    // Never make a host inside what is not one: init writes fs/ and bin/ there, reset removes them.
    if (state === 'not-dir') return errAsync(invalidInput(`${root} is not a directory, so it cannot hold the simulated host`, SIM_ROOT_FIX))
    if (state === 'foreign') return errAsync(invalidInput(`${root} is not a simulated host (no kernel.json) and not empty`, SIM_ROOT_FIX))
    const fresh = state === 'new'
    // writeShims rewrites a shim only when its text differs (another installation, another node).
    const ready = fresh
      ? ResultAsync.fromPromise(initSim(root), (e) => internal(`cannot initialize the simulated host at ${root}: ${String(e)}`))
      : ResultAsync.fromPromise(Promise.resolve().then(() => writeShims(root)), (e) => internal(`cannot write the simulated tools in ${root}: ${String(e)}`))
    return ready.map((): HostInfo => {
      if (env['NEST_SIM_QUIET'] !== '1') notice(`nest: using the simulated FreeBSD host at ${root}${fresh ? ' (initialized now)' : ''}`)
      const jid = Number(env['NEST_SIM_JID'] ?? '0')
      // A child manager sees its jail's root as "/".
      const fsRoot = jid === 0 ? simPaths(root).fs : path.join(simPaths(root).fs, jailPathOf(root, jid))
      return {kind, path: simPaths(root).bin, fsRoot, simRoot: root, simJid: jid, nestBin: jid === 0 ? NEST_WRAPPER : NEST_ENTRY, nestInstall: NEST_MOUNT, jailed: jid !== 0}
    })
  })
}

/** A twin of a host (`nest tighten --what-if`): a host of its own to run nest on, and how to make it go away. */
export interface Twin {
  info: HostInfo
  dispose(): void
}

/**
 * Why no copy twin can be made of this host (null: one can), said before anything is read. The
 * simulated host's is a copy of its model and files in a temporary directory (control.ts
 * twinSim): nothing done on it reaches the live host. FreeBSD has no such copy: its twin is made
 * of ZFS clones of the subtree (audit-rules §5.3, src/plan/twin.ts, `--twin clones`).
 */
export function twinRefusal(info: HostInfo): NestError | null {
  if (info.kind !== 'sim' || info.simRoot === undefined) {
    return preflight('a twin that is a copy of the host exists on the simulated host only: on FreeBSD the twin is made of ZFS clones of the subtree', 'run nest tighten NAME --what-if --twin clones (the default on FreeBSD)')
  }
  if ((info.simJid ?? 0) !== 0) return preflight('a twin is made by the host\'s nest, not inside a jail', 'run nest tighten on the host')
  return null
}

export function makeTwin(info: HostInfo, env: NodeJS.ProcessEnv = process.env): ResultAsync<Twin, NestError> {
  const refused = twinRefusal(info)
  if (refused || info.simRoot === undefined) return errAsync(refused ?? internal('no simulated host root'))
  const root = info.simRoot
  const dir = env['TMPDIR'] || tmpdir()
  return ResultAsync.fromPromise(mkdtemp(path.join(dir, 'nest-twin-')), (e) => invalidInput(`cannot make a twin of the simulated host in ${dir}: ${(e as Error).message}`, 'set TMPDIR to a writable directory')).andThen((base) => {
    const twin = path.join(base, 'sim')
    const dispose = (): void => rmSync(base, {recursive: true, force: true})
    return ResultAsync.fromPromise(control().then(({simPaths, twinSim}) => twinSim(root, twin).then(() => simPaths(twin))), (e) => {
      dispose()
      return internal(`cannot make a twin of the simulated host at ${root}: ${String(e)}`)
    }).map((p): Twin => ({info: {...info, simRoot: twin, path: p.bin, fsRoot: p.fs}, dispose}))
  })
}
