// devfs rulesets in the kernel model (sys/fs/devfs/devfs_rule.c) and the devfs(8) `rule`
// commands over them (sbin/devfs/rule.c, devfs.c), as pure functions on the model: the devfs
// tool and the simulated rc.d/devfs (src/sim/devfsrules.ts) run the same code.
//
// A ruleset is `Kernel.devfsRulesets[N]`: its rules in order, each as rulespec_outfp prints it
// without the rule number (`path zfs unhide`, `include 1`, `hide`, `type disk path da* hide`).
// Rules are numbered as devfs_rule_autonumber numbers them (the last rule's number + 100, 100
// for the first), so the n-th rule is rule n*100; explicit rule numbers are not simulated.
import type {Kernel} from './state.js'

/** sys/fs/devfs/devfs_vfsops.c / devfs_devs.c: `unsigned devfs_rule_depth = 1` (vfs.devfs.rule_depth). */
export const DEFAULT_RULE_DEPTH = 1

/** The devices below /dev whose visibility the simulator models: `fd` (jail(8)'s fdescfs) and `zfs` (libzfs). */
export const SIM_DEVICES = ['fd', 'zfs']

/** One rule's parts, as struct devfs_rule holds what rule.c's rulespec_intok read. */
export interface DevfsRule {
  types: string[]
  path: string | null
  hide: boolean
  unhide: boolean
  include: number | null
}

/** rule.c ist_type, in its order (rulespec_outfp prints the types in this order). */
const TYPES = ['disk', 'mem', 'tape', 'tty']

/** What one `devfs rule` command did: its exit status, and what it printed. */
export interface DevfsResult {
  code: number
  out: string
  err: string
}

/** Thrown for a form the simulator does not emulate (the tool turns it into exit 69). */
export class DevfsNotSimulated extends Error {}

class Errx extends Error {}

/** err(3)/errx(3) after rule_main's setprogname("devfs rule"). */
const errx = (msg: string): never => {
  throw new Errx(`devfs rule: ${msg}\n`)
}

/** devfs.c atonum: strtoul(s, &cp, 10), at most UINT16_MAX, nothing after the digits. */
export function atonum(s: string): number | undefined {
  // strtoul skips leading blanks and takes an optional sign; "" converts to 0 with *cp == '\0'.
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d*)$/.exec(s)
  if (!m) return undefined
  const digits = m[2] ?? ''
  // No digits: strtoul converts nothing and leaves cp at s, so only "" passes (*cp == '\0').
  if (digits === '') return s === '' ? 0 : undefined
  const n = Number(digits)
  if (m[1] === '-') return n === 0 ? 0 : undefined // strtoul negates: a huge value, > UINT16_MAX
  return n > 65_535 ? undefined : n
}

/** devfs.c eatonum: atonum, or `errx(1, "error converting to number: %s")`. */
export function eatonum(s: string): number {
  const n = atonum(s)
  return n === undefined ? errx(`error converting to number: ${s}`) : n
}

/** rule.c rulespec_intok, for the parts the simulator models; the rule in printed form. */
export function parseRulespec(av: string[]): DevfsRule {
  const r: DevfsRule = {types: [], path: null, hide: false, unhide: false, include: null}
  let i = 0
  if (av[0] === undefined) errx('unexpected end of rulespec')
  // "If the first argument is an integer, treat it as a rule number."
  if (atonum(av[0] as string) !== undefined) throw new DevfsNotSimulated(`devfs rule add with a rule number (${av[0]})`)
  for (;;) {
    const w = av[i]
    if (w === 'type') {
      const t = av[i + 1]
      if (t === undefined) errx('expecting argument for type')
      if (!TYPES.includes(t as string)) errx(`unknown type: ${t}`)
      if (!r.types.includes(t as string)) r.types.push(t as string)
      i += 2
    } else if (w === 'path') {
      const p = av[i + 1]
      if (p === undefined) errx('expecting argument for path')
      // DEVFS_MAXPTRNLEN is 200 (sys/fs/devfs/devfs.h): a longer pattern is truncated with a warning.
      if ((p as string).length >= 200) throw new DevfsNotSimulated('a devfs path pattern of 200 characters or more')
      r.path = p as string
      i += 2
    } else break
  }
  for (; av[i] !== undefined; ) {
    const w = av[i] as string
    if (w === 'hide') {
      r.hide = true
      i++
    } else if (w === 'unhide') {
      r.unhide = true
      i++
    } else if (w === 'user' || w === 'group' || w === 'mode') {
      if (av[i + 1] === undefined) errx(`expecting argument for ${w}`)
      throw new DevfsNotSimulated(`devfs rule ${w} (owners and modes of devices)`)
    } else if (w === 'include') {
      const n = av[i + 1]
      if (n === undefined) errx('expecting argument for include')
      r.include = eatonum(n as string)
      i += 2
    } else errx(`unknown argument: ${w}`)
  }
  return r
}

