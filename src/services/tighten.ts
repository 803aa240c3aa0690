// nest tighten NAME: the subtree's parameters made smaller, planned purely (src/plan/tighten.ts),
// shown as a diff; with --what-if proved on a twin of the host through a full lifecycle run by
// nest's own services (ZFS clones of the subtree as the jail twin-ID-TOP, src/plan/twin.ts, on
// FreeBSD and with --twin clones; a copy of the simulated host with --twin copy); with --apply changed live in the order of audit-rules §5.4 under the
// tree's lock, verified (§5.5) and rolled back on any failure (§5.6).
import {runAudit} from './audit.js'
import {writeFile} from 'node:fs/promises'
import path from 'node:path'

import {errAsync, okAsync, ResultAsync} from 'neverthrow'

import type {CommandCtx} from '../context/command.js'
import {invocation} from '../context/invocation.js'
import {conflict, describeError, internal, invalidInput, type NestError, preflight} from '../domain/errors.js'
import type {Host} from '../host/host.js'
import type {ParamValue} from '../host/parse.js'
import {makeTwin, type Twin, twinRefusal} from '../host/select.js'
import {listJails} from '../host/tools/jls.js'
import {DEFAULT_ALLOW} from '../jailconf/index.js'
import {withJailLock} from '../engine/lock.js'
import {CONF_DIR, confHeader, type Layout} from '../model/layout.js'
import {planCloneTwin, twinChildConf, twinLeftovers, twinRootConf, type TwinSource} from '../plan/twin.js'
import {guardOf, subtreeOf, type TreeNode} from '../model/tree.js'
import {loadPolicy, USER_POLICY_DIR} from '../policies/load.js'
import {parsePolicy, type Policy, POLICY_NAME, policyProblems, printPolicy} from '../policies/policy.js'
import {confParams, editConf, type Params, planTighten, TIGHTEN_PARAMS, type TightenJail, type TightenPlan} from '../plan/tighten.js'
import type {LeastParams} from '../audit/finding.js'
import type {ConfEdit, TightenResult, TwinFailure, TwinPhase} from '../render/tighten.js'
import type {TreeResult} from '../render/jails.js'
import {cleanupJail} from './jails.js'
import {restartJail, startJail, stopJail} from './lifecycle.js'
import {readPolicyFile} from './policy.js'
import {hostFor} from './world.js'
import {jailPath, nodeOf, scene} from './scene.js'

export interface TightenOptions {
  name: string
  whatIf: boolean
  apply: boolean
  /** The target: a policy file for the subtree's root (until the audit's least set is the default). */
  policy?: string
  writePolicy?: string
  restart: boolean
  parallel: number
  /** Print the plan only (what nest tighten NAME prints), whatever else is asked. */
  dryRun: boolean
  /** --what-if's twin: ZFS clones of the subtree on this host (FreeBSD's default), or a copy of the simulated host (the simulator's). */
  twin?: 'clones' | 'copy'
}

const valueOf = (v: ParamValue | undefined): string | undefined => (v === undefined ? undefined : typeof v === 'boolean' ? String(v) : Array.isArray(v) ? v.join(',') : String(v))

/** A policy as the root's target: every allow flag it does not grant is off (jail(8)'s defaults on), its numbers and sysv* as it says; securelevel the value once booted. */
function policyTarget(p: Policy, current: Params): Params {
  const t: Params = {}
  for (const k of Object.keys(current)) {
    if (!k.startsWith('allow.')) continue
    const v = p.params[k]
    t[k] = v === undefined ? String((DEFAULT_ALLOW as readonly string[]).includes(k.slice('allow.'.length))) : String(v === true)
  }
  for (const k of ['enforce_statfs', 'children.max', 'devfs_ruleset', 'sysvmsg', 'sysvsem', 'sysvshm']) {
    const v = p.params[k]
    if (typeof v === 'string') t[k] = v
  }
  const sl = p.raiseSecurelevel ?? (typeof p.params['securelevel'] === 'string' ? Number(p.params['securelevel']) : null)
  if (sl !== null) t['securelevel'] = String(sl)
  return t
}

/** The tightened policy of the root: its policy with the new values (--write-policy, and what --apply records). */
function tightenedPolicy(base: Policy, name: string, newValues: Params, changed: readonly string[]): Policy {
  const params = {...base.params}
  let raise = base.raiseSecurelevel
  for (const k of changed) {
    const v = newValues[k] as string
    if (k === 'securelevel' && raise !== null) raise = Number(v)
    else params[k] = v === 'true' ? true : v === 'false' ? false : v
  }
  return {...base, name, origin: 'user', file: `${USER_POLICY_DIR}/${name}.conf`, description: base.name === name ? base.description : `The parameters nest tighten gave this jail, from the policy ${base.name}: ${base.description}`, raiseSecurelevel: raise, params}
}

