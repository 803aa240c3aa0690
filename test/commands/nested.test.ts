// Children at any depth, nest's commands in-process on a simulated host: nest create
// web/db/cache through child managers (jexec … nest, in-process too), the tree from the host,
// nesting pre-flight refusals that change nothing, tree stop/start (nest's and jail(8)'s own),
// rollback of a nested create, recursive destroy. Each test starts from a saved host, built once
// for the file: web; web with web/db and web/db/cache; that with small and small/a beside it;
// then web's tree stopped; then everything stopped.
import {mkdirSync, readdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import {addFault, clearFaults, loadControl} from '../../src/sim/control.js'
import {hostState as hostStateOf, makeSim, type TestSim} from '../helpers/sim.js'

let sim: TestSim
const nest = (...args: string[]) => sim.nest(...args)
const WEB = '/nest/jails/web/root'
const below = (root: string) => sim.mountsBelow(root)
const jailNames = () => sim.alive()
const jidOf = (name: string) => sim.jid(name)

const hostState = (): unknown => hostStateOf(sim, ['/etc/jail.conf.d', `${WEB}/etc/jail.conf.d`])

const RAW = 'nest.description = "raw sockets";\nchildren.max = 0;\nenforce_statfs = 2;\nallow.raw_sockets;\n'
const SMALL = 'nest.description = "two below";\nnest.delegate;\nchildren.max = 1;\nenforce_statfs = 1;\ndevfs_ruleset = 4;\nallow.mount;\nallow.mount.devfs;\nallow.mount.zfs;\nallow.mount.nullfs;\n'

const steps = async (...lines: string[][]): Promise<void> => {
  for (const args of lines) {
    const r = await nest(...args)
    expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0)
  }
}

/** Saved hosts, each built from the one before. */
let web: string
let threeLevels: string
let withSmall: string
let webStopped: string
let allStopped: string

beforeAll(async () => {
  sim = await makeSim()
  const dir = sim.fs('/usr/local/etc/nest/policies')
  mkdirSync(dir, {recursive: true})
  writeFileSync(path.join(dir, 'raw.conf'), RAW)
  writeFileSync(path.join(dir, 'small.conf'), SMALL)
  await steps(['bootstrap', '14.3-RELEASE'], ['create', 'web'])
  web = sim.save()
  await steps(['create', 'web/db'], ['create', 'web/db/cache'])
  threeLevels = sim.save()
  await steps(['create', 'small', '--policy', 'small'], ['create', 'small/a', '--policy', 'leaf'])
  withSmall = sim.save()
  await steps(['stop', 'web'])
  webStopped = sim.save()
  await steps(['stop', 'small'])
  allStopped = sim.save()
})
afterAll(() => sim.cleanup())
// Unless a test says otherwise, it starts from the three levels of web, with small beside them.
beforeEach(() => sim.restore(withSmall))

describe('three levels', () => {
  it('creates web/db and web/db/cache through the nest inside each parent', async () => {
    sim.restore(web)
    const db = await nest('create', 'web/db')
    expect(db.code, db.stderr).toBe(0)
    expect(db.stdout).toBe(`web/db: created (running, jid ${jidOf('web.db')}, policy parent, ${WEB}/data/jails/db/root)\n`)
    expect(db.stderr).toContain('web/db: children.max 15 (policy parent says 16; below web it must be less than 16)')
    const cache = await nest('create', 'web/db/cache')
    expect(cache.code, cache.stderr).toBe(0)
    expect(cache.stdout).toBe(`web/db/cache: created (running, jid ${jidOf('web.db.cache')}, policy parent, ${WEB}/data/jails/db/root/data/jails/cache/root)\n`)
    // db was made by web's own jail(8), from web's own /etc/jail.conf.d, with nest mounted read-only.
    expect(readdirSync(sim.fs(`${WEB}/etc/jail.conf.d`))).toEqual(['db.conf'])
    expect(sim.kernel().mounts.some((m) => m.fstype === 'nullfs' && m.on === `${WEB}/data/jails/db/root/usr/local/libexec/nest` && m.opts.includes('ro'))).toBe(true)
    const pkgs = await sim.run('pkg', '-r', `${WEB}/data/jails/db/root`, 'info')
    expect(pkgs.stdout).toMatch(/^node-sim/m)
  })

  it('lists the three levels from the host with their dotted kernel names', async () => {
    sim.restore(threeLevels)
    const r = await nest('list', '--json')
    expect(r.code).toBe(0)
    const jails = (JSON.parse(r.stdout) as {result: {jails: Array<Record<string, unknown>>}}).result.jails
    expect(jails.map((j) => [j['name'], j['jail'], j['parent'], j['state'], j['children']])).toEqual([
      ['web', 'web', null, 'running', {cur: 2, max: 16}],
      ['web/db', 'web.db', 'web', 'running', {cur: 1, max: 15}],
      ['web/db/cache', 'web.db.cache', 'web/db', 'running', {cur: 0, max: 14}],
    ])
    const sub = await nest('list', 'web/db')
    expect(sub.stdout.split('\n').slice(1, 3).map((l) => l.trim().split(/\s+/)[0])).toEqual(['db', 'cache'])
  })

  it('jls shows web.db and web.db.cache from the host, db from inside web', async () => {
    sim.restore(threeLevels)
    expect((await sim.run('jls', '-n', 'name')).stdout).toBe('name=web\nname=web.db\nname=web.db.cache\n')
    expect((await sim.runIn(jidOf('web') as number, 'jls', '-n', 'name')).stdout).toBe('name=db\nname=db.cache\n')
  })

  it('runs a command in web/db/cache straight from the host', async () => {
    const r = await nest('exec', 'web/db/cache', '--', 'sysctl', '-n', 'security.jail.jailed')
    expect(r.code).toBe(0)
    expect(r.stdout).toBe('1\n')
  })
})

