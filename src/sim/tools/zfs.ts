// zfs(8) and zpool(8) over the simulated kernel (OpenZFS cmd/zfs/zfs_main.c texts).
import {findVisibleMount, unmountFs} from '../kernel/mounts.js'
import {getJail} from '../kernel/jails.js'
import {type Kernel, normPath, type SimDataset} from '../kernel/state.js'
import {
  availBytes, datasetAccess, datasetOrFail, findDataset, MODELLED_PROPS, mountOfDataset, nicestrtonum, prop, propValue, SET_FAILED, spaceProp, spaceUse,
  zfsClone, zfsCreate, zfsCreateVolume, zfsDestroy, ZfsError, zfsJail, zfsLibraryAvailable, zfsMount, zfsSet, zfsSnapshot, zfsSnapshotRecursive, zfsUnjail, zfsUnmount, poolOf, stashContent,
} from '../kernel/zfs.js'
import {isInheritable, lookupProp, type PropDesc, propWidth, validForType, ZFS_PROPS} from '../kernel/zfsprops.js'
import {loadKernel, withKernel} from '../store.js'
import {getopt, notSimulated, type Tool, type ToolCtx, UsageError} from './common.js'

/**
 * zfs_nicenum_format (lib/libzutil/zutil_nicenum.c): divide by 1024 while it fits; an exact
 * multiple without decimals, else the most decimals (2, 1, 0) that fit 5 characters, rounded as
 * printf's `%.*f` rounds the exact value (to even on a tie).
 */
function niceFormat(num: number, units: readonly string[]): string {
  const n0 = BigInt(Math.trunc(num))
  let n = n0
  let index = 0
  while (n >= 1024n && index < 6) {
    n /= 1024n
    index++
  }
  const u = units[index] as string
  const div = 1024n ** BigInt(index)
  if (index === 0 || n0 % div === 0n) return `${n}${u}`
  let s = ''
  for (let p = 2; p >= 0; p--) {
    s = `${fixedPoint(n0, div, p)}${u}`
    if (s.length <= 5) break
  }
  return s
}

function fixedPoint(num: bigint, div: bigint, places: number): string {
  const scale = 10n ** BigInt(places)
  let q = (num * scale) / div
  const r2 = ((num * scale) % div) * 2n
  if (r2 > div || (r2 === div && q % 2n === 1n)) q++
  return places === 0 ? `${q}` : `${q / scale}.${(q % scale).toString().padStart(places, '0')}`
}

/** zfs_nicebytes: `0B`, `96K`, `1.50G`. */
export const nicebytes = (n: number): string => niceFormat(n, ['B', 'K', 'M', 'G', 'T', 'P', 'E'])
/** zfs_nicenum: no unit below 1024 (`0`, `512`, `96K`). */
export const nicenum = (n: number): string => niceFormat(n, ['', 'K', 'M', 'G', 'T', 'P', 'E'])

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/**
 * zfs_prop_get's strftime: `%a %b %e %k:%M %Y` for creation, `%a %b %e %k:%M:%S %Y` for
 * snapshots_changed, of localtime_r (the simulated host has no /etc/localtime: UTC).
 */
export function zfsDate(secs: number, seconds: boolean): string {
  const t = new Date(secs * 1000)
  const two = (n: number): string => String(n).padStart(2, '0')
  const sec = seconds ? `:${two(t.getUTCSeconds())}` : ''
  return `${DAYS[t.getUTCDay()]} ${MONTHS[t.getUTCMonth()]} ${String(t.getUTCDate()).padStart(2)} ${String(t.getUTCHours()).padStart(2)}:${two(t.getUTCMinutes())}${sec} ${t.getUTCFullYear()}`
}

/** The model's clock ticks are minutes from this moment (seconds since the epoch). */
const EPOCH = 1_760_000_000
const clockSecs = (tick: number): number => EPOCH + tick * 60

