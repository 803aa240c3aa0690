// The simulator's control plane, separate from the emulated tools (house style §16): a fresh
// host, reset, snapshot/restore, faults, latency, the invocation log.
import {cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {pathToFileURL} from 'node:url'

import {isErrno, STRERROR} from '../domain/errno.js'
import {NEST_ENTRY, NEST_WRAPPER, NODE_BIN} from '../domain/install.js'
import {DEFAULT_DEVFS_RULES} from './kernel/devfs-rules-default.js'
import {initialKernel} from './kernel/init.js'
import {descendants, freeDying, maybeDie} from './kernel/jails.js'
import {type ProcSpec, ProcSysError, procStart, procStop} from './kernel/procs.js'
import {ifClone, ifRename, ifunit} from './kernel/ifnet.js'
import {emptyRacct} from './kernel/rctl.js'
import {imageMarker, SECTOR} from './kernel/disks.js'
import {zfsCreate, zfsCreateVolume} from './kernel/zfs.js'
import {buildDisk} from './guests/build.js'
import type {FixtureDisk, GuestFixture} from './guests/format.js'
import {GUESTS} from './guests/guests.js'
import type {Kernel} from './kernel/state.js'
import {SimFs} from './fs.js'
import {SIM_MAIN, SIM_TOOLS} from './run.js'
import {loadKernel, saveKernel, simPaths, withLock, writeFileAtomic} from './store.js'
import {checkyesno, confGet, loadVmRcConfig, nextVmPid, parseVmConf, resolveVmDir, vmmPath, writeRunFiles, VM_NAME, VM_RC_FILES} from './vmbhyve.js'

export interface Fault {
  id: number
  tool: string
  /** A regular expression tested against the argv joined by spaces. */
  match: string
  /** Fire on the n-th matching call (1 = the next one). */
  nth: number
  /** With a probability instead of (or after) nth: seeded by NEST_SIM_SEED. */
  probability?: number
  seen: number
  fired: boolean
  stderr: string
  exit: number
  /**
   * A crash instead of a failure: the call succeeds, then the nest invocation that made it ends
   * as `kill -9` would end it (crash.ts).
   */
  crash?: boolean
  /**
   * Cut the call short halfway instead of failing it first: it writes half of its output stream
   * (`zfs send`), then fails with `stderr` and `exit` (dispatch.ts; tools that write no stream refuse it).
   */
  midway?: boolean
}

export interface Control {
  seed: number
  latency: Record<string, number>
  faults: Fault[]
  nextFault: number
  calls: number
}

const emptyControl = (seed: number): Control => ({seed, latency: {}, faults: [], nextFault: 1, calls: 0})

export function loadControl(root: string): Control {
  try {
    return JSON.parse(readFileSync(simPaths(root).control, 'utf8')) as Control
  } catch {
    return emptyControl(0)
  }
}

async function saveControl(root: string, c: Control): Promise<void> {
  writeFileAtomic(simPaths(root).control, `${JSON.stringify(c)}\n`)
}

const shq = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`

/**
 * nest as installed on the simulated host: its tree under /usr/local/libexec/nest (the entry
 * point bin/run.js), the /usr/local/bin/nest wrapper and Node.js. The simulator runs the real
 * nest for these (src/sim/run.ts); the files only make them visible, nullfs-mountable, absent.
 */
function installNest(root: string): void {
  const files: Record<string, string> = {
    [NEST_ENTRY]: '#!/usr/bin/env node\n// nest (simulated installation: the simulator runs the real one)\n',
    [NEST_WRAPPER]: `#!/bin/sh\nexec ${NEST_ENTRY} "$@"\n`,
    [NODE_BIN]: '#!/bin/sh\n# node (simulated package)\n',
  }
  // Through the tree's resolver: a jail rooted at "/" may have put a link at one of these paths.
  const tree = new SimFs(root)
  for (const [p, text] of Object.entries(files)) {
    if (tree.lkind(p) !== null) continue
    tree.install(p, text)
  }
}

