// route(8) over the per-vnet routing tables (kernel/route.ts), after sbin/route/route.c of
// FreeBSD 14 (read in the 14 vendor copy sobomax/freebsd14_vendor @0f7ff342, `$FreeBSD:
// 51a0c687 $`: main, newroute, getaddr, prefixlen, rtmsg, print_getmsg, routename, printb).
// With one fib (net.fibs=1, net.my_fibnum=0, as a GENERIC kernel boots) a success prints
// `add net default: gateway 192.0.2.1`, a failure `... fib 0: <why>` on stdout, after rtmsg's
// own warning on stderr for the errors it reports itself. Only add, delete and get of a
// destination (default, an address, address/len, -prefixlen) are modelled; the rest is refused.
import {isIPv4, isIPv6} from 'node:net'

import {checkNetPriv, ifunit, vnetOf} from '../kernel/ifnet.js'
import {type Af, canon6, routeAdd, routeDelete, routeLookup, type SimRoute} from '../kernel/route.js'
import {type Kernel, SysError} from '../kernel/state.js'
import {loadKernel, withKernel} from '../store.js'
import {getopt, notSimulated, strerror, type Tool, type ToolCtx} from './common.js'

/** sysexits.h */
const EX_USAGE = 64
const EX_DATAERR = 65
const EX_NOHOST = 68

/** route.c usage(): errx(EX_USAGE, ...), after `bad keyword: %s` when a word was not known. */
class Usage extends Error {
  constructor(readonly bad?: string) {
    super(bad ?? 'usage')
  }
}
/** errx(code, text): one line on stderr, that exit status. */
class Errx extends Error {
  constructor(readonly text: string, readonly code: number) {
    super(text)
  }
}

/** keywords.h words route(8) knows; those not modelled here are refused, the rest are `bad keyword`. */
const KNOWN_UNMODELLED = new Set([
  '4', '6', 'link', 'sa', 'nostatic', 'lock', 'lockrest', 'proto1', 'proto2', 'proxy', 'xresolve', 'sticky', 'nostick',
  'fib', 'ifa', 'ifp', 'genmask', 'gateway', 'dst', 'netmask', 'mtu', 'hopcount', 'expire', 'recvpipe', 'sendpipe',
  'ssthresh', 'rtt', 'rttvar', 'weight', 'llinfo', 'cloning',
])

interface Request {
  cmd: 'add' | 'delete' | 'get'
  word: string
  af: Af
  dest: string
  /** The destination as an address and prefix length (default: the unspecified address, 0). */
  addr: string
  plen: number
  host: boolean
  gateway?: string
  iface: boolean
  reject: boolean
  blackhole: boolean
}

/** getaddr(RTAX_DST): `default`, A.B.C.D[/len] or an inet6 literal[/len]; a host name is not resolved here. */
function parseDest(af: Af, word: string): {addr: string; plen: number; host: boolean} {
  if (word === 'default') return {addr: af === 'inet' ? '0.0.0.0' : '::', plen: 0, host: false}
  const slash = word.indexOf('/')
  const host = slash < 0 ? word : word.slice(0, slash)
  if (af === 'inet6') {
    if (host.includes('%')) notSimulated('route with a scoped inet6 address')
    if (!isIPv6(host)) notSimulated(`route with the inet6 host name ${host} (getaddrinfo)`)
    const a = canon6(host)
    // inet6_makenetandmask: no length (and not ::) or 128 is a host; else a net of that length.
    if (slash < 0) return a === '::' ? {addr: a, plen: 0, host: false} : {addr: a, plen: 128, host: true}
    const len = word.slice(slash + 1)
    const n = Number.parseInt(len, 10)
    if (!/^[0-9]+$/.test(len) || n > 128) throw new Errx(`${len}: invalid prefixlen`, EX_USAGE)
    return {addr: a, plen: n, host: n === 128}
  }
  if (slash >= 0) {
    // A.B.C.D/NUM: inet_aton, then strtol of the length (0..32), a net.
    if (!isIPv4(host)) throw new Errx(`bad address: ${host}`, EX_NOHOST)
    const n = Number.parseInt(word.slice(slash + 1), 10)
    if (Number.isNaN(n) || n < 0 || n > 32) throw new Errx(`bad mask length: ${word.slice(slash + 1)}`, EX_NOHOST)
    return {addr: host, plen: n, host: false}
  }
  // inet_aton accepts short forms too (10.1); only a dotted quad is modelled.
  if (isIPv4(word)) return {addr: word, plen: 32, host: true}
  if (/^[0-9.]+$/.test(word) || /^0x/i.test(word)) notSimulated(`route with the inet_aton short form ${word}`)
  if (isIPv6(word)) throw new Errx(`bad address: ${word}`, EX_NOHOST)
  return notSimulated(`route with the host name ${word} (gethostbyname)`)
}

