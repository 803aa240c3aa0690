// nest tighten --what-if --twin clones, in-process on a simulated host, as it runs on FreeBSD:
// the subtree's datasets snapshotted and cloned under twin-ID-TOP, the twin's jail.conf files
// with the tightened parameters, nest's own start, stop and cleanup on the twin, then the twin
// destroyed. The tree (vm-parent p with p/a and p/b). The live tree is compared whole
// before and after (the kernel's jails, datasets with their properties, mounts, snapshots, the
// files): only the clock and the id counters move (jids are never reused, kern_jail.c
// get_next_prid), and each snapshotted dataset's snapshot list changed and changed back.
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import {addFault, clearFaults} from '../../src/sim/control.js'
import {hostState, makeSim, nestSteps, type TestSim} from '../helpers/sim.js'
import {callLine, clearCalls, isPoint, readCalls} from '../helpers/sweep.js'

let sim: TestSim
let tree: string
let tight: string
let over: string
const nest = (...args: string[]) => sim.nest(...args)

const POLICY = [
  'nest.description = "p tightened: no raw sockets, no other socket families, no file flags, no procfs, fdescfs or linprocfs.";',
  'nest.delegate;', 'nest.raise_securelevel = 1;', 'children.max = 8;', 'enforce_statfs = 1;', 'devfs_ruleset = 4;', 'securelevel = -1;',
  'allow.mount;', 'allow.mount.devfs;', 'allow.mount.zfs;', 'allow.mount.nullfs;', 'allow.mount.tmpfs;', 'allow.sysvipc;', 'sysvmsg = new;', 'sysvsem = new;', 'sysvshm = new;', '',
].join('\n')
const CONFS = ['/etc/jail.conf.d/p.conf', '/nest/jails/p/root/etc/jail.conf.d/a.conf', '/nest/jails/p/root/etc/jail.conf.d/b.conf']
const COUNTERS = ['clock', 'lastPid', 'lastJid', 'nextCpuset', 'nextMountId', 'txg']

/** The whole host as the twin may not change it: kernel.json but the clock and counters, the files nest keeps. */
function whole(): unknown {
  const k = JSON.parse(readFileSync(path.join(sim.root, 'kernel.json'), 'utf8')) as Record<string, unknown> & {datasets: Array<Record<string, unknown>>}
  for (const c of COUNTERS) delete k[c]
  // The System V IPC table is made on first use, empty (no jail of the twin has sysvipc objects left).
  if (Array.isArray(k['ipcs']) && k['ipcs'].length === 0) delete k['ipcs']
  k.datasets = k.datasets.map(({snapshotsChanged: _, ...d}) => d)
  return {kernel: k, confs: CONFS.map((c) => readFileSync(sim.fs(c), 'utf8')), state: hostState(sim, ['/etc/jail.conf.d', '/nest/jails', '/usr/local/etc'])}
}
/** Anything of a twin on the host: datasets, snapshots, files, jails. */
function twinTraces(): string[] {
  const k = sim.kernel()
  const conf = (hostState(sim, ['/etc/jail.conf.d']) as {files: Record<string, string[]>}).files['/etc/jail.conf.d'] ?? []
  return [
    ...k.datasets.filter((d) => /twin/.test(d.name)).map((d) => d.name),
    ...conf.filter((f) => f.startsWith('twin-')),
    ...k.jails.filter((j) => j.name.startsWith('twin-')).map((j) => `jail ${j.name}`),
    ...k.mounts.filter((m) => m.on.includes('/twin-')).map((m) => `mount ${m.on}`),
  ]
}

beforeAll(async () => {
  sim = await makeSim()
  await nestSteps(sim, ['bootstrap', '14.3-RELEASE'], ['create', 'p', '--policy', 'vm-parent'], ['create', 'p/a'], ['create', 'p/b'])
  tree = sim.save()
  tight = path.join(path.dirname(sim.root), 'tight.conf')
  over = path.join(path.dirname(sim.root), 'over.conf')
  writeFileSync(tight, POLICY)
  // Over-tightened: p may no longer mount devfs, which its jail(8) does for each child it starts.
  writeFileSync(over, POLICY.replace('allow.mount.devfs;\n', ''))
}, 60_000)
afterAll(() => sim.cleanup())
beforeEach(() => sim.restore(tree))

