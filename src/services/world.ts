// What nest knows about the host at one moment: its layout, its datasets (one zfs list), the
// running tree (one jls). Every jail command starts from here.
import {errAsync, okAsync, ResultAsync} from 'neverthrow'

import type {CommandCtx} from '../cli/base.js'
import {type NestError, notFound} from '../domain/errors.js'
import {pathOfJail} from '../domain/names.js'
import {type Host, makeHost} from '../host/host.js'
import type {JailRecord} from '../host/parse.js'
import {intParam, isDying, listJails} from '../host/tools/jls.js'
import {parseZfsColumns} from '../host/parse.js'
import {parsed} from '../host/tools/common.js'
import {readSysctls} from '../host/tools/sysctl.js'
import {type DatasetRow, findNestRoots, listDatasets} from '../host/tools/zfs.js'
import {lastValue, parseConfig, resolveConfig} from '../jailconf/index.js'
import {confFile, jailDataset, type Layout, RELEASE_SNAPSHOT} from '../plan/jail.js'
import type {JailEntry} from '../render/jails.js'
import type {TreeNode} from './tree.js'

export function hostFor(ctx: CommandCtx): Host {
  return makeHost(ctx.host, ctx.verbose ? (line) => ctx.note(`exec: ${line}`) : undefined)
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
}

/** nest's tree on this host, or null before the first bootstrap (`jailed` when already known). */
export function findLayout(host: Host, warn: (l: string) => void, jailed?: boolean): ResultAsync<Layout | null, NestError> {
  const inJail = jailed === undefined ? isJailed(host) : okAsync<boolean, NestError>(jailed)
  return inJail.andThen((j) => (j ? findDelegatedLayout(host, warn) : findHostLayout(host, warn)))
}

function findHostLayout(host: Host, warn: (l: string) => void): ResultAsync<Layout | null, NestError> {
  return findNestRoots(host).map((roots) => {
    const first = roots[0]
    if (!first) return null
    if (roots.length > 1) warn(`nest datasets on several pools (${roots.map((r) => r.name).join(', ')}); using ${first.name}`)
    return {top: first.name, mountpoint: first.mountpoint}
  })
}

export function requireLayout(host: Host, warn: (l: string) => void, jailed: boolean): ResultAsync<Layout, NestError> {
  return findLayout(host, warn, jailed).andThen((l) => {
    if (l) return okAsync(l)
    if (jailed) return errAsync(notFound('no dataset is delegated to this jail: nest keeps its children\'s roots there', 'create this jail with a policy that sets nest.delegate (nest create NAME --policy parent on the host)'))
    return errAsync(notFound('nest has no jails or releases on this host yet', NO_LAYOUT_FIX))
  })
}

export interface World {
  layout: Layout
  datasets: DatasetRow[]
  jails: JailRecord[]
}

export function loadWorld(host: Host, layout: Layout): ResultAsync<World, NestError> {
  return ResultAsync.combine([listDatasets(host, layout.top), listJails(host)]).map(([datasets, jails]) => ({layout, datasets, jails}))
}

export const releasesOf = (w: World): string[] => {
  const prefix = `${w.layout.top}/releases/`
  return w.datasets.filter((d) => d.type === 'snapshot' && d.name.startsWith(prefix) && d.name.endsWith(`@${RELEASE_SNAPSHOT}`))
    .map((d) => d.name.slice(prefix.length, -(RELEASE_SNAPSHOT.length + 1))).sort()
}

/** The jail's own dataset (with nest:name), or undefined when nest does not know it. */
export const jailRow = (w: World, jail: string): DatasetRow | undefined =>
  w.datasets.find((d) => d.name === jailDataset(w.layout, jail) && d['nest:name'] === jail)

/** The live kernel record of a jail (a dying one only when nothing alive has the name). */
export function kernelJail(w: World, jail: string): JailRecord | undefined {
  const all = w.jails.filter((j) => j.name === jail)
  return all.find((j) => !isDying(j)) ?? all[0]
}

/** A jail as `nest list` shows it: the kernel's view while it runs, its jail.conf's when stopped. */
export function entryOf(n: TreeNode, confText: string | null): JailEntry {
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
  }
}

/** Every jail nest manages on this host (its datasets with nest:name). */
export const managedJails = (w: World): string[] =>
  w.datasets.filter((d) => d.type === 'filesystem' && d['nest:name'] !== '-' && d.name === jailDataset(w.layout, d['nest:name'])).map((d) => d['nest:name']).sort()

export function readConf(host: Host, jail: string): ResultAsync<string | null, NestError> {
  return host.files.read(confFile(jail))
}
