// tar(1), the base system's bsdtar (libarchive tar/bsdtar.c, read.c, write.c; tar/bsdtar.1), the
// subset a file copy between two trees needs, joined by a pipe:
//   tar -c -f - [--one-file-system] [--fflags] [--acls] [--xattrs] [--numeric-owner] -C DIR .
//   tar -x [-p] -f - [--numeric-owner] [--fflags] [--acls] [--xattrs] -C DIR
// The archive is the simulator's own text format (as zfs send's stream is, ../kernel/zstream.ts):
//   NESTSIM-TAR 1
//   {"r":"entry","p":"./etc/rc.conf","type":"file","mode":420,"uid":0,"gid":0,"uname":"root","gname":"wheel","size":12}
//   {"r":"data","b":"<base64>"}   (a file's bytes, DATA_CHUNK at a time)
//   {"r":"entry","p":"./bin/sh","type":"link","to":"/rescue/sh",...}   a symbolic link, never followed
//   {"r":"entry","p":"./bin/[","type":"hardlink","to":"./bin/test",...}  a second name of a file
//   {"r":"end","records":N,"sha256":"..."}
// Owners are the real files' uid and gid (the simulator runs as root, as CI does); file flags
// (schg, uarch, ...) are the model's fflags record (../fflags.ts), which only tar reads and writes.
import {closeSync, linkSync, lstatSync, lchownSync, mkdirSync, openSync, readdirSync, readlinkSync, readSync, rmSync, symlinkSync, writeSync, chmodSync} from 'node:fs'
import path from 'node:path'

import {loadFflags, saveFflags} from '../fflags.js'
import {DATA_CHUNK, StreamHash} from '../kernel/zstream.js'
import {normPath, SysError} from '../kernel/state.js'
import {loadKernel, withLock} from '../store.js'
import {notSimulated, stdinLines, type Tool, type ToolCtx, UsageError, writeOut} from './common.js'

export const TAR_MAGIC = 'NESTSIM-TAR 1'

/** lafe_errc / lafe_warnc (libarchive_fe/err.c): `tar: ` and the message. */
const say = (ctx: ToolCtx, text: string): void => ctx.err(`tar: ${text}\n`)

interface TarOpts {
  mode: 'c' | 'x'
  file?: string
  dir?: string
  oneFs: boolean
  numericOwner: boolean
  operands: string[]
}

const LONG = new Set(['--one-file-system', '--fflags', '--acls', '--xattrs', '--numeric-owner', '--same-owner'])

/** bsdtar's option parsing for this subset (bsdtar.c, cmdline.c); anything else refused as not simulated. */
function parse(argv: string[]): TarOpts {
  const o: TarOpts = {mode: 'c', oneFs: false, numericOwner: false, operands: []}
  let mode: 'c' | 'x' | undefined
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string
    if (a.startsWith('--')) {
      if (!LONG.has(a)) notSimulated(`tar ${a}`)
      if (a === '--one-file-system') o.oneFs = true
      if (a === '--numeric-owner') o.numericOwner = true
      continue
    }
    if (!a.startsWith('-') || a === '-') {
      o.operands.push(...argv.slice(i))
      break
    }
    for (let j = 1; j < a.length; j++) {
      const c = a[j] as string
      if (c === 'c' || c === 'x') {
        // bsdtar.c set_mode: "Can't specify both -%c and -%c".
        if (mode && mode !== c) throw new UsageError(`tar: Can't specify both -${mode} and -${c}\n`, 1)
        mode = c
      } else if (c === 'p') {
        // -p: permissions, ACLs, xattrs, fflags on extract (the defaults as root).
      } else if (c === 'f' || c === 'C') {
        const v = j + 1 < a.length ? a.slice(j + 1) : argv[++i]
        if (v === undefined) throw new UsageError(`tar: Option -${c} requires an argument\n`, 1)
        if (c === 'f') o.file = v
        else o.dir = v
        break
      } else notSimulated(`tar -${c}`)
    }
  }
  if (!mode) throw new UsageError('tar: Must specify one of -c, -r, -t, -u, -x\n', 1)
  o.mode = mode
  if (o.file !== '-') notSimulated('tar -f with anything but - (standard input or output)')
  if (o.dir === undefined) notSimulated('tar without -C')
  if (mode === 'c' && (o.operands.length !== 1 || o.operands[0] !== '.')) notSimulated('tar -c of anything but .')
  if (mode === 'x' && o.operands.length > 0) notSimulated('tar -x of named entries')
  return o
}

