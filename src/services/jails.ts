// The other jail use cases: cleanup, destroy (at any depth, --recursive), list of the whole
// tree, exec and console straight from the host. Each checks what it can before the first change.
import {errAsync, okAsync, ResultAsync} from 'neverthrow'

import type {CommandCtx} from '../context/command.js'
import {conflict, invalidInput, type NestError, notFound, partial, withFix} from '../domain/errors.js'
import {type JailPath, pathOfJail} from '../domain/names.js'
import {cleanupBelow, type CleanupResult} from '../engine/cleanup.js'
import {withJailLock} from '../engine/lock.js'
import type {Host} from '../host/host.js'
import {planDestroyTree, unmountStep} from '../plan/tree.js'
import {executeTree} from '../engine/tree.js'
import type {DestroyResult, ExecResultDoc, ListResult, PlanResult} from '../render/jails.js'
import {delegatedDataset, findNode, guardOf, splitJail, subtreeOf, type TreeNode, treeOf} from '../model/tree.js'
import {entryOf, findLayout, hostFor, loadWorld, needsInterfaces, readConf} from './world.js'
import {engine, jailPath, nodeOf, planResult, planView, type Scene, scene, treePlanResult} from './scene.js'
import {type EngineCtx, executePlan} from '../engine/execute.js'
import {isDying} from '../host/tools/jls.js'
import {confFile, confHeader, jailDataset} from '../model/layout.js'
import {destroyDs, type Step} from '../plan/steps.js'

export interface CleanupOptions {
  force: boolean
  dryRun: boolean
}

export function cleanupJail(ctx: CommandCtx, name: string, o: CleanupOptions): ResultAsync<CleanupResult | PlanResult, NestError> {
  // exec.release of a jail -r nest runs: nest unmounts next, under the jail's lock it holds.
  if (ctx.cleanupFollows && !o.dryRun) return jailPath(name).map((jp) => ({jail: jp.path, root: '', unmounted: [], remaining: [], deferred: true as const}))
  // Decided under the lock of the jail's tree: it may not start while its leftovers go.
  return jailPath(name).andThen((jp) => withJailLock(hostFor(ctx), jp.levels[0] as string, () => scene(ctx, {mounts: true}).andThen((s) => nodeOf(s, jp).andThen((n) => {
    if (n.running) return errAsync(conflict(`${n.path}: running: what is mounted below its root is in use`, `nest stop ${n.path} (it cleans up too)`))
    if (o.dryRun) return okAsync<CleanupResult | PlanResult, NestError>(planResult(n.path, unmountStep([{jail: n.jail, root: n.root}], s.w.mounts ?? [], o.force)))
    return cleanupBelow(s.host, n.jail, n.root, {force: o.force, mounts: s.w.mounts}).andThen((c) =>
      c.remaining.length === 0 ? okAsync(c) : errAsync(partial(`${n.path}: ${c.remaining.length} mount(s) stay below ${n.root} (${c.remaining[0]?.on}: ${c.remaining[0]?.reason})`, o.force ? 'find what holds them: fstat -f <path>' : `nest cleanup ${n.path} --force`, c)))
  })), ctx.note))
}

export interface DestroyOptions {
  force: boolean
  recursive: boolean
  dryRun: boolean
  parallel: number
  /** A jail that is not there (nor anything left of it) is not an error: a create's undo. */
  ifExists?: boolean
  /** Only what an interrupted create or destroy left; a whole jail is left as it is (answered as absent). */
  leftoversOnly?: boolean
}

/**
 * What an interrupted create or destroy left of a jail that nest no longer sees as one: a
 * top-level jail's jail.conf (nest's own, by its first line) with no dataset and no jail of that
 * name; the datasets the host delegated to a nested jail and the jails below it (nest:name
 * says whose). Nothing of a jail that is alive, nothing that is not nest's.
 */
function leftoversOf(s: Scene, jp: JailPath): ResultAsync<{conf: string | null; datasets: string[]}, NestError> {
  const l = s.w.layout
  const alive = (jail: string): boolean => s.w.jails.some((j) => (j.name === jail || j.name.startsWith(`${jail}.`)) && !isDying(j))
  if (alive(jp.jail)) return okAsync({conf: null, datasets: []})
  if (jp.levels.length === 1) {
    const own = jailDataset(l, jp.jail)
    if (s.w.datasets.some((d) => d.name === own)) return okAsync({conf: null, datasets: []})
    const dirGone = l.dir ? s.host.files.kind(own).map((k) => k === 'none') : okAsync<boolean, NestError>(true)
    return ResultAsync.combine([readConf(s.host, jp.jail), dirGone]).map(([text, gone]) =>
      ({conf: gone && text !== null && text.startsWith(confHeader(jp.jail)) ? confFile(jp.jail) : null, datasets: []}))
  }
  const deleg = delegatedDataset(l, jp.jail)
  const datasets = s.w.datasets.filter((d) => d.type === 'filesystem' && (d.name === deleg || d.name.startsWith(`${deleg}.`)) && d.name === delegatedDataset(l, d['nest:name'])).map((d) => d.name)
  return okAsync({conf: null, datasets})
}

