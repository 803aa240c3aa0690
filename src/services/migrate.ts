// nest migrate vm NAME: a vm-bhyve FreeBSD guest becomes a parent jail (issue 13,
// migration.md). Locate and check the guest without changing anything; read its disk through
// temporaries (snapshot, volmode=geom clones, the pool imported under a temporary name below an
// altroot); adapt its userland on that copy; move its datasets with zfs send | zfs recv; give it
// a jail.conf, limits and its network; start it. All of it is one Transaction: a failure
// anywhere undoes every completed step, last first, and the VM is as it was.
import {errAsync, okAsync, ResultAsync} from 'neverthrow'

import type {CommandCtx} from '../context/command.js'
import {conflict, internal, invalidInput, type NestError, notFound, preflight} from '../domain/errors.js'
import {guestInterfaces, guestNetwork, parseOsRelease, releaseNote} from '../domain/guest.js'
import {isJailName} from '../domain/names.js'
import {epairA, epairB, freeEpairUnit, type JailNet, printNet, type VnetNet} from '../domain/net.js'
import {checkVmConf, parseVmConf, type VmConf, type VmDir, VM_RC_FILES, vmDirOf} from '../domain/vmbhyve.js'
import {Transaction} from '../engine/execute.js'
import {withJailLock} from '../engine/lock.js'
import type {Host} from '../host/host.js'
import {type ImportablePool, parseGpartShow, parseZfsColumns, parseZpoolImport} from '../host/parse.js'
import {readSysctls} from '../host/tools/sysctl.js'
import {loadPolicy} from '../policies/load.js'
import {type Policy, policyProblems} from '../policies/policy.js'
import {confFile, dataDataset, isParentPolicy, type JailSpec, planNest, planStart, readyStep, renderJailConf} from '../plan/jail.js'
import {carriedOf, cloneOf, MIGRATE_SNAP, type GuestDataset, type GuestLayout, importStep, landing, type MigrateNames, migrateNames, mountSteps, planAttach, planMove, rctlSteps, sortGuest, type VmFacts, vmUndoProps, zfsDevices} from '../plan/migrate.js'
import {describeAction, type Step} from '../plan/steps.js'
import type {PlanResult} from '../render/jails.js'
import type {MigrateResult} from '../render/migrate.js'
import {adaptGuest, type GuestAdaptation, type GuestFiles, type NetChoice, readGuestFiles} from './migrate-guest.js'
import {EPAIR_LOCK, unitsTaken} from './create.js'
import {destroyJail} from './jails.js'
import {DEFAULT_PARALLEL, engine, type Scene, scene} from './scene.js'

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
  dir: VmDir & {kind: 'zfs'}
  /** Where the datastore is mounted. */
  mountpoint: string
  conf: VmConf
  facts: VmFacts
}