interface Prepared {
  host: Host
  /** nest's layout on this host and whether this nest runs in a jail (the clone twin needs both). */
  layout: Layout
  jailed: boolean
  nodes: TreeNode[]
  root: TreeNode
  plan: TightenPlan
  target: string
  /** Each changed jail's conf: its file, the text now and the text after. */
  confs: Array<{node: TreeNode; within: string | undefined; old: string; text: string}>
  policy: Policy
  policyText: string
  /** The policy record needs no finishing (see prepare). */
  recorded: boolean
}

const leaf = (jail: string): string => jail.split('.').at(-1) ?? jail

function lineDiff(a: string, b: string): {removed: string[]; added: string[]} {
  const al = a.split('\n')
  const bl = b.split('\n')
  return {removed: al.filter((l) => !bl.includes(l)), added: bl.filter((l) => !al.includes(l))}
}

/** What tighten makes the subtree: a policy for its root (--policy FILE), or a least set per jail (the audit's AuditReport.least). */
interface Target {
  label: string
  /** The policy file given, when there is one. */
  policy: Policy | null
  params(jails: readonly TightenJail[]): Record<string, Params>
}

/**
 * The audit's least set for a subtree (AuditReport.least of `nest audit NAME`): the default
 * target, computed from the same facts the audit reads, at the time of the tighten.
 */
export function leastSet(ctx: CommandCtx, name: string): ResultAsync<LeastParams[], NestError> {
  return runAudit(ctx, name, {failOn: 'high'}).map((r) => r.least)
}

function targetOf(ctx: CommandCtx, o: TightenOptions): ResultAsync<Target, NestError> {
  if (o.policy === undefined) {
    return leastSet(ctx, o.name).map((least): Target => ({label: `the audit's least set`, policy: null, params: () => Object.fromEntries(least.map((l) => [l.jail, {...l.params}]))}))
  }
  const file = path.resolve(o.policy)
  return readPolicyFile(file).andThen((text) => {
    const p = parsePolicy(path.basename(file).replace(/\.conf$/, ''), file, text, 'file')
    if (p.isErr()) return errAsync(p.error)
    const problems = policyProblems(p.value)
    if (problems.length > 0) return errAsync(preflight(`policy ${file}: ${problems[0]}`, problems.slice(1).join('; ') || undefined))
    return okAsync<Target, NestError>({label: `policy ${file}`, policy: p.value, params: (jails) => (jails[0] ? {[jails[0].jail]: policyTarget(p.value, jails[0].current)} : {})})
  })
}

/** A policy for a root whose own cannot be read: its grants are the plan's. */
const barePolicy = (root: TreeNode): Policy => ({name: 'none', file: '', origin: 'user', description: `The parameters nest tighten gave ${root.path}.`, delegate: root.delegated !== null, raiseSecurelevel: null, params: {}})

/** Read the subtree and plan: under the tree's lock when the caller holds it. */
function prepare(ctx: CommandCtx, o: TightenOptions): ResultAsync<Prepared, NestError> {
  return targetOf(ctx, o).andThen((t) => {
    return jailPath(o.name).andThen((jp) => scene(ctx).andThen((s) => nodeOf(s, jp).andThen((root) => {
      const nodes = subtreeOf(s.nodes, root.jail)
      const stopped = nodes.find((n) => !n.running || !n.kernel)
      if (stopped) return errAsync(conflict(`${stopped.path}: not running: tighten reads and changes the parameters of running jails`, `nest start ${root.path}`))
      const jails: TightenJail[] = nodes.map((n) => {
        const params = n.kernel?.params ?? {}
        const current: Params = {}
        for (const k of TIGHTEN_PARAMS) {
          const v = valueOf(params[k])
          if (v !== undefined) current[k] = v
        }
        return {jail: n.jail, path: n.path, parent: n.jail === root.jail ? null : n.parent, current, childrenCur: Number(valueOf(params['children.cur']) ?? 0)}
      })
      const up = root.parent === null ? undefined : s.nodes.find((n) => n.jail === root.parent)?.kernel?.params
      const ceiling = up ? Object.fromEntries(TIGHTEN_PARAMS.flatMap((k) => (valueOf(up[k]) === undefined ? [] : [[k, valueOf(up[k]) as string]]))) : undefined
      const plan = planTighten(jails, t.params(jails), ceiling)
      for (const l of plan.loosens) ctx.warn(`${l}: the target grants more than the jail has`)
      if (plan.problems.length > 0) return errAsync(preflight(plan.problems[0] as string, 'raise children.max in the policy'))
      // Every jail's file: what the plan changes, and what the file still asks beyond the plan's
      // values (an apply that was interrupted after its kernel step: the kernel has the new value already).
      const confs = ResultAsync.combine(nodes.map((node) => {
        const within = node.parent === null ? undefined : guardOf(s.nodes, node)
        const d = plan.diffs.find((x) => x.jail === node.jail)
        const want = plan.expected[node.jail] ?? {}
        return s.host.files.read(node.conf, within).andThen((old) => {
          if (old === null || !old.startsWith(confHeader(leaf(node.jail)))) return errAsync(conflict(`${node.path}: ${node.conf} is not the jail.conf nest wrote for it`, 'tighten only jails nest created, or edit that file by hand'))
          const said = confParams(old, leaf(node.jail))
          const set: Params = Object.fromEntries(d?.changes.map((c) => [c.param, c.to]) ?? [])
          for (const [k, v] of Object.entries(said)) if (want[k] !== undefined && want[k] !== v) set[k] = want[k] as string
          if (Object.keys(set).length === 0) return okAsync(null)
          const edited = editConf(old, leaf(node.jail), set)
          if (edited.isErr()) return errAsync(internal(`${node.path}: cannot edit ${node.conf}: ${edited.error}`))
          return okAsync({node, within, old, text: edited.value})
        })
      })).map((all) => all.filter((c): c is NonNullable<typeof c> => c !== null))
      const fallback = t.policy ?? barePolicy(root)
      const basePolicy = root.row['nest:policy'] && root.row['nest:policy'] !== '-' ? loadPolicy(s.host, root.row['nest:policy']).orElse(() => okAsync(fallback)) : okAsync<Policy, NestError>(fallback)
      const name = `tight-${root.jail.replaceAll('.', '-').toLowerCase()}`
      if (!POLICY_NAME.test(name)) return errAsync(invalidInput(`${root.path}: no policy name can be made from it (${name})`))
      return ResultAsync.combine([confs, basePolicy]).andThen(([cs, base]) => {
        const rootDiff = plan.diffs[0]?.changes.map((c) => c.param) ?? []
        const policy = tightenedPolicy(base, name, plan.expected[root.jail] ?? {}, rootDiff)
        const policyText = printPolicy(policy)
        if (policyText.isErr()) return errAsync(policyText.error)
        const text = `# nest policy: ${name}\n${policyText.value}`
        // An apply interrupted before it named the policy on the dataset is finished by the next one.
        const recorded = root.row['nest:policy'] === name
        return okAsync({host: s.host, layout: s.w.layout, jailed: s.jailed, nodes, root, plan, target: t.label, confs: cs, policy, policyText: text, recorded})
      })
    })))
  })
}

