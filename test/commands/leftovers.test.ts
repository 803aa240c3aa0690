// What a crash leaves, and what it does not: create and destroy recognize nest's own half-made
// or half-removed jails (nest:state, nest:name, nest's jail.conf) and finish or undo them,
// saying so; they never touch a same-named object that is not nest's.
import {readFileSync, writeFileSync} from 'node:fs'

import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import {addFault} from '../../src/sim/control.js'
import {hostState, makeSim, nestSteps, type TestSim} from '../helpers/sim.js'

let sim: TestSim
let boot: string
let web: string
let webDb: string
beforeAll(async () => {
  sim = await makeSim()
  await nestSteps(sim, ['bootstrap', '14.3-RELEASE'])
  boot = sim.save()
  await nestSteps(sim, ['create', 'web'])
  web = sim.save()
  await nestSteps(sim, ['create', 'web/db'])
  webDb = sim.save()
})
afterAll(() => sim.cleanup())
beforeEach(() => sim.restore(boot))

const datasets = (): string[] => sim.kernel().datasets.map((d) => d.name)

describe('not nest\'s: left alone', () => {
  it('a jail.conf of the name that nest did not write: create refuses, destroy finds no jail, the file stays', async () => {
    const mine = 'web { path = "/jails/web"; persist; }\n'
    writeFileSync(sim.fs('/etc/jail.conf.d/web.conf'), mine)
    const c = await sim.nest('create', 'web')
    expect(c.code).toBe(5)
    expect(c.stderr).toMatch(/^nest: web: \/etc\/jail.conf.d\/web.conf exists/m)
    const d = await sim.nest('destroy', 'web')
    expect(d.code).toBe(4)
    expect(readFileSync(sim.fs('/etc/jail.conf.d/web.conf'), 'utf8')).toBe(mine)
  })

  it('a dataset of the name without nest:name: create refuses and leaves it', async () => {
    await sim.run('zfs', 'create', 'zroot/nest/jails/web')
    const before = hostState(sim, ['/etc/jail.conf.d'])
    const c = await sim.nest('create', 'web')
    expect(c.code).toBe(5)
    expect(c.stderr).toContain('nest: web: dataset zroot/nest/jails/web exists and is not nest\'s')
    expect(hostState(sim, ['/etc/jail.conf.d'])).toEqual(before)
  })
})

