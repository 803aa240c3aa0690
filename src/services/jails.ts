// The jail use cases: create, start, stop, restart, destroy, cleanup, list, exec, console, at
// any depth. Each checks everything it can before the first change, plans, then executes the
// plan under the jail's lock (rolling back on failure). A jail below this nest's own level is
// handled by the nest inside its parent (a child manager, through jexec); what only the host
// can do (zfs jail, pkg into a root, a release into a parent's dataset) this nest does itself.
import {err, errAsync, ok, okAsync, type Result, ResultAsync} from 'neverthrow'

import type {CommandCtx} from '../cli/base.js'
import {conflict, internal, invalidInput, type NestError, notFound, partial, preflight} from '../domain/errors.js'
import {NEST_WRAPPER, NODE_BIN} from '../domain/install.js'
import {type JailPath, parseJailPath, pathOfJail} from '../domain/names.js'
import {cleanupBelow, type CleanupResult, mountForest, unmountOrder} from '../engine/cleanup.js'
import {executePlan, type EngineCtx} from '../engine/execute.js'
import {withJailLock} from '../engine/lock.js'
import {type Outcome, walkDownGroups, walkUpGroups} from '../engine/tree.js'
import type {Host} from '../host/host.js'
import type {JailRecord} from '../host/parse.js'
import {isDying, listJails} from '../host/tools/jls.js'
import {listMounts} from '../host/tools/mount.js'
import {renameChild, runChild} from '../host/tools/nest.js'
import {readSysctls} from '../host/tools/sysctl.js'
import {loadPolicy} from '../policies/load.js'
import {checkNesting, type Level, selfLevel} from '../policies/nesting.js'
import {parsePolicy, type Policy, policyProblems, printPolicy} from '../policies/policy.js'
import {confFile, DATA_MOUNTPOINT, DIR_LAYOUT, DIR_META, isParentPolicy, jailDataset, type JailSpec, type Layout, nodeStep, planCleanup, planCreate, planDestroy, planStart, planStop, releasePath, releaseSnapshot, renderJailConf} from '../plan/jail.js'
import {type Action, describeAction, type Step} from '../plan/steps.js'
import type {CreateResult, DestroyResult, ExecResultDoc, ListResult, PlanResult, TreeResult, TreeStep} from '../render/jails.js'
import {childRoot, delegatedContainer, delegatedDataset, findNode, jailRow, kernelJail, splitJail, subtreeOf, type TreeNode, treeOf} from './tree.js'
import {entryOf, findLayout, hostFor, isJailed, loadWorld, readConf, releasesOf, requireLayout, type World} from './world.js'

export const DEFAULT_PARALLEL = 4

function engine(ctx: CommandCtx, host: Host, parallel = DEFAULT_PARALLEL): EngineCtx {
  return {host, progress: ctx.progress, warn: ctx.warn, parallel}
}

function planResult(name: string, steps: readonly Step[]): PlanResult {
  return {
    dryRun: true,
    name,
    steps: steps.map((s) => ({id: s.id, why: s.why, action: describeAction(s.action), undo: s.undo.map(describeAction), ...(s.action.kind === 'write' ? {content: s.action.content} : {})})),
  }
}

const fromResult = <T>(r: Result<T, NestError>): ResultAsync<T, NestError> => (r.isOk() ? okAsync(r.value) : errAsync(r.error))
const jailPath = (input: string): ResultAsync<JailPath, NestError> => fromResult(parseJailPath(input))

/** What this nest sees: its layout, the one zfs list and jls, the tree built from them. */
interface Scene {
  host: Host
  /** This nest runs inside a jail (a child manager). */
  jailed: boolean
  w: World
  nodes: TreeNode[]
}

function scene(ctx: CommandCtx): ResultAsync<Scene, NestError> {
  const host = hostFor(ctx)
  return isJailed(host).andThen((jailed) => requireLayout(host, ctx.warn, jailed).andThen((layout) => loadWorld(host, layout))
    .map((w) => ({host, jailed, w, nodes: treeOf(w)})))
}

