// Conformance of the simulated host with FreeBSD: one test per rule of section 10 of
// freebsd-semantics.md and per row of its error table (§9), driving the fake tools as processes.
import {readFileSync, writeFileSync} from 'node:fs'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {makeSim, type TestSim} from '../helpers/sim.js'

let sim: TestSim
beforeEach(async () => {
  sim = await makeSim()
})
afterEach(() => sim.cleanup())

const dirs = (...ps: string[]): void => sim.mkdirs(...ps)

/** A parent that may create jails and mount inside (the shape nest's parents have). */
async function parent(name = 'p', extra: string[] = []): Promise<number> {
  dirs(`/jails/${name}/dev`, `/jails/${name}/tmp`, `/jails/${name}/mnt`, `/jails/${name}/data`, `/jails/${name}/jails/c`)
  const r = await sim.run('jail', '-i', '-c', `name=${name}`, `path=/jails/${name}`, 'persist', 'children.max=10', 'allow.mount', 'allow.mount.tmpfs', 'allow.mount.nullfs', 'allow.mount.devfs', 'allow.mount.zfs', 'enforce_statfs=1', ...extra)
  expect(r.stderr).toBe('')
  return Number(r.stdout.trim())
}

describe('rule 1: dotted names, relative views, one flat jid space', () => {
  it('names a child web.db on the host and db inside web, with relative paths', async () => {
    const p = await parent('web')
    expect((await sim.runIn(p, 'jail', '-c', 'name=db', 'path=/jails/c', 'persist')).code).toBe(0)
    expect((await sim.run('jls', 'jid', 'name', 'path', 'parent')).stdout).toBe(`1 web /jails/web 0\n2 web.db /jails/web/jails/c 1\n`)
    expect((await sim.runIn(p, 'jls', 'jid', 'name', 'path', 'parent')).stdout).toBe('2 db /jails/c 0\n')
    // From inside web, web.db looks for a jail "web" inside web.
    const r = await sim.runIn(p, 'jail', '-c', 'name=web.x', 'persist')
    expect(r).toMatchObject({code: 1, stderr: 'jail: jail "web" not found\n'})
  })

  it('hands out jids after the last one, never reusing a freed one until wrap-around', async () => {
    dirs('/j')
    for (const n of ['a', 'b']) await sim.run('jail', '-c', `name=${n}`, 'path=/j', 'persist')
    await sim.run('jail', '-r', 'a')
    await sim.run('jail', '-c', 'name=c', 'path=/j', 'persist')
    expect((await sim.run('jls', 'jid', 'name')).stdout).toBe('2 b\n3 c\n')
  })
})

describe('rule 2: children.max (error table rows 1-3)', () => {
  it('refuses a child of a jail with children.max=0: jail: jail_set: Operation not permitted', async () => {
    dirs('/j')
    await sim.run('jail', '-c', 'name=basejail_nochild', 'path=/j', 'persist')
    const r = await sim.runIn(1, 'jail', '-c', 'name=nestedjail', 'persist')
    expect(r).toEqual({code: 1, stdout: '', stderr: readFileSync(new URL('../fixtures/freebsd-outputs/jail-errors/nested-no-children-jail_set-operation-not-permitted.txt', import.meta.url), 'utf8')})
  })

  it('refuses the second child of children.max=1: jail: prison limit exceeded', async () => {
    dirs('/j')
    await sim.run('jail', '-c', 'name=basejail', 'path=/j', 'persist', 'children.max=1')
    expect((await sim.runIn(1, 'jail', '-c', 'name=firstnestedjail', 'persist')).code).toBe(0)
    const r = await sim.runIn(1, 'jail', '-c', 'name=secondnestedjail', 'persist')
    expect(r).toEqual({code: 1, stdout: '', stderr: readFileSync(new URL('../fixtures/freebsd-outputs/jail-errors/children-max-exceeded-prison-limit.txt', import.meta.url), 'utf8')})
    expect((await sim.run('sysctl', '-n', 'security.jail.children.cur')).stdout).toBe('2\n')
    expect((await sim.runIn(1, 'sysctl', '-n', 'security.jail.children.cur', 'security.jail.children.max')).stdout).toBe('1\n1\n')
  })

  it('requires a child children.max strictly below its parent', async () => {
    const p = await parent()
    expect((await sim.runIn(p, 'jail', '-c', 'name=a', 'persist', 'children.max=10')).stderr).toBe('jail: jail_set: Operation not permitted\n')
    expect((await sim.runIn(p, 'jail', '-c', 'name=a', 'persist', 'children.max=9')).code).toBe(0)
  })
})

