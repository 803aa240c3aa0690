// Guest disks in the simulated kernel: what is written on a zvol or a vm-bhyve image file (a
// GPT and, per partition, a ZFS pool, a UFS file system or opaque data), md(4) units, and the
// GEOM view of them all (migration.md §2, §7.1). Plain data in `Kernel.disks` / `Kernel.mds`;
// the files of guest datasets and UFS file systems are trees in the simulator's tree store
// (`<sim root>/snapshots/<id>`, ZfsFs), never in a host directory until something mounts them.
//
// Copy-on-write: a volume, its snapshots and clones (and every copy of an image file) name the
// same disk until one of them writes (a pool import, a read-write UFS mount): the writer then
// gets a copy of its own (writableDisk), so the disk of the VM stays exactly as it was.
import type {Kernel, SimDataset} from './state.js'
import {type ZfsFs, newContentId, prop} from './zfs.js'

/** A pool feature: its guid, zfeature_common.c's description, and whether it is ZFEATURE_FLAG_READONLY_COMPAT. */
export interface GuestFeature {
  guid: string
  description?: string
  readonlyCompat?: boolean
}

/** One dataset of a guest pool as its disk holds it (names relative to the pool: '' is the root). */
export interface GuestDataset {
  name: string
  type: 'filesystem' | 'volume'
  /** Local properties (source `local`), canonical names, numbers in bytes. */
  props: Record<string, string>
  /** Its files in the tree store. */
  content?: string
  snapshots: Array<{name: string; content: string}>
}

/** A ZFS pool's label and contents on one partition (vdev_label / the MOS, as the model keeps them). */
export interface GuestPool {
  name: string
  /** The pool GUID (decimal, as `zpool import` prints `id:`). */
  guid: string
  /** The hostid and hostname of the system that last wrote the label (spa_config, ZPOOL_CONFIG_HOSTID / HOSTNAME). */
  hostid: number
  hostname: string
  /** POOL_STATE_ACTIVE (never exported: a root pool after its system stopped) or POOL_STATE_EXPORTED. */
  state: 'ACTIVE' | 'EXPORTED'
  txg: number
  /** ZPOOL_CONFIG_TIMESTAMP: seconds since the epoch of the last label write. */
  timestamp: number
  /** Its active features (zpool.ts HOST_FEATURES are those this host knows). */
  features: GuestFeature[]
  /** Relative name of the bootfs dataset (`ROOT/default`), if set. */
  bootfs?: string
  datasets: GuestDataset[]
  /** Set while the pool is imported: the in-core name its datasets have in `Kernel.datasets`. */
  importedAs?: string
}

export interface GuestUfs {
  /** fs_clean: false after a crash (ffs_vfsops.c refuses a read-write mount then). */
  clean: boolean
  content: string
  /**
   * File flags (chflags: `schg`) by path inside the file system: the tree store holds plain files,
   * so a mount puts them into the host's flag record (src/sim/fflags.ts), and its unmount takes
   * them out again.
   */
  flags?: Record<string, string>
}

/** One GPT entry (gpart's view: index, type, start and size in 512-byte sectors, label). */
export interface SimPartition {
  index: number
  type: string
  start: number
  size: number
  label?: string
  pool?: GuestPool
  ufs?: GuestUfs
}

export interface SimDisk {
  id: string
  /** Media size in 512-byte sectors. */
  sectors: number
  /** The GPT's first and last usable LBA (gpart's `=>` line); absent: no partition table. */
  gpt?: {first: number; last: number}
  parts: SimPartition[]
  /** An image file names it (its marker text): kept while any copy of the file may exist. */
  file?: boolean
}

/** An md(4) unit: a vnode-backed memory disk over a regular file. */
export interface SimMd {
  unit: number
  /** The backing file's real path (global). */
  file: string
  disk: string
  readonly: boolean
  /** The disk became this unit's own (copied at its first write): the file names it now. */
  owned?: boolean
}

