// The jail part of the simulated kernel: jail_set(2), jail_get(2), jail_remove(2),
// jail_attach(2), after sys/kern/kern_jail.c (see freebsd-semantics.md §1-§2).
import {isIPv4, isIPv6} from 'node:net'

import {ALL_ALLOW, ALLOW_DIFFERENCES, DEFAULT_ALLOW, KERNEL_PARAMS, splitNo} from '../../jailconf/params.js'
import {vnetCreate, vnetTeardown} from './ifnet.js'
import {hasProcs, procsJailGone} from './procs.js'
import {racctFind} from './rctl.js'
import {fail, type IpState, type Kernel, normPath, type SimJail, type SysvMode} from './state.js'

export const JAIL_MAX = 999_999
const MAXHOSTNAMELEN = 256

/** prison0, the host, as a jail-shaped record (never stored). */
export function prison0(k: Kernel): SimJail {
  return {
    jid: 0, name: '0', parent: 0, path: '/', state: 'ALIVE', persist: true, daemons: 1, pids: [],
    childrenMax: JAIL_MAX, childrenCur: k.jails.length, securelevel: k.securelevel,
    enforceStatfs: 0, devfsRuleset: 0, allow: [...ALL_ALLOW],
    host: {mode: 'new', hostname: k.hostname, domainname: '', hostuuid: k.hostuuid, hostid: 0},
    ip4: {mode: 'inherit', addrs: []}, ip6: {mode: 'inherit', addrs: []}, vnet: 'new',
    sysvmsg: 'new', sysvsem: 'new', sysvshm: 'new', osrelease: k.osrelease, osreldate: k.osreldate,
    cpusetId: 1, zfsMountSnapshot: 0, datasets: [], rootMountId: null, dyingHold: 0,
  }
}

export function getJail(k: Kernel, jid: number): SimJail {
  if (jid === 0) return prison0(k)
  const j = k.jails.find((x) => x.jid === jid)
  if (!j) throw new Error(`sim: no jail with jid ${jid}`)
  return j
}

export function findJail(k: Kernel, jid: number): SimJail | undefined {
  return jid === 0 ? prison0(k) : k.jails.find((x) => x.jid === jid)
}

/** `jid` is `ancestor` or lies below it. */
/** The ancestors of a live jail, its parent first (the host, 0, not included). */
export function ancestorsOf(k: Kernel, jid: number): number[] {
  const out: number[] = []
  for (let cur = k.jails.find((x) => x.jid === jid)?.parent ?? 0; cur !== 0; cur = k.jails.find((x) => x.jid === cur)?.parent ?? 0) out.push(cur)
  return out
}

export function isWithin(k: Kernel, jid: number, ancestor: number): boolean {
  for (let cur = jid; ; ) {
    if (cur === ancestor) return true
    if (cur === 0) return false
    const j = k.jails.find((x) => x.jid === cur)
    if (!j) return false
    cur = j.parent
  }
}

/** Strict descendants of `ancestor`, in jid order. */
export function descendants(k: Kernel, ancestor: number): SimJail[] {
  return k.jails.filter((j) => j.jid !== ancestor && isWithin(k, j.jid, ancestor)).sort((a, b) => a.jid - b.jid)
}

export function ancestors(k: Kernel, jid: number): SimJail[] {
  const out: SimJail[] = []
  for (let cur = getJail(k, jid); cur.jid !== 0; ) {
    cur = getJail(k, cur.parent)
    out.push(cur)
  }
  return out
}

/** The name `viewer` sees for jail `j` (prison_name): its own prefix removed. */
export function nameFor(k: Kernel, viewer: number, j: SimJail): string {
  if (viewer === 0) return j.name
  if (j.jid === viewer) return '0'
  const prefix = `${getJail(k, viewer).name}.`
  return j.name.startsWith(prefix) ? j.name.slice(prefix.length) : j.name
}

/** The parent jid `viewer` sees: 0 when the parent is the viewer itself. */
export function parentFor(viewer: number, j: SimJail): number {
  return j.parent === viewer ? 0 : j.parent
}

