// Where a jail lives and what nest writes for it: datasets, its jail.conf file, and the ordered
// steps of create, start, stop and destroy. Pure: the tests compare plans directly.
import {err, ok, type Result} from 'neverthrow'

import {internal, type NestError} from '../domain/errors.js'
import {NEST_ENTRY, NEST_MOUNT, NEST_WRAPPER} from '../domain/install.js'
import {paramValues, parseConfig, printConfig, type PrintParam, resolveConfig} from '../jailconf/index.js'
import {epairA, epairB, type JailNet, printNet, rcConfOf, type VnetNet} from '../domain/net.js'
import type {Policy} from '../policies/policy.js'
import {CLEANUP_FOLLOWS} from '../context/command.js'
import {type Action, destroyDs, type Step} from './steps.js'

export * from '../model/layout.js'
import {confFile, DATA_MOUNTPOINT, dataDataset, dirMetaFile, jailDataset, jailRoot, type Layout, NEST_STATE, type NestState, NEST_VERSION, releasePath, releaseSnapshot, rootDataset} from '../model/layout.js'

export interface JailSpec {
  /** The kernel's name (dotted). */
  jail: string
  release: string
  policy: Policy
  /** Its network (null: the creator's stack, all of its addresses: ip4 = inherit). */
  net: JailNet | null
  thick: boolean
  /** How hooks run nest on this host. */
  nestBin: string
  /** nest runs on the host: it creates and attaches the delegated dataset itself (zfs jail is host-only). */
  hostSide: boolean
  /** For a parent: nest's installation here, mounted read-only into the jail (null for a leaf). */
  nestInstall: string | null
  /** A jail made from a migrated VM (nest migrate vm): its own identity and what its guest files asked for. */
  migrated?: MigratedSpec
}

export interface MigratedSpec {
  /** The guest's hostname (rc.conf `hostname`), kept. */
  hostname: string | null
  /** The VM's uuid, which the guest saw as smbios.system.uuid. */
  hostuuid: string | null
  /** Parameters the guest's files asked for (`mount.procfs` for its fstab's proc line). */
  params: PrintParam[]
}

/** Where a parent jail sees nest, and the wrapper that lets an admin type `nest` in it. */
export const wrapperText = `#!/bin/sh\n# Written by nest: nest's installation is mounted read-only on ${NEST_MOUNT}.\nexec ${NEST_ENTRY} "$@"\n`

/** A jail that may have children of its own (and so needs nest inside). */
export const isParentPolicy = (p: Policy): boolean => Number(p.params['children.max'] ?? 0) > 0

const param = (name: string, ...values: string[]): PrintParam => ({name, values})

function policyParams(p: Policy): PrintParam[] {
  return Object.entries(p.params).map(([name, v]) => {
    if (typeof v === 'string') return param(name, v)
    if (v) return param(name)
    const dot = name.lastIndexOf('.')
    return param(`${name.slice(0, dot + 1)}no${name.slice(dot + 1)}`)
  })
}

/**
 * A hook that has nothing to do when nest itself runs `jail -r` (it has stopped the children and
 * unmounts what is left right after): the guard is a shell test that jail(8) runs through
 * `/bin/sh -c` (the line has shell characters: usr.sbin/jail/command.c, run_command), so no
 * nest process starts; `service jail stop` and `jail -r` by hand still run nest.
 */
const guarded = (command: string): string => `test "$${CLEANUP_FOLLOWS}" = 1 || ${command}`

