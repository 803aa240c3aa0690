// Children of a parent with no delegated dataset, nest's commands in-process on a simulated host: their
// roots are directories in the parent's root (a copy of the release the host put there), what
// nest knows of each is a nest.json beside its root; the tree works as with datasets. And
// --start-parent, which starts a stopped parent first and stops it again if the create fails.
// Each test starts from a saved host, built once for the file: lite; lite with lite/a, lite/b
// and lite/b/c; that with lite2 beside it; then lite/b destroyed; then everything stopped.
import {existsSync, mkdirSync, readFileSync, symlinkSync, unlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import {addFault, clearFaults} from '../../src/sim/control.js'
import {hostState as hostStateOf, makeSim, type TestSim} from '../helpers/sim.js'

let sim: TestSim
const nest = (...args: string[]) => sim.nest(...args)
const LITE = '/nest/jails/lite/root'
const below = (root: string) => sim.mountsBelow(root)
const jailNames = () => sim.alive()
const jidOf = (name: string) => sim.jid(name)
const hostState = (root = LITE): unknown => hostStateOf(sim, ['/etc/jail.conf.d', `${root}/etc/jail.conf.d`, `${root}/nest`])

const DIR_PARENT = [
  'nest.description = "A parent whose children live in directories of its root.";',
  'nest.delegate = false;', 'children.max = 8;', 'enforce_statfs = 1;', 'devfs_ruleset = 4;',
  'allow.mount;', 'allow.mount.devfs;', 'allow.mount.nullfs;', 'allow.mount.tmpfs;', '',
].join('\n')

const steps = async (...lines: string[][]): Promise<void> => {
  for (const args of lines) {
    const r = await nest(...args)
    expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0)
  }
}

/** Saved hosts, each built from the one before. */
let lite: string
let tree: string
let withLite2: string
let noB: string
let allStopped: string

beforeAll(async () => {
  sim = await makeSim()
  const dir = sim.fs('/usr/local/etc/nest/policies')
  mkdirSync(dir, {recursive: true})
  writeFileSync(path.join(dir, 'dirparent.conf'), DIR_PARENT)
  writeFileSync(path.join(dir, 'raw.conf'), 'nest.description = "raw sockets";\nchildren.max = 0;\nenforce_statfs = 2;\nallow.raw_sockets;\n')
  await steps(['bootstrap', '14.3-RELEASE'], ['create', 'lite', '--policy', 'dirparent'])
  lite = sim.save()
  await steps(['create', 'lite/a', '--policy', 'leaf'], ['create', 'lite/b', '--policy', 'dirparent'], ['create', 'lite/b/c', '--policy', 'leaf'])
  tree = sim.save()
  await steps(['create', 'lite2', '--policy', 'dirparent'])
  withLite2 = sim.save()
  await steps(['destroy', 'lite/b', '--recursive', '--force'])
  noB = sim.save()
  await steps(['stop', 'lite', 'lite2'])
  allStopped = sim.save()
})
afterAll(() => sim.cleanup())
// Unless a test says otherwise, it starts from lite's three children, with lite2 beside lite.
beforeEach(() => sim.restore(withLite2))