/**
 * Find a jail by a name relative to the caller. Returns the alive jail, or throws
 * ENOENT `jail "x" not found` / `jail "x" is dying` (kernel errmsg texts).
 */
export function lookupByName(k: Kernel, caller: number, rel: string, opts: {dying?: boolean} = {}): SimJail {
  const full = caller === 0 ? rel : `${getJail(k, caller).name}.${rel}`
  const matches = k.jails.filter((j) => j.name === full && isWithin(k, j.jid, caller) && j.jid !== caller)
  const live = matches.find((j) => j.state === 'ALIVE')
  if (live) return live
  const dying = matches.find((j) => j.state === 'DYING')
  if (dying && opts.dying) return dying
  if (dying) return fail('ENOENT', `jail "${rel}" is dying`)
  return fail('ENOENT', `jail "${rel}" not found`)
}

/** Look a jail up by jid or name the way jail_getid(3) does (a number is a jid). */
export function lookupJail(k: Kernel, caller: number, key: string, opts: {dying?: boolean} = {}): SimJail {
  if (/^[0-9]+$/.test(key)) {
    const jid = Number(key)
    const j = k.jails.find((x) => x.jid === jid && x.jid !== caller && isWithin(k, x.jid, caller))
    if (!j) return fail('ENOENT', `jail ${jid} not found`)
    if (j.state === 'DYING' && !opts.dying) return fail('ENOENT', `jail ${jid} is dying`)
    return j
  }
  return lookupByName(k, caller, key, opts)
}

/** prison_priv_check for PRIV_JAIL_SET / ATTACH / REMOVE: a jail needs children.max > 0. */
export function checkJailPriv(k: Kernel, caller: number): void {
  if (caller !== 0 && getJail(k, caller).childrenMax === 0) fail('EPERM')
  if (caller !== 0 && !getJail(k, caller).allow.includes('suser')) fail('EPERM')
}

export type RawParams = Array<{name: string; value: string | null}>

interface Parsed {
  ints: Map<string, number>
  bools: Map<string, boolean>
  strings: Map<string, string>
  jailsys: Map<string, string>
  ip4?: string[]
  ip6?: string[]
}

const JAILSYS_VALUES: Record<string, string> = {disable: 'disable', new: 'new', inherit: 'inherit', '0': 'disable', '1': 'new', '2': 'inherit'}

/** libjail's jailparam_import: strings to typed values, with its error texts. */
function parseParams(raw: RawParams): Parsed {
  const p: Parsed = {ints: new Map(), bools: new Map(), strings: new Map(), jailsys: new Map()}
  for (const {name, value} of raw) {
    const {base, negated} = splitNo(name)
    const def = KERNEL_PARAMS.get(base)
    if (!def) return fail('ENOENT', `unknown parameter: ${name}`)
    switch (def.type) {
      case 'bool': {
        let v = true
        if (value !== null) {
          if (/^true$/i.test(value)) v = true
          else if (/^false$/i.test(value)) v = false
          else if (/^-?[0-9]+$/.test(value)) v = Number(value) !== 0
          else return fail('EINVAL', `${name}: unknown boolean value "${value}"`)
        }
        p.bools.set(base, negated ? !v : v)
        break
      }
      case 'int': {
        const s = value ?? ''
        if (!/^-?[0-9]+$/.test(s)) return fail('EINVAL', `${name}: non-integer value "${s}"`)
        p.ints.set(base, Number(s))
        break
      }
      case 'string':
        p.strings.set(base, value ?? '')
        break
      case 'jailsys': {
        const v = JAILSYS_VALUES[value ?? 'new']
        if (!v) return fail('EINVAL', `${name}: unknown value "${value}"`)
        p.jailsys.set(base, v)
        break
      }
      case 'ip4': {
        const list = (value ?? '').split(',').filter((a) => a !== '')
        for (const a of list) if (!isIPv4(a)) return fail('EINVAL', `${name}: not an IPv4 address: ${a}`)
        p.ip4 = list
        break
      }
      case 'ip6': {
        const list = (value ?? '').split(',').filter((a) => a !== '')
        for (const a of list) if (!isIPv6(a) || a.includes('%')) return fail('EINVAL', `${name}: not an IPv6 address: ${a}`)
        p.ip6 = list
        break
      }
    }
  }
  return p
}

