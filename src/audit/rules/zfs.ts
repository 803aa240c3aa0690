// Z — ZFS delegation (audit-rules §3 Z01–Z05, zfs-jail.8). Which jail a dataset is delegated to
// comes from the host's view: the jail that mounts it (a jailed=on dataset mounted below its
// root by it, lifecycle.ts) or the `zfs jail NAME DS` of a configuration's exec.created.
import type {AuditFacts, ZfsFacts} from '../facts.js'
import type {Finding} from '../finding.js'
import {analysisFor} from '../analysis.js'
import {type DevfsRule, parseRule, visibleWith} from '../devfs.js'
import {configEvidence, jlsEvidence, zfsEvidence} from '../evidence.js'
import {int, jailOf, type Rule, type RuleContext} from '../rule.js'
import {finding, setFix} from './common.js'

/** `zfs jail NAME DS` in exec.created/exec.prestart hooks: NAME as the config's starter names it. */
export function attachedByConfig(f: AuditFacts): Array<{jail: string; dataset: string; file: string; cfg: string}> {
  return f.configs.flatMap((c) => ['exec.created', 'exec.prestart', 'exec.poststart'].flatMap((k) => (c.params[k] ?? []).flatMap((cmd) => {
    const w = cmd.trim().split(/\s+/)
    const i = w.findIndex((x) => x === 'zfs' || x.endsWith('/zfs'))
    if (i < 0 || w[i + 1] !== 'jail' || w[i + 2] === undefined || w[i + 3] === undefined) return []
    const jail = c.startedBy === null ? w[i + 2]! : `${c.startedBy}.${w[i + 2]!}`
    return [{jail, dataset: w[i + 3]!, file: c.file, cfg: c.name}]
  })))
}

/** Each delegated dataset (a jailed=on dataset whose parent is not jailed) with the jail it belongs to. */
function delegations(ctx: RuleContext): Array<{dataset: ZfsFacts; jail: string | null}> {
  const f = ctx.facts
  const t = analysisFor(ctx)
  const byMount = new Map<string, string>()
  for (const a of t.jails.values()) for (const d of a.own.delegations) byMount.set(d.dataset, a.jail)
  const byConf = new Map(attachedByConfig(f).map((x) => [x.dataset, x.jail]))
  const jailed = new Set(f.datasets.filter((d) => d.props['jailed'] === 'on').map((d) => d.name))
  return f.datasets.filter((d) => jailed.has(d.name) && !jailed.has(d.name.slice(0, d.name.lastIndexOf('/')))).map((d) => ({dataset: d, jail: byMount.get(d.name) ?? byConf.get(d.name) ?? null}))
}

const unset = (v: string | undefined): boolean => v === '0' || v === 'none'

const Z01: Rule = {
  id: 'NEST-Z01',
  check: (ctx) => delegations(ctx).filter((d) => d.jail !== null && ctx.scope.has(d.jail) && unset(d.dataset.props['quota']) && unset(d.dataset.props['refquota'])).map((d) =>
    finding('NEST-Z01', 'medium', d.jail!, `${d.dataset.name}, delegated to ${d.jail}, has no quota or refquota: the jail cannot change it at the delegation point, so only the host bounds it, and without one it can fill the pool for the host and its siblings`,
      `zfs set quota=SIZE filesystem_limit=N snapshot_limit=N ${d.dataset.name}`, 'host', [zfsEvidence(ctx.facts, d.dataset, ['jailed', 'quota', 'refquota'])], [], 'quota')),
}

const Z02: Rule = {
  id: 'NEST-Z02',
  check: (ctx) => [...analysisFor(ctx).jails.values()].filter((a) => ctx.scope.has(a.jail)).flatMap((a) => a.own.delegations.filter((d) => d.use === 'unused').map((d) =>
    finding('NEST-Z02', 'medium', a.jail, `${d.dataset} is delegated to ${a.jail} but unused: ${d.why}; it keeps allow.mount.zfs, enforce_statfs < 2 and /dev/zfs alive for nothing`,
      `remove the delegation from ${a.jail}'s configuration, then from the host: jexec ${a.jail} zfs umount ${d.dataset}; zfs unjail ${a.jail} ${d.dataset} (then NEST-M02/M08, S02)`, 'host', d.evidence, [], 'allow.mount.zfs'))),
}

