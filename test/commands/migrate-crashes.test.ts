// nest migrate vm after a crash (issue 13: "Re-running after a crash (kill -9 at any point)
// finds its own deterministic temporaries, undoes them and converges"): the migration of the
// running zfs-bastille guest ended as kill -9 ends it (the simulator's crash mode, in-process)
// right after one step of each phase, then the same command again: it converges to the clean
// run's state (no nestmig_fbsd1 pool, no @nest-migrate snapshot of the VM's datasets, no
// zroot/nest/.migrate, vfs.zfs.vol.recursive 0). And a re-run that itself fails rolls back to
// the host before the first run: the VM the crashed run stopped runs again and is back in
// vm_list (what the crashed run did, carried over: converge, VmFacts.carried).
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {addFault, clearFaults} from '../../src/sim/control.js'
import type {TestSim} from '../helpers/sim.js'
import {type Call, callLine, clearCalls, faultAt, migrationState, readCalls, stateDiff, vmHost, vmRunning} from '../helpers/sweep.js'

const ARGV = ['migrate', 'vm', 'fbsd1', '--stop-vm']

let sim: TestSim
let saved = ''
let calls: Call[] = []
let clean: string[] = []
let before: string[] = []

beforeAll(async () => {
  ;({sim, saved} = await vmHost())
  before = migrationState(sim)
  clearCalls(sim)
  const r = await sim.nest(...ARGV)
  expect(r.code, r.stderr).toBe(0)
  calls = readCalls(sim)
  clean = migrationState(sim)
}, 120_000)
afterAll(() => sim.cleanup())

/** The i-th call matching `re` of the clean run. */
const at = (re: RegExp): number => {
  const i = calls.findIndex((c) => re.test(callLine(c)))
  if (i < 0) throw new Error(`no call matches ${re}`)
  return i
}

/** Crash the migration right after call i (from the saved host); the crashed run's exit. */
async function crashAfter(i: number): Promise<void> {
  sim.restore(saved)
  await addFault(sim.root, faultAt(calls, i, {crash: true}))
  const r = await sim.nest(...ARGV)
  await clearFaults(sim.root)
  expect(r.crashed, `${callLine(calls[i] as Call)}: ${r.stderr}`).toBe(true)
}

/**
 * One step of each phase (a crash and its re-run take about 9 s): the VM stopped; the guest
 * pool imported (out of vm_list, snapshotted, zvol vdevs allowed); the jail half made
 * (nest:state=creating, the VM's facts on it); the pool exported; the work dataset gone (what
 * the VM needs back is only on the jail's dataset now, and .migrate is left); the jail started.
 */
const POINTS = [
  /^vm stop fbsd1$/, /^zpool import .* -t \d+ nestmig_fbsd1$/, /^zfs create .* zroot\/nest\/jails\/fbsd1$/,
  /^zpool export nestmig_fbsd1$/, /^zfs destroy -r zroot\/nest\/\.migrate\/fbsd1$/, /^jail -f .* -c fbsd1$/,
]

/** Where the re-run is also made to fail: once the VM was stopped, once the jail was half made, once only the jail's dataset records the VM. */
const REFAULT = [/^vm stop fbsd1$/, /^zfs create .* zroot\/nest\/jails\/fbsd1$/, /^zfs destroy -r zroot\/nest\/\.migrate\/fbsd1$/]

describe('nest migrate vm fbsd1 --stop-vm after a crash', () => {
  it('a re-run undoes what the crashed run left and converges', async () => {
    const problems: string[] = []
    const t = Date.now()
    for (const re of POINTS) {
      const i = at(re)
      const where = `after ${callLine(calls[i] as Call)}`
      await crashAfter(i)
      const again = await sim.nest(...ARGV)
      if (again.code !== 0) problems.push(`${where}: the re-run exits ${again.code}: ${again.stderr.trim()}`)
      else if (!/^fbsd1: a migration that did not finish left its temporaries: undoing them first$/m.test(again.stderr)) problems.push(`${where}: the re-run does not say it undoes the leftovers: ${again.stderr.trim()}`)
      const left = stateDiff(clean, migrationState(sim))
      if (left.length > 0) problems.push(`${where}: the re-run leaves ${left.join('; ')}`)
      const k = sim.kernel()
      const temps = [
        ...k.pools.filter((p) => p.name.startsWith('nestmig_')).map((p) => `pool ${p.name}`),
        ...k.datasets.filter((d) => d.name.startsWith('zroot/vm/') && d.name.endsWith('@nest-migrate')).map((d) => d.name),
        ...k.datasets.filter((d) => d.name.startsWith('zroot/nest/.migrate')).map((d) => d.name),
        ...((k.sysctl['vfs.zfs.vol.recursive'] ?? 0) === 0 ? [] : ['vfs.zfs.vol.recursive=1']),
      ]
      if (temps.length > 0) problems.push(`${where}: temporaries left: ${temps.join(', ')}`)
      if (k.jails.find((j) => j.name === 'fbsd1')?.state !== 'ALIVE') problems.push(`${where}: the jail fbsd1 does not run`)
    }
    process.stderr.write(`migrate-crashes: ${POINTS.length} crash points (one per phase, of ${calls.length} calls), each re-run, in ${Date.now() - t} ms\n`)
    expect(problems).toEqual([])
  }, 600_000)

  it('a re-run that fails rolls back to the host before the crashed run: the VM runs again, in vm_list', async () => {
    const imp = at(/^zpool import .* -t \d+ nestmig_fbsd1$/)
    const problems: string[] = []
    for (const re of REFAULT) {
      const i = at(re)
      const where = `after ${callLine(calls[i] as Call)}`
      await crashAfter(i)
      await addFault(sim.root, faultAt(calls, imp))
      const r = await sim.nest(...ARGV)
      await clearFaults(sim.root)
      if (r.code !== 10) problems.push(`${where}: the faulted re-run exits ${r.code}: ${r.stderr.trim()}`)
      const back = stateDiff(before, migrationState(sim))
      if (back.length > 0) problems.push(`${where}: not as before the crashed run: ${back.join('; ')}`)
      if (!await vmRunning(sim, 'fbsd1')) problems.push(`${where}: fbsd1 does not run again`)
    }
    expect(problems).toEqual([])
  }, 300_000)
})
