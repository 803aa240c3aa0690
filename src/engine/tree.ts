// Running a tree plan (src/plan/tree.ts): a group starts once the groups it comes after have
// finished, and is skipped when a jail it needs failed; independent groups, and the jails of one
// group, run in parallel, bounded (p-queue). Every jail of the plan gets an outcome, also when
// a task fails unexpectedly. A child manager's answer gives each of its jails its own outcome.
import PQueue from 'p-queue'
import {err, ok, type Result} from 'neverthrow'

import {atStep, internal, type NestError, partial} from '../domain/errors.js'
import {pathOfJail} from '../domain/names.js'
import {renameChild} from '../host/tools/nest.js'
import {splitJail} from '../model/tree.js'
import {type Action, commandOf, type Step} from '../plan/steps.js'
import type {GroupStep, TreeGroup, TreePlan} from '../plan/tree.js'
import type {CleanupResult} from './cleanup.js'
import {type EngineCtx, executePlan, leftoverError, runAction} from './execute.js'

export type Outcome<T> = {status: 'done'; value: T} | {status: 'failed'; error: NestError} | {status: 'skipped'; because: string}

/** What a child manager answered for one of its jails (its `result.jails[]` entry). */
export interface InnerStep {
  name: string
  outcome: string
  error?: string
  /** The step of the inner nest that failed, when one did. */
  step?: string
}

/** One jail's result in a group: how it ended, and what was unmounted below its root. */
export interface JailDone {
  cleanup: CleanupResult | null
  /** The child manager's word for it (`not running`, `already running`), when a nest call acted on it. */
  inner?: string
}

type Verdicts = Map<string, Result<JailDone, NestError>>

/**
 * The answer of the nest inside a parent for some of its children: each child's entry, by its
 * name there. A failure of the call itself (not per jail) is every child's.
 */
export function innerVerdicts(verb: string, kids: readonly string[], r: Result<unknown, NestError>): Verdicts {
  const doc = r.isOk() ? r.value : r.error.kind === 'partial' ? {result: r.error.details} : undefined
  const steps = (doc as {result?: {jails?: InnerStep[]}} | undefined)?.result?.jails
  const out: Verdicts = new Map()
  for (const k of kids) {
    const inner = splitJail(k).name
    const path = pathOfJail(k)
    const st = Array.isArray(steps) ? steps.find((x) => x.name === inner) : undefined
    if (!st) {
      out.set(k, err(r.isErr() ? r.error : internal(`${path}: the nest in ${pathOfJail(splitJail(k).parent ?? '')} did not answer for it`)))
    } else if (st.outcome === 'failed' || st.outcome === 'skipped') {
      const said = renameChild(st.error ?? st.outcome, inner, path)
      const e = partial(said.startsWith(`${path}:`) ? said : `${path}: ${said}`, `nest ${verb} ${path} once fixed`)
      out.set(k, err(st.step === undefined ? e : {...e, step: st.step}))
    } else out.set(k, ok({cleanup: null, inner: st.outcome}))
  }
  return out
}

/** The action of a group-wide step, for the jails of the group still in the race. */
function narrowed(a: Action, g: TreeGroup, alive: ReadonlySet<string>): Action {
  if (a.kind === 'nest' && g.via !== null) {
    const gone = new Set(g.jails.filter((j) => !alive.has(j)).map((j) => splitJail(j).name))
    return gone.size === 0 ? a : {...a, argv: a.argv.filter((w, i) => i === 0 || !gone.has(w))}
  }
  if (a.kind === 'unmount') {
    const roots = a.roots.filter((r) => alive.has(r.jail))
    const flags = a.argv.slice(1).filter((w) => w.startsWith('-'))
    return {...a, roots, argv: ['umount', ...flags, ...roots.flatMap((r) => r.mounts.map((m) => m.on))]}
  }
  return a
}

