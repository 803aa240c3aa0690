// devfs.rules(5) files loaded as /etc/rc.d/devfs loads them (libexec/rc/rc.d/devfs, rc.subr
// devfs_init_rulesets / devfs_rulesets_from_file), `devfs rule` over the kernel's rulesets
// (sbin/devfs/rule.c, devfs.c; sys/fs/devfs/devfs_rule.c), and the rulesets a devfs mount applies.
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {type DevfsRuleRow, parseDevfsShow} from '../../src/host/tools/devfs.js'
import {devfsShows} from '../../src/policies/devfs.js'
import {evalWords, readLines} from '../../src/sim/devfsrules.js'
import {devfsVisible, fnmatchPath} from '../../src/sim/kernel/devfs.js'
import {makeSim, type TestSim} from '../helpers/sim.js'

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/freebsd-outputs/devfs')
const fixture = (name: string): string => readFileSync(path.join(FIXTURES, name), 'utf8')

let sim: TestSim
beforeEach(async () => {
  sim = await makeSim()
})
afterEach(() => sim.cleanup())

const rules = (text: string): void => writeFileSync(sim.fs('/etc/devfs.rules'), text)
const restart = (): ReturnType<TestSim['run']> => sim.run('service', 'devfs', 'restart')
const show = async (n: number): Promise<string> => (await sim.run('devfs', 'rule', '-s', String(n), 'show')).stdout
const WARN = '/etc/rc.d/devfs: WARNING: '

describe('the stock rulesets (sbin/devfs/devfs.rules as /etc/defaults/devfs.rules)', () => {
  it('installs FreeBSD\'s file byte for byte and boots with what rc.d/devfs loads from it', async () => {
    expect(readFileSync(sim.fs('/etc/defaults/devfs.rules'), 'utf8')).toBe(fixture('etc-defaults-devfs.rules-freebsd-src.txt'))
    expect(await sim.run('devfs', 'rule', 'showsets')).toEqual({code: 0, stdout: '1\n2\n3\n4\n5\n', stderr: ''})
    // rulespec_outfp: `%d` then ` path %s`, the pattern without the quotes the file had (the
    // real `devfs rule -s 6 show` in devfs-rule-s-show-empty-and-expanded-ruleset-6.txt).
    const three = (await show(3)).split('\n')
    expect(three[0]).toBe('100 path ptyp* unhide')
    expect(three[34]).toBe('3500 path pts/* unhide')
    expect(await show(5)).toBe('100 include 1\n200 include 2\n300 include 3\n400 include 4\n500 path pf unhide\n')
    // RGETNEXT on a ruleset that does not exist is ENOENT, the end of the list: nothing, exit 0.
    expect(await sim.run('devfs', 'rule', '-s', '1000', 'show')).toEqual({code: 0, stdout: '', stderr: ''})
    // rule_show N: RGETNEXT from N-1, printed only when that rule is N.
    expect((await sim.run('devfs', 'rule', '-s', '4', 'show', '500')).stdout).toBe('500 path zfs unhide\n')
    expect((await sim.run('devfs', 'rule', '-s', '4', 'show', '450')).stdout).toBe('')
  })
})

