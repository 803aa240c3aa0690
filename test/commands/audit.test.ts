// nest audit in-process on a simulated host, as the checks run it: a parent with the
// VM-to-jails grant list (vm-parent) and two children. Exit codes, the exact verdicts and their
// evidence, the JSON document against its schema, a grant becoming needed once a child's
// process uses it, and the host unchanged by the audit. Each test restores the saved tree.
import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {Ajv2020} from 'ajv/dist/2020.js'
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import {AUDIT_SCHEMA, type AuditDoc} from '../../src/render/audit.js'
import {hostState as hostStateOf, makeSim, type TestSim} from '../helpers/sim.js'

let sim: TestSim
let tree: string
const nest = (...args: string[]) => sim.nest(...args)
const validate = new Ajv2020({allErrors: true, strict: false}).compile(AUDIT_SCHEMA)
const hostState = (): unknown => hostStateOf(sim, ['/etc', '/nest/jails', '/usr/local/etc'])

async function audit(...args: string[]): Promise<{code: number; doc: AuditDoc; stderr: string}> {
  const r = await nest('audit', ...args, '--json')
  const env = JSON.parse(r.stdout) as {status: number; result: AuditDoc}
  expect(env.status).toBe(r.code)
  expect(validate(env.result), JSON.stringify(validate.errors)).toBe(true)
  return {code: r.code, doc: env.result, stderr: r.stderr}
}
const verdict = (doc: AuditDoc, jail: string, param: string): string | undefined => doc.grants.find((g) => g.jail === jail && g.param === param)?.verdict
const grant = (doc: AuditDoc, jail: string, param: string) => doc.grants.find((g) => g.jail === jail && g.param === param)

beforeAll(async () => {
  sim = await makeSim()
  for (const line of [['bootstrap', '14.3-RELEASE'], ['create', 'p', '--policy', 'vm-parent'], ['create', 'p/a'], ['create', 'p/b']]) {
    const r = await nest(...line)
    expect(r.code, r.stderr).toBe(0)
  }
  // A child that may ping: a user policy (leaf + allow.raw_sockets), under p (which holds raw_sockets).
  const dir = sim.fs('/usr/local/etc/nest/policies')
  mkdirSync(dir, {recursive: true})
  writeFileSync(path.join(dir, 'pinger.conf'), 'nest.description = "A leaf that pings.";\nchildren.max = 0;\nenforce_statfs = 2;\ndevfs_ruleset = 4;\nallow.nomount;\nallow.raw_sockets;\n')
  tree = sim.save()
}, 120_000)
afterAll(() => sim.cleanup())
beforeEach(() => sim.restore(tree))

