// nest tighten, in-process on a simulated host: p (policy vm-parent, the VM story's broad set)
// with two children. The plan as a diff; --what-if on a twin (a clean lifecycle, and an
// over-tightened policy failing with FreeBSD's own error while the live tree stays as it was);
// --apply leaving the tree running with the smaller set; --restart refused, then done; a fault
// at every tool call of an apply rolled back to the tree as it was, running; a re-run converges.
import {mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {Ajv2020} from 'ajv/dist/2020.js'
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import {TIGHTEN_SCHEMA} from '../../src/render/tighten.js'
import {addFault, clearFaults} from '../../src/sim/control.js'
import {hostState, makeSim, nestSteps, type TestSim} from '../helpers/sim.js'
import {callLine, clearCalls, faultAt, isPoint, readCalls} from '../helpers/sweep.js'

let sim: TestSim
let tree: string
const validate = new Ajv2020({allErrors: true, strict: false}).compile(TIGHTEN_SCHEMA)
/** A --json answer's result, checked against the declared schema. */
function resultOf(stdout: string): Record<string, unknown> & {twin: unknown; applied: unknown} {
  const r = JSON.parse(stdout).result
  expect(validate(r), JSON.stringify(validate.errors)).toBe(true)
  return r
}
const nest = (...args: string[]) => sim.nest(...args)

const POLICY = [
  'nest.description = "p tightened: no raw sockets, no other socket families, no file flags, no procfs, fdescfs or linprocfs; room for a few children.";',
  'nest.delegate;', 'nest.raise_securelevel = 1;', 'children.max = 8;', 'enforce_statfs = 1;', 'devfs_ruleset = 4;', 'securelevel = -1;',
  'allow.mount;', 'allow.mount.devfs;', 'allow.mount.zfs;', 'allow.mount.nullfs;', 'allow.mount.tmpfs;', 'allow.sysvipc;', 'sysvmsg = new;', 'sysvsem = new;', 'sysvshm = new;', '',
].join('\n')
let tight: string
let over: string
let sysv: string

const CONFS = ['/etc/jail.conf.d/p.conf', '/nest/jails/p/root/etc/jail.conf.d/a.conf', '/nest/jails/p/root/etc/jail.conf.d/b.conf']
const confs = (): string[] => CONFS.map((c) => readFileSync(sim.fs(c), 'utf8'))
/** The live tree as tighten may change it: the kernel's grants per jail, the jail.conf files, nest's policy record. */
function live(): unknown {
  const k = sim.kernel()
  return {
    jails: k.jails.filter((j) => j.state === 'ALIVE').map((j) => [j.name, j.jid, [...j.allow].sort().join(' '), j.enforceStatfs, j.securelevel, j.childrenMax, j.devfsRuleset, j.sysvshm]),
    policy: k.datasets.find((d) => d.name === 'zroot/nest/jails/p')?.props['nest:policy'],
    confs: confs(),
    state: hostState(sim, ['/etc/jail.conf.d', '/nest/jails', '/usr/local/etc']),
  }
}
const kernelText = (): string => readFileSync(path.join(sim.root, 'kernel.json'), 'utf8')

beforeAll(async () => {
  sim = await makeSim()
  await nestSteps(sim, ['bootstrap', '14.3-RELEASE'], ['create', 'p', '--policy', 'vm-parent'], ['create', 'p/a'], ['create', 'p/b'])
  tree = sim.save()
  const dir = path.dirname(sim.root)
  tight = path.join(dir, 'tight.conf')
  over = path.join(dir, 'over.conf')
  sysv = path.join(dir, 'sysv.conf')
  writeFileSync(tight, POLICY)
  // Over-tightened: p may no longer mount devfs, which its jail(8) does for each child it starts.
  writeFileSync(over, POLICY.replace('allow.mount.devfs;\n', ''))
  writeFileSync(sysv, POLICY.replace('sysvshm = new;', 'sysvshm = disable;'))
}, 60_000)
afterAll(() => sim.cleanup())
beforeEach(() => sim.restore(tree))

const P_CHANGES = [
  {param: 'children.max', from: '256', to: '8', forced: false, live: 'L1'},
  {param: 'allow.chflags', from: 'true', to: 'false', forced: false, live: 'L1'},
  {param: 'allow.mount.fdescfs', from: 'true', to: 'false', forced: false, live: 'L2'},
  {param: 'allow.mount.linprocfs', from: 'true', to: 'false', forced: false, live: 'L2'},
  {param: 'allow.mount.procfs', from: 'true', to: 'false', forced: false, live: 'L2'},
  {param: 'allow.raw_sockets', from: 'true', to: 'false', forced: false, live: 'L1'},
  {param: 'allow.socket_af', from: 'true', to: 'false', forced: false, live: 'L1'},
]

describe('nest tighten NAME --policy FILE', () => {
  it('prints the diff, the jail.conf lines and the live steps, and changes nothing', async () => {
    const before = live()
    const r = await nest('tighten', 'p', '--policy', tight, '--json')
    expect(r.code, r.stderr).toBe(0)
    const doc = resultOf(r.stdout) as Record<string, unknown> & {confs: unknown[]; steps: Array<{argv: string[]}>; twin: unknown; applied: unknown}
    expect(doc['diffs']).toEqual([
      {jail: 'p', path: 'p', changes: P_CHANGES},
      {jail: 'p.a', path: 'p/a', changes: [{param: 'children.max', from: '16', to: '7', forced: true, live: 'L1'}]},
      {jail: 'p.b', path: 'p/b', changes: [{param: 'children.max', from: '16', to: '7', forced: true, live: 'L1'}]},
    ])
    expect(doc.steps.map((s: {argv: string[]}) => s.argv.join(' '))).toEqual([
      'jail -m name=p allow.nochflags allow.mount.nofdescfs allow.mount.nolinprocfs allow.mount.noprocfs allow.noraw_sockets allow.nosocket_af',
      'jail -m name=p.b children.max=7',
      'jail -m name=p.a children.max=7',
      'jail -m name=p children.max=8',
    ])
    expect(doc.confs[0]).toEqual({
      name: 'p', file: '/etc/jail.conf.d/p.conf',
      removed: ['\tchildren.max = "256";', '\tallow.mount.procfs;', '\tallow.mount.fdescfs;', '\tallow.mount.linprocfs;', '\tallow.raw_sockets;', '\tallow.socket_af;', '\tallow.chflags;'],
      added: ['\tchildren.max = "8";', '\tallow.nochflags;', '\tallow.mount.nofdescfs;', '\tallow.mount.nolinprocfs;', '\tallow.mount.noprocfs;', '\tallow.noraw_sockets;', '\tallow.nosocket_af;'],
    })
    expect(doc.twin).toBeNull()
    expect(doc.applied).toBeNull()
    expect(live()).toEqual(before)
    // --dry-run with --apply prints the same plan and changes nothing.
    const dry = await nest('tighten', 'p', '--policy', tight, '--apply', '--dry-run', '--json')
    expect(dry.code, dry.stderr).toBe(0)
    expect(resultOf(dry.stdout)).toEqual({...doc, mode: 'plan'})
    expect(live()).toEqual(before)
  })

  it('without --policy the target is the audit\'s least set; a stopped jail is refused with what to do', async () => {
    const r = await nest('tighten', 'p', '--json')
    expect(r.code, r.stderr).toBe(0)
    const plan = JSON.parse(r.stdout).result as {mode: string; target: string; diffs: Array<{jail: string; changes: Array<{param: string; from: string; to: string}>}>}
    expect([plan.mode, plan.target]).toEqual(['plan', 'the audit\'s least set'])
    expect(plan.diffs.find((d) => d.jail === 'p')?.changes.find((c) => c.param === 'allow.raw_sockets')).toMatchObject({from: 'true', to: 'false'})
    expect((await nest('stop', 'p/b')).code).toBe(0)
    const s = await nest('tighten', 'p', '--policy', tight, '--what-if')
    expect(s.code).toBe(5)
    expect(s.stderr).toBe('nest: p/b: not running: tighten reads and changes the parameters of running jails (nest start p)\n')
    const both = await nest('tighten', 'p', '--policy', tight, '--what-if', '--apply')
    expect(both.code).toBe(2)
  })

  it('--write-policy writes the tightened policy, which nest policy check accepts', async () => {
    const out = path.join(path.dirname(sim.root), 'written.conf')
    const r = await nest('tighten', 'p', '--policy', tight, '--write-policy', out)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain(`policy tight-p written to ${out}`)
    const check = await nest('policy', 'check', out, '--json')
    expect(check.code, check.stderr).toBe(0)
    const p = JSON.parse(check.stdout).result
    expect([p.params['allow.raw_sockets'], p.params['children.max'], p.params['allow.mount.devfs'], p.raiseSecurelevel]).toEqual([false, '8', true, 1])
  })
})

describe('--what-if: a twin of the host', () => {
  it('a clean lifecycle: stop, start with the children, stop, cleanup; the live tree is untouched', async () => {
    const before = live()
    const k = kernelText()
    const r = await nest('tighten', 'p', '--policy', tight, '--what-if', '--json')
    expect(r.code, r.stderr).toBe(0)
    const twin = resultOf(r.stdout).twin
    expect(twin).toEqual({clean: true, failures: [], phases: [
      {phase: 'stop', ok: true, lines: ['p/a: stopped', 'p/b: stopped', 'p: stopped']},
      {phase: 'start', ok: true, lines: ['p: started', 'p/a: started', 'p/b: started']},
      {phase: 'stop again', ok: true, lines: ['p/a: stopped', 'p/b: stopped', 'p: stopped']},
      {phase: 'cleanup', ok: true, lines: []},
    ]})
    expect(kernelText()).toBe(k)
    expect(live()).toEqual(before)
  })

  it('leaves no twin behind, clean, failed, or when the policy cannot be written', async () => {
    const tmp = path.join(path.dirname(sim.root), 'tmp')
    mkdirSync(tmp, {recursive: true})
    const ok = await sim.nestWith({TMPDIR: tmp}, 'tighten', 'p', '--policy', tight, '--what-if')
    expect(ok.code, ok.stderr).toBe(0)
    expect((await sim.nestWith({TMPDIR: tmp}, 'tighten', 'p', '--policy', over, '--what-if')).code).toBe(6)
    const bad = await sim.nestWith({TMPDIR: tmp}, 'tighten', 'p', '--policy', tight, '--what-if', '--write-policy', path.join(tmp, 'no', 'such', 'dir.conf'))
    expect(bad.code).toBe(3)
    expect(bad.stderr).toMatch(/^nest: .*\/no\/such\/dir\.conf: cannot write the policy: ENOENT/)
    expect(readdirSync(tmp)).toEqual([])
    const none = await sim.nestWith({TMPDIR: path.join(tmp, 'missing')}, 'tighten', 'p', '--policy', tight, '--what-if')
    expect(none.code).toBe(3)
    expect(none.stderr).toMatch(/^nest: cannot make a twin of the simulated host in .*\/missing: ENOENT.* \(set TMPDIR to a writable directory\)\n$/)
  })

  it('on FreeBSD a copy twin is refused before anything, in one line (its twin is made of ZFS clones: tighten-clones.test.ts)', async () => {
    const r = await nest('tighten', 'p', '--policy', tight, '--what-if', '--twin', 'copy', '--host', 'freebsd')
    expect(r.code).toBe(6)
    expect(r.stderr).toBe('nest: a twin that is a copy of the host exists on the simulated host only: on FreeBSD the twin is made of ZFS clones of the subtree (run nest tighten NAME --what-if --twin clones (the default on FreeBSD))\n')
  })

  it('an over-tightened policy fails on the twin with FreeBSD\'s error, against the grant; the live tree is untouched', async () => {
    const before = live()
    const k = kernelText()
    const r = await nest('tighten', 'p', '--policy', over, '--what-if')
    expect(r.code).toBe(6)
    expect(r.stderr).toBe('nest: p/a: on the twin: step "jail -f /etc/jail.conf.d/a.conf -c a": jail: mount: .: Operation not permitted; jail: a: /sbin/mount -t devfs -oruleset=4 . /data/jails/a/root/dev: failed (caused by p: allow.mount.devfs true → false; p/a: allow.mount.devfs true → false) (keep the grants it needs in the policy and run --what-if again; the live tree was not touched)\n')
    const j = await nest('tighten', 'p', '--policy', over, '--what-if', '--json')
    expect(j.code).toBe(6)
    expect(JSON.parse(j.stdout).error.kind).toBe('preflight')
    expect(kernelText()).toBe(k)
    expect(live()).toEqual(before)
  })
})

describe('--apply', () => {
  it('leaves the tree running with the smaller set, its files and its policy record rewritten; a re-run has nothing to do', async () => {
    const jids = sim.alive().map((n) => sim.jid(n))
    const r = await nest('tighten', 'p', '--policy', tight, '--apply')
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/\napplied: 4 live step\(s\), 3 jail\.conf file\(s\); jls -n equals the plan\n$/)
    expect(sim.alive().map((n) => sim.jid(n))).toEqual(jids)
    const jls = await sim.run('jls', '-n', 'name', 'children.max', 'allow.raw_sockets', 'allow.mount.procfs', 'allow.mount.devfs', 'allow.chflags')
    expect(jls.stdout).toBe([
      'name=p children.max=8 allow.noraw_sockets allow.mount.noprocfs allow.mount.devfs allow.nochflags',
      'name=p.a children.max=7 allow.noraw_sockets allow.mount.noprocfs allow.mount.devfs allow.nochflags',
      'name=p.b children.max=7 allow.noraw_sockets allow.mount.noprocfs allow.mount.devfs allow.nochflags',
      '',
    ].join('\n'))
    expect(confs()[0]).toContain('\tallow.noraw_sockets;\n')
    expect(confs()[1]).toContain('\tchildren.max = "7";\n')
    expect(sim.kernel().datasets.find((d) => d.name === 'zroot/nest/jails/p')?.props['nest:policy']).toBe('tight-p')
    expect(readFileSync(sim.fs('/usr/local/etc/nest/policies/tight-p.conf'), 'utf8')).toContain('allow.noraw_sockets;')
    const again = await nest('tighten', 'p', '--policy', tight, '--apply')
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toContain('nothing to change')
    // The files follow the kernel: the subtree stops and starts again with the smaller set.
    const restart = await nest('restart', 'p')
    expect(restart.code, restart.stderr).toBe(0)
    expect((await sim.run('jls', '-n', 'name', 'children.max', 'allow.raw_sockets')).stdout.split('\n').filter(Boolean).sort()).toEqual(['name=p children.max=8 allow.noraw_sockets', 'name=p.a children.max=7 allow.noraw_sockets', 'name=p.b children.max=7 allow.noraw_sockets'])
  })

  it('a restart-class change is refused without --restart, before anything; with it, the subtree restarts', async () => {
    const before = live()
    const r = await nest('tighten', 'p', '--policy', sysv, '--apply')
    expect(r.code).toBe(6)
    expect(r.stderr).toBe('nest: p: needs a restart with the jails below it (sysvshm new → disable on p: FreeBSD sets these only when a jail is created); nothing was changed (run again with --restart, or keep those parameters in the policy)\n')
    expect(live()).toEqual(before)
    const ok = await nest('tighten', 'p', '--policy', sysv, '--apply', '--restart', '--json')
    expect(ok.code, ok.stderr).toBe(0)
    expect(resultOf(ok.stdout).applied).toEqual({
      steps: [
        'p: jail -m name=p allow.nochflags allow.mount.nofdescfs allow.mount.nolinprocfs allow.mount.noprocfs allow.noraw_sockets allow.nosocket_af',
        'p/b: jail -m name=p.b children.max=7', 'p/a: jail -m name=p.a children.max=7', 'p: jail -m name=p children.max=8',
      ],
      confs: CONFS.slice(0, 1).concat([CONFS[2] as string, CONFS[1] as string]),
      restarted: ['p'],
      verified: true,
    })
    expect(sim.alive()).toEqual(['p', 'p.a', 'p.b'])
    expect((await sim.run('jls', '-n', 'name', 'sysvshm')).stdout.split('\n').filter(Boolean).sort()).toEqual(['name=p sysvshm=disable', 'name=p.a sysvshm=disable', 'name=p.b sysvshm=disable'])
  })

  it('a failure during the restart rolls back by a restart with the old files', async () => {
    const before = live()
    await addFault(sim.root, {tool: 'jail', match: ' -c a$', nth: 1, errno: 'EIO'})
    const r = await nest('tighten', 'p', '--policy', sysv, '--apply', '--restart')
    await clearFaults(sim.root)
    expect(r.code).toBe(7)
    expect(r.stderr).toMatch(/\nnest: p: tighten failed at "nest restart p": 1 of 3 jail\(s\) not restarted: p\/a: step "jail -f \/etc\/jail\.conf\.d\/a\.conf -c a": jail: Input\/output error; rolled back to the previous parameters and files \(what it had done is undone; once the cause is fixed, run nest tighten p .* again\)\n$/)
    const after = live() as {jails: unknown[][]}
    // Restarted: new jids; the same grants, files and policy record as before.
    const strip = (x: unknown): unknown => ({...(x as object), jails: (x as {jails: unknown[][]}).jails.map(([name, , ...rest]) => [name, ...rest]), state: null})
    expect(strip(after)).toEqual(strip(before))
    expect(sim.alive()).toEqual(['p', 'p.a', 'p.b'])
  })

  it('a fault at each tool call of an apply rolls back: the tree as it was, running; then the same command succeeds', async () => {
    clearCalls(sim)
    const clean = await nest('tighten', 'p', '--policy', tight, '--apply')
    expect(clean.code, clean.stderr).toBe(0)
    const calls = readCalls(sim).filter(isPoint)
    expect(calls.map((c) => c.tool)).toEqual(['zfs', 'jls', 'zfs', 'jail', 'jail', 'jail', 'jail', 'zfs', 'jls'])
    expect(calls.filter((c) => c.tool === 'jail').map(callLine)).toEqual([
      'jail -m name=p allow.nochflags allow.mount.nofdescfs allow.mount.nolinprocfs allow.mount.noprocfs allow.noraw_sockets allow.nosocket_af',
      'jail -m name=p.b children.max=7', 'jail -m name=p.a children.max=7', 'jail -m name=p children.max=8',
    ])
    // The reads before the first jail -m change nothing: one of them stands for all (the first).
    const first = calls.findIndex((c) => c.tool === 'jail')
    for (const [i, c] of calls.entries()) {
      if (i > 0 && i < first) continue
      sim.restore(tree)
      const before = live()
      await addFault(sim.root, faultAt(calls, i))
      const r = await nest('tighten', 'p', '--policy', tight, '--apply')
      await clearFaults(sim.root)
      expect(r.code, `${callLine(c)}: ${r.stderr}`).not.toBe(0)
      expect(live(), callLine(c)).toEqual(before)
      expect(sim.alive(), callLine(c)).toEqual(['p', 'p.a', 'p.b'])
      if (c.tool === 'jail') expect(r.stderr, callLine(c)).toMatch(/\nnest: p: tighten failed at "jail -m .*": jail: Input\/output error; rolled back to the previous parameters and files \(/)
    }
    const again = await nest('tighten', 'p', '--policy', tight, '--apply')
    expect(again.code, again.stderr).toBe(0)
  }, 120_000)

  it('a nest killed after each tool call of an apply: the same command run again converges to the clean apply\'s tree', async () => {
    clearCalls(sim)
    expect((await nest('tighten', 'p', '--policy', tight, '--apply')).code).toBe(0)
    const calls = readCalls(sim).filter(isPoint)
    const applied = live()
    const first = calls.findIndex((c) => c.tool === 'jail')
    for (const [i, c] of calls.entries()) {
      if (i < first) continue
      sim.restore(tree)
      await addFault(sim.root, faultAt(calls, i, {crash: true}))
      const r = await nest('tighten', 'p', '--policy', tight, '--apply')
      await clearFaults(sim.root)
      expect(r.crashed, callLine(c)).toBe(true)
      const again = await nest('tighten', 'p', '--policy', tight, '--apply')
      expect(again.code, `${callLine(c)}: ${again.stderr}`).toBe(0)
      expect(live(), callLine(c)).toEqual(applied)
    }
  }, 120_000)
})
