// `nest migrate vm`'s plan, as data (migration.md §6.2, §9): the steps that read a vm-bhyve
// guest's disk through temporaries (a snapshot of the guest's datasets, clones of its zvols with
// volmode=geom, the guest pool imported under a temporary name and an altroot), move its
// datasets with `zfs send | zfs recv`, then make the parent jail. Each step carries its inverse;
// the temporaries' inverses run on success too (Step.temporary). Pure: the service gathers the
// facts, these functions turn them into steps, and --dry-run prints the same steps.
import {DATA_MOUNTPOINT, dataDataset, jailDataset, jailRoot, type Layout, NEST_STATE, NEST_VERSION, rootDataset} from '../model/layout.js'
import {type Action, destroyDs, type Step} from './steps.js'

/** The name of every snapshot a migration takes (of the guest's datasets, then of the imported pool). */
export const MIGRATE_SNAP = 'nest-migrate'
/** Where the guest pool is imported, below the host's own run directory, never over host paths. */
export const MIGRATE_RUN = '/var/run/nest/migrate'

/** The deterministic names of one migration's temporaries, so a re-run after a crash finds them. */
export interface MigrateNames {
  jail: string
  /** `<top>/.migrate`: the container of every migration's work datasets. */
  workTop: string
  /** `<top>/.migrate/J`: holds the disk clones and what the inverse steps need (user properties). */
  work: string
  /** The guest pool's temporary in-core name (`zpool import -t`): `nestmig_J`. */
  pool: string
  /** `zpool import -R`: every mountpoint of the guest pool is below it. */
  altroot: string
  /** Where a UFS guest's root is mounted read-only (mount -t ufs -o ro). */
  src: string
  /** The clone of the guest's dataset (its image files), for md(4), and where it is mounted. */
  guestClone: string
  guestCloneMount: string
}

export function migrateNames(l: Layout, jail: string): MigrateNames {
  return {
    jail, workTop: `${l.top}/.migrate`, work: `${l.top}/.migrate/${jail}`, pool: `nestmig_${jail}`, altroot: `${MIGRATE_RUN}/${jail}/altroot`, src: `${MIGRATE_RUN}/${jail}/src`,
    guestClone: `${l.top}/.migrate/${jail}/guest`, guestCloneMount: `${l.mountpoint}/.migrate/${jail}/guest`,
  }
}

/** A disk of the guest as the host sees it. */
export interface GuestDisk {
  index: number
  /** The zvol (`STORE/NAME/disk0`). */
  dataset: string
}

/** What the plan needs to know of the VM before anything changes. */
export interface VmFacts {
  name: string
  /** The guest's dataset in a ZFS datastore (`zroot/vm/fbsd1`): its zvols are below it, its image files in it. */
  dataset: string
  /** zvol disks. */
  disks: GuestDisk[]
  /** Image-file disks (`disk0.img` in the guest's directory), read through md(4) from a clone of the dataset. */
  files: Array<{index: number; name: string}>
  /** /dev/vmm/NAME exists: the guest runs (nest stops it only with --stop-vm). */
  running: boolean
  /** The rc file whose vm_list names the guest, and that value (null: the guest does not autostart). */
  vmList: {file: string; value: string} | null
  /** `vfs.zfs.vol.recursive` before the migration. */
  volRecursive: string
  /** `<top>/.migrate` exists already. */
  hasWorkTop: boolean
  /**
   * What a migration that did not finish had done to the VM (stopped it, taken it out of
   * vm_list), carried over so that this run's rollback gives it back.
   */
  carried?: {running: boolean; vmList: {file: string; value: string} | null}
}

/** How long nest waits for a guest to power off after `vm stop` (an ACPI shutdown). */
export const VM_STOP_SECONDS = 180

const without = (list: string, name: string): string => list.split(/\s+/).filter((x) => x !== '' && x !== name).join(' ')