describe('refused before anything changes', () => {
  it('a grant the parent lacks, named with both values', async () => {
    sim.restore(threeLevels)
    const before = hostState()
    const r = await nest('create', 'web/db/x', '--policy', 'raw', '--json')
    expect(r.code).toBe(6)
    expect(JSON.parse(r.stdout)).toMatchObject({status: 6, error: {kind: 'preflight', message: 'web/db/x: allow.raw_sockets is asked by policy raw but web/db does not have it (web/db: allow.raw_sockets=false)', fix: 'grant allow.raw_sockets to web/db first, or use a policy without it'}})
    expect(hostState()).toEqual(before)
  })

  it('a children.max not below the parent\'s', async () => {
    sim.restore(threeLevels)
    const before = hostState()
    const r = await nest('create', 'web/db/x', '--children-max', '15')
    expect(r.code).toBe(6)
    expect(r.stderr).toBe('nest: web/db/x: children.max 15 is not below web/db\'s 15 (a child\'s must be smaller) (--children-max 14 or less)\n')
    expect(hostState()).toEqual(before)
  })

  it('an ancestor whose children.max is used up, by how much', async () => {
    sim.restore(threeLevels)
    expect((await nest('create', 'small', '--policy', 'small')).code).toBe(0)
    const a = await nest('create', 'small/a', '--policy', 'leaf')
    expect(a.code, a.stderr).toBe(0)
    const before = hostState()
    const b = await nest('create', 'small/b', '--policy', 'leaf')
    expect(b.code).toBe(6)
    expect(b.stderr).toBe('nest: small/b: small is full: children.cur 1 of children.max 1 (every jail below small counts) (raise it by 1 (jail -m name=small children.max=2, and in its jail.conf), or destroy a jail below it)\n')
    expect(hostState()).toEqual(before)
  })

  it('a child of a stopped parent, of a leaf, of no jail', async () => {
    const before = hostState()
    expect((await nest('create', 'nosuch/x')).stderr).toBe('nest: nosuch: no such jail (create it first: nest create nosuch)\n')
    const leafy = await nest('create', 'small/a/x')
    expect(leafy.code).toBe(6)
    expect(leafy.stderr).toBe('nest: small/a/x: small/a cannot have children (children.max 0) (give small/a a parent policy (nest policy show parent), or raise it: jail -m name=small.a children.max=N)\n')
    expect(hostState()).toEqual(before)
  })

  it('a fault after the child manager created the child (zfs jail): everything is rolled back', async () => {
    sim.restore(threeLevels)
    const before = hostState()
    await addFault(sim.root, {tool: 'zfs', match: '^jail web.c ', errno: 'EPERM'})
    const r = await nest('create', 'web/c')
    expect(r.code).toBe(10)
    expect(r.stderr).toMatch(/^nest: web\/c: step "zfs jail web\.c zroot\/nest\/jails\/web\/delegated\/c": zfs: Operation not permitted \(what it had done is undone; once the cause is fixed, run nest create web\/c again\)$/m)
    expect(loadControl(sim.root).faults.every((f) => f.fired)).toBe(true)
    await clearFaults(sim.root)
    expect(hostState()).toEqual(before)
  }, 30_000)
})

