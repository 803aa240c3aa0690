// The jail use cases: create, start, stop, restart, destroy, cleanup, list, exec, console.
// Each checks everything it can before the first change, plans, then executes the plan under
// the jail's lock (rolling back on failure).
import {err, errAsync, ok, okAsync, type Result, ResultAsync} from 'neverthrow'

import type {CommandCtx} from '../cli/base.js'
import {conflict, invalidInput, type NestError, notFound, partial, preflight} from '../domain/errors.js'
import {type JailPath, parseJailPath} from '../domain/names.js'
import {cleanupBelow, type CleanupResult, mountForest, unmountOrder} from '../engine/cleanup.js'
import {executePlan, type EngineCtx} from '../engine/execute.js'
import {withJailLock} from '../engine/lock.js'
import type {Host} from '../host/host.js'
import {isDying} from '../host/tools/jls.js'
import {listMounts} from '../host/tools/mount.js'
import {readSysctls} from '../host/tools/sysctl.js'
import {loadPolicy} from '../policies/load.js'
import {policyProblems} from '../policies/policy.js'
import {confFile, jailDataset, jailRoot, planCleanup, planCreate, planDestroy, planStart, planStop, renderJailConf} from '../plan/jail.js'
import {describeAction, type Step} from '../plan/steps.js'
import type {CreateResult, DestroyResult, ExecResultDoc, LifecycleResult, ListResult, PlanResult} from '../render/jails.js'
import {entryOf, hostFor, jailRow, kernelJail, loadWorld, managedJails, readConf, releasesOf, requireLayout, findLayout, type World} from './world.js'

export const DEFAULT_PARALLEL = 4

function topLevel(input: string): ResultAsync<JailPath, NestError> {
  const r = parseJailPath(input)
  if (r.isErr()) return errAsync(r.error)
  if (r.value.levels.length > 1) {
    return errAsync(conflict(`${r.value.path}: jails inside jails are not managed by this nest yet`, `create ${r.value.levels[0]} here, and ${r.value.levels.slice(1).join('/')} inside it`))
  }
  return okAsync(r.value)
}

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

const IP4 = /^(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}$/
const IP6 = /^[0-9A-Fa-f:]+(\/[0-9]+)?$/

export interface CreateOptions {
  name: string
  policy: string
  release?: string
  thick: boolean
  ip4: string[]
  ip6: string[]
  vnet: boolean
  start: boolean
  dryRun: boolean
}

function checkAddresses(o: CreateOptions): NestError | undefined {
  const bad4 = o.ip4.find((a) => !IP4.test(a))
  if (bad4 !== undefined) return invalidInput(`--ip4 ${JSON.stringify(bad4)} is not an IPv4 address`, 'give addresses such as 192.0.2.10, separated by commas')
  const bad6 = o.ip6.find((a) => !IP6.test(a) || !a.includes(':'))
  if (bad6 !== undefined) return invalidInput(`--ip6 ${JSON.stringify(bad6)} is not an IPv6 address`, 'give addresses such as 2001:db8::10')
  if (o.vnet && (o.ip4.length > 0 || o.ip6.length > 0)) return invalidInput('--vnet and --ip4/--ip6 exclude each other', 'a vnet jail configures its own addresses inside')
  return undefined
}

/** Refuse, before any change, what FreeBSD or the host would refuse half way. */
function checkCreate(w: World, name: string, o: CreateOptions, conf: string | null, running: boolean): ResultAsync<string, NestError> {
  if (jailRow(w, name)) return errAsync(conflict(`${name}: already exists`, `nest destroy ${name} first, or choose another name`))
  if (w.datasets.some((d) => d.name === jailDataset(w.layout, name))) {
    return errAsync(conflict(`${name}: dataset ${jailDataset(w.layout, name)} exists and is not nest's`, 'choose another name'))
  }
  if (running) return errAsync(conflict(`${name}: a jail of that name is running`, 'choose another name'))
  if (conf !== null) return errAsync(conflict(`${name}: ${confFile(name)} exists`, `move it away or choose another name`))
  const releases = releasesOf(w)
  const release = o.release ?? releases.at(-1)
  if (release === undefined) return errAsync(notFound('no release is bootstrapped', 'run nest bootstrap 14.3-RELEASE first'))
  if (!releases.includes(release)) return errAsync(notFound(`release ${release} is not bootstrapped`, `run nest bootstrap ${release} first`))
  return okAsync(release)
}