/** What zpool import recorded about an imported guest pool (SimPool.guest). */
export interface ImportedPool {
  /** The disk and partition of its one vdev, and the device path it was found by. */
  disk: string
  index: number
  vdev: string
  /** The pool's name on disk (differs from the in-core name after `-t`). */
  onDisk: string
  temporary: boolean
  altroot?: string
  readonly: boolean
  /** `none` with -R or -t (zpool_do_import sets cachefile=none), else the default (absent). */
  cachefile?: string
}

export const SECTOR = 512

/** The text a vm-bhyve image file holds in the model: which guest disk its bytes are. */
export const imageMarker = (id: string): string => `nest-sim guest disk ${id}\n`

/** The disk an image file's text names, if it is one. */
export function diskOfImage(text: string): string | undefined {
  return /^nest-sim guest disk (\S+)\n?$/.exec(text)?.[1]
}

export function findDisk(k: Kernel, id: string): SimDisk | undefined {
  return k.disks.find((d) => d.id === id)
}

export function newDisk(k: Kernel, sectors: number): SimDisk {
  k.diskSeq++
  const d: SimDisk = {id: `disk-${k.diskSeq}`, sectors, parts: []}
  k.disks.push(d)
  return d
}

/** Every tree-store id a disk's contents use. */
function contentIds(d: SimDisk): string[] {
  const out: string[] = []
  for (const p of d.parts) {
    if (p.ufs) out.push(p.ufs.content)
    for (const ds of p.pool?.datasets ?? []) {
      if (ds.content !== undefined) out.push(ds.content)
      for (const s of ds.snapshots) out.push(s.content)
    }
  }
  return out
}

/** A copy of a disk (its files copied in the tree store under fresh ids). */
export function copyDisk(k: Kernel, from: SimDisk, fs: ZfsFs): SimDisk {
  const copy = newDisk(k, from.sectors)
  const {id} = copy
  Object.assign(copy, structuredClone(from), {id})
  const remap = (old: string): string => {
    const n = newContentId(k)
    fs.copySnapshot(old, n)
    return n
  }
  for (const p of copy.parts) {
    if (p.ufs) p.ufs.content = remap(p.ufs.content)
    for (const ds of p.pool?.datasets ?? []) {
      if (ds.content !== undefined) ds.content = remap(ds.content)
      for (const s of ds.snapshots) s.content = remap(s.content)
    }
  }
  return copy
}

/** How many holders the model knows name a disk: volumes and their snapshots, md units. */
export function diskRefs(k: Kernel, id: string): number {
  return k.datasets.filter((d) => d.disk === id).length + k.mds.filter((m) => m.disk === id).length
}

/**
 * Forget disks nothing names any more (no volume, snapshot, md unit or imported pool), with
 * their files. Disks of image files are kept: a file's copies (snapshots of its dataset) are not
 * counted, so those disks are never dropped.
 */
export function dropUnusedDisks(k: Kernel, fs: ZfsFs): void {
  k.disks = k.disks.filter((d) => {
    if (d.parts.some((p) => p.pool?.importedAs !== undefined)) return true
    if (diskRefs(k, d.id) > 0 || d.file) return true
    for (const c of contentIds(d)) fs.dropSnapshot(c)
    return false
  })
}

/** A holder of a disk, as a writer reaches it. */
export type Holder = {kind: 'zvol'; name: string} | {kind: 'md'; unit: number}

/**
 * The disk a holder may write, made its own first if anything else shares it (copy-on-write):
 * a volume shared with its snapshots or clones, or an md unit's file (whose copies the model does
 * not count: an md unit always copies at its first write, and its file then names the copy).
 */
export function writableDisk(k: Kernel, holder: Holder, fs: ZfsFs & {write?(p: string, t: string): void}): SimDisk {
  if (holder.kind === 'zvol') {
    const d = k.datasets.find((x) => x.name === holder.name) as SimDataset
    const disk = findDisk(k, d.disk ?? '') as SimDisk
    if (diskRefs(k, disk.id) <= 1) return disk
    const copy = copyDisk(k, disk, fs)
    d.disk = copy.id
    return copy
  }
  const md = k.mds.find((m) => m.unit === holder.unit) as SimMd
  const disk = findDisk(k, md.disk) as SimDisk
  if (md.owned) return disk
  const copy = copyDisk(k, disk, fs)
  copy.file = true
  md.disk = copy.id
  md.owned = true
  fs.write?.(md.file, imageMarker(copy.id))
  return copy
}

