// vm-bhyve's files read as vm-bhyve reads them: the data layer of `nest migrate vm`'s "locate
// and check" step (issue 13). Pure: the caller reads the files; nothing here runs or sources
// anything. Sources: churchers/vm-bhyve 6e91ff5 (2025-04-08); config::load, config::get and
// zfs::init read the same in freebsd/vm-bhyve 89c21d0 (2026-08-20), the rest was not compared.
//
// * Where vm_dir is. `vm` sources /etc/rc.subr and calls `load_rc_config "vm"` (lib/vm-base), so
//   vm_dir is an rc variable: /etc/rc.conf, then /etc/rc.conf.local, then /etc/rc.conf.d/vm, then
//   /usr/local/etc/rc.conf.d/vm, a later assignment winning (the rc.subr order is source-derived,
//   from load_rc_config: unconfirmed against its current text; `rc_conf_files` overridden in
//   rc.conf is not followed; when rc.conf.d/vm is a directory, load_rc_config sources each file in
//   it in glob order, and the caller lists them in that order). nest never sources them: an
//   assignment is read as plain data, and a vm_dir whose value needs the shell (`$`, backquotes,
//   backslashes, `~`, several words) is refused.
//   `zfs::init` (lib/vm-zfs): when the part before the first `:` is `zfs`, the dataset is what
//   follows the first `:` (`${vm_dir#*:}`) and the directory is its mountpoint, looked up later.
//   An empty vm_dir is vm-bhyve's `$vm_dir has not been configured or is not a valid directory`
//   (lib/vm-base, through util::err: `${0}: ERROR: ...`, exit 1).
// * NAME.conf. `config::load` (lib/vm-config) is
//     grep '^[a-z]' FILE | awk -F# '{print $1}' | sed -e 's@ *$@@' | tr -d '"'
//   inside `$(...)`, and `config::get KEY` walks the result split on newlines (IFS=$'\n') and
//   returns what follows the first `=` of the FIRST line whose part before the first `=`
//   (`${line%%=*}`) is KEY. So: only lines starting with a lowercase ASCII letter count (that
//   [a-z] matches no other letter in vm's locale is unconfirmed)
//   (indented lines and `#` lines are ignored); everything from the first `#` on is dropped, even
//   inside quotes; trailing spaces (not tabs, not a CR) are removed; every `"` is removed and
//   single quotes are kept; spaces around `=` are kept (`cpu = 2` is the key `cpu `); the first
//   duplicate wins (unlike sh); a line without `=` is a key whose value is the whole line
//   (`${line#*=}` removes nothing); a missing trailing newline changes nothing (grep still
//   prints the last line). The unquoted `${VM_CONFIG}` of config::get is also subject to
//   pathname expansion in vm's working directory: nest takes every line literally (what vm-bhyve
//   does when no file matches). A binary file (FreeBSD's grep prints "Binary file ... matches"),
//   a file that is not UTF-8 and one over CONF_MAX_BYTES are refused.
// * The keys (vm.8, sample-templates/config.sample). NICs: network0.. up to the first N whose
//   networkN_type is empty (vm::bhyve_device_networking, info::guest_networking). Disks:
//   disk0.. up to the first N whose diskN_name or diskN_type is empty (vm::bhyve_device_disks).
//   Passthrough: passthru0.. up to the first empty one (vm::bhyve_device_passthru). Everything
//   else is kept as raw key/values. `loader`, `cpu` and `memory` are required (vm::run exits 15
//   with "fatal; unable to start - missing required configuration" when one is empty).
// * Loaders: `${loader%-*}` = `uefi` selects UEFI (vm::run → vm::uefi: uefi, uefi-csm,
//   uefi-custom, uefi-devel); otherwise guest::load (lib/vm-guest) knows `bhyveload` and `grub`
//   and says "unsupported loader - 'X'" for anything else. grub (grub2-bhyve) boots Linux,
//   OpenBSD, NetBSD and others, never a FreeBSD userland nest can turn into a jail (migration.md
//   §4.1); uefi guests are FreeBSD or not (Windows): the disk content decides, later.
// * memory goes to `bhyve -m` (and bhyveload -m, grub-bhyve -M), read by vm_parse_memsize
//   (lib/libvmmapi/vmmapi.c): strtoul(…, 0) (decimal, 0x hex, leading-0 octal); a plain number
//   below 1 MiB is megabytes ("for the sake of backward compatibility"), a larger plain number
//   is bytes; otherwise expand_number(3): one of k/m/g/t/p/e (any case; powers of 1024),
//   optionally followed by b, or a lone b. bhyve.8 states only "no suffix: megabytes".
import {err, ok, type Result} from 'neverthrow'

