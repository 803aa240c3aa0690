// Unmounting what a jail left below its root (§7.6: jail removal unmounts nothing the jail
// mounted itself): deepest first, in one umount(8) call, each mount that stays reported with
// umount's reason.
import {okAsync, ResultAsync} from 'neverthrow'

import type {NestError} from '../domain/errors.js'
import type {Host} from '../host/host.js'
import type {MountRecord} from '../host/parse.js'
import {isDying, listJails} from '../host/tools/jls.js'
import {listMounts} from '../host/tools/mount.js'
import {unmountStep} from '../plan/tree.js'

export interface MountLeft {
  on: string
  type: string
  reason: string
}

export interface CleanupResult {
  jail: string
  root: string
  /** In the order they were unmounted (deepest first). */
  unmounted: Array<{on: string; type: string}>
  remaining: MountLeft[]
  /** Not done here: this is jail(8)'s exec.release hook and the nest that runs jail -r cleans up next. */
  deferred?: true
}

/**
 * One deepest-first pass over the forest; returns whether anything was unmounted. A mount that
 * a nullfs mount elsewhere still uses as its lower layer is busy until that one is gone (§7.5),
 * and mount -p does not say which (a jail's nullfs names its lower in the jail's own view),
 * so the caller runs passes until one makes no progress.
 */
/** What umount said of one path (`umount: unmount of /x failed: Device busy`, `umount: /x: not a file system root directory`). */
function reasonFor(stderr: string, on: string): string | undefined {
  const line = stderr.split('\n').find((l) => l.includes(` ${on}:`) || l.includes(` ${on} failed`) || l.includes(`: ${on}:`))
  return line ? (/: ([^:]+)$/.exec(line.trim())?.[1] ?? line.trim()) : undefined
}

export interface UnmountRoots {
  argv: readonly string[]
  roots: ReadonlyArray<{jail: string; root: string; mounts: ReadonlyArray<{on: string; type: string}>}>
}

/**
 * One umount(8) call for every mount of these roots, deepest first (umount takes several and
 * goes on past a failure). Only when it fails is the mount table read again: what stays is
 * reported with umount's reason; while a round unmounts something, the rest is tried again
 * (a nullfs mount elsewhere may have held a lower layer, §7.5).
 */
export function unmountBatch(host: Host, batch: UnmountRoots): ResultAsync<CleanupResult[], NestError> {
  const flags = batch.argv.slice(1).filter((a) => a.startsWith('-'))
  const wanted = batch.roots.flatMap((r) => r.mounts.map((m) => ({...m, jail: r.jail})))
  const results = batch.roots.map((r): CleanupResult => ({jail: r.jail, root: r.root, unmounted: [], remaining: []}))
  const resultOf = (jail: string): CleanupResult => results.find((r) => r.jail === jail) as CleanupResult
  const round = (pending: typeof wanted, argv: readonly string[]): ResultAsync<CleanupResult[], NestError> =>
    host.run(argv, {allowFailure: true}).andThen((r) => {
      if (r.exitCode === 0) {
        for (const m of pending) resultOf(m.jail).unmounted.push({on: m.on, type: m.type})
        return okAsync(results)
      }
      return listMounts(host).andThen((table) => {
        const left = new Map<string, number>()
        for (const t of table.mounts) left.set(t.on, (left.get(t.on) ?? 0) + 1)
        // A line nest cannot read that names the path: it may still be there (never counted as gone).
        for (const m of pending) if (table.unreadable.some((u) => u.includes(m.on))) left.set(m.on, (left.get(m.on) ?? 0) + 1)
        const stays: typeof wanted = []
        // The last ones asked for on a path are the ones still there (stacked mounts go top first).
        for (const m of [...pending].reverse()) {
          const n = left.get(m.on) ?? 0
          if (n > 0) {
            left.set(m.on, n - 1)
            stays.unshift(m)
          } else resultOf(m.jail).unmounted.unshift({on: m.on, type: m.type})
        }
        if (stays.length > 0 && stays.length < pending.length) return round(stays, ['umount', ...flags, ...stays.map((m) => m.on)])
        for (const m of stays) resultOf(m.jail).remaining.push({on: m.on, type: m.type, reason: reasonFor(r.stderr, m.on) ?? (stays.length === pending.length ? 'a mount below it stayed' : `umount exit ${r.exitCode}`)})
        return okAsync(results)
      })
    })
  if (wanted.length === 0) return okAsync(results)
  return round(wanted, batch.argv)
}

/** Unmount everything below a root, from the mount table given (read once by the caller) or read now. */
export function cleanupBelow(host: Host, jail: string, root: string, opts: {force: boolean; mounts?: MountRecord[] | undefined}): ResultAsync<CleanupResult, NestError> {
  const table = opts.mounts ? okAsync<MountRecord[], NestError>(opts.mounts) : listMounts(host).map((t) => t.mounts)
  return table.andThen((mounts) => {
    const step = unmountStep([{jail, root}], mounts, opts.force)[0]
    if (step?.action.kind !== 'unmount') return okAsync({jail, root, unmounted: [], remaining: []})
    return unmountBatch(host, step.action).map((rs) => rs[0] ?? {jail, root, unmounted: [], remaining: []})
  })
}

/**
 * The cleanup a plan runs when a start failed (or is undone): read again, right before it
 * unmounts, whether the jail runs. It does when its jail -c failed because another process
 * (jail(8) or `service jail start` by hand, which take no nest lock) had just started it; what
 * is mounted below its root is then that jail's, and stays: this nest undoes only what it did.
 */
export function cleanupUnlessRunning(host: Host, jail: string, root: string, warn: (line: string) => void): ResultAsync<CleanupResult, NestError> {
  return listJails(host).andThen((jails) => {
    if (!jails.some((j) => j.name === jail && !isDying(j))) return cleanupBelow(host, jail, root, {force: false})
    warn(`${jail.replaceAll('.', '/')}: running (another process started it): what is mounted below ${root} stays`)
    return okAsync({jail, root, unmounted: [], remaining: []})
  })
}