/** passwd(5)/group(5) of the caller's view: name ↔ id, the first line winning (getpwuid, getpwnam). */
function idMaps(ctx: ToolCtx): {user: Map<number, string>; group: Map<number, string>; uid: Map<string, number>; gid: Map<string, number>} {
  const read = (p: string): string[] => {
    try {
      return ctx.fs.read(globalOf(ctx, p)).split('\n').filter((l) => l !== '' && !l.startsWith('#'))
    } catch {
      return []
    }
  }
  const m = {user: new Map<number, string>(), group: new Map<number, string>(), uid: new Map<string, number>(), gid: new Map<string, number>()}
  for (const [file, byId, byName] of [['/etc/passwd', m.user, m.uid], ['/etc/group', m.group, m.gid]] as const) {
    for (const line of read(file)) {
      const [name, , id] = line.split(':')
      const n = Number(id)
      if (!name || !Number.isInteger(n)) continue
      if (!byId.has(n)) byId.set(n, name)
      if (!byName.has(name)) byName.set(name, n)
    }
  }
  return m
}

/** A path of the caller's view as a global path (its jail's root in front). */
function globalOf(ctx: ToolCtx, p: string): string {
  const view = ctx.fs.view
  return normPath(view === '/' ? p : `${view}/${p}`)
}

export const tar: Tool = async (ctx, argv) => {
  const o = parse(argv)
  if (o.mode === 'c') return create(ctx, o)
  return extract(ctx, o)
}

/** -C DIR: the real directory of `top`, or null once bsdtar's do_chdir complaint is said ("could not chdir to '%s'", bsdtar.c). */
function chdirTo(ctx: ToolCtx, top: string, given: string): string | null {
  try {
    if (!ctx.fs.isDir(top)) throw new SysError('ENOENT')
    return ctx.fs.real(top)
  } catch {
    say(ctx, `could not chdir to '${given}'`)
    return null
  }
}

