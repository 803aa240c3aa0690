// `nest tighten`, planned purely: from every jail's effective parameters (jls -n) and a target
// per jail (the audit's least set, or a policy file for the subtree's root), the new value of
// every parameter after the kernel's own rules, the jail.conf edits, and the ordered live
// steps with their classes and rollback (../shared/audit-rules.md §2.1, §5.2, §5.4, §5.6).
//
// The kernel rules followed (sys/kern/kern_jail.c, kern_jail_set):
// - allow.*: "if ((tallow = ch_allow & ~pr_allow)) { /* Clear allow bits in all children. */
//   FOREACH_PRISON_DESCENDANT_LOCKED(pr, tpr, descend) tpr->pr_allow &= ~tallow; }": clearing
//   a flag on a jail clears it below at once; setting it again sets it on that jail only.
// - enforce_statfs, securelevel: "/* Pass this restriction on to the children. */ ... if
//   (tpr->pr_enforce_statfs < enforce) tpr->pr_enforce_statfs = enforce;" (securelevel alike).
// - children.max: "/* Set all child jails to under this limit. */ if (tpr->pr_childmax >
//   childmax - level) tpr->pr_childmax = childmax > level ? childmax - level : 0;".
// - devfs_ruleset: "tpr->pr_devfs_rsnum = rsnum;" for every descendant.
// - A child's value is checked against its parent's when it is set (EPERM): a flag the parent
//   lacks, a lower enforce_statfs or securelevel, a children.max not below the parent's. So
//   loosening goes parent first, and a re-grant names each descendant (§5.6).
import {err, ok, type Result} from 'neverthrow'

import {KERNEL_PARAMS, parseConfig, printParam, splitNo} from '../jailconf/index.js'

/** How a change takes effect (audit-rules §3): L1 `jail -m` at once; L2 `jail -m`, existing mounts keep the old state; L3 a restart. */
export type TightenClass = 'L1' | 'L2' | 'L3' | 'CFG'

/** Parameter → value as jls -n prints it (`true`/`false` for flags, numbers as text). */
export type Params = Record<string, string>

export interface TightenJail {
  /** The kernel's dotted name as the host sees it (`p.a`). */
  jail: string
  /** As the user names it (`p/a`). */
  path: string
  parent: string | null
  /** Its effective parameters (jls -n), the grants among them. */
  current: Params
  /** children.cur: children.max is never planned below it. */
  childrenCur: number
}

export interface ParamChange {
  param: string
  from: string
  to: string
  /** Not asked for this jail: its parent's new value forces it (the kernel's rule above). */
  forced: boolean
  live: TightenClass
}

export interface JailDiff {
  jail: string
  path: string
  changes: ParamChange[]
}

export interface LiveStep {
  /** `p: jail -m name=p allow.noraw_sockets`. */
  id: string
  jail: string
  argv: string[]
  live: TightenClass
  why: string
  /** What the kernel makes of every jail of the subtree after this step (jls -n values that change). */
  predicts: Record<string, Params>
  /** The step's inverse (§5.6): the jail first, then each descendant it changed, explicitly. */
  rollback: string[][]
}

export interface TightenPlan {
  diffs: JailDiff[]
  /** L1/L2 changes, in the order of §5.4. */
  steps: LiveStep[]
  /** Changes that give a jail more than it has (a target above its current value): said, never silent. */
  loosens: string[]
  /** Jails whose own change needs a restart (L3): the highest of each subtree. */
  restart: string[]
  /** Every jail's planned effective values (what verify compares jls -n with, §5.5). */
  expected: Record<string, Params>
  /** The full rollback to the recorded parameters, top-down (§5.6). */
  rollback: string[][]
  problems: string[]
}

/** The parameters tighten plans: the grants a policy holds, and the create-time ones a least set may change. */
const ORDERED = ['enforce_statfs', 'securelevel', 'devfs_ruleset', 'children.max', 'sysvmsg', 'sysvsem', 'sysvshm', 'vnet', 'ip4', 'ip6']
export const TIGHTEN_PARAMS: readonly string[] = [...ORDERED, ...[...KERNEL_PARAMS.keys()].filter((n) => n.startsWith('allow.')).sort()]
// Restart class (audit-rules §3 I01/I02, §2.1): vnet, ip4 and ip6 are create-time. sysv* could
// be set live (sys/kern/sysv_shm.c shm_prison_set: "if (jsys == JAIL_SYS_DISABLE) { ...
// shm_prison_cleanup(pr); /* Disable all child jails as well. */"), but that removes the jail's
// segments under its running processes: nest changes them only through a restart.
const RESTART = new Set(['sysvmsg', 'sysvsem', 'sysvshm', 'allow.sysvipc', 'vnet', 'ip4', 'ip6'])
const INT_RAISE = new Set(['enforce_statfs', 'securelevel'])

