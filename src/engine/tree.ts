// Acting on a tree of jails: parents before children (start), children before parents (stop),
// independent siblings in parallel, bounded (p-queue). A node that fails takes its subtree
// with it on the way down (its children are skipped); on the way up its parent still goes.
import PQueue from 'p-queue'
import type {ResultAsync} from 'neverthrow'

import type {NestError} from '../domain/errors.js'

export interface TreeItem {
  jail: string
  parent: string | null
}

export type Outcome<T> = {status: 'done'; value: T} | {status: 'failed'; error: NestError} | {status: 'skipped'; because: string}

type Work<T> = (jail: string) => ResultAsync<T, NestError>

/** Parents first; a failed node's descendants are skipped. */
export async function walkDown<T>(items: readonly TreeItem[], parallel: number, work: Work<T>): Promise<Map<string, Outcome<T>>> {
  const inSet = new Set(items.map((i) => i.jail))
  const out = new Map<string, Outcome<T>>()
  const queue = new PQueue({concurrency: Math.max(1, parallel)})
  const skip = (jail: string, because: string): void => {
    for (const c of items.filter((i) => i.parent === jail)) {
      out.set(c.jail, {status: 'skipped', because})
      skip(c.jail, because)
    }
  }
  const run = (jail: string): void => {
    void queue.add(async () => {
      const r = await work(jail)
      if (r.isOk()) {
        out.set(jail, {status: 'done', value: r.value})
        for (const c of items.filter((i) => i.parent === jail)) run(c.jail)
      } else {
        out.set(jail, {status: 'failed', error: r.error})
        skip(jail, `${jail.replaceAll('.', '/')} failed`)
      }
    })
  }
  for (const i of items) if (i.parent === null || !inSet.has(i.parent)) run(i.jail)
  await queue.onIdle()
  return out
}

/** Children first: a node runs once every child of it in the set has finished, however. */
export async function walkUp<T>(items: readonly TreeItem[], parallel: number, work: Work<T>): Promise<Map<string, Outcome<T>>> {
  const out = new Map<string, Outcome<T>>()
  const pending = new Map(items.map((i) => [i.jail, items.filter((c) => c.parent === i.jail).length]))
  const queue = new PQueue({concurrency: Math.max(1, parallel)})
  const run = (item: TreeItem): void => {
    void queue.add(async () => {
      const r = await work(item.jail)
      out.set(item.jail, r.isOk() ? {status: 'done', value: r.value} : {status: 'failed', error: r.error})
      const parent = items.find((i) => i.jail === item.parent)
      if (!parent) return
      const left = (pending.get(parent.jail) ?? 1) - 1
      pending.set(parent.jail, left)
      if (left === 0) run(parent)
    })
  }
  for (const i of items) if (pending.get(i.jail) === 0) run(i)
  await queue.onIdle()
  return out
}
