// zpool import / export of guest pools in the simulated kernel (OpenZFS 2.2.7, what FreeBSD
// 14.3 ships: cmd/zpool/zpool_main.c zpool_do_import, import_pools, do_import, show_import,
// zfs_force_import_required; lib/libzfs/libzfs_pool.c zpool_import_props, zpool_export_common;
// lib/libzfs/libzfs_status.c zpool_import_status). A guest pool lives on a partition of a guest
// disk (disks.ts); imported, its datasets are ordinary `Kernel.datasets` under the in-core name
// and its files `content` until mounted; exported, they go back to the disk.
import {getJail} from './jails.js'
import {type GuestFeature, type GuestPool, type Provider, type SimDisk, type SimPartition, copyDisk, dropUnusedDisks, findDisk, partitionOf, resolveDevice, SECTOR, writableDisk} from './disks.js'
import type {Kernel, SimDataset, SimMount} from './state.js'
import {findDataset, newDataset, prop, stashContent, type ZfsFs, zfsMount} from './zfs.js'

/**
 * The feature guids OpenZFS 2.2.7 knows (module/zcommon/zfeature_common.c zpool_feature_init).
 * A guest pool's listed features are taken as active: one missing here makes it unimportable.
 */
export const HOST_FEATURES: readonly string[] = [
  'com.delphix:async_destroy', 'com.delphix:empty_bpobj', 'org.illumos:lz4_compress', 'com.joyent:multi_vdev_crash_dump',
  'com.delphix:spacemap_histogram', 'com.delphix:enabled_txg', 'com.delphix:hole_birth', 'com.delphix:zpool_checkpoint',
  'com.delphix:spacemap_v2', 'com.delphix:extensible_dataset', 'com.delphix:bookmarks', 'com.joyent:filesystem_limits',
  'com.delphix:embedded_data', 'com.delphix:livelist', 'com.delphix:log_spacemap', 'org.open-zfs:large_blocks',
  'org.zfsonlinux:large_dnode', 'org.illumos:sha512', 'org.illumos:skein', 'org.illumos:edonr', 'com.delphix:redaction_bookmarks',
  'com.delphix:redacted_datasets', 'com.delphix:bookmark_written', 'com.delphix:device_removal', 'com.delphix:obsolete_counts',
  'org.zfsonlinux:userobj_accounting', 'com.datto:bookmark_v2', 'com.datto:encryption', 'org.zfsonlinux:project_quota',
  'org.zfsonlinux:allocation_classes', 'com.datto:resilver_defer', 'org.openzfs:device_rebuild', 'org.freebsd:zstd_compress',
  'org.openzfs:draid', 'org.openzfs:zilsaxattr', 'com.delphix:head_errlog', 'org.openzfs:blake3', 'com.fudosecurity:block_cloning',
  'com.klarasystems:vdev_zaps_v2',
]

/** What `zpool import` found on the devices it was given: one pool config (zutil_import get_configs). */
export interface Candidate {
  pool: GuestPool
  disk: SimDisk
  part: SimPartition
  provider: Provider
  /** The vdev's name as zpool prints it (zpool_vdev_name: the path without /dev/). */
  vdev: string
}

/** A libzfs/zpool failure: what zpool prints on stderr (and stdout first, for some) and its status. */
export class ZpoolError extends Error {
  constructor(message: string, readonly exit = 1, readonly stdout = '') {
    super(message)
  }
}

const zpfail = (message: string, stdout = ''): never => {
  throw new ZpoolError(message, 1, stdout)
}

/** The guest's features this host does not know. */
export const unsupported = (pool: GuestPool): GuestFeature[] => pool.features.filter((f) => !HOST_FEATURES.includes(f.guid))

/**
 * The pools on the devices `-d` names (a device path each; directories are not simulated). The
 * labels are read from userland, so a zvol partition is found whatever vfs.zfs.vol.recursive
 * says (zutil_import_os.c skips zvols only when scanning all of GEOM without -d). Pools active
 * here with the same name and GUID are left out (zutil_pool_active); configs with one pool GUID
 * are one pool (get_configs groups labels by pool GUID), the label with the highest txg winning.
 */
export function findCandidates(k: Kernel, devs: string[], isDir: (p: string) => boolean, notSimulated: (what: string) => never): Candidate[] {
  const byGuid = new Map<string, Candidate>()
  for (const dev of devs) {
    const p = resolveDevice(k, dev)
    if (!p) {
      if (isDir(dev)) notSimulated(`zpool import -d ${dev} (a directory to search)`)
      continue
    }
    const part = partitionOf(k, p)
    const pool = part?.pool
    if (!part || !pool || pool.importedAs !== undefined) continue
    if (k.pools.some((x) => x.name === pool.name && x.guid === pool.guid)) continue
    const c: Candidate = {pool, disk: findDisk(k, p.disk) as SimDisk, part, provider: p, vdev: p.name}
    const seen = byGuid.get(pool.guid)
    if (!seen || pool.txg > seen.pool.txg) byGuid.set(pool.guid, c)
  }
  return [...byGuid.values()]
}

