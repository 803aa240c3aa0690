// nest migrate vm NAME: a vm-bhyve FreeBSD guest becomes a parent jail (issue 13,
// migration.md). Locate and check the guest without changing anything; read its disk through
// temporaries (snapshot, volmode=geom clones, the pool imported under a temporary name below an
// altroot); adapt its userland on that copy; move its datasets with zfs send | zfs recv; give it
// a jail.conf, limits and its network; start it. All of it is one Transaction: a failure
// anywhere undoes every completed step, last first, and the VM is as it was.
import {errAsync, okAsync, ResultAsync} from 'neverthrow'

import type {CommandCtx} from '../context/command.js'
import {conflict, internal, invalidInput, type NestError, notFound, preflight} from '../domain/errors.js'
import {guestInterfaces, guestNetwork, parseOsRelease, type Release, releaseNote} from '../domain/guest.js'
import {isJailName} from '../domain/names.js'
import {epairA, epairB, freeEpairUnit, type JailNet, printNet, type VnetNet} from '../domain/net.js'
import {checkVmConf, configGet, configLoad, parseVmConf, type VmConf, VM_RC_FILES, vmDirOf} from '../domain/vmbhyve.js'
import {Transaction} from '../engine/execute.js'
import {withJailLock} from '../engine/lock.js'
import type {Host} from '../host/host.js'
import {type ImportablePool, parseGpartShow, parseZfsColumns, parseZpoolImport} from '../host/parse.js'
import {readSysctls} from '../host/tools/sysctl.js'
import {loadPolicy} from '../policies/load.js'
import {type Policy, policyProblems} from '../policies/policy.js'
import {confFile, dataDataset, isParentPolicy, jailRoot, type JailSpec, planNest, planStart, readyStep, renderJailConf, rootDataset} from '../plan/jail.js'
import {carriedOf, cloneOf, MIGRATE_SNAP, type GuestDataset, type GuestLayout, importStep, landing, mdStep, type MigrateNames, migrateNames, mountSteps, planAttach, planMove, planMoveUfs, rctlSteps, sortGuest, ufsMountSteps, type VmFacts, vmUndoProps, zfsDevices} from '../plan/migrate.js'
import type {Step} from '../plan/steps.js'
import type {PlanResult} from '../render/jails.js'
import type {MigrateResult} from '../render/migrate.js'
import {adaptGuest, adoptStep, type GuestAdaptation, type GuestFiles, type NetChoice, readGuestFiles} from './migrate-guest.js'
import {EPAIR_LOCK, unitsTaken} from './create.js'
import {destroyJail} from './jails.js'
import {DEFAULT_PARALLEL, engine, planResult, type Scene, scene} from './scene.js'

export interface MigrateOptions {
  vm: string
  /** The jail's name (default: the VM's). */
  as?: string
  policy: string
  stopVm: boolean
  network: 'vnet' | 'ip4'
  limits: 'rctl' | 'none'
  dryRun: boolean
}

/** The one lock every migration takes: pool names, GUIDs and vfs.zfs.vol.recursive are host-wide. */
const MIGRATE_LOCK = '.migrate'

const VM_NAME = /^[a-z0-9][.a-z0-9_-]{0,229}[a-z0-9]$/i

interface Located {
  conf: VmConf
  facts: VmFacts
}


/** A vm-bhyve datastore: where its guests' directories are, and its dataset when it is a ZFS one. */
interface Store {
  name: string
  path: string
  dataset: string | null
}

/**
 * The datastore that holds NAME (datastore::load, datastore::get in lib/vm-datastore): the
 * default one (vm_dir) first, then each of `$vm_dir/.config/system.conf`'s datastore_list in
 * order, `path_NAME` a directory or `zfs:pool/dataset` (iso and img stores hold no guests).
 * system.conf is read as vm-bhyve reads it (config::load, config::get), never sourced. Only
 * when the default store lacks the guest: one read, and a zfs get per ZFS store looked at.
 */
function findStore(host: Host, def: Store, name: string, mountpointOf: (ds: string, from: string) => ResultAsync<string, NestError>): ResultAsync<Store, NestError> {
  return host.files.kind(`${def.path}/${name}/${name}.conf`).andThen((k) => {
    if (k !== 'none') return okAsync(def)
    return host.files.read(`${def.path}/.config/system.conf`).andThen((text) => {
      const lines = configLoad(text ?? '')
      const names = configGet(lines, 'datastore_list').split(/\s+/).filter((n) => n !== '' && n !== 'default')
      const tryNext = (i: number): ResultAsync<Store, NestError> => {
        const ds = names[i]
        if (ds === undefined) return okAsync(def)
        const spec = configGet(lines, `path_${ds}`)
        const kind = spec.includes(':') ? spec.slice(0, spec.indexOf(':')) : ''
        if (spec === '' || kind === 'iso' || kind === 'img') return tryNext(i + 1)
        const store: ResultAsync<Store, NestError> = kind === 'zfs'
          ? mountpointOf(spec.slice(4), `path_${ds} in ${def.path}/.config/system.conf`).map((mp) => ({name: ds, path: mp, dataset: spec.slice(4)}))
          : okAsync({name: ds, path: spec, dataset: null})
        return store.andThen((s) => host.files.kind(`${s.path}/${name}/${name}.conf`).andThen((found) => (found === 'none' ? tryNext(i + 1) : okAsync(s))))
      }
      return tryNext(0)
    })
  })
}

