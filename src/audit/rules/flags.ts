// Unused allow flags (audit-rules §3 A, M; H01): one finding per flag, at the highest jail of
// the scope where it is unused in the whole subtree (the kernel clears it below at once, §2.1).
// When the change also clears it in descendants that hold it, the finding is NEST-H01 (the
// hierarchical form: one `jail -m` at the subtree root, plus the configs below), with the
// severity of the flag's own rule; otherwise it is the flag's rule (NEST-A01, NEST-M03, …).
import {analysisFor} from '../analysis.js'
import type {AuditFacts} from '../facts.js'
import type {Finding, Grant, LiveClass, Severity} from '../finding.js'
import {int, jailOf, type Rule, type RuleContext} from '../rule.js'
import {finding, flagOffFix, grantsWith, highestUnused, holdersBelow, isVnet} from './common.js'

interface FlagRule {
  rule: string
  live: LiveClass
  severity(f: AuditFacts, jail: string): Severity
  /** What the finding says beyond "unused" (the risk, from the catalogue's Why). */
  why: string
}

const fixed = (s: Severity) => (): Severity => s

/** Whether a jail has a delegated dataset attached to it (a jailed=on dataset mounted below its root by it). */
export const hasDelegation = (ctx: RuleContext, jail: string): boolean => (analysisFor(ctx).jails.get(jail)?.own.delegations.length ?? 0) > 0

export function flagRule(ctx: RuleContext, param: string, jail: string): FlagRule | undefined {
  const f = ctx.facts
  const vnet = isVnet(f, jail)
  switch (param) {
    case 'allow.raw_sockets': return vnet ? {rule: 'NEST-A20', live: 'L1', severity: fixed('low'), why: 'a no-op on a jail that owns a vnet (it has raw sockets anyway): audit the vnet itself (NEST-N02)'} : {rule: 'NEST-A01', live: 'L1', severity: fixed('medium'), why: 'raw sockets let jail root craft packets and drive network subsystems (jail.8)'}
    case 'allow.socket_af': return vnet ? {rule: 'NEST-A20', live: 'L1', severity: fixed('low'), why: 'a no-op on a jail that owns a vnet (any family is allowed there): audit the vnet itself (NEST-N02)'} : {rule: 'NEST-A02', live: 'L1', severity: fixed('medium'), why: 'it opens protocol stacks written without jail isolation (jail.8)'}
    case 'allow.chflags': return {rule: 'NEST-A03', live: 'L1', severity: fixed('medium'), why: 'without it, schg files protect the jail\'s binaries from its own root at securelevel ≥ 1 (security.7); keep it for declared maintenance windows'}
    case 'allow.mlock': return {rule: 'NEST-A04', live: 'L1', severity: fixed('low'), why: 'wired memory cannot be reclaimed: a host-wide DoS lever (jail.8)'}
    case 'allow.quotas': return {rule: 'NEST-A06', live: 'L1', severity: (ff, j) => (rootIsOwnFs(ff, j) ? 'low' : 'medium'), why: 'jail root administers quotas on a file system it may share (jail.8)'}
    case 'allow.nfsd': return {rule: 'NEST-A12', live: 'L1', severity: fixed('medium'), why: 'the kernel NFS server is reachable by jail root'}
    case 'allow.vmm': return {rule: 'NEST-A13', live: 'L1', severity: fixed('high'), why: 'it gives the jail /dev/vmm, the hypervisor\'s kernel interface (jail.8)'}
    case 'allow.mount': return {rule: 'NEST-M01', live: 'L1', severity: fixed('low'), why: 'no file system it could mount is needed: the grant only widens later mistakes'}
    case 'allow.mount.nullfs': return {rule: 'NEST-M03', live: 'L2', severity: fixed('high'), why: 'FreeBSD-SA-26:02.jail: with allow.mount.nullfs a jailed root can escape to the parent\'s whole file system (CVE-2025-15547)'}
    case 'allow.mount.devfs': return {rule: 'NEST-M04', live: 'L2', severity: (ff, j) => (int(jailOf(ff, j)?.params['devfs_ruleset']) === 0 ? 'high' : 'low'), why: 'a devfs it mounts is filtered only by its devfs_ruleset (jail.8 NOTE on disk devices)'}
    case 'allow.mount.fdescfs': return {rule: 'NEST-M05', live: 'L2', severity: fixed('medium'), why: 'FreeBSD-SA-26:66.jail: fdescfs mounted with nodup lost FD_RESOLVE_BENEATH (CVE-2026-101304)'}
    case 'allow.mount.procfs':
    case 'allow.mount.linprocfs':
    case 'allow.mount.linsysfs':
    case 'allow.mount.lindebugfs': return {rule: 'NEST-M06', live: 'L2', severity: fixed('medium'), why: 'procfs-like file systems were a jail bypass before (SA-00:77); HardenedBSD marks lindebugfs untrusted'}
    case 'allow.mount.tmpfs': return {rule: 'NEST-M07', live: 'L2', severity: fixed('medium'), why: 'a tmpfs without size= can grow into host memory and swap'}
    case 'allow.mount.zfs': return hasDelegation(ctx, jail)
      ? {rule: 'NEST-M02', live: 'L2', severity: fixed('medium'), why: 'its delegated dataset is unused (NEST-Z02): the grant keeps /dev/zfs and enforce_statfs < 2 justified for nothing'}
      : {rule: 'NEST-M08', live: 'L2', severity: fixed('medium'), why: 'no dataset is delegated to it (zfs jail): the grant keeps /dev/zfs and enforce_statfs < 2 justified for nothing'}
    case 'allow.mount.fusefs': return {rule: 'NEST-M09', live: 'L2', severity: fixed('medium'), why: 'userland file systems drive kernel fuse code (HardenedBSD marks fusefs.ko untrusted)'}
    case 'allow.mount.p9fs': return {rule: 'NEST-M10', live: 'L2', severity: fixed('medium'), why: 'HardenedBSD marks virtio_p9fs.ko untrusted'}
    default: return param.startsWith('allow.mount.') ? {rule: 'NEST-M02', live: 'L2', severity: fixed('low'), why: 'every granted type is kernel code reachable by jail root'} : undefined
  }
}

