// nest create at any depth. A jail of this nest's own level is made here (on the host, or
// inside a parent as its child manager); a deeper one is checked here against the running
// parent, then made by the nest inside the parent, with what only the host can do (its
// release, its dataset, zfs jail, Node.js) done here. Any failure rolls back what was done.
import {err, errAsync, ok, okAsync, type Result, ResultAsync} from 'neverthrow'

import type {CommandCtx} from '../context/command.js'
import {aliasInterface, EPAIR_BASE, freeEpairUnit, type JailNet, type NetRequest, netOf, netRequestProblem, parseNet} from '../domain/net.js'
import {conflict, internal, invalidInput, type NestError, notFound, preflight} from '../domain/errors.js'
import {type JailPath, pathOfJail} from '../domain/names.js'
import {executePlan, type StepDone} from '../engine/execute.js'
import {withJailLock} from '../engine/lock.js'
import type {Host} from '../host/host.js'
import type {JailRecord} from '../host/parse.js'
import {isDying} from '../host/tools/jls.js'
import {readSysctls} from '../host/tools/sysctl.js'
import {loadPolicy} from '../policies/load.js'
import {checkNesting, type Level, selfLevel} from '../policies/nesting.js'
import {parsePolicy, type Policy, policyProblems, printPolicy} from '../policies/policy.js'
import {confFile, dataDataset, DIR_LAYOUT, DIR_META, isParentPolicy, jailDataset, jailRoot, type JailSpec, type Layout, LOOPBACK_CLONE, planCreate, planLoopbacks, renderJailConf, rootDataset} from '../plan/jail.js'
import type {Step} from '../plan/steps.js'
import {type DirParent, dirReleasePath, planNestedCreate} from '../plan/nested.js'
import type {CreateResult, PlanResult} from '../render/jails.js'
import {childRoot, delegatedDataset, findNode, guardOf, jailRow, kernelJail, splitJail, type TreeNode, treeOf} from '../model/tree.js'
import {hostFor, loadWorld, readConf, releasesOf, requireLayout, type World} from './world.js'
import {DEFAULT_PARALLEL, engine, fromResult, jailPath, planResult, type Scene, scene} from './scene.js'
import {startJail, stopJail} from './lifecycle.js'
import {destroyJail} from './jails.js'
import {checkHostDevfs} from './policy.js'
import {confHeader, isHalfMade} from '../model/layout.js'

/** The lock of this level's epair units (not a jail name: those have no dot). */
export const EPAIR_LOCK = '.epair-units'

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
  /** --vnet: the bridge the epair's a side joins (default bridge0), the b side's name inside (default vnet0), default routers, the b side's MAC. */
  bridge?: string
  ifname?: string
  routers: string[]
  mac?: string
  start: boolean
  /** Start the parent (and its stopped ancestors) first when it is stopped. */
  startParent: boolean
  dryRun: boolean
}

/** nest create's flags as oclif parses them: lists comma-separated, absent ones undefined. */
export interface CreateFlags {
  policy: string
  'policy-text'?: string | undefined
  'children-max'?: number | undefined
  release?: string | undefined
  thick: boolean
  ip4?: string | undefined
  ip6?: string | undefined
  vnet: boolean
  bridge?: string | undefined
  ifname?: string | undefined
  defaultrouter?: string | undefined
  mac?: string | undefined
  'no-start': boolean
  'start-parent': boolean
  'dry-run': boolean
}

const commaList = (s: string | undefined): string[] => (s ? s.split(',').map((x) => x.trim()).filter((x) => x !== '') : [])
const given = <K extends string, V>(key: K, v: V | undefined): Partial<Record<K, V>> => (v === undefined ? {} : {[key]: v} as Record<K, V>)

