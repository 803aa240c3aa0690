// The spawned ring for networks: nest, the simulated tools, jail(8)'s hooks (the epair's
// ifconfig calls, vnet.interface) and service(8) as real processes, once each.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {makeSim, nestSteps, type TestSim} from '../helpers/sim.js'

let sim: TestSim

beforeAll(async () => {
  sim = await makeSim()
  await nestSteps(sim, ['bootstrap', '14.3-RELEASE'])
})
afterAll(() => sim.cleanup())

describe('a VNET jail, as processes', {timeout: 180_000}, () => {
  it('create gw --vnet, its interface inside, the bridge outside; service jail stop and start', async () => {
    const c = await sim.spawnNest('create', 'gw', '--vnet', '--ip4', '192.0.2.10/24', '--defaultrouter', '192.0.2.1')
    expect(c.code, c.stderr).toBe(0)
    expect(c.stdout).toMatch(/^gw: created \(running, jid \d+, policy parent, \/nest\/jails\/gw\/root\)\n$/)
    const inside = await sim.spawnNest('exec', 'gw', '--', 'ifconfig', 'vnet0')
    expect(inside.code, inside.stderr).toBe(0)
    expect(inside.stdout).toContain('\tinet 192.0.2.10 netmask 0xffffff00 broadcast 192.0.2.255\n')
    const bridge = await sim.spawnTool('ifconfig', 'bridge0')
    expect(bridge.stdout).toContain('\tmember: epair100a flags=143<LEARNING,DISCOVER,AUTOEDGE,AUTOPTP>\n')
    expect(await sim.spawnTool('service', 'jail', 'stop', 'gw')).toMatchObject({code: 0, stdout: 'Stopping jails: gw.\n'})
    expect((await sim.spawnTool('ifconfig', '-l')).stdout).toBe('lo0 bridge0\n')
    expect(await sim.spawnTool('service', 'jail', 'start', 'gw')).toMatchObject({code: 0, stdout: 'Starting jails: gw.\n'})
    expect((await sim.spawnTool('ifconfig', '-l')).stdout).toBe('lo0 bridge0 epair100a\n')
    const again = await sim.spawnNest('exec', 'gw', '--', 'ifconfig', '-l')
    expect(again.stdout).toBe('lo0 vnet0\n')
  })
})
