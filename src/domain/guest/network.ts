// The guest's network as its rc.conf states it (migration.md §5.1, §5.2): the addresses nest
// gives the jail (`--ip4`/`--ip6` take `A/len`: address.ts parseAddress) and which guest
// interface each VM NIC was.
//
// Forms read (rc.conf(5), libexec/rc/network.subr): `ifconfig_IF` with `inet A netmask M` (M
// hex 0xffffff00 or dotted), `inet A/len`, a bare address (ifconfig's default family is inet),
// DHCP/SYNCDHCP/NOSYNCDHCP, falling back to `ifconfig_DEFAULT` when IF has none (get_if_var's
// default in ifconfig_getargs); `ifconfig_IF_ipv6` with `inet6 A/len`, `inet6 A prefixlen N` or
// `inet6 accept_rtadv`; the legacy `ipv6_ifconfig_IF` (`A prefixlen N`); aliases
// `ifconfig_IF_aliasN*` in number order up to the first empty one (network.subr
// ifalias_af_common, 03ccfdd), and the list forms `ifconfig_IF_aliases` and `ipv4_addrs_IF` (address ranges `A-B/len` are reported,
// not expanded); `defaultrouter`, `ipv6_defaultrouter` (NO: none). Variables use the
// interface's name with `.-/+` as `_` (get_if_var).
import {isIPv4} from 'node:net'

import {ok, type Result} from 'neverthrow'

import {type Family, parseAddress} from '../address.js'
import {type NestError} from '../errors.js'
import {type VmConf} from '../vmbhyve.js'
import {rcAssignments} from '../vmbhyve.js'

import {ifVar, isDhcp, RC_CONF} from './rc.js'
import {guestText, type GuestNote} from './text.js'

export interface GuestNetwork {
  ifname: string
  /** `A/len` (or `A` when the guest gave no mask), as nest's --ip4 takes them; the first is the interface's own. */
  ip4: string[]
  ip6: string[]
  /** The guest asked for DHCP on this interface. */
  dhcp: boolean
  /** The guest takes IPv6 router advertisements (inet6 accept_rtadv). */
  rtadv: boolean
  defaultrouter: string | null
  ipv6Defaultrouter: string | null
  notes: GuestNote[]
}

/** The prefix length of a netmask (0xffffff00, 255.255.255.0), null when it is not one. */
export function maskPrefix(mask: string): number | null {
  let n: number
  if (/^0x[0-9a-f]{8}$/i.test(mask)) n = Number.parseInt(mask.slice(2), 16)
  else if (isIPv4(mask)) n = mask.split('.').reduce((a, o) => a * 256 + Number(o), 0)
  else return null
  const bits = n.toString(2).padStart(32, '0')
  return /^1*0*$/.test(bits) ? bits.indexOf('0') < 0 ? 32 : bits.indexOf('0') : null
}

interface Parsed {
  ip4: string[]
  ip6: string[]
  dhcp: boolean
  rtadv: boolean
  bad: string[]
}

/** One address with its prefix as `A/len` (or `A`), or the reason it is not one. */
function address(family: Family, text: string, prefix: string | undefined): string | {bad: string} {
  const withLen = prefix === undefined ? text : `${text}/${prefix}`
  const a = parseAddress(family, withLen)
  if (a.isErr()) return {bad: `${withLen}: ${a.error}`}
  return a.value.prefix === undefined ? a.value.addr : `${a.value.addr}/${a.value.prefix}`
}

