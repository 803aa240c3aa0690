// The guest's files in a migration: read from the clone's datasets mounted below the altroot
// (never through a link the guest planted: host files `within` the altroot), adapted by the
// pure functions of src/domain/guest, and written back there before the snapshot that is sent,
// each original kept beside it as FILE.nest-orig. The VM's own disk is never written.
import {err, ok, okAsync, type Result, ResultAsync} from 'neverthrow'

import {
  adaptBastilleConf, adaptFstab, adaptPeriodicConf, adaptRcConf, bastilleRctl, bastilleZfsConf, BASTILLE_CONF, type GuestEdit, type GuestNote,
  loaderModules, PERIODIC_CONF, type Release, splitSysctlConf, userlandVersion, vmLimits,
} from '../domain/guest.js'
import type {NestError} from '../domain/errors.js'
import type {JailNet} from '../domain/net.js'
import type {VmConf} from '../domain/vmbhyve.js'
import type {Host} from '../host/host.js'
import {JAIL_MOUNT_FS} from '../jailconf/params.js'
import type {PrintParam} from '../jailconf/index.js'
import type {Policy} from '../policies/policy.js'
import {adaptBastilleJailConf} from '../plan/bastille.js'
import type {Step} from '../plan/steps.js'

/** Bastille's default prefix (bastille.conf.sample: bastille_prefix="/usr/local/bastille"). */
export const BASTILLE_PREFIX = '/usr/local/bastille'

/** One of the guest's Bastille jails: the files of `${bastille_jailsdir}/NAME/` nest reads. */
export interface BastilleJail {
  name: string
  dir: string
  jailConf: string | null
  rctlConf: string | null
  zfsConf: string | null
}

/** The guest files a migration reads (text as read; null when absent). */
export interface GuestFiles {
  /** /bin/freebsd-version's USERLAND_VERSION; null when the file is missing. */
  userland: Result<Release, NestError> | null
  rcConf: string | null
  fstab: string | null
  firstboot: boolean
  periodicConf: string | null
  sysctlConf: string | null
  loaderConf: string | null
  bastilleConf: string | null
  /** Where the guest's data tree (Bastille's) is mounted, null without Bastille. */
  dataMountpoint: string | null
  /** Bastille's jails (read once its tree is mounted). */
  bastilleJails: BastilleJail[]
}

/** A plain `key=value` of an sh file read as data (bastille.conf), null when unset or not plain. */
const plainValue = (text: string, key: string): string | null => {
  const m = new RegExp(`^[ \\t]*${key}=(?:"([^"$\`\\\\]*)"|'([^']*)'|([^\\s"'$\`\\\\#;]*))`, 'm').exec(text)
  return m ? (m[1] ?? m[2] ?? m[3] ?? '') : null
}

const JAIL_DIR_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/

/**
 * Read the guest's files from below the altroot: its system files, and, with the data tree
 * mounted (`dataMountpoint`), its Bastille jails (`${bastille_jailsdir}`, default
 * `${bastille_prefix}/jails`: bastille.conf.sample). Reads only: no program starts.
 */