/** Can Node run a script straight from its `#!` line? (The kernel splits on no blank, and reads ~127 bytes on old kernels.) */
const shebangable = (p: string): boolean => p.startsWith('/') && p.length <= 120 && !/\s/.test(p)

/**
 * The text of one shim in <root>/bin, bound to its sim root. A Node script with Node's absolute
 * path on its `#!` line, so a call is one exec and one Node start (a /bin/sh shim that execs
 * node costs a shell start more); it puts the tool's name where main.js reads it and imports
 * the bundle: with require() where Node takes the extensionless file for CommonJS (the usual
 * case, and the cheaper one: no ES module loader), with import() where a `"type": "module"`
 * package.json above the sim root makes it an ES module. Where Node's path cannot be a `#!`
 * line, a sh shim execs it.
 */
export function shimText(root: string, tool: string, node = process.execPath, main = SIM_MAIN): string {
  if (!shebangable(node)) {
    return `#!/bin/sh\n# nest simulated FreeBSD host: ${tool}\nNEST_SIM_ROOT=${shq(root)} exec ${shq(node)} ${shq(main)} ${tool} "$@"\n`
  }
  return [
    `#!${node}`,
    `// nest simulated FreeBSD host: ${tool}`,
    `process.env.NEST_SIM_ROOT = ${JSON.stringify(root)}`,
    `process.argv.splice(2, 0, ${JSON.stringify(tool)})`,
    `if (typeof require === 'function') require(${JSON.stringify(main)})`,
    `else import(${JSON.stringify(pathToFileURL(main).href)})`,
    '',
  ].join('\n')
}

/** Shims in <root>/bin: each simulated tool is an executable that runs the bundled simulator. */
export function writeShims(root: string): void {
  if (existsSync(simPaths(root).fs)) installNest(root)
  const bin = simPaths(root).bin
  mkdirSync(bin, {recursive: true})
  for (const t of SIM_TOOLS) {
    const text = shimText(root, t)
    const file = path.join(bin, t)
    if (!existsSync(file) || readFileSync(file, 'utf8') !== text) writeFileSync(file, text, {mode: 0o755})
  }
}

/** The host's file tree of a fresh install, as far as nest and jail(8) look at it. */
function writeSkeleton(root: string, k: Kernel): void {
  const fs = simPaths(root).fs
  for (const d of ['etc/jail.conf.d', 'etc/defaults', 'usr/local/etc', 'usr/local/bin', 'usr/ports', 'usr/src', 'var/log', 'var/run', 'var/tmp', 'tmp', 'home', 'dev', 'boot', 'root', 'zroot', 'sbin', 'bin', 'usr/sbin', 'usr/bin']) {
    mkdirSync(path.join(fs, d), {recursive: true})
  }
  writeFileSync(path.join(fs, 'etc/defaults/devfs.rules'), DEFAULT_DEVFS_RULES)
  writeFileSync(path.join(fs, 'etc/rc.conf'), 'hostname="nest-sim.local"\nzfs_enable="YES"\n')
  writeFileSync(path.join(fs, 'etc/freebsd-version'), `${k.osrelease}\n`)
  // nest and Node.js are installed on the host (pkg install node; nest's own package).
  writeFileSync(path.join(fs, 'usr/local/bin/nest'), '#!/bin/sh\n# nest (simulated install)\n', {mode: 0o755})
  writeFileSync(path.join(fs, 'usr/local/bin/node'), '#!/bin/sh\n# node (simulated install)\n', {mode: 0o755})
}

