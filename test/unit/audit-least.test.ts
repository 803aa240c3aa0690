// The least set of a tree (audit-rules §2.3): bottom-up needs, top-down clamps. The checker's
// tree (§4 T11: the vm-parent preset with two children) and §2.4's worked example.
import {describe, expect, it} from 'vitest'

import {analyseTree} from '../../src/audit/analysis.js'
import {leastParams} from '../../src/audit/least.js'
import {setParams, treeFacts} from '../helpers/audit-facts.js'

const off = (...flags: string[]): Record<string, string> => Object.fromEntries(flags.map((x) => [`allow.${x}`, 'false']))
const on = (...flags: string[]): Record<string, string> => Object.fromEntries(flags.map((x) => [`allow.${x}`, 'true']))
const DEFAULTS = ['reserved_ports', 'set_hostname', 'suser', 'unprivileged_proc_debug']
const NEVER = ['adjtime', 'extattr', 'mlock', 'mount.fusefs', 'mount.linsysfs', 'nfsd', 'quotas', 'read_msgbuf', 'settime', 'vmm']

describe('least set', () => {
  it('T11: p keeps its children\'s lifecycle (devfs, nullfs, zfs mounts, enforce_statfs 1, children.max for two plus headroom); a and b keep only the defaults', () => {
    const f = treeFacts()
    const least = leastParams(analyseTree(f), new Set(['p', 'p.a', 'p.b']))
    const child = {
      ...on(...DEFAULTS), ...off(...NEVER, 'chflags', 'mount', 'mount.devfs', 'mount.fdescfs', 'mount.linprocfs', 'mount.nullfs', 'mount.procfs', 'mount.tmpfs', 'mount.zfs', 'raw_sockets', 'socket_af', 'sysvipc'),
      'children.max': '0', enforce_statfs: '2', securelevel: '1', devfs_ruleset: '4', sysvmsg: 'disable', sysvsem: 'disable', sysvshm: 'disable',
    }
    expect(least).toEqual([
      {jail: 'p', params: {
        ...on(...DEFAULTS, 'mount', 'mount.devfs', 'mount.nullfs', 'mount.zfs'),
        ...off(...NEVER, 'chflags', 'mount.fdescfs', 'mount.linprocfs', 'mount.procfs', 'mount.tmpfs', 'raw_sockets', 'socket_af', 'sysvipc'),
        'children.max': '4', enforce_statfs: '1', securelevel: '1', devfs_ruleset: '4', sysvmsg: 'disable', sysvsem: 'disable', sysvshm: 'disable',
      }},
      {jail: 'p.a', params: child},
      {jail: 'p.b', params: child},
    ])
  })

  it('§2.4: web keeps the mounts for db and cache and sysvshm=new for db; raw sockets and allow.sysvipc go; children.max 256 becomes 4', () => {
    const f = treeFacts({p: 'web', a: 'db', b: 'cache'})
    f.host.racct = true
    setParams(f, 'web', {sysvmsg: 'inherit', sysvsem: 'inherit', sysvshm: 'inherit'})
    setParams(f, 'web.db', {sysvshm: 'new'})
    // Accounting is hierarchical: web's totals include db's segment (rctl -u jail:web).
    f.rctl = {web: {nshm: 1, shmsize: 134217728, memorylocked: 0}, 'web.db': {nshm: 1, shmsize: 134217728, memorylocked: 0}, 'web.cache': {}}
    const least = new Map(leastParams(analyseTree(f), new Set(['web', 'web.db', 'web.cache'])).map((l) => [l.jail, l.params]))
    const pick = (j: string, keys: string[]): Record<string, string | undefined> => Object.fromEntries(keys.map((k) => [k, least.get(j)?.[k]]))
    const keys = ['allow.raw_sockets', 'allow.sysvipc', 'allow.mount.devfs', 'allow.mount.zfs', 'enforce_statfs', 'children.max', 'sysvmsg', 'sysvsem', 'sysvshm']
    expect(pick('web', keys)).toEqual({'allow.raw_sockets': 'false', 'allow.sysvipc': 'false', 'allow.mount.devfs': 'true', 'allow.mount.zfs': 'true', enforce_statfs: '1', 'children.max': '4', sysvmsg: 'disable', sysvsem: 'disable', sysvshm: 'new'})
    expect(pick('web.db', keys)).toEqual({'allow.raw_sockets': 'false', 'allow.sysvipc': 'false', 'allow.mount.devfs': 'false', 'allow.mount.zfs': 'false', enforce_statfs: '2', 'children.max': '0', sysvmsg: 'disable', sysvsem: 'disable', sysvshm: 'new'})
    expect(pick('web.cache', ['sysvshm', 'children.max'])).toEqual({sysvshm: 'disable', 'children.max': '0'})
  })

  it('a flag a child needs stays on its parent; one the parent drops goes below too', () => {
    const f = treeFacts()
    setParams(f, 'p.a', {'allow.raw_sockets': true, 'allow.chflags': true})
    f.nest['p.a']!.declared = ['allow.raw_sockets']
    const least = new Map(leastParams(analyseTree(f), new Set(['p', 'p.a'])).map((l) => [l.jail, l.params]))
    expect([least.get('p')?.['allow.raw_sockets'], least.get('p.a')?.['allow.raw_sockets']]).toEqual(['true', 'true'])
    expect([least.get('p')?.['allow.chflags'], least.get('p.a')?.['allow.chflags']]).toEqual(['false', 'false'])
  })

  it('a child whose use is unknown keeps the flag, and so does its parent; a lowered securelevel rises to 2 outside a window', () => {
    const f = treeFacts()
    f.nest['p.a']!.lifecycle = null
    f.nest['p']!.lifecycle = null
    setParams(f, 'p.b', {securelevel: '0'})
    const least = new Map(leastParams(analyseTree(f), new Set(['p', 'p.a', 'p.b'])).map((l) => [l.jail, l.params]))
    expect([least.get('p')?.['allow.mount.tmpfs'], least.get('p.a')?.['allow.mount.tmpfs'], least.get('p.a')?.['enforce_statfs']]).toEqual(['true', 'true', '1'])
    expect([least.get('p.b')?.['securelevel'], least.get('p')?.['securelevel']]).toEqual(['2', '1'])
  })

  it('a maintenance window keeps chflags and the lowered securelevel (on its parent too: a child cannot be below it); a declared children.max is kept', () => {
    const f = treeFacts()
    setParams(f, 'p', {securelevel: '-1'})
    setParams(f, 'p.a', {securelevel: '-1'})
    f.nest['p.a'] = {...f.nest['p.a']!, phase: 'maintenance', declared: ['children.max=3']}
    setParams(f, 'p.a', {'allow.chflags': true})
    const least = new Map(leastParams(analyseTree(f), new Set(['p', 'p.a'])).map((l) => [l.jail, l.params]))
    expect([least.get('p.a')?.['allow.chflags'], least.get('p.a')?.['securelevel'], least.get('p.a')?.['children.max']]).toEqual(['true', '-1', '3'])
    expect([least.get('p')?.['allow.chflags'], least.get('p')?.['securelevel']]).toEqual(['true', '-1'])
  })

  it('children.max stays strictly below the parent\'s least value, and a top-level devfs_ruleset 0 becomes 4 (copied below)', () => {
    const f = treeFacts()
    f.nest['p.a']!.declared = ['children.max=40']
    setParams(f, 'p', {devfs_ruleset: '0'})
    setParams(f, 'p.a', {devfs_ruleset: '0'})
    const least = new Map(leastParams(analyseTree(f), new Set(['p', 'p.a'])).map((l) => [l.jail, l.params]))
    expect([least.get('p')?.['children.max'], least.get('p.a')?.['children.max']]).toEqual(['41', '16'])
    expect([least.get('p')?.['devfs_ruleset'], least.get('p.a')?.['devfs_ruleset']]).toEqual(['4', '4'])
  })
})
