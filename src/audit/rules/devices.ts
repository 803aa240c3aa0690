// D — device exposure (audit-rules.md §3 NEST-D01 … D06). What a jail's devfs shows follows
// from the ruleset it is mounted with; src/audit/devfs.ts applies rules as devfs_rule.c does.
import {dangerousVisible, hidesAllFirst, parseRule, rulesOf, visibleWith, type DevfsRule} from '../devfs.js'
import type {AuditFacts, ConfigFacts, Evidence, JailFacts} from '../facts.js'
import type {Finding, Severity} from '../finding.js'
import {configOf, flag, int, type Rule, type RuleContext} from '../rule.js'
import {below, confFlag, confValue, finding, jlsEvidence, mountEvidence, scopedJails, sourceArgv} from './hygiene-common.js'

export const isVnet = (j: JailFacts | undefined): boolean => {
  const v = j?.params['vnet']
  return v === 'new' || v === 1 || v === '1' || v === true
}

const rulesetArgv = (f: AuditFacts, n: number): string[] => [...sourceArgv(f, 'devfs', ['devfs', 'rule']), '-s', String(n), 'show']
const rulesetEvidence = (f: AuditFacts, n: number): Evidence => ({argv: rulesetArgv(f, n), lines: f.rulesets[n] ?? []})

/** The devfs a jail has at ROOT/dev, and the rules it was mounted with, when the collector read them. */
function devMount(f: AuditFacts, j: JailFacts): {on: string; rules: DevfsRule[] | null; lines: string[]} | null {
  const on = `${j.path.replace(/\/+$/, '')}/dev`
  const m = f.devfsMounts.find((d) => d.on === on)
  if (m) return {on, rules: m.rules.map(parseRule).filter((r): r is DevfsRule => r !== null), lines: m.rules}
  if (f.mounts.some((x) => x.type === 'devfs' && x.on === on)) return {on, rules: null, lines: []}
  return null
}

/**
 * The ruleset jail(8) mounts a jail's /dev with (mount.devfs): its configured devfs_ruleset,
 * else 4 (command.c: `ruleset = string_param(j->intparams[KP_DEVFS_RULESET]); if (!ruleset)
 * ruleset = "4";`, devfsrules_jail).
 */
const mountRuleset = (c: ConfigFacts | undefined, j: JailFacts | undefined): number => {
  // A child a jail's own jail(8) started: devfs_mount lets a jailed caller ask only for 0 or
  // its own ruleset, and applies its own (devfs_vfsops.c, "jails enforce their ruleset"; the sim's
  // kernel/mounts.ts), which the child holds too (kern_jail.c: "Nested jails always inherit
  // parent's devfs ruleset"). So a running child's /dev has the rules of its devfs_ruleset.
  const held = int(j?.params['devfs_ruleset'])
  if (c?.startedBy != null && held !== null && held > 0) return held
  return c ? (int(confValue(c, 'devfs_ruleset')) ?? 4) : held || 4
}

/** Whether the jail (or anything in its subtree) can mount devfs itself, or its jail(8) mounts one for a child. */
function mountsDevfs(f: AuditFacts, name: string): boolean {
  const names = [name, ...below(f, name)]
  return names.some((n) => {
    const j = f.jails.find((x) => x.name === n && !x.dying)
    const c = configOf(f, n)
    return flag(j?.params['allow.mount.devfs']) || confFlag(c ?? emptyConf, 'allow.mount.devfs') === true
  }) || f.configs.some((c) => c.startedBy !== null && names.includes(c.startedBy) && confFlag(c, 'mount.devfs') === true)
}
const emptyConf: ConfigFacts = {name: '', file: '', startedBy: null, params: {}, raw: {}, nest: false}