export function createOptionsOf(name: string, f: CreateFlags): CreateOptions {
  return {
    name, policy: f.policy, release: f.release, thick: f.thick, ip4: commaList(f.ip4), ip6: commaList(f.ip6), vnet: f.vnet, routers: commaList(f.defaultrouter),
    start: !f['no-start'], startParent: f['start-parent'], dryRun: f['dry-run'],
    ...given('policyText', f['policy-text']), ...given('childrenMax', f['children-max']), ...given('bridge', f.bridge), ...given('ifname', f.ifname), ...given('mac', f.mac),
  }
}

const netRequest = (o: CreateOptions): NetRequest => ({
  vnet: o.vnet, ip4: o.ip4, ip6: o.ip6, routers: o.routers,
  ...(o.bridge === undefined ? {} : {bridge: o.bridge}), ...(o.ifname === undefined ? {} : {ifname: o.ifname}), ...(o.mac === undefined ? {} : {mac: o.mac}),
})

function checkAddresses(o: CreateOptions): NestError | undefined {
  const net = netRequestProblem(netRequest(o))
  if (net) return invalidInput(net.what, net.fix)
  if (o.childrenMax !== undefined && (!Number.isInteger(o.childrenMax) || o.childrenMax < 0 || o.childrenMax > 999_998)) {
    return invalidInput(`--children-max ${o.childrenMax} is not a number from 0 to 999998`, 'give how many jails may live below this one, at every depth')
  }
  return undefined
}

/** The epair units the jails of this nest's own level have (a unit is per vnet). */
export function unitsTaken(w: World): number[] {
  return treeOf(w).filter((n) => n.parent === null).flatMap((n) => {
    const net = parseNet(n.row['nest:net'])
    return net.isOk() && net.value?.kind === 'vnet' ? [net.value.unit] : []
  })
}

/**
 * The jail's network, checked against this side's interfaces before anything changes: one
 * `ifconfig -l`, only when there is an interface to create, join or add an address to (and
 * `ifconfig -g bridge` when the bridge exists: is it one?). Only a side that owns its network
 * stack may create, move or address interfaces (sys/kern/kern_jail.c prison_priv_check:
 * PRIV_NET_IFCREATE, PRIV_NET_SETIFVNET, PRIV_NET_ADDIFADDR are granted to a jail only with
 * PR_VNET). `newBridge`: the bridge the first start will create.
 */
interface NetPlan {
  net: JailNet | null
  newBridge: string | null
  /** Loopback clones a parent's nest makes for this child's addresses (planLoopbacks). */
  newLoopbacks: string[]
}

