// ping(8) and ping6 answered from the model: no packet is sent anywhere. The texts follow
// sbin/ping of FreeBSD 14 (read in the 14 vendor copy sobomax/freebsd14_vendor @0f7ff342:
// main.c for the family choice, ping.c for IPv4: pinger, pr_pack, finish; ping6's lines from
// the transcripts of sbin/ping/tests/test_ping.py in freebsd/freebsd-src @076b718d). Whether a
// reply comes is decided by walking the interface table and the routing tables (reachability
// rules: FIDELITY.md, "Networking inside jails: rc, route, ping"). Round-trip times are a
// simulator choice: 0.045 ms, plus 0.020 ms per router crossed each way, so every run prints
// the same.
import {isIPv4, isIPv6} from 'node:net'

import {isBridgeMember, type SimIfnet, vnetOf} from '../kernel/ifnet.js'
import {type Af, canon6, forwardingOf, routeLookup} from '../kernel/route.js'
import type {IpState, Kernel} from '../kernel/state.js'
import {loadKernel} from '../store.js'
import {getopt, notSimulated, type Tool} from './common.js'

const EX_USAGE = 64
const EX_OSERR = 71
/** net.inet.ip.ttl and net.inet6.ip6.hlim defaults (netinet/ip_input.c IPDEFTTL, in6_proto.c IPV6_DEFHLIM). */
const DEFTTL = 64
/** Simulator choice: the time of one reply with no router between, and what each router adds. */
const BASE_MS = 0.045
const HOP_MS = 0.02

const USAGE =
  'usage:\n' +
  '\tping [-4AaDdfHnoQqRrv] [-C pcp] [-c count] [-G sweepmaxsize]\n' +
  '\t    [-g sweepminsize] [-h sweepincrsize] [-i wait] [-l preload]\n' +
  '\t    [-M mask | time] [-m ttl][-P policy] [-p pattern] [-S src_addr] \n' +
  '\t    [-s packetsize] [-t timeout] [-W waittime] [-z tos] IPv4-host\n' +
  '\tping [-4AaDdfHLnoQqRrv] [-C pcp] [-c count] [-I iface] [-i wait]\n' +
  '\t    [-l preload] [-M mask | time] [-m ttl] [-P policy] [-p pattern]\n' +
  '\t    [-S src_addr] [-s packetsize] [-T ttl] [-t timeout] [-W waittime]\n' +
  '            [-z tos] IPv4-mcast-group\n' +
  '\tping [-6aADdEfHnNoOquvyYZ] [-b bufsiz] [-c count] [-e gateway]\n' +
  '            [-I interface] [-i wait] [-k addrtype] [-l preload] [-m hoplimit]\n' +
  '            [-p pattern] [-P policy] [-S sourceaddr] [-s packetsize] [-t timeout]\n' +
  '\t    [-W waittime] [-z tclass] [IPv6-hops ...] IPv6-host\n'

/** errx(code, text), or usage() (the synopsis, exit 1) when `usage` is set. */
class Exit extends Error {
  constructor(readonly code: number, readonly text?: string, readonly usage = false) {
    super(text ?? String(code))
  }
}
const usage = (text?: string): Exit => new Exit(1, text, true)

// ---- the model's answer ----

const has = (i: SimIfnet, af: Af, addr: string): boolean => i.addrs.some((a) => a.af === af && a.addr === addr)

/**
 * The layer-2 segment of an interface: what its frames reach, through an epair to its other
 * end (in whatever vnet) and through a bridge to every member. Only interfaces that are up
 * pass frames (a down epair end or bridge ends the segment there).
 */
function segment(k: Kernel, from: SimIfnet): SimIfnet[] {
  const seen = new Set<number>()
  const out: SimIfnet[] = []
  const queue = [from]
  while (queue.length > 0) {
    const i = queue.shift() as SimIfnet
    if (seen.has(i.index) || !i.up) continue
    seen.add(i.index)
    out.push(i)
    const byIndex = (n: number): SimIfnet | undefined => k.ifnets.find((x) => x.index === n)
    if (i.peer !== undefined) {
      const p = byIndex(i.peer)
      if (p) queue.push(p)
    }
    for (const m of i.members ?? []) {
      const mi = byIndex(m)
      if (mi) queue.push(mi)
    }
    if (isBridgeMember(k, i)) for (const b of k.ifnets.filter((x) => x.members?.includes(i.index))) queue.push(b)
  }
  return out
}

type Delivery =
  | {kind: 'reached'; vnet: number; hops: number; out?: SimIfnet}
  /** No route in the sender's own vnet: send(2) fails (EHOSTUNREACH). */
  | {kind: 'noroute'}
  /** Sent, but it never arrives (nobody holds the address, a router drops it). */
  | {kind: 'lost'}