describe('nest audit p on the VM-to-jails grant list with two children', () => {
  it('calls each grant the tree does not use unused, with evidence, and keeps what the children\'s lifecycle uses', async () => {
    const before = hostState()
    const {code, doc} = await audit('p')
    expect(code).toBe(9)
    expect(doc.name).toBe('p')
    expect(doc.jails).toEqual(['p', 'p.a', 'p.b'])
    for (const unused of ['allow.raw_sockets', 'allow.socket_af', 'allow.sysvipc', 'allow.chflags', 'allow.mount.procfs', 'allow.mount.fdescfs', 'allow.mount.linprocfs', 'allow.mount.tmpfs', 'sysvmsg', 'sysvsem', 'sysvshm']) {
      expect([unused, verdict(doc, 'p', unused)]).toEqual([unused, 'unused'])
      expect(grant(doc, 'p', unused)?.evidence.length).toBeGreaterThan(0)
    }
    for (const needed of ['allow.mount', 'allow.mount.devfs', 'allow.mount.zfs', 'allow.mount.nullfs', 'enforce_statfs', 'children.max', 'devfs_ruleset']) {
      expect([needed, verdict(doc, 'p', needed)]).toEqual([needed, 'needed'])
    }
    // devfs for the children, mounted by p's jail(8): the evidence names the child and the mount.
    expect(grant(doc, 'p', 'allow.mount.devfs')?.reason).toMatch(/^lifecycle: p's jail\(8\) mounts devfs on \/nest\/jails\/p\/root\/data\/jails\/a\/root\/dev for p\.a \(mount\.devfs\)/)
    // children.max: two children, kept with headroom, 256 → 4.
    expect(grant(doc, 'p', 'children.max')).toMatchObject({value: '256', verdict: 'needed', least: 'children.max=4'})
    expect(doc.findings.find((f) => f.rule === 'NEST-H02' && f.jail === 'p')).toMatchObject({severity: 'low', fix: 'children.max = "4"; in /etc/jail.conf.d/p.conf; live: jail -m name=p children.max=4'})
    // The children (the parent policy) create no jails and mount nothing themselves.
    for (const c of ['p.a', 'p.b']) {
      expect(verdict(doc, c, 'children.max')).toBe('unused')
      expect(verdict(doc, c, 'allow.mount.devfs')).toBe('unused')
      expect(verdict(doc, c, 'allow.mount.nullfs')).toBe('unused')
    }
    // raw_sockets unused, with procstat's rows of p's processes as the evidence of non-use.
    const raw = grant(doc, 'p', 'allow.raw_sockets')
    expect(raw?.least).toBe('allow.noraw_sockets')
    expect(raw?.evidence.map((e) => e.argv[0])).toEqual(['jls', 'ps', 'procstat'])
    expect(doc.findings.find((f) => f.rule === 'NEST-A01' && f.jail === 'p')).toMatchObject({severity: 'medium', live: 'L1', fix: 'allow.noraw_sockets; in /etc/jail.conf.d/p.conf; live: jail -m name=p allow.noraw_sockets'})
    expect(doc.least.find((l) => l.jail === 'p')?.params).toMatchObject({'allow.raw_sockets': 'false', 'allow.mount.devfs': 'true', 'allow.mount.zfs': 'true', 'children.max': '4', sysvshm: 'disable'})
    expect(doc.limits.some((l) => l.startsWith('no DTrace observation'))).toBe(true)
    // The audit reads: the host is as it was.
    expect(hostState()).toEqual(before)
  })

  it('reports allow.raw_sockets needed on the path once a process in a child holds a raw socket', async () => {
    expect((await nest('create', 'p/c', '--policy', 'pinger')).code).toBe(0)
    const quiet = await audit('p')
    expect([verdict(quiet.doc, 'p', 'allow.raw_sockets'), verdict(quiet.doc, 'p.c', 'allow.raw_sockets')]).toEqual(['unused', 'unused'])
    const started = await nest('sim', 'proc', 'start', 'p.c', '--raw-socket', '--comm', 'ping')
    expect(started.code, started.stderr).toBe(0)
    const {doc} = await audit('p')
    expect(grant(doc, 'p.c', 'allow.raw_sockets')).toMatchObject({verdict: 'needed', reason: "observed: p.c's processes hold 1 raw socket(s)", least: null})
    expect(grant(doc, 'p', 'allow.raw_sockets')).toMatchObject({verdict: 'needed', reason: "child: p.c needs it (observed: p.c's processes hold 1 raw socket(s))"})
    expect(grant(doc, 'p.c', 'allow.raw_sockets')?.evidence.find((e) => e.argv[0] === 'procstat')?.lines.some((l) => / ping .* ICM /.test(l))).toBe(true)
    expect(doc.findings.filter((f) => f.rule === 'NEST-A01')).toEqual([])
    // Once it is gone, unused again.
    const pid = started.stdout.trim()
    expect((await nest('sim', 'proc', 'stop', pid)).code).toBe(0)
    expect(verdict((await audit('p')).doc, 'p', 'allow.raw_sockets')).toBe('unused')
  })

  it('a tmpfs mounted from inside p and a SysV segment its process makes turn those grants needed', async () => {
    const quiet = (await audit('p')).doc
    expect([verdict(quiet, 'p', 'allow.mount.tmpfs'), verdict(quiet, 'p', 'sysvshm')]).toEqual(['unused', 'unused'])
    const m = await nest('exec', 'p', '--', 'mount', '-t', 'tmpfs', 'tmpfs', '/tmp')
    expect(m.code, m.stderr).toBe(0)
    const shm = await nest('sim', 'proc', 'start', 'p', '--shm', '4096', '--comm', 'postgres')
    expect(shm.code, shm.stderr).toBe(0)
    const {doc} = await audit('p')
    expect(grant(doc, 'p', 'allow.mount.tmpfs')).toMatchObject({verdict: 'needed', reason: 'observed: tmpfs mounted on /nest/jails/p/root/tmp from inside p'})
    expect(grant(doc, 'p', 'sysvshm')).toMatchObject({verdict: 'needed', reason: "observed: p's processes created 1 SysV shm object(s)"})
    expect(grant(doc, 'p', 'sysvsem')?.verdict).toBe('unused')
    expect(doc.least.find((l) => l.jail === 'p')?.params).toMatchObject({'allow.mount.tmpfs': 'true', sysvshm: 'new', sysvsem: 'disable'})
  })

  it('a grant the operator declares needed (nest.needs) stays needed', async () => {
    const dir = sim.fs('/usr/local/etc/nest/policies')
    writeFileSync(path.join(dir, 'pinger.conf'), 'nest.description = "A leaf that pings.";\nnest.needs = "allow.raw_sockets";\nchildren.max = 0;\nenforce_statfs = 2;\ndevfs_ruleset = 4;\nallow.nomount;\nallow.raw_sockets;\n')
    expect((await nest('create', 'p/c', '--policy', 'pinger')).code).toBe(0)
    const {doc} = await audit('p/c')
    expect(doc.jails).toEqual(['p.c'])
    expect(grant(doc, 'p.c', 'allow.raw_sockets')).toMatchObject({verdict: 'needed'})
    expect(grant(doc, 'p.c', 'allow.raw_sockets')?.reason).toMatch(/^declared/)
  })
})

describe('the table, --fail-on and refusals', () => {
  it('prints a table of severity, rule, jail, finding and fix; exit 9 at or above --fail-on, else 0', async () => {
    const r = await nest('audit', 'p')
    expect(r.code).toBe(9)
    const lines = r.stdout.split('\n')
    expect(lines[0]).toMatch(/^SEVERITY +RULE +JAIL +FINDING +FIX$/)
    expect(lines.some((l) => /^medium +NEST-A01 +p +allow\.raw_sockets is unused/.test(l))).toBe(true)
    expect(r.stdout).toContain('\ngrants:\n  p: ')
    expect(r.stdout).toMatch(/\n\d+ high, \d+ medium, \d+ low, \d+ info \(at or above --fail-on high: exit 9\)/)
    // p.a alone has no high finding of its own kind that --fail-on high… but its nullfs is high (M03): use a level above none.
    const none = await audit('p/a', '--fail-on', 'high')
    expect(none.code).toBe(none.doc.findings.some((f) => f.severity === 'high') ? 9 : 0)
    expect(none.doc.failed).toBe(none.code === 9)
  })

  it.each([
    [['audit', 'nosuch'], 4, /^nest: nosuch: no such jail \(neither running nor in a jail\.conf nest reads\) \(see jls, or nest list\)$/],
    [['audit', 'p/x'], 4, /^nest: p\.x: no such jail/],
    [['audit', 'a;b'], 3, /^nest: invalid jail name/],
    [['audit', 'p', '--window', '7x'], 3, /^nest: --window "7x": not a duration \(give a number and a unit: 90s, 30m, 12h, 7d\)$/],
    [['audit', 'p', '--fail-on', 'severe'], 2, /Expected --fail-on=severe to be one of/],
  ])('%j: exit %i, one line, nothing changed', async (argv, code, message) => {
    const before = hostState()
    const r = await nest(...argv)
    expect(r.code).toBe(code)
    expect(r.stdout).toBe('')
    // oclif words a flag it cannot parse itself (exit 2, usage); nest's own refusals are one `nest: ` line.
    const errs = r.stderr.split('\n').filter((l) => (code === 2 ? /Error: / : /^nest: /).test(l) && !l.startsWith('nest: using'))
    expect(errs).toHaveLength(1)
    expect(errs[0]).toMatch(message)
    expect(hostState()).toEqual(before)
    const j = await nest(...argv, '--json')
    expect(j.code).toBe(code)
    expect((JSON.parse(j.stdout) as {status: number}).status).toBe(code)
  })

  it('a lifecycle older than --window does not count: what depends on it becomes unknown', async () => {
    const {doc} = await audit('p', '--window', '1s')
    // The tree was started by its creates, more than a second of the host's clock ago or on the simulator's own clock.
    expect(verdict(doc, 'p', 'allow.mount.tmpfs')).toBe('unknown')
    expect(grant(doc, 'p', 'allow.mount.tmpfs')?.reason).toBe('nest has no record of a start of p (or of a jail above it): a grant used only while it and its children start cannot be called unused (§1.1)')
  })

  it('a jail.conf with a syntax error on the host is a warning and a finding, never a failed audit', async () => {
    writeFileSync(sim.fs('/etc/jail.conf'), 'broken {\n\tpath = "/tmp/x"\n\tpersist;\n}\n')
    const {code, doc, stderr} = await audit()
    expect([0, 9]).toContain(code)
    expect(stderr).toMatch(/\/etc\/jail\.conf line \d+/)
    expect(doc.jails).toContain('p')
    expect(doc.findings.find((f) => f.rule === 'NEST-R02' && f.finding.startsWith('jail(8) cannot read /etc/jail.conf: '))?.jail).toBe('(host)')
  })
})
