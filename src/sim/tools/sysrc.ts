// sysrc(8) (usr.sbin/sysrc/sysrc and sysrc.subr, freebsd-src 09711cc, SYSRC_VERSION 7.3; its ATF
// tests usr.sbin/sysrc/tests/sysrc_test.sh): `sysrc [-cinqx] [-e] [-f FILE]... NAME[[+|-]=VALUE]...`.
// Values are read as f_sysrc_get reads them (the defaults, then each rc_conf_files entry sourced
// in turn: here read as data by rc.ts parseRcConf), written as f_sysrc_set writes them (the
// last assignment's line edited in place: src/domain/rcconf.ts sysrcSetLine), removed as
// f_sysrc_delete removes them. Files are the ones of the jail it runs in.
import {rcEdit, sysrcSetLine} from '../../domain/rcconf.js'
import {descendants, getJail} from '../kernel/jails.js'
import {globalPath, type SimJail, viewPath} from '../kernel/state.js'
import {DEFAULTS, parseRcConf} from '../rc.js'
import {loadKernel} from '../store.js'
import type {SimFs} from '../fs.js'
import {getopt, notSimulated, type Tool, type ToolCtx} from './common.js'
import {attachTarget} from './jexec.js'

const PGM = 'sysrc'
/** /etc/defaults/rc.conf: rc_conf_files="/etc/rc.conf /etc/rc.conf.local". */
const RC_CONF_FILES = ['/etc/rc.conf', '/etc/rc.conf.local']
const IFS = ' \t\n'

class SysrcExit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`)
  }
}

/** usage(): f_err, then die (exit 1). */
function usage(ctx: ToolCtx): never {
  ctx.err(`Usage: ${PGM} [OPTIONS] {name[[+|-]=value] ... | -a | -A | -l | -L [name ...]}\nTry \`${PGM} --help' for more information.\n`)
  throw new SysrcExit(1)
}

/** sh field splitting of an unquoted $var: IFS white space collapses and trims, any other IFS character ends a field (a trailing one makes no empty field). */
export function ifsSplit(s: string, ifs: string): string[] {
  const white = [...ifs].filter((c) => IFS.includes(c))
  const other = [...ifs].filter((c) => !IFS.includes(c))
  const out: string[] = []
  let cur = ''
  let have = false
  let i = 0
  const isWhite = (c: string): boolean => white.includes(c)
  while (i < s.length && isWhite(s[i] as string)) i++
  for (; i < s.length; i++) {
    const c = s[i] as string
    if (other.includes(c)) {
      out.push(cur)
      cur = ''
      have = false
      // white space around a non-white delimiter belongs to it
      while (i + 1 < s.length && isWhite(s[i + 1] as string)) i++
    } else if (isWhite(c)) {
      let j = i
      while (j + 1 < s.length && isWhite(s[j + 1] as string)) j++
      if (j + 1 < s.length && other.includes(s[j + 1] as string)) {
        i = j
        continue
      }
      if (have || cur !== '') out.push(cur)
      cur = ''
      have = false
      i = j
    } else {
      cur += c
      have = true
    }
  }
  if (have || cur !== '') out.push(cur)
  return out
}

/** The separator of a `+=`/`-=` value (sysrc): its first character unless that is empty, IFS white space, a letter, digit, `.` or `/`, which mean a blank and the default IFS. */
function delimOf(v: string): {delim: string; ifs: string} {
  const c = v.slice(0, 1)
  if (c === '' || IFS.includes(c) || /[a-zA-Z0-9./]/.test(c)) return {delim: ' ', ifs: IFS}
  return {delim: c, ifs: c}
}

/** APPEND: each new field not already in the list, after the old value as it is. */
export function sysrcAppend(before: string, add: string): string {
  const {delim, ifs} = delimOf(add)
  const old = ifsSplit(before, ifs)
  let out = before
  for (const a of ifsSplit(add, ifs)) {
    if (a === '' || old.includes(a)) continue
    out += `${delim}${a}`
  }
  return out.startsWith(delim) ? out.slice(delim.length) : out
}

/** REMOVE: the old fields not named, joined with the separator. */
export function sysrcRemove(before: string, remove: string): string {
  const {delim, ifs} = delimOf(remove)
  const drop = ifsSplit(remove, ifs)
  let out = ''
  for (const b of ifsSplit(before, ifs)) {
    if (b === '' || drop.includes(b)) continue
    out += `${delim}${b}`
  }
  return out.startsWith(delim) ? out.slice(delim.length) : out
}

