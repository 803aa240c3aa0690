// What nest knows about the host at one moment: its layout, its datasets (one zfs list), the
// running tree (one jls). Every jail command starts from here.
import {errAsync, okAsync, ResultAsync} from 'neverthrow'

import type {CommandCtx} from '../cli/base.js'
import {type NestError, notFound} from '../domain/errors.js'
import {pathOfJail} from '../domain/names.js'
import {type Host, makeHost} from '../host/host.js'
import type {JailRecord} from '../host/parse.js'
import {intParam, isDying, listJails} from '../host/tools/jls.js'
import {type DatasetRow, findNestRoots, listDatasets} from '../host/tools/zfs.js'
import {lastValue, parseConfig, resolveConfig} from '../jailconf/index.js'
import {confFile, jailDataset, jailRoot, type Layout, RELEASE_SNAPSHOT} from '../plan/jail.js'
import type {JailEntry} from '../render/jails.js'

export function hostFor(ctx: CommandCtx): Host {
  return makeHost(ctx.host, ctx.verbose ? (line) => ctx.note(`exec: ${line}`) : undefined)
}

export const NO_LAYOUT_FIX = 'run nest bootstrap 14.3-RELEASE first'

/** nest's tree on this host, or null before the first bootstrap. */
export function findLayout(host: Host, warn: (l: string) => void): ResultAsync<Layout | null, NestError> {
  return findNestRoots(host).map((roots) => {
    const first = roots[0]
    if (!first) return null
    if (roots.length > 1) warn(`nest datasets on several pools (${roots.map((r) => r.name).join(', ')}); using ${first.name}`)
    return {top: first.name, mountpoint: first.mountpoint}
  })
}

export function requireLayout(host: Host, warn: (l: string) => void): ResultAsync<Layout, NestError> {
  return findLayout(host, warn).andThen((l) => (l ? okAsync(l) : errAsync(notFound('nest has no jails or releases on this host yet', NO_LAYOUT_FIX))))
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

export function entryOf(w: World, jail: string, confText: string | null): JailEntry {
  const row = jailRow(w, jail)
  const k = kernelJail(w, jail)
  const running = k !== undefined && !isDying(k)
  let max = 0
  if (k) max = intParam(k, 'children.max') ?? 0
  else if (confText) {
    const ast = parseConfig(confText, confFile(jail))
    const block = ast.isOk() ? resolveConfig(ast.value).find((b) => b.name === jail) : undefined
    max = Number(block ? (lastValue(block, 'children.max') ?? 0) : 0) || 0
  }
  const dot = jail.lastIndexOf('.')
  return {
    name: pathOfJail(jail),
    jail,
    jid: running && k ? k.jid : null,
    state: running ? 'running' : k ? 'dying' : 'stopped',
    parent: dot < 0 ? null : pathOfJail(jail.slice(0, dot)),
    policy: row && row['nest:policy'] !== '-' ? row['nest:policy'] : null,
    release: row && row['nest:release'] !== '-' ? row['nest:release'] : null,
    path: k?.path ?? jailRoot(w.layout, jail),
    children: {cur: k ? (intParam(k, 'children.cur') ?? 0) : 0, max},
  }
}

/** Every jail nest manages on this host (its datasets with nest:name). */
export const managedJails = (w: World): string[] =>
  w.datasets.filter((d) => d.type === 'filesystem' && d['nest:name'] !== '-' && d.name === jailDataset(w.layout, d['nest:name'])).map((d) => d['nest:name']).sort()

export function readConf(host: Host, jail: string): ResultAsync<string | null, NestError> {
  return host.files.read(confFile(jail))
}
