// The guest's files in a migration: read from the clone's datasets mounted below the altroot
// (never through a link the guest planted: host files `within` the altroot), adapted by the
// pure functions of src/domain/guest, and written back there before the snapshot that is sent,
// each original kept beside it as FILE.nest-orig. The VM's own disk is never written.
import {err, ok, type Result, ResultAsync} from 'neverthrow'

import {adaptFstab, adaptRcConf, type GuestEdit, type GuestNote, userlandVersion} from '../domain/guest.js'
import type {NestError} from '../domain/errors.js'
import type {VmConf} from '../domain/vmbhyve.js'
import type {Host} from '../host/host.js'
import {JAIL_MOUNT_FS} from '../jailconf/params.js'
import type {PrintParam} from '../jailconf/index.js'
import type {Policy} from '../policies/policy.js'
import type {Step} from '../plan/steps.js'
import type {JailNet} from '../domain/net.js'

/** Bastille's default prefix (bastille.conf.sample: bastille_prefix="/usr/local/bastille"). */
export const BASTILLE_PREFIX = '/usr/local/bastille'
const BASTILLE_CONF = '/usr/local/etc/bastille/bastille.conf'

/** The guest files a migration reads (text as read; null when absent). */
export interface GuestFiles {
  /** USERLAND_VERSION of /bin/freebsd-version, null when there is none. */
  userland: string | null
  userlandError: NestError | null
  rcConf: string | null
  fstab: string | null
  firstboot: boolean
  bastilleConf: string | null
  /** Where the guest's data tree (Bastille's) is mounted, null without Bastille. */
  dataMountpoint: string | null
}

const plainValue = (text: string, key: string): string | null => {
  const m = new RegExp(`^[ \\t]*${key}=["']?([^"'\\s#]*)["']?[ \\t]*(#.*)?$`, 'm').exec(text)
  return m ? (m[1] ?? '') : null
}

/** Read the guest's files from below the altroot (the clone's BE, and its data tree once mounted). */
export function readGuestFiles(host: Host, altroot: string, _dataMountpoint: string | null): ResultAsync<GuestFiles, NestError> {
  const at = (p: string): string => `${altroot}${p}`
  return ResultAsync.combine([
    host.files.read(at('/bin/freebsd-version'), altroot),
    host.files.read(at('/etc/rc.conf'), altroot),
    host.files.read(at('/etc/fstab'), altroot),
    host.files.kind(at('/firstboot'), altroot),
    host.files.read(at(BASTILLE_CONF), altroot),
  ]).map(([fv, rc, fstab, firstboot, bconf]) => {
    const v = fv === null ? null : userlandVersion(fv)
    return {
      userland: v?.isOk() ? v.value.text : null,
      userlandError: v?.isErr() ? v.error : null,
      rcConf: rc, fstab, firstboot: firstboot !== 'none', bastilleConf: bconf,
      dataMountpoint: bconf === null ? null : plainValue(bconf, 'bastille_prefix') || BASTILLE_PREFIX,
    }
  })
}

/** The network nest gives the jail, and how the guest's rc.conf must rename the epair to keep working. */
export interface NetChoice {
  jailNet: JailNet | null
  renames: Array<{from: string; to: string}>
}

export interface AdaptOptions {
  altroot: string
  jail: string
  vm: VmConf
  network: NetChoice
  policy: Policy
  /** Bastille's new home: the host pool and the prefix below it (bastille_zfs_zpool, bastille_zfs_prefix). */
  bastille: {pool: string; prefix: string} | null
}

export interface GuestAdaptation {
  /** The writes on the clone (originals kept as FILE.nest-orig), before the snapshot that is sent. */
  steps: Step[]
  edits: GuestEdit[]
  notes: GuestNote[]
  hostname: string | null
  /** Jail parameters the guest's files ask for (mount.procfs for a proc line in its fstab). */
  params: PrintParam[]
  /** The policy the jail gets. */
  policy: Policy
  /** rctl rules for the host (the VM's memory and CPUs). */
  limits: string[]
}

/** The rctl rules of the VM's size (migration.md §5): memory in bytes (rctl's bare number), cpu as percent of one CPU. */
export function vmLimits(jail: string, vm: VmConf): string[] {
  return [
    ...(vm.memoryBytes !== null ? [`jail:${jail}:memoryuse:deny=${vm.memoryBytes}`] : []),
    ...(vm.cpuCount !== null ? [`jail:${jail}:pcpu:deny=${vm.cpuCount * 100}`] : []),
  ]
}

/** A file written on the clone, its original kept beside it. */
function rewrite(altroot: string, file: string, old: string, text: string, why: string): Step[] {
  return [
    {id: 'write guest file', why: `the original of ${file}, kept for the admin to compare`, action: {kind: 'write', path: `${altroot}${file}.nest-orig`, content: old, within: altroot}, undo: []},
    {id: 'write guest file', why, action: {kind: 'write', path: `${altroot}${file}`, content: text, within: altroot}, undo: []},
  ]
}

/** Every change the guest's userland needs to run as this jail (migration.md §4). */
export function adaptGuest(files: GuestFiles, o: AdaptOptions): Result<GuestAdaptation, NestError> {
  const steps: Step[] = []
  const edits: GuestEdit[] = []
  const notes: GuestNote[] = []
  const params: PrintParam[] = []
  let hostname: string | null = null
  if (files.rcConf !== null) {
    const rc = adaptRcConf(files.rcConf, {net: o.network.jailNet?.kind === 'vnet' ? {mode: 'vnet', renames: o.network.renames} : {mode: 'ip4'}, delegatedZfs: true, firstboot: files.firstboot})
    if (rc.isErr()) return err(rc.error)
    hostname = rc.value.hostname
    edits.push(...rc.value.edits)
    notes.push(...rc.value.notes)
    if (rc.value.text !== files.rcConf) steps.push(...rewrite(o.altroot, '/etc/rc.conf', files.rcConf, rc.value.text, `the guest's rc.conf made a jail's (${rc.value.edits.filter((e) => e.file === '/etc/rc.conf').map((e) => e.key).join(', ')})`))
    if (files.firstboot) steps.push({id: 'remove guest file', why: 'the VM\'s first boot is long past (rc runs KEYWORD: firstboot scripts while /firstboot exists)', action: {kind: 'remove', path: `${o.altroot}/firstboot`, within: o.altroot}, undo: []})
  }
  if (files.fstab !== null) {
    const f = adaptFstab(files.fstab, {mountable: JAIL_MOUNT_FS})
    if (f.isErr()) return err(f.error)
    edits.push(...f.value.edits)
    notes.push(...f.value.notes)
    for (const p of f.value.params) params.push({name: p, values: []})
    if (f.value.text !== files.fstab) steps.push(...rewrite(o.altroot, '/etc/fstab', files.fstab, f.value.text, `what a jail cannot mount commented out of the guest's fstab`))
  }
  return ok({steps, edits, notes, hostname, params, policy: o.policy, limits: vmLimits(o.jail, o.vm)})
}
