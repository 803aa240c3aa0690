// The races sweep: two nest command lines at once, in-process on a saved tree (web and web/db),
// on one jail and on a parent and its child, each race run under several seeded interleavings
// (each invocation's own tool latencies, NEST_SIM_LATENCY, and the second one's start offset
// come from the seed). After each run the invariants hold:
// - every running jail has its devfs, its jail.conf mounts (nest's nullfs in a parent) and its
//   delegated dataset mounted: none is left running with its mounts torn away;
// - nothing is mounted below a stopped jail's root;
// - no jail is half made: a top-level jail's dataset, root dataset and jail.conf go together,
//   as do a child's root dataset and its jail.conf in its parent's root; never two of a name;
// - each process's exit code is one of the outcomes its command documents, with its message.
// NEST_RACE_RUNS sets the runs per race (default 3); a failure names its seed. A seed fixes the
// latencies and the offset, not the whole schedule (the event loop and the file system still
// order what runs at the same moment): a seed that broke makes the same race likely, not certain.
import {spawnSync} from 'node:child_process'
import {randomUUID} from 'node:crypto'
import {existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync} from 'node:fs'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {makeSim, nestSteps, type Run, type TestSim} from '../helpers/sim.js'

let sim: TestSim
/** web and web/db, running. */
let running: string
/** web and web/db, stopped. */
let stopped: string

const RUNS = Number(process.env['NEST_RACE_RUNS'] ?? 3)
const JAILS = 'zroot/nest/jails'

beforeAll(async () => {
  sim = await makeSim()
  await nestSteps(sim, ['bootstrap', '14.3-RELEASE'], ['create', 'web'], ['create', 'web/db'])
  running = sim.save()
  await nestSteps(sim, ['stop', 'web'])
  stopped = sim.save()
}, 120_000)
afterAll(() => sim.cleanup())

/** A small PRNG (mulberry32): the same seed, the same interleaving. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** One invocation's tool latencies (ms), from the seed. */
function latencies(next: () => number): string {
  const ms = (max: number): number => Math.floor(next() * max)
  return `jail=${ms(40)},jexec=${ms(15)},zfs=${ms(10)},jls=${ms(6)},mount=${ms(6)},umount=${ms(10)},sysctl=${ms(4)},pkg=${ms(10)}`
}

/** What is wrong with the host now (empty: the invariants hold). */
function violations(): string[] {
  const k = sim.kernel()
  const bad: string[] = []
  const alive = k.jails.filter((j) => j.state === 'ALIVE')
  const mountedOn = (on: string): boolean => k.mounts.some((m) => m.on === on)
  for (const j of alive) {
    if (!mountedOn(`${j.path}/dev`)) bad.push(`${j.name} runs without its devfs`)
    if (existsSync(sim.fs(`${j.path}/usr/local/bin/nest`)) && !mountedOn(`${j.path}/usr/local/libexec/nest`)) bad.push(`${j.name} runs without nest's nullfs`)
    for (const ds of j.datasets) if (!k.mounts.some((m) => m.dataset === ds || m.from === ds)) bad.push(`${j.name} runs without ${ds} mounted`)
  }
  const names = new Set(alive.map((j) => j.name))
  if (names.size !== alive.length) bad.push(`two live jails of one name: ${alive.map((j) => j.name).join(', ')}`)
  // Roots of nest's jails, top-level and inside web.
  const ds = new Set(k.datasets.map((d) => d.name))
  const roots: Array<{jail: string; root: string}> = []
  for (const d of k.datasets) {
    const top = new RegExp(`^${JAILS}/([^/]+)$`).exec(d.name)?.[1]
    if (top !== undefined) {
      roots.push({jail: top, root: `/nest/jails/${top}/root`})
      const conf = existsSync(sim.fs(`/etc/jail.conf.d/${top}.conf`))
      if (!ds.has(`${d.name}/root`) || !conf) bad.push(`${top} half made: root dataset ${ds.has(`${d.name}/root`)}, jail.conf ${conf}`)
    }
    const child = new RegExp(`^${JAILS}/([^/]+)/data/jails/([^/]+)/root$`).exec(d.name)
    if (child) {
      const [, parent, name] = child as unknown as [string, string, string]
      roots.push({jail: `${parent}.${name}`, root: `/nest/jails/${parent}/root/data/jails/${name}/root`})
      if (!existsSync(sim.fs(`/nest/jails/${parent}/root/etc/jail.conf.d/${name}.conf`)) && names.has(parent)) bad.push(`${parent}/${name} half made: root dataset but no jail.conf`)
    }
  }
  for (const f of readdirSync(sim.fs('/etc/jail.conf.d'))) {
    const top = f.replace(/\.conf$/, '')
    if (!ds.has(`${JAILS}/${top}`)) bad.push(`${top}: jail.conf without datasets`)
  }
  for (const r of roots) {
    if (names.has(r.jail)) continue
    const below = k.mounts.filter((m) => m.on.startsWith(`${r.root}/`)).map((m) => m.on)
    if (below.length > 0) bad.push(`${r.jail} stopped with ${below.length} mount(s) below its root (${below.join(', ')})`)
  }
  return bad
}

