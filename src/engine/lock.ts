// Per-jail locks: two nest processes acting on one jail do not interleave. The lock lives on
// the host (/var/run/nest/<jail>.lock); nest's own hooks (exec.release runs `nest cleanup`
// while `nest stop` holds the lock) inherit NEST_HELD_LOCKS and do not wait for themselves. It
// lives in the invocation's environment (the process's own, or an in-process invocation's).
import {mkdir} from 'node:fs/promises'
import path from 'node:path'

import {ResultAsync} from 'neverthrow'
import lockfile from 'proper-lockfile'

import {invocation} from '../cli/invocation.js'
import {busy, type NestError} from '../domain/errors.js'
import type {Host} from '../host/host.js'

export const LOCK_DIR = '/var/run/nest'
const HELD = 'NEST_HELD_LOCKS'

const held = (env: NodeJS.ProcessEnv): string[] => (env[HELD] ?? '').split(',').filter((x) => x !== '')

/** Run `work` holding the lock of `jail`; waits about 3 s for another holder, then fails. */
export function withJailLock<T>(host: Host, jail: string, work: () => ResultAsync<T, NestError>): ResultAsync<T, NestError> {
  const env = invocation().env
  if (held(env).includes(jail)) return work()
  const file = host.files.local(`${LOCK_DIR}/${jail}.lock`)
  const acquire = mkdir(path.dirname(file), {recursive: true}).then(() =>
    lockfile.lock(file, {realpath: false, stale: 60_000, update: 10_000, retries: {retries: 15, minTimeout: 100, maxTimeout: 300}}))
  return ResultAsync.fromPromise(acquire, () =>
    busy(`${jail}: another nest process is working on this jail`, 'wait for it to finish, then run the command again'),
  ).andThen((release) => {
    env[HELD] = [...held(env), jail].join(',')
    const done = (): Promise<void> => {
      env[HELD] = held(env).filter((x) => x !== jail).join(',')
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
