// nest bootstrap RELEASE: nest's tree (<pool>/nest on /nest) and a release to build jails
// from, kept as a dataset with a snapshot (@base) that jail roots are cloned from.
import path from 'node:path'

import {errAsync, okAsync, ResultAsync} from 'neverthrow'

import type {CommandCtx} from '../context/command.js'
import {invalidInput, type NestError, notFound} from '../domain/errors.js'
import {parseRelease} from '../domain/names.js'
import {executePlan} from '../engine/execute.js'
import type {Host} from '../host/host.js'
import {readSysctls} from '../host/tools/sysctl.js'
import {listPools} from '../host/tools/zfs.js'
import {type Layout, NEST_VERSION, releaseDataset, releasePath, releaseSnapshot} from '../plan/jail.js'
import {type Action, describeAction, type Step} from '../plan/steps.js'
import type {BootstrapResult, PlanResult} from '../render/jails.js'
import {findLayout, hostFor, loadWorld, releasesOf} from './world.js'

export interface BootstrapOptions {
  release: string
  archive?: string
  pool?: string
  dryRun: boolean
}

const NEST_MOUNTPOINT = '/nest'
const CACHE = '/var/cache/nest'

function layoutSteps(host: Host, pool: string | undefined): ResultAsync<{layout: Layout; steps: Step[]}, NestError> {
  return listPools(host).andThen((pools) => {
    const p = pool ?? pools[0]
    if (p === undefined) return errAsync(notFound('no ZFS pool on this host', 'nest keeps jails on ZFS: create a pool first'))
    if (!pools.includes(p)) return errAsync(notFound(`pool ${p}: no such pool`, `use one of: ${pools.join(', ')}`))
    const top = `${p}/nest`
    const steps: Step[] = [
      {id: 'zfs create', why: `nest's tree on ${NEST_MOUNTPOINT}`, action: {kind: 'run', argv: ['zfs', 'create', '-o', `mountpoint=${NEST_MOUNTPOINT}`, '-o', `nest:version=${NEST_VERSION}`, top]}, undo: [{kind: 'run', argv: ['zfs', 'destroy', '-r', top]}]},
      {id: 'zfs create releases', why: 'where releases are kept', action: {kind: 'run', argv: ['zfs', 'create', `${top}/releases`]}, undo: []},
      {id: 'zfs create jails', why: 'where jails are kept', action: {kind: 'run', argv: ['zfs', 'create', `${top}/jails`]}, undo: []},
    ]
    return okAsync({layout: {top, mountpoint: NEST_MOUNTPOINT}, steps})
  })
}

/** The simulated host has no archives to unpack: a skeleton that says which release it is. */
function skeleton(root: string, release: string): Action[] {
  const dirs = ['dev', 'tmp', 'root', 'var/run', 'var/log', 'usr/local/etc', 'usr/local/bin', 'etc/jail.conf.d', 'data']
  return [
    ...dirs.map((d): Action => ({kind: 'mkdir', path: `${root}/${d}`})),
    {kind: 'write', path: `${root}/bin/freebsd-version`, content: `#!/bin/sh\n# A skeleton of FreeBSD ${release} on nest's simulated host.\necho ${release}\n`},
    {kind: 'write', path: `${root}/etc/rc`, content: '#!/bin/sh\n# The simulated host emulates /etc/rc.\n'},
    {kind: 'write', path: `${root}/etc/rc.shutdown`, content: '#!/bin/sh\n# The simulated host emulates /etc/rc.shutdown.\n'},
  ]
}

/** FreeBSD: base.txz fetched (or given), checked against its MANIFEST, unpacked. */
function unpack(host: Host, root: string, release: string, archive: string | undefined): ResultAsync<Action[], NestError> {
  return readSysctls(host, ['hw.machine', 'hw.machine_arch']).map((s) => {
    const url = `https://download.freebsd.org/releases/${s.get('hw.machine') ?? 'amd64'}/${s.get('hw.machine_arch') ?? 'amd64'}/${release}`
    const dir = archive ? path.dirname(archive) : `${CACHE}/${release}`
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
  })
}

export function bootstrapRelease(ctx: CommandCtx, o: BootstrapOptions): ResultAsync<BootstrapResult | PlanResult, NestError> {
  const r = parseRelease(o.release)
  if (r.isErr()) return errAsync(r.error)
  if (o.archive !== undefined && ctx.host.kind === 'sim') {
    return errAsync(invalidInput('the simulated host cannot unpack base.txz', 'run nest bootstrap without --archive there'))
  }
  const release = r.value
  const host = hostFor(ctx)
  return findLayout(host, ctx.warn).andThen((found) => {
    const base = found ? okAsync({layout: found, steps: [] as Step[]}) : layoutSteps(host, o.pool)
    return base.andThen(({layout, steps}) => {
      const have = found ? loadWorld(host, found).map(releasesOf) : okAsync<string[], NestError>([])
      return have.andThen((releases) => {
        const result: BootstrapResult = {dryRun: false, release, dataset: releaseDataset(layout, release), snapshot: releaseSnapshot(layout, release), path: releasePath(layout, release), created: false}
        if (releases.includes(release)) return okAsync<BootstrapResult | PlanResult, NestError>(result)
        const root = releasePath(layout, release)
        const files = ctx.host.kind === 'sim' ? okAsync<Action[], NestError>(skeleton(root, release)) : unpack(host, root, release, o.archive)
        return files.andThen((populate) => {
          const ds = releaseDataset(layout, release)
          const all: Step[] = [
            ...steps,
            {id: 'zfs create release', why: `${release}'s files`, action: {kind: 'run', argv: ['zfs', 'create', '-o', `nest:release=${release}`, ds]}, undo: [{kind: 'run', argv: ['zfs', 'destroy', '-r', ds]}]},
            ...populate.map((a): Step => ({id: a.kind, why: `${release}'s files`, action: a, undo: []})),
            {id: 'zfs snapshot', why: 'what jail roots are cloned from', action: {kind: 'run', argv: ['zfs', 'snapshot', releaseSnapshot(layout, release)]}, undo: []},
          ]
          if (o.dryRun) {
            return okAsync<BootstrapResult | PlanResult, NestError>({dryRun: true, name: release, steps: all.map((s) => ({id: s.id, why: s.why, action: describeAction(s.action), undo: s.undo.map(describeAction)}))})
          }
          return executePlan({host, progress: ctx.progress, warn: ctx.warn, parallel: 1}, release, all).map(() => ({...result, created: true}))
        })
      })
    })
  })
}
