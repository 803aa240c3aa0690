// `nest sim`: the simulated host's control plane (init, reset, status, env, snapshot,
// restore, faults, latency), reached through the host selector.
import {readFile, writeFile} from 'node:fs/promises'
import path from 'node:path'

import {errAsync, ResultAsync} from 'neverthrow'

import type {CommandCtx} from '../context/command.js'
import {conflict, internal, invalidInput, type NestError, notFound} from '../domain/errors.js'
import {defaultSimRoot} from '../host/select.js'
import {simControl} from '../host/sim-control.js'
import type {FaultInput, LatencyResult, SimEnvResult, SimFileResult, SimProcStarted, SimProcStopped, SimRootResult, SimRacct, SimStatus, SimVmAdded} from '../render/sim.js'

type Fault = Awaited<ReturnType<typeof simControl.addFault>>

function simRoot(ctx: CommandCtx): ResultAsync<string, NestError> {
  if (ctx.host.kind !== 'sim' || !ctx.host.simRoot) {
    return errAsync(conflict('nest sim acts on the simulated host, and this host is FreeBSD', 'use --host sim'))
  }
  return ResultAsync.fromSafePromise(Promise.resolve(ctx.host.simRoot))
}

const wrap = <T>(p: Promise<T>, what: string): ResultAsync<T, NestError> =>
  ResultAsync.fromPromise(p, (e) => internal(`${what}: ${e instanceof Error ? e.message : String(e)}`))


export function initSimHost(ctx: CommandCtx): ResultAsync<SimRootResult, NestError> {
  return simRoot(ctx).map((root) => ({root}))
}

export function resetSimHost(ctx: CommandCtx): ResultAsync<SimRootResult, NestError> {
  return simRoot(ctx).andThen((root) => wrap(simControl.resetSim(root), 'reset').map(() => ({root})))
}

export function showSimStatus(ctx: CommandCtx): ResultAsync<SimStatus, NestError> {
  return simRoot(ctx).map((root) => simControl.statusSim(root))
}


export function showSimEnv(ctx: CommandCtx): ResultAsync<SimEnvResult, NestError> {
  return simRoot(ctx).map((root) => ({root, bin: simControl.simPaths(root).bin}))
}


export function snapshotSimHost(ctx: CommandCtx, file: string): ResultAsync<SimFileResult, NestError> {
  const out = path.resolve(file)
  return simRoot(ctx).andThen((root) =>
    wrap(writeFile(out, `${JSON.stringify(simControl.snapshotSim(root))}\n`), `cannot write ${out}`).map(() => ({root, file: out})),
  )
}

export function restoreSimHost(ctx: CommandCtx, file: string): ResultAsync<SimFileResult, NestError> {
  const src = path.resolve(file)
  return simRoot(ctx).andThen((root) =>
    ResultAsync.fromPromise(readFile(src, 'utf8'), () => notFound(`${src}: no such file`, 'give a file written by nest sim snapshot'))
      .andThen((text) => {
        try {
          const snap = JSON.parse(text) as {kernel?: {version?: number}; control?: unknown}
          if (snap.kernel?.version !== 1 || !snap.control) throw new Error('not a snapshot')
          return wrap(simControl.restoreSim(root, snap as Parameters<typeof simControl.restoreSim>[1]), 'restore')
        } catch {
          return errAsync(invalidInput(`${src}: not a simulated-host snapshot`, 'give a file written by nest sim snapshot'))
        }
      })
      .map(() => ({root, file: src})),
  )
}

/** What a fault says: the simulator's own FaultSpec, so the two cannot drift apart. */

export function addSimFault(ctx: CommandCtx, spec: FaultInput): ResultAsync<Fault, NestError> {
  if (spec.probability !== undefined && (spec.probability < 0 || spec.probability > 1)) {
    return errAsync(invalidInput(`probability ${spec.probability} is not between 0 and 1`))
  }
  try {
    if (spec.match) new RegExp(spec.match)
  } catch {
    return errAsync(invalidInput(`--match "${spec.match}" is not a regular expression`))
  }
  return simRoot(ctx).andThen((root) =>
    ResultAsync.fromPromise(simControl.addFault(root, spec), (e) => invalidInput(e instanceof Error ? e.message : String(e), 'use an errno name such as EPERM, EBUSY, EIO')),
  )
}

export function clearSimFaults(ctx: CommandCtx): ResultAsync<SimRootResult, NestError> {
  return simRoot(ctx).andThen((root) => wrap(simControl.clearFaults(root), 'clear faults').map(() => ({root})))
}