/** A fresh simulated host at `root`: FreeBSD 14.3-RELEASE, pool zroot, no jails. */
export async function initSim(root: string, seed = Number(process.env['NEST_SIM_SEED'] ?? 0)): Promise<void> {
  const p = simPaths(root)
  mkdirSync(root, {recursive: true})
  for (const d of [p.fs, p.snapshots]) rmSync(d, {recursive: true, force: true})
  mkdirSync(p.fs, {recursive: true})
  mkdirSync(p.snapshots, {recursive: true})
  const k = initialKernel()
  writeSkeleton(root, k)
  installNest(root)
  writeShims(root)
  await saveKernel(root, k)
  await saveControl(root, emptyControl(seed))
  writeFileSync(p.log, '')
}

/** The global path of a jail's root (for nest's child managers: their "/"). */
export function jailPathOf(root: string, jid: number): string {
  return loadKernel(root).jails.find((j) => j.jid === jid)?.path ?? '/'
}

export function isSimRoot(root: string): boolean {
  return existsSync(simPaths(root).kernel)
}

/**
 * What is at a would-be sim root: a simulated host (its kernel.json), nothing or an empty
 * directory (a new host may be made there), a file, or a directory holding something else
 * (never taken over: `sim init` would make fs/ and bin/ inside, and `sim reset` remove them).
 */
export function simRootState(root: string): 'host' | 'new' | 'not-dir' | 'foreign' {
  let st
  try {
    st = statSync(root)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return 'new'
    if (code === 'ENOTDIR') return 'not-dir'
    throw error
  }
  if (!st.isDirectory()) return 'not-dir'
  if (isSimRoot(root)) return 'host'
  return readdirSync(root).length === 0 ? 'new' : 'foreign'
}

export async function resetSim(root: string): Promise<void> {
  await withLock(root, () => initSim(root))
}

export interface SimSnapshot {
  kernel: Kernel
  control: Control
}

export function snapshotSim(root: string): SimSnapshot {
  return {kernel: loadKernel(root), control: loadControl(root)}
}

export async function restoreSim(root: string, snap: SimSnapshot): Promise<void> {
  await withLock(root, async () => {
    await saveKernel(root, snap.kernel)
    await saveControl(root, snap.control)
  })
}

export interface FaultSpec {
  tool: string
  match?: string
  nth?: number
  probability?: number
  errno?: string
  stderr?: string
  exit?: number
  /** End the calling nest after the call, as kill -9 would (no error, no rollback). */
  crash?: boolean
  /** Let the call write half of its output stream, then fail (zfs send): see Fault.midway. */
  midway?: boolean
}

export async function addFault(root: string, spec: FaultSpec): Promise<Fault> {
  if (spec.errno !== undefined && !isErrno(spec.errno)) throw new Error(`unknown errno ${spec.errno}`)
  return withLock(root, async () => {
    const c = loadControl(root)
    const text = spec.stderr ?? `${spec.tool}: ${spec.errno && isErrno(spec.errno) ? STRERROR[spec.errno] : 'Input/output error'}`
    const f: Fault = {
      id: c.nextFault++, tool: spec.tool, match: spec.match ?? '', nth: spec.nth ?? 1, seen: 0, fired: false,
      stderr: text.endsWith('\n') ? text : `${text}\n`, exit: spec.exit ?? 1,
      ...(spec.probability === undefined ? {} : {probability: spec.probability}),
      ...(spec.crash ? {crash: true} : {}),
      ...(spec.midway ? {midway: true} : {}),
    }
    c.faults.push(f)
    await saveControl(root, c)
    return f
  })
}

/**
 * A twin of the simulated host at `to` (`nest tighten --what-if`): a copy of the whole host
 * (kernel model, files, control) taken under the store's lock, so that the model and the files
 * agree, with its shims bound to the twin, no faults (they are the live host's script), and no
 * nest lock files (their owners hold the live host's locks, not the twin's). What runs on it
 * never reaches the live host: every tool call names the twin's root (NEST_SIM_ROOT).
 */
