// The audit as one pure function of the facts: the grant verdicts first (the rules read them),
// then every rule of the catalogue, then the least set of each tree (../shared/audit-rules.md
// §2.3, §5.1). The service collects the facts; this decides.
import type {AuditFacts} from './facts.js'
import {type AuditReport, type Finding, severityRank} from './finding.js'
import {analyseTree} from './analysis.js'
import {classifyGrants} from './grants.js'
import {leastParams} from './least.js'
import type {RuleContext} from './rule.js'
import {GRANT_RULES} from './rules/grants-index.js'
import {HYGIENE_RULES} from './rules/hygiene-index.js'

export const RULES = [...GRANT_RULES, ...HYGIENE_RULES]

/** Highest severity first, then by jail (tree order: a parent before its children), then rule id. */
const byWeight = (a: Finding, b: Finding): number =>
  severityRank(b.severity) - severityRank(a.severity) || (a.jail < b.jail ? -1 : a.jail > b.jail ? 1 : 0) || (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0)

/**
 * `whole`: the audit of every jail, which also reports what belongs to no one jail (a host
 * jail.conf jail(8) cannot read, a writable /etc/jail.conf.d), as jail `(host)`.
 */
export function auditReport(facts: AuditFacts, scope: ReadonlySet<string>, o: {whole?: boolean} = {}): AuditReport {
  const analysis = analyseTree(facts)
  const grants = classifyGrants(facts, scope, analysis)
  const ctx: RuleContext = {facts, scope, grants}
  const findings = RULES.flatMap((r) => r.check(ctx)).map((f) => (f.jail === '' ? {...f, jail: '(host)'} : f))
    .filter((f) => scope.has(f.jail) || (o.whole === true && f.jail === '(host)')).sort(byWeight)
  const limits: string[] = []
  if (!facts.host.dtrace) limits.push('no DTrace observation (priv-ok/priv-err probes, audit-rules.md O5): a privilege used only between two audits (a ping) is not seen; procstat -f shows what is open at the time of the audit')
  if (!facts.host.racct) limits.push('kern.racct.enable is 0: rctl -u answers nothing, so memory locked and SysV objects per jail come from ipcs only (set kern.racct.enable=1 in /boot/loader.conf and reboot)')
  return {jails: [...scope].sort(), grants: [...grants], findings, least: leastParams(analysis, scope), limits}
}
