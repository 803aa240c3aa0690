// The lock of a nest process killed with SIGKILL (no exit handler runs), as real processes:
// the next nest sees that the owner's pid is gone and takes the lock over at once, with a
// notice, instead of waiting for it. (In-process cases: test/commands/locks.test.ts.)
import {spawn} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {nestEnv} from '../helpers/inprocess.js'
import {makeSim, NEST_BIN, nestSteps, type TestSim} from '../helpers/sim.js'

let sim: TestSim

beforeAll(async () => {
  sim = await makeSim()
  await nestSteps(sim, ['bootstrap', '14.3-RELEASE'], ['create', 'web'])
}, 60_000)
afterAll(() => sim.cleanup())

describe('a killed nest\'s lock, as processes', {timeout: 60_000}, () => {
  it('nest stop web killed while it holds the lock: the next nest stop web takes it over at once and stops web', async () => {
    const lock = sim.fs('/var/run/nest/web.lock')
    // Its jail -r waits 20 s (latency) before it acts: it holds web's lock all that time.
    const first = spawn(process.execPath, [NEST_BIN, 'stop', 'web'], {env: nestEnv(sim.root, {NEST_SIM_LATENCY: 'jail=20000'}), stdio: 'ignore'})
    const gone = new Promise((r) => first.on('exit', r))
    for (let i = 0; i < 200 && !existsSync(lock); i++) await new Promise((r) => setTimeout(r, 50))
    const owner = JSON.parse(readFileSync(lock, 'utf8')) as {pid: number; token: string}
    expect(owner).toMatchObject({pid: first.pid, token: 'main'})
    first.kill('SIGKILL')
    await gone
    const t0 = Date.now()
    const r = await sim.spawnNest('stop', 'web')
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toContain(`web: took over the lock of nest process ${first.pid}, which is gone\n`)
    expect(Date.now() - t0).toBeLessThan(15_000)
    expect(sim.alive()).toEqual([])
    expect(existsSync(lock)).toBe(false)
  })
})
