// Bootstrap as data: nest's tree of datasets, and a release kept as a dataset with a snapshot
// (its files: base.txz fetched, checked and unpacked on FreeBSD; a skeleton on the simulated host).
import {type Layout, NEST_MOUNTPOINT, NEST_VERSION, releaseDataset, releaseSnapshot} from '../model/layout.js'
import {type Action, destroyDs, type Step} from './steps.js'

export {NEST_MOUNTPOINT}
/** Where base.txz and its MANIFEST are fetched to. */
export const CACHE = '/var/cache/nest'

/** The first bootstrap on a pool: `<pool>/nest` on /nest, with releases and jails below it. */
export function planNestTree(pool: string): {layout: Layout; steps: Step[]} {
  const top = `${pool}/nest`
  const steps: Step[] = [
    {id: 'zfs create', why: `nest's tree on ${NEST_MOUNTPOINT}`, action: {kind: 'run', argv: ['zfs', 'create', '-o', `mountpoint=${NEST_MOUNTPOINT}`, '-o', `nest:version=${NEST_VERSION}`, top]}, undo: [destroyDs(top)]},
    {id: 'zfs create releases', why: 'where releases are kept', action: {kind: 'run', argv: ['zfs', 'create', `${top}/releases`]}, undo: []},
    {id: 'zfs create jails', why: 'where jails are kept', action: {kind: 'run', argv: ['zfs', 'create', `${top}/jails`]}, undo: []},
  ]
  return {layout: {top, mountpoint: NEST_MOUNTPOINT}, steps}
}

/** The simulated host has no archives to unpack: a skeleton that says which release it is. */
export function skeletonActions(root: string, release: string): Action[] {
  const dirs = ['dev', 'tmp', 'root', 'var/run', 'var/log', 'usr/local/etc', 'usr/local/bin', 'etc/jail.conf.d', 'data']
  return [
    ...dirs.map((d): Action => ({kind: 'mkdir', path: `${root}/${d}`})),
    {kind: 'write', path: `${root}/bin/freebsd-version`, content: `#!/bin/sh\n# A skeleton of FreeBSD ${release} on nest's simulated host.\necho ${release}\n`},
    {kind: 'write', path: `${root}/etc/rc`, content: '#!/bin/sh\n# The simulated host emulates /etc/rc.\n'},
    {kind: 'write', path: `${root}/etc/rc.shutdown`, content: '#!/bin/sh\n# The simulated host emulates /etc/rc.shutdown.\n'},
  ]
}

/** base.txz fetched from the release's directory (or given), checked against its MANIFEST, unpacked into `root`. */
export function unpackActions(root: string, release: string, archive: string | undefined, hw: {machine: string; arch: string}): Action[] {
  const url = `https://download.freebsd.org/releases/${hw.machine}/${hw.arch}/${release}`
  const dir = archive ? archive.slice(0, archive.lastIndexOf('/')) || '/' : `${CACHE}/${release}`
  const file = archive ?? `${dir}/base.txz`
  const manifest = `${dir}/MANIFEST`
  return [
    ...(archive ? [] : [
      {kind: 'mkdir', path: dir} as Action,
      {kind: 'run', argv: ['fetch', '-o', manifest, `${url}/MANIFEST`]} as Action,
      {kind: 'run', argv: ['fetch', '-o', file, `${url}/base.txz`]} as Action,
    ]),
    {kind: 'verify', file, manifest, entry: 'base.txz'},
    {kind: 'run', argv: ['tar', '-x', '-p', '-f', file, '-C', root]},
  ]
}

/** A release's dataset, its files, the snapshot roots are cloned from. */
export function planRelease(layout: Layout, release: string, populate: readonly Action[]): Step[] {
  const ds = releaseDataset(layout, release)
  return [
    {id: 'zfs create release', why: `${release}'s files`, action: {kind: 'run', argv: ['zfs', 'create', '-o', `nest:release=${release}`, ds]}, undo: [destroyDs(ds)]},
    ...populate.map((a): Step => ({id: a.kind, why: `${release}'s files`, action: a, undo: []})),
    {id: 'zfs snapshot', why: 'what jail roots are cloned from', action: {kind: 'run', argv: ['zfs', 'snapshot', releaseSnapshot(layout, release)]}, undo: []},
  ]
}
