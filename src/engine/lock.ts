// Per-jail locks: two nest processes acting on one jail do not interleave. The lock lives on
// the host (/var/run/nest/<jail>.lock); nest's own hooks (exec.release runs `nest cleanup`
// while `nest stop` holds the lock) inherit NEST_HELD_LOCKS and do not wait for themselves.
import {mkdir} from 'node:fs/promises'
import path from 'node:path'

import {ResultAsync} from 'neverthrow'
import lockfile from 'proper-lockfile'

import {type Invocation, invocation} from '../context/invocation.js'
import {busy, type NestError} from '../domain/errors.js'
import type {Host} from '../host/host.js'

export const LOCK_DIR = '/var/run/nest'
const HELD = 'NEST_HELD_LOCKS'

// The invocation's environment: the process's own, or an in-process invocation's (tests).
const held = (env: NodeJS.ProcessEnv): string[] => (env[HELD] ?? '').split(',').filter((x) => x !== '')

/** How long a second nest waits for the first (seconds): `NEST_LOCK_WAIT`, else 30 (a tree's stop takes a while). */
const waitSeconds = (env: NodeJS.ProcessEnv): number => {
  const v = Number(env['NEST_LOCK_WAIT'])
  return Number.isFinite(v) && v >= 0 ? v : 30
}

/**
 * The locks held by the invocations of this process, with how to release each: an in-process
 * invocation ended as kill -9 ends a process (its `dead` flag) is an owner that is gone, so its
 * lock is taken over at once (the lock's refresh timer would keep it fresh forever).
 */
type Holders = Map<string, {inv: Invocation; release: () => Promise<void>}>
// One map per process, though every command's bundle carries its own copy of this module.
const HOLDERS = Symbol.for('nest.lock.holders')
const holders: Holders = ((globalThis as {[HOLDERS]?: Holders})[HOLDERS] ??= new Map())

function takeOverDead(file: string, jail: string, notice?: (line: string) => void): Promise<void> {
  const h = holders.get(file)
  if (!h?.inv.dead) return Promise.resolve()
  holders.delete(file)
  notice?.(`${jail.replaceAll('.', '/')}: the nest process that held this jail's lock is gone; taking the lock over`)
  return h.release().catch(() => undefined)
}

/**
 * Run `work` holding the lock of `jail`. Another holder: say so (`notice`), wait for it (up to
 * NEST_LOCK_WAIT seconds), then fail with busy; the work reads its state once it holds the lock.
 */
export function withJailLock<T>(host: Host, jail: string, work: () => ResultAsync<T, NestError>, notice?: (line: string) => void): ResultAsync<T, NestError> {
  const env = invocation().env
  if (held(env).includes(jail)) return work()
  const file = host.files.local(`${LOCK_DIR}/${jail}.lock`)
  const owner = invocation()
  // A crashed owner (an in-process invocation ended as kill -9 ends a process) no longer holds
  // its lock: that the lock was taken over or removed is then no error of its (a live one's is).
  const onCompromised = (e: Error): void => {
    if (!owner.dead) throw e
  }
  const opts = {realpath: false, stale: 60_000, update: 10_000, onCompromised}
  const wait = waitSeconds(env)
  const acquire = mkdir(path.dirname(file), {recursive: true}).then(() => takeOverDead(file, jail, notice)).then(() => lockfile.lock(file, opts).catch((e: unknown) => {
    if ((e as NodeJS.ErrnoException).code !== 'ELOCKED' || wait === 0) throw e
    notice?.(`${jail.replaceAll('.', '/')}: another nest process is working on this jail; waiting for it (up to ${wait} s)`)
    return lockfile.lock(file, {...opts, retries: {retries: Math.ceil(wait * 4), minTimeout: 250, maxTimeout: 250, factor: 1}})
  }))
  return ResultAsync.fromPromise(acquire, () =>
    busy(`${jail}: another nest process is working on this jail`, 'wait for it to finish, then run the command again'),
  ).andThen((release) => {
    env[HELD] = [...held(env), jail].join(',')
    holders.set(file, {inv: owner, release})
    const done = (): Promise<void> => {
      env[HELD] = held(env).filter((x) => x !== jail).join(',')
      holders.delete(file)
      return release().catch(() => undefined)
    }
    const run = async () => {
      const r = await work()
      await done()
      return r
    }
    return ResultAsync.fromSafePromise(run()).andThen((r) => r)
  })
}
