// ZFS in the simulated kernel: datasets, properties, delegation to jails (§4;
// OpenZFS spl_zone.c zone_dataset_visible, zfs_ioctl.c, libzfs_compat.c, zfs_main.c).
// Errors carry libzfs's texts after `cannot <verb> '<ds>': `.
import {STRERROR} from '../../domain/errno.js'
import {ancestorsOf, getJail, lookupJail} from './jails.js'
import {canMountIn, devfsVisible, mountHolding} from './mounts.js'
import {globalPath, type Kernel, normPath, type SimDataset, type SimJail, type SimMount, SysError} from './state.js'

/** A libzfs-style failure: the whole message the zfs tool prints, and its exit code. */
export class ZfsError extends Error {
  constructor(message: string, readonly exit = 1) {
    super(message)
  }
}

const zfail = (message: string, exit = 1): never => {
  throw new ZfsError(message, exit)
}

export const SIM_REFERENCED = 98_304

export interface ZfsFs {
  isDir(global: string): boolean
  mkdirp(global: string): void
  /** Copy a snapshot's saved tree (or a directory) into a directory. */
  saveSnapshot(guid: string, fromGlobal: string): void
  copySnapshot(fromGuid: string, toGuid: string): void
  restoreSnapshot(guid: string, toGlobal: string): void
  dropSnapshot(guid: string): void
  removeTree(global: string): void
  /** Where a path leads, links resolved inside the caller's view. */
  canonical?(global: string): string
}

export function findDataset(k: Kernel, name: string): SimDataset | undefined {
  return k.datasets.find((d) => d.name === name)
}

const parentName = (name: string): string | undefined => {
  const at = name.indexOf('@')
  if (at >= 0) return name.slice(0, at)
  const slash = name.lastIndexOf('/')
  return slash < 0 ? undefined : name.slice(0, slash)
}

const isWithinDs = (name: string, top: string): boolean => name === top || name.startsWith(`${top}/`) || name.startsWith(`${top}@`)

export type Access = 'rw' | 'ro' | 'none'

/** zone_dataset_visible: delegated trees writable, their ancestors read-only, nothing else. */
export function datasetAccess(k: Kernel, viewer: number, name: string): Access {
  if (viewer === 0) return 'rw'
  const j = getJail(k, viewer)
  if (j.datasets.some((d) => isWithinDs(name, d))) return 'rw'
  if (j.datasets.some((d) => d.startsWith(`${name}/`))) return 'ro'
  return 'none'
}

/** libzfs needs /dev/zfs: inside a jail, a devfs on <root>/dev whose ruleset shows zfs. */
export function zfsLibraryAvailable(k: Kernel, viewer: number): boolean {
  if (viewer === 0) return true
  const j = getJail(k, viewer)
  const dev = k.mounts.filter((m) => m.fstype === 'devfs' && m.on === normPath(`${j.path}/dev`)).at(-1)
  if (dev === undefined) return false
  return dev.hidden !== undefined ? !dev.hidden.includes('zfs') : devfsVisible(k, dev.ruleset ?? 0, 'zfs')
}

export function datasetOrFail(k: Kernel, viewer: number, name: string, verb = 'open'): SimDataset {
  const d = findDataset(k, name)
  if (!d || datasetAccess(k, viewer, name) === 'none') return zfail(`cannot ${verb} '${name}': dataset does not exist`)
  return d
}

const INHERITABLE = new Set(['mountpoint', 'jailed', 'atime', 'exec', 'setuid', 'compression', 'readonly'])
const DEFAULTS: Record<string, string> = {
  jailed: 'off', atime: 'on', exec: 'on', setuid: 'on', readonly: 'off', canmount: 'on', compression: 'off',
}

export interface PropValue {
  value: string
  source: string
}

