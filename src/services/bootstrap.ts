// nest bootstrap RELEASE: nest's tree (<pool>/nest on /nest) and a release to build jails
// from, kept as a dataset with a snapshot (@base) that jail roots are cloned from.
import {errAsync, okAsync, ResultAsync} from 'neverthrow'

import type {CommandCtx} from '../context/command.js'
import {invalidInput, type NestError, notFound} from '../domain/errors.js'
import {parseRelease} from '../domain/names.js'
import {executePlan} from '../engine/execute.js'
import type {Host} from '../host/host.js'
import {readSysctls} from '../host/tools/sysctl.js'
import {listPools} from '../host/tools/zfs.js'
import {type Layout, releaseDataset, releasePath, releaseSnapshot} from '../model/layout.js'
import {planNestTree, planRelease, skeletonActions, unpackActions} from '../plan/bootstrap.js'
import {type Action, describeAction, type Step} from '../plan/steps.js'
import type {BootstrapResult, PlanResult} from '../render/jails.js'
import {findLayout, hostFor, loadWorld, releasesOf} from './world.js'

export interface BootstrapOptions {
  release: string
  archive?: string
  pool?: string
  dryRun: boolean
}

function layoutSteps(host: Host, pool: string | undefined): ResultAsync<{layout: Layout; steps: Step[]}, NestError> {
  return listPools(host).andThen((pools) => {
    const p = pool ?? pools[0]
    if (p === undefined) return errAsync(notFound('no ZFS pool on this host', 'nest keeps jails on ZFS: create a pool first'))
    if (!pools.includes(p)) return errAsync(notFound(`pool ${p}: no such pool`, `use one of: ${pools.join(', ')}`))
    return okAsync(planNestTree(p))
  })
}

/** FreeBSD: base.txz fetched (or given), checked against its MANIFEST, unpacked. */
function unpack(host: Host, root: string, release: string, archive: string | undefined): ResultAsync<Action[], NestError> {
  return readSysctls(host, ['hw.machine', 'hw.machine_arch']).map((s) => unpackActions(root, release, archive, {machine: s.get('hw.machine') ?? 'amd64', arch: s.get('hw.machine_arch') ?? 'amd64'}))
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
        const files = ctx.host.kind === 'sim' ? okAsync<Action[], NestError>(skeletonActions(root, release)) : unpack(host, root, release, o.archive)
        return files.andThen((populate) => {
          const all: Step[] = [...steps, ...planRelease(layout, release, populate)]
          if (o.dryRun) {
            return okAsync<BootstrapResult | PlanResult, NestError>({dryRun: true, name: release, steps: all.map((s) => ({id: s.id, why: s.why, action: describeAction(s.action), undo: s.undo.map(describeAction)}))})
          }
          return executePlan({host, progress: ctx.progress, warn: ctx.warn, parallel: 1}, release, all).map(() => ({...result, created: true}))
        })
      })
    })
  })
}