/** vm_dir from the rc files vm-bhyve reads (the host's own files: nest's trust), the guest's NAME.conf, its state. */
function locate(host: Host, o: MigrateOptions, volRecursive: string, workTop: boolean, carried: VmFacts['carried']): ResultAsync<Located, NestError> {
  const name = o.vm
  return ResultAsync.combine(VM_RC_FILES.map((f) => host.files.read(f).map((text) => (text === null ? null : {path: f, text}))))
    .andThen((files) => {
      const rc = files.filter((f): f is {path: string; text: string} => f !== null)
      const dir = vmDirOf(rc)
      if (dir.isErr()) return errAsync(dir.error)
      const vmDir = dir.value
      const listed = rc.filter((f) => /^[ \t]*vm_list=/m.test(f.text)).at(-1)
      const mountpointOf = (ds: string, from: string): ResultAsync<string, NestError> => host.run(['zfs', 'get', '-H', '-o', 'value', 'mountpoint', ds], {allowFailure: true}).andThen((r) => {
        const mp = r.stdout.trim()
        return r.exitCode !== 0 || !mp.startsWith('/') ? errAsync(preflight(`vm-bhyve: unable to locate mountpoint for ZFS dataset ${ds} (${from})`, `check it, and that ${ds} is mounted`)) : okAsync(mp)
      })
      const defaultStore: ResultAsync<Store, NestError> = vmDir.kind === 'dir' ? okAsync({name: 'default', path: vmDir.path, dataset: null}) : mountpointOf(vmDir.dataset, `vm_dir in ${vmDir.from}`).map((mp) => ({name: 'default', path: mp, dataset: vmDir.dataset}))
      return defaultStore.andThen((def) => findStore(host, def, name, mountpointOf)).andThen((store) => {
        const gdir = `${store.path}/${name}`
        return ResultAsync.combine([host.files.read(`${gdir}/${name}.conf`), host.files.kind(`/dev/vmm/${name}`), host.files.kind(`${gdir}/${name}.save`)]).andThen(([text, vmm, save]) => {
          if (text === null) return errAsync(notFound(`vm-bhyve guest ${name}: no ${name}/${name}.conf in any datastore (default: ${store.path})`, 'see vm list'))
          const conf = parseVmConf(text, `${gdir}/${name}.conf`).andThen((c) => checkVmConf(name, c))
          if (conf.isErr()) return errAsync(conf.error)
          if (store.dataset === null) {
            return errAsync(preflight(`vm-bhyve datastore ${store.name} (${store.path}) is a directory: nest migrates guests of a ZFS datastore (vm_dir="zfs:pool/dataset", or a datastore path_NAME="zfs:pool/dataset"), whose disks it can snapshot and clone without touching them`, 'keep the guest a VM for now, or move it to a ZFS datastore (vm-bhyve datastore add)'))
          }
          const zdir = {dataset: store.dataset}
          if (save !== 'none') return errAsync(conflict(`vm-bhyve guest ${name} is suspended (${name}.save): its disks are mid-flight against its saved memory`, `resume it and shut it down (vm start ${name}, then vm stop ${name}), or discard the saved state yourself`))
          const running = vmm !== 'none'
          if (running && !o.stopVm) return errAsync(conflict(`vm-bhyve guest ${name} is running (/dev/vmm/${name}): its disks change while it runs`, `add --stop-vm to have nest stop it with vm stop and wait, or stop it first: vm stop ${name}`))
          const disks = conf.value.disks.map((d) => ({d, dev: d.dev ?? 'file'}))
          // vm::get_disk_path (lib/vm-run): zvol and sparse-zvol disks are STORE/NAME/DISK, file disks (the default) $VM_DS_PATH/NAME/DISK.
          const bad = disks.find(({d, dev}) => !(dev === 'zvol' || dev === 'sparse-zvol' || (dev === 'file' && /^[A-Za-z0-9_.-]+$/.test(d.name) && !d.name.startsWith('.'))))
          if (bad) return errAsync(preflight(`vm-bhyve guest ${name}: disk${bad.d.index} is a ${bad.dev} disk (${bad.d.name}): nest reads the zvol and image-file disks of a ZFS datastore`, 'keep the guest a VM for now'))
          if (disks.length === 0) return errAsync(preflight(`vm-bhyve guest ${name} has no disk in ${name}.conf`, `check ${gdir}/${name}.conf`))
          const value = listed ? /^[ \t]*vm_list=["']?([^"'\n]*)["']?/m.exec(listed.text)?.[1] ?? '' : ''
          const inList = value.split(/\s+/).includes(name)
          const facts: VmFacts = {
            name, dataset: `${zdir.dataset}/${name}`, running, volRecursive, hasWorkTop: workTop, ...(carried ? {carried} : {}),
            disks: disks.filter(({dev}) => dev !== 'file').map(({d}) => ({index: d.index, dataset: `${zdir.dataset}/${name}/${d.name}`})),
            files: disks.filter(({dev}) => dev === 'file').map(({d}) => ({index: d.index, name: d.name})),
            vmList: inList && listed ? {file: listed.path, value} : null,
          }
          return okAsync({conf: conf.value, facts})
        })
      })
    })
}

type Source = {kind: 'zfs'; devices: string[]; pool: ImportablePool} | {kind: 'ufs'; device: string}

/** The lowest md units nobody uses (`mdconfig -l`: the units, space-separated, sbin/mdconfig md_list). */
function freeMdUnits(host: Host, count: number): ResultAsync<number[], NestError> {
  return host.run(['mdconfig', '-l']).map((r) => {
    const used = new Set(r.stdout.split(/\s+/).filter((w) => /^md[0-9]+$/.test(w)).map((w) => Number(w.slice(2))))
    const free: number[] = []
    for (let u = 0; free.length < count; u++) if (!used.has(u)) free.push(u)
    return free
  })
}