/** NEST-D01: devfs_ruleset 0 on a jail of the host. */
const d01: Rule = {
  id: 'NEST-D01',
  check(ctx: RuleContext): Finding[] {
    const f = ctx.facts
    return scopedJails(ctx)
      // (a jail whose root is / sees the host's own /dev whatever its ruleset: F08 says so)
      .filter((j) => j.parent === null && j.path !== '/' && int(j.params['devfs_ruleset']) === 0)
      .map((j) => {
        const mounts = mountsDevfs(f, j.name)
        // devfs_ruleset = 0 written with mount.devfs: jail(8) mounts /dev with -oruleset=0, not 4
        // (command.c: the configured value, "4" only when it is unset).
        const c = configOf(f, j.name)
        const own = c !== undefined && int(confValue(c, 'devfs_ruleset')) === 0 && confFlag(c, 'mount.devfs') === true
        return finding({
          rule: 'NEST-D01',
          severity: mounts || own ? 'high' : 'low',
          jail: j.name,
          finding: own
            ? 'devfs_ruleset = 0 is configured with mount.devfs: jail(8) mounts its /dev with -oruleset=0 (no rules; 4 only when the parameter is unset), so its /dev shows every device of the host'
            : mounts
            ? 'devfs_ruleset is 0 (no ruleset) and it or a jail below it may mount devfs: that devfs shows every device of the host'
            : 'devfs_ruleset is 0 (no ruleset): jail(8) mounts its /dev with ruleset 4, but any devfs mounted later, by it or for a child, shows every device',
          fix: `devfs_ruleset = 4; (5 for a vnet jail that manages pf) in its jail.conf; live: jail -m name=${j.name} devfs_ruleset=4`,
          live: 'L2',
          param: 'devfs_ruleset',
          affects: below(f, j.name),
          evidence: [jlsEvidence(f, j, ['devfs_ruleset', 'allow.mount.devfs'])],
        })
      })
  },
}

/** The rulesets jails in scope use: effective, configured, or jail(8)'s mount default. */
function usedRulesets(ctx: RuleContext): Map<number, string[]> {
  const f = ctx.facts
  const used = new Map<number, string[]>()
  const add = (n: number | null, who: string): void => {
    if (n === null || n === 0) return
    used.set(n, [...new Set([...(used.get(n) ?? []), who])])
  }
  for (const j of scopedJails(ctx)) {
    add(int(j.params['devfs_ruleset']), j.name)
    if (devMount(f, j)) add(mountRuleset(configOf(f, j.name), j), j.name)
  }
  for (const c of f.configs.filter((x) => ctx.scope.has(x.name))) {
    add(int(confValue(c, 'devfs_ruleset')), c.name)
    if (confFlag(c, 'mount.devfs') === true) add(mountRuleset(c, undefined), c.name)
  }
  return used
}

/** NEST-D02: a ruleset in use that is empty, not loaded, or does not hide everything first. */
const d02: Rule = {
  id: 'NEST-D02',
  check(ctx: RuleContext): Finding[] {
    const f = ctx.facts
    const out: Finding[] = []
    for (const [n, jails] of [...usedRulesets(ctx)].sort((a, b) => a[0] - b[0])) {
      const rules = rulesOf(f.rulesets, n)
      const missing = rules.length === 0
      if (!missing && hidesAllFirst(rules, f.rulesets)) continue
      for (const jail of jails) {
        out.push(finding({
          rule: 'NEST-D02',
          severity: 'high',
          jail,
          finding: missing
            ? `devfs ruleset ${n} is empty or not loaded: a devfs mounted with it shows every device (rulesets are created empty on first reference, devfs.8; FreeBSD-SA-14:07.devfs)`
            : `devfs ruleset ${n} does not start by hiding everything: every device no rule hides is visible`,
          fix: missing
            ? `define ruleset ${n} in /etc/devfs.rules starting with \`add include $devfsrules_hide_all\` (or use 4), service devfs restart, then devfs -m ROOT/dev rule -s ${n} applyset`
            : `start ruleset ${n} with \`add include $devfsrules_hide_all\` in /etc/devfs.rules, service devfs restart, then devfs -m ROOT/dev rule -s ${n} applyset`,
          live: 'host',
          param: 'devfs_ruleset',
          evidence: [rulesetEvidence(f, n)],
        }))
      }
    }
    return out
  },
}