/** What undoing the VM-side steps needs (was it running, its vm_list): kept on the work dataset, then on the jail's. */
export function vmUndoProps(vm: VmFacts): Record<string, string> {
  const running = vm.running || vm.carried?.running === true
  const list = vm.vmList ?? vm.carried?.vmList ?? null
  return {'nest:vm-running': running ? 'yes' : 'no', 'nest:vm-list': list ? `${list.file}|${list.value}` : '-'}
}

/** The user properties of the work dataset: what a re-run after a crash needs to undo what this one did. */
export function workProps(vm: VmFacts): Record<string, string> {
  return {'nest:vm': vm.name, 'nest:vm-dataset': vm.dataset, ...vmUndoProps(vm), 'nest:vol-recursive': vm.volRecursive}
}

/** nest:vm-running and nest:vm-list read back (the host's own datasets: written by nest). */
export function carriedOf(props: ReadonlyMap<string, string>): VmFacts['carried'] {
  const list = props.get('nest:vm-list') ?? '-'
  const bar = list.indexOf('|')
  return {running: props.get('nest:vm-running') === 'yes', vmList: list === '-' || bar < 0 ? null : {file: list.slice(0, bar), value: list.slice(bar + 1)}}
}

const oFlags = (props: Record<string, string>): string[] => Object.entries(props).flatMap(([k, v]) => ['-o', `${k}=${v}`])

/** The clone of disk N in the work dataset. */
export const cloneOf = (n: MigrateNames, d: GuestDisk): string => `${n.work}/disk${d.index}`

/**
 * Steps 1–7 of migration.md §9 up to the import: the work dataset (first, so that what follows
 * is recorded), the VM stopped and out of vm_list, one recursive snapshot of the guest's
 * datasets, a clone of each zvol with volmode=geom (its partitions appear; the VM's own zvol is
 * never opened), zvol vdevs allowed.
 */