/** vm_dir from the rc files vm-bhyve reads (the host's own files: nest's trust), the guest's NAME.conf, its state. */
function locate(host: Host, o: MigrateOptions, volRecursive: string, workTop: boolean, carried: VmFacts['carried']): ResultAsync<Located, NestError> {
  const name = o.vm
  return ResultAsync.combine(VM_RC_FILES.map((f) => host.files.read(f).map((text) => (text === null ? null : {path: f, text}))))
    .andThen((files) => {
      const rc = files.filter((f): f is {path: string; text: string} => f !== null)
      const dir = vmDirOf(rc)
      if (dir.isErr()) return errAsync(dir.error)
      if (dir.value.kind !== 'zfs') {
        return errAsync(preflight(`vm_dir ${dir.value.path} is a directory: nest migrates guests of a ZFS datastore (vm_dir="zfs:pool/dataset"), whose disks it can snapshot and clone without touching them`, 'keep the guest a VM for now, or move it to a ZFS datastore (vm-bhyve datastore add)'))
      }
      const zdir = dir.value as VmDir & {kind: 'zfs'}
      const listed = rc.filter((f) => /^[ \t]*vm_list=/m.test(f.text)).at(-1)
      return host.run(['zfs', 'get', '-H', '-o', 'value', 'mountpoint', zdir.dataset], {allowFailure: true}).andThen((r) => {
        const mp = r.stdout.trim()
        if (r.exitCode !== 0 || !mp.startsWith('/')) return errAsync(preflight(`vm-bhyve: unable to locate mountpoint for ZFS dataset ${zdir.dataset} (vm_dir in ${zdir.from})`, `check vm_dir, and that ${zdir.dataset} is mounted`))
        const gdir = `${mp}/${name}`
        return ResultAsync.combine([host.files.read(`${gdir}/${name}.conf`), host.files.kind(`/dev/vmm/${name}`), host.files.kind(`${gdir}/${name}.save`)]).andThen(([text, vmm, save]) => {
          if (text === null) return errAsync(notFound(`vm-bhyve guest ${name}: no ${gdir}/${name}.conf`, 'see vm list (nest migrates guests of the default datastore)'))
          const conf = parseVmConf(text, `${gdir}/${name}.conf`).andThen((c) => checkVmConf(name, c))
          if (conf.isErr()) return errAsync(conf.error)
          if (save !== 'none') return errAsync(conflict(`vm-bhyve guest ${name} is suspended (${name}.save): its disks are mid-flight against its saved memory`, `resume it and shut it down (vm start ${name}, then vm stop ${name}), or discard the saved state yourself`))
          const running = vmm !== 'none'
          if (running && !o.stopVm) return errAsync(conflict(`vm-bhyve guest ${name} is running (/dev/vmm/${name}): its disks change while it runs`, `add --stop-vm (nest stops it with vm stop and waits), or stop it first: vm stop ${name}`))
          const disks = conf.value.disks.map((d) => ({d, dev: d.dev ?? 'file'}))
          const bad = disks.find(({dev}) => dev !== 'zvol' && dev !== 'sparse-zvol')
          if (bad) return errAsync(preflight(`vm-bhyve guest ${name}: disk${bad.d.index} is a ${bad.dev} disk (${bad.d.name}): nest reads zvol disks of a ZFS datastore`, 'keep the guest a VM for now'))
          if (disks.length === 0) return errAsync(preflight(`vm-bhyve guest ${name} has no disk in ${name}.conf`, `check ${gdir}/${name}.conf`))
          const value = listed ? /^[ \t]*vm_list=["']?([^"'\n]*)["']?/m.exec(listed.text)?.[1] ?? '' : ''
          const inList = value.split(/\s+/).includes(name)
          const facts: VmFacts = {
            name, dataset: `${zdir.dataset}/${name}`, running, volRecursive, hasWorkTop: workTop, ...(carried ? {carried} : {}),
            disks: disks.map(({d}) => ({index: d.index, dataset: `${zdir.dataset}/${name}/${d.name}`})),
            vmList: inList && listed ? {file: listed.path, value} : null,
          }
          return okAsync({dir: zdir, mountpoint: mp, conf: conf.value, facts})
        })
      })
    })
}