describe('children in directories', () => {
  it('creates lite/a, lite/b and lite/b/c with roots in directories, no dataset', async () => {
    sim.restore(lite)
    const datasets = sim.kernel().datasets.map((d) => d.name)
    const a = await nest('create', 'lite/a', '--policy', 'leaf')
    expect(a.code, a.stderr).toBe(0)
    expect(a.stdout).toBe(`lite/a: created (running, jid ${jidOf('lite.a')}, policy leaf, ${LITE}/nest/jails/a/root)\n`)
    const b = await nest('create', 'lite/b', '--policy', 'dirparent')
    expect(b.code, b.stderr).toBe(0)
    const c = await nest('create', 'lite/b/c', '--policy', 'leaf')
    expect(c.code, c.stderr).toBe(0)
    expect(c.stdout).toBe(`lite/b/c: created (running, jid ${jidOf('lite.b.c')}, policy leaf, ${LITE}/nest/jails/b/root/nest/jails/c/root)\n`)
    // The release the host copied into each parent, the roots copied from it, nest.json beside them.
    expect(readFileSync(sim.fs(`${LITE}/nest/releases/14.3-RELEASE/bin/freebsd-version`), 'utf8')).toContain('echo 14.3-RELEASE')
    expect(existsSync(sim.fs(`${LITE}/nest/jails/b/root/nest/jails/c/root/bin/freebsd-version`))).toBe(true)
    expect(JSON.parse(readFileSync(sim.fs(`${LITE}/nest/jails/a/nest.json`), 'utf8'))).toEqual({name: 'a', policy: 'leaf', release: '14.3-RELEASE', delegate: false, version: '1'})
    expect(sim.kernel().datasets.map((d) => d.name)).toEqual(datasets)
  }, 60_000)

  it('lists the tree from the host, and each level runs inside its parent', async () => {
    sim.restore(tree)
    const r = await nest('list', '--json')
    expect(r.code).toBe(0)
    const jails = (JSON.parse(r.stdout) as {result: {jails: Array<Record<string, unknown>>}}).result.jails
    expect(jails.map((j) => [j['name'], j['jail'], j['state'], j['children'], j['path']])).toEqual([
      ['lite', 'lite', 'running', {cur: 3, max: 8}, LITE],
      ['lite/a', 'lite.a', 'running', {cur: 0, max: 0}, `${LITE}/nest/jails/a/root`],
      ['lite/b', 'lite.b', 'running', {cur: 1, max: 7}, `${LITE}/nest/jails/b/root`],
      ['lite/b/c', 'lite.b.c', 'running', {cur: 0, max: 0}, `${LITE}/nest/jails/b/root/nest/jails/c/root`],
    ])
    expect((await sim.runIn(jidOf('lite') as number, 'jls', '-n', 'name')).stdout).toBe('name=a\nname=b\nname=b.c\n')
    const e = await nest('exec', 'lite/b/c', '--', 'sysctl', '-n', 'security.jail.jailed')
    expect(e.stdout).toBe('1\n')
  })

  it('nest stop lite leaves nothing mounted below its root; nest start lite brings every level back', async () => {
    sim.restore(tree)
    const log = path.join(sim.root, 'invocations.jsonl')
    const seen = readFileSync(log, 'utf8').split('\n').filter(Boolean).length
    /** The child-manager calls since the last look: `jexec <jail> <nest> <verb> names...`. */
    const calls = (from: number): string[] => readFileSync(log, 'utf8').split('\n').filter(Boolean).slice(from)
      .map((l) => JSON.parse(l) as {tool: string; argv: string[]; jail: string | null})
      .filter((c) => c.tool === 'jexec' && c.argv[1]?.endsWith('/bin/run.js') === true).map((c) => `${c.jail ?? 'host'}: ${c.argv[0]} ${c.argv.slice(2, -1).join(' ')}`)
    const down = await nest('stop', 'lite')
    expect(down.code, down.stderr).toBe(0)
    expect(down.stdout).toBe('lite/b/c: stopped\nlite/b: stopped\nlite/a: stopped\nlite: stopped\n')
    expect(jailNames()).toEqual([])
    expect(below(LITE)).toEqual([])
    const stopped = JSON.parse((await nest('list', '--json')).stdout) as {result: {jails: Array<{name: string; state: string; children: unknown}>}}
    expect(stopped.result.jails.map((j) => [j.name, j.state, j.children])).toEqual([
      ['lite', 'stopped', {cur: 0, max: 8}], ['lite/a', 'stopped', {cur: 0, max: 0}], ['lite/b', 'stopped', {cur: 0, max: 7}], ['lite/b/c', 'stopped', {cur: 0, max: 0}],
    ])
    // One call of the nest inside each parent for all its children (lite's own exec.prestop found nothing left to stop).
    expect(calls(seen)).toEqual(['host: lite.b stop c --no-children --parallel 4', 'host: lite stop a b --no-children --parallel 4'])
    const mid = readFileSync(log, 'utf8').split('\n').filter(Boolean).length
    const up = await nest('start', 'lite')
    expect(up.code, up.stderr).toBe(0)
    expect(up.stdout).toBe('lite: started\nlite/a: started\nlite/b: started\nlite/b/c: started\n')
    expect(jailNames()).toEqual(['lite', 'lite.a', 'lite.b', 'lite.b.c'])
    expect(calls(mid)).toEqual(['host: lite start a b --no-children --parallel 4', 'host: lite.b start c --no-children --parallel 4'])
  }, 90_000)

  it('one child of a group fails to start: its siblings and their children go on, exit 7', async () => {
    sim.restore(tree)
    expect((await nest('stop', 'lite')).code).toBe(0)
    await addFault(sim.root, {tool: 'jail', match: '-c a$', stderr: 'jail: a: jail_set: Cannot allocate memory'})
    const r = await nest('start', 'lite', '--json')
    await clearFaults(sim.root)
    expect(r.code).toBe(7)
    const doc = JSON.parse(r.stdout) as {error: {message: string; details: {jails: Array<{name: string; outcome: string; error?: string}>}}}
    expect(doc.error.message).toMatch(/^1 of 4 jail\(s\) not started: lite\/a: /)
    expect(doc.error.details.jails.map((j) => `${j.name} ${j.outcome}`)).toEqual(['lite started', 'lite/a failed', 'lite/b started', 'lite/b/c started'])
    expect(doc.error.details.jails[1]?.error).toContain('jail: a: jail_set: Cannot allocate memory')
    expect(jailNames()).toEqual(['lite', 'lite.b', 'lite.b.c'])
    const again = await nest('start', 'lite/a')
    expect(again.code, again.stderr).toBe(0)
    expect(jailNames()).toEqual(['lite', 'lite.a', 'lite.b', 'lite.b.c'])
  }, 90_000)

  it('a failure half way in a parent that had no release yet: the copied release goes too', async () => {
    sim.restore(tree)
    expect((await nest('create', 'lite2', '--policy', 'dirparent')).code).toBe(0)
    const root = '/nest/jails/lite2/root'
    const before = hostState(root)
    await addFault(sim.root, {tool: 'jail', match: '-c k$', stderr: 'jail: k: jail_set: Cannot allocate memory'})
    const r = await nest('create', 'lite2/k', '--policy', 'leaf')
    await clearFaults(sim.root)
    expect(r.code).toBe(10)
    expect(r.stderr).toMatch(/jail: k: jail_set: Cannot allocate memory/)
    expect(hostState(root)).toEqual(before)
    expect(existsSync(sim.fs(`${root}/nest/releases/14.3-RELEASE`))).toBe(false)
  }, 60_000)

  it('a link the parent\'s root user planted is not written through', async () => {
    const root = '/nest/jails/lite2/root'
    // Were it followed, the host would write the release into its own /etc.
    symlinkSync(sim.fs('/etc'), sim.fs(`${root}/nest`))
    const before = hostState(root)
    const r = await nest('create', 'lite2/k', '--policy', 'leaf')
    expect(r.code).toBe(6)
    expect(r.stderr).toBe([
      // Reading lite2's directory children (below its root) follows nothing either: they are left out, with a warning.
      `warning: ${root}/nest: a symbolic link, below the root of a jail (${root}): nest does not follow or read it there; the jails in ${root}/nest/jails left out`,
      `nest: lite2: ${root}/nest is a symbolic link: nest does not write into a jail's root through it (remove /nest inside lite2, then run the create again)\n`,
    ].join('\n'))
    expect(hostState(root)).toEqual(before)
    expect(existsSync(sim.fs('/etc/releases'))).toBe(false)
    unlinkSync(sim.fs(`${root}/nest`))
  }, 30_000)

  it('destroy: refused with children unless --recursive, then the directories go', async () => {
    const before = hostState()
    const r = await nest('destroy', 'lite/b', '--force')
    expect(r.code).toBe(5)
    expect(r.stderr).toBe('nest: lite/b: 1 jail(s) below it (lite/b/c) (nest destroy lite/b --recursive)\n')
    expect(hostState()).toEqual(before)
    const all = await nest('destroy', 'lite/b', '--recursive', '--force')
    expect(all.code, all.stderr).toBe(0)
    expect(all.stdout).toBe(`lite/b: destroyed (0 dataset(s), ${LITE}/nest/jails/b, ${LITE}/etc/jail.conf.d/b.conf)\n`)
    expect(existsSync(sim.fs(`${LITE}/nest/jails/b`))).toBe(false)
    expect(existsSync(sim.fs(`${LITE}/etc/jail.conf.d/b.conf`))).toBe(false)
    expect(jailNames()).toEqual(['lite', 'lite.a', 'lite2'])
  }, 60_000)
})