/** A value as zfs_prop_get makes it, and its source as `zfs get` prints it. */
interface Got {
  value: string
  source: string
}

const parentOf = (name: string): string | undefined => {
  const at = name.indexOf('@')
  if (at >= 0) return name.slice(0, at)
  const slash = name.lastIndexOf('/')
  return slash < 0 ? undefined : name.slice(0, slash)
}

const snapshotsOf = (k: Kernel, fs: string): SimDataset[] =>
  k.datasets.filter((x) => x.type === 'snapshot' && x.name.startsWith(`${fs}@`)).sort((a, b) => a.createtxg - b.createtxg)

/** dsl_dataset_stats adds `written` only where ds_prev_snap_obj is set: a snapshot before it, or a clone's origin. */
function hasPrevSnapshot(k: Kernel, d: SimDataset): boolean {
  if (d.type === 'snapshot') {
    const base = findDataset(k, parentOf(d.name) ?? '')
    return snapshotsOf(k, base?.name ?? '').some((x) => x.createtxg < d.createtxg) || base?.origin !== undefined
  }
  return snapshotsOf(k, d.name).length > 0 || d.origin !== undefined
}

/**
 * One native property of one dataset, as lib/libzfs/libzfs_dataset.c zfs_prop_get makes it from
 * what module/zfs/dsl_dataset.c dsl_dataset_stats and dsl_dir.c dsl_dir_stats report; undefined
 * where zfs_prop_get fails (the property does not apply to the type, or the kernel reports no
 * value: origin of a non-clone, written before any snapshot, the encryption and receive ones).
 * Sources: `-` for statistics (no ZPROP_SOURCE), `default` for a value the kernel marks as the
 * default, else local or inherited. The model has no compression (ratios 1.00x, logical =
 * physical), no writes after a snapshot (written 0, snapshots use nothing) and no mounts with
 * options of their own (so never `temporary`); a value a stream carried is `received` (zfs recv, zstream.ts).
 */
function getNative(k: Kernel, d: SimDataset, p: PropDesc, literal: boolean): Got | undefined {
  if (!validForType(p, d.type)) return undefined
  // get_numeric_property: for a snapshot, the property must apply to the snapshot's head too.
  if (d.type === 'snapshot' && p.kind !== 'string' && p.types !== 's' && !p.types.includes('f')) return undefined
  const stat = (value: string): Got => ({value, source: '-'})
  const bytes = (n: number): Got => stat(literal ? String(n) : nicebytes(n))
  const count = (n: number): Got => stat(literal ? String(n) : nicenum(n))
  const space = spaceUse(k, d)
  switch (p.name) {
    case 'type': return stat(d.type)
    case 'creation': return stat(literal ? String(clockSecs(d.creation)) : zfsDate(clockSecs(d.creation), false))
    case 'used': return bytes(space.used)
    case 'available': return bytes(availBytes(k, d.name))
    case 'referenced': return bytes(d.referenced)
    case 'usedbydataset': case 'usedbysnapshots': case 'usedbyrefreservation': case 'usedbychildren': return bytes(space[p.name])
    case 'compressratio': case 'refcompressratio': return stat(literal ? '1.00' : '1.00x')
    case 'mounted': return stat(mountOfDataset(k, d.name) ? 'yes' : 'no')
    case 'origin': return d.origin === undefined ? undefined : stat(d.origin)
    case 'quota': case 'refquota': case 'reservation': case 'refreservation': {
      // 0 is `none`; dsl_prop_nvlist_add_uint64 marks the default value as the default.
      const n = spaceProp(d, p.name)
      const value = n === 0 ? (literal ? '0' : 'none') : literal ? String(n) : nicebytes(n)
      return {value, source: d.props[p.name] !== undefined ? 'local' : d.received?.[p.name] !== undefined ? 'received' : 'default'}
    }
    // UINT64_MAX (no limit, nothing counted) prints `none` even with -p.
    case 'filesystem_limit': case 'snapshot_limit': case 'filesystem_count': case 'snapshot_count': return {value: 'none', source: 'default'}
    case 'createtxg': return stat(String(d.createtxg))
    case 'guid': return stat(d.guid)
    // An object number in the MOS; the model numbers them after the txg that made the dataset.
    case 'objsetid': return stat(String(256 + d.createtxg))
    case 'userrefs': return count(0)
    case 'defer_destroy': return stat('off')
    case 'written': return hasPrevSnapshot(k, d) ? count(0) : undefined
    case 'clones': {
      const clones = k.datasets.filter((x) => x.origin === d.name).map((x) => x.name).sort()
      return clones.length === 0 ? undefined : stat(clones.join(','))
    }
    case 'logicalused': return count(space.used)
    case 'logicalreferenced': return count(d.referenced)
    // ZFS_IOC_OBJSET_ZPLPROPS: no source, so `-`.
    case 'version': return stat('5')
    case 'utf8only': return stat('off')
    case 'normalization': return stat('none')
    case 'casesensitivity': return stat('sensitive')
    case 'snapshots_changed': {
      if (d.snapshotsChanged === undefined) return undefined
      const secs = clockSecs(d.snapshotsChanged)
      return stat(literal ? String(secs) : zfsDate(secs, true))
    }
    case 'receive_resume_token': case 'encryptionroot': case 'keystatus': case 'redact_snaps': return undefined
    default: {
      const v = propValue(k, d, p.name)
      if (!v) return undefined
      if (p.kind === 'number') {
        const n = Number(v.value)
        return {value: p.name === 'pbkdf2iters' || literal ? String(n) : nicenum(n), source: v.source}
      }
      return v
    }
  }
}