/** The words of one ifconfig argument string, as network.subr passes them to ifconfig. */
function parseArgs(args: string, into: Parsed, legacyInet6 = false): void {
  const w = args.split(/\s+/).filter((s) => s !== '')
  if (isDhcp(args)) into.dhcp = true
  const push = (family: Family, a: string | {bad: string}): void => {
    if (typeof a === 'string') (family === 'ip4' ? into.ip4 : into.ip6).push(a)
    else into.bad.push(a.bad)
  }
  for (let i = 0; i < w.length; i++) {
    const word = w[i] as string
    const next = w[i + 1]
    const family: Family | null = word === 'inet' ? 'ip4' : word === 'inet6' ? 'ip6' : null
    if (family !== null || (i === 0 && legacyInet6) || (i === 0 && /^[0-9.]+(\/[0-9]+)?$/.test(word))) {
      const f: Family = family ?? (legacyInet6 ? 'ip6' : 'ip4')
      const a = family === null ? word : next
      if (family !== null) i++
      if (a === undefined) break
      if (f === 'ip6' && /^-?accept_rtadv$/.test(a)) {
        into.rtadv = a === 'accept_rtadv'
        continue
      }
      let prefix: string | undefined
      const kw = w[i + 1]
      if (!a.includes('/') && kw === (f === 'ip4' ? 'netmask' : 'prefixlen') && w[i + 2] !== undefined) {
        const m = w[i + 2] as string
        const p = f === 'ip4' ? maskPrefix(m) : /^[0-9]{1,3}$/.test(m) ? Number(m) : null
        i += 2
        if (p === null) {
          into.bad.push(`${a} ${kw} ${m}: not a mask nest can read`)
          continue
        }
        prefix = String(p)
      }
      push(f, address(f, a, prefix))
    } else if (word === 'accept_rtadv') {
      into.rtadv = true
    }
  }
}

/**
 * The addresses and routers the guest's rc.conf gives interface `ifname`. For rc.conf and
 * rc.conf.local together, pass their texts joined in that order (the last assignment wins, as
 * load_rc_config sources them).
 */
export function guestNetwork(data: Uint8Array | string, ifname: string): Result<GuestNetwork, NestError> {
  return guestText(data, RC_CONF).map((text) => {
    const vars = rcAssignments(text)
    const keys = [...vars.keys()]
    const get = (k: string): string | null => vars.get(k)?.value ?? null
    const key = ifVar(ifname)
    const out: Parsed = {ip4: [], ip6: [], dhcp: false, rtadv: false, bad: []}
    const notes: GuestNote[] = []
    const main = get(`ifconfig_${key}`) ?? get('ifconfig_DEFAULT')
    if (main !== null) parseArgs(main, out)
    const v6 = get(`ifconfig_${key}_ipv6`)
    if (v6 !== null) parseArgs(v6, out)
    const legacy6 = get(`ipv6_ifconfig_${key}`)
    if (legacy6 !== null) parseArgs(legacy6, out, true)
    // ifalias_af_common: `list_vars ifconfig_IF_alias[0-9]*` sorted by the number (so
    // ifconfig_IF_alias1_ipv6 is one too), up to the first empty value; a value without a
    // family word is taken as inet (with rc's warning).
    const aliasKey = new RegExp(`^ifconfig_${key}_alias([0-9]+)`)
    const aliases = keys.flatMap((k) => {
      const m = aliasKey.exec(k)
      return m ? [{k, n: Number(m[1])}] : []
    }).sort((a, b) => a.n - b.n)
    for (const {k} of aliases) {
      const a = get(k)
      if (a === null || a === '') break
      parseArgs(/^(inet6?|link|ether) /.test(a) ? a : `inet ${a}`, out)
    }
    const list = get(`ifconfig_${key}_aliases`)
    if (list !== null) for (const part of list.split(/(?=\binet6?\s)/)) parseArgs(part, out)
    const v4list = get(`ipv4_addrs_${key}`)
    if (v4list !== null) {
      for (const a of v4list.split(/\s+/).filter((s) => s !== '')) {
        if (/^[0-9.]+-[0-9]+/.test(a)) out.bad.push(`${a}: an address range (ipv4_addrs_${key}) nest does not expand`)
        else parseArgs(`inet ${a}`, out)
      }
    }
    for (const b of out.bad) notes.push({level: 'warning', file: RC_CONF, key: `ifconfig_${key}`, text: `an address of ${ifname} nest cannot read: ${b}`})
    for (const a of out.ip4.filter((x) => !x.includes('/'))) notes.push({level: 'note', file: RC_CONF, key: `ifconfig_${key}`, text: `${a} has no netmask in the guest's rc.conf: give its prefix length with --ip4 ${a}/LEN`})
    const router = (k: string, family: Family): string | null => {
      const v = get(k)
      if (v === null || v === '' || /^no$/i.test(v)) return null
      const a = parseAddress(family, v)
      if (a.isErr() || v.includes('/')) {
        notes.push({level: 'warning', file: RC_CONF, key: k, text: `${k}="${v}" is not an address nest can use: ${a.isErr() ? a.error : 'it has a prefix length'}`})
        return null
      }
      return v
    }
    return {
      ifname,
      ip4: out.ip4,
      ip6: out.ip6,
      dhcp: out.dhcp,
      rtadv: out.rtadv,
      defaultrouter: router('defaultrouter', 'ip4'),
      ipv6Defaultrouter: router('ipv6_defaultrouter', 'ip6'),
      notes,
    }
  })
}

