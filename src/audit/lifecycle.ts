// Own(J) (audit-rules §2.2): what one jail itself needs, from four sources, each kept with its
// evidence:
//   lifecycle  what its own jail(8) does for the children it starts (a child's ConfigFacts
//              startedBy === J): the child's mount.devfs / mount.fdescfs / mount.procfs, its
//              `mount` lines, its root when J mounts it (a dataset of J's, a nullfs);
//   config     what J's own configuration runs inside J (`exec.start = "/sbin/zfs mount …"`);
//   observed   what the host's tables show J doing: mounts below its root that no configuration
//              and no parent made (mount -p, O3), raw and other-family sockets of its processes
//              (procstat -f, O7), its own rctl usage (children's subtracted, O6), SysV objects
//              its processes created (ipcs, O12), nfsd/mountd/bhyve among its processes (ps, O4);
//   declared   what its operator declared (nest:needs, facts.nest[J].declared).
// A mount of its own delegated ZFS dataset counts only while the delegation is in use (children's
// roots or datasets below it, or data written to it): nest mounts a parent policy's dataset at
// every start, whether or not anything lives there, and that mount alone is what Z02 reports,
// not a need (so a child created with the `parent` policy that holds no jail of its own keeps
// neither allow.mount.zfs nor its delegation in the least set: §4 T11).
import {boolValue} from '../jailconf/params.js'
import type {AuditFacts, ConfigFacts, Evidence, JailFacts, MountFacts, ZfsFacts} from './facts.js'
import {configEvidence, evidence, isBelow, jlsEvidence, mountEvidence, psLine, zfsEvidence} from './evidence.js'
import {childrenOf, configOf, flag, int, jailOf, parentName, text} from './rule.js'

export type NeedKind = 'observed' | 'lifecycle' | 'config' | 'declared' | 'child'
export interface Need {
  kind: NeedKind
  why: string
  evidence: Evidence[]
}

export const SYSV = ['sysvmsg', 'sysvsem', 'sysvshm'] as const
export type SysvParam = (typeof SYSV)[number]
export type SysvMode = 'disable' | 'new' | 'inherit'
const SYSV_RANK: Record<SysvMode, number> = {disable: 0, new: 1, inherit: 2}
export const widerSysv = (a: SysvMode, b: SysvMode): SysvMode => (SYSV_RANK[a] >= SYSV_RANK[b] ? a : b)
export const sysvMode = (v: string): SysvMode => (v === 'new' || v === 'inherit' ? v : 'disable')

/**
 * A written size at or below this is an empty file system's own metadata (a fresh ZFS
 * filesystem reports some tens of KiB written: unconfirmed figure, so the bound is generous);
 * above it, the jail wrote into its delegated dataset and the delegation is in use.
 */
export const WRITTEN_IDLE = 1024 * 1024

/** Who made a mount row below a jail's root (O3), and for which jail. */
export interface MountOrigin {
  mount: MountFacts
  /** The jail whose root holds it (the deepest). */
  in: string
  /** The jail that mounted it: the host is null. */
  by: string | null
  /** root: the jail's root itself (its starter mounts it); config: the jail's configured mounts
   *  (its starter's jail(8)); delegated: a dataset delegated to the jail, mounted by it (nest's
   *  start, zfs mount -a); inside: anything else, made from inside the jail (M11). */
  kind: 'root' | 'config' | 'delegated' | 'inside'
}

export interface Delegation {
  jail: string
  /** The topmost delegated dataset the jail mounts, and where. */
  dataset: string
  on: string | null
  /** In use, with why; unused, with the evidence of non-use; unknown when `written` is not in the facts. */
  use: 'used' | 'unused' | 'unknown'
  why: string
  evidence: Evidence[]
}