describe('rule 3: the limit walk starts at the creating jail', () => {
  it('lets the host create p.c under a p with children.max=0', async () => {
    dirs('/j')
    await sim.run('jail', '-c', 'name=p', 'path=/j', 'persist')
    expect((await sim.run('jail', '-c', 'name=p.c', 'path=/j', 'persist')).code).toBe(0)
    expect((await sim.run('jls', '-j', 'p', 'children.cur', 'children.max')).stdout).toBe('1 0\n')
  })
})

describe('rule 4: removal kills the subtree and unmounts nothing', () => {
  it('removes web.db with web and leaves its mounts', async () => {
    const p = await parent('web')
    await sim.runIn(p, 'jail', '-c', 'name=db', 'path=/jails/c', 'persist')
    expect((await sim.runIn(p, 'mount', '-t', 'tmpfs', 'tmpfs', '/tmp')).code).toBe(0)
    expect((await sim.run('jail', '-r', 'web')).code).toBe(0)
    expect((await sim.run('jls', '-d', 'name')).stdout).toBe('')
    expect((await sim.run('mount')).stdout).toContain('tmpfs on /jails/web/tmp (tmpfs, local)\n')
  })
})

describe('rule 5: allow.* never above the parent (error table row 4)', () => {
  it('refuses a flag the parent lacks with EPERM, but allows unprivileged_proc_debug', async () => {
    const p = await parent()
    expect((await sim.runIn(p, 'jail', '-c', 'name=a', 'persist', 'allow.raw_sockets')).stderr).toBe('jail: jail_set: Operation not permitted\n')
    dirs('/j')
    expect((await sim.run('jail', '-c', 'name=p.b', 'path=/j', 'persist', 'allow.raw_sockets')).stderr).toBe('jail: jail_set: Operation not permitted\n')
    expect((await sim.runIn(p, 'jail', '-c', 'name=a', 'persist', 'allow.mount', 'allow.unprivileged_proc_debug')).code).toBe(0)
  })

  it('turns a flag off in the whole subtree', async () => {
    const p = await parent()
    await sim.runIn(p, 'jail', '-c', 'name=a', 'persist', 'allow.mount')
    await sim.run('jail', '-m', 'name=p', 'allow.nomount')
    expect((await sim.run('jls', '-j', 'p.a', 'allow.mount')).stdout).toBe('false\n')
  })
})

describe('rule 6: defaults of a new jail', () => {
  it('has the documented defaults', async () => {
    dirs('/j')
    await sim.run('jail', '-c', 'name=d', 'path=/j', 'persist')
    const r = await sim.run('jls', '-j', 'd', 'children.max', 'enforce_statfs', 'securelevel', 'devfs_ruleset', 'sysvshm', 'ip4', 'host.hostname', 'allow.set_hostname', 'allow.mount', 'allow.suser')
    expect(r.stdout).toBe('0 2 -1 0 disable disable "" true false true\n')
  })
})

describe('rule 7: mounting inside a jail (error table row "mount in jail without rights")', () => {
  it('needs allow.mount, allow.mount.<fs> and enforce_statfs < 2', async () => {
    dirs('/j/tmp', '/j/mnt', '/j/src')
    await sim.run('jail', '-c', 'name=a', 'path=/j', 'persist', 'allow.mount', 'allow.mount.tmpfs')
    expect(await sim.runIn(1, 'mount', '-t', 'tmpfs', 'tmpfs', '/tmp')).toMatchObject({code: 1, stderr: 'mount: tmpfs: Operation not permitted\n'})
    await sim.run('jail', '-m', 'name=a', 'enforce_statfs=1')
    expect((await sim.runIn(1, 'mount', '-t', 'tmpfs', 'tmpfs', '/tmp')).code).toBe(0)
    const r = await sim.runIn(1, 'mount', '-t', 'nullfs', '/src', '/mnt')
    expect(r).toMatchObject({code: 1, stderr: 'mount_nullfs: /mnt: Operation not permitted\n'})
    expect((await sim.runIn(1, 'mount', '-t', 'ufs', '/dev/ada0p2', '/mnt')).code).not.toBe(0)
  })
})

