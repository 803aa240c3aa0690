// What nest knows about the host at one moment: its layout, its datasets (one zfs list), the
// running tree (one jls). Every jail command starts from here.
import {errAsync, okAsync, ResultAsync} from 'neverthrow'

import type {CommandCtx} from '../context/command.js'
import {invocation} from '../context/invocation.js'
import {type NestError, notFound} from '../domain/errors.js'
import {isJailName, pathOfJail} from '../domain/names.js'
import {type Host, makeHost} from '../host/host.js'
import {intParam, listJails} from '../host/tools/jls.js'
import {parseZfsColumns} from '../host/parse.js'
import {parsed} from '../host/tools/common.js'
import {readSysctls} from '../host/tools/sysctl.js'
import {type DatasetRow, findNestRoots, listDatasets} from '../host/tools/zfs.js'
import {lastValue, parseConfig, resolveConfig} from '../jailconf/index.js'
import type {MountRecord} from '../host/parse.js'
import {listMounts} from '../host/tools/mount.js'
import type {ChildWorld} from '../plan/tree.js'
import {confFile, DIR_LAYOUT, DIR_META, isHalfMade, type Layout, NEST_MOUNTPOINT, RELEASE_SNAPSHOT} from '../model/layout.js'
import type {JailEntry, JailNetwork} from '../render/jails.js'
import {aliasAddress, aliasInterface, epairA, parseNet} from '../domain/net.js'
import {guardOf, type TreeNode, treeOf, type World} from '../model/tree.js'

export type {World}

export function hostFor(ctx: CommandCtx): Host {
  // An in-process invocation (tests) brings its own way of running programs.
  return (invocation().hostFactory ?? makeHost)(ctx.host, ctx.verbose ? (line) => ctx.note(`exec: ${line}`) : undefined)
}

export const NO_LAYOUT_FIX = 'run nest bootstrap 14.3-RELEASE first'

/** Does this nest run inside a jail (a child manager, or an admin in a parent)? */
export function isJailed(host: Host): ResultAsync<boolean, NestError> {
  if (host.info.jailed !== undefined) return okAsync(host.info.jailed)
  return readSysctls(host, ['security.jail.jailed']).map((m) => m.get('security.jail.jailed') === '1')
}

/**
 * Inside a jail nest's tree is the dataset delegated to the jail (its children's roots live in
 * it): the shallowest visible dataset with jailed=on that carries nest's marker.
 */
function findDelegatedLayout(host: Host, warn: (l: string) => void): ResultAsync<Layout | null, NestError> {
  const cols = ['name', 'jailed', 'mountpoint', 'nest:version']
  return host.run(['zfs', 'list', '-H', '-o', cols.join(',')]).andThen((r) =>
    parsed(r, parseZfsColumns(r.stdout, cols)).map((rows) => {
      const on = rows.filter((x) => x['jailed'] === 'on' && x['nest:version'] !== '-')
      const tops = on.filter((x) => !on.some((y) => y !== x && (x['name'] ?? '').startsWith(`${y['name']}/`)))
      const first = tops[0]
      if (!first) return null
      if (tops.length > 1) warn(`several datasets are delegated to this jail (${tops.map((t) => t['name']).join(', ')}); using ${first['name']}`)
      return {top: first['name'] as string, mountpoint: first['mountpoint'] as string}
    }))
    // No /dev/zfs in this jail's devfs (its ruleset hides it): nothing can be delegated to it.
    .orElse((e) => (e.kind === 'host' && /failed to initialize ZFS library/.test(e.stderr) ? okAsync(null) : errAsync(e)))
}

/**
 * nest's tree on this host, or null before the first bootstrap (`jailed` when already known).
 * Inside a jail: its delegated dataset, or else the directory /nest in its root.
 */
