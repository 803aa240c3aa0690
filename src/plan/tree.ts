// Tree operations as data (house style §8, §9): one pure function per operation plans the whole
// tree as ordered groups of steps, and `--dry-run` prints the very plan the engine then runs.
// A group is the jails one nest acts on together: the top-level jails of this nest, or the
// siblings below one parent, which that parent's nest (its child manager) acts on in one call.
// Parents start before their children; children stop before their parents.
import type {MountRecord} from '../host/parse.js'
import {pathOfJail} from '../domain/names.js'
import {CLEANUP_FOLLOWS, WORLD_ENV} from '../context/command.js'
import {confFile, DATA_MOUNTPOINT, DIR_LAYOUT, jailDataset, type Layout} from '../model/layout.js'
import {delegatedDataset, epairOf, splitJail, type TreeNode, type World} from '../model/tree.js'
import {isBelow} from '../host/tools/mount.js'
import {mountForest, unmountOrder} from './mounts.js'
import {destroyEpair, nodeStep, planStart} from './jail.js'
import {type Action, destroyDs, type Step} from './steps.js'

/**
 * A step of a group, about one of its jails (`for`) or about all of them; `undoFor`: what undoes
 * it for one of them (a child manager's start of several children, undone for the one whose
 * later step failed).
 */
export type GroupStep = Step & {for?: string; undoFor?: Record<string, Action[]>}

export interface TreeGroup {
  /** What the group does to its jails (their outcome: started, stopped, destroyed). */
  verb: 'start' | 'stop' | 'destroy'
  /** The jails it acts on, in tree order. */
  jails: string[]
  /** null: this nest acts on them itself; else the parent whose nest does. */
  via: string | null
  /** Groups (by index) that must have finished first, however they ended. */
  after: number[]
  /** Jails that must have succeeded first (a parent on the way down); else the group is skipped. */
  needs: string[]
  /**
   * Per-jail steps run for each jail in parallel (bounded), in order within a jail, undone in
   * reverse for that jail when one fails; then the steps for the whole group, in order.
   */
  each: Array<{jail: string; steps: Step[]}>
  all: GroupStep[]
}

export interface TreePlan {
  /** What the plan is of (`web`, `all jails`). */
  label: string
  /** Steps before any group (a child manager mounts its own dataset first); a failure fails every jail. */
  before?: Step[]
  /** In the order one worker runs them: what --dry-run prints. */
  groups: TreeGroup[]
}

/** What a tree plan is made from: this nest's view, read once under the lock. */
export interface PlanView {
  w: World
  nodes: TreeNode[]
  mounts: MountRecord[]
  /** Jails whose root lacks Node.js (a parent's root that lost it): the host adds it before the start. */
  needsNode: Set<string>
  /** Each of this nest's own jails' jail.conf mount points (what jail(8) unmounts itself on stop). */
  confMounts: Map<string, string[]>
  parallel: number
  /** This nest is a child manager: everything its jail may mount is its own (zfs mount -a is safe). */
  inJail?: boolean
}

const depth = (jail: string): number => jail.split('.').length

/** zfs jail is host-only: attach a deeper parent's dataset once it runs. */
export function attachStep(jail: string, ds: string): Step {
  return {id: 'zfs jail', why: `attach ${ds} to ${pathOfJail(jail)} (only the host can)`, action: {kind: 'run', argv: ['zfs', 'jail', jail, ds]}, undo: [{kind: 'run', argv: ['zfs', 'unjail', jail, ds], allowFailure: true}]}
}

/** The jail mounts its own dataset (when no child manager call in it follows to do it). */
export function mountOwnStep(jail: string, ds: string): Step {
  return {id: 'zfs mount', why: `${pathOfJail(jail)} mounts its dataset on ${DATA_MOUNTPOINT}`, action: {kind: 'run', argv: ['jexec', jail, 'zfs', 'mount', ds]}, undo: []}
}

/**
 * Unmount, in one umount(8) call, what is left below the roots of jails that are gone: deepest
 * first. Nothing to unmount: no step (no process started for nothing).
 */