/** rule.c rulespec_outfp without the leading rule number. */
export function printRule(r: DevfsRule): string {
  const parts: string[] = []
  for (const t of TYPES) if (r.types.includes(t)) parts.push(`type ${t}`)
  if (r.path !== null) parts.push(`path ${r.path}`)
  if (r.hide) parts.push('hide')
  if (r.unhide) parts.push('unhide')
  if (r.include !== null) parts.push(`include ${r.include}`)
  return parts.join(' ')
}

/** A rule of the model (its printed form) taken apart again. */
export function readRule(text: string): DevfsRule {
  const r: DevfsRule = {types: [], path: null, hide: false, unhide: false, include: null}
  const w = text.split(' ').filter((x) => x !== '')
  for (let i = 0; i < w.length; i++) {
    const x = w[i]
    if (x === 'type') r.types.push(w[++i] ?? '')
    else if (x === 'path') r.path = w[++i] ?? ''
    else if (x === 'hide') r.hide = true
    else if (x === 'unhide') r.unhide = true
    else if (x === 'include') r.include = Number(w[++i])
  }
  return r
}

/**
 * Does ruleset N exist in the kernel (devfs_ruleset_bynum)? It is created by its first rule or
 * by a mount that uses it (devfs_ruleset_use), and reaped only once it has no rules and no
 * reference: neither a devfs mount using it nor an `include` rule naming it (ds_refcount,
 * devfs_rule_insert / devfs_rule_delete / devfs_ruleset_reap). 0 is never a ruleset.
 */
export function rulesetExists(k: Kernel, n: number): boolean {
  if (n === 0) return false
  if ((k.devfsRulesets[String(n)] ?? []).length > 0) return true
  if (k.mounts.some((m) => m.fstype === 'devfs' && (m.ruleset ?? 0) === n)) return true
  return Object.values(k.devfsRulesets).some((rules) => rules.some((r) => readRule(r).include === n))
}

/** Every ruleset number the kernel holds, ascending (devfs_rulesets is kept sorted). */
export function heldRulesets(k: Kernel): number[] {
  const cand = new Set<number>()
  for (const [n, rules] of Object.entries(k.devfsRulesets)) {
    cand.add(Number(n))
    for (const r of rules) {
      const inc = readRule(r).include
      if (inc !== null) cand.add(inc)
    }
  }
  for (const m of k.mounts) if (m.fstype === 'devfs') cand.add(m.ruleset ?? 0)
  return [...cand].filter((n) => rulesetExists(k, n)).sort((a, b) => a - b)
}

/** The ruleset of the devfs mounted on the caller's /dev (devfs_rid_input's dm->dm_ruleset). */
function devRuleset(k: Kernel): number {
  return k.mounts.filter((m) => m.fstype === 'devfs' && m.on === '/dev' && m.by === 0).at(-1)?.ruleset ?? 0
}

/**
 * `devfs rule [-s N] CMD ...` (rule.c rule_main and its commands), run by the host's root
 * (the caller checks PRIV_DEVFS_RULE first). Changes `k` in place for add and delset.
 * `mountRuleset`: the ruleset of the mount `devfs -m` named (default: the host's /dev).
 */
export function devfsRule(k: Kernel, argv: string[], mountRuleset?: number): DevfsResult {
  let out = ''
  try {
    let rsnum = 0
    const args = [...argv]
    // getopt(ac, av, "s:"): -s N, -sN, stopping at the first operand or `--`.
    while (args.length > 0 && (args[0] as string).startsWith('-') && args[0] !== '-') {
      const a = args.shift() as string
      if (a === '--') break
      if (a.startsWith('-s')) {
        const v = a.length > 2 ? a.slice(2) : args.shift()
        if (v === undefined) return usage('devfs rule: option requires an argument -- s\n')
        rsnum = eatonum(v)
      } else return usage(`devfs rule: illegal option -- ${a[1] ?? ''}\n`)
    }
    const [cmd, ...rest] = args
    if (cmd === undefined) return usage('')
    // devfs_rid_input: ruleset 0 from the userland means the mount point's own ruleset.
    // With `devfs -m MP`, the mount point is that mount (its dm_ruleset), not /dev.
    const rs = rsnum === 0 ? (mountRuleset ?? devRuleset(k)) : rsnum
    const key = String(rs)
    switch (cmd) {
      case 'add': {
        if (rest.length < 1) return usage('')
        if (rest[0] === '-') throw new DevfsNotSimulated('devfs rule add - (rules from standard input)')
        const r = parseRulespec(rest)
        if (rs === 0) errx('ioctl DEVFSIO_RADD: Input/output error')
        // devfs_rule_insert: an include of a ruleset that does not exist is ESRCH.
        if (r.include !== null && !rulesetExists(k, r.include)) errx('ioctl DEVFSIO_RADD: No such process')
        k.devfsRulesets[key] = [...(k.devfsRulesets[key] ?? []), printRule(r)]
        return {code: 0, out, err: ''}
      }
      case 'delset':
        if (rest.length !== 0) return usage('')
        // rule_delset: RGETNEXT from rule 0 and RDEL each; a ruleset that does not exist is
        // the ENOENT that ends the loop, so deleting an absent ruleset succeeds.
        delete k.devfsRulesets[key]
        return {code: 0, out, err: ''}
      case 'show': {
        const rules = rulesetExists(k, rs) ? (k.devfsRulesets[key] ?? []) : []
        if (rest[0] !== undefined) {
          // rule_show with a rule number: eatoi, then RGETNEXT from n-1; printed only if it is n.
          const n = eatoi(rest[0])
          if (!rulesetExists(k, rs)) errx('ioctl DEVFSIO_RGETNEXT: No such file or directory')
          const idx = rules.findIndex((_r, i) => (i + 1) * 100 > n - 1)
          if (idx < 0) errx('ioctl DEVFSIO_RGETNEXT: No such file or directory')
          if ((idx + 1) * 100 === n) out += `${n} ${rules[idx]}\n`
          return {code: 0, out, err: ''}
        }
        rules.forEach((r, i) => {
          out += `${(i + 1) * 100} ${r}\n`
        })
        return {code: 0, out, err: ''}
      }
      case 'showsets':
        if (rest.length !== 0) return usage('')
        for (const n of heldRulesets(k)) out += `${n}\n`
        return {code: 0, out, err: ''}
      case 'apply':
      case 'applyset':
      case 'del':
        throw new DevfsNotSimulated(`devfs rule ${cmd}`)
      default:
        return errx(`unknown command: ${cmd}`)
    }
  } catch (e) {
    if (e instanceof Errx) return {code: 1, out, err: e.message}
    throw e
  }
}