/** A property's effective value and source, with inheritance (mountpoint gets the path suffix). */
export function propValue(k: Kernel, d: SimDataset, prop: string): PropValue | undefined {
  const local = d.props[prop]
  if (local !== undefined) return {value: local, source: 'local'}
  const inheritable = INHERITABLE.has(prop) || prop.includes(':')
  if (d.type === 'snapshot') {
    const base = findDataset(k, parentName(d.name) ?? '')
    if (!base || prop === 'mountpoint') return undefined
    const v = propValue(k, base, prop)
    return v ? {value: v.value, source: v.source === 'local' ? `inherited from ${base.name}` : v.source} : undefined
  }
  if (inheritable) {
    for (let p = parentName(d.name); p; p = parentName(p)) {
      const pd = findDataset(k, p)
      const v = pd?.props[prop]
      if (pd && v !== undefined) {
        const value = prop === 'mountpoint' && v !== 'none' && v !== 'legacy' ? normPath(`${v}/${d.name.slice(p.length + 1)}`) : v
        return {value, source: `inherited from ${p}`}
      }
    }
  }
  if (prop === 'mountpoint') return {value: `/${d.name}`, source: 'default'}
  if (prop.includes(':')) return undefined
  const def = DEFAULTS[prop]
  return def === undefined ? undefined : {value: def, source: 'default'}
}

export const prop = (k: Kernel, d: SimDataset, name: string): string => propValue(k, d, name)?.value ?? '-'

export function mountOfDataset(k: Kernel, name: string): SimMount | undefined {
  return k.mounts.find((m) => m.fstype === 'zfs' && m.dataset === name)
}

export function usedBytes(k: Kernel, d: SimDataset): number {
  return k.datasets.filter((c) => isWithinDs(c.name, d.name)).reduce((n, c) => n + c.referenced, 0)
}

export function poolOf(k: Kernel, name: string) {
  return k.pools.find((p) => p.name === name.split(/[/@]/)[0])
}

export function availBytes(k: Kernel, name: string): number {
  const pool = poolOf(k, name)
  if (!pool) return 0
  const used = k.datasets.filter((d) => d.name.split(/[/@]/)[0] === pool.name).reduce((n, d) => n + d.referenced, 0)
  return Math.max(0, pool.size - used)
}

function newDataset(k: Kernel, name: string, type: SimDataset['type'], props: Record<string, string>): SimDataset {
  k.txg++
  k.clock++
  const d: SimDataset = {name, type, props, createtxg: k.txg, guid: guidFor(name, k.txg), creation: k.clock, referenced: SIM_REFERENCED}
  k.datasets.push(d)
  return d
}

function guidFor(name: string, txg: number): string {
  let h = 1469598103934665603n
  for (const c of `${name}@${txg}`) h = ((h ^ BigInt(c.charCodeAt(0))) * 1099511628211n) & ((1n << 63n) - 1n)
  return h.toString()
}

/** The global path a dataset mounts at for a viewer (a jail reads mountpoint in its root). */
function mountTarget(k: Kernel, viewer: number, d: SimDataset): string | undefined {
  const mp = prop(k, d, 'mountpoint')
  if (mp === 'none' || mp === 'legacy' || mp === '-') return undefined
  return globalPath(getJail(k, viewer).path, mp)
}

function mountOpts(k: Kernel, d: SimDataset): string[] {
  const o = [prop(k, d, 'readonly') === 'on' ? 'ro' : 'rw']
  if (prop(k, d, 'atime') === 'off') o.push('noatime')
  if (prop(k, d, 'exec') === 'off') o.push('noexec')
  if (prop(k, d, 'setuid') === 'off') o.push('nosuid')
  o.push('nfsv4acls')
  return o
}