export function findLayout(host: Host, warn: (l: string) => void, jailed?: boolean): ResultAsync<Layout | null, NestError> {
  const inJail = jailed === undefined ? isJailed(host) : okAsync<boolean, NestError>(jailed)
  return inJail.andThen((j) => (j ? findDelegatedLayout(host, warn).map((l) => l ?? DIR_LAYOUT) : findHostLayout(host, warn)))
}

function findHostLayout(host: Host, warn: (l: string) => void): ResultAsync<Layout | null, NestError> {
  // No /nest: nest's tree was never bootstrapped here (or is not mounted, and no jail of it can
  // run): nothing to ask zfs, which a host without ZFS could not answer anyway.
  return host.files.kind(NEST_MOUNTPOINT).andThen((k) => (k === 'none' ? okAsync(null) : findNestRoots(host).map((roots) => {
    const first = roots[0]
    if (!first) return null
    if (roots.length > 1) warn(`nest datasets on several pools (${roots.map((r) => r.name).join(', ')}); using ${first.name}`)
    return {top: first.name, mountpoint: first.mountpoint}
  })))
}

export function requireLayout(host: Host, warn: (l: string) => void, jailed: boolean): ResultAsync<Layout, NestError> {
  return findLayout(host, warn, jailed).andThen((l) => {
    if (l) return okAsync(l)
    return errAsync(notFound('nest has no jails or releases on this host yet', NO_LAYOUT_FIX))
  })
}


/**
 * The world a child manager was handed by the nest that runs it (NEST_WORLD): the same data it
 * would read with zfs list, jls and mount -p, so it reads nothing again. Children in
 * directories are still read from their nest.json files (no program runs for that).
 */
export function worldFromParent(host: Host, cw: ChildWorld): ResultAsync<World, NestError> {
  return loadTree(host, cw.layout, cw).map((w) => ({...w, mounts: cw.mounts}))
}

/** A child manager's world from its JSON text; null when it is not one (then the child reads its own). */
export function parseChildWorld(text: string | undefined): ChildWorld | null {
  if (!text) return null
  try {
    const v = JSON.parse(text) as Partial<ChildWorld>
    const layoutOk = typeof v.layout?.top === 'string' && typeof v.layout.mountpoint === 'string'
    if (!layoutOk || !Array.isArray(v.jails) || !Array.isArray(v.mounts) || (v.datasets !== undefined && !Array.isArray(v.datasets))) return null
    return v as ChildWorld
  } catch {
    return null
  }
}

/**
 * The world, with the mount table when asked for; each line of it that cannot be read is a
 * warning, and so is a directory child whose nest.json cannot be read (it is left out; the
 * other jails go on).
 */
export function loadWorld(host: Host, layout: Layout, o: {mounts?: boolean; warn?: (line: string) => void; jails?: World['jails']} = {}): ResultAsync<World, NestError> {
  const mounts = o.mounts ? listMounts(host).map((t): MountRecord[] | undefined => {
    for (const u of t.unreadable) o.warn?.(`mount -p ${u} (left out: nest does not unmount what it cannot name)`)
    return t.mounts
  }) : okAsync<MountRecord[] | undefined, NestError>(undefined)
  return ResultAsync.combine([loadTree(host, layout, o.jails ? {jails: o.jails} : undefined, o.warn), mounts]).map(([w, m]) => (m ? {...w, mounts: m} : w))
}

/** The tree's data: read with jls and zfs list, or as the nest that runs this child manager gave them. */
function loadTree(host: Host, layout: Layout, given?: Pick<ChildWorld, 'jails' | 'datasets'>, warn: (line: string) => void = () => undefined): ResultAsync<World, NestError> {
  const jails = given ? okAsync<World['jails'], NestError>(given.jails) : listJails(host)
  const base = layout.dir
    ? ResultAsync.combine([readDirJails(host, layout.mountpoint, undefined, warn), jails, host.files.list(`${layout.mountpoint}/releases`)])
      .map(([datasets, js, releases]): World => ({layout, datasets, jails: js, releases: releases.filter((r) => !r.startsWith('.')).sort(), dirChildren: new Map()}))
    : ResultAsync.combine([given?.datasets ? okAsync<DatasetRow[], NestError>(given.datasets) : listDatasets(host, layout.top), jails])
      .map(([datasets, js]): World => ({layout, datasets, jails: js, releases: zfsReleases(layout, datasets), dirChildren: new Map()}))
  return base.andThen((w) => withDirChildren(host, w, warn))
}

