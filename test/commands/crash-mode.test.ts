// The simulator's crash mode in-process: a fault that ends the calling nest invocation after
// the call, as kill -9 would: no rollback, nothing more printed, its lock left behind and taken
// over at once by the next nest (its owner is gone).
import {existsSync} from 'node:fs'

import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import {addFault, loadControl} from '../../src/sim/control.js'
import {makeSim, nestSteps, type TestSim} from '../helpers/sim.js'

let sim: TestSim
/** The notice of a lock taken over from a crashed owner. */
const TAKEN_OVER = /^web: took over the lock of nest process \d+ \(invocation \w+\), which is gone$/m
let boot: string
beforeAll(async () => {
  sim = await makeSim()
  await nestSteps(sim, ['bootstrap', '14.3-RELEASE'])
  boot = sim.save()
})
afterAll(() => sim.cleanup())
beforeEach(() => sim.restore(boot))

describe('nest sim fault --crash', () => {
  it('ends create after its zfs clone: the clone is made, nothing after it runs, nothing is undone', async () => {
    const f = await sim.nest('sim', 'fault', 'zfs', '--match', '^clone ', '--crash', '--json')
    expect(f.code, f.stderr).toBe(0)
    expect((JSON.parse(f.stdout) as {result: {crash: boolean}}).result.crash).toBe(true)
    const r = await sim.nest('create', 'web', '--json')
    expect(r).toMatchObject({code: 137, crashed: true, stdout: ''})
    expect(loadControl(sim.root).faults.every((x) => x.fired)).toBe(true)
    const names = sim.kernel().datasets.map((d) => d.name)
    expect(names).toContain('zroot/nest/jails/web/root')
    expect(names).not.toContain('zroot/nest/jails/web/data')
    expect(sim.alive()).toEqual([])
    // Its lock stays behind, as a killed process leaves it.
    expect(existsSync(sim.fs('/var/run/nest/web.lock'))).toBe(true)
  })

  it('the next nest takes a crashed owner\'s lock over at once, and says so', async () => {
    await addFault(sim.root, {tool: 'zfs', match: '^clone ', crash: true})
    expect((await sim.nest('create', 'web')).crashed).toBe(true)
    const started = Date.now()
    const l = await sim.nest('destroy', 'web')
    expect(Date.now() - started).toBeLessThan(5000)
    expect(l.stderr).toMatch(TAKEN_OVER)
  })

  it('a crash inside a hook that jail(8) runs ends nest, and jail(8) goes on to its end', async () => {
    await addFault(sim.root, {tool: 'zfs', match: '^jail web ', crash: true})
    const r = await sim.nest('create', 'web')
    expect(r.crashed).toBe(true)
    // jail -c finished without the nest that started it: web runs, with its dataset attached.
    expect(sim.alive()).toEqual(['web'])
    expect(sim.kernel().jails.find((j) => j.name === 'web')?.datasets).toEqual(['zroot/nest/jails/web/data'])
  })
})