type Reason = 'OK' | 'HOSTID_MISMATCH' | 'UNSUP_FEAT_READ' | 'UNSUP_FEAT_WRITE'

/** zpool_import_status, in its order: hostid mismatch (an ACTIVE label of another host) before unsupported features. */
function importStatus(k: Kernel, pool: GuestPool): {reason: Reason; healthy: boolean} {
  const unsup = unsupported(pool)
  const healthy = unsup.length === 0
  if (pool.hostid !== 0 && pool.hostid !== getJail(k, 0).host.hostid && pool.state === 'ACTIVE') return {reason: 'HOSTID_MISMATCH', healthy}
  if (!healthy) return {reason: unsup.every((f) => f.readonlyCompat) ? 'UNSUP_FEAT_WRITE' : 'UNSUP_FEAT_READ', healthy}
  return {reason: 'OK', healthy}
}

const unsupLines = (pool: GuestPool): string => unsupported(pool).map((f) => (f.description ? `\t${f.guid} (${f.description})\n` : `\t${f.guid}\n`)).join('')

/**
 * show_import (zfs-2.2.7): `   pool:`, `     id:`, `  state:`, then `status: ` (no leading blank in
 * 2.2) and ` action: ` (or `action: ` for the unsupported-feature cases, printed with
 * printf_color), `   see:` for statuses with a message id, ` config:`, a blank line and the vdev
 * tree: `\t%*s%-*s  %s` with the name column as wide as the widest name plus its depth, at least 10.
 */
export function showImport(k: Kernel, c: Candidate): string {
  const {pool} = c
  const {reason, healthy} = importStatus(k, pool)
  const health = healthy ? 'ONLINE' : 'UNAVAIL'
  let out = `   pool: ${pool.name}\n     id: ${pool.guid}\n  state: ${health}\n`
  if (reason === 'HOSTID_MISMATCH') out += 'status: The pool was last accessed by another system.\n'
  else if (reason === 'UNSUP_FEAT_READ') out += `status: The pool uses the following feature(s) not supported on this system:\n${unsupLines(pool)}`
  else if (reason === 'UNSUP_FEAT_WRITE') {
    out += 'status: The pool can only be accessed in read-only mode on this system. It\n\tcannot be accessed in read-write mode because it uses the following\n\tfeature(s) not supported on this system:\n'
    out += unsupLines(pool)
  }
  if (healthy) {
    out += reason === 'HOSTID_MISMATCH'
      ? " action: The pool can be imported using its name or numeric identifier and\n\tthe '-f' flag.\n"
      : ' action: The pool can be imported using its name or numeric identifier.\n'
  } else if (reason === 'UNSUP_FEAT_READ') {
    out += 'action: The pool cannot be imported. Access the pool on a system that supports\n\tthe required feature(s), or recreate the pool from backup.\n'
  } else if (reason === 'UNSUP_FEAT_WRITE') {
    out += 'action: The pool cannot be imported in read-write mode. Import the pool with\n\t"-o readonly=on", access the pool on a system that supports the\n\trequired feature(s), or recreate the pool from backup.\n'
  } else {
    out += ' action: The pool cannot be imported due to damaged devices or data.\n'
  }
  // zfs_msgid_table: ZFS-8000-EY for HOSTID_MISMATCH; the unsupported-feature statuses have none.
  if (reason === 'HOSTID_MISMATCH') out += '   see: https://openzfs.github.io/openzfs-docs/msg/ZFS-8000-EY\n'
  out += ' config:\n\n'
  const width = Math.max(10, pool.name.length, c.vdev.length + 2)
  out += `\t${pool.name.padEnd(width)}  ${health}${healthy ? '' : '  unsupported feature(s)'}\n`
  out += `\t  ${c.vdev.padEnd(width - 2)}  ONLINE\n`
  return out
}