/**
 * Children in directories, at any depth: each round reads the `/nest/jails` of the jails found
 * so far that have no delegated dataset (a readdir, and a small file per child; no program).
 */
function withDirChildren(host: Host, w: World, warn: (line: string) => void): ResultAsync<World, NestError> {
  const nodes = treeOf(w)
  const pending = nodes.filter((n) => n.delegated === null && !w.dirChildren.has(n.jail))
  if (pending.length === 0) return okAsync(w)
  // Each read is below the root of the jail's outermost ancestor: nothing there is followed.
  return ResultAsync.combine(pending.map((n) => readDirJails(host, `${n.root}${DIR_LAYOUT.mountpoint}`, guardOf(nodes, n), warn))).andThen((found) => {
    pending.forEach((n, i) => w.dirChildren.set(n.jail, found[i] ?? []))
    return withDirChildren(host, w, warn)
  })
}

const dirRow = (dir: string, m: DirMeta): DatasetRow => ({
  name: dir, type: 'directory', mountpoint: dir, mounted: '-', jailed: 'off', origin: '-',
  'nest:name': m.name, 'nest:policy': m.policy, 'nest:release': m.release, 'nest:delegate': m.delegate ? 'on' : 'off', 'nest:version': m.version, 'nest:state': m.state ?? '-', 'nest:net': m.net ?? '-', 'nest:conf': '-', 'nest:root': '-',
})

interface DirMeta {
  name: string
  policy: string
  release: string
  delegate: boolean
  version: string
  state?: string
  /** Its network, as the nest:net property has it (JSON text, checked where it is used). */
  net?: string
}

/**
 * The children nest made in a directory layout at `mountpoint`: their nest.json files. Below a
 * jail's root (`within`), a nest.json that is a link, a FIFO, a device or too large is not
 * read: that child is left out with a warning, and every other jail is listed and acted on.
 */
function readDirJails(host: Host, mountpoint: string, within: string | undefined, warn: (line: string) => void): ResultAsync<DatasetRow[], NestError> {
  const jails = `${mountpoint}/jails`
  const skip = (what: string) => (e: NestError): ResultAsync<null, NestError> => {
    warn(`${e.message}; ${what} left out`)
    return okAsync(null)
  }
  return host.files.list(jails, within).orElse((e) => skip(`the jails in ${jails}`)(e).map(() => [] as string[])).andThen((names) => ResultAsync.combine(names.filter(isJailName).map((n) =>
    host.files.read(`${jails}/${n}/${DIR_META}`, within).orElse(skip(`the jail ${n} in ${jails}`)).map((text) => {
      const m = text === null ? null : parseDirMeta(text)
      return m !== null && m.name === n ? dirRow(`${jails}/${n}`, m) : null
    }))).map((rows) => rows.filter((r): r is DatasetRow => r !== null)))
}

function parseDirMeta(text: string): DirMeta | null {
  try {
    const m = JSON.parse(text) as Record<string, unknown>
    const str = (k: string): string | null => (typeof m[k] === 'string' ? m[k] : null)
    const [name, policy, release, version] = [str('name'), str('policy'), str('release'), str('version')]
    if (name === null || policy === null || release === null || version === null) return null
    const state = str('state')
    const net = typeof m['net'] === 'object' && m['net'] !== null ? JSON.stringify(m['net']) : null
    return {name, policy, release, version, delegate: m['delegate'] === true, ...(state === null ? {} : {state}), ...(net === null ? {} : {net})}
  } catch {
    return null
  }
}

