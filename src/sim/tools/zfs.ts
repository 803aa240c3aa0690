// zfs(8) and zpool(8) over the simulated kernel (OpenZFS cmd/zfs/zfs_main.c texts).
import {findVisibleMount, unmountFs} from '../kernel/mounts.js'
import {getJail} from '../kernel/jails.js'
import {type Kernel, normPath, type SimDataset} from '../kernel/state.js'
import {
  availBytes, datasetAccess, datasetOrFail, findDataset, mountOfDataset, poolOf, prop, propValue, usedBytes,
  zfsClone, zfsCreate, zfsDestroy, ZfsError, zfsJail, zfsLibraryAvailable, zfsMount, zfsSet, zfsSnapshot, zfsUnjail, zfsUnmount,
} from '../kernel/zfs.js'
import {loadKernel, withKernel} from '../store.js'
import {getopt, notSimulated, type Tool, type ToolCtx, UsageError} from './common.js'

/** zfs_nicenum: exact multiples without decimals, else the most decimals that fit 5 characters. */
export function nicenum(n: number): string {
  const units = ['B', 'K', 'M', 'G', 'T', 'P', 'E']
  let i = 0
  while (i < units.length - 1 && n >= 1024 ** (i + 1)) i++
  if (i === 0) return `${n}B`
  const v = n / 1024 ** i
  const u = units[i] as string
  if (n % 1024 ** i === 0) return `${v}${u}`
  for (let p = 2; p >= 0; p--) {
    const s = `${v.toFixed(p)}${u}`
    if (s.length <= 5) return s
  }
  return `${Math.round(v)}${u}`
}

const READONLY_PROPS = new Set(['type', 'creation', 'used', 'available', 'avail', 'referenced', 'refer', 'mounted', 'origin', 'name', 'createtxg', 'guid', 'usedbydataset', 'usedbychildren', 'usedbysnapshots', 'usedbyrefreservation'])
export const ALL_PROPS = ['type', 'creation', 'used', 'available', 'referenced', 'compressratio', 'mounted', 'origin', 'mountpoint', 'canmount', 'atime', 'exec', 'setuid', 'readonly', 'jailed', 'compression', 'createtxg', 'guid', 'usedbysnapshots', 'usedbydataset', 'usedbychildren', 'usedbyrefreservation']

const ALIASES: Record<string, string> = {avail: 'available', refer: 'referenced', ratio: 'compressratio'}

interface Cell {
  value: string
  source: string
}

function cell(k: Kernel, d: SimDataset, name: string, parsable: boolean): Cell | undefined {
  const p = ALIASES[name] ?? name
  const num = (n: number): Cell => ({value: parsable ? String(n) : nicenum(n), source: '-'})
  const snap = d.type === 'snapshot'
  switch (p) {
    case 'name': return {value: d.name, source: '-'}
    case 'type': return {value: d.type, source: '-'}
    case 'creation': return {value: parsable ? String(1_760_000_000 + d.creation * 60) : new Date((1_760_000_000 + d.creation * 60) * 1000).toUTCString().replace('GMT', '').trim(), source: '-'}
    case 'used': return num(snap ? 0 : usedBytes(k, d))
    case 'available': return snap ? {value: '-', source: '-'} : num(availBytes(k, d.name))
    case 'referenced': return num(d.referenced)
    case 'compressratio': return {value: parsable ? '1.00' : '1.00x', source: '-'}
    case 'mounted': return snap ? {value: '-', source: '-'} : {value: mountOfDataset(k, d.name) ? 'yes' : 'no', source: '-'}
    case 'origin': return {value: d.origin ?? '-', source: '-'}
    case 'createtxg': return {value: String(d.createtxg), source: '-'}
    case 'guid': return {value: d.guid, source: '-'}
    case 'usedbysnapshots': case 'usedbyrefreservation': return num(0)
    case 'usedbydataset': return num(d.referenced)
    case 'usedbychildren': return num(usedBytes(k, d) - d.referenced)
    default: {
      const v = propValue(k, d, p)
      if (!v) return p.includes(':') ? {value: '-', source: '-'} : undefined
      if (snap && p === 'mountpoint') return {value: '-', source: '-'}
      return v
    }
  }
}