describe('rule 8: enforce_statfs, securelevel, devfs_ruleset (error table rows 5-6)', () => {
  it('refuses lower values than the parent, raises descendants', async () => {
    const p = await parent()
    expect((await sim.runIn(p, 'jail', '-c', 'name=a', 'persist', 'enforce_statfs=0')).stderr).toBe('jail: jail_set: Operation not permitted\n')
    await sim.run('jail', '-m', 'name=p', 'securelevel=1')
    expect((await sim.runIn(p, 'jail', '-c', 'name=a', 'persist', 'securelevel=0')).stderr).toBe('jail: jail_set: Operation not permitted\n')
    expect((await sim.runIn(p, 'jail', '-c', 'name=a', 'persist')).code).toBe(0)
    expect((await sim.run('jls', '-j', 'p.a', 'securelevel', 'enforce_statfs')).stdout).toBe('1 2\n')
  })

  it('forces a jailed caller to its parent ruleset and refuses devfs -o ruleset=4 in a ruleset-0 parent', async () => {
    const p = await parent()
    expect((await sim.runIn(p, 'jail', '-c', 'name=a', 'persist', 'devfs_ruleset=4')).stderr).toBe('jail: jail_set: Operation not permitted\n')
    expect((await sim.runIn(p, 'mount', '-t', 'devfs', '-oruleset=4', '.', '/dev'))).toMatchObject({code: 1, stderr: 'mount: .: Operation not permitted\n'})
    expect((await sim.runIn(p, 'mount', '-t', 'devfs', '-oruleset=0', '.', '/dev')).code).toBe(0)
    await sim.run('jail', '-m', 'name=p', 'devfs_ruleset=4')
    expect((await sim.runIn(p, 'jail', '-c', 'name=b', 'persist', 'devfs_ruleset=0')).code).toBe(0)
    expect((await sim.run('jls', '-j', 'p.b', 'devfs_ruleset')).stdout).toBe('4\n')
  })

  it('refuses devfs rules inside any jail', async () => {
    const p = await parent()
    expect((await sim.run('devfs', 'rule', '-s', '4', 'show')).stdout).toBe('100 include 1\n200 include 2\n300 include 3\n400 path fuse unhide\n500 path zfs unhide\n')
    expect(await sim.runIn(p, 'devfs', 'rule', '-s', '4', 'show')).toMatchObject({code: 1, stderr: 'devfs rule: ioctl DEVFSIO_RGETNEXT: Operation not permitted\n'})
  })
})

describe('rule 9: addresses (error table rows 7-8)', () => {
  it('refuses a child address outside its parent, a clash with a multi-address jail, and IPs on vnet', async () => {
    dirs('/j')
    await sim.run('jail', '-c', 'name=p', 'path=/j', 'persist', 'children.max=5', 'ip4.addr=192.0.2.1,192.0.2.2')
    expect((await sim.runIn(1, 'jail', '-c', 'name=a', 'persist', 'ip4.addr=192.0.2.9')).stderr).toBe('jail: jail_set: Operation not permitted\n')
    expect((await sim.runIn(1, 'jail', '-c', 'name=a', 'persist', 'ip4.addr=192.0.2.2')).code).toBe(0)
    expect((await sim.run('jail', '-c', 'name=q', 'path=/j', 'persist', 'ip4.addr=192.0.2.1')).stderr).toBe('jail: IPv4 addresses clash\n')
    expect((await sim.run('jail', '-c', 'name=v', 'path=/j', 'persist', 'vnet', 'ip4.addr=198.51.100.1')).stderr).toBe('jail: vnet jails cannot have IP address restrictions\n')
  })

  it('refuses addresses given to an existing VNET jail (jail -m), as kern_jail.c does on an update', async () => {
    dirs('/j')
    expect((await sim.run('jail', '-c', 'name=v', 'path=/j', 'persist', 'vnet')).code).toBe(0)
    const r = await sim.run('jail', '-m', 'name=v', 'ip4.addr=198.51.100.1')
    expect(r.code).toBe(1)
    expect(r.stderr).toBe('jail: vnet jails cannot have IP address restrictions\n')
    expect((await sim.run('jls', '-n', '-j', 'v', 'ip4.addr')).stdout).toBe('ip4.addr=\n')
  })
})

