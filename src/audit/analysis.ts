// The needs of a tree, bottom-up (audit-rules §2.3), and the verdict on each allow flag.
//   Need(J)  = Own(J) ∪ ⋃ Need(C)       (allow.unprivileged_proc_debug excluded: a child may hold it alone, jail.h PR_ALLOW_DIFFERENCES)
//   es(J)    = min(r_es(J), min es(C))  (a child's enforce_statfs is ≥ its parent's, kern_jail.c)
//   sl(J)    = min(r_sl(J), min sl(C))
//   ipc(J)   = disable if the whole subtree is, else at least new (a child's new/inherit is refused under a disable parent)
//   cm(J)    = 0 with no descendant created through J, else max(|desc| + h, 1 + max cm(C)), h = |desc|
// h: a restarting jail stays in every ancestor's children.cur while it dies (kern_jail.c
// prison_deref), so a subtree restarted at once needs as many spare slots as it has jails; for
// §2.4's two children that gives 4, the figure the worked example reaches.
// What this host cannot observe stays unknown, and an unknown use below a jail makes that
// jail's verdict unknown too (tightening it would clear the flag below, §2.1).
import {ALLOW_DIFFERENCES, DEFAULT_ALLOW} from '../jailconf/params.js'
import type {AuditFacts, Evidence, JailFacts, LifecycleRecord} from './facts.js'
import {evidence, isBelow, jlsEvidence, mountEvidence, psLine} from './evidence.js'
import {type Need, type Own, type SysvMode, type SysvParam, SYSV, mountOrigins, ownOf, starterOf, sysvMode, widerSysv, type MountOrigin} from './lifecycle.js'
import {childrenOf, configOf, descendantsOf, flag, jailOf, text} from './rule.js'
import type {GrantVerdict} from './finding.js'

/** Own(J)'s fields, as the subtree makes them (its children's needs and unknowns joined, §2.3). */
export interface JailAnalysis extends Pick<Own, 'jail' | 'unknown' | 'es' | 'esNeeds' | 'sl' | 'slWhy' | 'sysv'> {
  own: Own
  need: Map<string, Need[]>
  /** SysV modules whose use in J's subtree cannot be told (own, or a child's that holds it). */
  sysvUnknown: Map<SysvParam, string>
  cm: number
  cmWhy: string
  /** Descendants created through J (not by the host with a dotted name). */
  desc: string[]
  /** The lifecycle record that covers J (its own, or an ancestor's: an ancestor's start starts J). */
  lifecycle: {of: string; record: LifecycleRecord} | null
}

export interface TreeAnalysis {
  facts: AuditFacts
  origins: MountOrigin[]
  jails: Map<string, JailAnalysis>
}

/** Grants used only while a jail or the children it starts come up (§1.1.2): unused needs a lifecycle record. */
const LIFECYCLE_BOUND = (param: string): boolean => param === 'allow.mount' || param.startsWith('allow.mount.') || param === 'allow.chflags'

/** Flags no host-side table shows in use (their privilege is seen only by DTrace's priv provider, O5). */
const PRIV_ONLY: Record<string, string> = {
  'allow.reserved_ports': 'PRIV_NETINET_RESERVEDPORT (binding a port below 1024)',
  'allow.unprivileged_proc_debug': 'unprivileged debugging (not observable cheaply, §3 A10: decided by policy)',
  'allow.suser': 'root privilege inside the jail (advisory, §3 A11)',
  'allow.read_msgbuf': 'PRIV_MSGBUF (reading the kernel message buffer)',
  'allow.extattr': 'PRIV_VFS_EXTATTR_SYSTEM (system-namespace extended attributes; mapping unconfirmed)',
  'allow.settime': 'PRIV_CLOCK_SETTIME (setting the clock)',
  'allow.adjtime': 'PRIV_ADJTIME (adjusting the clock)',
  'allow.routing': 'PRIV_NET_ROUTE (changing the routing table)',
  'allow.setaudit': 'PRIV_AUDIT_SETAUDIT (setting audit identity)',
  'allow.unprivileged_parent_tampering': 'unprivileged parent processes tampering with the jail\'s (not a privilege check)',
}

export const heldFlags = (j: JailFacts): string[] => Object.keys(j.params).filter((k) => k.startsWith('allow.') && flag(j.params[k])).sort()

