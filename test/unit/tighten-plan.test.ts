// The tighten planner on plain data (src/plan/tighten.ts): new values after the kernel's rules
// (kern_jail.c kern_jail_set), the order of audit-rules §5.4, each step's rollback (§5.6), and
// the jail.conf edits.
import {describe, expect, it} from 'vitest'

import {editConf, kernelSet, planTighten, type TightenJail} from '../../src/plan/tighten.js'

const grants = (o: Record<string, string>) => ({'allow.raw_sockets': 'true', 'allow.mount': 'true', 'allow.mount.devfs': 'true', 'allow.mount.procfs': 'false', enforce_statfs: '1', securelevel: '1', 'children.max': '16', sysvshm: 'new', ...o})
const tree: TightenJail[] = [
  {jail: 'p', path: 'p', parent: null, current: grants({'allow.mount.procfs': 'true', 'children.max': '256'}), childrenCur: 2},
  {jail: 'p.a', path: 'p/a', parent: 'p', current: grants({}), childrenCur: 0},
  {jail: 'p.b', path: 'p/b', parent: 'p', current: grants({'allow.raw_sockets': 'false', sysvshm: 'disable'}), childrenCur: 0},
]

describe('planTighten', () => {
  it('clears a flag once at the root, raises a ceiling there, lowers children.max bottom-up', () => {
    const plan = planTighten(tree, {p: {'allow.raw_sockets': 'false', 'allow.mount.procfs': 'false', enforce_statfs: '2', 'children.max': '4'}})
    expect(plan.problems).toEqual([])
    expect(plan.diffs).toEqual([
      {jail: 'p', path: 'p', changes: [
        {param: 'enforce_statfs', from: '1', to: '2', forced: false, live: 'L1'},
        {param: 'children.max', from: '256', to: '4', forced: false, live: 'L1'},
        {param: 'allow.mount.procfs', from: 'true', to: 'false', forced: false, live: 'L2'},
        {param: 'allow.raw_sockets', from: 'true', to: 'false', forced: false, live: 'L1'},
      ]},
      {jail: 'p.a', path: 'p/a', changes: [
        {param: 'enforce_statfs', from: '1', to: '2', forced: true, live: 'L1'},
        {param: 'children.max', from: '16', to: '3', forced: true, live: 'L1'},
        {param: 'allow.raw_sockets', from: 'true', to: 'false', forced: true, live: 'L1'},
      ]},
      {jail: 'p.b', path: 'p/b', changes: [
        {param: 'enforce_statfs', from: '1', to: '2', forced: true, live: 'L1'},
        {param: 'children.max', from: '16', to: '3', forced: true, live: 'L1'},
      ]},
    ])
    // One jail -m at the root for what the kernel passes down; children.max children first.
    expect(plan.steps.map((s) => s.argv.join(' '))).toEqual([
      'jail -m name=p enforce_statfs=2 allow.mount.noprocfs allow.noraw_sockets',
      'jail -m name=p.b children.max=3',
      'jail -m name=p.a children.max=3',
      'jail -m name=p children.max=4',
    ])
    expect(plan.steps.map((s) => s.live)).toEqual(['L2', 'L1', 'L1', 'L1'])
    // The rollback of the first step: the root first, then each descendant it changed, explicitly.
    expect(plan.steps[0]?.rollback).toEqual([
      ['jail', '-m', 'name=p', 'enforce_statfs=1', 'allow.mount.procfs', 'allow.raw_sockets'],
      ['jail', '-m', 'name=p.a', 'enforce_statfs=1', 'allow.raw_sockets'],
      ['jail', '-m', 'name=p.b', 'enforce_statfs=1'],
    ])
    expect(plan.steps[0]?.predicts).toEqual({
      p: {enforce_statfs: '2', 'allow.mount.procfs': 'false', 'allow.raw_sockets': 'false'},
      'p.a': {enforce_statfs: '2', 'allow.raw_sockets': 'false'},
      'p.b': {enforce_statfs: '2'},
    })
    expect(plan.rollback).toEqual([
      ['jail', '-m', 'name=p', 'enforce_statfs=1', 'children.max=256', 'allow.mount.procfs', 'allow.raw_sockets'],
      ['jail', '-m', 'name=p.a', 'enforce_statfs=1', 'children.max=16', 'allow.raw_sockets'],
      ['jail', '-m', 'name=p.b', 'enforce_statfs=1', 'children.max=16'],
    ])
    expect(plan.restart).toEqual([])
    expect(plan.expected['p.a']).toEqual(grants({'allow.raw_sockets': 'false', enforce_statfs: '2', 'children.max': '3'}))
  })

  it('a flag cleared on a child only is set on that child; a loosening goes parent first', () => {
    const plan = planTighten(tree, {p: {securelevel: '0'}, 'p.a': {'allow.mount.devfs': 'false', securelevel: '0'}})
    expect(plan.steps.map((s) => s.argv.join(' '))).toEqual(['jail -m name=p securelevel=0', 'jail -m name=p.a securelevel=0 allow.mount.nodevfs'])
  })

  it('sysv* is a restart (L3), planned on the highest jail only; a child\'s disable follows its parent', () => {
    const plan = planTighten(tree, {p: {sysvshm: 'disable'}})
    expect(plan.steps).toEqual([])
    expect(plan.restart).toEqual(['p'])
    expect(plan.diffs.map((d) => d.changes)).toEqual([[{param: 'sysvshm', from: 'new', to: 'disable', forced: false, live: 'L3'}], [{param: 'sysvshm', from: 'new', to: 'disable', forced: true, live: 'L3'}], []])
  })

  it('children.max below children.cur is a problem, said before anything', () => {
    expect(planTighten(tree, {p: {'children.max': '1'}}).problems).toEqual(['p: children.max 1 is below its 2 child jail(s) (children.cur)'])
  })

  it('a subtree below a parent outside the plan is bounded by that parent; what grants more is said', () => {
    const sub = tree.slice(1, 2).map((j) => ({...j, parent: null}))
    const plan = planTighten(sub, {'p.a': {'allow.mount.procfs': 'true', 'children.max': '99', securelevel: '0'}}, grants({'allow.mount.procfs': 'false', 'children.max': '8', securelevel: '1'}))
    expect(plan.diffs[0]?.changes).toEqual([{param: 'children.max', from: '16', to: '7', forced: true, live: 'L1'}])
    expect(plan.loosens).toEqual([])
    expect(planTighten(tree, {p: {'allow.mount.procfs': 'true', securelevel: '0'}}).loosens).toEqual(['p: securelevel 1 → 0'])
  })

  it('kernelSet: what kern_jail_set does below the jail set', () => {
    const s = kernelSet(tree, Object.fromEntries(tree.map((j) => [j.jail, j.current])), 'p', {'children.max': '2', 'allow.mount': 'false'})
    expect([s['p']?.['children.max'], s['p.a']?.['children.max'], s['p.a']?.['allow.mount'], s['p.b']?.['allow.mount']]).toEqual(['2', '1', 'false', 'false'])
  })
})