describe('--what-if --twin clones', () => {
  it('a clean lifecycle on the clones: start with the children, stop, cleanup; nothing of the twin left, the live tree as it was', async () => {
    const before = whole()
    clearCalls(sim)
    const r = await nest('tighten', 'p', '--policy', tight, '--what-if', '--twin', 'clones', '--json')
    expect(r.code, r.stderr).toBe(0)
    const doc = JSON.parse(r.stdout).result
    expect(doc.mode).toBe('what-if')
    expect(doc.twin).toEqual({clean: true, failures: [], phases: [
      {phase: 'start', ok: true, lines: ['p: started', 'p/a: started', 'p/b: started']},
      {phase: 'stop', ok: true, lines: ['p/a: stopped', 'p/b: stopped', 'p: stopped']},
      {phase: 'cleanup', ok: true, lines: []},
    ]})
    // What it ran on the host: one recursive snapshot, a clone of each dataset parents first, the twin's jails, the destroys.
    const calls = readCalls(sim).filter(isPoint).map(callLine)
    const id = /@nest-twin-([a-z0-9]+)$/.exec(calls.find((c) => c.startsWith('zfs snapshot')) ?? '')?.[1] as string
    const twin = `twin-${id}-p`
    const J = 'zroot/nest/jails'
    expect(calls.filter((c) => /^zfs (snapshot|clone|destroy)/.test(c))).toEqual([
      `zfs snapshot -r ${J}/p@nest-twin-${id}`,
      `zfs clone -o nest:delegate=on -o nest:name=${twin} -o nest:policy=vm-parent -o nest:release=14.3-RELEASE -o nest:started=${/nest:started=(\d+)/.exec(calls.join(' '))?.[1]} -o nest:state=ready -o nest:version=1 -o nest:twin=p ${J}/p@nest-twin-${id} ${J}/${twin}`,
      ...calls.filter((c) => c.startsWith('zfs clone') && !c.endsWith(` ${J}/${twin}`)),
      `zfs destroy -r ${J}/${twin}`,
      `zfs destroy -r ${J}/p@nest-twin-${id}`,
    ])
    const clones = calls.filter((c) => c.startsWith('zfs clone')).map((c) => c.split(' ').at(-1))
    expect(clones).toEqual([
      `${J}/${twin}`, `${J}/${twin}/data`, `${J}/${twin}/delegated`, `${J}/${twin}/root`,
      `${J}/${twin}/data/jails`, `${J}/${twin}/data/releases`, `${J}/${twin}/delegated/a`, `${J}/${twin}/delegated/b`,
      `${J}/${twin}/data/jails/a`, `${J}/${twin}/data/jails/b`, `${J}/${twin}/data/releases/14.3-RELEASE`,
      `${J}/${twin}/data/jails/a/root`, `${J}/${twin}/data/jails/b/root`,
    ])
    // The delegated clones, never the originals, are attached: jailed=on, and zfs jail names only the twin's.
    expect(calls.filter((c) => c.startsWith('zfs clone') && c.includes('/delegated/'))).toEqual([
      `zfs clone -o jailed=on -o mountpoint=/data -o nest:name=${twin}.a -o nest:state=ready ${J}/p/delegated/a@nest-twin-${id} ${J}/${twin}/delegated/a`,
      `zfs clone -o jailed=on -o mountpoint=/data -o nest:name=${twin}.b -o nest:state=ready ${J}/p/delegated/b@nest-twin-${id} ${J}/${twin}/delegated/b`,
    ])
    const attached = calls.filter((c) => /^zfs (jail|unjail|set|inherit|rename|promote|mount|unmount|umount) /.test(c))
    expect(attached.length).toBeGreaterThan(0)
    expect(attached.filter((c) => !c.includes(twin))).toEqual([])
    expect(calls.filter((c) => /^jail /.test(c) && !c.includes(twin) && !c.includes('/etc/jail.conf.d/a.conf') && !c.includes('/etc/jail.conf.d/b.conf'))).toEqual([])
    expect(twinTraces()).toEqual([])
    expect(whole()).toEqual(before)
  }, 60_000)

  it('the twin\'s jails are made from the twin\'s files: its top on the host, its children by its own child manager', async () => {
    clearCalls(sim)
    const r = await nest('tighten', 'p', '--policy', tight, '--what-if', '--twin', 'clones')
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('twin: clean lifecycle (start, stop, cleanup)\n')
    const created = readCalls(sim).filter(isPoint).map(callLine).filter((c) => /^jail .* -c /.test(c))
    expect(created.map((c) => c.replace(/twin-[a-z0-9]+-p/g, 'TWIN'))).toEqual(['jail -f /etc/jail.conf.d/TWIN.conf -c TWIN', 'jail -f /etc/jail.conf.d/a.conf -c a (in TWIN)', 'jail -f /etc/jail.conf.d/b.conf -c b (in TWIN)'])
  }, 60_000)

  it('the audit\'s least set (the default target) is proven the same way; a subtree below a parent is refused, before anything', async () => {
    const before = whole()
    const r = await nest('tighten', 'p', '--what-if', '--twin', 'clones', '--json')
    expect(r.code, r.stderr).toBe(0)
    const doc = JSON.parse(r.stdout).result
    expect([doc.target, doc.twin.clean, doc.twin.phases.map((x: {phase: string; ok: boolean}) => `${x.phase} ${x.ok}`)]).toEqual(['the audit\'s least set', true, ['start true', 'stop true', 'cleanup true']])
    expect(twinTraces()).toEqual([])
    expect(whole()).toEqual(before)
    clearCalls(sim)
    const below = await nest('tighten', 'p/a', '--policy', tight, '--what-if', '--twin', 'clones')
    expect(below.code).toBe(6)
    expect(below.stderr.split('\n').filter(Boolean).at(-1)).toBe('nest: p/a: a twin of ZFS clones is made of a top-level jail\'s tree only (not written yet for a subtree below a parent) (nest tighten p/a --what-if --twin copy on the simulated host, or review the plan and --apply, which rolls back on any failure)')
    expect(readCalls(sim).filter(isPoint).map(callLine).filter((c) => /^zfs (snapshot|clone)/.test(c))).toEqual([])
  }, 60_000)

  it('an over-tightened policy fails on the twin with FreeBSD\'s error, against the grant; nothing of the twin left', async () => {
    const before = whole()
    const r = await nest('tighten', 'p', '--policy', over, '--what-if', '--twin', 'clones')
    expect(r.code).toBe(6)
    expect(r.stderr).toBe('nest: p/a: on the twin: step "jail -f /etc/jail.conf.d/a.conf -c a": jail: mount: .: Operation not permitted; jail: a: /sbin/mount -t devfs -oruleset=4 . /data/jails/a/root/dev: failed (caused by p: allow.mount.devfs true → false; p/a: allow.mount.devfs true → false) (keep the grants it needs in the policy and run --what-if again; the live tree was not touched)\n')
    expect(twinTraces()).toEqual([])
    expect(whole()).toEqual(before)
  }, 60_000)

  it('a fault at a step of the twin (a clone, the twin\'s start, a destroy) leaves nothing of it; the live tree as it was', async () => {
    for (const f of [
      {tool: 'zfs', match: '^clone .*/delegated/a@', nth: 1, errno: 'EIO'},
      {tool: 'jail', match: ' -c twin-', nth: 1, errno: 'EIO'},
      {tool: 'zfs', match: '^jail twin-', nth: 1, errno: 'EIO'},
      {tool: 'jail', match: ' -r twin-', nth: 1, errno: 'EIO'},
    ]) {
      sim.restore(tree)
      const before = whole()
      await addFault(sim.root, f)
      const r = await nest('tighten', 'p', '--policy', tight, '--what-if', '--twin', 'clones')
      await clearFaults(sim.root)
      expect(r.code, `${f.match}: ${r.stderr}`).not.toBe(0)
      expect(r.stderr, f.match).toMatch(/Input\/output error/)
      expect(twinTraces(), f.match).toEqual([])
      expect(whole(), f.match).toEqual(before)
    }
  }, 60_000)

  it('a twin that cannot be destroyed is said, with what to do; the next run removes it first', async () => {
    const before = whole()
    await addFault(sim.root, {tool: 'zfs', match: '^destroy -r zroot/nest/jails/twin-', nth: 1, errno: 'EBUSY'})
    const r = await nest('tighten', 'p', '--policy', tight, '--what-if', '--twin', 'clones')
    await clearFaults(sim.root)
    expect(r.code).toBe(5)
    expect(r.stderr).toMatch(/^nest: p: the twin could not be removed: zfs: Device busy; twin leftovers remain: zroot\/nest\/jails\/twin-[a-z0-9]+-p, zroot\/nest\/jails\/p@nest-twin-[a-z0-9]+ \(remove it by hand/m)
    expect(twinTraces().length).toBeGreaterThan(0)
    const again = await nest('tighten', 'p', '--policy', tight, '--what-if', '--twin', 'clones')
    expect(again.code, again.stderr).toBe(0)
    expect(twinTraces()).toEqual([])
    expect(whole()).toEqual(before)
  }, 60_000)

  it('a nest killed half way leaves names the next run recognises: it removes them first, then proves the plan', async () => {
    // Killed after the last clone, and after the host attached the twin's child's dataset (each twin has its own id: matched without it).
    for (const f of [{tool: 'zfs', match: '^clone .*/data/jails/b/root$'}, {tool: 'zfs', match: '^jail twin-[a-z0-9]+-p\\.a '}]) {
      sim.restore(tree)
      const before = whole()
      await addFault(sim.root, {...f, nth: 1, crash: true})
      const r = await nest('tighten', 'p', '--policy', tight, '--what-if', '--twin', 'clones')
      await clearFaults(sim.root)
      expect(r.crashed, f.match).toBe(true)
      expect(twinTraces().length, f.match).toBeGreaterThan(0)
      const again = await nest('tighten', 'p', '--policy', tight, '--what-if', '--twin', 'clones')
      expect(again.code, again.stderr).toBe(0)
      expect(twinTraces()).toEqual([])
      expect(whole()).toEqual(before)
    }
  }, 90_000)
})
