// ifconfig(8) over the kernel's interface table (kernel/ifnet.ts), after sbin/ifconfig
// (ifconfig.c main/ifconfig_ioctl, ifclone.c, ifbridge.c, af_inet.c, af_inet6.c, af_link.c,
// ifgroup.c, ifconfig_netlink.c status_nl) in 14.x. Every text and status: research/ifconfig.md
// (sections cited as §N). All failures exit 1; anything not modelled is refused (exit 69).
import {isIPv4, isIPv6} from 'node:net'

import {
  bridgeAdd, bridgeDel, checkNetPriv, ifClone, ifDestroy, IFNAMSIZ, ifnetsIn, ifRename, ifunit, ifVnetLoan, ifVnetReclaim,
  isBridgeMember, memberNames, type SimIfaddr, type SimIfnet, UNSIMULATED_CLONERS, vnetOf,
} from '../kernel/ifnet.js'
import {lookupByName} from '../kernel/jails.js'
import {type Kernel, SysError} from '../kernel/state.js'
import {loadKernel, withKernel} from '../store.js'
import {errnoOf, notSimulated, strerror, type Tool} from './common.js'

const USAGE =
  'usage: ifconfig [-f type:format] [-C] [-g groupname] interface address_family\n' +
  '                [address [dest_address]] [parameters]\n' +
  '       ifconfig interface create\n' +
  '       ifconfig -a [-C] [-g groupname] [-d] [-m] [-u] [-v] [address_family]\n' +
  '       ifconfig -l [-d] [-u] [address_family]\n' +
  '       ifconfig [-C] [-g groupname] [-d] [-m] [-u] [-v]\n'

/** An err()/errx() of ifconfig: its text (after `ifconfig: `), exit 1. */
class IfErr extends Error {}
const die = (text: string): never => {
  throw new IfErr(text)
}
/** err(1, "<what>"): the message and the errno's text. */
const sysDie = (what: string, e: unknown): never => {
  if (!(e instanceof SysError)) throw e
  return die(`${what}: ${strerror(e)}`)
}
/** Perror(cmd) (ifconfig.c): ENXIO and EPERM have their own words. */
const perror = (cmd: string, e: unknown): never => {
  if (!(e instanceof SysError)) throw e
  if (e.errno === 'ENXIO') return die(`${cmd}: no such interface`)
  if (e.errno === 'EPERM') return die(`${cmd}: permission denied`)
  return die(`${cmd}: ${strerror(e)}`)
}

/** Words ifconfig knows that the simulator does not model: refused, never taken as an address. */
const UNMODELLED = new Set([
  'mtu', 'metric', 'media', 'mediaopt', '-mediaopt', 'promisc', '-promisc',
  'arp', '-arp', 'group', '-group', 'fib', 'tunnelfib', 'vlan', 'vlandev', '-vlandev', 'broadcast', 'vhid',
  'monitor', '-monitor', 'staticarp', '-staticarp', 'debug', '-debug', 'link0', 'link1', 'link2', '-link0', '-link1', '-link2',
  'stp', '-stp', 'span', '-span', 'edge', '-edge', 'private', '-private', 'learn', '-learn', 'discover', '-discover',
  'priority', 'maxaddr', 'timeout', 'tunnel', 'deletetunnel', 'lagg', 'laggport', '-laggport', 'anycast', 'tentative',
  '-tentative', 'deprecated', '-deprecated', 'autoconf', '-autoconf', 'prefer_source', '-prefer_source',
  'nd6', 'pltime', 'vltime',
  'eui64', 'rxcsum', '-rxcsum', 'txcsum', '-txcsum', 'tso', '-tso', 'lro', '-lro', 'vlanhwtag', '-vlanhwtag',
])

const IFFBITS: Array<[number, string]> = [
  [0x1, 'UP'], [0x2, 'BROADCAST'], [0x8, 'LOOPBACK'], [0x40, 'RUNNING'], [0x100, 'PROMISC'], [0x800, 'SIMPLEX'],
  [0x8000, 'MULTICAST'], [0x1000000, 'LOWER_UP'],
]

/** print_bits: `<hex><NAMES>`, the `<>` left out when no bit is set (§8.2). */
function bits(v: number, names: Array<[number, string]>): string {
  const set = names.filter(([b]) => (v & b) !== 0).map(([, n]) => n)
  return set.length === 0 ? v.toString(16) : `${v.toString(16)}<${set.join(',')}>`
}

