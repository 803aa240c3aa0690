// Parent jails, nest's commands in-process on a simulated host: exit codes, stderr, --json, and
// the simulated host's state afterwards (kernel, datasets, mounts, files). Each test starts from
// a saved host (bootstrapped; web running; web stopped), built once for the file.
import {mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import {addFault, clearFaults, loadControl} from '../../src/sim/control.js'
import {hostState as hostStateOf, makeSim, type TestSim} from '../helpers/sim.js'
import {holdLock} from '../helpers/locks.js'

let sim: TestSim
const nest = (...args: string[]) => sim.nest(...args)

const hostState = (): unknown => hostStateOf(sim, ['/etc/jail.conf.d', '/nest/jails'])

/** Saved hosts: the release bootstrapped; then web created and running; then web stopped. */
let bootstrapped: string
let webRunning: string
let webStopped: string

beforeAll(async () => {
  sim = await makeSim()
  const b = await nest('bootstrap', '14.3-RELEASE')
  expect(b.code, b.stderr).toBe(0)
  expect(b.stdout).toBe('14.3-RELEASE: bootstrapped (zroot/nest/releases/14.3-RELEASE@base, /nest/releases/14.3-RELEASE)\n')
  bootstrapped = sim.save()
  const c = await nest('create', 'web')
  expect(c.code, c.stderr).toBe(0)
  webRunning = sim.save()
  const s = await nest('stop', 'web')
  expect(s.code, s.stderr).toBe(0)
  webStopped = sim.save()
})
afterAll(() => sim.cleanup())
// Unless a test says otherwise, it starts from the bootstrapped host.
beforeEach(() => sim.restore(bootstrapped))

describe('refused before anything changes', () => {
  it.each(['a;b', '$(x)', 'a b', 'a.b', '..', '', 'a'.repeat(300), 'a\nb', '-rf', '123'])('a hostile name %j', async (name) => {
    const before = hostState()
    const r = await nest('create', '--', name)
    expect(r.code).toBe(3)
    expect(r.stdout).toBe('')
    expect(r.stderr.split('\n').filter((l) => l !== '')).toHaveLength(1)
    expect(r.stderr).toMatch(/^nest: invalid jail name .*\(use letters, digits/)
    expect(hostState()).toEqual(before)
  })

  it('a broken user policy, with its file, line and key', async () => {
    const dir = sim.fs('/usr/local/etc/nest/policies')
    mkdirSync(dir, {recursive: true})
    writeFileSync(path.join(dir, 'broken.conf'), 'nest.description = "x";\nchildren.max = 16;\nallow.mount.ext4;\n')
    const before = hostState()
    const r = await nest('create', 'web', '--policy', 'broken', '--json')
    expect(r.code).toBe(3)
    expect(JSON.parse(r.stdout)).toEqual({status: 3, error: {kind: 'invalid-input', message: 'policy /usr/local/etc/nest/policies/broken.conf line 3: allow.mount.ext4 is not a jail parameter FreeBSD 14.3 knows', fix: 'see nest policy show parent for a valid policy'}, warnings: []})
    expect(hostState()).toEqual(before)
    const list = await nest('policy', 'list')
    expect(list.stdout).toMatch(/^broken +user +broken: policy .*line 3/m)
    rmSync(path.join(dir, 'broken.conf'))
  })

  it('a policy FreeBSD would refuse half way: mounts with enforce_statfs 2', async () => {
    mkdirSync(sim.fs('/usr/local/etc/nest/policies'), {recursive: true})
    writeFileSync(sim.fs('/usr/local/etc/nest/policies/strict.conf'), 'nest.description = "x";\nnest.delegate;\nchildren.max = 4;\nallow.mount;\nallow.mount.zfs;\n')
    const before = hostState()
    const r = await nest('create', 'web', '--policy', 'strict')
    expect(r.code).toBe(6)
    expect(r.stderr).toBe('nest: web: policy strict: allow.mount.zfs cannot be used with enforce_statfs = 2: a jail mounts only with enforce_statfs < 2 (set enforce_statfs = 1) (fix /usr/local/etc/nest/policies/strict.conf)\n')
    expect(hostState()).toEqual(before)
  })

  it('an unknown release names the command to run', async () => {
    const r = await nest('create', 'web', '--release', '13.5-RELEASE')
    expect(r.code).toBe(4)
    expect(r.stderr).toBe('nest: release 13.5-RELEASE is not bootstrapped (run nest bootstrap 13.5-RELEASE first)\n')
  })

  it('--dry-run prints the plan and changes nothing', async () => {
    const before = hostState()
    const r = await nest('create', 'web', '--dry-run', '--json')
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.stdout) as {result: {dryRun: boolean; steps: Array<{id: string; action: string}>}}
    expect(doc.result.dryRun).toBe(true)
    expect(doc.result.steps.map((s) => s.id)).toEqual(['write jail.conf', 'zfs create', 'chmod 0700', 'zfs clone', 'mkdir nest', 'write nest', 'zfs create data', 'jail -c', 'pkg install node', 'mark ready'])
    expect(hostState()).toEqual(before)
  })
})

describe('a failure at any step of create rolls back to the state before', () => {
  const faults: Array<[string, () => Promise<void>]> = [
    ['write jail.conf', async () => {
      rmSync(sim.fs('/etc/jail.conf.d'), {recursive: true})
      writeFileSync(sim.fs('/etc/jail.conf.d'), '')
    }],
    ['zfs create', () => addFault(sim.root, {tool: 'zfs', match: '^create -o nest:name=web', stderr: "cannot create 'zroot/nest/jails/web': out of space"}).then(() => undefined)],
    ['zfs clone', () => addFault(sim.root, {tool: 'zfs', match: '^clone ', errno: 'EIO'}).then(() => undefined)],
    ['zfs create data', () => addFault(sim.root, {tool: 'zfs', match: '^create -o jailed=on', errno: 'ENOSPC'}).then(() => undefined)],
    ['jail -c', () => addFault(sim.root, {tool: 'jail', match: '-c web$', stderr: 'jail: web: jail_set: Cannot allocate memory'}).then(() => undefined)],
    ['mount.devfs', () => addFault(sim.root, {tool: 'mount', match: '-t devfs', errno: 'EPERM'}).then(() => undefined)],
    ['exec.created (zfs jail)', () => addFault(sim.root, {tool: 'zfs', match: '^jail web ', errno: 'EPERM'}).then(() => undefined)],
    ['exec.start (zfs mount)', () => addFault(sim.root, {tool: 'zfs', match: '^mount zroot/nest/jails/web/data', errno: 'EIO'}).then(() => undefined)],
  ]

  it.each(faults)('%s', async (_step, inject) => {
    const before = hostState()
    await inject()
    const r = await nest('create', 'web')
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/^nest: /m)
    expect(loadControl(sim.root).faults.every((f) => f.fired)).toBe(true)
    await clearFaults(sim.root)
    rmSync(sim.fs('/etc/jail.conf.d'), {recursive: true, force: true})
    mkdirSync(sim.fs('/etc/jail.conf.d'), {recursive: true})
    expect(hostState()).toEqual(before)
  })
})