function netFor(host: Host, w: World, jp: JailPath, r: NetRequest, ownsStack: boolean, jailed: boolean): ResultAsync<NetPlan, NestError> {
  const ifs = r.vnet ? [] : [...r.ip4, ...r.ip6].map(aliasInterface).filter((x): x is string => x !== null)
  if (!r.vnet && ifs.length === 0) return okAsync({net: netOf(r, 0), newBridge: null, newLoopbacks: []})
  if (!ownsStack) {
    return errAsync(preflight(
      r.vnet ? `${jp.path}: --vnet: this jail has no network stack of its own (vnet), so it cannot create an epair and move it into ${jp.levels.at(-1) ?? jp.path} (FreeBSD lets only a jail that owns its vnet create or move interfaces)`
        : `${jp.path}: --ip4/--ip6 ${ifs[0] ?? ''}|...: this jail has no network stack of its own (vnet), so it cannot add addresses to ${ifs[0] ?? 'an interface'}`,
      r.vnet ? 'create the parent with --vnet, or leave --vnet out' : 'give the address alone (one of the parent\'s)'))
  }
  return host.run(['ifconfig', '-l']).andThen((res) => {
    const names = res.stdout.trim().split(/\s+/).filter((x) => x !== '')
    if (!r.vnet) {
      const missing = [...new Set(ifs.filter((i) => !names.includes(i)))]
      // Inside a parent, its nest makes the loopback clones its children's addresses go on.
      // The example is no epair: a VNET jail's goes at its stop (exec.poststop), and an alias on it too.
      const bad = missing.find((i) => !jailed || !LOOPBACK_CLONE.test(i))
      if (bad !== undefined) {
        const clone = LOOPBACK_CLONE.test(bad) ? ` (a loopback clone: sysrc cloned_interfaces+=${bad} && service netif cloneup)` : ''
        return errAsync(preflight(`${jp.path}: no interface ${bad} here (ifconfig -l: ${names.join(' ')})`, `give the address on one of these interfaces, e.g. --ip4 ${names.find((x) => x !== 'lo0' && !/^epair[0-9]+[ab]$/.test(x)) ?? 'lo0'}|192.0.2.10/24, or create ${bad} first${clone}`))
      }
      // A VNET jail's epair of this level: destroyed at that jail's every stop (exec.poststop), the alias with it.
      const units = new Set(unitsTaken(w))
      const onEpair = ifs.find((i) => /^epair[0-9]+a$/.test(i) && units.has(Number(i.slice(5, -1))))
      if (onEpair !== undefined) return errAsync(preflight(`${jp.path}: ${onEpair} is the epair of a VNET jail of nest's: it is destroyed at each stop of that jail, and an address on it with it`, `give the address on the bridge that epair joins, or on another interface`))
      return okAsync({net: netOf(r, 0), newBridge: null, newLoopbacks: missing})
    }
    const unit = freeEpairUnit(unitsTaken(w), names)
    if (unit === null) return errAsync(preflight(`${jp.path}: no epair unit from ${EPAIR_BASE} up is free`, 'destroy jails or epairs that are not used'))
    const net = netOf(r, unit) as JailNet & {kind: 'vnet'}
    if (!names.includes(net.bridge)) {
      // `ifconfig NAME create` makes a bridge only of a bridgeN name (if_clone.c: no cloner matches another name).
      if (!/^bridge[0-9]+$/.test(net.bridge)) return errAsync(preflight(`${jp.path}: --bridge ${net.bridge}: no such interface here, and only a bridgeN is created when missing`, `create it first (ifconfig bridge create name ${net.bridge}), or use --bridge bridge0`))
      return okAsync({net, newBridge: net.bridge, newLoopbacks: []})
    }
    return host.run(['ifconfig', '-g', 'bridge']).andThen((g) => {
      if (!g.stdout.split('\n').includes(net.bridge)) return errAsync(preflight(`${jp.path}: --bridge ${net.bridge} is an interface here but not a bridge (ifconfig -g bridge)`, 'name a bridge (ifconfig -g bridge lists them), or a bridgeN that does not exist yet'))
      return okAsync({net, newBridge: null, newLoopbacks: []})
    })
  })
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
  const work = (undone = false): ResultAsync<CreateResult | PlanResult, NestError> =>
    ResultAsync.combine([policyFor(host, o), readSysctls(host, ['security.jail', 'kern.securelevel'])]).andThen(([loaded, sys]) => {
      const jailed = host.info.jailed ?? sys.get('security.jail.jailed') === '1'
      return checkHostDevfs(host, jp.path, loaded, jailed).andThen(() => requireLayout(host, ctx.warn, jailed)).andThen((layout) => ResultAsync.combine([
        loadWorld(host, layout, {warn: ctx.warn}), readConf(host, jp.jail), layout.dir ? host.files.isDir(jailDataset(layout, jp.jail)) : okAsync<boolean, NestError>(false),
      ]).andThen(([w, conf, dirExists]) => {
        const checked = checkedPolicy(jp, loaded, sys)
        if (checked.isErr()) return errAsync(checked.error)
        let policy = checked.value
        if (jailed) {
          if (o.policyText === undefined && (policy.delegate || isParentPolicy(policy))) {
            return errAsync(preflight(`${jp.path}: policy ${policy.name} makes a parent, and only the host can attach its dataset and install Node.js in it`, `run nest create PARENT/${jp.path} on the host, or use --policy leaf`))
          }
          const me = selfLevel(sys, 'this jail')
          const nesting = checkNesting({path: jp.path, parent: me, ancestors: [me], policy, ...(o.childrenMax === undefined ? {} : {childrenMax: o.childrenMax}), ip4: o.ip4, ip6: o.ip6, vnet: o.vnet, inDirectory: layout.dir === true})
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
        const own = jailDataset(layout, jp.jail)
        // Left by a create that did not finish (a crash): nest's own dataset still marked
        // creating, or nest's jail.conf with nothing else of the jail. Undone, then made again.
        const strayConf = conf !== null && conf.startsWith(confHeader(jp.jail)) && !w.datasets.some((d) => d.name === own) && !dirExists && !(k !== undefined && !isDying(k))
        if (!undone && (isHalfMade(jailRow(w, jp.jail)) || strayConf)) return redo(ctx, jp, o, () => work(true))
        const release = checkCreate(w, jp.jail, o, conf, k !== undefined && !isDying(k), dirExists && !jailRow(w, jp.jail))
        if (release.isErr()) return errAsync(release.error)
        const ownsStack = !jailed || sys.get('security.jail.vnet') === '1'
        return netFor(host, w, jp, netRequest(o), ownsStack, jailed).andThen(({net, newBridge, newLoopbacks}) => (newLoopbacks.length === 0 ? okAsync<Step[], NestError>([])
          : host.files.read('/etc/rc.conf').andThen((rc) => {
            const ls = planLoopbacks(newLoopbacks, rc)
            return ls.isOk() ? okAsync<Step[], NestError>(ls.value) : errAsync(preflight(`${jp.path}: ${ls.error}`, `add ${newLoopbacks.join(' ')} to cloned_interfaces yourself, then create ${jp.path} again`))
          })).map((loopbacks) => ({net, newBridge, newLoopbacks, loopbacks}))).andThen(({net, newBridge, newLoopbacks, loopbacks}) => {
          const spec: JailSpec = {jail: jp.jail, release: release.value, policy, net, thick: o.thick, nestBin: host.info.nestBin, hostSide: !jailed, nestInstall}
          const text = renderJailConf(layout, spec)
          if (text.isErr()) return errAsync(text.error)
          if (o.policyText === undefined) ctx.note(policyLine(jp.path, policy))
          // dhclient opens /dev/bpf; rulesets 4 (devfsrules_jail) and 5 (devfsrules_jail_vnet) hide it (/etc/defaults/devfs.rules; jib's comment).
          const rs = String(policy.params['devfs_ruleset'] ?? '0')
          if (net?.kind === 'vnet' && net.ip4.includes('dhcp') && (rs === '4' || rs === '5')) ctx.warn(`${jp.path}: --ip4 dhcp: dhclient needs /dev/bpf, which devfs_ruleset ${rs} hides; give the jail a ruleset that unhides bpf* (add path 'bpf*' unhide), or a static address`)
          if (newBridge !== null) ctx.note(`${jp.path}: ${newBridge} does not exist: the jail's start creates it (exec.prestart), and it stays for other jails`)
          for (const lo of newLoopbacks) ctx.note(`${jp.path}: ${lo} does not exist here: made now (a loopback clone for the addresses of this jail's children), and at each boot (cloned_interfaces in /etc/rc.conf)`)
          const steps = [...loopbacks, ...planCreate(layout, spec, text.value, o.start, {jailsDataset: layout.dir === true || w.datasets.some((d) => d.name === `${layout.top}/jails`), newBridge, now: Math.floor(Date.now() / 1000)})]
          if (o.dryRun) return okAsync<CreateResult | PlanResult, NestError>(planResult(jp.path, steps))
          return executePlan(engine(ctx, host), jp.path, steps).map((done) => createdHere(layout, jp, spec, done))
        })
      }))
    })
  if (o.dryRun) return work()
  // A VNET jail's epair unit is chosen from what this level has, and is taken once its dataset
  // exists: two VNET creates at once (different jails, different locks) would choose the same.
  // The epair units of this level have a lock of their own, taken inside the jail's (always in
  // this order: no other command takes it).
  return withJailLock(host, jp.jail, () => (o.vnet ? withJailLock(host, EPAIR_LOCK, () => work(), ctx.note, 'the epair units of this host or jail') : work()), ctx.note)
}

/**
 * A jail half made by a create that did not finish: undone as a forced recursive destroy
 * undoes it (a running jail stopped first, what is inside a parent by its nest, the host's
 * datasets last), then made again from the start. The lock of its tree is held already.
 */
function redo(ctx: CommandCtx, jp: JailPath, o: CreateOptions, again: () => ResultAsync<CreateResult | PlanResult, NestError>): ResultAsync<CreateResult | PlanResult, NestError> {
  if (o.dryRun) return errAsync(conflict(`${jp.path}: half made by a create that did not finish`, `nest create ${jp.path} undoes it and starts over (nest destroy ${jp.path} --recursive --force removes it)`))
  ctx.note(`${jp.path}: half made by a create that did not finish (nest:state=creating): undoing it, then creating it again`)
  // Not --recursive: a jail someone made below it since is not this create's to remove (destroy refuses, and says so).
  return destroyJail(ctx, jp.path, {force: true, recursive: false, dryRun: false, parallel: DEFAULT_PARALLEL}).andThen(() => again())
}

/** What create answers, from what it did (no second read of the world): the jid from `jail -i -c`. */
function createdHere(layout: Layout, jp: JailPath, spec: JailSpec, done: readonly StepDone[]): CreateResult {
  // jail -i prints the jid once the jail is made; exec.prestart before it and /etc/rc after it
  // may print too (usr.sbin/jail/jail.c: IP__OP then exec.created, exec.start).
  const jid = Number((done.find((d) => d.id === 'jail -c')?.stdout ?? '').split('\n').find((l) => /^[0-9]+$/.test(l.trim())) ?? Number.NaN)
  const running = Number.isInteger(jid) && jid > 0
  return {
    dryRun: false,
    jail: {
      name: jp.path, jail: jp.jail, jid: running ? jid : null, state: running ? 'running' : 'stopped', parent: null, policy: spec.policy.name, release: spec.release,
      path: jailRoot(layout, jp.jail), children: {cur: 0, max: Number(spec.policy.params['children.max'] ?? 0) || 0},
    },
    datasets: layout.dir ? [] : [jailDataset(layout, jp.jail), rootDataset(layout, jp.jail), ...(spec.policy.delegate && spec.hostSide ? [dataDataset(layout, jp.jail)] : [])],
    conf: confFile(jp.jail),
  }
}

/** A nested create's answer: the inner nest's, named as the host names it. */
function createdBelow(p: TreeNode, jp: JailPath, child: string, deleg: string | null, done: readonly StepDone[]): ResultAsync<CreateResult, NestError> {
  const doc = done.find((d) => d.id === 'nest create')?.doc as {result?: Partial<CreateResult>} | undefined
  const inner = doc?.result
  if (!inner?.jail) return errAsync(internal(`${jp.path}: the nest in ${p.path} did not say what it created`))
  return okAsync({
    dryRun: false,
    jail: {...inner.jail, name: jp.path, jail: jp.jail, parent: p.path, path: childRoot(p, child)},
    datasets: [...(inner.datasets ?? []), ...(deleg ? [deleg] : [])],
    conf: `${p.root}${confFile(child)}`,
  })
}

/** A jail below a parent: checked here against the parent's kernel state, made by the parent's nest. */
function createBelow(ctx: CommandCtx, jp: JailPath, o: CreateOptions): ResultAsync<CreateResult | PlanResult, NestError> {
  const {parent: parentJail, name: child} = splitJail(jp.jail)
  const parentPath = pathOfJail(parentJail ?? '')
  const work = (undone = false): ResultAsync<CreateResult | PlanResult, NestError> => ResultAsync.combine([scene(ctx), readSysctls(hostFor(ctx), ['security.jail.param.allow'])]).andThen(([s, sys]) => {
    const p = findNode(s.nodes, parentJail ?? '')
    if (!p) return errAsync(notFound(`${parentPath}: no such jail`, `create it first: nest create ${parentPath}`))
    if (isHalfMade(p.row)) return errAsync(conflict(`${parentPath}: half made by a create that did not finish, so it cannot create ${child}`, `nest create ${parentPath} (it undoes and makes it again), then nest create ${jp.path}`))
    const n = findNode(s.nodes, jp.jail)
    // Left by a create or destroy that did not finish: the child still marked creating (by its
    // parent's nest, or on the dataset the host delegates to it), or that dataset with no child.
    const deleg = s.w.datasets.find((d) => d.name === delegatedDataset(s.w.layout, jp.jail) && d['nest:name'] === jp.jail)
    const half = n ? isHalfMade(n.row) || isHalfMade(deleg) : deleg !== undefined
    if (half && !undone && p.running) return redo(ctx, jp, o, () => work(true))
    if (n) return errAsync(conflict(`${jp.path}: already exists`, `nest destroy ${jp.path} first, or choose another name`))
    if (!p.running || !p.kernel) {
      const stopped = ancestry(s.nodes, p.jail).filter((n) => !n.running).map((n) => n.path)
      const also = stopped.length > 1 ? ` (nor is ${stopped.slice(0, -1).join(', ')})` : ''
      return errAsync(conflict(`${parentPath}: not running${also}, so it cannot create ${child}`, o.dryRun && o.startParent ? `nest start ${stopped[0] ?? parentPath} first: the plan is checked against the running parent` : `add --start-parent, or nest start ${stopped[0] ?? parentPath}`))
    }
    return ResultAsync.combine([policyFor(s.host, o), dirParent(s, p, o)]).andThen(([loaded, parentHas]) => {
      const checked = checkedPolicy(jp, loaded, sys)
      if (checked.isErr()) return errAsync(checked.error)
      const params = (p.kernel as JailRecord).params
      const placed = onParentInterface(jp, p, params, o)
      placed.notes.forEach((n) => ctx.note(n))
      const op = placed.o
      const nesting = checkNesting({
        path: jp.path, parent: {path: parentPath, jail: p.jail, params}, ancestors: levelsAbove(s.nodes, p.jail),
        policy: checked.value, ...(op.childrenMax === undefined ? {} : {childrenMax: op.childrenMax}), ip4: op.ip4, ip6: op.ip6, vnet: op.vnet, inDirectory: p.delegated === null,
      })
      if (nesting.isErr()) return errAsync(nesting.error)
      const policy = nesting.value.policy
      const releases = releasesOf(s.w)
      const release = op.release ?? releases.at(-1)
      if (release === undefined || !releases.includes(release)) return errAsync(notFound(`release ${release ?? '(none)'} is not bootstrapped`, `run nest bootstrap ${release ?? '14.3-RELEASE'} first`))
      if (s.jailed) return errAsync(preflight(`${jp.path}: a jail two levels below needs the host (its release, dataset and Node.js)`, `run nest create ${jp.path} on the host`))
      const text = printPolicy(policy)
      if (text.isErr()) return errAsync(text.error)
      nesting.value.notes.forEach((n) => ctx.note(n))
      ctx.note(policyLine(jp.path, policy))
      const steps = planNestedCreate(s.w, p, jp, child, policy, text.value, release, op, parentHas, guardOf(s.nodes, p))
      if (op.dryRun) return okAsync<CreateResult | PlanResult, NestError>(planResult(jp.path, steps))
      return executePlan(engine(ctx, s.host), jp.path, steps).andThen((done) => createdBelow(p, jp, child, policy.delegate ? delegatedDataset(s.w.layout, jp.jail) : null, done))
    })
  })
  if (o.dryRun) return work()
  // The lock of the whole tree (its top): siblings created at once would race to give the parent its release, and a stop of the tree must wait.
  const locked = (run: () => ResultAsync<CreateResult | PlanResult, NestError>): ResultAsync<CreateResult | PlanResult, NestError> => withJailLock(hostFor(ctx), jp.levels[0] as string, run, ctx.note)
  if (!o.startParent) return locked(() => work())
  // All of it under the one lock: which parents are stopped is read under it, and one that
  // this create started is stopped again before anything else may start or use it.
  // What can be checked without the parent is checked before it is started.
  return locked(() => policyFor(hostFor(ctx), o).andThen(() => startAncestors(ctx, parentJail ?? '', child)).andThen((started) => work()
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
    })))
}