function nodeOf(s: Scene, jp: JailPath): ResultAsync<TreeNode, NestError> {
  const n = findNode(s.nodes, jp.jail)
  if (n) return okAsync(n)
  const parent = jp.levels.slice(0, -1).join('/')
  return errAsync(notFound(`${jp.path}: no such jail`, parent ? `see nest list ${parent}` : 'see nest list'))
}

// ---------------------------------------------------------------------------------------------
// create

const IP4 = /^(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}$/
const IP6 = /^[0-9A-Fa-f:]+(\/[0-9]+)?$/
/** What a jail.conf `mount` line (an fstab line) can carry unescaped. */
const FSTAB_SAFE = /^\/[A-Za-z0-9_./+-]*$/

export interface CreateOptions {
  name: string
  policy: string
  /** The policy itself, as the parent's nest checked it (child managers only). */
  policyText?: string
  release?: string
  childrenMax?: number
  thick: boolean
  ip4: string[]
  ip6: string[]
  vnet: boolean
  start: boolean
  /** Start the parent (and its stopped ancestors) first when it is stopped. */
  startParent: boolean
  dryRun: boolean
}

function checkAddresses(o: CreateOptions): NestError | undefined {
  const bad4 = o.ip4.find((a) => !IP4.test(a))
  if (bad4 !== undefined) return invalidInput(`--ip4 ${JSON.stringify(bad4)} is not an IPv4 address`, 'give addresses such as 192.0.2.10, separated by commas')
  const bad6 = o.ip6.find((a) => !IP6.test(a) || !a.includes(':'))
  if (bad6 !== undefined) return invalidInput(`--ip6 ${JSON.stringify(bad6)} is not an IPv6 address`, 'give addresses such as 2001:db8::10')
  if (o.vnet && (o.ip4.length > 0 || o.ip6.length > 0)) return invalidInput('--vnet and --ip4/--ip6 exclude each other', 'a vnet jail configures its own addresses inside')
  if (o.childrenMax !== undefined && (!Number.isInteger(o.childrenMax) || o.childrenMax < 0 || o.childrenMax > 999_998)) {
    return invalidInput(`--children-max ${o.childrenMax} is not a number from 0 to 999998`, 'give how many jails may live below this one, at every depth')
  }
  return undefined
}

/** Refuse, before any change, what FreeBSD or the host would refuse half way. */
function checkCreate(w: World, name: string, o: CreateOptions, conf: string | null, running: boolean, strayDir: boolean): Result<string, NestError> {
  if (jailRow(w, name)) return err(conflict(`${name}: already exists`, `nest destroy ${name} first, or choose another name`))
  if (strayDir) return err(conflict(`${name}: ${jailDataset(w.layout, name)} exists and is not nest's (no ${DIR_META} in it)`, 'move it away or choose another name'))
  if (w.datasets.some((d) => d.name === jailDataset(w.layout, name))) {
    return err(conflict(`${name}: dataset ${jailDataset(w.layout, name)} exists and is not nest's`, 'choose another name'))
  }
  if (running) return err(conflict(`${name}: a jail of that name is running`, 'choose another name'))
  if (conf !== null) return err(conflict(`${name}: ${confFile(name)} exists`, `move it away or choose another name`))
  const releases = releasesOf(w)
  const release = o.release ?? releases.at(-1)
  if (release === undefined) return err(notFound('no release is bootstrapped', 'run nest bootstrap 14.3-RELEASE first'))
  if (!releases.includes(release)) return err(notFound(`release ${release} is not bootstrapped`, `run nest bootstrap ${release} first`))
  return ok(release)
}

function policyFor(host: Host, o: CreateOptions): ResultAsync<Policy, NestError> {
  if (o.policyText === undefined) return loadPolicy(host, o.policy)
  return fromResult(parsePolicy(o.policy, `policy ${o.policy} (from the parent's nest)`, o.policyText, 'file'))
}

