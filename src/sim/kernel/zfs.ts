// ZFS in the simulated kernel: datasets, properties, delegation to jails (§4;
// OpenZFS spl_zone.c zone_dataset_visible, zfs_ioctl.c, libzfs_compat.c, zfs_main.c).
// Errors carry libzfs's texts after `cannot <verb> '<ds>': `.
import {STRERROR} from '../../domain/errno.js'
import {ancestorsOf, getJail, lookupJail} from './jails.js'
import {canMountIn, devfsVisible, mountHolding} from './mounts.js'
import {globalPath, type Kernel, normPath, type SimDataset, type SimJail, type SimMount, SysError} from './state.js'
import {dropUnusedDisks, newDisk, SECTOR} from './disks.js'
import {isInheritable, lookupProp, PROP_DEFAULTS, SPACE_PROPS, validForType} from './zfsprops.js'

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

export interface PropValue {
  value: string
  /** As `zfs get` prints it: `-`, `default`, `local`, `inherited from <dataset>`. */
  source: string
}

const inheritsFromParent = (name: string): boolean => {
  if (name.includes(':')) return true
  const p = lookupProp(name)
  return p !== undefined && isInheritable(p)
}

/**
 * A settable property's effective value and source (dsl_prop_get_all: local, then inheritable
 * ones from the nearest ancestor, else the default), mountpoint with the path suffix. A snapshot
 * takes inheritable properties from its dataset (DSL_PROP_GET_SNAPSHOT, then INHERITING).
 */
export function propValue(k: Kernel, d: SimDataset, prop: string): PropValue | undefined {
  const v = storedValue(k, d, prop)
  // libzfs_dataset.c get_numeric_property / zfs_prop_get (ZFS_PROP_MOUNTPOINT): a pool's altroot
  // is put before every absolute mountpoint ("/" itself becomes the altroot).
  const altroot = prop === 'mountpoint' && v && v.value.startsWith('/') ? poolOf(k, d.name)?.guest?.altroot : undefined
  if (v && altroot) return {...v, value: v.value === '/' ? altroot : normPath(`${altroot}${v.value}`)}
  return v
}

function storedValue(k: Kernel, d: SimDataset, prop: string): PropValue | undefined {
  const local = d.props[prop]
  if (local !== undefined) return {value: local, source: 'local'}
  // A received value: below the local one, above what is inherited (zfsprops.7 "Sources").
  const received = d.received?.[prop]
  if (received !== undefined) return {value: received, source: 'received'}
  const inheritable = inheritsFromParent(prop)
  if (d.type === 'snapshot') {
    const base = findDataset(k, parentName(d.name) ?? '')
    if (!base || prop === 'mountpoint') return undefined
    const v = inheritable ? storedValue(k, base, prop) : undefined
    if (v) return {value: v.value, source: v.source === 'local' || v.source === 'received' ? `inherited from ${base.name}` : v.source}
    const def = PROP_DEFAULTS[prop]
    return def === undefined ? undefined : {value: def, source: 'default'}
  }
  if (inheritable) {
    for (let p = parentName(d.name); p; p = parentName(p)) {
      const pd = findDataset(k, p)
      // A child inherits its parent's effective value, local or received (dsl_prop_get_dd).
      const v = pd?.props[prop] ?? pd?.received?.[prop]
      if (pd && v !== undefined) {
        const value = prop === 'mountpoint' && v !== 'none' && v !== 'legacy' ? normPath(`${v}/${d.name.slice(p.length + 1)}`) : v
        return {value, source: `inherited from ${p}`}
      }
    }
  }
  if (prop === 'mountpoint') return {value: `/${d.name}`, source: 'default'}
  if (prop.includes(':')) return undefined
  const def = PROP_DEFAULTS[prop]
  return def === undefined ? undefined : {value: def, source: 'default'}
}

export const prop = (k: Kernel, d: SimDataset, name: string): string => propValue(k, d, name)?.value ?? '-'

export function mountOfDataset(k: Kernel, name: string): SimMount | undefined {
  return k.mounts.find((m) => m.fstype === 'zfs' && m.dataset === name)
}