/**
 * if_flags as listed: epair ends are BROADCAST|SIMPLEX|MULTICAST, RUNNING and link up from
 * creation (epair_set_state); a bridge runs and has link only while up; lo0 likewise (§2.2, §8).
 */
function flagsOf(k: Kernel, i: SimIfnet): number {
  let f = i.up ? 0x1 : 0
  if (i.type === 'loop') f |= 0x8 | 0x8000 | (i.up ? 0x40 | 0x1000000 : 0)
  else f |= 0x2 | 0x800 | 0x8000
  if (i.type === 'ether') f |= 0x40 | 0x1000000
  if (i.type === 'bridge' && i.up) f |= 0x40 | 0x1000000
  if (isBridgeMember(k, i)) f |= 0x100
  return f
}

function ipv4Mask(plen: number): number {
  return plen === 0 ? 0 : (0xffffffff << (32 - plen)) >>> 0
}
const v4num = (a: string): number => a.split('.').reduce((n, o) => (n * 256 + Number(o)) >>> 0, 0)
const v4str = (n: number): string => [24, 16, 8, 0].map((s) => (n >>> s) & 0xff).join('.')

/** inet6 text as inet_ntop/getnameinfo print it (RFC 5952 compressed, lower case). */
function canon6(a: string): string {
  return new URL(`http://[${a}]/`).hostname.slice(1, -1)
}

function statusBlock(k: Kernel, i: SimIfnet, viewer: number): string {
  const lines = [`${i.name}: flags=${bits(flagsOf(k, i), IFFBITS)} metric 0 mtu ${i.mtu}`]
  // ifconfig.c status: `\tdescription: %s` right after the flags line, when one is set.
  if (i.descr !== undefined) lines.push(`\tdescription: ${i.descr}`)
  if (i.type === 'loop') lines.push('\toptions=680003<RXCSUM,TXCSUM,LINKSTATE,RXCSUM_IPV6,TXCSUM_IPV6>')
  else if (i.type === 'ether') lines.push('\toptions=8<VLAN_MTU>')
  else lines.push('\toptions=0')
  if (i.ether) lines.push(`\tether ${i.ether}`)
  if (i.type === 'ether' && i.hwaddr && i.hwaddr !== i.ether) lines.push(`\thwaddr ${i.hwaddr}`)
  const shown = (a: SimIfaddr): boolean => addrVisible(k, viewer, a)
  for (const a of i.addrs.filter((x) => x.af === 'inet' && shown(x))) {
    const mask = ipv4Mask(a.plen)
    const bcast = i.type !== 'loop' && a.plen !== 0 ? ` broadcast ${v4str((v4num(a.addr) | ~mask) >>> 0)}` : ''
    lines.push(`\tinet ${a.addr} netmask 0x${mask.toString(16)}${bcast}`)
  }
  for (const a of i.addrs.filter((x) => x.af === 'inet6' && shown(x))) {
    const ll = a.addr.startsWith('fe80:')
    lines.push(`\tinet6 ${a.addr}${ll ? `%${i.name}` : ''} prefixlen ${a.plen}${ll ? ` scopeid 0x${i.index.toString(16)}` : ''}`)
  }
  if (i.type === 'bridge') {
    lines.push(
      '\tid 00:00:00:00:00:00 priority 32768 hellotime 2 fwddelay 15',
      '\tmaxage 20 holdcnt 6 proto rstp maxaddr 2000 timeout 1200',
      '\troot id 00:00:00:00:00:00 priority 32768 ifcost 0 port 0',
    )
    for (const m of memberNames(k, i)) {
      lines.push(`\tmember: ${m.name} flags=143<LEARNING,DISCOVER,AUTOEDGE,AUTOPTP>`, `\t        ifmaxaddr 0 port ${m.index & 0xfff} priority 128 path cost 2000`)
    }
  }
  if (i.groups.length > 0) lines.push(`\tgroups: ${i.groups.join(' ')}`)
  if (i.type === 'ether') lines.push('\tmedia: Ethernet 10Gbase-T (10Gbase-T <full-duplex>)', '\tstatus: active')
  const nd6 = nd6Of(i)
  lines.push(`\tnd6 options=${bits(nd6, ND6_BITS)}`)
  return `${lines.join('\n')}\n`
}

