// jls(8) (usr.sbin/jls/jls.c): the default table, -N, -v, -n, -s, -h, -d, -j, parameter
// lists and --libxo json; run in a jail it lists that jail's descendants with relative names.
import {KERNEL_PARAMS} from '../../jailconf/params.js'
import {descendants, getJail, lookupJail, nameFor, parentFor} from '../kernel/jails.js'
import {type Kernel, type SimJail, viewPath} from '../kernel/state.js'
import {loadKernel} from '../store.js'
import {getopt, notSimulated, type Tool, UsageError} from './common.js'

type PValue = number | boolean | string | string[]

const USAGE = 'usage: jls [-dhNnqv] [-j jail] [param ...]\n'

/** `all`: top-level names sorted first, then dotted ones alphabetically (jls.c sort_param). */
const ALL_PARAMS = [...KERNEL_PARAMS.keys()].sort((a, b) => {
  const da = a.includes('.')
  const db = b.includes('.')
  // strcmp, as jls.c does (localeCompare would also cost ~10 ms of ICU set-up per process).
  return da === db ? (a < b ? -1 : a > b ? 1 : 0) : da ? 1 : -1
})

export function jailParam(k: Kernel, viewer: number, j: SimJail, name: string): PValue | undefined {
  switch (name) {
    case 'jid': return j.jid
    case 'name': return nameFor(k, viewer, j)
    case 'parent': return parentFor(viewer, j)
    case 'path': return viewPath(getJail(k, viewer).path, j.path)
    case 'securelevel': return j.securelevel
    case 'enforce_statfs': return j.enforceStatfs
    case 'devfs_ruleset': return j.devfsRuleset
    case 'children.max': return j.childrenMax
    case 'children.cur': return j.childrenCur
    case 'cpuset.id': return j.cpusetId
    case 'persist': return j.persist
    case 'dying': return j.state === 'DYING'
    case 'host': return j.host.mode
    case 'host.hostname': return j.host.hostname
    case 'host.domainname': return j.host.domainname
    case 'host.hostuuid': return j.host.hostuuid
    case 'host.hostid': return j.host.hostid
    case 'osrelease': return j.osrelease
    case 'osreldate': return j.osreldate
    case 'ip4': return j.ip4.mode
    case 'ip4.addr': return j.ip4.addrs
    case 'ip4.saddrsel': return true
    case 'ip6': return j.ip6.mode
    case 'ip6.addr': return j.ip6.addrs
    case 'ip6.saddrsel': return true
    case 'vnet': return j.vnet
    case 'sysvmsg': return j.sysvmsg
    case 'sysvsem': return j.sysvsem
    case 'sysvshm': return j.sysvshm
    case 'zfs.mount_snapshot': return j.zfsMountSnapshot
    default:
      if (name.startsWith('allow.') && KERNEL_PARAMS.has(name)) return j.allow.includes(name.slice('allow.'.length))
      return undefined
  }
}

/** jls.c quoted_print: empty strings as "", others quoted only when they hold blanks or quotes. */
function quoted(v: string): string {
  if (v === '') return '""'
  const qc = v.includes("'") ? '"' : v.includes('"') ? "'" : /[ \t]/.test(v) ? '"' : ''
  return qc ? `${qc}${v}${qc}` : v
}

function textValue(v: PValue, quote: boolean): string {
  if (Array.isArray(v)) return v.join(',')
  if (typeof v === 'boolean') return v ? 'true' : 'false'
  const s = String(v)
  if (s === '') return '""'
  return quote ? quoted(s) : s
}

const pad = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length))
const lpad = (s: string, n: number): string => (s.length >= n ? s : ' '.repeat(n - s.length) + s)

function xoString(s: string): string {
  return JSON.stringify(s)
}

/**
 * A libxo list of leaf values (jls.c emit_ip_addr_list: xo_open_list, then `{ql:...}` per
 * address). libxo.c xo_do_open_list writes `"name": [` after `, ` (the frame's earlier member);
 * each leaf after the first is preceded by xo_format_prep's bare `,`, with no blank (a real
 * `jls --libxo json -v`: `"ipv4_addrs": ["172.17.0.1","172.17.0.2"]`).
 */
function xoList(v: string[]): string {
  return `[${v.map(xoString).join(',')}]`
}