/** A quota or reservation in bytes (0: none), as `zfs set` stored it (zfsprops.ts SPACE_PROPS). */
export const spaceProp = (d: SimDataset, p: string): number => Number(d.props[p] ?? d.received?.[p] ?? 0)

const childFilesystems = (k: Kernel, d: SimDataset): SimDataset[] =>
  k.datasets.filter((c) => c.type !== 'snapshot' && parentName(c.name) === d.name)

/**
 * Space accounting of module/zfs/dsl_dir.c and dsl_dataset.c over the model's fixed sizes:
 * used = usedbydataset + usedbysnapshots + usedbyrefreservation + usedbychildren, where a
 * child counts as MAX(its used, its reservation) (dd_used_bytes holds reserved space) and an
 * unused refreservation counts in full. A snapshot uses nothing of its own (the model writes
 * no blocks after a snapshot, so nothing is unique to it).
 */
export interface SpaceUse {
  usedbydataset: number
  usedbysnapshots: number
  usedbyrefreservation: number
  usedbychildren: number
  used: number
}

export function spaceUse(k: Kernel, d: SimDataset): SpaceUse {
  if (d.type === 'snapshot') return {usedbydataset: 0, usedbysnapshots: 0, usedbyrefreservation: 0, usedbychildren: 0, used: 0}
  const usedbydataset = d.referenced
  const usedbyrefreservation = Math.max(0, spaceProp(d, 'refreservation') - d.referenced)
  const usedbychildren = childFilesystems(k, d).reduce((n, c) => n + Math.max(usedBytes(k, c), spaceProp(c, 'reservation')), 0)
  return {usedbydataset, usedbysnapshots: 0, usedbyrefreservation, usedbychildren, used: usedbydataset + usedbyrefreservation + usedbychildren}
}

export function usedBytes(k: Kernel, d: SimDataset): number {
  return spaceUse(k, d).used
}

export function poolOf(k: Kernel, name: string) {
  return k.pools.find((p) => p.name === name.split(/[/@]/)[0])
}

/**
 * dsl_dir_space_available (ondiskonly): the lesser of what the parent leaves (plus this
 * dataset's own unused reservation) and what its quota leaves; the pool's root is bounded by
 * the pool's size (the model has no slop space, dsl_pool_adjustedsize).
 */
function dirAvailable(k: Kernel, d: SimDataset): number {
  const parent = findDataset(k, parentName(d.name) ?? '')
  let parentspace = parent ? dirAvailable(k, parent) : Number.POSITIVE_INFINITY
  let quota = spaceProp(d, 'quota') || Number.POSITIVE_INFINITY
  const used = usedBytes(k, d)
  if (!parent) quota = Math.min(quota, poolOf(k, d.name)?.size ?? 0)
  const reserved = spaceProp(d, 'reservation')
  if (reserved > used && parentspace !== Number.POSITIVE_INFINITY) parentspace += reserved - used
  return used > quota ? 0 : Math.min(parentspace, quota - used)
}

/** dsl_get_available: the directory's space, plus an unused refreservation, within refquota. */
export function availBytes(k: Kernel, name: string): number {
  const d = findDataset(k, name)
  if (!d || d.type === 'snapshot') return 0
  let avail = dirAvailable(k, d)
  const refres = spaceProp(d, 'refreservation')
  if (refres > d.referenced) avail += refres - d.referenced
  const refquota = spaceProp(d, 'refquota')
  if (refquota !== 0) avail = d.referenced < refquota ? Math.min(avail, refquota - d.referenced) : 0
  return avail
}

/**
 * The kernel's checks of a new quota or reservation (ENOSPC, worded by libzfs_util.c
 * zfs_setprop_error): dsl_dir_set_quota_check, dsl_dataset_set_refquota_check,
 * dsl_dir_set_reservation_check, dsl_dataset_set_refreservation_check. 0 (none) always passes
 * for the quotas.
 */