describe('rc.subr devfs_rulesets_from_file: how lines are read', () => {
  it('read(1) without -r: backslashes quote and join, blanks trimmed, a last line without newline unseen', () => {
    expect(readLines('  add hide  \n\tadd path \\\n zfs unhide\nadd path a\\ b\nlast')).toEqual(['add hide', 'add path  zfs unhide', 'add path a b'])
  })

  it('eval: quotes, $names, comments, and an empty unquoted expansion that disappears', () => {
    const vars = new Map([['devfsrules_jail', '4']])
    expect(evalWords("/sbin/devfs rule -s 10 add path 'tty*' unhide # comment", vars)).toEqual(['/sbin/devfs', 'rule', '-s', '10', 'add', 'path', 'tty*', 'unhide'])
    expect(evalWords('add include $devfsrules_jail', vars)).toEqual(['add', 'include', '4'])
    expect(evalWords('add include "${devfsrules_jail}"', vars)).toEqual(['add', 'include', '4'])
    expect(evalWords('add include $nothing', vars)).toEqual(['add', 'include'])
    expect(evalWords('add include "$nothing"', vars)).toEqual(['add', 'include', ''])
    expect(() => evalWords('add hide; reboot', vars)).toThrow('";" in a devfs.rules line')
    expect(() => evalWords('add path $(echo x) hide', vars)).toThrow('$(')
  })

  it('fnmatch with FNM_PATHNAME, as devfs_rule_matchpath calls it', () => {
    expect(fnmatchPath('pts/*', 'pts/0')).toBe(true)
    expect(fnmatchPath('*', 'pts/0')).toBe(false)
    expect(fnmatchPath('z[fx]s', 'zfs')).toBe(true)
    expect(fnmatchPath('z[!f]s', 'zfs')).toBe(false)
    expect(fnmatchPath('zf?', 'zfs')).toBe(true)
  })
})

describe('service devfs restart: /etc/devfs.rules after /etc/defaults/devfs.rules, in one shell', () => {
  it('loads a real /etc/devfs.rules (bastille setup\'s ruleset 13): names of the defaults file expand', async () => {
    rules(fixture('devfs.rules-bastille_vnet-13.txt'))
    expect(await restart()).toEqual({code: 0, stdout: '', stderr: ''})
    expect(await show(13)).toBe('100 include 1\n200 include 2\n300 include 3\n400 include 4\n500 include 5\n600 path bpf* unhide\n')
    expect((await sim.run('devfs', 'rule', 'showsets')).stdout).toBe('1\n2\n3\n4\n5\n13\n')
  })

  it('comments, blank lines, indented lines, double quotes; a restart replaces a ruleset (delset first)', async () => {
    rules('# mine\n\n  [web=20]   \n\tadd include $devfsrules_hide_all   # everything hidden\nadd path "zfs" unhide\n#add path pf unhide\n')
    expect(await restart()).toMatchObject({code: 0, stderr: ''})
    expect(await show(20)).toBe('100 include 1\n200 path zfs unhide\n')
    rules('[web=20]\nadd include $devfsrules_jail\n')
    expect(await restart()).toMatchObject({code: 0, stderr: ''})
    expect(await show(20)).toBe('100 include 4\n')
  })

  it('a failing rule ends that file: devfs\'s error, rc.subr\'s warning, the rules before it kept, exit 0', async () => {
    rules('[a=30]\nadd include $devfsrules_hide_all\n[b=31]\nadd include $devfsrules_jial\nadd path zfs unhide\n[c=32]\nadd hide\n')
    expect(await restart()).toEqual({code: 0, stdout: '', stderr: `devfs rule: expecting argument for include\n${WARN}devfs_init_rulesets: could not read rules from /etc/devfs.rules\n`})
    expect((await sim.run('devfs', 'rule', 'showsets')).stdout).toBe('1\n2\n3\n4\n5\n30\n')
  })

  it('an include of a ruleset not loaded yet is ESRCH (devfs_rule_insert)', async () => {
    rules('[a=40]\nadd include 41\n[b=41]\nadd hide\n')
    expect((await restart()).stderr).toBe(`devfs rule: ioctl DEVFSIO_RADD: No such process\n${WARN}devfs_init_rulesets: could not read rules from /etc/devfs.rules\n`)
  })

  it('headers: expr\'s patterns, and warnings for a header without a number or a name', async () => {
    rules('[noname=]\nadd hide\n')
    expect((await restart()).stderr).toBe(`${WARN}devfs_rulesets_from_file: cannot extract rule number ([noname=])\n${WARN}devfs_init_rulesets: could not read rules from /etc/devfs.rules\n`)
    rules('[=50]\nadd hide\n')
    expect((await restart()).stderr).toBe(`${WARN}devfs_rulesets_from_file: cannot extract rule name ([=50])\n${WARN}devfs_init_rulesets: could not read rules from /etc/devfs.rules\n`)
    // A ruleset number above 65535: devfs.c eatonum.
    rules('[big=70000]\nadd hide\n')
    expect((await restart()).stderr).toBe(`devfs rule: error converting to number: 70000\n${WARN}devfs_init_rulesets: could not read rules from /etc/devfs.rules\n`)
  })

  it('rulenum is not local to a file: lines before the first header add to the last ruleset of the defaults', async () => {
    rules('add path bpf unhide\n')
    expect((await restart()).code).toBe(0)
    expect(await show(5)).toBe('100 include 1\n200 include 2\n300 include 3\n400 include 4\n500 path pf unhide\n600 path bpf unhide\n')
  })

  it('refuses what sh would do beyond the rules (exit 69), before anything changes', async () => {
    rules('[x=60]\nadd hide; reboot\n')
    const before = sim.kernel().devfsRulesets
    expect(await restart()).toMatchObject({code: 69, stderr: expect.stringContaining('not simulated')})
    expect(sim.kernel().devfsRulesets).toEqual(before)
    rules('[x=60]\nadd path foo#bar unhide\n')
    expect((await restart()).code).toBe(69)
    writeFileSync(sim.fs('/etc/rc.conf'), 'hostname="h"\ndevfs_system_ruleset="devfsrules_hide_all"\n')
    expect((await restart()).code).toBe(69)
  })

  it('is refused in a jail, and every other rc script is too', async () => {
    expect((await sim.run('service', 'jail', 'start')).code).toBe(69)
    sim.mkdirs('/j/q')
    const jid = Number((await sim.run('jail', '-i', '-c', 'name=q', 'path=/j/q', 'persist')).stdout.trim())
    expect((await sim.runIn(jid, 'service', 'devfs', 'restart')).code).toBe(69)
  })
})