import {invalidInput, preflight, type NestError} from './errors.js'
import {decodeText} from './text.js'

/** Real NAME.conf files are under 1 KiB and config.sample, the biggest, is 20 KiB. */
export const CONF_MAX_BYTES = 256 * 1024

// --------------------------------------------------------------------------- vm_dir

/** An rc file as the caller read it, in load_rc_config's order. */
export interface RcFile {
  path: string
  text: string
}

/** The rc files load_rc_config "vm" reads, in order (a later assignment wins). */
export const VM_RC_FILES: readonly string[] = ['/etc/rc.conf', '/etc/rc.conf.local', '/etc/rc.conf.d/vm', '/usr/local/etc/rc.conf.d/vm']

export type VmDir =
  | {kind: 'dir'; path: string; from: string}
  | {kind: 'zfs'; dataset: string; from: string}

/** One `name=value` assignment as sh would read it, or null when its value needs the shell. */
type RcValue = {value: string} | {value: null; line: string}

const RC_ASSIGN = /^[ \t]*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/
// One word of plain text: "…" without $ ` \, '…', or bare characters that mean nothing to sh
// (`#` inside a word is literal; `~` would be expanded). A comment starts after a blank.
const RC_WORD = /^((?:"[^"$`\\]*"|'[^']*'|[^\s"'$`\\;&|<>()~])*)(?:[ \t]+(?:#.*)?)?$/

function rcValue(rest: string): string | null {
  const m = RC_WORD.exec(rest)
  if (!m) return null
  return (m[1] ?? '').replace(/"([^"]*)"|'([^']*)'/g, (_s, d: string | undefined, s: string | undefined) => d ?? s ?? '')
}

/** The last assignment of each variable in one rc file (sh's rule), read as plain data. */
export function rcAssignments(text: string): Map<string, RcValue> {
  const out = new Map<string, RcValue>()
  for (const line of text.split('\n')) {
    const m = RC_ASSIGN.exec(line)
    if (!m) continue
    const value = rcValue(m[2] ?? '')
    out.set(m[1] as string, value === null ? {value: null, line: line.trim()} : {value})
  }
  return out
}

const shown = (s: string): string => {
  const j = JSON.stringify(s)
  return j.length > 60 ? `${j.slice(0, 57)}..."` : j
}

/** vm_dir as vm-bhyve finds it in these files (given in VM_RC_FILES order, missing ones left out). */
export function vmDirOf(files: readonly RcFile[]): Result<VmDir, NestError> {
  let found: {value: RcValue; from: string} | undefined
  for (const f of files) {
    const v = rcAssignments(f.text).get('vm_dir')
    if (v !== undefined) found = {value: v, from: f.path}
  }
  if (found === undefined || found.value.value === '') {
    return err(preflight(
      'vm-bhyve is not set up on this host: $vm_dir has not been configured or is not a valid directory',
      `set vm_dir in /etc/rc.conf (sysrc vm_dir=zfs:zroot/vm, or a directory) as vm-bhyve's own setup does`,
    ))
  }
  const {value, from} = found
  if (value.value === null) {
    return err(invalidInput(
      `vm_dir in ${from} is not a plain value nest can read without running the shell: ${shown(value.line)}`,
      `write it as vm_dir="/path" or vm_dir="zfs:pool/dataset"`,
    ))
  }
  const v = value.value
  // zfs::init: "${vm_dir%%:*}" = "zfs", dataset "${vm_dir#*:}".
  if (v.split(':')[0] === 'zfs') {
    const i = v.indexOf(':')
    return ok({kind: 'zfs', dataset: i < 0 ? v : v.slice(i + 1), from})
  }
  return ok({kind: 'dir', path: v, from})
}

// --------------------------------------------------------------------------- NAME.conf

export interface VmNic {
  index: number
  /** networkN_type: virtio-net, e1000. */
  type: string
  /** networkN_switch (null: unset or empty). */
  switch: string | null
  /** networkN_mac (null: unset or empty; vm-bhyve writes one at the first start). */
  mac: string | null
}

export interface VmDisk {
  index: number
  /** diskN_type: virtio-blk, ahci-hd, ahci-cd, nvme. */
  type: string
  /** diskN_name: a file or zvol name, a path for custom. */
  name: string
  /** diskN_dev: file (what unset means), zvol, sparse-zvol, custom, iscsi; null when unset. */
  dev: string | null
}

export interface VmConf {
  /** Each line as config::get sees it (after the pipeline), in file order, duplicates kept. */
  lines: Array<[string, string]>
  loader: string | null
  /** cpu as written (null: unset or empty). */
  cpu: string | null
  /** The vCPU count when cpu is a plain positive number (up to 9999). */
  cpuCount: number | null
  /** memory as written (null: unset or empty). */
  memory: string | null
  /** memory in bytes as bhyve reads it, null when unset or not a size bhyve takes. */
  memoryBytes: number | null
  uuid: string | null
  networks: VmNic[]
  disks: VmDisk[]
  /** passthru0.. (PCI devices), up to the first empty one. */
  passthru: string[]
  /** Every other key, first occurrence (what config::get returns). */
  other: Record<string, string>
}

/** config::load's pipeline on a text: the lines it leaves in VM_CONFIG, in file order. */
export function configLoad(text: string): string[] {
  const lines = text.split('\n')
  if (lines.at(-1) === '') lines.pop()
  return lines
    .filter((l) => /^[a-z]/.test(l)) // grep '^[a-z]'
    .map((l) => (l.split('#')[0] ?? '') // awk -F# '{print $1}'
      .replace(/ *$/, '') // sed -e 's@ *$@@'
      .replaceAll('"', '')) // tr -d '"'
}

/** The lines config::get walks, each split at its first `=` (a line without one: key = value = line). */
export const configLines = (text: string): Array<[string, string]> =>
  configLoad(text).map((line) => {
    const eq = line.indexOf('=')
    return eq < 0 ? [line, line] : [line.slice(0, eq), line.slice(eq + 1)]
  })

/** config::get (lib/vm-config): the value of the first line whose key is `key`, `def` when none. */
export function configGet(lines: readonly string[], key: string, def = ''): string {
  for (const line of lines) {
    const eq = line.indexOf('=')
    if ((eq < 0 ? line : line.slice(0, eq)) === key) return eq < 0 ? line : line.slice(eq + 1)
  }
  return def
}

/** strtoul(s, &end, 0) over the whole string: decimal, 0x hex, leading-0 octal; no sign, no space. */
function strtoul0(s: string): number | null {
  let n: number
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) n = Number.parseInt(s.slice(2), 16)
  else if (/^0[0-7]*$/.test(s)) n = s.length === 1 ? 0 : Number.parseInt(s.slice(1), 8)
  else if (/^[1-9][0-9]*$/.test(s)) n = Number(s)
  else return null
  return Number.isSafeInteger(n) ? n : null
}