function result(p: Prepared, mode: TightenResult['mode'], policyFile: string | null): TightenResult {
  return {
    name: p.root.path, mode, target: p.target, diffs: p.plan.diffs,
    confs: p.confs.map((c): ConfEdit => ({name: c.node.path, file: c.node.conf, ...lineDiff(c.old, c.text)})),
    steps: p.plan.steps, restart: p.plan.restart.map((j) => p.nodes.find((n) => n.jail === j)?.path ?? j),
    policy: {name: p.policy.name, text: p.policyText, file: policyFile}, twin: null, applied: null,
  }
}

function writePolicyFile(file: string | undefined, text: string): ResultAsync<string | null, NestError> {
  if (file === undefined) return okAsync(null)
  const full = path.resolve(file)
  return ResultAsync.fromPromise(writeFile(full, text, {mode: 0o644}), (e) => invalidInput(`${full}: cannot write the policy: ${(e as Error).message}`, 'give a writable path')).map(() => full)
}

export function tightenJail(ctx: CommandCtx, o: TightenOptions): ResultAsync<TightenResult, NestError> {
  if (o.whatIf && o.apply) return errAsync(invalidInput('--what-if and --apply exclude each other', 'prove it with --what-if, then run --apply'))
  if (o.apply && !o.dryRun) return applyTighten(ctx, o)
  if (o.whatIf && !o.dryRun) return whatIf(ctx, o)
  return prepare(ctx, o).andThen((p) => writePolicyFile(o.writePolicy, p.policyText).map((f) => result(p, 'plan', f)))
}

// ---------------------------------------------------------------------------------------------
// --what-if: the twin.

/** The changes a twin's failure is blamed on: those its words name, else the jail's and its parent's. */
function blame(p: Prepared, failedPath: string, error: string): string[] {
  const node = p.nodes.find((n) => n.path === failedPath)
  const chain = node ? p.nodes.filter((n) => node.jail === n.jail || node.jail.startsWith(`${n.jail}.`)) : [p.root]
  const changes = p.plan.diffs.filter((d) => chain.some((n) => n.jail === d.jail)).flatMap((d) => d.changes.filter((c) => !c.forced || d.jail === node?.jail).map((c) => ({d, c})))
  // jail(8)'s words name what failed: a mount of a type (`mount -t devfs`, `mount.devfs`), the prison limit, a flag.
  const said = (param: string): boolean => {
    if (param === 'children.max') return /prison limit exceeded/.test(error)
    if (param.startsWith('allow.mount.')) {
      const fs = param.slice('allow.mount.'.length)
      return new RegExp(`(mount\\.${fs}\\b|-t ${fs}\\b)`).test(error)
    }
    if (param === 'allow.mount' || param === 'enforce_statfs') return /mount/.test(error) && /Operation not permitted/.test(error)
    return error.includes(param.replace(/^allow\./, ''))
  }
  const named = changes.filter(({c}) => said(c.param))
  const chosen = named.length > 0 ? named : changes
  return [...new Set(chosen.map(({d, c}) => `${d.path}: ${c.param} ${c.from} → ${c.to}`))]
}

