// The simulated kernel's routing tables, one per vnet (net/route.c, net/route/route_ctl.c in
// FreeBSD 14), and the per-vnet forwarding switches (net.inet.ip.forwarding,
// net.inet6.ip6.forwarding: VNET_DEFINE in netinet/ip_input.c, netinet6/in6_proto.c). Only
// static routes are state; the routes an interface address brings (its prefix, and the address
// itself through lo0) follow from the interface table and are computed (in_addprefix /
// ifa_maintain_loopback_route), so the two never disagree. Rules and sources:
// src/sim/FIDELITY.md, "Networking inside jails: rc, route, ping".
import {isIPv4} from 'node:net'

import {notSimulated} from '../tools/common.js'
import type {SimIfnet} from './ifnet.js'
import {fail, type Kernel} from './state.js'

export type Af = 'inet' | 'inet6'

/** One static route (RTF_STATIC), as route(8) adds it: RTM_ADD with a gateway or an interface. */
export interface SimRoute {
  /** The vnet whose table holds it (0 = host, else a vnet jail's jid). */
  vnet: number
  af: Af
  /** The destination network, canonical (inet6 as inet_ntop prints it), masked to plen. */
  dst: string
  plen: number
  /** RTF_GATEWAY: the next hop; else the route points at `ifindex` itself (`-iface`). */
  gateway?: string
  /** The interface the route leaves by (rt_ifp), fixed when it is added. */
  ifindex: number
  host: boolean
  reject?: boolean
  blackhole?: boolean
}

/** net.inet.ip.forwarding / net.inet6.ip6.forwarding of one vnet (both 0 in a new vnet). */
export interface SimForwarding {
  vnet: number
  inet: number
  inet6: number
}

// ---- addresses ----

const v4num = (a: string): number => a.split('.').reduce((n, o) => (n * 256 + Number(o)) >>> 0, 0)
const v4str = (n: number): string => [24, 16, 8, 0].map((s) => (n >>> s) & 0xff).join('.')

/** inet6 text as inet_ntop prints it (RFC 5952, lower case). */
export function canon6(a: string): string {
  return new URL(`http://[${a}]/`).hostname.slice(1, -1)
}

/** The 128 bits of an inet6 address as a bigint. */
function v6num(a: string): bigint {
  const c = canon6(a)
  const [head, tail] = c.includes('::') ? c.split('::') as [string, string] : [c, undefined]
  const h = head === '' ? [] : head.split(':')
  const t = tail === undefined || tail === '' ? [] : tail.split(':')
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t]
  return groups.reduce((n, g) => (n << 16n) | BigInt(Number.parseInt(g, 16)), 0n)
}

function v6str(n: bigint): string {
  const groups: string[] = []
  for (let i = 7; i >= 0; i--) groups.push(((n >> BigInt(i * 16)) & 0xffffn).toString(16))
  return canon6(groups.join(':'))
}

/** `addr` masked to its first `plen` bits, in canonical text. */
export function maskAddr(af: Af, addr: string, plen: number): string {
  if (af === 'inet') {
    const mask = plen === 0 ? 0 : (0xffffffff << (32 - plen)) >>> 0
    return v4str((v4num(addr) & mask) >>> 0)
  }
  const mask = plen === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - plen)) - 1n)
  return v6str(v6num(addr) & mask)
}

/** Is `addr` within `net/plen`? */
export function inPrefix(af: Af, addr: string, net: string, plen: number): boolean {
  return maskAddr(af, addr, plen) === maskAddr(af, net, plen)
}

export const afOf = (addr: string): Af => (isIPv4(addr) ? 'inet' : 'inet6')

// ---- the table ----

/** The routes a vnet's interface addresses bring: the address's prefix (U) and the address itself (UHS, via lo0). */
export interface ConnectedRoute {
  af: Af
  dst: string
  plen: number
  ifp: SimIfnet
  /** The address itself (a host route through the loopback), or its prefix (on link). */
  local: boolean
}

export function connectedRoutes(k: Kernel, vnet: number, af: Af): ConnectedRoute[] {
  const out: ConnectedRoute[] = []
  const max = af === 'inet' ? 32 : 128
  for (const ifp of k.ifnets.filter((i) => i.vnet === vnet)) {
    for (const a of ifp.addrs.filter((x) => x.af === af)) {
      out.push({af, dst: a.addr, plen: max, ifp, local: true})
      // An IPv4 address of a loopback interface gives a host route only (in_ifinit: IFF_LOOPBACK,
      // netstat shows 127.0.0.1 UH lo0 alone); inet6 ones have their prefix (fe80::%lo0/64 U lo0).
      if (a.plen < max && !(ifp.type === 'loop' && af === 'inet')) out.push({af, dst: maskAddr(af, a.addr, a.plen), plen: a.plen, ifp, local: false})
    }
  }
  return out
}

