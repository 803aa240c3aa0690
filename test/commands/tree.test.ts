// Tree operations, in-process on a saved three-level tree: the plan --dry-run prints is the commands the real run then runs
// (--verbose logs them), a second nest on a locked tree waits and then decides on what it reads,
// and when nest runs jail -r itself the hooks start no nest process.
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import {holdLock} from '../helpers/locks.js'
import {makeSim, type TestSim} from '../helpers/sim.js'

let sim: TestSim
/** web, web/db and web/db/cache, running. */
let tree: string

beforeAll(async () => {
  sim = await makeSim()
  for (const args of [['bootstrap', '14.3-RELEASE'], ['create', 'web'], ['create', 'web/db'], ['create', 'web/db/cache', '--policy', 'leaf']]) {
    const r = await sim.nest(...args)
    expect(r.code, r.stderr).toBe(0)
  }
  tree = sim.save()
})
beforeEach(() => sim.restore(tree))
afterAll(() => sim.cleanup())

const quote = (w: string): string => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replaceAll("'", "'\\''")}'`)
/** What --dry-run --json says it reads, then runs (a child manager's world shown by its size). */
const planned = (stdout: string): string[] => {
  const r = (JSON.parse(stdout) as {result: {reads: string[]; steps: Array<{action: string}>}}).result
  return [...r.reads, ...r.steps.map((s) => s.action)]
}
/** The programs a --verbose run started and the files it changed, in order, with the environment nest added. */
const FILE = {write: 'write', remove: 'remove', 'remove-tree': 'rm -rf', mkdir: 'mkdir', copy: 'copy', 'chmod 0700': 'chmod 0700'} as const
const ran = (stderr: string): string[] => stderr.split('\n').filter((l) => l.startsWith('exec: ') && /"event":"(command|file)"/.test(l)).map((l) => {
  const e = JSON.parse(l.slice('exec: '.length)) as {event: string; argv: string[]; env?: Record<string, string>; action: keyof typeof FILE; path: string; to?: string}
  if (e.event === 'file') return `${FILE[e.action]} ${e.path}${e.to ? ` to ${e.to}` : ''}`
  return [...Object.entries(e.env ?? {}).map(([k, v]) => (v.startsWith('<') ? `${k}=${v}` : quote(`${k}=${v}`))), ...e.argv.map(quote)].join(' ')
})
/** A child manager's world differs in size between a dry run and the run (jids); the rest must not. */
const sized = (lines: string[]): string[] => lines.map((l) => l.replace(/NEST_WORLD=<\d+ bytes of JSON>/, 'NEST_WORLD=<world>').replace(/^zfs set nest:(started|stopped)=[0-9]+ /, 'zfs set nest:$1=<now> '))

describe('the plan is what runs', () => {
  it('nest stop web --dry-run lists exactly the commands nest stop web --verbose runs', async () => {
    const dry = await sim.nest('stop', 'web', '--dry-run', '--json')
    expect(dry.code, dry.stderr).toBe(0)
    const real = await sim.nest('stop', 'web', '--verbose')
    expect(real.code, real.stderr).toBe(0)
    expect(sized(ran(real.stderr))).toEqual(sized(planned(dry.stdout)))
    expect(sim.alive()).toEqual([])
    // A child-manager call per parent, then jail(8), then one umount of what is left.
    expect(sized(planned(dry.stdout)).slice(4).map((l) => l.split(' ').slice(0, 3).join(' '))).toEqual([
      'NEST_WORLD=<world> jexec web.db', 'NEST_WORLD=<world> jexec web', 'NEST_CLEANUP_FOLLOWS=1 jail -f',
      'umount /nest/jails/web/root/data/jails/db/root /nest/jails/web/root/data/jails/db',
      'zfs set nest:stopped=<now>',
    ])
  })

  it('nest destroy web --recursive --force --dry-run lists the stop too, and exactly what the run then runs', async () => {
    const dry = await sim.nest('destroy', 'web', '--recursive', '--force', '--dry-run', '--json')
    expect(dry.code, dry.stderr).toBe(0)
    const steps = (JSON.parse(dry.stdout) as {result: {steps: Array<{action: string}>}}).result.steps.map((s) => s.action)
    expect(steps.some((a) => a.includes(' -r web'))).toBe(true)
    expect(steps.at(-1)).toBe('remove /etc/jail.conf.d/web.conf')
    const before = sim.alive()
    const real = await sim.nest('destroy', 'web', '--recursive', '--force', '--verbose')
    expect(real.code, real.stderr).toBe(0)
    expect(before).toEqual(['web', 'web.db', 'web.db.cache'])
    expect(sized(ran(real.stderr))).toEqual(sized(planned(dry.stdout)))
    expect(sim.kernel().datasets.filter((d) => d.name.startsWith('zroot/nest/jails/'))).toEqual([])
  })
})

describe('locks and hooks', () => {
  it('a second nest stop web waits for the first, then decides on what it reads: web: not running', async () => {
    const lock = holdLock(sim.fs('/var/run/nest/web.lock'), 'web')
    const second = sim.nestWith({NEST_LOCK_WAIT: '20'}, 'stop', 'web', '--json')
    // While it waits, the holder stops web (a nest that holds the lock: NEST_HELD_LOCKS).
    await new Promise((r) => setTimeout(r, 300))
    const first = await sim.nestWith(lock.env, 'stop', 'web', '--json')
    expect(first.code, first.stderr).toBe(0)
    lock.release()
    const r = await second
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toContain('web: another nest process is working on this jail; waiting for it (up to 20 s)')
    expect(JSON.parse(r.stdout)).toEqual({status: 0, result: {dryRun: false, jails: [{name: 'web', outcome: 'not running', cleanup: null}]}, warnings: ['web: not running']})
    expect(sim.alive()).toEqual([])
  })

  it('when nest runs jail -r itself, exec.prestop and exec.release start no nest process', async () => {
    const log = path.join(sim.root, 'invocations.jsonl')
    writeFileSync(log, '')
    expect((await sim.nest('stop', 'web')).code).toBe(0)
    const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as {program?: string; tool?: string; argv: string[]; spawned?: boolean})
    const hooks = lines.filter((l) => l.program === 'sh' && l.argv[1] === '-c')
    // Each jail's prestop (if a parent) and release hook ran as a shell test that went no further.
    expect(hooks.length).toBe(5)
    expect(lines.filter((l) => l.program !== undefined && l.spawned === true)).toEqual([])
    expect(lines.filter((l) => l.program === 'run.js' && /cleanup|children-only/.test(l.argv.join(' ')))).toEqual([])
  })
})
