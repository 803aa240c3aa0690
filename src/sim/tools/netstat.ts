// netstat -r (-n) over the routing tables (kernel/route.ts), after usr.bin/netstat/route.c of
// 14 (read in the 14 vendor copy sobomax/freebsd14_vendor @0f7ff342, `$FreeBSD: ba47a4b5 $`:
// routepr, pr_family, pr_rthdr, p_rtentry_sysctl, p_sockaddr, netname4/netname6, rt_bits).
// Entries come in radix-walk order (by address, a longer mask first for one address); the
// routes addresses bring are listed as the kernel installs them (a prefix route on the
// interface, `U`; the address itself through lo0, `UHS`, or `UH` for an IPv4 address of a
// loopback interface). Only `-r` with `-n`, and `-f inet|inet6`, are modelled.
import {vnetOf} from '../kernel/ifnet.js'
import {type Af, canon6, connectedRoutes, staticRoutes} from '../kernel/route.js'
import type {Kernel} from '../kernel/state.js'
import {loadKernel} from '../store.js'
import {notSimulated, type Tool} from './common.js'

interface Entry {
  af: Af
  addr: string
  plen: number
  dst: string
  gateway: string
  flags: string
  netif: string
  /** A link-local entry's interface: the kernel keeps its ifindex in the address's second 16 bits (KAME's embedded scope), where the radix walk sees it. */
  scope?: number
}

/** The 16 bits groups of an inet6 address. */
function groups6(a: string): number[] {
  const c = canon6(a)
  const [head, tail] = c.includes('::') ? (c.split('::') as [string, string]) : [c, undefined]
  const h = head === '' ? [] : head.split(':')
  const t = tail === undefined || tail === '' ? [] : tail.split(':')
  const g = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t]
  return g.map((x) => Number.parseInt(x, 16))
}

/** inet_ntop(AF_INET6) as libc prints it: RFC 5952 with the embedded IPv4 forms (::ffff:a.b.c.d, ::a.b.c.d). */
export function ntop6(a: string): string {
  const w = groups6(a)
  const v4 = (): string => `${w[6] as number >> 8}.${(w[6] as number) & 0xff}.${w[7] as number >> 8}.${(w[7] as number) & 0xff}`
  const zeros5 = w.slice(0, 5).every((x) => x === 0)
  if (zeros5 && w[5] === 0xffff) return `::ffff:${v4()}`
  // The longest zero run is words 0-5 exactly: an IPv4-compatible address.
  if (zeros5 && w[5] === 0 && w[6] !== 0) return `::${v4()}`
  return canon6(a)
}

const isLinkLocal = (a: string): boolean => /^fe[89ab]/i.test(canon6(a))

function v4key(a: string): bigint {
  return a.split('.').reduce((n, o) => (n << 8n) | BigInt(Number(o)), 0n)
}
/** netname4/netname6 and routename: default for 0/0, a host as is, a net with `/len`; an interface's link-local address or prefix carries its `%if` scope. */
function name(af: Af, addr: string, plen: number, host: boolean, scope?: string): string {
  if (plen === 0 && !host) return 'default'
  const text = af === 'inet' ? addr : `${ntop6(addr)}${scope !== undefined && isLinkLocal(addr) ? `%${scope}` : ''}`
  return host ? text : `${text}/${plen}`
}

