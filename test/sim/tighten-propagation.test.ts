// What `nest tighten` relies on the kernel for (audit-rules §2.1), as the simulator's jail -m
// does it from the host on a running tree t > t.u > t.u.v (sys/kern/kern_jail.c kern_jail_set):
// "Clear allow bits in all children" (ch_allow & ~pr_allow cleared below, never set again);
// enforce_statfs and securelevel "Pass this restriction on to the children" (raised below);
// children.max "Set all child jails to under this limit" (childmax - level, at least 0); and a
// child's value checked against its parent's (EPERM), so a re-grant goes parent first.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {makeSim, type TestSim} from '../helpers/sim.js'

let sim: TestSim
const jls = async (...params: string[]): Promise<string> => (await sim.run('jls', '-n', 'name', ...params)).stdout

beforeAll(async () => {
  sim = await makeSim()
  for (const args of [
    ['name=t', 'children.max=10', 'enforce_statfs=0', 'securelevel=-1', 'allow.raw_sockets', 'allow.mount', 'allow.mount.tmpfs'],
    ['name=t.u', 'children.max=5', 'enforce_statfs=0', 'allow.raw_sockets', 'allow.mount', 'allow.mount.tmpfs'],
    ['name=t.u.v', 'children.max=3', 'allow.raw_sockets'],
  ]) {
    const r = await sim.run('jail', '-c', 'path=/', 'persist', ...args)
    expect(r.code, r.stderr).toBe(0)
  }
})
afterAll(() => sim.cleanup())

describe('jail -m on a parent, as kern_jail.c propagates it', () => {
  it('clears a flag below at once, raises the ceilings below, clamps children.max by depth', async () => {
    const r = await sim.run('jail', '-m', 'name=t', 'allow.noraw_sockets', 'enforce_statfs=1', 'securelevel=2', 'children.max=4')
    expect(r.code, r.stderr).toBe(0)
    expect(await jls('children.max', 'enforce_statfs', 'securelevel', 'allow.raw_sockets')).toBe([
      'name=t children.max=4 enforce_statfs=1 securelevel=2 allow.noraw_sockets',
      'name=t.u children.max=3 enforce_statfs=1 securelevel=2 allow.noraw_sockets',
      // t.u.v had enforce_statfs 2 already (jail(8)'s default): a raise never lowers it.
      'name=t.u.v children.max=2 enforce_statfs=2 securelevel=2 allow.noraw_sockets',
      '',
    ].join('\n'))
  })

  it('a flag set again on the parent is not set again below: each descendant is re-granted, parent first', async () => {
    expect((await sim.run('jail', '-m', 'name=t', 'allow.raw_sockets')).code).toBe(0)
    expect(await jls('allow.raw_sockets')).toBe('name=t allow.raw_sockets\nname=t.u allow.noraw_sockets\nname=t.u.v allow.noraw_sockets\n')
    // The grandchild first is refused: its parent lacks the flag.
    const early = await sim.run('jail', '-m', 'name=t.u.v', 'allow.raw_sockets')
    expect(early.code).toBe(1)
    expect(early.stderr).toBe('jail: jail_set: Operation not permitted\n')
    expect((await sim.run('jail', '-m', 'name=t.u', 'allow.raw_sockets')).code).toBe(0)
    expect((await sim.run('jail', '-m', 'name=t.u.v', 'allow.raw_sockets')).code).toBe(0)
    expect(await jls('allow.raw_sockets')).toBe('name=t allow.raw_sockets\nname=t.u allow.raw_sockets\nname=t.u.v allow.raw_sockets\n')
  })

  it('a child below its parent\'s enforce_statfs, or with a children.max not below its parent\'s, is refused', async () => {
    for (const arg of [['name=t.u', 'enforce_statfs=0'], ['name=t.u.v', 'children.max=3'], ['name=t.u', 'securelevel=1']]) {
      const r = await sim.run('jail', '-m', ...arg)
      expect(r.code, arg.join(' ')).toBe(1)
      expect(r.stderr).toBe('jail: jail_set: Operation not permitted\n')
    }
    // Lowered top-down (the rollback's order), each value at least its new parent's.
    for (const arg of [['name=t', 'enforce_statfs=0', 'children.max=10'], ['name=t.u', 'enforce_statfs=0', 'children.max=5'], ['name=t.u.v', 'children.max=3']]) {
      const r = await sim.run('jail', '-m', ...arg)
      expect(r.code, `${arg.join(' ')}: ${r.stderr}`).toBe(0)
    }
    expect(await jls('children.max', 'enforce_statfs')).toBe('name=t children.max=10 enforce_statfs=0\nname=t.u children.max=5 enforce_statfs=0\nname=t.u.v children.max=3 enforce_statfs=2\n')
  })
})