const USER_ACCOUNTING = /^(user|group|project)(obj)?(used|quota)@|^written[@#]/

/** A user property (zfs_prop_user: a colon in the name). */
const isUserProp = (name: string): boolean => name.includes(':')

/** A dataset's user properties, its own and inherited (dsl_prop_get_all), by name. */
function userPropsOf(k: Kernel, d: SimDataset): string[] {
  const names = new Set<string>()
  const base = d.type === 'snapshot' ? findDataset(k, parentOf(d.name) ?? '') : undefined
  for (const n of [...Object.keys(d.props), ...Object.keys(d.received ?? {})]) if (isUserProp(n)) names.add(n)
  for (let p: string | undefined = base?.name ?? parentOf(d.name); p; p = parentOf(p)) {
    const pd = findDataset(k, p)
    for (const n of [...Object.keys(pd?.props ?? {}), ...Object.keys(pd?.received ?? {})]) if (isUserProp(n)) names.add(n)
  }
  // The kernel's order is its ZAP's hash order; the model sorts.
  return [...names].sort()
}

/** One entry of a property list (zprop_list_t): a native property or a user property. */
interface Entry {
  desc?: PropDesc
  user?: string
  /** Came from `all` (pl_all): a dataset without it prints nothing for it. */
  all: boolean
  width: number
  fixed: boolean
}

const entryFor = (name: string, all: boolean): Entry => {
  const desc = lookupProp(name)
  if (desc) return {desc, all, ...propWidth(desc)}
  return {user: name, all, width: name.length, fixed: false}
}

/** libzfs_util.c addlist: a native property, a user property, else `bad property list`. */
function parsePropList(list: string, cmd: string): Entry[] {
  if (list === '') usage(`bad property list: no properties specified\n${cmdUsage(cmd)}`)
  const out: Entry[] = []
  for (const p of list.split(',')) {
    const names = p === 'space' ? ['name', 'avail', 'used', 'usedbysnapshots', 'usedbydataset', 'usedbyrefreservation', 'usedbychildren'] : [p]
    for (const n of names) {
      if (USER_ACCOUNTING.test(n)) notSimulated(`zfs ${cmd} ${n}`)
      const desc = lookupProp(n)
      if (!desc && !isUserProp(n)) usage(`bad property list: invalid property '${n}'\n${cmdUsage(cmd)}`)
      if (desc && !desc.visible && desc.name !== 'name') notSimulated(`zfs ${cmd} ${n} (a hidden property)`)
      out.push(entryFor(n, false))
    }
  }
  return out
}

/** The value of an entry for a dataset, undefined where zfs_prop_get (or the user lookup) fails. */
function entryValue(k: Kernel, d: SimDataset, e: Entry, literal: boolean): Got | undefined {
  if (e.desc?.name === 'name') return {value: d.name, source: '-'}
  if (e.desc) return getNative(k, d, e.desc, literal)
  return propValue(k, d, e.user as string)
}

/** zfs_expand_proplist: flex entries (all of them with -p) widen to the values they get. */
function widen(k: Kernel, ds: SimDataset[], entries: Entry[], literal: boolean): void {
  for (const e of entries) {
    if (e.fixed && !literal) continue
    for (const d of ds) {
      const v = entryValue(k, d, e, literal)
      if (v && v.value.length > e.width) e.width = v.value.length
    }
  }
}

/** The `zfs get all` list: every visible native property by number, then the user properties seen. */
function allEntries(k: Kernel, ds: SimDataset[]): Entry[] {
  const entries = ZFS_PROPS.filter((p) => p.visible).map((p) => ({desc: p, all: true, ...propWidth(p)}) as Entry)
  const users: string[] = []
  for (const d of ds) for (const u of userPropsOf(k, d)) if (!users.includes(u)) users.push(u)
  return [...entries, ...users.map((u) => entryFor(u, true))]
}

const GET_COLUMNS = ['name', 'property', 'value', 'received', 'source'] as const
type GetColumn = (typeof GET_COLUMNS)[number]
const SOURCES = ['local', 'default', 'inherited', 'received', 'temporary', 'none'] as const

const sourceKind = (source: string): (typeof SOURCES)[number] =>
  source === '-' ? 'none' : source.startsWith('inherited from ') ? 'inherited' : (source as (typeof SOURCES)[number])

/**
 * zfs get (cmd/zfs/zfs_main.c zfs_do_get, get_callback; lib/libzfs/libzfs_util.c
 * zprop_print_headers, zprop_print_one_property): the header when the first row prints, each
 * column but the last as `%-*s` and two blanks (with -H: a tab), the widths from the whole
 * property list: NAME the longest name, PROPERTY the longest property name in the list, VALUE
 * the widest entry, SOURCE the name's width plus "inherited from".
 */
function zfsGet(k: Kernel, ctx: ToolCtx, rest: string[]): number {
  const o = getopt(rest, 'Hprd:o:t:s:', (c) => usage(`${'Hprdots'.includes(c) ? `missing argument for '${c}' option` : `invalid option '${c}'`}\n${cmdUsage('get')}`))
  let columns: GetColumn[] = ['name', 'property', 'value', 'source']
  if (typeof o.flags.get('o') === 'string') {
    columns = []
    for (const tok of (o.flags.get('o') as string).split(',')) {
      if (columns.length === GET_COLUMNS.length) usage(`too many fields given to -o option\n${cmdUsage('get')}`)
      if (tok === 'all') {
        if (columns.length > 0) usage(`"all" conflicts with specific fields given to -o option\n${cmdUsage('get')}`)
        columns = [...GET_COLUMNS]
        continue
      }
      if (!(GET_COLUMNS as readonly string[]).includes(tok)) usage(`invalid column name '${tok}'\n${cmdUsage('get')}`)
      columns.push(tok as GetColumn)
    }
  }
  let sources: string[] = [...SOURCES]
  if (typeof o.flags.get('s') === 'string') {
    sources = (o.flags.get('s') as string).split(',')
    for (const s of sources) if (!(SOURCES as readonly string[]).includes(s)) usage(`invalid source '${s}'\n${cmdUsage('get')}`)
  }
  let types = ['all']
  if (typeof o.flags.get('t') === 'string') {
    types = (o.flags.get('t') as string).split(',').map((t) => (t === 'snap' ? 'snapshot' : t))
    for (const t of types) if (!['filesystem', 'volume', 'snapshot', 'bookmark', 'all'].includes(t)) usage(`invalid type '${t}'\n${cmdUsage('get')}`)
  }
  const [propArg, ...names] = o.rest
  if (propArg === undefined) usage(`missing property argument\n${cmdUsage('get')}`)
  let depth = typeof o.flags.get('d') === 'string' ? Number(o.flags.get('d')) : undefined
  // "Handle users who want to get all snapshots ... of a dataset": -t snapshot with a dataset is -d 1.
  if (types.length === 1 && types[0] === 'snapshot' && names.length > 0 && !o.flags.has('r') && depth === undefined) depth = 1
  const literal = o.flags.has('p')
  const listed = propArg === 'all' ? undefined : parsePropList(propArg as string, 'get')
  const ds = selectDatasets(k, ctx.jid, names, o.flags.has('r'), depth, names.length === 0 ? [] : types)
  const entries = listed ?? allEntries(k, ds)
  // The name entry zfs_do_get puts first (`fake_name`), or the one zprop_expand_list adds.
  const nameEntry: Entry = {desc: lookupProp('name'), all: true, width: 4, fixed: false}
  widen(k, ds, [nameEntry, ...entries], literal)
  const widths: Record<GetColumn, number> = {name: 4, property: 8, value: 5, received: 8, source: 6}
  for (const e of [nameEntry, ...entries]) {
    widths.property = Math.max(widths.property, (e.desc?.name ?? e.user ?? '').length)
    if (e !== nameEntry) widths.value = Math.max(widths.value, e.width)
    if (e.desc?.name === 'name' && e.width > widths.name) {
      widths.name = e.width
      widths.source = e.width + 'inherited from'.length
    }
  }
  const scripted = o.flags.has('H')
  const line = (cells: Record<GetColumn, string>): string => `${columns.map((c, i) => {
    if (i === columns.length - 1) return cells[c]
    return scripted ? `${cells[c]}\t` : `${cells[c].padEnd(widths[c])}  `
  }).join('')}\n`
  let out = ''
  let first = true
  for (const d of ds) {
    for (const e of entries) {
      let got = entryValue(k, d, e, literal)
      if (!got) {
        if (e.all) continue
        got = {value: '-', source: '-'}
      }
      if (!sources.includes(sourceKind(got.source))) continue
      if (first && !scripted) out += line({name: 'NAME', property: 'PROPERTY', value: 'VALUE', received: 'RECEIVED', source: 'SOURCE'})
      first = false
      out += line({name: d.name, property: e.desc?.name ?? (e.user as string), value: got.value, received: '-', source: got.source})
    }
  }
  ctx.out(out)
  return 0
}

/**
 * zfs list (zfs_main.c print_header, print_dataset): the column name of each property (a user
 * property's name in capitals), numbers right-aligned, two blanks between columns, the last
 * column unpadded when left-aligned; with -H tabs and no header; `-` where zfs_prop_get fails.
 */
function zfsList(k: Kernel, ctx: ToolCtx, rest: string[]): number {
  const listUsage = cmdUsage('list')
  const o = getopt(rest, 'Hprd:o:t:s:S:', (c) => usage(`${'HprdotsS'.includes(c) ? `missing argument for '${c}' option` : `invalid option '${c}'`}\n${listUsage}`))
  if (o.flags.has('s') || o.flags.has('S')) notSimulated('zfs list -s/-S (sorting)')
  const entries = parsePropList(typeof o.flags.get('o') === 'string' ? (o.flags.get('o') as string) : 'name,used,available,referenced,mountpoint', 'list')
  const types = typeof o.flags.get('t') === 'string' ? (o.flags.get('t') as string).split(',').map((t) => (t === 'snap' ? 'snapshot' : t)) : []
  const depth = typeof o.flags.get('d') === 'string' ? Number(o.flags.get('d')) : undefined
  const ds = selectDatasets(k, ctx.jid, o.rest, o.flags.has('r'), depth, types)
  if (ds.length === 0 && o.rest.length === 0) {
    ctx.err('no datasets available\n')
    return 0
  }
  const literal = o.flags.has('p')
  widen(k, ds, entries, literal)
  const scripted = o.flags.has('H')
  const right = (e: Entry): boolean => e.desc?.right ?? false
  const row = (cells: string[]): string => `${cells.map((c, i) => {
    const e = entries[i] as Entry
    if (scripted || (i === entries.length - 1 && !right(e))) return c
    return right(e) ? c.padStart(e.width) : c.padEnd(e.width)
  }).join(scripted ? '\t' : '  ')}\n`
  let out = scripted || ds.length === 0 ? '' : row(entries.map((e) => e.desc?.col ?? (e.user as string).toUpperCase()))
  for (const d of ds) out += row(entries.map((e) => entryValue(k, d, e, literal)?.value ?? '-'))
  ctx.out(out)
  return 0
}

const HELP: Record<string, string> = {
  get: '\tget [-rHp] [-d max] [-o "all" | field[,...]]\n\t    [-t type[,...]] [-s source[,...]]\n\t    <"all" | property[,...]> [filesystem|volume|snapshot|bookmark] ...\n',
  list: '\tlist [-Hp] [-r|-d max] [-o property[,...]] [-s property]...\n\t    [-S property]... [-t type[,...]] [filesystem|volume|snapshot] ...\n',
  set: '\tset [-u] <property=value> ... <filesystem|volume|snapshot> ...\n',
}

/**
 * zfs_main.c usage(B_FALSE) for set, get and list: the command's usage, then the property table
 * (zprop_iter ordered: read-only ones first, each group by name; usage_prop_cb), then the
 * fixed lines and notes.
 */
function cmdUsage(cmd: string): string {
  const sorted = ZFS_PROPS.filter((p) => p.visible).sort((a, b) => {
    const ar = a.attr === 'readonly'
    const br = b.attr === 'readonly'
    if (ar !== br) return ar ? -1 : 1
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0
  })
  const readonly = (p: PropDesc): boolean => p.attr !== 'default' && p.attr !== 'inherit'
  const rows = sorted.map((p) => `\t${p.name.padEnd(15)} ${readonly(p) ? ' NO    ' : 'YES    '}${isInheritable(p) ? '  YES   ' : '   NO   '}${p.values ?? '-'}\n`)
  const fixed = [
    ...['userused@...', 'groupused@...', 'projectused@...', 'userobjused@...', 'groupobjused@...', 'projectobjused@...'].map((n) => `\t${n.padEnd(15)}  NO       NO   <size>\n`),
    ...['userquota@...', 'groupquota@...', 'projectquota@...', 'userobjquota@...', 'groupobjquota@...', 'projectobjquota@...'].map((n) => `\t${n.padEnd(15)} YES       NO   <size> | none\n`),
    ...['written@<snap>', 'written#<bookmark>'].map((n) => `\t${n.padEnd(15)}  NO       NO   <size>\n`),
  ]
  return `usage:\n${HELP[cmd] ?? ''}\nThe following properties are supported:\n\n\t${'PROPERTY'.padEnd(14)} EDIT  INHERIT   VALUES\n\n${rows.join('')}${fixed.join('')}`
    + '\nSizes are specified in bytes with standard units such as K, M, G, etc.\n'
    + '\nUser-defined properties can be specified by using a name containing a colon (:).\n'
    + '\nThe {user|group|project}[obj]{used|quota}@ properties must be appended with\n'
    + 'a user|group|project specifier of one of these forms:\n'
    + '    POSIX name      (eg: "matt")\n'
    + '    POSIX id        (eg: "126829")\n'
    + '    SMB name@domain (eg: "matt@sun")\n'
    + '    SMB SID         (eg: "S-1-234-567-89")\n'
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

/**
 * A settable native property the model does not act on (recordsize, sharenfs, checksum, ...):
 * refused before anything changes; read-only and unknown names go on to libzfs's own errors.
 */
function refuseUnmodelled(props: Record<string, string>, cmd: string, creating: boolean): void {
  for (const p of Object.keys(props)) {
    const desc = lookupProp(p)
    if (!desc || MODELLED_PROPS.has(desc.name) || desc.attr === 'readonly') continue
    if ((desc.attr === 'onetime' || desc.attr === 'onetime_default') && !creating) continue
    notSimulated(`zfs ${cmd} ${p}`)
  }
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
      case 'list': return zfsList(k0, ctx, rest)
      case 'get': return zfsGet(k0, ctx, rest)
      case 'set': {
        // zfs_main.c zfs_do_set: property=value arguments first, then the datasets.
        const o = getopt(rest, 'u', (c) => usage(`invalid option '${c}'\n${cmdUsage('set')}`))
        if (o.flags.has('u')) notSimulated('zfs set -u')
        const args = o.rest
        if (args.length < 1) usage(`missing arguments\n${cmdUsage('set')}`)
        if (args.length < 2) usage(`${(args[0] as string).includes('=') ? 'missing dataset name(s)' : 'missing property=value argument(s)'}\n${cmdUsage('set')}`)
        let dsStart = -1
        args.forEach((a, i) => {
          if (a.includes('=')) {
            if (dsStart > 0) usage(`invalid argument order\n${cmdUsage('set')}`)
          } else if (dsStart < 0) dsStart = i
        })
        if (dsStart < 0) usage(`missing dataset name(s)\n${cmdUsage('set')}`)
        if (dsStart === 0) notSimulated('zfs set with a dataset before its property=value arguments')
        const props: Record<string, string> = {}
        for (const a of args.slice(0, dsStart)) {
          const eq = a.indexOf('=')
          const name = a.slice(0, eq)
          if (name in props) {
            // parseprop: the command returns -1 (exit status 255).
            ctx.err(`property '${name}' specified multiple times\n`)
            return SET_FAILED
          }
          props[name] = a.slice(eq + 1)
        }
        refuseUnmodelled(props, 'set', false)
        // zfs_for_each opens every dataset first (one that does not open: status 1), then
        // calls set_callback on each that did, ORing its -1 in; a failure stops nothing else.
        let status = 0
        await withKernel(ctx.root, (k) => {
          const open: string[] = []
          for (const n of args.slice(dsStart)) {
            try {
              datasetOrFail(k, ctx.jid, n)
              open.push(n)
            } catch (error) {
              if (!(error instanceof ZfsError)) throw error
              ctx.err(`${error.message}\n`)
              status = 1
            }
          }
          for (const n of open) {
            try {
              zfsSet(k, ctx.jid, n, props)
            } catch (error) {
              if (!(error instanceof ZfsError)) throw error
              ctx.err(`${error.message}\n`)
              status = SET_FAILED
            }
          }
        })
        return status
      }
      case 'create': {
        const createUsage = 'usage:\n\tcreate [-Pnpuv] [-o property=value] ... <filesystem>\n\tcreate [-Pnpsv] [-b blocksize] [-o property=value] ... -V <size> <volume>\n'
        const o = getopt(rest, 'puo:sV:b:nPv', () => usage(createUsage))
        for (const c of ['n', 'P', 'v']) if (o.flags.has(c)) notSimulated(`zfs create -${c}`)
        const name = o.rest[0]
        const props = parseProps(o.multi.filter(([c]) => c === 'o'), 'create [-Pnpuv] [-o property=value] ... <filesystem>')
        const noMount = o.flags.has('u')
        if (o.flags.has('V')) {
          // zfs_do_create: -V size and -b blocksize through zfs_nicestrtonum, else
          // "bad volume size '%s': %s" / "bad volume block size '%s': %s" (status 1).
          const size = nicestrtonum(o.flags.get('V') as string)
          if (typeof size === 'string') {
            ctx.err(`bad volume size '${o.flags.get('V') as string}': ${size}\n`)
            return 1
          }
          if (typeof o.flags.get('b') === 'string') {
            const b = nicestrtonum(o.flags.get('b') as string)
            if (typeof b === 'string') {
              ctx.err(`bad volume block size '${o.flags.get('b') as string}': ${b}\n`)
              return 1
            }
            props['volblocksize'] = b.toString()
          }
          if (!name || o.rest.length > 1) usage(`missing volume argument\n${createUsage}`)
          refuseUnmodelled(props, 'create', true)
          return await mutate(ctx, (k) => {
            zfsCreateVolume(k, ctx.jid, name as string, size, o.flags.has('s'), props, o.flags.has('p'), ctx.fs)
          })
        }
        // zfs_do_create: -s and -b only go with -V (usage).
        if (o.flags.has('s') || o.flags.has('b')) usage(createUsage)
        if (!name || o.rest.length > 1) usage(`missing filesystem argument\n${createUsage}`)
        refuseUnmodelled(props, 'create', true)
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
        if (o.rest.length === 0) usage('missing snapshot argument\n')
        return await mutate(ctx, (k) => {
          for (const n of o.rest) (o.flags.has('r') ? zfsSnapshotRecursive : zfsSnapshot)(k, ctx.jid, n, ctx.fs)
        })
      }
      case 'clone': {
        const o = getopt(rest, 'po:', () => usage('usage:\n\tclone [-p] [-o property=value] ... <snapshot> <filesystem|volume>\n'))
        const [snap, name] = o.rest
        if (!snap || !name) usage('missing source dataset argument\n')
        const props = parseProps(o.multi.filter(([c]) => c === 'o'), 'clone [-p] [-o property=value] ... <snapshot> <filesystem|volume>')
        refuseUnmodelled(props, 'clone', true)
        return await mutate(ctx, (k) => zfsClone(k, ctx.jid, snap as string, name as string, props, ctx.fs))
      }
      case 'mount': {
        const o = getopt(rest, 'ao:', () => usage('usage:\n\tmount\n\tmount [-flvO] [-o opts] <-a | filesystem>\n'))
        // -o: temporary mount options (zfs_main.c share_mount_one); only ro and rw are modelled.
        const mntopts = typeof o.flags.get('o') === 'string' ? (o.flags.get('o') as string).split(',') : []
        for (const w of mntopts) if (w !== 'ro' && w !== 'rw') notSimulated(`zfs mount -o ${w}`)
        const ro = mntopts.at(-1) === 'ro'
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
              zfsMount(k, ctx.jid, d.name, ctx.fs, ro)
            }
            return
          }
          zfsMount(k, ctx.jid, o.rest[0] as string, ctx.fs, ro)
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
          for (const d of targets) {
            let on: string | undefined
            zfsUnmount(k, ctx.jid, d, (m) => {
              unmountFs(k, ctx.jid, m, force)
              on = m.on
            })
            // An imported guest pool's files are on its disk, not in the directory: once unmounted
            // they are not there any more (kept as the dataset's content, as zpool export keeps them).
            if (on !== undefined && poolOf(k, d.name)?.guest) stashContent(k, d, on, ctx.fs)
          }
        })
      }
      // The stream commands: zfs-stream.ts (and the stream itself, ../kernel/zstream.ts).
      case 'send': return await (await import('./zfs-stream.js')).zfsSend(ctx, rest, ctx.midway)
      case 'recv': case 'receive': return await (await import('./zfs-stream.js')).zfsReceive(ctx, rest)
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