/**
 * The disks' partitions (gpart show -p of each clone and md unit), then the root: the pool on
 * their freebsd-zfs partitions (zpool import -d: a listing, nothing imported), or else the
 * freebsd-ufs partition (one: a root split over several UFS partitions is not handled yet).
 */
function findSource(host: Host, n: MigrateNames, facts: VmFacts, units: readonly number[]): ResultAsync<Source, NestError> {
  const geoms = [...facts.disks.map((d) => `zvol/${cloneOf(n, d)}`), ...units.map((u) => `md${u}`)]
  return ResultAsync.combine(geoms.map((geom) => host.run(['gpart', 'show', '-p', geom]).andThen((r) => {
    const g = parseGpartShow(r.stdout)
    return g.isOk() ? okAsync(g.value.parts) : errAsync(internal(`gpart show -p ${geom}: ${g.error}`))
  }))).andThen((parts): ResultAsync<Source, NestError> => {
    const devices = zfsDevices(parts.flat())
    if (devices.length === 0) {
      const ufs = parts.flat().filter((p) => p.type === 'freebsd-ufs')
      if (ufs.length === 1) return okAsync({kind: 'ufs', device: `/dev/${(ufs[0] as {provider: string}).provider}`})
      return errAsync(preflight(ufs.length > 1 ? `vm-bhyve guest ${facts.name} has ${ufs.length} UFS partitions: nest migrates a UFS guest whose system is on one` : `vm-bhyve guest ${facts.name}: no freebsd-zfs or freebsd-ufs partition on its disks (GELI-encrypted, or not a FreeBSD disk)`, 'keep the guest a VM for now'))
    }
    // A listing that finds nothing says so on stderr and exits 0 (zpool_main.c zpool_do_import: "no pools available to import", return (err ? 1 : 0)): any other exit is a failure of zpool's.
    return host.run(['zpool', 'import', ...devices.flatMap((d) => ['-d', d])]).andThen((r) => {
      const pools = parseZpoolImport(r.stdout)
      if (pools.isErr()) return errAsync(internal(`zpool import -d ${devices.join(' -d ')}: ${pools.error}`))
      const found = pools.value
      if (found.length === 0) return errAsync(preflight(`vm-bhyve guest ${facts.name}: no ZFS pool on ${devices.join(', ')} (${r.stderr.trim() || 'zpool import found none'})`, 'a GELI-encrypted pool needs its passphrase: keep the guest a VM for now'))
      if (found.length > 1) return errAsync(preflight(`vm-bhyve guest ${facts.name} has ${found.length} pools (${found.map((p) => `${p.name} ${p.id}`).join(', ')}): nest migrates a guest with one pool`, 'keep the guest a VM for now'))
      const pool = found[0] as ImportablePool
      // The feature check (zpool_main.c show_import, print_import_config's "unsupported feature(s)" aux state).
      if (pool.unsupported.length > 0 || /not supported on this system/.test(pool.status) || pool.config.some((l) => /unsupported feature\(s\)/.test(l))) {
        return errAsync(preflight(`vm-bhyve guest ${facts.name} is newer than this host: its pool ${pool.name} uses features this host's ZFS does not support (${pool.unsupported.join(', ') || pool.status})`, 'upgrade the host first (a jail runs the host\'s kernel), or keep the guest a VM'))
      }
      if (/missing from the system/i.test(pool.status)) return errAsync(preflight(`vm-bhyve guest ${facts.name}: pool ${pool.name} lacks devices (${pool.status})`, `check ${facts.name}.conf lists every disk of the pool`))
      if (pool.state !== 'ONLINE' && pool.state !== 'DEGRADED') return errAsync(preflight(`vm-bhyve guest ${facts.name}: its pool ${pool.name} is ${pool.state} (${pool.action || pool.status})`, 'keep the guest a VM, and look at it with zpool import -d in the VM'))
      return okAsync<Source, NestError>({kind: 'zfs', devices, pool})
    })
  })
}

/** The imported pool: its boot environment and its datasets, mountpoints as the guest has them (libzfs prefixes the altroot). */
function readPool(host: Host, n: MigrateNames): ResultAsync<{bootfs: string; datasets: GuestDataset[]}, NestError> {
  const cols = ['name', 'type', 'mountpoint', 'canmount', 'used']
  return ResultAsync.combine([
    host.run(['zpool', 'get', '-H', '-o', 'value', 'bootfs', n.pool]),
    host.run(['zfs', 'list', '-H', '-p', '-r', '-t', 'filesystem,volume', '-o', cols.join(','), n.pool]),
  ]).andThen(([b, l]) => {
    const rows = parseZfsColumns(l.stdout, cols)
    if (rows.isErr()) return errAsync(internal(`zfs list -r ${n.pool}: ${rows.error}`))
    const strip = (mp: string): string => (mp === n.altroot ? '/' : mp.startsWith(`${n.altroot}/`) ? mp.slice(n.altroot.length) : mp)
    const datasets = rows.value.map((r): GuestDataset => ({
      name: r['name'] ?? '', type: r['type'] === 'volume' ? 'volume' : 'filesystem', mountpoint: strip(r['mountpoint'] ?? '-'), canmount: r['canmount'] ?? '-', used: Number(r['used'] ?? 0),
    }))
    const bootfs = b.stdout.trim()
    if (bootfs === '' || bootfs === '-') return errAsync(preflight(`the guest pool has no bootfs: nest cannot tell which boot environment is the system`, 'set bootfs in the VM (zpool set bootfs=POOL/ROOT/default POOL), then run the migration again'))
    return okAsync({bootfs, datasets})
  })
}

