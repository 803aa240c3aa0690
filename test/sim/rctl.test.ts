// rctl(8) on the simulated host (usr.bin/rctl/rctl.c, sys/kern/kern_rctl.c, kern_racct.c,
// kern_jail.c prison_racct_*), kern.racct.enable as a loader tunable (sbin/sysctl/sysctl.c),
// and `nest sim racct on|off`.
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {makeSim, type TestSim} from '../helpers/sim.js'
import {expandNumber, humanize} from '../../src/sim/tools/rctl.js'

let sim: TestSim
beforeEach(async () => {
  sim = await makeSim()
})
afterEach(() => sim.cleanup())

const DISABLED = 'rctl: RACCT/RCTL present, but disabled; enable using kern.racct.enable=1 tunable\n'

async function racctOn(): Promise<void> {
  const r = await sim.nest('sim', 'racct', 'on')
  expect(r.code).toBe(0)
}

async function jail(name: string): Promise<void> {
  sim.mkdirs(`/jails/${name}`)
  const r = await sim.run('jail', '-c', `name=${name}`, `path=/jails/${name}`, 'persist', 'children.max=4')
  expect(r.stderr).toBe('')
}

describe('kern.racct.enable: a loader tunable, 0 as GENERIC boots', () => {
  it('reads 0; sysctl cannot set it (read only tunable, exit 1); every rctl call says RACCT is disabled, exit 1', async () => {
    expect(await sim.run('sysctl', 'kern.racct.enable')).toEqual({code: 0, stdout: 'kern.racct.enable: 0\n', stderr: ''})
    expect(await sim.run('sysctl', 'kern.racct.enable=1')).toEqual({code: 1, stdout: '', stderr: "sysctl: oid 'kern.racct.enable' is a read only tunable\nsysctl: Tunable values are set in /boot/loader.conf\n"})
    for (const argv of [[], ['-a', 'jail:web:memoryuse:deny=1g'], ['-r', 'jail:web'], ['-u', 'jail:web'], ['jail:web']]) {
      expect(await sim.run('rctl', ...argv)).toEqual({code: 1, stdout: '', stderr: DISABLED})
    }
  })

  it('nest sim racct on: the tunable reads 1; off again: disabled, rules gone', async () => {
    await racctOn()
    expect((await sim.run('sysctl', '-n', 'kern.racct.enable')).stdout).toBe('1\n')
    expect((await sim.run('rctl', '-a', 'jail:web:memoryuse:deny=1g')).code).toBe(0)
    expect((await sim.nest('sim', 'racct', 'off')).code).toBe(0)
    expect(await sim.run('rctl')).toEqual({code: 1, stdout: '', stderr: DISABLED})
  })
})