function lifecycleOf(f: AuditFacts, name: string): {of: string; record: LifecycleRecord} | null {
  for (let n: string | null = name; n !== null; n = n.includes('.') ? n.slice(0, n.lastIndexOf('.')) : null) {
    const r = f.nest[n]?.lifecycle
    if (r) return {of: n, record: r}
  }
  return null
}

export function analyseTree(f: AuditFacts): TreeAnalysis {
  const origins = mountOrigins(f)
  const jails = new Map<string, JailAnalysis>()
  const visit = (name: string): JailAnalysis => {
    const done = jails.get(name)
    if (done !== undefined) return done
    const own = ownOf(f, name, origins)
    const a0 = (sv: SysvParam): string | undefined => own.unknown.get(sv)
    const kids = childrenOf(f, name).map(visit)
    const need = new Map<string, Need[]>([...own.flags].map(([k, v]) => [k, [...v]]))
    const unknown = new Map(own.unknown)
    const j = jailOf(f, name)
    const lifecycle = lifecycleOf(f, name)
    for (const k of kids) {
      for (const [param, needs] of k.need) {
        if ((ALLOW_DIFFERENCES as readonly string[]).map((a) => `allow.${a}`).includes(param)) continue
        const first = needs[0]!
        const list = need.get(param) ?? []
        list.push({kind: 'child', why: `${k.jail} needs it (${first.kind}: ${first.why})`, evidence: first.evidence})
        need.set(param, list)
      }
    }
    if (j !== undefined && lifecycle === null) {
      for (const param of heldFlags(j)) {
        if (LIFECYCLE_BOUND(param) && !need.has(param) && !unknown.has(param)) unknown.set(param, `nest has no record of a start of ${name} (or of a jail above it): a grant used only while it and its children start cannot be called unused (§1.1)`)
      }
    }
    for (const k of kids) {
      const kj = jailOf(f, k.jail)
      for (const [param, why] of k.unknown) if (kj !== undefined && flag(kj.params[param]) && !need.has(param) && !unknown.has(param)) unknown.set(param, `${k.jail}: ${why}`)
    }
    // allow.mount stands or falls with the allow.mount.<fs> below it.
    if (!need.has('allow.mount') && !unknown.has('allow.mount')) {
      const u = [...unknown].find(([p]) => p.startsWith('allow.mount.'))
      if (u !== undefined) unknown.set('allow.mount', `the use of ${u[0]} is unknown: ${u[1]}`)
    }
    let es = own.es
    const esNeeds = [...own.esNeeds]
    let sl = own.sl
    let slWhy = own.slWhy
    for (const k of kids) {
      if (k.es < es) es = k.es
      if (k.es < 2) esNeeds.push({kind: 'child', why: `${k.jail} needs enforce_statfs ≤ ${k.es}`, evidence: k.esNeeds[0]?.evidence ?? []})
      if (k.sl !== null && (sl === null || k.sl < sl)) {
        sl = k.sl
        slWhy = `${k.jail}: ${k.slWhy}`
      }
    }
    const sysvUnknown = new Map<SysvParam, string>()
    for (const sv of SYSV) {
      const own = a0(sv)
      if (own !== undefined) sysvUnknown.set(sv, own)
      else {
        const k = kids.find((x) => x.sysvUnknown.has(sv) && jailOf(f, x.jail) !== undefined && currentSysv(jailOf(f, x.jail)!, sv) !== 'disable')
        if (k !== undefined) sysvUnknown.set(sv, `${k.jail}: ${k.sysvUnknown.get(sv)!}`)
      }
    }
    const sysv = {} as JailAnalysis['sysv']
    for (const s of SYSV) {
      const below = kids.filter((k) => k.sysv[s].mode !== 'disable')
      sysv[s] = {
        mode: widerSysv(own.sysv[s].mode, below.length > 0 ? 'new' : 'disable'),
        needs: [...own.sysv[s].needs, ...below.map((k): Need => ({kind: 'child', why: `${k.jail} needs ${s}=${k.sysv[s].mode} (${k.sysv[s].needs[0]?.why ?? ''})`, evidence: k.sysv[s].needs[0]?.evidence ?? []}))],
      }
    }
    const desc = descendantsOf(f, name).filter((d) => starterOf(f, d) !== null)
    const h = desc.length
    const cm = desc.length === 0 ? own.cmDeclared : Math.max(desc.length + h, 1 + Math.max(0, ...kids.map((k) => k.cm)), own.cmDeclared)
    const cmWhy = desc.length === 0
      ? (own.cmDeclared > 0 ? `declared: children.max=${own.cmDeclared}` : `no jail is created through ${name} (no child running, none configured in its root)`)
      : `${desc.length} jail(s) created through it (${desc.join(', ')}), plus ${h} spare for jails that stay counted while they die on a restart`
    const a: JailAnalysis = {jail: name, own, need, unknown, es, esNeeds, sl, slWhy, sysv, sysvUnknown, cm, cmWhy, desc, lifecycle}
    jails.set(name, a)
    return a
  }
  const roots = [...new Set([...f.jails.filter((j) => !j.dying).map((j) => j.name), ...f.configs.map((c) => c.name)])]
  for (const n of roots.sort()) visit(n)
  return {facts: f, origins, jails}
}