/** The clones' partitions (gpart show -p), and the pools on their freebsd-zfs ones (zpool import -d: a listing, nothing imported). */
function findPool(host: Host, n: MigrateNames, facts: VmFacts): ResultAsync<{devices: string[]; pool: ImportablePool}, NestError> {
  return ResultAsync.combine(facts.disks.map((d) => host.run(['gpart', 'show', '-p', `zvol/${cloneOf(n, d)}`]).andThen((r) => {
    const g = parseGpartShow(r.stdout)
    return g.isOk() ? okAsync(g.value.parts) : errAsync(internal(`gpart show -p zvol/${cloneOf(n, d)}: ${g.error}`))
  }))).andThen((parts) => {
    const devices = zfsDevices(parts.flat())
    if (devices.length === 0) {
      const ufs = parts.flat().some((p) => p.type === 'freebsd-ufs')
      return errAsync(preflight(ufs ? `vm-bhyve guest ${facts.name} has a UFS root: nest migrates ZFS guests for now` : `vm-bhyve guest ${facts.name}: no freebsd-zfs partition on its disks (GELI-encrypted, or not a FreeBSD disk)`, 'keep the guest a VM for now'))
    }
    // A listing that finds nothing says so on stderr and exits 0 (zpool_main.c zpool_do_import: "no pools available to import", return (err ? 1 : 0)): any other exit is a failure of zpool's.
    return host.run(['zpool', 'import', ...devices.flatMap((d) => ['-d', d])]).andThen((r) => {
      const pools = parseZpoolImport(r.stdout)
      if (pools.isErr()) return errAsync(internal(`zpool import -d ${devices.join(' -d ')}: ${pools.error}`))
      const found = pools.value
      if (found.length === 0) return errAsync(preflight(`vm-bhyve guest ${facts.name}: no ZFS pool on ${devices.join(', ')} (${r.stderr.trim() || 'zpool import found none'})`, 'a GELI-encrypted pool needs its passphrase: keep the guest a VM for now'))
      if (found.length > 1) return errAsync(preflight(`vm-bhyve guest ${facts.name} has ${found.length} pools (${found.map((p) => `${p.name} ${p.id}`).join(', ')}): nest migrates a guest with one pool`, 'keep the guest a VM for now'))
      const pool = found[0] as ImportablePool
      if (pool.unsupported.length > 0 || /not supported on this system/.test(pool.status)) {
        return errAsync(preflight(`vm-bhyve guest ${facts.name} is newer than this host: its pool ${pool.name} uses features this host's ZFS does not support (${pool.unsupported.join(', ') || pool.status})`, 'upgrade the host first (a jail runs the host\'s kernel), or keep the guest a VM'))
      }
      if (/missing from the system/i.test(pool.status)) return errAsync(preflight(`vm-bhyve guest ${facts.name}: pool ${pool.name} lacks devices (${pool.status})`, `check ${facts.name}.conf lists every disk of the pool`))
      return okAsync({devices, pool})
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
  spec: JailSpec
  conf: string
  g: GuestLayout
  datasets: GuestDataset[]
  adaptation: GuestAdaptation
  /** What ran before the plan was made: the attach, the import, the read mounts. */
  before: Step[]
  edits: Step[]
  move: Step[]
  adapt: Step[]
  rules: string[]
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
function netFor(s: Scene, o: MigrateOptions, located: Located, files: GuestFiles): ResultAsync<NetChoice, NestError> {
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
      if (g.value.dhcp && g.value.ip4.length === 0) return errAsync(preflight(`vm-bhyve guest ${vm}: ${nic.name} takes its address from DHCP, and a jail on the host's stack has no DHCP client`, 'give the guest a static address first, or use --network vnet'))
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
  ]).andThen(([pool, work, jailProps]) => {
    const read = (r: {exitCode: number; stdout: string} | null): Map<string, string> =>
      new Map(r && r.exitCode === 0 ? r.stdout.split('\n').filter((l) => l.includes('\t')).map((l) => l.split('\t') as [string, string]).filter(([, v]) => v !== '-') : [])
    const w = read(work)
    const j = read(jailProps)
    const migrating = half !== undefined && j.has('nest:migrated-from')
    if (pool.exitCode !== 0 && work.exitCode !== 0 && !migrating) return okAsync({s, carried: undefined})
    if (dryRun) return errAsync(conflict(`${jail}: a migration that did not finish left its temporaries`, 'run the migration without --dry-run: it undoes them first'))
    ctx.note(`${jail}: a migration that did not finish left its temporaries: undoing them first`)
    const carried = carriedOf(w.size > 0 ? w : j)
    const vmDs = w.get('nest:vm-dataset')
    // The snapshot of the VM's datasets only if it is still there: a rollback that failed later on may have destroyed it already.
    const snap = vmDs ? s.host.run(['zfs', 'list', '-H', '-o', 'name', '-t', 'snapshot', `${vmDs}@${MIGRATE_SNAP}`], {allowFailure: true}).map((r) => r.exitCode === 0) : okAsync<boolean, NestError>(false)
    return snap.andThen((hasSnap) => {
      const undo: string[][] = [
        ...(pool.exitCode === 0 ? [['zpool', 'export', n.pool]] : []),
        ...(w.has('nest:vol-recursive') ? [['sysctl', `vfs.zfs.vol.recursive=${w.get('nest:vol-recursive') ?? '0'}`]] : []),
        ...(work.exitCode === 0 ? [['zfs', 'destroy', '-r', n.work]] : []),
        ...(hasSnap ? [['zfs', 'destroy', '-r', `${vmDs}@${MIGRATE_SNAP}`]] : []),
      ]
      const steps = undo.map((argv): Step => ({id: 'undo leftover', why: 'left by a migration that did not finish', action: {kind: 'run', argv}, undo: []}))
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
      return tx.run(probe)
        .andThen(() => findPool(s.host, names, located.facts))
        .andThen(({devices, pool}) => {
          const imp = importStep(names, devices, pool.id, pool.name)
          return tx.run([imp]).andThen(() => readPool(s.host, names))
            .andThen((p) => plan(ctx, s, o, {names, located, policy, sys, pool: p, rctlConf, before: [...attach, imp], tx}))
        })
        .andThen((planned) => (o.dryRun
          ? tx.abort(internal(DRY_RUN)).orElse((e) => (e.kind === 'internal' && e.message === DRY_RUN ? okAsync(dryRunResult(jail, planned)) : errAsync(e)))
          : finish(ctx, s, planned, tx)))
        .orElse((e) => (e.kind === 'internal' && e.message === DRY_RUN ? errAsync(e) : tx.abort(e)))
    })
  })
}

function dryRunResult(jail: string, p: Planned): PlanResult {
  const steps = [...p.before, ...p.edits, ...p.move, ...detachOf([...p.before]), ...p.adapt]
  return {
    dryRun: true,
    name: jail,
    steps: steps.map((x) => ({id: x.id, why: x.why, action: describeAction(x.action), undo: x.undo.map(describeAction), ...(x.action.kind === 'write' ? {content: x.action.content} : {})})),
  }
}

/** The temporaries' undo, as steps of their own (what --dry-run shows after the move: detach, §2.7). */
function detachOf(before: readonly Step[]): Step[] {
  return before.filter((x) => x.temporary).reverse().flatMap((x) => x.undo.map((a): Step => ({id: `${x.id}: undo`, why: 'a temporary of the migration, not needed any more', action: a, undo: []})))
}

interface PlanInput {
  names: MigrateNames
  located: Located
  policy: Policy
  sys: Map<string, string>
  pool: {bootfs: string; datasets: GuestDataset[]}
  rctlConf: string | null
  before: Step[]
  tx: Transaction
}

/** Everything after the import, planned from what the pool holds: the read mounts run now, the rest is returned. */
function plan(ctx: CommandCtx, s: Scene, o: MigrateOptions, x: PlanInput): ResultAsync<Planned, NestError> {
  const {names, located, pool, tx} = x
  const l = s.w.layout
  const jail = names.jail
  const vm = located.facts.name
  const be = pool.datasets.find((d) => d.name === pool.bootfs)
  if (!be) return errAsync(preflight(`vm-bhyve guest ${vm}: its pool's bootfs ${pool.bootfs} is not one of its datasets`, 'check the VM\'s bootfs (zpool get bootfs)'))
  // The BE first (bastille.conf says where Bastille's tree is), then that tree.
  const beMount = editMounts({root: be, os: [], data: null, skipped: []}, pool.datasets)
  return tx.run(beMount).andThen(() => readGuestFiles(s.host, names.altroot, null)).andThen((first) => {
    if (first.userland === null) return errAsync(preflight(`vm-bhyve guest ${vm} has no FreeBSD userland (no /bin/freebsd-version in ${pool.bootfs})`, 'only a FreeBSD guest can become a jail: keep it a VM'))
    if (first.userland.isErr()) return errAsync(preflight(`vm-bhyve guest ${vm}: ${first.userland.error.message}`, 'only a FreeBSD guest can become a jail: keep it a VM'))
    const userland = first.userland.value
    const hostRelease = parseOsRelease(x.sys.get('kern.osrelease') ?? '')
    if (hostRelease === null) return errAsync(internal(`kern.osrelease ${JSON.stringify(x.sys.get('kern.osrelease') ?? '')} is not a FreeBSD release`))
    const rel = releaseNote(userland, hostRelease)
    if (rel?.level === 'warning') return errAsync(preflight(`vm-bhyve guest ${vm}: ${rel.text}`, 'keep the guest a VM until the host runs a release as new as the guest\'s'))
    if (rel) ctx.note(`${jail}: ${rel.text}`)
    const sorted = sortGuest(names.pool, pool.datasets, pool.bootfs, first.dataMountpoint)
    if (typeof sorted === 'string') return errAsync(preflight(`vm-bhyve guest ${vm}: ${sorted}`, 'keep the guest a VM for now'))
    const g = sorted
    const dataMounts = editMounts(g, pool.datasets).slice(1)
    return tx.run(dataMounts).andThen(() => readGuestFiles(s.host, names.altroot, first.dataMountpoint)).andThen((files) => netFor(s, o, located, files).andThen((net) => {
      const adapted = adaptGuest(files, {
        altroot: names.altroot, jail, vm: located.conf, network: net, policy: x.policy,
        bastille: g.data ? {pool: l.top.split('/')[0] ?? l.top, prefix: `${dataDataset(l, jail).split('/').slice(1).join('/')}/${g.data.name.split('/').at(-1) ?? 'bastille'}`} : null,
      })
      if (adapted.isErr()) return errAsync(adapted.error)
      const a = adapted.value
      const release = `${userland.major}.${userland.minor}-${userland.branch}${userland.stage > 0 ? userland.stage : ''}`
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
      const hasJails = s.w.datasets.some((d) => d.name === `${l.top}/jails`)
      const move = planMove(l, names, g, pool.datasets, {policy: a.policy.name, release, net: net.jailNet ? printNet(net.jailNet) : null, vm, undo: vmUndoProps(located.facts)}, hasJails)
      const epair = net.jailNet?.kind === 'vnet' ? epairA(net.jailNet) : undefined
      const adapt: Step[] = [
        ...mountSteps(l, jail, g, pool.datasets),
        {id: 'write jail.conf', why: `${jail}'s jail(8) configuration (service jail uses it too)`, action: {kind: 'write', path: confFile(jail), content: conf.value}, undo: [{kind: 'remove', path: confFile(jail)}]},
        ...(racct ? rctlSteps(rules, x.rctlConf) : []),
        ...planNest(l, spec),
        ...planStart(l, jail, {jid: true, node: spec.nestInstall !== null, ...(epair ? {epair} : {})}),
        readyStep(l, spec),
      ]
      return okAsync<Planned, NestError>({
        names, located, spec, conf: conf.value, g, datasets: pool.datasets, adaptation: a, rules: racct ? rules : [],
        before: [...x.before, ...beMount, ...dataMounts], edits: a.steps, move, adapt,
      })
    }))
  })
}

/** The run after the plan: edits on the clone, the move, the temporaries undone, the jail made and started. */
function finish(ctx: CommandCtx, s: Scene, p: Planned, tx: Transaction): ResultAsync<MigrateResult, NestError> {
  const jail = p.names.jail
  return tx.run(p.edits)
    .andThen(() => tx.run(p.move))
    .andThen(() => tx.release((x) => x.temporary === true))
    .andThen(() => tx.run(p.adapt))
    .map((done): MigrateResult => {
      void done
      const moved = landing(s.w.layout, jail, p.g, p.datasets).map(({from, to}) => ({from: from.name.replace(`${p.names.pool}`, '(guest pool)'), to, used: from.used}))
      return {
        dryRun: false, jail, vm: p.located.facts.name, moved, skipped: p.g.skipped, edits: p.adaptation.edits, notes: p.adaptation.notes.map((n) => `${n.file}: ${n.text}`),
        limits: p.rules, conf: confFile(jail),
        back: [`nest destroy ${jail} --force`, ...(p.located.facts.vmList ? [`sysrc -f ${p.located.facts.vmList.file} vm_list+=${p.located.facts.name}`] : []), `vm start ${p.located.facts.name}`],
      }
    })
}