const policyLine = (path: string, p: Policy): string =>
  `${path}: policy ${p.name}: ${Object.entries(p.params).map(([k, v]) => (v === true ? k : v === false ? `${k}=false` : `${k}=${v}`)).join(' ')}${p.delegate ? ' (delegated dataset)' : ''}`

const hostAllowOf = (sys: Map<string, string>): Set<string> =>
  new Set([...sys.keys()].filter((k) => k.startsWith('security.jail.param.')).map((k) => k.slice('security.jail.param.'.length)))

function checkedPolicy(jp: JailPath, policy: Policy, sys: Map<string, string>): Result<Policy, NestError> {
  const problems = policyProblems(policy, hostAllowOf(sys))
  if (problems.length > 0) return err(preflight(`${jp.path}: policy ${policy.name}: ${problems[0]}`, problems.length > 1 ? `${problems.length - 1} more: ${problems.slice(1).join('; ')}` : `fix ${policy.file}`))
  return ok(policy)
}

export function createJail(ctx: CommandCtx, o: CreateOptions): ResultAsync<CreateResult | PlanResult, NestError> {
  const addr = checkAddresses(o)
  if (addr) return errAsync(addr)
  return jailPath(o.name).andThen((jp) => (jp.levels.length === 1 ? createHere(ctx, jp, o) : createBelow(ctx, jp, o)))
}

/** A jail of this nest's own level: on the host, or inside a parent (as its child manager). */
function createHere(ctx: CommandCtx, jp: JailPath, o: CreateOptions): ResultAsync<CreateResult | PlanResult, NestError> {
  const host = hostFor(ctx)
  const work = (): ResultAsync<CreateResult | PlanResult, NestError> =>
    ResultAsync.combine([policyFor(host, o), readSysctls(host, ['security.jail', 'kern.securelevel'])]).andThen(([loaded, sys]) => {
      const jailed = host.info.jailed ?? sys.get('security.jail.jailed') === '1'
      return requireLayout(host, ctx.warn, jailed).andThen((layout) => ResultAsync.combine([
        loadWorld(host, layout), readConf(host, jp.jail), layout.dir ? host.files.isDir(jailDataset(layout, jp.jail)) : okAsync<boolean, NestError>(false),
      ]).andThen(([w, conf, dirExists]) => {
        const checked = checkedPolicy(jp, loaded, sys)
        if (checked.isErr()) return errAsync(checked.error)
        let policy = checked.value
        if (jailed) {
          if (o.policyText === undefined && (policy.delegate || isParentPolicy(policy))) {
            return errAsync(preflight(`${jp.path}: policy ${policy.name} makes a parent, and only the host can attach its dataset and install Node.js in it`, `run nest create PARENT/${jp.path} on the host, or use --policy leaf`))
          }
          const me = selfLevel(sys, 'this jail')
          const nesting = checkNesting({path: jp.path, parent: me, ancestors: [me], policy, ...(o.childrenMax === undefined ? {} : {childrenMax: o.childrenMax}), ip4: o.ip4, ip6: o.ip6, inDirectory: layout.dir === true})
          if (nesting.isErr()) return errAsync(nesting.error)
          nesting.value.notes.forEach((n) => ctx.note(n))
          policy = nesting.value.policy
        } else if (o.childrenMax !== undefined) {
          policy = {...policy, params: {...policy.params, 'children.max': String(o.childrenMax)}}
        }
        const nestInstall = isParentPolicy(policy) ? host.info.nestInstall : null
        if (nestInstall !== null && !FSTAB_SAFE.test(nestInstall)) {
          return errAsync(preflight(`${jp.path}: nest is installed at ${JSON.stringify(nestInstall)}, which a jail.conf mount line cannot name`, 'install nest under a path of letters, digits, "_", "-", "+", "." and "/"'))
        }
        const k = kernelJail(w, jp.jail)
        const release = checkCreate(w, jp.jail, o, conf, k !== undefined && !isDying(k), dirExists && !jailRow(w, jp.jail))
        if (release.isErr()) return errAsync(release.error)
        const spec: JailSpec = {jail: jp.jail, release: release.value, policy, ip4: o.ip4, ip6: o.ip6, vnet: o.vnet, thick: o.thick, nestBin: host.info.nestBin, hostSide: !jailed, nestInstall}
        const text = renderJailConf(layout, spec)
        if (text.isErr()) return errAsync(text.error)
        if (o.policyText === undefined) ctx.note(policyLine(jp.path, policy))
        const steps = planCreate(layout, spec, text.value, o.start)
        if (o.dryRun) return okAsync<CreateResult | PlanResult, NestError>(planResult(jp.path, steps))
        return executePlan(engine(ctx, host), jp.path, steps).andThen(() => createdResult(host, layout, jp))
      }))
    })
  return o.dryRun ? work() : withJailLock(host, jp.jail, work)
}