/**
 * A non-vnet jail sees only the addresses its jail may use (prison_if / prison_check_ip*,
 * §11 unconfirmed detail): the nearest restricting jail up to its vnet decides: `new` its
 * list, `disable` none, all `inherit` everything.
 */
function addrVisible(k: Kernel, viewer: number, a: SimIfaddr): boolean {
  const vnet = vnetOf(k, viewer)
  for (let cur = viewer; cur !== vnet && cur !== 0; ) {
    const j = k.jails.find((x) => x.jid === cur)
    if (!j) return true
    const ip = a.af === 'inet' ? j.ip4 : j.ip6
    if (ip.mode === 'disable') return false
    if (ip.mode === 'new') return ip.addrs.some((x) => (a.af === 'inet' ? x === a.addr : canon6(x) === a.addr))
    cur = j.parent
  }
  return true
}

/** libjail jail_getid: all digits → that jid unchecked; else jail_get by name (§10). */
function jailId(k: Kernel, caller: number, arg: string): number {
  if (/^[0-9]+$/.test(arg)) return Number(arg)
  try {
    return lookupByName(k, caller, arg).jid
  } catch (error) {
    if (error instanceof SysError && error.errmsg) return die(error.errmsg)
    return sysDie('jail_get', error)
  }
}

/** in_getaddr: dotted quad with optional `/len` (§6.3). Returns null plen when no mask was given. */
/** The prefix length of a contiguous dotted mask (255.255.255.0 → 24); null for anything else. */
function dottedMaskLength(mask: string): number | null {
  if (!isIPv4(mask)) return null
  const bits = mask.split('.').map((o) => Number(o).toString(2).padStart(8, '0')).join('')
  return /^1*0*$/.test(bits) ? bits.indexOf('0') < 0 ? 32 : bits.indexOf('0') : null
}

function inetAddr(word: string): {addr: string; plen: number | null} {
  const slash = word.indexOf('/')
  const host = slash < 0 ? word : word.slice(0, slash)
  let plen: number | null = null
  if (slash >= 0) {
    const w = word.slice(slash + 1)
    if (!/^[0-9]/.test(w)) die(`${word}: bad value (width invalid)`)
    if (!/^[0-9]+$/.test(w)) die(`${word}: bad value (width invalid)`)
    if (Number(w) > 32) die(`${word}: bad value (width too large)`)
    plen = Number(w)
  }
  // inet_aton's short forms and host/network names are not modelled: only a dotted quad.
  if (!isIPv4(host)) die(`${word}: bad value`)
  return {addr: host, plen}
}

/** in6_getaddr / in6_getprefix: address with optional `/len`, default 128 (§6.4). */
function inet6Addr(word: string): {addr: string; plen: number | null} {
  const slash = word.indexOf('/')
  const host = slash < 0 ? word : word.slice(0, slash)
  if (host.includes('%')) notSimulated('ifconfig inet6 with a scope zone')
  if (!isIPv6(host)) die(`${host}: bad value`)
  let plen: number | null = null
  if (slash >= 0) {
    const w = word.slice(slash + 1)
    if (!/^[0-9]+$/.test(w) || Number(w) > 128) die(`${w}: bad value`)
    plen = Number(w)
  }
  return {addr: canon6(host), plen}
}

/** The classful default mask the netlink ifconfig applies when none is given (in_setdefaultmask_nl). */
function classful(addr: string): number {
  const first = Number(addr.split('.')[0])
  return first < 128 ? 8 : first < 192 ? 16 : 24
}

type Af = 'inet' | 'inet6' | 'link'

interface Pending {
  af: 'inet' | 'inet6'
  addr: string
  plen: number | null
  mode: 'set' | 'alias' | '-alias'
}

/**
 * ND6 per-interface flags (sys/netinet6/nd6.h ND6_IFF_*; sbin/ifconfig af_inet6.c prints them
 * with ND6BITS). A new interface has PERFORMNUD and, unless it is a loopback, IFDISABLED until
 * `inet6 -ifdisabled` (rc's network_ipv6 does it); AUTO_LINKLOCAL on ethernet and loopbacks
 * (net.inet6.ip6.auto_linklocal=1). These defaults are those of the samples (§8).
 */
