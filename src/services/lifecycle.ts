// start, stop and restart of the tree: parents first on start, children first on stop, the
// siblings below one parent in one call of that parent's nest (its child manager), groups in
// parallel (p-queue, bounded). A jail that fails is reported and its subtree skipped.
import {err, errAsync, ok, okAsync, type Result, ResultAsync} from 'neverthrow'

import type {CommandCtx} from '../cli/base.js'
import {conflict, internal, invalidInput, type NestError, partial} from '../domain/errors.js'
import {NEST_WRAPPER, NODE_BIN} from '../domain/install.js'
import {type JailPath, pathOfJail} from '../domain/names.js'
import type {CleanupResult} from '../engine/cleanup.js'
import {executePlan} from '../engine/execute.js'
import {withJailLock} from '../engine/lock.js'
import {type Outcome, walkDownGroups, walkUpGroups} from '../engine/tree.js'
import type {Host} from '../host/host.js'
import {isDying, listJails} from '../host/tools/jls.js'
import {renameChild, runChild} from '../host/tools/nest.js'
import {nodeStep, planCleanup, planStart, planStop} from '../plan/jail.js'
import type {Step} from '../plan/steps.js'
import type {PlanResult, TreeResult, TreeStep} from '../render/jails.js'
import {findNode, splitJail, subtreeOf, type TreeNode} from './tree.js'
import {hostFor} from './world.js'
import {attachSteps, engine, jailPath, nodeOf, planResult, type Scene, scene} from './scene.js'

export interface TreeOptions {
  /** Every jail (no name). */
  all: boolean
  /** With the jails below (the default). */
  children: boolean
  /** Only the jails below (exec.prestop of a parent). */
  childrenOnly?: boolean
  parallel: number
  dryRun: boolean
}

/** The jails named (with what is below each, unless --no-children), or every jail with --all; tree order. */
function targets(s: Scene, names: readonly string[], o: TreeOptions): ResultAsync<{label: string; one: JailPath | null; nodes: TreeNode[]}, NestError> {
  if (names.length === 0) {
    if (!o.all) return errAsync(invalidInput('no jail named', 'give a jail, or --all for every jail'))
    return okAsync({label: 'all jails', one: null, nodes: s.nodes})
  }
  if (o.all) return errAsync(invalidInput('a jail and --all exclude each other', 'give one of them'))
  return ResultAsync.combine(names.map((n) => jailPath(n).andThen((jp) => nodeOf(s, jp).map((node) => ({jp, node}))))).map((found) => {
    const wanted = new Set(found.flatMap(({node}) => (o.children || o.childrenOnly ? subtreeOf(s.nodes, node.jail) : [node]).map((n) => n.jail)))
    return {label: found.map(({jp}) => jp.path).join(', '), one: found.length === 1 ? (found[0]?.jp ?? null) : null, nodes: s.nodes.filter((n) => wanted.has(n.jail))}
  })
}

/** Node.js and the nest wrapper in a parent's root: what the host adds before it starts. */
function needsNode(host: Host, n: TreeNode): ResultAsync<boolean, NestError> {
  return ResultAsync.combine([host.files.read(`${n.root}${NEST_WRAPPER}`), host.files.read(`${n.root}${NODE_BIN}`)])
    .map(([wrapper, node]) => wrapper !== null && node === null)
}

/** Which stopped jails lack Node.js (a parent whose root lost it). */
function nodeNeeds(s: Scene, nodes: readonly TreeNode[]): ResultAsync<Set<string>, NestError> {
  return ResultAsync.combine(nodes.map((n) => (n.running ? okAsync(false) : needsNode(s.host, n))))
    .map((need) => new Set(nodes.filter((_, i) => need[i]).map((n) => n.jail)))
}

/** A top-level jail: this nest starts it itself. */
function topStartSteps(s: Scene, n: TreeNode, node: boolean): Step[] {
  const l = s.w.layout
  const mount = n.rootDataset !== null && s.w.datasets.some((d) => d.name === n.rootDataset && d.mounted === 'no') ? [n.rootDataset] : []
  return [planCleanup(l, n.jail), ...planStart(l, n.jail, {mount, ...(node ? {node: n.root} : {})})]
}

/** Siblings below one parent, in one call of the parent's nest (it starts them in parallel). */
function nestCall(verb: 'start' | 'stop', parent: string, kids: readonly StopItem[], parallel: number): Step {
  const names = kids.map((k) => splitJail(k.jail).name)
  return {
    id: `nest ${verb}`, why: `${pathOfJail(parent)}'s nest ${verb}s ${names.join(', ')}${verb === 'stop' ? ' and cleans up below each' : ''}`,
    // A message of the inner nest that is not per jail names the first of them (`a: ...` is `web/a: ...`).
    action: {kind: 'nest', in: parent, argv: [verb, ...names, '--no-children', '--parallel', String(parallel)], as: kids[0]?.path ?? pathOfJail(parent)}, undo: [],
  }
}