export async function twinSim(root: string, to: string): Promise<void> {
  await withLock(root, async () => {
    cpSync(root, to, {recursive: true, verbatimSymlinks: true})
  })
  // The store's own lock, held while copying, is the live host's.
  rmSync(simPaths(to).lock, {recursive: true, force: true})
  const locks = path.join(simPaths(to).fs, 'var/run/nest')
  if (existsSync(locks)) for (const f of readdirSync(locks)) if (f.endsWith('.lock') || f.endsWith('.takeover')) rmSync(path.join(locks, f), {force: true})
  const c = loadControl(to)
  await saveControl(to, {...c, faults: []})
  writeShims(to)
}

export async function clearFaults(root: string): Promise<void> {
  await withLock(root, async () => {
    const c = loadControl(root)
    c.faults = []
    await saveControl(root, c)
  })
}

export async function setLatency(root: string, latency: Record<string, number>): Promise<void> {
  await withLock(root, async () => {
    const c = loadControl(root)
    c.latency = latency
    await saveControl(root, c)
  })
}

/** Parse `jail=200,zfs=20` (milliseconds per tool). */
export function parseLatency(spec: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const part of spec.split(',').filter(Boolean)) {
    const [tool, ms] = part.split('=')
    if (!tool || ms === undefined || !/^[0-9]+$/.test(ms)) throw new Error(`bad latency "${part}": use tool=milliseconds`)
    out[tool] = Number(ms)
  }
  return out
}

/** mulberry32 over (seed, call index): every random choice comes from the seed. */
export function seededRandom(seed: number, n: number): number {
  let t = (seed + n * 0x6d2b79f5) | 0
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
}

/** Called by every tool before it acts: does a scripted or seeded fault fire for this call? */
export async function takeFault(root: string, tool: string, argv: string[], c0 = loadControl(root)): Promise<Fault | undefined> {
  if (!c0.faults.some((f) => f.tool === tool && !f.fired)) return undefined
  return withLock(root, async () => {
    const c = loadControl(root)
    const line = argv.join(' ')
    let hit: Fault | undefined
    for (const f of c.faults) {
      if (f.fired || f.tool !== tool || !new RegExp(f.match).test(line)) continue
      f.seen++
      c.calls++
      const byNth = f.probability === undefined && f.seen === f.nth
      const byChance = f.probability !== undefined && f.seen >= f.nth && seededRandom(c.seed, c.calls) < f.probability
      if (!hit && (byNth || byChance)) {
        hit = f
        if (f.probability === undefined) f.fired = true
      }
    }
    await saveControl(root, c)
    return hit
  })
}

export interface SimStatus {
  root: string
  osrelease: string
  jails: Array<{jid: number; name: string; state: string; path: string; children: {cur: number; max: number}}>
  datasets: number
  mounts: Array<{from: string; on: string; fstype: string}>
}

export function statusSim(root: string): SimStatus {
  const k = loadKernel(root)
  return {
    root,
    osrelease: k.osrelease,
    jails: descendants(k, 0).map((j) => ({jid: j.jid, name: j.name, state: j.state === 'ALIVE' ? 'ACTIVE' : 'DYING', path: j.path, children: {cur: j.childrenCur, max: j.childrenMax}})),
    datasets: k.datasets.length,
    mounts: k.mounts.map((m) => ({from: m.from, on: m.on, fstype: m.fstype})),
  }
}

export {simPaths}

export interface VmGuestSpec {
  name: string
  /** The guest's NAME.conf, any vm-bhyve configuration, copied as it is (default: the fixture's). */
  conf?: string
  /** Its disks: a shipped guest fixture by name (src/sim/guests), or the JSON text of one. */
  disk?: string
  /** The guest runs: in the kernel (/dev/vmm/NAME, `bhyve: NAME`) and locked by this host (run.lock). */
  running: boolean
}

export interface VmGuestAdded {
  root: string
  name: string
  /** The guest's directory and its configuration, as the host sees them. */
  dir: string
  conf: string
  running: boolean
  pid?: number
  /** The rc.conf lines added (vm_enable, vm_dir when missing; vm_list). */
  rcConf: string[]
  /** With a fixture: each disk as vm-bhyve opens it (vm::get_disk_path) and the model's disk id. */
  disks?: Array<{name: string; dev: string; path: string; disk: string}>
  /** The bridges of the guest's switches made for it (vm-SWITCH), as vm init makes them. */
  switches?: string[]
}