export function unmountStep(jails: Array<{jail: string; root: string}>, mounts: readonly MountRecord[], force = false): GroupStep[] {
  const per = jails.map((j) => ({...j, order: unmountOrder(mountForest(mounts, j.root))}))
  const paths = per.flatMap((p) => p.order.map((m) => m.on))
  if (paths.length === 0) return []
  const names = jails.map((j) => pathOfJail(j.jail))
  return [{
    id: 'umount', why: `what ${names.join(', ')} left below ${jails.length > 1 ? 'their roots' : 'its root'}, deepest first`,
    action: {kind: 'unmount', argv: ['umount', ...(force ? ['-f'] : []), ...paths], roots: per.map((p) => ({jail: p.jail, root: p.root, mounts: p.order.map((m) => ({on: m.on, type: m.type}))}))},
    undo: [],
  }]
}

/** Mounts left below a root after its jail and the jails below it are stopped (what jail(8) and their nests do not unmount). */
function leftAfterStop(v: PlanView, n: TreeNode, stoppedBelow: readonly TreeNode[], mounts: readonly MountRecord[]): MountRecord[] {
  const own = new Set(n.running ? (v.confMounts.get(n.jail) ?? []) : [])
  const cleanedBelow = (m: MountRecord): boolean => stoppedBelow.some((d) => isBelow(m.on, d.root))
  return mounts.filter((m) => isBelow(m.on, n.root) && !own.has(m.on) && !cleanedBelow(m))
}

/** The mount table once everything strictly below these roots is unmounted. */
const withoutBelow = (mounts: readonly MountRecord[], roots: readonly string[]): MountRecord[] => mounts.filter((m) => !roots.some((r) => isBelow(m.on, r)))

// ---------------------------------------------------------------------------------------------
// What a child manager is told: the world as the parent's nest would read it (its layout, its
// datasets, the jails and mounts in its view), so that it runs no program to learn it again.

/** Past this size the child manager reads its world itself (env and argv share ARG_MAX). */
export const WORLD_MAX = 48 * 1024

export interface ChildWorld {
  layout: Layout
  /** Absent for a directory layout: the child reads its nest.json files itself (no program). */
  datasets?: World['datasets']
  jails: World['jails']
  mounts: MountRecord[]
}

const JAIL_PARAMS = ['name', 'jid', 'parent', 'path', 'dying', 'children.cur', 'children.max', 'persist', 'devfs_ruleset', 'enforce_statfs'] as const

/** The view of the nest inside `p`: names without p's prefix, paths inside p's root. */
export function childWorld(v: PlanView, p: TreeNode, o: {started: boolean; gone: ReadonlySet<string>; mounts: readonly MountRecord[]}): ChildWorld {
  const root = p.root
  const inside = (x: string): string => (x === root ? '/' : x.slice(root.length))
  const jailsBelow = o.started ? [] : v.w.jails.filter((j) => j.name.startsWith(`${p.jail}.`) && !o.gone.has(j.name))
  const jails = jailsBelow.map((j) => {
    const params: World['jails'][number]['params'] = {}
    for (const k of JAIL_PARAMS) if (j.params[k] !== undefined) params[k] = j.params[k] as World['jails'][number]['params'][string]
    const name = j.name.slice(p.jail.length + 1)
    const parentName = splitJail(j.name).parent
    const path = j.path !== null && (j.path === root || isBelow(j.path, root)) ? inside(j.path) : j.path
    return {jid: j.jid, name, parent: parentName === p.jail ? 0 : j.parent, path, params: {...params, name, ...(path !== null ? {path} : {})}}
  })
  const mounts = o.started ? [] : o.mounts.filter((m) => m.on === root || isBelow(m.on, root)).map((m) => ({...m, on: inside(m.on)}))
  if (!p.delegated) return {layout: DIR_LAYOUT, jails, mounts}
  const ds = p.delegated
  // A parent this plan starts has none of its children's roots mounted yet; its own dataset is
  // mounted by its exec.start when it is this nest's own jail, else its nest mounts it first.
  const mounted = (d: World['datasets'][number]): string => (!o.started || d.type !== 'filesystem' ? d.mounted : d.name === ds && p.parent === null ? 'yes' : 'no')
  const datasets = v.w.datasets.filter((d) => d.name === ds || d.name.startsWith(`${ds}/`)).map((d) => ({...d, mounted: mounted(d)}))
  return {layout: {top: ds, mountpoint: DATA_MOUNTPOINT}, datasets, jails, mounts}
}