/** The read-write mounts of the clone's datasets that nest reads and edits (under the altroot only). */
function editMounts(g: GuestLayout, datasets: readonly GuestDataset[]): Step[] {
  const wanted = [g.root, ...datasets.filter((d) => g.data !== null && (d.name === g.data.name || d.name.startsWith(`${g.data.name}/`)) && d.type === 'filesystem' && d.canmount !== 'off' && d.mountpoint !== 'none' && d.mountpoint !== 'legacy')]
  return wanted.map((d): Step => ({
    id: 'zfs mount guest', why: `${d.name} on the clone, below the altroot: nest reads and adapts its files there (never the VM's own disk)`,
    action: {kind: 'run', argv: ['zfs', 'mount', d.name]}, undo: [{kind: 'run', argv: ['zfs', 'unmount', d.name], allowFailure: true}], temporary: true,
  }))
}

interface Planned {
  names: MigrateNames
  located: Located
  adaptation: GuestAdaptation
  /** What ran before the plan was made: the attach, the import, the read mounts. */
  before: Step[]
  edits: Step[]
  move: Step[]
  adapt: Step[]
  rules: string[]
  /** The guest's Bastille jails that are nest's children now. */
  children: string[]
  /** What moved where (the guest's own names), and what did not. */
  moved: MigrateResult['moved']
  skipped: MigrateResult['skipped']
}

export function migrateVm(ctx: CommandCtx, o: MigrateOptions): ResultAsync<MigrateResult | PlanResult, NestError> {
  if (!VM_NAME.test(o.vm)) return errAsync(invalidInput(`${JSON.stringify(o.vm)} is not a vm-bhyve guest name`, 'vm-bhyve names are letters, digits, ".", "_" and "-" (see vm list)'))
  const jail = o.as ?? o.vm
  if (!isJailName(jail)) {
    return errAsync(invalidInput(`${JSON.stringify(jail)} cannot be a jail's name${o.as ? '' : ' (the guest\'s name: a "." would make it a child jail)'}`, 'give the jail a name with --as (letters, digits, "_" and "-")'))
  }
  return scene(ctx).andThen((s) => {
    if (s.jailed) return errAsync(preflight('nest migrate vm runs on the host: vm-bhyve guests live there', 'run it on the host'))
    // One migration at a time (pool names, GUIDs and vfs.zfs.vol.recursive are host-wide), and the jail's own lock: every decision under both.
    // The epair units of this level too (as create takes them): the unit is chosen and used under it.
    const work = (): ResultAsync<MigrateResult | PlanResult, NestError> => scene(ctx).andThen((fresh) => converge(ctx, fresh, jail, o.dryRun)).andThen((c) => run(ctx, c.s, o, jail, c.carried))
    const units = (): ResultAsync<MigrateResult | PlanResult, NestError> => (o.network === 'vnet' ? withJailLock(s.host, EPAIR_LOCK, work, ctx.note, 'the epair units of this host') : work())
    return withJailLock(s.host, MIGRATE_LOCK, () => withJailLock(s.host, jail, units, ctx.note), ctx.note, 'migrations on this host')
  })
}

const DRY_RUN = 'nest migrate: dry run'

/**
 * The network: the VM's first NIC as a VNET epair on its switch's bridge (vm-bhyve's standard
 * switch is the bridge vm-SWITCH, lib/vm-switch-standard), the b side renamed inside to the
 * guest's own interface name, with the VM's MAC; or (ip4) the guest's static addresses as
 * aliases on that bridge. One `ifconfig -l`.
 */
function netFor(s: Scene, o: MigrateOptions, located: Located, files: GuestFiles, warn: (line: string) => void): ResultAsync<NetChoice, NestError> {
  const vm = located.facts.name
  const conf = located.conf
  if (conf.networks.length === 0) return okAsync({jailNet: null, renames: []})
  if (files.rcConf === null) return errAsync(preflight(`vm-bhyve guest ${vm} has no /etc/rc.conf: nest cannot tell its addresses`, 'keep the guest a VM for now'))
  const nics = guestInterfaces(conf, files.rcConf)
  if (nics.isErr()) return errAsync(nics.error)
  const nic = nics.value.nics[0]
  if (!nic?.name) return errAsync(preflight(`vm-bhyve guest ${vm}: network0_type="${conf.networks[0]?.type ?? ''}" is a NIC whose guest interface nest cannot name`, 'keep the guest a VM for now'))
  if (conf.networks.length > 1) return errAsync(preflight(`vm-bhyve guest ${vm} has ${conf.networks.length} NICs: nest migrates a guest with one for now`, 'keep the guest a VM for now'))
  if (!nic.switch) return errAsync(preflight(`vm-bhyve guest ${vm}: network0 is on no switch`, `give it one (vm configure ${vm}), or use --network ip4`))
  const bridge = `vm-${nic.switch}`
  const g = guestNetwork(files.rcConf, nic.name)
  if (g.isErr()) return errAsync(g.error)
  return s.host.run(['ifconfig', '-l']).andThen((r) => {
    const ifs = r.stdout.trim().split(/\s+/)
    if (!ifs.includes(bridge)) return errAsync(preflight(`vm-bhyve guest ${vm}: its switch ${nic.switch} has no bridge ${bridge} on this host`, 'vm-bhyve makes it at boot (vm init, vm_enable="YES"); run vm init, then the migration again'))
    if (o.network === 'ip4') {
      if (g.value.ip4.length === 0 && g.value.ip6.length === 0) {
        // A jail on the host's stack runs no DHCP client (rc.d/netif is KEYWORD: nojailvnet): the host's addresses are its own.
        warn(`${vm}: ${nic.name} took its address from ${g.value.dhcp ? 'DHCP' : 'nowhere nest can read'}: the jail shares the host's addresses (ip4 = inherit); give it its own with ip4.addr = "${bridge}|A/len" in ${confFile(located.facts.name)}, or migrate with --network vnet`)
        return okAsync<NetChoice, NestError>({jailNet: null, renames: []})
      }
      const alias: JailNet = {kind: 'alias', ip4: g.value.ip4.map((a) => `${bridge}|${a}`), ip6: g.value.ip6.map((a) => `${bridge}|${a}`)}
      return okAsync<NetChoice, NestError>({jailNet: alias, renames: []})
    }
    const unit = freeEpairUnit(unitsTaken(s.w), ifs)
    if (unit === null) return errAsync(conflict('no free epair unit on this host', 'destroy epairs nothing uses (ifconfig -l)'))
    const ifname = nic.name as string
    const jailNet: VnetNet = {kind: 'vnet', unit, bridge, ifname, ip4: g.value.ip4, ip6: g.value.ip6, routers: [g.value.defaultrouter, g.value.ipv6Defaultrouter].filter((x): x is string => x !== null), mac: nic.mac?.toLowerCase() ?? null}
    return okAsync<NetChoice, NestError>({jailNet, renames: [{from: epairB(jailNet), to: ifname}]})
  })
}