interface Files {
  fs: SimFs
  /** The jail's root (global). */
  root: string
  list: string[]
}

const at = (f: Files, p: string): string => globalPath(f.root, p)

function readFile(f: Files, p: string): string | undefined {
  try {
    if (!f.fs.exists(at(f, p))) return undefined
    return f.fs.read(at(f, p))
  } catch {
    return undefined
  }
}

/** f_sysrc_get for every name: the defaults, then each file sourced in order; a line that is shell, not data, is refused. */
function values(f: Files): Record<string, string> {
  const vars: Record<string, string> = {...DEFAULTS, rc_conf_files: RC_CONF_FILES.join(' ')}
  for (const file of f.list) {
    const text = readFile(f, file)
    if (text === undefined) continue
    const bad: string[] = []
    parseRcConf(text, file, {out: () => {}, err: (t) => bad.push(t)}, vars)
    if (bad.length > 0) notSimulated(`sysrc with ${file}, which holds lines that are shell, not name=value data`)
    if (vars['rc_conf_files'] !== RC_CONF_FILES.join(' ') && file !== f.list.at(-1)) notSimulated('sysrc with rc_conf_files changed in an rc.conf file')
  }
  return vars
}

const assigns = (name: string): RegExp => new RegExp(`^\\s*${name}=`)