/** devfs.c eatoi: strtol, at most INT_MAX, nothing after the digits. */
function eatoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d*)$/.exec(s)
  const n = m ? Number(m[1] === '' || m[1] === '+' || m[1] === '-' ? 0 : m[1]) : Number.NaN
  if (!m || n > 2_147_483_647 || Number.isNaN(n)) errx(`error converting to integer: ${s}`)
  return n
}

/** devfs.c usage() of current sources (getopt's own complaint first, when there is one). */
export const DEVFS_USAGE = 'usage: \tdevfs [-m mount-point] [-s ruleset] rule ...\n\tdevfs [-m mount-point] ruleset ...\n'

function usage(getoptMsg: string): DevfsResult {
  return {code: 1, out: '', err: `${getoptMsg}${DEVFS_USAGE}`}
}

/**
 * fnmatch(3) with FNM_PATHNAME, as devfs_rule_matchpath calls it: `*` and `?` never match a
 * `/`, `[...]` is a bracket expression (`!` or `^` negates), a backslash quotes the next character.
 */
export function fnmatchPath(pattern: string, name: string): boolean {
  let re = '^'
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string
    if (c === '*') re += '[^/]*'
    else if (c === '?') re += '[^/]'
    else if (c === '\\' && i + 1 < pattern.length) re += escapeRe(pattern[++i] as string)
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2)
      if (end < 0) {
        re += '\\['
        continue
      }
      let body = pattern.slice(i + 1, end)
      const neg = body.startsWith('!') || body.startsWith('^')
      if (neg) body = body.slice(1)
      re += `[${neg ? '^/' : ''}${body.replaceAll('\\', '\\\\').replaceAll(']', '\\]')}]`
      i = end
    } else re += escapeRe(c)
  }
  return new RegExp(`${re}$`).test(name)
}

const escapeRe = (c: string): string => c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')

/**
 * Is device `dev` (a name below /dev, such as `zfs` or `fd`) visible through ruleset `rs`?
 * devfs_rules_apply: nothing is hidden under ruleset 0; otherwise the ruleset's rules run in
 * order on the entry (devfs_ruleset_applyde): a matching rule's `hide` sets DE_WHITEOUT and
 * `unhide` clears it (devfs_rule_run), and `include N` runs ruleset N's rules only while the
 * depth left is above 0, starting from vfs.devfs.rule_depth (1 by default: the rules of an
 * included ruleset run, the includes inside it do not). A rule with a `type` condition never
 * matches here: the simulated devices' cdevsw have none of D_DISK, D_MEM, D_TAPE, D_TTY.
 */
export function devfsVisible(k: Kernel, rs: number, dev: string): boolean {
  if (rs === 0) return true
  const depth = k.sysctl['vfs.devfs.rule_depth'] ?? DEFAULT_RULE_DEPTH
  let visible = true
  const apply = (n: number, left: number): void => {
    for (const text of k.devfsRulesets[String(n)] ?? []) {
      const r = readRule(text)
      if (r.types.length > 0) continue
      if (r.path !== null && !fnmatchPath(r.path, dev)) continue
      if (r.hide) visible = false
      if (r.unhide) visible = true
      if (r.include !== null && left > 0) apply(r.include, left - 1)
    }
  }
  apply(rs, depth)
  return visible
}
