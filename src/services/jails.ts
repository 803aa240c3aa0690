// The other jail use cases: cleanup, destroy (at any depth, --recursive), list of the whole
// tree, exec and console straight from the host. Each checks what it can before the first change.
import {errAsync, okAsync, ResultAsync} from 'neverthrow'

import type {CommandCtx} from '../cli/base.js'
import {conflict, invalidInput, type NestError, notFound, partial} from '../domain/errors.js'
import {type JailPath, pathOfJail} from '../domain/names.js'
import {cleanupBelow, type CleanupResult, mountForest, unmountOrder} from '../engine/cleanup.js'
import {executePlan} from '../engine/execute.js'
import {withJailLock} from '../engine/lock.js'
import type {Host} from '../host/host.js'
import {listMounts} from '../host/tools/mount.js'
import {planCleanup, planDestroy} from '../plan/jail.js'
import type {Step} from '../plan/steps.js'
import type {DestroyResult, ExecResultDoc, ListResult, PlanResult} from '../render/jails.js'
import {delegatedDataset, findNode, splitJail, subtreeOf, type TreeNode, treeOf} from './tree.js'
import {entryOf, findLayout, hostFor, loadWorld} from './world.js'
import {destroyDs, engine, jailPath, nodeOf, planResult, scene} from './scene.js'
import {stopJail} from './lifecycle.js'

export interface CleanupOptions {
  force: boolean
  dryRun: boolean
  parallel: number
}

export function cleanupJail(ctx: CommandCtx, name: string, o: CleanupOptions): ResultAsync<CleanupResult | PlanResult, NestError> {
  // exec.release of a jail -r nest runs: nest unmounts next, under the jail's lock it holds.
  if (ctx.cleanupFollows && !o.dryRun) return jailPath(name).map((jp) => ({jail: jp.path, root: '', unmounted: [], remaining: [], deferred: true as const}))
  return jailPath(name).andThen((jp) => scene(ctx).andThen((s) => nodeOf(s, jp).andThen((n) => {
    if (n.running) return errAsync(conflict(`${n.path}: running: what is mounted below its root is in use`, `nest stop ${n.path} (it cleans up too)`))
    if (o.dryRun) {
      return listMounts(s.host).map((mounts) => planResult(n.path, unmountOrder(mountForest(mounts, n.root)).map((m): Step => ({
        id: 'umount', why: `${m.type} on ${m.on}`, action: {kind: 'run', argv: ['umount', ...(o.force ? ['-f'] : []), m.on]}, undo: [],
      }))))
    }
    return withJailLock(s.host, n.jail, () => cleanupBelow(s.host, n.jail, n.root, {force: o.force, parallel: o.parallel}).andThen((c) =>
      c.remaining.length === 0 ? okAsync(c) : errAsync(partial(`${n.path}: ${c.remaining.length} mount(s) stay below ${n.root} (${c.remaining[0]?.on}: ${c.remaining[0]?.reason})`, o.force ? 'find what holds them: fstat -f <path>' : `nest cleanup ${n.path} --force`, c))))
  })))
}

export interface DestroyOptions {
  force: boolean
  recursive: boolean
  dryRun: boolean
  parallel: number
}