export function planAttach(n: MigrateNames, vm: VmFacts): Step[] {
  const snap = `${vm.dataset}@${MIGRATE_SNAP}`
  const steps: Step[] = []
  if (!vm.hasWorkTop) {
    steps.push({id: 'zfs create .migrate', why: 'where migrations keep their temporaries (made by the first one)', action: {kind: 'run', argv: ['zfs', 'create', '-o', 'canmount=off', n.workTop]}, undo: [destroyDs(n.workTop)], temporary: true, record: true})
  }
  steps.push({
    id: 'mkdir run', why: `where the guest's file systems are mounted while they are read (${MIGRATE_RUN}/${n.jail}): removed with all below it once nothing is mounted there`,
    action: {kind: 'mkdir', path: `${MIGRATE_RUN}/${n.jail}`}, undo: [{kind: 'remove-tree', path: `${MIGRATE_RUN}/${n.jail}`}], temporary: true,
  })
  // The work dataset is the record a re-run undoes what is left by (converge): kept while an
  // undo before its own failed. One left by a migration that did not finish is removed with
  // the last work dataset below it (not -r: only when it is empty).
  const top: Action[] = vm.hasWorkTop ? [{kind: 'run', argv: ['zfs', 'destroy', n.workTop], allowFailure: true}] : []
  steps.push({
    id: 'zfs create work', why: `${n.jail}'s migration: the clones of ${vm.name}'s disks, and what undoing it needs (nest:vm-* properties)`,
    action: {kind: 'run', argv: ['zfs', 'create', '-o', 'canmount=off', ...oFlags(workProps(vm)), n.work]}, undo: [destroyDs(n.work), ...top], temporary: true, record: true,
  })
  if (vm.running) {
    steps.push(
      {id: 'vm stop', why: `${vm.name} runs: an ACPI shutdown, so that its disks are consistent (--stop-vm)`, action: {kind: 'run', argv: ['vm', 'stop', vm.name]}, undo: [{kind: 'run', argv: ['vm', 'start', vm.name]}]},
      {id: 'wait', why: `${vm.name} has powered off when bhyve has destroyed its vmm device (vm-bhyve vm::run)`, action: {kind: 'wait-gone', path: `/dev/vmm/${vm.name}`, seconds: VM_STOP_SECONDS, what: `${vm.name} did not power off`}, undo: []},
    )
  }
  if (!vm.running && vm.carried?.running) {
    steps.push({id: 'vm stopped', why: `${vm.name} was stopped by a migration that did not finish: started again if this one fails`, action: {kind: 'wait-gone', path: `/dev/vmm/${vm.name}`, seconds: 0, what: `${vm.name} runs again`}, undo: [{kind: 'run', argv: ['vm', 'start', vm.name]}]})
  }
  if (!vm.vmList && vm.carried?.vmList) {
    const {file, value} = vm.carried.vmList
    steps.push({id: 'vm_list', why: `${vm.name} was taken out of vm_list by a migration that did not finish: put back if this one fails`, action: {kind: 'rcconf', path: file, set: [['vm_list', without(value, vm.name)]]}, undo: [{kind: 'rcconf', path: file, set: [['vm_list', value]]}]})
  }
  if (vm.vmList) {
    const {file, value} = vm.vmList
    steps.push({
      id: 'vm_list', why: `vm-bhyve must not boot ${vm.name} next to the jail at the host's next boot`,
      action: {kind: 'rcconf', path: file, set: [['vm_list', without(value, vm.name)]]}, undo: [{kind: 'rcconf', path: file, set: [['vm_list', value]]}],
    })
  }
  steps.push({id: 'zfs snapshot', why: `every disk of ${vm.name} at one instant (vm-bhyve's own zfs::snapshot is recursive too)`, action: {kind: 'run', argv: ['zfs', 'snapshot', '-r', snap]}, undo: [{kind: 'run', argv: ['zfs', 'destroy', '-r', snap]}], temporary: true})
  if (vm.files.length > 0) {
    steps.push({
      id: 'zfs clone guest', why: `${vm.name}'s image files read from a clone of ${vm.dataset}: the VM's own files stay as they are`,
      action: {kind: 'run', argv: ['zfs', 'clone', `${vm.dataset}@${MIGRATE_SNAP}`, n.guestClone]}, undo: [destroyDs(n.guestClone)], temporary: true,
    })
  }
  for (const d of vm.disks) {
    steps.push({
      id: 'zfs clone', why: `disk${d.index} read through a clone with volmode=geom: its partitions appear, ${d.dataset} stays byte for byte as it is`,
      action: {kind: 'run', argv: ['zfs', 'clone', '-o', 'volmode=geom', `${d.dataset}@${MIGRATE_SNAP}`, cloneOf(n, d)]}, undo: [destroyDs(cloneOf(n, d))], temporary: true,
    })
  }
  if (vm.volRecursive !== '1' && vm.disks.length > 0) {
    steps.push({
      id: 'sysctl', why: 'a pool on a zvol can be opened only with vfs.zfs.vol.recursive=1 (OpenZFS zvol_os.c), set back as soon as the pool is exported',
      action: {kind: 'run', argv: ['sysctl', 'vfs.zfs.vol.recursive=1']}, undo: [{kind: 'run', argv: ['sysctl', `vfs.zfs.vol.recursive=${vm.volRecursive}`]}], temporary: true,
    })
  }
  return steps
}

/** An image file attached read-only as md unit `unit` (mdconfig prints nothing with -u). */
export function mdStep(n: MigrateNames, file: string, unit: number): Step {
  return {
    id: 'mdconfig', why: `${file} as md${unit}, read-only: its partitions appear (sbin/mdconfig)`,
    action: {kind: 'run', argv: ['mdconfig', '-a', '-t', 'vnode', '-o', 'readonly', '-u', String(unit), '-f', `${n.guestCloneMount}/${file}`]},
    undo: [{kind: 'run', argv: ['mdconfig', '-d', '-u', String(unit)]}], temporary: true,
  }
}

