// Temporary simulated hosts and a way to run their tools as processes, from the host or
// from inside a jail (NEST_SIM_JID), exactly as nest and jail(8) run them.
import {spawn} from 'node:child_process'
import {mkdtempSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {initSim} from '../../src/sim/control.js'
import {loadKernel} from '../../src/sim/store.js'

export interface Run {
  code: number
  stdout: string
  stderr: string
}

export interface TestSim {
  root: string
  /** Run a simulated tool on the host. */
  run(tool: string, ...args: string[]): Promise<Run>
  /** Run a tool as a process inside a jail (by jid). */
  runIn(jid: number, tool: string, ...args: string[]): Promise<Run>
  fs(p: string): string
  kernel(): ReturnType<typeof loadKernel>
  /** Run nest (the compiled CLI) against this host, with no added latency; `env` adds to its environment. */
  nest(...args: string[]): Promise<Run>
  nestWith(env: Record<string, string>, ...args: string[]): Promise<Run>
  /** The names of the live jails, sorted. */
  alive(): string[]
  jid(name: string): number | undefined
  /** What is mounted strictly below a path (`fstype on`). */
  mountsBelow(root: string): string[]
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
  const root = mkdtempSync(path.join(tmpdir(), 'nest-sim-'))
  await initSim(root, Number(process.env['NEST_SIM_SEED'] ?? 1))
  const runIn = (jid: number, tool: string, ...args: string[]): Promise<Run> =>
    spawnRun(path.join(root, 'bin', tool), args, {...process.env, NEST_SIM_ROOT: root, NEST_SIM_JID: String(jid), NEST_SIM_LATENCY: ''})
  const nestWith = (env: Record<string, string>, ...args: string[]): Promise<Run> =>
    spawnRun(process.execPath, [NEST_BIN, ...args], {...process.env, NEST_SIM_ROOT: root, NEST_HOST: 'sim', NEST_SIM_QUIET: '1', NEST_SIM_LATENCY: '', ...env})
  return {
    root,
    run: (tool, ...args) => runIn(0, tool, ...args),
    runIn,
    fs: (p) => path.join(root, 'fs', p),
    kernel: () => loadKernel(root),
    nest: (...args) => nestWith({}, ...args),
    nestWith,
    alive: () => loadKernel(root).jails.filter((j) => j.state === 'ALIVE').map((j) => j.name).sort(),
    jid: (name) => loadKernel(root).jails.find((j) => j.name === name && j.state === 'ALIVE')?.jid,
    mountsBelow: (p) => loadKernel(root).mounts.filter((m) => m.on.startsWith(`${p}/`)).map((m) => `${m.fstype} ${m.on}`),
    cleanup: () => rmSync(root, {recursive: true, force: true}),
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
    datasets: k.datasets.map((d) => [d.name, d.props, d.origin ?? null]),
    mounts: k.mounts.map((m) => [m.fstype, m.from, m.on]),
    files: Object.fromEntries(dirs.map((d) => [d, files(d)])),
  }
}
