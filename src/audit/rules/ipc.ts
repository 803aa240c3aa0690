// I — SysV IPC (audit-rules §3 I01–I03; H08 is in hierarchy.ts). `inherit` (or the deprecated
// allow.sysvipc) shares the host's IPC namespace, where jail root holds PRIV_IPC_READ/WRITE/ADMIN
// (kern_jail.c prison_priv_check), so its severity depends on whether anyone else has objects.
import type {Finding, Severity} from '../finding.js'
import {configEvidence, ipcEvidence, jlsEvidence} from '../evidence.js'
import {SYSV} from '../lifecycle.js'
import {childrenOf, descendantsOf, jailOf, parentName, text, type Rule, type RuleContext} from '../rule.js'
import {confFile, finding, grantOf, grantsWith} from './common.js'

/** high when the host or a jail outside J's subtree has SysV objects (or objects whose creator ipcs does not name), else medium. */
export function sysvSeverity(ctx: RuleContext, jail: string): Severity {
  const mine = new Set([jail, ...descendantsOf(ctx.facts, jail)].map((n) => jailOf(ctx.facts, n)?.jid).filter((x): x is number => x !== undefined))
  return ctx.facts.ipc.some((o) => o.jid === null || !mine.has(o.jid)) ? 'high' : 'medium'
}

/** The sysv lines of the least set (`sysvshm = "new"; sysvmsg = "disable"; …`). */
function leastSysv(ctx: RuleContext, jail: string): string {
  const j = jailOf(ctx.facts, jail)
  return SYSV.map((s) => `${s} = "${grantOf(ctx, jail, s)?.least?.split('=')[1] ?? text(j?.params[s]) ?? 'disable'}"`).join('; ')
}

const I01: Rule = {
  id: 'NEST-I01',
  check: (ctx) => [...ctx.scope].sort().flatMap((name): Finding[] => {
    const j = jailOf(ctx.facts, name)
    if (j === undefined || j.dying) return []
    const inherit = SYSV.filter((s) => text(j.params[s]) === 'inherit')
    const legacy = j.params['allow.sysvipc'] === true || j.params['allow.sysvipc'] === 'true'
    if (inherit.length === 0 && !legacy) return []
    const others = ctx.facts.ipc.filter((o) => o.jid !== j.jid)
    const what = inherit.length > 0 ? `${inherit.map((s) => `${s}=inherit`).join(', ')}: every IPC object on the system is visible to ${name}` : `allow.sysvipc is set: where sysv* are not given it means inherit, every IPC object on the system visible to ${name}`
    return [finding('NEST-I01', sysvSeverity(ctx, name), name, `${what}, and its root may attach to and change them (PRIV_IPC_*)${others.length > 0 ? ` (${others.length} object(s) of others exist)` : ''}`,
      `${leastSysv(ctx, name)}; drop allow.sysvipc, in ${confFile(ctx.facts, name)}; then restart ${name} (switching namespaces under running processes hides their objects)`, 'L3',
      [jlsEvidence(ctx.facts, j, [...SYSV, 'allow.sysvipc']), ...(others.length > 0 ? [ipcEvidence(ctx.facts, others)] : [])], [], inherit[0] ?? 'allow.sysvipc')]
  }),
}

const I02: Rule = {
  id: 'NEST-I02',
  check: (ctx) => grantsWith(ctx, (p) => (SYSV as readonly string[]).includes(p), 'unused').filter((g) => g.value === 'new' && childrenOf(ctx.facts, g.jail).length === 0).map((g) =>
    finding('NEST-I02', 'low', g.jail, `${g.param}=new is unused: ${g.reason}`, `${g.param} = "disable"; in ${confFile(ctx.facts, g.jail)} (the default when unset); then restart ${g.jail}`, 'L3', g.evidence, [], g.param)),
}

const I03: Rule = {
  id: 'NEST-I03',
  check: (ctx) => ctx.facts.configs.filter((c) => parentName(c.name) !== null && ctx.scope.has(parentName(c.name)!)).flatMap((c): Finding[] => {
    const p = jailOf(ctx.facts, parentName(c.name)!)
    if (p === undefined) return []
    return SYSV.filter((s) => ['new', 'inherit'].includes(c.params[s]?.at(-1) ?? '') && text(p.params[s]) === 'disable').map((s) =>
      finding('NEST-I03', 'medium', p.name, `${c.name}'s configuration asks for ${s}=${c.params[s]!.at(-1)} but ${p.name} has ${s}=disable: its start fails (jail_set: Operation not permitted)`,
        `${s} = "new"; in ${confFile(ctx.facts, p.name)}, top-down (then restart ${p.name}); or drop ${s} from ${c.file}`, 'CFG',
        [configEvidence(ctx.facts, c, [s]), jlsEvidence(ctx.facts, p, [s])], [c.name], s))
  }),
}

export const IPC_RULES: Rule[] = [I01, I02, I03]
