// Per-jail locks: two nest processes acting on one jail tree do not interleave. The lock is a
// file on the host (/var/run/nest/<jail>.lock) that names its owner: the process (pid and
// start time, src/host/proc.ts), the invocation inside it (a token: tests and hooks run
// several nest command lines in one process) and an id of its own.
//
// - Taking it: the owner record is written to a file of its own, then link(2)ed to the lock's
//   name, which fails with EEXIST while another owner holds it: the lock appears whole or not
//   at all.
// - A live owner: say so, wait for it (NEST_LOCK_WAIT seconds, 30 by default), then busy.
// - A dead owner (its process is gone, its pid now names another process, or its invocation
//   of this process ended without releasing it): taken over at once, with a notice. The
//   takeover removes the dead owner's file only while holding `<lock>.takeover` (made with
//   O_EXCL) and only if the lock still names that very owner, so two nests that find the same
//   dead owner never both end up holding the lock. (proper-lockfile, used before, judged
//   staleness by age: a dead owner's lock blocked for 60 s, and two waiters that both found
//   it stale could each remove the other's fresh lock and both go on, which is how two
//   `nest start --all` could each unmount what the other had just mounted.)
// - Held already: nest's own hooks (jail(8)'s exec.release runs `nest cleanup web` while the
//   `nest stop web` that ran jail -r holds web's lock) inherit NEST_HELD_LOCKS, a list of
//   `name=id`; an entry counts only while the lock file of that name in *this* nest's lock
//   directory names that id. A child manager (`jexec web nest stop db`) inherits the list too,
//   but its /var/run/nest is web's own, where no lock has the host's ids: it takes its locks.
import {randomUUID} from 'node:crypto'
import {link, mkdir, open, readFile, stat, unlink} from 'node:fs/promises'
import {unlinkSync} from 'node:fs'
import path from 'node:path'

import {err, type Result, ResultAsync} from 'neverthrow'

import {invocation, invocationToken, isInvocationLive} from '../context/invocation.js'
import {busy, internal, type NestError} from '../domain/errors.js'
import type {Host} from '../host/host.js'
import {processAlive, selfProcess} from '../host/proc.js'

export const LOCK_DIR = '/var/run/nest'
export const HELD_LOCKS = 'NEST_HELD_LOCKS'

/** What a lock file says of its owner. */
export interface LockOwner {
  /** This lock's own id (NEST_HELD_LOCKS names it). */
  id: string
  pid: number
  /** The process's start (src/host/proc.ts). */
  start: string
  /** The invocation inside that process (`main`: the process's own). */
  token: string
  /** The jail whose lock this is (its top-level name). */
  jail: string
  /** When it was taken (ISO 8601), for people reading the file. */
  since: string
}

/** How long to sleep between two looks at a lock held by a live owner. */
const POLL_MS = 100
/** A takeover guard older than this was left by a nest that died within its few milliseconds. */
const GUARD_STALE_MS = 10_000

/** The held-locks list of an environment: name → id. */
function heldList(env: NodeJS.ProcessEnv): Map<string, string> {
  const out = new Map<string, string>()
  for (const part of (env[HELD_LOCKS] ?? '').split(',')) {
    const at = part.indexOf('=')
    if (at > 0) out.set(part.slice(0, at), part.slice(at + 1))
  }
  return out
}

const heldText = (m: ReadonlyMap<string, string>): string => [...m].map(([k, v]) => `${k}=${v}`).join(',')

/** How long a second nest waits for the first (seconds): `NEST_LOCK_WAIT`, else 30 (a tree's stop takes a while). */
const waitSeconds = (env: NodeJS.ProcessEnv): number => {
  const v = Number(env['NEST_LOCK_WAIT'] ?? 30)
  return Number.isFinite(v) && v >= 0 ? v : 30
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const code = (e: unknown): string | undefined => (e as NodeJS.ErrnoException).code

/** The owner a lock file names; `gone`: no file; `garbled`: a file that names no owner. */
async function readOwner(file: string): Promise<LockOwner | 'gone' | 'garbled'> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    if (code(error) === 'ENOENT') return 'gone'
    throw error
  }
  try {
    const o = JSON.parse(text) as Partial<LockOwner>
    if (typeof o.id === 'string' && typeof o.pid === 'number' && typeof o.start === 'string' && typeof o.token === 'string') return o as LockOwner
  } catch {
    // Not JSON.
  }
  return 'garbled'
}

/** Is the owner at work: its process alive and, when it is this process, its invocation still running? */
async function ownerAlive(host: Host, o: LockOwner): Promise<boolean> {
  const me = selfProcess()
  if (o.pid === me.pid && o.start === me.start) return isInvocationLive(o.token)
  return (await processAlive(host, {pid: o.pid, start: o.start})).unwrapOr(true)
}

/** Try to take the lock: true when this owner has it now. */
async function tryCreate(file: string, me: LockOwner): Promise<boolean> {
  const tmp = `${file}.${me.id}`
  await mkdir(path.dirname(file), {recursive: true})
  const fh = await open(tmp, 'wx', 0o644)
  try {
    await fh.writeFile(`${JSON.stringify(me)}\n`)
  } finally {
    await fh.close()
  }
  try {
    await link(tmp, file)
    return true
  } catch (error) {
    if (code(error) === 'EEXIST') return false
    throw error
  } finally {
    await unlink(tmp).catch(() => undefined)
  }
}