/** A local address of this vnet, on an interface that is up (the loopback route delivers it here). */
const localIn = (k: Kernel, vnet: number, af: Af, addr: string): boolean =>
  k.ifnets.some((i) => i.vnet === vnet && i.up && has(i, af, addr))

/**
 * Where a packet for `dst` sent in `vnet` ends up: delivered locally, on link to the holder of
 * the address in the outgoing interface's segment, or to the on-link next hop of a static
 * route, whose vnet passes it on only with forwarding on (ip_input.c: V_ipforwarding, else
 * dropped), one hop further each time; a vnet seen twice is a loop (lost, the TTL runs out).
 */
function deliver(k: Kernel, vnet: number, af: Af, dst: string, hops = 0, seen = new Set<number>()): Delivery {
  if (localIn(k, vnet, af, dst)) return {kind: 'reached', vnet, hops}
  if (hops > 0 && forwardingOf(k, vnet)[af] === 0) return {kind: 'lost'}
  if (seen.has(vnet)) return {kind: 'lost'}
  seen.add(vnet)
  const found = routeLookup(k, vnet, af, dst, true)
  if (!found) return hops === 0 ? {kind: 'noroute'} : {kind: 'lost'}
  const outIf = found.kind === 'connected' ? found.route.ifp : k.ifnets.find((i) => i.index === found.route.ifindex)
  if (!outIf) return {kind: 'lost'}
  if (found.kind === 'static' && found.route.reject) return hops === 0 ? {kind: 'noroute'} : {kind: 'lost'}
  if (found.kind === 'static' && found.route.blackhole) return {kind: 'lost'}
  const nextHop = found.kind === 'static' && found.route.gateway !== undefined ? found.route.gateway : dst
  const holder = segment(k, outIf).find((i) => i !== outIf && has(i, af, nextHop))
  if (!holder) return {kind: 'lost'}
  // On link, or the next hop's own address (the router answers for itself: nothing forwarded).
  if (nextHop === dst || localIn(k, holder.vnet, af, dst)) return {kind: 'reached', vnet: holder.vnet, hops, out: outIf}
  const next = deliver(k, holder.vnet, af, dst, hops + 1, seen)
  return next.kind === 'reached' ? {...next, out: outIf} : next.kind === 'noroute' ? {kind: 'lost'} : next
}

/**
 * The addresses a jail's sockets may use (prison_get_ip4/6, prison_check_ip4/6): null when
 * unrestricted up to its vnet; otherwise the nearest restricting jail's list (empty: none).
 */
function jailIps(k: Kernel, jid: number, af: Af): string[] | null {
  const vnet = vnetOf(k, jid)
  for (let cur = jid; cur !== vnet && cur !== 0;) {
    const j = k.jails.find((x) => x.jid === cur)
    if (!j) return null
    const ip: IpState = af === 'inet' ? j.ip4 : j.ip6
    if (ip.mode === 'disable') return []
    if (ip.mode === 'new') return ip.addrs.map((a) => (af === 'inet6' ? canon6(a) : a))
    cur = j.parent
  }
  return null
}

interface Answer {
  /** The source address the echo requests carry. */
  src: string
  /** Each echo request: does a reply come back, after how many routers each way. */
  reply: {hopsThere: number; hopsBack: number} | null
  noroute: boolean
}

function answer(k: Kernel, jid: number, af: Af, dst: string, allowed: string[] | null): Answer {
  const vnet = vnetOf(k, jid)
  const there = deliver(k, vnet, af, dst)
  if (there.kind === 'noroute') return {src: '', reply: null, noroute: true}
  // in_pcbladdr / in6_selectsrc: the address of the outgoing interface (a jail's own address
  // when it is restricted); a local destination is its own source.
  let src = dst
  if (there.kind !== 'reached' || there.out) {
    const out = there.kind === 'reached' ? there.out : undefined
    const onOut = (out?.addrs ?? []).filter((a) => a.af === af).map((a) => a.addr).filter((a) => !a.startsWith('fe80:'))
    const mine = allowed === null ? onOut : [...onOut.filter((a) => allowed.includes(a)), ...allowed]
    if (there.kind === 'lost' && mine.length === 0) {
      // The first hop's interface is not known once the packet is lost: a restricted jail's first address, else the route's.
      const via = routeLookup(k, vnet, af, dst, true)
      const ifp = via?.kind === 'connected' ? via.route.ifp : k.ifnets.find((i) => via?.kind === 'static' && i.index === via.route.ifindex)
      const cand = (ifp?.addrs ?? []).filter((a) => a.af === af).map((a) => a.addr)
      src = allowed === null ? cand[0] ?? '' : allowed[0] ?? ''
    } else {
      src = mine[0] ?? ''
    }
    if (src === '') notSimulated('ping from an interface with no address of that family')
  } else if (allowed !== null && !allowed.includes(dst)) {
    // A restricted jail reaching a local address that is not its own: prison_remote_ip rewriting is not modelled.
    notSimulated('ping of a local address a restricted jail does not hold')
  }
  if (there.kind !== 'reached') return {src, reply: null, noroute: false}
  const back = deliver(k, there.vnet, af, src)
  if (back.kind !== 'reached' || back.vnet !== vnet) return {src, reply: null, noroute: false}
  return {src, reply: {hopsThere: there.hops, hopsBack: back.hops}, noroute: false}
}

