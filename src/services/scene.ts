// What every jail use case starts from: this nest's view (its layout, the one zfs list and jls,
// the tree built from them), how plans run and print, and the steps shared between use cases.
import {errAsync, okAsync, type Result, ResultAsync} from 'neverthrow'

import type {CommandCtx} from '../context/command.js'
import {type NestError, notFound} from '../domain/errors.js'
import {type JailPath, parseJailPath, pathOfJail} from '../domain/names.js'
import type {EngineCtx} from '../engine/execute.js'
import type {Host} from '../host/host.js'
import {DATA_MOUNTPOINT} from '../plan/jail.js'
import {DEFAULT_PARALLEL} from '../context/command.js'
import {type Action, describeAction, type Step} from '../plan/steps.js'
import type {PlanResult} from '../render/jails.js'
import {findNode, type TreeNode, treeOf} from '../model/tree.js'
import {hostFor, isJailed, loadWorld, requireLayout, type World} from './world.js'

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
  /** This nest runs inside a jail (a child manager). */
  jailed: boolean
  w: World
  nodes: TreeNode[]
}

export function scene(ctx: CommandCtx): ResultAsync<Scene, NestError> {
  const host = hostFor(ctx)
  return isJailed(host).andThen((jailed) => requireLayout(host, ctx.warn, jailed).andThen((layout) => loadWorld(host, layout))
    .map((w) => ({host, jailed, w, nodes: treeOf(w)})))
}

export function nodeOf(s: Scene, jp: JailPath): ResultAsync<TreeNode, NestError> {
  const n = findNode(s.nodes, jp.jail)
  if (n) return okAsync(n)
  const parent = jp.levels.slice(0, -1).join('/')
  return errAsync(notFound(`${jp.path}: no such jail`, parent ? `see nest list ${parent}` : 'see nest list'))
}

export const destroyDs = (ds: string): Action => ({kind: 'run', argv: ['zfs', 'destroy', '-r', ds]})

/** zfs jail is host-only: attach a deeper parent's dataset once it runs, then it mounts it itself. */
export function attachSteps(jail: string, ds: string): Step[] {
  return [
    {id: 'zfs jail', why: `attach ${ds} to ${pathOfJail(jail)} (only the host can)`, action: {kind: 'run', argv: ['zfs', 'jail', jail, ds]}, undo: [{kind: 'run', argv: ['zfs', 'unjail', jail, ds], allowFailure: true}]},
    {id: 'zfs mount', why: `${pathOfJail(jail)} mounts its dataset on ${DATA_MOUNTPOINT}`, action: {kind: 'run', argv: ['jexec', jail, 'zfs', 'mount', ds]}, undo: []},
  ]
}