/** FreeBSD's driver for each bhyve NIC vm-bhyve passes on (networkN_type is bhyve's device name: lib/vm-run). */
export const NIC_DRIVERS: Readonly<Record<string, string>> = {
  // virtio-net: vtnet(4); e1000 emulates an Intel 82545EM, which em(4) drives (bhyve.8).
  'virtio-net': 'vtnet',
  'e1000': 'em',
}

export interface GuestNic {
  /** N of networkN_*. */
  index: number
  type: string
  /** The name FreeBSD gives it in the guest (vtnet0), null for a device type nest does not know. */
  driverName: string | null
  /** The name the guest uses: its rc.conf's ifconfig_<driverName>_name when it renames it, else driverName. */
  name: string | null
  mac: string | null
  switch: string | null
  /** Does the guest's rc.conf configure `name` (ifconfig_NAME*, ipv4_addrs_NAME)? */
  configured: boolean
}

export interface GuestNics {
  nics: GuestNic[]
  notes: GuestNote[]
}

const PHYSICAL = /^(vtnet|em|igb|ix|ixl|re|bge|vmx|xn|hn)[0-9]+$/

/**
 * Which guest interface each VM NIC was: `virtio-net` → vtnetK, `e1000` → emK, K counting the
 * NICs of that type in config order (vm::bhyve_device_networking gives them consecutive PCI
 * functions in that order, and the guest's drivers number them in probe order:
 * **source-derived**), then the guest's own rename in rc.conf (`ifconfig_vtnet0_name`).
 */
export function guestInterfaces(conf: Pick<VmConf, 'networks'>, data: Uint8Array | string): Result<GuestNics, NestError> {
  return guestText(data, RC_CONF).andThen((text) => {
    const vars = rcAssignments(text)
    const keys = [...vars.keys()]
    const notes: GuestNote[] = []
    const seen = new Map<string, number>()
    const nics = conf.networks.map((n): GuestNic => {
      const driver = NIC_DRIVERS[n.type]
      let driverName: string | null = null
      if (driver === undefined) {
        notes.push({level: 'warning', file: RC_CONF, key: `network${n.index}_type`, text: `network${n.index}_type="${n.type}" is not a NIC type nest knows the guest driver of (virtio-net, e1000): name its interface yourself`})
      } else {
        const k = seen.get(driver) ?? 0
        seen.set(driver, k + 1)
        driverName = `${driver}${k}`
      }
      const renamed = driverName === null ? null : vars.get(`ifconfig_${ifVar(driverName)}_name`)?.value ?? null
      const name = renamed !== null && renamed !== '' ? renamed : driverName
      const v = name === null ? '' : ifVar(name)
      const configured = name !== null && keys.some((key) => key === `ifconfig_${v}` || key.startsWith(`ifconfig_${v}_`) || key === `ipv4_addrs_${v}` || key === `ipv6_ifconfig_${v}`)
      return {index: n.index, type: n.type, driverName, name, mac: n.mac, switch: n.switch, configured}
    })
    const names = new Set(nics.flatMap((n) => [n.name, n.driverName]))
    for (const key of keys) {
      const m = /^ifconfig_([A-Za-z]+[0-9]+)$/.exec(key)
      if (m && PHYSICAL.test(m[1] as string) && !names.has(m[1] as string)) {
        notes.push({level: 'warning', file: RC_CONF, key, text: `the guest's rc.conf configures ${m[1] as string}, which no NIC of the VM becomes: that interface will not exist in the jail`})
      }
    }
    return ok({nics, notes})
  })
}