export const staticRoutes = (k: Kernel, vnet: number, af: Af): SimRoute[] => k.routes.filter((r) => r.vnet === vnet && r.af === af)

/** What a lookup of one address finds: the longest matching prefix, static routes before connected ones of the same length. */
export type Lookup =
  | {kind: 'static'; route: SimRoute}
  | {kind: 'connected'; route: ConnectedRoute}

export function routeLookup(k: Kernel, vnet: number, af: Af, addr: string, upOnly = false): Lookup | undefined {
  let best: Lookup | undefined
  let bestLen = -1
  for (const r of connectedRoutes(k, vnet, af)) {
    if (upOnly && !r.ifp.up) continue
    if (r.plen > bestLen && inPrefix(af, addr, r.dst, r.plen)) {
      best = {kind: 'connected', route: r}
      bestLen = r.plen
    }
  }
  for (const r of staticRoutes(k, vnet, af)) {
    if (upOnly && !k.ifnets.find((i) => i.index === r.ifindex)?.up) continue
    if (r.plen >= bestLen && inPrefix(af, addr, r.dst, r.plen)) {
      best = {kind: 'static', route: r}
      bestLen = r.plen
    }
  }
  return best
}

/**
 * RTM_ADD (rib_add_route): EEXIST when the same destination and mask is in the table already
 * (a connected route included: `route already in table`); a gateway must be reachable in this
 * vnet, through a connected prefix or a route to it (rt_getifa_fib → ENETUNREACH).
 */
export function routeAdd(k: Kernel, r: Omit<SimRoute, 'ifindex'>, ifp?: SimIfnet): SimRoute {
  const dst = maskAddr(r.af, r.dst, r.plen)
  const same = (x: {dst: string; plen: number}): boolean => x.dst === dst && x.plen === r.plen
  if (staticRoutes(k, r.vnet, r.af).some(same) || connectedRoutes(k, r.vnet, r.af).some(same)) fail('EEXIST')
  let out = ifp
  if (r.gateway !== undefined) {
    const via = routeLookup(k, r.vnet, r.af, r.gateway)
    if (!via) return fail('ENETUNREACH')
    out = via.kind === 'connected' ? via.route.ifp : k.ifnets.find((i) => i.index === via.route.ifindex)
    // ifa_ifwithroute would take the interface of the route that reaches the gateway: not modelled.
    if (via.kind === 'static' && via.route.gateway !== undefined) notSimulated('route add with a gateway reached only through another gateway')
  }
  if (!out) return fail('ENETUNREACH')
  const route: SimRoute = {...r, dst, ifindex: out.index}
  k.routes.push(route)
  return route
}

/** RTM_DELETE: only a static route; none with that destination and mask → ESRCH. */
export function routeDelete(k: Kernel, vnet: number, af: Af, dst: string, plen: number): SimRoute {
  const d = maskAddr(af, dst, plen)
  const at = k.routes.findIndex((r) => r.vnet === vnet && r.af === af && r.dst === d && r.plen === plen)
  if (at < 0) return fail('ESRCH')
  const [gone] = k.routes.splice(at, 1)
  return gone as SimRoute
}

/** An interface leaves its vnet or is destroyed: the routes through it go (rt_flushifroutes in if_detach_internal). */
export function flushIfRoutes(k: Kernel, ifp: SimIfnet): void {
  k.routes = k.routes.filter((r) => r.ifindex !== ifp.index)
}

/** A vnet dies: its table and its switches go with it. */
export function routesTeardown(k: Kernel, vnet: number): void {
  k.routes = k.routes.filter((r) => r.vnet !== vnet)
  k.forwarding = k.forwarding.filter((f) => f.vnet !== vnet)
}

export function forwardingOf(k: Kernel, vnet: number): SimForwarding {
  return k.forwarding.find((f) => f.vnet === vnet) ?? {vnet, inet: 0, inet6: 0}
}

export function setForwarding(k: Kernel, vnet: number, af: Af, value: number): void {
  const cur = forwardingOf(k, vnet)
  k.forwarding = [...k.forwarding.filter((f) => f.vnet !== vnet), {...cur, [af]: value}]
}

/** What must always hold: each route in a live vnet, leaving by an interface of that vnet. */
export function routeInvariants(k: Kernel, vnets: Set<number>): string[] {
  const bad: string[] = []
  for (const r of k.routes) {
    if (!vnets.has(r.vnet)) bad.push(`route ${r.dst}/${r.plen}: in vnet ${r.vnet}, which does not exist`)
    const ifp = k.ifnets.find((i) => i.index === r.ifindex)
    if (!ifp || ifp.vnet !== r.vnet) bad.push(`route ${r.dst}/${r.plen} in vnet ${r.vnet}: its interface ${r.ifindex} is not in that vnet`)
  }
  for (const f of k.forwarding) if (!vnets.has(f.vnet)) bad.push(`forwarding switches of vnet ${f.vnet}, which does not exist`)
  return bad
}