/** The jail.conf block nest writes to /etc/jail.conf.d/<name>.conf. */
export function renderJailConf(l: Layout, s: JailSpec): Result<string, NestError> {
  const p = s.policy
  const params: PrintParam[] = [
    param('path', jailRoot(l, s.jail)),
    param('host.hostname', s.migrated?.hostname ?? s.jail),
    ...(s.migrated?.hostuuid ? [param('host.hostuuid', s.migrated.hostuuid)] : []),
    param('persist'),
    param('mount.devfs'),
    ...netParams(s.net),
    ...policyParams(p),
    ...(s.migrated?.params ?? []),
  ]
  // nest inside a parent: its installation, read-only (jail(8) mounts it and unmounts it).
  if (s.nestInstall !== null) params.push(param('mount', `${s.nestInstall} ${jailRoot(l, s.jail)}${NEST_MOUNT} nullfs ro 0 0`))
  // Only the host may attach a dataset (zfs jail); the jail mounts it itself. Below the host,
  // the host-side nest attaches and mounts it once the jail runs.
  const hooks = p.delegate && s.hostSide
  if (s.net?.kind === 'vnet') params.push(...vnetHooks(s.net))
  if (hooks) params.push(param('exec.created', `/sbin/zfs jail ${s.jail} ${dataDataset(l, s.jail)}`))
  // A migrated guest's trees below its dataset (Bastille's) mount too, as its rc.d/zfs mounted them (zfs mount -a).
  if (hooks) params.push(param('exec.start', s.migrated ? '/sbin/zfs mount -a' : `/sbin/zfs mount ${dataDataset(l, s.jail)}`))
  params.push({name: 'exec.start', values: ['/bin/sh /etc/rc'], append: hooks})
  // `jail -r`, `service jail stop` too: the children stop first, deepest first.
  if (s.nestInstall !== null) params.push(param('exec.prestop', guarded(`${s.nestBin} stop ${s.jail} --children-only`)))
  if (p.raiseSecurelevel !== null) params.push(param('exec.poststart', `/usr/sbin/jail -m name=${s.jail} securelevel=${p.raiseSecurelevel}`))
  params.push(param('exec.stop', '/bin/sh /etc/rc.shutdown'))
  // Whoever stops it (nest, jail -r, service jail stop): jail(8) runs exec.poststop after the
  // removal. Destroying one end destroys both (sys/net/if_epair.c epair_clone_destroy), where
  // ever the b side is by then (back home, or still in the dying jail's vnet).
  if (s.net?.kind === 'vnet') params.push(param('exec.poststop', `/sbin/ifconfig ${epairA(s.net)} destroy`))
  // After jail(8) removed the jail and its devfs: what the jail mounted inside stays (§7.6).
  params.push(param('exec.release', guarded(`${s.nestBin} cleanup ${s.jail}`)))
  const text = printConfig([{name: s.jail, params}], `Written by nest for ${s.jail} (policy ${p.name}, release ${s.release}).\nnest reads it back; \`service jail start ${s.jail}\` uses it too.`)
  return text.isOk() ? ok(text.value) : err(internal(`cannot write the configuration of ${s.jail}: ${text.error}`))
}

/**
 * The network parameters. A VNET jail has no address parameters (the kernel refuses them:
 * `vnet jails cannot have IP address restrictions`, sys/kern/kern_jail.c): its rc.conf has them.
 * Without an address of a family the jail inherits its creator's (ip4 = inherit).
 */
function netParams(n: JailNet | null): PrintParam[] {
  if (n?.kind === 'vnet') return [param('vnet', 'new'), param('vnet.interface', epairB(n))]
  return [
    n && n.ip4.length > 0 ? param('ip4.addr', ...n.ip4) : param('ip4', 'inherit'),
    n && n.ip6.length > 0 ? param('ip6.addr', ...n.ip6) : param('ip6', 'inherit'),
  ]
}

/**
 * The epair, made before the jail exists (exec.prestart: jail.c startcommands), from the
 * jail's own jail.conf so that `service jail start` does what nest does. Argv commands (no
 * shell: command.c run_command execs a line without shell characters directly):
 * - `ifconfig epairN create up`: an explicit unit (a wildcard's name is known only from its
 *   output), the a side up (ifconfig applies the words after `create` to the new interface);
 * - `ifconfig BRIDGE create addm epairNa up`: the bridge is created when missing and left as it
 *   is when it exists (`create` on an existing interface with more words is dropped:
 *   sbin/ifconfig/ifconfig.c), the a side joins it;
 * - with a MAC, the b side gets it before it moves in (SIOCSIFLLADDR).
 * jail(8) moves the b side in after exec.created (vnet.interface); the jail's rc.conf renames
 * and configures it.
 */
function vnetHooks(n: VnetNet): PrintParam[] {
  return [
    param('exec.prestart', `/sbin/ifconfig epair${n.unit} create up`),
    {name: 'exec.prestart', values: [`/sbin/ifconfig ${n.bridge} create addm ${epairA(n)} up`], append: true},
    ...(n.mac === null ? [] : [{name: 'exec.prestart', values: [`/sbin/ifconfig ${epairB(n)} ether ${n.mac}`], append: true}]),
  ]
}

