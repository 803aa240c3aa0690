// M — mounting (audit-rules §3 M01–M11). Unused allow.mount and allow.mount.<fs> come from the
// verdicts (flags.ts: M01, M02 and the per-fs rules M03–M10); a needed grant is still reported
// where the catalogue says its presence is the risk: nullfs (SA-26:02), devfs under ruleset 0,
// fdescfs mounted nodup (SA-26:66), tmpfs without a size bound. M11 lists the mounts below a
// root that no configuration and no parent made (the evidence of in-jail mounting).
import type {Finding} from '../finding.js'
import {analysisFor} from '../analysis.js'
import {isBelow, jlsEvidence, mountEvidence} from '../evidence.js'
import {int, jailOf, type Rule, type RuleContext} from '../rule.js'
import {finding, flagOffFix, grantsWith, holdersBelow} from './common.js'
import {devfsDangerous, hasDelegation, unusedRule} from './flags.js'
import {attachedByConfig} from './zfs.js'

/** The mounts of a type a jail made or had its jail(8) make for its children (O3 rows). */
function madeBy(ctx: RuleContext, jail: string, type: string) {
  return analysisFor(ctx).origins.filter((o) => o.by === jail && o.mount.type === type).map((o) => o.mount)
}

function needed(id: string, param: string, when: (ctx: RuleContext, jail: string) => {severity: Finding['severity']; what: string; fix?: string; extra?: Finding['evidence']} | null): Rule {
  return {
    id,
    // Needed, or held with its use unknown (a jail nest has no lifecycle record of: one it did
    // not start): the risk is the grant's presence, whatever its use.
    check: (ctx) => grantsWith(ctx, (p) => p === param).filter((g) => g.verdict !== 'unused').flatMap((g) => {
      const w = when(ctx, g.jail)
      if (w === null) return []
      const held = g.verdict === 'needed' ? `${param} is needed (${g.reason})` : `${param} is held and its use is unknown (${g.reason})`
      return [finding(id, w.severity, g.jail, `${held}: ${w.what}`, w.fix ?? flagOffFix(ctx.facts, g.jail, param, 'L2'), 'L2', [...g.evidence, ...(w.extra ?? [])], holdersBelow(ctx.facts, g.jail, param), param)]
    }),
  }
}

const M03 = needed('NEST-M03', 'allow.mount.nullfs', () => ({
  severity: 'high',
  what: 'FreeBSD-SA-26:02.jail: a jailed root that may mount nullfs can escape to its parent\'s whole file system (CVE-2025-15547; 14.3 before p8 and 13.5 before p9 unpatched, NEST-R07)',
  fix: 'allow.mount.nonullfs once the nullfs mounts it makes for its children are made by the host instead (host-created children or mount.fstab in the host\'s jail(8), NEST-H07)',
}))

const M04 = needed('NEST-M04', 'allow.mount.devfs', (ctx, jail) => {
  if (!devfsDangerous(ctx.facts, jail)) return null
  const rs = int(jailOf(ctx.facts, jail)?.params['devfs_ruleset'])
  return {
    severity: 'high',
    what: rs === 0 ? 'its devfs_ruleset is 0, so a devfs it mounts shows every device, disks included (jail.8 NOTE)' : `its devfs_ruleset ${rs} unhides devices a jail must not see (NEST-D03), and every devfs it mounts gets them`,
    fix: rs === 0 ? `devfs_ruleset = "4"; live: jail -m name=${jail} devfs_ruleset=4 (NEST-D01), or allow.mount.nodevfs with the host mounting /dev` : `fix ruleset ${rs} (NEST-D03), or allow.mount.nodevfs with the host mounting /dev`,
    extra: [jlsEvidence(ctx.facts, jailOf(ctx.facts, jail)!, ['devfs_ruleset']), ...(rs !== 0 && rs !== null ? [{argv: ['devfs', 'rule', '-s', String(rs), 'show'], lines: ctx.facts.rulesets[rs] ?? []}] : [])],
  }
})