/** jail(8)'s lines as one (an error is one line: `jail: mount: …; jail: a: /sbin/mount … failed`). */
const oneLine = (t: string): string => t.trim().replace(/\s*\n\s*/g, '; ')

function failuresOf(p: Prepared, e: NestError): TwinFailure[] {
  const details = e.kind === 'partial' ? (e.details as Partial<TreeResult> | undefined) : undefined
  if (details && Array.isArray(details.jails)) {
    return details.jails.filter((j) => j.outcome === 'failed').map((j) => ({name: j.name, error: oneLine(j.error ?? ''), grants: blame(p, j.name, j.error ?? '')}))
  }
  const m = /^([A-Za-z0-9_/-]+): /.exec(e.message)
  const name = m && p.nodes.some((n) => n.path === m[1]) ? (m[1] as string) : p.root.path
  return [{name, error: oneLine(e.message), grants: blame(p, name, e.message)}]
}

function runTwin(ctx: CommandCtx, p: Prepared, twin: Twin, o: TightenOptions): ResultAsync<NonNullable<TightenResult['twin']>, NestError> {
  let lines: string[] = []
  const say = (l: string): void => void lines.push(l)
  const tctx: CommandCtx = {...ctx, host: twin.info, json: true, verbose: false, note: say, warn: say, progress: () => undefined, finished: say}
  const th = hostFor(tctx)
  const tree = {all: false, children: true, parallel: o.parallel, dryRun: false}
  const phases: TwinPhase[] = []
  const failures: TwinFailure[] = []
  const phase = (name: TwinPhase['phase'], work: () => ResultAsync<unknown, NestError>): ResultAsync<boolean, NestError> => {
    lines = []
    return ResultAsync.fromSafePromise(work().match(() => null, (e) => e)).map((e) => {
      phases.push({phase: name, ok: e === null, lines, ...(e ? {error: describeError(e)} : {})})
      if (e) failures.push(...failuresOf(p, e))
      return e === null
    })
  }
  // The twin's jail.conf files, with the target parameters: the root's on the twin's host, each child's in its parent's root.
  const write = ResultAsync.combine(p.confs.map((c) => th.files.write(c.node.conf, c.text, 0o644, c.within)))
  return write.andThen(() => phase('stop', () => stopJail(tctx, [p.root.path], tree)))
    .andThen((stopped) => (stopped ? phase('start', () => startJail(tctx, [p.root.path], tree)) : okAsync(false)))
    .andThen(() => phase('stop again', () => stopJail(tctx, [p.root.path], tree)))
    .andThen(() => phase('cleanup', () => cleanupJail(tctx, p.root.path, {force: false, dryRun: false})))
    .map(() => ({clean: failures.length === 0 && phases.every((x) => x.ok), phases, failures}))
}

function whatIf(ctx: CommandCtx, o: TightenOptions): ResultAsync<TightenResult, NestError> {
  if ((o.twin ?? (ctx.host.kind === 'freebsd' ? 'clones' : 'copy')) === 'clones') return cloneWhatIf(ctx, o)
  // Refused before anything is read where no twin can be made (FreeBSD's is not written yet).
  const refused = twinRefusal(ctx.host)
  if (refused) return errAsync(refused)
  const host = hostFor(ctx)
  return jailPath(o.name).andThen((jp) => {
    // Read and copied under the tree's lock: the twin is the tree as planned, not one half changed.
    let twin: Twin | undefined
    const prepared = withJailLock(host, jp.levels[0] as string, () => prepare(ctx, o).andThen((p) => makeTwin(ctx.host, invocation().env).map((t) => {
      twin = t
      return p
    })), ctx.note)
    // The twin goes whatever happens next (a policy file that cannot be written included).
    const policyWritten = (p: Prepared): ResultAsync<string | null, NestError> => writePolicyFile(o.writePolicy, p.policyText).orElse((e) => {
      twin?.dispose()
      return errAsync(e)
    })
    return prepared.andThen((p) => policyWritten(p).andThen((f) => {
      const t = twin as Twin
      return ResultAsync.fromSafePromise(runTwin(ctx, p, t, o).match((r) => ({r}), (e) => ({e}))).andThen((x) => {
        t.dispose()
        if ('e' in x) return errAsync(x.e)
        return twinAnswer(p, {...result(p, 'what-if', f), twin: x.r})
      })
    }))
  })
}

/** A twin's answer: the result when its lifecycle was clean, else its first failure in one line, blamed on the changes (both twins). */
function twinAnswer(p: Prepared, r: TightenResult): ResultAsync<TightenResult, NestError> {
  const tw = r.twin
  if (tw === null || tw.clean) return okAsync(r)
  const first = tw.failures[0]
  const msg = first ? `${first.name}: on the twin: ${first.error.startsWith(`${first.name}: `) ? first.error.slice(first.name.length + 2) : first.error}${first.grants.length > 0 ? ` (caused by ${first.grants.join('; ')})` : ''}` : `${p.root.path}: the twin's lifecycle failed`
  return errAsync(preflight(msg, 'keep the grants it needs in the policy and run --what-if again; the live tree was not touched'))
}