const ND6_BITS: Array<[number, string]> = [[0x1, 'PERFORMNUD'], [0x2, 'ACCEPT_RTADV'], [0x4, 'PREFER_SOURCE'], [0x8, 'IFDISABLED'], [0x10, 'DONT_SET_IFROUTE'], [0x20, 'AUTO_LINKLOCAL'], [0x40, 'NO_RADR'], [0x80, 'NO_PREFER_IFACE'], [0x100, 'NO_DAD']]
/** The words af_inet6.c turns into ND6 flag changes (`-WORD` clears it). */
const ND6_WORDS = new Map([['perfnud', 0x1], ['accept_rtadv', 0x2], ['prefer_source', 0x4], ['ifdisabled', 0x8], ['auto_linklocal', 0x20], ['no_radr', 0x40], ['no_prefer_iface', 0x80], ['no_dad', 0x100]])
const nd6Of = (i: SimIfnet): number => i.nd6 ?? (i.type === 'loop' ? 0x21 : i.type === 'ether' ? 0x29 : 0x9)

/**
 * A vnet's lo0 coming up gets ::1 and fe80::1 (sys/netinet6/in6_ifattach.c: in6_if_up →
 * in6_ifattach → in6_ifattach_loopback, and the loopback's link-local from the ::1 interface
 * id), as the host's lo0 has them after its boot. Only lo0: what other loopback clones get is
 * unconfirmed.
 */
function loopbackInet6(i: SimIfnet): void {
  if (i.type !== 'loop' || i.name !== 'lo0' || i.unit !== 0 || (nd6Of(i) & 0x8) !== 0 || i.addrs.some((a) => a.af === 'inet6')) return
  i.addrs.push({af: 'inet6', addr: '::1', plen: 128}, {af: 'inet6', addr: 'fe80::1', plen: 64})
}