/** The call of the nest inside `parent` for some of its children, with its world when it fits. */
function nestCall(verb: 'start' | 'stop', parent: string, kids: readonly TreeNode[], parallel: number, world: ChildWorld | null): GroupStep {
  const names = kids.map((k) => splitJail(k.jail).name)
  const text = world ? JSON.stringify(world) : ''
  return {
    id: `nest ${verb}`, why: `${pathOfJail(parent)}'s nest ${verb}s ${names.join(', ')}${verb === 'stop' ? ' and unmounts what they leave' : ''}`,
    action: {kind: 'nest', in: parent, argv: [verb, ...names, '--no-children', '--parallel', String(parallel)], as: kids[0]?.path ?? pathOfJail(parent), ...(text && text.length <= WORLD_MAX ? {env: {[WORLD_ENV]: text}} : {})},
    undo: [],
    // A child this call started is stopped again, by the same nest, when its attach fails after.
    ...(verb === 'start' ? {undoFor: Object.fromEntries(kids.map((k) => [k.jail, [{kind: 'nest', in: parent, argv: ['stop', splitJail(k.jail).name, '--no-children'], as: k.path} satisfies Action]]))} : {}),
  }
}

// ---------------------------------------------------------------------------------------------
// The plans.

/** Group the nodes by parent (top-level jails of this nest together), in tree order. */
function siblings(nodes: readonly TreeNode[]): TreeNode[][] {
  const out = new Map<string, TreeNode[]>()
  for (const n of nodes) {
    const key = n.parent ?? ''
    out.set(key, [...(out.get(key) ?? []), n])
  }
  return [...out.values()]
}

const withEpair = (n: TreeNode): {epair?: string} => {
  const e = epairOf(n)
  return e === undefined ? {} : {epair: e}
}

/** The steps that start one of this nest's own jails: its leftovers unmounted, then create's start steps. */
function startOwn(v: PlanView, n: TreeNode, mountedAll: boolean): Step[] {
  const unmountedRoot = !mountedAll && n.rootDataset !== null && v.w.datasets.some((d) => d.name === n.rootDataset && d.mounted === 'no')
  return [
    ...unmountStep([{jail: n.jail, root: n.root}], v.mounts),
    ...planStart(v.w.layout, n.jail, {...(unmountedRoot && n.rootDataset !== null ? {mount: [n.rootDataset]} : {}), ...(v.needsNode.has(n.jail) ? {node: true} : {}), ...withEpair(n), conf: n.conf, root: n.root}),
  ]
}

/**
 * Start: the stopped jails among `nodes` (tree order), parents first. A child that is itself a
 * parent gets its dataset attached by the host once it runs; it mounts the dataset itself, in
 * the call of its own nest that starts its children, or alone when none follows.
 */
