// Temporary simulated hosts, and nest and their tools run against them: in-process (inprocess.ts:
// the same code, no process per call), or spawned as real processes (the end-to-end ring), from the
// host or from inside a jail (NEST_SIM_JID), exactly as nest and jail(8) run them. A host's
// whole state (kernel.json, control.json, its files) can be saved and restored, so that each
// test starts from a prepared tree instead of building it.
import {spawn} from 'node:child_process'
import {cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {initSim} from '../../src/sim/control.js'
import {loadKernel} from '../../src/sim/store.js'
import {nestEnv, nestInProcess, type Run, toolInProcess} from './inprocess.js'

export type {Run}

export interface TestSim {
  root: string
  /** Run a simulated tool on the host. */
  run(tool: string, ...args: string[]): Promise<Run>
  /** Run a tool inside a jail (by jid). */
  runIn(jid: number, tool: string, ...args: string[]): Promise<Run>
  /** Run a tool on the host as a real process (<root>/bin/TOOL). */
  spawnTool(tool: string, ...args: string[]): Promise<Run>
  /** Run nest as a real process (bin/run.js), its tools and hooks processes too. */
  spawnNest(...args: string[]): Promise<Run>
  fs(p: string): string
  /** Make directories on the simulated host (paths as the host sees them). */
  mkdirs(...ps: string[]): void
  kernel(): ReturnType<typeof loadKernel>
  /** Run nest against this host in-process, with no added latency; `env` adds to its environment. */
  nest(...args: string[]): Promise<Run>
  nestWith(env: Record<string, string>, ...args: string[]): Promise<Run>
  /** The names of the live jails, sorted. */
  alive(): string[]
  jid(name: string): number | undefined
  /** What is mounted strictly below a path (`fstype on`). */
  mountsBelow(root: string): string[]
  /** Save the whole host (a directory copy); `restore` brings it back exactly. */
  save(): string
  restore(saved: string): void
  cleanup(): void
}


const REPO = path.resolve(import.meta.dirname, '../..')
export const NEST_BIN = path.join(REPO, 'bin', 'run.js')

export function spawnRun(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {env, stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('close', (code) => resolve({code: code ?? 128, stdout, stderr}))
  })
}

export async function makeSim(): Promise<TestSim> {
  const base = mkdtempSync(path.join(tmpdir(), 'nest-sim-'))
  const root = path.join(base, 'sim')
  await initSim(root, Number(process.env['NEST_SIM_SEED'] ?? 1))
  let saves = 0
  const spawnIn = (jid: number, tool: string, args: string[]): Promise<Run> =>
    spawnRun(path.join(root, 'bin', tool), args, {...process.env, NEST_SIM_ROOT: root, NEST_SIM_JID: String(jid), NEST_SIM_LATENCY: ''})
  const runIn = (jid: number, tool: string, ...args: string[]): Promise<Run> => toolInProcess(root, jid, tool, args)
  const nestWith = (env: Record<string, string>, ...args: string[]): Promise<Run> => nestInProcess(nestEnv(root, env), args)
  return {
    root,
    run: (tool, ...args) => runIn(0, tool, ...args),
    runIn,
    spawnTool: (tool, ...args) => spawnIn(0, tool, args),
    spawnNest: (...args) => spawnRun(process.execPath, [NEST_BIN, ...args], nestEnv(root)),
    fs: (p) => path.join(root, 'fs', p),
    mkdirs: (...ps) => {
      for (const p of ps) mkdirSync(path.join(root, 'fs', p), {recursive: true})
    },
    kernel: () => loadKernel(root),
    nest: (...args) => nestWith({}, ...args),
    nestWith,
    alive: () => loadKernel(root).jails.filter((j) => j.state === 'ALIVE').map((j) => j.name).sort(),
    jid: (name) => loadKernel(root).jails.find((j) => j.name === name && j.state === 'ALIVE')?.jid,
    mountsBelow: (p) => loadKernel(root).mounts.filter((m) => m.on.startsWith(`${p}/`)).map((m) => `${m.fstype} ${m.on}`),
    save: () => {
      const saved = path.join(base, `saved-${saves++}`)
      cpSync(root, saved, {recursive: true, verbatimSymlinks: true})
      return saved
    },
    restore: (saved) => {
      rmSync(root, {recursive: true, force: true})
      cpSync(saved, root, {recursive: true, verbatimSymlinks: true})
    },
    cleanup: () => rmSync(base, {recursive: true, force: true}),
  }
}

/** Run nest itself (the compiled CLI) against a simulated host. */
export function runNest(root: string, ...args: string[]): Promise<Run> {
  return spawnRun(process.execPath, [NEST_BIN, ...args], {...process.env, NEST_SIM_ROOT: root, NEST_HOST: 'sim'})
}

/**
 * What a rollback or a refusal must leave as it was: jails (with children.cur), datasets with
 * their properties, mounts, and the files below the given directories.
 */
/**
 * nest's lifecycle record (nest:started, nest:stopped: when nest last started and stopped a
 * jail, for nest audit) is a note, not state: a run that could not write it only warns. A
 * rollback or a convergence is judged without it; test/commands/audit.test.ts tests it.
 */
const lifecycleTimeless = (props: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(props).filter(([k]) => k !== 'nest:started' && k !== 'nest:stopped'))

export function hostState(sim: TestSim, dirs: readonly string[]): unknown {
  const k = sim.kernel()
  const files = (dir: string): string[] => {
    try {
      return readdirSync(sim.fs(dir), {recursive: true}).map(String).sort()
    } catch {
      return []
    }
  }
  return {
    jails: k.jails.map((j) => [j.name, j.state, j.path, j.childrenCur]),
    datasets: k.datasets.map((d) => [d.name, lifecycleTimeless(d.props), d.origin ?? null]),
    mounts: k.mounts.map((m) => [m.fstype, m.from, m.on]),
    // Interfaces by name and the stack they are in (a jail's name: jids and MACs change from one run to the next).
    ifnets: (k.ifnets ?? []).map((i) => {
      const where = (jid: number): string => (jid === 0 ? 'host' : k.jails.find((j) => j.jid === jid)?.name ?? `jid ${jid}`)
      const name = (index: number): string => k.ifnets.find((x) => x.index === index)?.name ?? `#${index}`
      return [i.name, where(i.vnet), i.up, (i.members ?? []).map(name).sort(), i.addrs.map((a) => `${a.addr}/${a.plen}`)]
    }),
    files: Object.fromEntries(dirs.map((d) => [d, files(d)])),
  }
}

/** Run nest command lines in-process, one after the other, each of which must succeed (a test's preparation). */
export async function nestSteps(sim: TestSim, ...lines: string[][]): Promise<void> {
  for (const args of lines) {
    const r = await sim.nest(...args)
    if (r.code !== 0) throw new Error(`nest ${args.join(' ')}: exit ${r.code}: ${r.stderr}`)
  }
}