describe('nest\'s own leftovers: finished or undone', () => {
  it('a create crashed after its jail.conf: the next create removes it and makes web', async () => {
    // What a crash right after create's first step leaves: nest's jail.conf, nothing else.
    sim.restore(web)
    const conf = readFileSync(sim.fs('/etc/jail.conf.d/web.conf'), 'utf8')
    sim.restore(boot)
    writeFileSync(sim.fs('/etc/jail.conf.d/web.conf'), conf)
    const dry = await sim.nest('create', 'web', '--dry-run')
    expect(dry.code).toBe(5)
    expect(dry.stderr).toBe('nest: web: half made by a create that did not finish (nest create web undoes it and starts over (nest destroy web --recursive --force removes it))\n')
    const c = await sim.nest('create', 'web')
    expect(c.code, c.stderr).toBe(0)
    expect(c.stderr).toContain('web: not a whole jail: removing what an interrupted create or destroy left of it (/etc/jail.conf.d/web.conf)\n')
    expect(sim.alive()).toEqual(['web'])
  })

  it('destroy of a jail whose create crashed after its jail.conf: the file goes', async () => {
    sim.restore(web)
    const conf = readFileSync(sim.fs('/etc/jail.conf.d/web.conf'), 'utf8')
    sim.restore(boot)
    writeFileSync(sim.fs('/etc/jail.conf.d/web.conf'), conf)
    const d = await sim.nest('destroy', 'web', '--json')
    expect(d.code, d.stderr).toBe(0)
    expect(JSON.parse(d.stdout)).toEqual({status: 0, warnings: [], result: {dryRun: false, name: 'web', datasets: [], directories: [], conf: '/etc/jail.conf.d/web.conf', leftovers: 'finished'}})
    expect((await sim.nest('destroy', 'web')).code).toBe(4)
  })

  it('a child half made inside its parent, which the host\'s rollback could not remove (the child manager killed, then its destroy failing): destroy and create finish it', async () => {
    const props = (ds: string) => sim.kernel().datasets.find((x) => x.name === ds)?.props['nest:state']
    const halfMade = async (): Promise<void> => {
      sim.restore(web)
      // A sibling first: web's <dataset>/jails is there before db's create, so its rollback keeps it.
      await nestSteps(sim, ['create', 'web/x', '--policy', 'leaf'])
      // The nest inside web dies right after it cloned db's root; the host's rollback then cannot reach web's nest.
      await addFault(sim.root, {tool: 'zfs', match: '^clone zroot/nest/jails/web/data/releases/14.3-RELEASE@base zroot/nest/jails/web/data/jails/db/root$', crash: true})
      await addFault(sim.root, {tool: 'jexec', match: '^web \\S+ destroy db --force --if-exists', errno: 'EIO'})
      const c = await sim.nest('create', 'web/db')
      expect(c.code).toBe(10)
      expect(c.stderr).toMatch(/rolling back left: jexec web \S+ destroy db --force --if-exists --json: /)
      expect([props('zroot/nest/jails/web/data/jails/db'), props('zroot/nest/jails/web/delegated/db')]).toEqual(['creating', undefined])
    }
    await halfMade()
    const d = await sim.nest('destroy', 'web/db', '--force')
    expect(d.code, d.stderr).toBe(0)
    expect(datasets().filter((x) => x.includes('/db'))).toEqual([])
    await halfMade()
    const again = await sim.nest('create', 'web/db')
    expect(again.code, again.stderr).toBe(0)
    expect(again.stderr).toContain('web/db: half made by a create that did not finish (nest:state=creating): undoing it, then creating it again\n')
    expect(props('zroot/nest/jails/web/data/jails/db')).toBe('ready')
    expect(sim.alive()).toEqual(['web', 'web.db', 'web.x'])
  })

  it('a parent half made (crashed after its jail -c): no child is made in it; its create makes it whole', async () => {
    await addFault(sim.root, {tool: 'jail', match: '-c web$', crash: true})
    expect((await sim.nest('create', 'web')).crashed).toBe(true)
    expect(sim.alive()).toEqual(['web'])
    const child = await sim.nest('create', 'web/db')
    expect(child.code).toBe(5)
    expect(child.stderr).toContain('nest: web: half made by a create that did not finish, so it cannot create db (nest create web (it undoes and makes it again), then nest create web/db)\n')
    const again = await sim.nest('create', 'web')
    expect(again.code, again.stderr).toBe(0)
    expect((await sim.nest('create', 'web/db')).code).toBe(0)
    expect(sim.alive()).toEqual(['web', 'web.db'])
  })

  it('the dataset a destroy of web/db left (its last zfs destroy failed): destroy finishes, and so does create', async () => {
    sim.restore(webDb)
    await addFault(sim.root, {tool: 'zfs', match: '^destroy -r zroot/nest/jails/web/delegated/db$', errno: 'EIO'})
    const d = await sim.nest('destroy', 'web/db', '--force')
    expect(d.code).toBe(10)
    expect(d.stderr).toContain('web/db: step "zfs destroy -r zroot/nest/jails/web/delegated/db": zfs: Input/output error')
    const left = sim.save()
    const again = await sim.nest('destroy', 'web/db')
    expect(again).toMatchObject({code: 0, stdout: 'web/db: destroyed (1 dataset(s)): what an interrupted create or destroy had left\n'})
    expect(datasets()).not.toContain('zroot/nest/jails/web/delegated/db')
    sim.restore(left)
    const c = await sim.nest('create', 'web/db')
    expect(c.code, c.stderr).toBe(0)
    expect(c.stderr).toContain('web/db: half made by a create that did not finish (nest:state=creating): undoing it, then creating it again\n')
    expect(sim.alive()).toEqual(['web', 'web.db'])
  })
})
