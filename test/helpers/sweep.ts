// Sweeps over every step of a command: the tool calls of a clean run, read from the simulated
// host's invocation log, each made the target of a scripted fault (or a crash) in turn.
import {createHash} from 'node:crypto'
import {existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {type FaultSpec} from '../../src/sim/control.js'
import {simPaths} from '../../src/sim/store.js'
import {hostState, makeSim, nestSteps, type TestSim} from './sim.js'

/** One tool call of a run, as the simulator logged it. */
export interface Call {
  tool: string
  argv: string[]
  jail: string | null
  by?: string
}

/**
 * The calls a sweep makes fail: not those of a jail's own boot (/etc/rc). FreeBSD's rc goes on
 * past a failed step and the start succeeds; the jail's boot is the jail's, not a step of nest's
 * to roll back. (They still count for `nth`: a fault matches every call of its argv.)
 */
export const isPoint = (c: Call): boolean => c.by === undefined

/** Forget the calls logged so far. */
export function clearCalls(sim: TestSim): void {
  writeFileSync(simPaths(sim.root).log, '')
}

/**
 * The tool calls logged since the last clearCalls (programs a hook ran are not tool calls), with
 * who made them when it was not nest or jail(8) (`by`: a jail's own /etc/rc).
 */
export function readCalls(sim: TestSim): Call[] {
  return readFileSync(simPaths(sim.root).log, 'utf8').split('\n').filter((l) => l !== '')
    .map((l) => JSON.parse(l) as {tool?: string; argv: string[]; jail: string | null; by?: string})
    .flatMap((c) => (c.tool === undefined ? [] : [{tool: c.tool, argv: c.argv, jail: c.jail, ...(c.by === undefined ? {} : {by: c.by})}]))
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** A fault (or crash) on exactly the i-th call of `calls`: its argv, and which of the identical calls it is. */
export function faultAt(calls: readonly Call[], i: number, extra: Partial<FaultSpec> = {}): FaultSpec {
  const c = calls[i] as Call
  const line = c.argv.join(' ')
  const nth = calls.slice(0, i + 1).filter((x) => x.tool === c.tool && x.argv.join(' ') === line).length
  // nest's lifecycle record (nest:started=<time>) differs from one run to the next: any time matches.
  return {tool: c.tool, match: `^${escape(line).replace(/nest:(started|stopped)=[0-9]+/g, 'nest:$1=[0-9]+')}$`, nth, errno: 'EIO', ...extra}
}

/** How a call reads in a report: `zfs destroy -r zroot/nest/jails/web (in web)`. */
export const callLine = (c: Call): string => `${c.tool} ${c.argv.join(' ')}${c.jail ? ` (in ${c.jail})` : ''}`

/**
 * The state a sweep compares, as sorted lines (the order in which objects were made is no part
 * of it): jails, datasets with their properties, mounts, and the files below `dirs`, without
 * the lock files of /var/run/nest (a run's own, like the host's /var/run).
 */
export function stateLines(state: {jails: unknown[]; datasets: unknown[]; mounts: unknown[]; ifnets?: unknown[]; files: Record<string, string[]>}): string[] {
  return [
    ...(state.ifnets ?? []).map((x) => `ifnet ${JSON.stringify(x)}`),
    ...state.jails.map((x) => `jail ${JSON.stringify(x)}`),
    ...state.datasets.map((x) => `dataset ${JSON.stringify(x)}`),
    ...state.mounts.map((x) => `mount ${JSON.stringify(x)}`),
    ...Object.entries(state.files).flatMap(([d, fs]) => fs.filter((f) => !/(^|\/)var\/run\/nest(\/|$)/.test(f)).map((f) => `file ${d}/${f}`)),
  ].sort()
}

/** What differs between two states' lines: `+ ` what `b` has more, `- ` what it lacks (duplicates counted). */
export function stateDiff(a: readonly string[], b: readonly string[]): string[] {
  const count = (xs: readonly string[]): Map<string, number> => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>())
  const ca = count(a)
  const cb = count(b)
  const out: string[] = []
  for (const [x, n] of cb) for (let i = ca.get(x) ?? 0; i < n; i++) out.push(`+ ${x}`)
  for (const [x, n] of ca) for (let i = cb.get(x) ?? 0; i < n; i++) out.push(`- ${x}`)
  return out
}

/** A parent whose children live in directories (no delegated dataset): the sweeps' `lite`. */
const DIR_PARENT = 'nest.description = "children in directories";\nnest.delegate = false;\nchildren.max = 8;\nenforce_statfs = 1;\ndevfs_ruleset = 4;\nallow.mount;\nallow.mount.devfs;\nallow.mount.nullfs;\nallow.mount.tmpfs;\n'

/** The VNET parent of the sweeps: an epair on bridge0 (created by its start), an address and a default route in its rc.conf. */
export const GW = ['create', 'gw', '--vnet', '--ip4', '192.0.2.10/24', '--defaultrouter', '192.0.2.1']

/**
 * The hosts a sweep starts from, each saved once: bootstrapped; web; web with web/db; that
 * with web stopped; and, beside web's, lite (a directory parent) from the bootstrapped host;
 * gw (a VNET parent, GW) from the bootstrapped host, and gw stopped.
 */
export async function sweepHosts(): Promise<{sim: TestSim; saved: Record<string, string>}> {
  const sim = await makeSim()
  const saved: Record<string, string> = {}
  mkdirSync(sim.fs('/usr/local/etc/nest/policies'), {recursive: true})
  writeFileSync(path.join(sim.fs('/usr/local/etc/nest/policies'), 'dirparent.conf'), DIR_PARENT)
  await nestSteps(sim, ['bootstrap', '14.3-RELEASE'])
  saved['bootstrapped'] = sim.save()
  await nestSteps(sim, ['create', 'web'])
  saved['web'] = sim.save()
  await nestSteps(sim, ['create', 'web/db'])
  saved['web/db'] = sim.save()
  await nestSteps(sim, ['stop', 'web'])
  saved['web/db stopped'] = sim.save()
  sim.restore(saved['bootstrapped'] as string)
  await nestSteps(sim, ['create', 'lite', '--policy', 'dirparent'])
  saved['lite'] = sim.save()
  sim.restore(saved['bootstrapped'] as string)
  await nestSteps(sim, GW)
  saved['gw'] = sim.save()
  await nestSteps(sim, ['stop', 'gw'])
  saved['gw stopped'] = sim.save()
  return {sim, saved}
}

/** What a sweep compares: the kernel model and nest's files, one line each. */
export const sweepState = (sim: TestSim): string[] => stateLines(hostState(sim, ['/etc/jail.conf.d', '/nest/jails']) as Parameters<typeof stateLines>[0])

/** A tree of the simulator's tree store (`<root>/snapshots/<id>`) as one hash: every path, its kind and its bytes. */
function treeHash(sim: TestSim, id: string): string {
  const top = path.join(simPaths(sim.root).snapshots, id)
  if (!existsSync(top)) return 'absent'
  const h = createHash('sha256')
  for (const f of readdirSync(top, {recursive: true}).map(String).sort()) {
    const st = statSync(path.join(top, f))
    h.update(`${f}\0${st.isDirectory() ? 'd' : st.mode.toString(8)}\0`)
    if (st.isFile()) h.update(readFileSync(path.join(top, f)))
  }
  return h.digest('hex').slice(0, 16)
}

/** A file's bytes as one hash (absent: `-`). */
function fileHash(sim: TestSim, p: string): string {
  try {
    return createHash('sha256').update(readFileSync(sim.fs(p))).digest('hex').slice(0, 16)
  } catch {
    return '-'
  }
}

/**
 * What a migration touches beyond sweepState, one line each: pools; every guest disk (its GPT,
 * its pools' labels and datasets, and each tree they hold hashed: a disk written by an import
 * differs), which zvol holds which disk, md units; bhyve guests in the kernel (name and stage:
 * a restarted guest has a new pid); the sysctls that are state (vfs.zfs.vol.recursive);
 * RACCT/RCTL; and the bytes of `files` (rc.conf's vm_list, rctl.conf) and of every file below
 * `trees` but logs (vm-bhyve's vm-bhyve.log grows with each start and stop).
 */
export function hostLines(sim: TestSim, files: readonly string[], trees: readonly string[]): string[] {
  const k = sim.kernel()
  const disk = (d: (typeof k.disks)[number]): string => JSON.stringify({
    ...d,
    parts: d.parts.map((p) => ({
      ...p,
      ...(p.ufs ? {ufs: {...p.ufs, content: treeHash(sim, p.ufs.content)}} : {}),
      ...(p.pool ? {pool: {...p.pool, datasets: p.pool.datasets.map((x) => ({...x, ...(x.content ? {content: treeHash(sim, x.content)} : {}), snapshots: x.snapshots.map((s) => ({name: s.name, content: treeHash(sim, s.content)}))}))}} : {}),
    })),
  })
  const below = (dir: string): string[] => {
    try {
      return readdirSync(sim.fs(dir), {recursive: true}).map(String).filter((f) => !f.endsWith('.log') && statSync(path.join(sim.fs(dir), f)).isFile()).sort().map((f) => `${dir}/${f}`)
    } catch {
      return []
    }
  }
  return [
    ...k.pools.map((p) => `pool ${JSON.stringify([p.name, p.guest ?? null])}`),
    ...k.disks.map((d) => `disk ${disk(d)}`),
    ...k.datasets.filter((d) => d.disk !== undefined).map((d) => `zvol ${d.name} ${d.disk}`),
    ...k.mds.map((m) => `md ${JSON.stringify(m)}`),
    ...k.vms.map((v) => `vm ${v.name} ${v.stage}`),
    // vfs.zfs.vol.recursive unset reads as its default, 0 (zvol_os.c zvol_recursive): set back to 0 is the same state.
    ...Object.entries({'vfs.zfs.vol.recursive': 0, ...k.sysctl}).map(([n, v]) => `sysctl ${n}=${v}`),
    `racct ${JSON.stringify(k.racct)}`,
    ...[...files, ...trees.flatMap(below)].map((f) => `bytes ${f} ${fileHash(sim, f)}`),
  ].sort()
}

/** What a migration sweep compares: sweepState, and hostLines with rc.conf, rctl.conf, jail.conf.d and vm-bhyve's tree. */
export const migrationState = (sim: TestSim): string[] => [...sweepState(sim), ...hostLines(sim, ['/etc/rc.conf', '/etc/rctl.conf'], ['/etc/jail.conf.d', '/vm'])]

/**
 * The migration sweeps' host: bootstrapped, the zfs-bastille guest fbsd1 added and started by
 * vm(8) itself (as a rollback starts it again: its console and null.iso are vm start's).
 */
export async function vmHost(): Promise<{sim: TestSim; saved: string}> {
  const sim = await makeSim()
  await nestSteps(sim, ['bootstrap', '14.3-RELEASE'], ['sim', 'vm', 'add', 'fbsd1', '--disk', 'zfs-bastille'])
  const started = await sim.run('vm', 'start', 'fbsd1')
  if (started.code !== 0) throw new Error(`vm start fbsd1: exit ${started.code}: ${started.stderr}`)
  return {sim, saved: sim.save()}
}

/** vm list says the guest runs. */
export const vmRunning = async (sim: TestSim, name: string): Promise<boolean> => new RegExp(`^${name}\\s.*Running`, 'm').test((await sim.run('vm', 'list')).stdout)
