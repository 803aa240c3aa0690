// mount(8), mount_nullfs(8) and umount(8) (sbin/mount, sbin/mount_nullfs, sbin/umount).
import {rmdirSync} from 'node:fs'

import {STRERROR} from '../../domain/errno.js'
import {findDisk, ufsMount, ufsUnmount} from '../kernel/disks.js'
import {loadFflags, saveFflags} from '../fflags.js'
import {devfsVisible, findVisibleMount, mountFs, unmountFs, visibleMounts} from '../kernel/mounts.js'
import {getJail} from '../kernel/jails.js'
import {globalPath, type Kernel, normPath, type SimMount} from '../kernel/state.js'
import {loadKernel, withKernel} from '../store.js'
import {errnoOf, getopt, notSimulated, strerror, type Tool, type ToolCtx, UsageError} from './common.js'

/** Option words of the plain listing, in sys/sys/mount.h MNTOPT_NAMES order. */
const WORDS: Array<[string, string]> = [
  ['async', 'asynchronous'], ['local', 'local'], ['noatime', 'noatime'], ['noexec', 'noexec'],
  ['nosuid', 'nosuid'], ['nosymfollow', 'nosymfollow'], ['ro', 'read-only'], ['sync', 'synchronous'],
  ['union', 'union'], ['multilabel', 'multilabel'], ['acls', 'acls'], ['nfsv4acls', 'nfsv4acls'],
]
const LOCAL_TYPES = new Set(['zfs', 'tmpfs', 'procfs', 'ufs', 'msdosfs', 'linprocfs', 'linsysfs'])

/** The flags statfs reports: nullfs adds those of the file system beneath it. */
function effectiveOpts(k: Kernel, m: SimMount): string[] {
  const own = new Set(m.opts)
  if (LOCAL_TYPES.has(m.fstype)) own.add('local')
  if (m.fstype === 'nullfs' && m.lowerMountId != null) {
    const lower = k.mounts.find((x) => x.id === m.lowerMountId)
    if (lower) for (const o of effectiveOpts(k, lower)) if (o !== 'rw' && o !== 'ro') own.add(o)
  }
  return [...own]
}

function plainLine(k: Kernel, m: SimMount, on: string): string {
  const opts = effectiveOpts(k, m)
  const words = WORDS.filter(([o]) => opts.includes(o)).map(([, w]) => w)
  return `${m.from} on ${on} (${[m.fstype, ...words].join(', ')})`
}

const P_ORDER = ['sync', 'noexec', 'nosuid', 'union', 'async', 'noatime', 'nosymfollow', 'multilabel', 'acls', 'nfsv4acls']

function tabPad(s: string): string {
  if (s.length < 8) return `${s}\t\t\t`
  if (s.length < 16) return `${s}\t\t`
  if (s.length < 24) return `${s}\t`
  return `${s} `
}

function fstabLine(k: Kernel, m: SimMount, on: string): string {
  const opts = effectiveOpts(k, m)
  const list = [opts.includes('ro') ? 'ro' : 'rw', ...P_ORDER.filter((o) => opts.includes(o))].join(',')
  return `${tabPad(m.from)}${tabPad(on)}${m.fstype}\t${list}${list.length < 8 ? '\t' : ' '}\t0 0`
}

function splitOpts(list: string[]): string[] {
  return list.flatMap((o) => o.split(',')).filter((o) => o !== '')
}

async function doNullfs(ctx: ToolCtx, tool: string, options: string[], target: string, node: string): Promise<number> {
  const k = loadKernel(ctx.root)
  const root = getJail(k, ctx.jid).path
  for (const p of [target, node]) {
    if (!ctx.fs.isDir(globalPath(root, p))) {
      ctx.err(`${tool}: ${p}: No such file or directory\n`)
      return 64
    }
  }
  try {
    await withKernel(ctx.root, (kk) => mountFs(kk, ctx.jid, {fstype: 'nullfs', from: target, node, options}, ctx.fs))
    return 0
  } catch (error) {
    if (!errnoOf(error)) throw error
    ctx.err(`mount_nullfs: ${node}: ${strerror(error)}\n`)
    return 1
  }
}