export function createJail(ctx: CommandCtx, o: CreateOptions): ResultAsync<CreateResult | PlanResult, NestError> {
  const host = hostFor(ctx)
  const addr = checkAddresses(o)
  if (addr) return errAsync(addr)
  return topLevel(o.name).andThen((jp) => {
    const work = (): ResultAsync<CreateResult | PlanResult, NestError> =>
      ResultAsync.combine([requireLayout(host, ctx.warn), loadPolicy(host, o.policy)]).andThen(([layout, policy]) =>
        ResultAsync.combine([loadWorld(host, layout), readConf(host, jp.jail), readSysctls(host, ['security.jail.param.allow'])]).andThen(([w, conf, sysctls]) => {
          const hostAllow = new Set([...sysctls.keys()].filter((k) => k.startsWith('security.jail.param.')).map((k) => k.slice('security.jail.param.'.length)))
          const problems = policyProblems(policy, hostAllow)
          if (problems.length > 0) return errAsync(preflight(`${jp.path}: policy ${policy.name}: ${problems[0]}`, problems.length > 1 ? `${problems.length - 1} more: ${problems.slice(1).join('; ')}` : `fix ${policy.file}`))
          const k = kernelJail(w, jp.jail)
          return checkCreate(w, jp.jail, o, conf, k !== undefined && !isDying(k)).andThen((release) => {
            const spec = {jail: jp.jail, release, policy, ip4: o.ip4, ip6: o.ip6, vnet: o.vnet, thick: o.thick, nestBin: host.info.nestBin}
            return ResultAsync.combine([okAsync(layout), okAsync(spec), (() => {
              const text = renderJailConf(layout, spec)
              return text.isOk() ? okAsync(text.value) : errAsync(text.error)
            })()])
          })
        }).andThen(([layout, spec, text]) => {
          ctx.note(`${jp.path}: policy ${spec.policy.name}: ${Object.entries(spec.policy.params).map(([k, v]) => (v === true ? k : v === false ? `${k}=false` : `${k}=${v}`)).join(' ')}${spec.policy.delegate ? ' (delegated dataset)' : ''}`)
          const steps = planCreate(layout, spec, text, o.start)
          if (o.dryRun) return okAsync(planResult(jp.path, steps))
          return executePlan(engine(ctx, host), jp.path, steps).andThen(() =>
            loadWorld(host, layout).map((w2): CreateResult => ({
              dryRun: false,
              jail: entryOf(w2, jp.jail, text),
              datasets: w2.datasets.filter((d) => d.type === 'filesystem' && (d.name === jailDataset(layout, jp.jail) || d.name.startsWith(`${jailDataset(layout, jp.jail)}/`))).map((d) => d.name),
              conf: confFile(jp.jail),
            })))
        }))
    return o.dryRun ? work() : withJailLock(host, jp.jail, work)
  })
}

interface Known {
  host: Host
  jp: JailPath
  w: World
  conf: string
}

/** A jail nest manages: its dataset and its configuration file exist. */
function known(ctx: CommandCtx, name: string): ResultAsync<Known, NestError> {
  const host = hostFor(ctx)
  return topLevel(name).andThen((jp) =>
    requireLayout(host, ctx.warn).andThen((layout) => ResultAsync.combine([loadWorld(host, layout), readConf(host, jp.jail)])).andThen(([w, conf]) => {
      if (!jailRow(w, jp.jail)) return errAsync(notFound(`${jp.path}: no such jail`, 'see nest list'))
      if (conf === null) return errAsync(notFound(`${jp.path}: ${confFile(jp.jail)} is missing`, `nest destroy ${jp.path} and create it again`))
      return okAsync({host, jp, w, conf})
    }))
}