describe('the ruleset a devfs mount applies (devfs_vfsops.c devfs_mount, devfs_rule.c)', () => {
  const jail = async (name: string, rs: number): Promise<number> => {
    sim.mkdirs(`/j/${name}/dev`)
    const r = await sim.run('jail', '-i', '-c', `name=${name}`, `path=/j/${name}`, 'persist', 'mount.devfs', `devfs_ruleset=${rs}`)
    expect(r.code).toBe(0)
    return Number(r.stdout.trim())
  }
  const zfsOk = async (jid: number): Promise<boolean> => (await sim.runIn(jid, 'zfs', 'list', '-H', '-o', 'name')).code === 0

  it('a ruleset from /etc/devfs.rules decides whether the jail sees /dev/zfs, in rule order', async () => {
    rules('[nozfs=10]\nadd include $devfsrules_jail\nadd path zfs hide\n[zfsagain=11]\nadd include $devfsrules_hide_all\nadd path zfs unhide\n')
    expect((await restart()).code).toBe(0)
    expect(await zfsOk(await jail('a', 10))).toBe(false)
    expect(await zfsOk(await jail('b', 11))).toBe(true)
    expect(await zfsOk(await jail('c', 4))).toBe(true)
    // Ruleset 1 hides everything: no /dev/fd is made either.
    await jail('d', 1)
    expect(sim.kernel().mounts.find((m) => m.on === '/j/d/dev')?.hidden).toEqual(['fd', 'zfs'])
  })

  it('includes are resolved vfs.devfs.rule_depth deep (1): the includes of an included ruleset do not run', async () => {
    rules('[hider=10]\nadd include $devfsrules_hide_all\n[outer=11]\nadd include $hider\n')
    expect((await restart()).code).toBe(0)
    expect(await zfsOk(await jail('a', 10))).toBe(false)
    expect(await zfsOk(await jail('b', 11))).toBe(true)
    expect((await sim.run('sysctl', 'vfs.devfs.rule_depth=2')).code).toBe(0)
    expect(await zfsOk(await jail('c', 11))).toBe(false)
  })

  it('a ruleset that is not loaded hides nothing (devfs_ruleset_use creates it empty); showsets lists it while used', async () => {
    expect(await zfsOk(await jail('a', 77))).toBe(true)
    expect((await sim.run('devfs', 'rule', 'showsets')).stdout).toBe('1\n2\n3\n4\n5\n77\n')
  })

  it('rules loaded after the mount do not change its entries (DEVFSIO_RADD applies nothing)', async () => {
    rules('[later=10]\nadd path null unhide\n')
    expect((await restart()).code).toBe(0)
    const a = await jail('a', 10)
    rules('[later=10]\nadd hide\n')
    expect((await restart()).code).toBe(0)
    expect(await zfsOk(a)).toBe(true)
    expect(await zfsOk(await jail('b', 10))).toBe(false)
  })

  it('a ruleset included elsewhere survives its delset, empty (ds_refcount, devfs_ruleset_reap)', async () => {
    expect((await sim.run('devfs', 'rule', '-s', '3', 'delset')).code).toBe(0)
    expect(await sim.run('devfs', 'rule', 'showsets')).toMatchObject({stdout: '1\n2\n3\n4\n5\n'})
    expect(await show(3)).toBe('')
  })
})