export function classOf(param: string): TightenClass {
  if (RESTART.has(param)) return 'L3'
  if (param.startsWith('allow.mount.') || param === 'devfs_ruleset') return 'L2'
  return 'L1'
}

const depthBelow = (jails: readonly TightenJail[], anc: string, j: TightenJail): number => j.jail.slice(anc.length + 1).split('.').length
const below = (jails: readonly TightenJail[], anc: string): TightenJail[] => jails.filter((j) => j.jail.startsWith(`${anc}.`))

/** The kernel's effect of setting `set` on `jail` (kern_jail_set, quoted at the top), on a copy of `state`. */
export function kernelSet(jails: readonly TightenJail[], state: Record<string, Params>, jail: string, set: Params): Record<string, Params> {
  const out: Record<string, Params> = Object.fromEntries(Object.entries(state).map(([k, v]) => [k, {...v}]))
  const own = out[jail] ?? (out[jail] = {})
  for (const [k, v] of Object.entries(set)) {
    own[k] = v
    for (const d of below(jails, jail)) {
      const ds = out[d.jail] ?? (out[d.jail] = {})
      if (k.startsWith('allow.') && v === 'false') ds[k] = 'false'
      else if (INT_RAISE.has(k) && ds[k] !== undefined && Number(ds[k]) < Number(v)) ds[k] = v
      else if (k === 'children.max' && ds[k] !== undefined) {
        const level = depthBelow(jails, jail, d)
        const max = Number(v)
        if (Number(ds[k]) > max - level) ds[k] = String(max > level ? max - level : 0)
      } else if (k === 'devfs_ruleset') ds[k] = v
      else if (k.startsWith('sysv') && v === 'disable') ds[k] = 'disable'
    }
  }
  return out
}

/** A parameter as `jail -m` takes it: `allow.noraw_sockets`, `allow.mount`, `children.max=4`. */
export function setArg(param: string, value: string): string {
  if (param.startsWith('allow.') && (value === 'true' || value === 'false')) {
    if (value === 'true') return param
    const dot = param.lastIndexOf('.')
    return `${param.slice(0, dot + 1)}no${param.slice(dot + 1)}`
  }
  return `${param}=${value}`
}

const jailM = (jail: string, set: Params): string[] => ['jail', '-m', `name=${jail}`, ...Object.entries(set).map(([k, v]) => setArg(k, v))]

/** The new value of every parameter of every jail, top-down: what was asked, then what the parent's new values force. */
function newValues(jails: readonly TightenJail[], target: Readonly<Record<string, Params>>, ceiling?: Params): Record<string, {want: Params; now: Params}> {
  const out: Record<string, {want: Params; now: Params}> = {}
  for (const j of jails) {
    const asked: Params = {}
    for (const [k, v] of Object.entries(target[j.jail] ?? {})) if (TIGHTEN_PARAMS.includes(k) && j.current[k] !== undefined) asked[k] = v
    const want: Params = {...j.current, ...asked}
    const now: Params = {...want}
    // The subtree's root below a parent outside the plan: that parent's values bound it as the kernel bounds a child.
    const p = j.parent === null ? (j === jails[0] ? ceiling : undefined) : out[j.parent]?.now ?? (j === jails[0] ? ceiling : undefined)
    if (p) {
      for (const k of Object.keys(now)) {
        const pv = p[k]
        if (pv === undefined) continue
        if (k.startsWith('allow.') && pv === 'false') now[k] = 'false'
        else if (INT_RAISE.has(k) && Number(now[k]) < Number(pv)) now[k] = pv
        else if (k === 'children.max' && Number(now[k]) >= Number(pv)) now[k] = String(Math.max(0, Number(pv) - 1))
        else if (k === 'devfs_ruleset' && out[j.parent as string] !== undefined && pv !== jails.find((x) => x.jail === j.parent)?.current[k]) now[k] = pv
        else if (k.startsWith('sysv') && pv === 'disable') now[k] = 'disable'
      }
    }
    out[j.jail] = {want, now}
  }
  return out
}