describe('rctl with RACCT on', () => {
  beforeEach(racctOn)

  it('-a keeps the rule expanded (expand_number: powers of 1024, bare number = bytes); listing prints it; -h humanizes (humanize_number)', async () => {
    expect(await sim.run('rctl', '-a', 'jail:web:memoryuse:deny=2G', 'jail:web:pcpu:deny=200', 'j:web:maxproc:log=100/process')).toEqual({code: 0, stdout: '', stderr: ''})
    // A jail that does not exist yet: accepted (prison_racct_find makes its entry).
    expect(sim.kernel().jails).toEqual([])
    expect(await sim.run('rctl')).toEqual({code: 0, stderr: '', stdout: 'jail:web:maxproc:log=100/process\njail:web:pcpu:deny=200\njail:web:memoryuse:deny=2147483648\n'})
    expect((await sim.run('rctl', '-h', 'jail:web:memoryuse')).stdout).toBe('jail:web:memoryuse:deny=2048M\n')
    expect((await sim.run('rctl', 'jail:web:pcpu')).stdout).toBe('jail:web:pcpu:deny=200\n')
    expect((await sim.run('rctl', 'jail:other')).stdout).toBe('')
  })

  it('a deny rule replaces one that differs only in amount; an exact duplicate is not added twice', async () => {
    await sim.run('rctl', '-a', 'jail:web:memoryuse:deny=1g')
    await sim.run('rctl', '-a', 'jail:web:memoryuse:deny=512m')
    await sim.run('rctl', '-a', 'jail:web:memoryuse:log=1g', 'jail:web:memoryuse:log=1g')
    expect((await sim.run('rctl')).stdout).toBe('jail:web:memoryuse:log=1073741824\njail:web:memoryuse:deny=536870912\n')
  })

  it('listing order: the prison_raccts newest first (a jail gets one when made), each one\'s rules newest first', async () => {
    await jail('web')
    await sim.run('rctl', '-a', 'jail:db:memoryuse:deny=1g')
    await sim.run('rctl', '-a', 'jail:web:memoryuse:deny=1g')
    expect((await sim.run('rctl')).stdout).toBe('jail:db:memoryuse:deny=1073741824\njail:web:memoryuse:deny=1073741824\n')
  })

  it('nested jails: the subject is the full dotted name; rules outlive jail -r (the rule holds the prison_racct)', async () => {
    await jail('web')
    sim.mkdirs('/jails/web/db')
    const web = sim.jid('web') as number
    expect((await sim.runIn(web, 'jail', '-c', 'name=db', 'path=/db', 'persist')).code).toBe(0)
    expect((await sim.run('rctl', '-a', 'jail:web.db:memoryuse:deny=256m')).code).toBe(0)
    expect((await sim.run('jail', '-r', 'web')).code).toBe(0)
    expect((await sim.run('rctl')).stdout).toBe('jail:web.db:memoryuse:deny=268435456\n')
  })

  it('-r removes every rule matching the filter; none matching is ESRCH ("No such process"), exit 1', async () => {
    await sim.run('rctl', '-a', 'jail:web:memoryuse:deny=1g', 'jail:web:pcpu:deny=100', 'jail:db:pcpu:deny=50')
    expect(await sim.run('rctl', '-r', 'jail:web:memoryuse:deny=1g')).toEqual({code: 0, stdout: '', stderr: ''})
    expect(await sim.run('rctl', '-r', 'jail:web')).toEqual({code: 0, stdout: '', stderr: ''})
    expect((await sim.run('rctl')).stdout).toBe('jail:db:pcpu:deny=50\n')
    expect(await sim.run('rctl', '-r', 'jail:web')).toEqual({code: 1, stdout: '', stderr: "rctl: failed to remove rule 'jail:web': No such process\n"})
  })

  it('errors: a bad amount (malformed rule), unknown resource or action (EINVAL), deny of an undeniable resource (EOPNOTSUPP), no subject; the exit status counts the failures', async () => {
    expect(await sim.run('rctl', '-a', 'jail:web:memoryuse:deny=2x', 'jail:web:nosuch:deny=1', 'jail:web:memoryuse:shout=1', 'jail:web:cputime:deny=10', 'web', 'jail:web:memoryuse:deny')).toEqual({
      code: 6,
      stdout: '',
      stderr:
        "rctl: malformed rule 'jail:web:memoryuse:deny=2x': invalid numeric value '2x'\n" +
        "rctl: failed to add rule 'jail:web:nosuch:deny=1': Invalid argument\n" +
        "rctl: failed to add rule 'jail:web:memoryuse:shout=1': Invalid argument\n" +
        "rctl: failed to add rule 'jail:web:cputime:deny=10': Operation not supported\n" +
        "rctl: malformed rule 'web': missing subject\n" +
        "rctl: failed to add rule 'jail:web:memoryuse:deny': Invalid argument\n",
    })
    expect(await sim.run('rctl', '-a', '-r', 'jail:web')).toEqual({code: 1, stdout: '', stderr: 'rctl: at most one of -a, -l, -r, or -u may be specified\n'})
    expect(await sim.run('rctl', '-x')).toEqual({code: 1, stdout: '', stderr: 'usage: rctl [ -h ] [-a rule | -l filter | -r filter | -u filter | filter]\n'})
    expect(await sim.run('rctl', '-a')).toEqual({code: 1, stdout: '', stderr: 'usage: rctl [ -h ] [-a rule | -l filter | -r filter | -u filter | filter]\n'})
  })

  it('-u: every resource of the jail (rctl_racct_to_sbuf), the simulated jail using none; -l of a jail is EOPNOTSUPP', async () => {
    await jail('web')
    const r = await sim.run('rctl', '-u', 'jail:web')
    expect(r.code).toBe(0)
    expect(r.stdout.split('\n').slice(0, 5)).toEqual(['cputime=0', 'datasize=0', 'stacksize=0', 'coredumpsize=0', 'memoryuse=0'])
    expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(25)
    expect(await sim.run('rctl', '-l', 'jail:web')).toEqual({code: 1, stdout: '', stderr: "rctl: failed to get limits for 'jail:web': Operation not supported\n"})
  })

  it('inside a jail: priv_check PRIV_RCTL_* fails, EPERM; plain `rctl` still exits 0', async () => {
    await jail('web')
    const web = sim.jid('web') as number
    expect(await sim.runIn(web, 'rctl', '-a', 'jail:web:memoryuse:deny=1g')).toEqual({code: 1, stdout: '', stderr: "rctl: failed to add rule 'jail:web:memoryuse:deny=1g': Operation not permitted\n"})
    expect(await sim.runIn(web, 'rctl')).toEqual({code: 0, stdout: '', stderr: "rctl: failed to show rules for '::': Operation not permitted\n"})
  })

  it('user, process and login class subjects are refused as not simulated', async () => {
    const r = await sim.run('rctl', '-a', 'user:root:maxproc:deny=10')
    expect(r.code).toBe(69)
    expect(r.stderr).toBe('sim: rctl: rctl subject user:root (only jail subjects are simulated): not simulated\n')
  })

  it('a fault scripted on rctl fails the call and changes nothing', async () => {
    expect((await sim.nest('sim', 'fault', 'rctl', '--errno', 'EPERM')).code).toBe(0)
    const r = await sim.run('rctl', '-a', 'jail:web:memoryuse:deny=1g')
    expect(r.code).not.toBe(0)
    expect(sim.kernel().racct.rules).toEqual([])
  })
})

describe('expand_number(3) and humanize_number(3) as rctl uses them', () => {
  it('expand_number: units b k m g t p e (any case, an optional b after one), base 0; anything else refused', () => {
    expect(expandNumber('2147483648')).toBe(2147483648n)
    expect(expandNumber('2G')).toBe(2147483648n)
    expect(expandNumber('512mb')).toBe(536870912n)
    expect(expandNumber('0x10k')).toBe(16384n)
    expect(expandNumber('1e')).toBe(2n ** 60n)
    expect(expandNumber('16e')).toBeUndefined()
    expect(expandNumber('2x')).toBeUndefined()
    expect(expandNumber('1bb')).toBeUndefined()
    expect(expandNumber('')).toBeUndefined()
  })

  it('humanize_number into 6 bytes: four digits at most, one decimal below 10', () => {
    expect(humanize(0n)).toBe('0')
    expect(humanize(200n)).toBe('200')
    expect(humanize(9999n)).toBe('9999')
    expect(humanize(10_000n)).toBe('9.8K')
    expect(humanize(2147483648n)).toBe('2048M')
    expect(humanize(268435456n)).toBe('256M')
    expect(humanize(10n * 2n ** 40n)).toBe('10T')
  })
})