// ---------------------------------------------------------------------------------------------
// --what-if --twin clones: the twin made of ZFS clones on this host (src/plan/twin.ts).

/** A twin's id: lower-case base 36, the time and a few random digits (two twins of one tree never share it). */
const twinId = (): string => `${Date.now().toString(36)}${Math.floor(Math.random() * 36 ** 3).toString(36).padStart(3, '0')}`

const stdout = (host: Host, argv: readonly string[]): ResultAsync<string, NestError> => host.run(argv).map((r) => r.stdout)
const rows = (text: string): string[][] => text.split('\n').filter((l) => l !== '').map((l) => l.split('\t'))

/** What is on the host now below `<pool>/nest/jails`: each dataset with its local properties, the snapshots of TOP's, the files in /etc/jail.conf.d, the jails. */
function hostTwinState(host: Host, l: Layout, top: string): ResultAsync<{sources: TwinSource[]; snapshots: string[]; confs: string[]; jails: string[]}, NestError> {
  const jails = `${l.top}/jails`
  return ResultAsync.combine([
    stdout(host, ['zfs', 'list', '-H', '-o', 'name', '-t', 'filesystem', '-r', jails]),
    stdout(host, ['zfs', 'get', '-H', '-r', '-s', 'local', '-o', 'name,property,value', 'all', jails]),
    stdout(host, ['zfs', 'list', '-H', '-o', 'name', '-t', 'snapshot', '-r', `${jails}/${top}`]),
    host.files.list(CONF_DIR).orElse(() => okAsync<string[], NestError>([])),
    listJails(host).mapErr((e): NestError => e),
  ]).map(([names, props, snaps, confs, ks]) => {
    const sources: TwinSource[] = rows(names).map(([name]) => ({name: name as string, props: {}}))
    for (const [name, k, v] of rows(props)) {
      const d = sources.find((x) => x.name === name)
      if (d && k !== undefined && v !== undefined) d.props[k] = v
    }
    return {sources, snapshots: rows(snaps).map(([n]) => n as string), confs: confs.map((c) => `${CONF_DIR}/${path.posix.basename(c)}`), jails: ks.filter((j) => valueOf(j.params['dying']) !== 'true').map((j) => j.name)}
  })
}

/**
 * Every twin of TOP gone from the host: its jails stopped by nest's own services, their
 * leftover mounts unmounted (cleanup, deepest first), the clones destroyed (-r), then the
 * snapshots, then the files. Each step is tried whatever failed before; what is left is said.
 * Run before a twin (what a crash left) and after it (success, failure or fault alike).
 */
function teardownTwins(ctx: CommandCtx, host: Host, l: Layout, top: string): ResultAsync<string[], never> {
  const problems: string[] = []
  const quiet: CommandCtx = {...ctx, json: true, verbose: false, note: () => undefined, warn: () => undefined, progress: () => undefined, finished: () => undefined}
  let clonesLeft = false
  const attempt = (w: () => ResultAsync<unknown, NestError>, clone = false): ResultAsync<void, never> => ResultAsync.fromSafePromise(w().match(() => undefined, (e) => {
    if (clone) clonesLeft = true
    problems.push(oneLine(describeError(e)))
  }))
  const tree = {all: false, children: true, parallel: 1, dryRun: false}
  const seq = (fs: Array<() => ResultAsync<void, never>>): ResultAsync<void, never> => fs.reduce<ResultAsync<void, never>>((acc, f) => acc.andThen(f), okAsync(undefined))
  const state = (): ResultAsync<ReturnType<typeof twinLeftovers> | null, never> => ResultAsync.fromSafePromise(hostTwinState(host, l, top).match((st) => twinLeftovers(l, top, st.sources, st.snapshots, st.confs, st.jails), (e) => {
    problems.push(oneLine(describeError(e)))
    return null
  }))
  return state().andThen((left) => {
    if (left === null) return okAsync(problems)
    const twins = [...new Set(left.destroy.map((a) => a[3] as string).filter((d) => !d.includes('@')).map((d) => d.slice(`${l.top}/jails/`.length)))]
    const running = [...new Set(left.jails.map((j) => j.split('.')[0] as string))]
    return seq([
      ...running.map((j) => () => attempt(() => stopJail(quiet, [j], tree))),
      ...twins.map((j) => () => attempt(() => cleanupJail(quiet, j, {force: true, dryRun: false}))),
      // A snapshot with clones left cannot go (zfs destroy: "snapshot has dependent clones"): tried only once they are gone.
      ...left.destroy.map((argv) => () => ((argv[3] as string).includes('@') ? (clonesLeft ? okAsync(undefined) : attempt(() => run(host, argv))) : attempt(() => run(host, argv), true))),
      ...left.remove.map((f) => () => attempt(() => host.files.remove(f))),
    ]).andThen(() => state()).map((after) => {
      if (after && (after.destroy.length > 0 || after.remove.length > 0 || after.jails.length > 0)) problems.push(`twin leftovers remain: ${[...after.jails, ...after.destroy.map((a) => a[3] as string), ...after.remove].join(', ')}`)
      return problems
    })
  })
}