export const mountNullfs: Tool = async (ctx, argv) => {
  const o = getopt(argv, 'o:', () => {
    throw new UsageError('usage: mount_nullfs [-o options] target mount-point\n')
  })
  if (o.rest.length !== 2) throw new UsageError('usage: mount_nullfs [-o options] target mount-point\n')
  return doNullfs(ctx, 'mount_nullfs', splitOpts(o.multi.filter(([c]) => c === 'o').map(([, v]) => v)), o.rest[0] as string, o.rest[1] as string)
}

export const mount: Tool = async (ctx, argv) => {
  const o = getopt(argv, 'pt:o:', (c) => notSimulated(`mount -${c}`))
  const k = loadKernel(ctx.root)
  if (o.rest.length === 0) {
    if (o.flags.has('t') || o.flags.has('o')) notSimulated('mount -t/-o without special and node')
    for (const s of visibleMounts(k, ctx.jid)) ctx.out(`${o.flags.has('p') ? fstabLine(k, s.m, s.on) : plainLine(k, s.m, s.on)}\n`)
    return 0
  }
  const type = o.flags.get('t')
  if (typeof type !== 'string' || o.rest.length !== 2) notSimulated(`mount ${argv.join(' ')} (only mount -t type [-o options] special node)`)
  const [special, node] = o.rest as [string, string]
  const options = splitOpts(o.multi.filter(([c]) => c === 'o').map(([, v]) => v))
  // mount(8) resolves the mount point first (sbin/mount/getmntopts.c checkpath: realpath and
  // stat, ENOTDIR for anything but a directory; mount.c mountfs warns `mount: PATH: <strerror>`),
  // then runs the type's own program.
  const at = globalPath(getJail(k, ctx.jid).path, node)
  if (!ctx.fs.isDir(at)) {
    ctx.err(`mount: ${node}: ${ctx.fs.exists(at) ? 'Not a directory' : 'No such file or directory'}\n`)
    return 1
  }
  if (type === 'nullfs') return doNullfs(ctx, 'mount_nullfs', options, special, node)
  if (type === 'ufs') return doUfs(ctx, options, special, node, at)
  if (type === 'zfs' || !['devfs', 'tmpfs', 'procfs', 'fdescfs', 'linprocfs', 'linsysfs'].includes(type as string)) {
    notSimulated(`mount -t ${type}`)
  }
  try {
    await withKernel(ctx.root, (kk) => {
      const m = mountFs(kk, ctx.jid, {fstype: type as string, from: special, node, options}, ctx.fs)
      // devfs holds an `fd` directory (fildesc_drvinit in sys/kern/kern_descrip.c makes the
      // devices `fd/0`, `fd/1`, `fd/2`), shown when the mount's ruleset does not hide it; it is
      // where jail(8) mounts fdescfs (mount.fdescfs). The tree has no devfs contents, so the
      // directory is made here when missing and removed on unmount.
      const fd = `${m.on}/fd`
      if (m.fstype === 'devfs' && devfsVisible(kk, m.ruleset ?? 0, 'fd') && !ctx.fs.exists(fd)) {
        ctx.fs.mkdirp(fd)
        m.madeFd = true
      }
    })
    return 0
  } catch (error) {
    if (!errnoOf(error)) throw error
    ctx.err(`mount: ${special}: ${strerror(error)}\n`)
    return 1
  }
}

/**
 * mount -t ufs [-o ro] SPECIAL NODE on the host, SPECIAL a guest partition (/dev/md0p4,
 * /dev/zvol/...p4, /dev/gpt/LABEL): kernel/disks.ts ufsMount. Failures as mount(8)'s
 * mount_fs does: `mount: SPECIAL: ERRMSG: STRERROR` with the kernel's errmsg, else
 * `mount: SPECIAL: STRERROR` (the framing for 14.x is **unconfirmed**, migration.md §2.5).
 */