/** zfs mount: host refuses jailed datasets; a jail mounts only its own writable, jailed ones. */
export function zfsMount(k: Kernel, viewer: number, name: string, fs: ZfsFs): SimMount | undefined {
  const d = datasetOrFail(k, viewer, name, 'open')
  if (d.type !== 'filesystem') return zfail(`cannot mount '${name}': not a filesystem`)
  const jailed = prop(k, d, 'jailed') === 'on'
  if (viewer === 0 && jailed) return zfail(`cannot mount '${name}': dataset is exported to a local zone`)
  if (viewer !== 0) {
    const j = getJail(k, viewer)
    if (!jailed || datasetAccess(k, viewer, name) !== 'rw' || !canMountIn(j) || !j.allow.includes('mount.zfs')) {
      return zfail(`cannot mount '${name}': permission denied`)
    }
  }
  if (mountOfDataset(k, name)) return zfail(`cannot mount '${name}': filesystem already mounted`)
  const target = mountTarget(k, viewer, d)
  if (!target) return zfail(`cannot mount '${name}': no mountpoint set`)
  // libzfs_mount.c zfs_mount_at: mkdirp(mountpoint), its failure "failed to create mountpoint".
  try {
    if (!fs.isDir(target)) fs.mkdirp(target)
  } catch (error) {
    if (!(error instanceof SysError)) throw error
    return zfail(`cannot mount '${target}': failed to create mountpoint: ${STRERROR[error.errno]}`)
  }
  // mount(2) looks the mount point up with FOLLOW and records where it leads (vfs_mount.c).
  const on = fs.canonical ? fs.canonical(target) : target
  const origin = d.origin ? findDataset(k, d.origin) : undefined
  if (origin && !d.props['sim:restored']) {
    fs.restoreSnapshot(origin.guid, on)
    d.props['sim:restored'] = 'yes'
  }
  const m: SimMount = {id: k.nextMountId++, fstype: 'zfs', from: name, on, opts: mountOpts(k, d), by: viewer, byAncestors: ancestorsOf(k, viewer), dataset: name}
  k.mounts.push(m)
  return m
}

function checkWritable(k: Kernel, viewer: number, name: string, verb: string): void {
  if (viewer === 0) return
  const j = getJail(k, viewer)
  if (datasetAccess(k, viewer, name) !== 'rw' || !canMountIn(j) || !j.allow.includes('mount.zfs')) {
    zfail(`cannot ${verb} '${name}': permission denied`)
  }
}

function validateProps(k: Kernel, viewer: number, name: string, props: Record<string, string>, zoned: boolean, verb: string): void {
  for (const [p, v] of Object.entries(props)) {
    if (p === 'jailed') {
      if (viewer !== 0) zfail(`cannot ${verb} '${name}': permission denied`)
      if (v !== 'on' && v !== 'off') zfail(`cannot ${verb} '${name}': 'jailed' must be one of 'on | off'`)
    } else if (p === 'mountpoint') {
      if (zoned && viewer === 0) zfail(`cannot ${verb} '${name}': 'mountpoint' cannot be set while dataset 'zoned' property is set`)
      if (v !== 'none' && v !== 'legacy' && !v.startsWith('/')) zfail(`cannot ${verb} '${name}': 'mountpoint' must be an absolute path, 'none', or 'legacy'`)
    } else if (['atime', 'exec', 'setuid', 'readonly'].includes(p)) {
      if (v !== 'on' && v !== 'off') zfail(`cannot ${verb} '${name}': '${p}' must be one of 'on | off'`)
    } else if (p === 'canmount') {
      if (!['on', 'off', 'noauto'].includes(v)) zfail(`cannot ${verb} '${name}': 'canmount' must be one of 'on | off | noauto'`)
    } else if (p === 'compression') {
      if (!['on', 'off', 'lz4', 'zstd', 'gzip'].includes(v)) zfail(`cannot ${verb} '${name}': 'compression' must be one of 'on | off | lz4 | gzip | zstd'`)
    } else if (!p.includes(':')) {
      zfail(`cannot ${verb} '${name}': invalid property '${p}'`, 2)
    }
  }
}

/** zfs create [-p] [-o p=v]: creates and mounts (unless jailed on the host or canmount=off). */
export function zfsCreate(k: Kernel, viewer: number, name: string, props: Record<string, string>, parents: boolean, fs: ZfsFs, noMount = false): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.:/-]*$/.test(name) || name.includes('//') || name.endsWith('/')) {
    zfail(`cannot create '${name}': invalid character in name`)
  }
  if (findDataset(k, name) && datasetAccess(k, viewer, name) !== 'none') zfail(`cannot create '${name}': dataset already exists`)
  const parent = parentName(name)
  if (!parent) return zfail(`cannot create '${name}': missing dataset name`)
  if (!poolOf(k, name)) return zfail(`cannot create '${name}': no such pool '${name.split('/')[0]}'`)
  const pd = findDataset(k, parent)
  if (!pd || datasetAccess(k, viewer, parent) === 'none') {
    if (!parents) return zfail(`cannot create '${name}': parent does not exist`)
    zfsCreate(k, viewer, parent, {}, true, fs)
  }
  checkWritable(k, viewer, name, 'create')
  const parentDs = findDataset(k, parent) as SimDataset
  const zoned = prop(k, parentDs, 'jailed') === 'on'
  validateProps(k, viewer, name, props, zoned, 'create')
  const d = newDataset(k, name, 'filesystem', {...props})
  if (!noMount) autoMount(k, viewer, d, fs)
}