/**
 * Remove a dead owner's lock, holding the takeover guard, and only if the lock still names
 * that owner (another nest may have taken it over, and be at work under it, meanwhile).
 * Whether this nest removed it; the caller then tries to take the lock as usual.
 */
async function removeDead(file: string, dead: LockOwner | 'garbled', me: LockOwner): Promise<boolean> {
  const guard = `${file}.takeover`
  let fh
  try {
    fh = await open(guard, 'wx', 0o644)
  } catch (error) {
    if (code(error) !== 'EEXIST') throw error
    const st = await stat(guard).catch(() => null)
    if (st && Date.now() - st.mtimeMs > GUARD_STALE_MS) await unlink(guard).catch(() => undefined)
    return false
  }
  try {
    await fh.writeFile(`${JSON.stringify(me)}\n`)
    await fh.close()
    const now = await readOwner(file)
    const same = now === 'garbled' ? dead === 'garbled' : now !== 'gone' && dead !== 'garbled' && now.id === dead.id
    if (!same) return false
    await unlink(file).catch((error: unknown) => {
      if (code(error) !== 'ENOENT') throw error
    })
    return true
  } finally {
    await unlink(guard).catch(() => undefined)
  }
}

const display = (jail: string): string => jail.replaceAll('.', '/')

/** Locks this process holds (file → id), removed if it exits before releasing them. */
const owned = new Map<string, string>()
let exitHook = false
function remember(file: string, id: string): void {
  owned.set(file, id)
  if (exitHook) return
  exitHook = true
  process.once('exit', () => {
    for (const f of owned.keys()) {
      try {
        unlinkSync(f)
      } catch {
        // Gone already.
      }
    }
  })
}

/**
 * Take the lock: at once, or after a dead owner's is taken over, or once a live owner lets
 * go within the wait. 'busy' when the wait is over.
 */
async function acquire(host: Host, file: string, me: LockOwner, wait: number, notice: (line: string) => void): Promise<'taken' | 'busy'> {
  const deadline = Date.now() + wait * 1000
  let told = false
  for (;;) {
    if (await tryCreate(file, me)) return 'taken'
    const owner = await readOwner(file)
    if (owner === 'gone') continue
    const alive = owner !== 'garbled' && (await ownerAlive(host, owner))
    if (!alive) {
      if (await removeDead(file, owner, me)) {
        notice(owner === 'garbled'
          ? `${display(me.jail)}: took over a lock that named no owner (${file})`
          : `${display(me.jail)}: took over the lock of nest process ${owner.pid}${owner.pid === me.pid ? ` (invocation ${owner.token})` : ''}, which is gone`)
      } else await sleep(10)
      continue
    }
    if (Date.now() >= deadline) return 'busy'
    if (!told) {
      told = true
      notice(`${display(me.jail)}: another nest process is working on this jail; waiting for it (up to ${wait} s)`)
    }
    await sleep(Math.min(POLL_MS, Math.max(1, deadline - Date.now())))
  }
}

/** Let go of a lock this owner holds (not one that was taken over meanwhile). */
async function release(file: string, me: LockOwner): Promise<void> {
  owned.delete(file)
  const now = await readOwner(file).catch(() => 'gone' as const)
  if (now !== 'gone' && now !== 'garbled' && now.id === me.id) await unlink(file).catch(() => undefined)
}

/** Does this invocation hold the lock already, through a nest above it that passed it down (NEST_HELD_LOCKS)? */
async function heldAbove(file: string, id: string | undefined): Promise<boolean> {
  if (id === undefined) return false
  const now = await readOwner(file).catch(() => 'gone' as const)
  return now !== 'gone' && now !== 'garbled' && now.id === id
}

/**
 * Run `work` holding the lock of `jail`. Another live holder: say so (`notice`), wait for it
 * (up to NEST_LOCK_WAIT seconds), then fail with busy; a dead one: take its lock over at
 * once, and say so. The work reads its state once it holds the lock.
 */
export function withJailLock<T>(host: Host, jail: string, work: () => ResultAsync<T, NestError>, notice: (line: string) => void = () => undefined, what = 'this jail'): ResultAsync<T, NestError> {
  const inv = invocation()
  const env = inv.env
  const file = host.files.local(`${LOCK_DIR}/${jail}.lock`)
  const self = selfProcess()
  const me: LockOwner = {id: randomUUID(), pid: self.pid, start: self.start, token: invocationToken(inv), jail, since: new Date().toISOString()}
  const run = async (): Promise<Result<T, NestError>> => {
    if (await heldAbove(file, heldList(env).get(jail))) return work()
    if ((await acquire(host, file, me, waitSeconds(env), notice)) === 'busy') {
      return err(busy(`${what === 'this jail' ? jail : what}: another nest process is working on ${what}`, 'wait for it to finish, then run the command again'))
    }
    remember(file, me.id)
    env[HELD_LOCKS] = heldText(new Map([...heldList(env), [jail, me.id]]))
    try {
      return await work()
    } finally {
      const list = heldList(env)
      list.delete(jail)
      if (list.size === 0) delete env[HELD_LOCKS]
      else env[HELD_LOCKS] = heldText(list)
      await release(file, me)
    }
  }
  return ResultAsync.fromPromise(run(), (e) => internal(`${jail}: cannot take the lock ${file}: ${(e as Error).message}`)).andThen((r) => r)
}