/** The mount points a jail's jail.conf (nest's, as renderJailConf writes it) gives jail(8): it unmounts them itself on stop. */
export function confMountPoints(confText: string | null, jail: string, root: string): string[] {
  if (confText === null) return []
  const ast = parseConfig(confText, confFile(jail))
  if (ast.isErr()) return []
  const own = jail.slice(jail.lastIndexOf('.') + 1)
  const b = resolveConfig(ast.value).find((x) => x.name === own || x.name === jail)
  if (!b) return []
  const on = (p: string): string => (p.startsWith('/') ? p : `${root}/${p}`)
  const points = (paramValues(b, 'mount') ?? []).map((l) => l.trim().split(/\s+/)[1]).filter((x): x is string => x !== undefined).map(on)
  const flag = (name: string): boolean => b.params.some((p) => p.name === name && (p.values.length === 0 || p.values.at(-1) !== 'false'))
  if (flag('mount.devfs')) points.push(`${root}/dev`)
  if (flag('mount.fdescfs')) points.push(`${root}/dev/fd`)
  if (flag('mount.procfs')) points.push(`${root}/proc`)
  return points
}

/** What the layout has already that a create may need (a child manager's first child makes `<top>/jails`). */
export interface CreateHas {
  jailsDataset: boolean
  /** The bridge a VNET jail joins does not exist yet: its first start creates it, a rollback takes it away again if no other interface joined it since. */
  newBridge?: string | null
  /**
   * The host's clock (seconds) when a create that starts the jail is planned: its ready step
   * records it as nest:started, the jail's first lifecycle for nest audit (one zfs set for both).
   */
  now?: number
}

export function planCreate(l: Layout, s: JailSpec, conf: string, start: boolean, has: CreateHas = {jailsDataset: true}): Step[] {
  const node = start && s.hostSide && s.nestInstall !== null
  const epair = s.net?.kind === 'vnet' ? epairA(s.net) : undefined
  const starting = start ? planStart(l, s.jail, {jid: true, node, ...(epair ? {epair} : {})}) : []
  const bridge = has.newBridge
  if (bridge) {
    // A bridge this create's start made goes again on a rollback (unless something else joined it).
    const jc = starting.find((x) => x.id === 'jail -c')
    if (jc) {
      jc.undo = [...jc.undo, {kind: 'bridge-gone', bridge}]
      jc.onFailure = [...(jc.onFailure ?? []), {kind: 'bridge-gone', bridge}]
    }
  }
  return [...(l.dir ? planDirRoot(l, s, conf) : planDatasets(l, s, conf, has)), ...planRcConf(l, s), ...planNest(l, s), ...planDelegated(l, s), ...starting, readyStep(l, s, start ? has.now : undefined)]
}

/** A loopback clone (`lo1`, Bastille's `bastille0` before its rename): what a parent's nest may make for its children's addresses. */
export const LOOPBACK_CLONE = /^lo[1-9][0-9]*$/

/**
 * Loopback clones a parent's nest makes for its non-VNET children's addresses (the VM-to-jails
 * story's `bastille0`): created now (`ifconfig lo1 create up`), and added to the parent's own
 * `cloned_interfaces` so that its rc.d/netif makes them at each boot, before its jails start
 * (jail(8) adds an `IF|ADDR` alias before anything else, so IF must exist: jail.c
 * startcommands). A rollback destroys them and gives rc.conf its old value back. Pure: the
 * parent's rc.conf text is read by the caller.
 */
