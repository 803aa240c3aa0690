// start, stop and restart of the tree. Each takes the locks of the top-level jails it touches,
// then reads this nest's view (one zfs list, one jls, one mount -p) under them, plans the whole
// operation as data (src/plan/tree.ts), and prints that plan (--dry-run) or runs it.
import {errAsync, okAsync, ResultAsync} from 'neverthrow'

import type {CommandCtx} from '../context/command.js'
import {conflict, invalidInput, type NestError, partial} from '../domain/errors.js'
import {type JailPath, pathOfJail} from '../domain/names.js'
import {withJailLock} from '../engine/lock.js'
import type {EngineCtx} from '../engine/execute.js'
import {executeTree, type JailDone, type Outcome} from '../engine/tree.js'
import type {Host} from '../host/host.js'
import {isDying, listJails} from '../host/tools/jls.js'
import {CONF_DIR} from '../model/layout.js'
import {subtreeOf, type TreeNode} from '../model/tree.js'
import {planRestartTree, planStartTree, planStopTree, type TreePlan} from '../plan/tree.js'
import type {PlanResult, TreeResult, TreeStep} from '../render/jails.js'
import {hostFor} from './world.js'
import {engine, jailPath, nodeOf, planView, type Scene, scene, treePlanResult} from './scene.js'

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
function targets(s: Scene, jps: readonly JailPath[], o: TreeOptions): ResultAsync<{label: string; one: JailPath | null; nodes: TreeNode[]}, NestError> {
  if (jps.length === 0) return okAsync({label: 'all jails', one: null, nodes: s.nodes})
  return ResultAsync.combine(jps.map((jp) => nodeOf(s, jp))).map((found) => {
    const wanted = new Set(found.flatMap((node) => (o.children || o.childrenOnly ? subtreeOf(s.nodes, node.jail) : [node]).filter((n) => !o.childrenOnly || n.jail !== node.jail).map((n) => n.jail)))
    return {label: jps.map((jp) => jp.path).join(', '), one: jps.length === 1 ? (jps[0] ?? null) : null, nodes: s.nodes.filter((n) => wanted.has(n.jail))}
  })
}

function parseTargets(names: readonly string[], o: TreeOptions): ResultAsync<JailPath[], NestError> {
  if (names.length === 0 && !o.all) return errAsync(invalidInput('no jail named', 'give a jail, or --all for every jail'))
  if (names.length > 0 && o.all) return errAsync(invalidInput('a jail and --all exclude each other', 'give one of them'))
  return ResultAsync.combine(names.map(jailPath))
}

/**
 * The locks of the top-level jails touched (a tree is locked by its top: `nest stop web/db`
 * and `nest stop web` exclude each other), sorted so that two nests never wait on each other;
 * for --all every jail.conf of this level. Then the work, told which tops it holds, which
 * reads what it decides on.
 */
function underTopLocks<T>(ctx: CommandCtx, host: Host, jps: readonly JailPath[], work: (locked: ReadonlySet<string>) => ResultAsync<T, NestError>): ResultAsync<T, NestError> {
  const tops = jps.length > 0
    ? okAsync<string[], NestError>(jps.map((jp) => jp.levels[0] as string))
    : host.files.list(CONF_DIR).map((files) => files.filter((f) => /^[A-Za-z0-9_-]+\.conf$/.test(f)).map((f) => f.slice(0, -'.conf'.length)))
  return tops.andThen((names) => {
    const locked = new Set(names)
    return [...locked].sort().reduceRight<() => ResultAsync<T, NestError>>((inner, j) => () => withJailLock(host, j, inner, ctx.note), () => work(locked))()
  })
}

/**
 * --all acts on the trees whose lock it holds: a top-level jail that appeared after the
 * jail.conf files were listed is one that `nest create` is making under its own lock (its
 * datasets may be there before its jail.conf): it is not touched.
 */
function lockedTrees(s: Scene, locked: ReadonlySet<string>): Scene {
  return {...s, nodes: s.nodes.filter((n) => locked.has(n.jail.split('.')[0] as string))}
}