// libjail converts ip4.addr/ip6.addr with inet_pton(3) (lib/libjail/jail.c jailparam_import;
// lib/libc/inet/inet_pton.c: four decimal octets, no leading zero; IPv6 without a zone).
// node:net runs libuv's copy of the same ISC code; its isIPv6 also takes a "%zone", refused above.

/** get_next_prid: after the last assigned id, the first not used by any prison (dying included). */
function nextJid(k: Kernel): number {
  const used = new Set(k.jails.map((j) => j.jid))
  let cand = (k.lastJid % JAIL_MAX) + 1
  for (let n = 0; n < JAIL_MAX; n++) {
    if (!used.has(cand)) return cand
    cand = (cand % JAIL_MAX) + 1
  }
  return fail('EAGAIN', 'no available jail IDs')
}

function ipRestricted(ip: IpState): boolean {
  return ip.mode !== 'inherit' || ip.addrs.length > 0
}

function sysvAllowed(parent: SysvMode, child: string): boolean {
  return !(parent === 'disable' && (child === 'new' || child === 'inherit'))
}

export interface SetFlags {
  create: boolean
  update: boolean
  attach?: boolean
}

export interface SetContext {
  /** Does this global path exist as a directory (namei of `path`)? */
  isDir(globalPath: string): boolean
  /**
   * Where a global path leads, links resolved inside the caller's view (namei with FOLLOW:
   * the jail's root is the vnode the path leads to, so jls shows the resolved path).
   */
  canonical?(globalPath: string): string
  /** The mount holding a global path (for pr_root->v_mount). */
  mountOf(globalPath: string): number | null
}

/**
 * kern_jail_set: create or update a jail from the caller's point of view. Returns the jid.
 * Order of checks follows kern_jail.c: privilege, values, the jail to act on, the parent,
 * inheritance limits, then the children.max walk from the caller.
 */