/** The jail's root is a mount point of its own (a row of mount -p on its path). */
export const rootIsOwnFs = (f: AuditFacts, jail: string): boolean => {
  const j = jailOf(f, jail)
  return j !== undefined && f.mounts.some((m) => m.on === j.path)
}

/** The unused flags findings, each at the highest jail (flag rule, or H01 when descendants hold it too). */
export function unusedFlagFindings(ctx: RuleContext): Finding[] {
  const out: Finding[] = []
  for (const g of grantsWith(ctx, (p) => p.startsWith('allow.') && p !== 'allow.sysvipc', 'unused')) {
    if (!highestUnused(ctx, g)) continue
    const fr = flagRule(ctx, g.param, g.jail)
    if (fr === undefined) continue
    // allow.mount is M01 only while no allow.mount.<fs> is needed (which the verdict says).
    const below = holdersBelow(ctx.facts, g.jail, g.param)
    out.push(below.length > 0 ? h01(ctx, g, fr, below) : finding(fr.rule, fr.severity(ctx.facts, g.jail), g.jail, `${g.param} is unused: ${g.reason}; ${fr.why}`, flagOffFix(ctx.facts, g.jail, g.param, fr.live), fr.live, g.evidence, [], g.param))
  }
  return out
}

function h01(ctx: RuleContext, g: Grant, fr: FlagRule, below: string[]): Finding {
  return finding('NEST-H01', fr.severity(ctx.facts, g.jail), g.jail,
    `${g.param} is unused by ${g.jail} and every jail below it (${fr.rule}: ${fr.why}); one jail -m at ${g.jail} clears it in ${below.join(', ')} too`,
    `${flagOffFix(ctx.facts, g.jail, g.param, fr.live)}; and drop ${g.param} from the configs of ${below.join(', ')}`,
    fr.live, g.evidence, below, g.param)
}

/** A rule that reports the unused flags whose own rule is `id` (the H01 ones are reported by H01). */
export const unusedRule = (id: string): Rule => ({id, check: (ctx) => unusedFlagFindings(ctx).filter((x) => x.rule === id)})

