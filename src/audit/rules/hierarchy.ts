// H — hierarchy and children (audit-rules §3 H01–H08, §2.1–§2.3).
import type {Finding} from '../finding.js'
import {analysisFor} from '../analysis.js'
import {configEvidence, isBelow, jlsEvidence} from '../evidence.js'
import {ALLOW_DIFFERENCES} from '../../jailconf/params.js'
import {confFlag} from '../lifecycle.js'
import {SYSV} from '../lifecycle.js'
import {childrenOf, descendantsOf, flag, int, jailOf, parentName, type Rule} from '../rule.js'
import {confFile, finding, grantOf, grantsWith, setFix} from './common.js'
import {unusedFlagFindings} from './flags.js'

const H01: Rule = {id: 'NEST-H01', check: (ctx) => unusedFlagFindings(ctx).filter((x) => x.rule === 'NEST-H01')}

const depthOf = (n: string): number => n.split('.').length

/** Descendants whose children.max is above what a new value at J leaves them (max − depth below J). */
const clampedBelow = (ctx: Parameters<Rule['check']>[0], jail: string, v: number): string[] =>
  descendantsOf(ctx.facts, jail).filter((d) => (int(jailOf(ctx.facts, d)?.params['children.max']) ?? 0) > Math.max(0, v - (depthOf(d) - depthOf(jail))))

const H02: Rule = {
  id: 'NEST-H02',
  check: (ctx) => grantsWith(ctx, (p) => p === 'children.max', 'needed').flatMap((g): Finding[] => {
    const n = int(g.least?.split('=')[1] ?? '')
    if (n === null || n <= 0 || n >= Number(g.value)) return []
    return [finding('NEST-H02', 'low', g.jail, `children.max is ${g.value}, far more than the ${n} its tree needs (${g.reason.replace(/^lifecycle: /, '')}): the budget bounds how many jails a compromised parent can spawn`,
      setFix(ctx.facts, g.jail, 'children.max', String(n), 'L1'), 'L1', g.evidence, clampedBelow(ctx, g.jail, n), 'children.max')]
  }),
}

const H03: Rule = {
  id: 'NEST-H03',
  check: (ctx) => grantsWith(ctx, (p) => p === 'children.max', 'unused').map((g) =>
    finding('NEST-H03', 'low', g.jail, `children.max is ${g.value} but ${g.reason}`, setFix(ctx.facts, g.jail, 'children.max', '0', 'L1'), 'L1', g.evidence, clampedBelow(ctx, g.jail, 0), 'children.max')),
}

const H04: Rule = {
  id: 'NEST-H04',
  check: (ctx) => [...ctx.scope].sort().flatMap((name): Finding[] => {
    const j = jailOf(ctx.facts, name)
    const a = analysisFor(ctx).jails.get(name)
    const max = int(j?.params['children.max'])
    if (j === undefined || a === undefined || a.desc.length === 0 || max === null || max >= a.cm) return []
    return [finding('NEST-H04', 'low', name, `children.max is ${max}, children.cur ${String(j.params['children.cur'] ?? '?')}, while ${a.cmWhy}: a restart or a new child fails with "prison limit exceeded" (dying jails still count)`,
      `${setFix(ctx.facts, name, 'children.max', String(a.cm), 'L1')}, raising its ancestors first (top-down)`, 'L1', [jlsEvidence(ctx.facts, j, ['children.max', 'children.cur'])], [], 'children.max')]
  }),
}

const H05: Rule = {
  id: 'NEST-H05',
  check: (ctx) => [...ctx.scope].sort().flatMap((name): Finding[] => {
    const j = jailOf(ctx.facts, name)
    const p = j?.parent === null || j === undefined ? undefined : jailOf(ctx.facts, j.parent)
    if (j === undefined || p === undefined || isBelow(j.path, p.path)) return []
    return [finding('NEST-H05', 'high', name, `${name}'s root ${j.path} is not below its parent ${p.name}'s root ${p.path}: ${p.name}'s root may attach to ${name} and reach files outside its own root`,
      `recreate ${name} with its root below ${p.path} (path is create-time)`, 'L3', [jlsEvidence(ctx.facts, j, ['path']), jlsEvidence(ctx.facts, p, ['path'])], [], 'path')]
  }),
}