function entries(k: Kernel, vnet: number, af: Af): Entry[] {
  const max = af === 'inet' ? 32 : 128
  const byIndex = (n: number): string => k.ifnets.find((i) => i.index === n)?.name ?? '---'
  const lo = k.ifnets.find((i) => i.vnet === vnet && i.type === 'loop' && i.unit === 0 && i.dname === 'lo')
  const out: Entry[] = []
  for (const r of connectedRoutes(k, vnet, af)) {
    if (r.local) {
      // The address through the loopback (ifa_maintain_loopback_route: UHS); lo0's own IPv4 address is its interface route (UH).
      const own = r.ifp.type === 'loop' && af === 'inet'
      const via = own ? r.ifp : lo ?? r.ifp
      out.push({af, addr: r.dst, plen: max, dst: name(af, r.dst, max, true, r.ifp.name), gateway: `link#${via.index}`, flags: own ? 'UH' : 'UHS', netif: via.name, scope: r.ifp.index})
    } else {
      out.push({af, addr: r.dst, plen: r.plen, dst: name(af, r.dst, r.plen, false, r.ifp.name), gateway: `link#${r.ifp.index}`, flags: 'U', netif: r.ifp.name, scope: r.ifp.index})
    }
  }
  for (const r of staticRoutes(k, vnet, af)) {
    const ifname = byIndex(r.ifindex)
    // A gateway reached through a route to the loopback stands for a local address: no G (the kernel makes such a route an interface route).
    const viaLoop = r.gateway !== undefined && staticRoutes(k, vnet, af).some((s) => s.gateway === undefined && s.host && s.dst === r.gateway && k.ifnets.find((i) => i.index === s.ifindex)?.type === 'loop')
    const g = r.gateway !== undefined && !viaLoop
    const flags = `U${g ? 'G' : ''}${r.host ? 'H' : ''}${r.reject ? 'R' : ''}S${r.blackhole ? 'B' : ''}`
    const gateway = r.gateway === undefined ? `link#${r.ifindex}` : af === 'inet' ? r.gateway : ntop6(r.gateway)
    out.push({af, addr: r.dst, plen: r.plen, dst: name(af, r.dst, r.plen, r.host), gateway, flags, netif: ifname})
  }
  // in6_setscope (sys/netinet6/scope6.c): a link-local address carries its zone in the second 16 bits inside the kernel.
  const key = (e: Entry): bigint => {
    if (af === 'inet') return v4key(e.addr)
    const g = groups6(e.addr)
    if (e.scope !== undefined && ((g[0] ?? 0) & 0xffc0) === 0xfe80) g[1] = e.scope
    return g.reduce((n, x) => (n << 16n) | BigInt(x), 0n)
  }
  return out.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : b.plen - a.plen))
}

/** p_sockaddr with numeric_addr: the text left-justified in `width`, what runs past it taken from the next column. */
function col(text: string, width: number): {text: string; protrusion: number} {
  if (width < 0) return {text: `${text} `, protrusion: 0}
  return {text: `${text.padEnd(width)} `, protrusion: Math.max(0, text.length - width)}
}

export const netstat: Tool = async (ctx, argv) => {
  let route = false
  let numeric = false
  let family: Af | undefined
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string
    if (!a.startsWith('-') || a === '-') notSimulated(`netstat operand ${a}`)
    for (let j = 1; j < a.length; j++) {
      const c = a[j] as string
      if (c === 'r') route = true
      else if (c === 'n') numeric = true
      else if (c === '4') family = 'inet'
      else if (c === '6') family = 'inet6'
      else if (c === 'f') {
        const v = j + 1 < a.length ? a.slice(j + 1) : argv[++i]
        if (v === 'inet' || v === 'inet6') family = v
        else notSimulated(`netstat -f ${v ?? ''}`)
        break
      } else notSimulated(`netstat -${c}`)
    }
  }
  if (!route) notSimulated('netstat without -r')
  if (!numeric) notSimulated('netstat -r without -n (names from /etc/hosts and /etc/networks)')
  const k = loadKernel(ctx.root)
  const vnet = vnetOf(k, ctx.jid)
  // A jail without its own vnet sees its vnet's table filtered to its addresses (rtsock's prison_if): not modelled.
  if (ctx.jid !== 0 && vnet !== ctx.jid) notSimulated('netstat -r in a jail without its own vnet')
  const lines = ['Routing tables']
  for (const af of (['inet', 'inet6'] as const).filter((f) => family === undefined || family === f)) {
    const list = entries(k, vnet, af)
    if (list.length === 0) continue
    // WID_DST_DEFAULT / WID_GW_DEFAULT with numeric_addr; flags 6, netif 8, expire 6.
    const wDst = af === 'inet6' ? 33 : 18
    const wGw = af === 'inet6' ? 29 : 18
    lines.push('', af === 'inet' ? 'Internet:' : 'Internet6:')
    lines.push(`${'Destination'.padEnd(wDst)} ${'Gateway'.padEnd(wGw)} ${'Flags'.padEnd(6)} ${'Netif'.padStart(8)} Expire`)
    for (const e of list) {
      const d = col(e.dst, wDst)
      const g = col(e.gateway, wGw - d.protrusion)
      const f = col(e.flags, 6 - g.protrusion)
      lines.push(`${d.text}${g.text}${f.text}${e.netif.slice(0, 8).padStart(8)}`)
    }
  }
  ctx.out(`${lines.join('\n')}\n`)
  return 0
}
