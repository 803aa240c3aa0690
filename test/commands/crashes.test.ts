// The crashes sweep: nest ended as kill -9 ends it (the simulator's crash mode, in-process)
// right after each step of a command (each tool call of a clean run), then the same command
// run again, and separately a destroy --recursive --force: each converges. The re-run ends in
// the clean run's state; the destroy leaves the host as a clean create and destroy leave it
// (what a parent keeps for its children once it had one, its copy of the release, aside).
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

/** What a parent keeps once it had a child (made by the first create, kept by a destroy): not the child's. */
const SHARED = /zroot\/nest\/jails\/web\/(delegated|data\/jails|data\/releases[^"]*)"|\/nest\/jails\/web\/root\/data\/(jails|releases)(\/14\.3-RELEASE)?$|\/nest\/jails\/lite\/root\/nest(\/releases(\/14\.3-RELEASE.*)?)?$|\/nest\/jails\/lite\/root\/nest\/jails$/
/** A bridge a VNET jail's first start made stays for other jails (a destroy leaves it): it is the host's, not the jail's. */
const BRIDGE = /^ifnet \["bridge0","host",/
const own = (lines: readonly string[]): string[] => lines.filter((l) => !SHARED.test(l) && !BRIDGE.test(l))

/** Crash `argv` (on saved host `from`) right after its i-th call; whether it crashed (a child manager's crash fails its caller instead). */
async function crashAt(from: string, argv: readonly string[], calls: ReturnType<typeof readCalls>, i: number): Promise<number> {
  sim.restore(saved[from] as string)
  await addFault(sim.root, faultAt(calls, i, {crash: true}))
  const r = await sim.nest(...argv)
  await clearFaults(sim.root)
  return r.code
}

async function sweep(from: string, argv: string[], name: string): Promise<{points: number; problems: string[]}> {
  sim.restore(saved[from] as string)
  clearCalls(sim)
  const c = await sim.nest(...argv)
  expect(c.code, c.stderr).toBe(0)
  const clean = state()
  const calls = readCalls(sim)
  if (argv[0] === 'create') {
    const d = await sim.nest('destroy', name, '--recursive', '--force')
    expect(d.code, d.stderr).toBe(0)
  }
  const removed = own(state())
  const problems: string[] = []
  for (const [i, call] of calls.entries()) {
    if (!isPoint(call)) continue
    const at = `after ${callLine(call)}`
    const code = await crashAt(from, argv, calls, i)
    // A crash after the last step: the command had done everything; the re-run says so (create:
    // already exists, exit 5; destroy: no such jail, exit 4).
    const done = stateDiff(clean, state()).length === 0
    const again = await sim.nest(...argv)
    const left = stateDiff(clean, state())
    if (again.code !== 0 && !(done && again.code === (argv[0] === 'destroy' ? 4 : 5))) problems.push(`${at} (exit ${code}): the re-run exits ${again.code}: ${again.stderr.trim()}`)
    if (left.length > 0) problems.push(`${at}: the re-run leaves ${left.join('; ')}`)
    await crashAt(from, argv, calls, i)
    const rf = await sim.nest('destroy', name, '--recursive', '--force')
    const rest = stateDiff(removed, own(state()))
    if (rf.code !== 0 && rf.code !== 4) problems.push(`${at}: destroy --recursive --force exits ${rf.code}: ${rf.stderr.trim()}`)
    if (rest.length > 0) problems.push(`${at}: destroy --recursive --force leaves ${rest.join('; ')}`)
  }
  process.stderr.write(`crashes sweep: nest ${argv.join(' ')}: ${calls.filter(isPoint).length} crash points, ${problems.length} problem(s)\n`)
  return {points: calls.filter(isPoint).length, problems}
}

describe('a crash after every step, then the same command again, or destroy --recursive --force: each converges', () => {
  it.each([
    ['bootstrapped', ['create', 'web'], 'web'],
    ['web', ['create', 'web/db'], 'web/db'],
    ['lite', ['create', 'lite/a', '--policy', 'leaf'], 'lite/a'],
    ['web/db', ['destroy', 'web/db', '--force'], 'web/db'],
    ['web/db', ['destroy', 'web', '--recursive', '--force'], 'web'],
    ['bootstrapped', GW, 'gw'],
  ])('from %s: nest %j', async (from, argv, name) => {
    const {points, problems} = await sweep(from, argv, name)
    expect(points).toBeGreaterThan(8)
    expect(problems).toEqual([])
  }, 240_000)

  it('says what it undoes: a create after a crash names the half-made jail and starts over', async () => {
    sim.restore(saved['bootstrapped'] as string)
    await addFault(sim.root, {tool: 'pkg', match: '^-j web install', crash: true})
    expect((await sim.nest('create', 'web')).crashed).toBe(true)
    expect(sim.kernel().datasets.find((x) => x.name === 'zroot/nest/jails/web')?.props['nest:state']).toBe('creating')
    // nest list says so, in the table and in the JSON.
    expect((await sim.nest('list')).stdout).toMatch(/^web +\d+ +running \(half made\) +parent +0\/16 +- +\/nest\/jails\/web\/root$/m)
    const listed = JSON.parse((await sim.nest('list', '--json')).stdout) as {result: {jails: Array<{name: string; halfMade?: boolean}>}}
    expect(listed.result.jails.find((j) => j.name === 'web')?.halfMade).toBe(true)
    const r = await sim.nest('create', 'web')
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/^web: took over the lock of nest process \d+ \(invocation \w+\), which is gone$/m)
    expect(r.stderr).toContain('web: half made by a create that did not finish (nest:state=creating): undoing it, then creating it again\n')
    expect(r.stdout).toMatch(/^web: created \(running, jid \d+, policy parent, \/nest\/jails\/web\/root\)\n$/)
    expect(sim.kernel().datasets.find((x) => x.name === 'zroot/nest/jails/web')?.props['nest:state']).toBe('ready')
    expect((JSON.parse((await sim.nest('list', '--json')).stdout) as {result: {jails: Array<{name: string; halfMade?: boolean}>}}).result.jails.find((j) => j.name === 'web')).not.toHaveProperty('halfMade')
  })
})
