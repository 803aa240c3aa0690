// Atomic load/save of the one kernel model under a lock (house style §13). Fake tools are
// separate processes that nest runs concurrently; each change is made under the lock and
// written with write-file-atomic (rename), so a reader never sees half a state. A read takes no
// lock: the rename makes every load a whole state. Both libraries are imported when a change
// is made, so a read-only tool call does not load them.
import {readFileSync} from 'node:fs'
import path from 'node:path'

import {tickJails} from './kernel/jails.js'
import {isPseudoPid, pseudoPidAlive} from './pids.js'
import type {Kernel} from './kernel/state.js'

export interface SimPaths {
  root: string
  kernel: string
  control: string
  lock: string
  fs: string
  bin: string
  log: string
  snapshots: string
}

export function simPaths(root: string): SimPaths {
  return {
    root,
    kernel: path.join(root, 'kernel.json'),
    control: path.join(root, 'control.json'),
    lock: path.join(root, 'lock'),
    fs: path.join(root, 'fs'),
    bin: path.join(root, 'bin'),
    log: path.join(root, 'invocations.jsonl'),
    snapshots: path.join(root, 'snapshots'),
  }
}

/** A broken kernel invariant: the simulator is wrong, not nest. */
export class InvariantError extends Error {}

export function loadKernel(root: string): Kernel {
  return JSON.parse(readFileSync(simPaths(root).kernel, 'utf8')) as Kernel
}

export async function saveKernel(root: string, k: Kernel): Promise<void> {
  const {default: writeFileAtomic} = await import('write-file-atomic')
  await writeFileAtomic(simPaths(root).kernel, `${JSON.stringify(k)}\n`)
}

export async function withLock<T>(root: string, fn: () => Promise<T>): Promise<T> {
  const p = simPaths(root)
  const {default: lockfile} = await import('proper-lockfile')
  const release = await lockfile.lock(p.kernel, {
    lockfilePath: p.lock,
    realpath: false,
    stale: 20_000,
    retries: {retries: 2000, minTimeout: 2, maxTimeout: 25, factor: 1.2, randomize: true},
  })
  try {
    return await fn()
  } finally {
    await release()
  }
}

const pidAlive = (pid: number): boolean => {
  // An in-process program is alive until it returns.
  if (isPseudoPid(pid)) return pseudoPidAlive(pid)
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Run one kernel operation: lock, load, age the state (exited processes, dying jails), apply,
 * check every invariant, save. A thrown error leaves the saved state untouched.
 */
export async function withKernel<T>(root: string, fn: (k: Kernel) => T | Promise<T>): Promise<T> {
  return withLock(root, async () => {
    const k = loadKernel(root)
    tickJails(k, pidAlive)
    const out = await fn(k)
    const {checkInvariants} = await import('./invariants.js')
    const bad = checkInvariants(k)
    if (bad.length > 0) throw new InvariantError(bad.join('; '))
    await saveKernel(root, k)
    return out
  })
}