/** Plan the whole tighten of a subtree (`jails` in tree order, its root first). */
export function planTighten(jails: readonly TightenJail[], target: Readonly<Record<string, Params>>, ceiling?: Params): TightenPlan {
  const values = newValues(jails, target, ceiling)
  const problems: string[] = []
  const diffs: JailDiff[] = jails.map((j) => {
    const v = values[j.jail] as {want: Params; now: Params}
    const changes = TIGHTEN_PARAMS.filter((k) => v.now[k] !== undefined && v.now[k] !== j.current[k])
      .map((k): ParamChange => ({param: k, from: j.current[k] as string, to: v.now[k] as string, forced: v.now[k] !== v.want[k], live: classOf(k)}))
    return {jail: j.jail, path: j.path, changes}
  })
  for (const j of jails) {
    const cm = values[j.jail]?.now['children.max']
    if (cm !== undefined && Number(cm) < j.childrenCur) problems.push(`${j.path}: children.max ${cm} is below its ${j.childrenCur} child jail(s) (children.cur)`)
  }
  const expected = Object.fromEntries(jails.map((j) => [j.jail, values[j.jail]?.now ?? {}]))
  const restartSet = jails.filter((j) => diffs.find((d) => d.jail === j.jail)?.changes.some((c) => c.live === 'L3' && !c.forced)).map((j) => j.jail)
  const restart = restartSet.filter((r) => !restartSet.some((o) => r.startsWith(`${o}.`)))
  // The live steps, with the kernel's own propagation predicted after each.
  let state: Record<string, Params> = Object.fromEntries(jails.map((j) => [j.jail, {...j.current}]))
  const steps: LiveStep[] = []
  const step = (j: TightenJail, set: Params, why: string): void => {
    if (Object.keys(set).length === 0) return
    const before = state
    state = kernelSet(jails, state, j.jail, set)
    const predicts: Record<string, Params> = {}
    const rollback: string[][] = []
    for (const x of [j, ...below(jails, j.jail)]) {
      const changed = TIGHTEN_PARAMS.filter((k) => state[x.jail]?.[k] !== before[x.jail]?.[k])
      if (changed.length === 0) continue
      predicts[x.jail] = Object.fromEntries(changed.map((k) => [k, state[x.jail]?.[k] as string]))
      rollback.push(jailM(x.jail, Object.fromEntries(changed.map((k) => [k, before[x.jail]?.[k] as string]))))
    }
    const argv = jailM(j.jail, set)
    const live = Object.keys(set).some((k) => classOf(k) === 'L2') ? 'L2' : 'L1'
    steps.push({id: `${j.path}: ${argv.join(' ')}`, jail: j.jail, argv, live, why, predicts, rollback})
  }
  // Top-down (§5.4): allow flags cleared at the highest jail (the kernel clears them below),
  // ceilings raised there (the kernel raises them below), anything loosened parent first.
  for (const j of jails) {
    const now = values[j.jail]?.now ?? {}
    const set: Params = {}
    for (const k of TIGHTEN_PARAMS) {
      if (now[k] === undefined || classOf(k) === 'L3' || now[k] === state[j.jail]?.[k]) continue
      if (k === 'children.max' && Number(now[k]) < Number(state[j.jail]?.[k])) continue
      set[k] = now[k] as string
    }
    step(j, set, j.parent === null ? 'the subtree\'s root: the kernel passes a cleared flag or a raised ceiling to every jail below' : 'below its parent: what its parent keeps, it gives up itself')
  }
  // children.max lowered bottom-up, so that each value stays below its parent's at every step.
  for (const j of [...jails].reverse()) {
    const now = values[j.jail]?.now['children.max']
    if (now !== undefined && Number(now) < Number(state[j.jail]?.['children.max'])) step(j, {'children.max': now}, 'children.max lowered children first: a child\'s must stay below its parent\'s')
  }
  // The full rollback: every changed parameter back to its recorded value, top-down.
  const rollback = jails.flatMap((j) => {
    const set = Object.fromEntries(TIGHTEN_PARAMS.filter((k) => classOf(k) !== 'L3' && j.current[k] !== undefined && expected[j.jail]?.[k] !== j.current[k]).map((k) => [k, j.current[k] as string]))
    return Object.keys(set).length === 0 ? [] : [jailM(j.jail, set)]
  })
  const looser = (c: ParamChange): boolean => (c.param.startsWith('allow.') ? c.to === 'true' : c.param === 'children.max' ? Number(c.to) > Number(c.from) : INT_RAISE.has(c.param) ? Number(c.to) < Number(c.from) : false)
  const loosens = diffs.flatMap((d) => d.changes.filter(looser).map((c) => `${d.path}: ${c.param} ${c.from} → ${c.to}`))
  return {diffs, steps, loosens, restart, expected, rollback, problems}
}