export function setSimLatency(ctx: CommandCtx, spec: string): ResultAsync<LatencyResult, NestError> {
  let latency: Record<string, number>
  try {
    latency = simControl.parseLatency(spec)
  } catch (error) {
    return errAsync(invalidInput((error as Error).message, 'for example: jail=200,zfs=20'))
  }
  return simRoot(ctx).andThen((root) => wrap(simControl.setLatency(root, latency), 'latency').map(() => ({root, latency})))
}

/** `nest sim vm add NAME --conf FILE [--running]`: a vm-bhyve guest on the simulated host, its NAME.conf read from FILE. */
export function addSimVm(ctx: CommandCtx, spec: {name: string; conf?: string; disk?: string; running: boolean}): ResultAsync<SimVmAdded, NestError> {
  const read = (file: string, hint: string): ResultAsync<string | undefined, NestError> => {
    const src = path.resolve(file)
    return ResultAsync.fromPromise<string | undefined, NestError>(readFile(src, 'utf8'), () => notFound(`${src}: no such file`, hint))
  }
  const none: ResultAsync<string | undefined, NestError> = ResultAsync.fromSafePromise(Promise.resolve(undefined))
  // --disk: a shipped guest fixture by name, else a fixture file (its JSON text goes to the simulator).
  const disk: ResultAsync<string | undefined, NestError> = spec.disk === undefined ? none : simControl.GUEST_NAMES.includes(spec.disk) ? ResultAsync.fromSafePromise(Promise.resolve(spec.disk)) : read(spec.disk, `give a guest fixture: one of ${simControl.GUEST_NAMES.join(', ')}, or a fixture file`)
  const conf = spec.conf === undefined ? none : read(spec.conf, 'give a vm-bhyve NAME.conf with --conf')
  return simRoot(ctx).andThen((root) =>
    disk.andThen((d) => conf.map((c) => ({d, c}))).andThen(({d, c}) =>
      ResultAsync.fromPromise(simControl.addVmGuest(root, {name: spec.name, running: spec.running, ...(c === undefined ? {} : {conf: c}), ...(d === undefined ? {} : {disk: d})}), (e) =>
        invalidInput(e instanceof Error ? e.message : String(e)),
      ),
    ),
  )
}

/** `nest sim racct on|off`: the simulated host as booted with kern.racct.enable=1 or 0. */
export function setSimRacct(ctx: CommandCtx, enabled: boolean): ResultAsync<SimRacct, NestError> {
  return simRoot(ctx).andThen((root) => wrap(simControl.setRacct(root, enabled), 'racct'))
}

export {defaultSimRoot}

/** What `nest sim proc start` asks the process to do (its flags, parsed). */
export interface ProcStartInput {
  jail: string
  comm?: string
  rawSocket: boolean
  socket: string[]
  listen: number[]
  shm: number[]
  sem: number[]
  msg: number
  mlock?: number
}

const FAMILIES = ['inet', 'inet6', 'local', 'unix', 'route', 'netgraph'] as const

/** `nest sim proc start JAIL ...`: a process in a running jail that uses what its flags say, checked as FreeBSD checks it. */
export function startSimProc(ctx: CommandCtx, input: ProcStartInput): ResultAsync<SimProcStarted, NestError> {
  const bad = input.socket.find((f) => !(FAMILIES as readonly string[]).includes(f))
  if (bad !== undefined) return errAsync(invalidInput(`--socket ${bad}: not a family the simulated kernel has`, `give one of ${FAMILIES.join(', ')}`))
  const sockets = input.socket.map((f) => (f === 'unix' ? 'local' : f)) as Array<'inet' | 'inet6' | 'local' | 'route' | 'netgraph'>
  const spec = {comm: input.comm ?? 'sleep', rawSocket: input.rawSocket, sockets, listen: input.listen, shm: input.shm, sem: input.sem, msg: input.msg, ...(input.mlock === undefined ? {} : {mlock: input.mlock})}
  return simRoot(ctx).andThen((root) =>
    wrap(simControl.startProc(root, input.jail, spec), 'proc start').andThen((r) => ('error' in r ? errAsync(conflict(r.error, r.fix)) : okAsyncOf(r))),
  )
}

/** `nest sim proc stop PID`: the process exits (kill -9 from the host). */
export function stopSimProc(ctx: CommandCtx, pid: number): ResultAsync<SimProcStopped, NestError> {
  return simRoot(ctx).andThen((root) =>
    wrap(simControl.stopProc(root, pid), 'proc stop').andThen((r) => ('error' in r ? errAsync(notFound(r.error, r.fix)) : okAsyncOf(r))),
  )
}

const okAsyncOf = <T>(v: T): ResultAsync<T, NestError> => ResultAsync.fromSafePromise(Promise.resolve(v))