function autoMount(k: Kernel, viewer: number, d: SimDataset, fs: ZfsFs): void {
  const jailed = prop(k, d, 'jailed') === 'on'
  if (viewer === 0 && jailed) return
  if (prop(k, d, 'canmount') !== 'on') return
  if (!mountTarget(k, viewer, d)) return
  zfsMount(k, viewer, d.name, fs)
}

export function zfsSnapshot(k: Kernel, viewer: number, name: string, fs: ZfsFs): void {
  const at = name.indexOf('@')
  if (at <= 0 || at === name.length - 1) return zfail(`cannot create snapshot '${name}': invalid character in name`)
  const base = datasetOrFail(k, viewer, name.slice(0, at), 'open')
  checkWritable(k, viewer, base.name, 'create snapshot')
  if (findDataset(k, name)) return zfail(`cannot create snapshot '${name}': dataset already exists`)
  const snap = newDataset(k, name, 'snapshot', {})
  snap.referenced = 0
  const m = mountOfDataset(k, base.name)
  if (m) fs.saveSnapshot(snap.guid, m.on)
  else if (base.origin) {
    const o = findDataset(k, base.origin)
    if (o) fs.copySnapshot(o.guid, snap.guid)
  }
}

export function zfsClone(k: Kernel, viewer: number, snapName: string, name: string, props: Record<string, string>, fs: ZfsFs): void {
  const snap = findDataset(k, snapName)
  if (!snap || snap.type !== 'snapshot' || datasetAccess(k, viewer, snapName) === 'none') {
    return zfail(`cannot open '${snapName}': dataset does not exist`)
  }
  if (findDataset(k, name)) return zfail(`cannot create '${name}': dataset already exists`)
  const parent = parentName(name)
  if (!parent || !findDataset(k, parent)) return zfail(`cannot create '${name}': parent does not exist`)
  checkWritable(k, viewer, name, 'create')
  validateProps(k, viewer, name, props, prop(k, findDataset(k, parent) as SimDataset, 'jailed') === 'on', 'create')
  const d = newDataset(k, name, 'filesystem', {...props})
  d.origin = snapName
  d.referenced = 8192
  autoMount(k, viewer, d, fs)
}

export function zfsSet(k: Kernel, viewer: number, name: string, props: Record<string, string>): void {
  const d = datasetOrFail(k, viewer, name, 'open')
  const zoned = prop(k, d, 'jailed') === 'on'
  for (const [p, v] of Object.entries(props)) {
    if (p === 'jailed' && viewer !== 0) zfail(`cannot set property for '${name}': permission denied`)
    if (viewer !== 0) {
      const j = getJail(k, viewer)
      // The quota-like limits at the delegation point itself stay with the host.
      const atDelegation = j.datasets.includes(name) && ['quota', 'filesystem_limit', 'snapshot_limit'].includes(p)
      if (atDelegation || datasetAccess(k, viewer, name) !== 'rw' || !canMountIn(j) || !j.allow.includes('mount.zfs')) {
        zfail(`cannot set property for '${name}': permission denied`)
      }
    }
    validateProps(k, viewer, name, {[p]: v}, zoned, 'set property for')
    d.props[p] = v
  }
}

/** zfs unmount [-f] of a dataset (or the dataset mounted at a path). */
export function zfsUnmount(k: Kernel, viewer: number, d: SimDataset, unmount: (m: SimMount) => void): void {
  const m = mountOfDataset(k, d.name)
  if (!m) return zfail(`cannot unmount '${d.name}': not currently mounted`)
  if (viewer !== 0) checkWritable(k, viewer, d.name, 'unmount')
  try {
    unmount(m)
  } catch {
    const seen = viewer === 0 ? m.on : (m.on.slice(getJail(k, viewer).path.length) || '/')
    zfail(`cannot unmount '${seen}': pool or dataset is busy`)
  }
}

