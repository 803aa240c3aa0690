// A jail's network as nest gives it, as data: what `nest create` was asked for, checked before
// anything changes, and what nest keeps of it (the nest:net property, a directory child's
// nest.json) so that list, start and the child managers know it without reading jail.conf.
//
// Two kinds, as FreeBSD admins wire them:
// - `vnet`: a stack of its own (vnet = new), an epair whose a side joins a bridge on the
//   creating side and whose b side jail(8) moves in (vnet.interface), configured by the jail's
//   own rc.conf (rc.d/netif and rc.d/routing run only in a jail that owns its vnet: KEYWORD
//   nojailvnet, libexec/rc/rc);
// - `alias`: the creator's stack, with addresses jail(8) adds as aliases on an interface when it
//   starts the jail and removes when it stops it (`ip4.addr = "em0|192.0.2.10/24"`:
//   usr.sbin/jail/config.c check_intparams, command.c run_command).
import {isIPv4, isIPv6} from 'node:net'

import {err, ok, type Result} from 'neverthrow'

import {type Family, parseAddress} from './address.js'

/** IFNAMSIZ (sys/net/if.h): 16 bytes with the NUL. */
export const IFNAMSIZ = 16
/** IF_MAXUNIT (sys/net/if_clone.h). */
export const IF_MAXUNIT = 0x7fff
/**
 * nest numbers its epairs from here: `ifconfig epair create` (the lowest free unit:
 * if_clone.c ifc_alloc_unit) in other tools (Bastille, jib, vm-bhyve's scripts) takes units
 * from 0, and a unit stays taken while its interfaces are renamed, where nest cannot see it.
 */
export const EPAIR_BASE = 100
export const DEFAULT_BRIDGE = 'bridge0'
/** The name the jail's userland sees (rc.conf renames the b side: ifconfig_<if>_name). */
export const DEFAULT_IFNAME = 'vnet0'

export interface VnetNet {
  kind: 'vnet'
  /** The epair's unit: epair<unit>a stays on the creating side, epair<unit>b goes in. */
  unit: number
  bridge: string
  /** The b side's name inside the jail. */
  ifname: string
  /** `A/len`, or `dhcp` alone. */
  ip4: string[]
  /** `A/len`, or `auto` (router advertisements) alone. */
  ip6: string[]
  /** Default routers, at most one per family. */
  routers: string[]
  /** The b side's MAC (a migrated VM keeps its own), or null for the epair's own. */
  mac: string | null
}

export interface AliasNet {
  kind: 'alias'
  /** jail(8)'s `[IF|]ADDR[/len]` values (without IF: the jail is restricted to it, no alias is added). */
  ip4: string[]
  ip6: string[]
}

export type JailNet = VnetNet | AliasNet

/** What `nest create` is asked for (its flags), before an epair unit is chosen. */
export interface NetRequest {
  vnet: boolean
  bridge?: string
  ifname?: string
  ip4: string[]
  ip6: string[]
  routers: string[]
  mac?: string
}

export const epairA = (n: Pick<VnetNet, 'unit'>): string => `epair${n.unit}a`
export const epairB = (n: Pick<VnetNet, 'unit'>): string => `epair${n.unit}b`

/**
 * An interface name nest writes into jail.conf and rc.conf: what fits IFNAMSIZ and needs no
 * quoting anywhere (FreeBSD checks no characters: sys/net/if.c if_rename).
 */
export function ifnameProblem(name: string): string | null {
  if (name === '') return 'it is empty'
  if (name.length >= IFNAMSIZ) return `it is ${name.length} characters long; interface names have at most ${IFNAMSIZ - 1} (IFNAMSIZ)`
  if (!/^[A-Za-z][A-Za-z0-9_.-]*$/.test(name)) return 'it is not letters, digits, "_", "." and "-", starting with a letter (like vnet0, bridge0, vm-public)'
  return null
}

/** A unicast MAC address (ifconfig ether: six colon-separated octets). An interface's own MAC has the group bit clear (IEEE 802); whether FreeBSD's if_setlladdr refuses one is unconfirmed (research/ifconfig.md), nest refuses it. */
export function macProblem(mac: string): string | null {
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(mac)) return 'it is not six colon-separated hexadecimal octets (like 58:9c:fc:00:00:01)'
  if ((Number.parseInt(mac.slice(0, 2), 16) & 1) === 1) return 'it is a multicast address (the first octet is odd)'
  if (/^(00:){5}00$/.test(mac)) return 'it is all zeros'
  return null
}

const family = (a: string): Family | null => (isIPv4(a) ? 'ip4' : isIPv6(a) && !a.includes('%') ? 'ip6' : null)