export interface Own {
  jail: string
  flags: Map<string, Need[]>
  /** Flags whose use this host cannot decide for this jail, with why. */
  unknown: Map<string, string>
  /** r_es(J): the highest enforce_statfs the jail tolerates (2; 1 when it mounts; 0 only when declared). */
  es: number
  esNeeds: Need[]
  /** r_sl(J): the highest securelevel it tolerates; null: no limit of its own. */
  sl: number | null
  slWhy: string
  sysv: Record<SysvParam, {mode: SysvMode; needs: Need[]}>
  /** children.max the operator declared (nest:needs children.max=N). */
  cmDeclared: number
  delegations: Delegation[]
}

// ---------------------------------------------------------------------------------------------
// Reading configurations.

/** A boolean jail.conf parameter as jail(8) reads it (config.c bool_param), its `no` form too. */
export function confFlag(c: ConfigFacts | undefined, name: string): boolean {
  if (c === undefined) return false
  const dot = name.lastIndexOf('.')
  const no = `${name.slice(0, dot + 1)}no${name.slice(dot + 1)}`
  if (c.params[no] !== undefined) return false
  const v = c.params[name]
  return v !== undefined && boolValue(name, v.filter((x) => x !== ''))
}

/** The jail whose jail(8) starts a jail: its config's startedBy, else its kernel parent. */
export function starterOf(f: AuditFacts, name: string): string | null {
  const c = configOf(f, name)
  if (c !== undefined) return c.startedBy
  return jailOf(f, name)?.parent ?? parentName(name)
}

interface ConfMount {
  on: string
  type: string
  param: string
}

/** The mounts a jail's configuration makes (jail(8), by its starter), with global mount points. */
export function configMounts(f: AuditFacts, c: ConfigFacts): ConfMount[] {
  const root = jailOf(f, c.name)?.path ?? globalPath(f, c, c.params['path']?.at(-1) ?? '')
  const out: ConfMount[] = []
  // command.c: mount.devfs on path/dev, mount.fdescfs on path/dev/fd, mount.procfs on path/proc.
  if (confFlag(c, 'mount.devfs')) out.push({on: `${root}/dev`, type: 'devfs', param: 'mount.devfs'})
  if (confFlag(c, 'mount.fdescfs')) out.push({on: `${root}/dev/fd`, type: 'fdescfs', param: 'mount.fdescfs'})
  if (confFlag(c, 'mount.procfs')) out.push({on: `${root}/proc`, type: 'procfs', param: 'mount.procfs'})
  for (const line of c.params['mount'] ?? []) {
    const [, on, type] = line.trim().split(/\s+/)
    if (on !== undefined && type !== undefined) out.push({on: globalPath(f, c, on), type, param: 'mount'})
  }
  return out
}

/** A path in a configuration, as the host sees it: the starter's jail(8) sees its own root as /. */
function globalPath(f: AuditFacts, c: ConfigFacts, p: string): string {
  const prefix = c.startedBy === null ? '' : (jailOf(f, c.startedBy)?.path ?? '')
  return prefix === '' ? p : `${prefix}${p === '/' ? '' : p}`
}

/** The deepest live jail whose root holds a path. */
export function jailHolding(f: AuditFacts, p: string): JailFacts | undefined {
  return f.jails.filter((j) => !j.dying && isBelow(p, j.path)).sort((a, b) => b.path.length - a.path.length)[0]
}

const datasetOf = (f: AuditFacts, name: string): ZfsFacts | undefined => f.datasets.find((d) => d.name === name)

/** Every mount row below a jail's root, with who made it (§2.2, O3). */
export function mountOrigins(f: AuditFacts): MountOrigin[] {
  const out: MountOrigin[] = []
  for (const m of f.mounts) {
    const d = jailHolding(f, m.on)
    if (d === undefined) continue
    const starter = starterOf(f, d.name)
    const c = configOf(f, d.name)
    if (m.on === d.path) out.push({mount: m, in: d.name, by: starter, kind: 'root'})
    else if (c !== undefined && configMounts(f, c).some((x) => x.on === m.on && x.type === m.type)) out.push({mount: m, in: d.name, by: starter, kind: 'config'})
    else if (m.type === 'zfs' && datasetOf(f, m.from)?.props['jailed'] === 'on') out.push({mount: m, in: d.name, by: d.name, kind: 'delegated'})
    else out.push({mount: m, in: d.name, by: d.name, kind: 'inside'})
  }
  return out
}

