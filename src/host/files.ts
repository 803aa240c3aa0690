// The host's files as nest reads and writes them, with one rule for every path below a jail's
// root (the `within` argument: the root of the outermost jail, in this nest's view, that the
// path lies below): the jail's root user controls everything there, so nothing below it is
// followed, blocked on or trusted. Each component below `within` is looked at with lstat and a
// link anywhere is an error naming the path; a file is opened with O_NOFOLLOW|O_NONBLOCK,
// checked with fstat to be a regular file and read up to READ_LIMIT; a file is written to a
// temporary name made with O_CREAT|O_EXCL|O_NOFOLLOW in the checked directory and renamed over
// the name (rename never follows a final link); trees are removed and copied with lstat, never
// through a link. The components up to `within` are the host's own and resolved normally.
//
// On the simulated host "/" is a directory of the local disk (fsRoot), and every path is first
// resolved with the simulator's chroot-style resolver inside it (src/domain/resolve.ts), so no
// link reaches outside that tree whatever the jails plant.
//
// The race that remains: Node has no openat(2), so the walk checks a directory by its path and
// the next call names it by its path again; a process in the jail can swap a checked directory
// for a link in between. Reads close it: after opening, the file's fstat must match the lstat
// of its name and every directory of the walk must still be the one checked (device and inode),
// or nothing is read; at worst the open itself happened on a file elsewhere (O_NONBLOCK: it
// cannot hang). Writes check the same after creating the temporary file and before writing a
// byte; at worst nest leaves an empty file with its random temporary name in a directory the
// jail chose, and reports it. The rename cannot leave the jail's tree (its source is the checked
// temporary file, its target in the same directory). Removing a tree can still be raced into
// removing files elsewhere between the lstat of a directory and the unlink of an entry in it;
// nest removes trees below a jail's root only where that jail is stopped, or where it made the
// tree itself a moment before (a failed create's release copy).
import {
  chmodSync, closeSync, constants, copyFileSync, fchmodSync, fstatSync, lstatSync, lutimesSync, mkdirSync, openSync, readdirSync, readlinkSync, readSync,
  renameSync, rmdirSync, rmSync, type Stats, statSync, symlinkSync, unlinkSync, utimesSync, writeSync,
} from 'node:fs'
import {randomBytes} from 'node:crypto'
import path from 'node:path'

import {errAsync, okAsync, ResultAsync} from 'neverthrow'
import writeFileAtomic from 'write-file-atomic'

import {conflict, internal, invalidInput, type NestError} from '../domain/errors.js'
import {isWithin, type PathKind, type PathLookup, resolvePath, ResolveError} from '../domain/resolve.js'

/** What nest reads of its own (jail.conf, nest.json, a wrapper, a lock's note) is small: more is refused. */
export const READ_LIMIT = 1024 * 1024

export type FileKind = 'none' | 'dir' | 'link' | 'other'

export interface FileStat {
  type: 'dir' | 'file' | 'link' | 'missing' | 'other'
  uid: number
  gid: number
  /** Permission bits (st_mode & 07777). */
  mode: number
}

export interface HostFiles {
  /** The local path of a host path (for locks). */
  local(p: string): string
  /** A regular file's text, null if there is none. */
  read(p: string, within?: string): ResultAsync<string | null, NestError>
  write(p: string, text: string, mode?: number, within?: string): ResultAsync<void, NestError>
  remove(p: string, within?: string): ResultAsync<void, NestError>
  /** Remove a directory tree (callers make sure nothing is mounted below it). */
  removeTree(p: string, within?: string): ResultAsync<void, NestError>
  list(dir: string, within?: string): ResultAsync<string[], NestError>
  isDir(p: string, within?: string): ResultAsync<boolean, NestError>
  /** What is at a path, without following a symbolic link there (below `within`: nor on the way). */
  kind(p: string, within?: string): ResultAsync<FileKind, NestError>
  mkdir(p: string, within?: string): ResultAsync<void, NestError>
  /** Set a directory's permission bits (a link there is refused, never followed). */
  chmod(p: string, mode: number): ResultAsync<void, NestError>
  /** lstat of a path (its owner, group and mode; a link is reported as a link, never followed). */
  stat(p: string, within?: string): ResultAsync<FileStat, NestError>
  /** Copy a tree, keeping modes, times and symbolic links (as links); `within`: what `to` is below. */
  copy(from: string, to: string, within?: string): ResultAsync<void, NestError>
}

