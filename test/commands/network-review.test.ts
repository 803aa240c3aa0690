// Review of the networking of issue 12: each test is a finding that failed before its fix.
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import {hostState as hostStateOf, makeSim, nestSteps, type TestSim} from '../helpers/sim.js'

let sim: TestSim
const nest = (...args: string[]) => sim.nest(...args)
const hostState = (): unknown => hostStateOf(sim, ['/etc/jail.conf.d', '/nest/jails'])
let boot: string

beforeAll(async () => {
  sim = await makeSim()
  await nestSteps(sim, ['bootstrap', '14.3-RELEASE'])
  boot = sim.save()
}, 120_000)
afterAll(() => sim.cleanup())
beforeEach(() => sim.restore(boot))

describe('--ifname', () => {
  it('lo0 is refused: a new vnet has its own lo0 (sys/net/if_loop.c), and a rename to a name in use fails (sys/net/if.c if_rename: EEXIST)', async () => {
    const before = hostState()
    const r = await nest('create', 'gw', '--vnet', '--ip4', '192.0.2.10/24', '--ifname', 'lo0')
    expect(r.code).toBe(3)
    expect(r.stderr).toBe('nest: --ifname "lo0": every VNET jail has its own lo0 already (give the interface another name, like vnet0 or vtnet0)\n')
    expect(hostState()).toEqual(before)
  })
})