/** The answer: every jail acted on, in `order`; a failure of one jail is its own error, of several a partial one. */
function treeAnswer(verb: 'started' | 'stopped' | 'restarted', order: readonly TreeNode[], out: Map<string, Outcome<JailDone>>, said: (n: TreeNode, d: JailDone) => TreeStep['outcome']): ResultAsync<TreeResult, NestError> {
  const jails = order.filter((n) => out.has(n.jail)).map((n): TreeStep => {
    const r = out.get(n.jail) as Outcome<JailDone>
    if (r.status === 'done') return {name: n.path, outcome: said(n, r.value), cleanup: r.value.cleanup}
    if (r.status === 'skipped') return {name: n.path, outcome: 'skipped', error: r.because, cleanup: null}
    return {name: n.path, outcome: 'failed', error: r.error.message, ...(r.error.step === undefined ? {} : {step: r.error.step}), cleanup: null}
  })
  const failed = [...out.values()].find((r) => r.status === 'failed')
  if (!failed || failed.status !== 'failed') return okAsync({dryRun: false, jails})
  if (out.size === 1) return errAsync(failed.error)
  const bad = jails.filter((j) => j.outcome === 'failed' || j.outcome === 'skipped')
  const again = verb === 'started' ? 'start' : verb === 'stopped' ? 'stop' : 'restart'
  return errAsync(partial(`${bad.length} of ${jails.length} jail(s) not ${verb}: ${failed.error.message}`, `see each jail's line; nest ${again} ${bad[0]?.name ?? ''} again once fixed`, {dryRun: false, jails}))
}

const DONE = {start: 'started', stop: 'stopped', destroy: 'destroyed'} as const

type Outcomes = Map<string, Outcome<JailDone>>

/** A tree operation made from the scene: its plan, and how its outcomes become the answer. */
interface Planned {
  plan: TreePlan
  answer(out: Outcomes): ResultAsync<TreeResult, NestError>
  /** What nest records of the jails this run started or stopped (nest audit's lifecycle, below). */
  record: {nodes: readonly TreeNode[]; what: 'started' | 'stopped'}
}

/**
 * nest audit calls a grant unused only when the jail's lifecycle was seen (audit-rules.md
 * §1.1): nest:started / nest:stopped on the dataset of each jail this run started or stopped,
 * set locally (the audit reads only a local value: a child's dataset inherits its parent's
 * otherwise). One zfs set for all of them, and none when nothing was done or a jail has no
 * dataset (a directory child: its lifecycle stays unknown). Below a parent's delegated dataset
 * the parent's root can rewrite a child's record: that can only make the audit trust a
 * lifecycle that jail's own subtree did not have, never widen what any other jail holds.
 */
function recordArgv(nodes: readonly TreeNode[], what: 'started' | 'stopped', when: string): string[] | null {
  const ds = nodes.filter((n) => n.rootDataset !== null && n.row.type === 'filesystem').map((n) => n.row.name)
  return ds.length === 0 ? null : ['zfs', 'set', `nest:${what}=${when}`, ...ds]
}

/** The record as a --dry-run lists it: its last step, the time being the run's. */
function recordStep(ctx: CommandCtx, r: Planned['record']): PlanResult['steps'] {
  const argv = ctx.childWorld === undefined ? recordArgv(r.nodes, r.what, '<now>') : null
  return argv === null ? [] : [{id: 'record lifecycle', why: `what nest audit reads: when nest last ${r.what} these jails (a grant is called unused only after a full lifecycle)`, action: argv.join(' '), undo: []}]
}

export function recordLifecycle(ctx: CommandCtx, host: Host, nodes: readonly TreeNode[], out: Outcomes, what: 'started' | 'stopped'): ResultAsync<void, NestError> {
  const done = nodes.filter((n) => {
    const r = out.get(n.jail)
    return r?.status === 'done' && r.value.inner !== 'already running' && r.value.inner !== 'not running'
  })
  // A child manager's run is recorded by the nest that called it (it sees the same datasets): one zfs set per run, on the host.
  const argv = ctx.childWorld === undefined ? recordArgv(done, what, String(Math.floor(Date.now() / 1000))) : null
  if (argv === null) return okAsync(undefined)
  return host.run(argv, {allowFailure: true}).map((r) => {
    if (r.exitCode !== 0) ctx.warn(`could not record the lifecycle for nest audit (${r.stderr.trim().split('\n').at(-1) ?? ''}): ${argv.join(' ')}`)
  })
}

/**
 * What start, stop and restart share: the top-level locks, the scene read under them, the plan;
 * then the plan printed (--dry-run) or run, saying each jail's outcome as it finishes.
 */
function operate(ctx: CommandCtx, names: readonly string[], o: TreeOptions, make: (s: Scene, jps: readonly JailPath[]) => ResultAsync<Planned, NestError>): ResultAsync<TreeResult | PlanResult, NestError> {
  return parseTargets(names, o).andThen((jps) => underTopLocks(ctx, hostFor(ctx), jps, (locked) => scene(ctx, {mounts: true}).map((s) => (jps.length === 0 ? lockedTrees(s, locked) : s)).andThen((s) => make(s, jps).andThen(({plan, answer, record}) => {
    if (o.dryRun) {
      const p = treePlanResult(plan, s.reads)
      return okAsync<TreeResult | PlanResult, NestError>({...p, steps: [...p.steps, ...recordStep(ctx, record)]})
    }
    const settled: EngineCtx['settled'] = (jail, r, verb) => {
      const p = pathOfJail(jail)
      const own = (m: string): string => (m.startsWith(`${p}: `) ? m.slice(p.length + 2) : m)
      ctx.finished(`${p}: ${r.status === 'done' ? DONE[verb] : r.status === 'failed' ? `failed: ${own(r.error.message)}` : `skipped (${r.because})`}`)
    }
    return ResultAsync.fromSafePromise(executeTree({...engine(ctx, s.host, o.parallel), settled}, plan))
      .andThen((out) => recordLifecycle(ctx, s.host, record.nodes, out, record.what).map(() => out)).andThen(answer)
  }))))
}

