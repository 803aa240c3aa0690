// What every jail use case starts from: this nest's view (its layout, the one zfs list, jls and
// mount -p, the tree built from them), what a tree plan needs besides, and how plans print.
import {errAsync, okAsync, type Result, ResultAsync} from 'neverthrow'

import type {CommandCtx} from '../context/command.js'
import {type NestError, notFound} from '../domain/errors.js'
import {type JailPath, parseJailPath} from '../domain/names.js'
import type {EngineCtx} from '../engine/execute.js'
import type {Host} from '../host/host.js'
import {DEFAULT_PARALLEL} from '../context/command.js'
import {NEST_WRAPPER, NODE_BIN} from '../domain/install.js'
import {confMountPoints} from '../plan/jail.js'
import {describeAction, type Step} from '../plan/steps.js'
import {type PlanView, planSteps, type TreePlan} from '../plan/tree.js'
import type {PlanResult} from '../render/jails.js'
import {findNode, guardOf, type TreeNode, treeOf} from '../model/tree.js'
import {hostFor, isJailed, loadWorld, parseChildWorld, requireLayout, worldFromParent, type World} from './world.js'

export {DEFAULT_PARALLEL} from '../context/command.js'

export function engine(ctx: CommandCtx, host: Host, parallel = DEFAULT_PARALLEL): EngineCtx {
  return {host, progress: ctx.progress, warn: ctx.warn, parallel}
}

export function planResult(name: string, steps: readonly Step[]): PlanResult {
  return {
    dryRun: true,
    name,
    steps: steps.map((s) => ({id: s.id, why: s.why, action: describeAction(s.action), undo: s.undo.map(describeAction), ...(s.action.kind === 'write' ? {content: s.action.content} : {})})),
  }
}

export const fromResult = <T>(r: Result<T, NestError>): ResultAsync<T, NestError> => (r.isOk() ? okAsync(r.value) : errAsync(r.error))
export const jailPath = (input: string): ResultAsync<JailPath, NestError> => fromResult(parseJailPath(input))

/** What this nest sees: its layout, the one zfs list and jls, the tree built from them. */
export interface Scene {
  host: Host
  /** Every program this nest ran to learn the scene and plan (what a dry run says it read). */
  reads: string[]
  /** This nest runs inside a jail (a child manager). */
  jailed: boolean
  w: World
  nodes: TreeNode[]
}

/**
 * This nest's view. With `mounts`, the mount table too (start, stop, destroy plan their
 * unmounts from it). A child manager handed its world by the nest that runs it reads nothing.
 */
export function scene(ctx: CommandCtx, o: {mounts?: boolean} = {}): ResultAsync<Scene, NestError> {
  const base = hostFor(ctx)
  const reads: string[] = []
  const host: Host = {...base, run: (argv, opts) => {
    reads.push(describeAction({kind: 'run', argv: [...argv]}))
    return base.run(argv, opts)
  }}
  const given = parseChildWorld(ctx.childWorld)
  if (given) return worldFromParent(host, given).map((w) => ({host, reads, jailed: true, w, nodes: treeOf(w)}))
  return isJailed(host).andThen((jailed) => requireLayout(host, ctx.warn, jailed).andThen((layout) => loadWorld(host, layout, {...o, warn: ctx.warn}))
    .map((w) => ({host, reads, jailed, w, nodes: treeOf(w)})))
}

/**
 * A parent's root with the nest wrapper and no Node.js: the host installs it (pkg -j) once the
 * jail runs. Looked at without following anything (the root is the jail's): a link at either
 * path counts as present, since inside the jail it may lead somewhere valid; nothing is read.
 */
function needsNode(host: Host, n: TreeNode, within: string): ResultAsync<boolean, NestError> {
  return ResultAsync.combine([host.files.kind(`${n.root}${NEST_WRAPPER}`, within), host.files.kind(`${n.root}${NODE_BIN}`, within)])
    .map(([wrapper, node]) => wrapper !== 'none' && node === 'none')
}

/** What a tree plan needs besides the scene: Node.js to add, and jail.conf mount points (file reads, no program). */
export function planView(s: Scene, nodes: readonly TreeNode[], parallel: number, o: {restart?: boolean} = {}): ResultAsync<PlanView, NestError> {
  const own = nodes.filter((n) => n.parent === null)
  // A restart starts every jail again: each one's root is looked at, running or not.
  const starts = (n: TreeNode): boolean => !s.jailed && (o.restart === true || !n.running)
  return ResultAsync.combine([
    ResultAsync.combine(nodes.map((n) => (starts(n) ? needsNode(s.host, n, guardOf(s.nodes, n)) : okAsync(false)))),
    ResultAsync.combine(own.map((n) => (n.running ? s.host.files.read(n.conf) : okAsync(null)))),
  ]).map(([need, confs]) => ({
    w: s.w, nodes: s.nodes, mounts: s.w.mounts ?? [], parallel, inJail: s.jailed,
    needsNode: new Set(nodes.filter((_, i) => need[i]).map((n) => n.jail)),
    confMounts: new Map(own.map((n, i) => [n.jail, confMountPoints(confs[i] ?? null, n.jail, n.root)])),
  }))
}

/** Print a tree plan (--dry-run): every step in the order one worker runs them. */
export function treePlanResult(p: TreePlan, reads: readonly string[] = []): PlanResult {
  return {
    dryRun: true,
    name: p.label,
    reads: [...reads],
    steps: planSteps(p).map(({label, step: s}) => ({id: `${label}: ${s.id}`, why: s.why, action: describeAction(s.action), undo: s.undo.map(describeAction), ...(s.action.kind === 'write' ? {content: s.action.content} : {})})),
  }
}

export function nodeOf(s: Scene, jp: JailPath): ResultAsync<TreeNode, NestError> {
  const n = findNode(s.nodes, jp.jail)
  if (n) return okAsync(n)
  const parent = jp.levels.slice(0, -1).join('/')
  return errAsync(notFound(`${jp.path}: no such jail`, parent ? `see nest list ${parent}` : 'see nest list'))
}