/**
 * What a migration that did not finish left (a crash, kill -9), found by its deterministic
 * names and undone before this one starts: the guest pool imported as nestmig_J, the work
 * dataset with the clones, the snapshot of the guest's datasets, vfs.zfs.vol.recursive as it
 * was, a half-made jail (nest:state=creating). What it did to the VM (stopped it, took it out
 * of vm_list) is carried over: this run's rollback gives it back.
 */
function converge(ctx: CommandCtx, s: Scene, jail: string, dryRun: boolean): ResultAsync<{s: Scene; carried: VmFacts['carried']}, NestError> {
  const n = migrateNames(s.w.layout, jail)
  const half = s.nodes.find((x) => x.jail === jail && x.row['nest:state'] === 'creating')
  const props = ['nest:vm', 'nest:vm-dataset', 'nest:vm-running', 'nest:vm-list', 'nest:vol-recursive', 'nest:migrated-from']
  return ResultAsync.combine([
    s.host.run(['zpool', 'list', '-H', '-o', 'name', n.pool], {allowFailure: true}),
    s.host.run(['zfs', 'get', '-H', '-o', 'property,value', props.join(','), n.work], {allowFailure: true}),
    half ? s.host.run(['zfs', 'get', '-H', '-o', 'property,value', props.join(','), half.row.name], {allowFailure: true}) : okAsync(null),
    s.host.run(['mdconfig', '-l', '-v'], {allowFailure: true}),
    s.host.files.kind(n.src),
  ]).andThen(([pool, work, jailProps, mdList, srcKind]) => {
    // The UFS root a crashed run mounted there (umount says so when nothing is: tolerated).
    const mounted = srcKind === 'dir'
    const read = (r: {exitCode: number; stdout: string} | null): Map<string, string> =>
      new Map(r && r.exitCode === 0 ? r.stdout.split('\n').filter((l) => l.includes('\t')).map((l) => l.split('\t') as [string, string]).filter(([, v]) => v !== '-') : [])
    const w = read(work)
    const j = read(jailProps)
    const migrating = half !== undefined && j.has('nest:migrated-from')
    if (pool.exitCode !== 0 && work.exitCode !== 0 && !migrating && srcKind === 'none') return okAsync({s, carried: undefined})
    if (dryRun) return errAsync(conflict(`${jail}: a migration that did not finish left its temporaries`, 'run the migration without --dry-run: it undoes them first'))
    ctx.note(`${jail}: a migration that did not finish left its temporaries: undoing them first`)
    const carried = carriedOf(w.size > 0 ? w : j)
    const vmDs = w.get('nest:vm-dataset')
    // md units of the clone's image files (mdconfig -l -v: unit, type, size, file), the UFS root mounted from one.
    const mds = mdList.exitCode === 0 ? mdList.stdout.split('\n').map((l) => l.split('\t')).filter((f) => (f[3] ?? '').trim().startsWith(`${n.guestCloneMount}/`)).map((f) => (f[0] ?? '').replace(/^md/, '')) : []
    // The snapshot of the VM's datasets only if it is still there: a rollback that failed later on may have destroyed it already.
    const snap = vmDs ? s.host.run(['zfs', 'list', '-H', '-o', 'name', '-t', 'snapshot', `${vmDs}@${MIGRATE_SNAP}`], {allowFailure: true}).map((r) => r.exitCode === 0) : okAsync<boolean, NestError>(false)
    return snap.andThen((hasSnap) => {
      const undo: string[][] = [
        ...(mounted ? [['umount', n.src]] : []),
        ...mds.map((u) => ['mdconfig', '-d', '-u', u]),
        ...(pool.exitCode === 0 ? [['zpool', 'export', n.pool]] : []),
        ...(w.has('nest:vol-recursive') ? [['sysctl', `vfs.zfs.vol.recursive=${w.get('nest:vol-recursive') ?? '0'}`]] : []),
        ...(work.exitCode === 0 ? [['zfs', 'destroy', '-r', n.work]] : []),
        ...(hasSnap ? [['zfs', 'destroy', '-r', `${vmDs}@${MIGRATE_SNAP}`]] : []),
      ]
      const steps = undo.map((argv): Step => ({id: 'undo leftover', why: 'left by a migration that did not finish', action: {kind: 'run', argv, ...(argv[0] === 'umount' ? {allowFailure: true} : {})}, undo: []}))
      return new Transaction(engine(ctx, s.host), jail).run(steps)
    })
      .andThen(() => (migrating ? destroyJail(ctx, jail, {force: true, recursive: true, dryRun: false, parallel: DEFAULT_PARALLEL}).map(() => undefined) : okAsync(undefined)))
      .andThen(() => scene(ctx)).map((fresh) => ({s: fresh, carried}))
  })
}