export function jailSet(k: Kernel, caller: number, raw: RawParams, flags: SetFlags, ctx: SetContext): number {
  checkJailPriv(k, caller)
  const p = parseParams(raw)
  for (const name of [...p.ints.keys(), ...p.bools.keys(), ...p.strings.keys(), ...p.jailsys.keys()]) {
    if (KERNEL_PARAMS.get(name)?.readOnly) fail('EINVAL', `${name} cannot be set`)
  }
  const es = p.ints.get('enforce_statfs')
  if (es !== undefined && (es < 0 || es > 2)) fail('EINVAL')
  const rs = p.ints.get('devfs_ruleset')
  if (rs !== undefined && (rs < 0 || rs > 65_535)) fail('EINVAL')
  const cmax = p.ints.get('children.max')
  if (cmax !== undefined && cmax < 0) fail('EINVAL')
  const reqJid = p.ints.get('jid')
  if (reqJid !== undefined && reqJid < 0) fail('EINVAL', 'negative jid')
  const osrel = p.strings.get('osrelease')
  if (osrel !== undefined && (osrel.length === 0 || osrel.length > 31)) fail('ENAMETOOLONG', 'osrelease string must be 1-31 bytes long')
  if (p.ints.get('osreldate') === 0) fail('EINVAL', 'osreldate cannot be 0')
  const vnet = p.jailsys.get('vnet')
  if (vnet === 'disable') fail('EINVAL')
  if (vnet === 'new' && ((p.ip4?.length ?? 0) > 0 || (p.ip6?.length ?? 0) > 0)) {
    fail('EINVAL', 'vnet jails cannot have IP address restrictions')
  }

  // Find the jail to act on: by jid, then by name relative to the caller.
  let target: SimJail | undefined
  if (reqJid !== undefined && reqJid !== 0) {
    const byId = k.jails.find((j) => j.jid === reqJid && j.state === 'ALIVE')
    if (byId) {
      if (!isWithin(k, byId.jid, caller) || byId.jid === caller) {
        if (flags.update && !flags.create) fail('ENOENT', `jail ${reqJid} not found`)
        fail('EEXIST', `jail ${reqJid} already exists`)
      }
      if (flags.create && !flags.update) fail('EEXIST', `jail ${reqJid} already exists`)
      target = byId
    } else if (flags.update && !flags.create) {
      fail('ENOENT', `jail ${reqJid} not found`)
    }
  }
  const fullName = p.strings.get('name')
  let parentJid = caller
  let leaf: string | undefined
  if (fullName !== undefined) {
    const dot = fullName.lastIndexOf('.')
    const parentPart = dot >= 0 ? fullName.slice(0, dot) : undefined
    leaf = dot >= 0 ? fullName.slice(dot + 1) : fullName
    if (parentPart !== undefined) parentJid = lookupByName(k, caller, parentPart).jid
    const existing = k.jails.find(
      (j) => j.state === 'ALIVE' && j.parent === parentJid && j.name.split('.').at(-1) === leaf,
    )
    if (target && existing && existing.jid !== target.jid) fail('EEXIST', `jail "${fullName}" already exists`)
    if (target && target.parent !== parentJid) fail('EINVAL', "cannot change jail's parent")
    if (!target && existing) {
      if (flags.create && !flags.update) fail('EEXIST', `jail "${fullName}" already exists`)
      target = existing
    }
    if (!target && flags.update && !flags.create) fail('ENOENT', `jail "${fullName}" not found`)
  } else if (!target && !flags.create) {
    fail('ENOENT', 'update specified no jail')
  }
  if (target) {
    if (!flags.update) fail('EEXIST', `jail "${nameFor(k, caller, target)}" already exists`)
    // kern_jail.c kern_jail_set, on an update: `(pr->pr_flags & PR_VNET) && (ch_flags &
    // (PR_IP4_USER | PR_IP6_USER))` fails with the same text as at creation (an address list
    // given to an existing VNET jail, e.g. jail -m web ip4.addr=...).
    if (target.vnet === 'new' && (p.ip4 !== undefined || p.ip6 !== undefined)) fail('EINVAL', 'vnet jails cannot have IP address restrictions')
    return updateJail(k, caller, target, p, leaf)
  }
  return createJail(k, caller, parentJid, p, leaf, reqJid, flags, ctx)
}

function checkAgainstParent(k: Kernel, caller: number, parent: SimJail, p: Parsed, self?: SimJail): void {
  // allow.*: a child never holds a flag its parent lacks (EPERM, not masked).
  for (const [name, v] of p.bools) {
    if (!name.startsWith('allow.') || !v) continue
    const flag = name.slice('allow.'.length)
    if (!parent.allow.includes(flag) && !(ALLOW_DIFFERENCES as readonly string[]).includes(flag)) fail('EPERM')
  }
  const es = p.ints.get('enforce_statfs')
  if (es !== undefined && es < parent.enforceStatfs) fail('EPERM')
  const sl = p.ints.get('securelevel')
  if (sl !== undefined && sl < parent.securelevel) fail('EPERM')
  const cm = p.ints.get('children.max')
  if (cm !== undefined && cm >= parent.childrenMax) fail('EPERM')
  const rs = p.ints.get('devfs_ruleset')
  if (rs !== undefined && caller !== 0 && rs !== 0 && rs !== parent.devfsRuleset) fail('EPERM')
  for (const s of ['sysvmsg', 'sysvsem', 'sysvshm'] as const) {
    const v = p.jailsys.get(s) ?? (p.bools.get('allow.sysvipc') === true ? 'inherit' : undefined)
    if (v !== undefined && !sysvAllowed(parent[s], v)) fail('EPERM')
  }
  for (const fam of ['ip4', 'ip6'] as const) {
    const addrs = p[fam]
    if (!addrs || addrs.length === 0 || !ipRestricted(parent[fam]) || parent.jid === 0) continue
    for (const a of addrs) if (!parent[fam].addrs.includes(a)) fail('EPERM')
  }
  // Address clashes with other jails in the same network stack (only multi-address jails clash).
  for (const fam of ['ip4', 'ip6'] as const) {
    const addrs = p[fam]
    if (!addrs || addrs.length === 0) continue
    for (const other of k.jails) {
      if (other.state !== 'ALIVE' || other.jid === self?.jid || other.vnet === 'new') continue
      // A jail's own ancestors and descendants share its addresses by design (ip4 subsets).
      if (isWithin(k, parent.jid, other.jid) || (self && isWithin(k, other.jid, self.jid))) continue
      const overlap = other[fam].addrs.some((a) => addrs.includes(a))
      if (overlap && (addrs.length > 1 || other[fam].addrs.length > 1)) {
        fail('EADDRINUSE', fam === 'ip4' ? 'IPv4 addresses clash' : 'IPv6 addresses clash')
      }
    }
  }
}