/** A name of the twin said as the original's (`twin-ID-p/a` → `p/a`), in a line or an error. */
const asOriginal = (twin: string, top: string) => (t: string): string => t.replace(new RegExp(`(^|[\\s"'(])${twin}(?=[/:.\\s"']|$)`, 'g'), `$1${top}`)

function runCloneTwin(ctx: CommandCtx, p: Prepared, o: TightenOptions, id: string): ResultAsync<NonNullable<TightenResult['twin']>, NestError> {
  const host = p.host
  const l = p.layout
  const top = p.root.jail
  return hostTwinState(host, l, top).andThen((st) => {
    const planned = planCloneTwin(l, top, id, st.sources)
    if (planned.isErr()) return errAsync(preflight(planned.error))
    const plan = planned.value
    const twin = plan.twin
    const fromRoot = `${l.mountpoint}/jails/${top}/`
    const toRoot = `${l.mountpoint}/jails/${twin}/`
    const inTwin = (f: string): string => (f.startsWith(fromRoot) ? `${toRoot}${f.slice(fromRoot.length)}` : f)
    const textOf = (n: TreeNode, within: string | undefined): ResultAsync<string, NestError> => {
      const edited = p.confs.find((c) => c.node.jail === n.jail)
      if (edited) return okAsync(edited.text)
      return host.files.read(inTwin(n.conf), within).andThen((t) => (t === null ? errAsync(conflict(`${n.path}: ${n.conf} is missing`)) : okAsync(t)))
    }
    // The clones, then the twin's files: its root's on the host, each child's inside the twin's (cloned) root, with the tightened parameters.
    const made = [plan.snapshotArgv, ...plan.clones.map((c) => c.argv)].reduce<ResultAsync<void, NestError>>((acc, argv) => acc.andThen(() => run(host, argv)), okAsync(undefined))
    const files = (): ResultAsync<void, NestError> => textOf(p.root, undefined).andThen((text) => {
      const conf = twinRootConf(l, top, twin, text)
      if (conf.isErr()) return errAsync(preflight(conf.error, 'the twin runs only jail.conf files nest wrote'))
      return host.files.write(plan.conf, conf.value, 0o644)
    }).andThen(() => ResultAsync.combine(p.nodes.filter((n) => n.jail !== top).map((n) => {
      const within = inTwin(guardOf(p.nodes, n))
      return textOf(n, within).andThen((text) => host.files.write(inTwin(n.conf), twinChildConf(text), 0o644, within))
    }))).map(() => undefined)
    let lines: string[] = []
    const named = asOriginal(twin, p.root.path)
    const say = (line: string): void => void lines.push(named(line))
    const tctx: CommandCtx = {...ctx, json: true, verbose: false, note: say, warn: say, progress: () => undefined, finished: say}
    const tree = {all: false, children: true, parallel: o.parallel, dryRun: false}
    const phases: TwinPhase[] = []
    const failures: TwinFailure[] = []
    const phase = (name: TwinPhase['phase'], work: () => ResultAsync<unknown, NestError>): ResultAsync<boolean, NestError> => {
      lines = []
      return ResultAsync.fromSafePromise(work().match(() => null, (e) => e)).map((raw) => {
        // The twin's names said as the original's, so that a failure is blamed on the original's changes.
        const e = raw === null ? null : (JSON.parse(named(JSON.stringify(raw))) as NestError)
        phases.push({phase: name, ok: e === null, lines, ...(e ? {error: describeError(e)} : {})})
        if (e) failures.push(...failuresOf(p, e))
        return e === null
      })
    }
    return made.andThen(files)
      .andThen(() => phase('start', () => startJail(tctx, [twin], tree)))
      .andThen(() => phase('stop', () => stopJail(tctx, [twin], tree)))
      .andThen(() => phase('cleanup', () => cleanupJail(tctx, twin, {force: false, dryRun: false})))
      .map(() => ({clean: failures.length === 0 && phases.every((x) => x.ok), phases, failures}))
  })
}

