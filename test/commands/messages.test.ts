// Failures name the jail, the step and its command, then a fix that works in the state the
// failure left (issue 11, "Messages"): a plan's step, a read, a child manager's step, a tree
// start whose attach fails (the child is stopped again, so `nest start` is the fix that works),
// a failing sysctl (a failure, not "this host cannot grant").
import {afterAll, beforeAll, beforeEach, expect, it} from 'vitest'

import {addFault} from '../../src/sim/control.js'
import {makeSim, type TestSim} from '../helpers/sim.js'

let sim: TestSim
let webStopped: string
const nest = (...args: string[]) => sim.nest(...args)
/** Its last line: the error (what nest printed before it is progress). */
const lastLine = (text: string): string => text.trimEnd().split('\n').at(-1) ?? ''

beforeAll(async () => {
  sim = await makeSim()
  for (const args of [['bootstrap', '14.3-RELEASE'], ['create', 'web'], ['create', 'web/db'], ['stop', 'web']]) {
    const r = await nest(...args)
    expect(r.code, r.stderr).toBe(0)
  }
  webStopped = sim.save()
})
afterAll(() => sim.cleanup())
beforeEach(() => sim.restore(webStopped))

it('a failed step of create names the jail, the step and the command, then says to run it again', async () => {
  await addFault(sim.root, {tool: 'zfs', match: '^create .*/web2/data$', errno: 'EIO'})
  const r = await nest('create', 'web2')
  expect(r.code).toBe(10)
  expect(lastLine(r.stderr)).toBe('nest: web2: step "zfs create -o jailed=on -o mountpoint=/data zroot/nest/jails/web2/data": zfs: Input/output error (what it had done is undone; once the cause is fixed, run nest create web2 again)')
  expect((await nest('create', 'web2')).code).toBe(0)
})

it('under --json the error carries its step, and no fix nest cannot stand behind', async () => {
  await addFault(sim.root, {tool: 'zfs', match: '^create .*/web2/data$', errno: 'EIO'})
  const r = await nest('create', 'web2', '--json')
  expect(r.code).toBe(10)
  const doc = JSON.parse(r.stdout) as {status: number; error: {kind: string; step: string; message: string; fix?: string}}
  expect(doc.status).toBe(10)
  expect(doc.error).toMatchObject({kind: 'host', step: 'zfs create -o jailed=on -o mountpoint=/data zroot/nest/jails/web2/data', message: 'web2: step "zfs create -o jailed=on -o mountpoint=/data zroot/nest/jails/web2/data": zfs: Input/output error'})
  expect(doc.error.fix).toBeUndefined()
})

it('a failing read names its command', async () => {
  await addFault(sim.root, {tool: 'zfs', match: '^list ', errno: 'EIO'})
  const r = await nest('list')
  expect(r.code).toBe(10)
  expect(lastLine(r.stderr)).toBe('nest: step "zfs list -H -o name,nest:version,mountpoint -d 1": zfs: Input/output error (once the cause is fixed, run nest list again)')
})

it('a child manager\'s failed step is named as the inner nest ran it', async () => {
  expect((await nest('start', 'web', '--no-children')).code).toBe(0)
  await addFault(sim.root, {tool: 'jail', match: '-c db2$', errno: 'EIO'})
  const r = await nest('create', 'web/db2')
  expect(r.code).toBe(10)
  expect(lastLine(r.stderr)).toBe('nest: web/db2: step "jail -f /etc/jail.conf.d/db2.conf -i -c db2": jail: Input/output error (what it had done is undone; once the cause is fixed, run nest create web/db2 again)')
})

it('an attach that fails at start stops the child again, so the fix given works', async () => {
  await addFault(sim.root, {tool: 'zfs', match: '^jail web\\.db ', errno: 'EIO'})
  const r = await nest('start', 'web')
  expect(r.code).toBe(7)
  expect(r.stderr).toContain('web/db: failed: step "zfs jail web.db zroot/nest/jails/web/delegated/db": zfs: Input/output error\n')
  expect(lastLine(r.stderr)).toBe('nest: 1 of 2 jail(s) not started: web/db: step "zfs jail web.db zroot/nest/jails/web/delegated/db": zfs: Input/output error (see each jail\'s line; nest start web/db again once fixed)')
  expect(sim.alive()).toEqual(['web'])
  const again = await nest('start', 'web/db')
  expect(again.code, again.stderr).toBe(0)
  expect(sim.alive()).toEqual(['web', 'web.db'])
})

it('a failing sysctl is a failure of sysctl, not a grant the host lacks', async () => {
  await addFault(sim.root, {tool: 'sysctl', errno: 'EIO'})
  const r = await nest('create', 'web2')
  expect(r.code).toBe(10)
  expect(lastLine(r.stderr)).toBe('nest: step "sysctl -q security.jail kern.securelevel": sysctl: Input/output error (once the cause is fixed, run nest create web2 again)')
  expect(sim.alive()).toEqual([])
})

it('a destroy that fails half way says to run it again to finish it (it is not undone)', async () => {
  expect((await nest('start', 'web', '--no-children')).code).toBe(0)
  await addFault(sim.root, {tool: 'zfs', match: '^destroy -r .*/delegated/db$', errno: 'EIO'})
  const r = await nest('destroy', 'web/db', '--force')
  expect(r.code).toBe(10)
  expect(lastLine(r.stderr)).toBe('nest: web/db: step "zfs destroy -r zroot/nest/jails/web/delegated/db": zfs: Input/output error (once the cause is fixed, run nest destroy web/db --force again: it finishes what is left)')
  const again = await nest('destroy', 'web/db', '--force')
  expect(again.code, again.stderr).toBe(0)
  expect(sim.kernel().datasets.map((d) => d.name)).not.toContain('zroot/nest/jails/web/delegated/db')
})