/** Where an `--ip4`/`--ip6` value is wrong, for the kind of jail asked for; null when it is right. */
function addressProblem(fam: Family, value: string, vnet: boolean): string | null {
  if (vnet) {
    if (value.includes('|')) return 'a VNET jail has its own interface: give the address alone'
    const a = parseAddress(fam, value)
    if (a.isErr()) return a.error
    if (a.value.prefix === undefined) return `a VNET jail's address needs its prefix length (${value}/${fam === 'ip4' ? '24' : '64'})`
    return null
  }
  const bar = value.indexOf('|')
  if (bar >= 0) {
    const p = ifnameProblem(value.slice(0, bar))
    if (p) return `the interface ${JSON.stringify(value.slice(0, bar))}: ${p}`
  }
  const a = parseAddress(fam, bar >= 0 ? value.slice(bar + 1) : value)
  return a.isErr() ? a.error : null
}

/** The request's one-line problem (what is wrong, what to do), or null. */
export function netRequestProblem(r: NetRequest): {what: string; fix: string} | null {
  const onlyVnet: Array<[string, unknown]> = [['--bridge', r.bridge], ['--ifname', r.ifname], ['--mac', r.mac], ['--defaultrouter', r.routers.length > 0 ? r.routers : undefined]]
  if (!r.vnet) {
    const given = onlyVnet.find(([, v]) => v !== undefined)
    if (given) return {what: `${given[0]} needs --vnet (a jail without its own network stack uses its creator's interfaces and routes)`, fix: `add --vnet, or leave ${given[0]} out`}
  }
  for (const [fam, values, special] of [['ip4', r.ip4, 'dhcp'], ['ip6', r.ip6, 'auto']] as const) {
    const example = fam === 'ip4' ? (r.vnet ? '192.0.2.10/24 or dhcp' : 'em0|192.0.2.10/24, or 192.0.2.10') : (r.vnet ? '2001:db8::10/64 or auto' : 'em0|2001:db8::10/64, or 2001:db8::10')
    if (r.vnet && values.includes(special) && values.length > 1) return {what: `--${fam} ${special} takes the address from the network, so it comes alone`, fix: `--${fam} ${special}, or addresses only`}
    for (const v of values) {
      if (r.vnet && v === special) continue
      const p = addressProblem(fam, v, r.vnet)
      if (p) return {what: `--${fam} ${JSON.stringify(v)}: ${p}`, fix: `give addresses such as ${example}, separated by commas`}
    }
  }
  if (r.bridge !== undefined) {
    const p = ifnameProblem(r.bridge)
    if (p) return {what: `--bridge ${JSON.stringify(r.bridge)}: ${p}`, fix: 'name the bridge the epair joins, like bridge0'}
  }
  if (r.ifname !== undefined) {
    const p = ifnameProblem(r.ifname)
    if (p) return {what: `--ifname ${JSON.stringify(r.ifname)}: ${p}`, fix: 'name the interface the jail sees, like vnet0 or vtnet0'}
    // A new vnet has its lo0 already (sys/net/if_loop.c vnet_loif_init: if_clone_simple(loname, ..., 1)), and rc's rename to a
    // name in use fails (sys/net/if.c if_rename: ifunit(new_name) != NULL, EEXIST); rc.conf's
    // ifconfig_lo0 would be replaced by the epair's address.
    if (r.ifname === 'lo0') return {what: '--ifname "lo0": every VNET jail has its own lo0 already', fix: 'give the interface another name, like vnet0 or vtnet0'}
  }
  if (r.mac !== undefined) {
    const p = macProblem(r.mac)
    if (p) return {what: `--mac ${JSON.stringify(r.mac)}: ${p}`, fix: 'give a unicast MAC such as 58:9c:fc:00:00:01'}
  }
  const seen = new Set<Family>()
  for (const gw of r.routers) {
    const f = family(gw)
    if (f === null) return {what: `--defaultrouter ${JSON.stringify(gw)} is not an IPv4 or IPv6 address`, fix: 'give the router\'s address, e.g. --defaultrouter 192.0.2.1 (both families: 192.0.2.1,2001:db8::1)'}
    if (seen.has(f)) return {what: `--defaultrouter names two ${f === 'ip4' ? 'IPv4' : 'IPv6'} routers`, fix: 'give one router per family'}
    seen.add(f)
  }
  return null
}

/** The network a request gives, once its epair unit is chosen (vnet), or null for none asked. */
export function netOf(r: NetRequest, unit: number): JailNet | null {
  if (r.vnet) return {kind: 'vnet', unit, bridge: r.bridge ?? DEFAULT_BRIDGE, ifname: r.ifname ?? DEFAULT_IFNAME, ip4: r.ip4, ip6: r.ip6, routers: r.routers, mac: r.mac?.toLowerCase() ?? null}
  if (r.ip4.length === 0 && r.ip6.length === 0) return null
  return {kind: 'alias', ip4: r.ip4, ip6: r.ip6}
}