/** The rules a jail's devices follow: its /dev mount's own when read, else the ruleset it is mounted with. */
function rulesSeen(f: AuditFacts, j: JailFacts): {rules: DevfsRule[]; evidence: Evidence; label: string} | null {
  const dm = devMount(f, j)
  const c = configOf(f, j.name)
  if (dm?.rules) return {rules: dm.rules, evidence: {argv: ['devfs', '-m', dm.on, 'rule', 'show'], lines: dm.lines}, label: `the devfs on ${dm.on}`}
  if (dm || confFlag(c ?? emptyConf, 'mount.devfs') === true || flag(j.params['allow.mount.devfs'])) {
    const n = dm ? mountRuleset(c, j) : int(j.params['devfs_ruleset']) || mountRuleset(c, j)
    return {rules: n === 0 ? [] : rulesOf(f.rulesets, n), evidence: rulesetEvidence(f, n), label: `devfs ruleset ${n}`}
  }
  return null
}

/** NEST-D03: the devices a jail's devfs shows include dangerous ones. */
const d03: Rule = {
  id: 'NEST-D03',
  check(ctx: RuleContext): Finding[] {
    const f = ctx.facts
    const out: Finding[] = []
    for (const j of scopedJails(ctx)) {
      for (const seen of allDevfs(f, j)) out.push(...d03For(f, j, seen))
    }
    return out
  },
}

/**
 * Every devfs a jail sees: its /dev, and the other devfs mounts below its root that the
 * collector read the rules of (a `mount` line of devfs that jail(8) mounts from the host has no
 * ruleset unless it says `ruleset=N`: every device, as the Handbook's Linux jail has it).
 */
function allDevfs(f: AuditFacts, j: JailFacts): {rules: DevfsRule[]; evidence: Evidence; label: string}[] {
  const own = rulesSeen(f, j)
  const dev = `${j.path.replace(/\/+$/, '')}/dev`
  const inner = f.jails.filter((x) => !x.dying && x.name !== j.name && x.path.startsWith(`${j.path}/`))
  const others = f.devfsMounts
    .filter((d) => d.on !== dev && d.on.startsWith(`${j.path}/`) && !inner.some((x) => d.on === x.path || d.on.startsWith(`${x.path}/`)))
    .map((d) => ({rules: d.rules.map(parseRule).filter((r): r is DevfsRule => r !== null), evidence: {argv: ['devfs', '-m', d.on, 'rule', 'show'], lines: d.rules}, label: `the devfs on ${d.on}`}))
  return [...(own ? [own] : []), ...others]
}

function d03For(f: AuditFacts, j: JailFacts, seen: {rules: DevfsRule[]; evidence: Evidence; label: string}): Finding[] {
    const out: Finding[] = []
    {
      const vis = dangerousVisible(seen.rules, f.rulesets, isVnet(j))
      const shown = vis.filter((v) => (v.dev.cls === 'vmm' ? !flag(j.params['allow.vmm']) : true))
      if (shown.length === 0) return out
      const declared = new Set(f.nest[j.name]?.declared ?? [])
      const graded = shown.map((v) => {
        const isDeclared = declared.has(`device:${v.dev.cls}`) || declared.has(`device:${v.node}`)
        const severity: Severity = isDeclared ? (v.dev.severity === 'high' ? 'medium' : 'low') : v.dev.severity
        return {...v, isDeclared, severity}
      })
      // One finding per severity: an empty ruleset shows every class, and one line per class would bury the rest.
      for (const severity of ['high', 'medium', 'low'] as const) {
        const these = graded.filter((g) => g.severity === severity)
        if (these.length === 0) continue
        out.push(finding({
          rule: 'NEST-D03',
          severity,
          jail: j.name,
          finding: `${seen.label} shows ${these.map((v) => `${v.dev.cls} (/dev/${v.node}${v.isDeclared ? ', declared needed' : ''})`).join(', ')}: ${these.map((v) => v.dev.why).join('; ')}`,
          fix: 'remove the unhide rules from the ruleset in /etc/devfs.rules (or use ruleset 4), service devfs restart, then devfs -m ROOT/dev rule -s N applyset; restart the jail to close descriptors already open',
          live: 'host',
          param: 'devfs_ruleset',
          affects: below(f, j.name),
          evidence: [seen.evidence],
        }))
      }
    }
    return out
}