export function spaceCheck(k: Kernel, d: SimDataset, prop: string, newval: number): string | undefined {
  const less = 'size is less than current used or reserved space'
  const greater = 'size is greater than available space'
  const used = usedBytes(k, d)
  switch (prop) {
    case 'quota':
      return newval !== 0 && (newval < spaceProp(d, 'reservation') || newval < used) ? less : undefined
    case 'refquota':
      return newval !== 0 && (newval < d.referenced || newval < spaceProp(d, 'refreservation')) ? less : undefined
    case 'reservation': {
      const parent = findDataset(k, parentName(d.name) ?? '')
      const avail = parent ? dirAvailable(k, parent) : (poolOf(k, d.name)?.size ?? 0) - used
      const delta = Math.max(used, newval) - Math.max(used, spaceProp(d, 'reservation'))
      const quota = spaceProp(d, 'quota')
      return delta > 0 && (delta > avail || (quota > 0 && newval > quota)) ? greater : undefined
    }
    case 'refreservation': {
      const unique = d.referenced
      const delta = Math.max(unique, newval) - Math.max(unique, spaceProp(d, 'refreservation'))
      const refquota = spaceProp(d, 'refquota')
      return delta > 0 && (delta > dirAvailable(k, d) || (refquota > 0 && newval > refquota)) ? greater : undefined
    }
    default:
      return undefined
  }
}