export function zfsDestroy(
  k: Kernel, viewer: number, name: string, opts: {recursive: boolean; force: boolean},
  unmount: (m: SimMount) => void, fs: ZfsFs,
): string[] {
  const d = datasetOrFail(k, viewer, name, 'open')
  checkWritable(k, viewer, name, 'destroy')
  if (viewer !== 0 && getJail(k, viewer).datasets.includes(name)) zfail(`cannot destroy '${name}': permission denied`)
  const children = k.datasets.filter((c) => c.name !== name && isWithinDs(c.name, name))
  if (children.length > 0 && !opts.recursive) {
    const kind = d.type === 'snapshot' ? 'snapshot' : 'filesystem'
    const list = children.map((c) => c.name).sort().join('\n')
    zfail(`cannot destroy '${name}': ${kind} has children\nuse '-r' to destroy the following datasets:\n${list}`)
  }
  const all = [d, ...children]
  const clones = k.datasets.filter((c) => c.origin !== undefined && all.some((s) => s.name === c.origin) && !all.includes(c))
  if (clones.length > 0) {
    // cmd/zfs/zfs_main.c, destroy_check_dependent: the target named (a snapshot, or a filesystem
    // given with -r whose snapshots have clones) and its type, then the clones, one a line.
    const kind = d.type === 'snapshot' ? 'snapshot' : d.type === 'volume' ? 'volume' : 'filesystem'
    zfail(`cannot destroy '${name}': ${kind} has dependent clones\nuse '-R' to destroy the following datasets:\n${clones.map((c) => c.name).sort().join('\n')}`)
  }
  // Deepest first: unmount, then forget.
  const order = all.sort((a, b) => b.name.length - a.name.length)
  for (const x of order) {
    const m = mountOfDataset(k, x.name)
    if (m) {
      try {
        unmount(m)
      } catch {
        zfail(`cannot unmount '${m.on}': pool or dataset is busy`)
      }
      if (m.on !== '/') fs.removeTree(m.on)
    }
  }
  for (const x of order) {
    if (x.type === 'snapshot') fs.dropSnapshot(x.guid)
    for (const j of k.jails) j.datasets = j.datasets.filter((n) => n !== x.name)
  }
  const names = new Set(order.map((x) => x.name))
  k.datasets = k.datasets.filter((x) => !names.has(x.name))
  return order.map((x) => x.name)
}

/** The jail `zfs jail|unjail` names (host only: PRIV_ZFS_JAIL is never granted to a jail). */
function delegationTarget(k: Kernel, viewer: number, verb: string, jailKey: string, name: string): SimJail {
  if (viewer !== 0) zfail(`cannot ${verb} '${name}': permission denied`)
  try {
    return lookupJail(k, 0, jailKey)
  } catch {
    return zfail('invalid jail id or name', 2)
  }
}

/** zfs jail: records the dataset in the jail's list, checks nothing else (not even jailed). */
export function zfsJail(k: Kernel, viewer: number, jailKey: string, name: string): void {
  const j = delegationTarget(k, viewer, 'jail', jailKey, name)
  const d = findDataset(k, name)
  if (!d) return zfail(`cannot open '${name}': dataset does not exist`)
  if (d.type === 'volume') zfail(`cannot jail '${name}': volumes can not be jailed`)
  if (d.type === 'snapshot') zfail(`cannot jail '${name}': snapshots can not be jailed`)
  if (j.datasets.includes(name)) zfail(`cannot jail '${name}': File exists`)
  j.datasets.push(name)
}

export function zfsUnjail(k: Kernel, viewer: number, jailKey: string, name: string): void {
  const j = delegationTarget(k, viewer, 'unjail', jailKey, name)
  if (!findDataset(k, name)) zfail(`cannot open '${name}': dataset does not exist`)
  if (!j.datasets.includes(name)) zfail(`cannot unjail '${name}': No such file or directory`)
  j.datasets = j.datasets.filter((n) => n !== name)
}

export {mountHolding}