// ---------------------------------------------------------------------------------------------
// GEOM

/** A GEOM provider (or, for volmode=dev, the zvol's character device), and what it is. */
export interface Provider {
  /** The name below /dev: `zvol/zroot/vm/g/disk0`, `zvol/...p4`, `md0`, `md0p4`, `gpt/rootfs`. */
  name: string
  holder: Holder
  disk: string
  /** A partition's index; absent for the whole disk. */
  index?: number
  /** The whole disk's provider name, for a partition (its GEOM PART geom). */
  geom: string
  /** A GEOM provider (gpart sees it), not only a character device (volmode=dev). */
  isGeom: boolean
  /** The device can only be read (an md unit attached read-only). */
  readonly: boolean
}

/** zvol_os.c volmode values: ZFS_VOLMODE_DEFAULT 0, GEOM 1, DEV 2, NONE 3; `default` takes vfs.zfs.vol.mode (zvol_volmode, 1). */
export function effectiveVolmode(k: Kernel, d: SimDataset): 'geom' | 'dev' | 'none' {
  const v = prop(k, d, 'volmode')
  if (v === 'geom' || v === 'full') return 'geom'
  if (v === 'dev') return 'dev'
  if (v === 'none') return 'none'
  const tun = k.sysctl['vfs.zfs.vol.mode'] ?? 1
  return tun === 2 ? 'dev' : tun === 3 ? 'none' : 'geom'
}

/**
 * Every provider that exists: `zvol/<ds>` for each volume not volmode=none (a GEOM provider for
 * geom/full, a plain device for dev: zvol_os.c g_new_providerf / make_dev_s "%s/%s", ZVOL_DRIVER),
 * its partitions `zvol/<ds>pN` only for geom/full (GEOM PART tastes providers, not devices);
 * `mdN` and `mdNpK` for md units; `gpt/<label>` for every labelled partition of a GEOM provider
 * (g_label_gpt; duplicates allowed).
 */
export function providers(k: Kernel): Provider[] {
  const out: Provider[] = []
  const add = (base: string, holder: Holder, disk: SimDisk, isGeom: boolean, readonly: boolean): void => {
    out.push({name: base, holder, disk: disk.id, geom: base, isGeom, readonly})
    if (!isGeom || !disk.gpt) return
    for (const p of disk.parts) out.push({name: `${base}p${p.index}`, holder, disk: disk.id, index: p.index, geom: base, isGeom, readonly})
    for (const p of disk.parts) if (p.label) out.push({name: `gpt/${p.label}`, holder, disk: disk.id, index: p.index, geom: base, isGeom, readonly})
  }
  for (const d of k.datasets) {
    if (d.type !== 'volume' || d.disk === undefined) continue
    const disk = findDisk(k, d.disk)
    const mode = effectiveVolmode(k, d)
    if (!disk || mode === 'none') continue
    add(`zvol/${d.name}`, {kind: 'zvol', name: d.name}, disk, mode === 'geom', prop(k, d, 'readonly') === 'on')
  }
  for (const m of [...k.mds].sort((a, b) => a.unit - b.unit)) {
    const disk = findDisk(k, m.disk)
    if (disk) add(`md${m.unit}`, {kind: 'md', unit: m.unit}, disk, true, m.readonly)
  }
  return out
}

/** The provider a device path names: `/dev/zvol/...`, `/dev/md0p4`, or a bare provider name. */
export function resolveDevice(k: Kernel, dev: string): Provider | undefined {
  const name = dev.startsWith('/dev/') ? dev.slice('/dev/'.length) : dev
  return providers(k).find((p) => p.name === name)
}

/** The partition a provider is, if it is one. */
export function partitionOf(k: Kernel, p: Provider): SimPartition | undefined {
  if (p.index === undefined) return undefined
  return findDisk(k, p.disk)?.parts.find((x) => x.index === p.index)
}

// ---------------------------------------------------------------------------------------------
// md(4) and UFS

/** What mdconfig's ioctls and md_set_file fail with (the whole message after `mdconfig: `). */
export class MdError extends Error {}