const isRunning = (k: Known): boolean => {
  const j = kernelJail(k.w, k.jp.jail)
  return j !== undefined && !isDying(j)
}

function lifecycleResult(k: Known, cleanup: CleanupResult | null): ResultAsync<LifecycleResult, NestError> {
  return loadWorld(k.host, k.w.layout).map((w2) => ({dryRun: false, jail: entryOf(w2, k.jp.jail, k.conf), cleanup}))
}

const cleanupOf = (done: Array<{cleanup?: CleanupResult}>): CleanupResult | null => done.find((d) => d.cleanup)?.cleanup ?? null

/**
 * A lifecycle command: the plan from the state read under the jail's lock (a dry run reads it
 * without the lock), so what runs is what was checked.
 */
function lifecycle(ctx: CommandCtx, name: string, dryRun: boolean, plan: (k: Known) => Result<Step[], NestError>): ResultAsync<LifecycleResult | PlanResult, NestError> {
  return topLevel(name).andThen((jp) => {
    const work = (): ResultAsync<LifecycleResult | PlanResult, NestError> => known(ctx, name).andThen((k) => {
      const steps = plan(k)
      if (steps.isErr()) return errAsync(steps.error)
      if (dryRun) return okAsync(planResult(k.jp.path, steps.value))
      return executePlan(engine(ctx, k.host), k.jp.path, steps.value).andThen((done) => lifecycleResult(k, cleanupOf(done)))
    })
    return dryRun ? work() : withJailLock(hostFor(ctx), jp.jail, work)
  })
}

export function startJail(ctx: CommandCtx, name: string, dryRun: boolean): ResultAsync<LifecycleResult | PlanResult, NestError> {
  return lifecycle(ctx, name, dryRun, (k) => isRunning(k)
    ? err(conflict(`${k.jp.path}: already running`, `nest restart ${k.jp.path} to start it again`))
    : ok([planCleanup(k.w.layout, k.jp.jail), ...planStart(k.w.layout, k.jp.jail)]))
}

export function stopJail(ctx: CommandCtx, name: string, dryRun: boolean): ResultAsync<LifecycleResult | PlanResult, NestError> {
  return lifecycle(ctx, name, dryRun, (k) => {
    if (isRunning(k)) return ok(planStop(k.w.layout, k.jp.jail))
    // Stopping a stopped jail still removes its leftovers: a re-run converges.
    ctx.warn(`${k.jp.path}: not running`)
    return ok([planCleanup(k.w.layout, k.jp.jail)])
  })
}

export function restartJail(ctx: CommandCtx, name: string, dryRun: boolean): ResultAsync<LifecycleResult | PlanResult, NestError> {
  return lifecycle(ctx, name, dryRun, (k) =>
    ok([...(isRunning(k) ? planStop(k.w.layout, k.jp.jail) : [planCleanup(k.w.layout, k.jp.jail)]), ...planStart(k.w.layout, k.jp.jail)]))
}

export interface CleanupOptions {
  force: boolean
  dryRun: boolean
  parallel: number
}

export function cleanupJail(ctx: CommandCtx, name: string, o: CleanupOptions): ResultAsync<CleanupResult | PlanResult, NestError> {
  return known(ctx, name).andThen((k) => {
    if (isRunning(k)) return errAsync(conflict(`${k.jp.path}: running: what is mounted below its root is in use`, `nest stop ${k.jp.path} (it cleans up too)`))
    const root = jailRoot(k.w.layout, k.jp.jail)
    if (o.dryRun) {
      return listMounts(k.host).map((mounts) => planResult(k.jp.path, unmountOrder(mountForest(mounts, root)).map((m): Step => ({
        id: 'umount', why: `${m.type} on ${m.on}`, action: {kind: 'run', argv: ['umount', ...(o.force ? ['-f'] : []), m.on]}, undo: [],
      }))))
    }
    return withJailLock(k.host, k.jp.jail, () => cleanupBelow(k.host, k.jp.jail, root, {force: o.force, parallel: o.parallel}).andThen((c) =>
      c.remaining.length === 0 ? okAsync(c) : errAsync(partial(`${k.jp.path}: ${c.remaining.length} mount(s) stay below ${root} (${c.remaining[0]?.on}: ${c.remaining[0]?.reason})`, o.force ? 'find what holds them: fstat -f <path>' : `nest cleanup ${k.jp.path} --force`)).mapErr((e) => ({...e, details: c}) as NestError)))
  })
}

