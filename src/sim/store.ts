// Atomic load/save of the one kernel model under a lock (house style §13). Fake tools are
// separate processes that nest runs concurrently; each change is made under the lock and
// written to a temporary file renamed over the model, so a reader never sees half a state. A
// read takes no lock: the rename makes every load a whole state.
//
// The lock and the atomic write are proper-lockfile's and write-file-atomic's protocols (a
// `lock` directory made with mkdir(2), stale after 20 s unless its holder refreshes it; a
// rename(2) from a file beside the target), done here with node:fs alone: as npm packages
// they cost a tool process that changes the model ~20 ms of module loading through Node's ES
// module loader, a fifth of a Node start. A process that takes the lock this way and one that
// uses proper-lockfile on the same path exclude each other.
import {mkdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync} from 'node:fs'
import {emptyRacct} from './kernel/rctl.js'
import path from 'node:path'

import {hostInterfaces} from './kernel/ifnet.js'
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
  const k = JSON.parse(readFileSync(simPaths(root).kernel, 'utf8')) as Kernel & {ifnets?: Kernel['ifnets']; routes?: Kernel['routes']; forwarding?: Kernel['forwarding']; vms?: Kernel['vms']; racct?: Kernel['racct']; disks?: Kernel['disks']; mds?: Kernel['mds']; diskSeq?: number}
  // A host saved before the interface table existed: the host's own interfaces, as a fresh one has.
  if (k.ifnets === undefined) {
    k.ifnets = hostInterfaces()
    k.ifMacSeq = 0
  }
  // A host saved before the routing tables existed: no static routes, forwarding off everywhere.
  if (k.routes === undefined) k.routes = []
  if (k.forwarding === undefined) k.forwarding = []
  // A host saved before bhyve guests were modelled: none runs.
  if (k.vms === undefined) k.vms = []
  // A host saved before RACCT was modelled: booted with kern.racct.enable=0, as GENERIC is.
  if (k.racct === undefined) k.racct = emptyRacct()
  // A host saved before guest disks were modelled: none, and no md unit.
  if (k.disks === undefined) k.disks = []
  if (k.mds === undefined) k.mds = []
  if (k.diskSeq === undefined) k.diskSeq = 0
  return k
}

let tmpSeq = 0

/** Replace a file's content at once: a temporary file beside it, then rename(2) over it. */
export function writeFileAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.${tmpSeq++}.tmp`
  try {
    writeFileSync(tmp, text)
    renameSync(tmp, file)
  } catch (error) {
    rmSync(tmp, {force: true})
    throw error
  }
}

export async function saveKernel(root: string, k: Kernel): Promise<void> {
  writeFileAtomic(simPaths(root).kernel, `${JSON.stringify(k)}\n`)
}

/** A lock untouched this long was left by a process that died holding it. */
const STALE_MS = 20_000
/** How often to retry a taken lock, and for how long: ~50 s in all, as with proper-lockfile before. */
const RETRIES = 2000
const MIN_WAIT_MS = 2
const MAX_WAIT_MS = 25

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

async function acquire(dir: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      mkdirSync(dir)
      return
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    try {
      if (Date.now() - statSync(dir).mtimeMs > STALE_MS) {
        rmSync(dir, {recursive: true, force: true})
        continue
      }
    } catch {
      // Released between mkdir and stat: take it now.
      continue
    }
    if (attempt >= RETRIES) throw new Error(`the lock ${dir} is still held after ${RETRIES} attempts`)
    await sleep(Math.min(MAX_WAIT_MS, MIN_WAIT_MS * 1.2 ** attempt) * (1 + Math.random()))
  }
}

export async function withLock<T>(root: string, fn: () => Promise<T>): Promise<T> {
  const dir = simPaths(root).lock
  await acquire(dir)
  // A holder refreshes the lock, so a long change is never taken for a dead one.
  const refresh = setInterval(() => {
    try {
      const now = new Date()
      utimesSync(dir, now, now)
    } catch {
      // Nothing to refresh: the lock is gone.
    }
  }, STALE_MS / 2)
  refresh.unref()
  try {
    return await fn()
  } finally {
    clearInterval(refresh)
    rmSync(dir, {recursive: true, force: true})
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