const mdfail = (message: string): never => {
  throw new MdError(message)
}

/** The md unit a disk is attached as, if any holds a UFS mount or an imported pool (EBUSY on detach). */
export function diskBusy(k: Kernel, id: string): boolean {
  return k.mounts.some((m) => m.ufs?.disk === id) || k.pools.some((p) => p.guest?.disk === id)
}

/**
 * MDIOCATTACH of a vnode unit over a regular file: the first free unit (md.c mdnew with
 * MD_AUTOUNIT) or the one asked for (EBUSY if it exists). The file's text names its guest disk
 * (imageMarker); any other regular file is a blank disk of its size.
 */
export function mdAttach(k: Kernel, file: string, text: string, size: number, readonly: boolean, unit?: number): SimMd {
  if (unit !== undefined && k.mds.some((m) => m.unit === unit)) mdfail('ioctl(/dev/mdctl): Device busy')
  let u = unit ?? 0
  while (unit === undefined && k.mds.some((m) => m.unit === u)) u++
  let id = diskOfImage(text)
  let owned = false
  if (id === undefined || !findDisk(k, id)) {
    id = newDisk(k, Math.floor(size / SECTOR)).id
    owned = true
  }
  const md: SimMd = {unit: u, file, disk: id, readonly, ...(owned ? {owned} : {})}
  k.mds.push(md)
  return md
}

/** MDIOCDETACH: ENOENT for no such unit, EBUSY while its disk is mounted or imported, unless forced. */
export function mdDetach(k: Kernel, unit: number, force: boolean, fs: ZfsFs): void {
  const md = k.mds.find((m) => m.unit === unit)
  if (!md) return mdfail('ioctl(/dev/mdctl): No such file or directory')
  if (diskBusy(k, md.disk) && !force) mdfail('ioctl(/dev/mdctl): Device busy')
  k.mds = k.mds.filter((m) => m !== md)
  dropUnusedDisks(k, fs)
}

/**
 * mount -t ufs [-o ro] SPECIAL DIR over a partition that holds a UFS file system: its files
 * appear at DIR (copied from the tree store). Read-write needs a clean file system (ffs_vfsops.c
 * ffs_mount: "R/W mount of %s denied. Filesystem is not clean - run fsck." and EPERM) and a
 * writable device (EROFS); it writes, so the holder's disk is made its own first.
 */
export function ufsMount(k: Kernel, special: string, on: string, readonly: boolean, fs: ZfsFs & {write?(p: string, t: string): void}): {errno: 'ENOENT' | 'EINVAL' | 'EPERM' | 'EROFS' | 'EBUSY'; errmsg?: string} | {disk: string; index: number} {
  const p = resolveDevice(k, special)
  if (!p) return {errno: 'ENOENT'}
  const part = partitionOf(k, p)
  if (!part?.ufs) return {errno: 'EINVAL'}
  if (k.mounts.some((m) => m.ufs?.disk === p.disk && m.ufs.index === part.index)) return {errno: 'EBUSY'}
  if (!readonly && !part.ufs.clean) return {errno: 'EPERM', errmsg: `R/W mount of ${on} denied. Filesystem is not clean - run fsck.`}
  if (!readonly && p.readonly) return {errno: 'EROFS'}
  const disk = readonly ? (findDisk(k, p.disk) as SimDisk) : writableDisk(k, p.holder, fs)
  const mine = disk.parts.find((x) => x.index === part.index) as SimPartition
  fs.restoreSnapshot((mine.ufs as GuestUfs).content, on)
  return {disk: disk.id, index: mine.index}
}

/** umount of a UFS mount: a read-write one's files go back to its partition; the directory is emptied. */
export function ufsUnmount(k: Kernel, m: {on: string; opts: string[]; ufs?: {disk: string; index: number}}, fs: ZfsFs): void {
  if (!m.ufs) return
  const ufs = findDisk(k, m.ufs.disk)?.parts.find((x) => x.index === m.ufs?.index)?.ufs
  if (ufs && !m.opts.includes('ro')) fs.saveSnapshot(ufs.content, m.on)
  fs.removeTree(m.on)
  fs.mkdirp(m.on)
}
