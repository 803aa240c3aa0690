// Does a policy's devfs ruleset give its jail the devices it needs? Decided, purely, from the
// host's rulesets as its kernel holds them (src/host/tools/devfs.ts reads them).
import type {DevfsRuleRow, DevfsRulesets} from '../host/tools/devfs.js'
import type {Policy} from './policy.js'

/**
 * jail(8)'s mount.devfs applies devfs_ruleset, or ruleset 4 (devfsrules_jail) when the jail
 * sets none (usr.sbin/jail/command.c, jail(8)); nest's jail.conf always has mount.devfs.
 */
export const JAIL_DEFAULT_RULESET = 4

/** Where a device's visibility was last decided: the rule, and the chain of includes to it. */
export interface DevfsVerdict {
  visible: boolean
  /** The last rule that hid or unhid it, as `rule 100 of ruleset 1`, through its includes; null: none did. */
  by: string | null
}

/**
 * fnmatch(3) with FNM_PATHNAME, as devfs_rule_matchpath matches a device's name: `*` and `?`
 * stop at `/`, `[...]` is a set (`!` or `^` negates), `\` quotes the next character.
 */
export function matchDevPath(pattern: string, name: string): boolean {
  let re = '^'
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string
    if (c === '*') re += '[^/]*'
    else if (c === '?') re += '[^/]'
    else if (c === '\\' && i + 1 < pattern.length) re += quote(pattern[++i] as string)
    else if (c === '[' && pattern.indexOf(']', i + 2) > 0) {
      const end = pattern.indexOf(']', i + 2)
      let body = pattern.slice(i + 1, end)
      const neg = body.startsWith('!') || body.startsWith('^')
      if (neg) body = body.slice(1)
      re += `[${neg ? '^/' : ''}${body.replaceAll('\\', '\\\\').replaceAll(']', '\\]')}]`
      i = end
    } else re += quote(c)
  }
  return new RegExp(`${re}$`).test(name)
}

const quote = (c: string): string => c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')

/**
 * Is device `dev` visible in a devfs mounted with ruleset `rs`? devfs_rule_run, rule by rule in
 * order: a rule whose conditions match runs `hide` (DE_WHITEOUT on), then `unhide` (off), then
 * its `include`, only while depth is left (vfs.devfs.rule_depth, lowered by one per include).
 * `type` conditions match no device nest asks about (zfs and fd have no D_DISK, D_MEM, D_TAPE
 * or D_TTY flag); ruleset 0 hides nothing.
 */
export function devfsShows(r: DevfsRulesets, rs: number, dev: string): DevfsVerdict {
  const v: DevfsVerdict = {visible: true, by: null}
  if (rs === 0) return v
  const run = (n: number, left: number, via: string): void => {
    for (const rule of r.sets.get(n) ?? []) {
      if (!matches(rule, dev)) continue
      const here = `rule ${rule.num} of ruleset ${n}${via}`
      if (rule.hide) v.visible = false
      if (rule.unhide) v.visible = true
      if (rule.hide || rule.unhide) v.by = here
      if (rule.include !== null && left > 0) run(rule.include, left - 1, `, included by ${here}`)
    }
  }
  run(rs, r.depth, '')
  return v
}

/**
 * The rulesets not read yet whose rules could still change `dev`'s verdict under ruleset `rs`:
 * those included (depth allowing) after the last rule that decided it, in the order the kernel
 * runs the rules. An include before a later `hide` or `unhide` of `dev` cannot matter, so for
 * ruleset 4 (`include 1`, `include 2`, `include 3`, ..., `path zfs unhide`) none is needed.
 */
export function devfsNeeds(r: DevfsRulesets, rs: number, dev: string): number[] {
  let pending: number[] = []
  if (rs === 0) return pending
  const run = (n: number, left: number): void => {
    const rules = r.sets.get(n)
    if (rules === undefined) {
      pending.push(n)
      return
    }
    for (const rule of rules) {
      if (!matches(rule, dev)) continue
      if (rule.hide || rule.unhide) pending = []
      if (rule.include !== null && left > 0) run(rule.include, left - 1)
    }
  }
  run(rs, r.depth)
  return [...new Set(pending)]
}

const matches = (rule: DevfsRuleRow, dev: string): boolean => rule.types.length === 0 && (rule.path === null || matchDevPath(rule.path, dev))

/** The ruleset a policy's jail gets on its /dev. */
export function policyRuleset(p: Policy): number {
  const v = p.params['devfs_ruleset']
  return typeof v === 'string' ? Number(v) : JAIL_DEFAULT_RULESET
}

/** What is wrong with the policy's ruleset on this host, with its fix; null when nothing is. */
export function devfsProblem(p: Policy, r: DevfsRulesets): {message: string; fix: string} | null {
  const rs = policyRuleset(p)
  if (rs === 0) return null
  const rules = r.sets.get(rs) ?? []
  if (rules.length === 0) {
    // devfs_ruleset_use makes an absent ruleset, empty: the jail would see every device.
    return {
      message: `devfs_ruleset = ${rs} has no rules on this host (devfs rule -s ${rs} show prints none), so the jail's /dev would show every device`,
      fix: `define ruleset ${rs} in /etc/devfs.rules and run service devfs restart, or use devfs_ruleset = ${JAIL_DEFAULT_RULESET}`,
    }
  }
  if (p.delegate) {
    const zfs = devfsShows(r, rs, 'zfs')
    if (!zfs.visible) {
      return {
        message: `nest.delegate needs /dev/zfs in the jail, and devfs_ruleset = ${rs} hides it (${zfs.by ?? 'no rule shows it'})`,
        fix: `add "add path zfs unhide" to the end of ruleset ${rs} in /etc/devfs.rules and run service devfs restart, or use devfs_ruleset = ${JAIL_DEFAULT_RULESET}`,
      }
    }
  }
  return null
}