export const jls: Tool = async (ctx, argv) => {
  let libxo: string | undefined
  const args: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string
    if (a === '--libxo') libxo = argv[++i]
    else if (a.startsWith('--libxo=')) libxo = a.slice('--libxo='.length)
    else if (a.startsWith('--libxo:')) notSimulated(`jls ${a}`)
    else args.push(a)
  }
  if (libxo !== undefined && !/^(json|text)(,pretty)?$/.test(libxo)) notSimulated(`jls --libxo ${libxo}`)
  const json = libxo?.startsWith('json') === true
  const pretty = libxo?.includes('pretty') === true
  const o = getopt(args, 'adj:hNnqsv', () => {
    throw new UsageError(USAGE)
  })
  const f = o.flags
  const dying = f.has('d') || f.has('a')
  const k = loadKernel(ctx.root)
  let jails = descendants(k, ctx.jid).filter((j) => dying || j.state === 'ALIVE')
  const sel = f.get('j')
  if (typeof sel === 'string') {
    try {
      const j = lookupJail(k, ctx.jid, sel, {dying})
      jails = [j]
    } catch (error) {
      ctx.err(`jls: ${(error as Error).message}\n`)
      return 1
    }
  }
  const quote = f.has('q') || f.has('s')
  let params = o.rest
  const nameval = f.has('n') || f.has('s')
  if ((nameval || f.has('h')) && params.length === 0) params = ['all']
  if (params.includes('all')) params = params.flatMap((p) => (p === 'all' ? ALL_PARAMS : [p]))
  for (const p of params) {
    if (!KERNEL_PARAMS.has(p)) {
      ctx.err(`jls: unknown parameter: ${p}\n`)
      return 1
    }
  }
  if (f.has('s')) {
    // Writable (or create-only) parameters only, ready for `jail -c`; jailsys children of a non-`new` parent dropped.
    params = params.filter((p) => !KERNEL_PARAMS.get(p)?.readOnly)
  }
  const rows: string[] = []
  const objs: string[] = []
  const vals = (j: SimJail): Array<[string, PValue]> => {
    const list = params.map((p): [string, PValue] => [p, jailParam(k, ctx.jid, j, p) ?? ''])
    if (!f.has('s')) return list
    return list.filter(([p]) => {
      const parent = p.slice(0, p.lastIndexOf('.'))
      const pv = list.find(([n]) => n === parent)?.[1]
      return !(KERNEL_PARAMS.get(parent)?.type === 'jailsys' && pv !== 'new')
    })
  }
  if (params.length > 0) {
    if (f.has('h') && !json) rows.push(params.join(' '))
    for (const j of jails) {
      const list = vals(j)
      if (json) {
        objs.push(`{${list.map(([n, v], i) => (Array.isArray(v) ? `${i === 0 ? '' : ', '}${xoString(n)}: ${xoList(v)}` : `${i === 0 ? '' : ','}${xoString(n)}:${typeof v === 'boolean' ? String(v) : xoString(String(v))}`)).join('')}}`)
        continue
      }
      rows.push(list.map(([n, v]) => {
        if (!nameval) return textValue(v, quote)
        if (typeof v === 'boolean') {
          const dot = n.lastIndexOf('.')
          return v ? n : `${n.slice(0, dot + 1)}no${n.slice(dot + 1)}`
        }
        if (Array.isArray(v)) return `${n}=${v.join(',')}`
        const s = String(v)
        if (s === '') return quote ? `${n}=""` : `${n}=`
        return `${n}=${quote ? quoted(s) : s}`
      }).join(' '))
    }
  } else if (f.has('v')) {
    if (!json) rows.push('   JID  Hostname                      Path', '        Name                          State', '        CPUSetID', '        IP Address(es)')
    for (const j of jails) {
      const path = viewPath(getJail(k, ctx.jid).path, j.path)
      const name = nameFor(k, ctx.jid, j)
      if (json) {
        objs.push(`{"jid":${j.jid},"hostname":${xoString(j.host.hostname)},"path":${xoString(path)},"name":${xoString(name)},"state":"${j.state === 'ALIVE' ? 'ACTIVE' : 'DYING'}","cpusetid":${j.cpusetId}, "ipv4_addrs": ${xoList(j.ip4.addrs)}, "ipv6_addrs": ${xoList(j.ip6.addrs)}}`)
        continue
      }
      rows.push(`${lpad(String(j.jid), 6)}  ${pad(j.host.hostname.slice(0, 29), 29)} ${path.slice(0, 74)}`)
      rows.push(`        ${pad(name.slice(0, 29), 29)} ${j.state === 'ALIVE' ? 'ACTIVE' : 'DYING'}`)
      rows.push(`        ${j.cpusetId}`)
      for (const a of [...j.ip4.addrs, ...j.ip6.addrs]) rows.push(`        ${a}`)
    }
  } else {
    const byName = f.has('N')
    if (!json) rows.push(byName ? ' JID             IP Address      Hostname                      Path' : '   JID  IP Address      Hostname                      Path')
    for (const j of jails) {
      const path = viewPath(getJail(k, ctx.jid).path, j.path)
      const ip = j.ip4.addrs[0] ?? ''
      if (json) {
        const id = byName ? `"name":${xoString(nameFor(k, ctx.jid, j))}` : `"jid":${j.jid}`
        objs.push(`{${id},"ipv4":${xoString(ip)},"hostname":${xoString(j.host.hostname)},"path":${xoString(path)}}`)
        continue
      }
      // jls.c print_jail: `{P: }{:name/%-15s/%s}{P: }` (a name is padded, never cut, and a blank
      // always follows it) or `{:jid/%6d}{P:  }`; then `%-15.15s %-29.29s %.74s`.
      const head = byName ? ` ${pad(nameFor(k, ctx.jid, j), 15)} ` : `${lpad(String(j.jid), 6)}  `
      rows.push(`${head}${pad(ip.slice(0, 15), 15)} ${pad(j.host.hostname.slice(0, 29), 29)} ${path.slice(0, 74)}`)
    }
  }
  if (json) {
    if (pretty) {
      const doc = {__version: '2', 'jail-information': {jail: objs.map((s) => JSON.parse(s) as unknown)}}
      ctx.out(`${JSON.stringify(doc, null, 2)}\n`)
    } else {
      ctx.out(`{"__version": "2", "jail-information": {"jail": [${objs.join(', ')}]}}\n`)
    }
    return 0
  }
  for (const r of rows) ctx.out(`${r}\n`)
  return 0
}
