// A verdict for every grant each jail in scope holds (audit-rules §1.1, §2): every allow flag
// that is on (the default ones too), children.max > 0, enforce_statfs < 2, securelevel < 1,
// sysv* other than disable, and devfs_ruleset where a devfs is mounted with it.
//   needed   observed, lifecycle, config, declared, or a child below needs it (needs flow up: a
//            child's grant must be held by every ancestor, kern_jail.c, §2.1);
//   unused   with the evidence of non-use; a grant used only while the jail and its children
//            start needs nest's lifecycle record of such a start (§1.1.2), else it is unknown;
//   unknown  with what this host cannot observe.
// Sampled evidence: without DTrace (facts.host.dtrace is false) a raw socket or a foreign
// socket family is seen only while a process holds it (procstat -f, one sample). nest calls the
// grant unused when no process of the jail or below holds one, and says that a transient use (a
// ping) escapes the sample: the catalogue asks for O5 over a window to be sure (§3 A01), and the
// tighten workflow's twin lifecycle and priv-err watch (§5.3, §5.5) are what catches that case.
// Default flags and flags seen only by the priv provider stay unknown: the least set keeps them.
import type {AuditFacts, Evidence} from './facts.js'
import type {Grant} from './finding.js'
import {type TreeAnalysis, analyseTree, currentSysv, flagVerdict, heldFlags} from './analysis.js'
import {configEvidence, jlsEvidence} from './evidence.js'
import {leastOf, noForm} from './least.js'
import {SYSV, type Need} from './lifecycle.js'
import {configOf, int, jailOf, text} from './rule.js'

const depthOrder = (a: string, b: string): number => a.localeCompare(b)

const needReason = (needs: readonly Need[]): string => `${needs[0]!.kind}: ${needs[0]!.why}${needs.length > 1 ? ` (and ${needs.length - 1} more)` : ''}`
const needEvidence = (needs: readonly Need[]): Evidence[] => needs.slice(0, 3).flatMap((n) => n.evidence)

export function classifyGrants(facts: AuditFacts, scope: ReadonlySet<string>, analysis?: TreeAnalysis): Grant[] {
  const t = analysis ?? analyseTree(facts)
  const least = leastOf(t)
  const out: Grant[] = []
  for (const name of [...scope].sort(depthOrder)) {
    const j = jailOf(facts, name)
    const a = t.jails.get(name)
    if (j === undefined || j.dying || a === undefined) continue
    const l = least.get(name) ?? {}
    const g = (param: string, value: string, v: Pick<Grant, 'verdict' | 'reason' | 'evidence'>, lv: string | null): Grant => ({jail: name, param, value, ...v, least: lv})
    for (const param of heldFlags(j)) {
      const v = flagVerdict(t, name, param)
      out.push(g(param, 'true', v, l[param] === 'false' ? noForm(param) : null))
    }
    const cm = int(j.params['children.max'])
    if (cm !== null && cm > 0) {
      const lv = l['children.max'] !== undefined && l['children.max'] !== String(cm) ? `children.max=${l['children.max']}` : null
      const ev = [jlsEvidence(facts, j, ['children.max', 'children.cur'])]
      out.push(g('children.max', String(cm), a.cm > 0 ? {verdict: 'needed', reason: `lifecycle: ${a.cmWhy}`, evidence: ev} : {verdict: 'unused', reason: a.cmWhy, evidence: ev}, lv))
    }
    const es = int(j.params['enforce_statfs'])
    if (es !== null && es < 2) {
      const target = int(l['enforce_statfs']) ?? es
      const ev = [jlsEvidence(facts, j, ['enforce_statfs'])]
      const mountUnknown = [...a.unknown].find(([k]) => k === 'allow.mount' || k.startsWith('allow.mount.'))
      if (target > es) out.push(g('enforce_statfs', String(es), {verdict: 'unused', reason: `nothing ${name} or a jail below it mounts needs enforce_statfs below ${target}`, evidence: ev}, `enforce_statfs=${target}`))
      else if (a.esNeeds.length > 0) out.push(g('enforce_statfs', String(es), {verdict: 'needed', reason: needReason(a.esNeeds), evidence: [...ev, ...needEvidence(a.esNeeds)]}, null))
      else out.push(g('enforce_statfs', String(es), {verdict: 'unknown', reason: mountUnknown?.[1] ?? 'its mount needs are unknown', evidence: ev}, null))
    }
    const sl = int(j.params['securelevel'])
    if (sl !== null && sl < 1) {
      const target = int(l['securelevel']) ?? sl
      const ev = [jlsEvidence(facts, j, ['securelevel'])]
      out.push(target > sl
        ? g('securelevel', String(sl), {verdict: 'unused', reason: `${name} is in its run phase: no declared bootstrap or maintenance window needs securelevel ${sl}`, evidence: ev}, `securelevel=${target}`)
        : g('securelevel', String(sl), {verdict: 'needed', reason: `declared: ${a.slWhy}`, evidence: ev}, null))
    }
    for (const s of SYSV) {
      const cur = currentSysv(j, s)
      if (cur === 'disable') continue
      const lv = l[s] !== undefined && l[s] !== cur ? `${s}=${l[s]}` : null
      const ev = [jlsEvidence(facts, j, [s])]
      if (a.own.unknown.has(s)) out.push(g(s, cur, {verdict: 'unknown', reason: a.own.unknown.get(s)!, evidence: ev}, null))
      else if (a.sysv[s].needs.length > 0) out.push(g(s, cur, {verdict: 'needed', reason: needReason(a.sysv[s].needs), evidence: [...ev, ...needEvidence(a.sysv[s].needs)]}, lv))
      else out.push(g(s, cur, {verdict: 'unused', reason: `no SysV ${s.slice(4)} object was made by ${name}'s processes or below it${facts.host.racct ? ' (rctl shows none)' : ''}`, evidence: [...ev, {argv: ['ipcs', '-a'], lines: []}]}, lv))
    }
    const rs = int(j.params['devfs_ruleset'])
    const c = configOf(facts, name)
    const kidsDevfs = facts.configs.filter((x) => x.startedBy === name && x.params['mount.devfs'] !== undefined)
    if (rs !== null && (c?.params['mount.devfs'] !== undefined || kidsDevfs.length > 0 || text(j.params['allow.mount.devfs']) === 'true')) {
      const lv = l['devfs_ruleset'] !== undefined && l['devfs_ruleset'] !== String(rs) ? `devfs_ruleset=${l['devfs_ruleset']}` : null
      const ev = [jlsEvidence(facts, j, ['devfs_ruleset']), ...(c ? [configEvidence(facts, c, ['mount.devfs', 'devfs_ruleset'])] : []), ...kidsDevfs.map((k) => configEvidence(facts, k, ['mount.devfs']))]
      const why = [c?.params['mount.devfs'] !== undefined ? `${name}'s /dev (mount.devfs) is mounted with it` : '', kidsDevfs.length > 0 ? `${name}'s jail(8) mounts devfs for ${kidsDevfs.map((k) => k.name).join(', ')}, which must match it` : ''].filter((x) => x !== '').join('; ')
      out.push(g('devfs_ruleset', String(rs), {verdict: 'needed', reason: `config: ${why || `${name} may mount devfs (allow.mount.devfs)`}`, evidence: ev}, lv))
    }
  }
  return out
}