/** The exit codes each command may end with in a race, and what its message then says. */
const OUTCOMES: Record<string, Record<number, RegExp>> = {
  // 4: the jail was destroyed by the other nest before this one read it.
  start: {0: /^/, 4: /no such jail/, 5: /already running/, 7: /not started/, 8: /another nest process is working/},
  stop: {0: /^/, 4: /no such jail/, 8: /another nest process is working/},
  destroy: {0: /^/, 4: /no such jail/, 8: /another nest process is working/},
  create: {0: /^/, 4: /no such jail/, 5: /already exists|not running/, 8: /another nest process is working/},
}

function outcomeProblem(argv: readonly string[], r: Run): string | null {
  const allowed = OUTCOMES[argv[0] as string] ?? {}
  const said = allowed[r.code]
  if (said === undefined) return `nest ${argv.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`
  if (!said.test(r.stderr)) return `nest ${argv.join(' ')}: exit ${r.code} without ${said}: ${r.stderr.trim()}`
  return null
}

interface Race {
  from: () => string
  /** A nest killed earlier left web's lock behind (the owner record of a pid that is gone, and proper-lockfile's directory as nest made it before, 2 minutes old). */
  deadLock?: boolean
  a: string[]
  b: string[]
  /** The second one starts up to this many ms after the first (default 60; longer to land inside a create). */
  spread?: number
  /** More to check once both have ended. */
  check?: (ra: Run, rb: Run) => string[]
}

let gonePid: number | undefined
function leaveDeadLock(): void {
  gonePid ??= spawnSync(process.execPath, ['-e', '0']).pid as number
  writeFileSync(sim.fs('/var/run/nest/web.lock'), `${JSON.stringify({id: randomUUID(), pid: gonePid, start: 'linux:1', token: 'main', jail: 'web', since: new Date().toISOString()})}\n`)
  const old = sim.fs('/var/run/nest/web.lock.lock')
  mkdirSync(old, {recursive: true})
  const then = new Date(Date.now() - 120_000)
  utimesSync(old, then, then)
}

async function runRace(race: Race, seed: number): Promise<string[]> {
  sim.restore(race.from())
  if (race.deadLock) leaveDeadLock()
  const next = prng(seed)
  const offset = Math.floor(next() * (race.spread ?? 60))
  const env = (): Record<string, string> => ({NEST_SIM_LATENCY: latencies(next), NEST_LOCK_WAIT: '60'})
  const [ea, eb] = [env(), env()]
  const [ra, rb] = await Promise.all([
    sim.nestWith(ea, ...race.a),
    new Promise((r) => setTimeout(r, offset)).then(() => sim.nestWith(eb, ...race.b)),
  ])
  const problems = [...violations(), ...[outcomeProblem(race.a, ra), outcomeProblem(race.b, rb)].filter((p): p is string => p !== null), ...(race.check?.(ra, rb) ?? [])]
  return problems.map((p) => `seed ${seed}: ${p}`)
}

