// vm-bhyve's files on the simulated host, read as vm-bhyve reads them (churchers/vm-bhyve
// 6e91ff5: `vm`, lib/vm-base, lib/vm-config, lib/vm-datastore, lib/vm-zfs, lib/vm-run), and
// the guests' running state, which is the kernel's (Kernel.vms: /dev/vmm/NAME and the process
// `bhyve: NAME`). Shared by the `vm` tool and the control plane's `nest sim vm add`.
import {createHash} from 'node:crypto'
import {readdirSync, rmSync, statSync} from 'node:fs'
import path from 'node:path'

import type {SimFs} from './fs.js'
import type {Kernel, SimVm} from './kernel/state.js'
import {parseRcConf} from './rc.js'
import {notSimulated} from './tools/common.js'
import {configGet, configLoad} from '../domain/vmbhyve.js'
import {rcEdit} from '../domain/rcconf.js'

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

/** The simulated clock's ticks as `date +%s` reads them: minutes from this moment (the same mapping as the simulated zfs's creation times, tools/zfs.ts). */
const SIM_EPOCH = 1_760_000_000
export const simDateSecs = (k: Kernel): number => SIM_EPOCH + k.clock * 60

const md5 = (s: string): string => createHash('md5').update(s).digest('hex')

/**
 * config::set (lib/vm-config): a newline added when the file does not end in one, then
 * `sysrc -inqf NAME.conf KEY=VALUE` (the last assignment replaced in place, else `KEY="VALUE"`
 * appended: src/domain/rcconf.ts).
 */
export function confSet(fs: SimFs, file: string, key: string, value: string): void {
  const text = fs.read(file)
  fs.write(file, rcEdit(text === '' || text.endsWith('\n') ? text : `${text}\n`, [[key, value]]))
}

/**
 * vm::generate_static_mac (lib/vm-run): `58:9c:fc:0` and five hex digits of
 * `md5 -qs "NAME:N:$(date +%s):I"` (I from 0 until the digits are not 0:00:00).
 */
export function staticMac(name: string, num: number, secs: number): string {
  for (let i = 0; ; i++) {
    const h = md5(`${name}:${num}:${secs}:${i}`)
    const part = `${h[0]}:${h.slice(1, 3)}:${h.slice(3, 5)}`
    if (part !== '0:00:00') return `58:9c:fc:0${part}`
  }
}

/**
 * uuidgen(1) makes a random version-4 UUID; the simulator derives one from the guest's name and
 * the clock, so that a run is repeatable.
 */
