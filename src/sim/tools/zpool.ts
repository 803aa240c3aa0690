// zpool(8) over the simulated kernel (OpenZFS 2.2.7 cmd/zpool/zpool_main.c): list, get, and
// import/export of guest pools (kernel/zpool.ts).
import {unmountFs} from '../kernel/mounts.js'
import type {Kernel, SimPool} from '../kernel/state.js'
import {poolOf, zfsLibraryAvailable} from '../kernel/zfs.js'
import {findCandidates, showImport, zpoolExport, ZpoolError, zpoolImport} from '../kernel/zpool.js'
import {loadKernel, withKernel} from '../store.js'
import {getopt, notSimulated, type Tool, type ToolCtx, UsageError} from './common.js'
import {nicebytes} from './zfs.js'

const usage = (text: string): never => {
  throw new UsageError(text, 2)
}

/** zpool list's table (its own widths, not checked against cmd/zpool here). */
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

/** A pool property's value and source as `zpool get` reports it (zpool_get_prop), for those modelled. */
function poolProp(k: Kernel, p: SimPool, name: string, literal: boolean): {value: string; source: string} | undefined {
  const g = p.guest
  switch (name) {
    case 'name': return {value: p.name, source: '-'}
    case 'guid': return {value: p.guid, source: '-'}
    case 'size': return {value: literal ? String(p.size) : nicebytes(p.size), source: '-'}
    case 'health': return {value: 'ONLINE', source: '-'}
    // The bootfs names a dataset with the in-core pool name (zpool_get_prop reads the dataset's name: **source-derived**).
    case 'bootfs': {
      if (!g) return {value: `${p.name}/ROOT/default`, source: 'local'}
      const rel = (k.disks.find((d) => d.id === g.disk)?.parts.find((x) => x.index === g.index)?.pool?.bootfs)
      return rel === undefined ? {value: '-', source: 'default'} : {value: `${p.name}/${rel}`, source: 'local'}
    }
    case 'altroot': return g?.altroot === undefined ? {value: '-', source: 'default'} : {value: g.altroot, source: 'local'}
    case 'cachefile': return g?.cachefile === undefined ? {value: '-', source: 'default'} : {value: g.cachefile, source: 'local'}
    case 'readonly': return {value: g?.readonly ? 'on' : 'off', source: '-'}
    default: return undefined
  }
}

function zpoolList(k: Kernel, ctx: ToolCtx, rest: string[]): number {
  const o = getopt(rest, 'Hpo:', () => usage('usage:\n\tlist [-gHLpPv] [-o property[,...]] [-T d|u] [pool] ... [interval [count]]\n'))
  const cols = typeof o.flags.get('o') === 'string' ? (o.flags.get('o') as string).split(',') : ['name', 'size', 'alloc', 'free', 'ckpoint', 'expandsz', 'frag', 'cap', 'dedup', 'health', 'altroot']
  const pools = o.rest.length === 0 ? k.pools : o.rest.map((n) => {
    const p = poolOf(k, n)
    if (!p) throw new UsageError(`cannot open '${n}': no such pool\n`, 1)
    return p
  })
  const p2 = o.flags.has('p')
  const rows = pools.map((p) => {
    const alloc = k.datasets.filter((d) => d.type !== 'snapshot' && d.name.split(/[/@]/)[0] === p.name).reduce((n, d) => n + d.referenced, 0)
    const v: Record<string, string> = {
      name: p.name, size: p2 ? String(p.size) : nicebytes(p.size), alloc: p2 ? String(alloc) : nicebytes(alloc),
      free: p2 ? String(p.size - alloc) : nicebytes(p.size - alloc), ckpoint: '-', expandsz: '-', frag: p2 ? '0' : '0%',
      cap: p2 ? String(Math.floor((alloc * 100) / p.size)) : `${Math.floor((alloc * 100) / p.size)}%`, dedup: p2 ? '1.00' : '1.00x',
      health: 'ONLINE', altroot: p.guest?.altroot ?? '-', guid: p.guid,
    }
    return cols.map((c) => v[c] ?? '-')
  })
  ctx.out(table(rows, o.flags.has('H') ? undefined : cols.map((c) => c.toUpperCase()), o.flags.has('H'), new Set(cols.map((c, i) => (['size', 'alloc', 'free', 'frag', 'cap', 'dedup'].includes(c) ? i : -1)).filter((i) => i >= 0))))
  return 0
}