function run(ctx: CommandCtx, s: Scene, o: MigrateOptions, jail: string, carried: VmFacts['carried']): ResultAsync<MigrateResult | PlanResult, NestError> {
  const names = migrateNames(s.w.layout, jail)
  if (s.nodes.some((n) => n.jail === jail)) return errAsync(conflict(`${jail}: a jail of that name exists`, `give the migrated jail another name with --as, or nest destroy ${jail} first`))
  return ResultAsync.combine([
    readSysctls(s.host, ['kern.osrelease', 'kern.racct.enable', 'vfs.zfs.vol.recursive', 'kern.features.vimage']),
    loadPolicy(s.host, o.policy),
    s.host.run(['zfs', 'list', '-H', '-o', 'name', names.workTop], {allowFailure: true}),
    s.host.files.read('/etc/rctl.conf'),
  ]).andThen(([sys, policy, top, rctlConf]) => {
    const problems = policyProblems(policy)
    if (problems.length > 0) return errAsync(preflight(`policy ${policy.name}: ${problems[0]}`, `fix ${policy.file}`))
    if (!policy.delegate) return errAsync(preflight(`policy ${policy.name} delegates no dataset: a migrated guest keeps its data in one`, 'use --policy vm-parent, or a policy with nest.delegate'))
    if (o.network === 'vnet' && sys.get('kern.features.vimage') !== '1') return errAsync(preflight('this host\'s kernel has no VIMAGE: a jail cannot have a network stack of its own', 'use --network ip4'))
    const volRecursive = sys.get('vfs.zfs.vol.recursive') ?? '0'
    return locate(s.host, o, volRecursive, top.exitCode === 0, carried).andThen((located) => {
      const tx = new Transaction(engine(ctx, s.host), jail)
      // A dry run reads the disk through the same temporaries, and undoes them: it neither stops the VM nor edits vm_list.
      const attach = planAttach(names, located.facts)
      const probe = o.dryRun ? planAttach(names, {...located.facts, running: false, vmList: null}) : attach
      const facts = located.facts
      return tx.run(probe)
        .andThen(() => (facts.files.length === 0 ? okAsync<number[], NestError>([]) : freeMdUnits(s.host, facts.files.length)))
        .andThen((units) => {
          const md = facts.files.map((f, i) => mdStep(names, f.name, units[i] as number))
          return tx.run(md).andThen(() => findSource(s.host, names, facts, units)).map((src) => ({src, md}))
        })
        .andThen(({src, md}) => {
          const x = {names, located, policy, sys, rctlConf, tx}
          if (src.kind === 'ufs') return planUfs(ctx, s, o, {...x, before: [...attach, ...md]}, src.device)
          const imp = importStep(names, src.devices, src.pool.id, src.pool.name)
          return tx.run([imp]).andThen(() => readPool(s.host, names)).andThen((p) => plan(ctx, s, o, {...x, pool: p, guestPool: src.pool.name, before: [...attach, ...md, imp]}))
        })
        .andThen((planned) => (o.dryRun
          ? tx.abort(internal(DRY_RUN)).orElse((e) => (e.kind === 'internal' && e.message === DRY_RUN ? okAsync(dryRunResult(jail, planned)) : errAsync(e)))
          : finish(planned, tx)))
        .orElse((e) => (e.kind === 'internal' && e.message === DRY_RUN ? errAsync(e) : tx.abort(undone(e))))
    })
  })
}

/**
 * The jails inside not all started by the nest in the new jail (its `nest start`: partial, some
 * did not start) fail the migration, which is then undone: nothing is left started, so it is the
 * step's failure (exit 10), not a partial success (7), and its fix (start them again) is gone.
 */
const undone = (e: NestError): NestError =>
  (e.kind === 'partial' && e.step?.startsWith('jexec ') ? {kind: 'host', message: e.message, tool: 'jexec', argv: e.step.split(' '), exitCode: 1, signal: null, stderr: '', durationMs: 0, step: e.step} : e)

/** The plan in the order the run does it: the temporaries' undo after the move (detach, §2.7). */
const dryRunResult = (jail: string, p: Planned): PlanResult => planResult(jail, [...p.before, ...p.edits, ...p.move, ...detachOf(p.before), ...p.adapt])

/** The temporaries' undo, as steps of their own (what --dry-run shows after the move: detach, §2.7). */
function detachOf(before: readonly Step[]): Step[] {
  return before.filter((x) => x.temporary).reverse().flatMap((x) => x.undo.map((a): Step => ({id: `${x.id}: undo`, why: 'a temporary of the migration, not needed any more', action: a, undo: []})))
}