export function startJail(ctx: CommandCtx, names: readonly string[], o: TreeOptions): ResultAsync<TreeResult | PlanResult, NestError> {
  return operate(ctx, names, o, (s, jps) => targets(s, jps, o).andThen(({label, one, nodes}) => {
    if (one && nodes.length > 0 && nodes.every((n) => n.running)) return errAsync(conflict(`${one.path}: already running${nodes.length > 1 ? ' (and so is every jail below it)' : ''}`, `nest restart ${one.path} to start it again`))
    return planView(s, nodes, o.parallel).map((v): Planned => ({
      plan: planStartTree(v, label, nodes),
      record: {nodes: nodes.filter((n) => !n.running), what: 'started'},
      answer: (out) => {
        for (const n of nodes) if (n.running) out.set(n.jail, {status: 'done', value: {cleanup: null, inner: 'already running'}})
        return treeAnswer('started', nodes, out, (_, d) => (d.inner === 'already running' ? 'already running' : 'started'))
      },
    }))
  }))
}

/**
 * What stop acts on: the jails and the running jails below them (`--all`: every tree, and each
 * top-level jail's leftovers), or for a parent's exec.prestop its running descendants.
 */
function stopTargets(s: Scene, jps: readonly JailPath[], o: TreeOptions): ResultAsync<{label: string; one: JailPath | null; nodes: TreeNode[]; named: Set<string>}, NestError> {
  return targets(s, jps, o).map((t) => ({...t, named: new Set(jps.length > 0 && !o.childrenOnly ? jps.map((jp) => jp.jail) : s.nodes.filter((n) => n.parent === null && t.nodes.includes(n)).map((n) => n.jail))}))
}

const stoppedWord = (n: TreeNode, d: JailDone): TreeStep['outcome'] => (d.inner === 'not running' || (!n.running && d.inner === undefined) ? 'not running' : 'stopped')

export function stopJail(ctx: CommandCtx, names: readonly string[], o: TreeOptions): ResultAsync<TreeResult | PlanResult, NestError> {
  // exec.prestop of a parent (service jail stop, jail -r by hand): one jls says whether any jail
  // below it still runs, read under the tree's lock (a nest that is starting web/db holds it:
  // this waits for it, then stops db too, instead of letting jail(8) remove web under it).
  const name = names[0]
  if (o.childrenOnly && name !== undefined && !o.dryRun) {
    return jailPath(name).andThen((jp) => withJailLock(hostFor(ctx), jp.levels[0] as string, () => listJails(hostFor(ctx)).andThen((jails) =>
      jails.some((j) => j.name.startsWith(`${jp.jail}.`) && !isDying(j)) ? stopTree(ctx, names, o) : okAsync<TreeResult | PlanResult, NestError>({dryRun: false, jails: []})), ctx.note))
  }
  return stopTree(ctx, names, o)
}

/** exec.prestop of `service jail stop web` takes web's lock; a nest that runs jail -r itself holds it already (NEST_HELD_LOCKS, inherited). */
function stopTree(ctx: CommandCtx, names: readonly string[], o: TreeOptions): ResultAsync<TreeResult | PlanResult, NestError> {
  return operate(ctx, names, o, (s, jps) => stopTargets(s, jps, o).andThen(({label, one, nodes, named}) => {
    if (one && !o.childrenOnly && !nodes.some((n) => n.running)) ctx.warn(`${one.path}: not running`)
    return planView(s, nodes, o.parallel).map((v): Planned => ({plan: planStopTree(v, label, nodes, named), record: {nodes: nodes.filter((n) => n.running), what: 'stopped'}, answer: (out) => treeAnswer('stopped', [...nodes].reverse(), out, stoppedWord)}))
  }))
}

export function restartJail(ctx: CommandCtx, names: readonly string[], o: TreeOptions): ResultAsync<TreeResult | PlanResult, NestError> {
  return operate(ctx, names, o, (s, jps) => stopTargets(s, jps, o).andThen(({label, nodes, named}) =>
    planView(s, nodes, o.parallel, {restart: true}).map((v): Planned => ({plan: planRestartTree(v, label, nodes, named), record: {nodes, what: 'started'}, answer: (out) => treeAnswer('restarted', nodes, out, () => 'restarted')}))))
}
