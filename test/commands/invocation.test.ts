// The in-process machinery itself: nest command lines run side by side in one process share
// no output, exit code or environment; oclif's parse errors end as bin/run.js ends them; and a
// program the simulator runs in-process is a process of its jail while it runs (pseudo pids).
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {callTool, inProcessPrograms} from '../../src/sim/inprocess.js'
import {loadKernel} from '../../src/sim/store.js'
import {makeSim, type TestSim} from '../helpers/sim.js'

let a: TestSim
let b: TestSim
let webRunning: string

beforeAll(async () => {
  a = await makeSim()
  b = await makeSim()
  for (const args of [['bootstrap', '14.3-RELEASE'], ['create', 'web']]) {
    const r = await a.nest(...args)
    expect(r.code, r.stderr).toBe(0)
  }
  webRunning = a.save()
})
afterAll(() => {
  a.cleanup()
  b.cleanup()
})

describe('in-process invocations', () => {
  it('run side by side with their own output, exit code and environment', async () => {
    a.restore(webRunning)
    const exitBefore = process.exitCode
    const [stop, missing, list] = await Promise.all([a.nest('stop', 'web'), b.nest('start', 'nosuch', '--json'), a.nestWith({NEST_SIM_QUIET: ''}, 'policy', 'list')])
    expect(stop).toEqual({code: 0, stdout: 'web: stopped; 1 leftover mount(s) unmounted\n', stderr: 'web: stopped\n'})
    expect(missing.code).toBe(4)
    expect(JSON.parse(missing.stdout)).toMatchObject({status: 4, error: {kind: 'not-found'}})
    expect(list.code).toBe(0)
    expect(list.stderr).toBe(`nest: using the simulated FreeBSD host at ${a.root}\n`)
    expect(list.stdout).toMatch(/^NAME +ORIGIN/)
    // The process's own edges are untouched: the held lock lived in the invocation's environment.
    expect(process.exitCode).toBe(exitBefore)
    expect(process.env['NEST_HELD_LOCKS']).toBeUndefined()
  })

  it('end a command line oclif cannot parse as bin/run.js does: exit 2, oclif\'s message', async () => {
    const r = await b.nest('sim', 'fault')
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain('Error: Missing 1 required arg:')
    const j = await b.nest('sim', 'fault', '--json')
    expect(j.code).toBe(2)
    expect(JSON.parse(j.stdout)).toMatchObject({status: 2, error: {kind: 'usage'}})
    const unknown = await b.nest('crate', 'web')
    expect(unknown).toEqual({code: 2, stdout: '', stderr: ' ›   Error: command crate web not found\n'})
  })
})

describe('programs the simulator runs in-process', () => {
  it('are processes of their jail while they run: a jail with no persist lives until the last one returns', async () => {
    a.restore(webRunning)
    const root = a.root
    const env = {...process.env, NEST_SIM_ROOT: root}
    const pidsOf = (name: string): number[] | undefined => loadKernel(root).jails.find((j) => j.name === name && j.state === 'ALIVE')?.pids
    const seen: Array<number[] | undefined> = []
    const programs = inProcessPrograms(async (argv, io) => {
      seen.push(pidsOf('t'))
      // Inside t: clear persist; the running program still keeps t alive.
      const code = await callTool(programs, 'jail', ['-m', 'name=t', 'nopersist'], {root, jid: 0, env: io.env})
      seen.push(pidsOf('t'))
      io.out(`${argv.join(' ')}: ${code.code}\n`)
      return 3
    })
    expect((await callTool(programs, 'jail', ['-c', 'name=t', 'path=/nest/jails/web/root', 'persist'], {root, jid: 0, env})).code).toBe(0)
    const r = await callTool(programs, 'jexec', ['t', '/usr/local/bin/nest', 'list'], {root, jid: 0, env})
    expect(r).toEqual({code: 3, stdout: 'list: 0\n', stderr: ''})
    expect(seen).toHaveLength(2)
    expect(seen[0]).toHaveLength(1)
    expect(seen[0]?.[0]).toBeGreaterThanOrEqual(1_000_000_000)
    expect(seen[1]).toEqual(seen[0])
    // The program returned: t had nothing else to keep it.
    expect(pidsOf('t')).toBeUndefined()
    expect(a.alive()).toEqual(['web'])
  })
})