interface PlanInput {
  names: MigrateNames
  located: Located
  policy: Policy
  sys: Map<string, string>
  rctlConf: string | null
  before: Step[]
  tx: Transaction
  /** The guest pool's own name (zroot), for the report. */
  guestPool?: string
}

/** The guest's userland: a FreeBSD one, not newer than the host's kernel (a note when older). */
function checkUserland(ctx: CommandCtx, x: PlanInput, files: GuestFiles, where: string): ResultAsync<Release, NestError> {
  const vm = x.located.facts.name
  if (files.userland === null) return errAsync(preflight(`vm-bhyve guest ${vm} has no FreeBSD userland (no /bin/freebsd-version in ${where})`, 'only a FreeBSD guest can become a jail: keep it a VM'))
  if (files.userland.isErr()) return errAsync(preflight(`vm-bhyve guest ${vm}: ${files.userland.error.message}`, 'only a FreeBSD guest can become a jail: keep it a VM'))
  const userland = files.userland.value
  const hostRelease = parseOsRelease(x.sys.get('kern.osrelease') ?? '')
  if (hostRelease === null) return errAsync(internal(`kern.osrelease ${JSON.stringify(x.sys.get('kern.osrelease') ?? '')} is not a FreeBSD release`))
  const rel = releaseNote(userland, hostRelease)
  if (rel?.level === 'warning') return errAsync(preflight(`vm-bhyve guest ${vm}: ${rel.text}`, 'keep the guest a VM until the host runs a release as new as the guest\'s'))
  if (rel) ctx.note(`${x.names.jail}: ${rel.text}`)
  return okAsync(userland)
}

const releaseOf = (r: Release): string => `${r.major}.${r.minor}-${r.branch}${r.stage > 0 ? r.stage : ''}`

/** What makes and starts the jail once its files are in place: its jail.conf, limits, nest inside, the start, its children, ready. */
function jailSteps(ctx: CommandCtx, s: Scene, o: MigrateOptions, x: PlanInput, a: GuestAdaptation, net: NetChoice, release: string, children: readonly string[]): ResultAsync<{steps: Step[]; rules: string[]}, NestError> {
  const l = s.w.layout
  const jail = x.names.jail
  const spec: JailSpec = {
    jail, release, policy: a.policy, net: net.jailNet, thick: true, nestBin: s.host.info.nestBin, hostSide: true, nestInstall: isParentPolicy(a.policy) ? s.host.info.nestInstall : null,
    migrated: {hostname: a.hostname, hostuuid: a.hostuuid, params: a.params},
  }
  const conf = renderJailConf(l, spec)
  if (conf.isErr()) return errAsync(conf.error)
  const racct = x.sys.get('kern.racct.enable') === '1'
  const rules = o.limits === 'rctl' ? a.limits : []
  if (rules.length > 0 && !racct) {
    ctx.warn(`${jail}: no limits: RACCT/RCTL is disabled on this host (kern.racct.enable=0); to enable it add kern.racct.enable=1 to /boot/loader.conf and reboot, then: ${rules.map((r) => `rctl -a ${r}`).join('; ')}`)
  }
  const epair = net.jailNet?.kind === 'vnet' ? epairA(net.jailNet) : undefined
  const steps: Step[] = [
    {id: 'write jail.conf', why: `${jail}'s jail(8) configuration (service jail uses it too)`, action: {kind: 'write', path: confFile(jail), content: conf.value}, undo: [{kind: 'remove', path: confFile(jail)}]},
    ...(racct ? rctlSteps(rules, x.rctlConf) : []),
    ...planNest(l, spec),
    ...planStart(l, jail, {jid: true, node: spec.nestInstall !== null, ...(epair ? {epair} : {})}),
    ...(children.length > 0 ? [{
      id: 'nest start', why: `${jail}'s own jails (${children.join(', ')}), started by the nest inside it, as nest start ${jail} starts them`,
      action: {kind: 'nest', in: jail, argv: ['start', ...children, '--no-children'], as: jail}, undo: [],
    } satisfies Step] : []),
    readyStep(l, spec),
  ]
  return okAsync({steps, rules: racct ? rules : []})
}

/**
 * A UFS guest (§2.5, §3.3): its root mounted read-only below /var/run/nest/migrate, its files
 * copied with tar into the jail's new root, adapted there (never on the source), the
 * temporaries undone, the jail made and started.
 */
function planUfs(ctx: CommandCtx, s: Scene, o: MigrateOptions, x: PlanInput, device: string): ResultAsync<Planned, NestError> {
  const l = s.w.layout
  const {names, located, tx} = x
  const jail = names.jail
  const mounts = ufsMountSteps(names, device)
  return tx.run(mounts).andThen(() => readGuestFiles(s.host, names.src, null)).andThen((first) => readGuestFiles(s.host, names.src, first.dataMountpoint))
    .andThen((files) => checkUserland(ctx, x, files, device).andThen((userland) => netFor(s, o, located, files, ctx.warn).andThen((net) => {
      const root = jailRoot(l, jail)
      const adapted = adaptGuest(files, {altroot: root, jail, vm: located.conf, network: net, policy: x.policy, bastille: null})
      if (adapted.isErr()) return errAsync(adapted.error)
      const a = adapted.value
      if (files.bastilleJails.length > 0) ctx.warn(`${jail}: the guest's Bastille jails (${files.bastilleJails.map((j) => j.name).join(', ')}) are on UFS: their files move with the root, but nest does not start them (bastille start inside ${jail})`)
      const release = releaseOf(userland)
      const move = planMoveUfs(l, names, {policy: a.policy.name, release, net: net.jailNet ? printNet(net.jailNet) : null, vm: located.facts.name, undo: vmUndoProps(located.facts)}, s.w.datasets.some((d) => d.name === `${l.top}/jails`))
      return jailSteps(ctx, s, o, x, a, net, release, []).map((j): Planned => ({
        names, located, adaptation: a, rules: j.rules, children: [],
        moved: [{from: `${device} (UFS, the guest's root)`, to: rootDataset(l, jail), used: null}], skipped: [],
        before: [...x.before, ...mounts], edits: [], move, adapt: [...a.steps, ...j.steps],
      }))
    })))
}

