// vm-bhyve's files on the simulated host, read as vm-bhyve reads them (churchers/vm-bhyve
// 6e91ff5: `vm`, lib/vm-base, lib/vm-config, lib/vm-datastore, lib/vm-zfs, lib/vm-run), and
// the guests' running state, which is the kernel's (Kernel.vms: /dev/vmm/NAME and the process
// `bhyve: NAME`). Shared by the `vm` tool and the control plane's `nest sim vm add`.
import {readdirSync, rmSync} from 'node:fs'
import path from 'node:path'

import type {SimFs} from './fs.js'
import type {Kernel, SimVm} from './kernel/state.js'
import {parseRcConf} from './rc.js'
import {configGet, configLoad} from '../domain/vmbhyve.js'

/**
 * load_rc_config "vm" (lib/vm-base): /etc/rc.conf, /etc/rc.conf.local, then /etc/rc.conf.d/vm
 * (rc.subr; the rc.conf.d lookup is source-derived, migration.md §1.1). Lines the simulator
 * cannot read as data are reported through `warn` and skipped (rc.ts parseRcConf).
 */
export const VM_RC_FILES = ['/etc/rc.conf', '/etc/rc.conf.local', '/etc/rc.conf.d/vm'] as const

export function loadVmRcConfig(fs: SimFs, warn: (text: string) => void): Record<string, string> {
  const vars: Record<string, string> = {}
  for (const file of VM_RC_FILES) {
    let text: string
    try {
      text = fs.read(file)
    } catch {
      continue
    }
    parseRcConf(text, file, {out: () => {}, err: warn}, vars)
  }
  return vars
}

/** NAME.conf and system.conf as vm-bhyve loads them (config::load, config::get): nest's own reading of them, src/domain/vmbhyve.ts. */
export {configLoad as parseVmConf, configGet as confGet}

/** util::yesno (lib/vm-util): empty, no, false, off, 0 (any case) are false. */
export const vmYesno = (v: string): boolean => !/^(|no|false|off|0)$/i.test(v)

/** rc.subr checkyesno: yes/true/on/1 true, no/false/off/0 false, anything else warned about and false. */
export function checkyesno(v: string | undefined): 'yes' | 'no' | 'bad' {
  if (v !== undefined && /^(yes|true|on|1)$/i.test(v)) return 'yes'
  if (v !== undefined && /^(no|false|off|0)$/i.test(v)) return 'no'
  return 'bad'
}

/**
 * `mount | grep "^${ds} " | cut -d' ' -f3` (zfs::init, datastore::__resolve_path): the mount
 * point of a dataset, from the host's mount table.
 */
export function zfsMountpoint(k: Kernel, ds: string): string | undefined {
  return k.mounts.find((m) => m.from === ds)?.on
}

export type VmDir = {ok: true; dir: string; zfsDataset?: string} | {ok: false; error: string}

/**
 * zfs::init then lib/vm-base's directory check: `zfs:pool/ds` becomes the dataset's mount point
 * (`unable to locate mountpoint for ZFS dataset DS`); a directory must exist
 * (`$vm_dir has not been configured or is not a valid directory`).
 */
export function resolveVmDir(k: Kernel, fs: SimFs, vmDir: string | undefined): VmDir {
  let dir = vmDir ?? ''
  let zfsDataset: string | undefined
  if (dir.split(':')[0] === 'zfs' && dir.includes(':')) {
    zfsDataset = dir.slice(dir.indexOf(':') + 1)
    const on = zfsMountpoint(k, zfsDataset)
    if (!on) return {ok: false, error: `unable to locate mountpoint for ZFS dataset ${zfsDataset}`}
    dir = on
  }
  if (dir === '' || !fs.isDir(dir)) return {ok: false, error: '$vm_dir has not been configured or is not a valid directory'}
  return zfsDataset === undefined ? {ok: true, dir} : {ok: true, dir, zfsDataset}
}

export interface Datastore {
  name: string
  /** The directory that holds the guests' directories. */
  path: string
  zfsDataset?: string
}

/**
 * datastore::load and datastore::get (lib/vm-datastore): `default` (vm_dir), then each name in
 * system.conf's `datastore_list` whose `path_NAME` resolves (`zfs:` through the mount table, a
 * directory that exists); iso and img stores hold no guests and are skipped.
 */
export function datastores(k: Kernel, fs: SimFs, vmDir: {dir: string; zfsDataset?: string}, core: string[]): Datastore[] {
  const out: Datastore[] = [{name: 'default', path: vmDir.dir, ...(vmDir.zfsDataset === undefined ? {} : {zfsDataset: vmDir.zfsDataset})}]
  for (const name of configGet(core, 'datastore_list').split(/\s+/).filter(Boolean)) {
    if (name === 'default') continue
    const spec = configGet(core, `path_${name}`)
    if (spec === '') continue
    const kind = spec.includes(':') ? spec.slice(0, spec.indexOf(':')) : ''
    if (kind === 'iso' || kind === 'img') continue
    if (kind === 'zfs') {
      const ds = spec.slice(4)
      const on = zfsMountpoint(k, ds)
      if (on) out.push({name, path: on, zfsDataset: ds})
    } else if (fs.isDir(spec)) {
      out.push({name, path: spec})
    }
  }
  return out
}

/** `ls -1 DIR` (sorted as the C locale sorts), empty when DIR cannot be listed. */
export function listDir(fs: SimFs, dir: string): string[] {
  try {
    return readdirSync(fs.real(dir)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  } catch {
    return []
  }
}

/** `[ -e FILE ]` on the host. */
export const exists = (fs: SimFs, p: string): boolean => fs.exists(p)

/** util::check_name (lib/vm-util): `^[a-z0-9][.a-z0-9_-]{0,229}[a-z0-9]$`, case-insensitive. */
export const VM_NAME = /^[a-z0-9][.a-z0-9_-]{0,229}[a-z0-9]$/i

export const vmmPath = (name: string): string => `/dev/vmm/${name}`

/** The guest's entry in the kernel: /dev/vmm/NAME exists while it does. */
export const vmOf = (k: Kernel, name: string): SimVm | undefined => k.vms.find((v) => v.name === name)

/** A pid for a new bhyve process: above every pid the simulator's guests use (deterministic). */
export const nextVmPid = (k: Kernel): number => Math.max(4999, ...k.vms.map((v) => v.pid)) + 1

/**
 * The guest is gone from the kernel, as at the end of vm::run after bhyve exits (lib/vm-run):
 * `bhyvectl --destroy` removes /dev/vmm/NAME, vm::unlock removes run.lock, suspending.lock and
 * console from the guest's directory.
 */
export function powerOff(k: Kernel, fs: SimFs, name: string, guestDir: string | undefined): void {
  k.vms = k.vms.filter((v) => v.name !== name)
  rmSync(fs.real(vmmPath(name), false), {force: true})
  if (guestDir === undefined) return
  for (const f of ['run.lock', 'suspending.lock', 'console']) rmSync(fs.real(path.posix.join(guestDir, f), false), {force: true})
}

/** datastore::get_guest: vm_dir/NAME/NAME.conf first, then each other store in order. */
export function findGuest(fs: SimFs, stores: Datastore[], name: string): {store: Datastore; dir: string} | undefined {
  for (const store of stores) {
    const dir = path.posix.join(store.path, name)
    if (fs.exists(path.posix.join(dir, `${name}.conf`))) return {store, dir}
  }
  return undefined
}
