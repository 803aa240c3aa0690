// The simulated kernel's interface table: sys/net/if.c (ifindex, vmove, vnet_if_return),
// if_clone.c (unit allocation), if_epair.c, if_bridge.c, if_loop.c. Facts and sources:
// src/sim/research/ifconfig.md (sections cited as §N). One table for every vnet: each entry
// says which vnet it is in now (0 = host, else a vnet jail's jid) and where it was created.
import {notSimulated} from '../tools/common.js'
import {flushIfRoutes, routeInvariants, routesTeardown} from './route.js'
import {fail, type Kernel, type SimJail} from './state.js'

export type IfType = 'ether' | 'bridge' | 'loop'
export type Cloner = 'epair' | 'bridge' | 'lo'

export interface SimIfaddr {
  af: 'inet' | 'inet6'
  addr: string
  plen: number
}

export interface SimIfnet {
  name: string
  /** ifindex: one global table in 14.x, kept across vnet moves (§10, if.c if_alloc_domain). */
  index: number
  /** The cloner (if_dname) and its unit; the unit stays allocated across renames (§2.2). */
  dname: Cloner
  unit: number
  type: IfType
  /** The vnet it was created in (if_home_vnet) and the one it is in now: 0 = host, else a jid. */
  home: number
  vnet: number
  /** Groups except the implicit `all`, in join order (§7). */
  groups: string[]
  /** Current and original link-level address (if_hw_addr, shown as `hwaddr` when they differ). */
  ether?: string
  hwaddr?: string
  up: boolean
  mtu: number
  /** Addresses, in the order added (in_aifaddr_ioctl appends). */
  addrs: SimIfaddr[]
  /** A bridge's members, as ifindexes, newest first (bridge_ioctl_add LIST_INSERT_HEAD, §8.3). */
  members?: number[]
  /** An epair end's other end (ifindex). */
  peer?: number
  /** if_description (SIOCSIFDESCR), when set. */
  descr?: string
  /** ND6 flags (ND6_IFF_*), when changed from the type's default (tools/ifconfig.ts nd6Of). */
  nd6?: number
  /** Came home by a vnet teardown under a name another interface of its home has (kept, as if.c keeps it). */
  returned?: true
}

/** IFNAMSIZ, including the NUL (§5). */
export const IFNAMSIZ = 16
/** IF_MAXUNIT (§2.2). */
export const IF_MAXUNIT = 0x7fff

/** The vnet a jail's processes use: its own if `vnet=new`, else its nearest such ancestor's. */
export function vnetOf(k: Kernel, jid: number): number {
  for (let cur = jid; cur !== 0; ) {
    const j = k.jails.find((x) => x.jid === cur)
    if (!j) return 0
    if (j.vnet === 'new') return j.jid
    cur = j.parent
  }
  return 0
}

/** Network privileges (PRIV_NET_*): the host and vnet jails only (kern_jail.c prison_priv_check, §11). */
export function checkNetPriv(k: Kernel, caller: number): void {
  if (caller !== 0 && vnetOf(k, caller) !== caller) fail('EPERM')
}

/** The interfaces of one vnet, in its list order (if_link_ifnet appends). */
export function ifnetsIn(k: Kernel, vnet: number): SimIfnet[] {
  return k.ifnets.filter((i) => i.vnet === vnet)
}

export function ifunit(k: Kernel, vnet: number, name: string): SimIfnet | undefined {
  return k.ifnets.find((i) => i.vnet === vnet && i.name === name)
}

const byIndex = (k: Kernel, index: number): SimIfnet | undefined => k.ifnets.find((i) => i.index === index)

/** The lowest free ifindex (if_alloc_domain reuses freed slots). */
function allocIndex(k: Kernel): number {
  const used = new Set(k.ifnets.map((i) => i.index))
  let n = 1
  while (used.has(n)) n++
  return n
}

const hex2 = (n: number): string => (n & 0xff).toString(16).padStart(2, '0')

/** A unique locally administered MAC, stable for one index and sequence (the real ones are hashed). */
function genMac(k: Kernel, last?: number): string {
  const seq = ++k.ifMacSeq
  const bytes = [0x02, 0x00, (seq >> 16) & 0xff, (seq >> 8) & 0xff, seq & 0xff, last ?? 0x00]
  if (last === undefined) bytes[5] = (seq * 7) & 0xff
  return bytes.map(hex2).join(':')
}