/** The datasets a jail's own configuration mounts inside it (`exec.start = "/sbin/zfs mount DS"`). */
function configZfsMounts(c: ConfigFacts | undefined): string[] {
  return (c?.params['exec.start'] ?? []).flatMap((cmd) => {
    const w = cmd.trim().split(/\s+/)
    const i = w.findIndex((x) => x === 'zfs' || x.endsWith('/zfs'))
    return i >= 0 && w[i + 1] === 'mount' && w[i + 2] !== undefined && !w[i + 2]!.startsWith('-') ? [w[i + 2]!] : []
  })
}

/** The file system types J's own exec.start mounts inside it (`mount -t T …`, `mount_T …`). */
function configFsMounts(c: ConfigFacts | undefined): Array<{type: string; line: string}> {
  return (c?.params['exec.start'] ?? []).flatMap((cmd) => {
    const w = cmd.trim().split(/\s+/)
    const out: Array<{type: string; line: string}> = []
    w.forEach((x, i) => {
      const base = x.slice(x.lastIndexOf('/') + 1)
      if (base.startsWith('mount_') && base.length > 6) out.push({type: base.slice(6), line: cmd})
      if (base === 'mount' && w[i + 1] === '-t' && w[i + 2] !== undefined) out.push({type: w[i + 2]!, line: cmd})
    })
    return out
  })
}

// ---------------------------------------------------------------------------------------------
// Own(J).

function add(own: Own, param: string, need: Need): void {
  const list = own.flags.get(param) ?? []
  list.push(need)
  own.flags.set(param, list)
}

/** A mount of type T needs allow.mount, allow.mount.T and enforce_statfs ≤ 1 ([kj], [vfs]). */
function addMount(own: Own, type: string, need: Need): void {
  add(own, 'allow.mount', need)
  add(own, `allow.mount.${type}`, need)
  if (own.es > 1) own.es = 1
  own.esNeeds.push(need)
}

function parseDeclared(d: string): {name: string; value: string | null} {
  const i = d.indexOf('=')
  return i < 0 ? {name: d.trim(), value: null} : {name: d.slice(0, i).trim(), value: d.slice(i + 1).trim()}
}