function cloneWhatIf(ctx: CommandCtx, o: TightenOptions): ResultAsync<TightenResult, NestError> {
  const host = hostFor(ctx)
  return jailPath(o.name).andThen((jp) => withJailLock(host, jp.levels[0] as string, () => prepare(ctx, o).andThen((p) => {
    if (p.jailed || p.layout.dir) return errAsync(preflight('a twin of ZFS clones is made by the host\'s nest, on its own datasets', 'run nest tighten on the host'))
    if (p.root.parent !== null) return errAsync(preflight(`${p.root.path}: a twin of ZFS clones is made of a top-level jail's tree only (not written yet for a subtree below a parent)`, `nest tighten ${p.root.path} --what-if --twin copy on the simulated host, or review the plan and --apply, which rolls back on any failure`))
    const top = p.root.jail
    return teardownTwins(ctx, p.host, p.layout, top).andThen((before) => {
      if (before.length > 0) return errAsync(conflict(`${p.root.path}: a twin left by an earlier run cannot be removed: ${before[0]}`, 'remove it by hand (zfs destroy -r of the twin-… datasets and @nest-twin-… snapshots), then run --what-if again'))
      return writePolicyFile(o.writePolicy, p.policyText).andThen((f) => ResultAsync.fromSafePromise(runCloneTwin(ctx, p, o, twinId()).match((r) => ({r}), (e) => ({e}))).andThen((x) => teardownTwins(ctx, p.host, p.layout, top).andThen((after) => {
        if (after.length > 0) return errAsync(conflict(`${p.root.path}: the twin could not be removed: ${after.join('; ')}`, 'remove it by hand (zfs destroy -r of the twin-… datasets and @nest-twin-… snapshots); the live tree was not touched'))
        if ('e' in x) return errAsync(x.e)
        return twinAnswer(p, {...result(p, 'what-if', f), twin: x.r})
      })))
    })
  }), ctx.note))
}

// ---------------------------------------------------------------------------------------------
// --apply: live, under the tree's lock.

const run = (host: Host, argv: readonly string[]): ResultAsync<void, NestError> => host.run(argv).map(() => undefined)

/** Changes since the plan's recorded values, as a list: what verify found different. */
function differences(p: Prepared, jails: ReadonlyArray<{name: string; params: Record<string, ParamValue>}>, want: (jail: string) => Params): string[] {
  const out: string[] = []
  for (const n of p.nodes) {
    const k = jails.find((j) => j.name === n.jail && valueOf(j.params['dying']) !== 'true')
    for (const [param, v] of Object.entries(want(n.jail))) {
      const got = valueOf(k?.params[param])
      if (got !== v) out.push(`${n.path}: ${param} is ${got ?? 'absent'}, planned ${v}`)
    }
  }
  return out
}

function applyTighten(ctx: CommandCtx, o: TightenOptions): ResultAsync<TightenResult, NestError> {
  const host = hostFor(ctx)
  return jailPath(o.name).andThen((jp) => withJailLock(host, jp.levels[0] as string, () => prepare(ctx, o).andThen((p) => {
    if (p.plan.restart.length > 0 && !o.restart) {
      const l3 = p.plan.diffs.flatMap((d) => d.changes.filter((c) => c.live === 'L3').map((c) => `${c.param} ${c.from} → ${c.to} on ${d.path}`))
      return errAsync(preflight(`${p.plan.restart.map((j) => p.nodes.find((n) => n.jail === j)?.path ?? j).join(', ')}: needs a restart with the jails below it (${l3.join('; ')}: FreeBSD sets these only when a jail is created); nothing was changed`, 'run again with --restart, or keep those parameters in the policy'))
    }
    // Nothing to change (a re-run after a tighten): nothing is run or written, the policy record stays.
    const nothing = p.plan.diffs.every((d) => d.changes.length === 0) && p.confs.length === 0 && p.recorded
    return writePolicyFile(o.writePolicy, p.policyText).andThen((f) => (nothing ? okAsync({steps: [], confs: [], restarted: [], verified: true}) : applyPrepared(ctx, p, o)).map((applied) => ({...result(p, 'apply', f), applied})))
  }), ctx.note))
}

