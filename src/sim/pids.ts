// Pseudo pids: programs the simulator runs in-process (see inprocess.ts) have no process of
// their own, yet a jail must count them as its processes while they run (they keep a
// non-persistent jail alive, and their exit may let it die). They get numbers above any real
// pid (Linux's pid_max is at most 2^22), so signalling one reaches no real process, and they
// stay alive for tickJails until they are released.
const PSEUDO_PID_BASE = 1_000_000_000
const KEY = Symbol.for('nest.sim.pseudoPids')
// One registry per process even when the simulator is loaded twice (compiled and from source).
const holder = globalThis as {[KEY]?: {next: number; live: Set<number>}}
const registry = (holder[KEY] ??= {next: PSEUDO_PID_BASE, live: new Set<number>()})

/** Is this a pseudo pid (an in-process program)? */
export const isPseudoPid = (pid: number): boolean => pid >= PSEUDO_PID_BASE

/** A fresh pseudo pid, alive until `releasePseudoPid`. */
export function allocPseudoPid(): number {
  const pid = registry.next++
  registry.live.add(pid)
  return pid
}

export function releasePseudoPid(pid: number): void {
  registry.live.delete(pid)
}

export const pseudoPidAlive = (pid: number): boolean => registry.live.has(pid)
