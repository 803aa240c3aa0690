// Parsers for what FreeBSD's tools print. Pure; each returns a Result whose error says what was
// malformed and where, so an adapter can report it with the command that printed it.
import {err, ok, type Result} from 'neverthrow'

export type ParamValue = string | number | boolean | string[]

export interface JailRecord {
  jid: number | null
  /** The name as the viewer sees it (dotted below the viewer). */
  name: string
  parent: number | null
  path: string | null
  params: Record<string, ParamValue>
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

export const toInt = (v: ParamValue | undefined): number | null => {
  if (typeof v === 'number' && Number.isInteger(v)) return v
  if (typeof v === 'string' && /^-?[0-9]+$/.test(v)) return Number(v)
  return null
}

function paramValue(key: string, v: unknown): Result<ParamValue, string> {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return ok(v)
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return ok(v as string[])
  return err(`"${key}" has a value of an unexpected type`)
}

/** `jls --libxo json [-n] ...`: {"__version": "2", "jail-information": {"jail": [{...}]}}. */
export function parseJlsJson(text: string): Result<JailRecord[], string> {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (error) {
    return err(`not JSON (${(error as Error).message})`)
  }
  const info = isObject(doc) ? doc['jail-information'] : undefined
  const list = isObject(info) ? (info['jail'] ?? []) : undefined
  if (!Array.isArray(list)) return err('no "jail-information": {"jail": [...]} in the document')
  const out: JailRecord[] = []
  for (const [i, raw] of list.entries()) {
    if (!isObject(raw)) return err(`jail ${i + 1} is not an object`)
    // libxo opens an instance for every jail even when nothing of it is emitted (jls.c
    // print_jail's xo_open_instance): an empty object stands for no jail worth reading.
    if (Object.keys(raw).length === 0) continue
    const params: Record<string, ParamValue> = {}
    for (const [key, v] of Object.entries(raw)) {
      const pv = paramValue(key, v)
      if (pv.isErr()) return err(`jail ${i + 1}: ${pv.error}`)
      params[key] = pv.value
    }
    const name = params['name']
    const jid = toInt(params['jid'])
    if (typeof name !== 'string' && jid === null) return err(`jail ${i + 1} has neither "name" nor "jid"`)
    out.push({
      jid,
      name: typeof name === 'string' ? name : String(jid),
      parent: toInt(params['parent']),
      path: typeof params['path'] === 'string' ? params['path'] : null,
      params,
    })
  }
  return ok(out)
}

/** Split `a="b c" d` the way jls quotes values (double or single quotes, no escapes). */
function splitQuoted(line: string): Result<string[], string> {
  const words: string[] = []
  let cur = ''
  let quote: string | null = null
  let has = false
  for (const c of line) {
    if (quote) {
      if (c === quote) quote = null
      else cur += c
    } else if (c === '"' || c === "'") {
      quote = c
      has = true
    } else if (c === ' ' || c === '\t') {
      if (has || cur !== '') words.push(cur)
      cur = ''
      has = false
    } else {
      cur += c
      has = true
    }
  }
  if (quote) return err('unterminated quoted value')
  if (has || cur !== '') words.push(cur)
  return ok(words)
}

/** One line of `jls param ...` (values only, in the order asked; "" is an empty value). */
export function parseJlsValues(line: string): Result<string[], string> {
  return splitQuoted(line)
}

/** One line of `jls -n` / `jls -s`: `name=value` words, booleans as `param` / `allow.noparam`. */
export function parseJlsNameval(line: string): Result<Record<string, ParamValue>, string> {
  const words = splitQuoted(line)
  if (words.isErr()) return err(words.error)
  const out: Record<string, ParamValue> = {}
  for (const w of words.value) {
    const eq = w.indexOf('=')
    if (eq > 0) {
      out[w.slice(0, eq)] = w.slice(eq + 1)
      continue
    }
    if (!/^[a-z][a-z0-9_.]*$/.test(w)) return err(`"${w}" is neither name=value nor a boolean parameter`)
    const dot = w.lastIndexOf('.')
    const last = w.slice(dot + 1)
    if (last.startsWith('no') && dot >= 0) out[`${w.slice(0, dot + 1)}${last.slice(2)}`] = false
    else out[w] = true
  }
  return ok(out)
}

export type JlsRow = {jid: number; ip: string; hostname: string; path: string} | {name: string; ip: string; hostname: string; path: string}

/**
 * Plain `jls` or `jls -N`: the header, then one row per jail in usr.sbin/jls/jls.c print_jail's
 * fixed layout: `{:jid/%6d}{P:  }` or `{P: }{:name/%-15s/%s}{P: }` (padded, not cut), then
 * `{:ipv4/%-15.15s}{P: }{:hostname/%-29.29s}{P: }{:path/%.74s}`. The columns after the ID are
 * read by position, so a hostname may hold blanks and parentheses; which layout it is comes
 * from the header (`{T:JID/%6s}{P:  }{T:IP Address}` or `{P: }{T:JID/%-15s}{P: }{T:IP Address/...}`).
 */
export function parseJlsTable(text: string): Result<JlsRow[], string> {
  const lines = text.split('\n').filter((l) => l.trim() !== '')
  const head = lines[0] ?? ''
  if (!/^\s*JID\s+IP Address\s+Hostname\s+Path\s*$/.test(head)) return err('line 1: no "JID  IP Address  Hostname  Path" header')
  const byName = head.indexOf('IP Address') === 17
  const rows: JlsRow[] = []
  for (const [i, l] of lines.slice(1).entries()) {
    const bad = err(`line ${i + 2}: not a jls${byName ? ' -N' : ''} row: ${l}`)
    let rest: string
    let id: string
    if (byName) {
      const tok = /^ (\S+)/.exec(l)?.[1]
      if (tok === undefined) return bad
      // A name of 15 characters or fewer fills its padded column (blanks inside it allowed).
      const short = tok.length <= 15 && l[16] === ' '
      id = short ? l.slice(1, 16).trimEnd() : tok
      rest = l.slice(1 + Math.max(15, tok.length) + 1)
    } else {
      const tok = /^ *([0-9]+)/.exec(l)?.[1]
      if (tok === undefined) return bad
      id = tok
      rest = l.slice(Math.max(6, tok.length) + 2)
    }
    if (rest[15] !== ' ' || rest[45] !== ' ' || !rest.slice(46).startsWith('/')) return bad
    const ip = rest.slice(0, 15).trim()
    if (!/^([0-9.]*)$/.test(ip)) return bad
    const cols = {ip, hostname: rest.slice(16, 45).trimEnd(), path: rest.slice(46).trimEnd()}
    rows.push(byName ? {name: id, ...cols} : {jid: Number(id), ...cols})
  }
  return ok(rows)
}

export interface MountRecord {
  from: string
  on: string
  type: string
  opts: string[]
}

/**
 * `mount -p` pads each of its first two fields to the next of three tab stops, or with one
 * space past 24 characters (sbin/mount/mount.c putfsent: `l < 8 ? "\t" : "", l < 16 ? "\t" :
 * "", l < 24 ? "\t" : " "`), and prints the paths as they are: a blank in a path is not
 * escaped (no `\040` as in fstab(5)).
 */
const pad = (field: string): string => `${field.length < 8 ? '\t' : ''}${field.length < 16 ? '\t' : ''}${field.length < 24 ? '\t' : ' '}`

/** The table `mount -p` printed, and the lines it printed that cannot be read unambiguously. */
export interface MountTable {
  mounts: MountRecord[]
  /** `line N: why: text`: said, never guessed at (a mount nest cannot place stays unknown). */
  unreadable: string[]
}

/**
 * One `mount -p` line: `special<pad>node<pad>type\topts<\t or space>\tfreq pass`. The type,
 * the options and the numbers hold no blank; the special and the node may. Their split is
 * the one whose padding is what putfsent would print, with a node that begins with `/`; a
 * line with no such split, or with more than one, is not read.
 */
function mountPLine(line: string): MountRecord | string {
  const m = /^(.*?)([^\s]+)\t([^\s]+)(?:\t| )\t[0-9]+ [0-9]+$/.exec(line)
  if (!m) return 'not a mount -p line'
  const head = m[1] as string
  const found: MountRecord[] = []
  for (let i = 1; i < head.length; i++) {
    const from = head.slice(0, i)
    // A field never ends in the blank that pads it (a path that does cannot be told apart).
    if (/\s$/.test(from) || !head.startsWith(pad(from), i)) continue
    const rest = head.slice(i + pad(from).length)
    const onPad = /(\t{1,3}| )$/.exec(rest)
    const on = onPad ? rest.slice(0, rest.length - (onPad[1] as string).length) : ''
    if (on.startsWith('/') && pad(on) === rest.slice(on.length)) found.push({from, on, type: m[2] as string, opts: (m[3] as string).split(',')})
  }
  if (found.length === 1) return found[0] as MountRecord
  return found.length === 0 ? 'not a mount -p line' : 'its paths can be split in more than one way (a blank in both)'
}

/** `mount -p`: fstab lines `special node type opts dump pass`. */
export function parseMountP(text: string): MountTable {
  const out: MountTable = {mounts: [], unreadable: []}
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue
    const r = mountPLine(line)
    if (typeof r === 'string') out.unreadable.push(`line ${i + 1}: ${r}: ${line}`)
    else out.mounts.push(r)
  }
  return out
}