describe('the parent lifecycle', () => {
  it('creates web running, with its delegated dataset jailed=on and attached', async () => {
    const r = await nest('create', 'web')
    expect(r.code, r.stderr).toBe(0)
    const jid = sim.kernel().jails.find((j) => j.name === 'web')?.jid
    expect(r.stdout).toBe(`web: created (running, jid ${jid}, policy parent, /nest/jails/web/root)\n`)
    const list = JSON.parse((await nest('list', '--json')).stdout) as unknown
    expect(list).toEqual({status: 0, warnings: [], result: {jails: [
      {name: 'web', jail: 'web', jid, state: 'running', parent: null, policy: 'parent', release: '14.3-RELEASE', path: '/nest/jails/web/root', children: {cur: 0, max: 16}},
    ]}})
    expect((await sim.run('zfs', 'get', '-H', '-o', 'value', 'jailed', 'zroot/nest/jails/web/data')).stdout).toBe('on\n')
    const inside = await nest('exec', 'web', '--', 'zfs', 'list', '-H', '-o', 'name')
    expect(inside.code).toBe(0)
    expect(inside.stdout).toContain('zroot/nest/jails/web/data\n')
    const jls = (await sim.run('jls', '-n', '-j', 'web')).stdout
    for (const p of ['children.max=16', 'enforce_statfs=1', 'devfs_ruleset=4', 'allow.mount ', 'allow.mount.zfs', 'allow.mount.nullfs', 'allow.mount.tmpfs', 'allow.mount.devfs', 'allow.mount.noprocfs']) {
      expect(jls).toContain(p)
    }
  })

  it('exec passes the command status through and captures output under --json', async () => {
    sim.restore(webRunning)
    expect((await nest('exec', 'web', '--', 'false')).code).toBe(1)
    const j = await nest('exec', 'web', '--json', '--', 'sysctl', '-n', 'security.jail.jailed')
    expect(JSON.parse(j.stdout)).toEqual({status: 0, warnings: [], result: {name: 'web', argv: ['sysctl', '-n', 'security.jail.jailed'], exitCode: 0, stdout: '1\n', stderr: ''}})
  })

  it('waits for, then refuses, a second nest acting on the same jail', async () => {
    sim.restore(webRunning)
    const lock = holdLock(sim.fs('/var/run/nest/web.lock'), 'web')
    try {
      const r = await sim.nestWith({NEST_LOCK_WAIT: '1'}, 'stop', 'web')
      expect(r.code).toBe(8)
      expect(r.stderr).toBe('web: another nest process is working on this jail; waiting for it (up to 1 s)\nnest: web: another nest process is working on this jail (wait for it to finish, then run the command again)\n')
    } finally {
      lock.release()
    }
    expect(sim.kernel().jails.find((j) => j.name === 'web')?.state).toBe('ALIVE')
  })

  it('stop leaves no mount below the root, even mounts made inside web; a sibling prefix is untouched', async () => {
    sim.restore(webRunning)
    for (const args of [['mount', '-t', 'tmpfs', 'tmpfs', '/tmp'], ['zfs', 'create', 'zroot/nest/jails/web/data/jails'], ['mount', '-t', 'nullfs', '/data/jails', '/var/run'], ['mount', '-t', 'tmpfs', 'tmpfs', '/var/run']]) {
      const r = await nest('exec', 'web', '--', ...args)
      expect(r.code, r.stderr).toBe(0)
    }
    mkdirSync(sim.fs('/nest/jails/web2/root/tmp'), {recursive: true})
    expect((await sim.run('mount', '-t', 'tmpfs', 'tmpfs', '/nest/jails/web2/root/tmp')).code).toBe(0)
    const r = await nest('stop', 'web')
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toBe('web: stopped; 5 leftover mount(s) unmounted\n')
    const left = sim.kernel().mounts.map((m) => m.on).filter((on) => on.startsWith('/nest/jails/web'))
    expect(left).toEqual(['/nest/jails/web', '/nest/jails/web/root', '/nest/jails/web2/root/tmp'])
    expect((await sim.run('umount', '/nest/jails/web2/root/tmp')).code).toBe(0)
    const again = await nest('cleanup', 'web', '--json')
    expect(JSON.parse(again.stdout)).toEqual({status: 0, warnings: [], result: {jail: 'web', root: '/nest/jails/web/root', unmounted: [], remaining: []}})
  })

  it('lists a stopped jail, and starts it again', async () => {
    sim.restore(webStopped)
    expect((await nest('list')).stdout).toBe('NAME  JID  STATE    POLICY  CHILDREN  NETWORK  PATH\nweb   -    stopped  parent  0/16      -        /nest/jails/web/root\n')
    const r = await nest('start', 'web')
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toBe('web: started\n')
    expect((await nest('start', 'web')).code).toBe(5)
  })

  it('destroy refuses a running jail, and a mount below the root it cannot remove', async () => {
    sim.restore(webRunning)
    const r = await nest('destroy', 'web')
    expect(r.code).toBe(5)
    expect(r.stderr).toBe('nest: web: running (nest stop web first, or nest destroy web --force)\n')
    expect((await nest('stop', 'web')).code).toBe(0)
    // A nullfs elsewhere whose lower layer is a tmpfs below web's root keeps that tmpfs busy.
    mkdirSync(sim.fs('/mnt/view'), {recursive: true})
    expect((await sim.run('mount', '-t', 'tmpfs', 'tmpfs', '/nest/jails/web/root/tmp')).code).toBe(0)
    expect((await sim.run('mount_nullfs', '/nest/jails/web/root/tmp', '/mnt/view')).code).toBe(0)
    const before = hostState()
    const d = await nest('destroy', 'web', '--json')
    expect(d.code).toBe(7)
    expect(JSON.parse(d.stdout)).toMatchObject({status: 7, error: {kind: 'partial', message: 'web: step "umount /nest/jails/web/root/tmp": 1 mount(s) stay below /nest/jails/web/root (/nest/jails/web/root/tmp: Device busy)'}})
    expect(hostState()).toEqual(before)
    expect((await sim.run('umount', '/mnt/view')).code).toBe(0)
  })

  it('destroy removes the datasets and the configuration; create then works again', async () => {
    // web made a dataset of its own in its delegated one, and a mount stays below its stopped root.
    sim.restore(webRunning)
    expect((await nest('exec', 'web', '--', 'zfs', 'create', 'zroot/nest/jails/web/data/jails')).code).toBe(0)
    expect((await nest('stop', 'web')).code).toBe(0)
    expect((await sim.run('mount', '-t', 'tmpfs', 'tmpfs', '/nest/jails/web/root/tmp')).code).toBe(0)
    const r = await nest('destroy', 'web')
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toBe('web: destroyed (4 dataset(s), /etc/jail.conf.d/web.conf)\n')
    expect(sim.kernel().datasets.filter((d) => d.name.startsWith('zroot/nest/jails/'))).toEqual([])
    expect(readdirSync(sim.fs('/etc/jail.conf.d'))).toEqual([])
    expect(sim.kernel().mounts.filter((m) => m.on.startsWith('/nest/jails/web'))).toEqual([])
    expect((await nest('list', '--json')).stdout).toContain('"jails": []')
    expect((await nest('create', 'web', '--no-start')).code).toBe(0)
    expect(readFileSync(sim.fs('/etc/jail.conf.d/web.conf'), 'utf8')).toContain('exec.release = "test \\"\\$NEST_CLEANUP_FOLLOWS\\" = 1 || /usr/local/bin/nest cleanup web";')
  })

  it('a missing jail gets one JSON document and exit 4', async () => {
    const r = await nest('start', 'nosuch', '--json')
    expect(r.code).toBe(4)
    expect(JSON.parse(r.stdout)).toEqual({status: 4, error: {kind: 'not-found', message: 'nosuch: no such jail', fix: 'see nest list'}, warnings: []})
  })
})