function parse(argv: string[], af0: Af | undefined): Request {
  const word = argv[0] as string
  const cmd = word === 'add' ? 'add' : word === 'delete' || word === 'del' ? 'delete' : 'get'
  let af: Af | undefined = af0
  let dest: string | undefined
  let gateway: string | undefined
  let iface = false
  let forceHost = false
  let forceNet = false
  let prefixLen: number | undefined
  let reject = false
  let blackhole = false
  let parsed: {addr: string; plen: number; host: boolean} | undefined
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i] as string
    if (a.startsWith('-')) {
      const key = a.slice(1)
      if (key === 'inet' || key === '4') af = 'inet'
      else if (key === 'inet6' || key === '6') af = 'inet6'
      else if (key === 'iface' || key === 'interface') iface = true
      else if (key === 'host') forceHost = true
      else if (key === 'net') forceNet = true
      else if (key === 'reject') reject = true
      else if (key === 'blackhole') blackhole = true
      else if (key === 'static') continue
      else if (key === 'prefixlen') {
        const v = argv[++i]
        if (v === undefined) throw new Usage()
        const max = (af ?? 'inet') === 'inet' ? 32 : 128
        const n = Number.parseInt(v, 10)
        // prefixlen(): atoi, then `%s: invalid prefixlen` outside 0..max; max itself is a host.
        if (Number.isNaN(n) || n < 0 || n > max) throw new Errx(`${v}: invalid prefixlen`, EX_USAGE)
        prefixLen = n
      } else if (KNOWN_UNMODELLED.has(key)) notSimulated(`route -${key}`)
      else throw new Usage(key)
    } else if (dest === undefined) {
      dest = a
      parsed = parseDest(af ?? 'inet', a)
    } else if (gateway === undefined) {
      gateway = a
    } else {
      notSimulated('route with a netmask operand')
    }
  }
  if (dest === undefined || parsed === undefined) {
    throw new Errx('destination parameter required', -1)
  }
  const fam = af ?? 'inet'
  if (gateway !== undefined && !iface && fam === 'inet' && !isIPv4(gateway)) {
    // getaddr(RTAX_GATEWAY): inet_aton, then gethostbyname.
    if (isIPv6(gateway)) throw new Errx(`bad address: ${gateway}`, EX_NOHOST)
    notSimulated(`route with the gateway host name ${gateway} (gethostbyname)`)
  }
  const addr = parsed.addr
  let {plen, host} = parsed
  if (prefixLen !== undefined) {
    plen = prefixLen
    host = prefixLen === (fam === 'inet' ? 32 : 128)
  }
  if (forceHost) host = true
  if (forceNet) host = false
  if (host) plen = fam === 'inet' ? 32 : 128
  return {cmd, word, af: fam, dest, addr, plen, host, ...(gateway === undefined ? {} : {gateway}), iface, reject, blackhole}
}