/** NEST-D04: ruleset 4/5 defaults the jail does not need: fuse without allow.mount.fusefs (zfs is NEST-Z04's). */
const d04: Rule = {
  id: 'NEST-D04',
  check(ctx: RuleContext): Finding[] {
    const f = ctx.facts
    const out: Finding[] = []
    for (const j of scopedJails(ctx)) {
      const seen = rulesSeen(f, j)
      // A ruleset that does not hide everything first is D02's and D03's, not a matter of two defaults.
      if (!seen || !hidesAllFirst(seen.rules, f.rulesets)) continue
      const unneeded: string[] = []
      // /dev/zfs without a delegated dataset is NEST-Z04 (the grant rules), reported there once.
      if (visibleWith(seen.rules, f.rulesets, {name: 'fuse'}) && !flag(j.params['allow.mount.fusefs'])) unneeded.push('fuse (allow.mount.fusefs is off)')
      if (unneeded.length === 0) continue
      out.push(finding({
        rule: 'NEST-D04',
        severity: 'low',
        jail: j.name,
        finding: `${seen.label} shows devices it does not need: ${unneeded.join(', ')}`,
        fix: 'a ruleset derived from 4 without those unhide lines (host /etc/devfs.rules), then devfs_ruleset = N and devfs -m ROOT/dev rule -s N applyset',
        live: 'host',
        param: 'devfs_ruleset',
        evidence: [seen.evidence, jlsEvidence(f, j, ['allow.mount.fusefs'])],
      }))
    }
    return out
  },
}

/** NEST-D05: the rules bound to a jail's /dev differ from the ruleset it would be mounted with now. */
const d05: Rule = {
  id: 'NEST-D05',
  check(ctx: RuleContext): Finding[] {
    const f = ctx.facts
    const out: Finding[] = []
    for (const j of scopedJails(ctx)) {
      const dm = devMount(f, j)
      if (!dm?.rules) continue
      const n = mountRuleset(configOf(f, j.name), j)
      const want = f.rulesets[n] ?? []
      const strip = (l: string): string => l.trim().replace(/\s+/g, ' ')
      if (dm.lines.map(strip).join('\n') === want.map(strip).join('\n')) continue
      const empty = dm.lines.length === 0
      out.push(finding({
        rule: 'NEST-D05',
        severity: empty ? 'high' : 'medium',
        jail: j.name,
        finding: `its /dev (${dm.on}) is mounted with rules other than ruleset ${n}'s${empty ? ': none, every device is visible' : ''} (the parameter governs only new mounts)`,
        fix: `devfs -m ${dm.on} ruleset ${n} && devfs -m ${dm.on} rule applyset (host), or restart the jail`,
        live: 'host',
        param: 'devfs_ruleset',
        evidence: [{argv: ['devfs', '-m', dm.on, 'rule', 'show'], lines: dm.lines}, rulesetEvidence(f, n), mountEvidence(f, f.mounts.filter((m) => m.on === dm.on))],
      }))
    }
    return out
  },
}

/** NEST-D06: a child the host starts sees devices its parent cannot. */
const d06: Rule = {
  id: 'NEST-D06',
  check(ctx: RuleContext): Finding[] {
    const f = ctx.facts
    const out: Finding[] = []
    for (const j of scopedJails(ctx)) {
      if (j.parent === null) continue
      const c = configOf(f, j.name)
      if (c && c.startedBy !== null) continue // its parent's own jail(8) mounts it: the parent's ruleset
      const parent = f.jails.find((p) => p.name === j.parent && !p.dying)
      if (!parent) continue
      const mine = rulesSeen(f, j)
      if (!mine) continue
      const theirs = rulesSeen(f, parent)?.rules ?? []
      const extra = dangerousVisible(mine.rules, f.rulesets, isVnet(j)).filter((v) => !v.dev.samples.some((s) => visibleWith(theirs, f.rulesets, s)))
      if (extra.length === 0) continue
      out.push(finding({
        rule: 'NEST-D06',
        severity: extra.some((e) => e.dev.severity === 'high') ? 'high' : 'medium',
        jail: j.name,
        finding: `started by the host, it sees devices its parent ${parent.name} cannot (${extra.map((e) => e.dev.cls).join(', ')}): the parent can attach to it and use them`,
        fix: `give ${j.name} a ruleset that shows no more than ${parent.name}'s`,
        live: 'host',
        param: 'devfs_ruleset',
        evidence: [mine.evidence],
      }))
    }
    return out
  },
}

export const DEVICE_RULES: Rule[] = [d01, d02, d03, d04, d05, d06]