/** The addresses of an alias value alone (jail(8) gives the kernel the address only). */
export const aliasAddress = (value: string): string => {
  const v = value.slice(value.indexOf('|') + 1)
  return v.split('/')[0] ?? v
}
export const aliasInterface = (value: string): string | null => (value.includes('|') ? value.slice(0, value.indexOf('|')) : null)

/**
 * The lowest epair unit from EPAIR_BASE that no jail of this level uses and whose interfaces
 * do not exist on this side (a unit is per vnet: the cloner is, sys/net/if_clone.c).
 */
export function freeEpairUnit(taken: Iterable<number>, interfaces: readonly string[]): number | null {
  const used = new Set(taken)
  const names = new Set(interfaces)
  for (let u = EPAIR_BASE; u <= IF_MAXUNIT; u++) {
    if (!used.has(u) && !names.has(`epair${u}`) && !names.has(`epair${u}a`) && !names.has(`epair${u}b`)) return u
  }
  return null
}

/**
 * The rc.conf lines of a VNET jail (libexec/rc/network.subr ifnet_rename, ifconfig_up,
 * ifalias; rc.d/routing): the b side renamed first, then configured under its new name.
 */
export function rcConfOf(n: VnetNet): Array<[string, string]> {
  // get_if_var: the interface's `.-/+` are `_` in its variables' names.
  const key = n.ifname.replace(/[.\-/+]/g, '_')
  const lines: Array<[string, string]> = [[`ifconfig_${epairB(n)}_name`, n.ifname]]
  const v4 = n.ip4.filter((a) => a !== 'dhcp')
  lines.push([`ifconfig_${key}`, n.ip4.includes('dhcp') ? 'SYNCDHCP' : v4[0] ? `inet ${v4[0]}` : 'up'])
  if (n.ip6.includes('auto')) lines.push([`ifconfig_${key}_ipv6`, 'inet6 accept_rtadv'])
  else if (n.ip6[0]) lines.push([`ifconfig_${key}_ipv6`, `inet6 ${n.ip6[0]}`])
  const aliases = [...v4.slice(1).map((a) => `inet ${a}`), ...n.ip6.filter((a) => a !== 'auto').slice(1).map((a) => `inet6 ${a}`)]
  aliases.forEach((a, i) => lines.push([`ifconfig_${key}_alias${i}`, a]))
  for (const gw of n.routers) lines.push([isIPv4(gw) ? 'defaultrouter' : 'ipv6_defaultrouter', gw])
  return lines
}

/** What nest keeps of a jail's network (nest:net, nest.json): JSON. */
export const printNet = (n: JailNet): string => JSON.stringify(n)

/**
 * nest:net read back. Below the host this comes from a dataset the parent's root can change:
 * every field is checked, and anything else is null (then nest knows no network of the jail).
 */
export function parseNet(text: string | undefined): Result<JailNet | null, string> {
  if (text === undefined || text === '' || text === '-') return ok(null)
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return err('nest:net is not JSON')
  }
  const o = v as Record<string, unknown>
  // No white space, quotes, expansions or control characters (nest list prints them on a terminal).
  const control = (s: string): boolean => [...s].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)
  const strings = (x: unknown): x is string[] => Array.isArray(x) && x.every((s) => typeof s === 'string' && s.length < 64 && !/[\s"'$`\\]/.test(s) && !control(s))
  if (typeof v !== 'object' || v === null || !strings(o['ip4']) || !strings(o['ip6'])) return err('nest:net has no address lists')
  if (o['kind'] === 'alias') return ok({kind: 'alias', ip4: o['ip4'], ip6: o['ip6']})
  if (o['kind'] !== 'vnet') return err('nest:net has an unknown kind')
  const unit = o['unit']
  const name = (x: unknown): x is string => typeof x === 'string' && ifnameProblem(x) === null
  if (typeof unit !== 'number' || !Number.isInteger(unit) || unit < 0 || unit > IF_MAXUNIT || !name(o['bridge']) || !name(o['ifname']) || !strings(o['routers'])) return err('nest:net has a malformed epair, bridge or interface')
  const mac = o['mac']
  if (mac !== null && (typeof mac !== 'string' || macProblem(mac) !== null)) return err('nest:net has a malformed MAC')
  return ok({kind: 'vnet', unit, bridge: o['bridge'], ifname: o['ifname'], ip4: o['ip4'], ip6: o['ip6'], routers: o['routers'], mac})
}
