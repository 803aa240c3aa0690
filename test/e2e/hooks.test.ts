// The spawned end-to-end ring, nesting: `jexec web … nest` (a nested create) and jail(8)'s own
// `jail -r` running nest from its hooks, every program a real process (see ring.test.ts).
// The hosts it starts from are prepared in-process and saved; each test restores the one it needs.
import {readFileSync} from 'node:fs'

import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import {makeSim, nestSteps, type TestSim} from '../helpers/sim.js'

let sim: TestSim
const WEB = '/nest/jails/web/root'
const nest = (...args: string[]) => sim.spawnNest(...args)

const steps = (...lines: string[][]): Promise<void> => nestSteps(sim, ...lines)

/** The child-manager calls logged since `from`: `jexec <jail> nest <verb> <name>`. */
const childCalls = (from: number): string[] => readFileSync(`${sim.root}/invocations.jsonl`, 'utf8').split('\n').filter(Boolean).slice(from)
  .map((l) => JSON.parse(l) as {tool: string; argv: string[]})
  .filter((c) => c.tool === 'jexec' && c.argv[1]?.endsWith('/bin/run.js') === true)
  .map((c) => `jexec ${c.argv[0]} nest ${c.argv[2]} ${c.argv[3]}`)
const logLength = (): number => readFileSync(`${sim.root}/invocations.jsonl`, 'utf8').split('\n').filter(Boolean).length

let web: string
let tree: string

beforeAll(async () => {
  sim = await makeSim()
  await steps(['bootstrap', '14.3-RELEASE'], ['create', 'web'])
  web = sim.save()
  await steps(['create', 'web/db'])
  tree = sim.save()
})
afterAll(() => sim.cleanup())
beforeEach(() => sim.restore(tree))

describe('nest inside a parent, as a process', {timeout: 180_000}, () => {
  it('a nested create runs the nest inside the parent: jexec web … nest create db', async () => {
    sim.restore(web)
    const seen = logLength()
    const r = await nest('create', 'web/db')
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toBe(`web/db: created (running, jid ${sim.jid('web.db')}, policy parent, ${WEB}/data/jails/db/root)\n`)
    expect(childCalls(seen)).toEqual(['jexec web nest create db'])
    expect(sim.alive()).toEqual(['web', 'web.db'])
  })
})

describe('jail(8) itself, as a process', {timeout: 180_000}, () => {
  it('jail -f web.conf -r web stops the children first through exec.prestop, and cleans up through exec.release', async () => {
    const seen = logLength()
    const r = await sim.spawnTool('jail', '-f', '/etc/jail.conf.d/web.conf', '-r', 'web')
    expect(r.code, r.stderr).toBe(0)
    expect(sim.alive()).toEqual([])
    expect(sim.mountsBelow(WEB)).toEqual([])
    // web's nest stopped db (the hook ran nest on the host; it asked the nest inside web).
    expect(childCalls(seen)).toEqual(['jexec web nest stop db'])
  })
})