/** Exactly one of two creates of one name succeeds; the other says it exists (or waited and then found it). */
const oneCreate = (ra: Run, rb: Run): string[] => {
  const ok = [ra, rb].filter((r) => r.code === 0).length
  return ok === 1 ? [] : [`${ok} of 2 creates succeeded`]
}

const RACES: Record<string, Race> = {
  'start web vs stop web (stopped)': {from: () => stopped, a: ['start', 'web'], b: ['stop', 'web']},
  'stop web vs start web (running)': {from: () => running, a: ['stop', 'web'], b: ['start', 'web']},
  'start --all vs start --all': {from: () => stopped, a: ['start', '--all'], b: ['start', '--all']},
  'stop web vs destroy web --recursive --force': {from: () => running, a: ['stop', 'web'], b: ['destroy', 'web', '--recursive', '--force']},
  'create web2 vs create web2': {from: () => running, a: ['create', 'web2', '--policy', 'leaf'], b: ['create', 'web2', '--policy', 'leaf'], check: oneCreate},
  'create web2 vs destroy web2 --force': {from: () => running, a: ['create', 'web2', '--policy', 'leaf'], b: ['destroy', 'web2', '--force']},
  'create web2 vs stop --all': {from: () => running, a: ['create', 'web2', '--policy', 'leaf'], b: ['stop', '--all']},
  'create web2 (a parent) vs stop --all': {from: () => running, a: ['create', 'web2'], b: ['stop', '--all'], spread: 700},
  'create web2 vs start --all': {from: () => stopped, a: ['create', 'web2', '--policy', 'leaf'], b: ['start', '--all']},
  'create web2 (a parent) vs start --all': {from: () => stopped, a: ['create', 'web2'], b: ['start', '--all'], spread: 700},
  'start web vs stop web, after a dead nest left the lock': {from: () => stopped, deadLock: true, a: ['start', 'web'], b: ['stop', 'web']},
  'start --all vs start --all, after a dead nest left the lock': {from: () => stopped, deadLock: true, a: ['start', '--all'], b: ['start', '--all']},
  'start web vs stop web/db (running)': {from: () => running, a: ['start', 'web'], b: ['stop', 'web/db']},
  'start web vs stop web/db (stopped)': {from: () => stopped, a: ['start', 'web'], b: ['stop', 'web/db']},
  'create web/db2 vs create web/db2': {from: () => running, a: ['create', 'web/db2', '--policy', 'leaf'], b: ['create', 'web/db2', '--policy', 'leaf'], check: oneCreate},
  'create web/db2 --start-parent vs stop web (stopped)': {from: () => stopped, a: ['create', 'web/db2', '--policy', 'leaf', '--start-parent'], b: ['stop', 'web']},
  'destroy web --recursive --force vs create web/db2': {from: () => running, a: ['destroy', 'web', '--recursive', '--force'], b: ['create', 'web/db2', '--policy', 'leaf']},
}

describe('the invariants see what they look for', () => {
  it('a running jail whose devfs was torn away, a mount below a stopped root, a jail.conf without datasets', async () => {
    sim.restore(running)
    expect(violations()).toEqual([])
    expect((await sim.run('umount', '/nest/jails/web/root/dev')).code).toBe(0)
    expect(violations()).toEqual(['web runs without its devfs'])
    sim.restore(stopped)
    expect(violations()).toEqual([])
    expect((await sim.run('mount', '-t', 'tmpfs', 'tmpfs', '/nest/jails/web/root/tmp')).code).toBe(0)
    writeFileSync(sim.fs('/etc/jail.conf.d/ghost.conf'), 'ghost {}\n')
    expect(violations()).toEqual(['ghost: jail.conf without datasets', 'web stopped with 1 mount(s) below its root (/nest/jails/web/root/tmp)'])
  })
})

describe('races: two nests at once, every invariant after each', () => {
  for (const [name, race] of Object.entries(RACES)) {
    it(`${name} (${RUNS} seeded runs)`, async () => {
      const problems: string[] = []
      for (let seed = 1; seed <= RUNS; seed++) problems.push(...await runRace(race, seed))
      expect(problems).toEqual([])
    }, 30_000 + RUNS * 8000)
  }
})
