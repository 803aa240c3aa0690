// Mounts in the simulated kernel: nmount(2)/unmount(2) permission and busy rules, nullfs
// stacking, and the per-jail views of the mount table (sys/kern/vfs_mount.c, kern_jail.c
// prison_canseemount / prison_enforce_statfs, sys/fs/nullfs/null_vfsops.c, §2.3 and §7).
import {JAIL_MOUNT_FS} from '../../jailconf/params.js'
import {ancestorsOf, getJail, isWithin} from './jails.js'
import {fail, globalPath, type Kernel, normPath, pathWithin, type SimJail, type SimMount} from './state.js'
import {devfsVisible, SIM_DEVICES} from './devfs.js'

/** The mount whose file system holds a global path: the deepest, latest mount point above it. */
export function mountHolding(k: Kernel, global: string, exclude?: number): SimMount | undefined {
  let best: SimMount | undefined
  for (const m of k.mounts) {
    if (m.id === exclude || !pathWithin(global, m.on)) continue
    if (!best || m.on.length >= best.on.length) best = m
  }
  return best
}

/** The top-most mount whose mount point is exactly `global`. */
export function mountAt(k: Kernel, global: string): SimMount | undefined {
  return k.mounts.filter((m) => m.on === global).at(-1)
}

/**
 * Where the files of a global path really live, following nullfs mounts to their lower
 * directories (so a file a parent sees through a nullfs mount is found in the sim's fs).
 */
export function backingPath(k: Kernel, global: string): string {
  let p = normPath(global)
  for (let guard = 0; guard < 64; guard++) {
    const m = mountHolding(k, p)
    if (!m || m.fstype !== 'nullfs' || m.lower === undefined) return p
    p = normPath(`${m.lower}/${p.slice(m.on.length)}`)
  }
  return p
}

export interface MountRequest {
  fstype: string
  from: string
  /** The mount point as the caller wrote it (inside its jail). */
  node: string
  /** -o options, split on commas. */
  options: string[]
}

export interface FsContext {
  isDir(global: string): boolean
  /**
   * Where a global path leads, links resolved inside the caller's view: vfs_domount looks the
   * mount point up with FOLLOW and records vn_path_to_global_path's result (sys/kern/vfs_mount.c),
   * as kern_jail_set does for a jail's path (sys/kern/kern_jail.c).
   */
  canonical?(global: string): string
}

const FLAG_OPTS = new Set(['ro', 'noexec', 'nosuid', 'noatime', 'union', 'nosymfollow', 'sync', 'async', 'multilabel', 'acls', 'nfsv4acls'])

/** PRIV_VFS_MOUNT and friends inside a jail: allow.mount and enforce_statfs < 2. */
export function canMountIn(j: SimJail): boolean {
  return j.jid === 0 || (j.allow.includes('mount') && j.enforceStatfs < 2)
}

/** nmount(2) from `caller`. Throws SysError; returns the new mount. */
/** sys/sys/mount.h: the size of the on/from name buffers of a mount, its NUL included. */
export const MNAMELEN = 1024

export function mountFs(k: Kernel, caller: number, req: MountRequest, fs: FsContext): SimMount {
  // vfs_donmount (sys/kern/vfs_mount.c), before the mount point is looked up: "Be ultra-paranoid
  // about making sure the type and fspath variables will fit in our mp buffers":
  // `fspathlen >= MNAMELEN - 1` → ENAMETOOLONG, fspathlen counting the NUL (vfs_getopt's length
  // of the "fspath" option mount(8) passes as strlen + 1), so 1022 bytes or more fail.
  if (Buffer.byteLength(normPath(req.node)) + 1 >= MNAMELEN - 1) fail('ENAMETOOLONG')
  const j = getJail(k, caller)
  const given = globalPath(j.path, req.node)
  if (!fs.isDir(backingPath(k, given))) fail('ENOENT')
  const on = fs.canonical ? fs.canonical(given) : given
  if (caller !== 0) {
    if (!canMountIn(j)) fail('EPERM')
    if (!(JAIL_MOUNT_FS as readonly string[]).includes(req.fstype)) fail('EPERM')
    if (!j.allow.includes(`mount.${req.fstype}`)) fail('EPERM')
  }
  // Pseudo file systems name themselves (vfs_mountedfrom(mp, "devfs")); nullfs keeps what was given.
  const from = ['devfs', 'procfs', 'fdescfs', 'tmpfs', 'linprocfs', 'linsysfs'].includes(req.fstype) ? req.fstype : req.from
  const m: SimMount = {id: k.nextMountId, fstype: req.fstype, from, on, opts: [], by: caller, byAncestors: ancestorsOf(k, caller)}
  const flags = req.options.filter((o) => FLAG_OPTS.has(o))
  if (req.fstype === 'devfs') {
    const rsOpt = req.options.find((o) => o.startsWith('ruleset='))
    const asked = rsOpt === undefined ? 0 : Number(rsOpt.slice('ruleset='.length))
    if (!Number.isInteger(asked) || asked < 0) fail('EINVAL')
    // devfs_mount: a jail may ask only for ruleset 0 or its own; its own is then applied.
    if (caller !== 0 && asked !== 0 && asked !== j.devfsRuleset) fail('EPERM')
    m.ruleset = caller === 0 ? asked : j.devfsRuleset
    m.hidden = SIM_DEVICES.filter((d) => !devfsVisible(k, m.ruleset ?? 0, d))
  } else if (req.fstype === 'nullfs') {
    const lowerGiven = globalPath(j.path, req.from)
    if (!fs.isDir(backingPath(k, lowerGiven))) fail('ENOENT')
    const lower = fs.canonical ? fs.canonical(lowerGiven) : lowerGiven
    const covered = mountHolding(k, on)
    // null_vfsops.c: mounting over a nullfs node whose lower vnode is the new lower → EDEADLK.
    if (covered?.fstype === 'nullfs' && covered.lower !== undefined && normPath(`${covered.lower}/${on.slice(covered.on.length)}`) === lower) {
      fail('EDEADLK')
    }
    m.lower = lower
    m.lowerMountId = mountHolding(k, lower)?.id ?? null
  } else if (!['tmpfs', 'procfs', 'fdescfs', 'linprocfs', 'linsysfs', 'fusefs', 'zfs'].includes(req.fstype)) {
    // Other file systems need devices the simulated host does not have.
    fail('ENOENT')
  }
  m.opts = [flags.includes('ro') ? 'ro' : 'rw', ...flags.filter((f) => f !== 'ro')]
  k.nextMountId++
  k.mounts.push(m)
  return m
}