/** A failure of one file operation, carried out of the synchronous walk. */
class Refused extends Error {
  constructor(readonly error: NestError, readonly reason: 'link' | 'not-dir' | 'other' = 'other') {
    super(error.message)
  }
}

const refuse = (error: NestError, reason: 'link' | 'not-dir' | 'other' = 'other'): never => {
  throw new Refused(error, reason)
}

const planted = (p: string, within: string, what: string, reason: 'link' | 'other' = 'other'): never =>
  refuse(conflict(`${p}: ${what}, below the root of a jail (${within}): nest does not follow or read it there`, `remove ${p} (it may have been planted by the jail's root user) and run the command again`), reason)

const why = (e: unknown): string => {
  const code = (e as NodeJS.ErrnoException).code
  return code === 'EEXIST' ? 'File exists' : code === 'ENOTDIR' ? 'Not a directory' : code === 'EACCES' ? 'Permission denied' : code === 'EISDIR' ? 'Is a directory'
    : code === 'ENOSPC' ? 'No space left on device' : code === 'ENOENT' ? 'No such file or directory' : code === 'ELOOP' ? 'Too many levels of symbolic links' : (e as Error).message
}

const fileError = (what: string, p: string) => (e: unknown): NestError => {
  if (e instanceof Refused) return e.error
  const code = (e as NodeJS.ErrnoException).code
  return code === 'ENOTDIR' || code === 'EISDIR' || code === 'EEXIST' || code === 'ELOOP' ? invalidInput(`cannot ${what} ${p}: ${why(e)}`, `make ${path.posix.dirname(p)} a directory`) : internal(`cannot ${what} ${p}: ${why(e)}`)
}

const attempt = <T>(what: string, p: string, f: () => T): ResultAsync<T, NestError> => {
  try {
    return okAsync(f())
  } catch (error) {
    return errAsync(fileError(what, p)(error))
  }
}

const lstatOrNull = (real: string): Stats | null => {
  try {
    return lstatSync(real)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return null
    throw error
  }
}

const kindOfStats = (st: Stats | null): FileKind => (st === null ? 'none' : st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : 'other')

const typeName = (st: Stats): string =>
  st.isFIFO() ? 'a FIFO' : st.isSocket() ? 'a socket' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isDirectory() ? 'a directory' : st.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'

/** A directory the walk checked: its device and inode, to see that it is still the same one. */
interface Stamp {
  real: string
  dev: number
  ino: number
}

/** Where a path is, its directories checked. */
interface Spot {
  /** The local path. */
  real: string
  /** The directories below `within` on the way, each checked. */
  stamps: Stamp[]
  within?: string
  /** A directory on the way is missing (nothing was created). */
  missing: boolean
}

const sameFile = (a: Stats, b: Stats): boolean => a.dev === b.dev && a.ino === b.ino