describe('rule 10: jail(8) start and stop sequences', () => {
  it('runs mounts and hooks in order, stops in reverse, and rolls back a failed start', async () => {
    dirs('/j/dev', '/j/proc', '/etc')
    writeFileSync(sim.fs('/etc/jail.conf'), `w {
  path = /j; persist; mount.devfs; mount.procfs; devfs_ruleset = 4;
  exec.prestart = "echo prestart"; exec.created = "echo created";
  exec.start = "/bin/sh /etc/rc"; exec.poststart = "echo poststart";
  exec.prestop = "echo prestop"; exec.stop = "/bin/sh /etc/rc.shutdown"; exec.poststop = "echo poststop";
}
bad { path = /j; persist; mount.devfs; exec.poststart = "false"; }
`)
    const up = await sim.run('jail', '-c', 'w')
    expect(up).toEqual({code: 0, stdout: 'prestart\nw: created\ncreated\npoststart\n', stderr: ''})
    expect((await sim.run('mount')).stdout).toContain('devfs on /j/dev (devfs)\nprocfs on /j/proc (procfs, local)\n')
    const down = await sim.run('jail', '-r', 'w')
    expect(down).toEqual({code: 0, stdout: 'prestop\nw: removed\npoststop\n', stderr: ''})
    expect((await sim.run('mount')).stdout).not.toContain('/j/')
    const bad = await sim.run('jail', '-c', 'bad')
    expect(bad).toEqual({code: 1, stdout: 'bad: created\nbad: removed\n', stderr: 'jail: bad: false: failed\n'})
    expect((await sim.run('mount')).stdout).not.toContain('/j/dev')
    expect((await sim.run('jls')).stdout.split('\n').length).toBe(2)
  })

  it('unmounts a mount parameter with -t TYPE on stop, and a mount point already gone fails the stop (command.c check_path)', async () => {
    dirs('/j/tmp', '/etc')
    writeFileSync(sim.fs('/etc/jail.conf'), 'm { path = /j; persist; mount = "tmpfs /j/tmp tmpfs rw 0 0"; }\n')
    expect((await sim.run('jail', '-c', 'm')).code).toBe(0)
    const down = await sim.run('jail', '-v', '-r', 'm')
    expect(down.code, down.stderr).toBe(0)
    expect(down.stdout).toContain('m: run command: /sbin/umount -t tmpfs /j/tmp\n')
    expect((await sim.run('jail', '-c', 'm')).code).toBe(0)
    expect((await sim.run('umount', '/j/tmp')).code).toBe(0)
    const gone = await sim.run('jail', '-r', 'm')
    expect(gone).toEqual({code: 1, stdout: 'm: removed\n', stderr: 'jail: m: mount: /j/tmp: not a mount point\n'})
    expect((await sim.run('jls', '-n', 'name')).stdout).toBe('')
  })

  it('refuses to start a jail whose mount.fstab file is missing, before anything runs (config.c check_intparams)', async () => {
    dirs('/j', '/etc')
    writeFileSync(sim.fs('/etc/jail.conf'), 'f { path = /j; persist; mount.fstab = /etc/fstab.f; exec.prestart = "echo prestart"; }\n')
    expect(await sim.run('jail', '-c', 'f')).toEqual({code: 1, stdout: '', stderr: 'jail: f: mount.fstab: /etc/fstab.f: No such file or directory\n'})
    expect((await sim.run('jls', '-n', 'name')).stdout).toBe('')
  })

  it('mounts only on a directory: a mount point that is a file is Not a directory (getmntopts.c checkpath)', async () => {
    dirs('/j')
    writeFileSync(sim.fs('/j/file'), '')
    expect(await sim.run('mount', '-t', 'tmpfs', 'tmpfs', '/j/file')).toEqual({code: 1, stdout: '', stderr: 'mount: /j/file: Not a directory\n'})
    expect(await sim.run('mount', '-t', 'tmpfs', 'tmpfs', '/j/nope')).toEqual({code: 1, stdout: '', stderr: 'mount: /j/nope: No such file or directory\n'})
  })

  it('sets IF|ADDR addresses with ifconfig first and removes them last, as command.c builds the argv; a failed start takes them back', async () => {
    dirs('/j', '/etc')
    writeFileSync(sim.fs('/etc/jail.conf'), 'a { path = /j; persist; ip4.addr = "epair0a|192.0.2.10/24"; ip4.addr += "epair0a|192.0.2.11"; ip6.addr = "epair0a|2001:db8::1"; }\nb { path = /j; persist; ip4.addr = "epair0a|192.0.2.20"; exec.prestart = "false"; }\n')
    expect((await sim.run('ifconfig', 'epair', 'create')).stdout).toBe('epair0a\n')
    const up = await sim.run('jail', '-v', '-c', 'a')
    expect(up.code, up.stderr).toBe(0)
    expect(up.stdout.split('\n').slice(0, 3)).toEqual([
      'a: run command: /sbin/ifconfig epair0a inet 192.0.2.10/24 alias',
      'a: run command: /sbin/ifconfig epair0a inet 192.0.2.11 netmask 255.255.255.255 alias',
      'a: run command: /sbin/ifconfig epair0a inet6 2001:db8::1 prefixlen 128 alias',
    ])
    expect((await sim.run('jls', '-n', '-j', 'a', 'ip4.addr', 'ip6.addr')).stdout).toBe('ip4.addr=192.0.2.10,192.0.2.11 ip6.addr=2001:db8::1\n')
    expect((await sim.run('ifconfig', 'epair0a')).stdout).toContain('\tinet 192.0.2.10 netmask 0xffffff00 broadcast 192.0.2.255\n\tinet 192.0.2.11 netmask 0xffffffff broadcast 192.0.2.11\n')
    const down = await sim.run('jail', '-v', '-r', 'a')
    expect(down.code, down.stderr).toBe(0)
    expect(down.stdout).toContain('a: removed\na: run command: /sbin/ifconfig epair0a inet6 2001:db8::1 prefixlen 128 -alias\na: run command: /sbin/ifconfig epair0a inet 192.0.2.10/24 -alias\n')
    expect((await sim.run('ifconfig', 'epair0a')).stdout).not.toContain('inet')
    expect((await sim.run('jail', '-c', 'b')).code).toBe(1)
    expect((await sim.run('ifconfig', 'epair0a')).stdout).not.toContain('192.0.2.20')
  })

  it('moves vnet.interface into the jail after exec.created; a failed start moves it back; the jail\'s death brings it home', async () => {
    dirs('/j', '/etc')
    writeFileSync(sim.fs('/etc/jail.conf'), 'v { path = /j; persist; vnet; vnet.interface = "epair0b"; }\nw { path = /j; persist; vnet; vnet.interface = "epair0b"; exec.start = "false"; }\n')
    await sim.run('ifconfig', 'epair', 'create')
    const up = await sim.run('jail', '-v', '-c', 'v')
    expect(up.code, up.stderr).toBe(0)
    expect(up.stdout).toContain('v: created\nv: run command: /sbin/ifconfig epair0b vnet v\n')
    expect((await sim.run('ifconfig', '-l')).stdout).toBe('lo0 epair0a\n')
    expect((await sim.run('jexec', 'v', 'ifconfig', '-l')).stdout).toBe('lo0 epair0b\n')
    expect((await sim.run('jail', '-r', 'v')).code).toBe(0)
    expect((await sim.run('ifconfig', '-l')).stdout).toBe('lo0 epair0a epair0b\n')
    const bad = await sim.run('jail', '-v', '-c', 'w')
    expect(bad.code).toBe(1)
    expect(bad.stdout).toContain('w: run command: /sbin/ifconfig epair0b -vnet w\n')
    expect((await sim.run('ifconfig', '-l')).stdout).toBe('lo0 epair0a epair0b\n')
  })

  it('refuses a program that is not simulated, so a configuration never touches the machine', async () => {
    dirs('/j')
    const r = await sim.run('jail', '-c', 'name=x', 'path=/j', 'persist', 'command=/bin/rm', '-rf', '/')
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('/bin/rm: not simulated')
    expect(r.stderr).toContain('jail: /bin/rm -rf /: failed')
  })
})

