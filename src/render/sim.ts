// Text renderers for `nest sim` (the JSON form is the result object itself).
import type {simControl} from '../host/sim-control.js'

export type SimStatus = ReturnType<typeof simControl.statusSim>
export type FaultInput = Parameters<typeof simControl.addFault>[1]
export type SimVmAdded = Awaited<ReturnType<typeof simControl.addVmGuest>>
export type SimRacct = Awaited<ReturnType<typeof simControl.setRacct>>
export type SimProcStarted = simControl.ProcStarted
export type SimProcStopped = simControl.ProcStopped

/** `nest sim proc start`: the new pid alone, for `pid=$(nest sim proc start ...)`. */
export const renderSimProcStarted = (r: SimProcStarted): string => String(r.pid)
export const renderSimProcStopped = (r: SimProcStopped): string => `${r.pid}: killed`

export const renderSimRacct = (r: SimRacct): string => `simulated host booted with kern.racct.enable=${r.enabled ? 1 : 0}: ${r.root}`

export interface SimRootResult {
  root: string
}

export interface SimEnvResult {
  root: string
  bin: string
}

export interface SimFileResult {
  root: string
  file: string
}

export interface LatencyResult {
  root: string
  latency: Record<string, number>
}

export const renderSimRoot = (verb: string) => (r: SimRootResult): string => `simulated host ${verb}: ${r.root}`

const shq = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`

/** Shell exports for `eval "$(nest sim env)"`. */
export function renderSimEnv(r: SimEnvResult): string {
  return [
    `export NEST_SIM_ROOT=${shq(r.root)}`,
    'export NEST_HOST=sim',
    `export PATH=${shq(r.bin)}:"$PATH"`,
  ].join('\n')
}

export function renderSimStatus(s: SimStatus): string {
  const lines = [`simulated FreeBSD ${s.osrelease} host at ${s.root}`, `jails: ${s.jails.length}`]
  for (const j of s.jails) lines.push(`  ${String(j.jid).padStart(4)}  ${j.name}  ${j.state}  ${j.path}  children ${j.children.cur}/${j.children.max}`)
  lines.push(`datasets: ${s.datasets}`, `mounts: ${s.mounts.length}`)
  for (const m of s.mounts) lines.push(`  ${m.from} on ${m.on} (${m.fstype})`)
  return lines.join('\n')
}

export const renderSimFile = (verb: string) => (r: SimFileResult): string => `${verb} ${r.file}`

export function renderFault(f: FaultInput & {id: number}): string {
  return `fault ${f.id}: ${f.tool}${f.match ? ` matching /${f.match}/` : ''}, call ${f.nth ?? 1}${f.probability === undefined ? '' : ` then p=${f.probability}`}${f.crash ? ', crash' : ''}${f.midway ? ', midway' : ''}`
}

export function renderLatency(r: LatencyResult): string {
  const parts = Object.entries(r.latency).map(([t, ms]) => `${t}=${ms}ms`)
  return parts.length === 0 ? 'no latency' : `latency: ${parts.join(', ')}`
}

export function renderSimVm(r: SimVmAdded): string {
  const lines = [`vm ${r.name}: ${r.conf}${r.running ? `, running (bhyve pid ${r.pid ?? '?'}, /dev/vmm/${r.name}, run.lock)` : ', stopped'}`]
  for (const l of r.rcConf) lines.push(`  /etc/rc.conf: ${l}`)
  for (const d of r.disks ?? []) lines.push(`  ${d.name}: ${d.path} (${d.dev})`)
  for (const b of r.switches ?? []) lines.push(`  switch bridge: ${b} (vm init makes it at boot)`)
  return lines.join('\n')
}