export function destroyJail(ctx: CommandCtx, name: string, o: {force: boolean; dryRun: boolean}): ResultAsync<DestroyResult | PlanResult, NestError> {
  return known(ctx, name).andThen((k) => {
    const layout = k.w.layout
    const running = isRunning(k)
    if (running && !o.force) return errAsync(conflict(`${k.jp.path}: running`, `nest stop ${k.jp.path} first, or nest destroy ${k.jp.path} --force`))
    const steps = [...(running ? planStop(layout, k.jp.jail) : [planCleanup(layout, k.jp.jail)]), ...planDestroy(layout, k.jp.jail)]
    if (o.dryRun) return okAsync<DestroyResult | PlanResult, NestError>(planResult(k.jp.path, steps))
    const datasets = k.w.datasets.filter((d) => d.type === 'filesystem' && (d.name === jailDataset(layout, k.jp.jail) || d.name.startsWith(`${jailDataset(layout, k.jp.jail)}/`))).map((d) => d.name)
    return withJailLock(k.host, k.jp.jail, () =>
      executePlan(engine(ctx, k.host), k.jp.path, steps).map((): DestroyResult => ({dryRun: false, name: k.jp.path, datasets, conf: confFile(k.jp.jail)})))
  })
}

export function listJailTree(ctx: CommandCtx, name: string | undefined): ResultAsync<ListResult, NestError> {
  const host = hostFor(ctx)
  const only = name === undefined ? okAsync<JailPath | null, NestError>(null) : topLevel(name)
  return only.andThen((jp) => findLayout(host, ctx.warn).andThen((layout) => {
    if (!layout) return okAsync({jails: []})
    return loadWorld(host, layout).andThen((w) => {
      const names = managedJails(w).filter((n) => !jp || n === jp.jail || n.startsWith(`${jp.jail}.`))
      if (jp && names.length === 0) return errAsync(notFound(`${jp.path}: no such jail`, 'see nest list'))
      return ResultAsync.combine(names.map((n) => (kernelJail(w, n) ? okAsync(null) : readConf(host, n))))
        .map((confs) => ({jails: names.map((n, i) => entryOf(w, n, confs[i] ?? null))}))
    })
  }))
}

function running(ctx: CommandCtx, name: string): ResultAsync<{host: Host; jp: JailPath}, NestError> {
  return known(ctx, name).andThen((k) =>
    isRunning(k) ? okAsync({host: k.host, jp: k.jp}) : errAsync(conflict(`${k.jp.path}: not running`, `nest start ${k.jp.path}`)))
}

export function execInJail(ctx: CommandCtx, name: string, argv: string[]): ResultAsync<ExecResultDoc, NestError> {
  if (argv.length === 0) return errAsync(invalidInput('no command given', `nest exec ${name} -- COMMAND [ARG...]`))
  return running(ctx, name).andThen(({host, jp}) =>
    host.run(['jexec', jp.jail, ...argv], {allowFailure: true, stdio: ctx.json ? 'pipe' : 'inherit'}).map((r) => ({
      name: jp.path, argv, exitCode: r.exitCode, ...(ctx.json ? {stdout: r.stdout, stderr: r.stderr} : {}),
    })))
}

export function consoleJail(ctx: CommandCtx, name: string): ResultAsync<ExecResultDoc, NestError> {
  if (ctx.json) return errAsync(invalidInput('nest console is interactive: --json does not apply', `nest exec ${name} --json -- COMMAND`))
  const argv = ['login', '-f', 'root']
  return running(ctx, name).andThen(({host, jp}) =>
    host.run(['jexec', '-l', jp.jail, ...argv], {allowFailure: true, stdio: 'inherit'}).map((r) => ({name: jp.path, argv, exitCode: r.exitCode})))
}