describe('rule 11: jail.conf with the implied parent.child dependency', () => {
  it('starts a parent before its child and stops the child first', async () => {
    dirs('/a', '/a/b', '/etc')
    writeFileSync(sim.fs('/etc/jail.conf'), 'a { path = /a; persist; children.max = 2; }\na.b { path = /a/b; persist; }\n')
    expect(await sim.run('jail', '-c', 'a.b')).toMatchObject({code: 0, stdout: 'a: created\na.b: created\n'})
    expect(await sim.run('jail', '-r', 'a')).toMatchObject({code: 0, stdout: 'a.b: removed\na: removed\n'})
  })

  it('reports syntax errors with the file and line', async () => {
    dirs('/etc')
    writeFileSync(sim.fs('/etc/jail.conf'), 'a {\n  path = /a\n}\n')
    expect(await sim.run('jail', '-c', 'a')).toEqual({code: 1, stdout: '', stderr: 'jail: /etc/jail.conf line 3: }: syntax error\n'})
  })
})

describe('rule 13: ZFS delegation (error table rows 10-12)', () => {
  it('delegates a jailed dataset from the host only, and shows ancestors read-only inside', async () => {
    const p = await parent('p', ['devfs_ruleset=4'])
    await sim.run('zfs', 'create', '-p', 'zroot/nest/jails/p')
    await sim.run('zfs', 'create', '-o', 'jailed=on', '-o', 'mountpoint=/data', 'zroot/nest/jails/p/data')
    expect(await sim.run('zfs', 'mount', 'zroot/nest/jails/p/data')).toMatchObject({code: 1, stderr: "cannot mount 'zroot/nest/jails/p/data': dataset is exported to a local zone\n"})
    expect(await sim.runIn(p, 'zfs', 'list')).toMatchObject({code: 1, stderr: 'internal error: failed to initialize ZFS library\n'})
    await sim.run('mount', '-t', 'devfs', '-oruleset=4', '.', '/jails/p/dev')
    expect(await sim.runIn(p, 'zfs', 'jail', 'p', 'zroot/nest/jails/p/data')).toMatchObject({code: 1, stderr: "cannot jail 'zroot/nest/jails/p/data': permission denied\n"})
    expect((await sim.run('zfs', 'jail', 'p', 'zroot/nest/jails/p/data')).code).toBe(0)
    const inside = await sim.runIn(p, 'zfs', 'list', '-H', '-o', 'name')
    expect(inside.stdout).toBe('zroot\nzroot/nest\nzroot/nest/jails\nzroot/nest/jails/p\nzroot/nest/jails/p/data\n')
    expect((await sim.runIn(p, 'zfs', 'mount', 'zroot/nest/jails/p/data')).code).toBe(0)
    expect((await sim.run('mount')).stdout).toContain('zroot/nest/jails/p/data on /jails/p/data (zfs, local, noatime, nfsv4acls)\n')
    expect((await sim.runIn(p, 'zfs', 'create', 'zroot/nest/jails/p/data/x')).code).toBe(0)
    // Ancestors of the delegated dataset are visible but read-only; everything else does not exist.
    expect(await sim.runIn(p, 'zfs', 'create', 'zroot/nest/x')).toMatchObject({code: 1, stderr: "cannot create 'zroot/nest/x': permission denied\n"})
    expect(await sim.runIn(p, 'zfs', 'create', 'zroot/usr/x')).toMatchObject({code: 1, stderr: "cannot create 'zroot/usr/x': parent does not exist\n"})
    // A failed zfs set exits 255: set_callback's -1 through zfs_for_each (cmd/zfs/zfs_main.c, zfs_iter.c).
    expect(await sim.runIn(p, 'zfs', 'set', 'jailed=off', 'zroot/nest/jails/p/data')).toMatchObject({code: 255, stderr: "cannot set property for 'zroot/nest/jails/p/data': permission denied\n"})
    expect(await sim.run('zfs', 'set', 'mountpoint=/x', 'zroot/nest/jails/p/data')).toMatchObject({code: 255, stderr: "cannot set property for 'zroot/nest/jails/p/data': 'mountpoint' cannot be set while dataset 'zoned' property is set\n"})
    expect((await sim.run('zfs', 'get', '-H', '-o', 'name,property,value,source', 'jailed', 'zroot/nest/jails/p/data')).stdout).toBe('zroot/nest/jails/p/data\tjailed\ton\tlocal\n')
  })

  it('refuses to destroy a snapshot with dependent clones, or a filesystem whose snapshot has them, in zfs(8)\'s words', async () => {
    await sim.run('zfs', 'create', '-p', 'zroot/r/rel')
    await sim.run('zfs', 'snapshot', 'zroot/r/rel@base')
    await sim.run('zfs', 'clone', 'zroot/r/rel@base', 'zroot/c')
    // cmd/zfs/zfs_main.c, destroy_check_dependent (via snapshot_to_nvl_cb for a snapshot): the target and its type.
    expect(await sim.run('zfs', 'destroy', 'zroot/r/rel@base')).toMatchObject({code: 1, stderr: "cannot destroy 'zroot/r/rel@base': snapshot has dependent clones\nuse '-R' to destroy the following datasets:\nzroot/c\n"})
    expect(await sim.run('zfs', 'destroy', '-r', 'zroot/r/rel')).toMatchObject({code: 1, stderr: "cannot destroy 'zroot/r/rel': filesystem has dependent clones\nuse '-R' to destroy the following datasets:\nzroot/c\n"})
    // Clones first, then their origin: accepted.
    expect((await sim.run('zfs', 'destroy', 'zroot/c')).code).toBe(0)
    expect((await sim.run('zfs', 'destroy', '-r', 'zroot/r/rel')).code).toBe(0)
  })

  it('refuses to mount a non-jailed dataset inside a jail', async () => {
    const p = await parent('p', ['devfs_ruleset=4'])
    await sim.run('mount', '-t', 'devfs', '-oruleset=4', '.', '/jails/p/dev')
    await sim.run('zfs', 'create', '-u', '-o', 'mountpoint=/jails/p/data', 'zroot/d')
    await sim.run('zfs', 'jail', 'p', 'zroot/d')
    expect(await sim.runIn(p, 'zfs', 'mount', 'zroot/d')).toMatchObject({code: 1, stderr: "cannot mount 'zroot/d': permission denied\n"})
  })
})

