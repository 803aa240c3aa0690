// The spawned end-to-end ring: nest as a real process (bin/run.js), the simulated tools as the
// executables in <root>/bin, jail(8)'s hooks and `jexec … nest` as processes, each command once.
// The hosts it starts from are prepared in-process and saved; each test restores the one it needs.
// hooks.test.ts has the nesting half: jexec … nest, and jail(8)'s hooks.
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import {makeSim, nestSteps, type TestSim} from '../helpers/sim.js'

let sim: TestSim
const WEB = '/nest/jails/web/root'
const nest = (...args: string[]) => sim.spawnNest(...args)

const steps = (...lines: string[][]): Promise<void> => nestSteps(sim, ...lines)

let fresh: string
let web: string

beforeAll(async () => {
  sim = await makeSim()
  fresh = sim.save()
  await steps(['bootstrap', '14.3-RELEASE'], ['create', 'web'])
  web = sim.save()
})
afterAll(() => sim.cleanup())
beforeEach(() => sim.restore(web))

describe('nest as a process', {timeout: 180_000}, () => {
  // Each jail start and stop costs a dozen processes: the ring starts and stops web twice in all.
  it('bootstrap, create, start, list and exec on a fresh host', async () => {
    sim.restore(fresh)
    const b = await nest('bootstrap', '14.3-RELEASE')
    expect(b.code, b.stderr).toBe(0)
    expect(b.stdout).toBe('14.3-RELEASE: bootstrapped (zroot/nest/releases/14.3-RELEASE@base, /nest/releases/14.3-RELEASE)\n')
    const c = await nest('create', 'web', '--no-start')
    expect(c.code, c.stderr).toBe(0)
    expect(c.stdout).toBe(`web: created (stopped, policy parent, ${WEB})\n`)
    const up = await nest('start', 'web')
    expect(up).toMatchObject({code: 0, stdout: 'web: started\n'})
    const list = await nest('list', '--json')
    expect(JSON.parse(list.stdout)).toEqual({status: 0, warnings: [], result: {jails: [
      {name: 'web', jail: 'web', jid: sim.jid('web'), state: 'running', parent: null, policy: 'parent', release: '14.3-RELEASE', path: WEB, children: {cur: 0, max: 16}},
    ]}})
    const e = await nest('exec', 'web', '--', 'sysctl', '-n', 'security.jail.jailed')
    expect(e).toEqual({code: 0, stdout: '1\n', stderr: ''})
  })

  it('restart, stop, cleanup and destroy', async () => {
    sim.restore(web)
    const r = await nest('restart', 'web', '--json')
    expect(r.code, r.stderr).toBe(0)
    const jails = (JSON.parse(r.stdout) as {result: {jails: Array<{name: string; outcome: string}>}}).result.jails
    expect(jails.map((j) => `${j.name} ${j.outcome}`)).toEqual(['web restarted'])
    expect(sim.alive()).toEqual(['web'])
    const down = await nest('stop', 'web')
    expect(down.code, down.stderr).toBe(0)
    expect(down.stdout).toBe('web: stopped; 1 leftover mount(s) unmounted\n')
    expect(sim.alive()).toEqual([])
    expect(sim.mountsBelow(WEB)).toEqual([])
    const clean = await nest('cleanup', 'web', '--json')
    expect(JSON.parse(clean.stdout)).toEqual({status: 0, warnings: [], result: {jail: 'web', root: WEB, unmounted: [], remaining: []}})
    const d = await nest('destroy', 'web')
    expect(d.code, d.stderr).toBe(0)
    expect(d.stdout).toBe('web: destroyed (3 dataset(s), /etc/jail.conf.d/web.conf)\n')
    expect(sim.kernel().datasets.filter((x) => x.name.startsWith('zroot/nest/jails/'))).toEqual([])
  })

  it('policy list, show and check; console reaches jexec -l (login is not simulated)', async () => {
    sim.restore(web)
    const list = await nest('policy', 'list', '--json')
    expect((JSON.parse(list.stdout) as {result: {policies: Array<{name: string}>}}).result.policies.map((p) => p.name)).toEqual(['build-parent', 'leaf', 'parent', 'vm-parent'])
    const show = await nest('policy', 'show', 'leaf', '--json')
    expect(JSON.parse(show.stdout)).toMatchObject({status: 0, result: {name: 'leaf', delegate: false, params: {'children.max': '0'}, problems: []}})
    const check = await nest('policy', 'check', '/nonexistent.conf')
    expect(check.code).toBe(4)
    const c = await nest('console', 'web')
    expect(c.code).toBe(69)
    expect(c.stderr).toContain('sim: login: not simulated')
  })
})