/** Why a mount cannot be unmounted, or undefined. */
function busyReason(k: Kernel, m: SimMount, force: boolean): 'EBUSY' | undefined {
  // A file system mounted on a directory inside keeps a vnode busy, even with -f.
  if (k.mounts.some((o) => o.id !== m.id && o.on !== m.on && pathWithin(o.on, m.on))) return 'EBUSY'
  if (k.mounts.some((o) => o.id !== m.id && o.on === m.on && o.id > m.id)) return 'EBUSY'
  const uppers = k.mounts.filter((o) => o.fstype === 'nullfs' && o.lowerMountId === m.id)
  if (uppers.length > 0 && !(force && k.sysctl['vfs.recursive_forced_unmount'] === 1)) return 'EBUSY'
  if (force) return undefined
  // A jail's root vnode (pr_root) and open files keep the file system busy unless forced.
  if (k.jails.some((jl) => jl.rootMountId === m.id)) return 'EBUSY'
  if (m.busy) return 'EBUSY'
  return undefined
}

/** unmount(2) of the top-most mount at a path seen by `caller`. */
export function unmountFs(k: Kernel, caller: number, m: SimMount, force: boolean): void {
  const j = getJail(k, caller)
  if (caller !== 0) {
    if (!canMountIn(j)) fail('EPERM')
    // vfs_suser: only mounts made by the caller's jail or below it.
    if (!isWithin(k, m.by, caller) && !(m.byAncestors ?? []).includes(caller)) fail('EPERM')
  }
  const busy = busyReason(k, m, force)
  if (busy) fail(busy)
  if (force) {
    const uppers = k.mounts.filter((o) => o.fstype === 'nullfs' && o.lowerMountId === m.id)
    for (const u of uppers) unmountFs(k, 0, u, true)
  }
  k.mounts = k.mounts.filter((o) => o.id !== m.id)
  for (const jl of k.jails) if (jl.rootMountId === m.id) jl.rootMountId = null
}

export interface SeenMount {
  m: SimMount
  /** The mount point as the viewer sees it. */
  on: string
}

/** getfsstat(2) from a jail: what enforce_statfs lets it see, with paths rewritten. */
export function visibleMounts(k: Kernel, viewer: number): SeenMount[] {
  const j = getJail(k, viewer)
  const out: SeenMount[] = []
  for (const m of k.mounts) {
    if (viewer === 0 || j.enforceStatfs === 0) {
      out.push({m, on: m.on})
      continue
    }
    if (m.id === j.rootMountId) {
      out.push({m, on: '/'})
      continue
    }
    if (j.enforceStatfs === 2) continue
    if (j.path === '/') {
      out.push({m, on: m.on})
      continue
    }
    if (!pathWithin(m.on, j.path)) continue
    out.push({m, on: m.on === j.path ? '/' : m.on.slice(j.path.length)})
  }
  return out
}

/** Find the mount `umount <path>` means for a viewer: the last one at that visible path. */
export function findVisibleMount(k: Kernel, viewer: number, path: string): SimMount | undefined {
  const p = normPath(path)
  return visibleMounts(k, viewer).filter((s) => s.on === p).at(-1)?.m
}

/** Device visibility through a devfs ruleset (0 = nothing hidden), for /dev/zfs and /dev/fd checks. */
export {devfsVisible} from './devfs.js'
