// S — statfs visibility and securelevel (audit-rules §3 S01–S05). Raising either value on a
// jail raises every lower descendant (kern_jail.c: a child's value is ≥ its parent's), so each
// finding names the descendants the change also raises.
import type {Finding} from '../finding.js'
import {analysisFor} from '../analysis.js'
import {configEvidence, jlsEvidence} from '../evidence.js'
import {flag, int, jailOf, parentName, type Rule} from '../rule.js'
import {finding, grantOf, grantsWith, isVnet, raisedBelow, setFix} from './common.js'

const S01: Rule = {
  id: 'NEST-S01',
  check: (ctx) => [...ctx.scope].sort().flatMap((name): Finding[] => {
    const j = jailOf(ctx.facts, name)
    const a = analysisFor(ctx).jails.get(name)
    if (j === undefined || j.dying || a === undefined || int(j.params['enforce_statfs']) !== 0 || a.es === 0) return []
    const to = a.es
    return [finding('NEST-S01', 'medium', name, `enforce_statfs is 0: ${name} sees every mount point with its host path (other jails' roots and datasets, nullfs sources), and nothing declared needs the global table`,
      setFix(ctx.facts, name, 'enforce_statfs', String(to), 'L1'), 'L1', [jlsEvidence(ctx.facts, j, ['enforce_statfs'])], raisedBelow(ctx.facts, name, 'enforce_statfs', to), 'enforce_statfs')]
  }),
}

const S02: Rule = {
  id: 'NEST-S02',
  check: (ctx) => grantsWith(ctx, (p) => p === 'enforce_statfs', 'unused').filter((g) => g.value === '1').flatMap((g): Finding[] => {
    const p = parentName(g.jail)
    if (p !== null && ctx.scope.has(p) && grantOf(ctx, p, 'enforce_statfs')?.verdict === 'unused') return []
    const j = jailOf(ctx.facts, g.jail)!
    const mount = flag(j.params['allow.mount'])
    return [finding('NEST-S02', mount ? 'medium' : 'low', g.jail, `enforce_statfs is 1 without a need: ${g.reason}${mount ? '; with allow.mount it is the switch that turns mounting on' : ''}`,
      setFix(ctx.facts, g.jail, 'enforce_statfs', '2', 'L1'), 'L1', g.evidence, raisedBelow(ctx.facts, g.jail, 'enforce_statfs', 2), 'enforce_statfs')]
  }),
}

/**
 * Whether a kernel predates FreeBSD-SA-21:10.jail_mount's corrections (2021-04-06: 12.2-RELEASE-p6,
 * 11.4-RELEASE-p9; 13.0-RELEASE shipped after them). Patch levels as the advisory's corrections
 * table gives them, not re-checked here (unconfirmed); null when the version cannot be read.
 */
export function beforeSA2110(kernel: string | null): boolean | null {
  const m = kernel === null ? null : /^(\d+)\.(\d+)-RELEASE(?:-p(\d+))?/.exec(kernel)
  if (m === null) return null
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)]
  if (major < 11) return true
  if (major === 11) return minor < 4 || patch < 9
  if (major === 12) return minor < 2 || patch < 6
  return false
}

const S03: Rule = {
  id: 'NEST-S03',
  check: (ctx) => {
    if (beforeSA2110(ctx.facts.host.kernel) !== true) return []
    return [...ctx.scope].sort().flatMap((name): Finding[] => {
      const j = jailOf(ctx.facts, name)
      if (j === undefined || j.dying || !flag(j.params['allow.mount']) || (int(j.params['enforce_statfs']) ?? 2) >= 2) return []
      const fs = Object.keys(j.params).filter((k) => k.startsWith('allow.mount.') && flag(j.params[k]))
      if (fs.length === 0) return []
      return [finding('NEST-S03', 'high', name, `kernel ${ctx.facts.host.kernel} predates FreeBSD-SA-21:10.jail_mount, and ${name} may mount (${fs.join(', ')}, enforce_statfs < 2): a jailed root could escape by racing a remount against a ".." lookup (CVE-2020-25584)`,
        `patch the host kernel (freebsd-update), or drop the mount grants (allow.nomount; jail -m name=${name} allow.nomount) until then`, 'host',
        [{argv: ['freebsd-version', '-k'], lines: [ctx.facts.host.kernel ?? '']}, jlsEvidence(ctx.facts, j, ['allow.mount', ...fs, 'enforce_statfs'])], [], 'allow.mount')]
    })
  },
}

const S04: Rule = {
  id: 'NEST-S04',
  check: (ctx) => grantsWith(ctx, (p) => p === 'securelevel').flatMap((g): Finding[] => {
    if (g.verdict === 'unknown') return []
    const p = parentName(g.jail)
    if (p !== null && ctx.scope.has(p) && grantOf(ctx, p, 'securelevel') !== undefined) return []
    const to = isVnet(ctx.facts, g.jail) ? 1 : 2
    const open = g.verdict === 'needed'
    return [finding('NEST-S04', open ? 'low' : 'medium', g.jail, `securelevel is ${g.value}${open ? ` while its window is open (${g.reason})` : ' outside a bootstrap or maintenance window'}: system file flags can be cleared and /dev/mem, /dev/kmem opened for writing (security.7)`,
      `${setFix(ctx.facts, g.jail, 'securelevel', String(to), 'L1')}${to === 1 ? ' (1, not 2: pf rules in a vnet jail could not load at 2 on 15.1, cause unconfirmed)' : ''}${open ? ', once the window closes' : ''}`,
      'L1', g.evidence, raisedBelow(ctx.facts, g.jail, 'securelevel', to), 'securelevel')]
  }),
}

const S05: Rule = {
  id: 'NEST-S05',
  check: (ctx) => ctx.facts.configs.filter((c) => ctx.scope.has(c.name) && parentName(c.name) !== null).flatMap((c): Finding[] => {
    const p = jailOf(ctx.facts, parentName(c.name)!)
    if (p === undefined) return []
    return (['securelevel', 'enforce_statfs'] as const).flatMap((param) => {
      const want = int(c.params[param]?.at(-1) ?? '')
      const has = int(p.params[param])
      if (want === null || has === null || want >= has) return []
      return [finding('NEST-S05', 'medium', c.name, `${c.name}'s configuration sets ${param}=${want}, below its parent ${p.name}'s ${has}: its start fails with jail_set: Operation not permitted`,
        `${param} = "${has}"; in ${c.file}, or drop the line (${param === 'securelevel' ? 'it defaults to the parent\'s' : 'enforce_statfs defaults to 2'})`, 'CFG',
        [configEvidence(ctx.facts, c, [param]), jlsEvidence(ctx.facts, p, [param])], [], param)]
    })
  }),
}

export const STATFS_RULES: Rule[] = [S01, S02, S03, S04, S05]