describe('editConf', () => {
  const conf = [
    '# Written by nest for p (policy vm-parent, release 14.3-RELEASE).',
    '',
    'p {',
    '\tpath = "/nest/jails/p/root";',
    '\tchildren.max = "256";',
    '\tsecurelevel = "-1";',
    '\tallow.mount;',
    '\tallow.raw_sockets;',
    '\tmount = "/a /b nullfs ro 0 0";',
    '\texec.poststart = "/usr/sbin/jail -m name=p securelevel=1";',
    '}',
    '',
  ].join('\n')

  it('replaces each statement in place, adds a missing one before the mounts and hooks, raises securelevel in the poststart hook', () => {
    expect(editConf(conf, 'p', {'children.max': '4', 'allow.raw_sockets': 'false', 'allow.mount.procfs': 'false', securelevel: '2'})._unsafeUnwrap()).toBe([
      '# Written by nest for p (policy vm-parent, release 14.3-RELEASE).',
      '',
      'p {',
      '\tpath = "/nest/jails/p/root";',
      '\tchildren.max = "4";',
      '\tallow.mount.noprocfs;',
      '\tallow.noraw_sockets;',
      '\tsecurelevel = "-1";',
      '\tallow.mount;',
      '\tmount = "/a /b nullfs ro 0 0";',
      '\texec.poststart = "/usr/sbin/jail -m name=p securelevel=2";',
      '}',
      '',
    ].join('\n'))
  })

  it('a block that is not there is an error', () => {
    expect(editConf(conf, 'q', {'children.max': '4'})._unsafeUnwrapErr()).toBe('no block q')
  })
})
