// A — allow.* flags (audit-rules §3 A01–A20). The unused ones come from the grant verdicts
// (flags.ts); the ones whose check is the flag being set (A05, A07, A14–A18) report it unless
// the operator declared it needed; A08–A11 are advisories on default flags, whose use nest
// cannot see (the verdict stays unknown and the least set keeps them).
import type {Finding, Severity} from '../finding.js'
import {childrenOf, configOf, int, jailOf, parentName, type Rule, type RuleContext} from '../rule.js'
import {configEvidence, jlsEvidence} from '../evidence.js'
import {confFile, finding, flagOffFix, grantOf, grantsWith, holdersBelow, isVnet} from './common.js'
import {unusedRule} from './flags.js'
import {sysvSeverity} from './ipc.js'

/** A flag that is on and not needed: reported at the highest such jail, with the jails below that hold it. */
function presence(id: string, params: string[], severity: Severity, why: string, when: (ctx: RuleContext, jail: string) => boolean = () => true, perJail = false): Rule {
  return {
    id,
    check: (ctx) => grantsWith(ctx, (p) => params.includes(p)).filter((g) => g.verdict !== 'needed' && when(ctx, g.jail)).flatMap((g): Finding[] => {
      const p = parentName(g.jail)
      const up = p === null ? undefined : grantOf(ctx, p, g.param)
      if (!perJail && p !== null && ctx.scope.has(p) && up !== undefined && up.verdict !== 'needed' && when(ctx, p)) return []
      const below = perJail ? [] : holdersBelow(ctx.facts, g.jail, g.param)
      return [finding(id, severity, g.jail, `${g.param} is set: ${why} (${g.verdict}: ${g.reason})`, flagOffFix(ctx.facts, g.jail, g.param, 'L1'), 'L1', g.evidence, below, g.param)]
    }),
  }
}

/** The parent is in scope, holds the flag with no need (and runs no process, for A09): its finding covers this jail. */
function parentReports(ctx: RuleContext, jail: string, param: string, verdict?: string): boolean {
  const p = parentName(jail)
  if (p === null || !ctx.scope.has(p)) return false
  const g = grantOf(ctx, p, param)
  const pj = jailOf(ctx.facts, p)
  if (g === undefined || g.verdict === 'needed' || (verdict !== undefined && g.verdict !== verdict) || pj === undefined) return false
  if (param === 'allow.reserved_ports') return !ctx.facts.procs.some((x) => x.jid === pj.jid)
  return configOf(ctx.facts, p)?.params['host.hostname'] !== undefined && ctx.facts.nest[p]?.lifecycle != null
}

const A05: Rule = {
  id: 'NEST-A05',
  check: (ctx) => grantsWith(ctx, (p) => p === 'allow.sysvipc').filter((g) => g.verdict !== 'needed').map((g) => {
    const c = configOf(ctx.facts, g.jail)
    const ev = [...g.evidence, ...(c?.params['allow.sysvipc'] !== undefined ? [configEvidence(ctx.facts, c, ['allow.sysvipc'])] : [])]
    return finding('NEST-A05', sysvSeverity(ctx, g.jail), g.jail, 'allow.sysvipc is set: a deprecated flag that means sysvmsg, sysvsem and sysvshm = inherit where they are not given (jail.8); see NEST-I01',
      `drop allow.sysvipc from ${confFile(ctx.facts, g.jail)} and give sysvmsg, sysvsem and sysvshm explicitly (new or disable); restart ${g.jail}`, 'L3', ev, [], g.param)
  }),
}

const A08: Rule = {
  id: 'NEST-A08',
  check: (ctx) => grantsWith(ctx, (p) => p === 'allow.set_hostname', 'unknown').flatMap((g) => {
    const c = configOf(ctx.facts, g.jail)
    const j = jailOf(ctx.facts, g.jail)
    if (c?.params['host.hostname'] === undefined || j === undefined || ctx.facts.nest[g.jail]?.lifecycle == null || parentReports(ctx, g.jail, 'allow.set_hostname', 'unknown')) return []
    return [finding('NEST-A08', 'low', g.jail, `allow.set_hostname is on (a default) while ${g.jail}'s hostname stays the configured ${c.params['host.hostname'].at(-1)}: a changed hostname confuses tools that rely on it`,
      flagOffFix(ctx.facts, g.jail, g.param, 'L1'), 'L1', [jlsEvidence(ctx.facts, j, ['allow.set_hostname', 'host.hostname']), configEvidence(ctx.facts, c, ['host.hostname'])], holdersBelow(ctx.facts, g.jail, g.param), g.param)]
  }),
}