// ---- the program ----

interface Opts {
  count: number | undefined
  timeout: number | undefined
  quiet: boolean
  size: number | undefined
}

function parseOpts(argv: string[], v6: boolean): {opts: Opts; target: string} {
  const opts: Opts = {count: undefined, timeout: undefined, quiet: false, size: undefined}
  const takes = v6 ? 'bcegIiklmPpSstWz' : 'CcGghIilMmPpSsTtWz'
  const flags = v6 ? '46naADdEfHNOouvyYZq' : '46nAaDdfHLoQRrvq'
  const o = getopt(argv, flags + [...takes].map((c) => `${c}:`).join(''), (c) => {
    throw usage(takes.includes(c) ? `option requires an argument -- ${c}` : `illegal option -- ${c}`)
  })
  for (const [c, v] of o.multi) {
    if (c === 'c') {
      // strtonum(optarg, 1, LONG_MAX).
      if (!/^[0-9]+$/.test(v) || Number(v) < 1) throw new Exit(EX_USAGE, `invalid count of packets to transmit: \`${v}'`)
      opts.count = Number(v)
    } else if (c === 't') {
      const n = /^[0-9]+$/.test(v) ? Number(v) : Number.NaN
      if (!(n >= 1)) throw new Exit(EX_USAGE, `invalid timeout: \`${v}'`)
      if (n > 3600) throw new Exit(EX_USAGE, `invalid timeout: \`${v}' > 3600`)
      opts.timeout = n
    } else if (c === 's') {
      if (!/^[0-9]+$/.test(v)) throw new Exit(EX_USAGE, `invalid packet size: \`${v}'`)
      opts.size = Number(v)
    } else {
      notSimulated(`ping -${c}`)
    }
  }
  for (const c of o.flags.keys()) if (!takes.includes(c) && !'46nq'.includes(c)) notSimulated(`ping -${c}`)
  opts.quiet = o.flags.has('q')
  const rest = o.rest
  if (rest.length !== 1) {
    if (v6 && rest.length > 1) notSimulated('ping6 with intermediate hops')
    throw usage()
  }
  return {opts, target: rest[0] as string}
}

const ms = (n: number): string => n.toFixed(3)
/** Letters that take a value in ping's or ping6's getopt string. */
const ARG_LETTERS = 'bCcGghIikleMmPpSsTtWz'

export const ping: Tool = async (ctx, argv) => pingMain(ctx, argv, false)
export const ping6: Tool = async (ctx, argv) => pingMain(ctx, argv, true)

async function pingMain(ctx: Parameters<Tool>[0], argv: string[], invokedAs6: boolean): Promise<number> {
  const prog = invokedAs6 ? 'ping6' : 'ping'
  try {
    // main.c: -4/-6 first (getopt ":46"), then the target's family decides ping or ping6.
    let want4 = false
    let want6 = invokedAs6
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i] as string
      if (a === '--' || !a.startsWith('-') || a === '-') break
      for (let j = 1; j < a.length; j++) {
        const c = a[j] as string
        if (c === '4') want4 = true
        else if (c === '6') want6 = true
        else if (ARG_LETTERS.includes(c)) {
          // The rest of the word, or the next one, is this option's value (`-t6` is a timeout: ping_test.sh ping_c1t6).
          if (j + 1 === a.length) i++
          break
        }
      }
    }
    if (argv.length === 0) throw usage()
    if (want4 && want6) throw new Exit(1, '-4 and -6 cannot be used simultaneously')
    const last = argv[argv.length - 1] as string
    let v6: boolean
    if (isIPv4(last)) {
      if (want6) throw new Exit(1, 'IPv6 requested but IPv4 target address provided')
      v6 = false
    } else if (isIPv6(last)) {
      if (want4) throw new Exit(1, 'IPv4 requested but IPv6 target address provided')
      v6 = true
    } else if (/^[0-9a-fA-F:.%]+$/.test(last) || !last.startsWith('-')) {
      return notSimulated(`ping of a host name or scoped address (${last}): no resolver here`)
    } else {
      throw usage()
    }
    const {opts, target} = parseOpts(argv, v6)
    return run(ctx, prog, v6, opts, target)
  } catch (error) {
    if (!(error instanceof Exit)) throw error
    if (error.text !== undefined) ctx.err(`${prog}: ${error.text}\n`)
    // main.c usage(): the synopsis, exit 1 (after getopt's own line for a bad option).
    if (error.usage) ctx.err(USAGE)
    return error.code
  }
}

