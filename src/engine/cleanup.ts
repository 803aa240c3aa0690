// Unmounting what a jail left below its root (§7.6: jail removal unmounts nothing the jail
// mounted itself): deepest first, independent subtrees in parallel, each mount that stays
// reported with umount's reason.
import PQueue from 'p-queue'
import {okAsync, ResultAsync} from 'neverthrow'

import type {NestError} from '../domain/errors.js'
import type {Host} from '../host/host.js'
import type {MountRecord} from '../host/parse.js'
import {isBelow, listMounts, unmount} from '../host/tools/mount.js'

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

interface Node {
  m: MountRecord
  kids: Node[]
}

/**
 * The mounts below `root` as a forest: a mount's children are the mounts below it, and one
 * stacked on the same path after it (the later mount covers the earlier one).
 */
export function mountForest(mounts: readonly MountRecord[], root: string): Node[] {
  const below = mounts.filter((m) => isBelow(m.on, root))
  const nodes = below.map((m): Node => ({m, kids: []}))
  const roots: Node[] = []
  nodes.forEach((n, i) => {
    let parent: Node | undefined
    for (let j = 0; j < nodes.length; j++) {
      if (j === i) continue
      const c = nodes[j] as Node
      const covers = isBelow(n.m.on, c.m.on) || (n.m.on === c.m.on && j < i)
      if (!covers) continue
      // The nearest ancestor: the longest path, the latest on the same path.
      if (!parent || c.m.on.length > parent.m.on.length || (c.m.on === parent.m.on && nodes.indexOf(c) > nodes.indexOf(parent))) parent = c
    }
    if (parent) parent.kids.push(n)
    else roots.push(n)
  })
  return roots
}

/** Deepest first, as one sequence (what --dry-run prints and a single worker would do). */
export function unmountOrder(forest: readonly Node[]): MountRecord[] {
  const out: MountRecord[] = []
  const walk = (n: Node): void => {
    for (const k of [...n.kids].reverse()) walk(k)
    out.push(n.m)
  }
  for (const n of forest) walk(n)
  return out
}

/**
 * One deepest-first pass over the forest; returns whether anything was unmounted. A mount that
 * a nullfs mount elsewhere still uses as its lower layer is busy until that one is gone (§7.5),
 * and mount -p does not say which (a jail's nullfs names its lower in the jail's own view),
 * so the caller runs passes until one makes no progress.
 */
async function pass(host: Host, forest: readonly Node[], queue: PQueue, force: boolean, result: CleanupResult): Promise<MountLeft[]> {
  const left: MountLeft[] = []
  const visit = async (n: Node): Promise<boolean> => {
    const kidsOk = await Promise.all(n.kids.map(visit))
    if (kidsOk.includes(false)) {
      left.push({on: n.m.on, type: n.m.type, reason: 'a mount below it stayed'})
      return false
    }
    const r = await queue.add(() => unmount(host, n.m.on, force))
    if (r === undefined) return false
    if (r.isErr()) {
      left.push({on: n.m.on, type: n.m.type, reason: r.error.message})
      return false
    }
    if (r.value.exitCode !== 0) {
      const text = r.value.stderr.trim()
      const reason = /: ([^:]+)$/.exec(text)?.[1] ?? (text || `umount exit ${r.value.exitCode}`)
      left.push({on: n.m.on, type: n.m.type, reason})
      return false
    }
    result.unmounted.push({on: n.m.on, type: n.m.type})
    return true
  }
  await Promise.all(forest.map(visit))
  await queue.onIdle()
  return left
}

export function cleanupBelow(host: Host, jail: string, root: string, opts: {force: boolean; parallel: number}): ResultAsync<CleanupResult, NestError> {
  const result: CleanupResult = {jail, root, unmounted: [], remaining: []}
  const queue = new PQueue({concurrency: Math.max(1, opts.parallel)})
  const round = (): ResultAsync<CleanupResult, NestError> =>
    listMounts(host).andThen((mounts) => {
      const forest = mountForest(mounts, root)
      if (forest.length === 0) {
        result.remaining = []
        return okAsync(result)
      }
      const before = result.unmounted.length
      return ResultAsync.fromSafePromise(pass(host, forest, queue, opts.force, result)).andThen((left) => {
        result.remaining = left
        return left.length > 0 && result.unmounted.length > before ? round() : okAsync(result)
      })
    })
  return round()
}