export function newDataset(k: Kernel, name: string, type: SimDataset['type'], props: Record<string, string>): SimDataset {
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
export function zfsMount(k: Kernel, viewer: number, name: string, fs: ZfsFs, readonly = false): SimMount | undefined {
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
  if (d.content !== undefined) {
    fs.restoreSnapshot(d.content, on)
    fs.dropSnapshot(d.content)
    delete d.content
    if (origin) d.props['sim:restored'] = 'yes'
  } else if (origin && !d.props['sim:restored']) {
    fs.restoreSnapshot(origin.guid, on)
    d.props['sim:restored'] = 'yes'
  }
  const opts = mountOpts(k, d)
  // zfs mount -o ro, or a pool imported readonly=on: the mount is read-only whatever the property says.
  if (readonly || poolOf(k, name)?.guest?.readonly) opts[0] = 'ro'
  const m: SimMount = {id: k.nextMountId++, fstype: 'zfs', from: name, on, opts, by: viewer, byAncestors: ancestorsOf(k, viewer), dataset: name}
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

/** The settable native properties the model acts on; the tool refuses the others as not simulated. */
export const MODELLED_PROPS = new Set(['jailed', 'mountpoint', 'atime', 'exec', 'setuid', 'readonly', 'canmount', 'compression', 'volmode', 'volblocksize', ...SPACE_PROPS])

/** str2shift (lib/libzfs/libzfs_util.c): B K M G T P E Z, alone or with B or iB after it. */
function str2shift(buf: string): number | string {
  if (buf === '') return 0
  const i = 'BKMGTPEZ'.indexOf((buf[0] as string).toUpperCase())
  const up = buf.toUpperCase()
  if (i >= 0 && (buf.length === 1 || (up[0] !== 'B' && ((up[1] === 'B' && buf.length === 2) || (up.slice(1) === 'IB'))))) return 10 * i
  return `invalid numeric suffix '${buf}'`
}

const U64_MAX = (1n << 64n) - 1n

/** zfs_nicestrtonum: `100G`, `1.5g`, `1536M`, `512` into bytes, or libzfs's complaint. */
export function nicestrtonum(value: string): bigint | string {
  if (!/^[0-9.]/.test(value)) return `bad numeric value '${value}'`
  const digits = /^[0-9]*/.exec(value)?.[0] ?? ''
  if (digits !== '' && BigInt(digits) > U64_MAX) return 'numeric value is too large'
  const end = digits === '' ? value : value.slice(digits.length)
  if (end.startsWith('.')) {
    // strtod from the start: digits, a point, digits, an exponent.
    const f = /^[0-9]*\.?[0-9]*(?:[eE][+-]?[0-9]+)?/.exec(value)?.[0] ?? ''
    const conv = /[0-9]/.test(f) ? f : ''
    const shift = str2shift(value.slice(conv.length))
    if (typeof shift === 'string') return shift
    const fval = Number(conv || 0) * 2 ** shift
    if (fval >= 2 ** 64) return 'numeric value is too large'
    return BigInt(Math.trunc(fval))
  }
  const shift = str2shift(end)
  if (typeof shift === 'string') return shift
  const num = BigInt(digits)
  if (shift >= 64 || ((num << BigInt(shift)) & U64_MAX) >> BigInt(shift) !== num) return 'numeric value is too large'
  return num << BigInt(shift)
}

/**
 * libzfs's checks of `-o p=v` / `zfs set p=v` (libzfs_dataset.c zfs_valid_proplist, then
 * libzfs_util.c zprop_parse_value), in its order: unknown name, wrong dataset type, read-only,
 * then the value. Returns the properties under their canonical names (`reserv` is stored as
 * `reservation`), numbers in bytes.
 */
export function validateProps(
  k: Kernel, viewer: number, name: string, props: Record<string, string>, zoned: boolean, verb: string,
  type: SimDataset['type'], creating: boolean, exit: number,
): Record<string, string> {
  const fail = (why: string): never => zfail(`cannot ${verb} '${name}': ${why}`, exit)
  const out: Record<string, string> = {}
  for (const [p, v] of Object.entries(props)) {
    if (p.includes(':')) {
      out[p] = v
      continue
    }
    const desc = lookupProp(p)
    if (!desc) return fail(`invalid property '${p}'`)
    if (!validForType(desc, type)) fail(`'${p}' does not apply to datasets of this type`)
    const setonce = desc.attr === 'onetime' || desc.attr === 'onetime_default'
    if ((desc.attr === 'readonly' || setonce) && !(setonce && creating)) fail(`'${p}' is readonly`)
    const c = desc.name
    if (desc.kind === 'number') {
      let n = 0n
      if (v === 'auto') {
        fail(c === 'refreservation' ? `'${p}=auto' only allowed on volumes` : `'auto' is invalid value for '${p}'`)
      } else if (v !== 'none') {
        const r = nicestrtonum(v)
        if (typeof r === 'string') fail(r)
        n = r as bigint
        // "Quota special: force 'none' and don't allow 0."
        if (n === 0n && (c === 'quota' || c === 'refquota')) fail("use 'none' to disable quota/refquota")
      }
      out[c] = n.toString()
      continue
    }
    if (c === 'jailed') {
      if (viewer !== 0) fail('permission denied')
      if (v !== 'on' && v !== 'off') fail("'jailed' must be one of 'on | off'")
    } else if (c === 'mountpoint') {
      if (zoned && viewer === 0) fail("'mountpoint' cannot be set while dataset 'zoned' property is set")
      if (v !== 'none' && v !== 'legacy' && !v.startsWith('/')) fail("'mountpoint' must be an absolute path, 'none', or 'legacy'")
    } else if (['atime', 'exec', 'setuid', 'readonly'].includes(c)) {
      if (v !== 'on' && v !== 'off') fail(`'${p}' must be one of 'on | off'`)
    } else if (c === 'canmount') {
      if (!['on', 'off', 'noauto'].includes(v)) fail("'canmount' must be one of 'on | off | noauto'")
    } else if (c === 'volmode') {
      if (!['default', 'full', 'geom', 'dev', 'none'].includes(v)) fail("'volmode' must be one of 'default | full | geom | dev | none'")
    } else if (c === 'compression') {
      if (!['on', 'off', 'lz4', 'zstd', 'gzip'].includes(v)) fail("'compression' must be one of 'on | off | lz4 | gzip | zstd'")
    }
    out[c] = v
  }
  void k
  return out
}

/**
 * zfs_set_prop_nvlist (module/zfs/zfs_ioctl.c): every property in order; a quota or reservation
 * the kernel refuses is tried again in a second pass (so `reservation=0 quota=5M` works in either
 * order), and what still fails is listed. Returns zfs_setprop_error's words for each refusal.
 */
function setProps(k: Kernel, d: SimDataset, props: Record<string, string>): string[] {
  const retry: Array<[string, string]> = []
  for (const [p, v] of Object.entries(props)) {
    if (SPACE_PROPS.has(p) && spaceCheck(k, d, p, Number(v))) retry.push([p, v])
    else d.props[p] = v
  }
  const refused: string[] = []
  for (const [p, v] of retry) {
    const why = spaceCheck(k, d, p, Number(v))
    if (why) refused.push(why)
    else d.props[p] = v
  }
  return refused
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
  const valid = validateProps(k, viewer, name, props, zoned, 'create', 'filesystem', true, 1)
  const d = newDataset(k, name, 'filesystem', withoutSpace(valid))
  // zfs_ioc_create sets the properties after dmu_objset_create and destroys the dataset again if
  // that fails (module/zfs/zfs_ioctl.c); ENOSPC is zfs_standard_error's "out of space" there
  // (libzfs_dataset.c zfs_create).
  if (setProps(k, d, valid).length > 0) zfail(`cannot create '${name}': out of space`)
  if (!noMount) autoMount(k, viewer, d, fs)
}

/**
 * zvol_volsize_to_reservation (lib/libzfs/libzfs_dataset.c): the refreservation `zfs create -V`
 * sets on a volume that is not sparse: the size (volsize_from_vdevs leaves it as it is on
 * vdevs that are not raidz/draid, the model's only kind) plus room for the indirect blocks,
 * with copies=1: numdb = 7 + the levels of a 1024-wide tree over the blocks, times
 * MIN(SPA_DVAS_PER_BP 3, copies + 1), times 1 << DN_MAX_INDBLKSHIFT (128K).
 */
export function volsizeToReservation(volsize: number, volblocksize: number): number {
  let nblocks = Math.floor(volsize / volblocksize)
  const size = nblocks * volblocksize
  let numdb = 7
  while (nblocks > 1) {
    nblocks = Math.floor((nblocks + 1023) / 1024)
    numdb += nblocks
  }
  return size + numdb * 2 * 131_072
}

/**
 * zfs create [-p] [-s] -V size [-b blocksize] [-o p=v] volume (cmd/zfs/zfs_main.c zfs_do_create,
 * libzfs_dataset.c zfs_create): the size rounded up to the block size, a refreservation unless
 * sparse (-s) or one was given, and a blank disk of that size (disks.ts) behind it.
 */
export function zfsCreateVolume(
  k: Kernel, viewer: number, name: string, volsize: bigint, sparse: boolean, props: Record<string, string>, parents: boolean, fs: ZfsFs,
): SimDataset {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.:/-]*$/.test(name) || name.includes('//') || name.endsWith('/')) zfail(`cannot create '${name}': invalid character in name`)
  if (findDataset(k, name)) zfail(`cannot create '${name}': dataset already exists`)
  const parent = parentName(name)
  if (!parent) return zfail(`cannot create '${name}': missing dataset name`)
  if (!poolOf(k, name)) return zfail(`cannot create '${name}': no such pool '${name.split('/')[0]}'`)
  if (!findDataset(k, parent)) {
    if (!parents) return zfail(`cannot create '${name}': parent does not exist`)
    zfsCreate(k, viewer, parent, {}, true, fs)
  }
  checkWritable(k, viewer, name, 'create')
  const valid = validateProps(k, viewer, name, props, prop(k, findDataset(k, parent) as SimDataset, 'jailed') === 'on', 'create', 'volume', true, 1)
  const block = Number(valid['volblocksize'] ?? PROP_DEFAULTS['volblocksize'])
  // zfs_create: "volume size cannot be zero" / "... must be a multiple of volume block size"
  // (zfs_do_create rounds it up first when -b was not given: P2ROUNDUP_TYPED).
  if (volsize === 0n) zfail(`cannot create '${name}': volume size cannot be zero`)
  let size = Number(volsize)
  if (size % block !== 0) {
    if (valid['volblocksize'] !== undefined) zfail(`cannot create '${name}': volume size must be a multiple of volume block size`)
    size = Math.ceil(size / block) * block
  }
  const d = newDataset(k, name, 'volume', {...withoutSpace(valid), volsize: String(size)})
  const space = {...valid}
  if (!sparse && space['refreservation'] === undefined && space['reservation'] === undefined) space['refreservation'] = String(volsizeToReservation(size, block))
  if (setProps(k, d, Object.fromEntries(Object.entries(space).filter(([p]) => SPACE_PROPS.has(p)))).length > 0) {
    k.datasets = k.datasets.filter((x) => x !== d)
    zfail(`cannot create '${name}': out of space`)
  }
  d.disk = newDisk(k, Math.floor(size / SECTOR)).id
  return d
}