async function runGroup(ctx: EngineCtx, g: TreeGroup): Promise<Verdicts> {
  const verdicts: Verdicts = new Map()
  const cleanup = new Map<string, CleanupResult>()
  const inner = new Map<string, string>()
  const alive = new Set(g.jails)
  const fail = (jail: string, e: NestError): void => {
    if (!alive.has(jail)) return
    alive.delete(jail)
    verdicts.set(jail, err(e))
  }
  // Each jail's own steps, in parallel; a failure is undone for that jail alone.
  const perJail = new PQueue({concurrency: Math.max(1, ctx.parallel)})
  await Promise.all(g.each.map((e) => perJail.add(async () => {
    const r = await executePlan(ctx, pathOfJail(e.jail), e.steps)
    if (r.isErr()) return fail(e.jail, r.error)
    for (const d of r.value) for (const c of d.cleanups ?? []) cleanup.set(c.jail, c)
  })))
  // Then the steps for the whole group, in order: a jail's own steps undone when a later one of its fails.
  const doneFor = new Map<string, Step[]>()
  for (const st of g.all as GroupStep[]) {
    const jails = st.for !== undefined ? [st.for] : g.jails
    if (!jails.some((j) => alive.has(j))) continue
    const label = st.for !== undefined ? pathOfJail(st.for) : jails.filter((j) => alive.has(j)).map(pathOfJail).join(', ')
    ctx.progress(`${label}: ${st.id}`)
    const action = narrowed(st.action, g, alive)
    const r = await runAction(ctx, action)
    const step = commandOf(action)
    if (action.kind === 'nest' && g.via !== null && g.verb !== 'destroy') {
      const kids = g.jails.filter((j) => alive.has(j))
      for (const [j, v] of innerVerdicts(g.verb, kids, r.map((o) => o?.doc))) {
        if (v.isErr()) fail(j, atStep(v.error, pathOfJail(j), step))
        else if (v.value.inner) {
          inner.set(j, v.value.inner)
          // What this call did for j is undone for j when a later step of j's fails (a child it started is stopped again).
          const undo = v.value.inner === 'started' ? st.undoFor?.[j] : undefined
          if (undo) doneFor.set(j, [...(doneFor.get(j) ?? []), {...st, undo}])
        }
      }
      continue
    }
    if (r.isErr()) {
      for (const j of jails) {
        if (!alive.has(j)) continue
        for (const prev of [...(doneFor.get(j) ?? [])].reverse()) for (const u of prev.undo) await runAction(ctx, u)
        fail(j, atStep(r.error, pathOfJail(j), step))
      }
      continue
    }
    for (const c of r.value?.cleanups ?? []) {
      cleanup.set(c.jail, c)
      if (c.remaining.length > 0) fail(c.jail, atStep(leftoverError({...c, jail: pathOfJail(c.jail)}), pathOfJail(c.jail), step))
    }
    for (const j of jails) doneFor.set(j, [...(doneFor.get(j) ?? []), st])
  }
  for (const j of g.jails) if (alive.has(j)) verdicts.set(j, ok({cleanup: cleanup.get(j) ?? null, ...(inner.has(j) ? {inner: inner.get(j)} : {})}))
  return verdicts
}

/** Run a plan; every jail of every group gets an outcome. */
export async function executeTree(ctx: EngineCtx, plan: TreePlan): Promise<Map<string, Outcome<JailDone>>> {
  const out = new Map<string, Outcome<JailDone>>()
  const queue = new PQueue({concurrency: Math.max(1, ctx.parallel)})
  const finished = new Set<number>()
  const started = new Set<number>()
  const outcomeOk = (j: string): boolean => out.get(j)?.status === 'done'
  const settle = (i: number, g: TreeGroup, verdicts: Verdicts): void => {
    for (const j of g.jails) {
      const v = verdicts.get(j) ?? err(internal(`${pathOfJail(j)}: no outcome from its group`))
      const o: Outcome<JailDone> = v.isOk() ? {status: 'done', value: v.value} : {status: 'failed', error: v.error}
      // A restart settles a jail twice: what its stop unmounted stays in the answer.
      const before = out.get(j)
      const cleanup = before?.status === 'done' ? before.value.cleanup : null
      out.set(j, o.status === 'done' && o.value.cleanup === null && cleanup !== null ? {status: 'done', value: {...o.value, cleanup}} : o)
      ctx.settled?.(j, o, g.verb)
    }
    finished.add(i)
  }
  if (plan.before && plan.before.length > 0) {
    const r = await executePlan(ctx, plan.label, plan.before)
    if (r.isErr()) {
      const e = r.error
      for (const g of plan.groups) for (const j of g.jails) out.set(j, {status: 'failed', error: e})
      return out
    }
  }
  const tasks: Array<Promise<void>> = []
  const launch = (): void => {
    plan.groups.forEach((g, i) => {
      if (started.has(i) || !g.after.every((a) => finished.has(a))) return
      started.add(i)
      const bad = g.needs.find((j) => !outcomeOk(j))
      if (bad !== undefined) {
        const o = out.get(bad)
        const because = o?.status === 'skipped' ? o.because : `${pathOfJail(bad)} failed`
        for (const j of g.jails) {
          out.set(j, {status: 'skipped', because})
          ctx.settled?.(j, {status: 'skipped', because}, g.verb)
        }
        finished.add(i)
        launch()
        return
      }
      // A task that throws still settles its jails: nothing is left without an outcome.
      tasks.push(queue.add(() => runGroup(ctx, g))
        .then((v) => settle(i, g, v ?? new Map()), (e: unknown) => settle(i, g, new Map(g.jails.map((j) => [j, err(internal(`${pathOfJail(j)}: ${String(e)}`))]))))
        .then(launch))
    })
  }
  launch()
  while (tasks.length > 0) await tasks.shift()
  await queue.onIdle()
  for (const [i, g] of plan.groups.entries()) {
    if (finished.has(i)) continue
    for (const j of g.jails) if (!out.has(j)) out.set(j, {status: 'skipped', because: 'a group it waits for did not finish'})
  }
  return out
}
