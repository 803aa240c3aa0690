import {afterAll, beforeAll, expect, it} from 'vitest'
import {addFault, clearFaults} from '../../src/sim/control.js'
import {hostState, makeSim, nestSteps, type TestSim} from '../helpers/sim.js'
import {callLine, clearCalls, faultAt, readCalls} from '../helpers/sweep.js'

let sim: TestSim
let boot: string
let web: string
let webdb: string
beforeAll(async () => {
  sim = await makeSim()
  await nestSteps(sim, ['bootstrap', '14.3-RELEASE'])
  boot = sim.save()
  await nestSteps(sim, ['create', 'web'])
  web = sim.save()
  await nestSteps(sim, ['create', 'web/db'])
  webdb = sim.save()
})
afterAll(() => sim.cleanup())
const flat = (s: any): string[] => [...s.datasets.map((x: any) => 'ds ' + JSON.stringify(x)), ...s.jails.map((x: any) => 'jail ' + JSON.stringify(x)), ...s.mounts.map((x: any) => 'mnt ' + JSON.stringify(x)), ...Object.entries(s.files).flatMap(([d, fs]: any) => fs.filter((f: string) => !f.includes('var/run/nest')).map((f: string) => `file ${d}/${f}`))].sort()
const st = () => flat(hostState(sim, ['/etc/jail.conf.d', '/nest/jails']))
const diff = (a: string[], b: string[]) => { const A = new Set(a); const B = new Set(b); return [...b.filter((x) => !A.has(x)).map((x) => '+ ' + x), ...a.filter((x) => !B.has(x)).map((x) => '- ' + x)].join('\n      ').slice(0, 600) }
const same = (a: string[], b: string[]) => JSON.stringify(a) === JSON.stringify(b)
const msg = (t: string) => t.split('\n').filter((l) => l.startsWith('nest:') && !l.includes('simulated')).join(' / ').slice(0, 250)

async function sweep(from: string, argv: string[], kind: 'create' | 'destroy', crash: boolean) {
  sim.restore(from)
  const initial = st()
  clearCalls(sim)
  const c = await sim.nest(...argv)
  expect(c.code, c.stderr).toBe(0)
  const clean = st()
  const calls = readCalls(sim)
  const saved = sim.save()
  await sim.nest('destroy', argv[1]!, '--recursive', '--force')
  const removed = kind === 'create' ? st() : clean
  sim.restore(saved)
  let ok = 0
  const lines: string[] = []
  for (let i = 0; i < calls.length; i++) {
    sim.restore(from)
    const before = st()
    await addFault(sim.root, faultAt(calls, i, crash ? {crash: true} : {}))
    const r = await sim.nest(...argv)
    await clearFaults(sim.root)
    const after = st()
    const rolled = same(after, before)
    const absorbed = r.code === 0 && same(after, clean)
    const mid = sim.save()
    const again = await sim.nest(...argv)
    const conv = same(st(), clean)
    let good = crash ? conv : kind === 'create' ? (absorbed || (r.code !== 0 && rolled && conv && again.code === 0)) : (absorbed || (r.code !== 0 && conv))
    let dline = ''
    if (crash) {
      sim.restore(from)
      await addFault(sim.root, faultAt(calls, i, {crash: true}))
      await sim.nest(...argv)
      await clearFaults(sim.root)
      const d = await sim.nest('destroy', argv[1]!, '--recursive', '--force')
      const dconv = same(st(), removed)
      if (!dconv) good = false
      dline = `; destroy -rf ${d.code} ${dconv ? 'conv' : 'NOT'} ${dconv ? '' : msg(d.stderr) + '\n      ' + diff(removed, st())}`
    }
    if (good) ok++
    lines.push(`${good ? 'ok ' : 'BAD'} ${i} ${callLine(calls[i]!).slice(0, 110)} -> ${r.code}${r.crashed ? ' crashed' : ''} ${rolled ? 'rolled' : 'changed'} ${msg(r.stderr)}\n    rerun ${again.code} ${conv ? 'conv' : 'NOT'} ${msg(again.stderr)}${conv ? '' : '\n      ' + diff(clean, st())}${dline}`)
    if (!good && !rolled && !crash && kind === 'create') lines.push('      vs before: ' + diff(before, after))
  }
  console.log(`${crash ? 'CRASH ' : ''}${argv.join(' ')}: ${ok}/${calls.length}\n${lines.join('\n')}`)
}

const crash = process.env.CRASH === '1'
it('create web', () => sweep(boot, ['create', 'web'], 'create', crash), 600_000)
it('create web/db', () => sweep(web, ['create', 'web/db'], 'create', crash), 600_000)
it('destroy web/db', () => sweep(webdb, ['destroy', 'web/db', '--force'], 'destroy', crash), 600_000)