/**
 * zfs snapshot -r fs@snap: one snapshot of the dataset and of every filesystem and volume
 * below it, taken together (dsl_dataset_snapshot checks them all first: any that exists fails
 * the whole call with "dataset already exists").
 */
export function zfsSnapshotRecursive(k: Kernel, viewer: number, name: string, fs: ZfsFs): void {
  const at = name.indexOf('@')
  if (at <= 0 || at === name.length - 1) return zfail(`cannot create snapshot '${name}': invalid character in name`)
  const top = datasetOrFail(k, viewer, name.slice(0, at), 'open')
  const snap = name.slice(at + 1)
  const all = [top, ...k.datasets.filter((d) => d.type !== 'snapshot' && d.name.startsWith(`${top.name}/`) && datasetAccess(k, viewer, d.name) !== 'none')]
  for (const d of all) if (findDataset(k, `${d.name}@${snap}`)) zfail(`cannot create snapshot '${d.name}@${snap}': dataset already exists`)
  for (const d of all) zfsSnapshot(k, viewer, `${d.name}@${snap}`, fs)
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
  // EROFS from a pool imported readonly=on: zfs_standard_error's EZFS_POOLREADONLY text.
  if (poolOf(k, name)?.guest?.readonly) return zfail(`cannot create snapshot '${name}': pool is read-only`)
  const snap = newDataset(k, name, 'snapshot', {})
  // A snapshot refers to what its dataset referred to when it was taken (dsl_dataset_snapshot_sync_impl
  // copies ds_referenced_bytes); it shares those blocks, so it uses nothing of its own.
  snap.referenced = base.referenced
  // A volume's snapshot keeps its size and names the same disk (shared until one of them writes).
  if (base.type === 'volume') {
    snap.disk = base.disk
    if (base.props['volsize'] !== undefined) snap.props['volsize'] = base.props['volsize']
    return
  }
  // dsl_dataset_snapshot_sync_impl (module/zfs/dsl_dataset.c) calls dsl_dir_snap_cmtime_update.
  base.snapshotsChanged = k.clock
  const m = mountOfDataset(k, base.name)
  if (m) fs.saveSnapshot(snap.guid, m.on)
  else if (base.content !== undefined) fs.copySnapshot(base.content, snap.guid)
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
  const vol = findDataset(k, snapName.slice(0, snapName.indexOf('@')))?.type === 'volume'
  const type = vol ? 'volume' : 'filesystem'
  const valid = validateProps(k, viewer, name, props, prop(k, findDataset(k, parent) as SimDataset, 'jailed') === 'on', 'create', type, true, 1)
  const d = newDataset(k, name, type, withoutSpace(valid))
  d.origin = snapName
  // A clone of a volume snapshot is a volume over the same disk (written: copied, disks.ts).
  if (vol) {
    d.disk = snap.disk
    if (snap.props['volsize'] !== undefined) d.props['volsize'] = snap.props['volsize']
    if (setProps(k, d, valid).length > 0) zfail(`cannot create '${name}': out of space`)
    return
  }
  d.referenced = 8192
  if (setProps(k, d, valid).length > 0) zfail(`cannot create '${name}': out of space`)
  autoMount(k, viewer, d, fs)
}