/**
 * A non-VNET child of a parent with a stack of its own: an address given alone goes on the
 * interface nest gave the parent (its rc.conf's name for the epair, e.g. vnet0), as an alias the
 * parent's jail(8) adds at each start and removes at each stop (`ip4.addr = "vnet0|A"`:
 * usr.sbin/jail/command.c run_command). Without it the address would only restrict the child,
 * and nothing would answer on it (jail(8) adds no alias for an address without an interface).
 */
function onParentInterface(jp: JailPath, p: TreeNode, params: JailRecord['params'], o: CreateOptions): {o: CreateOptions; notes: string[]} {
  const net = parseNet(p.row['nest:net'])
  const vnetParent = params['vnet'] === 'new' || params['vnet'] === 1
  if (o.vnet || !vnetParent || (o.ip4.length === 0 && o.ip6.length === 0)) return {o, notes: []}
  const ifname = net.isOk() && net.value?.kind === 'vnet' ? net.value.ifname : null
  const plain = [...o.ip4, ...o.ip6].filter((a) => !a.includes('|'))
  if (plain.length === 0) return {o, notes: []}
  if (ifname === null) return {o, notes: [`${jp.path}: ${plain.join(', ')}: ${p.path} has a network stack that nest did not configure, so no interface is given: the address only restricts ${jp.path} (give IF|ADDR to add it to an interface of ${p.path})`]}
  const on = (a: string): string => (a.includes('|') ? a : `${ifname}|${a}`)
  return {
    o: {...o, ip4: o.ip4.map(on), ip6: o.ip6.map(on)},
    notes: [`${jp.path}: ${plain.join(', ')} on ${p.path}'s ${ifname} (an alias ${p.path}'s jail(8) adds at each start of ${jp.path}: ip4.addr = ${ifname}|ADDR)`],
  }
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

/** The levels whose children.max a new jail below `parent` counts against (running ones), nearest first. */
const levelsAbove = (nodes: readonly TreeNode[], parent: string): Level[] =>
  ancestry(nodes, parent).reverse().flatMap((n) => (n.kernel ? [{path: n.path, jail: n.jail, params: n.kernel.params}] : []))

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


function dirParent(s: Scene, p: TreeNode, o: CreateOptions): ResultAsync<DirParent, NestError> {
  const release = o.release ?? releasesOf(s.w).at(-1)
  if (p.delegated || release === undefined) return okAsync({nest: true, release: true})
  const top = `${p.root}${DIR_LAYOUT.mountpoint}`
  // The host writes into the parent's root: never through what the parent's root user made a
  // link, or a file (jail(8) checks its mount points below a jail's path the same way: command.c, check_path).
  const wanted = [top, `${top}/releases`, dirReleasePath(p, release)]
  return ResultAsync.combine(wanted.map((w) => s.host.files.kind(w, guardOf(s.nodes, p)))).andThen((kinds) => {
    const bad = kinds.findIndex((k) => k === 'link' || k === 'other')
    const at = wanted[bad] ?? top
    if (bad >= 0) return errAsync(preflight(`${p.path}: ${at} is ${kinds[bad] === 'link' ? 'a symbolic link' : 'not a directory'}: nest does not write into a jail's root through it`, `remove ${at.slice(p.root.length)} inside ${p.path}, then run the create again`))
    return okAsync({nest: kinds[0] === 'dir', release: kinds[2] === 'dir'})
  })
}
