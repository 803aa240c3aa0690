// RACCT/RCTL in the simulated kernel (sys/kern/kern_rctl.c, sys/kern/kern_racct.c,
// sys/kern/kern_jail.c prison_racct_*): the rules, kept as the kernel keeps them, and the
// prison_racct entries they hang on. Only `jail` subjects are modelled.
import {jailUsage} from './procs.js'
import {fail, type Kernel} from './state.js'

/** A rule as the kernel holds it: names as kern_rctl.c's tables spell them, the amount as rctl_rule_to_sbuf prints it. */
export interface SimRctlRule {
  subject: 'jail'
  /** The prison_racct's name: the jail's full dotted name. */
  id: string
  resource: string
  action: string
  /** Decimal, as printed (resources counted in millions are kept divided back). */
  amount: string
  per: 'jail' | 'process' | 'user' | 'loginclass'
}

/**
 * kern.racct.enable (a loader tunable, CTLFLAG_RDTUN: set at boot only), the prison_racct names
 * in allprison_racct's order (LIST_INSERT_HEAD: newest first), and the rules, each racct's newest
 * first (rctl_racct_add_rule: LIST_INSERT_HEAD).
 */
export interface SimRacct {
  enabled: boolean
  raccts: string[]
  rules: SimRctlRule[]
}

export const emptyRacct = (): SimRacct => ({enabled: false, raccts: [], rules: []})

/** subjectnames, resourcenames, actionnames (kern_rctl.c), in table order. */
export const SUBJECTS = ['process', 'user', 'loginclass', 'jail'] as const
export const RESOURCES = [
  'cputime', 'datasize', 'stacksize', 'coredumpsize', 'memoryuse', 'memorylocked', 'maxproc', 'openfiles', 'vmemoryuse', 'pseudoterminals', 'swapuse', 'nthr',
  'msgqqueued', 'msgqsize', 'nmsgq', 'nsem', 'nsemop', 'nshm', 'shmsize', 'wallclock', 'pcpu', 'readbps', 'writebps', 'readiops', 'writeiops',
] as const
const SIGNALS = ['sighup', 'sigint', 'sigquit', 'sigill', 'sigtrap', 'sigabrt', 'sigemt', 'sigfpe', 'sigkill', 'sigbus', 'sigsegv', 'sigsys', 'sigpipe', 'sigalrm', 'sigterm', 'sigurg', 'sigstop', 'sigtstp', 'sigchld', 'sigttin', 'sigttou', 'sigio', 'sigxcpu', 'sigxfsz', 'sigvtalrm', 'sigprof', 'sigwinch', 'siginfo', 'sigusr1', 'sigusr2', 'sigthr']
export const ACTIONS = [...SIGNALS, 'deny', 'log', 'devctl', 'throttle']

/** racct_types (kern_racct.c): which resources are deniable, decaying, sloppy, counted in millions. */
const DENIABLE = new Set(['datasize', 'stacksize', 'coredumpsize', 'memorylocked', 'maxproc', 'openfiles', 'vmemoryuse', 'pseudoterminals', 'swapuse', 'nthr', 'msgqqueued', 'msgqsize', 'nmsgq', 'nsem', 'nsemop', 'nshm', 'shmsize', 'pcpu'])
const DECAYING = new Set(['pcpu', 'readbps', 'writebps', 'readiops', 'writeiops'])
const SLOPPY = new Set(['pseudoterminals', 'swapuse', 'msgqqueued', 'msgqsize', 'nmsgq', 'nsem', 'nshm', 'shmsize'])
const IN_MILLIONS = new Set(['cputime', 'wallclock', 'pcpu'])

const INT64_MAX = 2n ** 63n - 1n
/** MAXHOSTNAMELEN (sys/param.h): prison_racct_find_locked refuses a name this long or longer. */
const MAXHOSTNAMELEN = 256

