// The simulated host's file tree: `<sim root>/fs` is "/" for the simulated host. Paths given
// here are global (host) paths. The tree is a chroot: every path is resolved component by
// component with src/domain/resolve.ts (a link's target read and walked again inside the tree,
// from the caller's view: a jailed process's absolute links start at its jail's root), and only
// then does Node touch the real path, so no link a jail plants reaches outside the tree.
import {
  chmodSync, closeSync, lchownSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync,
  copyFileSync, linkSync, unlinkSync, writeSync,
} from 'node:fs'
import path from 'node:path'

import {isWithin, type PathKind, type PathLookup, resolvePath, ResolveError, type Resolved} from '../domain/resolve.js'
import {normPath, SysError} from './kernel/state.js'
import type {ZfsFs} from './kernel/zfs.js'

const kindOf = (real: string): PathKind | null => {
  try {
    const st = lstatSync(real)
    return st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other'
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return null
    throw error
  }
}

/** Copy a real tree without following a link anywhere: links copied as links, special files (FIFOs, devices, sockets) left out. */
function copyTree(from: string, to: string, links: Map<string, string> = new Map()): void {
  const k = kindOf(from)
  if (k === 'dir') {
    const have = kindOf(to)
    if (have !== null && have !== 'dir') unlinkSync(to)
    // The mode exactly (mkdir(2) applies the umask; a tree store copy keeps 1777 as 1777).
    if (have !== 'dir') chmodSync((mkdirSync(to), to), lstatSync(from).mode & 0o7777)
    for (const n of readdirSync(from)) copyTree(path.join(from, n), path.join(to, n), links)
    keepOwner(from, to)
    return
  }
  if (k === null || k === 'other') return
  const have = kindOf(to)
  if (have === 'dir') rmSync(to, {recursive: true, force: true})
  else if (have !== null) unlinkSync(to)
  if (k === 'link') symlinkSync(readlinkSync(from), to)
  else {
    // A file with several names stays one file in the copy (a file system's copy keeps its hard links).
    const st = lstatSync(from)
    const key = `${st.dev}:${st.ino}`
    const first = st.nlink > 1 ? links.get(key) : undefined
    if (first !== undefined) return linkSync(first, to)
    // A regular file by lstat (copyFileSync would follow a link): COPYFILE_EXCL, as `to` is gone.
    copyFileSync(from, to, constants.COPYFILE_EXCL)
    if (st.nlink > 1) links.set(key, to)
  }
  keepOwner(from, to)
}

/**
 * A copy keeps the owner (a file's uid and gid are the real file's: the simulator runs as root,
 * tar.ts); where it cannot (not root), the copy is the caller's, as before. chown clears a
 * file's setuid bit, so the mode is set again after it.
 */
function keepOwner(from: string, to: string): void {
  const st = lstatSync(from)
  const have = lstatSync(to)
  if (have.uid === st.uid && have.gid === st.gid) return
  try {
    lchownSync(to, st.uid, st.gid)
    if (!st.isSymbolicLink()) chmodSync(to, st.mode & 0o7777)
  } catch {
    // EPERM: not root.
  }
}

export class SimFs implements ZfsFs {
  private readonly look: PathLookup

  private viewOf: string | (() => string)

  /** `view`: the global path of the caller's "/" (its jail's root; "/" for the host), or how to find it when first needed. */
  constructor(readonly root: string, view: string | (() => string) = '/') {
    this.viewOf = view
    this.look = {
      kind: (g) => kindOf(this.tree(g)),
      readlink: (g) => readlinkSync(this.tree(g), 'utf8'),
    }
  }

  get view(): string {
    if (typeof this.viewOf === 'function') this.viewOf = this.viewOf()
    return this.viewOf
  }

  /** The same tree seen from another "/" (a jail's root, for what runs in that jail). */
  at(view: string): SimFs {
    return view === this.view ? this : new SimFs(this.root, view)
  }