/** printb(flags, routeflags): `<UP,GATEWAY,...>` in bit order. */
function flagText(r: SimRoute): string {
  const names: string[] = ['UP']
  if (r.gateway !== undefined) names.push('GATEWAY')
  if (r.host) names.push('HOST')
  if (r.reject) names.push('REJECT')
  // RTF_DONE is set on every reply the kernel writes back (rtsock.c).
  names.push('DONE', 'STATIC')
  if (r.blackhole) names.push('BLACKHOLE')
  return `<${names.join(',')}>`
}

/** routename(): the zero address is `default` unless -n; addresses numeric (no reverse names here). */
function routename(af: Af, addr: string, nflag: boolean): string {
  const zero = af === 'inet' ? addr === '0.0.0.0' : addr === '::'
  return zero && !nflag ? 'default' : addr
}

function maskText(af: Af, plen: number, nflag: boolean): string {
  if (af === 'inet') {
    const m = plen === 0 ? 0 : (0xffffffff << (32 - plen)) >>> 0
    return routename(af, [24, 16, 8, 0].map((s) => (m >>> s) & 0xff).join('.'), nflag)
  }
  const groups: string[] = []
  for (let g = 0; g < 8; g++) {
    const bits = Math.max(0, Math.min(16, plen - g * 16))
    groups.push(((0xffff << (16 - bits)) & 0xffff).toString(16))
  }
  return routename(af, canon6(groups.join(':')), nflag)
}

/** print_getmsg, for a static route (the flags of the routes addresses bring were not confirmed). */
function printGet(k: Kernel, req: Request, r: SimRoute, nflag: boolean): string {
  const ifp = k.ifnets.find((i) => i.index === r.ifindex)
  const lines = [`   route to: ${routename(req.af, req.addr, nflag)}`, `destination: ${routename(r.af, r.dst, nflag)}`]
  if (!r.host) lines.push(`       mask: ${maskText(r.af, r.plen, nflag)}`)
  if (r.gateway !== undefined) lines.push(`    gateway: ${r.gateway}`)
  lines.push('        fib: 0')
  if (ifp) lines.push(`  interface: ${ifp.name}`)
  lines.push(`      flags: ${flagText(r)}`)
  const head = [['recvpipe', 9], ['sendpipe', 9], ['ssthresh', 9], ['rtt,msec', 9], ['mtu   ', 9], ['weight', 10], ['expire', 9]] as const
  lines.push(head.map(([t, w]) => t.padStart(w)).join(' '))
  // rt_metrics of the reply: the interface's MTU, the default weight (RT_DEFAULT_WEIGHT 1), no expiry.
  const vals = [0, 0, 0, 0, ifp?.mtu ?? 0, 1]
  lines.push(`${vals.map((v) => `${String(v).padStart(8)}  `).join('')}${'0'.padStart(8)} `)
  return `${lines.join('\n')}\n`
}

export const route: Tool = async (ctx, argv) => {
  // main(): getopt "46nqdtv".
  let af: Af | undefined
  try {
    if (argv.length < 1) throw new Usage()
    const o = getopt(argv, '46nqdtv', (c) => {
      ctx.err(`route: illegal option -- ${c}\n`)
      throw new Usage()
    })
    for (const c of ['d', 't', 'v']) if (o.flags.has(c)) notSimulated(`route -${c}`)
    // The last of -4 and -6 on the line wins (each sets af as getopt returns it).
    for (const a of argv.slice(0, argv.length - o.rest.length)) for (const c of a.slice(1)) if (c === '4' || c === '6') af = c === '4' ? 'inet' : 'inet6'
    const nflag = o.flags.has('n')
    const qflag = o.flags.has('q')
    const rest = o.rest
    const cmd = rest[0]
    if (cmd === undefined) throw new Usage()
    if (['change', 'monitor', 'flush'].includes(cmd)) notSimulated(`route ${cmd}`)
    if (!['add', 'delete', 'del', 'get', 'show'].includes(cmd)) throw new Usage(cmd)
    const req = parse(rest, af)
    return await run(ctx, req, nflag, qflag)
  } catch (error) {
    if (error instanceof Usage) {
      if (error.bad !== undefined) ctx.err(`route: bad keyword: ${error.bad}\n`)
      ctx.err('route: usage: route [-46dnqtv] command [[modifiers] args]\n')
      return EX_USAGE
    }
    if (error instanceof Errx) {
      ctx.err(`route: ${error.text}\n`)
      if (error.code === -1) {
        // warnx("destination parameter required"); usage(NULL).
        ctx.err('route: usage: route [-46dnqtv] command [[modifiers] args]\n')
        return EX_USAGE
      }
      return error.code
    }
    throw error
  }
}