function createdResult(host: Host, layout: Layout, jp: JailPath): ResultAsync<CreateResult, NestError> {
  return loadWorld(host, layout).andThen((w) => {
    const n = findNode(treeOf(w), jp.jail)
    if (!n) return errAsync(notFound(`${jp.path}: not found after it was created`, 'see nest list'))
    return readConf(host, jp.jail).map((conf): CreateResult => ({
      dryRun: false,
      jail: entryOf(n, n.running ? null : conf),
      datasets: w.datasets.filter((d) => d.type === 'filesystem' && (d.name === n.row.name || d.name.startsWith(`${n.row.name}/`) || d.name === n.delegated)).map((d) => d.name),
      conf: n.conf,
    }))
  })
}

/** The levels whose children.max a new jail below `parent` counts against, nearest first. */
function ancestorsOf(w: World, parent: string): Level[] {
  const out: Level[] = []
  for (let j: string | null = parent; j !== null; j = splitJail(j).parent) {
    const k = kernelJail(w, j)
    if (k) out.push({path: pathOfJail(j), jail: j, params: k.params})
  }
  return out
}

/** A jail below a parent: checked here against the parent's kernel state, made by the parent's nest. */
function createBelow(ctx: CommandCtx, jp: JailPath, o: CreateOptions): ResultAsync<CreateResult | PlanResult, NestError> {
  const {parent: parentJail, name: child} = splitJail(jp.jail)
  const parentPath = pathOfJail(parentJail ?? '')
  const work = (): ResultAsync<CreateResult | PlanResult, NestError> => ResultAsync.combine([scene(ctx), readSysctls(hostFor(ctx), ['security.jail.param.allow'])]).andThen(([s, sys]) => {
    const p = findNode(s.nodes, parentJail ?? '')
    if (!p) return errAsync(notFound(`${parentPath}: no such jail`, `create it first: nest create ${parentPath}`))
    if (findNode(s.nodes, jp.jail)) return errAsync(conflict(`${jp.path}: already exists`, `nest destroy ${jp.path} first, or choose another name`))
    if (!p.running || !p.kernel) {
      const stopped = ancestry(s.nodes, p.jail).filter((n) => !n.running).map((n) => n.path)
      const also = stopped.length > 1 ? ` (nor is ${stopped.slice(0, -1).join(', ')})` : ''
      return errAsync(conflict(`${parentPath}: not running${also}, so it cannot create ${child}`, o.dryRun && o.startParent ? `nest start ${stopped[0] ?? parentPath} first: the plan is checked against the running parent` : `add --start-parent, or nest start ${stopped[0] ?? parentPath}`))
    }
    return ResultAsync.combine([policyFor(s.host, o), dirParent(s, p, o)]).andThen(([loaded, parentHas]) => {
      const checked = checkedPolicy(jp, loaded, sys)
      if (checked.isErr()) return errAsync(checked.error)
      const nesting = checkNesting({
        path: jp.path, parent: {path: parentPath, jail: p.jail, params: (p.kernel as JailRecord).params}, ancestors: ancestorsOf(s.w, p.jail),
        policy: checked.value, ...(o.childrenMax === undefined ? {} : {childrenMax: o.childrenMax}), ip4: o.ip4, ip6: o.ip6, inDirectory: p.delegated === null,
      })
      if (nesting.isErr()) return errAsync(nesting.error)
      const policy = nesting.value.policy
      const releases = releasesOf(s.w)
      const release = o.release ?? releases.at(-1)
      if (release === undefined || !releases.includes(release)) return errAsync(notFound(`release ${release ?? '(none)'} is not bootstrapped`, `run nest bootstrap ${release ?? '14.3-RELEASE'} first`))
      if (s.jailed) return errAsync(preflight(`${jp.path}: a jail two levels below needs the host (its release, dataset and Node.js)`, `run nest create ${jp.path} on the host`))
      const text = printPolicy(policy)
      if (text.isErr()) return errAsync(text.error)
      nesting.value.notes.forEach((n) => ctx.note(n))
      ctx.note(policyLine(jp.path, policy))
      const steps = planBelow(s, p, jp, child, policy, text.value, release, o, parentHas)
      if (o.dryRun) return okAsync<CreateResult | PlanResult, NestError>(planResult(jp.path, steps))
      return executePlan(engine(ctx, s.host), jp.path, steps).andThen(() => createdResult(s.host, s.w.layout, jp))
    })
  })
  if (o.dryRun) return work()
  // The parent's lock too: siblings created at once would race to give it the release.
  const locked = (): ResultAsync<CreateResult | PlanResult, NestError> => withJailLock(hostFor(ctx), parentJail ?? '', () => withJailLock(hostFor(ctx), jp.jail, work))
  if (!o.startParent) return locked()
  // What can be checked without the parent is checked before it is started.
  return policyFor(hostFor(ctx), o).andThen(() => startAncestors(ctx, parentJail ?? '', child)).andThen((started) => locked()
    .map((r) => (r.dryRun ? r : {...r, startedParents: started.map(pathOfJail)}))
    .orElse((e) => {
      // Changes nothing: the parents started for this create are stopped again.
      const top = started[0]
      if (top === undefined) return errAsync(e)
      ctx.note(`${pathOfJail(top)}: stopped again, as it was before (the create failed)`)
      return stopJail(ctx, [pathOfJail(top)], {all: false, children: true, parallel: DEFAULT_PARALLEL, dryRun: false})
        .orElse((stopErr) => {
          ctx.warn(`${pathOfJail(top)}: could not be stopped again: ${stopErr.message}`)
          return okAsync(undefined)
        })
        .andThen(() => errAsync(e))
    }))
}