export function destroyJail(ctx: CommandCtx, name: string, o: DestroyOptions): ResultAsync<DestroyResult | PlanResult, NestError> {
  return jailPath(name).andThen((jp) => scene(ctx).andThen((s) => nodeOf(s, jp).andThen((n) => {
    const below = subtreeOf(s.nodes, n.jail).filter((x) => x.jail !== n.jail)
    if (below.length > 0 && !o.recursive) return errAsync(conflict(`${n.path}: ${below.length} jail(s) below it (${below.slice(0, 3).map((x) => x.path).join(', ')}${below.length > 3 ? ', ...' : ''})`, `nest destroy ${n.path} --recursive`))
    const running = [n, ...below].filter((x) => x.running)
    if (running.length > 0 && !o.force) return errAsync(conflict(`${running[0]?.path}: running`, `nest stop ${n.path} first, or nest destroy ${n.path} --force`))
    const l = s.w.layout
    const delegated = s.w.datasets.filter((d) => d.type === 'filesystem' && n.parent !== null && (d.name === delegatedDataset(l, n.jail) || d.name.startsWith(`${delegatedDataset(l, n.jail)}.`))).map((d) => d.name)
    const {parent, name: child} = splitJail(n.jail)
    const steps: Step[] = n.parent === null
      ? [planCleanup(l, n.jail), ...planDestroy(l, n.jail)]
      : [{id: 'nest destroy', why: `${pathOfJail(parent ?? '')}'s nest removes ${child}'s datasets and configuration`, action: {kind: 'nest', in: parent ?? '', argv: ['destroy', child, ...(below.length > 0 ? ['--recursive'] : [])], as: n.path}, undo: []},
        ...delegated.map((ds): Step => ({id: 'zfs destroy', why: `the dataset delegated to ${ds.slice(ds.lastIndexOf('/') + 1).replaceAll('.', '/')}`, action: destroyDs(ds), undo: []}))]
    if (o.dryRun) return okAsync<DestroyResult | PlanResult, NestError>(planResult(n.path, steps))
    if (n.parent !== null && !findNode(s.nodes, n.parent)?.running) return errAsync(conflict(`${pathOfJail(n.parent)}: not running, so its nest cannot remove ${child}`, `nest start ${pathOfJail(n.parent)} --no-children, then nest destroy ${n.path} again`))
    const datasets = s.w.datasets.filter((d) => d.type === 'filesystem' && (d.name === n.row.name || d.name.startsWith(`${n.row.name}/`) || delegated.includes(d.name))).map((d) => d.name)
    const stopFirst = running.length > 0 ? stopJail(ctx, [name], {all: false, children: true, parallel: o.parallel, dryRun: false}).map(() => undefined) : okAsync(undefined)
    return stopFirst.andThen(() => withJailLock(s.host, n.jail, () => executePlan(engine(ctx, s.host), n.path, steps)))
      .map((): DestroyResult => ({dryRun: false, name: n.path, datasets, directories: n.rootDataset === null ? [n.row.name] : [], conf: n.conf}))
  })))
}

// ---------------------------------------------------------------------------------------------
// list, exec, console

export function listJailTree(ctx: CommandCtx, name: string | undefined): ResultAsync<ListResult, NestError> {
  const host = hostFor(ctx)
  const only = name === undefined ? okAsync<JailPath | null, NestError>(null) : jailPath(name)
  return only.andThen((jp) => findLayout(host, ctx.warn).andThen((layout) => {
    if (!layout) return jp ? errAsync(notFound(`${jp.path}: no such jail`, 'see nest list')) : okAsync({jails: []})
    return loadWorld(host, layout).andThen((w) => {
      const all = treeOf(w)
      const nodes = jp ? subtreeOf(all, jp.jail) : all
      if (jp && nodes.length === 0) return errAsync(notFound(`${jp.path}: no such jail`, 'see nest list'))
      // A stopped jail's children.max is in its jail.conf, read from its parent's root.
      return ResultAsync.combine(nodes.map((n) => (n.running ? okAsync(null) : host.files.read(n.conf))))
        .map((confs) => ({jails: nodes.map((n, i) => entryOf(n, confs[i] ?? null))}))
    })
  }))
}

function runningNode(ctx: CommandCtx, name: string): ResultAsync<{host: Host; n: TreeNode}, NestError> {
  return jailPath(name).andThen((jp) => scene(ctx).andThen((s) => nodeOf(s, jp).andThen((n) =>
    n.running ? okAsync({host: s.host, n}) : errAsync(conflict(`${n.path}: not running`, `nest start ${n.path}`)))))
}

export function execInJail(ctx: CommandCtx, name: string, argv: string[]): ResultAsync<ExecResultDoc, NestError> {
  if (argv.length === 0) return errAsync(invalidInput('no command given', `nest exec ${name} -- COMMAND [ARG...]`))
  return runningNode(ctx, name).andThen(({host, n}) =>
    host.run(['jexec', n.jail, ...argv], {allowFailure: true, stdio: ctx.json ? 'pipe' : 'inherit'}).map((r) => ({
      name: n.path, argv, exitCode: r.exitCode, ...(ctx.json ? {stdout: r.stdout, stderr: r.stderr} : {}),
    })))
}

export function consoleJail(ctx: CommandCtx, name: string): ResultAsync<ExecResultDoc, NestError> {
  if (ctx.json) return errAsync(invalidInput('nest console is interactive: --json does not apply', `nest exec ${name} --json -- COMMAND`))
  const argv = ['login', '-f', 'root']
  return runningNode(ctx, name).andThen(({host, n}) =>
    host.run(['jexec', '-l', n.jail, ...argv], {allowFailure: true, stdio: 'inherit'}).map((r) => ({name: n.path, argv, exitCode: r.exitCode})))
}
