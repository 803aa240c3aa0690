// The faults sweep: a fault at every step of a command (each tool call of a clean run, from the
// simulated host's invocation log, made to fail in turn with EIO), in-process, each from the
// same saved host. After each: the exit code; the plain-output message names the failing step;
// the host (jails, datasets with their properties, mounts, nest's files) is as before (create)
// or as a re-run leaves it; and the same command run again converges to the clean run's state.
// The exit codes a fault gives: create 10 (host) at every point; destroy 10, or 7 (partial:
// mounts stay below a root) or 5 (conflict: still running after jail -r) when the stop before
// it fails, 0 where the fault is absorbed (a failed jail(8) unmount nest retries); start 7 (the
// jails below a failed one skipped) or 10; stop and restart 7 or 10, 0 where absorbed.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {addFault, clearFaults} from '../../src/sim/control.js'
import type {TestSim} from '../helpers/sim.js'
import {callLine, clearCalls, faultAt, GW, isPoint, readCalls, stateDiff, sweepHosts, sweepState} from '../helpers/sweep.js'

let sim: TestSim
let saved: Record<string, string> = {}

beforeAll(async () => {
  ;({sim, saved} = await sweepHosts())
}, 120_000)
afterAll(() => sim.cleanup())

const state = (): string[] => sweepState(sim)

/** What a command's sweep expects of the state a failed run leaves. */
type After = 'before' | 'before or clean' | 'any'

interface Point {
  call: string
  code: number
  problems: string[]
}

/** A fault at every step of `argv` run on saved host `from`; each point's problems (none: it converged). */
async function sweep(from: string, argv: string[], after: After, rerunOk: readonly number[] = [0]): Promise<Point[]> {
  sim.restore(saved[from] as string)
  clearCalls(sim)
  const c = await sim.nest(...argv)
  expect(c.code, c.stderr).toBe(0)
  const clean = state()
  const calls = readCalls(sim)
  const points: Point[] = []
  for (const [i, call] of calls.entries()) {
    if (!isPoint(call)) continue
    sim.restore(saved[from] as string)
    const before = state()
    await addFault(sim.root, faultAt(calls, i))
    const r = await sim.nest(...argv)
    await clearFaults(sim.root)
    const problems: string[] = []
    const now = state()
    const absorbed = r.code === 0 && stateDiff(clean, now).length === 0
    if (!absorbed) {
      if (r.code === 0) problems.push(`exit 0, yet not the clean run's state: ${stateDiff(clean, now).join('; ')}`)
      else if (!/^nest: .*step "/m.test(r.stderr)) problems.push(`the message names no step: ${r.stderr.trim()}`)
      const back = stateDiff(before, now)
      if (after !== 'any' && back.length > 0 && !(after === 'before or clean' && stateDiff(clean, now).length === 0)) problems.push(`not as before: ${back.join('; ')}`)
    }
    const again = await sim.nest(...argv)
    const left = stateDiff(clean, state())
    // A fault the run absorbed (a note it could not write: nest's lifecycle record) left the clean run's state: the re-run says it is done already (exit 5).
    if (!rerunOk.includes(again.code) && !(absorbed && again.code === 5)) problems.push(`the re-run exits ${again.code}: ${again.stderr.trim()}`)
    if (left.length > 0) problems.push(`the re-run does not converge: ${left.join('; ')}`)
    points.push({call: callLine(call), code: r.code, problems})
  }
  return points
}

const report = (argv: readonly string[], points: readonly Point[]): void => {
  const bad = points.filter((p) => p.problems.length > 0)
  const codes = [...new Set(points.map((p) => p.code))].sort((x, y) => x - y).map((c) => `${c} x${points.filter((p) => p.code === c).length}`)
  process.stderr.write(`faults sweep: nest ${argv.join(' ')}: ${points.length - bad.length}/${points.length} fault points converge (exit ${codes.join(', ')})\n`)
}

describe('a fault at every step of create: rolled back to the state before, the step named, a re-run converges', () => {
  it.each([
    ['bootstrapped', ['create', 'web']],
    ['web', ['create', 'web/db']],
    ['lite', ['create', 'lite/a', '--policy', 'leaf']],
    ['bootstrapped', GW],
    ['gw', ['create', 'gw/hub', '--vnet', '--ip4', '10.1.0.2/24', '--policy', 'leaf']],
    ['gw', ['create', 'gw/app', '--ip4', 'lo1|10.0.0.2', '--policy', 'leaf']],
  ])('from %s: nest %j', async (from, argv) => {
    const points = await sweep(from, argv, 'before')
    report(argv, points)
    expect(points.length).toBeGreaterThan(8)
    expect(points.filter((p) => p.problems.length > 0)).toEqual([])
    expect(points.every((p) => p.code === 0 || p.code === 10 || p.code === 6)).toBe(true)
  }, 120_000)
})

describe('a fault at every step of destroy: the step named, a re-run finishes it', () => {
  it.each([
    ['web/db', ['destroy', 'web/db', '--force']],
    ['web/db', ['destroy', 'web', '--recursive', '--force']],
    ['web/db stopped', ['destroy', 'web', '--recursive']],
  ])('from %s: nest %j', async (from, argv) => {
    // A re-run after a fault absorbed (nothing left to destroy) says so: exit 4.
    const points = await sweep(from, argv, 'any', [0, 4])
    report(argv, points)
    expect(points.filter((p) => p.problems.length > 0)).toEqual([])
  }, 120_000)
})

describe('a fault at every step of start, stop and restart: the step named, a re-run converges', () => {
  // What is left in between is reported per jail (exit 7): the jails that did their part stay as they are.
  it.each([
    ['web/db stopped', ['start', 'web']],
    ['web/db', ['stop', 'web']],
    ['web/db', ['restart', 'web']],
    ['gw stopped', ['start', 'gw']],
    ['gw', ['stop', 'gw']],
  ])('from %s: nest %j', async (from, argv) => {
    const points = await sweep(from, argv, 'any')
    report(argv, points)
    expect(points.filter((p) => p.problems.length > 0).map((p) => `${p.call}: ${p.problems.join(' | ')}`)).toEqual([])
  }, 180_000)
})
