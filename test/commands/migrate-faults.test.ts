// nest migrate vm under faults (issue 13): for the zfs-bastille guest, running, migrated with
// --stop-vm, a fault (EIO) at each step of a clean run in turn, in-process, from the same saved
// host. After each: exit 10 (a host tool failed), one error line naming the step, and the host
// model exactly as before (sweepState and hostLines: pools, guest disks and their trees,
// snapshots, mounts, sysctls, rctl, rc.conf, jail.conf.d, interfaces, jails; the VM running
// again); then the same command again converges. A read before anything changed may refuse
// instead (exit 6). An undo of a temporary once the move is done (the release) that fails
// cannot leave the host as before: exit 5, the failed command named, the rest rolled back (the
// VM runs again), what is left recorded on the work dataset, and the re-run undoes it.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {addFault, clearFaults} from '../../src/sim/control.js'
import type {TestSim} from '../helpers/sim.js'
import {type Call, callLine, clearCalls, faultAt, isPoint, migrationState, readCalls, stateDiff, vmHost, vmRunning} from '../helpers/sweep.js'

const ARGV = ['migrate', 'vm', 'fbsd1', '--stop-vm']

let sim: TestSim
let saved = ''
let calls: Call[] = []
let clean: string[] = []

beforeAll(async () => {
  ;({sim, saved} = await vmHost())
  clearCalls(sim)
  const t = Date.now()
  const r = await sim.nest(...ARGV)
  expect(r.code, r.stderr).toBe(0)
  process.stderr.write(`migrate-faults: a clean migration in-process takes ${Date.now() - t} ms\n`)
  calls = readCalls(sim)
  clean = migrationState(sim)
}, 120_000)
afterAll(() => sim.cleanup())

/**
 * The kind of a step: its tool, its verb, and what it works on (the VM's datasets, the work
 * dataset, the imported pool, the jail's datasets); `sysctl`, `ifconfig` and `zfs destroy`
 * whole (set, then set back; each temporary destroyed).
 */
function kindOf(c: Call): string {
  const verb = c.argv.find((a) => !a.startsWith('-')) ?? ''
  const last = c.argv.at(-1) ?? ''
  const what = /nestmig_/.test(last) ? 'guest pool' : /\.migrate/.test(last) ? 'work' : /^zroot\/vm/.test(last) ? 'vm' : /jails\/fbsd1\/data/.test(last) ? 'jail data' : /jails\/fbsd1/.test(last) ? 'jail' : ''
  return `${c.tool} ${c.tool === 'sysctl' || c.tool === 'ifconfig' || verb === 'destroy' ? c.argv.join(' ').replace(/[0-9a-f]{2}(:[0-9a-f]{2}){5}/, 'MAC') : verb} ${what}${c.jail ? ` (in ${c.jail})` : ''}`
}

/**
 * The points a fault cannot be fully undone at: the undo of a temporary once the move is done
 * (the guest pool exported, vfs.zfs.vol.recursive set back, the clone and the snapshot
 * destroyed). What it left is said, the VM runs again, and the re-run's converge undoes the rest.
 */
const inRelease = (i: number): boolean => {
  const lastRecv = calls.map((c) => c.argv[0]).lastIndexOf('recv')
  const firstMount = calls.findIndex((c, j) => j > lastRecv && c.argv[0] === 'mount' && (c.argv.at(-1) ?? '').startsWith('zroot/nest/jails/'))
  return i > lastRecv && i < firstMount
}

/**
 * The points swept by default (a migration in-process takes about 5 s; one call of each kind
 * of step, NEST_SWEEP_ALL=1, takes minutes: its 45 kinds passed before the Bastille jails were
 * started too): a read before anything changes; the first change; the VM stopped; a read
 * between two parts of the transaction; the zvol vdevs allowed; the import listing and the
 * import; a read mount of the clone; the jail's dataset; a receive (the pipe's reading side);
 * each undo of a temporary once the move is done but the last (.migrate's, which the crash
 * sweep covers); the jail started; a Bastille jail's start inside it (by the nest in fbsd1).
 * The jail's mounts and network are create's steps, swept by faults.test.ts.
 */