/** One invocation's effects on one interface, applied to the kernel in order (each ioctl commits). */
function apply(k: Kernel, jid: number, startName: string, words: string[], create: boolean, err: (t: string) => void): {name: string; printName: boolean} {
  const vnet = vnetOf(k, jid)
  let name = startName
  let printName = false
  const done = (): {name: string; printName: boolean} => ({name, printName})
  try {
    if (create) {
      try {
        checkNetPriv(k, jid)
        const got = ifClone(k, vnet, name)
        if (got !== name) {
          name = got
          printName = true
        }
      } catch (error) {
        const e = errnoOf(error)
        if (e === 'EEXIST') die(`interface ${startName} already exists`)
        sysDie(`SIOCIFCREATE2 (${startName})`, error)
      }
    }
    const cur = (): SimIfnet => ifunit(k, vnet, name) ?? die(`interface ${name} does not exist`)
    let af: Af = 'inet'
    let i = 0
    const first = words[0]
    if (first === 'inet' || first === 'inet6') {
      af = first
      i = 1
    } else if (first === 'ether' || first === 'link' || first === 'lladdr') {
      af = 'link'
      i = 1
    }
    let pending: Pending | null = null
    let linkAddr: string | null = null
    const next = (w: string): string => {
      const v = words[++i]
      if (v === undefined) die(`'${w}' requires argument`)
      return v as string
    }
    for (; i < words.length; i++) {
      const w = words[i] as string
      if (w === 'inet' || w === 'inet6') {
        // A family word later on the line switches the family of the words after it (§4).
        af = w
      } else if (w === 'ether' || w === 'link' || w === 'lladdr') {
        af = 'link'
      } else if (w === 'up' || w === 'down') {
        try {
          checkNetPriv(k, jid)
          cur().up = w === 'up'
          if (w === 'up') loopbackInet6(cur())
        } catch (error) {
          perror(w, error)
        }
      } else if (ND6_WORDS.has(w.replace(/^-/, ''))) {
        // af_inet6.c setnd6flags / clearnd6flags: SIOCGIFINFO_IN6, the bit, SIOCSIFINFO_IN6.
        try {
          checkNetPriv(k, jid)
          const ifp = cur()
          const bit = ND6_WORDS.get(w.replace(/^-/, '')) as number
          ifp.nd6 = w.startsWith('-') ? nd6Of(ifp) & ~bit : nd6Of(ifp) | bit
        } catch (error) {
          sysDie('ioctl(SIOCSIFINFO_IN6)', error)
        }
      } else if (w === 'description' || w === 'descr' || w === '-description' || w === '-descr') {
        // ifconfig.c setifdescr / unsetifdescr: SIOCSIFDESCR with the text, or with none (an
        // empty text too) to remove it; `err(1, "ioctl (set descr)")` on failure. The kernel
        // (if.c ifhwioctl SIOCSIFDESCR): PRIV_NET_SETIFDESCR, ENAMETOOLONG past
        // net.ifdescr_maxlen (1024 by default, counting the NUL).
        const text = w.startsWith('-') ? '' : next(w)
        try {
          checkNetPriv(k, jid)
          const ifp = cur()
          if (text.length + 1 > 1024) throw new SysError('ENAMETOOLONG')
          if (text === '') delete ifp.descr
          else ifp.descr = text
        } catch (error) {
          sysDie('ioctl (set descr)', error)
        }
      } else if (w === 'name') {
        const n = next(w)
        try {
          checkNetPriv(k, jid)
          ifRename(k, cur(), n)
        } catch (error) {
          sysDie('ioctl SIOCSIFNAME (set name)', error)
        }
        name = n
        printName = true
      } else if (w === 'destroy' || w === 'unplumb') {
        try {
          checkNetPriv(k, jid)
          ifDestroy(k, cur())
        } catch (error) {
          sysDie('SIOCIFDESTROY', error)
        }
        printName = false
        return done()
      } else if (w === 'addm' || w === 'deletem') {
        const m = next(w)
        const br = cur()
        if (br.type !== 'bridge') notSimulated(`ifconfig ${w} on an interface that is not a bridge`)
        const op = w === 'addm' ? 'BRDGADD' : 'BRDGDEL'
        try {
          checkNetPriv(k, jid)
          if (w === 'addm') bridgeAdd(k, br, m)
          else bridgeDel(k, br, m)
        } catch (error) {
          sysDie(`${op} ${m}`, error)
        }
      } else if (w === 'vnet') {
        const target = jailId(k, jid, next(w))
        try {
          ifVnetLoan(k, jid, cur(), target)
        } catch (error) {
          sysDie('SIOCSIFVNET', error)
        }
      } else if (w === '-vnet') {
        const target = jailId(k, jid, next(w))
        try {
          ifVnetReclaim(k, jid, name, target)
        } catch (error) {
          sysDie(`SIOCSIFRVNET(${target}, ${name})`, error)
        }
      } else if (w === 'alias' || w === 'add' || w === '-alias' || w === 'delete' || w === 'remove') {
        if (!pending) notSimulated(`ifconfig ${w} without an address`)
        ;(pending as Pending).mode = w === 'alias' || w === 'add' ? 'alias' : '-alias'
      } else if (w === 'netmask' && af === 'inet') {
        // af_inet.c in_getaddr(MASK): a mask as an address (jail(8) gives `netmask
        // 255.255.255.255` for an address without a prefix, command.c run_command). Only a
        // contiguous dotted mask is modelled.
        const v = next(w)
        const plen = dottedMaskLength(v)
        if (plen === null) notSimulated(`ifconfig netmask ${v} (only a contiguous dotted mask)`)
        if (pending) pending.plen = plen
      } else if (w === 'prefixlen' && af === 'inet6') {
        const v = next(w)
        if (!/^[0-9]+$/.test(v) || Number(v) > 128) die(`${v}: bad value`)
        if (pending) pending.plen = Number(v)
      } else if (w === 'create' || w === 'plumb') {
        notSimulated(`ifconfig ${w} after other parameters`)
      } else if (UNMODELLED.has(w) || w.startsWith('-')) {
        notSimulated(`ifconfig ${w}`)
      } else {
        // An unknown word is an address of the current family (setifaddr, §1).
        if (pending || linkAddr !== null) notSimulated('ifconfig with a destination address')
        if (af === 'link') linkAddr = w
        else pending = {af, ...(af === 'inet' ? inetAddr(w) : inet6Addr(w)), mode: 'set'}
      }
    }
    if (linkAddr !== null) setLink(k, jid, cur(), linkAddr)
    if (pending) setAddr(k, jid, cur(), pending, err)
    return done()
  } catch (error) {
    if (error instanceof IfErr) throw new Failed(error.message, name, printName)
    throw error
  }
}

class Failed extends Error {
  constructor(readonly text: string, readonly ifname: string, readonly printName: boolean) {
    super(text)
  }
}