describe('devfs rule add and its errors (rule.c rulespec_intok, devfs_rules_ioctl)', () => {
  it('prints rules in rulespec_outfp\'s order, numbers them by 100, and fails as rule.c does', async () => {
    expect((await sim.run('devfs', 'rule', '-s', '9', 'add', 'unhide', 'path', 'x*')).code).toBe(1)
    expect((await sim.run('devfs', 'rule', '-s', '9', 'add', 'path', 'x*', 'unhide', 'hide')).code).toBe(0)
    expect((await sim.run('devfs', 'rule', '-s', '9', 'add', 'type', 'disk', 'hide')).code).toBe(0)
    expect(await show(9)).toBe('100 path x* hide unhide\n200 type disk hide\n')
    expect(await sim.run('devfs', 'rule', '-s', '9', 'add', 'path')).toEqual({code: 1, stdout: '', stderr: 'devfs rule: expecting argument for path\n'})
    expect((await sim.run('devfs', 'rule', '-s', '9', 'add', 'frob')).stderr).toBe('devfs rule: unknown argument: frob\n')
    expect((await sim.run('devfs', 'rule', '-s', 'x', 'show')).stderr).toBe('devfs rule: error converting to number: x\n')
    expect((await sim.run('devfs', 'rule', 'add', 'hide')).stderr).toBe('devfs rule: ioctl DEVFSIO_RADD: Input/output error\n')
    expect((await sim.run('devfs', 'rule', '-s', '9', 'frob')).stderr).toBe('devfs rule: unknown command: frob\n')
    expect((await sim.run('devfs', 'rule', '-s', '9', 'add', 'mode', '0600')).code).toBe(69)
  })
})

describe('views agree: nest\'s reading of `devfs rule show` and the kernel model decide alike', () => {
  it('for the stock rulesets and custom ones, at include depths 1 and 2', async () => {
    rules('[a=10]\nadd include $devfsrules_jail\nadd path zfs hide\n[b=11]\nadd include $a\nadd path \'z[!x]s\' unhide\n[c=12]\nadd include $devfsrules_jail_vnet\n')
    expect((await restart()).code).toBe(0)
    for (const depth of [1, 2]) {
      expect((await sim.run('sysctl', `vfs.devfs.rule_depth=${depth}`)).code).toBe(0)
      const sets = new Map<number, DevfsRuleRow[]>()
      for (const n of [1, 2, 3, 4, 5, 10, 11, 12]) sets.set(n, parseDevfsShow(await show(n))._unsafeUnwrap())
      const k = sim.kernel()
      for (const n of sets.keys()) {
        for (const dev of ['zfs', 'fd', 'pf', 'null']) expect(devfsShows({depth, sets}, n, dev).visible, `ruleset ${n} ${dev} depth ${depth}`).toBe(devfsVisible(k, n, dev))
      }
    }
  })
})