/** A jail and its ancestors that nest knows, topmost first. */
function ancestry(nodes: readonly TreeNode[], jail: string): TreeNode[] {
  const chain: TreeNode[] = []
  for (let j: string | null = jail; j !== null; j = splitJail(j).parent) {
    const n = findNode(nodes, j)
    if (n) chain.unshift(n)
  }
  return chain
}

/**
 * --start-parent: the parent and its stopped ancestors, top down, each alone (its other
 * children stay as they are). The jails it started, topmost first (none when all run).
 */
function startAncestors(ctx: CommandCtx, parent: string, child: string): ResultAsync<string[], NestError> {
  return scene(ctx).andThen((s) => {
    const chain = ancestry(s.nodes, parent)
    if (chain.length !== parent.split('.').length) return okAsync([]) // create says what is missing
    const stopped = chain.filter((n) => !n.running)
    return stopped.reduce<ResultAsync<string[], NestError>>((acc, n) => acc.andThen((done) => {
      ctx.note(`${n.path}: not running: starting it so that it can create ${child} (--start-parent)`)
      return startJail(ctx, [n.path], {all: false, children: false, parallel: DEFAULT_PARALLEL, dryRun: false}).map(() => [...done, n.jail])
        .orElse((e) => (done[0] === undefined ? errAsync(e)
          : stopJail(ctx, [pathOfJail(done[0])], {all: false, children: true, parallel: DEFAULT_PARALLEL, dryRun: false}).orElse(() => okAsync(undefined)).andThen(() => errAsync(e))))
    }), okAsync([]))
  })
}