/** The names of the guest fixtures shipped with the simulator. */
export const GUEST_NAMES = Object.keys(GUESTS)

function fixtureOf(spec: string): GuestFixture {
  const make = GUESTS[spec]
  if (make) return make()
  try {
    return JSON.parse(spec) as GuestFixture
  } catch {
    throw new Error(`${spec}: not a guest fixture (one of ${GUEST_NAMES.join(', ')}, or a fixture file)`)
  }
}

/** The default vm_dir when the host has none: a plain directory (vm.8 BASIC SETUP). */
export const DEFAULT_VM_DIR = '/vm'
/** The store dataset for a guest with disks when the host has no vm_dir: zfs:zroot/vm, mounted on /vm. */
export const DEFAULT_VM_DATASET = 'zroot/vm'

/**
 * A fixture's disks as vm-bhyve made them, per the guest's NAME.conf (vm::get_disk_path,
 * lib/vm-run): `diskN_dev` zvol or sparse-zvol is a volume STORE/NAME/<diskN_name> made as
 * zfs::make_zvol makes it (`zfs create -V|-sV SIZE -o volmode=dev`, lib/vm-zfs), its blocks the
 * fixture's disk N; file (or unset) is the file NAME/<diskN_name> (`truncate -s`, `chmod 600`),
 * whose text names the disk (kernel/disks.ts imageMarker). The disk loop stops at the first N
 * without diskN_name or diskN_type (vm::bhyve_device_disks).
 */
/** What addGuestDisks would refuse, checked before anything changes. */
function checkGuestDisks(fixture: GuestFixture, confText: string, zfsStore: boolean): void {
  const lines = parseVmConf(confText)
  for (let n = 0; n < fixture.disks.length; n++) {
    if (confGet(lines, `disk${n}_name`) === '' || confGet(lines, `disk${n}_type`) === '') break
    const dev = confGet(lines, `disk${n}_dev`, 'file')
    // lib/vm-zfs zfs::make_zvol: "cannot use ZVOL storage unless ZFS support is enabled".
    if ((dev === 'zvol' || dev === 'sparse-zvol') && !zfsStore) throw new Error(`disk${n}_dev="${dev}": cannot use ZVOL storage unless ZFS support is enabled (vm_dir is a plain directory)`)
    if (!['file', 'zvol', 'sparse-zvol'].includes(dev)) throw new Error(`disk${n}_dev="${dev}": only file, zvol and sparse-zvol guest disks are simulated`)
  }
}

function addGuestDisks(k: Kernel, root: string, fs: SimFs, fixture: GuestFixture, confText: string, dir: string, guestDs: string | undefined): Array<{name: string; dev: string; path: string; disk: string}> {
  const lines = parseVmConf(confText)
  const out: Array<{name: string; dev: string; path: string; disk: string}> = []
  for (let n = 0; n < fixture.disks.length; n++) {
    const name = confGet(lines, `disk${n}_name`)
    if (name === '' || confGet(lines, `disk${n}_type`) === '') break
    const dev = confGet(lines, `disk${n}_dev`, 'file')
    const fd = fixture.disks[n] as FixtureDisk
    const disk = buildDisk(k, root, fd)
    if ((dev === 'zvol' || dev === 'sparse-zvol') && guestDs !== undefined) {
      const vol = zfsCreateVolume(k, 0, `${guestDs}/${name}`, BigInt(fd.sectors * SECTOR), dev === 'sparse-zvol', {volmode: 'dev'}, false, fs)
      k.disks = k.disks.filter((d) => d.id !== vol.disk)
      vol.disk = disk.id
      out.push({name, dev, path: `/dev/zvol/${guestDs}/${name}`, disk: disk.id})
    } else {
      disk.file = true
      fs.write(`${dir}/${name}`, imageMarker(disk.id))
      out.push({name, dev, path: `${dir}/${name}`, disk: disk.id})
    }
  }
  return out
}