/** Everything after the import, planned from what the pool holds: the read mounts run now, the rest is returned. */
function plan(ctx: CommandCtx, s: Scene, o: MigrateOptions, x: PlanInput & {pool: {bootfs: string; datasets: GuestDataset[]}}): ResultAsync<Planned, NestError> {
  const {names, located, pool, tx} = x
  const l = s.w.layout
  const jail = names.jail
  const vm = located.facts.name
  const be = pool.datasets.find((d) => d.name === pool.bootfs)
  if (!be) return errAsync(preflight(`vm-bhyve guest ${vm}: its pool's bootfs ${pool.bootfs} is not one of its datasets`, 'check the VM\'s bootfs (zpool get bootfs)'))
  // The BE first (bastille.conf says where Bastille's tree is), then that tree.
  const beMount = editMounts({root: be, os: [], data: null, skipped: []}, pool.datasets)
  return tx.run(beMount).andThen(() => readGuestFiles(s.host, names.altroot, null)).andThen((first) => checkUserland(ctx, x, first, pool.bootfs).andThen((userland) => {
    const sorted = sortGuest(names.pool, pool.datasets, pool.bootfs, first.dataMountpoint)
    if (typeof sorted === 'string') return errAsync(preflight(`vm-bhyve guest ${vm}: ${sorted}`, 'keep the guest a VM for now'))
    const g = sorted
    const dataMounts = editMounts(g, pool.datasets).slice(1)
    return tx.run(dataMounts).andThen(() => readGuestFiles(s.host, names.altroot, first.dataMountpoint)).andThen((files) => netFor(s, o, located, files, ctx.warn).andThen((net) => {
      const adapted = adaptGuest(files, {
        altroot: names.altroot, jail, vm: located.conf, network: net, policy: x.policy,
        bastille: g.data ? {pool: l.top.split('/')[0] ?? l.top, prefix: `${dataDataset(l, jail).split('/').slice(1).join('/')}/${g.data.name.split('/').at(-1) ?? 'bastille'}`} : null,
      })
      if (adapted.isErr()) return errAsync(adapted.error)
      const a = adapted.value
      const release = releaseOf(userland)
      const hasJails = s.w.datasets.some((d) => d.name === `${l.top}/jails`)
      const move = planMove(l, names, g, pool.datasets, {policy: a.policy.name, release, net: net.jailNet ? printNet(net.jailNet) : null, vm, undo: vmUndoProps(located.facts)}, hasJails)
      // Each Bastille jail whose directory is a dataset of the moved tree becomes nest's child (adopted).
      const adopted = files.bastilleJails.flatMap((j) => {
        const ds = pool.datasets.find((d) => d.type === 'filesystem' && d.mountpoint === j.dir)
        if (!ds || !g.data || !(ds.name === g.data.name || ds.name.startsWith(`${g.data.name}/`))) {
          ctx.warn(`${jail}: Bastille jail ${j.name} (${j.dir}) is not a dataset of the moved Bastille tree: it moves with its files, but nest does not start it (bastille start ${j.name} inside ${jail})`)
          return []
        }
        return [{name: j.name, step: adoptStep(ds.name, j)}]
      })
      const children = adopted.map((c) => c.name)
      const guestPool = x.guestPool
      return jailSteps(ctx, s, o, x, a, net, release, children).map((j): Planned => ({
        names, located, adaptation: a, rules: j.rules, children,
        moved: landing(l, jail, g, pool.datasets).map(({from, to}) => ({from: `${guestPool}${from.name.slice(names.pool.length)}`, to, used: from.used})), skipped: g.skipped.map((k) => ({...k, name: `${guestPool}${k.name.slice(names.pool.length)}`})),
        before: [...x.before, ...beMount, ...dataMounts], edits: [...a.steps, ...adopted.map((c) => c.step)], move, adapt: [...mountSteps(l, jail, g, pool.datasets), ...j.steps],
      }))
    }))
  }))
}

/** The run after the plan: edits on the clone, the move, the temporaries undone, the jail made and started. */
function finish(p: Planned, tx: Transaction): ResultAsync<MigrateResult, NestError> {
  const jail = p.names.jail
  const vm = p.located.facts
  const list = vm.vmList ?? vm.carried?.vmList ?? null
  return tx.run(p.edits)
    .andThen(() => tx.run(p.move))
    .andThen(() => tx.release((x) => x.temporary === true))
    .andThen(() => tx.run(p.adapt))
    .map((): MigrateResult => ({
      dryRun: false, jail, vm: vm.name, children: p.children.map((c) => `${jail}/${c}`), moved: p.moved, skipped: p.skipped, edits: p.adaptation.edits,
      notes: p.adaptation.notes.map((n) => `${n.file}: ${n.text}`), limits: p.rules, conf: confFile(jail),
      back: [`nest destroy ${jail} --recursive --force`, ...(list ? [`sysrc -f ${list.file} vm_list+=${vm.name}`] : []), `vm start ${vm.name}`],
    }))
}