/** A rule or filter as rctl_string_to_rule reads it; undefined parts are unset. */
export interface RctlFilter {
  subject?: (typeof SUBJECTS)[number]
  id?: string
  resource?: string
  action?: string
  amount?: bigint
  per?: (typeof SUBJECTS)[number]
}

const lookup = <T extends string>(table: readonly T[], s: string): T => {
  // str2value: strcasecmp against the table, EINVAL when nothing matches.
  const hit = table.find((t) => t.toLowerCase() === s.toLowerCase())
  return hit ?? fail('EINVAL')
}

/**
 * rctl_string_to_rule: `subject:id:resource:action=amount/per`, split with strsep as the kernel
 * splits it. Subjects other than `jail` with an id are not simulated (processes, users and login
 * classes are not in the model): the caller refuses them.
 */
export function parseRule(text: string): RctlFilter {
  let rest: string | null = text
  const sep = (chars: string): string | null => {
    if (rest === null) return null
    let i = 0
    while (i < rest.length && !chars.includes(rest[i] as string)) i++
    const tok = rest.slice(0, i)
    rest = i < rest.length ? rest.slice(i + 1) : null
    return tok
  }
  const subject = sep(':')
  const id = sep(':')
  const resource = sep(':')
  const action = sep('=/')
  const amount = sep('/')
  const per = rest as string | null
  const f: RctlFilter = {}
  if (subject) f.subject = lookup(SUBJECTS, subject)
  if (id) {
    if (f.subject === undefined) fail('EINVAL')
    if (f.subject === 'jail') {
      if (id.length >= MAXHOSTNAMELEN) fail('ENAMETOOLONG')
      f.id = id
    } else f.id = id
  }
  if (resource) f.resource = lookup(RESOURCES, resource)
  if (action) f.action = lookup(ACTIONS, action)
  if (amount) {
    // str2int64: strtoul base 10, the whole string; above INT64_MAX is negative: ERANGE.
    if (!/^[0-9]+$/.test(amount)) fail('EINVAL')
    let n = BigInt(amount)
    if (n > 2n ** 64n - 1n) n = 2n ** 64n - 1n
    if (n > INT64_MAX) fail('ERANGE')
    if (f.resource !== undefined && IN_MILLIONS.has(f.resource) && n > INT64_MAX / 1_000_000n) fail('ERANGE')
    f.amount = n
  }
  if (per) f.per = lookup(SUBJECTS, per)
  return f
}

/** rctl_rule_matches. */
function matches(r: SimRctlRule, f: RctlFilter): boolean {
  if (f.subject !== undefined && (r.subject !== f.subject || (f.id !== undefined && r.id !== f.id))) return false
  if (f.resource !== undefined && r.resource !== f.resource) return false
  if (f.action !== undefined && r.action !== f.action) return false
  if (f.amount !== undefined && r.amount !== String(f.amount)) return false
  if (f.per !== undefined && r.per !== f.per) return false
  return true
}

/** rctl_rule_to_sbuf: `subject:id:resource:action=amount`, `/per` when per is not the subject. */
export const ruleText = (r: SimRctlRule): string => `${r.subject}:${r.id}:${r.resource}:${r.action}=${r.amount}${r.per === r.subject ? '' : `/${r.per}`}`

/** The racct syscalls: ENOSYS with racct off, EPERM in a jail (priv_check PRIV_RCTL_*: not granted to jails by prison_priv_check). */
function check(k: Kernel, viewer: number): SimRacct {
  if (!k.racct.enabled) fail('ENOSYS')
  if (viewer !== 0) fail('EPERM')
  return k.racct
}

/** The prison_raccts that still have a reference: a jail of that name (prison_racct_attach) or a rule (prison_racct_hold). */
function prune(k: Kernel): void {
  const held = new Set([...k.jails.map((j) => j.name), ...k.racct.rules.map((r) => r.id)])
  k.racct.raccts = k.racct.raccts.filter((n) => held.has(n))
}