const Z03: Rule = {
  id: 'NEST-Z03',
  check: (ctx) => attachedByConfig(ctx.facts).flatMap((x): Finding[] => {
    const d = ctx.facts.datasets.find((z) => z.name === x.dataset)
    if (d === undefined || d.props['jailed'] !== 'off' || d.props['mounted'] !== 'yes' || (d.props['setuid'] !== 'on' && d.props['exec'] !== 'on')) return []
    if (!ctx.scope.has(x.jail) && jailOf(ctx.facts, x.jail) !== undefined) return []
    const c = ctx.facts.configs.find((k) => k.name === x.cfg)!
    return [finding('NEST-Z03', 'medium', x.jail, `${x.dataset} is delegated to ${x.jail} by its configuration, yet it is not jailed now and is mounted on the host with ${['setuid', 'exec'].filter((p) => d.props[p] === 'on').join(' and ')} on: a jail that had write access may have planted setuid binaries there`,
      `zfs set setuid=off exec=off ${x.dataset} (or keep it unmounted)`, 'host', [zfsEvidence(ctx.facts, d, ['jailed', 'mounted', 'setuid', 'exec']), configEvidence(ctx.facts, c, ['exec.created'])])]
  }),
}

/** The devfs rules a jail's /dev has: those bound to its mount when known, else its ruleset's. */
function devRules(f: AuditFacts, jail: string): string[] | null {
  const j = jailOf(f, jail)
  if (j === undefined) return null
  const bound = f.devfsMounts.find((m) => m.on === `${j.path}/dev`)
  if (bound !== undefined) return bound.rules
  const rs = int(j.params['devfs_ruleset'])
  return rs === null ? null : (f.rulesets[rs] ?? null)
}

const Z04: Rule = {
  id: 'NEST-Z04',
  check: (ctx) => [...ctx.scope].sort().flatMap((name): Finding[] => {
    const j = jailOf(ctx.facts, name)
    const a = analysisFor(ctx).jails.get(name)
    if (j === undefined || a === undefined || a.own.delegations.length > 0 || attachedByConfig(ctx.facts).some((x) => x.jail === name)) return []
    if (!ctx.facts.mounts.some((m) => m.on === `${j.path}/dev` && m.type === 'devfs')) return []
    const rules = devRules(ctx.facts, name)
    if (rules === null || !visibleWith(rules.map(parseRule).filter((r): r is DevfsRule => r !== null), ctx.facts.rulesets, {name: 'zfs'})) return []
    const zfs = rules.filter((r) => /\bzfs\b/.test(r))
    // The rules bound to its /dev when read (jail(8) mounted it with 4 when devfs_ruleset is
    // unset, command.c, while the jail's own devfs_ruleset stays 0): say those, not the parameter.
    const bound = ctx.facts.devfsMounts.some((m) => m.on === `${j.path}/dev`)
    const why = bound ? `the rules on its /dev (${j.path}/dev) unhide it` : `devfs ruleset ${String(j.params['devfs_ruleset'])} unhides it`
    const shown = bound ? {argv: ['devfs', '-m', `${j.path}/dev`, 'rule', 'show'], lines: zfs} : {argv: ['devfs', 'rule', '-s', String(j.params['devfs_ruleset']), 'show'], lines: zfs}
    return [finding('NEST-Z04', 'low', name, `/dev/zfs is visible in ${name}, which has no delegated dataset (${why})`,
      'a derived ruleset without zfs (e.g. 4 minus "path zfs unhide") in /etc/devfs.rules, applied with devfs -m ROOT/dev rule -s N applyset (NEST-D04)', 'host',
      [jlsEvidence(ctx.facts, j, ['devfs_ruleset']), shown])]
  }),
}

const Z05: Rule = {
  id: 'NEST-Z05',
  check: (ctx) => [...ctx.scope].sort().flatMap((name): Finding[] => {
    const j = jailOf(ctx.facts, name)
    if (j === undefined || j.dying || int(j.params['zfs.mount_snapshot']) !== 1) return []
    return [finding('NEST-Z05', 'medium', name, `zfs.mount_snapshot is 1: ${name}'s users may read .zfs/snapshot of datasets not delegated to it and mount them (jail.8)`,
      `${setFix(ctx.facts, name, 'zfs.mount_snapshot', '0', 'L1')} (whether it applies live is unconfirmed)`, 'L1', [jlsEvidence(ctx.facts, j, ['zfs.mount_snapshot'])], [], 'zfs.mount_snapshot')]
  }),
}

export const ZFS_RULES: Rule[] = [Z01, Z02, Z03, Z04, Z05]