/**
 * Put a vm-bhyve guest on the simulated host: vm_enable and vm_dir in /etc/rc.conf when
 * missing, the guest in vm_list (autostart), its directory vm_dir/NAME with NAME.conf, and, when
 * it runs, its kernel entry (/dev/vmm/NAME, the bhyve process) and run.lock naming this host, as
 * vm::lock writes it (lib/vm-run: `hostname > run.lock`). Errors are thrown as text.
 */
/**
 * The switches the guest's NICs are on, as vm-bhyve's `vm switch create NAME` leaves them and
 * `vm init` makes them at each boot (lib/vm-switch-standard switch::standard::init): a bridge
 * named `vm-NAME` (names up to 12 characters; longer ones are not simulated), up, and the switch
 * in `$vm_dir/.config/system.conf` (switch_list, type_NAME). The names of the bridges it made.
 */
function addSwitches(k: Kernel, fs: SimFs, vmDir: string, confText: string): string[] {
  const lines = parseVmConf(confText)
  const wanted = [...new Set(Array.from({length: 8}, (_, i) => confGet(lines, `network${i}_switch`)).filter((s) => s !== ''))]
  const made: string[] = []
  const sysConf = `${vmDir}/.config/system.conf`
  const sys = fs.exists(sysConf) ? fs.read(sysConf) : ''
  const listed = (/^switch_list="([^"]*)"/m.exec(sys)?.[1] ?? '').split(/\s+/).filter(Boolean)
  for (const sw of wanted) {
    if (sw.length > 12 || !/^[A-Za-z0-9_-]+$/.test(sw)) throw new Error(`switch ${JSON.stringify(sw)}: only standard switches with names of at most 12 letters, digits, "_" or "-" are simulated (vm-<name> bridges)`)
    const name = `vm-${sw}`
    if (!ifunit(k, 0, name)) {
      const made0 = ifClone(k, 0, 'bridge')
      const br = ifunit(k, 0, made0)
      if (br) {
        ifRename(k, br, name)
        br.up = true
      }
      made.push(name)
    }
  }
  const all = [...listed, ...wanted.filter((w) => !listed.includes(w))]
  if (all.length > listed.length) {
    fs.mkdirp(`${vmDir}/.config`)
    const rest = sys.split('\n').filter((l) => l !== '' && !/^switch_list=/.test(l))
    fs.write(sysConf, [`switch_list="${all.join(' ')}"`, ...rest, ...wanted.filter((w) => !listed.includes(w)).map((w) => `type_${w}="standard"`)].map((l) => `${l}\n`).join(''))
  }
  return made
}