function applyName(k: Kernel, j: SimJail, leaf: string): void {
  const numeric = /^[0-9]+$/.test(leaf)
  if (numeric && Number(leaf) !== j.jid) fail('EINVAL', 'name cannot be numeric (unless it is the jid)')
  const parent = getJail(k, j.parent)
  const full = j.parent === 0 ? leaf : `${parent.name}.${leaf}`
  if (full.length + 1 > MAXHOSTNAMELEN) fail('ENAMETOOLONG')
  const old = j.name
  for (const d of descendants(k, j.jid)) {
    const renamed = full + d.name.slice(old.length)
    if (renamed.length + 1 > MAXHOSTNAMELEN) fail('ENAMETOOLONG')
  }
  for (const d of descendants(k, j.jid)) d.name = full + d.name.slice(old.length)
  j.name = full
  // prison_racct_attach / prison_racct_modify (kern_jail.c): the prison_racct of its (new) name.
  for (const x of [j, ...descendants(k, j.jid)]) racctFind(k, x.name)
}

function createJail(
  k: Kernel, caller: number, parentJid: number, p: Parsed, leaf: string | undefined,
  reqJid: number | undefined, flags: SetFlags, ctx: SetContext,
): number {
  const parent = getJail(k, parentJid)
  const callerJail = getJail(k, caller)
  if (callerJail.state === 'DYING') fail('EAGAIN')
  if (!p.bools.get('persist') && !flags.attach) fail('EINVAL', 'new jail must persist or attach')
  checkAgainstParent(k, caller, parent, p)
  // The children.max walk starts at the *caller's* jail, not the named parent (kern_jail.c).
  for (let tpr: SimJail | undefined = callerJail; tpr; tpr = tpr.jid === 0 ? undefined : getJail(k, tpr.parent)) {
    if (tpr.childrenCur >= tpr.childrenMax) fail('EPERM', 'prison limit exceeded')
  }
  const pathIn = p.strings.get('path')
  const given = pathIn === undefined ? callerJail.path : normPath(`${callerJail.path}/${pathIn}`)
  if (pathIn !== undefined && !pathIn.startsWith('/')) fail('EINVAL')
  if (!ctx.isDir(given)) fail('ENOENT')
  const path = pathIn === undefined || !ctx.canonical ? given : ctx.canonical(given)

  // A numeric last component with no jid given is the requested jid.
  const wanted = reqJid === undefined && leaf !== undefined && /^[0-9]+$/.test(leaf) ? Number(leaf) : reqJid
  if (wanted !== undefined && wanted !== 0 && k.jails.some((j) => j.jid === wanted && j.state === 'ALIVE')) {
    fail('EEXIST', `jail ${wanted} already exists`)
  }
  let jid: number
  if (wanted !== undefined && wanted !== 0) {
    jid = wanted
    // A dying jail holding the requested jid is renumbered downward from JAIL_MAX (§1.3).
    const dying = k.jails.find((j) => j.jid === jid)
    if (dying) {
      let n = JAIL_MAX
      while (k.jails.some((j) => j.jid === n)) n--
      for (const c of k.jails) if (c.parent === dying.jid) c.parent = n
      dying.jid = n
    }
  } else {
    jid = nextJid(k)
    k.lastJid = jid
  }
  const name = leaf ?? String(jid)
  const masked = (DEFAULT_ALLOW as readonly string[]).filter((a) => parent.allow.includes(a) || (ALLOW_DIFFERENCES as readonly string[]).includes(a))
  const sysv = (s: 'sysvmsg' | 'sysvsem' | 'sysvshm'): SysvMode => {
    const v = p.jailsys.get(s) ?? (p.bools.get('allow.sysvipc') === true ? 'inherit' : 'disable')
    return parent[s] === 'disable' ? 'disable' : (v as SysvMode)
  }
  const ipFor = (fam: 'ip4' | 'ip6'): IpState => {
    const addrs = p[fam]
    const mode = p.jailsys.get(fam)
    if (addrs && addrs.length > 0) return {mode: 'new', addrs: [...addrs]}
    if (mode === 'inherit') return {mode: 'inherit', addrs: parent.jid === 0 ? [] : [...parent[fam].addrs]}
    if (vnetMode === 'new' || mode === 'new') return {mode: mode === 'new' ? 'new' : 'inherit', addrs: []}
    return {mode: 'disable', addrs: []}
  }
  const vnetMode = (p.jailsys.get('vnet') as 'new' | 'inherit' | undefined) ?? 'inherit'
  const hostMode = p.jailsys.get('host') === 'inherit' ? 'inherit' : 'new'
  const j: SimJail = {
    jid, name: '', parent: parentJid, path, state: 'ALIVE', persist: p.bools.get('persist') === true,
    daemons: 0, pids: [], childrenMax: 0, childrenCur: 0,
    securelevel: parent.securelevel, enforceStatfs: 2,
    devfsRuleset: parent.devfsRuleset, allow: masked,
    host: hostMode === 'inherit'
      ? {...parent.host, mode: 'inherit'}
      : {mode: 'new', hostname: '', domainname: '', hostuuid: '00000000-0000-0000-0000-000000000000', hostid: 0},
    ip4: {mode: 'disable', addrs: []}, ip6: {mode: 'disable', addrs: []},
    vnet: vnetMode, sysvmsg: sysv('sysvmsg'), sysvsem: sysv('sysvsem'), sysvshm: sysv('sysvshm'),
    osrelease: p.strings.get('osrelease') ?? parent.osrelease,
    osreldate: p.ints.get('osreldate') ?? parent.osreldate,
    cpusetId: k.nextCpuset++, zfsMountSnapshot: 0, datasets: [],
    rootMountId: ctx.mountOf(path), dyingHold: 0,
  }
  j.ip4 = ipFor('ip4')
  j.ip6 = ipFor('ip6')
  k.jails.push(j)
  // A new vnet comes with its loopback (ifnet.ts).
  if (vnetMode === 'new') vnetCreate(k, jid)
  applyName(k, j, name)
  applySettable(k, caller, j, p)
  for (const a of [getJail(k, parentJid), ...ancestors(k, parentJid)]) if (a.jid !== 0) a.childrenCur++
  return jid
}

