// Sweeps over every step of a command: the tool calls of a clean run, read from the simulated
// host's invocation log, each made the target of a scripted fault (or a crash) in turn.
import {readFileSync, writeFileSync} from 'node:fs'

import {type FaultSpec} from '../../src/sim/control.js'
import {simPaths} from '../../src/sim/store.js'
import type {TestSim} from './sim.js'

/** One tool call of a run, as the simulator logged it. */
export interface Call {
  tool: string
  argv: string[]
  jail: string | null
}

/** Forget the calls logged so far. */
export function clearCalls(sim: TestSim): void {
  writeFileSync(simPaths(sim.root).log, '')
}

/** The tool calls logged since the last clearCalls (programs a hook ran are not tool calls). */
export function readCalls(sim: TestSim): Call[] {
  return readFileSync(simPaths(sim.root).log, 'utf8').split('\n').filter((l) => l !== '')
    .map((l) => JSON.parse(l) as {tool?: string; argv: string[]; jail: string | null})
    .flatMap((c) => (c.tool === undefined ? [] : [{tool: c.tool, argv: c.argv, jail: c.jail}]))
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** A fault (or crash) on exactly the i-th call of `calls`: its argv, and which of the identical calls it is. */
export function faultAt(calls: readonly Call[], i: number, extra: Partial<FaultSpec> = {}): FaultSpec {
  const c = calls[i] as Call
  const line = c.argv.join(' ')
  const nth = calls.slice(0, i + 1).filter((x) => x.tool === c.tool && x.argv.join(' ') === line).length
  return {tool: c.tool, match: `^${escape(line)}$`, nth, errno: 'EIO', ...extra}
}

/** How a call reads in a report: `zfs destroy -r zroot/nest/jails/web (in web)`. */
export const callLine = (c: Call): string => `${c.tool} ${c.argv.join(' ')}${c.jail ? ` (in ${c.jail})` : ''}`