describe('a directory parent whose devfs hides /dev/zfs', () => {
  it('has children all the same: its nest needs no ZFS at all', async () => {
    writeFileSync(sim.fs('/usr/local/etc/nest/policies/nozfs.conf'), DIR_PARENT.replace('devfs_ruleset = 4;', 'devfs_ruleset = 1;'))
    expect((await nest('create', 'bare', '--policy', 'nozfs')).code).toBe(0)
    expect((await nest('exec', 'bare', '--', 'zfs', 'list')).code).toBe(1)
    const k = await nest('create', 'bare/k', '--policy', 'leaf')
    expect(k.code, k.stderr).toBe(0)
    expect(k.stdout).toBe(`bare/k: created (running, jid ${jidOf('bare.k')}, policy leaf, /nest/jails/bare/root/nest/jails/k/root)\n`)
    expect((await nest('destroy', 'bare', '--recursive', '--force')).code).toBe(0)
  }, 60_000)
})

describe('--start-parent', () => {
  it('without it a stopped parent is refused, naming the fix', async () => {
    sim.restore(noB)
    // Several jails at once: each with what is below it.
    const both = await nest('stop', 'lite', 'lite2', '--json')
    expect(both.code, both.stderr).toBe(0)
    const steps = (JSON.parse(both.stdout) as {result: {jails: Array<{name: string; outcome: string}>}}).result.jails
    expect(steps.map((st) => `${st.name} ${st.outcome}`)).toEqual(['lite2 stopped', 'lite/a stopped', 'lite stopped'])
    const before = hostState()
    const r = await nest('create', 'lite/s', '--policy', 'leaf')
    expect(r.code).toBe(5)
    expect(r.stderr).toBe('nest: lite: not running, so it cannot create s (add --start-parent, or nest start lite)\n')
    expect(hostState()).toEqual(before)
  }, 60_000)

  it('a create that fails after the parent was started stops it again: nothing changed', async () => {
    sim.restore(allStopped)
    const before = hostState()
    const r = await nest('create', 'lite/s', '--policy', 'raw', '--start-parent')
    expect(r.code).toBe(6)
    expect(r.stderr).toContain('nest: lite/s: allow.raw_sockets is asked by policy raw but lite does not have it')
    expect(jailNames()).toEqual([])
    expect(hostState()).toEqual(before)
  }, 60_000)

  it('starts the stopped parent (alone), then creates the child', async () => {
    sim.restore(allStopped)
    const r = await nest('create', 'lite/s', '--policy', 'leaf', '--start-parent', '--json')
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({status: 0, result: {startedParents: ['lite'], jail: {name: 'lite/s', state: 'running'}}})
    expect(r.stderr).toContain('lite: not running: starting it so that it can create s (--start-parent)')
    // Its other child stays stopped: only what the create needs is started.
    expect(jailNames()).toEqual(['lite', 'lite.s'])
  }, 60_000)
})
