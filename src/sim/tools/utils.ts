// Base utilities a jailed process runs, read-only, in-process over the simulated host's file
// tree: ls(1) (bin/ls/ls.c, print.c), cat(1) (bin/cat/cat.c), uname(1) (usr.bin/uname/uname.c)
// hostname(1) (bin/hostname/hostname.c) and df(1) (ps(1) is tools/ps.ts). Every path is taken in the caller's view (its
// jail's root is "/") and resolved by SimFs, so a link a jail planted never leads outside it;
// nullfs mounts are crossed as the kernel crosses them (backingPath). What is not simulated is
// refused (exit 69). df(1) (bin/df/df.c) reports the mounts the caller's view shows, over the
// model's fixed sizes.
import {lstatSync, readdirSync, readlinkSync, type Stats} from 'node:fs'
import path from 'node:path'

import type {SimFs} from '../fs.js'
import {getJail} from '../kernel/jails.js'
import {backingPath, visibleMounts} from '../kernel/mounts.js'
import {globalPath, type Kernel, normPath, type SimMount, SysError} from '../kernel/state.js'
import {availBytes} from '../kernel/zfs.js'
import {loadKernel} from '../store.js'
import {getopt, NOT_SIMULATED_EXIT, type ProgramIO, strerror} from './common.js'

/** The utilities run here, by the names FreeBSD installs them under (/bin, /usr/bin). */
export const UTILITIES = new Set(['ls', 'cat', 'uname', 'hostname', 'df'])

export interface UtilCtx extends ProgramIO {
  /** The tree as the caller sees it (its jail's root as "/"). */
  fs: SimFs
}

type Util = (c: UtilCtx, k: Kernel, args: string[]) => number

class Refused extends Error {}
const refuse = (what: string): never => {
  throw new Refused(what)
}

/** Flag-only utilities: getopt(3) as the other tools parse it, an unknown flag refused as not simulated. */
function flagsOf(tool: string, args: string[], known: string): {flags: string[]; rest: string[]} {
  const o = getopt(args, known, (c) => refuse(`${tool} -${c}`))
  return {flags: [...o.flags.keys()], rest: o.rest}
}

/** The global path a path the caller names leads to before its links are resolved (through nullfs mounts, as the kernel crosses them). */
function globalOf(c: UtilCtx, k: Kernel, p: string): string {
  const root = getJail(k, c.jid).path
  // The path is first made clean inside the view ("/.." is "/", as vfs_lookup.c stops ".." at a
  // process's root), then joined to the jail's root: never a path above the root. (".." after a
  // link is so taken lexically, not from the link's target: contained either way.)
  const inside = normPath(p.startsWith('/') ? p : `/${p}`)
  return backingPath(k, globalPath(root, inside))
}

const errnoText = (e: unknown): string => {
  if (e instanceof SysError) return strerror(e)
  const code = (e as NodeJS.ErrnoException).code
  if (code === 'ENOENT') return 'No such file or directory'
  if (code === 'ENOTDIR') return 'Not a directory'
  if (code === 'EACCES') return 'Permission denied'
  throw e
}

// ---- ls ----