export async function addVmGuest(root: string, spec: VmGuestSpec): Promise<VmGuestAdded> {
  const fixture = spec.disk === undefined ? undefined : fixtureOf(spec.disk)
  const confText = spec.conf ?? fixture?.conf
  if (confText === undefined) throw new Error('a guest needs a NAME.conf (--conf) or a disk fixture (--disk)')
  if (!VM_NAME.test(spec.name)) throw new Error(`${spec.name}: not a vm-bhyve guest name (util::check_name: letters, digits, '.', '_', '-', starting and ending with a letter or digit, 2 to 231 characters)`)
  return withLock(root, async () => {
    const fs = new SimFs(root)
    const vars = loadVmRcConfig(fs, () => {})
    const added: string[] = []
    if (vars['vm_enable'] === undefined) added.push('vm_enable="YES"')
    else if (checkyesno(vars['vm_enable']) !== 'yes') throw new Error(`vm_enable="${vars['vm_enable']}" in the host's rc.conf: vm-bhyve is disabled, set vm_enable="YES" first`)
    const k = loadKernel(root)
    // A guest with disks gets a ZFS store (vm.8 ZFS: vm_dir="zfs:pool/dataset"), the dataset
    // zroot/vm on /vm, unless the host has a vm_dir already.
    if (vars['vm_dir'] === undefined && fixture) {
      vars['vm_dir'] = `zfs:${DEFAULT_VM_DATASET}`
      added.push(`vm_dir="zfs:${DEFAULT_VM_DATASET}"`)
      if (!k.datasets.some((d) => d.name === DEFAULT_VM_DATASET)) zfsCreate(k, 0, DEFAULT_VM_DATASET, {mountpoint: DEFAULT_VM_DIR}, false, fs)
    } else if (vars['vm_dir'] === undefined) {
      added.push(`vm_dir="${DEFAULT_VM_DIR}"`)
      fs.mkdirp(DEFAULT_VM_DIR)
    }
    const list = (vars['vm_list'] ?? '').split(/\s+/).filter(Boolean)
    const vmDir = resolveVmDir(k, fs, vars['vm_dir'] ?? DEFAULT_VM_DIR)
    if (!vmDir.ok) throw new Error(`vm_dir="${vars['vm_dir']}": ${vmDir.error}`)
    const dir = `${vmDir.dir}/${spec.name}`
    const conf = `${dir}/${spec.name}.conf`
    if (fs.exists(conf)) throw new Error(`${conf} exists: the guest ${spec.name} is on the host already`)
    if (k.vms.some((v) => v.name === spec.name)) throw new Error(`a guest named ${spec.name} runs already (/dev/vmm/${spec.name})`)
    if (fixture) checkGuestDisks(fixture, confText, vmDir.zfsDataset !== undefined)
    // Before any file changes, so that a refusal changes nothing. core::create on a ZFS store: the
    // guest's directory is a dataset of its own (zfs::make_dataset "${VM_DS_ZFS_DATASET}/${_name}",
    // lib/vm-core), mounted below the store's.
    if (vmDir.zfsDataset !== undefined) {
      try {
        zfsCreate(k, 0, `${vmDir.zfsDataset}/${spec.name}`, {}, false, fs)
      } catch (error) {
        throw new Error(`zfs create ${vmDir.zfsDataset}/${spec.name}: ${error instanceof Error ? error.message : String(error)}`)
      }
    }
    const appended = [...added]
    if (!list.includes(spec.name)) {
      const line = `vm_list="${[...list, spec.name].join(' ')}"`
      added.push(line)
      // As sysrc(8) does: the assignment that is in force (the last one of the last file that
      // sets it) is replaced where it is; with none, the line goes at the end of /etc/rc.conf.
      const file = [...VM_RC_FILES].reverse().find((f) => fs.exists(f) && /^\s*vm_list=/m.test(fs.read(f)))
      if (file) {
        const lines = fs.read(file).split('\n')
        let at = lines.length - 1
        while (at > 0 && !/^\s*vm_list=/.test(lines[at] ?? '')) at--
        lines[at] = line
        fs.write(file, lines.join('\n'))
      } else appended.push(line)
    }
    const rc = fs.exists('/etc/rc.conf') ? fs.read('/etc/rc.conf') : ''
    if (appended.length > 0) fs.write('/etc/rc.conf', `${rc}${rc === '' || rc.endsWith('\n') ? '' : '\n'}${appended.map((l) => `${l}\n`).join('')}`)
    fs.mkdirp(dir)
    fs.write(conf, confText)
    const disks = fixture ? addGuestDisks(k, root, fs, fixture, confText, dir, vmDir.zfsDataset === undefined ? undefined : `${vmDir.zfsDataset}/${spec.name}`) : undefined
    const switches = addSwitches(k, fs, vmDir.dir, confText)
    // What vm-bhyve's lib/vm-base leaves in vm_dir the first time `vm` runs (the vm tool makes the same).
    for (const d of ['.config', '.templates', '.iso', '.img']) fs.mkdirp(`${vmDir.dir}/${d}`)
    if (!fs.exists(`${vmDir.dir}/.config/null.iso`)) fs.write(`${vmDir.dir}/.config/null.iso`, '')
    let pid: number | undefined
    if (spec.running) {
      pid = nextVmPid(k)
      k.vms.push({name: spec.name, pid, stage: 'bhyve'})
      fs.write(vmmPath(spec.name), '')
      // As vm::run leaves them for a guest it runs (the same files vm start writes).
      writeRunFiles(k, fs, dir, spec.name, parseVmConf(confText))
    }
    if (spec.running || vmDir.zfsDataset !== undefined || fixture || switches.length > 0) await saveKernel(root, k)
    return {root, name: spec.name, dir, conf, running: spec.running, ...(pid === undefined ? {} : {pid}), rcConf: added, ...(disks ? {disks} : {}), ...(switches.length > 0 ? {switches} : {})}
  })
}

