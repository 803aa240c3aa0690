// Public over-privileged configurations nobody on the team wrote (test/fixtures/audit-public,
// each with its SOURCE.md), through `nest audit` on a simulated host: the configuration alone,
// then with what the simulated jail(8) can start running. Every time: exit 0 or 9, one JSON
// document valid against AUDIT_SCHEMA, the findings (rule, severity, jail) expected, and the
// host's kernel state and files the same before and after.
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {Ajv2020} from 'ajv/dist/2020.js'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {AUDIT_SCHEMA} from '../../src/render/audit.js'
import {hostState, makeSim, nestSteps, type TestSim} from '../helpers/sim.js'

const FIXTURES = path.resolve(import.meta.dirname, '..', 'fixtures', 'audit-public')
const validate = new Ajv2020({strict: false}).compile(AUDIT_SCHEMA)

let sim: TestSim
let base: string
beforeAll(async () => {
  sim = await makeSim()
  await nestSteps(sim, ['bootstrap', '14.3-RELEASE'])
  base = sim.save()
}, 120_000)
afterAll(() => sim.cleanup())

/** The paths the configuration names (jail -e), made as a release's root would have them. */
async function prepare(name: string): Promise<void> {
  sim.restore(base)
  writeFileSync(sim.fs('etc/jail.conf'), readFileSync(path.join(FIXTURES, name, 'jail.conf')))
  const e = await sim.run('jail', '-f', '/etc/jail.conf', '-e', '|')
  for (const line of e.stdout.split('\n')) {
    const p = line.split('|').find((x) => x.startsWith('path='))?.slice('path='.length)
    if (p !== undefined) for (const d of ['dev', 'etc', 'bin', 'var/tmp']) mkdirSync(sim.fs(`${p}/${d}`), {recursive: true})
  }
}