function selectDatasets(k: Kernel, viewer: number, names: string[], recursive: boolean, depth: number | undefined, types: string[]): SimDataset[] {
  const visible = k.datasets.filter((d) => datasetAccess(k, viewer, d.name) !== 'none').sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const typeOk = (d: SimDataset, named: boolean): boolean => types.includes('all') || types.includes(d.type) || (named && types.length === 0) || (types.length === 0 && d.type !== 'snapshot')
  if (names.length === 0) {
    return visible.filter((d) => typeOk(d, false) && (depth === undefined || d.name.split('/').length - 1 <= depth))
  }
  const out: SimDataset[] = []
  for (const n of names) {
    const d = datasetOrFail(k, viewer, n)
    if (typeOk(d, true)) out.push(d)
    if (recursive || depth !== undefined) {
      const base = d.name.split('/').length
      for (const c of visible) {
        if (!c.name.startsWith(`${d.name}/`) && !c.name.startsWith(`${d.name}@`)) continue
        if (depth !== undefined && c.name.split(/[/@]/).length - base > depth) continue
        if (typeOk(c, false)) out.push(c)
      }
    }
  }
  return out
}

function table(rows: string[][], header: string[] | undefined, scripted: boolean, rightAlign: Set<number>): string {
  if (scripted) return rows.map((r) => `${r.join('\t')}\n`).join('')
  const all = header ? [header, ...rows] : rows
  const widths = all[0]?.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length))) ?? []
  return all.map((r) => `${r.map((c, i) => {
    const w = widths[i] ?? 0
    if (i === r.length - 1) return rightAlign.has(i) ? c.padStart(w) : c
    return rightAlign.has(i) ? c.padStart(w) : c.padEnd(w)
  }).join('  ').trimEnd()}\n`).join('')
}

const usage = (text: string): never => {
  throw new UsageError(text, 2)
}

function parseProps(list: Array<[string, string]>, verb: string): Record<string, string> {
  const props: Record<string, string> = {}
  for (const [, pv] of list) {
    const eq = pv.indexOf('=')
    if (eq <= 0) usage(`missing '=' for property=value argument\nusage:\n\t${verb}\n`)
    props[pv.slice(0, eq)] = pv.slice(eq + 1)
  }
  return props
}

async function mutate(ctx: ToolCtx, fn: (k: Kernel) => void): Promise<number> {
  await withKernel(ctx.root, fn)
  return 0
}