/** strmode(3) (lib/libc/string/strmode.c): type, rwx with s/S and t/T, and the trailing space ls puts a `+` in for an ACL. */
export function strmode(mode: number): string {
  const t = mode & 0o170000
  const type = t === 0o040000 ? 'd' : t === 0o120000 ? 'l' : t === 0o010000 ? 'p' : t === 0o140000 ? 's' : t === 0o020000 ? 'c' : t === 0o060000 ? 'b' : '-'
  const r = (bit: number, ch: string): string => (mode & bit ? ch : '-')
  const x = (exec: number, special: number, on: string, off: string): string => (mode & special ? (mode & exec ? on : off) : mode & exec ? 'x' : '-')
  return `${type}${r(0o400, 'r')}${r(0o200, 'w')}${x(0o100, 0o4000, 's', 'S')}${r(0o040, 'r')}${r(0o020, 'w')}${x(0o010, 0o2000, 's', 'S')}${r(0o004, 'r')}${r(0o002, 'w')}${x(0o001, 0o1000, 't', 'T')} `
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/**
 * print.c printtime: `%b %e %R` within six months of now, else `%b %e  %Y` (C locale), and a
 * space. In UTC: the simulated host has no /etc/localtime (FIDELITY.md).
 */
export function lsTime(mtimeMs: number, nowMs: number): string {
  const d = new Date(mtimeMs)
  const six = (365 / 2 | 0) * 86400 * 1000
  const e = String(d.getUTCDate()).padStart(2, ' ')
  const head = `${MONTHS[d.getUTCMonth()] as string} ${e}`
  if (mtimeMs + six > nowMs && mtimeMs < nowMs + six) {
    return `${head} ${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')} `
  }
  return `${head}  ${d.getUTCFullYear()} `
}

interface Entry {
  name: string
  st: Stats
  /** The link's target, for -l. */
  link?: string
}

/** ls.c namecmp under the C locale: strcoll is strcmp, byte order. */
const byName = (a: Entry, b: Entry): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)

/**
 * print.c printlong: `total` (st_blocks in BLOCKSIZE units: getbsize's default 512, so
 * blocksize / 512 = 1), then mode, links, owner and group (two spaces after each), size, time,
 * name and ` -> target`. Owner and group are root and wheel: the only user the simulated host has.
 */
function printLong(c: UtilCtx, list: Entry[], total: boolean): void {
  if (total) c.out(`total ${list.reduce((s, e) => s + Number(e.st.blocks), 0)}\n`)
  const w = (f: (e: Entry) => string): number => Math.max(0, ...list.map((e) => f(e).length))
  const sNlink = w((e) => String(e.st.nlink))
  const sSize = w((e) => String(e.st.size))
  const now = Date.now()
  for (const e of list) {
    const line = `${strmode(e.st.mode)} ${String(e.st.nlink).padStart(sNlink)} ${'root'.padEnd(4)}  ${'wheel'.padEnd(5)}  ${String(e.st.size).padStart(sSize)} ${lsTime(e.st.mtimeMs, now)}${e.name}`
    c.out(`${line}${e.link === undefined ? '' : ` -> ${e.link}`}\n`)
  }
}

const ls: Util = (c, k, args) => {
  // ls.c: output that is no terminal is listed one name a line (f_singlecol), as -1 does; the
  // super-user gets -A without asking ("Root is -A automatically"); -l and -1 override each other.
  const {flags, rest} = flagsOf('ls', args, 'laA1')
  let long = false
  for (const f of flags) {
    if (f === 'l') long = true
    if (f === '1') long = false
  }
  const all = flags.includes('a')
  const operands = rest.length === 0 ? ['.'] : rest
  let rval = 0
  const files: Entry[] = []
  const dirs: Array<{name: string; real: string}> = []
  for (const op of operands) {
    // The operand "." (and a relative one) is taken from "/": a jexec'd process starts there.
    const g = globalOf(c, k, op)
    try {
      // ls.c: without -l (or -d, -F) a link named on the command line is followed (FTS_COMFOLLOW).
      const real = c.fs.real(g, !long)
      const st = lstatSync(real)
      if (st.isDirectory()) dirs.push({name: op, real})
      else files.push({name: op, st, ...(st.isSymbolicLink() && long ? {link: readlinkSync(real, 'utf8')} : {})})
    } catch (error) {
      c.err(`ls: ${op}: ${errnoText(error)}\n`)
      rval = 1
    }
  }
  const print = (list: Entry[], total: boolean): void => {
    if (list.length === 0) return
    if (long) printLong(c, list, total)
    else for (const e of list) c.out(`${e.name}\n`)
  }
  files.sort(byName)
  print(files, false)
  let output = files.length > 0
  dirs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  for (const d of dirs) {
    // traverse(): a blank line between listings; each directory headed by its name when there are several operands.
    if (output) c.out(`\n${d.name}:\n`)
    else if (operands.length > 1) c.out(`${d.name}:\n`)
    output = true
    let names: string[]
    try {
      names = readdirSync(d.real)
    } catch (error) {
      c.err(`ls: ${d.name}: ${errnoText(error)}\n`)
      rval = 1
      continue
    }
    // -a: fts's FTS_SEEDOT adds "." and ".."; otherwise root's implied -A shows every other dot file.
    const list: Entry[] = []
    for (const name of [...(all ? ['.', '..'] : []), ...names]) {
      const real = name === '..' ? path.dirname(d.real) : path.join(d.real, name)
      // ".." of the view's "/" is "/" itself (vfs_lookup.c): never the directory above the jail's root.
      const st = lstatSync(name === '..' && c.fs.real(c.fs.view) === d.real ? d.real : real)
      list.push({name, st, ...(long && st.isSymbolicLink() ? {link: readlinkSync(real, 'utf8')} : {})})
    }
    list.sort(byName)
    print(list, true)
  }
  return rval
}

