// The pure decision: does a policy's devfs ruleset show /dev/zfs, from the rulesets the host's
// kernel holds (`devfs rule -s N show`, sbin/devfs/rule.c rulespec_outfp; devfs_rule_run in
// sys/fs/devfs/devfs_rule.c for the order and the include depth).
import {readFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {type DevfsRulesets, parseDevfsShow} from '../../src/host/tools/devfs.js'
import {devfsNeeds, devfsProblem, devfsShows, matchDevPath} from '../../src/policies/devfs.js'
import {parsePolicy} from '../../src/policies/policy.js'

const show = (text: string) => parseDevfsShow(text)._unsafeUnwrap()

/** The stock rulesets 1-4 as `devfs rule -s N show` prints them on a 14.x host (3 shortened). */
const STOCK: Array<[number, string]> = [
  [1, '100 hide\n'],
  [2, '100 path null unhide\n200 path zero unhide\n300 path crypto unhide\n400 path random unhide\n500 path urandom unhide\n'],
  [3, '100 path ptyp* unhide\n200 path pts unhide\n300 path pts/* unhide\n400 path fd unhide\n500 path fd/* unhide\n'],
  [4, '100 include 1\n200 include 2\n300 include 3\n400 path fuse unhide\n500 path zfs unhide\n'],
]

const host = (extra: Array<[number, string]> = [], depth = 1): DevfsRulesets => ({depth, sets: new Map([...STOCK, ...extra].map(([n, t]) => [n, show(t)]))})

const policy = (body: string) => parsePolicy('p', '/usr/local/etc/nest/policies/p.conf', `nest.description = "d";\n${body}`, 'file')._unsafeUnwrap()
const DELEGATE = 'nest.delegate;\nenforce_statfs = 1;\nallow.mount;\nallow.mount.zfs;\n'

describe('parseDevfsShow (rulespec_outfp: %d, type, path, hide, unhide, user, group, mode, include)', () => {
  it('reads each part, and nothing for an empty or absent ruleset', () => {
    expect(show('100 include 1\n200 type disk path da* hide unhide\n300 path bpf* unhide user root group wheel mode 660\n')).toEqual([
      {num: 100, types: [], path: null, hide: false, unhide: false, include: 1},
      {num: 200, types: ['disk'], path: 'da*', hide: true, unhide: true, include: null},
      {num: 300, types: [], path: 'bpf*', hide: false, unhide: true, include: null},
    ])
    expect(show('')).toEqual([])
  })

  it('reads a real `devfs rule -s 6 show` (iocage/iocage#952, FreeBSD 12.x): 47 rules, zfs unhidden last', () => {
    const text = readFileSync(path.resolve(import.meta.dirname, '../fixtures/freebsd-outputs/devfs/devfs-rule-s-show-empty-and-expanded-ruleset-6.txt'), 'utf8')
    const out = text.split('\n').filter((l) => !l.startsWith('[')).join('\n')
    const rows = show(out)
    expect(rows.length).toBe(47)
    expect(rows[6]).toEqual({num: 700, types: [], path: 'ptyp*', hide: false, unhide: true, include: null})
    const sets = {depth: 1, sets: new Map([[6, rows]])}
    expect(devfsShows(sets, 6, 'zfs')).toEqual({visible: true, by: 'rule 4700 of ruleset 6'})
    expect(devfsShows(sets, 6, 'pf')).toEqual({visible: false, by: 'rule 100 of ruleset 6'})
  })

  it('refuses what it cannot read rather than guess', () => {
    expect(parseDevfsShow('path zfs unhide\n').isErr()).toBe(true)
    expect(parseDevfsShow('100 path a b unhide\n').isErr()).toBe(true)
    expect(parseDevfsShow('100 frobnicate\n').isErr()).toBe(true)
  })
})

describe('devfsShows: rule order and includes', () => {
  it('ruleset 4 hides everything (include 1), then unhides zfs', () => {
    expect(devfsShows(host(), 4, 'zfs')).toEqual({visible: true, by: 'rule 500 of ruleset 4'})
    expect(devfsShows(host(), 4, 'pf')).toEqual({visible: false, by: 'rule 100 of ruleset 1, included by rule 100 of ruleset 4'})
    expect(devfsShows(host(), 0, 'zfs')).toEqual({visible: true, by: null})
  })

  it('order matters: an unhide before the hide is undone by it', () => {
    const h = host([[10, '100 path zfs unhide\n200 include 1\n'], [11, '100 include 4\n200 path zfs hide\n']])
    expect(devfsShows(h, 10, 'zfs')).toEqual({visible: false, by: 'rule 100 of ruleset 1, included by rule 200 of ruleset 10'})
    expect(devfsShows(h, 11, 'zfs')).toEqual({visible: false, by: 'rule 200 of ruleset 11'})
  })

  it('includes go vfs.devfs.rule_depth deep: at 1, ruleset 4\'s own includes do not run from 12', () => {
    const extra: Array<[number, string]> = [[12, '100 include 4\n'], [13, '100 include 12\n']]
    expect(devfsShows(host(extra), 12, 'pf')).toEqual({visible: true, by: null})
    expect(devfsShows(host(extra, 2), 12, 'pf').visible).toBe(false)
    // 13 -> 12 -> 4: at depth 1 only 12's rules run, and it has nothing but an include.
    expect(devfsShows(host(extra, 1), 13, 'zfs')).toEqual({visible: true, by: null})
  })

  it('path patterns are fnmatch with FNM_PATHNAME; type conditions match neither zfs nor fd', () => {
    expect(matchDevPath('z*', 'zfs')).toBe(true)
    expect(matchDevPath('*', 'fd/0')).toBe(false)
    expect(matchDevPath('[a-z]fs', 'zfs')).toBe(true)
    expect(devfsShows(host([[14, '100 type disk hide\n']]), 14, 'zfs').visible).toBe(true)
  })
})

describe('devfsNeeds: which included rulesets nest must read to decide', () => {
  const only = (n: number, text: string, depth = 1): DevfsRulesets => ({depth, sets: new Map([[n, show(text)]])})

  it('none when a later rule of the ruleset decides zfs: ruleset 4 alone is enough', () => {
    expect(devfsNeeds(only(4, STOCK[3]?.[1] ?? ''), 4, 'zfs')).toEqual([])
  })

  it('the includes after the last rule that decided it, depth allowing', () => {
    expect(devfsNeeds(only(10, '100 include 1\n200 include 2\n'), 10, 'zfs')).toEqual([1, 2])
    expect(devfsNeeds(only(11, '100 include 1\n200 path zfs unhide\n300 include 5\n'), 11, 'zfs')).toEqual([5])
    expect(devfsNeeds(only(11, '100 include 1\n200 path zfs unhide\n300 include 5\n', 0), 11, 'zfs')).toEqual([])
    // Once 5 is read, its own includes count only with depth left for them.
    const r = only(11, '100 path zfs unhide\n200 include 5\n')
    r.sets.set(5, show('100 include 1\n200 path pf unhide\n'))
    expect(devfsNeeds(r, 11, 'zfs')).toEqual([])
    expect(devfsNeeds({...r, depth: 2}, 11, 'zfs')).toEqual([1])
  })
})

describe('devfsProblem: what nest refuses', () => {
  it('a delegated dataset with a ruleset that hides /dev/zfs, naming the rule and the fix', () => {
    expect(devfsProblem(policy(`${DELEGATE}devfs_ruleset = 1;\n`), host())).toEqual({
      message: 'nest.delegate needs /dev/zfs in the jail, and devfs_ruleset = 1 hides it (rule 100 of ruleset 1)',
      fix: 'add "add path zfs unhide" to the end of ruleset 1 in /etc/devfs.rules and run service devfs restart, or use devfs_ruleset = 4',
    })
    expect(devfsProblem(policy(`${DELEGATE}devfs_ruleset = 4;\n`), host())).toBeNull()
    // No devfs_ruleset: jail(8)'s mount.devfs applies ruleset 4.
    expect(devfsProblem(policy(DELEGATE), host())).toBeNull()
    expect(devfsProblem(policy(`${DELEGATE}devfs_ruleset = 0;\n`), host())).toBeNull()
  })

  it('a custom ruleset that unhides zfs after hiding all is accepted; without a dataset, hiding zfs is fine', () => {
    const h = host([[20, '100 include 1\n200 include 2\n300 path zfs unhide\n']])
    expect(devfsProblem(policy(`${DELEGATE}devfs_ruleset = 20;\n`), h)).toBeNull()
    expect(devfsProblem(policy('nest.delegate = false;\ndevfs_ruleset = 1;\n'), h)).toBeNull()
  })

  it('a ruleset with no rules on the host, which would hide nothing at all', () => {
    expect(devfsProblem(policy('devfs_ruleset = 9;\n'), host([[9, '']]))).toEqual({
      message: 'devfs_ruleset = 9 has no rules on this host (devfs rule -s 9 show prints none), so the jail\'s /dev would show every device',
      fix: 'define ruleset 9 in /etc/devfs.rules and run service devfs restart, or use devfs_ruleset = 4',
    })
  })
})