/** prison_racct_find_locked: the entry of that name, made (at the head of the list) when there is none. */
export function racctFind(k: Kernel, name: string): void {
  if (!k.racct.enabled) return
  prune(k)
  if (!k.racct.raccts.includes(name)) k.racct.raccts.unshift(name)
}

/** sys_rctl_add_rule: the per defaults to the subject; fully specified; rctl_rule_add's refusals; duplicates replaced. */
export function rctlAdd(k: Kernel, viewer: number, text: string): void {
  const ra = check(k, viewer)
  const f = parseRule(text)
  if (f.subject === undefined) fail('EINVAL')
  if (f.per === undefined) f.per = f.subject
  if (f.id === undefined || f.resource === undefined || f.action === undefined || f.amount === undefined) fail('EINVAL')
  const rule: SimRctlRule = {subject: 'jail', id: f.id as string, resource: f.resource as string, action: f.action as string, amount: String(f.amount), per: f.per as SimRctlRule['per']}
  const res = rule.resource
  if (rule.action === 'deny' && !DENIABLE.has(res) && res !== 'memoryuse' && res !== 'pcpu') fail('EOPNOTSUPP')
  if (rule.action === 'throttle' && (!DECAYING.has(res) || res === 'pcpu')) fail('EOPNOTSUPP')
  if (rule.per === 'process' && SLOPPY.has(res)) fail('EOPNOTSUPP')
  // "Make sure there are no duplicated rules. Also, for the "deny" rules, remove ones differing only by "amount"."
  const same: RctlFilter = {subject: rule.subject, id: rule.id, resource: res, action: rule.action, per: rule.per, ...(rule.action === 'deny' ? {} : {amount: f.amount as bigint})}
  ra.rules = ra.rules.filter((r) => !matches(r, same))
  racctFind(k, rule.id)
  ra.rules.unshift(rule)
}

/** sys_rctl_remove_rule: every matching rule; none is ESRCH. */
export function rctlRemove(k: Kernel, viewer: number, text: string): void {
  const ra = check(k, viewer)
  const f = parseRule(text)
  const before = ra.rules.length
  ra.rules = ra.rules.filter((r) => !matches(r, f))
  if (ra.rules.length === before) fail('ESRCH')
  prune(k)
}

/** sys_rctl_get_rules: the rules matching, racct by racct in allprison_racct's order. */
export function rctlRules(k: Kernel, viewer: number, text: string): SimRctlRule[] {
  const ra = check(k, viewer)
  const f = parseRule(text)
  prune(k)
  return ra.raccts.flatMap((name) => ra.rules.filter((r) => r.id === name && matches(r, f)))
}

/**
 * sys_rctl_get_racct for a jail: every resource (a jail's racct is printed sloppy=1) with the
 * amount the jail's prison_racct holds. What the model's processes use is charged as
 * kern_racct.c charges it, to the process's prison and every ancestor (so a parent's totals
 * include its descendants'): maxproc and nthr (one thread each), memorylocked (mlock), and
 * the SysV objects their processes made, nmsgq, nsem (semaphores), nshm, shmsize
 * (kernel/procs.ts jailUsage). The other resources are not measured: 0. Other subjects, or
 * no subject id: EINVAL.
 */
export function rctlUsage(k: Kernel, viewer: number, text: string): Array<[string, string]> {
  check(k, viewer)
  const f = parseRule(text)
  if (f.subject !== 'jail' || f.id === undefined) fail('EINVAL')
  const used = jailUsage(k, f.id as string)
  return RESOURCES.map((r) => [r, String(used[r] ?? 0)])
}

/** sys_rctl_get_limits: a process subject only (EOPNOTSUPP for the others, EINVAL with none). */
export function rctlLimits(k: Kernel, viewer: number, text: string): never {
  check(k, viewer)
  const f = parseRule(text)
  if (f.subject === undefined) fail('EINVAL')
  return fail('EOPNOTSUPP')
}