export function ownOf(f: AuditFacts, name: string, origins: readonly MountOrigin[]): Own {
  const j = jailOf(f, name)
  const c = configOf(f, name)
  const nest = f.nest[name]
  const own: Own = {
    jail: name, flags: new Map(), unknown: new Map(), es: 2, esNeeds: [], sl: null, slWhy: '',
    sysv: {sysvmsg: {mode: 'disable', needs: []}, sysvsem: {mode: 'disable', needs: []}, sysvshm: {mode: 'disable', needs: []}},
    cmDeclared: 0, delegations: [],
  }
  const vnetOwner = j !== undefined && text(j.params['vnet']) === 'new'

  // lifecycle: what J's jail(8) mounts for the children it starts (their configured mounts and roots).
  for (const cc of f.configs.filter((x) => x.startedBy === name)) {
    for (const cm of configMounts(f, cc)) {
      const rows = origins.filter((o) => o.in === cc.name && o.kind === 'config' && o.mount.on === cm.on)
      addMount(own, cm.type, {
        kind: 'lifecycle', why: `${name}'s jail(8) mounts ${cm.type} on ${cm.on} for ${cc.name} (${cm.param})`,
        evidence: [configEvidence(f, cc, [cm.param]), ...(rows.length > 0 ? [mountEvidence(f, rows.map((r) => r.mount))] : [])],
      })
    }
  }
  for (const o of origins.filter((x) => x.kind === 'root' && x.by === name)) {
    addMount(own, o.mount.type, {kind: 'lifecycle', why: `${name} mounts ${o.in}'s root (${o.mount.from}, ${o.mount.type}) before its jail(8) starts it`, evidence: [mountEvidence(f, [o.mount])]})
  }

  // config: mounts J's own exec.start makes inside J.
  for (const m of configFsMounts(c)) addMount(own, m.type, {kind: 'config', why: `${name}'s exec.start mounts ${m.type} inside it`, evidence: [configEvidence(f, c!, ['exec.start'])]})

  // observed: mounts made from inside J that no configuration accounts for (O3).
  for (const o of origins.filter((x) => x.by === name && x.kind === 'inside')) {
    addMount(own, o.mount.type, {kind: 'observed', why: `${o.mount.type} mounted on ${o.mount.on} from inside ${name}`, evidence: [mountEvidence(f, [o.mount])]})
  }

  // delegated datasets J mounts: a need of allow.mount.zfs only while the delegation is in use.
  own.delegations = delegationsOf(f, name, origins)
  for (const d of own.delegations) {
    if (d.use === 'used') addMount(own, 'zfs', {kind: configZfsMounts(c).includes(d.dataset) ? 'config' : 'observed', why: `${name} mounts its delegated dataset ${d.dataset}, ${d.why}`, evidence: d.evidence})
    else if (d.use === 'unknown' && !own.flags.has('allow.mount.zfs')) own.unknown.set('allow.mount.zfs', d.why)
  }

  // observed: sockets of J's processes (procstat -f, O7). A vnet owner needs no flag for them (§1.3).
  const procs = j === undefined ? [] : f.procs.filter((p) => p.jid === j.jid)
  const pids = new Set(procs.map((p) => p.pid))
  const socks = f.sockets.filter((s) => pids.has(s.pid))
  const raw = socks.filter((s) => s.raw)
  const other = socks.filter((s) => s.otherFamily)
  if (raw.length > 0 && !vnetOwner) add(own, 'allow.raw_sockets', {kind: 'observed', why: `${name}'s processes hold ${raw.length} raw socket(s)`, evidence: [evidence(f, 'procstat', raw.map((s) => s.line))]})
  if (other.length > 0 && !vnetOwner) add(own, 'allow.socket_af', {kind: 'observed', why: `${name}'s processes hold ${other.length} socket(s) of a family other than INET, INET6 and LOCAL`, evidence: [evidence(f, 'procstat', other.map((s) => s.line))]})

  // observed: programs that use a grant whenever they run (ps, O4; comm is the process's own word).
  for (const [param, comms] of [['allow.nfsd', ['nfsd', 'mountd']], ['allow.vmm', ['bhyve']]] as const) {
    const rows = procs.filter((p) => (comms as readonly string[]).includes(p.comm))
    if (rows.length > 0) add(own, param, {kind: 'observed', why: `${name} runs ${[...new Set(rows.map((p) => p.comm))].join(', ')}`, evidence: [evidence(f, 'ps', rows.map(psLine))]})
  }

  // observed: a hostname other than the configured one was set from inside (allow.set_hostname).
  const confHost = c?.params['host.hostname']?.at(-1)
  if (j !== undefined && confHost !== undefined && typeof j.params['host.hostname'] === 'string' && j.params['host.hostname'] !== confHost) {
    add(own, 'allow.set_hostname', {kind: 'observed', why: `${name}'s hostname is ${j.params['host.hostname']}, not the configured ${confHost}`, evidence: [jlsEvidence(f, j, ['host.hostname']), configEvidence(f, c!, ['host.hostname'])]})
  }

  // observed: rctl usage (O6), own minus the children's (accounting is hierarchical).
  const usage = ownUsage(f, name)
  if (usage !== null) {
    if ((usage['memorylocked'] ?? 0) > 0) add(own, 'allow.mlock', {kind: 'observed', why: `${name} has ${usage['memorylocked']} bytes wired (memorylocked)`, evidence: [evidence(f, `rctl:${name}`, [`memorylocked=${usage['memorylocked']}`])]})
    for (const [param, resources] of RCTL_SYSV) {
      const used = resources.filter((r) => (usage[r] ?? 0) > 0)
      if (used.length > 0) own.sysv[param] = {mode: 'new', needs: [{kind: 'observed', why: `${name} uses ${used.map((r) => `${r}=${usage[r]}`).join(', ')}`, evidence: [evidence(f, `rctl:${name}`, used.map((r) => `${r}=${usage[r]}`))]}]}
    }
  } else if (flag(j?.params['allow.mlock'])) {
    own.unknown.set('allow.mlock', 'kern.racct.enable is 0: rctl -u cannot show memorylocked (O6), and nest runs no DTrace for PRIV_VM_MLOCK (O5)')
  }

  // observed: SysV objects its processes created (ipcs, creator mapped to a jid through ps).
  for (const [param, kind] of [['sysvmsg', 'msg'], ['sysvsem', 'sem'], ['sysvshm', 'shm']] as const) {
    const mine = j === undefined ? [] : f.ipc.filter((o) => o.kind === kind && o.jid === j.jid)
    if (mine.length > 0) {
      own.sysv[param].mode = widerSysv(own.sysv[param].mode, 'new')
      own.sysv[param].needs.push({kind: 'observed', why: `${name}'s processes created ${mine.length} SysV ${kind} object(s)`, evidence: [evidence(f, 'ipcs', mine.map((o) => o.line))]})
    } else if (!f.host.racct && f.ipc.some((o) => o.kind === kind && o.jid === null) && j !== undefined && text(j.params[param]) !== 'disable') {
      own.unknown.set(param, `ipcs names no creator for ${kind} objects and kern.racct.enable is 0 (no rctl ${kind} usage): which jail made the ones that exist cannot be told`)
    }
  }

  // declared: the operator's nest:needs, and the phase (bootstrap/maintenance windows).
  for (const d of nest?.declared ?? []) {
    const {name: p, value} = parseDeclared(d)
    const need: Need = {kind: 'declared', why: `declared by ${name}'s operator (${d})`, evidence: []}
    if (p.startsWith('allow.mount.')) addMount(own, p.slice('allow.mount.'.length), need)
    else if (p === 'allow.sysvipc') for (const s of SYSV) own.sysv[s] = {mode: 'inherit', needs: [...own.sysv[s].needs, need]}
    else if (p.startsWith('allow.')) add(own, p, need)
    else if ((SYSV as readonly string[]).includes(p)) {
      const s = p as SysvParam
      own.sysv[s] = {mode: widerSysv(own.sysv[s].mode, value === 'inherit' ? 'inherit' : 'new'), needs: [...own.sysv[s].needs, need]}
    } else if (p === 'enforce_statfs' && int(value ?? '') !== null) {
      own.es = Math.min(own.es, int(value ?? '')!)
      own.esNeeds.push(need)
    } else if (p === 'securelevel' && int(value ?? '') !== null) {
      own.sl = int(value ?? '')
      own.slWhy = need.why
    } else if (p === 'children.max' && int(value ?? '') !== null) own.cmDeclared = Math.max(own.cmDeclared, int(value ?? '')!)
  }
  const phase = nest?.phase ?? 'run'
  if (phase !== 'run') {
    // A bootstrap or maintenance window: freebsd-update and pkgbase need chflags and securelevel ≤ 0 (§3 A03, S04).
    add(own, 'allow.chflags', {kind: 'declared', why: `${name} is in its ${phase} window (nest:phase=${phase})`, evidence: []})
    const cur = int(j?.params['securelevel'])
    own.sl = Math.min(own.sl ?? 3, cur ?? 0)
    own.slWhy = `${name} is in its ${phase} window (nest:phase=${phase})`
  }
  return own
}