export function simUuid(name: string, secs: number): string {
  const h = md5(`uuid:${name}:${secs}`)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16] as string, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`
}

/**
 * vm::get_disk_path (lib/vm-run): zvol and sparse-zvol under /dev/zvol/STORE_DATASET/NAME/,
 * custom verbatim, file (or unset) in the guest's directory. iscsi (iscsictl -L) is not simulated.
 */
export function diskPath(store: Datastore, guestDir: string, name: string, disk: string, dev: string): string {
  switch (dev) {
    case 'zvol':
    case 'sparse-zvol':
      return `/dev/zvol/${store.zfsDataset ?? ''}/${name}/${disk}`
    case 'custom':
      return disk
    case 'iscsi':
      return notSimulated('a disk with diskN_dev="iscsi" (iscsictl -L)')
    default:
      return path.posix.join(guestDir, disk)
  }
}

/**
 * Whether a disk path opens: a zvol's /dev/zvol/DATASET node is there while the volume exists
 * (the simulator has no devfs nodes for zvols: the model's dataset of type volume stands for it);
 * any other path is a file on the host.
 */
export function diskExists(k: Kernel, fs: SimFs, p: string): boolean {
  if (p.startsWith('/dev/zvol/')) return k.datasets.some((d) => d.type === 'volume' && d.name === p.slice('/dev/zvol/'.length))
  return fs.exists(p)
}

/** The disks vm::bhyve_device_disks walks: disk0.. up to the first with no diskN_name or no diskN_type. */
export function confDisks(conf: string[]): Array<{num: number; name: string; type: string; dev: string; opts: string}> {
  const out: Array<{num: number; name: string; type: string; dev: string; opts: string}> = []
  for (let n = 0; ; n++) {
    const name = configGet(conf, `disk${n}_name`)
    const type = configGet(conf, `disk${n}_type`)
    if (name === '' || type === '') return out
    out.push({num: n, name, type, dev: configGet(conf, `disk${n}_dev`), opts: configGet(conf, `disk${n}_opts`)})
  }
}

/** uefi* loaders' firmware (vm::uefi, lib/vm-run): the path per loader. */
function uefiFirmware(loader: string, storePath: string): string {
  switch (loader) {
    case 'uefi-devel':
      return '/usr/local/share/uefi-firmware/BHYVE_UEFI_CODE-devel.fd'
    case 'uefi-csm':
      return '/usr/local/share/uefi-firmware/BHYVE_UEFI_CSM.fd'
    case 'uefi-custom':
      return `${storePath}/.config/BHYVE_UEFI.fd`
    default:
      return '/usr/local/share/uefi-firmware/BHYVE_UEFI.fd'
  }
}

/**
 * vm::run's files of a guest it runs: `console`, one `comN=/dev/nmdm-NAME.NB` line per com port
 * (vm::bhyve_device_comports, default com1), and run.lock naming this host (vm::lock). The
 * console file's path.
 */
export function writeRunFiles(k: Kernel, fs: SimFs, dir: string, name: string, conf: string[]): string {
  const comports = configGet(conf, 'comports', 'com1').split(/\s+/).filter(Boolean)
  const consoleFile = path.posix.join(dir, 'console')
  fs.write(consoleFile, comports.map((c, i) => `${c}=/dev/nmdm-${name}.${i + 1}B\n`).join(''))
  fs.write(`${dir}/run.lock`, `${k.hostname}\n`)
  return consoleFile
}

export type StartOutcome = {running: true; pid: number} | {running: false; why: string}

/**
 * What the background `vm _run NAME` (vm::run, lib/vm-run) does once core::__start has started
 * it, until the guest runs or fails: a missing uuid and each missing networkN_mac are written to
 * NAME.conf (config::set); the console file gets `com1=/dev/nmdm-NAME.1B` per com port
 * (vm::bhyve_device_comports) and run.lock this host's name (vm::lock); then the loader
 * (bhyveload opens the boot disk disk0: `errx(EX_USAGE, "Could not open '%s'")`, exit 64,
 * usr.sbin/bhyveload/bhyveload.c; vm::run logs `fatal; loader returned error 64`), then bhyve,
 * which opens every disk (a missing one: `device emulation initialization error`, exit 4,
 * usr.sbin/bhyve/bhyverun.c). A guest that fails is unlocked again (vm::unlock removes run.lock and
 * console). Not simulated: the taps of the guest's network interfaces (switch::provision:
 * `ifconfig tap create`, `addm` to the switch's bridge; the simulated interface table does not get
 * them), vm-bhyve.log, and the prestart script, passthru devices, uefi_vars, 9p and iscsi disks
 * (refused). Called under the kernel's lock; `k` is saved by the caller.
 */
export function startGuest(k: Kernel, fs: SimFs, name: string, guest: {store: Datastore; dir: string}): StartOutcome {
  const file = `${guest.dir}/${name}.conf`
  const load = (): string[] => configLoad(fs.exists(file) ? fs.read(file) : '')
  let conf = load()
  const loader = configGet(conf, 'loader')
  if (configGet(conf, 'prestart') !== '') notSimulated(`vm start ${name}: the prestart script`)
  if (configGet(conf, 'passthru0') !== '') notSimulated(`vm start ${name}: PCI passthrough (passthru0)`)
  const disks = confDisks(conf)
  for (const d of disks) if (d.dev === '9p' || d.dev === 'iscsi') notSimulated(`vm start ${name}: a disk with disk${d.num}_dev="${d.dev}"`)
  const secs = simDateSecs(k)
  // `[ -z "${_uuid}" ] && _uuid=$(uuidgen) && config::set ... uuid`.
  if (configGet(conf, 'uuid') === '') confSet(fs, file, 'uuid', simUuid(name, secs))
  if (loader === '' || configGet(conf, 'cpu') === '' || configGet(conf, 'memory') === '') return {running: false, why: 'fatal; unable to start - missing required configuration'}
  const uefi = loader.replace(/-[^-]*$/, '') === 'uefi'
  if (uefi) {
    const rom = uefiFirmware(loader, guest.store.path)
    if (!fs.exists(rom)) return {running: false, why: `fatal; unable to locate firmware ${rom}`}
    if (vmYesno(configGet(conf, 'uefi_vars'))) notSimulated(`vm start ${name}: uefi_vars`)
  }
  const paths = disks.map((d) => diskPath(guest.store, guest.dir, name, d.name, d.dev))
  // vm::bhyve_device_networking → switch::provision: a static MAC for each interface without one.
  for (let n = 0; configGet(conf, `network${n}_type`) !== ''; n++) {
    if (configGet(conf, `network${n}_mac`) === '') confSet(fs, file, `network${n}_mac`, staticMac(name, n, secs))
  }
  conf = load()
  const consoleFile = writeRunFiles(k, fs, guest.dir, name, conf)
  // vm::unlock: no vmm device was made (bhyveload fails before vm_create, bhyve's own failure
  // is followed by `bhyvectl --destroy`).
  const fail = (why: string): StartOutcome => {
    for (const f of [`${guest.dir}/run.lock`, consoleFile]) rmSync(fs.real(f, false), {force: true})
    return {running: false, why}
  }
  if (!uefi) {
    // guest::load: `fatal; non-uefi loaders require a boot disk device` (return 15).
    const boot = configGet(conf, 'disk0_name')
    if (boot === '') return fail('fatal; loader returned error 15')
    const bootPath = diskPath(guest.store, guest.dir, name, boot, configGet(conf, 'disk0_dev', 'file'))
    if (!diskExists(k, fs, bootPath)) return fail('fatal; loader returned error 64')
  }
  if (paths.some((p) => !diskExists(k, fs, p))) return fail('bhyve exited with status 4')
  const pid = nextVmPid(k)
  k.vms.push({name, pid, stage: 'bhyve'})
  fs.write(vmmPath(name), '')
  return {running: true, pid}
}

/**
 * info::__bytes_human (lib/vm-info): divided by 1024 with `bc` at scale 3 (truncating) while the
 * integer part is 1024 or more, up to T; printed `%.3f` with B, K, M, G or T.
 */
export function bytesHuman(n: number): string {
  let t = BigInt(Math.trunc(n)) * 1000n
  let unit = 1
  while (t / 1000n >= 1024n && unit < 5) {
    t = t / 1024n
    unit++
  }
  const ext = ['B', 'K', 'M', 'G', 'T'][unit - 1] as string
  return `${t / 1000n}.${String(t % 1000n).padStart(3, '0')}${ext}`
}

/**
 * info::guest_show (lib/vm-info) for a guest that is not running: its configuration, each
 * network interface and disk (`bytes-size` `stat -f%z` and `bytes-used` `du` × 1024 for a file,
 * which assumes du counts KiB blocks (BLOCKSIZE=K, root's profile: unconfirmed); volsize and
 * referenced for a zvol), and on a ZFS store the guest dataset's snapshots and origin (a guest
 * dataset with snapshots is not simulated: zfs list's columns).
 */
export function guestInfo(k: Kernel, fs: SimFs, name: string, guest: {store: Datastore; dir: string}): string {
  const conf = configLoad(fs.read(`${guest.dir}/${name}.conf`))
  const lines: string[] = []
  const I = '  '
  const outConf = (indent: string, option: string, title = option, def = '-'): void => {
    lines.push(`${indent}${title}: ${configGet(conf, option, def)}`)
  }
  lines.push('------------------------', `Virtual Machine: ${name}`, '------------------------')
  lines.push(`${I}state: stopped`, `${I}datastore: ${guest.store.name}`)
  outConf(I, 'loader', 'loader', 'none')
  outConf(I, 'uuid', 'uuid', 'auto')
  outConf(I, 'cpu')
  const sockets = configGet(conf, 'cpu_sockets')
  if (sockets !== '') {
    const cores = configGet(conf, 'cpu_cores')
    const threads = configGet(conf, 'cpu_threads')
    lines.push(`${I}cpu-topology: sockets=${sockets}${cores === '' ? '' : `, cores=${cores}`}${threads === '' ? '' : `, threads=${threads}`}`)
  }
  outConf(I, 'memory')
  const II = '    '
  for (let n = 0; configGet(conf, `network${n}_type`) !== ''; n++) {
    lines.push('', `${I}network-interface`, `${II}number: ${n}`)
    outConf(II, `network${n}_type`, 'emulation')
    outConf(II, `network${n}_switch`, 'virtual-switch')
    outConf(II, `network${n}_mac`, 'fixed-mac-address')
    outConf(II, `network${n}_device`, 'fixed-device')
  }
  for (let n = 0; ; n++) {
    const disk = configGet(conf, `disk${n}_name`)
    const type = configGet(conf, `disk${n}_type`)
    const dev = configGet(conf, `disk${n}_dev`, 'file')
    if (disk === '' || type === '') break
    const p = diskPath(guest.store, guest.dir, name, disk, dev)
    lines.push('', `${I}virtual-disk`, `${II}number: ${n}`)
    outConf(II, `disk${n}_dev`, 'device-type', 'file')
    outConf(II, `disk${n}_type`, 'emulation')
    outConf(II, `disk${n}_opts`, 'options')
    lines.push(`${II}system-path: ${p || '-'}`)
    let size: number | undefined
    let used: number | undefined
    if (dev === 'file' && fs.exists(p)) {
      const st = statSync(fs.real(p))
      size = st.size
      used = Math.ceil((st.blocks * 512) / 1024) * 1024
    } else if (dev === 'zvol' || dev === 'sparse-zvol') {
      const d = k.datasets.find((x) => x.name === p.slice('/dev/zvol/'.length))
      if (d) {
        size = Number(d.props['volsize'] ?? 0)
        used = d.referenced
      }
    }
    if (size !== undefined && used !== undefined) lines.push(`${II}bytes-size: ${size} (${bytesHuman(size)})`, `${II}bytes-used: ${used} (${bytesHuman(used)})`)
  }
  if (guest.store.zfsDataset !== undefined) {
    const ds = `${guest.store.zfsDataset}/${name}`
    const d = k.datasets.find((x) => x.name === ds)
    if (!d) notSimulated(`vm info ${name}: no dataset ${ds} (zfs list's and zfs get's errors)`)
    if (k.datasets.some((x) => x.type === 'snapshot' && (x.name.startsWith(`${ds}@`) || x.name.startsWith(`${ds}/`)))) notSimulated(`vm info ${name}: the snapshots of ${ds} (zfs list -o name,used,creation)`)
    if (d?.origin !== undefined) lines.push('', `${I}clone-origin`, `${II}${d.origin}`)
  }
  lines.push('')
  return lines.map((l) => `${l}\n`).join('')
}