const H06: Rule = {
  id: 'NEST-H06',
  check: (ctx) => ctx.facts.configs.filter((c) => ctx.scope.has(c.name) && parentName(c.name) !== null).flatMap((c): Finding[] => {
    const p = jailOf(ctx.facts, parentName(c.name)!)
    if (p === undefined) return []
    const free = ALLOW_DIFFERENCES.map((x) => `allow.${x}`)
    const over = Object.keys(c.params).filter((k) => k.startsWith('allow.') && !free.includes(k) && confFlag(c, k) && p.params[k] !== undefined && !flag(p.params[k]))
    const out: Finding[] = []
    if (over.length > 0) {
      out.push(finding('NEST-H06', 'medium', c.name, `${c.name}'s configuration asks for ${over.join(', ')}, which its parent ${p.name} does not hold: its next start fails with jail_set: Operation not permitted`,
        `drop ${over.join(', ')} from ${c.file} (or widen ${p.name} deliberately, top-down)`, 'CFG', [configEvidence(ctx.facts, c, over), jlsEvidence(ctx.facts, p, over)], [], over[0]))
    }
    // The parent's jail(8) mounts the child's devfs with -oruleset=<devfs_ruleset, else 4>
    // (command.c); inside a jail devfs refuses another one: sys/fs/devfs/devfs_vfsops.c
    // devfs_mount, `if (injail && rsnum != 0 && rsnum != td->td_ucred->cr_prison->pr_devfs_rsnum) return (EPERM);`.
    const want = int(c.params['devfs_ruleset']?.at(-1) ?? '') ?? 4
    const has = int(p.params['devfs_ruleset'])
    // A child's ruleset 0 passes (rsnum != 0): its /dev gets the parent's.
    if (c.startedBy === p.name && confFlag(c, 'mount.devfs') && has !== null && has !== 0 && want !== 0 && want !== has) {
      out.push(finding('NEST-H06', 'medium', c.name, `${c.name}'s /dev is mounted by ${p.name}'s jail(8) with ruleset ${want}, but ${p.name}'s own devfs_ruleset is ${has}: the mount fails (Operation not permitted) and so does the start`,
        `devfs_ruleset = "${has}"; in ${c.file}`, 'CFG', [configEvidence(ctx.facts, c, ['mount.devfs', 'devfs_ruleset']), jlsEvidence(ctx.facts, p, ['devfs_ruleset'])], [], 'devfs_ruleset'))
    }
    // vnet.interface: the parent's jail(8) moves the interface from its own stack, which needs a
    // vnet of its own (§2.2; the network privileges come with owning a vnet, §1.3).
    if (c.startedBy === p.name && c.params['vnet.interface'] !== undefined && (c.params['vnet']?.at(-1) ?? 'new') !== 'inherit' && p.params['vnet'] !== 'new') {
      out.push(finding('NEST-H06', 'medium', c.name, `${c.name}'s configuration moves ${c.params['vnet.interface'].join(', ')} into its own vnet, but its parent ${p.name} has no vnet of its own (vnet=${String(p.params['vnet'] ?? '-')}) to move it from: its start fails`,
        `give ${p.name} a vnet (create-time: restart it), or drop vnet.interface from ${c.file}`, 'CFG', [configEvidence(ctx.facts, c, ['vnet', 'vnet.interface']), jlsEvidence(ctx.facts, p, ['vnet'])], [], 'vnet'))
    }
    return out
  }),
}

const H07: Rule = {
  id: 'NEST-H07',
  check: (ctx) => [...ctx.scope].sort().flatMap((name): Finding[] => {
    const a = analysisFor(ctx).jails.get(name)
    if (a === undefined || childrenOf(ctx.facts, name).length === 0) return []
    const mounts = [...a.need].filter(([k]) => k.startsWith('allow.mount.'))
    if (mounts.length === 0 || !mounts.every(([, ns]) => ns.every((n) => n.kind === 'lifecycle'))) return []
    return [finding('NEST-H07', 'low', name, `${name} uses its mount grants (${mounts.map(([k]) => k).join(', ')}) only to start its own children: children created from the host (jail -c name=${name}.CHILD) would need none of them, nor enforce_statfs < 2`,
      `create ${name}'s children from the host, then drop allow.mount and enforce_statfs < 2 from ${confFile(ctx.facts, name)}`, 'CFG', mounts.flatMap(([, ns]) => ns[0]!.evidence))]
  }),
}

const H08: Rule = {
  id: 'NEST-H08',
  check: (ctx) => [...ctx.scope].sort().flatMap((name): Finding[] => {
    if (childrenOf(ctx.facts, name).length === 0) return []
    const wide = SYSV.map((s) => grantOf(ctx, name, s)).filter((g) => g !== undefined && g.least !== null)
    if (wide.length === 0) return []
    return [finding('NEST-H08', 'medium', name, `${name}'s SysV modes are wider than its subtree needs: ${wide.map((g) => `${g!.param}=${g!.value} (${g!.reason})`).join('; ')}`,
      `${wide.map((g) => `${g!.least!.replace('=', ' = "')}"`).join('; ')}; in ${confFile(ctx.facts, name)}; then restart ${name} (a disable parent disables its subtree)`, 'L3', wide.flatMap((g) => g!.evidence), descendantsOf(ctx.facts, name), wide[0]!.param)]
  }),
}

export const HIERARCHY_RULES: Rule[] = [H01, H02, H03, H04, H05, H06, H07, H08]