async function doUfs(ctx: ToolCtx, options: string[], special: string, node: string, at: string): Promise<number> {
  if (ctx.jid !== 0) notSimulated('mount -t ufs inside a jail')
  for (const w of options) if (!['ro', 'rw', 'rdonly'].includes(w)) notSimulated(`mount -t ufs -o ${w}`)
  const readonly = options.includes('ro') || options.includes('rdonly')
  let failed: {errno: 'ENOENT' | 'EINVAL' | 'EPERM' | 'EROFS' | 'EBUSY'; errmsg?: string} | undefined
  await withKernel(ctx.root, (kk) => {
    const on = ctx.fs.canonical(at)
    const r = ufsMount(kk, special, on, readonly, ctx.fs)
    if ('errno' in r) {
      failed = r
      return
    }
    kk.mounts.push({id: kk.nextMountId++, fstype: 'ufs', from: special, on, opts: [readonly ? 'ro' : 'rw'], by: 0, byAncestors: [], ufs: r})
    // The file system's file flags show on its files while it is mounted (fflags.ts).
    const flags = findDisk(kk, r.disk)?.parts.find((x) => x.index === r.index)?.ufs?.flags
    if (flags) {
      const record = loadFflags(ctx.root)
      for (const [rel, f] of Object.entries(flags)) record[normPath(`${on}${rel}`)] = f
      void saveFflags(ctx.root, record)
    }
  })
  if (failed) {
    ctx.err(`mount: ${special}: ${failed.errmsg ? `${failed.errmsg}: ` : ''}${STRERROR[failed.errno]}\n`)
    return 1
  }
  return 0
}

/**
 * umount(8) (sbin/umount/umount.c main, checkname, umountfs): every operand in order, each
 * failure warned and the next one still tried, exit 1 when any failed. An operand names a
 * mount point or a mounted special; one that names neither fails statfs (a path that does not
 * exist: two warnings) or is a directory on its parent's file system. A `-t` type that does
 * not match fails without a word (checkvfsname).
 */
export const umount: Tool = async (ctx, argv) => {
  const o = getopt(argv, 'ft:v', (c) => notSimulated(`umount -${c}`))
  if (o.rest.length === 0) throw new UsageError('usage: umount [-fNnv] special ... | node ... | fsid ...\n       umount -a | -A [-F fstab] [-fnv] [-h host] [-t type]\n')
  const force = o.flags.has('f')
  const type = o.flags.get('t')
  let status = 0
  for (const arg of o.rest) {
    const k = loadKernel(ctx.root)
    const path = normPath(arg)
    let m = findVisibleMount(k, ctx.jid, path)
    if (!m) m = visibleMounts(k, ctx.jid).filter((s) => s.m.from === arg).at(-1)?.m
    if (!m) {
      const exists = ctx.fs.isDir(globalPath(getJail(k, ctx.jid).path, path))
      ctx.err(exists ? `umount: ${arg}: not a file system root directory\n` : `umount: ${arg}: statfs: No such file or directory\numount: ${arg}: unknown file system\n`)
      status = 1
      continue
    }
    if (typeof type === 'string' && !type.split(',').includes(m.fstype)) {
      status = 1
      continue
    }
    const seen = visibleMounts(k, ctx.jid).find((s) => s.m.id === m?.id)?.on ?? path
    const id = m.id
    const from = m.from
    try {
      await withKernel(ctx.root, (kk) => {
        const cur = kk.mounts.find((x) => x.id === id)
        if (!cur) return
        unmountFs(kk, ctx.jid, cur, force)
        ufsUnmount(kk, cur, ctx.fs)
        if (cur.ufs) {
          const record = loadFflags(ctx.root)
          const below = Object.keys(record).filter((p) => p === cur.on || p.startsWith(`${cur.on}/`))
          for (const p of below) delete record[p]
          if (below.length > 0) void saveFflags(ctx.root, record)
        }
        if (cur.madeFd) {
          try {
            rmdirSync(ctx.fs.real(`${cur.on}/fd`, false))
          } catch {
            // Something was put there since: it stays, as a file of the tree beneath.
          }
        }
      })
      if (o.flags.has('v')) ctx.out(`${from}: unmount from ${seen}\n`)
    } catch (error) {
      if (!errnoOf(error)) throw error
      ctx.err(`umount: unmount of ${seen} failed: ${strerror(error)}\n`)
      status = 1
    }
  }
  return status
}