describe('rule 14: jls formats', () => {
  it('prints the default table, -v and libxo JSON in the real shapes', async () => {
    dirs('/usr/local/bastille/jails/git7/root')
    await sim.run('jail', '-c', 'name=git7', 'host.hostname=git7', 'path=/usr/local/bastille/jails/git7/root', 'persist', 'ip4.addr=172.16.20.98')
    expect((await sim.run('jls')).stdout).toBe('   JID  IP Address      Hostname                      Path\n     1  172.16.20.98    git7                          /usr/local/bastille/jails/git7/root\n')
    const v = await sim.run('jls', '-v', '--libxo=json')
    expect(v.stdout).toBe('{"__version": "2", "jail-information": {"jail": [{"jid":1,"hostname":"git7","path":"/usr/local/bastille/jails/git7/root","name":"git7","state":"ACTIVE","cpusetid":2, "ipv4_addrs": ["172.16.20.98"], "ipv6_addrs": []}]}}\n')
    const n = JSON.parse((await sim.run('jls', '-n', '--libxo', 'json')).stdout) as {'jail-information': {jail: Array<Record<string, unknown>>}}
    expect(n['jail-information'].jail[0]).toMatchObject({jid: '1', name: 'git7', persist: true, 'allow.mount': false, 'ip4.addr': ['172.16.20.98']})
  })
})