function attach(k: Kernel, vnet: number, init: Omit<SimIfnet, 'index' | 'home' | 'vnet' | 'groups' | 'up' | 'addrs'>): SimIfnet {
  const ifp: SimIfnet = {index: allocIndex(k), home: vnet, vnet, groups: [init.dname], up: false, addrs: [], ...init}
  k.ifnets.push(ifp)
  return ifp
}

/** A new vnet (vnet=new jail): the loopback cloner's lo0, down, no addresses (§8.2, sample B). */
export function vnetCreate(k: Kernel, vnet: number): void {
  attach(k, vnet, {name: 'lo0', dname: 'lo', unit: 0, type: 'loop', mtu: 16384})
}

/** The host's interfaces at boot: lo0, up, with rc.d/netif's loopback addresses (sample A). */
export function hostInterfaces(): SimIfnet[] {
  return [{
    name: 'lo0', index: 1, dname: 'lo', unit: 0, type: 'loop', home: 0, vnet: 0, groups: ['lo'], up: true, mtu: 16384,
    addrs: [{af: 'inet', addr: '127.0.0.1', plen: 8}, {af: 'inet6', addr: '::1', plen: 128}, {af: 'inet6', addr: 'fe80::1', plen: 64}],
  }]
}

/** Cloners of FreeBSD that the simulator does not model: a create names them, it is refused loudly. */
export const UNSIMULATED_CLONERS = ['tap', 'tun', 'vlan', 'gif', 'gre', 'lagg', 'vxlan', 'wg', 'carp', 'pflog', 'pfsync', 'enc', 'stf', 'vmnet', 'ipsec', 'me', 'disc', 'edsc', 'faith', 'ovpn', 'geneve', 'wlan']

/** `<cloner><digits>`: which cloner and unit (ifc_name2unit; -1 = wildcard), or EINVAL (§2.2). */
export function parseCloneName(name: string): {cloner: Cloner; unit: number} {
  const m = /^(epair|bridge|lo)([0-9]*)$/.exec(name)
  if (!m) return fail('EINVAL')
  const digits = m[2] as string
  if (digits === '') return {cloner: m[1] as Cloner, unit: -1}
  if (digits.length > 1 && digits.startsWith('0')) return fail('EINVAL')
  const unit = Number(digits)
  if (unit > 0x7fffffff) return fail('EINVAL')
  return {cloner: m[1] as Cloner, unit}
}

/**
 * SIOCIFCREATE2 (if_clone_create): create `<cloner>[unit]` in `vnet`, return the name the kernel
 * gives back (an epair's a side). Units are per cloner per vnet, lowest free first (§2.2).
 */
export function ifClone(k: Kernel, vnet: number, name: string): string {
  const {cloner, unit: req} = parseCloneName(name)
  // if_clone_createif_nl: the requested name itself exists → EEXIST.
  if (ifunit(k, vnet, name)) fail('EEXIST')
  const held = new Set(k.ifnets.filter((i) => i.dname === cloner && i.home === vnet).map((i) => i.unit))
  let unit = req
  if (unit === -1) {
    // ifc_alloc_unit: lowest free unit whose `<cloner><unit>` name does not exist here.
    unit = 0
    while (unit <= IF_MAXUNIT && (held.has(unit) || ifunit(k, vnet, `${cloner}${unit}`))) unit++
    if (unit > IF_MAXUNIT) fail('ENOSPC')
  } else {
    if (unit > IF_MAXUNIT) fail('ENOSPC')
    if (held.has(unit)) fail('EEXIST')
  }
  if (cloner === 'epair') {
    // epair_handle_unit: room for the a/b suffix, then neither end may exist (no retry: §2.2 trap).
    const base = `epair${unit}`
    if (base.length + 1 >= IFNAMSIZ) fail('ENOSPC')
    if (ifunit(k, vnet, `${base}a`) || ifunit(k, vnet, `${base}b`)) fail('EEXIST')
    const a = attach(k, vnet, {name: `${base}a`, dname: 'epair', unit, type: 'ether', mtu: 1500})
    a.ether = a.hwaddr = genMac(k, 0x0a)
    const b = attach(k, vnet, {name: `${base}b`, dname: 'epair', unit, type: 'ether', mtu: 1500})
    b.ether = b.hwaddr = `${a.ether.slice(0, 15)}0b`
    a.peer = b.index
    b.peer = a.index
    return a.name
  }
  const ifname = `${cloner}${unit}`
  if (cloner === 'bridge') {
    const br = attach(k, vnet, {name: ifname, dname: 'bridge', unit, type: 'bridge', mtu: 1500, members: []})
    br.ether = genMac(k)
  } else {
    attach(k, vnet, {name: ifname, dname: 'lo', unit, type: 'loop', mtu: 16384})
  }
  return ifname
}

