// nest tighten --what-if as real processes: the twin's tools are the executables in the twin's
// bin (shims bound to the twin's root), and what they start (jail(8)'s hooks, `jexec p nest
// start a`) runs on the twin too. The tree is prepared in-process; the live host is untouched.
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {makeSim, nestSteps, type TestSim} from '../helpers/sim.js'

let sim: TestSim

beforeAll(async () => {
  sim = await makeSim()
  await nestSteps(sim, ['bootstrap', '14.3-RELEASE'], ['create', 'p', '--policy', 'vm-parent'], ['create', 'p/a'])
}, 60_000)
afterAll(() => sim.cleanup())

describe('nest tighten --what-if as a process', {timeout: 120_000}, () => {
  it('proves a policy on a twin: the lifecycle runs there, the live kernel and files stay as they were', async () => {
    const file = path.join(path.dirname(sim.root), 'tight.conf')
    writeFileSync(file, readFileSync(path.resolve(import.meta.dirname, '../../policies/vm-parent.conf'), 'utf8').replace('allow.raw_sockets;\n', '').replace('children.max = 256;', 'children.max = 4;'))
    const kernel = readFileSync(path.join(sim.root, 'kernel.json'), 'utf8')
    const conf = readFileSync(sim.fs('/etc/jail.conf.d/p.conf'), 'utf8')
    const r = await sim.spawnNest('tighten', 'p', '--policy', file, '--what-if', '--json')
    expect(r.code, r.stderr).toBe(0)
    const doc = JSON.parse(r.stdout)
    expect(doc.result.twin.phases.map((x: {phase: string; ok: boolean; lines: string[]}) => [x.phase, x.ok, x.lines])).toEqual([
      ['stop', true, ['p/a: stopped', 'p: stopped']],
      ['start', true, ['p: started', 'p/a: started']],
      ['stop again', true, ['p/a: stopped', 'p: stopped']],
      ['cleanup', true, []],
    ])
    expect(readFileSync(path.join(sim.root, 'kernel.json'), 'utf8')).toBe(kernel)
    expect(readFileSync(sim.fs('/etc/jail.conf.d/p.conf'), 'utf8')).toBe(conf)
    expect(sim.alive()).toEqual(['p', 'p.a'])
  })
})