const MB = 1024 * 1024
const SHIFT: Record<string, number> = {b: 0, k: 10, m: 20, g: 30, t: 40, p: 50, e: 60}

/** bhyve -m's reading of a size (vm_parse_memsize), in bytes; null when bhyve would refuse it. */
export function bhyveMemBytes(s: string): number | null {
  const plain = strtoul0(s)
  if (plain !== null) return plain < MB ? plain * MB : plain
  const m = /^(0[xX][0-9a-fA-F]+|[0-9]+)([bkmgtpeBKMGTPE])([bB]?)$/.exec(s)
  if (!m) return null
  const unit = (m[2] as string).toLowerCase()
  if (unit === 'b' && m[3] !== '') return null // "bb": expand_number ignores a b only after another unit
  const n = strtoul0(m[1] as string)
  const bytes = n === null ? null : n * 2 ** (SHIFT[unit] as number)
  return bytes !== null && Number.isSafeInteger(bytes) ? bytes : null
}

/** A NAME.conf read as vm-bhyve's config::load and config::get read it. */
export function parseVmConf(data: Uint8Array | string, file = 'NAME.conf'): Result<VmConf, NestError> {
  const decoded = decodeText(data, CONF_MAX_BYTES)
  if (decoded.isErr()) return err(invalidInput(`${file} ${decoded.error}: it is not a vm-bhyve guest configuration`, 'check the file; a vm-bhyve NAME.conf is a few lines of key="value"'))
  const text = decoded.value

  const lines = configLines(text)
  const first = new Map<string, string>()
  for (const [k, v] of lines) if (!first.has(k)) first.set(k, v)
  const used = new Set<string>()
  // config::get: the value, or null for unset or empty (vm-bhyve tests `-z` on both alike).
  const get = (key: string): string | null => {
    used.add(key)
    const v = first.get(key)
    return v === undefined || v === '' ? null : v
  }

  const networks: VmNic[] = []
  for (let i = 0; ; i++) {
    const type = get(`network${i}_type`)
    if (type === null) break
    networks.push({index: i, type, switch: get(`network${i}_switch`), mac: get(`network${i}_mac`)})
  }
  const disks: VmDisk[] = []
  for (let i = 0; ; i++) {
    const name = get(`disk${i}_name`)
    const type = get(`disk${i}_type`)
    if (name === null || type === null) break
    disks.push({index: i, type, name, dev: get(`disk${i}_dev`)})
  }
  const passthru: string[] = []
  for (let i = 0; ; i++) {
    const dev = get(`passthru${i}`)
    if (dev === null) break
    passthru.push(dev)
  }
  const cpu = get('cpu')
  const memory = get('memory')
  const conf: VmConf = {
    lines,
    loader: get('loader'),
    cpu,
    cpuCount: cpu !== null && /^[1-9][0-9]{0,3}$/.test(cpu) ? Number(cpu) : null,
    memory,
    memoryBytes: memory === null ? null : bhyveMemBytes(memory),
    uuid: get('uuid'),
    networks,
    disks,
    passthru,
    other: {},
  }
  conf.other = Object.fromEntries([...first].filter(([k]) => !used.has(k)))
  return ok(conf)
}