/** What stop needs of a jail: a running descendant nest does not manage is stopped the same way. */
type StopItem = Pick<TreeNode, 'jail' | 'path' | 'parent' | 'running'>

/** The order a tree is walked in, by groups (a top-level jail alone, siblings together). */
function groupsInOrder<T extends StopItem>(items: readonly T[], down: boolean): T[][] {
  const out: T[][] = []
  const seen = new Set<string>()
  for (const i of items) {
    const key = i.parent === null ? `\0${i.jail}` : i.parent
    if (seen.has(key)) continue
    seen.add(key)
    out.push(items.filter((x) => (x.parent === null ? `\0${x.jail}` : x.parent) === key))
  }
  // Shallowest first on the way down, deepest first on the way up (a stable sort keeps tree order within a level).
  const depth = (g: T[]): number => (g[0]?.jail.split('.').length ?? 0)
  return out.sort((a, b) => (down ? depth(a) - depth(b) : depth(b) - depth(a)))
}

const prefixed = (label: string, steps: readonly Step[]): Step[] => steps.map((st) => ({...st, id: `${label}: ${st.id}`}))
const groupLabel = (kids: readonly StopItem[]): string => kids.map((k) => k.path).join(', ')

/** A --dry-run of start: each group's steps, as they will run. */
function startPlan(s: Scene, nodes: readonly TreeNode[], node: Set<string>, parallel: number): Step[] {
  return groupsInOrder(nodes.filter((n) => !n.running), true).flatMap((kids) => {
    const first = kids[0]
    if (!first) return []
    if (first.parent === null) return prefixed(first.path, topStartSteps(s, first, node.has(first.jail)))
    return [
      ...kids.filter((k) => node.has(k.jail)).flatMap((k) => prefixed(k.path, [nodeStep(k.root)])),
      ...prefixed(groupLabel(kids), [nestCall('start', first.parent, kids, parallel)]),
      ...kids.flatMap((k) => (k.delegated ? prefixed(k.path, attachSteps(k.jail, k.delegated)) : [])),
    ]
  })
}

function topStopSteps(s: Scene, n: StopItem): Step[] {
  return n.running ? planStop(s.w.layout, n.jail) : [planCleanup(s.w.layout, n.jail)]
}

/** A --dry-run of stop: each group's steps, deepest first. */
function stopPlan(s: Scene, items: readonly StopItem[], parallel: number): Step[] {
  return groupsInOrder(items, false).flatMap((kids) => {
    const first = kids[0]
    if (!first) return []
    return first.parent === null ? prefixed(first.path, topStopSteps(s, first)) : prefixed(groupLabel(kids), [nestCall('stop', first.parent, kids, parallel)])
  })
}

const cleanupOf = (done: Array<{cleanup?: CleanupResult}>): CleanupResult | null => done.find((d) => d.cleanup)?.cleanup ?? null

function treeAnswer(verb: string, order: readonly StopItem[], out: Map<string, Outcome<TreeStep>>): ResultAsync<TreeResult, NestError> {
  const jails = order.filter((n) => out.has(n.jail)).map((n): TreeStep => {
    const r = out.get(n.jail) as Outcome<TreeStep>
    if (r.status === 'done') return r.value
    if (r.status === 'skipped') return {name: n.path, outcome: 'skipped', error: r.because, cleanup: null}
    return {name: n.path, outcome: 'failed', error: r.error.message, cleanup: null}
  })
  const failed = [...out.values()].find((r) => r.status === 'failed')
  if (!failed || failed.status !== 'failed') return okAsync({dryRun: false, jails})
  // One jail: its own error and exit code.
  if (out.size === 1) return errAsync(failed.error)
  const bad = jails.filter((j) => j.outcome === 'failed' || j.outcome === 'skipped')
  return errAsync(partial(`${bad.length} of ${jails.length} jail(s) not ${verb}: ${failed.error.message}`, `see each jail's line; nest ${verb === 'started' ? 'start' : 'stop'} ${bad[0]?.name ?? ''} again once fixed`, {dryRun: false, jails}))
}

/** Each lock in turn (sorted, so that two nests never wait on each other), then the work. */
function withJailLocks<T>(host: Host, jails: readonly string[], work: () => ResultAsync<T, NestError>): ResultAsync<T, NestError> {
  return [...jails].sort().reduceRight<() => ResultAsync<T, NestError>>((inner, j) => () => withJailLock(host, j, inner), work)()
}

type Outcomes = Map<string, Result<TreeStep, NestError>>