// ---- cat ----

const cat: Util = (c, k, args) => {
  const {rest} = flagsOf('cat', args, '')
  if (rest.length === 0 || rest.includes('-')) refuse('cat of its standard input (no input reaches a simulated program)')
  let rval = 0
  for (const f of rest) {
    try {
      c.out(c.fs.read(globalOf(c, k, f)))
    } catch (error) {
      // cat.c raw_args: warn("%s", path) and go on with the next file; exit 1 at the end.
      c.err(`cat: ${f}: ${errnoText(error)}\n`)
      rval = 1
    }
  }
  return rval
}

// ---- uname, hostname ----

/** hw.machine of the simulated host: an amd64 machine, as the FreeBSD outputs the fixtures hold come from. */
export const SIM_MACHINE = 'amd64'

const uname: Util = (c, k, args) => {
  const {flags, rest} = flagsOf('uname', args, 'amnrsv')
  if (rest.length > 0) {
    c.err('usage: uname [-abiKmnoprsUv]\n')
    return 1
  }
  const j = getJail(k, c.jid)
  // uname.c: -a is -mnrsv; no flag is -s; the fields print in the order s n r v m, one space apart.
  const want = new Set(flags.includes('a') ? ['m', 'n', 'r', 's', 'v'] : flags.length === 0 ? ['s'] : flags)
  // kern.version would be "FreeBSD 14.3-RELEASE releng/14.3-n... GENERIC": the model holds no build id (FIDELITY.md).
  const fields: Array<[string, string]> = [['s', 'FreeBSD'], ['n', j.host.hostname], ['r', j.osrelease], ['v', `FreeBSD ${j.osrelease} GENERIC`], ['m', SIM_MACHINE]]
  c.out(`${fields.filter(([f]) => want.has(f)).map(([, v]) => v).join(' ')}\n`)
  return 0
}

const hostname: Util = (c, k, args) => {
  const {flags, rest} = flagsOf('hostname', args, 's')
  if (rest.length > 0) refuse('hostname NAME (setting the host name: use jail -m host.hostname=NAME)')
  const name = getJail(k, c.jid).host.hostname
  // hostname.c -s: the name up to its first dot.
  c.out(`${flags.includes('s') ? name.split('.')[0] as string : name}\n`)
  return 0
}

// ---- df ----

interface Statfs {
  bsize: number
  blocks: number
  bfree: number
  bavail: number
}

