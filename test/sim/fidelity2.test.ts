// The simulated host, fidelity round 2 (issue 12): each FreeBSD rule here is checked against the
// source named in its test, and the parsers nest reads those outputs with are run on them.
import {writeFileSync} from 'node:fs'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {parseJlsJson, parseJlsTable, parseSysctl} from '../../src/host/parse.js'
import {makeSim, type TestSim} from '../helpers/sim.js'

let sim: TestSim
beforeEach(async () => {
  sim = await makeSim()
})
afterEach(() => sim.cleanup())

const dirs = (...ps: string[]): void => sim.mkdirs(...ps)

describe('jls (usr.sbin/jls/jls.c)', () => {
  beforeEach(async () => {
    dirs('/j/a', '/j/fifteen')
    expect((await sim.run('jail', '-c', 'name=a', 'host.hostname=web (prod) box', 'path=/j/a', 'persist', 'ip4.addr=192.0.2.10,192.0.2.11')).code).toBe(0)
    // A name of exactly 15 characters fills its -N column: the blank after it is jls.c's own.
    expect((await sim.run('jail', '-c', 'name=abcdefghijklmno', 'host.hostname=h', 'path=/j/fifteen', 'persist', 'ip4.addr=198.51.100.200')).code).toBe(0)
  })

  it('-N: `{P: }{:name/%-15s/%s}{P: }` then the address, so a long name never runs into it', async () => {
    const r = await sim.run('jls', '-N')
    expect(r.stdout).toBe(
      ' JID             IP Address      Hostname                      Path\n' +
      ' a               192.0.2.10      web (prod) box                /j/a\n' +
      ' abcdefghijklmno 198.51.100.200  h                             /j/fifteen\n',
    )
    expect(parseJlsTable(r.stdout)._unsafeUnwrap()).toEqual([
      {name: 'a', ip: '192.0.2.10', hostname: 'web (prod) box', path: '/j/a'},
      {name: 'abcdefghijklmno', ip: '198.51.100.200', hostname: 'h', path: '/j/fifteen'},
    ])
  })

  it('the default table: a hostname with blanks and parentheses is read by its column', async () => {
    const r = await sim.run('jls')
    expect(r.stdout).toBe(
      '   JID  IP Address      Hostname                      Path\n' +
      '     1  192.0.2.10      web (prod) box                /j/a\n' +
      '     2  198.51.100.200  h                             /j/fifteen\n',
    )
    expect(parseJlsTable(r.stdout)._unsafeUnwrap()).toEqual([
      {jid: 1, ip: '192.0.2.10', hostname: 'web (prod) box', path: '/j/a'},
      {jid: 2, ip: '198.51.100.200', hostname: 'h', path: '/j/fifteen'},
    ])
    // %-29.29s cuts a long hostname; a row that is not in the layout is an error naming its line.
    expect(parseJlsTable('   JID  IP Address      Hostname                      Path\n     1  x\n')._unsafeUnwrapErr()).toBe('line 2: not a jls row:      1  x')
  })

  it('libxo JSON: a list is `, "name": [` and its leaves are joined by a bare `,` (libxo.c xo_do_open_list, xo_format_prep)', async () => {
    const v = await sim.run('jls', '-v', '-j', 'a', '--libxo=json')
    expect(v.stdout).toBe('{"__version": "2", "jail-information": {"jail": [{"jid":1,"hostname":"web (prod) box","path":"/j/a","name":"a","state":"ACTIVE","cpusetid":2, "ipv4_addrs": ["192.0.2.10","192.0.2.11"], "ipv6_addrs": []}]}}\n')
    const n = await sim.run('jls', '-j', 'a', '--libxo', 'json', 'jid', 'ip4.addr', 'name')
    expect(n.stdout).toBe('{"__version": "2", "jail-information": {"jail": [{"jid":"1", "ip4.addr": ["192.0.2.10","192.0.2.11"],"name":"a"}]}}\n')
    expect(parseJlsJson(n.stdout)._unsafeUnwrap()[0]?.params['ip4.addr']).toEqual(['192.0.2.10', '192.0.2.11'])
  })

  it('the parser skips an empty jail instance (jls.c opens one per jail whatever it prints)', () => {
    expect(parseJlsJson('{"__version": "2", "jail-information": {"jail": [{}, {"jid":3,"name":"x"}]}}')._unsafeUnwrap()).toEqual([
      {jid: 3, name: 'x', parent: null, path: null, params: {jid: 3, name: 'x'}},
    ])
    expect(parseJlsJson('{"__version": "2", "jail-information": {"jail": [{}]}}')._unsafeUnwrap()).toEqual([])
  })
})