export function planStartTree(v: PlanView, label: string, nodes: readonly TreeNode[], o: {after?: number[]; offset?: number} = {}): TreePlan {
  const todo = nodes.filter((n) => !n.running)
  const offset = o.offset ?? 0
  // A child manager whose datasets are not all mounted (its jail was just started) mounts them
  // all in one call, its own first: one process, not one per child's root.
  const unmounted = v.inJail === true && !v.w.layout.dir && todo.some((n) => n.parent === null) && v.w.datasets.some((d) => d.type === 'filesystem' && d.mounted === 'no')
  const before: Step[] = unmounted
    ? [{id: 'zfs mount -a', why: 'the datasets delegated to this jail, its own first, then its children\'s roots', action: {kind: 'run', argv: ['zfs', 'mount', '-a']}, undo: []}]
    : []
  const inPlan = new Set(todo.map((n) => n.jail))
  const groups: TreeGroup[] = []
  const groupOf = new Map<string, number>()
  const ordered = siblings(todo).sort((a, b) => depth(a[0]?.jail ?? '') - depth(b[0]?.jail ?? ''))
  for (const kids of ordered) {
    const first = kids[0] as TreeNode
    const parent = first.parent
    const after = [...(o.after ?? []), ...(parent !== null && groupOf.has(parent) ? [groupOf.get(parent) as number] : [])]
    const g: TreeGroup = {verb: 'start', jails: kids.map((k) => k.jail), via: parent, after, needs: parent !== null && inPlan.has(parent) ? [parent] : [], each: [], all: []}
    if (parent === null) {
      g.each = kids.map((k) => ({jail: k.jail, steps: startOwn(v, k, unmounted)}))
    } else {
      const p = v.nodes.find((x) => x.jail === parent) as TreeNode
      const started = inPlan.has(parent)
      g.all.push(nestCall('start', parent, kids, v.parallel, childWorld(v, p, {started, gone: new Set(), mounts: v.mounts})))
      // Node.js from inside each child that lacks it, once the parent's nest has started it (pkg -j).
      for (const k of kids) if (v.needsNode.has(k.jail)) g.all.push({...nodeStep(k.jail), for: k.jail})
      for (const k of kids) {
        if (!k.delegated) continue
        g.all.push({...attachStep(k.jail, k.delegated), for: k.jail})
        const hasKidsInPlan = todo.some((x) => x.parent === k.jail)
        if (!hasKidsInPlan) g.all.push({...mountOwnStep(k.jail, k.delegated), for: k.jail})
      }
    }
    for (const k of kids) groupOf.set(k.jail, groups.length + offset)
    groups.push(g)
  }
  return {label, groups, ...(before.length > 0 ? {before} : {})}
}

/**
 * Stop: the running jails among `nodes`, deepest first; what they leave below their roots
 * unmounted once they are gone, in one umount per group; named jails that are not running get
 * their leftovers unmounted too.
 */
export function planStopTree(v: PlanView, label: string, nodes: readonly TreeNode[], named: ReadonlySet<string>): TreePlan {
  const running = new Set(v.nodes.filter((n) => n.running).map((n) => n.jail))
  // A named jail that is not running: its leftovers still go (by its parent's nest, if that runs).
  const todo = nodes.filter((n) => n.running || (named.has(n.jail) && (n.parent === null || running.has(n.parent))))
  const groups: TreeGroup[] = []
  const gone = new Set<string>()
  let mounts = [...v.mounts]
  const byGroup = siblings(todo).sort((a, b) => depth(b[0]?.jail ?? '') - depth(a[0]?.jail ?? ''))
  const groupOf = new Map<string, number>()
  for (const kids of byGroup) {
    const first = kids[0] as TreeNode
    const parent = first.parent
    const below = (k: TreeNode): TreeNode[] => todo.filter((x) => x.jail.startsWith(`${k.jail}.`))
    const after = [...new Set(kids.flatMap((k) => below(k).filter((x) => x.parent === k.jail).map((x) => groupOf.get(x.jail) as number)))].sort((a, b) => a - b)
    const g: TreeGroup = {verb: 'stop', jails: kids.map((k) => k.jail), via: parent, after, needs: [], each: [], all: []}
    if (parent === null) {
      g.each = kids.filter((k) => k.running).map((k) => ({jail: k.jail, steps: [{
        id: 'jail -r', why: `stop ${k.path} (exec.prestop, exec.stop, remove, unmount devfs, exec.release)`,
        // jail(8) reports failures after the removal too (a hook's): only a jail still alive stops the plan.
        action: {kind: 'run', argv: ['jail', '-f', k.conf, '-r', k.jail], env: {[CLEANUP_FOLLOWS]: '1'}, gone: k.jail, root: k.root, ...withEpair(k)},
        undo: [],
      }]}))
      const left = kids.map((k) => ({jail: k.jail, root: k.root, mounts: leftAfterStop(v, k, below(k), mounts)}))
      g.all.push(...unmountStep(left.map(({jail, root}) => ({jail, root})), left.flatMap((x) => x.mounts)))
    } else {
      const p = v.nodes.find((x) => x.jail === parent) as TreeNode
      g.all.push(nestCall('stop', parent, kids, v.parallel, childWorld(v, p, {started: false, gone, mounts})))
    }
    for (const k of kids) {
      gone.add(k.jail)
      groupOf.set(k.jail, groups.length)
    }
    // Once the group is done, nothing is left below its jails' roots.
    mounts = withoutBelow(mounts, kids.map((k) => k.root))
    groups.push(g)
  }
  return {label, groups}
}