/** af_link: `ether`/`link`/`lladdr` (SIOCSIFLLADDR; failures reported as SIOCAIFADDR, §11). */
function setLink(k: Kernel, jid: number, ifp: SimIfnet, word: string): void {
  let mac: string | null = null
  if (word === 'random') {
    k.ifMacSeq++
    mac = ['02', 'ff', ...[16, 8, 0].map((s) => ((k.ifMacSeq >> s) & 0xff).toString(16).padStart(2, '0')), (ifp.index & 0xff).toString(16).padStart(2, '0')].join(':')
  } else {
    // link_addr: hex bytes separated by colons; what does not parse is refused by ifconfig itself.
    const parts = word.split(':')
    if (!parts.every((p) => /^[0-9a-fA-F]{1,2}$/.test(p)) || parts.length > 12) die('malformed link-level address')
    if (parts.length === 6) {
      if ((Number.parseInt(parts[0] as string, 16) & 1) === 1) notSimulated('ifconfig ether with a multicast address')
      mac = parts.map((p) => p.toLowerCase().padStart(2, '0')).join(':')
    }
  }
  try {
    checkNetPriv(k, jid)
    // if_setlladdr: the length must be the interface's address length (6; lo0 has none).
    if (!ifp.ether || mac === null) throw new SysError('EINVAL')
    ifp.ether = mac
  } catch (error) {
    perror('ioctl (SIOCAIFADDR)', error)
  }
}

/** in_exec_nl / in6_exec_nl: replace the first IPv4 address, add an alias, or delete (§6.3, §6.4). */
function setAddr(k: Kernel, jid: number, ifp: SimIfnet, p: Pending, err: (t: string) => void): void {
  if (p.mode === '-alias') {
    try {
      checkNetPriv(k, jid)
      const at = ifp.addrs.findIndex((a) => a.af === p.af && a.addr === p.addr)
      if (at < 0) throw new SysError('EADDRNOTAVAIL')
      ifp.addrs.splice(at, 1)
    } catch (error) {
      perror('ioctl (SIOCDIFADDR)', error)
    }
    return
  }
  let plen = p.plen
  if (plen === null) {
    if (p.af === 'inet6') plen = 128
    else {
      if (ifp.type !== 'loop') err('ifconfig: WARNING: setting interface address without mask is deprecated,\ndefault mask may not be correct.\n')
      plen = classful(p.addr)
    }
  }
  try {
    checkNetPriv(k, jid)
    if (p.mode === 'set' && p.af === 'inet') {
      const firstAt = ifp.addrs.findIndex((a) => a.af === 'inet')
      if (firstAt >= 0) ifp.addrs.splice(firstAt, 1)
    }
    // The same address on this interface is replaced (in_aifaddr_ioctl deletes it first).
    const same = ifp.addrs.findIndex((a) => a.af === p.af && a.addr === p.addr)
    if (same >= 0) ifp.addrs.splice(same, 1)
    ifp.addrs.push({af: p.af, addr: p.addr, plen})
    // The driver's SIOCSIFADDR marks the interface up (ether_ioctl; loioctl). inet6: unconfirmed.
    ifp.up = true
    if (p.af === 'inet') loopbackInet6(ifp)
  } catch (error) {
    perror('ioctl (SIOCAIFADDR)', error)
  }
}