/**
 * What the nest of a running parent finds of a child it no longer sees as one (its own
 * leftovers: a jail.conf in the parent's root), finished there: did it find any?
 */
function innerLeftovers(ctx: CommandCtx, s: Scene, jp: JailPath, o: DestroyOptions): ResultAsync<boolean, NestError> {
  const {parent, name: child} = splitJail(jp.jail)
  if (parent === null || o.dryRun || !findNode(s.nodes, parent)?.running) return okAsync(false)
  const step: Step = {id: 'nest destroy', why: `${pathOfJail(parent)}'s nest removes what is left of ${child} inside it`, action: {kind: 'nest', in: parent, argv: ['destroy', child, '--if-exists', '--leftovers-only'], as: jp.path}, undo: []}
  return executePlan(engine(ctx, s.host), jp.path, [step]).map((done) => (done[0]?.doc as {result?: DestroyResult} | undefined)?.result?.leftovers === 'finished')
}

/** destroy of a jail nest does not see: finish what was left of it, or say it is not there. */
function destroyLeftovers(ctx: CommandCtx, s: Scene, jp: JailPath, o: DestroyOptions, missing: NestError): ResultAsync<DestroyResult | PlanResult, NestError> {
  return ResultAsync.combine([leftoversOf(s, jp), innerLeftovers(ctx, s, jp, o)]).andThen(([{conf, datasets}, inner]) => {
    if (conf === null && datasets.length === 0) {
      if (inner) return okAsync<DestroyResult | PlanResult, NestError>({dryRun: false, name: jp.path, datasets: [], directories: [], conf: '', leftovers: 'finished'})
      return o.ifExists ? okAsync<DestroyResult | PlanResult, NestError>({dryRun: false, name: jp.path, datasets: [], directories: [], conf: '', leftovers: 'absent'}) : errAsync(missing)
    }
    const steps: Step[] = [
      // Each is a dataset of its own (below `delegated`): the deepest jail's first.
      ...[...datasets].reverse().map((ds): Step => ({id: 'zfs destroy', why: `the dataset the host delegated to ${jp.path} (or below it), left by an interrupted create or destroy`, action: destroyDs(ds), undo: []})),
      ...(conf === null ? [] : [{id: 'remove jail.conf', why: `${jp.path}'s configuration, left by an interrupted create or destroy`, action: {kind: 'remove', path: conf}, undo: []} satisfies Step]),
    ]
    if (o.dryRun) return okAsync<DestroyResult | PlanResult, NestError>(planResult(jp.path, steps))
    ctx.note(`${jp.path}: not a whole jail: removing what an interrupted create or destroy left of it (${[...datasets, ...(conf === null ? [] : [conf])].join(', ')})`)
    return executePlan(engine(ctx, s.host), jp.path, steps).map((): DestroyResult => ({dryRun: false, name: jp.path, datasets, directories: [], conf: conf ?? '', leftovers: 'finished'}))
  })
}