function applyPrepared(ctx: CommandCtx, p: Prepared, o: TightenOptions): ResultAsync<NonNullable<TightenResult['applied']>, NestError> {
  const host = p.host
  const done: string[] = []
  const confsDone: string[] = []
  const restarted: string[] = []
  const rootRow = p.root.row
  const oldPolicy = rootRow['nest:policy'] ?? '-'
  const policyFile = `${USER_POLICY_DIR}/${p.policy.name}.conf`
  let policyBefore: string | null | undefined
  let policySet = false
  /** The directory the policy's write made (removed by a rollback). */
  let madeDir: string | null = null
  const tree = {all: false, children: true, parallel: o.parallel, dryRun: false}
  const restartPaths = p.plan.restart.map((j) => p.nodes.find((n) => n.jail === j)?.path ?? j)
  // Each step, in order; the first failure stops the rest.
  // A jail's file follows right after the first kernel step that changes it (§5.4: a crash
  // then leaves no file asking for a grant its parent no longer has); the rest (L3) after them.
  type Work = {id: string; work: () => ResultAsync<void, NestError>}
  const writeConf = (c: Prepared['confs'][number]): Work => ({id: `write ${c.node.conf}`, work: () => host.files.write(c.node.conf, c.text, 0o644, c.within).map(() => void confsDone.push(c.node.conf))})
  const written = new Set<string>()
  const live: Work[] = p.plan.steps.flatMap((s): Work[] => {
    const confs = p.confs.filter((c) => !written.has(c.node.jail) && s.predicts[c.node.jail] !== undefined)
    for (const c of confs) written.add(c.node.jail)
    return [{id: s.argv.join(' '), work: () => run(host, s.argv).map(() => void done.push(s.id))}, ...confs.map(writeConf)]
  })
  const steps: Work[] = [
    ...live,
    ...p.confs.filter((c) => !written.has(c.node.jail)).map(writeConf),
    // The policy is recorded as a user policy of its own (a preset is shared by other jails) and named on the jail's dataset.
    {id: `write ${policyFile}`, work: () => ResultAsync.combine([host.files.kind(path.posix.dirname(USER_POLICY_DIR)), host.files.kind(USER_POLICY_DIR)]).andThen(([up, kind]) => {
      madeDir = up === 'none' ? path.posix.dirname(USER_POLICY_DIR) : kind === 'none' ? USER_POLICY_DIR : null
      return (madeDir !== null ? host.files.mkdir(USER_POLICY_DIR) : okAsync<void, NestError>(undefined)).andThen(() => host.files.read(policyFile)).andThen((before) => {
        policyBefore = before
        return host.files.write(policyFile, p.policyText, 0o644)
      })
    })},
    {id: `zfs set nest:policy=${p.policy.name} ${rootRow.name}`, work: () => run(host, ['zfs', 'set', `nest:policy=${p.policy.name}`, rootRow.name]).map(() => void (policySet = true))},
    ...(restartPaths.length > 0 ? [{id: `nest restart ${restartPaths.join(' ')}`, work: () => {
      restarted.push(...restartPaths)
      return restartJail(ctx, restartPaths, tree).map(() => undefined)
    }}] : []),
    {id: 'jls -n (verify)', work: () => listJails(host).mapErr((e): NestError => e).andThen((jails) => {
      // §5.5: every planned value of every jail of the subtree, not only the ones changed.
      const diff = differences(p, jails, (j) => p.plan.expected[j] ?? {})
      return diff.length === 0 ? okAsync(undefined) : errAsync(conflict(`verify: ${diff[0]}${diff.length > 1 ? ` (and ${diff.length - 1} more)` : ''}`))
    })},
  ]
  const rollback = (): ResultAsync<string[], never> => {
    const problems: string[] = []
    const attempt = (w: () => ResultAsync<unknown, NestError>): ResultAsync<void, never> => ResultAsync.fromSafePromise(w().match(() => undefined, (e) => void problems.push(describeError(e))))
    const chain: Array<() => ResultAsync<void, never>> = [
      ...p.confs.filter((c) => confsDone.includes(c.node.conf)).map((c) => () => attempt(() => host.files.write(c.node.conf, c.old, 0o644, c.within))),
      ...(policySet ? [() => attempt(() => run(host, oldPolicy === '-' ? ['zfs', 'inherit', 'nest:policy', rootRow.name] : ['zfs', 'set', `nest:policy=${oldPolicy}`, rootRow.name]))] : []),
      ...(policyBefore !== undefined ? [() => attempt(() => (typeof policyBefore === 'string' ? host.files.write(policyFile, policyBefore, 0o644) : host.files.remove(policyFile)))] : []),
      ...(madeDir !== null ? [() => attempt(() => host.files.removeTree(madeDir as string))] : []),
      // A restart rolls back only by a restart with the old files; jail -m re-grants top-down (the parent first, then each descendant).
      ...(restarted.length > 0 ? [() => attempt(() => restartJail(ctx, restarted, tree))] : p.plan.rollback.map((argv) => () => attempt(() => run(host, argv)))),
    ]
    return chain.reduce<ResultAsync<void, never>>((acc, f) => acc.andThen(f), okAsync(undefined)).map(() => problems)
  }
  const runAll = (i: number): ResultAsync<void, NestError> => {
    const s = steps[i]
    if (!s) return okAsync(undefined)
    return s.work().orElse((e) => rollback().andThen((problems) => {
      // The step's own fix (a restart's "nest restart p/a again") no longer holds once it is rolled back.
      const failed: Record<string, unknown> = {
        ...e,
        message: `${p.root.path}: tighten failed at "${s.id}": ${e.message.replace(`${p.root.path}: `, '')}; ${problems.length === 0 ? 'rolled back to the previous parameters and files' : `rollback incomplete: ${problems.join('; ')}`}`,
        step: s.id,
      }
      delete failed['fix']
      delete failed['details']
      return errAsync<void, NestError>(failed as NestError)
    })).andThen(() => runAll(i + 1))
  }
  ctx.note(`${p.root.path}: ${p.plan.steps.length} live step(s), ${p.confs.length} jail.conf file(s)${restartPaths.length > 0 ? `, then a restart of ${restartPaths.join(', ')}` : ''}`)
  return runAll(0).map(() => ({steps: done, confs: confsDone, restarted, verified: true}))
}
