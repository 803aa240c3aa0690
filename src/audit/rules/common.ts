// What the grant rules (A, M, S, H, I, Z) share: the verdicts they read, the fix lines they
// write, and the descendants a change reaches (§2.1: clearing an allow flag clears it in every
// descendant at once; raising enforce_statfs or securelevel raises the lower ones; lowering
// children.max clamps each descendant at depth d to max − d).
import type {AuditFacts, Evidence} from '../facts.js'
import type {Finding, Grant, LiveClass, Severity} from '../finding.js'
import {configOf, descendantsOf, flag, int, jailOf, parentName, type RuleContext} from '../rule.js'
import {noForm} from '../least.js'

export const grantOf = (ctx: RuleContext, jail: string, param: string): Grant | undefined => ctx.grants.find((g) => g.jail === jail && g.param === param)

/** Running descendants that hold a flag now (the ones a `jail -m … allow.noX` at J also changes). */
export const holdersBelow = (f: AuditFacts, jail: string, param: string): string[] => descendantsOf(f, jail).filter((d) => flag(jailOf(f, d)?.params[param]))

/** J is the highest jail where the flag is unused: its parent is out of scope or does not call it unused. */
export function highestUnused(ctx: RuleContext, g: Grant): boolean {
  const p = parentName(g.jail)
  if (p === null || !ctx.scope.has(p)) return true
  return grantOf(ctx, p, g.param)?.verdict !== 'unused'
}

/** The config file of a jail, for the fix line. */
export const confFile = (f: AuditFacts, jail: string): string => configOf(f, jail)?.file ?? `/etc/jail.conf.d/${jail}.conf`

/** `allow.noraw_sockets;` in the config and `jail -m name=J allow.noraw_sockets` live. */
export function flagOffFix(f: AuditFacts, jail: string, param: string, live: LiveClass): string {
  const off = noForm(param)
  return `${off}; in ${confFile(f, jail)}; live: jail -m name=${jail} ${off}${live === 'L2' ? ' (mounts made before stay; nest unmounts them at stop)' : ''}`
}

export function setFix(f: AuditFacts, jail: string, param: string, value: string, live: LiveClass): string {
  const conf = `${param} = "${value}"; in ${confFile(f, jail)}`
  if (live === 'L1' || live === 'L2') return `${conf}; live: jail -m name=${jail} ${param}=${value}`
  if (live === 'L3') return `${conf}; then restart ${jail} (jail -rc: a create-time or namespace change)`
  return conf
}

/** Descendants whose value of a numeric parameter is below v (the kernel raises them to v). */
export const raisedBelow = (f: AuditFacts, jail: string, param: string, v: number): string[] => descendantsOf(f, jail).filter((d) => {
  const x = int(jailOf(f, d)?.params[param])
  return x !== null && x < v
})

export function finding(rule: string, severity: Severity, jail: string, what: string, fix: string, live: LiveClass, evidence: Evidence[], affects: string[] = [], param?: string): Finding {
  return {rule, severity, jail, finding: what, fix, live, ...(param !== undefined ? {param} : {}), affects, evidence}
}

/** Grants in scope with a verdict, for a param (or a param test). */
export const grantsWith = (ctx: RuleContext, test: (param: string) => boolean, verdict?: Grant['verdict']): Grant[] =>
  ctx.grants.filter((g) => ctx.scope.has(g.jail) && test(g.param) && (verdict === undefined || g.verdict === verdict))

export const isVnet = (f: AuditFacts, jail: string): boolean => jailOf(f, jail)?.params['vnet'] === 'new'