export function destroyJail(ctx: CommandCtx, name: string, o: DestroyOptions): ResultAsync<DestroyResult | PlanResult, NestError> {
  // The whole tree's lock (its top): nothing below it changes while this one decides and acts.
  return jailPath(name).andThen((jp) => withJailLock(hostFor(ctx), jp.levels[0] as string, () => scene(ctx, {mounts: true}).andThen((s) => nodeOf(s, jp).orElse((missing) => destroyLeftovers(ctx, s, jp, o, missing)).andThen((n) => {
    if (!('jail' in n)) return okAsync<DestroyResult | PlanResult, NestError>(n)
    // A whole jail this nest's caller does not see (below a link it does not follow): not a leftover.
    if (o.leftoversOnly) return okAsync<DestroyResult | PlanResult, NestError>({dryRun: false, name: jp.path, datasets: [], directories: [], conf: '', leftovers: 'absent'})
    const subtree = subtreeOf(s.nodes, n.jail)
    const below = subtree.filter((x) => x.jail !== n.jail)
    if (below.length > 0 && !o.recursive) return errAsync(conflict(`${n.path}: ${below.length} jail(s) below it (${below.slice(0, 3).map((x) => x.path).join(', ')}${below.length > 3 ? ', ...' : ''})`, `nest destroy ${n.path} --recursive`))
    const running = subtree.filter((x) => x.running)
    if (running.length > 0 && !o.force) return errAsync(conflict(`${running[0]?.path}: running`, `nest stop ${n.path} first, or nest destroy ${n.path} --force`))
    if (n.parent !== null && !findNode(s.nodes, n.parent)?.running) return errAsync(conflict(`${pathOfJail(n.parent)}: not running, so its nest cannot remove ${splitJail(n.jail).name}`, `nest start ${pathOfJail(n.parent)} --no-children, then nest destroy ${n.path} again`))
    return planView(s, subtree, o.parallel).andThen((v) => {
      const plan = planDestroyTree(v, n, subtree, {recursive: o.recursive})
      if (o.dryRun) return okAsync<DestroyResult | PlanResult, NestError>(treePlanResult(plan, s.reads))
      const l = s.w.layout
      const datasets = s.w.datasets.filter((d) => d.type === 'filesystem' && (d.name === n.row.name || d.name.startsWith(`${n.row.name}/`) || subtree.some((x) => d.name === delegatedDataset(l, x.jail)))).map((d) => d.name)
      // The first failure says why (its step), also when the destroy of that jail was then skipped for it.
      let first: NestError | undefined
      const settled: EngineCtx['settled'] = (_jail, r) => {
        if (r.status === 'failed') first ??= r.error
      }
      return ResultAsync.fromSafePromise(executeTree({...engine(ctx, s.host, o.parallel), settled}, plan)).andThen((out) => {
        const failed = [...out.entries()].find(([, r]) => r.status === 'failed') ?? [...out.entries()].find(([, r]) => r.status !== 'done')
        if (failed) {
          const [jail, r] = failed
          // A destroy is not undone when a step of it fails: its fix is to finish it, not "it was undone".
          const finish = (e: NestError): NestError => withFix(e, `once the cause is fixed, run nest destroy ${n.path}${o.recursive ? ' --recursive' : ''}${o.force ? ' --force' : ''} again: it finishes what is left`)
          if (first && r.status !== 'failed') return errAsync(finish(first))
          return errAsync(r.status === 'failed' ? finish(r.error) : conflict(`${pathOfJail(jail)}: ${r.status === 'skipped' ? r.because : 'not done'}, so ${n.path} stays`, `nest destroy ${n.path} again once fixed`))
        }
        return okAsync<DestroyResult | PlanResult, NestError>({dryRun: false, name: n.path, datasets, directories: n.rootDataset === null ? [n.row.name] : [], conf: n.conf})
      })
    })
  })), ctx.note))
}

// ---------------------------------------------------------------------------------------------
// list, exec, console

export function listJailTree(ctx: CommandCtx, name: string | undefined): ResultAsync<ListResult, NestError> {
  const host = hostFor(ctx)
  const only = name === undefined ? okAsync<JailPath | null, NestError>(null) : jailPath(name)
  return only.andThen((jp) => findLayout(host, ctx.warn).andThen((layout) => {
    if (!layout) return jp ? errAsync(notFound(`${jp.path}: no such jail`, 'see nest list')) : okAsync({jails: []})
    return loadWorld(host, layout, {warn: ctx.warn}).andThen((w) => {
      const all = treeOf(w)
      const nodes = jp ? subtreeOf(all, jp.jail) : all
      if (jp && nodes.length === 0) return errAsync(notFound(`${jp.path}: no such jail`, 'see nest list'))
      // A stopped jail's children.max is in its jail.conf, read from its parent's root.
      // Below a parent's root (a child's jail.conf) nothing is followed; one that cannot be read is warned of.
      const conf = (n: TreeNode): ResultAsync<string | null, NestError> => (n.running ? okAsync(null) : host.files.read(n.conf, n.parent === null ? undefined : guardOf(all, n))
        .orElse((e) => {
          ctx.warn(`${e.message}; ${n.path}'s children.max not shown`)
          return okAsync(null)
        }))
      // Whether each VNET jail's epair is there: one ifconfig -l for all of them (none without one).
      const ifs = needsInterfaces(nodes) ? host.run(['ifconfig', '-l'], {allowFailure: true}).map((r) => (r.exitCode === 0 ? new Set(r.stdout.trim().split(/\s+/)) : null)) : okAsync<Set<string> | null, NestError>(null)
      return ResultAsync.combine([ResultAsync.combine(nodes.map(conf)), ifs])
        .map(([confs, names]) => ({jails: nodes.map((n, i) => entryOf(n, confs[i] ?? null, names))}))
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