/** A UFS root mounted read-only where nothing of the host is (mount -t ufs -o ro: an unclean one mounts too). */
export function ufsMountSteps(n: MigrateNames, device: string): Step[] {
  return [
    {id: 'mkdir src', why: 'where the guest\'s UFS root is mounted, read-only', action: {kind: 'mkdir', path: n.src}, undo: []},
    {id: 'mount ufs', why: `${device}, the guest's root, read-only`, action: {kind: 'run', argv: ['mount', '-t', 'ufs', '-o', 'ro', device, n.src]}, undo: [{kind: 'run', argv: ['umount', n.src]}], temporary: true},
  ]
}

/**
 * A UFS guest's move (§3.3): the jail's dataset, its root a new file system, the guest's files
 * copied into it with tar through a pipe (owners by number, modes, flags, links; nothing outside
 * the mounted root), the delegated dataset made empty.
 */
export function planMoveUfs(l: Layout, n: MigrateNames, p: JailProps, hasJails: boolean): Step[] {
  const jail = n.jail
  const jails = `${l.top}/jails`
  return [
    ...(hasJails ? [] : [{id: 'zfs create jails', why: 'where the jails of this tree live (its first jail makes it)', action: {kind: 'run', argv: ['zfs', 'create', jails]}, undo: [destroyDs(jails)]} satisfies Step]),
    {id: 'zfs create', why: `${jail}'s dataset, holding nest's metadata as user properties (${NEST_STATE}=creating until the migration is done)`, action: {kind: 'run', argv: ['zfs', 'create', ...oFlags(jailProps(jail, p)), jailDataset(l, jail)]}, undo: [destroyDs(jailDataset(l, jail))]},
    {id: 'zfs create root', why: `${jail}'s root, a file system of its own`, action: {kind: 'run', argv: ['zfs', 'create', rootDataset(l, jail)]}, undo: []},
    {
      id: 'tar', why: `the guest's files into ${jail}'s root: owners by number (--numeric-owner: never remapped by the host's names), modes, file flags and links kept, nothing from outside the guest's root (--one-file-system)`,
      action: {kind: 'pipe', from: ['tar', '-c', '-f', '-', '--one-file-system', '-C', n.src, '.'], to: ['tar', '-x', '-p', '-f', '-', '--numeric-owner', '-C', jailRoot(l, jail)]}, undo: [],
    },
    {id: 'zfs create data', why: `the dataset delegated to ${jail} (jailed=on: only ${jail} mounts what is there)`, action: {kind: 'run', argv: ['zfs', 'create', '-o', 'jailed=on', '-o', `mountpoint=${DATA_MOUNTPOINT}`, dataDataset(l, jail)]}, undo: []},
  ]
}

/** The devices `zpool import -d` is given: every freebsd-zfs partition of every clone. */
export const zfsDevices = (parts: ReadonlyArray<{provider: string; type: string}>): string[] =>
  parts.filter((p) => p.type === 'freebsd-zfs').map((p) => `/dev/${p.provider}`)

/**
 * The import: by numeric id (the guest pool is usually `zroot`, like the host's), under a
 * temporary name (`-t`: the disk keeps its own), below the altroot (`-R`: no mountpoint reaches
 * a host path, and no cache file), mounting nothing (`-N`), forced (`-f`: a guest's root pool is
 * never exported, and was last used by another hostid).
 */
export function importStep(n: MigrateNames, devices: readonly string[], id: string, guestPool: string): Step {
  return {
    id: 'zpool import', why: `${guestPool} (id ${id}) as ${n.pool}, below ${n.altroot}, nothing mounted`,
    action: {kind: 'run', argv: ['zpool', 'import', ...devices.flatMap((d) => ['-d', d]), '-f', '-N', '-R', n.altroot, '-t', id, n.pool]},
    undo: [{kind: 'run', argv: ['zpool', 'export', n.pool]}], temporary: true,
  }
}