const destroyDs = (ds: string): Action => ({kind: 'run', argv: ['zfs', 'destroy', '-r', ds]})

/** Where a parent with no delegated dataset keeps the release its nest copies roots from. */
const dirReleasePath = (p: TreeNode, release: string): string => `${p.root}${DIR_LAYOUT.mountpoint}/releases/${release}`

/** What a parent with no delegated dataset has already: its /nest, the release (a parent with one: zfs tells). */
interface DirParent {
  nest: boolean
  release: boolean
}

function dirParent(s: Scene, p: TreeNode, o: CreateOptions): ResultAsync<DirParent, NestError> {
  const release = o.release ?? releasesOf(s.w).at(-1)
  if (p.delegated || release === undefined) return okAsync({nest: true, release: true})
  const top = `${p.root}${DIR_LAYOUT.mountpoint}`
  // The host writes into the parent's root: never through what the parent's root user made a link, or a file.
  const wanted = [top, `${top}/releases`, dirReleasePath(p, release)]
  return ResultAsync.combine(wanted.map((w) => s.host.files.kind(w))).andThen((kinds) => {
    const bad = kinds.findIndex((k) => k === 'link' || k === 'other')
    const at = wanted[bad] ?? top
    if (bad >= 0) return errAsync(preflight(`${p.path}: ${at} is ${kinds[bad] === 'link' ? 'a symbolic link' : 'not a directory'}: nest does not write into a jail's root through it`, `remove ${at.slice(p.root.length)} inside ${p.path}, then run the create again`))
    return okAsync({nest: kinds[0] === 'dir', release: kinds[2] === 'dir'})
  })
}

