// rctl(8) (usr.bin/rctl/rctl.c): -a RULE, -r FILTER, -u FILTER, -l FILTER, or FILTER (list; no
// argument: every rule), -h humanized amounts, -n numeric ids. The kernel's side is
// kernel/rctl.ts (kern_rctl.c). Only `jail` subjects are simulated: a process, user, group or
// login class with an id is refused as not simulated (no passwd, group or processes to resolve).
import {loadKernel, withKernel} from '../store.js'
import {rctlAdd, rctlLimits, rctlRemove, rctlRules, rctlUsage, ruleText} from '../kernel/rctl.js'
import {errnoOf, getopt, notSimulated, strerror, type Tool, type ToolCtx, UsageError} from './common.js'

const USAGE = 'usage: rctl [ -h ] [-a rule | -l filter | -r filter | -u filter | filter]\n'

class RctlExit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`)
  }
}

/**
 * expand_number(3) (lib/libutil/expand_number.c): strtoumax base 0 (decimal, 0x hex, leading-0
 * octal), then nothing, or one unit of b k m g t p e (any case; powers of 1024), a unit other
 * than b optionally followed by b; anything else EINVAL, a value past 64 bits ERANGE.
 */
export function expandNumber(s: string): bigint | undefined {
  const m = /^\s*(\+?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)(?:([bkmgtpeBKMGTPE])([bB]?))?$/.exec(s)
  if (!m) return undefined
  const digits = m[2] as string
  let n = digits.startsWith('0x') || digits.startsWith('0X') ? BigInt(digits) : digits.length > 1 && digits.startsWith('0') ? BigInt(`0o${digits.slice(1)}`) : BigInt(digits)
  const unit = (m[3] ?? '').toLowerCase()
  if (unit === 'b' && m[4] !== '') return undefined
  n <<= BigInt(10 * 'bkmgtpe'.indexOf(unit === '' ? 'b' : unit))
  return n >= 2n ** 64n ? undefined : n
}

/**
 * humanize_number(3) as rctl calls it (buf of 6, suffix "", HN_AUTOSCALE, HN_DECIMAL |
 * HN_NOSPACE): divisor 1024, prefixes K M G T P E, divided while it does not fit four digits,
 * one decimal below 10 (lib/libutil/humanize_number.c, the version with divisordeccut 973).
 */
export function humanize(q0: bigint): string {
  const divisor = 1024n
  const cut = 973n
  const max = 10_000n // 10^(len - baselen): len 6, baselen 2 (one digit, the NUL)
  let q = q0
  let rem = 0n
  let i = 0
  while ((q >= max || (q === max - 1n && (rem >= cut || rem >= divisor / 2n))) && i < 6) {
    rem = q % divisor
    q /= divisor
    i++
  }
  const prefix = ['', 'K', 'M', 'G', 'T', 'P', 'E'][i] as string
  if (((q === 9n && rem < cut) || q < 9n) && i > 0) {
    const s1 = q + (rem * 10n + divisor / 2n) / divisor / 10n
    const s2 = ((rem * 10n + divisor / 2n) / divisor) % 10n
    return `${s1}.${s2}${prefix}`
  }
  return `${q + (rem + divisor / 2n) / divisor}${prefix}`
}

/** humanize_amount: the amount of `subject:id:resource:action=amount/per` humanized when it is a plain number. */
function humanizeRule(rule: string): string {
  const m = /^([^:]*:[^:]*:[^:]*:[^=/]*)=([^/]*)(\/.*)?$/.exec(rule)
  if (!m || !/^[0-9]+$/.test(m[2] as string)) return rule
  return `${m[1]}=${humanize(BigInt(m[2] as string))}${m[3] ?? ''}`
}

const SUBJECT_ALIAS: Record<string, string> = {u: 'user', g: 'group', p: 'process', l: 'loginclass', c: 'loginclass', class: 'loginclass', j: 'jail'}

/**
 * expand_rule: the subject's one-letter aliases, user and group names resolved (not simulated),
 * then expand_amount (the amount through expand_number). A rule without a subject id:
 * `malformed rule '%s': missing subject`. A filter without an amount passes unchanged.
 */
function expandRule(ctx: ToolCtx, rule: string): string | undefined {
  const c1 = rule.indexOf(':')
  if (c1 < 0) {
    ctx.err(`rctl: malformed rule '${rule}': missing subject\n`)
    return undefined
  }
  let subject = rule.slice(0, c1)
  const after = rule.slice(c1 + 1)
  const c2 = after.indexOf(':')
  const textid = c2 < 0 ? after : after.slice(0, c2)
  const rest = c2 < 0 ? '' : after.slice(c2 + 1)
  subject = SUBJECT_ALIAS[subject.toLowerCase()] ?? subject
  if (textid !== '' && !/^jail$/i.test(subject)) notSimulated(`rctl subject ${subject}:${textid} (only jail subjects are simulated)`)
  const resolved = `${subject}:${textid}:${rest}`
  // expand_amount: subject, id, resource split at ':', action at '=' or '/', amount at '/'.
  const m = /^([^:]*):([^:]*):([^:]*):([^=/]*)[=/]([^/]*)(?:\/(.*))?$/.exec(resolved)
  if (!m || m[5] === '') return resolved
  const num = expandNumber(m[5] as string)
  if (num === undefined) {
    ctx.err(`rctl: malformed rule '${rule}': invalid numeric value '${m[5]}'\n`)
    return undefined
  }
  return `${m[1]}:${m[2]}:${m[3]}:${m[4]}=${num}${m[6] === undefined ? '' : `/${m[6]}`}`
}

/** enosys(): kern.racct.enable is 0 (the simulated kernel always has RACCT and RCTL compiled in). */
function enosys(ctx: ToolCtx): never {
  ctx.err('rctl: RACCT/RCTL present, but disabled; enable using kern.racct.enable=1 tunable\n')
  throw new RctlExit(1)
}

export const rctl: Tool = async (ctx, argv) => {
  try {
    return await run(ctx, argv)
  } catch (error) {
    if (error instanceof RctlExit) return error.code
    throw error
  }
}

async function run(ctx: ToolCtx, argv: string[]): Promise<number> {
  const o = getopt(argv, 'ahlnru', () => {
    throw new UsageError(USAGE, 1)
  })
  const a = o.flags.has('a')
  const l = o.flags.has('l')
  const r = o.flags.has('r')
  const u = o.flags.has('u')
  const h = o.flags.has('h')
  if (Number(a) + Number(l) + Number(r) + Number(u) > 1) {
    ctx.err('rctl: at most one of -a, -l, -r, or -u may be specified\n')
    return 1
  }
  // A syscall's failure: ENOSYS is enosys(), anything else warn(3)'s `MESSAGE: strerror`.
  const call = async <T>(what: string, fn: () => T | Promise<T>): Promise<T | undefined> => {
    try {
      return await fn()
    } catch (error) {
      const e = errnoOf(error)
      if (!e) throw error
      if (e === 'ENOSYS') enosys(ctx)
      ctx.err(`rctl: ${what}: ${strerror(error)}\n`)
      return undefined
    }
  }
  const print = (rules: string[]): void => ctx.out(rules.map((x) => `${h ? humanizeRule(x) : x}\n`).join(''))
  if (o.rest.length === 0) {
    if (a || l || r || u) throw new UsageError(USAGE, 1)
    // `rctl` alone: show_rules("::"), and exit 0 whatever it says.
    const rules = await call("failed to show rules for '::'", () => rctlRules(loadKernel(ctx.root), ctx.jid, '::'))
    if (rules) print(rules.map(ruleText))
    return 0
  }
  let errors = 0
  for (const given of o.rest) {
    const rule = expandRule(ctx, given)
    if (rule === undefined) {
      errors++
      continue
    }
    let ok: unknown
    if (a) ok = await call(`failed to add rule '${given}'`, () => withKernel(ctx.root, (k) => (rctlAdd(k, ctx.jid, rule), true)))
    else if (r) ok = await call(`failed to remove rule '${given}'`, () => withKernel(ctx.root, (k) => (rctlRemove(k, ctx.jid, rule), true)))
    else if (l) ok = await call(`failed to get limits for '${given}'`, () => rctlLimits(loadKernel(ctx.root), ctx.jid, rule))
    else if (u) {
      const usage = await call(`failed to show resource consumption for '${given}'`, () => rctlUsage(loadKernel(ctx.root), ctx.jid, rule))
      if (usage) ctx.out(usage.map(([res, n]) => `${res}=${h ? humanize(BigInt(n)) : n}\n`).join(''))
      ok = usage
    } else {
      const rules = await call(`failed to show rules for '${given}'`, () => rctlRules(loadKernel(ctx.root), ctx.jid, rule))
      if (rules) print(rules.map(ruleText))
      ok = rules
    }
    if (ok === undefined) errors++
  }
  return errors
}