/** f_sysrc_set: the last file (in reverse order) that assigns NAME gets its last assignment edited; else the first file gets `NAME="VALUE"` appended. */
function sysrcSet(f: Files, name: string, value: string): void {
  if (/["'`$\\\n]/.test(value)) notSimulated(`sysrc ${name}=… with a quote, $, backquote, backslash or newline in the value (sysrc writes it unescaped and checks the file with sh -n)`)
  const file = [...f.list].reverse().find((p) => (readFile(f, p) ?? '').split('\n').some((l) => assigns(name).test(l)))
  if (file === undefined) {
    const first = f.list[0]
    if (first === undefined) notSimulated('sysrc with no rc.conf file to write')
    const text = readFile(f, first as string) ?? ''
    f.fs.write(at(f, first as string), `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${name}="${value}"\n`)
    return
  }
  const text = readFile(f, file) ?? ''
  const lines = text.replace(/\n$/, '').split('\n')
  const last = lines.map((l, i) => (assigns(name).test(l) ? i : -1)).filter((i) => i >= 0).at(-1) as number
  if (new RegExp(`^\\s*${name}=$`).test(lines[last] as string)) notSimulated(`sysrc ${name}=… over an assignment with nothing after the = (awk's %c of an empty string)`)
  // `awk 1 | tail -r | awk ... | tail -r`: every line ends in a newline afterwards.
  const edited = sysrcSetLine(lines[last] as string, name, value)
  if (edited === null) lines.push(`${name}="${value}"`)
  else lines[last] = edited
  f.fs.write(at(f, file), `${lines.join('\n')}\n`)
}

/** f_sysrc_delete: every assignment of NAME in every file. */
function sysrcDelete(f: Files, name: string): void {
  for (const file of f.list) {
    const text = readFile(f, file)
    if (text === undefined || !text.split('\n').some((l) => assigns(name).test(l))) continue
    f.fs.write(at(f, file), rcEdit(text, [[name, null]]))
  }
}

export const sysrc: Tool = async (ctx, argv) => {
  try {
    return run(ctx, argv)
  } catch (error) {
    if (error instanceof SysrcExit) return error.code
    throw error
  }
}

/**
 * Where sysrc works: `-j JAIL` re-runs it in the jail through `jexec JAIL /bin/sh` (jexec's
 * errors and status passed through); `-R DIR` does so in the one running jail whose root
 * (`jls jid path`) is DIR, refuses two (`Multiple jails claim this directory as their root.`),
 * else runs it through `chroot DIR /bin/sh` (chroot(8): `err(1, "%s", dir)`). `-j` wins over
 * `-R`. Returns the global root of the files, or an exit status.
 */
function target(ctx: ToolCtx, k: ReturnType<typeof loadKernel>, jail: string | undefined, dir: string | undefined): string | number {
  const own = getJail(k, ctx.jid).path
  // `[ "$OPTARG" ] || die "%s: Missing or null argument to \`-j' flag"`.
  for (const [flag, v] of [['j', jail], ['R', dir]] as const) {
    if (v === '') {
      ctx.err(`${PGM}: Missing or null argument to \`-${flag}' flag\n`)
      return 1
    }
  }
  // sysrc re-runs itself through jexec: jexec's own checks and messages.
  const enter = (key: string): string | number => {
    const j = attachTarget(ctx, k, key)
    return j === 1 ? 1 : j.path
  }
  if (jail !== undefined) return enter(jail)
  if (dir === undefined) return own
  const claim = descendants(k, ctx.jid).filter((j) => j.state === 'ALIVE' && viewPath(own, j.path) === dir)
  if (claim.length > 1) {
    ctx.err(`${PGM}: ${dir}: Multiple jails claim this directory as their root. (use \`-j jail' instead)\n`)
    return 1
  }
  if (claim.length === 1) return enter(String((claim[0] as SimJail).jid))
  const g = globalPath(own, dir)
  if (!ctx.fs.at(own).isDir(g)) {
    ctx.err(`chroot: ${dir}: ${ctx.fs.at(own).exists(g) ? 'Not a directory' : 'No such file or directory'}\n`)
    return 1
  }
  return g
}

function run(ctx: ToolCtx, argv: string[]): number {
  if (argv.length === 0) usage(ctx)
  for (const a of argv) {
    if (a === '--') break
    if (a === '--help' || a === '--version') notSimulated(`sysrc ${a}`)
  }
  const o = getopt(argv, 'aAcdDeEf:Fhij:lLnNqR:s:vxX', (c) => notSimulated(`sysrc -${c} (getopts' message)`))
  for (const c of 'aAdDEFlLNsvX') if (o.flags.has(c)) notSimulated(`sysrc -${c}`)
  if (o.flags.has('h')) usage(ctx)
  const check = o.flags.has('c')
  const del = o.flags.has('x')
  const quiet = o.flags.has('q')
  const ignore = o.flags.has('i')
  const showName = !o.flags.has('n')
  const equals = o.flags.has('e') && showName
  const sep = equals ? '="' : ': '
  const q = equals ? '"' : ''
  const rcConfs = o.multi.filter(([c]) => c === 'f').flatMap(([, v]) => ifsSplit(v, IFS))
  const names = o.rest
  for (const arg of names) {
    // sysrc's check: shell expansion syntax removed first, then only VALID_VARNAME_CHARS.
    const name = arg.replace(/:[+=-].*$/s, '').replace(/[%#+=-].*$/s, '')
    if (/[^0-9A-Za-z_]/.test(name)) {
      ctx.err(`${PGM}: ${name}: name contains characters not allowed in shell\n`)
      return 1
    }
  }
  if (names.length === 0) usage(ctx)
  const k = loadKernel(ctx.root)
  const where = target(ctx, k, o.flags.get('j') as string | undefined, o.flags.get('R') as string | undefined)
  if (typeof where === 'number') return where
  const files: Files = {fs: ctx.fs.at(where), root: where, list: o.flags.has('f') ? rcConfs : RC_CONF_FILES}
  let status = 0
  for (const arg of names) {
    const eq = arg.indexOf('=')
    let name = eq < 0 ? arg : arg.slice(0, eq)
    let mode: 'ASSIGN' | 'APPEND' | 'REMOVE' = 'ASSIGN'
    if (name.endsWith('+')) [mode, name] = ['APPEND', name.slice(0, -1)]
    else if (name.endsWith('-')) [mode, name] = ['REMOVE', name.slice(0, -1)]
    if (name === '' || /^[0-9]/.test(name)) notSimulated(`sysrc ${arg} (f_sysrc_get refuses the name)`)
    const vars = values(files)
    const set = Object.hasOwn(vars, name)
    const before = vars[name] ?? ''
    if (eq >= 0) {
      if (del) {
        sysrcDelete(files, name)
        continue
      }
      const given = arg.slice(eq + 1)
      const value = mode === 'APPEND' ? sysrcAppend(before, given) : mode === 'REMOVE' ? sysrcRemove(before, given) : given
      if (check) {
        if (!set || value !== before) status = 1
        continue
      }
      sysrcSet(files, name, value)
      const after = values(files)[name] ?? ''
      ctx.out(`${showName ? `${name}${sep}` : ''}${before}${equals ? '" #' : ''} -> ${q}${after}${q}\n`)
      continue
    }
    if (!set) {
      if (!ignore && !quiet) ctx.err(`${PGM}: unknown variable '${name}'\n`)
      status = 1
      continue
    }
    if (check) continue
    if (del) {
      sysrcDelete(files, name)
      continue
    }
    ctx.out(`${showName ? `${name}${sep}` : ''}${before}${q}\n`)
  }
  return status
}