/**
 * zfs set: libzfs validates the whole list first (zfs_prop_set_list_flags), then the kernel sets
 * each property. Every failure after the dataset was opened returns -1 from set_callback, which
 * zfs_for_each ORs into zfs's exit status: 255 (cmd/zfs/zfs_main.c zfs_do_set, zfs_iter.c).
 */
export function zfsSet(k: Kernel, viewer: number, name: string, props: Record<string, string>): void {
  const d = datasetOrFail(k, viewer, name, 'open')
  const fail = (why: string): never => zfail(`cannot set property for '${name}': ${why}`, SET_FAILED)
  const zoned = prop(k, d, 'jailed') === 'on'
  for (const p of Object.keys(props)) {
    const c = lookupProp(p)?.name ?? p
    if (c === 'jailed' && viewer !== 0) fail('permission denied')
    if (viewer !== 0) {
      const j = getJail(k, viewer)
      // The quota-like limits at the delegation point itself stay with the host.
      const atDelegation = j.datasets.includes(name) && ['quota', 'filesystem_limit', 'snapshot_limit'].includes(c)
      if (atDelegation || datasetAccess(k, viewer, name) !== 'rw' || !canMountIn(j) || !j.allow.includes('mount.zfs')) fail('permission denied')
    }
  }
  const valid = validateProps(k, viewer, name, props, zoned, 'set property for', d.type, false, SET_FAILED)
  // One ZFS_IOC_SET_PROP: zfs_set_prop_nvlist sets what it can and lists what it could not;
  // libzfs reports each of those with zfs_setprop_error (zfs_prop_set_list_flags).
  const refused = setProps(k, d, valid)
  if (refused.length > 0) zfail(refused.map((why) => `cannot set property for '${name}': ${why}`).join('\n'), SET_FAILED)
}