describe('rule 15: leftover mounts (error table rows 9 and "umount with submounts")', () => {
  it('says Device busy for a mount with mounts beneath it, and EDEADLK for the same nullfs twice', async () => {
    dirs('/usr/ports', '/vm/h1/usr/ports', '/vm/h1/dev')
    await sim.run('mount', '-t', 'tmpfs', 'tmpfs', '/vm/h1')
    dirs('/vm/h1/usr/ports', '/vm/h1/dev')
    expect((await sim.run('mount', '-t', 'nullfs', '-o', 'ro', '/usr/ports', '/vm/h1/usr/ports')).code).toBe(0)
    expect(await sim.run('mount', '-t', 'nullfs', '-o', 'ro', '/usr/ports', '/vm/h1/usr/ports')).toMatchObject({code: 1, stderr: 'mount_nullfs: /vm/h1/usr/ports: Resource deadlock avoided\n'})
    expect(await sim.run('umount', '/vm/h1')).toMatchObject({code: 1, stderr: 'umount: unmount of /vm/h1 failed: Device busy\n'})
    expect(await sim.run('umount', '-f', '/vm/h1')).toMatchObject({code: 1, stderr: 'umount: unmount of /vm/h1 failed: Device busy\n'})
    expect((await sim.run('umount', '/vm/h1/usr/ports')).code).toBe(0)
    expect((await sim.run('umount', '/vm/h1')).code).toBe(0)
    expect(await sim.run('umount', '/vm/h1')).toMatchObject({code: 1, stderr: 'umount: /vm/h1: not a file system root directory\n'})
  })

  it('reports a leftover nullfs under a stopped parent that blocks its restart', async () => {
    dirs('/jails/h1/usr/ports', '/usr/ports', '/etc')
    writeFileSync(sim.fs('/etc/jail.conf'), 'h1 { path = /jails/h1; persist; mount = "/usr/ports /jails/h1/usr/ports nullfs ro 0 0"; }\n')
    expect((await sim.run('jail', '-c', 'h1')).code).toBe(0)
    expect((await sim.run('jail', '-R', 'h1')).code).toBe(0)
    const again = await sim.run('jail', '-c', 'h1')
    expect(again).toEqual({code: 1, stdout: '', stderr: 'mount_nullfs: /jails/h1/usr/ports: Resource deadlock avoided\njail: h1: /sbin/mount -t nullfs -o ro /usr/ports /jails/h1/usr/ports: failed\n'})
  })
})

describe('jexec and error texts of lookups (error table rows "parent name unknown", jexec)', () => {
  it('matches jexec texts and sysctl views', async () => {
    const p = await parent()
    expect(await sim.run('jexec', 'ioc-x', 'true')).toMatchObject({code: 1, stderr: 'jexec: jail "ioc-x" not found\n'})
    expect((await sim.runIn(p, 'sysctl', '-n', 'security.jail.jailed')).stdout).toBe('1\n')
    expect((await sim.run('sysctl', 'security.jail.jailed')).stdout).toBe('security.jail.jailed: 0\n')
    expect(await sim.run('jail', '-c', 'name=nope.x', 'persist')).toMatchObject({code: 1, stderr: 'jail: jail "nope" not found\n'})
    expect(await sim.run('jail', '-c', 'name=p', 'persist')).toMatchObject({code: 1, stderr: 'jail: "p" already exists\n'})
    expect(await sim.run('jail', '-c', 'name=z', 'path=/')).toMatchObject({code: 1, stderr: 'jail: new jail must persist or attach\n'})
    expect(await sim.run('jail', '-c', 'name=7', 'jid=3', 'persist')).toMatchObject({code: 1, stderr: 'jail: name cannot be numeric (unless it is the jid)\n'})
    expect(await sim.run('jail', '-c', 'name=z', 'persist', 'foo=1')).toMatchObject({code: 1, stderr: 'jail: unknown parameter: foo\n'})
    expect(await sim.run('sysctl', 'kern.nope')).toMatchObject({code: 1, stderr: "sysctl: unknown oid 'kern.nope'\n"})
  })

  it('refuses what it does not emulate with a distinct status', async () => {
    expect(await sim.run('jls', '-x')).toMatchObject({code: 1, stderr: 'usage: jls [-dhNnqv] [-j jail] [param ...]\n'})
    expect(await sim.run('zfs', 'rollback', 'zroot@x')).toMatchObject({code: 69, stderr: 'sim: zfs: zfs rollback: not simulated\n'})
    expect((await sim.run('mount', '-a')).code).toBe(69)
  })
})