const M05 = needed('NEST-M05', 'allow.mount.fdescfs', (ctx, jail) => {
  const rows = madeBy(ctx, jail, 'fdescfs').filter((m) => m.opts.includes('nodup'))
  return rows.length === 0 ? null : {severity: 'medium', what: 'fdescfs is mounted with nodup, whose descriptors lost FD_RESOLVE_BENEATH before the SA-26:66 fix (CVE-2026-101304)', fix: 'mount fdescfs from the host (mount.fdescfs), never with nodup', extra: [mountEvidence(ctx.facts, rows)]}
})

const M07 = needed('NEST-M07', 'allow.mount.tmpfs', (ctx, jail) => {
  const rows = madeBy(ctx, jail, 'tmpfs').filter((m) => !m.opts.some((o) => o.startsWith('size=')))
  return rows.length === 0 ? null : {severity: 'medium', what: `${rows.length} tmpfs mount(s) without size= can grow into host memory and swap`, fix: 'give each tmpfs a size= bound (mount -t tmpfs -o size=…), or mount it from the host', extra: [mountEvidence(ctx.facts, rows)]}
})

// allow.mount.zfs whose use is unknown (no lifecycle record) on a top-level jail that has no
// dataset attached and none its configuration attaches (zfs jail in a hook, zfs.dataset): a jail
// mounts only datasets jailed=on and attached to it (zfs-jail.8), so today the grant mounts nothing.
const M08 = needed('NEST-M08', 'allow.mount.zfs', (ctx, jail) => {
  const g = ctx.grants.find((x) => x.jail === jail && x.param === 'allow.mount.zfs')
  if (g?.verdict !== 'unknown' || jail.includes('.') || hasDelegation(ctx, jail)) return null
  if (attachedByConfig(ctx.facts).some((x) => x.jail === jail)) return null
  const c = ctx.facts.configs.find((x) => x.name === jail)
  if (c === undefined || (c.params['zfs.dataset'] ?? []).length > 0) return null
  return {severity: 'medium', what: 'no dataset is delegated to it and its configuration attaches none (zfs jail in a hook, zfs.dataset): a jail mounts only datasets attached to it (zfs-jail.8), so the grant keeps /dev/zfs and enforce_statfs < 2 justified for nothing'}
})

const M11: Rule = {
  id: 'NEST-M11',
  check: (ctx) => {
    const t = analysisFor(ctx)
    return [...ctx.scope].sort().flatMap((name): Finding[] => {
      const j = jailOf(ctx.facts, name)
      const rows = t.origins.filter((o) => o.in === name && o.kind === 'inside' && j !== undefined && isBelow(o.mount.on, j.path)).map((o) => o.mount)
      if (rows.length === 0) return []
      return [finding('NEST-M11', 'low', name, `${rows.length} mount(s) below ${name}'s root come from no configuration, no parent and no delegated dataset: made from inside ${name} (the evidence of its mount use), and left behind at stop unless nest unmounts them`,
        `nothing by itself: they are why ${name} keeps its mount grants (NEST-M02); nest cleanup ${name.replaceAll('.', '/')} unmounts them once it is stopped`, 'host', [mountEvidence(ctx.facts, rows)])]
    })
  },
}

export const MOUNT_RULES: Rule[] = [
  unusedRule('NEST-M01'),
  unusedRule('NEST-M02'),
  {id: 'NEST-M03', check: (ctx) => [...unusedRule('NEST-M03').check(ctx), ...M03.check(ctx)]},
  {id: 'NEST-M04', check: (ctx) => [...unusedRule('NEST-M04').check(ctx), ...M04.check(ctx)]},
  {id: 'NEST-M05', check: (ctx) => [...unusedRule('NEST-M05').check(ctx), ...M05.check(ctx)]},
  unusedRule('NEST-M06'),
  {id: 'NEST-M07', check: (ctx) => [...unusedRule('NEST-M07').check(ctx), ...M07.check(ctx)]},
  {id: 'NEST-M08', check: (ctx) => [...unusedRule('NEST-M08').check(ctx), ...M08.check(ctx)]},
  unusedRule('NEST-M09'),
  unusedRule('NEST-M10'),
  M11,
]