export function makeHostFiles(fsRoot: string, sim: boolean): HostFiles {
  const tree = (p: string): string => (fsRoot === '/' ? p : path.join(fsRoot, p))
  const look: PathLookup = {
    kind: (p) => {
      const st = lstatOrNull(tree(p))
      return st === null ? null : (st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other') as PathKind
    },
    readlink: (p) => readlinkSync(tree(p), 'utf8'),
  }

  /**
   * The local path of a host path outside any jail's root: on FreeBSD the path itself (the
   * kernel resolves it); on the simulated host resolved inside fsRoot, directories followed
   * there, the last component only if `follow`. `mkdirs`: make missing directories on the way.
   */
  const hostPath = (p: string, follow: boolean, mkdirs = false): string | null => {
    if (!sim) {
      if (mkdirs) mkdirSync(p, {recursive: true})
      return p
    }
    for (let guard = 0; guard < 256; guard++) {
      try {
        const r = resolvePath(look, '/', p, follow)
        if (mkdirs && r.kind === null) mkdirSync(tree(r.path))
        return tree(r.path)
      } catch (error) {
        if (!(error instanceof ResolveError)) throw error
        if (error.errno !== 'ENOENT' || !mkdirs) {
          if (error.errno === 'ENOENT') return null
          throw Object.assign(new Error(error.errno), {code: error.errno})
        }
        mkdirSync(tree(error.at))
      }
    }
    throw new Error(`cannot resolve ${p}`)
  }

  /**
   * The local path of a host path (a lock's): on the simulated host its directories resolved
   * (and made) inside fsRoot, so that a link a jail planted at a child manager's /var/run/nest
   * leads to a directory inside the tree, never onto the local disk; the last name as it is.
   */
  const local = (p: string): string => {
    if (!p.startsWith('/')) throw new Error(`host path ${p} is not absolute`)
    if (!sim) return path.join(fsRoot, p)
    return path.join(hostPath(path.posix.dirname(p), true, true) ?? tree(path.posix.dirname(p)), path.posix.basename(p))
  }

  /** Walk `p` below `within`: each directory by lstat, no link; missing ones made if `mkdirs`. */
  const spot = (p: string, within: string | undefined, follow: boolean, mkdirs = false): Spot => {
    if (!p.startsWith('/')) throw new Error(`host path ${p} is not absolute`)
    const norm = path.posix.normalize(p)
    if (within === undefined) {
      const real = hostPath(norm, follow, mkdirs)
      return real === null ? {real: tree(norm), stamps: [], missing: true} : {real, stamps: [], missing: false}
    }
    if (!isWithin(norm, within)) throw new Error(`${p} is not below ${within}`)
    const head = hostPath(within, true, mkdirs)
    if (head === null) return {real: tree(norm), stamps: [], within, missing: true}
    const rest = norm.slice(within.length).split('/').filter((c) => c !== '')
    if (rest.includes('..')) throw new Error(`${p}: .. below a jail's root`)
    let cur = head
    const stamps: Stamp[] = []
    let headSt: Stats
    try {
      headSt = statSync(head)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      return {real: tree(norm), stamps: [], within, missing: true}
    }
    if (!headSt.isDirectory()) refuse(invalidInput(`cannot use ${p}: ${within} is not a directory`, `make ${within} a directory`), 'not-dir')
    stamps.push({real: head, dev: headSt.dev, ino: headSt.ino})
    for (const [i, c] of rest.entries()) {
      if (i === rest.length - 1) break
      const next = path.join(cur, c)
      let st = lstatOrNull(next)
      if (st === null) {
        if (!mkdirs) return {real: path.join(cur, ...rest.slice(i)), stamps, within, missing: true}
        // mkdir(2) never follows: a link that appeared meanwhile is EEXIST, then seen below.
        try {
          mkdirSync(next, {mode: 0o755})
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
        }
        st = lstatSync(next)
      }
      const shown = path.posix.join(within, ...rest.slice(0, i + 1))
      if (st.isSymbolicLink()) planted(shown, within, 'a symbolic link', 'link')
      if (!st.isDirectory()) refuse(invalidInput(`cannot use ${p}: ${shown} is not a directory`, `make ${shown} a directory`), 'not-dir')
      stamps.push({real: next, dev: st.dev, ino: st.ino})
      cur = next
    }
    return {real: rest.length === 0 ? head : path.join(cur, rest.at(-1) as string), stamps, within, missing: false}
  }

  /** The directories of a walk are still the ones it checked (nothing swapped for a link meanwhile). */
  const recheck = (s: Spot, p: string): void => {
    for (const st of s.stamps) {
      const now = lstatOrNull(st.real)
      if (now === null || now.isSymbolicLink() || now.dev !== st.dev || now.ino !== st.ino) {
        refuse(conflict(`${p}: a directory on the way changed while nest used it, below the root of a jail (${s.within ?? '/'})`, 'see what runs in that jail, and run the command again'))
      }
    }
  }

  const read = (p: string, within?: string): string | null => {
    const s = spot(p, within, true)
    if (s.missing) return null
    let fd: number
    try {
      fd = openSync(s.real, constants.O_RDONLY | constants.O_NONBLOCK | (within === undefined ? 0 : constants.O_NOFOLLOW))
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ENOENT') return null
      // O_NOFOLLOW on a link: ELOOP (FreeBSD: EMLINK). A socket cannot be opened: ENXIO / EOPNOTSUPP.
      if (within !== undefined && (code === 'ELOOP' || code === 'EMLINK')) planted(p, within, 'a symbolic link', 'link')
      if (code === 'ENXIO' || code === 'EOPNOTSUPP') refuse(invalidInput(`cannot read ${p}: a socket, not a regular file`, `remove ${p}`))
      throw error
    }
    try {
      const st = fstatSync(fd)
      if (!st.isFile()) {
        if (within !== undefined) planted(p, within, `${typeName(st)}, not a regular file`)
        refuse(invalidInput(`cannot read ${p}: ${typeName(st)}, not a regular file`, `make ${p} a regular file`))
      }
      if (st.size > READ_LIMIT) refuse(invalidInput(`cannot read ${p}: ${st.size} bytes, more than nest reads of a file of its own (${READ_LIMIT})`, `remove ${p}, or make it what nest wrote there`))
      if (within !== undefined) {
        const named = lstatOrNull(s.real)
        if (named === null || !sameFile(named, st)) planted(p, within, 'a file that changed while nest opened it')
        recheck(s, p)
      }
      const buf = Buffer.alloc(Math.min(st.size, READ_LIMIT) + 1)
      let n = 0
      for (let got = -1; got !== 0 && n < buf.length;) {
        got = readSync(fd, buf, n, buf.length - n, null)
        n += got
      }
      if (n > READ_LIMIT) refuse(invalidInput(`cannot read ${p}: more than nest reads of a file of its own (${READ_LIMIT} bytes)`, `remove ${p}`))
      return buf.subarray(0, n).toString('utf8')
    } finally {
      closeSync(fd)
    }
  }

  /** Below a jail's root: a temporary file in the checked directory, checked again, then renamed over the name. */
  const writeBelow = (p: string, text: string, mode: number, within: string): void => {
    const s = spot(p, within, false, true)
    const here = lstatOrNull(s.real)
    if (here?.isDirectory()) refuse(invalidInput(`cannot write ${p}: Is a directory`, `remove the directory ${p}`))
    const temp = path.join(path.dirname(s.real), `.${path.basename(s.real)}.nest-${process.pid}-${randomBytes(6).toString('hex')}`)
    const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode)
    let done = false
    try {
      const st = fstatSync(fd)
      const named = lstatOrNull(temp)
      if (named === null || !sameFile(named, st)) planted(p, within, `a directory that changed while nest wrote ${path.basename(temp)}`)
      recheck(s, p)
      writeSync(fd, text)
      fchmodSync(fd, mode)
      closeSync(fd)
      done = true
      renameSync(temp, s.real)
    } catch (error) {
      if (!done) closeSync(fd)
      try {
        unlinkSync(temp)
      } catch {
        // Gone already (renamed), or never where the name leads now.
      }
      throw error
    }
  }

  /**
   * rm -rf by lstat: a link is unlinked, never followed; a directory emptied, then removed.
   * Before each entry the directory is checked to be the one listed (device and inode), which
   * narrows the race above to the moment between that check and the unlink.
   */
  const removeBelow = (real: string): void => {
    const st = lstatOrNull(real)
    if (st === null) return
    if (!st.isDirectory()) {
      unlinkSync(real)
      return
    }
    for (const n of readdirSync(real)) {
      const now = lstatOrNull(real)
      if (now === null || !sameFile(now, st) || !now.isDirectory()) refuse(conflict(`${real}: a directory changed while nest removed it`, 'see what runs in that jail, and run the command again'))
      removeBelow(path.join(real, n))
    }
    rmdirSync(real)
  }

  /** Copy a tree by lstat: directories made, files copied (the target made anew, O_EXCL), links copied as links, special files left out. */
  const copyTree = (from: string, to: string): void => {
    const st = lstatSync(from)
    const have = lstatOrNull(to)
    if (st.isDirectory()) {
      if (have !== null && (have.isSymbolicLink() || !have.isDirectory())) unlinkSync(to)
      if (have === null || have.isSymbolicLink() || !have.isDirectory()) mkdirSync(to, {mode: st.mode & 0o7777})
      for (const n of readdirSync(from)) copyTree(path.join(from, n), path.join(to, n))
      utimesSync(to, st.atime, st.mtime)
      return
    }
    if (!st.isFile() && !st.isSymbolicLink()) return
    if (have?.isDirectory()) removeBelow(to)
    else if (have !== null) unlinkSync(to)
    if (st.isSymbolicLink()) {
      symlinkSync(readlinkSync(from), to)
      lutimesSync(to, st.atime, st.mtime)
      return
    }
    copyFileSync(from, to, constants.COPYFILE_EXCL)
    utimesSync(to, st.atime, st.mtime)
  }

  return {
    local,
    read: (p, within) => attempt('read', p, () => read(p, within)),
    write: (p, text, mode = 0o644, within = undefined) => {
      if (within !== undefined) return attempt('write', p, () => writeBelow(p, text, mode, within))
      return attempt('write', p, () => spot(path.posix.dirname(p), undefined, true, true).real).andThen((dir) =>
        ResultAsync.fromPromise(writeFileAtomic(path.join(dir, path.posix.basename(p)), text, {mode}), fileError('write', p)))
    },
    remove: (p, within) => attempt('remove', p, () => {
      const s = spot(p, within, false)
      if (s.missing) return
      const st = lstatOrNull(s.real)
      if (st === null) return
      if (st.isDirectory()) throw Object.assign(new Error('EISDIR'), {code: 'EISDIR'})
      unlinkSync(s.real)
    }),
    removeTree: (p, within) => attempt('remove', p, () => {
      const s = spot(p, within, false)
      if (s.missing) return
      if (within === undefined) rmSync(s.real, {force: true, recursive: true})
      else removeBelow(s.real)
    }),
    list: (dir, within) => attempt('list', dir, () => {
      const s = spot(dir, within, within === undefined)
      if (s.missing) return []
      const st = lstatOrNull(s.real)
      if (st === null) return []
      if (within !== undefined && st.isSymbolicLink()) planted(dir, within, 'a symbolic link', 'link')
      return readdirSync(s.real)
    }),
    chmod: (p, mode) => attempt('change the mode of', p, () => {
      const s = spot(p, undefined, false)
      const st = s.missing ? null : lstatOrNull(s.real)
      if (st === null) throw Object.assign(new Error('ENOENT'), {code: 'ENOENT'})
      if (!st.isDirectory()) refuse(invalidInput(`cannot change the mode of ${p}: ${st.isSymbolicLink() ? 'a symbolic link' : 'not a directory'}`, `make ${p} a directory`))
      chmodSync(s.real, mode)
    }),
    mkdir: (p, within) => attempt('create', p, () => {
      const s = spot(p, within, false, true)
      const st = lstatOrNull(s.real)
      if (st === null) {
        mkdirSync(s.real, {mode: 0o755})
        return
      }
      if (st.isDirectory()) return
      if (within !== undefined && st.isSymbolicLink()) planted(p, within, 'a symbolic link')
      if (!st.isSymbolicLink() || !statSync(s.real).isDirectory()) throw Object.assign(new Error('EEXIST'), {code: 'EEXIST'})
    }),
    copy: (from, to, within) => attempt('copy', from, () => {
      const src = spot(from, undefined, true)
      if (src.missing) throw Object.assign(new Error('ENOENT'), {code: 'ENOENT'})
      const dst = spot(to, within, false, true)
      const st = lstatOrNull(dst.real)
      if (within !== undefined && st?.isSymbolicLink()) planted(to, within, 'a symbolic link')
      copyTree(src.real, dst.real)
    }),
    stat: (p, within) => attempt('stat', p, (): FileStat => {
      const missing: FileStat = {type: 'missing', uid: -1, gid: -1, mode: 0}
      try {
        const s = spot(p, within, false)
        const st = s.missing ? null : lstatOrNull(s.real)
        if (st === null) return missing
        return {type: st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other', uid: st.uid, gid: st.gid, mode: st.mode & 0o7777}
      } catch (error) {
        // Below a jail's root a link on the way is what is there, as far as nest looks.
        if (error instanceof Refused && error.reason === 'link') return {...missing, type: 'link'}
        if (error instanceof Refused && error.reason === 'not-dir') return missing
        throw error
      }
    }),
    kind: (p, within) => attempt('stat', p, () => {
      try {
        const s = spot(p, within, false)
        return s.missing ? 'none' : kindOfStats(lstatOrNull(s.real))
      } catch (error) {
        // Below a jail's root a link on the way is what is there, as far as nest looks; below a non-directory, nothing is.
        if (error instanceof Refused && error.reason === 'link') return 'link'
        if (error instanceof Refused && error.reason === 'not-dir') return 'none'
        throw error
      }
    }),
    isDir: (p, within) => attempt('stat', p, () => {
      try {
        const s = spot(p, within, true)
        if (s.missing) return false
        return within === undefined ? statSync(s.real).isDirectory() : kindOfStats(lstatOrNull(s.real)) === 'dir'
      } catch (error) {
        if (error instanceof Refused) return false
        const code = (error as NodeJS.ErrnoException).code
        if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return false
        throw error
      }
    }),
  }
}
