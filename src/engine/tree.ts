// Acting on a tree of jails: parents before children (start), children before parents (stop),
// independent siblings in parallel, bounded (p-queue). The siblings below one parent are one
// group (the nest inside the parent acts on them in one call). A node that fails takes its
// subtree with it on the way down (its children are skipped); on the way up its parent still goes.
import PQueue from 'p-queue'
import {err, type Result} from 'neverthrow'

import {internal, type NestError} from '../domain/errors.js'

export interface TreeItem {
  jail: string
  parent: string | null
}

export type Outcome<T> = {status: 'done'; value: T} | {status: 'failed'; error: NestError} | {status: 'skipped'; because: string}

/**
 * One unit of work: a top-level jail alone, or siblings under one parent together (one call of
 * the nest inside that parent acts on all of them, in parallel there). Each gets its outcome.
 */
export type GroupWork<T> = (jails: string[]) => Promise<Map<string, Result<T, NestError>>>

const groupKey = (i: TreeItem): string => (i.parent === null ? `\0${i.jail}` : i.parent)

function groupsOf(items: readonly TreeItem[]): Map<string, string[]> {
  const groups = new Map<string, string[]>()
  for (const i of items) groups.set(groupKey(i), [...(groups.get(groupKey(i)) ?? []), i.jail])
  return groups
}

const outcomeOf = <T>(jail: string, results: Map<string, Result<T, NestError>>): Result<T, NestError> =>
  results.get(jail) ?? err(internal(`${jail.replaceAll('.', '/')}: no outcome from its group`))

/** walkDown by groups: the children of a jail are one group once it is done. */
export async function walkDownGroups<T>(items: readonly TreeItem[], parallel: number, work: GroupWork<T>): Promise<Map<string, Outcome<T>>> {
  const inSet = new Set(items.map((i) => i.jail))
  const out = new Map<string, Outcome<T>>()
  const queue = new PQueue({concurrency: Math.max(1, parallel)})
  const skip = (jail: string, because: string): void => {
    for (const c of items.filter((i) => i.parent === jail)) {
      out.set(c.jail, {status: 'skipped', because})
      skip(c.jail, because)
    }
  }
  const run = (jails: string[]): void => {
    void queue.add(async () => {
      const results = await work(jails)
      for (const j of jails) {
        const r = outcomeOf(j, results)
        if (r.isErr()) {
          out.set(j, {status: 'failed', error: r.error})
          skip(j, `${j.replaceAll('.', '/')} failed`)
          continue
        }
        out.set(j, {status: 'done', value: r.value})
        const kids = items.filter((i) => i.parent === j).map((i) => i.jail)
        if (kids.length > 0) run(kids)
      }
    })
  }
  for (const g of groupsOf(items.filter((i) => i.parent === null || !inSet.has(i.parent))).values()) run(g)
  await queue.onIdle()
  return out
}

/** walkUp by groups: siblings go together once everything below each of them has finished, however. */
export async function walkUpGroups<T>(items: readonly TreeItem[], parallel: number, work: GroupWork<T>): Promise<Map<string, Outcome<T>>> {
  const out = new Map<string, Outcome<T>>()
  const byJail = new Map(items.map((i) => [i.jail, i]))
  const groups = groupsOf(items)
  const kidsLeft = new Map(items.map((i) => [i.jail, items.filter((c) => c.parent === i.jail).length]))
  const waiting = new Map([...groups].map(([k, jails]) => [k, jails.filter((j) => (kidsLeft.get(j) ?? 0) > 0).length]))
  const queue = new PQueue({concurrency: Math.max(1, parallel)})
  const run = (jails: string[]): void => {
    void queue.add(async () => {
      const results = await work(jails)
      for (const j of jails) {
        const r = outcomeOf(j, results)
        out.set(j, r.isOk() ? {status: 'done', value: r.value} : {status: 'failed', error: r.error})
      }
      // Siblings share their parent: it is ready once this group is done.
      const parent = byJail.get(byJail.get(jails[0] ?? '')?.parent ?? '')
      if (!parent) return
      kidsLeft.set(parent.jail, 0)
      const key = groupKey(parent)
      const left = (waiting.get(key) ?? 1) - 1
      waiting.set(key, left)
      if (left === 0) run(groups.get(key) ?? [])
    })
  }
  for (const [k, jails] of groups) if (waiting.get(k) === 0) run(jails)
  await queue.onIdle()
  return out
}