/** tar -c: the tree below -C, names sorted, a directory before what it holds (write.c write_hierarchy over archive_read_disk). */
async function create(ctx: ToolCtx, o: TarOpts): Promise<number> {
  // bsdtar refuses no terminal for `-f -`: it writes the archive wherever stdout is (unconfirmed).
  const top = globalOf(ctx, o.dir as string)
  const base = chdirTo(ctx, top, o.dir as string)
  if (base === null) return 1
  const k = loadKernel(ctx.root)
  const canon = ctx.fs.canonical(top)
  // --one-file-system (ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS): the mount points below are archived, not what they hold.
  const mountsBelow = new Set(o.oneFs ? k.mounts.filter((m) => m.on !== canon && m.on.startsWith(`${canon === '/' ? '' : canon}/`)).map((m) => m.on) : [])
  const ids = idMaps(ctx)
  const flags = loadFflags(ctx.root)
  const hash = new StreamHash()
  const seen = new Map<string, string>()
  const emit = async (rec: unknown): Promise<void> => {
    const line = JSON.stringify(rec)
    hash.add(line)
    await writeOut(ctx, `${line}\n`)
  }
  const entry = async (real: string, name: string, global: string): Promise<boolean> => {
    const st = lstatSync(real)
    const common = {
      p: name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid,
      ...(o.numericOwner ? {} : {uname: ids.user.get(st.uid), gname: ids.group.get(st.gid)}),
      ...(flags[global] ? {fflags: flags[global]} : {}),
    }
    if (st.isSymbolicLink()) await emit({r: 'entry', ...common, type: 'link', to: readlinkSync(real, 'utf8')})
    else if (st.isDirectory()) await emit({r: 'entry', ...common, type: 'dir'})
    else if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`
      const first = st.nlink > 1 ? seen.get(key) : undefined
      if (first !== undefined) {
        await emit({r: 'entry', ...common, type: 'hardlink', to: first})
        return false
      }
      if (st.nlink > 1) seen.set(key, name)
      await emit({r: 'entry', ...common, type: 'file', size: st.size})
      const fd = openSync(real, 'r')
      try {
        const buf = Buffer.alloc(DATA_CHUNK)
        for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) await emit({r: 'data', b: buf.subarray(0, n).toString('base64')})
      } finally {
        closeSync(fd)
      }
    }
    // Sockets, FIFOs, devices: the tree holds none the model makes.
    return st.isDirectory()
  }
  const walk = async (real: string, name: string, global: string): Promise<void> => {
    for (const n of readdirSync(real).sort()) {
      const r = path.join(real, n)
      const nm = `${name}/${n}`
      const g = normPath(`${global}/${n}`)
      const isDir = await entry(r, nm, g)
      if (isDir && !mountsBelow.has(g)) await walk(r, nm, g)
    }
  }
  try {
    await writeOut(ctx, `${TAR_MAGIC}\n`)
    hash.add(TAR_MAGIC)
    await entry(base, '.', canon)
    await walk(base, '.', canon)
    const records = hash.records
    await writeOut(ctx, `${JSON.stringify({r: 'end', records, sha256: hash.digest()})}\n`)
  } catch (error) {
    if (error instanceof SysError && error.errno === 'EPIPE') {
      // archive_write's error for a failed write(2): "Write error" (unconfirmed wording).
      say(ctx, 'Write error')
      return 1
    }
    throw error
  }
  return 0
}

interface Entry {
  r: 'entry'
  p: string
  type: 'file' | 'dir' | 'link' | 'hardlink'
  mode: number
  uid: number
  gid: number
  uname?: string
  gname?: string
  fflags?: string
  size?: number
  to?: string
}

/** tar -x as root: owners (by name unless --numeric-owner), modes, links and hard links, flags; directory modes and flags last (archive_write_disk's fixup list). */
async function extract(ctx: ToolCtx, o: TarOpts): Promise<number> {
  const top = globalOf(ctx, o.dir as string)
  const base = chdirTo(ctx, top, o.dir as string)
  if (base === null) return 1
  const canon = ctx.fs.canonical(top)
  const ids = idMaps(ctx)
  const hash = new StreamHash()
  const fixups: Array<{real: string; mode: number; global: string; fflags?: string}> = []
  const fileFlags: Array<[string, string]> = []
  let state: 'magic' | 'body' | 'done' = 'magic'
  let file: {fd: number; left: number} | undefined
  let errors = 0
  const close = (): void => {
    if (file) closeSync(file.fd)
    file = undefined
  }
  // ARCHIVE_EXTRACT_SECURE_SYMLINKS / _NODOTDOT (the defaults): never through a link, never `..`.
  const place = (p: string): {real: string; global: string} | undefined => {
    const parts = p.split('/').filter((c) => c !== '' && c !== '.')
    if (parts.includes('..')) {
      say(ctx, `${p}: Path contains '..'`)
      errors++
      return undefined
    }
    let real = base
    for (const c of parts.slice(0, -1)) {
      real = path.join(real, c)
      let st
      try {
        st = lstatSync(real)
      } catch {
        mkdirSync(real)
        continue
      }
      if (st.isSymbolicLink()) {
        say(ctx, `${p}: Cannot extract through symlink ${path.relative(base, real)}`)
        errors++
        return undefined
      }
    }
    return {real: parts.length === 0 ? base : path.join(real, parts.at(-1) as string), global: normPath(`${canon}/${parts.join('/')}`)}
  }
  const owner = (e: Entry): [number, number] => {
    if (o.numericOwner) return [e.uid, e.gid]
    // archive_write_disk_set_standard_lookup: the name through passwd/group, else the number.
    return [e.uname !== undefined && ids.uid.has(e.uname) ? ids.uid.get(e.uname) as number : e.uid, e.gname !== undefined && ids.gid.has(e.gname) ? ids.gid.get(e.gname) as number : e.gid]
  }
  for await (const line of stdinLines(ctx)) {
    if (state === 'magic') {
      if (line !== TAR_MAGIC) {
        // archive_read.c choose_format; read.c: "Error opening archive: %s".
        say(ctx, 'Error opening archive: Unrecognized archive format')
        return 1
      }
      hash.add(line)
      state = 'body'
      continue
    }
    let rec: Record<string, unknown>
    try {
      rec = JSON.parse(line) as Record<string, unknown>
    } catch {
      rec = {r: 'bad'}
    }
    if (rec['r'] === 'end') {
      close()
      state = rec['records'] === hash.records && rec['sha256'] === hash.digest() ? 'done' : 'body'
      break
    }
    hash.add(line)
    if (rec['r'] === 'data') {
      if (file) {
        const b = Buffer.from(String(rec['b']), 'base64')
        file.left -= b.length
        writeSync(file.fd, b)
      }
      continue
    }
    close()
    if (rec['r'] !== 'entry') break
    const e = rec as unknown as Entry
    const at = place(e.p)
    if (!at) continue
    const [uid, gid] = owner(e)
    if (e.type === 'dir') {
      try {
        if (!lstatSync(at.real).isDirectory()) rmSync(at.real, {force: true})
      } catch {
        // absent
      }
      mkdirSync(at.real, {recursive: true})
      lchownSync(at.real, uid, gid)
      fixups.push({real: at.real, mode: e.mode, global: at.global, ...(e.fflags ? {fflags: e.fflags} : {})})
      continue
    }
    // Replace what is there (unlink first, archive_write_disk's default for a non-directory).
    rmSync(at.real, {recursive: true, force: true})
    if (e.type === 'link') {
      symlinkSync(e.to as string, at.real)
      lchownSync(at.real, uid, gid)
    } else if (e.type === 'hardlink') {
      const target = place(e.to as string)
      if (target) linkSync(target.real, at.real)
    } else {
      file = {fd: openSync(at.real, 'wx', 0o600), left: e.size ?? 0}
      lchownSync(at.real, uid, gid)
      chmodSync(at.real, e.mode)
    }
    if (e.fflags && e.type !== 'hardlink') fileFlags.push([at.global, e.fflags])
  }
  close()
  // An empty input is an empty archive (libarchive's "empty" format): nothing to do (unconfirmed for bsdtar -x).
  if (state === 'magic') return 0
  for (const f of fixups.reverse()) chmodSync(f.real, f.mode)
  const allFlags = [...fileFlags, ...fixups.filter((f) => f.fflags).map((f) => [f.global, f.fflags as string] as [string, string])]
  if (allFlags.length > 0) {
    await withLock(ctx.root, async () => {
      const flags = loadFflags(ctx.root)
      for (const [g, v] of allFlags) flags[g] = v
      await saveFflags(ctx.root, flags)
    })
  }
  if (state !== 'done') {
    // archive_read_support_format_tar.c: "Truncated tar archive"; bsdtar.c at exit.
    say(ctx, 'Truncated tar archive')
    say(ctx, 'Error exit delayed from previous errors')
    return 1
  }
  if (errors > 0) {
    say(ctx, 'Error exit delayed from previous errors')
    return 1
  }
  return 0
}