export function planLoopbacks(clones: readonly string[], rcText: string | null): Result<Step[], string> {
  if (clones.length === 0) return ok([])
  const lines = (rcText ?? '').split('\n').filter((l) => /^\s*cloned_interfaces=/.test(l))
  const last = lines.at(-1)
  let old: string | null = null
  if (last !== undefined) {
    const m = /^\s*cloned_interfaces=(?:"([^"$`\\]*)"|'([^']*)'|([^\s"'$`\\#;]*))\s*(#.*)?$/.exec(last)
    if (!m) return err(`/etc/rc.conf: cloned_interfaces is not a plain value (${last.trim()})`)
    old = m[1] ?? m[2] ?? m[3] ?? ''
  }
  const have = (old ?? '').split(/\s+/).filter((x) => x !== '')
  const value = [...have, ...clones.filter((c) => !have.includes(c))].join(' ')
  return ok([
    ...clones.map((c): Step => ({id: 'ifconfig create', why: `${c}, the interface this jail's children get addresses on (a loopback clone)`, action: {kind: 'run', argv: ['ifconfig', c, 'create', 'up']}, undo: [{kind: 'run', argv: ['ifconfig', c, 'destroy']}]})),
    {
      id: 'write rc.conf', why: `${clones.join(', ')} made again at each boot of this jail (rc.d/netif: cloned_interfaces), before its jails start`,
      action: {kind: 'rcconf', path: '/etc/rc.conf', set: [['cloned_interfaces', value]]}, undo: [{kind: 'rcconf', path: '/etc/rc.conf', set: [['cloned_interfaces', old]]}],
    },
  ])
}

/** Where nest says, in a jail's rc.conf, which lines are its own. */
export const rcComment = (jail: string): string => `Written by nest for ${jail}'s network (nest create --vnet)`

/**
 * A VNET jail's network is configured by its own rc (rc.d/netif, rc.d/routing): the lines go
 * into the new root's /etc/rc.conf before its first start. A rollback removes the root, and
 * the lines with it.
 */
function planRcConf(l: Layout, s: JailSpec): Step[] {
  if (s.net?.kind !== 'vnet') return []
  const root = jailRoot(l, s.jail)
  const set = rcConfOf(s.net)
  return [{
    id: 'write rc.conf', why: `${s.jail}'s rc renames ${epairB(s.net)} to ${s.net.ifname} and configures it (rc.d/netif, rc.d/routing run in a jail that owns its vnet)`,
    action: {kind: 'rcconf', path: `${root}/etc/rc.conf`, set, comment: rcComment(s.jail), within: root}, undo: [],
  }]
}

const dirMeta = (s: JailSpec, state: NestState): string =>
  `${JSON.stringify({name: s.jail, policy: s.policy.name, release: s.release, delegate: s.policy.delegate, version: NEST_VERSION, state, ...(s.net ? {net: s.net} : {})}, null, 2)}\n`

/**
 * The last step of a create: the jail is whole. Until it runs the jail is marked `creating`,
 * and a create after a crash undoes it and starts over.
 */
export function readyStep(l: Layout, s: JailSpec, started?: number): Step {
  const why = `${s.jail} is whole: ${NEST_STATE}=ready (until now a crash leaves it marked creating, and the next create undoes it)${started === undefined ? '' : '; nest:started records its start for nest audit'}`
  return l.dir
    ? {id: 'mark ready', why, action: {kind: 'write', path: dirMetaFile(l, s.jail), content: dirMeta(s, 'ready')}, undo: []}
    : {id: 'mark ready', why, action: {kind: 'run', argv: ['zfs', 'set', `${NEST_STATE}=ready`, ...(started === undefined ? [] : [`nest:started=${started}`]), jailDataset(l, s.jail)]}, undo: []}
}

/** A directory child: its metadata file, then its root, a copy of the release in the parent's /nest. */
function planDirRoot(l: Layout, s: JailSpec, conf: string): Step[] {
  const name = s.jail
  const file = confFile(name)
  const dir = jailDataset(l, name)
  return [
    {id: 'write jail.conf', why: `${name}'s jail(8) configuration (service jail uses it too)`, action: {kind: 'write', path: file, content: conf}, undo: [{kind: 'remove', path: file}]},
    {id: 'write nest.json', why: `what nest knows of ${name} (this jail has no dataset to keep it in)`, action: {kind: 'write', path: dirMetaFile(l, name), content: dirMeta(s, 'creating')}, undo: [{kind: 'remove-tree', path: dir}]},
    {id: 'copy release', why: `${name}'s root, a copy of ${s.release} (a directory: no dataset to clone into)`, action: {kind: 'copy', from: releasePath(l, s.release), to: jailRoot(l, name), within: jailRoot(l, name)}, undo: [], onFailure: [{kind: 'remove-tree', path: jailRoot(l, name), within: jailRoot(l, name)}]},
  ]
}

function planDatasets(l: Layout, s: JailSpec, conf: string, has: CreateHas): Step[] {
  const name = s.jail
  const file = confFile(name)
  const props = ['nest:name', name, 'nest:policy', s.policy.name, 'nest:release', s.release, 'nest:delegate', s.policy.delegate ? 'on' : 'off', 'nest:version', NEST_VERSION, ...(s.net ? ['nest:net', printNet(s.net)] : []), NEST_STATE, 'creating']
  const o = (pairs: string[]): string[] => pairs.flatMap((v, i) => (i % 2 === 0 ? ['-o', `${v}=${pairs[i + 1]}`] : []))
  const jails = `${l.top}/jails`
  const steps: Step[] = [
    {id: 'write jail.conf', why: `${name}'s jail(8) configuration (service jail uses it too)`, action: {kind: 'write', path: file, content: conf}, undo: [{kind: 'remove', path: file}]},
    // Not `zfs create -p`: a parent it makes is one that a rollback would not know to take away.
    ...(has.jailsDataset ? [] : [{id: 'zfs create jails', why: 'where the jails of this tree live (its first jail makes it)', action: {kind: 'run', argv: ['zfs', 'create', jails]}, undo: [destroyDs(jails)]} satisfies Step]),
    {id: 'zfs create', why: `${name}'s dataset, holding nest's metadata as user properties (${NEST_STATE}=creating until the create is done)`, action: {kind: 'run', argv: ['zfs', 'create', ...o(props), jailDataset(l, name)]}, undo: [destroyDs(jailDataset(l, name))]},
    // Host users never enter a jail's tree (jail.8 NOTES; audit-rules NEST-F01: a jailed root's setuid file run by a host user). Its root below stays 0755 for the jail.
    ...(s.hostSide ? [{id: 'chmod 0700', why: `only root on the host enters ${name}'s tree (NEST-F01)`, action: {kind: 'chmod', path: `${l.mountpoint}/jails/${name}`, mode: 0o700}, undo: []} satisfies Step] : []),
    s.thick
      ? {id: 'zfs create root', why: `${name}'s root, a full copy of ${s.release}`, action: {kind: 'run', argv: ['zfs', 'create', rootDataset(l, name)]}, undo: [destroyDs(rootDataset(l, name))]}
      : {id: 'zfs clone', why: `${name}'s root, a clone of ${s.release}`, action: {kind: 'run', argv: ['zfs', 'clone', releaseSnapshot(l, s.release), rootDataset(l, name)]}, undo: [destroyDs(rootDataset(l, name))]},
  ]
  if (s.thick) steps.push({id: 'copy release', why: `${s.release}'s files into ${name}'s root`, action: {kind: 'copy', from: releasePath(l, s.release), to: jailRoot(l, name), within: jailRoot(l, name)}, undo: []})
  return steps
}

/** The dataset delegated to a jail of the host's own level (deeper ones: the host-side nest, in createBelow). */
function planDelegated(l: Layout, s: JailSpec): Step[] {
  if (!s.policy.delegate || !s.hostSide) return []
  return [{
    id: 'zfs create data', why: `the dataset delegated to ${s.jail} (jailed=on: only ${s.jail} mounts it)`,
    action: {kind: 'run', argv: ['zfs', 'create', '-o', 'jailed=on', '-o', `mountpoint=${DATA_MOUNTPOINT}`, dataDataset(l, s.jail)]},
    undo: [destroyDs(dataDataset(l, s.jail))],
  }]
}

/** A parent gets nest: where it is mounted, the wrapper, Node.js (from the host). */
export function planNest(l: Layout, s: JailSpec): Step[] {
  const name = s.jail
  const steps: Step[] = []
  if (s.nestInstall !== null) {
    const root = jailRoot(l, name)
    steps.push(
      {id: 'mkdir nest', why: `where ${name} sees nest (mounted read-only by jail(8))`, action: {kind: 'mkdir', path: `${root}${NEST_MOUNT}`, within: root}, undo: []},
      {id: 'write nest', why: `${NEST_WRAPPER} in ${name}, so \`nest\` runs there`, action: {kind: 'write', path: `${root}${NEST_WRAPPER}`, content: wrapperText, mode: 0o755, within: root}, undo: []},
    )
  }
  return steps
}

/**
 * Node.js in a running jail, installed from inside it: `pkg -j JAIL` attaches to the jail
 * before it does anything (freebsd/pkg src/main.c: jail_attach, chdir "/"), so every path of
 * the package, and its scripts, resolve in the jail's root. Never `pkg -r ROOT` from the host:
 * its *at() calls relative to the root's descriptor follow the links in the root's directories
 * from the host's "/" (libpkg/pkg_add.c, RELATIVE_PATH) and run the package's scripts on the
 * host, and a jail's root user controls those directories. Nor `pkg -c ROOT`: a chroot that
 * root controls, with the scripts run in it by the host's root, unconfined. So only while the
 * jail runs (a jail created with --no-start gets it at its first start).
 */
export function nodeStep(jail: string): Step {
  return {id: 'pkg install node', why: `Node.js for nest in ${jail}, installed from inside it (pkg -j)`, action: {kind: 'run', argv: ['pkg', '-j', jail, 'install', '-y', 'node']}, undo: []}
}

export interface StartExtras {
  /** Datasets to mount first (a child's root, inside its parent, after the parent restarted). */
  mount?: string[]
  /** Install Node.js in the jail once it runs (a parent whose root lacks it). */
  node?: boolean
  /** Print the new jail's jid (`jail -i`): what create answers with, without reading jls again. */
  jid?: boolean
  /**
   * The a side of the jail's epair. jail(8) runs no exec.poststop when a start fails after
   * exec.prestart made the epair (command.c next_command skips the stop list), so nest
   * destroys it, unless its own create failed (then the epair there is not this start's: one
   * a jail that died without jail(8) left behind is destroyed by nest destroy, or by hand).
   */
  epair?: string
  /** Its jail.conf and root when they are not nest's own (an adopted jail: its nest:conf, nest:root). */
  conf?: string
  root?: string
}

/** An epair that may be there or not (a failed start's, a dead jail's): destroyed when it is. */
export const destroyEpair = (a: string): Action => ({kind: 'run', argv: ['ifconfig', a, 'destroy'], allowFailure: true})

export function planStart(l: Layout, name: string, x: StartExtras = {}): Step[] {
  const unit = x.epair === undefined ? null : /^epair([0-9]+)a$/.exec(x.epair)?.[1] ?? null
  const conf = x.conf ?? confFile(name)
  const root = x.root ?? jailRoot(l, name)
  return [
    ...(x.mount ?? []).map((ds): Step => ({id: 'zfs mount', why: `${name}'s root dataset`, action: {kind: 'run', argv: ['zfs', 'mount', ds]}, undo: []})),
    {
      id: 'jail -c', why: `start ${name} (mount.devfs, create, exec.created, exec.start)${x.jid ? '; -i prints its jid' : ''}`,
      action: {kind: 'run', argv: ['jail', '-f', conf, ...(x.jid ? ['-i'] : []), '-c', name]},
      // The cleanup that follows is nest's own: the jail's exec.release need not run nest for it.
      undo: [{kind: 'run', argv: ['jail', '-f', conf, '-r', name], allowFailure: true, env: {[CLEANUP_FOLLOWS]: '1'}}, {kind: 'cleanup', jail: name, root}],
      // Not when jail(8) says the epair's create failed (ifconfig: interface epairN already
      // exists: sys/net/if_epair.c, EEXIST): this start made none, and the one there is another's
      // (an admin's, or a VNET jail created at the same time that took the same unit).
      onFailure: [{kind: 'cleanup', jail: name, root}, ...(x.epair ? [{kind: 'run', argv: ['ifconfig', x.epair, 'destroy'], allowFailure: true, unlessSaid: `/sbin/ifconfig epair${unit ?? ''} create up: failed`,
        kept: `${x.epair} is not this start's, so nest leaves it: if ${name.replaceAll('.', '/')} left it (stopped without its exec.poststop, e.g. jail -R), ifconfig ${x.epair} destroy, then start again`} satisfies Action] : [])],
    },
    ...(x.node ? [nodeStep(name)] : []),
  ]
}