/** Parameters that may be set at creation and later. */
function applySettable(k: Kernel, caller: number, j: SimJail, p: Parsed): void {
  const parent = getJail(k, j.parent)
  for (const [name, v] of p.bools) {
    if (name === 'persist') j.persist = v
    else if (name.startsWith('allow.')) {
      const flag = name.slice('allow.'.length)
      if (flag === 'sysvipc') {
        for (const s of ['sysvmsg', 'sysvsem', 'sysvshm'] as const) j[s] = v ? 'inherit' : 'disable'
      }
      setAllow(k, j, flag, v)
    }
  }
  const es = p.ints.get('enforce_statfs')
  if (es !== undefined) {
    j.enforceStatfs = es
    for (const d of descendants(k, j.jid)) d.enforceStatfs = Math.max(d.enforceStatfs, es)
  }
  const sl = p.ints.get('securelevel')
  if (sl !== undefined) {
    j.securelevel = sl
    for (const d of descendants(k, j.jid)) d.securelevel = Math.max(d.securelevel, sl)
  }
  const rs = p.ints.get('devfs_ruleset')
  if (rs !== undefined) {
    // A jailed caller's children always get the parent's ruleset; the host may set any.
    const v = caller !== 0 ? parent.devfsRuleset : rs
    j.devfsRuleset = v
    for (const d of descendants(k, j.jid)) d.devfsRuleset = v
  }
  const cm = p.ints.get('children.max')
  if (cm !== undefined) {
    j.childrenMax = cm
    // Lowering clamps every descendant at depth d to at most (max - d).
    const depthOf = (d: SimJail): number => ancestors(k, d.jid).findIndex((a) => a.jid === j.jid) + 1
    for (const d of descendants(k, j.jid)) d.childrenMax = Math.max(0, Math.min(d.childrenMax, cm - depthOf(d)))
  }
  for (const s of ['sysvmsg', 'sysvsem', 'sysvshm'] as const) {
    const v = p.jailsys.get(s)
    if (v === undefined) continue
    j[s] = v as SysvMode
    if (v === 'disable') for (const d of descendants(k, j.jid)) d[s] = 'disable'
  }
  const hn = p.strings.get('host.hostname')
  const dn = p.strings.get('host.domainname')
  const hu = p.strings.get('host.hostuuid')
  const hi = p.ints.get('host.hostid')
  if (hn !== undefined || dn !== undefined || hu !== undefined || hi !== undefined) {
    if (hn !== undefined && hn.length + 1 > MAXHOSTNAMELEN) fail('ENAMETOOLONG')
    j.host = {...j.host, mode: 'new', ...(hn === undefined ? {} : {hostname: hn}), ...(dn === undefined ? {} : {domainname: dn}), ...(hu === undefined ? {} : {hostuuid: hu}), ...(hi === undefined ? {} : {hostid: hi})}
    for (const d of descendants(k, j.jid)) if (d.host.mode === 'inherit') d.host = {...j.host, mode: 'inherit'}
  }
  const ms = p.ints.get('zfs.mount_snapshot')
  if (ms !== undefined) j.zfsMountSnapshot = ms
  for (const fam of ['ip4', 'ip6'] as const) {
    const addrs = p[fam]
    if (!addrs) continue
    const had = j[fam].addrs
    j[fam] = {mode: addrs.length > 0 ? 'new' : j[fam].mode, addrs: [...addrs]}
    // Narrowing a parent's list removes the dropped addresses below it (vnet jails excluded).
    const dropped = had.filter((a) => !addrs.includes(a))
    if (dropped.length > 0) {
      for (const d of descendants(k, j.jid)) if (d.vnet !== 'new') d[fam].addrs = d[fam].addrs.filter((a) => !dropped.includes(a))
    }
  }
}