const A09: Rule = {
  id: 'NEST-A09',
  check: (ctx) => grantsWith(ctx, (p) => p === 'allow.reserved_ports').filter((g) => g.verdict !== 'needed').flatMap((g) => {
    const j = jailOf(ctx.facts, g.jail)
    if (j === undefined || ctx.facts.procs.some((p) => p.jid === j.jid) || parentReports(ctx, g.jail, 'allow.reserved_ports')) return []
    return [finding('NEST-A09', 'low', g.jail, `allow.reserved_ports is on (a default) and ${g.jail} runs no process, so nothing listens below port 1024`,
      flagOffFix(ctx.facts, g.jail, g.param, 'L1'), 'L1', [jlsEvidence(ctx.facts, j, [g.param]), {argv: ctx.facts.sources['ps'] ?? ['ps', '-ax', '-o', 'pid,jid,comm'], lines: []}], holdersBelow(ctx.facts, g.jail, g.param), g.param)]
  }),
}

const A10 = presence('NEST-A10', ['allow.unprivileged_proc_debug'], 'low', 'unprivileged users in the jail may debug processes (HardenedBSD turns the global knob off); the only flag a child holds without its parent, so it is tightened per jail', () => true, true)

const A11: Rule = {
  id: 'NEST-A11',
  check: (ctx) => grantsWith(ctx, (p) => p === 'allow.suser').filter((g) => g.verdict !== 'needed' && childrenOf(ctx.facts, g.jail).length === 0 && (int(jailOf(ctx.facts, g.jail)?.params['children.max']) ?? 0) === 0).map((g) =>
    finding('NEST-A11', 'low', g.jail, `allow.suser is on (a default) in ${g.jail}, a jail with no children: if its services never need root once started, allow.nosuser makes uid 0 unprivileged (jail.8)`,
      flagOffFix(ctx.facts, g.jail, g.param, 'L1'), 'L1', g.evidence, [], g.param)),
}

const A19: Rule = {
  id: 'NEST-A19',
  check: (ctx) => ctx.facts.configs.filter((c) => ctx.scope.has(c.name)).flatMap((c) => {
    const dying = c.params['allow.dying'] !== undefined
    const hooks = Object.keys(c.params).filter((k) => k.startsWith('exec.') && (c.params[k] ?? []).some((v) => /(^|[\s/])jail\s+(-[a-zA-Z]*\s+)*-[a-zA-Z]*d/.test(v)))
    if (!dying && hooks.length === 0) return []
    return [finding('NEST-A19', 'low', c.name, `${dying ? 'allow.dying' : 'jail -d in a hook'} is set: a no-op since jail_set(2) stopped resurrecting dying jails (commit ed31b3f4), it only hides lifecycle bugs`,
      `drop ${dying ? 'allow.dying' : '-d'} from ${c.file}`, 'CFG', [configEvidence(ctx.facts, c, [...(dying ? ['allow.dying'] : []), ...hooks])], [], dying ? 'allow.dying' : undefined)]
  }),
}

export const ALLOW_RULES: Rule[] = [
  unusedRule('NEST-A01'),
  unusedRule('NEST-A02'),
  unusedRule('NEST-A03'),
  unusedRule('NEST-A04'),
  A05,
  unusedRule('NEST-A06'),
  presence('NEST-A07', ['allow.read_msgbuf'], 'medium', 'the kernel message buffer shows the host\'s and other jails\' events'),
  A08,
  A09,
  A10,
  A11,
  unusedRule('NEST-A12'),
  unusedRule('NEST-A13'),
  presence('NEST-A14', ['allow.extattr'], 'low', 'system-namespace extended attributes; their use (PRIV_VFS_EXTATTR_SYSTEM) is seen only with DTrace'),
  presence('NEST-A15', ['allow.routing'], 'high', 'it lets a jail without a vnet change the host\'s routing table (jail.8)', (ctx, j) => !isVnet(ctx.facts, j)),
  presence('NEST-A16', ['allow.settime', 'allow.adjtime'], 'high', 'the clock is global: setting it affects the host and every jail'),
  presence('NEST-A17', ['allow.unprivileged_parent_tampering'], 'medium', 'unprivileged users of the parent may signal and debug same-uid processes in the jail (jail.8)'),
  presence('NEST-A18', ['allow.setaudit'], 'low', 'it lets the jail forge audit identities'),
  A19,
  unusedRule('NEST-A20'),
]