describe('the tree as one thing', () => {
  it('nest stop web stops the children first and leaves nothing mounted below web\'s root', async () => {
    const r = await nest('stop', 'web')
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toBe('web/db/cache: stopped\nweb/db: stopped\nweb: stopped; 4 leftover mount(s) unmounted\n')
    expect(jailNames()).toEqual(['small', 'small.a'])
    expect(below(WEB)).toEqual([])
  }, 60_000)

  it('nest start web brings the three levels back', async () => {
    sim.restore(webStopped)
    const r = await nest('start', 'web')
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toBe('web: started\nweb/db: started\nweb/db/cache: started\n')
    expect(jailNames()).toEqual(['small', 'small.a', 'web', 'web.db', 'web.db.cache'])
    expect((await nest('exec', 'web/db/cache', '--', 'zfs', 'list', '-H', '-o', 'name')).stdout).toContain('zroot/nest/jails/web/delegated/db.cache\n')
    const plan = JSON.parse((await nest('restart', 'web', '--dry-run', '--json')).stdout) as {result: {steps: Array<{id: string}>}}
    const ids = plan.result.steps.map((st) => st.id)
    expect([ids[0], ids.at(-2), ids.at(-1)]).toEqual(['web/db/cache: nest stop', 'web/db/cache: zfs mount', 'record lifecycle'])
    expect(ids).toContain('web: jail -r')
    expect(ids).toContain('web: jail -c')
    // The answer keeps what the stop unmounted below each root (the restart settles each jail twice).
    const restarted = await nest('restart', 'web')
    expect(restarted.code, restarted.stderr).toBe(0)
    expect(restarted.stdout).toMatch(/^web: restarted; [1-9]\d* leftover mount\(s\) unmounted\n/)
    expect(jailNames()).toEqual(['small', 'small.a', 'web', 'web.db', 'web.db.cache'])
  }, 60_000)

  it('jail -r web (the base tool) stops the children first through the hooks, and cleans up', async () => {
    const r = await sim.run('jail', '-f', '/etc/jail.conf.d/web.conf', '-r', 'web')
    expect(r.code, r.stderr).toBe(0)
    expect(jailNames()).toEqual(['small', 'small.a'])
    expect(below(WEB)).toEqual([])
  }, 60_000)

  it('start --all starts every tree, stop --all stops them, children first', async () => {
    sim.restore(webStopped)
    const up = await nest('start', '--all', '--parallel', '2')
    expect(up.code, up.stderr).toBe(0)
    expect(jailNames()).toEqual(['small', 'small.a', 'web', 'web.db', 'web.db.cache'])
    const down = await nest('stop', '--all', '--json')
    expect(down.code, down.stderr).toBe(0)
    const steps = (JSON.parse(down.stdout) as {result: {jails: Array<{name: string; outcome: string}>}}).result.jails
    expect(steps.map((s) => `${s.name} ${s.outcome}`).sort()).toEqual(['small stopped', 'small/a stopped', 'web stopped', 'web/db stopped', 'web/db/cache stopped'])
    expect(jailNames()).toEqual([])
  }, 90_000)

  it('a child that fails to start: its own children are skipped, exit 7', async () => {
    sim.restore(allStopped)
    await addFault(sim.root, {tool: 'jail', match: '-c db$', stderr: 'jail: db: jail_set: Cannot allocate memory'})
    const r = await nest('start', 'web', '--json')
    await clearFaults(sim.root)
    expect(r.code).toBe(7)
    const doc = JSON.parse(r.stdout) as {error: {kind: string; details: {jails: Array<{name: string; outcome: string}>}}}
    expect(doc.error.kind).toBe('partial')
    expect(doc.error.details.jails.map((s) => `${s.name} ${s.outcome}`)).toEqual(['web started', 'web/db failed', 'web/db/cache skipped'])
    expect(jailNames()).toEqual(['web'])
  }, 60_000)
})

describe('the hooks of a jail -r that nest runs', () => {
  it('exec.prestop with nothing running below costs one jls; exec.release leaves the cleanup to nest', async () => {
    // Only web runs: nothing below it.
    sim.restore(allStopped)
    await steps(['start', 'web', '--no-children'])
    expect(jailNames()).toEqual(['web'])
    const pre = await nest('stop', 'web', '--children-only', '--verbose')
    expect(pre.code, pre.stderr).toBe(0)
    expect(pre.stdout).toBe('')
    expect(pre.stderr.match(/"event":"command"/g)).toEqual(['"event":"command"'])
    expect(pre.stderr).toContain('"argv":["jls","--libxo","json","-d","-n"]')
    const plan = await nest('stop', 'web', '--dry-run')
    expect(plan.stdout).toContain('NEST_CLEANUP_FOLLOWS=1 jail -f /etc/jail.conf.d/web.conf -r web')
    const mounts = below(WEB)
    const rel = await sim.nestWith({NEST_CLEANUP_FOLLOWS: '1'}, 'cleanup', 'web', '--verbose')
    expect(rel.code, rel.stderr).toBe(0)
    expect(rel.stdout).toBe('')
    expect(rel.stderr).not.toContain('"event":"command"')
    expect(below(WEB)).toEqual(mounts)
  })
})

describe('destroy', () => {
  it('refuses a parent with children without --recursive, then removes the tree', async () => {
    sim.restore(allStopped)
    expect((await nest('start', 'web')).code).toBe(0)
    const before = hostState()
    const r = await nest('destroy', 'web/db', '--force')
    expect(r.code).toBe(5)
    expect(r.stderr).toBe('nest: web/db: 1 jail(s) below it (web/db/cache) (nest destroy web/db --recursive)\n')
    expect(hostState()).toEqual(before)
    const leaf = await nest('destroy', 'web/db/cache', '--force')
    expect(leaf.code, leaf.stderr).toBe(0)
    expect(sim.kernel().datasets.some((d) => d.name.includes('cache'))).toBe(false)
    const all = await nest('destroy', 'web', '--recursive', '--force')
    expect(all.code, all.stderr).toBe(0)
    expect(sim.kernel().datasets.filter((d) => d.name.startsWith('zroot/nest/jails/web'))).toEqual([])
    expect(jailNames()).toEqual([])
  }, 90_000)
})