/** Restart: the stop plan, then the start plan of the same jails once they are stopped. */
export function planRestartTree(v: PlanView, label: string, nodes: readonly TreeNode[], named: ReadonlySet<string>): TreePlan {
  const stop = planStopTree(v, label, nodes, named)
  const after = stop.groups.map((_, i) => i)
  const stopped = {...v, mounts: withoutBelow(v.mounts, nodes.map((n) => n.root))}
  const start = planStartTree(stopped, label, nodes.map((n) => ({...n, running: false})), {after, offset: stop.groups.length})
  return {label, groups: [...stop.groups, ...start.groups]}
}

/**
 * Destroy: stop what runs (with --force), then remove the jail: this nest's own jail by its
 * datasets (or directory) and configuration; a child by its parent's nest, then the datasets
 * the host delegated to it and the jails below it.
 */
export function planDestroyTree(v: PlanView, n: TreeNode, subtree: readonly TreeNode[], o: {recursive: boolean}): TreePlan {
  const running = subtree.some((x) => x.running)
  // What runs is stopped first, and its stop unmounts what it leaves; else only the leftovers go.
  const stop = running ? planStopTree(v, n.path, subtree, new Set(n.parent === null ? [n.jail] : [])) : {label: n.path, groups: []}
  const after = stop.groups.map((_, i) => i)
  const l = v.w.layout
  const stopped = stop.groups.some((x) => x.jails.includes(n.jail))
  const g: TreeGroup = {verb: 'destroy', jails: [n.jail], via: n.parent, after, needs: stopped ? [n.jail] : [], each: [], all: []}
  if (n.parent === null) {
    if (!running) g.all.push(...unmountStep([{jail: n.jail, root: n.root}], v.mounts))
    // An epair a start that failed or crashed after exec.prestart left (no exec.poststop ran).
    const epair = epairOf(n)
    if (!running && epair !== undefined) g.all.push({id: 'ifconfig destroy', why: `${n.path}'s epair, if a start that did not finish left it`, action: destroyEpair(epair), undo: []})
    g.all.push(l.dir
      ? {id: 'remove', why: `${n.path}'s directory (its root and nest.json) and nothing else`, action: {kind: 'remove-tree', path: jailDataset(l, n.jail), within: jailDataset(l, n.jail)}, undo: []}
      : {id: 'zfs destroy', why: `${n.path}'s datasets (root, data) and nothing else`, action: destroyDs(jailDataset(l, n.jail)), undo: []})
    g.all.push({id: 'remove jail.conf', why: `${n.path}'s configuration`, action: {kind: 'remove', path: confFile(n.jail)}, undo: []})
  } else {
    const {parent, name: child} = splitJail(n.jail)
    // The datasets the host delegated to the jail and to every jail below it.
    const deleg = subtree.filter((x) => v.w.datasets.some((d) => d.type === 'filesystem' && d.name === delegatedDataset(l, x.jail))).map((x) => ({ds: delegatedDataset(l, x.jail), path: x.path}))
    g.all.push({id: 'nest destroy', why: `${pathOfJail(parent ?? '')}'s nest removes ${child}'s datasets and configuration`, action: {kind: 'nest', in: parent ?? '', argv: ['destroy', child, ...(o.recursive ? ['--recursive'] : [])], as: n.path}, undo: []})
    for (const d of deleg) g.all.push({id: 'zfs destroy', why: `the dataset delegated to ${d.path}`, action: destroyDs(d.ds), undo: []})
  }
  return {label: n.path, groups: [...stop.groups, g]}
}

/** Every step of a plan in the order one worker runs them, labelled with the jails it is for. */
export function planSteps(p: TreePlan): Array<{label: string; step: Step}> {
  return [...(p.before ?? []).map((step) => ({label: p.label, step})), ...p.groups.flatMap((g) => [
    ...g.each.flatMap((e) => e.steps.map((step) => ({label: pathOfJail(e.jail), step}))),
    ...g.all.map((step) => ({label: step.for ? pathOfJail(step.for) : g.jails.map(pathOfJail).join(', '), step})),
  ])]
}