describe('mounts (sys/sys/mount.h, sys/kern/vfs_mount.c, sbin/umount/umount.c)', () => {
  /** A directory path of exactly `n` bytes below /m. */
  const longDir = (n: number): string => {
    let p = '/m'
    while (p.length < n) p += `/${'d'.repeat(Math.min(200, n - p.length - 1))}`
    expect(p.length).toBe(n)
    dirs(p)
    return p
  }

  it('MNAMELEN: a mount point of 1022 bytes or more is ENAMETOOLONG (vfs_donmount: fspathlen >= MNAMELEN - 1)', async () => {
    const ok = longDir(1021)
    expect(await sim.run('mount', '-t', 'tmpfs', 'tmpfs', ok)).toEqual({code: 0, stdout: '', stderr: ''})
    const tooLong = longDir(1022)
    expect(await sim.run('mount', '-t', 'tmpfs', 'tmpfs', tooLong)).toEqual({code: 1, stdout: '', stderr: 'mount: tmpfs: File name too long\n'})
    expect(await sim.run('mount_nullfs', '/m', tooLong)).toEqual({code: 1, stdout: '', stderr: `mount_nullfs: ${tooLong}: File name too long\n`})
    expect(sim.kernel().mounts.filter((m) => m.on.startsWith('/m/')).map((m) => m.on.length)).toEqual([1021])
  })

  it('/dev/fd is on a devfs mount whose ruleset shows it, so mount.fdescfs needs no directory made', async () => {
    dirs('/j/x/dev', '/etc')
    writeFileSync(sim.fs('/etc/jail.conf'), 'x { path = /j/x; persist; mount.devfs; mount.fdescfs; }\n')
    const r = await sim.run('jail', '-c', 'x')
    expect(r).toMatchObject({code: 0, stderr: ''})
    expect(sim.mountsBelow('/j/x')).toEqual(['devfs /j/x/dev', 'fdescfs /j/x/dev/fd'])
    expect((await sim.run('jail', '-r', 'x')).code).toBe(0)
    expect(sim.mountsBelow('/j/x')).toEqual([])
    // Unmounted, the directory is gone with its devfs: the tree beneath has only what was made.
    expect(await sim.run('mount', '-t', 'fdescfs', 'fdescfs', '/j/x/dev/fd')).toEqual({code: 1, stdout: '', stderr: 'mount: /j/x/dev/fd: No such file or directory\n'})
    // A ruleset that hides everything (devfsrules_hide_all) hides fd too.
    expect((await sim.run('mount', '-t', 'devfs', '-oruleset=1', 'devfs', '/j/x/dev')).code).toBe(0)
    expect(await sim.run('mount', '-t', 'fdescfs', 'fdescfs', '/j/x/dev/fd')).toEqual({code: 1, stdout: '', stderr: 'mount: /j/x/dev/fd: No such file or directory\n'})
  })

  it('umount -v prints `f_mntfromname: unmount from f_mntonname` after each unmount (umountfs)', async () => {
    dirs('/j/y/dev', '/src', '/m/n')
    expect((await sim.run('mount', '-t', 'devfs', 'devfs', '/j/y/dev')).code).toBe(0)
    expect((await sim.run('mount', '-t', 'fdescfs', 'fdescfs', '/j/y/dev/fd')).code).toBe(0)
    expect((await sim.run('mount_nullfs', '/src', '/m/n')).code).toBe(0)
    expect(await sim.run('umount', '-v', '/j/y/dev/fd', '/j/y/dev', '/m/n')).toEqual({
      code: 0,
      stdout: 'fdescfs: unmount from /j/y/dev/fd\ndevfs: unmount from /j/y/dev\n/src: unmount from /m/n\n',
      stderr: '',
    })
  })
})