async function run(ctx: ToolCtx, req: Request, nflag: boolean, qflag: boolean): Promise<number> {
  const k0 = loadKernel(ctx.root)
  const vnet = vnetOf(k0, ctx.jid)
  if (req.cmd === 'get') {
    if (req.gateway !== undefined) notSimulated('route get with a gateway')
    // RTM_GET: the best route to the address (a net destination: to that network).
    const found = routeLookup(k0, vnet, req.af, req.addr)
    if (!found) {
      // rtmsg: write fails ESRCH → warnx; newroute exits with the -1 it summed (255).
      ctx.err('route: route has not been found\n')
      return 255
    }
    if (found.kind === 'connected') notSimulated('route get of a route an interface address brings (its flags were not confirmed)')
    ctx.out(printGet(k0, req, found.route as SimRoute, nflag))
    return 0
  }
  if (req.iface && req.gateway !== undefined && !ifunit(k0, vnet, req.gateway)) {
    // getaddr(RTAX_GATEWAY) with -iface: getifaddrs finds no link address of that name.
    throw new Errx(`interface '${req.gateway}' does not exist`, EX_DATAERR)
  }
  if (req.cmd === 'add' && req.gateway === undefined) notSimulated('route add without a gateway')
  let errno: SysError['errno'] | undefined
  try {
    await withKernel(ctx.root, (k) => {
      checkNetPriv(k, ctx.jid)
      if (req.cmd === 'delete') {
        routeDelete(k, vnet, req.af, req.addr, req.plen)
        return
      }
      const ifp = req.iface ? ifunit(k, vnet, req.gateway as string) : undefined
      routeAdd(k, {
        vnet, af: req.af, dst: req.addr, plen: req.plen, host: req.host,
        ...(req.iface ? {} : {gateway: req.af === 'inet6' ? canonGateway(req.gateway as string) : req.gateway as string}),
        ...(req.reject ? {reject: true} : {}), ...(req.blackhole ? {blackhole: true} : {}),
      }, ifp)
    })
  } catch (error) {
    if (!(error instanceof SysError)) throw error
    errno = error.errno
  }
  const what = `${req.word} ${req.host ? 'host' : 'net'} ${req.dest}${req.gateway === undefined ? '' : `: gateway ${req.gateway}`}`
  if (errno === undefined) {
    if (!qflag) ctx.out(`${what}\n`)
    return 0
  }
  // rtmsg: EPERM is fatal (err), ESRCH a warnx, EEXIST left to newroute, others warn().
  if (errno === 'EPERM') {
    ctx.err('route: writing to routing socket: Operation not permitted\n')
    return 1
  }
  if (errno === 'ESRCH') ctx.err('route: route has not been found\n')
  else if (errno !== 'EEXIST') ctx.err(`route: writing to routing socket: ${strerror(new SysError(errno))}\n`)
  const why = errno === 'ESRCH' ? 'not in table' : errno === 'EBUSY' ? 'entry in use' : errno === 'EEXIST' ? 'route already in table' : strerror(new SysError(errno))
  if (!qflag) ctx.out(`${what} fib 0: ${why}\n`)
  return 1
}

function canonGateway(g: string): string {
  if (g.includes('%')) notSimulated('route with a scoped inet6 gateway')
  if (!isIPv6(g)) notSimulated(`route with the inet6 gateway name ${g}`)
  return canon6(g)
}