const LEAN = [
  /^zfs get -H -o value mountpoint /, /^zfs create -o canmount=off zroot\/nest\/\.migrate$/, /^vm stop /, /^gpart show /, /^sysctl vfs\.zfs\.vol\.recursive=1$/,
  /^zpool import -d \S+$/, /^zpool import .* -t /, /^zfs mount nestmig_fbsd1\/ROOT\/default$/, /^zfs create .* zroot\/nest\/jails\/fbsd1$/, /^zfs recv -u -o mountpoint=/,
  /^zpool export /, /^sysctl vfs\.zfs\.vol\.recursive=0$/, /^zfs destroy -r zroot\/nest\/\.migrate\/fbsd1\/disk0$/, /^zfs destroy -r zroot\/vm\/fbsd1@/, /^zfs destroy -r zroot\/nest\/\.migrate\/fbsd1$/,
  /^jail -f \/etc\/jail\.conf\.d\/fbsd1\.conf .*-c fbsd1$/, /^jail -f \/usr\/local\/bastille\/jails\/app1\/jail\.conf -c app1 \(in fbsd1\)$/,
]

/** The first call that changes the host: the work dataset's container. */
const firstChange = (): number => calls.findIndex((c) => c.tool === 'zfs' && c.argv[0] === 'create')

/**
 * Where a re-run is made besides the release's points (and any point not rolled back): once the
 * jail ran. Elsewhere the host is as before, to the byte, so a re-run is the clean run again.
 */
const RERUN = /^jail -f \/etc\/jail\.conf\.d\/fbsd1\.conf /

describe('nest migrate vm fbsd1 --stop-vm: a fault at each kind of step', () => {
  it('rolls back to the state before (the VM running again), names the step, and a re-run converges', async () => {
    const seen = new Set<string>()
    const points = [...calls.entries()].filter(([, c]) => {
      if (!isPoint(c) || seen.has(kindOf(c))) return false
      seen.add(kindOf(c))
      return process.env['NEST_SWEEP_ALL'] === '1' || LEAN.some((re) => re.test(callLine(c)))
    })
    const problems: string[] = []
    const codes: number[] = []
    const t = Date.now()
    for (const [i, call] of points) {
      const at = callLine(call)
      sim.restore(saved)
      const before = migrationState(sim)
      await addFault(sim.root, faultAt(calls, i))
      const r = await sim.nest(...ARGV)
      await clearFaults(sim.root)
      codes.push(r.code)
      const now = migrationState(sim)
      const absorbed = r.code === 0 && stateDiff(clean, now).length === 0
      const errs = r.stderr.split('\n').filter((l) => l.startsWith('nest: '))
      if (!absorbed) {
        // A read before anything changed may refuse (exit 6: vm-bhyve's own text, nothing to roll back);
        // an undo that fails once the move is done says what is left (exit 5, the failed command named).
        const codeOk = inRelease(i) ? r.code === 5 : r.code === 10 || (i < firstChange() && r.code === 6)
        if (!codeOk) problems.push(`${at}: exit ${r.code}: ${r.stderr.trim()}`)
        // A clean-up that fails names its command, or the clean-up action whose own read failed (rm -rf … : mount: …, its mount -p).
        const named = inRelease(i) ? (errs[0] ?? '').startsWith(`nest: fbsd1: ${call.tool} ${call.argv.join(' ')}: `) || ((errs[0] ?? '').startsWith('nest: fbsd1: ') && (errs[0] ?? '').includes(`: ${call.tool}: `)) : i < firstChange() && r.code === 6 ? true : /^nest: (fbsd1: )?step ".+": /.test(errs[0] ?? '')
        if (errs.length !== 1 || !named) problems.push(`${at}: the error does not name the step: ${errs.join(' / ')}`)
        const back = stateDiff(before, now)
        if (back.length > 0 && !inRelease(i)) problems.push(`${at}: not as before: ${back.join('; ')}`)
        if (!await vmRunning(sim, 'fbsd1')) problems.push(`${at}: fbsd1 does not run again`)
      }
      if (absorbed || !(inRelease(i) || RERUN.test(at) || stateDiff(before, now).length > 0)) continue
      const again = await sim.nest(...ARGV)
      if (again.code !== 0) problems.push(`${at}: the re-run exits ${again.code}: ${again.stderr.trim()}`)
      const left = stateDiff(clean, migrationState(sim))
      if (left.length > 0) problems.push(`${at}: the re-run does not converge: ${left.join('; ')}`)
    }
    process.stderr.write(`migrate-faults: ${points.length} fault points (of the kinds of step, one call each, of ${calls.filter(isPoint).length} calls) in ${Date.now() - t} ms, exit ${[...new Set(codes)].join(', ')}\n`)
    expect(problems).toEqual([])
    if (process.env['NEST_SWEEP_ALL'] !== '1') expect(points.map(([, c]) => callLine(c))).toHaveLength(LEAN.length)
  }, 600_000)
})
