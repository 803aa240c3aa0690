// What a configured jail that is not running will hold at its next start, from its jail.conf
// alone (audit-rules.md §1.2 O2: `jail -f FILE -e '|'`). A host whose jails are stopped (or a
// configuration read before it is ever started) otherwise gets no finding at all: every grant
// rule reads the kernel's values (jls). Only what the configuration decides by itself is said:
// a top-level jail of the host's jail(8) (nothing above it clamps its values, kern_jail.c), and
// only grants whose presence is the risk (no use is observable while it is stopped, §1.1). The
// same rule ids as for a running jail; live CFG (the fix is in the file, before its start).
import {boolValue, splitNo} from '../../jailconf/index.js'
import type {ConfigFacts, Evidence} from '../facts.js'
import type {Finding, Severity} from '../finding.js'
import type {Rule, RuleContext} from '../rule.js'
import {confFlag, confValue, finding} from './hygiene-common.js'

/** The configured, top-level, host-started jails in scope that no running jail is. */
function stopped(ctx: RuleContext): ConfigFacts[] {
  const running = new Set(ctx.facts.jails.filter((j) => !j.dying).map((j) => j.name))
  const refused = new Set((ctx.facts.configErrors ?? []).flatMap((e) => (e.jail === undefined ? [] : [e.jail])))
  return ctx.facts.configs.filter((c) => ctx.scope.has(c.name) && c.startedBy === null && !c.name.includes('.') && !running.has(c.name) && !refused.has(c.name))
}

/** `jail -e`'s line for the parameters a finding rests on. */
const confEvidence = (c: ConfigFacts, names: readonly string[]): Evidence => ({
  argv: ['jail', '-f', c.file, '-e', '|'],
  lines: [[`name=${c.name}`, ...Object.entries(c.params).filter(([k]) => names.includes(splitNo(k).base) || names.includes(k)).map(([k, v]) => (v.length === 0 ? k : `${k}=${v.join(',')}`))].join('|')],
})

/** A boolean as jail(8) reads the configuration (bool_param; allow.X = 1, allow.noX). */
const on = (c: ConfigFacts, name: string): boolean => {
  for (const [k, v] of Object.entries(c.params)) if (splitNo(k).base === name) return boolValue(k, v)
  return false
}

const cfg = (rule: string, severity: Severity, c: ConfigFacts, what: string, fix: string, param: string, names: string[]): Finding =>
  finding({rule, severity, jail: c.name, finding: `configured, not running: at its next start ${what}`, fix: `${fix} in ${c.file}, before it starts`, live: 'CFG', param, evidence: [confEvidence(c, names)]})

const configured: Rule = {
  id: 'NEST-CFG',
  check(ctx: RuleContext): Finding[] {
    return stopped(ctx).flatMap((c): Finding[] => {
      const out: Finding[] = []
      const vnet = on(c, 'vnet') || confValue(c, 'vnet') === 'new'
      const fams = ['ip4', 'ip6'].filter((p) => confValue(c, p) === 'inherit')
      if (!vnet && fams.length > 0) out.push(cfg('NEST-N01', 'medium', c, `${fams.map((p) => `${p}=inherit`).join(' and ')} on a shared-stack jail: "unrestricted access to all system addresses" (jail.8)`, fams.includes('ip4') ? 'ip4.addr = "<its own address>";' : 'ip6 = "disable";', fams[0] as string, fams))
      const inherit = ['sysvmsg', 'sysvsem', 'sysvshm'].filter((p) => confValue(c, p) === 'inherit' || (confValue(c, p) === undefined && on(c, 'allow.sysvipc')))
      if (inherit.length > 0) out.push(cfg('NEST-I01', 'medium', c, `${inherit.map((p) => `${p}=inherit`).join(', ')}${on(c, 'allow.sysvipc') ? ' (allow.sysvipc, jail.8)' : ''}: every IPC object on the system is visible to it`, 'sysvmsg, sysvsem, sysvshm = "new" where needed, else "disable"; no allow.sysvipc', inherit[0] as string, [...inherit, 'allow.sysvipc']))
      if (confValue(c, 'enforce_statfs') === '0') out.push(cfg('NEST-S01', 'medium', c, 'enforce_statfs is 0: it sees every mount point with its host path (jail.8)', 'enforce_statfs = 1 (if it mounts) or 2', 'enforce_statfs', ['enforce_statfs']))
      if (confValue(c, 'devfs_ruleset') === '0' && confFlag(c, 'mount.devfs') === true) out.push(cfg('NEST-D01', 'high', c, 'jail(8) mounts its /dev with -oruleset=0 (devfs_ruleset = 0; 4 only when unset, command.c): every device of the host is visible, disks included (jail.8 NOTE)', 'devfs_ruleset = 4; (5 for a vnet jail that manages pf)', 'devfs_ruleset', ['devfs_ruleset', 'mount.devfs']))
      const es = Number(confValue(c, 'enforce_statfs') ?? '2')
      const mounts = on(c, 'allow.mount') && es < 2
      if (mounts && on(c, 'allow.mount.nullfs')) out.push(cfg('NEST-M03', 'high', c, 'its root may mount nullfs (allow.mount, allow.mount.nullfs, enforce_statfs < 2): FreeBSD-SA-26:02.jail, a jailed root that may mount nullfs can escape to its parent\'s whole file system (CVE-2025-15547)', 'allow.mount.nonullfs; (nullfs mounts made by the host\'s jail(8): mount, mount.fstab)', 'allow.mount.nullfs', ['allow.mount', 'allow.mount.nullfs', 'enforce_statfs']))
      if (mounts && on(c, 'allow.mount.devfs') && (confValue(c, 'devfs_ruleset') ?? '0') === '0') out.push(cfg('NEST-M04', 'high', c, 'its root may mount devfs with devfs_ruleset 0: that devfs shows every device, disks included (jail.8 NOTE)', 'devfs_ruleset = 4; or allow.mount.nodevfs', 'allow.mount.devfs', ['allow.mount', 'allow.mount.devfs', 'devfs_ruleset', 'enforce_statfs']))
      return out
    })
  },
}

export const CONFIGURED_RULES: Rule[] = [configured]