/** One dataset of the imported guest pool (`zfs list` with the in-core pool name, mountpoints without the altroot). */
export interface GuestDataset {
  name: string
  type: 'filesystem' | 'volume'
  /** As the guest sees it (`/home`, `none`, `legacy`). */
  mountpoint: string
  canmount: string
  used: number
}

/** The guest pool sorted into what becomes the jail's root, its other datasets, its data, and what stays behind. */
export interface GuestLayout {
  /** The boot environment (bootfs): the jail's root. */
  root: GuestDataset
  /** Top-most OS datasets received below the root with their descendants (`-X`: what goes elsewhere). */
  os: Array<{ds: GuestDataset; rel: string; exclude: string[]}>
  /** The application tree (Bastille's) received into the delegated dataset. */
  data: GuestDataset | null
  /** What is not moved, and why. */
  skipped: Array<{name: string; why: string}>
}

const relOf = (pool: string, name: string): string => (name === pool ? '' : name.slice(pool.length + 1))
const within = (name: string, top: string): boolean => name === top || name.startsWith(`${top}/`)

/**
 * Sort the guest pool (migration.md §3.1): the BE becomes the root; the pool's other top-level
 * trees go below it (their mountpoints inherit from the root, as in bsdinstall's layout where a
 * dataset's path is its mountpoint); the tree mounted on `dataMountpoint` (Bastille's prefix)
 * goes to the delegated dataset; the pool root, other boot environments and volumes stay.
 */
export function sortGuest(pool: string, datasets: readonly GuestDataset[], bootfs: string, dataMountpoint: string | null): GuestLayout | string {
  const root = datasets.find((d) => d.name === bootfs)
  if (!root || root.type !== 'filesystem') return `the boot environment ${bootfs} (bootfs) is not a file system of the pool`
  const beContainer = bootfs.slice(0, bootfs.lastIndexOf('/'))
  const data = dataMountpoint === null ? null : datasets.find((d) => d.type === 'filesystem' && d.mountpoint === dataMountpoint && !within(d.name, beContainer)) ?? null
  const skipped: GuestLayout['skipped'] = []
  const os: GuestLayout['os'] = []
  for (const d of datasets) {
    if (d.name === pool) {
      skipped.push({name: d.name, why: 'the pool root dataset (a jail has one root: its boot environment)'})
      continue
    }
    if (within(d.name, beContainer) && beContainer !== pool) {
      if (d.name !== bootfs && d.name !== beContainer && !within(d.name, bootfs)) skipped.push({name: d.name, why: 'another boot environment'})
      continue
    }
    if (data && within(d.name, data.name)) continue
    const parent = d.name.slice(0, d.name.lastIndexOf('/'))
    if (parent !== pool) continue
    if (d.type === 'volume') {
      skipped.push({name: d.name, why: 'a volume (the guest\'s swap or a raw disk): a jail has no block devices'})
      continue
    }
    if (d.mountpoint === 'legacy') {
      skipped.push({name: d.name, why: 'mountpoint=legacy: the guest mounted it from its fstab; receive it by hand and give it a mount line'})
      continue
    }
    os.push({ds: d, rel: relOf(pool, d.name), exclude: data && within(data.name, d.name) ? [data.name] : []})
  }
  for (const d of datasets) {
    if (d.type === 'volume' && !skipped.some((s) => s.name === d.name) && d.name.split('/').length > 2) skipped.push({name: d.name, why: 'a volume: a jail has no block devices'})
  }
  return {root, os, data, skipped}
}

