// Policies: every preset passes the same checks a user file gets; broken files are refused
// with the file, the line and the key; FreeBSD's rules are caught before anything runs.
import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {PRESET_DIR} from '../../src/policies/load.js'
import {parsePolicy, policyProblems} from '../../src/policies/policy.js'

const parse = (text: string) => parsePolicy('mine', '/p/mine.conf', text, 'file')
const DESC = 'nest.description = "test";\n'

describe('preset policies', () => {
  const files = readdirSync(PRESET_DIR).filter((f) => f.endsWith('.conf'))

  it('ships parent, vm-parent, build-parent and leaf', () => {
    expect(files.sort()).toEqual(['build-parent.conf', 'leaf.conf', 'parent.conf', 'vm-parent.conf'])
  })

  it.each(files)('%s is valid and consistent', (f) => {
    const p = parsePolicy(f.replace('.conf', ''), path.join(PRESET_DIR, f), readFileSync(path.join(PRESET_DIR, f), 'utf8'), 'preset')._unsafeUnwrap()
    expect(p.description.length).toBeGreaterThan(80)
    expect(policyProblems(p)).toEqual([])
  })

  it('parent delegates a dataset and may hold children; leaf may not', () => {
    const read = (n: string) => parsePolicy(n, n, readFileSync(path.join(PRESET_DIR, `${n}.conf`), 'utf8'), 'preset')._unsafeUnwrap()
    expect(read('parent')).toMatchObject({delegate: true, params: {'children.max': '16', enforce_statfs: '1', 'allow.mount': true, 'allow.mount.zfs': true}})
    expect(read('leaf')).toMatchObject({delegate: false, params: {'children.max': '0', enforce_statfs: '2', securelevel: '2', 'allow.mount': false}})
    expect(read('vm-parent')).toMatchObject({raiseSecurelevel: 1, params: {'children.max': '256', 'allow.mount.linprocfs': true, 'allow.raw_sockets': true, sysvshm: 'new'}})
  })
})

describe('broken policies', () => {
  it.each([
    ['children.max = 16', 'policy /p/mine.conf: unexpected EOF'],
    [`${DESC}children.max = lots;`, 'policy /p/mine.conf line 2: children.max: non-integer value "lots"'],
    [`${DESC}children.max = 1000000;`, 'policy /p/mine.conf line 2: children.max = 1000000 is out of range 0..999999'],
    [`${DESC}enforce_statfs = 3;`, 'policy /p/mine.conf line 2: enforce_statfs = 3 is out of range 0..2'],
    [`${DESC}allow.mount.ext4;`, 'policy /p/mine.conf line 2: allow.mount.ext4 is not a jail parameter FreeBSD 14.3 knows'],
    [`${DESC}path = "/x";`, 'policy /p/mine.conf line 2: path is set per jail, not by a policy'],
    [`${DESC}exec.start = "rm -rf /";`, "policy /p/mine.conf line 2: exec.start is a jail(8) setting nest writes itself, not a policy's"],
    [`${DESC}nest.magic = 1;`, 'policy /p/mine.conf line 2: nest.magic is not a nest setting (nest.description, nest.delegate, nest.raise_securelevel, nest.needs)'],
    [`${DESC}allow.mount = maybe;`, 'policy /p/mine.conf line 2: allow.mount: unknown boolean value "maybe"'],
    [`${DESC}sysvshm = shared;`, 'policy /p/mine.conf line 2: sysvshm: unknown value "shared"'],
    [`${DESC}web { children.max = 1; }`, 'policy /p/mine.conf line 2: "web { ... }": a policy holds parameters only, not jail blocks'],
    [`${DESC}$x = 1; children.max = $x;`, 'policy /p/mine.conf line 2: $x: variables are not allowed in a policy'],
    ['children.max = 1;', 'policy /p/mine.conf: no nest.description: say in one paragraph when to use this policy'],
  ])('%j → %s', (text, message) => {
    const e = parse(text)._unsafeUnwrapErr()
    expect(e.kind).toBe('invalid-input')
    expect(e.message).toBe(message)
  })
})

describe('FreeBSD rules a policy could break', () => {
  const problems = (text: string, hostAllow?: string[]) => policyProblems(parse(DESC + text)._unsafeUnwrap(), hostAllow ? new Set(hostAllow) : undefined)

  it('mounts need allow.mount and enforce_statfs < 2', () => {
    expect(problems('allow.mount.zfs; enforce_statfs = 1;')).toEqual(['allow.mount.zfs needs allow.mount: add "allow.mount;"'])
    expect(problems('allow.mount; allow.mount.tmpfs;')).toEqual(['allow.mount.tmpfs cannot be used with enforce_statfs = 2: a jail mounts only with enforce_statfs < 2 (set enforce_statfs = 1)'])
  })

  it('a delegated dataset needs allow.mount.zfs (whether its ruleset shows /dev/zfs is the host\'s: devfs-rules.test.ts)', () => {
    expect(problems('nest.delegate; enforce_statfs = 1; allow.mount; devfs_ruleset = 6;')).toEqual([
      'nest.delegate needs allow.mount.zfs: the jail mounts its delegated dataset itself (add "allow.mount.zfs;")',
    ])
  })

  it('a grant the host does not know is named with the module to load', () => {
    expect(problems('allow.mount; enforce_statfs = 1; allow.mount.linprocfs;', ['allow.mount'])).toEqual([
      'allow.mount.linprocfs: this host cannot grant it (security.jail.param.allow.mount.linprocfs is missing; load the module: kldload linprocfs)',
    ])
  })

  it('securelevel is only ever raised', () => {
    expect(problems('securelevel = 2; nest.raise_securelevel = 1;')).toEqual(['nest.raise_securelevel = 1 is below securelevel = 2: a securelevel can only be raised'])
  })
})