/** Remove one interface from every bridge, and a bridge's members are released (if_detach_internal). */
function leaveBridges(k: Kernel, ifp: SimIfnet): void {
  for (const br of k.ifnets) if (br.members) br.members = br.members.filter((m) => m !== ifp.index)
  if (ifp.members) ifp.members = []
}

function detach(k: Kernel, ifp: SimIfnet): void {
  leaveBridges(k, ifp)
  flushIfRoutes(k, ifp)
  k.ifnets = k.ifnets.filter((i) => i !== ifp)
}

/** SIOCIFDESTROY (if_clone_destroy): an epair takes both ends with it, wherever the other is (§3). */
export function ifDestroy(k: Kernel, ifp: SimIfnet, force = false): void {
  // if_loop.c lo_clone_destroy refuses unit 0 unless forced (vnet teardown): **unconfirmed** (not read).
  if (ifp.dname === 'lo' && ifp.unit === 0 && !force) fail('EINVAL')
  const peer = ifp.peer === undefined ? undefined : byIndex(k, ifp.peer)
  detach(k, ifp)
  if (peer) detach(k, peer)
}

/** SIOCSIFNAME (if_rename): length, non-empty, unique in the vnet; membership and unit kept (§4). */
export function ifRename(k: Kernel, ifp: SimIfnet, name: string): void {
  if (name.length >= IFNAMSIZ) fail('ENAMETOOLONG')
  if (name === '') fail('EINVAL')
  if (name === ifp.name) return
  if (ifunit(k, ifp.vnet, name)) fail('EEXIST')
  ifp.name = name
  delete ifp.returned
}

/** if_vmove: down, addresses purged, groups back to the cloner's, out of bridges, appended (§10). */
function vmove(k: Kernel, ifp: SimIfnet, to: number): void {
  leaveBridges(k, ifp)
  // dom_ifdetach frees its ND6 state, the attach in the new vnet makes a default one (nd6_ifattach).
  delete ifp.nd6
  flushIfRoutes(k, ifp)
  ifp.up = false
  ifp.addrs = []
  ifp.groups = [ifp.dname]
  ifp.vnet = to
  k.ifnets = [...k.ifnets.filter((i) => i !== ifp), ifp]
}

/** prison_find_child: a live descendant of the caller's jail, or ENXIO. */
function liveChild(k: Kernel, caller: number, jid: number): SimJail {
  const j = k.jails.find((x) => x.jid === jid && x.state === 'ALIVE')
  if (!j) return fail('ENXIO')
  for (let cur: SimJail | undefined = j; cur; cur = k.jails.find((x) => x.jid === cur?.parent)) {
    if (cur.parent === caller) return j
    if (cur.parent === 0) break
  }
  return fail('ENXIO')
}

/**
 * SIOCSIFVNET (if_vmove_loan): give `ifp` (in the caller's vnet) to jail `jid`'s vnet.
 * Exported for jail(8)'s `vnet.interface`.
 */
export function ifVnetLoan(k: Kernel, caller: number, ifp: SimIfnet, jid: number): void {
  checkNetPriv(k, caller)
  const j = liveChild(k, caller, jid)
  const target = vnetOf(k, j.jid)
  if (target === ifp.vnet) fail('EEXIST')
  if (ifunit(k, target, ifp.name)) fail('EEXIST')
  if (ifp.members && ifp.members.length > 0) notSimulated('moving a bridge that has members to another vnet')
  vmove(k, ifp, target)
}

/** SIOCSIFRVNET (if_vmove_reclaim): take `name` back from jail `jid`'s vnet into the caller's (§10). */
export function ifVnetReclaim(k: Kernel, caller: number, name: string, jid: number): void {
  checkNetPriv(k, caller)
  const j = liveChild(k, caller, jid)
  const from = vnetOf(k, j.jid)
  const here = vnetOf(k, caller)
  if (from === here) fail('EEXIST')
  const ifp = ifunit(k, from, name)
  if (!ifp) return fail('ENXIO')
  vmove(k, ifp, here)
}

