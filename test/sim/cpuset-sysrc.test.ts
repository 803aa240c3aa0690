// sysrc(8) (usr.sbin/sysrc/sysrc, sysrc.subr; the cases of its ATF tests,
// usr.sbin/sysrc/tests/sysrc_test.sh) and cpuset(1) (usr.bin/cpuset/cpuset.c) on the simulated host.
import {readFileSync, writeFileSync} from 'node:fs'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {makeSim, type TestSim} from '../helpers/sim.js'
import {ifsSplit, sysrcAppend, sysrcRemove} from '../../src/sim/tools/sysrc.js'
import {sysrcSetLine} from '../../src/domain/rcconf.js'

let sim: TestSim
beforeEach(async () => {
  sim = await makeSim()
})
afterEach(() => sim.cleanup())

const CONF = '/etc/sysrc_test.conf'
const read = (p: string): string => readFileSync(sim.fs(p), 'utf8')
const write = (p: string, text: string): void => writeFileSync(sim.fs(p), text)
const sysrc = (...args: string[]) => sim.run('sysrc', '-f', CONF, ...args)

describe('sysrc (the ATF cases of sysrc_test.sh)', () => {
  it('check_variable: NAME: value; an unknown one on stderr, exit 1', async () => {
    write(CONF, 'test_enable="NO"\ntest_list="item1 item2"\ntest2_list=""\n')
    expect(await sysrc('test_enable')).toEqual({code: 0, stdout: 'test_enable: NO\n', stderr: ''})
    expect(await sysrc('test2_list')).toEqual({code: 0, stdout: 'test2_list: \n', stderr: ''})
    expect(await sysrc('test_enable', 'test_list')).toEqual({code: 0, stdout: 'test_enable: NO\ntest_list: item1 item2\n', stderr: ''})
    expect(await sysrc('noexist')).toEqual({code: 1, stdout: '', stderr: "sysrc: unknown variable 'noexist'\n"})
    expect(await sysrc('test_enable', 'noexist')).toEqual({code: 1, stdout: 'test_enable: NO\n', stderr: "sysrc: unknown variable 'noexist'\n"})
    expect(await sysrc('-n', 'test_list')).toEqual({code: 0, stdout: 'item1 item2\n', stderr: ''})
    expect(await sysrc('-e', 'test_list')).toEqual({code: 0, stdout: 'test_list="item1 item2"\n', stderr: ''})
    expect(await sysrc('-i', 'noexist')).toEqual({code: 1, stdout: '', stderr: ''})
  })

  it('set_variable: NAME:  -> VALUE, the file made, then edited in place', async () => {
    expect(await sysrc('test_enable=YES')).toEqual({code: 0, stdout: 'test_enable:  -> YES\n', stderr: ''})
    expect(read(CONF)).toBe('test_enable="YES"\n')
    expect((await sysrc('test_enable=YES')).stdout).toBe('test_enable: YES -> YES\n')
    expect((await sysrc('test_enable=NO')).stdout).toBe('test_enable: YES -> NO\n')
    expect(read(CONF)).toBe('test_enable="NO"\n')
    expect((await sysrc('test2_enable=')).stdout).toBe('test2_enable:  -> \n')
    expect(read(CONF)).toBe('test_enable="NO"\ntest2_enable=""\n')
  })

  it('remove_variable_x_flag: -x removes every assignment; unknown, exit 1', async () => {
    write(CONF, 'test1_enable="YES"\ntest2_enable="NO"\ntest3_enable=""\n')
    expect(await sysrc('-x', 'test1_enable')).toEqual({code: 0, stdout: '', stderr: ''})
    expect(read(CONF)).toBe('test2_enable="NO"\ntest3_enable=""\n')
    expect((await sysrc('-x', 'test2_enable', 'test3_enable')).code).toBe(0)
    expect(read(CONF)).toBe('')
    expect(await sysrc('-x', 'noexist')).toEqual({code: 1, stdout: '', stderr: "sysrc: unknown variable 'noexist'\n"})
  })

  it('append_list and subtract_list: += adds what is missing, -= drops; a missing variable becomes empty', async () => {
    expect((await sysrc('test_list+=item1')).stdout).toBe('test_list:  -> item1\n')
    expect((await sysrc('test_list+=item1')).stdout).toBe('test_list: item1 -> item1\n')
    expect((await sysrc('test_list+=item2')).stdout).toBe('test_list: item1 -> item1 item2\n')
    expect(read(CONF)).toBe('test_list="item1 item2"\n')
    expect((await sysrc('test_list-=item2')).stdout).toBe('test_list: item1 item2 -> item1\n')
    expect((await sysrc('test_list-=item1')).stdout).toBe('test_list: item1 -> \n')
    expect((await sysrc('test_list-=item3')).stdout).toBe('test_list:  -> \n')
    expect((await sysrc('test2_list-=item1')).stdout).toBe('test2_list:  -> \n')
    expect(read(CONF)).toBe('test_list=""\ntest2_list=""\n')
  })

  it('multiple_operations: each argument in turn, the status 1 if one failed', async () => {
    write(CONF, 'test1_enable="YES"\ntest1_list="item1"\n')
    expect(await sysrc('test1_enable', 'test1_enable=NO', 'noexist', 'test2_enable=YES', 'test1_list-=item1', 'test2_list+=item3')).toEqual({
      code: 1,
      stdout: 'test1_enable: YES\ntest1_enable: YES -> NO\ntest2_enable:  -> YES\ntest1_list: item1 -> \ntest2_list:  -> item3\n',
      stderr: "sysrc: unknown variable 'noexist'\n",
    })
    expect(read(CONF)).toBe('test1_enable="NO"\ntest1_list=""\ntest2_enable="YES"\ntest2_list="item3"\n')
  })

  it('c_flag: -c says by its status whether it is set (to that value), prints nothing', async () => {
    write(CONF, 'test_enable="NO"\ntest_list="item1 item2"\n')
    expect(await sysrc('-c', 'test_enable', 'test_list')).toEqual({code: 0, stdout: '', stderr: ''})
    expect(await sysrc('-c', 'noexist1', 'noexist2')).toEqual({code: 1, stdout: '', stderr: "sysrc: unknown variable 'noexist1'\nsysrc: unknown variable 'noexist2'\n"})
    expect((await sysrc('-c', 'test_enable=NO')).code).toBe(0)
    expect((await sysrc('-c', 'test_enable=YES')).code).toBe(1)
    expect((await sysrc('-c', 'noexist=YES')).code).toBe(1)
    expect((await sysrc('-c', 'test_list+=item1')).code).toBe(0)
    expect((await sysrc('-c', 'test_list+=item3')).code).toBe(1)
    expect((await sysrc('-c', 'test_list-=item3')).code).toBe(0)
    expect((await sysrc('-c', 'test_list-=item1')).code).toBe(1)
    expect(read(CONF)).toBe('test_enable="NO"\ntest_list="item1 item2"\n')
  })

  it('f_flag: the order of -f files decides; nothing given: /etc/rc.conf then rc.conf.local, new ones appended to /etc/rc.conf', async () => {
    write('/etc/other.conf', 'test_list="item1"\ntest_enable="NO"\n')
    write(CONF, 'test_enable="YES"\n')
    expect((await sim.run('sysrc', '-f', '/etc/other.conf', '-f', CONF, 'test_enable')).stdout).toBe('test_enable: YES\n')
    expect((await sim.run('sysrc', '-f', CONF, '-f', '/etc/other.conf', 'test_enable')).stdout).toBe('test_enable: NO\n')
    write('/etc/rc.conf.local', 'vm_list="fbsd1 web"\n')
    expect(await sim.run('sysrc', 'vm_list-=fbsd1')).toEqual({code: 0, stdout: 'vm_list: fbsd1 web -> web\n', stderr: ''})
    expect(read('/etc/rc.conf.local')).toBe('vm_list="web"\n')
    expect(await sim.run('sysrc', 'vm_enable=YES')).toEqual({code: 0, stdout: 'vm_enable:  -> YES\n', stderr: ''})
    expect(read('/etc/rc.conf')).toBe('hostname="nest-sim.local"\nzfs_enable="YES"\nvm_enable="YES"\n')
    // A default of /etc/defaults/rc.conf (the simulated one, rc.ts): known, and set in /etc/rc.conf.
    expect((await sim.run('sysrc', '-n', 'gateway_enable')).stdout).toBe('NO\n')
  })

  it('the last assignment is edited in place: its indentation, quotes and comment kept (f_sysrc_set_awk)', async () => {
    write(CONF, "vm_list='a b' # guests\nx=1\n  vm_list='a b c' # later\n")
    expect((await sysrc('vm_list-=b')).stdout).toBe('vm_list: a b c -> a c\n')
    expect(read(CONF)).toBe("vm_list='a b' # guests\nx=1\n  vm_list='a c' # later\n")
    expect((await sysrc('x=2')).stdout).toBe('x: 1 -> 2\n')
    expect(read(CONF)).toBe("vm_list='a b' # guests\nx=\"2\"\n  vm_list='a c' # later\n")
  })

  it('a separator other than a blank: its first character (sysrc: not a letter, digit, . or /)', async () => {
    write(CONF, 'l="a,b"\n')
    expect((await sysrc('l+=,c')).stdout).toBe('l: a,b -> a,b,c\n')
    expect((await sysrc('l-=,a')).stdout).toBe('l: a,b,c -> b,c\n')
  })

  it('refusals: a name with shell characters (exit 1), no argument (usage), values needing quoting (not simulated)', async () => {
    expect(await sim.run('sysrc', 'a.b=1')).toEqual({code: 1, stdout: '', stderr: 'sysrc: a.b: name contains characters not allowed in shell\n'})
    expect(await sim.run('sysrc')).toEqual({code: 1, stdout: '', stderr: "Usage: sysrc [OPTIONS] {name[[+|-]=value] ... | -a | -A | -l | -L [name ...]}\nTry `sysrc --help' for more information.\n"})
    for (const argv of [['x=$(reboot)'], ['-a'], ['-s', 'sshd', 'x']]) {
      const r = await sim.run('sysrc', ...argv)
      expect(r.code).toBe(69)
    }
  })

  it('inside a jail: the jail\'s own rc.conf', async () => {
    sim.mkdirs('/jails/web/etc')
    writeFileSync(sim.fs('/jails/web/etc/rc.conf'), 'sshd_enable="NO"\n')
    expect((await sim.run('jail', '-c', 'name=web', 'path=/jails/web', 'persist')).code).toBe(0)
    const web = sim.jid('web') as number
    expect(await sim.runIn(web, 'sysrc', 'sshd_enable=YES')).toEqual({code: 0, stdout: 'sshd_enable: NO -> YES\n', stderr: ''})
    expect(read('/jails/web/etc/rc.conf')).toBe('sshd_enable="YES"\n')
    expect(read('/etc/rc.conf')).not.toContain('sshd')
  })

  it('-j JAIL works in the jail (jexec), -R DIR in the running jail rooted there or else under DIR (chroot)', async () => {
    sim.mkdirs('/jails/web/etc', '/stopped/etc')
    writeFileSync(sim.fs('/jails/web/etc/rc.conf'), 'sshd_enable="NO"\n')
    writeFileSync(sim.fs('/stopped/etc/rc.conf'), 'vm_list="a b"\n')
    expect((await sim.run('jail', '-c', 'name=web', 'path=/jails/web', 'persist')).code).toBe(0)
    expect(await sim.run('sysrc', '-j', 'web', 'sshd_enable=YES')).toEqual({code: 0, stdout: 'sshd_enable: NO -> YES\n', stderr: ''})
    expect(await sim.run('sysrc', '-R', '/jails/web', '-n', 'sshd_enable')).toEqual({code: 0, stdout: 'YES\n', stderr: ''})
    expect(await sim.run('sysrc', '-R', '/stopped', 'vm_list-=a')).toEqual({code: 0, stdout: 'vm_list: a b -> b\n', stderr: ''})
    expect(read('/stopped/etc/rc.conf')).toBe('vm_list="b"\n')
    expect(await sim.run('sysrc', '-j', 'nosuch', 'x')).toEqual({code: 1, stdout: '', stderr: 'jexec: jail "nosuch" not found\n'})
    expect(await sim.run('sysrc', '-R', '/nowhere', 'x')).toEqual({code: 1, stdout: '', stderr: 'chroot: /nowhere: No such file or directory\n'})
    expect(await sim.run('sysrc', '-j', '', 'x')).toEqual({code: 1, stdout: '', stderr: "sysrc: Missing or null argument to `-j' flag\n"})
  })
})