export const ifconfig: Tool = async (ctx, argv) => {
  const out = (t: string): void => ctx.out(t)
  const fatal = (t: string): number => {
    ctx.err(`ifconfig: ${t}\n`)
    return 1
  }
  // Options (main/args_parse): only those modelled; the rest are refused.
  let all = false
  let list = false
  let group: string | undefined
  let i = 0
  for (; i < argv.length; i++) {
    const a = argv[i] as string
    if (!a.startsWith('-') || a === '-' || a === '-vnet' || a === '-alias') break
    if (a === '--') {
      i++
      break
    }
    for (let j = 1; j < a.length; j++) {
      const c = a[j] as string
      if (c === 'a') all = true
      else if (c === 'l') list = true
      else if (c === 'g') {
        const v = j + 1 < a.length ? a.slice(j + 1) : argv[++i]
        if (v === undefined) {
          ctx.err(`ifconfig: option requires an argument -- g\n${USAGE}`)
          return 1
        }
        group = v
        break
      } else if ('CGdkmnuvf'.includes(c)) notSimulated(`ifconfig -${c}`)
      else {
        ctx.err(`ifconfig: illegal option -- ${c}\n${USAGE}`)
        return 1
      }
    }
  }
  const rest = argv.slice(i)
  const k0 = loadKernel(ctx.root)
  const vnet = vnetOf(k0, ctx.jid)
  if (list && all) {
    ctx.err(USAGE)
    return 1
  }
  if (group !== undefined && !all) {
    if (rest.length > 0) notSimulated('ifconfig -g with other arguments')
    // ifgroup.c printgroup: members one per line; an unknown group prints nothing, exit 0 (§7).
    for (const ifp of ifnetsIn(k0, vnet)) if (ifp.groups.includes(group)) out(`${ifp.name}\n`)
    return 0
  }
  if (group !== undefined) notSimulated('ifconfig -a -g')
  if (list || all || rest.length === 0) {
    if (rest.length > 0) {
      if (rest.length > 1 || !['inet', 'inet6', 'link', 'ether', 'lladdr'].includes(rest[0] as string)) {
        if (rest.length === 1) ctx.err(`ifconfig: Address family '${rest[0] as string}' unknown.\n`)
        ctx.err(USAGE)
        return 1
      }
      notSimulated(`ifconfig ${list ? '-l' : '-a'} with an address family`)
    }
    const ifs = ifnetsIn(k0, vnet)
    if (list) out(`${ifs.map((x) => x.name).join(' ')}\n`)
    else for (const ifp of ifs) out(statusBlock(k0, ifp, ctx.jid))
    return 0
  }
  const ifname = rest[0] as string
  const words = rest.slice(1)
  const exists = ifunit(k0, vnet, ifname) !== undefined
  let create = false
  if (!exists) {
    if (words[0] === 'create' || words[0] === 'plumb') {
      if (ifname.length >= IFNAMSIZ) return fatal(`${ifname}: cloning name too long`)
      const cl = /^([a-z]+)[0-9]*$/.exec(ifname)?.[1]
      if (cl && UNSIMULATED_CLONERS.includes(cl)) notSimulated(`ifconfig ${cl} create`)
      create = true
      words.shift()
    } else if (words[0] === '-vnet') {
      if (ifname.length >= IFNAMSIZ) return fatal(`${ifname}: interface name too long`)
    } else {
      return fatal(`interface ${ifname} does not exist`)
    }
  } else if (words[0] === 'create' || words[0] === 'plumb') {
    if (words.length === 1) return fatal(`interface ${ifname} already exists`)
    words.shift()
  }
  if (!create && words.length === 0) {
    out(statusBlock(k0, ifunit(k0, vnet, ifname) as SimIfnet, ctx.jid))
    return 0
  }
  if (!create && words.length === 1 && ['link', 'ether', 'lladdr'].includes(words[0] as string)) {
    // ifconfig IF ether (af_getbyname takes the family, nothing is left to configure: the
    // status of IF for that family only; jib's derive_mac reads its `ether` line). Shown: the
    // flags line, the description, the options and the link-level lines; whether af_link adds
    // other lines (groups, media) here is unconfirmed.
    const block = statusBlock(k0, ifunit(k0, vnet, ifname) as SimIfnet, ctx.jid).split('\n')
    out(`${block.filter((l, n) => n === 0 || /^\t(description: |options=|ether |hwaddr )/.test(l)).join('\n')}\n`)
    return 0
  }
  if (!create && words.length === 1 && ['inet', 'inet6'].includes(words[0] as string)) notSimulated(`ifconfig ${ifname} ${words[0] as string} (the status of one address family)`)
  let code = 0
  let final = {name: ifname, printName: false}
  const errs: string[] = []
  await withKernel(ctx.root, (k) => {
    try {
      final = apply(k, ctx.jid, ifname, words, create, (t) => errs.push(t))
    } catch (error) {
      if (!(error instanceof Failed)) throw error
      final = {name: error.ifname, printName: error.printName}
      errs.push(`ifconfig: ${error.text}\n`)
      code = 1
    }
  })
  for (const e of errs) ctx.err(e)
  // printifnamemaybe (atexit): a changed name is printed even after a failure (§1).
  if (final.printName) out(`${final.name}\n`)
  return code
}