/** Plain `mount`: `special on node (type, opt, ...)`. */
export function parseMountPlain(text: string): Result<MountRecord[], string> {
  const out: MountRecord[] = []
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue
    const m = /^(.+) on (\/.*) \(([a-z0-9_]+)((?:, [^,()]+)*)\)$/.exec(line)
    if (!m) return err(`line ${i + 1}: not a mount line: ${line}`)
    const opts = (m[4] as string).split(', ').filter((o) => o !== '')
    out.push({from: m[1] as string, on: m[2] as string, type: m[3] as string, opts})
  }
  return ok(out)
}

/** `sysctl name ...`: `name: value` lines (a value may be empty). */
export function parseSysctl(text: string): Result<Map<string, string>, string> {
  const out = new Map<string, string>()
  for (const [i, line] of text.split('\n').entries()) {
    if (line === '') continue
    const m = /^([A-Za-z0-9_.%-]+): ?(.*)$/.exec(line)
    if (!m) return err(`line ${i + 1}: not a "name: value" line: ${line}`)
    // A node's own leaf has an empty name, so its full name ends in a dot
    // (`security.jail.param.allow.mount.: 0`, sys/kern/kern_jail.c SYSCTL_JAIL_PARAM(_allow_mount, , ...)):
    // it is the value of the node's name, as libjail reads it.
    const name = m[1] as string
    out.set(name.endsWith('.') ? name.slice(0, -1) : name, m[2] as string)
  }
  return ok(out)
}