/**
 * A vnet dies (vnet_if_return, then each cloner detached): interfaces from elsewhere go back to
 * their **home** vnet, those created here are destroyed wherever they are now (§10.1).
 */
export function vnetTeardown(k: Kernel, vnet: number): void {
  for (const ifp of k.ifnets.filter((i) => i.vnet === vnet && i.home !== vnet)) {
    vmove(k, ifp, ifp.home)
    // The name it has is kept even when the home vnet has one like it (if.c vnet_if_return →
    // if_vmove → if_attach_internal: no name check): ifunit finds the one that was there first.
    if (k.ifnets.some((o) => o !== ifp && o.vnet === ifp.vnet && o.name === ifp.name)) ifp.returned = true
  }
  for (const ifp of k.ifnets.filter((i) => i.home === vnet)) if (k.ifnets.includes(ifp)) ifDestroy(k, ifp, true)
  routesTeardown(k, vnet)
}

/** BRDGADD (bridge_ioctl_add): the member is looked up in the bridge's vnet (§9). */
export function bridgeAdd(k: Kernel, br: SimIfnet, member: string): void {
  const m = ifunit(k, br.vnet, member)
  if (!m) return fail('ENOENT')
  const members = br.members ?? []
  if (members.includes(m.index)) fail('EEXIST')
  if (k.ifnets.some((o) => o !== br && o.members?.includes(m.index))) fail('EBUSY')
  if (m.type !== 'ether') fail('EINVAL')
  br.members = [m.index, ...members]
}

/** BRDGDEL (bridge_ioctl_del): not a member → ENOENT. */
export function bridgeDel(k: Kernel, br: SimIfnet, member: string): void {
  const m = ifunit(k, br.vnet, member)
  if (!m || !(br.members ?? []).includes(m.index)) return fail('ENOENT')
  br.members = (br.members ?? []).filter((x) => x !== m.index)
}

/** Member of some bridge: the bridge put it in promiscuous mode (bridge_ioctl_add ifpromisc). */
export function isBridgeMember(k: Kernel, ifp: SimIfnet): boolean {
  return k.ifnets.some((b) => b.members?.includes(ifp.index))
}

export function memberNames(k: Kernel, br: SimIfnet): SimIfnet[] {
  return (br.members ?? []).map((i) => byIndex(k, i)).filter((x): x is SimIfnet => x !== undefined)
}

/** What must always hold of the table (checked after every operation). */
export function ifnetInvariants(k: Kernel): string[] {
  const bad: string[] = []
  const seen = new Set<number>()
  const vnets = new Set([0, ...k.jails.filter((j) => j.vnet === 'new' && j.state === 'ALIVE').map((j) => j.jid)])
  for (const i of k.ifnets) {
    if (seen.has(i.index)) bad.push(`ifindex ${i.index} is used twice`)
    seen.add(i.index)
    if (!vnets.has(i.vnet)) bad.push(`${i.name}: in vnet ${i.vnet}, which does not exist`)
    if (!vnets.has(i.home)) bad.push(`${i.name}: home vnet ${i.home} does not exist`)
    // Names repeat in a vnet only after a return home (vnetTeardown): if_vmove and
    // if_attach_internal look for no free name (sys/net/if.c), whatever if_vmove's comment says.
    if (k.ifnets.some((o) => o !== i && o.vnet === i.vnet && o.name === i.name) && !k.ifnets.some((o) => o.vnet === i.vnet && o.name === i.name && o.returned === true)) bad.push(`${i.name}: name used twice in vnet ${i.vnet}`)
    if (i.peer !== undefined && byIndex(k, i.peer)?.peer !== i.index) bad.push(`${i.name}: epair peer is not mutual`)
    for (const m of i.members ?? []) {
      const mi = byIndex(k, m)
      if (!mi || mi.vnet !== i.vnet) bad.push(`${i.name}: member ${m} is not in its vnet`)
    }
  }
  bad.push(...routeInvariants(k, vnets))
  for (const v of vnets) if (v !== 0 && !ifunit(k, v, 'lo0') && !k.ifnets.some((i) => i.vnet === v && i.dname === 'lo' && i.unit === 0)) bad.push(`vnet ${v} has no lo0`)
  return bad
}
