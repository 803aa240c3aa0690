// nest create checks a policy's devfs ruleset against the rulesets the host's kernel holds
// (`devfs rule -s N show`, and what it includes vfs.devfs.rule_depth deep), before anything
// changes: a delegated dataset needs /dev/zfs in the jail (libzfs opens it), and a ruleset with
// no rules would show the jail every device (devfs_ruleset_use makes it empty).
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import {hostState, makeSim, type TestSim} from '../helpers/sim.js'

let sim: TestSim
let bootstrapped: string
const nest = (...args: string[]) => sim.nest(...args)

const PARENT = (rs: number): string => [
  `nest.description = "A parent whose /dev uses ruleset ${rs}.";`,
  'nest.delegate;', 'children.max = 4;', 'enforce_statfs = 1;', `devfs_ruleset = ${rs};`,
  'allow.mount;', 'allow.mount.devfs;', 'allow.mount.zfs;', 'allow.mount.nullfs;', 'allow.mount.tmpfs;', '',
].join('\n')

/** A host's /etc/devfs.rules as an admin writes one: ruleset 10 hides zfs, 11 unhides it. */
const RULES = [
  '# rulesets for nest parents',
  '[nest_nozfs=10]',
  'add include $devfsrules_hide_all',
  'add include $devfsrules_unhide_basic',
  'add include $devfsrules_unhide_login',
  '',
  '[nest_zfs=11]',
  'add include $devfsrules_hide_all    # everything hidden first',
  'add include $devfsrules_unhide_basic',
  'add include $devfsrules_unhide_login',
  "add path 'zfs' unhide",
  '',
].join('\n')

beforeAll(async () => {
  sim = await makeSim()
  const dir = sim.fs('/usr/local/etc/nest/policies')
  mkdirSync(dir, {recursive: true})
  for (const rs of [1, 9, 10, 11]) writeFileSync(path.join(dir, `rs${rs}.conf`), PARENT(rs))
  writeFileSync(sim.fs('/etc/devfs.rules'), RULES)
  expect((await sim.run('service', 'devfs', 'restart')).code).toBe(0)
  const r = await nest('bootstrap', '14.3-RELEASE')
  expect(r.code, r.stderr).toBe(0)
  bootstrapped = sim.save()
}, 60_000)
beforeEach(() => sim.restore(bootstrapped))
afterAll(() => sim.cleanup())

const state = (): unknown => ({files: hostState(sim, ['/etc/jail.conf.d', '/nest/jails']), datasets: sim.kernel().datasets.map((d) => d.name), jails: sim.alive()})

describe('nest create: the policy\'s devfs ruleset, read from the host', () => {
  it('refuses a delegated dataset under a ruleset that hides /dev/zfs, naming the ruleset and the fix, changing nothing', async () => {
    const before = state()
    const r = await nest('create', 'web', '--policy', 'rs10')
    expect(r.code).toBe(6)
    expect(r.stdout).toBe('')
    expect(r.stderr.trimEnd().split('\n').at(-1)).toBe(
      'nest: web: policy rs10: nest.delegate needs /dev/zfs in the jail, and devfs_ruleset = 10 hides it (rule 100 of ruleset 1, included by rule 100 of ruleset 10)'
      + ' (add "add path zfs unhide" to the end of ruleset 10 in /etc/devfs.rules and run service devfs restart, or use devfs_ruleset = 4)')
    expect(state()).toEqual(before)
    const j = await nest('create', 'web', '--policy', 'rs1', '--json')
    expect(j.code).toBe(6)
    expect(JSON.parse(j.stdout).error).toEqual({
      kind: 'preflight',
      message: 'web: policy rs1: nest.delegate needs /dev/zfs in the jail, and devfs_ruleset = 1 hides it (rule 100 of ruleset 1)',
      fix: 'add "add path zfs unhide" to the end of ruleset 1 in /etc/devfs.rules and run service devfs restart, or use devfs_ruleset = 4',
    })
  }, 60_000)

  it('reads only what decides: for ruleset 4, `devfs rule -s 4 show` (its includes come before its zfs rule)', async () => {
    const log = path.join(sim.root, 'invocations.jsonl')
    writeFileSync(log, '')
    expect((await nest('create', 'web')).code).toBe(0)
    const devfs = readFileSync(log, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as {tool?: string, argv?: string[]})
      .filter((e) => e.tool === 'devfs' || (e.tool === 'sysctl' && e.argv?.includes('vfs.devfs.rule_depth'))).map((e) => `${e.tool} ${e.argv?.join(' ')}`)
    expect(devfs).toEqual(expect.arrayContaining(['devfs rule -s 4 show', 'sysctl -q vfs.devfs.rule_depth']))
    expect(devfs.length).toBe(2)
  }, 60_000)

  it('refuses a ruleset the host has no rules for', async () => {
    const r = await nest('create', 'web', '--policy', 'rs9', '--json')
    expect(r.code).toBe(6)
    expect(JSON.parse(r.stdout).error.message).toBe('web: policy rs9: devfs_ruleset = 9 has no rules on this host (devfs rule -s 9 show prints none), so the jail\'s /dev would show every device')
  }, 60_000)

  it('accepts a custom ruleset from /etc/devfs.rules that unhides zfs after hiding everything: the jail sees /dev/zfs', async () => {
    const r = await nest('create', 'web', '--policy', 'rs11')
    expect(r.code, r.stderr).toBe(0)
    expect((await sim.run('jls', '-j', 'web', 'devfs_ruleset')).stdout).toBe('11\n')
    const z = await nest('exec', 'web', '--', 'zfs', 'list', '-H', '-o', 'name')
    expect(z.code, z.stderr).toBe(0)
    expect(z.stdout).toContain('zroot/nest/jails/web/data\n')
  }, 60_000)

  it('follows the kernel, not the file: a ruleset edited in /etc/devfs.rules counts once devfs is restarted', async () => {
    writeFileSync(sim.fs('/etc/devfs.rules'), RULES.replace("add path 'zfs' unhide", '# zfs no longer'))
    expect((await nest('create', 'web', '--policy', 'rs11')).code).toBe(0)
    expect((await nest('destroy', 'web', '--force')).code).toBe(0)
    expect((await sim.run('service', 'devfs', 'restart')).code).toBe(0)
    expect((await nest('create', 'web', '--policy', 'rs11')).code).toBe(6)
  }, 60_000)
})