async function run(...argv: string[]): Promise<void> {
  const r = await sim.run(argv[0] as string, ...argv.slice(1))
  if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`)
}

/** `nest audit --json`, checked; `RULE severity jail` of each finding, sorted and unique. */
async function audit(): Promise<string[]> {
  const kernel = readFileSync(path.join(sim.root, 'kernel.json'), 'utf8')
  const state = hostState(sim, ['etc', 'jails', 'usr', 'zusr', 'jail'])
  const r = await sim.nest('audit', '--json')
  expect([0, 9]).toContain(r.code)
  const doc = JSON.parse(r.stdout) as {result: {findings: Array<{rule: string; severity: string; jail: string}>; counts: {high: number}}}
  expect(validate(doc.result), JSON.stringify(validate.errors)).toBe(true)
  expect(r.code).toBe(doc.result.counts.high > 0 ? 9 : 0)
  expect(readFileSync(path.join(sim.root, 'kernel.json'), 'utf8')).toBe(kernel)
  expect(hostState(sim, ['etc', 'jails', 'usr', 'zusr', 'jail'])).toEqual(state)
  return [...new Set(doc.result.findings.map((f) => `${f.rule} ${f.severity} ${f.jail}`))].sort()
}

/** The findings every started jail of these fixtures has and that say nothing of its configuration: left out of the lists. */
const COMMON = /^NEST-(A10|A11|F01|F07|D04) /
const brief = (fs: string[]): string[] => fs.filter((f) => !COMMON.test(f))
const same = (got: string[], want: string[]): void => expect(got).toEqual(want)

describe('public configurations through nest audit', () => {
  it('FreshPorts host-init jail.conf: allow.sysvipc and raw_sockets everywhere, nginx01 allowed zfs mounts with no delegation', async () => {
    await prepare('freshports-host')
    same(brief(await audit()), ['NEST-I01 medium ingress01', 'NEST-I01 medium nginx01', 'NEST-I01 medium pg01'])
    for (const j of ['pg01', 'ingress01', 'nginx01']) await run('jail', '-f', '/etc/jail.conf', '-c', j)
    same(brief(await audit()), [
      'NEST-A01 medium ingress01', 'NEST-A01 medium nginx01', 'NEST-A01 medium pg01', 'NEST-A05 medium ingress01', 'NEST-A05 medium nginx01', 'NEST-A05 medium pg01',
      'NEST-D01 low ingress01', 'NEST-D01 low nginx01', 'NEST-D01 low pg01', 'NEST-I01 medium ingress01', 'NEST-I01 medium nginx01', 'NEST-I01 medium pg01',
      'NEST-M08 medium nginx01', 'NEST-Z04 low ingress01', 'NEST-Z04 low nginx01', 'NEST-Z04 low pg01',
    ])
  }, 60_000)

  it('FreshPorts ingress: a parent with every mount type, and the child its own jail(8) starts (ip4=inherit, devfs_ruleset=0)', async () => {
    await prepare('freshports-ingress')
    await run('ifconfig', 'lo1', 'create')
    await run('ifconfig', 'lo1', 'name', 'nic0')
    same(brief(await audit()), ['NEST-M03 high ingress'])
    await run('jail', '-f', '/etc/jail.conf', '-c', 'ingress')
    writeFileSync(sim.fs('jails/ingress/etc/jail.conf'), readFileSync(path.join(FIXTURES, 'freshports-ingress', 'child', 'jail.conf')))
    for (const d of ['dev', 'etc', 'bin']) mkdirSync(sim.fs(`jails/ingress/jails/freshports/${d}`), {recursive: true})
    mkdirSync(sim.fs('jails/ingress/var/tmp'), {recursive: true})
    const r = await sim.runIn(sim.jid('ingress') as number, 'jail', '-f', '/etc/jail.conf', '-c', 'freshports')
    expect(r.code, r.stderr).toBe(0)
    same(brief(await audit()), [
      'NEST-A02 medium ingress', 'NEST-D03 high ingress', 'NEST-D03 high ingress.freshports', 'NEST-H01 medium ingress', 'NEST-H02 low ingress', 'NEST-H07 low ingress',
      'NEST-H08 medium ingress', 'NEST-M03 high ingress', 'NEST-M04 high ingress', 'NEST-M04 high ingress.freshports', 'NEST-M08 medium ingress', 'NEST-N01 medium ingress.freshports',
      'NEST-R07 high ingress', 'NEST-S04 medium ingress', 'NEST-Z04 low ingress', 'NEST-Z04 low ingress.freshports',
    ])
  }, 60_000)

  it('skhal/lab jammy: a vnet Linux jail, every Linux mount allowed while the host makes them all; jail(8) refuses it (depend on undefined jails)', async () => {
    await prepare('skhal-jammy')
    same(brief(await audit()), ['NEST-X01 high jammy'])
    const r = await sim.run('jail', '-f', '/etc/jail.conf', '-c', 'jammy')
    expect(r.stderr).toContain('depends on undefined jail "dns"')
  }, 60_000)

  it('quBSD: children.max=1 and allow.mount.nullfs for thirty jails, rulesets 6 and 7 this host has not loaded', async () => {
    await prepare('qubsd')
    for (const j of ['0base', 'net-firewall', 'vault']) {
      mkdirSync(sim.fs(`zusr/${j}/rw/etc`), {recursive: true})
      writeFileSync(sim.fs(`zusr/${j}/rw/etc/fstab`), '')
      writeFileSync(sim.fs(`jails/${j}/etc/fstab`), '')
    }
    // Rulesets 6 and 7 come from quBSD's own devfs.rules, not on this host: D02 high, rightly.
    const q = await audit()
    same(q.filter((f) => f.startsWith('NEST-D02')).map((f) => f.split(' ')[2] as string).filter((j) => !/^(0gui|0gui-template|altcharts|charts|charts-wm|corporate|disp2|dispjail|dispjail2|email|media|message|monegro|opensource|rnd|social|torrents|vault|0net|0net-template|net-firewall|net-ivpn-bra|net-ivpn-dal|net-ivpn-var)$/.test(j)), [])
    expect(q.filter((f) => f.startsWith('NEST-D02')).length).toBe(24)
    same(q.filter((f) => !f.startsWith('NEST-D02') && !f.startsWith('NEST-X01 medium ')), [])
    expect(q.filter((f) => f.startsWith('NEST-X01 medium ')).length).toBe(28)
    // Its hooks are quBSD's scripts, which this host does not have: jail(8) stops at the first.
    const r = await sim.run('jail', '-f', '/etc/jail.conf', '-c', '0base')
    expect(r.stderr).toContain('/usr/local/etc/quBSD/exec.prepare 0base: failed')
  }, 60_000)

  it('poudriere_in_jail.wiki: ip4/ip6 inherit, raw_sockets, socket_af, sysvipc; jail(8) refuses its name= line', async () => {
    await prepare('poudriere-in-jail')
    same(brief(await audit()), ['NEST-R02 medium poudriere', 'NEST-X03 low poudriere'])
    const r = await sim.run('jail', '-f', '/etc/jail.conf', '-c', 'poudriere')
    expect(r.stderr).toContain('cannot redefine parameter "name"')
  }, 60_000)

  it('Buildbot and Poudriere tutorial worker: chflags, five mount types, raw_sockets, socket_af, sysvipc, children.max=16, a delegated dataset', async () => {
    await prepare('buildbot-worker')
    await run('ifconfig', 'lo1', 'create')
    await run('zfs', 'create', '-o', 'mountpoint=none', 'zroot/pdr')
    await run('zfs', 'create', '-o', 'jailed=on', 'zroot/pdr/w0')
    same(brief(await audit()), ['NEST-I01 medium buildbot-worker0', 'NEST-M03 high buildbot-worker0', 'NEST-M04 high buildbot-worker0', 'NEST-X03 low buildbot-worker0', 'NEST-Z01 medium buildbot-worker0'])
    await run('jail', '-f', '/etc/jail.conf', '-c', 'buildbot-worker0')
    same(brief(await audit()), [
      'NEST-A01 medium buildbot-worker0', 'NEST-A02 medium buildbot-worker0', 'NEST-A05 medium buildbot-worker0', 'NEST-D01 high buildbot-worker0', 'NEST-H03 low buildbot-worker0',
      'NEST-I01 medium buildbot-worker0', 'NEST-M03 high buildbot-worker0', 'NEST-M04 high buildbot-worker0', 'NEST-R07 high buildbot-worker0', 'NEST-S04 medium buildbot-worker0',
      'NEST-X03 low buildbot-worker0', 'NEST-Z01 medium buildbot-worker0',
    ])
  }, 60_000)

  it('FreeBSD\'s share/examples/jails/jail.xxx.conf (a control, every grant at its default): no finding from its configuration', async () => {
    await prepare('freebsd-example-vnet')
    same(await audit(), [])
  }, 60_000)
})
