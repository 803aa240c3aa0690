// Real kill -9 of nest as a process, beside the in-process crash mode: the simulator's crash
// fault kills the spawned nest with SIGKILL (crash.ts) and leaves what the in-process crash at
// the same step leaves; a kill -9 sent by the test while jail(8) runs leaves what the next
// nest finishes. The killed process's lock stays behind, held by a pid that is gone, and the
// next nest takes it over at once.
import {existsSync} from 'node:fs'

import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import {addFault, clearFaults, setLatency} from '../../src/sim/control.js'
import {hostState, makeSim, NEST_BIN, nestSteps, type TestSim} from '../helpers/sim.js'
import {nestEnv} from '../helpers/inprocess.js'
import {stateDiff, stateLines} from '../helpers/sweep.js'
import {spawn} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {simPaths} from '../../src/sim/store.js'

let sim: TestSim
let web: string
let webDb: string
let clean: string[]
let destroyed: string[]
beforeAll(async () => {
  sim = await makeSim()
  await nestSteps(sim, ['bootstrap', '14.3-RELEASE'], ['create', 'web'])
  web = sim.save()
  await nestSteps(sim, ['create', 'web/db'])
  clean = state()
  webDb = sim.save()
  await nestSteps(sim, ['destroy', 'web/db', '--force'])
  destroyed = state()
})
afterAll(() => sim.cleanup())
beforeEach(() => sim.restore(web))

function state(): string[] {
  return stateLines(hostState(sim, ['/etc/jail.conf.d', '/nest/jails']) as Parameters<typeof stateLines>[0])
}

/** A killed process's lock is released by nobody: it stays, naming a pid that is gone (the next nest takes it over at once). */
function lockStays(jail: string): void {
  expect(existsSync(sim.fs(`/var/run/nest/${jail}.lock`))).toBe(true)
}

describe('kill -9 of nest as a process', {timeout: 120_000}, () => {
  it.each([
    // The host's nest, after it installed Node.js in db (pkg -j, once the nest inside web created and started it).
    ['pkg', '^-j web.db install'],
    // The nest inside web (jexec … nest create db), after it cloned db's root: the host's nest
    // rolls back, taking over the lock the killed child manager left in web's root (a dead pid).
    ['zfs', '^clone zroot/nest/jails/web/data/releases/14.3-RELEASE@base zroot/nest/jails/web/data/jails/db/root$'],
  ])('the crash fault on %s /%s/ leaves what the in-process crash leaves, and the next create converges', async (tool, match) => {
    await addFault(sim.root, {tool, match, crash: true})
    const inProcess = await sim.nest('create', 'web/db')
    await clearFaults(sim.root)
    const left = state()
    sim.restore(web)
    await addFault(sim.root, {tool, match, crash: true})
    const spawned = await sim.spawnNest('create', 'web/db')
    await clearFaults(sim.root)
    if (inProcess.crashed) {
      // Killed: no output after the kill, no status but the signal's.
      expect(spawned.code).toBe(128)
      expect(spawned.stdout).toBe('')
      lockStays('web')
    } else {
      expect(spawned.code).toBe(inProcess.code)
    }
    expect(stateDiff(left, state())).toEqual([])
    const again = await sim.spawnNest('create', 'web/db')
    expect(again.code, again.stderr).toBe(0)
    expect(stateDiff(clean, state())).toEqual([])
  })

  it('the crash fault after db\'s own datasets went, before the one the host delegated to it: the same as in-process, and destroy finishes it', async () => {
    sim.restore(webDb)
    const fault = {tool: 'jexec', match: '^web /usr/local/libexec/nest/bin/run.js destroy db', crash: true}
    await addFault(sim.root, fault)
    expect((await sim.nest('destroy', 'web/db', '--force')).crashed).toBe(true)
    await clearFaults(sim.root)
    const left = state()
    expect(left).toContain('dataset ["zroot/nest/jails/web/delegated/db",{"jailed":"on","mountpoint":"/data","nest:name":"web.db","nest:state":"ready"},null]')
    sim.restore(webDb)
    await addFault(sim.root, fault)
    const spawned = await sim.spawnNest('destroy', 'web/db', '--force')
    await clearFaults(sim.root)
    expect(spawned).toMatchObject({code: 128, stdout: ''})
    expect(stateDiff(left, state())).toEqual([])
    lockStays('web')
    const again = await sim.spawnNest('destroy', 'web/db')
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toBe('web/db: destroyed (1 dataset(s)): what an interrupted create or destroy had left\n')
    expect(stateDiff(destroyed, state())).toEqual([])
  })

  it('a kill -9 sent while jail(8) starts db inside web: jail(8) goes on, and the next create undoes the half-made db and makes it again', async () => {
    // jail(8) takes 1.5 s, so that the kill comes while it runs.
    await setLatency(sim.root, {jail: 1500})
    const child = spawn(process.execPath, [NEST_BIN, 'create', 'web/db'], {env: {...nestEnv(sim.root), NEST_SIM_LATENCY: ''}, stdio: ['ignore', 'pipe', 'pipe']})
    const log = simPaths(sim.root).log
    const seen = (): boolean => readFileSync(log, 'utf8').includes('"argv":["-t","nullfs","-o","ro","/usr/local/libexec/nest","/data/jails/db/root/usr/local/libexec/nest"]')
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)))
    for (let i = 0; i < 600 && !seen(); i++) await new Promise((r) => setTimeout(r, 50))
    expect(seen()).toBe(true)
    child.kill('SIGKILL')
    expect(await exited).toBe('SIGKILL')
    await setLatency(sim.root, {})
    // Orphans finish on their own: wait until db runs (jail -c of db inside web, run by the killed child manager's jail(8)).
    for (let i = 0; i < 200 && !sim.alive().includes('web.db'); i++) await new Promise((r) => setTimeout(r, 50))
    lockStays('web')
    const again = await sim.spawnNest('create', 'web/db')
    expect(again.code, again.stderr).toBe(0)
    expect(again.stderr).toContain('web/db: half made by a create that did not finish (nest:state=creating): undoing it, then creating it again\n')
    expect(stateDiff(clean, state())).toEqual([])
  })
})