export function readGuestFiles(host: Host, altroot: string, dataMountpoint: string | null): ResultAsync<GuestFiles, NestError> {
  const at = (p: string): string => `${altroot}${p}`
  const read = (p: string): ResultAsync<string | null, NestError> => host.files.read(at(p), altroot)
  return ResultAsync.combine([
    read('/bin/freebsd-version'), read('/etc/rc.conf'), read('/etc/fstab'), host.files.kind(at('/firstboot'), altroot),
    read(PERIODIC_CONF), read('/etc/sysctl.conf'), read('/boot/loader.conf'), read(BASTILLE_CONF),
  ]).andThen(([fv, rc, fstab, firstboot, periodic, sysctl, loader, bconf]) => {
    const mp = bconf === null ? null : plainValue(bconf, 'bastille_prefix') || BASTILLE_PREFIX
    const jailsDir = bconf === null ? null : plainValue(bconf, 'bastille_jailsdir') || `${mp ?? BASTILLE_PREFIX}/jails`
    const base: GuestFiles = {
      userland: fv === null ? null : userlandVersion(fv), rcConf: rc, fstab, firstboot: firstboot !== 'none', periodicConf: periodic, sysctlConf: sysctl, loaderConf: loader,
      bastilleConf: bconf, dataMountpoint: mp, bastilleJails: [],
    }
    if (dataMountpoint === null || jailsDir === null) return okAsync(base)
    return host.files.kind(at(jailsDir), altroot).andThen((k) => (k === 'dir' ? host.files.list(at(jailsDir), altroot) : okAsync<string[], NestError>([])))
      .andThen((names) => ResultAsync.combine(names.filter((n) => JAIL_DIR_NAME.test(n)).sort().map((name) => {
        const dir = `${jailsDir}/${name}`
        return ResultAsync.combine([read(`${dir}/jail.conf`), read(`${dir}/rctl.conf`), read(`${dir}/zfs.conf`)])
          .map(([jailConf, rctlConf, zfsConf]): BastilleJail => ({name, dir, jailConf, rctlConf, zfsConf}))
      })))
      .map((jails) => ({...base, bastilleJails: jails.filter((j) => j.jailConf !== null)}))
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

/** How nest knows a Bastille jail once it is the migrated jail's child (src/model/tree.ts isAdopted). */
export function adoptStep(dataset: string, j: Pick<BastilleJail, 'name' | 'dir'>): Step {
  return {
    id: 'zfs set adopt', why: `Bastille jail ${j.name} known to nest as a child of the migrated jail (its jail.conf and root as the parent sees them), so that nest starts, stops and lists it`,
    action: {kind: 'run', argv: ['zfs', 'set', `nest:name=${j.name}`, `nest:conf=${j.dir}/jail.conf`, `nest:root=${j.dir}/root`, dataset]}, undo: [],
  }
}

export interface GuestAdaptation {
  /** The writes on the clone (originals kept as FILE.nest-orig), before the snapshot that is sent. */
  steps: Step[]
  edits: GuestEdit[]
  notes: GuestNote[]
  hostname: string | null
  hostuuid: string | null
  /** Jail parameters the guest's files ask for (mount.procfs for a proc line in its fstab; cpuset after start). */
  params: PrintParam[]
  policy: Policy
  /** rctl rules for the host: the VM's memory and CPUs, and its Bastille jails' own limits. */
  limits: string[]
  /** The Bastille jails, by name. */
  children: string[]
}

/** A file written on the clone, its original kept beside it. */
function rewrite(altroot: string, file: string, old: string, text: string, why: string): Step[] {
  return [
    {id: 'write guest file', why: `the original of ${file}, kept for the admin to compare`, action: {kind: 'write', path: `${altroot}${file}.nest-orig`, content: old, within: altroot}, undo: []},
    {id: 'write guest file', why, action: {kind: 'write', path: `${altroot}${file}`, content: text, within: altroot}, undo: []},
  ]
}

const keysOf = (edits: readonly GuestEdit[], file: string): string => [...new Set(edits.filter((e) => e.file === file).map((e) => e.key))].join(', ')

/** The interfaces the parent jail will have: lo0, its epair under the guest's name (vnet), the clones its rc.conf makes. */
function parentInterfaces(o: AdaptOptions, rcConf: string | null): string[] {
  const net = o.network.jailNet
  const clones = rcConf === null ? [] : (plainValue(rcConf, 'cloned_interfaces') ?? '').split(/\s+/).filter((x) => x !== '')
  return ['lo0', ...(net?.kind === 'vnet' ? [net.ifname] : []), ...clones]
}

/** Every change the guest's userland needs to run as this jail (migration.md §4). */
export function adaptGuest(files: GuestFiles, o: AdaptOptions): Result<GuestAdaptation, NestError> {
  const steps: Step[] = []
  const edits: GuestEdit[] = []
  const notes: GuestNote[] = []
  const params: PrintParam[] = []
  const limits = vmLimits(o.vm, {jail: o.jail})
  notes.push(...limits.notes)
  const rules = [...limits.rctl]
  if (limits.cpusetCommand) params.push({name: 'exec.poststart', values: [`/usr/bin/${limits.cpusetCommand}`], append: true})
  let hostname: string | null = null
  const apply = <T extends {text: string; edits: GuestEdit[]; notes?: GuestNote[]}>(file: string, old: string | null, r: Result<T, NestError> | null, why: string): Result<T | null, NestError> => {
    if (old === null || r === null) return ok(null)
    if (r.isErr()) return err(r.error)
    edits.push(...r.value.edits)
    notes.push(...(r.value.notes ?? []))
    if (r.value.text !== old) steps.push(...rewrite(o.altroot, file, old, r.value.text, `${why} (${keysOf(r.value.edits, file)})`))
    return ok(r.value)
  }
  const net = o.network.jailNet?.kind === 'vnet' ? {mode: 'vnet' as const, renames: o.network.renames} : {mode: 'ip4' as const}
  const rc = apply('/etc/rc.conf', files.rcConf, files.rcConf === null ? null : adaptRcConf(files.rcConf, {net, delegatedZfs: true, firstboot: files.firstboot}), 'the guest\'s rc.conf made a jail\'s')
  if (rc.isErr()) return err(rc.error)
  hostname = rc.value?.hostname ?? null
  if (files.firstboot) {
    steps.push({id: 'remove guest file', why: 'the VM\'s first boot is long past (rc runs the KEYWORD: firstboot scripts while /firstboot exists)', action: {kind: 'remove', path: `${o.altroot}/firstboot`, within: o.altroot}, undo: []})
  }
  const fstab = apply('/etc/fstab', files.fstab, files.fstab === null ? null : adaptFstab(files.fstab, {mountable: JAIL_MOUNT_FS}), 'what a jail cannot mount commented out of the guest\'s fstab')
  if (fstab.isErr()) return err(fstab.error)
  for (const p of fstab.value?.params ?? []) params.push({name: p, values: []})
  const periodic = apply(PERIODIC_CONF, files.periodicConf, files.periodicConf === null ? null : adaptPeriodicConf(files.periodicConf), 'the pool is the host\'s now: its periodic scrub and trim are the host\'s')
  if (periodic.isErr()) return err(periodic.error)
  if (files.sysctlConf !== null) {
    const sy = splitSysctlConf(files.sysctlConf, {vnet: net.mode === 'vnet'})
    if (sy.isErr()) return err(sy.error)
    notes.push(...sy.value.notes)
  }
  if (files.loaderConf !== null) {
    const lm = loaderModules(files.loaderConf)
    if (lm.isErr()) return err(lm.error)
    notes.push(...lm.value.notes)
  }
  if (files.bastilleConf !== null && o.bastille !== null) {
    const b = apply(BASTILLE_CONF, files.bastilleConf, adaptBastilleConf(files.bastilleConf, o.bastille), 'Bastille pointed at the jail\'s delegated dataset')
    if (b.isErr()) return err(b.error)
  }
  const ruleset = Number(o.policy.params['devfs_ruleset'] ?? 0)
  const interfaces = parentInterfaces(o, files.rcConf)
  for (const j of files.bastilleJails) {
    const file = `${j.dir}/jail.conf`
    const jc = apply(file, j.jailConf, j.jailConf === null ? null : adaptBastilleJailConf(j.jailConf, {parentRuleset: Number.isInteger(ruleset) ? ruleset : 0, interfaces, file}), `Bastille jail ${j.name} made to run nested`)
    if (jc.isErr()) return err(jc.error)
    if (j.rctlConf !== null) {
      const r = bastilleRctl(j.rctlConf, {parent: o.jail, child: j.name, file: `${j.dir}/rctl.conf`})
      if (r.isErr()) return err(r.error)
      rules.push(...r.value.rules)
      notes.push(...r.value.notes)
    }
    if (j.zfsConf !== null) {
      const z = bastilleZfsConf(j.zfsConf, j.name)
      if (z.isErr()) return err(z.error)
      notes.push(...z.value)
    }
  }
  return ok({steps, edits, notes, hostname, hostuuid: limits.hostuuid, params, policy: o.policy, limits: rules, children: files.bastilleJails.map((j) => j.name)})
}
