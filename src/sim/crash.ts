// The simulator's crash mode: a fault that ends the nest invocation that made the call, as
// `kill -9` would: no rollback, no lock release, nothing more printed. The call itself runs to
// its end (a tool that nest started goes on when nest dies: it is a process of its own, and so
// is jail(8) with the hooks it runs), and only then does its caller die, so a crash at step N
// is a crash *after* step N. A process (bin/run.js) is killed with SIGKILL; an in-process
// invocation (the test harness, test/helpers/inprocess.ts) is ended by the callback it
// registered under its id, which its environment carries (INVOCATION_ENV) into every tool call
// it makes, the hooks of a jail(8) it runs included.
import {readFileSync} from 'node:fs'

/** The environment variable naming the in-process nest invocation a call comes from. */
export const INVOCATION_ENV = 'NEST_SIM_INVOCATION'

// One registry per process, even when this module is loaded twice (from source and bundled).
const KEY = Symbol.for('nest.sim.crash')
const holder = globalThis as {[KEY]?: Map<string, () => void>}
const registry: Map<string, () => void> = (holder[KEY] ??= new Map())

/** An in-process invocation says how it is ended; the function returned forgets it. */
export function registerCrash(id: string, crash: () => void): () => void {
  registry.set(id, crash)
  return () => registry.delete(id)
}

/** Is this command line nest's (bin/run.js, the installed entry point, the nest wrapper), also as a jexec that became nest? */
const isNest = (argv: readonly string[]): boolean => argv.some((a) => a.endsWith('/bin/run.js') || a.endsWith('/bin/dev.js') || a === 'nest' || a.endsWith('/bin/nest'))

function procArgv(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '')
  } catch {
    return undefined
  }
}

function procParent(pid: number): number | undefined {
  try {
    // pid (comm) state ppid ...: comm may hold blanks and parentheses, the last ')' ends it.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
    return Number.isInteger(ppid) && ppid > 0 ? ppid : undefined
  } catch {
    return undefined
  }
}

/** The nearest nest process above this one (its parent when /proc cannot tell). */
function nestAncestor(): number | undefined {
  for (let pid: number | undefined = process.ppid, hops = 0; pid !== undefined && pid > 1 && hops < 32; pid = procParent(pid), hops++) {
    const argv = procArgv(pid)
    if (argv === undefined) return process.ppid
    if (isNest(argv)) return pid
  }
  return undefined
}

/**
 * End the nest invocation this call comes from: the in-process one named in `env`, else the
 * nearest nest process above this tool's. False when there is none (a tool run by hand).
 */
export function crashCaller(env: NodeJS.ProcessEnv, ownProcess: boolean): boolean {
  const id = env[INVOCATION_ENV]
  const inProcess = id === undefined ? undefined : registry.get(id)
  if (inProcess) {
    inProcess()
    return true
  }
  if (!ownProcess) return false
  const pid = nestAncestor()
  if (pid === undefined) return false
  try {
    process.kill(pid, 'SIGKILL')
    return true
  } catch {
    return false
  }
}