/**
 * A nest-written jail.conf with new values for some of its parameters: each statement of the
 * block that sets one is replaced (or the new line goes before the block's first `mount`/`exec.`
 * line), everything else is kept as it was. securelevel on a jail whose exec.poststart raises
 * it (nest.raise_securelevel) is changed in that hook: the boot value stays the policy's.
 */
export function editConf(text: string, block: string, set: Readonly<Params>): Result<string, string> {
  const ast = parseConfig(text, 'jail.conf')
  if (ast.isErr()) return err(ast.error.message)
  const b = ast.value.blocks.find((x) => x.name === block)
  if (!b) return err(`no block ${block}`)
  const lines = text.split('\n')
  const todo = new Map(Object.entries(set))
  const raise = new RegExp(`^(\\s*exec\\.poststart = "/usr/sbin/jail -m name=${block.replaceAll('.', '\\.')} securelevel=)(-?[0-9]+)(";.*)$`)
  const sl = todo.get('securelevel')
  if (sl !== undefined) {
    const i = lines.findIndex((l) => raise.test(l))
    if (i >= 0) {
      lines[i] = (lines[i] as string).replace(raise, `$1${sl}$3`)
      todo.delete('securelevel')
    }
  }
  const drop = new Set<number>()
  let at: number | undefined
  for (const s of b.params) {
    const {base} = splitNo(s.name)
    if (!todo.has(base) || s.isVar) continue
    drop.add(s.line - 1)
    at ??= s.line - 1
  }
  if (at === undefined) {
    const first = b.params.find((s) => s.name === 'mount' || s.name.startsWith('exec.') || s.name.startsWith('mount.fstab'))
    at = first ? first.line - 1 : b.params.length > 0 ? (b.params.at(-1)?.line ?? b.line) : b.line
  }
  const added: string[] = []
  // In the table's order, whatever order they were asked in: the same edit gives the same file.
  const order = [...TIGHTEN_PARAMS.filter((k) => todo.has(k)), ...[...todo.keys()].filter((k) => !TIGHTEN_PARAMS.includes(k))]
  for (const k of order) {
    const v = todo.get(k) as string
    const bool = k.startsWith('allow.') && (v === 'true' || v === 'false')
    const p = printParam(bool ? {name: setArg(k, v), values: []} : {name: k, values: [v]})
    if (p.isErr()) return err(p.error)
    added.push(p.value)
  }
  const out: string[] = []
  lines.forEach((l, i) => {
    if (i === at) out.push(...added)
    if (!drop.has(i)) out.push(l)
  })
  return ok(out.join('\n'))
}

/**
 * What a jail.conf block says of the parameters tighten plans, as jls -n would print them once
 * the jail runs (`allow.noraw_sockets;` → false; securelevel from nest's exec.poststart raise
 * when there is one): how a re-run after an interrupted apply finds a file still asking for
 * more than the kernel now gives.
 */
export function confParams(text: string, block: string): Params {
  const out: Params = {}
  const ast = parseConfig(text, 'jail.conf')
  if (ast.isErr()) return out
  const b = ast.value.blocks.find((x) => x.name === block)
  if (!b) return out
  for (const s of b.params) {
    if (s.isVar || s.append) continue
    const {base, negated} = splitNo(s.name)
    if (!TIGHTEN_PARAMS.includes(base)) continue
    const values = s.values.map((v) => v.map((piece) => (piece.kind === 'lit' ? piece.text : `$${piece.name}`)).join(''))
    if (base.startsWith('allow.') && values.length === 0) out[base] = String(!negated)
    else if (values.length === 1 && !negated) out[base] = values[0] as string
  }
  const raise = new RegExp(`^\\s*exec\\.poststart = "/usr/sbin/jail -m name=${block.replaceAll('.', '\\.')} securelevel=(-?[0-9]+)";`, 'm').exec(text)
  if (raise) out['securelevel'] = raise[1] as string
  return out
}