/**
 * statfs(2) of a mount, as each file system fills it in: zfs_statfs (sys/contrib/openzfs/module/
 * os/freebsd/zfs/zfs_vfsops.c: 512-byte blocks, f_blocks = (referenced + available) / 512,
 * f_bfree = f_bavail = available / 512, over the model's fixed sizes), devfs_statfs
 * (sys/fs/devfs/devfs_vfsops.c: `f_blocks = 2`, "1K to keep df happy", nothing free) and
 * nullfs_statfs (sys/fs/nullfs/null_vfsops.c: the counts of the file system beneath).
 */
function statfsOf(k: Kernel, m: SimMount, depth = 0): Statfs {
  if (m.fstype === 'zfs' && m.dataset !== undefined) {
    const d = k.datasets.find((x) => x.name === m.dataset)
    const avail = availBytes(k, m.dataset)
    return {bsize: 512, blocks: Math.floor(((d?.referenced ?? 0) + avail) / 512), bfree: Math.floor(avail / 512), bavail: Math.floor(avail / 512)}
  }
  if (m.fstype === 'devfs') return {bsize: 512, blocks: 2, bfree: 0, bavail: 0}
  if (m.fstype === 'nullfs' && depth < 16) {
    const lower = k.mounts.find((x) => x.id === m.lowerMountId)
    if (lower) return statfsOf(k, lower, depth + 1)
  }
  return refuse(`df of a ${m.fstype} file system (its sizes are not in the model)`)
}

/**
 * bin/df/df.c prtstat: BLOCKSIZE unset, so getbsize's `512-blocks`; each column as wide as its
 * widest value (update_maxwidths), Capacity as ` %5.0f%%` of used / (used + avail), two spaces,
 * then two more and the mount point as the caller sees it (getfsstat rewrites it in a jail).
 */
const df: Util = (c, k, args) => {
  const {rest} = flagsOf('df', args, '')
  if (rest.length > 0) refuse('df FILE (only the table of every mount)')
  const rows = visibleMounts(k, c.jid).map((s) => {
    const st = statfsOf(k, s.m)
    const toBlk = (n: number): number => (st.bsize < 512 ? Math.floor(n / (512 / st.bsize)) : n * (st.bsize / 512))
    const used = st.blocks - st.bfree
    const availblks = st.bavail + used
    return {from: s.m.from, total: String(toBlk(st.blocks)), used: String(toBlk(used)), avail: String(toBlk(st.bavail)), cap: `${(availblks === 0 ? 100 : used / availblks * 100).toFixed(0).padStart(5)}%`, on: s.on}
  })
  const w = (f: (r: (typeof rows)[number]) => string, head: string): number => Math.max(head.length, ...rows.map((r) => f(r).length))
  const wFrom = w((r) => r.from, 'Filesystem')
  const wTotal = w((r) => r.total, '512-blocks')
  const wUsed = w((r) => r.used, 'Used')
  const wAvail = w((r) => r.avail, 'Avail')
  c.out(`${'Filesystem'.padEnd(wFrom)} ${'512-blocks'.padStart(wTotal)} ${'Used'.padStart(wUsed)} ${'Avail'.padStart(wAvail)} Capacity  Mounted on\n`)
  for (const r of rows) c.out(`${r.from.padEnd(wFrom)} ${r.total.padStart(wTotal)} ${r.used.padStart(wUsed)} ${r.avail.padStart(wAvail)} ${r.cap}    ${r.on}\n`)
  return 0
}

const UTIL: Record<string, Util> = {
  ls,
  cat,
  uname,
  hostname,
  df,
}

/** Run one utility in the caller's view; its exit status. */
export function runUtility(name: string, args: string[], c: UtilCtx): number {
  const util = UTIL[name]
  if (!util) {
    c.err(`sim: ${name}: not simulated\n`)
    return NOT_SIMULATED_EXIT
  }
  try {
    return util(c, loadKernel(c.root), args)
  } catch (error) {
    if (!(error instanceof Refused)) throw error
    c.err(`sim: ${error.message}: not simulated\n`)
    return NOT_SIMULATED_EXIT
  }
}