const RCTL_SYSV: ReadonlyArray<readonly [SysvParam, readonly string[]]> = [
  ['sysvmsg', ['nmsgq', 'msgqqueued', 'msgqsize']],
  ['sysvsem', ['nsem', 'nsemop']],
  ['sysvshm', ['nshm', 'shmsize']],
]

/** A jail's own rctl usage: its totals minus its children's (accounting is hierarchical, §1.2 O6); null without racct. */
export function ownUsage(f: AuditFacts, name: string): Record<string, number> | null {
  if (!f.host.racct) return null
  const mine = f.rctl[name]
  if (mine === undefined) return null
  const out: Record<string, number> = {...mine}
  for (const c of childrenOf(f, name)) {
    for (const [k, v] of Object.entries(f.rctl[c] ?? {})) out[k] = Math.max(0, (out[k] ?? 0) - v)
  }
  return out
}

/** The delegated datasets a jail mounts (topmost ones) and whether the delegation is in use (Z02). */
export function delegationsOf(f: AuditFacts, name: string, origins: readonly MountOrigin[]): Delegation[] {
  const rows = origins.filter((o) => o.by === name && o.kind === 'delegated')
  const c = configOf(f, name)
  const names = new Set([...rows.map((r) => r.mount.from), ...configZfsMounts(c).filter((ds) => datasetOf(f, ds)?.props['jailed'] === 'on')])
  const tops = [...names].filter((n) => ![...names].some((o) => o !== n && n.startsWith(`${o}/`))).sort()
  const j = jailOf(f, name)
  return tops.map((ds): Delegation => {
    const row = rows.find((r) => r.mount.from === ds)
    const on = row?.mount.on ?? null
    const declared = (f.nest[name]?.declared ?? []).some((d) => d === 'allow.mount.zfs' || d.startsWith(`zfs.dataset`) || d === ds)
    const roots = on === null ? [] : f.jails.filter((x) => !x.dying && x.name !== name && isBelow(x.path, on))
    const below = f.datasets.filter((d) => d.name.startsWith(`${ds}/`))
    const top = datasetOf(f, ds)
    const written = top?.props['written']
    const base = {jail: name, dataset: ds, on}
    if (declared) return {...base, use: 'used', why: 'declared by its operator', evidence: []}
    if (roots.length > 0) return {...base, use: 'used', why: `the roots of ${roots.map((r) => r.name).join(', ')} are on it`, evidence: [mountEvidence(f, origins.filter((o) => o.kind === 'root' && roots.some((r) => r.name === o.in)).map((o) => o.mount))]}
    if (below.length > 0) return {...base, use: 'used', why: `it holds ${below.length} dataset(s) of ${name}'s (${below.map((d) => d.name).join(', ')})`, evidence: [evidence(f, 'zfs', below.map((d) => `${d.name}\tjailed\t${d.props['jailed'] ?? '-'}`))]}
    if (written === undefined || !/^[0-9]+$/.test(written)) return {...base, use: 'unknown', why: `zfs get written of ${ds} is not in the facts: whether ${name} writes to its delegated dataset cannot be told`, evidence: []}
    if (Number(written) > WRITTEN_IDLE) return {...base, use: 'used', why: `${written} bytes were written to it`, evidence: [zfsEvidence(f, top!, ['written'])]}
    const ev: Evidence[] = [zfsEvidence(f, top!, ['jailed', 'written', 'mounted'])]
    if (row !== undefined) ev.push(mountEvidence(f, [row.mount]))
    if (j !== undefined) ev.push(jlsEvidence(f, j, ['children.cur']))
    return {...base, use: 'unused', why: `no jail's root and no dataset below it, ${written} bytes written (an empty file system's metadata)`, evidence: ev}
  })
}