describe('sysrc helpers', () => {
  it('sh field splitting, +=, -=', () => {
    expect(ifsSplit('  a  b ', ' \t\n')).toEqual(['a', 'b'])
    expect(ifsSplit('a,,b,', ',')).toEqual(['a', '', 'b'])
    expect(sysrcAppend('a  b', 'c b')).toBe('a  b c')
    expect(sysrcRemove('a  b c', 'b')).toBe('a c')
  })

  it('sysrcSetLine: quoting kept, a bare value double-quoted, shell left alone', () => {
    expect(sysrcSetLine('a="1" # c', 'a', 'N')).toBe('a="N" # c')
    expect(sysrcSetLine("  a='x y'", 'a', 'N')).toBe("  a='N'")
    expect(sysrcSetLine('a=bare # c', 'a', 'N')).toBe('a="N" # c')
    expect(sysrcSetLine('a= ;x', 'a', 'N')).toBe('a="N" ;x')
    expect(sysrcSetLine('a=$(x)', 'a', 'N')).toBeNull()
  })
})

describe('cpuset -j (the simulated host has 4 CPUs, hw.ncpu)', () => {
  async function jail(name: string, inside?: number): Promise<number> {
    if (inside === undefined) {
      sim.mkdirs(`/jails/${name}`)
      expect((await sim.run('jail', '-c', `name=${name}`, `path=/jails/${name}`, 'persist', 'children.max=4')).stderr).toBe('')
      return sim.jid(name) as number
    }
    sim.mkdirs(`/jails/web/${name}`)
    expect((await sim.runIn(inside, 'jail', '-c', `name=${name}`, `path=/${name}`, 'persist')).stderr).toBe('')
    return sim.jid(`web.${name}`) as number
  }

  it('-g -j: every CPU by default; -l LIST -j NAME sets it, in the model; by jid too', async () => {
    expect((await sim.run('sysctl', '-n', 'hw.ncpu')).stdout).toBe('4\n')
    const web = await jail('web')
    expect(await sim.run('cpuset', '-g', '-j', 'web')).toEqual({code: 0, stderr: '', stdout: `jail ${web} mask: 0, 1, 2, 3\njail ${web} domain policy: first-touch mask: 0\n`})
    expect(await sim.run('cpuset', '-l', '2-3', '-j', 'web')).toEqual({code: 0, stdout: '', stderr: ''})
    expect(sim.kernel().jails.find((j) => j.name === 'web')?.cpuMask).toEqual([2, 3])
    expect((await sim.run('cpuset', '-g', '-j', String(web))).stdout).toBe(`jail ${web} mask: 2, 3\njail ${web} domain policy: first-touch mask: 0\n`)
    expect((await sim.run('cpuset', '-l', '0,2', '-j', 'web')).code).toBe(0)
    expect((await sim.run('cpuset', '-g', '-j', 'web')).stdout.split('\n')[0]).toBe(`jail ${web} mask: 0, 2`)
    expect((await sim.run('cpuset', '-l', 'all', '-j', 'web')).code).toBe(0)
    expect((await sim.run('cpuset', '-g', '-i', '-j', 'web')).stdout).toBe(`jail ${web} cpuset id: ${sim.kernel().jails.find((j) => j.name === 'web')?.cpusetId}\n`)
  })

  it('no such jail: jail_getid\'s message; a CPU the host does not have: setaffinity EINVAL, exit 1', async () => {
    expect(await sim.run('cpuset', '-l', '0', '-j', 'nosuch')).toEqual({code: 1, stdout: '', stderr: 'cpuset: jail "nosuch" not found\n'})
    expect(await sim.run('cpuset', '-g', '-j', '42')).toEqual({code: 1, stdout: '', stderr: 'cpuset: jail 42 not found\n'})
    await jail('web')
    expect(await sim.run('cpuset', '-l', '3-5', '-j', 'web')).toEqual({code: 1, stdout: '', stderr: 'cpuset: setaffinity: Invalid argument\n'})
    expect(sim.kernel().jails.find((j) => j.name === 'web')?.cpuMask).toBeUndefined()
  })

  it('nested jails: a child inherits its parent\'s CPUs, cannot leave them, and is narrowed with it', async () => {
    const web = await jail('web')
    const db = await jail('db', web)
    expect((await sim.run('cpuset', '-l', '1-3', '-j', 'web')).code).toBe(0)
    expect((await sim.run('cpuset', '-g', '-j', 'web.db')).stdout.split('\n')[0]).toBe(`jail ${db} mask: 1, 2, 3`)
    expect((await sim.run('cpuset', '-l', '0', '-j', 'web.db')).stderr).toBe('cpuset: setaffinity: Invalid argument\n')
    expect((await sim.run('cpuset', '-l', '3', '-j', 'web.db')).code).toBe(0)
    // Narrowing web to CPUs db does not have would leave db with none: EDEADLK.
    expect(await sim.run('cpuset', '-l', '1', '-j', 'web')).toEqual({code: 1, stdout: '', stderr: 'cpuset: setaffinity: Resource deadlock avoided\n'})
    expect((await sim.run('cpuset', '-l', '2-3', '-j', 'web')).code).toBe(0)
    expect((await sim.run('cpuset', '-g', '-j', 'web.db')).stdout.split('\n')[0]).toBe(`jail ${db} mask: 3`)
  })

  it('usage errors, getopt\'s complaint; what is not simulated is refused', async () => {
    const r = await sim.run('cpuset', '-z')
    expect(r.code).toBe(1)
    expect(r.stderr.split('\n')[0]).toBe('cpuset: illegal option -- z')
    expect(r.stderr.split('\n')[1]).toBe('usage: cpuset [-l cpu-list] [-n policy:domain-list] [-s setid] cmd ...')
    await jail('web')
    expect((await sim.run('cpuset', '-j', 'web')).code).toBe(1)
    for (const argv of [['-l', '0', 'sh'], ['-g', '-p', '1'], ['-l', '0-', '-j', 'web'], ['-c', '-l', '0', '-j', 'web']]) expect((await sim.run('cpuset', ...argv)).code).toBe(69)
  })
})