/** The exit status of a failed `zfs set` (see zfsSet). */
export const SET_FAILED = 255

const withoutSpace = (props: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(props).filter(([p]) => !SPACE_PROPS.has(p)))

/** A fresh id in the tree store for a dataset's content (never a snapshot's guid: those are decimal). */
export function newContentId(k: Kernel): string {
  k.txg++
  return `content-${k.txg}`
}

/**
 * Put an unmounted filesystem's files away from the host tree, into the tree store, as ZFS keeps
 * a dataset's blocks whatever is mounted: what was at `on` (its last mount point) is saved
 * under `d.content` and removed from `on`. For datasets whose files must not stay in a
 * directory once unmounted (an exported pool's, a guest pool's read-only view).
 */
export function stashContent(k: Kernel, d: SimDataset, on: string, fs: ZfsFs): void {
  if (mountOfDataset(k, d.name)) return
  if (d.content !== undefined) fs.dropSnapshot(d.content)
  d.content = newContentId(k)
  fs.saveSnapshot(d.content, on)
  if (on !== '/') fs.removeTree(on)
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
  // destroy -r fs@snap: the snapshot of that name of every descendant too (zfs_main.c
  // zfs_do_destroy: "snapshot" of each descendant, zfs_iter_dependents / destroy_check_dependent).
  const at = name.indexOf('@')
  const children = at > 0 && opts.recursive
    ? k.datasets.filter((c) => c.name !== name && c.type === 'snapshot' && c.name.endsWith(name.slice(at)) && c.name.startsWith(`${name.slice(0, at)}/`))
    : k.datasets.filter((c) => c.name !== name && isWithinDs(c.name, name))
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
  // A volume a pool is imported from is open (vdev_geom holds its zvol, zvol_first_open owns the
  // objset): dsl_destroy_head_check_impl refuses a long-held dataset (EBUSY), which libzfs says
  // as EZFS_BUSY "pool or dataset is busy", naming the dataset (destroy_callback, deepest first).
  const held = order.find((x) => x.type === 'volume' && x.disk !== undefined && k.pools.some((p) => p.guest?.disk === x.disk))
  if (held) zfail(`cannot destroy '${held.name}': pool or dataset is busy`)
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
  const survivors = new Set(k.datasets.filter((x) => !all.includes(x)).map((x) => x.name))
  for (const x of order) {
    if (x.content !== undefined) fs.dropSnapshot(x.content)
    if (x.type === 'snapshot') {
      fs.dropSnapshot(x.guid)
      // dsl_dataset_snap_remove (module/zfs/dsl_dataset.c) updates snapshots_changed too.
      const base = findDataset(k, x.name.slice(0, x.name.indexOf('@')))
      if (base && survivors.has(base.name)) {
        k.clock++
        base.snapshotsChanged = k.clock
      }
    }
    for (const j of k.jails) j.datasets = j.datasets.filter((n) => n !== x.name)
  }
  const names = new Set(order.map((x) => x.name))
  k.datasets = k.datasets.filter((x) => !names.has(x.name))
  // A destroyed volume (or its last snapshot or clone) lets its disk go.
  if (order.some((x) => x.disk !== undefined)) dropUnusedDisks(k, fs)
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