function setAllow(k: Kernel, j: SimJail, flag: string, on: boolean): void {
  if (on) {
    if (!j.allow.includes(flag)) j.allow.push(flag)
    j.allow.sort()
    return
  }
  // Turning a flag off turns it off in the whole subtree at once.
  for (const t of [j, ...descendants(k, j.jid)]) t.allow = t.allow.filter((a) => a !== flag)
}

function updateJail(k: Kernel, caller: number, j: SimJail, p: Parsed, leaf: string | undefined): number {
  for (const name of ['path', 'osrelease', 'osreldate']) {
    const cur = name === 'path' ? j.path : name === 'osrelease' ? j.osrelease : String(j.osreldate)
    const v = p.strings.get(name) ?? (p.ints.has(name) ? String(p.ints.get(name)) : undefined)
    if (v !== undefined && (name === 'path' ? normPath(`${getJail(k, caller).path}/${v}`) : v) !== cur) {
      fail('EINVAL', `${name} cannot be changed after creation`)
    }
  }
  for (const name of ['ip4', 'ip6', 'vnet'] as const) {
    const v = p.jailsys.get(name)
    const now = name === 'vnet' ? j.vnet : j[name].mode
    if (v !== undefined && v !== now) fail('EINVAL', `${name} cannot be changed after creation`)
  }
  const jid = p.ints.get('jid')
  if (jid !== undefined && jid !== j.jid) fail('EINVAL', 'jid cannot be changed after creation')
  checkAgainstParent(k, caller, getJail(k, j.parent), p, j)
  if (leaf !== undefined && leaf !== j.name.split('.').at(-1)) applyName(k, j, leaf)
  applySettable(k, caller, j, p)
  if (p.bools.get('persist') === false) maybeDie(k, j)
  return j.jid
}