function planBelow(s: Scene, p: TreeNode, jp: JailPath, child: string, policy: Policy, policyText: string, release: string, o: CreateOptions, parentHas: DirParent): Step[] {
  const l = s.w.layout
  const has = (ds: string): boolean => s.w.datasets.some((d) => d.name === ds)
  const steps: Step[] = []
  const deleg = delegatedDataset(l, jp.jail)
  if (policy.delegate) {
    const container = delegatedContainer(l, jp.jail)
    if (!has(container)) steps.push({id: 'zfs create', why: 'where the datasets delegated to jails below the top level live', action: {kind: 'run', argv: ['zfs', 'create', '-o', 'canmount=off', container]}, undo: [destroyDs(container)]})
    steps.push({
      id: 'zfs create data', why: `the dataset delegated to ${jp.path} (jailed=on; only the host can attach it: zfs jail)`,
      action: {kind: 'run', argv: ['zfs', 'create', '-o', 'jailed=on', '-o', `mountpoint=${DATA_MOUNTPOINT}`, '-o', `nest:name=${jp.jail}`, deleg]}, undo: [destroyDs(deleg)],
    })
  }
  const rel = `${p.delegated}/releases/${release}`
  if (!p.delegated && !parentHas.release) {
    const to = dirReleasePath(p, release)
    const top = `${p.root}${DIR_LAYOUT.mountpoint}`
    steps.push(
      // A rollback of the first child takes the directory away again (the inner nest has removed its child by then).
      {id: 'mkdir', why: `where ${p.path}'s nest keeps releases and children (it has no delegated dataset)`, action: {kind: 'mkdir', path: `${top}/releases`}, undo: parentHas.nest ? [] : [{kind: 'remove-tree', path: top}]},
      {id: 'copy release', why: `${release} where ${p.path}'s nest copies its children's roots from (no dataset to clone into)`, action: {kind: 'copy', from: releasePath(l, release), to}, undo: [{kind: 'remove-tree', path: to}], onFailure: [{kind: 'remove-tree', path: to}]},
    )
  } else if (p.delegated && !has(`${rel}@base`)) {
    if (!has(`${p.delegated}/releases`)) steps.push({id: 'zfs create releases', why: `releases inside ${p.path}'s dataset`, action: {kind: 'run', argv: ['zfs', 'create', `${p.delegated}/releases`]}, undo: [destroyDs(`${p.delegated}/releases`)]})
    if (!has(rel)) steps.push({id: 'zfs clone release', why: `${release} where ${p.path} can clone it (its dataset cannot see the host's)`, action: {kind: 'run', argv: ['zfs', 'clone', releaseSnapshot(l, release), rel]}, undo: [destroyDs(rel)]})
    steps.push({id: 'zfs snapshot release', why: `the snapshot ${p.path}'s nest clones roots from`, action: {kind: 'run', argv: ['zfs', 'snapshot', `${rel}@base`]}, undo: [{kind: 'run', argv: ['zfs', 'destroy', `${rel}@base`]}]})
  }
  const argv = ['create', child, '--policy', policy.name, '--policy-text', policyText, '--release', release,
    ...(o.ip4.length > 0 ? ['--ip4', o.ip4.join(',')] : []), ...(o.ip6.length > 0 ? ['--ip6', o.ip6.join(',')] : []),
    ...(o.vnet ? ['--vnet'] : []), ...(o.thick ? ['--thick'] : []), ...(o.start ? [] : ['--no-start'])]
  steps.push({
    id: 'nest create', why: `${p.path}'s nest creates ${child} with ${p.path}'s own jail(8), in its own /etc/jail.conf.d`,
    action: {kind: 'nest', in: p.jail, argv, as: jp.path}, undo: [{kind: 'nest', in: p.jail, argv: ['destroy', child, '--force'], as: jp.path}],
  })
  if (isParentPolicy(policy)) steps.push(nodeStep(childRoot(p, child)))
  if (policy.delegate && o.start) steps.push(...attachSteps(jp.jail, deleg))
  return steps
}

/** zfs jail is host-only: attach a deeper parent's dataset once it runs, then it mounts it itself. */
function attachSteps(jail: string, ds: string): Step[] {
  return [
    {id: 'zfs jail', why: `attach ${ds} to ${pathOfJail(jail)} (only the host can)`, action: {kind: 'run', argv: ['zfs', 'jail', jail, ds]}, undo: [{kind: 'run', argv: ['zfs', 'unjail', jail, ds], allowFailure: true}]},
    {id: 'zfs mount', why: `${pathOfJail(jail)} mounts its dataset on ${DATA_MOUNTPOINT}`, action: {kind: 'run', argv: ['jexec', jail, 'zfs', 'mount', ds]}, undo: []},
  ]
}

// ---------------------------------------------------------------------------------------------
// start, stop, restart: the tree

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
  return errAsync({...partial(`${bad.length} of ${jails.length} jail(s) not ${verb}: ${failed.error.message}`, `see each jail's line; nest ${verb === 'started' ? 'start' : 'stop'} ${bad[0]?.name ?? ''} again once fixed`), details: {dryRun: false, jails}} as NestError)
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

// ---------------------------------------------------------------------------------------------
// cleanup, destroy

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
      c.remaining.length === 0 ? okAsync(c) : errAsync({...partial(`${n.path}: ${c.remaining.length} mount(s) stay below ${n.root} (${c.remaining[0]?.on}: ${c.remaining[0]?.reason})`, o.force ? 'find what holds them: fstat -f <path>' : `nest cleanup ${n.path} --force`), details: c} as NestError)))
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
