// FreeBSD's nesting rules as nest checks them before anything runs (semantics §1.4, §2.2–§2.9).
import {describe, expect, it} from 'vitest'

import {checkNesting, type Level, selfLevel} from '../../src/policies/nesting.js'
import type {Policy} from '../../src/policies/policy.js'

const web: Level = {path: 'web', jail: 'web', params: {
  'children.max': 16, 'children.cur': 2, enforce_statfs: 1, securelevel: 1, devfs_ruleset: 4,
  'allow.mount': true, 'allow.mount.devfs': true, 'allow.mount.zfs': true, 'allow.mount.nullfs': true, 'allow.raw_sockets': false,
  sysvshm: 'disable', ip4: 'new', 'ip4.addr': ['192.0.2.10', '192.0.2.11'],
}}
const policy = (params: Policy['params']): Policy => ({name: 'p', file: 'p.conf', origin: 'file', description: '', delegate: false, raiseSecurelevel: null, params})
const check = (params: Policy['params'], more: Partial<Parameters<typeof checkNesting>[0]> = {}) =>
  checkNesting({path: 'web/db', parent: web, ancestors: [web], policy: policy(params), ip4: [], ip6: [], ...more})
const refusal = (r: ReturnType<typeof check>): string => (r.isErr() ? `${r.error.message} | ${'fix' in r.error ? r.error.fix : ''}` : 'accepted')

describe('checkNesting', () => {
  it('accepts a leaf under web, and fits a policy children.max below the parent\'s', () => {
    const r = check({'children.max': '16', enforce_statfs: '1'})
    expect(r.isOk() && r.value.policy.params['children.max']).toBe('15')
    expect(r.isOk() && r.value.notes).toEqual(['web/db: children.max 15 (policy p says 16; below web it must be less than 16)'])
  })

  it('refuses a lower securelevel or enforce_statfs, naming both values', () => {
    expect(refusal(check({securelevel: '0'}))).toBe('web/db: securelevel 0 is lower than web\'s 1 | use securelevel 1 or more in the policy')
    expect(refusal(check({enforce_statfs: '0'}))).toBe('web/db: enforce_statfs 0 is lower than web\'s 1 | use enforce_statfs 1 or more in the policy')
  })

  it('refuses SysV IPC the parent disables, and addresses outside the parent\'s', () => {
    expect(refusal(check({sysvshm: 'new'}))).toBe('web/db: sysvshm=new but web has sysvshm=disable | use sysvshm=disable, or give web sysvshm=new first')
    expect(refusal(check({}, {ip4: ['192.0.2.99']}))).toBe('web/db: ip4.addr 192.0.2.99 is not one of web\'s (192.0.2.10, 192.0.2.11): FreeBSD gives a child only addresses of a parent without a network stack of its own | use addresses of web, or leave --ip4 out to inherit them')
    expect(check({}, {ip4: ['192.0.2.11']}).isOk()).toBe(true)
  })

  it('refuses an allow flag the parent lacks, except unprivileged_proc_debug', () => {
    expect(refusal(check({'allow.raw_sockets': true}))).toMatch(/^web\/db: allow\.raw_sockets is asked by policy p but web does not have it/)
    expect(check({'allow.unprivileged_proc_debug': true}).isOk()).toBe(true)
  })

  it('refuses a parent that cannot mount what jail(8) mounts for a child', () => {
    const noZfs: Level = {...web, params: {...web.params, 'allow.mount.zfs': false}}
    expect(refusal(check({}, {parent: noZfs, ancestors: [noZfs]}))).toMatch(/^web\/db: web cannot mount zfs for its children/)
    // Children in directories: no ZFS mount, devfs still.
    expect(check({}, {parent: noZfs, ancestors: [noZfs], inDirectory: true}).isOk()).toBe(true)
    const noDevfs: Level = {...noZfs, params: {...noZfs.params, 'allow.mount.devfs': false}}
    expect(refusal(check({}, {parent: noDevfs, ancestors: [noDevfs], inDirectory: true}))).toMatch(/^web\/db: web cannot mount devfs for its children/)
  })

  it('counts the whole tree against every ancestor', () => {
    const top: Level = {path: 'top', jail: 'top', params: {'children.max': 3, 'children.cur': 3}}
    expect(refusal(check({}, {ancestors: [web, top]}))).toBe('web/db: top is full: children.cur 3 of children.max 3 (every jail below top counts) | raise it by 1 (jail -m name=top children.max=4, and in its jail.conf), or destroy a jail below it')
  })

  it('gives a child the parent\'s devfs ruleset', () => {
    const r = check({devfs_ruleset: '5'})
    expect(r.isOk() && r.value.policy.params['devfs_ruleset']).toBe('4')
  })

  it('inside a jail, checks what its own sysctls say and skips what they do not', () => {
    const me = selfLevel(new Map([['security.jail.children.max', '4'], ['security.jail.children.cur', '1'], ['security.jail.enforce_statfs', '1'], ['security.jail.mount_allowed', '1'],
      ['security.jail.mount_devfs_allowed', '1'], ['security.jail.mount_zfs_allowed', '1'], ['kern.securelevel', '-1'], ['security.jail.devfs_ruleset', '4']]), 'this jail')
    const r = checkNesting({path: 'db', parent: me, ancestors: [me], policy: policy({'allow.raw_sockets': true}), ip4: [], ip6: []})
    expect(r.isOk()).toBe(true)
  })
})
