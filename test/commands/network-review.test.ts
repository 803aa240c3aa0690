// Review of the networking of issue 12: each test is a finding that failed before its fix.
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import {hostState as hostStateOf, makeSim, nestSteps, type TestSim} from '../helpers/sim.js'

let sim: TestSim
const nest = (...args: string[]) => sim.nest(...args)
const hostState = (): unknown => hostStateOf(sim, ['/etc/jail.conf.d', '/nest/jails'])
const hostIfs = async (): Promise<string> => (await sim.run('ifconfig', '-l')).stdout
let boot: string

beforeAll(async () => {
  sim = await makeSim()
  await nestSteps(sim, ['bootstrap', '14.3-RELEASE'])
  boot = sim.save()
}, 120_000)
afterAll(() => sim.cleanup())
beforeEach(() => sim.restore(boot))

describe('an epair nest did not make is never destroyed', () => {
  it('a start of gw that meets an epair100 someone else made since fails, and leaves that epair as it is', async () => {
    expect((await nest('create', 'gw', '--vnet', '--ip4', '192.0.2.10/24', '--no-start')).code).toBe(0)
    // The admin's (or another tool's) epair with gw's unit (ifconfig epair100 create: if_epair.c epair_clone_create, an explicit unit).
    expect((await sim.run('ifconfig', 'epair100', 'create')).stdout).toBe('epair100a\n')
    const before = await hostIfs()
    const r = await nest('start', 'gw')
    expect(r.code).not.toBe(0)
    // jail(8) names the prestart command that failed (usr.sbin/jail/command.c finish_command).
    expect(r.stderr).toContain('nest: gw: step "jail -f /etc/jail.conf.d/gw.conf -c gw": jail: ifconfig: interface epair100 already exists\njail: gw: /sbin/ifconfig epair100 create up: failed; epair100a is not this start\'s, so nest leaves it: if gw left it (stopped without its exec.poststop, e.g. jail -R), ifconfig epair100a destroy, then start again (what it had done is undone; once the cause is fixed, run nest start gw again)\n')
    expect(await hostIfs()).toBe(before)
    expect(before).toContain('epair100a epair100b')
  })
})

describe('an epair a gw stopped without exec.poststop left', () => {
  it('jail -R leaves epair100a (and the b side, home under its rc.conf name): the start says so and what to do, and then works', async () => {
    expect((await nest('create', 'gw', '--vnet', '--ip4', '192.0.2.10/24')).code).toBe(0)
    // jail -R removes the jail without its commands (usr.sbin/jail/jail.c): no exec.poststop.
    expect((await sim.run('jail', '-R', 'gw')).code).toBe(0)
    expect(await hostIfs()).toBe('lo0 epair100a bridge0 vnet0\n')
    const r = await nest('start', 'gw')
    expect(r.code).toBe(10)
    expect(r.stderr).toContain('epair100a is not this start\'s, so nest leaves it: if gw left it (stopped without its exec.poststop, e.g. jail -R), ifconfig epair100a destroy, then start again')
    expect(await hostIfs()).toBe('lo0 epair100a bridge0 vnet0\n')
    expect((await sim.run('ifconfig', 'epair100a', 'destroy')).code).toBe(0)
    const again = await nest('start', 'gw')
    expect(again.code, again.stderr).toBe(0)
    expect((await nest('exec', 'gw', '--', 'ifconfig', '-l')).stdout).toBe('lo0 vnet0\n')
  })
})

describe('--ifname', () => {
  it('lo0 is refused: a new vnet has its own lo0 (sys/net/if_loop.c), and a rename to a name in use fails (sys/net/if.c if_rename: EEXIST)', async () => {
    const before = hostState()
    const r = await nest('create', 'gw', '--vnet', '--ip4', '192.0.2.10/24', '--ifname', 'lo0')
    expect(r.code).toBe(3)
    expect(r.stderr).toBe('nest: --ifname "lo0": every VNET jail has its own lo0 already (give the interface another name, like vnet0 or vtnet0)\n')
    expect(hostState()).toEqual(before)
  })
})

describe('messages', () => {
  it('an interface that is missing: the example is not another jail\'s epair (its exec.poststop destroys it, and the alias with it)', async () => {
    expect((await nest('create', 'gw', '--vnet', '--ip4', '192.0.2.10/24')).code).toBe(0)
    const before = hostState()
    const r = await nest('create', 'x', '--ip4', 'em0|192.0.2.50/24')
    expect(r.code).toBe(6)
    expect(r.stderr).toBe('nest: x: no interface em0 here (ifconfig -l: lo0 epair100a bridge0) (give the address on one of these interfaces, e.g. --ip4 bridge0|192.0.2.10/24, or create em0 first)\n')
    expect(hostState()).toEqual(before)
  })
})

describe('two VNET creates at once', () => {
  it('take different epair units: the units of a level are chosen under a lock of their own', async () => {
    const [a, b] = await Promise.all([
      nest('create', 'a', '--vnet', '--ip4', '192.0.2.30/24', '--policy', 'leaf'),
      nest('create', 'b', '--vnet', '--ip4', '192.0.2.31/24', '--policy', 'leaf'),
    ])
    expect(a.code, a.stderr).toBe(0)
    expect(b.code, b.stderr).toBe(0)
    expect((await hostIfs()).trim().split(' ').sort()).toEqual(['bridge0', 'epair100a', 'epair101a', 'lo0'])
  })
})


describe('what a parent\'s root can set, on the host\'s terminal', () => {
  it('a child\'s nest:policy holding a terminal escape is printed with ? for the control characters', async () => {
    await nestSteps(sim, ['create', 'web'], ['create', 'web/db', '--policy', 'leaf'])
    // Any user property of the datasets below web's delegated one is web's root's to set (zfs-jail(8)).
    const ds = sim.kernel().datasets.find((d) => d.props['nest:name'] === 'db')?.name as string
    expect((await sim.run('zfs', 'set', 'nest:policy=x\u001b[2Jy', ds)).code).toBe(0)
    const out = (await nest('list')).stdout
    expect(out).not.toContain('\u001b')
    expect(out).toMatch(/\n {2}db +\d+ +running +x\?\[2Jy /)
  })
})