describe('sysctl -t and names that end in a dot (sbin/sysctl/sysctl.c, sys/kern/kern_sysctl.c)', () => {
  it('-t prints the type show_var names (ctl_typename) in place of the value; -n drops the name', async () => {
    expect(await sim.run('sysctl', '-t', 'kern.hostname', 'kern.hostid', 'kern.securelevel', 'vfs.recursive_forced_unmount', 'security.jail.jail_max_af_ips', 'security.jail.param.ip4.addr')).toEqual({
      code: 0,
      stdout: 'kern.hostname: string\nkern.hostid: unsigned long\nkern.securelevel: integer\nvfs.recursive_forced_unmount: uint8_t\nsecurity.jail.jail_max_af_ips: unsigned integer\nsecurity.jail.param.ip4.addr: opaque\n',
      stderr: '',
    })
    expect((await sim.run('sysctl', '-nt', 'kern.osrelease')).stdout).toBe('string\n')
  })

  it('name2oid ends the name at a trailing dot: `kern.hostname.` is kern.hostname', async () => {
    const plain = await sim.run('sysctl', 'kern.securelevel')
    expect(await sim.run('sysctl', 'kern.securelevel.')).toEqual(plain)
    expect(plain.stdout).toMatch(/^kern\.securelevel: -?[0-9]+\n$/)
    expect(await sim.run('sysctl', 'kern.securelevel.x')).toEqual({code: 1, stdout: '', stderr: "sysctl: unknown oid 'kern.securelevel.x'\n"})
    expect(await sim.run('sysctl', 'kern..securelevel')).toEqual({code: 1, stdout: '', stderr: "sysctl: unknown oid 'kern..securelevel'\n"})
  })

  it('a parameter that is also a node is the node\'s empty-named leaf, `...allow.mount.` (SYSCTL_JAIL_PARAM(_allow_mount, , ...))', async () => {
    const node = await sim.run('sysctl', 'security.jail.param.allow.mount')
    expect(node.stdout.split('\n').slice(0, 2)).toEqual(['security.jail.param.allow.mount.: 0', 'security.jail.param.allow.mount.devfs: 0'])
    expect(await sim.run('sysctl', 'security.jail.param.allow.mount.')).toEqual(node)
    // After the node's name, an empty component is that leaf.
    expect((await sim.run('sysctl', 'security.jail.param.allow.mount..')).stdout).toBe('security.jail.param.allow.mount.: 0\n')
    // The jailsys nodes (SYSCTL_JAIL_PARAM_SYS_NODE) likewise; ip4.addr is opaque and not printed.
    expect((await sim.run('sysctl', 'security.jail.param.ip4')).stdout).toBe('security.jail.param.ip4.: 0\nsecurity.jail.param.ip4.saddrsel: 0\n')
    expect(await sim.run('sysctl', 'security.jail.param.host.=1')).toEqual({code: 1, stdout: '', stderr: "sysctl: oid 'security.jail.param.host.' isn't a leaf node\n"})
    // nest reads such a leaf as the parameter the node names.
    const read = parseSysctl(node.stdout)._unsafeUnwrap()
    expect(read.get('security.jail.param.allow.mount')).toBe('0')
    expect(read.has('security.jail.param.allow.mount.')).toBe(false)
  })
})

describe('devfs rule showsets (sbin/devfs/rule.c, sys/fs/devfs/devfs_rule.c)', () => {
  it('prints every ruleset the kernel holds, ascending, one a line: those with rules and those a mount uses', async () => {
    expect(await sim.run('devfs', 'rule', 'showsets')).toEqual({code: 0, stdout: '1\n2\n3\n4\n5\n', stderr: ''})
    expect((await sim.run('devfs', 'rule', '-s', '1000', 'add', 'path', 'zfs', 'unhide')).code).toBe(0)
    expect((await sim.run('devfs', 'rule', '-s', '3', 'delset')).code).toBe(0)
    dirs('/j/z/dev')
    expect((await sim.run('mount', '-t', 'devfs', '-oruleset=77', 'devfs', '/j/z/dev')).code).toBe(0)
    // -s is taken and ignored (rule_main's getopt); any operand after showsets is a usage error.
    // Ruleset 3 stays, empty: rulesets 4 and 5 include it (ds_refcount, devfs_ruleset_reap).
    expect(await sim.run('devfs', 'rule', '-s', '9', 'showsets')).toEqual({code: 0, stdout: '1\n2\n3\n4\n5\n77\n1000\n', stderr: ''})
    expect(await sim.run('devfs', 'rule', 'showsets', 'x')).toEqual({code: 1, stdout: '', stderr: 'usage: \tdevfs [-m mount-point] [-s ruleset] rule ...\n\tdevfs [-m mount-point] ruleset ...\n'})
  })

  it('fails in a jail: the rule ioctls need PRIV_DEVFS_RULE, and err(3) names the program "devfs rule"', async () => {
    dirs('/j/q')
    const r = await sim.run('jail', '-i', '-c', 'name=q', 'path=/j/q', 'persist')
    const jid = Number(r.stdout.trim())
    expect(await sim.runIn(jid, 'devfs', 'rule', 'showsets')).toEqual({code: 1, stdout: '', stderr: 'devfs rule: ioctl DEVFSIO_SGETNEXT: Operation not permitted\n'})
  })
})