function run(ctx: Parameters<Tool>[0], prog: string, v6: boolean, opts: Opts, target: string): number {
  const k = loadKernel(ctx.root)
  const af: Af = v6 ? 'inet6' : 'inet'
  const dst = v6 ? canon6(target) : target
  const jailed = ctx.jid !== 0
  const ownVnet = vnetOf(k, ctx.jid) === ctx.jid
  const allowed = jailed && !ownVnet ? jailIps(k, ctx.jid, af) : null
  if (jailed && !ownVnet) {
    // socreate: prison_check_af → EPROTONOSUPPORT for a family the jail has no address of
    // (**source-derived**, uipc_socket.c not re-read); then rip_attach's PRIV_NETINET_RAW, which
    // a jail holds only with allow.raw_sockets (a vnet jail always: prison_priv_check, VIMAGE).
    // ping.c: err(EX_OSERR, "ssend socket"); ping6.c: err(1, "socket") (**unconfirmed**: ping6.c not read here).
    const [sock, code] = v6 ? ['socket', 1] : ['ssend socket', EX_OSERR]
    if (allowed !== null && allowed.length === 0) throw new Exit(code, `${sock}: Protocol not supported`)
    const j = k.jails.find((x) => x.jid === ctx.jid)
    if (!j?.allow.includes('raw_sockets')) throw new Exit(code, `${sock}: Operation not permitted`)
  }
  if (opts.count === undefined && opts.timeout === undefined) notSimulated('ping without -c or -t (it would run until interrupted)')
  const datalen = opts.size ?? (v6 ? 8 : 56)
  const a = answer(k, ctx.jid, af, dst, allowed)
  if (v6) {
    // ping6: the source is chosen first by a UDP connect(2); no route fails there (exit 1).
    if (a.noroute) throw new Exit(1, 'UDP connect: No route to host')
    ctx.out(`PING6(${40 + 8 + datalen}=40+8+${datalen} bytes) ${a.src} --> ${dst}\n`)
  } else {
    ctx.out(`PING ${target} (${target}): ${datalen} data bytes\n`)
  }
  // Packets sent: -c N, or one a second until -t T's alarm (the one due at T is not sent).
  const sent = Math.min(opts.count ?? Number.POSITIVE_INFINITY, opts.timeout ?? Number.POSITIVE_INFINITY)
  const times: number[] = []
  const out: string[] = []
  for (let seq = 0; seq < sent; seq++) {
    // pinger: send(2) fails with no route; warn("sendto"), the packet still counted.
    if (a.noroute) ctx.err(`${prog}: sendto: No route to host\n`)
    if (!a.reply) continue
    const t = BASE_MS + HOP_MS * (a.reply.hopsThere + a.reply.hopsBack)
    times.push(t)
    if (opts.quiet) continue
    const limit = DEFTTL - a.reply.hopsBack
    const time = datalen >= 8 ? ` time=${ms(t)} ms` : ''
    ctx.out(v6
      ? `${8 + datalen} bytes from ${dst}, icmp_seq=${seq} hlim=${limit}${time}\n`
      : `${8 + datalen} bytes from ${target}: icmp_seq=${seq} ttl=${limit}${time}\n`)
  }
  const received = times.length
  out.push('', `--- ${target} ${v6 ? 'ping6' : 'ping'} statistics ---`)
  out.push(`${sent} packets transmitted, ${received} packets received, ${(((sent - received) * 100) / sent).toFixed(1)}% packet loss`)
  if (received > 0 && datalen >= 8) {
    const min = Math.min(...times)
    const max = Math.max(...times)
    const avg = times.reduce((s, x) => s + x, 0) / received
    const vari = times.reduce((s, x) => s + x * x, 0) / received - avg * avg
    // All the same here: stddev 0 (guarding sqrt against a rounding below zero).
    out.push(`round-trip min/avg/max/${v6 ? 'std-dev' : 'stddev'} = ${ms(min)}/${ms(avg)}/${ms(max)}/${ms(Math.sqrt(Math.max(0, vari)))} ms`)
  }
  ctx.out(`${out.join('\n')}\n`)
  return received > 0 ? 0 : 2
}
