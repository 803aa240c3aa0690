// The VM's resources as jail limits (migration.md §5), and the guest files whose settings
// belong to the host now (§4.1, §4.2): periodic.conf, sysctl.conf, loader.conf.
import {type Result} from 'neverthrow'

import {type NestError} from '../errors.js'
import {rcEdit, type RcSet} from '../rcconf.js'
import {rcAssignments, type VmConf} from '../vmbhyve.js'

import {isYes} from './rc.js'
import {guestText, type GuestEdit, type GuestNote} from './text.js'

export interface VmLimits {
  /** Host rctl(8) rules (one /etc/rctl.conf line each). */
  rctl: string[]
  /** The host CPUs the VM's vCPUs were pinned to (bhyve -p), as cpuset -l takes them, or null. */
  cpuset: string | null
  /** exec.poststart command that pins the jail (cpuset has no jail parameter), or null. */
  cpusetCommand: string | null
  /** host.hostuuid from the VM's uuid (the guest saw it as smbios.system.uuid), or null. */
  hostuuid: string | null
  notes: GuestNote[]
}

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/
// vm-bhyve's own rctl limits (lib/vm-rctl: rctl -a process:PID:pcpu:deny=N, readbps:throttle=N, ...).
const THROTTLES: ReadonlyArray<[string, string]> = [['limit_rbps', 'readbps'], ['limit_wbps', 'writebps'], ['limit_riops', 'readiops'], ['limit_wiops', 'writeiops']]

/**
 * rctl rules for the jail that replaces the VM: memoryuse from `memory` (bytes: vmbhyve.ts read
 * bhyve's megabytes already, and a bare rctl amount is bytes: rctl.c expand_amount), pcpu from
 * `limit_pcpu` when set, else cpu × 100 (percent of one CPU); vm-bhyve's limit_rbps/wbps/riops/
 * wiops as throttle rules; the cpuset from `bhyve_options` `-p vcpu:hostcpu`; host.hostuuid.
 */
export function vmLimits(conf: VmConf, opts: {jail: string; memoryAction?: 'deny' | 'log'}): VmLimits {
  const j = `jail:${opts.jail}`
  const rctl: string[] = []
  const notes: GuestNote[] = []
  const file = 'NAME.conf'
  if (conf.memoryBytes !== null) rctl.push(`${j}:memoryuse:${opts.memoryAction ?? 'deny'}=${conf.memoryBytes}`)
  const pcpu = conf.other['limit_pcpu']
  if (pcpu !== undefined && pcpu !== '') {
    if (/^[1-9][0-9]{0,5}$/.test(pcpu)) rctl.push(`${j}:pcpu:deny=${pcpu}`)
    else notes.push({level: 'warning', file, key: 'limit_pcpu', text: `limit_pcpu=${JSON.stringify(pcpu)} is not a percentage: not carried over`})
  } else if (conf.cpuCount !== null) {
    rctl.push(`${j}:pcpu:deny=${conf.cpuCount * 100}`)
  }
  for (const [key, resource] of THROTTLES) {
    const v = conf.other[key]
    if (v === undefined || v === '') continue
    if (/^[0-9]+[kmgtpeKMGTPE]?$/.test(v)) rctl.push(`${j}:${resource}:throttle=${v}`)
    else notes.push({level: 'warning', file, key, text: `${key}=${JSON.stringify(v)} is not an rctl amount: not carried over`})
  }
  const cpus = pinnedCpus(conf.other['bhyve_options'] ?? '')
  const cpuset = cpus.length === 0 ? null : cpus.join(',')
  const uuid = conf.uuid !== null && UUID.test(conf.uuid) ? conf.uuid.toLowerCase() : null
  if (conf.uuid !== null && uuid === null) notes.push({level: 'warning', file, key: 'uuid', text: `uuid=${JSON.stringify(conf.uuid)} is not a UUID: host.hostuuid not set`})
  return {rctl, cpuset, cpusetCommand: cpuset === null ? null : `cpuset -l ${cpuset} -j ${opts.jail}`, hostuuid: uuid, notes}
}