/** Everything moved as a list of (guest dataset, where it lands), parents first. */
export function landing(l: Layout, jail: string, g: GuestLayout, datasets: readonly GuestDataset[]): Array<{from: GuestDataset; to: string}> {
  const out: Array<{from: GuestDataset; to: string}> = []
  const under = (top: string, base: string, excl: readonly string[]): void => {
    for (const d of datasets) {
      if (!within(d.name, top) || excl.some((x) => within(d.name, x))) continue
      out.push({from: d, to: `${base}${d.name.slice(top.length)}`})
    }
  }
  under(g.root.name, rootDataset(l, jail), [])
  for (const o of g.os) under(o.ds.name, `${rootDataset(l, jail)}/${o.rel}`, o.exclude)
  if (g.data) under(g.data.name, `${dataDataset(l, jail)}/${g.data.name.split('/').at(-1) ?? 'data'}`, [])
  return out
}

/** The nest:* properties of the migrated jail's own dataset (the same as a created one's, plus where it came from). */
export interface JailProps {
  policy: string
  release: string
  net: string | null
  vm: string
  /** vmUndoProps: how to give the VM back if this migration is undone. */
  undo: Record<string, string>
}

const jailProps = (jail: string, p: JailProps): Record<string, string> => ({
  'nest:name': jail, 'nest:policy': p.policy, 'nest:release': p.release, 'nest:delegate': 'on', 'nest:version': NEST_VERSION,
  ...(p.net ? {'nest:net': p.net} : {}), 'nest:migrated-from': p.vm, ...p.undo, [NEST_STATE]: 'creating',
})

/**
 * The move (§3): the jail's dataset (nest:state=creating until the end), the root received
 * from the BE (`-u`: nothing mounted yet; canmount=on: a BE is noauto), the OS trees below it
 * (`-x mountpoint`: each inherits its place below the root, never a host path), mountpoints
 * set where the guest's differ from that, the delegated dataset (jailed=on before anything is
 * received below it: nothing below it is ever mounted on the host), the data tree received into it.
 */
export function planMove(l: Layout, n: MigrateNames, g: GuestLayout, datasets: readonly GuestDataset[], p: JailProps, hasJails: boolean): Step[] {
  const jail = n.jail
  const snap = (ds: string): string => `${ds}@${MIGRATE_SNAP}`
  const props = jailProps(jail, p)
  const jails = `${l.top}/jails`
  const steps: Step[] = [
    {id: 'zfs snapshot guest', why: `${n.pool}'s datasets at one instant, after nest's edits (the snapshot dies with the clone)`, action: {kind: 'run', argv: ['zfs', 'snapshot', '-r', snap(n.pool)]}, undo: []},
    ...(hasJails ? [] : [{id: 'zfs create jails', why: 'where the jails of this tree live (its first jail makes it)', action: {kind: 'run', argv: ['zfs', 'create', jails]}, undo: [destroyDs(jails)]} satisfies Step]),
    {id: 'zfs create', why: `${jail}'s dataset, holding nest's metadata as user properties (${NEST_STATE}=creating until the migration is done)`, action: {kind: 'run', argv: ['zfs', 'create', ...oFlags(props), jailDataset(l, jail)]}, undo: [destroyDs(jailDataset(l, jail))]},
    {
      id: 'zfs recv root', why: `${g.root.name}, the guest's boot environment, as ${jail}'s root (not mounted yet; canmount=on, as a BE is noauto)`,
      action: {kind: 'pipe', from: ['zfs', 'send', '-R', snap(g.root.name)], to: ['zfs', 'recv', '-u', '-o', `mountpoint=${jailRoot(l, jail)}`, '-o', 'canmount=on', rootDataset(l, jail)]}, undo: [],
    },
  ]
  for (const o of g.os) {
    steps.push({
      id: 'zfs recv', why: `${o.ds.name} below the root (-x mountpoint: it inherits ${jailRoot(l, jail)}/${o.rel}, never a host path)`,
      action: {kind: 'pipe', from: ['zfs', 'send', '-R', ...o.exclude.flatMap((x) => ['-X', x]), snap(o.ds.name)], to: ['zfs', 'recv', '-u', '-x', 'mountpoint', `${rootDataset(l, jail)}/${o.rel}`]}, undo: [],
    })
  }
  // A dataset whose guest mountpoint is not where inheritance puts it gets it set (not jailed: the host may).
  const moved = landing(l, jail, g, datasets)
  for (const {from, to} of moved) {
    if (to.startsWith(`${dataDataset(l, jail)}/`) || from.name === g.root.name) continue
    if (from.mountpoint === 'none' || from.mountpoint === 'legacy' || from.mountpoint === '-') continue
    const inherited = `${jailRoot(l, jail)}${to.slice(rootDataset(l, jail).length)}`
    const wanted = `${jailRoot(l, jail)}${from.mountpoint === '/' ? '' : from.mountpoint}`
    if (inherited !== wanted) steps.push({id: 'zfs set mountpoint', why: `${from.name} was mounted on ${from.mountpoint} in the guest`, action: {kind: 'run', argv: ['zfs', 'set', `mountpoint=${wanted}`, to]}, undo: []})
  }
  steps.push({
    id: 'zfs create data', why: `the dataset delegated to ${jail} (jailed=on before anything is received below it: only ${jail} mounts what is there)`,
    action: {kind: 'run', argv: ['zfs', 'create', '-o', 'jailed=on', '-o', `mountpoint=${DATA_MOUNTPOINT}`, dataDataset(l, jail)]}, undo: [],
  })
  if (g.data) {
    const to = `${dataDataset(l, jail)}/${g.data.name.split('/').at(-1) ?? 'data'}`
    steps.push({
      id: 'zfs recv data', why: `${g.data.name} (mounted on ${g.data.mountpoint} in the guest) into the delegated dataset, its mountpoint kept: inside ${jail} it is ${g.data.mountpoint} again`,
      action: {kind: 'pipe', from: ['zfs', 'send', '-R', snap(g.data.name)], to: ['zfs', 'recv', '-u', to]}, undo: [],
    })
  }
  return steps
}

