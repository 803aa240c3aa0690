// A newcomer's first steps in a jail on the simulated host: `nest exec web -- ls /` runs the
// simulator's ls in web's view (src/sim/tools/utils.ts) and exits 0; `nest console web` says in
// one line that a console needs login(1), not simulated, and what to run instead (exit 69).
import {afterAll, beforeAll, expect, it} from 'vitest'

import {makeSim, type TestSim} from '../helpers/sim.js'

let sim: TestSim
beforeAll(async () => {
  sim = await makeSim()
  for (const args of [['bootstrap', '14.3-RELEASE'], ['create', 'web']]) {
    const r = await sim.nest(...args)
    expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0)
  }
})
afterAll(() => sim.cleanup())

it('nest exec web -- ls / lists web\'s root and exits 0', async () => {
  const r = await sim.nest('exec', 'web', '--', 'ls', '/')
  expect(r.code, r.stderr).toBe(0)
  expect(r.stdout.split('\n').length).toBeGreaterThan(1)
  const jid = sim.jid('web') as number
  const root = sim.kernel().jails.find((j) => j.jid === jid)?.path as string
  const {readdirSync} = await import('node:fs')
  const names = readdirSync(sim.fs(root)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  expect(r.stdout).toBe(names.map((n) => `${n}\n`).join(''))
})

it('nest exec web -- uname -n and hostname give web\'s host name', async () => {
  const h = await sim.nest('exec', 'web', '--', 'hostname')
  expect(h.code, h.stderr).toBe(0)
  expect((await sim.nest('exec', 'web', '--', 'uname', '-n')).stdout).toBe(h.stdout)
})

it('nest console web says plainly that a console is not simulated, exit 69', async () => {
  const r = await sim.nest('console', 'web')
  expect(r.code).toBe(69)
  expect(r.stderr).toContain('sim: login: not simulated (a console needs login(1) on a real FreeBSD host); run commands with nest exec web -- CMD\n')
})