  /** Where a resolved global path is on the real disk. */
  private tree(g: string): string {
    return path.join(this.root, 'fs', g)
  }

  /**
   * Resolve a global path: below the caller's view from that view's "/", elsewhere (what the
   * kernel does for the host, e.g. a dataset's mount point) from the host's.
   */
  resolve(global: string, follow = true): Resolved {
    const g = normPath(global)
    const view = this.view !== '/' && isWithin(g, this.view) ? this.view : '/'
    try {
      return resolvePath(this.look, view, view === '/' ? g : g.slice(view.length), follow)
    } catch (error) {
      if (error instanceof ResolveError) throw new SysError(error.errno)
      throw error
    }
  }

  /** The global path a path leads to (links followed inside the tree), as realpath(3) gives it in the caller's view. */
  canonical(global: string): string {
    try {
      return this.resolve(global).path
    } catch (error) {
      // Present only through a nullfs mount (the caller found it through backingPath): as given.
      if (error instanceof SysError) return normPath(global)
      throw error
    }
  }

  /** The real path of a global path, links resolved inside the tree (the last one only if `follow`). */
  real(global: string, follow = true): string {
    return this.tree(this.resolve(global, follow).path)
  }

  private kind(global: string, follow = true): PathKind | null {
    try {
      return this.resolve(global, follow).kind
    } catch (error) {
      if (error instanceof SysError) return null
      throw error
    }
  }

  isDir(global: string): boolean {
    return this.kind(global) === 'dir'
  }

  exists(global: string): boolean {
    return this.kind(global) !== null
  }

  /** What is at a path, the last component not followed (lstat). */
  lkind(global: string): PathKind | null {
    return this.kind(global, false)
  }

  /** mkdir -p: each missing directory made in the resolved parent; a component that is no directory (or a link to none) fails EEXIST / ENOTDIR. */
  mkdirp(global: string): void {
    const g = normPath(global)
    if (g === '/' || g === this.view) return
    let r: Resolved
    try {
      r = this.resolve(g, false)
    } catch (error) {
      if (!(error instanceof SysError) || error.errno !== 'ENOENT') throw error
      this.mkdirp(path.posix.dirname(g))
      r = this.resolve(g, false)
    }
    if (r.kind === 'dir') return
    if (r.kind === 'link') {
      // mkdir(2) on a link fails EEXIST; mkdir -p then accepts it only if it leads to a directory.
      if (this.isDir(g)) return
      throw new SysError('EEXIST')
    }
    if (r.kind !== null) throw new SysError('EEXIST')
    mkdirSync(this.tree(r.path))
  }

  /**
   * The text of a regular file. Opened with O_NONBLOCK and checked with fstat before reading,
   * so a FIFO, socket or device planted at the path fails (EAGAIN, EISDIR) instead of blocking.
   */
  read(global: string): string {
    const real = this.real(global)
    let fd: number
    try {
      fd = openSync(real, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      throw new SysError(code === 'ENOENT' ? 'ENOENT' : code === 'ELOOP' ? 'ELOOP' : 'EAGAIN')
    }
    try {
      const st = fstatSync(fd)
      if (st.isDirectory()) throw new SysError('EISDIR')
      if (!st.isFile()) throw new SysError('EAGAIN')
      return readFileSync(fd, 'utf8')
    } finally {
      closeSync(fd)
    }
  }

  /** Create or replace a file; a final link is followed inside the tree (open(2) with O_CREAT), never onto a FIFO or device. */
  write(global: string, text: string): void {
    this.mkdirp(path.posix.dirname(normPath(global)))
    const r = this.resolve(global)
    if (r.kind === 'dir') throw new SysError('EISDIR')
    if (r.kind === 'other') throw new SysError('EAGAIN')
    const fd = openSync(this.tree(r.path), constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o644)
    try {
      writeSync(fd, text)
    } finally {
      closeSync(fd)
    }
  }

  /**
   * Put a file in place as pkg(8) does (libpkg/pkg_add.c: the contents written to a temporary
   * file with openat(O_CREAT|O_EXCL), then renameat over the name): the directories are
   * followed, a link at the last component is replaced, never followed.
   */
  install(global: string, text: string, mode = 0o755): void {
    const g = normPath(global)
    this.mkdirp(path.posix.dirname(g))
    const dir = this.resolve(path.posix.dirname(g)).path
    const final = this.tree(path.posix.join(dir, path.posix.basename(g)))
    if (kindOf(final) === 'dir') throw new SysError('EISDIR')
    const temp = this.tree(path.posix.join(dir, `.${path.posix.basename(g)}.pkgtemp`))
    rmSync(temp, {force: true})
    const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode)
    try {
      writeSync(fd, text)
    } finally {
      closeSync(fd)
    }
    renameSync(temp, final)
  }