describe('the dying state', () => {
  it('hides a dying jail from plain jls and shows it with -d', async () => {
    dirs('/j')
    const k = sim.kernel()
    k.dyingHoldDefault = 5
    writeFileSync(`${sim.root}/kernel.json`, JSON.stringify(k))
    await sim.run('jail', '-c', 'name=d', 'path=/j', 'persist')
    await sim.run('jail', '-r', 'd')
    expect((await sim.run('jls', 'name')).stdout).toBe('')
    expect((await sim.run('jls', '-d', 'name', 'dying')).stdout).toBe('d true\n')
    expect(await sim.run('jexec', 'd', 'true')).toMatchObject({code: 1, stderr: 'jexec: jail "d" is dying\n'})
    expect((await sim.run('jail', '-c', 'name=d', 'path=/j', 'persist')).code).toBe(0)
  })
})

describe('rule 12: jail(8) never reads /etc/jail.conf.d by itself', () => {
  it('finds a jail of /etc/jail.conf.d only through .include', async () => {
    dirs('/etc/jail.conf.d', '/w')
    writeFileSync(sim.fs('/etc/jail.conf.d/w.conf'), 'w { path = /w; persist; }\n')
    writeFileSync(sim.fs('/etc/jail.conf'), '')
    expect(await sim.run('jail', '-c', 'w')).toMatchObject({code: 1, stderr: 'jail: "w" not found\n'})
    writeFileSync(sim.fs('/etc/jail.conf'), '.include "/etc/jail.conf.d/*.conf";\n')
    expect(await sim.run('jail', '-c', 'w')).toMatchObject({code: 0, stdout: 'w: created\n'})
    expect(await sim.run('jail', '-f', '/etc/jail.conf.d/w.conf', '-r', 'w')).toMatchObject({code: 0, stdout: 'w: removed\n'})
  })
})

describe('error table: jid in use, parent dying', () => {
  it('refuses a jid held by a live jail and a child of a dying parent', async () => {
    dirs('/j')
    await sim.run('jail', '-c', 'name=a', 'path=/j', 'persist', 'children.max=2')
    expect(await sim.run('jail', '-c', 'name=b', 'jid=1', 'path=/j', 'persist')).toMatchObject({code: 1, stderr: 'jail: jail 1 already exists\n'})
    const k = sim.kernel()
    k.dyingHoldDefault = 5
    writeFileSync(`${sim.root}/kernel.json`, JSON.stringify(k))
    await sim.run('jail', '-r', 'a')
    expect(await sim.run('jail', '-c', 'name=a.c', 'path=/j', 'persist')).toMatchObject({code: 1, stderr: 'jail: jail "a" is dying\n'})
  })
})

describe('jail -m and -r with a wildcard', () => {
  it('updates settable parameters, refuses a create-only change, and removes unconfigured running jails', async () => {
    dirs('/a', '/etc')
    writeFileSync(sim.fs('/etc/jail.conf'), 'a { path = /a; persist; securelevel = 1; ip4 = disable; }\n')
    expect((await sim.run('jail', '-c', 'a')).code).toBe(0)
    writeFileSync(sim.fs('/etc/jail.conf'), 'a { path = /a; persist; securelevel = 2; ip4 = disable; }\n')
    expect(await sim.run('jail', '-m', 'a')).toMatchObject({code: 0, stdout: 'a: updated\n'})
    expect((await sim.run('jls', '-j', 'a', 'securelevel')).stdout).toBe('2\n')
    writeFileSync(sim.fs('/etc/jail.conf'), 'a { path = /a; persist; ip4 = new; }\n')
    expect(await sim.run('jail', '-m', 'a')).toMatchObject({code: 1, stderr: 'jail: a: ip4 cannot be changed after creation\n'})
    await sim.run('jail', '-c', 'name=b', 'path=/a', 'persist')
    expect(await sim.run('jail', '-r', '*')).toMatchObject({code: 0, stdout: 'a: removed\nb: removed\n'})
    expect((await sim.run('jls', 'name')).stdout).toBe('')
  })
})