export interface RacctBoot {
  root: string
  /** kern.racct.enable as the host now reads it. */
  enabled: boolean
}

/**
 * The simulated host as booted with kern.racct.enable=1 (or 0) in /boot/loader.conf: the
 * tunable is CTLFLAG_RDTUN, so FreeBSD changes it only with a reboot; the control plane sets it
 * without one. On: every jail there is gets its prison_racct (newest jail first, as
 * prison_racct_attach would have made them), no rules. Off: no accounting and no rules (RCTL
 * refuses everything with ENOSYS).
 */
export async function setRacct(root: string, enabled: boolean): Promise<RacctBoot> {
  return withLock(root, async () => {
    const k = loadKernel(root)
    k.racct = emptyRacct()
    if (enabled) {
      k.racct.enabled = true
      k.racct.raccts = [...k.jails].sort((a, b) => b.jid - a.jid).map((j) => j.name).filter((n, i, all) => all.indexOf(n) === i)
    }
    await saveKernel(root, k)
    return {root, enabled}
  })
}

export interface ProcStarted {
  root: string
  pid: number
  /** The jail's full dotted name. */
  jail: string
  jid: number
  comm: string
}

/**
 * A process starts in a running jail and does what `spec` says (kernel/procs.ts procStart),
 * with the kernel's checks: the first syscall refused fails it with `CALL: strerror` and
 * changes nothing. `jail` is nest's name (`p/a`) or the kernel's (`p.a`).
 */
export async function startProc(root: string, jail: string, spec: ProcSpec): Promise<ProcStarted | {error: string; fix?: string}> {
  return withLock(root, async () => {
    const k = loadKernel(root)
    const name = jail.replaceAll('/', '.')
    const j = k.jails.find((x) => x.name === name && x.state === 'ALIVE')
    if (!j) return {error: `${jail}: not running`, fix: `nest start ${name.replaceAll('.', '/')}`}
    try {
      const p = procStart(k, j.jid, spec)
      await saveKernel(root, k)
      return {root, pid: p.pid, jail: j.name, jid: j.jid, comm: p.comm}
    } catch (error) {
      if (!(error instanceof ProcSysError)) throw error
      return {error: `${jail}: ${error.call}: ${STRERROR[error.errno]}`}
    }
  })
}

export interface ProcStopped {
  root: string
  pid: number
  jid: number
}

/** kill -9 PID from the host: a process of the model exits (its jail may die with it if nothing else keeps it). */
export async function stopProc(root: string, pid: number): Promise<ProcStopped | {error: string; fix?: string}> {
  return withLock(root, async () => {
    const k = loadKernel(root)
    if (!(k.procs ?? []).some((p) => p.pid === pid)) return {error: `${pid}: No such process`, fix: 'see the processes with ps -ax -o pid,jid,comm'}
    const p = procStop(k, pid)
    const j = k.jails.find((x) => x.jid === p.jid)
    if (j) maybeDie(k, j)
    freeDying(k)
    await saveKernel(root, k)
    return {root, pid, jid: p.jid}
  })
}