  /** rm -rf: the last component not followed (a link is removed, not what it leads to), nothing below followed. */
  removeTree(global: string): void {
    let r: Resolved
    try {
      r = this.resolve(global, false)
    } catch {
      return
    }
    if (r.path === '/' || r.path === this.view || r.kind === null) return
    rmSync(this.tree(r.path), {recursive: true, force: true})
  }

  /** Sorted matches of a glob with `*`, `?` and `[...]` in the last components. */
  glob(pattern: string): string[] {
    const parts = normPath(pattern).split('/').filter(Boolean)
    let found = ['/']
    for (const part of parts) {
      const next: string[] = []
      const magic = /[*?[]/.test(part)
      const re = magic ? globToRegExp(part) : undefined
      for (const dir of found) {
        if (!re) {
          const p = normPath(`${dir}/${part}`)
          if (this.exists(p)) next.push(p)
          continue
        }
        let names: string[] = []
        try {
          names = this.isDir(dir) ? readdirSync(this.real(dir)) : []
        } catch {
          names = []
        }
        for (const n of names.sort()) if (re.test(n) && !n.startsWith('.')) next.push(normPath(`${dir}/${n}`))
      }
      found = next
    }
    return found.sort()
  }

  private snapDir(guid: string): string {
    return path.join(this.root, 'snapshots', guid)
  }

  saveSnapshot(guid: string, fromGlobal: string): void {
    const to = this.snapDir(guid)
    rmSync(to, {recursive: true, force: true})
    mkdirSync(to, {recursive: true})
    if (this.isDir(fromGlobal)) for (const n of readdirSync(this.real(fromGlobal))) copyTree(path.join(this.real(fromGlobal), n), path.join(to, n))
  }

  copySnapshot(fromGuid: string, toGuid: string): void {
    const to = this.snapDir(toGuid)
    mkdirSync(to, {recursive: true})
    if (kindOf(this.snapDir(fromGuid)) === 'dir') copyTree(this.snapDir(fromGuid), to)
  }

  restoreSnapshot(guid: string, toGlobal: string): void {
    this.mkdirp(toGlobal)
    if (kindOf(this.snapDir(guid)) === 'dir') copyTree(this.snapDir(guid), this.real(toGlobal))
  }

  dropSnapshot(guid: string): void {
    rmSync(this.snapDir(guid), {recursive: true, force: true})
  }
}

function globToRegExp(g: string): RegExp {
  let re = ''
  for (let i = 0; i < g.length; i++) {
    const c = g[i] as string
    if (c === '*') re += '[^/]*'
    else if (c === '?') re += '[^/]'
    else if (c === '[') {
      const close = g.indexOf(']', i + 1)
      if (close < 0) re += '\\['
      else {
        re += `[${g.slice(i + 1, close).replace(/^!/, '^').replaceAll('\\', '\\\\')}]`
        i = close
      }
    } else re += c.replaceAll(/[.+^${}()|\\]/g, '\\$&')
  }
  return new RegExp(`^${re}$`)
}