/** Is this loader UEFI for vm-bhyve (`${loader%-*}` = uefi)? */
export const isUefiLoader = (loader: string): boolean => loader.replace(/-[^-]*$/, '') === 'uefi'

/**
 * The refusals of migration.md §4.1 that need only the configuration, first one first: a guest
 * vm-bhyve itself would not start (loader, cpu or memory missing or unreadable), a loader that is
 * not FreeBSD's (grub) or unknown, PCI passthrough.
 */
export function checkVmConf(name: string, conf: VmConf): Result<VmConf, NestError> {
  const what = `vm-bhyve guest ${name}`
  const edit = `fix ${name}.conf (vm configure ${name})`
  if (conf.loader === null) {
    return err(preflight(`${what} has no loader in ${name}.conf: vm-bhyve itself would not start it (missing required configuration)`, `${edit}, or check that this is the right guest`))
  }
  if (conf.loader === 'grub') {
    return err(preflight(`${what} is not a FreeBSD guest: it boots with loader="grub" (Linux, OpenBSD, NetBSD...), and only a FreeBSD userland can become a jail`, 'migrate FreeBSD guests only (loader bhyveload or uefi); keep this one a VM'))
  }
  if (conf.loader !== 'bhyveload' && !isUefiLoader(conf.loader)) {
    return err(preflight(`${what} has loader=${shown(conf.loader)}, which vm-bhyve does not know (unsupported loader)`, `${edit}: a FreeBSD guest uses bhyveload or uefi`))
  }
  if (conf.cpu === null || conf.cpuCount === null) {
    return err(preflight(
      conf.cpu === null ? `${what} has no cpu in ${name}.conf: vm-bhyve itself would not start it (missing required configuration)` : `${what} has cpu=${shown(conf.cpu)}, which is not a vCPU count`,
      `${edit}: cpu=N`,
    ))
  }
  if (conf.memory === null || conf.memoryBytes === null) {
    return err(preflight(
      conf.memory === null ? `${what} has no memory in ${name}.conf: vm-bhyve itself would not start it (missing required configuration)` : `${what} has memory=${shown(conf.memory)}, which is not a size bhyve reads`,
      `${edit}: memory=2G or memory=2048M (a bare number is megabytes)`,
    ))
  }
  if (conf.passthru.length > 0) {
    return err(preflight(`${what} uses PCI passthrough (passthru0=${shown(conf.passthru[0] as string)}): a jail cannot take over a PCI device`, `remove the passthru lines from ${name}.conf if the guest can do without the device, or keep it a VM`))
  }
  return ok(conf)
}