function zfsReleases(l: Layout, datasets: readonly DatasetRow[]): string[] {
  const prefix = `${l.top}/releases/`
  return datasets.filter((d) => d.type === 'snapshot' && d.name.startsWith(prefix) && d.name.endsWith(`@${RELEASE_SNAPSHOT}`))
    .map((d) => d.name.slice(prefix.length, -(RELEASE_SNAPSHOT.length + 1))).sort()
}

export const releasesOf = (w: World): string[] => w.releases


/** A jail as `nest list` shows it: the kernel's view while it runs, its jail.conf's when stopped. */
export function entryOf(n: TreeNode, confText: string | null, interfaces: ReadonlySet<string> | null = null): JailEntry {
  const k = n.kernel
  let max = 0
  if (k) max = intParam(k, 'children.max') ?? 0
  else if (confText) {
    const own = n.jail.slice(n.jail.lastIndexOf('.') + 1)
    const ast = parseConfig(confText, n.conf)
    const block = ast.isOk() ? resolveConfig(ast.value).find((b) => b.name === own) : undefined
    max = Number(block ? (lastValue(block, 'children.max') ?? 0) : 0) || 0
  }
  const row = n.row
  return {
    name: n.path,
    jail: n.jail,
    jid: n.running && k ? k.jid : null,
    state: n.running ? 'running' : k ? 'dying' : 'stopped',
    parent: n.parent === null ? null : pathOfJail(n.parent),
    policy: row['nest:policy'] !== '-' ? row['nest:policy'] : null,
    release: row['nest:release'] !== '-' ? row['nest:release'] : null,
    path: n.root,
    children: {cur: k ? (intParam(k, 'children.cur') ?? 0) : 0, max},
    ...networkOf(n, interfaces),
    ...(isHalfMade(row) ? {halfMade: true as const} : {}),
  }
}

const addrList = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' && v !== '' ? v.split(',') : [])

/**
 * What list shows of a jail's network: nest's record of it (nest:net) and, while it runs, the
 * kernel's addresses (the same jls) or whether its epair is there (`interfaces`: one
 * `ifconfig -l` of this side, null when not read).
 */
function networkOf(n: TreeNode, interfaces: ReadonlySet<string> | null): {network?: JailNetwork} {
  const parsedNet = parseNet(n.row['nest:net'])
  const net = parsedNet.isOk() ? parsedNet.value : null
  const k = n.running ? n.kernel : undefined
  if (net?.kind === 'vnet') {
    return {network: {vnet: true, interface: net.ifname, epair: epairA(net), bridge: net.bridge, ip4: net.ip4, ip6: net.ip6, routers: net.routers, mac: net.mac, present: interfaces === null || n.parent !== null ? null : interfaces.has(epairA(net))}}
  }
  const kip4 = k ? addrList(k.params['ip4.addr']) : []
  const kip6 = k ? addrList(k.params['ip6.addr']) : []
  const on = net?.kind === 'alias' ? [...new Set([...net.ip4, ...net.ip6].map(aliasInterface).filter((x): x is string => x !== null))] : []
  if (k && (kip4.length > 0 || kip6.length > 0)) return {network: {vnet: false, ip4: kip4, ip6: kip6, on}}
  if (!k && net?.kind === 'alias') return {network: {vnet: false, ip4: net.ip4.map(aliasAddress), ip6: net.ip6.map(aliasAddress), on}}
  return {}
}

/** Does this level have a VNET jail whose epair list can tell about (one `ifconfig -l` then)? */
export const needsInterfaces = (nodes: readonly TreeNode[]): boolean => nodes.some((n) => n.parent === null && n.running && (() => {
  const v = parseNet(n.row['nest:net'])
  return v.isOk() && v.value?.kind === 'vnet'
})())


export function readConf(host: Host, jail: string): ResultAsync<string | null, NestError> {
  return host.files.read(confFile(jail))
}