/**
 * The answer of the nest inside a parent for a group of its children: each child's step, by its
 * name there. A failure that is not per jail (the call itself failed) is every child's.
 */
function innerOutcomes(verb: 'start' | 'stop', kids: readonly StopItem[], r: Result<unknown, NestError>): Outcomes {
  const doc = r.isOk() ? r.value : r.error.kind === 'partial' ? {result: r.error.details} : undefined
  const steps = (doc as {result?: {jails?: TreeStep[]}} | undefined)?.result?.jails
  const out: Outcomes = new Map()
  for (const k of kids) {
    const inner = splitJail(k.jail).name
    const st = Array.isArray(steps) ? steps.find((x) => x.name === inner) : undefined
    if (!st) {
      out.set(k.jail, err(r.isErr() ? r.error : internal(`${k.path}: the nest in ${pathOfJail(k.parent ?? '')} did not answer for it`)))
    } else if (st.outcome === 'failed' || st.outcome === 'skipped') {
      const said = renameChild(st.error ?? st.outcome, inner, k.path)
      out.set(k.jail, err(partial(said.startsWith(`${k.path}:`) ? said : `${k.path}: ${said}`, `nest ${verb} ${k.path} once fixed`)))
    } else out.set(k.jail, ok({name: k.path, outcome: st.outcome, cleanup: null}))
  }
  return out
}

/** Start siblings below a running parent: Node.js where it lacks, one call of the parent's nest, then their datasets attached. */
async function startBelowGroup(ctx: CommandCtx, s: Scene, parent: string, kids: readonly TreeNode[], node: Set<string>, parallel: number): Promise<Outcomes> {
  const eng = engine(ctx, s.host, parallel)
  const out: Outcomes = new Map()
  const ready: TreeNode[] = []
  for (const k of kids) {
    const r = node.has(k.jail) ? await executePlan(eng, k.path, [nodeStep(k.root)]) : ok([])
    if (r.isErr()) out.set(k.jail, err(r.error))
    else ready.push(k)
  }
  if (ready.length === 0) return out
  const call = nestCall('start', parent, ready, parallel)
  ctx.progress(`${groupLabel(ready)}: ${call.id}`)
  const inner = innerOutcomes('start', ready, call.action.kind === 'nest' ? await runChild(s.host, call.action) : err(internal('not a nest call')))
  // zfs jail is the host's: each started child that is a parent gets its dataset, in parallel.
  await Promise.all(ready.map(async (k) => {
    const r = inner.get(k.jail) ?? err(internal(`${k.path}: no outcome`))
    if (r.isErr() || !k.delegated) {
      out.set(k.jail, r)
      return
    }
    const attached = await executePlan(eng, k.path, attachSteps(k.jail, k.delegated))
    out.set(k.jail, attached.isErr() ? err(attached.error) : r)
  }))
  return out
}

export function startJail(ctx: CommandCtx, names: readonly string[], o: TreeOptions): ResultAsync<TreeResult | PlanResult, NestError> {
  return scene(ctx).andThen((s) => targets(s, names, o).andThen(({label, one, nodes}) => {
    if (one && nodes.every((n) => n.running)) return errAsync(conflict(`${one.path}: already running${nodes.length > 1 ? ' (and so is every jail below it)' : ''}`, `nest restart ${one.path} to start it again`))
    return nodeNeeds(s, nodes).andThen((node) => {
      if (o.dryRun) return okAsync<TreeResult | PlanResult, NestError>(planResult(label, startPlan(s, nodes, node, o.parallel)))
      const group = async (jails: string[]): Promise<Outcomes> => {
        const group = jails.map((j) => findNode(nodes, j) as TreeNode)
        const out: Outcomes = new Map(group.filter((n) => n.running).map((n) => [n.jail, ok({name: n.path, outcome: 'already running', cleanup: null})]))
        const todo = group.filter((n) => !n.running)
        const first = todo[0]
        if (!first) return out
        if (first.parent === null) {
          const r = await withJailLock(s.host, first.jail, () => executePlan(engine(ctx, s.host, o.parallel), first.path, topStartSteps(s, first, node.has(first.jail))))
          return out.set(first.jail, r.map((done): TreeStep => ({name: first.path, outcome: 'started', cleanup: cleanupOf(done)})))
        }
        const parent = first.parent
        const below = await withJailLocks(s.host, todo.map((n) => n.jail), () => ResultAsync.fromSafePromise(startBelowGroup(ctx, s, parent, todo, node, o.parallel)))
        if (below.isErr()) for (const n of todo) out.set(n.jail, err(below.error))
        else for (const [j, r] of below.value) out.set(j, r)
        return out
      }
      return ResultAsync.fromSafePromise(walkDownGroups(nodes, o.parallel, group)).andThen((out) => treeAnswer('started', nodes, out))
    })
  }))
}

