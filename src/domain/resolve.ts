// Path resolution as namei(9) does it for a process with a root directory (chroot(2), or a
// jail's root): one component at a time, a symbolic link's target read and walked again from
// the view's "/" (an absolute target) or from the link's directory (a relative one), `..`
// never above that "/", and at most MAXSYMLINKS links per lookup (then ELOOP). Used by the
// simulated host for every path it touches (so nothing a jail plants can reach outside its
// tree) and by nest's host files on the simulated host (src/host/host.ts). Pure: the caller
// supplies how to look at one path (lstat and readlink), over whatever tree it maps paths to.

/** sys/sys/param.h: `#define MAXSYMLINKS 32` (vfs_lookup.c fails with ELOOP past it). */
export const MAXSYMLINKS = 32

export type PathKind = 'dir' | 'file' | 'link' | 'other'

/** How a resolver looks at one path of the tree it resolves in (the path has no links in its directories). */
export interface PathLookup {
  /** lstat(2): what is at a path, null when nothing is. */
  kind(p: string): PathKind | null
  /** readlink(2) of a path whose kind is 'link'. */
  readlink(p: string): string
}

export interface Resolved {
  /** The path with every link in its directories replaced by where it leads, inside the view. */
  path: string
  /** What is there (a link only when the last component was not followed); null: nothing, in an existing directory. */
  kind: PathKind | null
}

export type ResolveErrno = 'ENOENT' | 'ENOTDIR' | 'ELOOP'

export class ResolveError extends Error {
  constructor(readonly errno: ResolveErrno, readonly at: string) {
    super(`${at}: ${errno}`)
  }
}

const parentOf = (p: string): string => p.slice(0, p.lastIndexOf('/')) || '/'
const join = (dir: string, name: string): string => (dir === '/' ? `/${name}` : `${dir}/${name}`)

/**
 * Resolve `p` (absolute, as seen in the view whose "/" is the tree's path `root`; a relative
 * path is taken from that "/") to a path of the tree below `root`. `follow`: whether a link in
 * the last component is followed (stat, open) or not (lstat, unlink, rmdir, rename, mkdir, open
 * with O_NOFOLLOW). `root` itself is taken as resolved already (a jail's recorded path).
 * Throws a ResolveError: ENOENT for a missing directory (or an empty link target), ENOTDIR
 * where a directory is needed, ELOOP past MAXSYMLINKS links.
 */
export function resolvePath(look: PathLookup, root: string, p: string, follow: boolean): Resolved {
  let cur = root
  let links = 0
  const todo = p.split('/').filter((c) => c !== '')
  while (todo.length > 0) {
    const c = todo.shift() as string
    if (c === '.') continue
    if (c === '..') {
      // vfs_lookup.c: ".." at the process's root directory (fd_rdir, the jail's root) stays there.
      if (cur !== root) cur = parentOf(cur)
      continue
    }
    const next = join(cur, c)
    const kind = look.kind(next)
    const last = todo.length === 0
    if (kind === 'link' && (follow || !last)) {
      if (++links > MAXSYMLINKS) throw new ResolveError('ELOOP', next)
      const target = look.readlink(next)
      // An empty target: vfs_lookup.c fails the lookup with ENOENT.
      if (target === '') throw new ResolveError('ENOENT', next)
      if (target.startsWith('/')) cur = root
      todo.unshift(...target.split('/').filter((x) => x !== ''))
      continue
    }
    if (last) return {path: next, kind}
    if (kind === null) throw new ResolveError('ENOENT', next)
    if (kind !== 'dir') throw new ResolveError('ENOTDIR', next)
    cur = next
  }
  return {path: cur, kind: look.kind(cur) ?? 'dir'}
}

/** `p` is `dir` or below it, by whole components. */
export function isWithin(p: string, dir: string): boolean {
  if (dir === '/') return p.startsWith('/')
  return p === dir || p.startsWith(`${dir}/`)
}