export interface ImportOptions {
  devs: string[]
  force: boolean
  noMount: boolean
  altroot?: string
  temporary: boolean
  readonly: boolean
  /** The pool named or numbered on the command line; absent: list. */
  target?: string
  newName?: string
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/** ctime(3) in UTC (the simulated host has no /etc/localtime): `Thu Nov 14 09:30:00 2024\n`. */
export function ctime(secs: number): string {
  const t = new Date(secs * 1000)
  const two = (n: number): string => String(n).padStart(2, '0')
  return `${DAYS[t.getUTCDay()]} ${MONTHS[t.getUTCMonth()]} ${String(t.getUTCDate()).padStart(2)} ${two(t.getUTCHours())}:${two(t.getUTCMinutes())}:${two(t.getUTCSeconds())} ${t.getUTCFullYear()}\n`
}

/** The model's clock ticks are minutes from this moment (as tools/zfs.ts counts them). */
const EPOCH = 1_760_000_000

/**
 * zpool import -d DEV... [-f] [-N] [-R root] [-t] [-o readonly=on] ID|NAME [NEWNAME], in
 * zpool_do_import's order: the target must not name an imported pool unless a new name is
 * given; no config found, or none matching; by name, more than one; then do_import (the force
 * check) and zpool_import_props (the kernel's refusals); then the mounts unless -N.
 */
export function zpoolImport(k: Kernel, o: ImportOptions, fs: ZfsFs & {write?(p: string, t: string): void}, notSimulated: (what: string) => never): void {
  const target = o.target as string
  const byGuid = /^[0-9]+$/.test(target)
  const exists = k.pools.some((p) => (byGuid ? p.guid === target : p.name === target))
  const found = findCandidates(k, o.devs, (p) => fs.isDir(p), notSimulated)
  // zpool_search_import returns a (possibly empty) list (get_configs allocates it first), so a
  // target naming an imported pool fails here unless a different new name is given.
  if (exists && (o.newName === undefined || o.newName === target)) {
    zpfail(`cannot import '${target}': a pool with that name already exists\nuse the form 'zpool import <pool | id> <newpool>' to give it a new name`)
  }
  const matching = found.filter((c) => (byGuid ? c.pool.guid === target : c.pool.name === target))
  if (!byGuid && matching.length > 1) zpfail(`cannot import '${target}': more than one matching pool\nimport by numeric ID instead`)
  const c = matching[0]
  if (!c) return zpfail(`cannot import '${target}': no such pool available`)
  const {pool} = c
  const hostid = getJail(k, 0).host.hostid
  // zfs_force_import_required: not exported, and last written by another hostid.
  if (!o.force && pool.state !== 'EXPORTED' && pool.hostid !== hostid) {
    zpfail(`cannot import '${pool.name}': pool was previously in use from another system.\nLast accessed by ${pool.hostname} (hostid=${pool.hostid.toString(16)}) at ${ctime(pool.timestamp)}The pool can be imported, use 'zpool import -f' to import the pool.`)
  }
  const inCore = o.newName ?? pool.name
  const desc = o.newName === undefined ? `cannot import '${pool.name}'` : `cannot import '${pool.name}' as '${inCore}'`
  if (o.newName !== undefined && k.pools.some((p) => p.name === inCore)) zpfail(`${desc}: pool already exists`)
  const unsup = unsupported(pool)
  if (unsup.length > 0 && !(o.readonly && unsup.every((f) => f.readonlyCompat))) {
    let out = `This pool uses the following feature(s) not supported by this system:\n${unsupLines(pool)}`
    if (unsup.every((f) => f.readonlyCompat)) out += "All unsupported features are only required for writing to the pool.\nThe pool can be imported using '-o readonly=on'.\n"
    zpfail(`${desc}: unsupported version or feature`, out)
  }
  // vdev_geom_open with zfs_geom_probe_vdev_key set: zvol_geom_open refuses unless
  // vfs.zfs.vol.recursive (zpool_on_zvol) is set; the open fails and the import reports ENXIO
  // (the text is zpool_standard_error's for ENXIO: **unconfirmed** that this is what appears).
  if (c.provider.holder.kind === 'zvol' && (k.sysctl['vfs.zfs.vol.recursive'] ?? 0) === 0) zpfail(`${desc}: one or more devices is currently unavailable`)
  if (c.provider.readonly && !o.readonly) zpfail(`${desc}: one or more devices is read only`)
  // The import writes the labels (unless read-only): the holder's disk, made its own first.
  const disk = o.readonly ? copyDisk(k, c.disk, fs) : writableDisk(k, c.provider.holder, fs)
  const part = disk.parts.find((p) => p.index === c.part.index) as SimPartition
  const onDisk = part.pool as GuestPool
  if (!o.readonly) {
    k.txg++
    onDisk.txg++
    onDisk.state = 'ACTIVE'
    onDisk.hostid = hostid
    onDisk.hostname = k.hostname
    onDisk.timestamp = EPOCH + k.clock * 60
    if (o.newName !== undefined && !o.temporary) onDisk.name = inCore
  }
  onDisk.importedAs = inCore
  const cachefile = o.altroot !== undefined || o.temporary ? 'none' : undefined
  k.pools.push({
    name: inCore, size: part.size * SECTOR, guid: pool.guid,
    guest: {
      disk: disk.id, index: part.index, vdev: c.vdev, onDisk: onDisk.name, temporary: o.temporary, readonly: o.readonly,
      ...(o.altroot === undefined ? {} : {altroot: o.altroot}), ...(cachefile === undefined ? {} : {cachefile}),
    },
  })
  const rel = (n: string): string => (n === '' ? inCore : `${inCore}/${n}`)
  for (const g of [...onDisk.datasets].sort((a, b) => a.name.length - b.name.length)) {
    const d = newDataset(k, rel(g.name), g.type, {...g.props})
    if (g.content !== undefined) d.content = g.content
    for (const s of g.snapshots) {
      const snap = newDataset(k, `${d.name}@${s.name}`, 'snapshot', {})
      fs.copySnapshot(s.content, snap.guid)
      fs.dropSnapshot(s.content)
    }
  }
  onDisk.datasets = []
  if (o.noMount) return
  // zpool_enable_datasets: every filesystem with canmount=on and a mountpoint, parents first.
  const toMount = k.datasets.filter((d) => d.type === 'filesystem' && d.name.split('/')[0] === inCore && prop(k, d, 'canmount') === 'on' && prop(k, d, 'mountpoint').startsWith('/'))
  toMount.sort((a, b) => (prop(k, a, 'mountpoint') < prop(k, b, 'mountpoint') ? -1 : 1))
  for (const d of toMount) zfsMount(k, 0, d.name, fs)
}

/**
 * zpool export [-f] POOL: zpool_disable_datasets unmounts every mounted dataset of the pool
 * (deepest first; a busy one stops the export with zfs_unmount's "cannot unmount '<path>': pool
 * or dataset is busy", unless -f), then ZFS_IOC_POOL_EXPORT writes the labels: state EXPORTED,
 * this host's hostid and name. The datasets go back to the disk with their files and
 * snapshots; the in-core pool is gone. The host's own pools are not simulated here.
 */
export function zpoolExport(k: Kernel, name: string, force: boolean, unmount: (m: SimMount) => void, fs: ZfsFs, notSimulated: (what: string) => never): void {
  const p = k.pools.find((x) => x.name === name)
  if (!p) return zpfail(`cannot open '${name}': no such pool`)
  if (!p.guest) return notSimulated(`zpool export ${name} (the host's own pool)`)
  const mine = (d: SimDataset): boolean => d.name === name || d.name.startsWith(`${name}/`) || d.name.startsWith(`${name}@`)
  const mounted = k.mounts.filter((m) => m.fstype === 'zfs' && m.dataset !== undefined && mine(findDataset(k, m.dataset) as SimDataset)).reverse()
  for (const m of mounted) {
    if (m.busy && !force) zpfail(`cannot unmount '${m.on}': pool or dataset is busy`)
  }
  for (const m of mounted) {
    unmount(m)
    const d = findDataset(k, m.dataset as string) as SimDataset
    stashContent(k, d, m.on, fs)
  }
  const guest = p.guest
  const disk = findDisk(k, guest.disk) as SimDisk
  const part = disk.parts.find((x) => x.index === guest.index) as SimPartition
  const onDisk = part.pool as GuestPool
  const ds = k.datasets.filter(mine)
  for (const d of ds.filter((x) => x.type !== 'snapshot')) {
    const relName = d.name === name ? '' : d.name.slice(name.length + 1)
    const snaps = ds.filter((s) => s.type === 'snapshot' && s.name.startsWith(`${d.name}@`)).sort((a, b) => a.createtxg - b.createtxg)
    onDisk.datasets.push({
      name: relName, type: d.type === 'volume' ? 'volume' : 'filesystem',
      props: Object.fromEntries(Object.entries(d.props).filter(([key]) => !key.startsWith('sim:'))),
      ...(d.content === undefined ? {} : {content: d.content}),
      snapshots: snaps.map((s) => {
        const content = `content-${s.guid}`
        fs.copySnapshot(s.guid, content)
        fs.dropSnapshot(s.guid)
        return {name: s.name.slice(s.name.indexOf('@') + 1), content}
      }),
    })
  }
  const names = new Set(ds.map((d) => d.name))
  k.datasets = k.datasets.filter((d) => !names.has(d.name))
  delete onDisk.importedAs
  if (!guest.readonly) {
    k.txg++
    onDisk.txg++
    onDisk.state = 'EXPORTED'
    onDisk.hostid = getJail(k, 0).host.hostid
    onDisk.hostname = k.hostname
    onDisk.timestamp = EPOCH + k.clock * 60
  }
  k.pools = k.pools.filter((x) => x !== p)
  // A read-only import worked on a copy nothing else names: it goes, with its files.
  dropUnusedDisks(k, fs)
}