/** The received file systems to mount on the host before the jail starts (not jailed, canmount=on), parents first. */
export function mountSteps(l: Layout, jail: string, g: GuestLayout, datasets: readonly GuestDataset[]): Step[] {
  return landing(l, jail, g, datasets)
    .filter(({from, to}) => !to.startsWith(`${dataDataset(l, jail)}/`) && (from.name === g.root.name || (from.canmount === 'on' && from.mountpoint !== 'none' && from.mountpoint !== 'legacy')))
    .map(({to}): Step => ({id: 'zfs mount', why: `${to}, received unmounted`, action: {kind: 'run', argv: ['zfs', 'mount', to]}, undo: []}))
}

/** rctl rules, each added now and kept in /etc/rctl.conf for the host's next boot (rc.d/rctl). */
export function rctlSteps(rules: readonly string[], rctlConf: string | null): Step[] {
  if (rules.length === 0) return []
  const old = rctlConf ?? ''
  const text = `${old}${old === '' || old.endsWith('\n') ? '' : '\n'}${rules.map((r) => `${r}\n`).join('')}`
  const restore: Action = rctlConf === null ? {kind: 'remove', path: '/etc/rctl.conf'} : {kind: 'write', path: '/etc/rctl.conf', content: rctlConf}
  return [
    ...rules.map((r): Step => ({id: 'rctl -a', why: 'the VM\'s size as a limit of the jail (its children count against it too)', action: {kind: 'run', argv: ['rctl', '-a', r]}, undo: [{kind: 'run', argv: ['rctl', '-r', r], allowFailure: true}]})),
    {id: 'write rctl.conf', why: 'the same rules at the host\'s next boot (rc.d/rctl reads /etc/rctl.conf)', action: {kind: 'write', path: '/etc/rctl.conf', content: text}, undo: [restore]},
  ]
}