/** zpool get [-Hp] [-o field[,...]] property[,...] [pool]...: name, property, value, source. */
function zpoolGet(k: Kernel, ctx: ToolCtx, rest: string[]): number {
  const o = getopt(rest, 'Hpo:', () => usage('usage:\n\tget [-Hp] [-o "all" | field[,...]] <"all" | property[,...]> <pool> ...\n'))
  const fields = typeof o.flags.get('o') === 'string' ? (o.flags.get('o') as string).split(',') : ['name', 'property', 'value', 'source']
  for (const f of fields) if (!['name', 'property', 'value', 'source'].includes(f)) notSimulated(`zpool get -o ${f}`)
  const [props, ...names] = o.rest
  if (!props) usage('missing property argument\n')
  const pools = names.length === 0 ? k.pools : names.map((n) => {
    const p = k.pools.find((x) => x.name === n)
    if (!p) throw new UsageError(`cannot open '${n}': no such pool\n`, 1)
    return p
  })
  const rows: string[][] = []
  for (const p of pools) {
    for (const name of (props as string).split(',')) {
      const v = poolProp(k, p, name, o.flags.has('p'))
      if (!v) notSimulated(`zpool get ${name}`)
      const cells: Record<string, string> = {name: p.name, property: name, value: v?.value ?? '-', source: v?.source ?? '-'}
      rows.push(fields.map((f) => cells[f] as string))
    }
  }
  // Without -H: the header and padded columns (widths not checked against zprop_print_one_property).
  ctx.out(table(rows, o.flags.has('H') ? undefined : fields.map((f) => f.toUpperCase()), o.flags.has('H'), new Set()))
  return 0
}

async function zpoolImportCmd(ctx: ToolCtx, rest: string[]): Promise<number> {
  const o = getopt(rest, 'aCc:d:DEfFlmnNo:R:stT:VX', (c) => usage(`invalid option '${c}'\nusage:\n\timport [-d dir] [-D]\n\timport [-o mntopts] [-o property=value] ...\n\t    [-d dir | -c cachefile] [-D] [-l] [-f] [-m] [-N] [-R root] [-F [-n]] -a\n\timport [-o mntopts] [-o property=value] ...\n\t    [-d dir | -c cachefile] [-D] [-l] [-f] [-m] [-N] [-R root] [-F [-n]]\n\t    [--rewind-to-checkpoint] <pool | id> [newpool]\n`))
  for (const c of ['a', 'C', 'c', 'D', 'E', 'F', 'l', 'm', 'n', 's', 'T', 'V', 'X']) if (o.flags.has(c)) notSimulated(`zpool import -${c}`)
  if (ctx.jid !== 0) notSimulated('zpool import inside a jail')
  const devs = o.multi.filter(([c]) => c === 'd').map(([, v]) => v)
  if (devs.length === 0) notSimulated('zpool import without -d (a scan of all devices)')
  let readonly = false
  for (const [c, v] of o.multi) {
    if (c !== 'o') continue
    if (v === 'readonly=on') readonly = true
    else if (v !== 'readonly=off') notSimulated(`zpool import -o ${v}`)
  }
  if (o.rest.length > 2) usage('too many arguments\n')
  const [target, newName] = o.rest
  const k0 = loadKernel(ctx.root)
  if (target === undefined) {
    const found = findCandidates(k0, devs, (p) => ctx.fs.isDir(p), notSimulated)
    // import_pools: a blank line between pools; none found is said on stderr (status 0).
    if (found.length === 0) ctx.err('no pools available to import\n')
    ctx.out(found.map((c) => showImport(k0, c)).join('\n'))
    return 0
  }
  await withKernel(ctx.root, (k) => zpoolImport(k, {
    devs, force: o.flags.has('f'), noMount: o.flags.has('N'), temporary: o.flags.has('t'), readonly, target,
    ...(typeof o.flags.get('R') === 'string' ? {altroot: o.flags.get('R') as string} : {}),
    ...(newName === undefined ? {} : {newName}),
  }, ctx.fs, notSimulated))
  return 0
}

export const zpool: Tool = async (ctx, argv) => {
  const [sub, ...rest] = argv
  const k = loadKernel(ctx.root)
  if (!zfsLibraryAvailable(k, ctx.jid)) {
    ctx.err('internal error: failed to initialize ZFS library\n')
    return 1
  }
  try {
    switch (sub) {
      case 'list': return zpoolList(k, ctx, rest)
      case 'get': return zpoolGet(k, ctx, rest)
      case 'import': return await zpoolImportCmd(ctx, rest)
      case 'export': {
        const o = getopt(rest, 'afF', (c) => usage(`invalid option '${c}'\nusage:\n\texport [-af] <pool> ...\n`))
        if (o.flags.has('a') || o.flags.has('F')) notSimulated('zpool export -a/-F')
        if (o.rest.length < 1) usage('missing pool argument\nusage:\n\texport [-af] <pool> ...\n')
        if (o.rest.length > 1) notSimulated('zpool export of several pools')
        const force = o.flags.has('f')
        await withKernel(ctx.root, (kk) => zpoolExport(kk, o.rest[0] as string, force, (m) => unmountFs(kk, 0, m, force), ctx.fs, notSimulated))
        return 0
      }
      default:
        return notSimulated(`zpool ${sub ?? ''}`.trim())
    }
  } catch (error) {
    if (error instanceof ZpoolError) {
      if (error.stdout) ctx.out(error.stdout)
      ctx.err(`${error.message}\n`)
      return error.exit
    }
    throw error
  }
}