export const zfs: Tool = async (ctx, argv) => {
  const [sub, ...rest] = argv
  const k0 = loadKernel(ctx.root)
  if (!zfsLibraryAvailable(k0, ctx.jid)) {
    ctx.err('internal error: failed to initialize ZFS library\n')
    return 1
  }
  try {
    switch (sub) {
      case 'list': {
        const o = getopt(rest, 'Hprd:o:t:', () => usage('usage:\n\tlist [-Hp] [-r|-d max] [-o property[,...]] [-s property]...\n\t    [-S property]... [-t type[,...]] [filesystem|volume|snapshot] ...\n'))
        const cols = (typeof o.flags.get('o') === 'string' ? (o.flags.get('o') as string) : 'name,used,available,referenced,mountpoint').split(',')
        const types = typeof o.flags.get('t') === 'string' ? (o.flags.get('t') as string).split(',').map((t) => (t === 'snap' ? 'snapshot' : t)) : []
        const depth = typeof o.flags.get('d') === 'string' ? Number(o.flags.get('d')) : undefined
        const ds = selectDatasets(k0, ctx.jid, o.rest, o.flags.has('r'), depth, types)
        for (const c of cols) if (!cell(k0, ds[0] ?? k0.datasets[0] as SimDataset, c, true) && !c.includes(':')) usage(`bad property list: invalid property '${c}'\n`)
        const rows = ds.map((d) => cols.map((c) => cell(k0, d, c, o.flags.has('p'))?.value ?? '-'))
        if (rows.length === 0 && o.rest.length === 0) {
          ctx.err('no datasets available\n')
          return 0
        }
        const header = cols.map((c) => (c === 'available' ? 'AVAIL' : c === 'referenced' ? 'REFER' : c.toUpperCase()))
        const right = new Set(cols.map((c, i) => (['used', 'available', 'avail', 'referenced', 'refer'].includes(c) ? i : -1)).filter((i) => i >= 0))
        ctx.out(table(rows, o.flags.has('H') ? undefined : header, o.flags.has('H'), right))
        return 0
      }
      case 'get': {
        const o = getopt(rest, 'Hprd:o:t:s:', () => usage('usage:\n\tget [-rHp] [-d max] [-o "all" | field[,...]]\n\t    [-t type[,...]] [-s source[,...]]\n\t    <"all" | property[,...]> [filesystem|volume|snapshot|bookmark] ...\n'))
        const [propArg, ...names] = o.rest
        if (propArg === undefined) usage('missing property argument\n')
        const props = propArg === 'all' ? ALL_PROPS : (propArg as string).split(',')
        const fields = typeof o.flags.get('o') === 'string' ? (o.flags.get('o') as string).split(',') : ['name', 'property', 'value', 'source']
        const depth = typeof o.flags.get('d') === 'string' ? Number(o.flags.get('d')) : undefined
        const types = typeof o.flags.get('t') === 'string' ? (o.flags.get('t') as string).split(',') : ['all']
        const ds = selectDatasets(k0, ctx.jid, names, o.flags.has('r'), depth, names.length === 0 ? [] : types)
        const rows: string[][] = []
        for (const d of ds) {
          for (const p of props) {
            const c = cell(k0, d, p, o.flags.has('p'))
            if (!c) usage(`bad property list: invalid property '${p}'\n`)
            const row: Record<string, string> = {name: d.name, property: ALIASES[p] ?? p, value: c?.value ?? '-', source: READONLY_PROPS.has(ALIASES[p] ?? p) ? '-' : (c?.source ?? '-')}
            rows.push(fields.map((f) => row[f] ?? '-'))
          }
        }
        ctx.out(table(rows, o.flags.has('H') ? undefined : fields.map((f) => f.toUpperCase()), o.flags.has('H'), new Set()))
        return 0
      }
      case 'set': {
        const assigns = rest.filter((a) => a.includes('='))
        const names = rest.filter((a) => !a.includes('='))
        if (assigns.length === 0 || names.length === 0) usage('missing arguments\nusage:\n\tset <property=value> ... <filesystem|volume|snapshot> ...\n')
        const props = parseProps(assigns.map((a) => ['o', a]), 'set <property=value> ... <filesystem|volume|snapshot> ...')
        return await mutate(ctx, (k) => {
          for (const n of names) zfsSet(k, ctx.jid, n, props)
        })
      }
      case 'create': {
        const o = getopt(rest, 'puo:sV:b:', (c) => (c === 'V' ? notSimulated('zfs create -V') : usage('usage:\n\tcreate [-Pnpuv] [-o property=value] ... <filesystem>\n')))
        if (o.flags.has('V') || o.flags.has('s')) notSimulated('zfs create -V (volumes)')
        const name = o.rest[0]
        if (!name || o.rest.length > 1) usage('missing filesystem argument\nusage:\n\tcreate [-Pnpuv] [-o property=value] ... <filesystem>\n')
        const props = parseProps(o.multi.filter(([c]) => c === 'o'), 'create [-Pnpuv] [-o property=value] ... <filesystem>')
        const noMount = o.flags.has('u')
        return await mutate(ctx, (k) => zfsCreate(k, ctx.jid, name as string, props, o.flags.has('p'), ctx.fs, noMount))
      }
      case 'destroy': {
        const o = getopt(rest, 'rfRnv', () => usage('usage:\n\tdestroy [-fnpRrv] <filesystem|volume>\n\tdestroy [-dnpRrv] <filesystem|volume>@<snap>[%<snap>][,...]\n'))
        if (o.flags.has('R') || o.flags.has('n') || o.flags.has('v')) notSimulated('zfs destroy -R/-n/-v')
        const name = o.rest[0]
        if (!name) usage('missing dataset argument\n')
        return await mutate(ctx, (k) => {
          zfsDestroy(k, ctx.jid, name as string, {recursive: o.flags.has('r'), force: o.flags.has('f')}, (m) => unmountFs(k, ctx.jid === 0 ? 0 : ctx.jid, m, o.flags.has('f')), ctx.fs)
        })
      }
      case 'snapshot': case 'snap': {
        const o = getopt(rest, 'r', () => usage('usage:\n\tsnapshot [-r] [-o property=value] ... <filesystem|volume>@<snap> ...\n'))
        if (o.flags.has('r')) notSimulated('zfs snapshot -r')
        if (o.rest.length === 0) usage('missing snapshot argument\n')
        return await mutate(ctx, (k) => {
          for (const n of o.rest) zfsSnapshot(k, ctx.jid, n, ctx.fs)
        })
      }
      case 'clone': {
        const o = getopt(rest, 'po:', () => usage('usage:\n\tclone [-p] [-o property=value] ... <snapshot> <filesystem|volume>\n'))
        const [snap, name] = o.rest
        if (!snap || !name) usage('missing source dataset argument\n')
        const props = parseProps(o.multi.filter(([c]) => c === 'o'), 'clone [-p] [-o property=value] ... <snapshot> <filesystem|volume>')
        return await mutate(ctx, (k) => zfsClone(k, ctx.jid, snap as string, name as string, props, ctx.fs))
      }
      case 'mount': {
        const o = getopt(rest, 'a', () => usage('usage:\n\tmount\n\tmount [-flvO] [-o opts] <-a | filesystem>\n'))
        if (!o.flags.has('a') && o.rest.length === 0) {
          const view = getJail(k0, ctx.jid).path
          for (const m of k0.mounts.filter((x) => x.fstype === 'zfs' && datasetAccess(k0, ctx.jid, x.dataset ?? '') !== 'none')) {
            ctx.out(`${m.dataset}\t${view === '/' ? m.on : m.on.slice(view.length) || '/'}\n`)
          }
          return 0
        }
        return await mutate(ctx, (k) => {
          if (o.flags.has('a')) {
            for (const d of k.datasets.filter((x) => x.type === 'filesystem' && datasetAccess(k, ctx.jid, x.name) === 'rw')) {
              const jailed = prop(k, d, 'jailed') === 'on'
              if (mountOfDataset(k, d.name) || prop(k, d, 'canmount') !== 'on' || (ctx.jid === 0) === jailed) continue
              if (['none', 'legacy'].includes(prop(k, d, 'mountpoint'))) continue
              zfsMount(k, ctx.jid, d.name, ctx.fs)
            }
            return
          }
          zfsMount(k, ctx.jid, o.rest[0] as string, ctx.fs)
        })
      }
      case 'unmount': case 'umount': {
        const o = getopt(rest, 'af', () => usage('usage:\n\tunmount [-fu] <-a | filesystem|mountpoint>\n'))
        const force = o.flags.has('f')
        return await mutate(ctx, (k) => {
          const targets: SimDataset[] = []
          if (o.flags.has('a')) {
            for (const m of [...k.mounts].reverse()) {
              if (m.fstype === 'zfs' && m.dataset && datasetAccess(k, ctx.jid, m.dataset) === 'rw' && (ctx.jid === 0 || prop(k, findDataset(k, m.dataset) as SimDataset, 'jailed') === 'on')) {
                if (ctx.jid === 0 && m.on === '/') continue
                targets.push(findDataset(k, m.dataset) as SimDataset)
              }
            }
          } else {
            const arg = o.rest[0]
            if (!arg) usage('missing filesystem argument\n')
            const byPath = (arg as string).startsWith('/') ? findVisibleMount(k, ctx.jid, normPath(arg as string)) : undefined
            if ((arg as string).startsWith('/') && (!byPath || byPath.fstype !== 'zfs')) throw new ZfsError(`cannot unmount '${arg}': not a ZFS filesystem`)
            targets.push(byPath ? (findDataset(k, byPath.dataset ?? '') as SimDataset) : datasetOrFail(k, ctx.jid, arg as string))
          }
          for (const d of targets) zfsUnmount(k, ctx.jid, d, (m) => unmountFs(k, ctx.jid, m, force))
        })
      }
      case 'jail': case 'unjail': {
        const [jailKey, name] = rest
        if (!jailKey || !name || rest.length !== 2) usage(`usage:\n\t${sub} <jailid|jailname> <filesystem>\n`)
        return await mutate(ctx, (k) => (sub === 'jail' ? zfsJail : zfsUnjail)(k, ctx.jid, jailKey as string, name as string))
      }
      case undefined:
        throw new UsageError('usage: zfs command args ...\nwhere \'command\' is one of the following:\n', 2)
      default:
        return notSimulated(`zfs ${sub}`)
    }
  } catch (error) {
    if (error instanceof ZfsError) {
      ctx.err(`${error.message}\n`)
      return error.exit
    }
    throw error
  }
}