/** The host CPUs of bhyve's `-p vcpu:hostcpu` options (bhyve.8), sorted, once each. */
export function pinnedCpus(bhyveOptions: string): number[] {
  const w = bhyveOptions.split(/\s+/)
  const cpus = new Set<number>()
  for (let i = 0; i < w.length; i++) {
    const m = w[i] === '-p' ? /^([0-9]+):([0-9]+)$/.exec(w[i + 1] ?? '') : /^-p([0-9]+):([0-9]+)$/.exec(w[i] as string)
    if (m) cpus.add(Number(m[2]))
  }
  return [...cpus].sort((a, b) => a - b)
}

export const PERIODIC_CONF = '/etc/periodic.conf'

/** periodic.conf with the pool-wide jobs off: the pool is the host's now (whether they fail with EPERM inside is unconfirmed). */
export function adaptPeriodicConf(data: Uint8Array | string): Result<{text: string; edits: GuestEdit[]}, NestError> {
  return guestText(data, PERIODIC_CONF).map((text) => {
    const vars = rcAssignments(text)
    const set: RcSet = []
    const edits: GuestEdit[] = []
    for (const key of ['daily_scrub_zfs_enable', 'daily_trim_zfs_enable']) {
      if (!isYes(vars.get(key)?.value)) continue
      set.push([key, 'NO'])
      edits.push({file: PERIODIC_CONF, key, action: 'set', from: vars.get(key)?.value ?? '', to: 'NO', why: 'scrub and trim act on the whole pool, which is the host\'s now: schedule them on the host'})
    }
    return {text: rcEdit(text, set), edits}
  })
}

export interface SysctlSplit {
  /** Entries the jail may set itself (CTLFLAG_VNET net.inet/net.inet6 ones, in a VNET jail). */
  jail: Array<{name: string; value: string}>
  /** Entries only the host can set: nest reports them. */
  host: Array<{name: string; value: string}>
  notes: GuestNote[]
}

/**
 * /etc/sysctl.conf read as rc.d/sysctl reads it (the first word of each line, `#` lines
 * skipped, `name=value`). In a jail only CTLFLAG_PRISON sysctls, and CTLFLAG_VNET ones in a VNET
 * jail, are writable (sys/kern/kern_sysctl.c sysctl_root): nest keeps net.inet.* and net.inet6.*
 * for a VNET jail (migration.md §4.1) and reports the rest for the host.
 */
export function splitSysctlConf(data: Uint8Array | string, opts: {vnet: boolean; file?: string}): Result<SysctlSplit, NestError> {
  const file = opts.file ?? '/etc/sysctl.conf'
  return guestText(data, file).map((text) => {
    const out: SysctlSplit = {jail: [], host: [], notes: []}
    for (const raw of text.split('\n')) {
      const word = raw.trim().split(/[ \t]/)[0] ?? ''
      if (word === '' || word.startsWith('#')) continue
      const eq = word.indexOf('=')
      if (eq <= 0) {
        out.notes.push({level: 'warning', file, key: word.slice(0, 60), text: `not a name=value line: ${raw.slice(0, 60)}`})
        continue
      }
      const e = {name: word.slice(0, eq), value: word.slice(eq + 1)}
      if (opts.vnet && /^net\.inet6?\./.test(e.name)) out.jail.push(e)
      else out.host.push(e)
    }
    for (const e of out.host) out.notes.push({level: 'note', file, key: e.name, text: `${e.name}=${e.value} cannot be set from inside a jail: set it on the host if the jail needs it`})
    return out
  })
}

/** The modules /boot/loader.conf loads (`NAME_load="YES"`): they must be loaded on the host (no loader runs for a jail). */
export function loaderModules(data: Uint8Array | string): Result<{modules: string[]; notes: GuestNote[]}, NestError> {
  const file = '/boot/loader.conf'
  return guestText(data, file).map((text) => {
    const modules = [...rcAssignments(text)].filter(([k, v]) => k.endsWith('_load') && isYes(v.value)).map(([k]) => k.slice(0, -'_load'.length))
    const notes = modules.map((m): GuestNote => ({level: 'warning', file, key: `${m}_load`, text: `the guest's loader loads ${m}: a jail cannot load modules; load it on the host (kldload ${m}, and in its loader.conf or kld_list) if the jail needs it`}))
    return {modules, notes}
  })
}