/** `zfs list -H -p -o a,b,c` / `zfs get -H -p -o ...`: tab-separated columns, one row per line. */
export function parseZfsColumns(text: string, columns: readonly string[]): Result<Array<Record<string, string>>, string> {
  const out: Array<Record<string, string>> = []
  for (const [i, line] of text.split('\n').entries()) {
    if (line === '') continue
    const f = line.split('\t')
    if (f.length !== columns.length) return err(`line ${i + 1}: ${f.length} columns where ${columns.length} were asked for`)
    out.push(Object.fromEntries(columns.map((c, j) => [c, f[j] as string])))
  }
  return ok(out)
}

/** One partition of `gpart show -p` (provider names instead of indexes). */
export interface GpartEntry {
  start: number
  sectors: number
  /** The provider (`zvol/zroot/x/disk0p4`, `md0p4`). */
  provider: string
  type: string
}

/**
 * `gpart show -p GEOM` (lib/geom/part/geom_part.c gpart_show_geom): a `=>` header line naming
 * the geom and its scheme, then `start sectors provider type (size)` per partition and
 * `start sectors - free - (size)` for free space; a blank line ends the geom.
 */
export function parseGpartShow(text: string): Result<{geom: string; scheme: string; parts: GpartEntry[]}, string> {
  const lines = text.split('\n').filter((l) => l.trim() !== '')
  const head = /^=>\s+[0-9]+\s+[0-9]+\s+(\S+)\s+(\S+)\s+\(/.exec(lines[0] ?? '')
  if (!head) return err(`no "=> start size geom scheme (size)" header: ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`)
  const parts: GpartEntry[] = []
  for (const line of lines.slice(1)) {
    if (/^\s*[0-9]+\s+[0-9]+\s+- free -/.test(line)) continue
    const m = /^\s*([0-9]+)\s+([0-9]+)\s+(\S+)\s+(\S+)(?:\s+\[[^\]]*\])?\s+\(/.exec(line)
    if (!m) return err(`a partition line nest cannot read: ${JSON.stringify(line.slice(0, 80))}`)
    parts.push({start: Number(m[1]), sectors: Number(m[2]), provider: m[3] as string, type: m[4] as string})
  }
  return ok({geom: head[1] as string, scheme: head[2] as string, parts})
}

/** A pool `zpool import -d ...` can import, as its listing describes it. */
export interface ImportablePool {
  name: string
  id: string
  state: string
  /** The status paragraph, continuation lines joined ('' when there is none). */
  status: string
  /** The action paragraph. */
  action: string
  /** Features the pool uses that this system does not support (the unsupported-feature status). */
  unsupported: string[]
  /** The config's vdev lines, trimmed (`zroot  UNAVAIL  unsupported feature(s)`). */
  config: string[]
}

/**
 * `zpool import` without a pool (cmd/zpool/zpool_main.c show_import), both generations of its
 * indentation (OpenZFS 2.2: `   pool:`, ` action:`; 2.3 and later: `  pool:`, `action:`):
 * `key: value` lines, continuation lines starting with a tab, the config's vdev lines after
 * `config:`. A blank line separates pools.
 */
export function parseZpoolImport(text: string): Result<ImportablePool[], string> {
  const out: ImportablePool[] = []
  let cur: ImportablePool | undefined
  let key = ''
  for (const line of text.split('\n')) {
    const m = /^ {0,8}([a-z]+): ?(.*)$/.exec(line)
    if (m) {
      key = m[1] as string
      const v = (m[2] as string).trim()
      if (key === 'pool') {
        cur = {name: v, id: '', state: '', status: '', action: '', unsupported: [], config: []}
        out.push(cur)
      } else if (cur && key === 'id') cur.id = v
      else if (cur && key === 'state') cur.state = v
      else if (cur && key === 'status') cur.status = v
      else if (cur && key === 'action') cur.action = v
      continue
    }
    if (!cur || !line.startsWith('\t')) continue
    const v = line.trim()
    if (key === 'status') {
      cur.status = `${cur.status} ${v}`.trim()
      // The unsupported-feature branch lists one feature a line below the status (zpool_main.c, show_import / zpool_print_unsup_feat).
      if (/not supported on this system/.test(cur.status) && /^[a-z0-9_.-]+:[a-z0-9_]+/i.test(v)) cur.unsupported.push(v.split(/\s+/)[0] as string)
    } else if (key === 'action') cur.action = `${cur.action} ${v}`.trim()
    else if (key === 'config' && v !== '') cur.config.push(v.replace(/\s+/g, ' '))
  }
  for (const p of out) if (!/^[0-9]+$/.test(p.id)) return err(`pool ${p.name}: no numeric id in the listing`)
  return ok(out)
}