/**
 * What stop acts on: the jails and the running jails below them (`--all`: every tree), or for a
 * parent's exec.prestop only its running descendants as the kernel lists them, managed or not
 * (inside a parent, a child's children live in a dataset the parent cannot list).
 */
function stopItems(s: Scene, names: readonly string[], o: TreeOptions): ResultAsync<{label: string; one: JailPath | null; items: StopItem[]}, NestError> {
  const name = names[0]
  if (o.childrenOnly && name !== undefined) {
    return jailPath(name).map((jp) => ({
      label: jp.path,
      one: jp,
      items: s.w.jails.filter((j) => j.name.startsWith(`${jp.jail}.`) && !isDying(j))
        .map((j): StopItem => findNode(s.nodes, j.name) ?? {jail: j.name, path: pathOfJail(j.name), parent: splitJail(j.name).parent, running: true}),
    }))
  }
  return targets(s, names, o).andThen(({label, one, nodes}) => ResultAsync.combine(names.map(jailPath)).map((jps) => {
    const named = new Set(jps.map((jp) => jp.jail))
    return {label, one, items: nodes.filter((n) => n.running || named.has(n.jail) || (o.all && n.parent === null))}
  }))
}

export function stopJail(ctx: CommandCtx, names: readonly string[], o: TreeOptions): ResultAsync<TreeResult | PlanResult, NestError> {
  // exec.prestop of a parent: one jls says whether any jail below it still runs (mostly none: nest stopped them first).
  const name = names[0]
  if (o.childrenOnly && name !== undefined && !o.dryRun) {
    return jailPath(name).andThen((jp) => listJails(hostFor(ctx)).andThen((jails) =>
      jails.some((j) => j.name.startsWith(`${jp.jail}.`) && !isDying(j)) ? stopTree(ctx, names, o) : okAsync<TreeResult | PlanResult, NestError>({dryRun: false, jails: []})))
  }
  return stopTree(ctx, names, o)
}

function stopTree(ctx: CommandCtx, names: readonly string[], o: TreeOptions): ResultAsync<TreeResult | PlanResult, NestError> {
  return scene(ctx).andThen((s) => stopItems(s, names, o).andThen(({label, one, items}) => {
    if (one && !o.childrenOnly && !items.some((n) => n.running)) ctx.warn(`${one.path}: not running`)
    const deepestFirst = [...items].reverse()
    if (o.dryRun) return okAsync<TreeResult | PlanResult, NestError>(planResult(label, stopPlan(s, items, o.parallel)))
    const group = async (jails: string[]): Promise<Outcomes> => {
      const group = jails.map((j) => items.find((i) => i.jail === j) as StopItem)
      const first = group[0]
      if (!first) return new Map()
      if (first.parent === null) {
        const r = await withJailLock(s.host, first.jail, () => executePlan(engine(ctx, s.host, o.parallel), first.path, topStopSteps(s, first)))
        return new Map([[first.jail, r.map((done): TreeStep => ({name: first.path, outcome: first.running ? 'stopped' : 'not running', cleanup: cleanupOf(done)}))]])
      }
      const call = nestCall('stop', first.parent, group, o.parallel)
      ctx.progress(`${groupLabel(group)}: ${call.id}`)
      const r = await withJailLocks(s.host, jails, () => (call.action.kind === 'nest' ? runChild(s.host, call.action) : errAsync(internal('not a nest call'))))
      return innerOutcomes('stop', group, r)
    }
    return ResultAsync.fromSafePromise(walkUpGroups(items, o.parallel, group)).andThen((out) => treeAnswer('stopped', deepestFirst, out))
  }))
}

export function restartJail(ctx: CommandCtx, names: readonly string[], o: TreeOptions): ResultAsync<TreeResult | PlanResult, NestError> {
  if (o.dryRun) {
    // The stop steps, then the start steps of the same jails as they will be once stopped.
    return scene(ctx).andThen((s) => ResultAsync.combine([stopItems(s, names, o), targets(s, names, o)]).andThen(([stop, start]) => {
      const stopped = start.nodes.map((n) => ({...n, running: false}))
      return nodeNeeds(s, stopped).map((node) => planResult(stop.label, [...stopPlan(s, stop.items, o.parallel), ...startPlan(s, stopped, node, o.parallel)]))
    }))
  }
  return stopJail(ctx, names, o).andThen((stopped) => startJail(ctx, names, o).map((started) => {
    if (started.dryRun || stopped.dryRun) return started
    return {dryRun: false as const, jails: started.jails.map((j) => ({...j, outcome: j.outcome === 'started' ? 'restarted' as const : j.outcome, cleanup: stopped.jails.find((x) => x.name === j.name)?.cleanup ?? j.cleanup}))}
  }))
}