/** A jail with no processes, no persist and no live children becomes dying. */
export function maybeDie(k: Kernel, j: SimJail): void {
  if (j.state !== 'ALIVE' || j.persist || j.daemons > 0 || j.pids.length > 0 || hasProcs(k, j.jid)) return
  if (k.jails.some((c) => c.parent === j.jid && c.state === 'ALIVE')) return
  setDying(k, [j])
}

function setDying(k: Kernel, list: SimJail[]): void {
  // The vnet goes with the jail (done at removal, not when the prison is freed: FIDELITY.md),
  // deepest first: foreign interfaces return home, its own are destroyed (ifnet.ts).
  for (const j of [...list].reverse()) if (j.vnet === 'new' && j.state === 'ALIVE') vnetTeardown(k, j.jid)
  // Its processes die with it (SIGKILL), and the SysV namespaces it owned (kernel/procs.ts).
  procsJailGone(k, list.map((j) => j.jid))
  for (const j of list) {
    j.state = 'DYING'
    j.persist = false
    j.daemons = 0
    j.dyingHold = k.dyingHoldDefault
  }
  freeDying(k)
}

/** Free dying jails nothing holds any more; their datasets list goes with them. */
export function freeDying(k: Kernel): void {
  for (;;) {
    const freeable = k.jails.find(
      (j) => j.state === 'DYING' && j.dyingHold <= 0 && j.pids.length === 0 && !k.jails.some((c) => c.parent === j.jid),
    )
    if (!freeable) return
    for (const a of ancestors(k, freeable.jid)) if (a.jid !== 0) a.childrenCur--
    k.jails = k.jails.filter((j) => j !== freeable)
    // A freed child may let a non-persistent parent die in turn.
    const parent = k.jails.find((j) => j.jid === freeable.parent)
    if (parent) maybeDie(k, parent)
  }
}

/**
 * jail_remove(2): the jail and every descendant become dying and lose their processes.
 * Nothing is unmounted. Returns the pids to SIGKILL.
 */
export function jailRemove(k: Kernel, caller: number, jid: number): number[] {
  checkJailPriv(k, caller)
  const j = k.jails.find((x) => x.jid === jid)
  if (!j || j.jid === caller || !isWithin(k, jid, caller)) return fail('EINVAL')
  if (j.state === 'DYING') return []
  const subtree = [j, ...descendants(k, jid)]
  const pids = subtree.flatMap((x) => x.pids)
  for (const x of subtree) x.pids = []
  const parent = k.jails.find((x) => x.jid === j.parent)
  setDying(k, subtree)
  if (parent) maybeDie(k, parent)
  return pids
}

/** jail_attach(2) checks: privilege from inside a jail, and the target alive. */
export function jailAttach(k: Kernel, caller: number, jid: number, pid: number): void {
  checkJailPriv(k, caller)
  const j = k.jails.find((x) => x.jid === jid)
  if (!j || j.state !== 'ALIVE') fail('EINVAL')
  j?.pids.push(pid)
}

/** A process attached to a jail exits. */
export function processExit(k: Kernel, jid: number, pid: number): void {
  const j = k.jails.find((x) => x.jid === jid)
  if (!j) return
  j.pids = j.pids.filter((p) => p !== pid)
  maybeDie(k, j)
  freeDying(k)
}

/** Between calls: forget processes that no longer exist, age dying jails. */
export function tickJails(k: Kernel, isAlive: (pid: number) => boolean): void {
  for (const j of k.jails) {
    const before = j.pids.length
    j.pids = j.pids.filter(isAlive)
    if (j.state === 'DYING' && j.dyingHold > 0) j.dyingHold--
    if (before !== j.pids.length) maybeDie(k, j)
  }
  freeDying(k)
}