export interface FlagVerdict {
  verdict: GrantVerdict
  reason: string
  evidence: Evidence[]
}

const needReason = (needs: readonly Need[]): string => `${needs[0]!.kind}: ${needs[0]!.why}${needs.length > 1 ? ` (and ${needs.length - 1} more)` : ''}`

const when = (t: number): string => new Date(t * 1000).toISOString().replace('.000Z', 'Z')
function windowNote(a: JailAnalysis): string {
  const l = a.lifecycle
  if (l === null) return ''
  return ` (lifecycle: ${l.of} started by nest ${when(l.record.started)}${l.record.stopped !== null ? `, stopped ${when(l.record.stopped)}` : ''})`
}

/** The verdict on one allow flag a jail holds. */
export function flagVerdict(t: TreeAnalysis, name: string, param: string): FlagVerdict {
  const f = t.facts
  const a = t.jails.get(name)!
  const j = jailOf(f, name)!
  const needs = a.need.get(param)
  if (needs !== undefined && needs.length > 0) return {verdict: 'needed', reason: needReason(needs), evidence: needs.slice(0, 3).flatMap((n) => n.evidence)}
  const unknown = a.unknown.get(param)
  if (unknown !== undefined) return {verdict: 'unknown', reason: unknown, evidence: []}
  const procs = f.procs.filter((p) => p.jid === j.jid)
  const psEv = evidence(f, 'ps', procs.map(psLine))
  const vnet = text(j.params['vnet']) === 'new'
  const held = jlsEvidence(f, j, [param])
  if (param === 'allow.set_hostname') {
    return {verdict: 'unknown', reason: `${name}'s hostname is the one it was started with; a change shows only when it happens (nest keeps no history of it)`, evidence: [held, jlsEvidence(f, j, ['host.hostname'])]}
  }
  if ((DEFAULT_ALLOW as readonly string[]).map((d) => `allow.${d}`).includes(param) || PRIV_ONLY[param] !== undefined || !isKnownFlag(param)) {
    return {verdict: 'unknown', reason: `its use (${PRIV_ONLY[param] ?? 'a privilege check'}) is seen only through DTrace's priv provider (O5), which nest does not run`, evidence: [held]}
  }
  if (param === 'allow.raw_sockets' || param === 'allow.socket_af') {
    if (vnet) return {verdict: 'unused', reason: `a no-op: ${name} owns a vnet, and prison_priv_check grants a vnet jail raw sockets and every socket family without it (§1.3)`, evidence: [held, jlsEvidence(f, j, ['vnet'])]}
    const what = param === 'allow.raw_sockets' ? 'raw socket (PRO ICM, RAW, IP?, IPD)' : 'socket of a family other than INET, INET6 and LOCAL (PRO ?)'
    const pids = new Set(procs.map((p) => p.pid))
    const socks = f.sockets.filter((s) => pids.has(s.pid))
    const reason = procs.length === 0
      ? `${name} runs no process, so it holds no socket, and no jail below it needs it`
      : `procstat -f of ${name}'s ${procs.length} process(es) shows no ${what}, and no jail below it needs it; a sample: a transient use (a ping) is seen only with DTrace (O5), which nest does not run`
    return {verdict: 'unused', reason, evidence: [held, psEv, ...(socks.length > 0 ? [evidence(f, 'procstat', socks.map((s) => s.line))] : [])]}
  }
  if (param === 'allow.nfsd' || param === 'allow.vmm') {
    return {verdict: 'unused', reason: `no ${param === 'allow.nfsd' ? 'nfsd or mountd' : 'bhyve'} process runs in ${name} or below it`, evidence: [held, psEv]}
  }
  if (param === 'allow.mlock') {
    return {verdict: 'unused', reason: `${name} has no memory wired (rctl memorylocked=0), nor has any jail below it`, evidence: [held, evidence(f, `rctl:${name}`, [`memorylocked=${f.rctl[name]?.['memorylocked'] ?? 0}`])]}
  }
  if (param === 'allow.sysvipc') {
    return {verdict: 'unused', reason: `no SysV module of ${name} needs inherit (${SYSV.map((s) => `${s} needs ${a.sysv[s].mode}`).join(', ')}): explicit sysv*= values replace it`, evidence: [held, jlsEvidence(f, j, [...SYSV])]}
  }
  if (param === 'allow.quotas') {
    const root = f.mounts.find((m) => m.on === j.path)
    if (root?.type === 'ufs' && root.opts.some((o) => o.includes('quota'))) return {verdict: 'unknown', reason: `${name}'s root is a UFS file system with quotas (${root.opts.join(',')}): quota use is seen only with DTrace`, evidence: [held, mountEvidence(f, [root])]}
    return {verdict: 'unused', reason: `${name}'s root is not a UFS file system with quotas enabled (§3 A06)`, evidence: [held, ...(root ? [mountEvidence(f, [root])] : [])]}
  }
  if (param === 'allow.chflags') {
    return {verdict: 'unused', reason: `${name} is in its run phase (no declared maintenance or bootstrap window), and nest's lifecycle of it and its children (ZFS clones, zfs destroy) sets no file flags; PRIV_VFS_SYSFLAGS itself is seen only with DTrace${windowNote(a)}`, evidence: [held]}
  }
  if (param === 'allow.mount') {
    return {verdict: 'unused', reason: `no allow.mount.<fs> is needed by ${name} or below it${windowNote(a)}`, evidence: [held, mountEvidence(f, t.origins.filter((o) => isBelow(o.mount.on, j.path)).map((o) => o.mount))]}
  }
  if (param.startsWith('allow.mount.')) {
    const fs = param.slice('allow.mount.'.length)
    const rows = t.origins.filter((o) => isBelow(o.mount.on, j.path) && o.mount.type === fs)
    const kids = f.configs.filter((c) => c.startedBy === name).map((c) => c.name)
    return {
      verdict: 'unused',
      reason: `no ${fs} mount below ${name}'s root was made by ${name}${kids.length > 0 ? ` or by its jail(8) for ${kids.join(', ')}` : ''}, and no jail below it needs it${rows.length > 0 ? ` (the ${fs} mounts there are made by ${[...new Set(rows.map((r) => r.by ?? 'the host'))].join(', ')})` : ''}${windowNote(a)}`,
      evidence: [held, mountEvidence(f, t.origins.filter((o) => isBelow(o.mount.on, j.path) && o.mount.on !== j.path).map((o) => o.mount))],
    }
  }
  return {verdict: 'unknown', reason: 'nest knows no way to observe it', evidence: [held]}
}

const KNOWN = new Set(['allow.raw_sockets', 'allow.socket_af', 'allow.nfsd', 'allow.vmm', 'allow.mlock', 'allow.sysvipc', 'allow.quotas', 'allow.chflags', 'allow.mount'])
const isKnownFlag = (p: string): boolean => KNOWN.has(p) || p.startsWith('allow.mount.')

/** The SysV mode a jail has now (jls -n prints new, inherit or disable). */
export const currentSysv = (j: JailFacts, s: SysvParam): SysvMode => sysvMode(text(j.params[s]))

/** Whether the config of a jail mounts devfs (its own /dev, with its devfs_ruleset). */
export const mountsDevfs = (f: AuditFacts, name: string): boolean => (configOf(f, name)?.params['mount.devfs'] !== undefined)

const BY_CONTEXT = new WeakMap<object, TreeAnalysis>()
/** The analysis for one rule run (keyed on its context object: the facts do not change during a run). */
export function analysisFor(ctx: {facts: AuditFacts}): TreeAnalysis {
  let t = BY_CONTEXT.get(ctx)
  if (t === undefined) {
    t = analyseTree(ctx.facts)
    BY_CONTEXT.set(ctx, t)
  }
  return t
}