export const zpool: Tool = async (ctx, argv) => {
  const [sub, ...rest] = argv
  if (sub !== 'list') return notSimulated(`zpool ${sub ?? ''}`.trim())
  const k = loadKernel(ctx.root)
  if (!zfsLibraryAvailable(k, ctx.jid)) {
    ctx.err('internal error: failed to initialize ZFS library\n')
    return 1
  }
  const o = getopt(rest, 'Hpo:', () => usage('usage:\n\tlist [-gHLpPv] [-o property[,...]] [-T d|u] [pool] ... [interval [count]]\n'))
  const cols = typeof o.flags.get('o') === 'string' ? (o.flags.get('o') as string).split(',') : ['name', 'size', 'alloc', 'free', 'ckpoint', 'expandsz', 'frag', 'cap', 'dedup', 'health', 'altroot']
  const pools = o.rest.length === 0 ? k.pools : o.rest.map((n) => {
    const p = poolOf(k, n)
    if (!p) throw new UsageError(`cannot open '${n}': no such pool\n`, 1)
    return p
  })
  const p2 = o.flags.has('p')
  const rows = pools.map((p) => {
    const alloc = k.datasets.filter((d) => d.name.split(/[/@]/)[0] === p.name).reduce((n, d) => n + d.referenced, 0)
    const v: Record<string, string> = {
      name: p.name, size: p2 ? String(p.size) : nicenum(p.size), alloc: p2 ? String(alloc) : nicenum(alloc),
      free: p2 ? String(p.size - alloc) : nicenum(p.size - alloc), ckpoint: '-', expandsz: '-', frag: p2 ? '0' : '0%',
      cap: p2 ? String(Math.floor((alloc * 100) / p.size)) : `${Math.floor((alloc * 100) / p.size)}%`, dedup: p2 ? '1.00' : '1.00x',
      health: 'ONLINE', altroot: '-', guid: p.guid,
    }
    return cols.map((c) => v[c] ?? '-')
  })
  ctx.out(table(rows, o.flags.has('H') ? undefined : cols.map((c) => c.toUpperCase()), o.flags.has('H'), new Set(cols.map((c, i) => (['size', 'alloc', 'free', 'frag', 'cap', 'dedup'].includes(c) ? i : -1)).filter((i) => i >= 0))))
  return 0
}
