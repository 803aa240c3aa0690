// The processes of jails (src/sim/kernel/procs.ts) and the tools that observe them: the
// control plane's processes go through the kernel's checks with its errnos (uipc_socket.c
// socreate + prison_check_af, raw_ip.c rip_attach, in_pcb.c in_pcbbind_setup, vm_mmap.c
// kern_mlock, sysv_shm.c/sysv_sem.c/sysv_msg.c), a refusal changes nothing; ps, procstat -f,
// ipcs -a and rctl -u show them in FreeBSD's formats; jail -r takes them away, and the SysV
// objects of the namespaces it owned; the invariants hold throughout.
import {mkdirSync} from 'node:fs'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {setRacct, startProc, stopProc} from '../../src/sim/control.js'
import {checkInvariants} from '../../src/sim/invariants.js'
import type {ProcSpec} from '../../src/sim/kernel/procs.js'
import {makeSim, type TestSim} from '../helpers/sim.js'

let sim: TestSim
beforeEach(async () => {
  sim = await makeSim()
})
afterEach(() => sim.cleanup())

/** A persistent jail rooted at /jails/NAME (a child's name dotted), with extra jail(8) parameters. */
async function jail(name: string, ...params: string[]): Promise<number> {
  const p = `/jails/${name.replaceAll('.', '/')}`
  mkdirSync(sim.fs(p), {recursive: true})
  const r = await sim.run('jail', '-c', `name=${name}`, `path=${p}`, 'persist', ...params)
  expect(r.code, r.stderr).toBe(0)
  return sim.jid(name) as number
}

const start = async (j: string, spec: Partial<ProcSpec>): Promise<number> => {
  const r = await startProc(sim.root, j, {comm: 'sleep', ...spec})
  if ('error' in r) throw new Error(r.error)
  return r.pid
}

/** A refusal: its message, and the model exactly as before. */
async function refused(j: string, spec: Partial<ProcSpec>): Promise<string> {
  const before = JSON.stringify(sim.kernel())
  const r = await startProc(sim.root, j, {comm: 'sleep', ...spec})
  expect('error' in r).toBe(true)
  expect(JSON.stringify(sim.kernel())).toBe(before)
  return 'error' in r ? r.error : ''
}

describe('the kernel checks a process goes through', () => {
  it('a raw inet socket: EPERM without allow.raw_sockets (rip_attach, prison_priv_check), granted with it or to a vnet jail', async () => {
    await jail('web', 'ip4=inherit')
    expect(await refused('web', {rawSocket: true})).toBe('web: socket(PF_INET, SOCK_RAW, IPPROTO_ICMP): Operation not permitted')
    await sim.run('jail', '-m', 'name=web', 'allow.raw_sockets')
    expect(await start('web', {rawSocket: true})).toBe(1001)
    await jail('v', 'vnet')
    expect(await start('v', {rawSocket: true})).toBe(1002)
    expect(checkInvariants(sim.kernel())).toEqual([])
  })

  it('a family: EPROTONOSUPPORT from socreate when prison_check_af refuses it (no IPv4; another family without allow.socket_af); a vnet jail any', async () => {
    await jail('web')
    expect(await refused('web', {sockets: ['inet']})).toBe('web: socket(PF_INET, SOCK_DGRAM, 0): Protocol not supported')
    expect(await refused('web', {sockets: ['netgraph']})).toBe('web: socket(PF_NETGRAPH, SOCK_DGRAM, 0): Protocol not supported')
    // AF_LOCAL and AF_ROUTE are always there.
    await start('web', {sockets: ['local', 'route']})
    await sim.run('jail', '-m', 'name=web', 'allow.socket_af')
    await start('web', {sockets: ['netgraph']})
    await jail('v', 'vnet')
    await start('v', {sockets: ['netgraph', 'inet', 'inet6']})
  })

  it('a port below 1024: EACCES without allow.reserved_ports (in_pcbbind_setup), a vnet jail too; a port taken twice is EADDRINUSE', async () => {
    await jail('web', 'ip4=inherit', 'allow.noreserved_ports')
    expect(await refused('web', {listen: [80]})).toBe('web: bind(80): Permission denied')
    await start('web', {listen: [8080]})
    expect(await refused('web', {listen: [8080]})).toBe('web: bind(8080): Address already in use')
    await jail('v', 'vnet', 'allow.noreserved_ports')
    expect(await refused('v', {listen: [22]})).toBe('v: bind(22): Permission denied')
    // Another network stack: the same port is free there.
    await sim.run('jail', '-m', 'name=v', 'allow.reserved_ports')
    await start('v', {listen: [22, 8080]})
  })

  it('SysV: ENOSYS with sysvX=disable (shm_find_prison), made with new; mlock: EPERM without allow.mlock', async () => {
    await jail('web')
    expect(await refused('web', {shm: [4096]})).toBe('web: shmget(IPC_PRIVATE, 4096): Function not implemented')
    expect(await refused('web', {sem: [3]})).toBe('web: semget(IPC_PRIVATE, 3): Function not implemented')
    expect(await refused('web', {msg: 1})).toBe('web: msgget(IPC_PRIVATE): Function not implemented')
    expect(await refused('web', {mlock: 65536})).toBe('web: mlock(65536): Operation not permitted')
    await jail('db', 'sysvshm=new', 'sysvsem=new', 'sysvmsg=new', 'allow.mlock')
    await start('db', {shm: [4096], sem: [3], msg: 1, mlock: 65536})
    expect(await refused('db', {shm: [0]})).toBe('db: shmget(IPC_PRIVATE, 0): Invalid argument')
    const k = sim.kernel()
    expect(k.ipcs?.map((o) => [o.kind, o.id, o.size, o.ns])).toEqual([['shm', 65536, 4096, sim.jid('db')], ['sem', 65536, 3, sim.jid('db')], ['msg', 65536, 2048, sim.jid('db')]])
    expect(k.procs?.[0]?.wired).toBe(65536)
  })

  it('the first refusal fails the whole process: the sockets before it are not kept', async () => {
    await jail('web', 'ip4=inherit')
    expect(await refused('web', {sockets: ['inet'], rawSocket: true})).toContain('Operation not permitted')
    expect(sim.kernel().procs ?? []).toEqual([])
  })

  it('a jail that is not running, and a pid that is not there, are refused in one line', async () => {
    expect(await startProc(sim.root, 'p/a', {comm: 'x'})).toEqual({error: 'p/a: not running', fix: 'nest start p/a'})
    expect(await stopProc(sim.root, 4242)).toEqual({error: '4242: No such process', fix: 'see the processes with ps -ax -o pid,jid,comm'})
  })
})

describe('ps, procstat -f, ipcs -a, rctl -u', () => {
  async function scene(): Promise<{p: number; a: number}> {
    const p = await jail('p', 'ip4=inherit', 'ip6=inherit', 'children.max=4', 'allow.raw_sockets', 'allow.socket_af', 'sysvshm=new', 'sysvsem=new', 'sysvmsg=new', 'allow.mlock')
    const a = await jail('p.a', 'ip4=inherit', 'ip6=inherit', 'allow.raw_sockets', 'allow.socket_af', 'allow.mlock', 'sysvshm=inherit')
    await start('p', {comm: 'postgres', listen: [5432], shm: [1048576], sem: [17], msg: 1})
    await start('p.a', {comm: 'pinger', rawSocket: true, mlock: 8192})
    await start('p.a', {comm: 'ngctl', sockets: ['netgraph', 'inet6', 'local']})
    return {p, a}
  }

  it('ps -ax -o pid,jid,comm: every process from the host, rows by pid, columns as wide as their widest cell', async () => {
    const {p, a} = await scene()
    expect(await sim.run('ps', '-ax', '-o', 'pid,jid,comm')).toEqual({code: 0, stderr: '', stdout: ` PID JID COMMAND\n1001   ${p} postgres\n1002   ${a} pinger\n1003   ${a} ngctl\n`})
    // From inside p: its own and its child's; the jail column names a child relative to p, itself `-`.
    expect((await sim.runIn(p, 'ps', '-ax', '-o', 'pid,jail,comm')).stdout).toBe(' PID JAIL COMMAND\n1001 -    postgres\n1002 a    pinger\n1003 a    ngctl\n')
    expect((await sim.runIn(a, 'ps', '-ax', '-o', 'pid,comm')).stdout).toBe(' PID COMMAND\n1002 pinger\n1003 ngctl\n')
    // -J implies -x; `kw=` leaves the header out when every header is empty; the rest of an argument after `=` is the header.
    expect((await sim.run('ps', '-J', 'p.a', '-o', 'pid=', '-o', 'jid=')).stdout).toBe(`1002 ${a}\n1003 ${a}\n`)
    expect((await sim.run('ps', '-J', 'p.a', '-o', 'pid=A,B')).stdout).toBe(' A,B\n1002\n1003\n')
    expect(await sim.run('ps', '-J', 'nosuch', '-o', 'pid')).toMatchObject({code: 1, stderr: 'ps: Invalid jail id: nosuch\n'})
    // No controlling terminal anywhere: plain ps keeps nothing; the default format is refused with -x.
    expect(await sim.run('ps')).toMatchObject({code: 1, stdout: 'PID TT  STAT TIME COMMAND\n'})
    expect((await sim.run('ps', '-ax')).code).toBe(69)
    expect((await sim.run('ps', '-ax', '-o', 'pid,rss')).code).toBe(69)
  })

  it('procstat -f: the header once, a row per socket with PRO from protocol_to_string', async () => {
    await scene()
    const r = await sim.run('procstat', '-f', '1001', '1002', '1003', '4242')
    expect(r.stdout).toBe([
      '  PID COMM                FD T V FLAGS    REF  OFFSET PRO NAME        ',
      ' 1001 postgres             3 s - rw------   1       0 TCP 0.0.0.0:5432 0.0.0.0:0',
      ' 1002 pinger               3 s - rw------   1       0 ICM 0.0.0.0:0 0.0.0.0:0',
      ' 1003 ngctl                3 s - rw------   1       0 ?    ',
      ' 1003 ngctl                4 s - rw------   1       0 UDP ::.0 ::.0',
      ' 1003 ngctl                5 s - rw------   1       0 UDS -',
      '',
    ].join('\n'))
    expect(r.stderr).toBe('procstat: sysctl: kern.proc.pid: 4242: No such process\n')
  })

  it('ipcs -a: the host sees every object; a jail its namespace\'s; a jail with sysv disabled none', async () => {
    const {p, a} = await scene()
    await jail('q')
    const host = (await sim.run('ipcs', '-a')).stdout
    expect(host).toBe([
      'Message Queues:',
      'T           ID          KEY MODE        OWNER    GROUP    CREATOR  CGROUP                 CBYTES                 QNUM               QBYTES        LSPID        LRPID STIME    RTIME    CTIME   ',
      `q        65536            0 --rw------- root     wheel    root     wheel               0            0                 2048            0            0 no-entry no-entry ${host.split('\n')[2]?.slice(-8)}`,
      '',
      'Shared Memory:',
      'T           ID          KEY MODE        OWNER    GROUP    CREATOR  CGROUP         NATTCH        SEGSZ         CPID         LPID ATIME    DTIME    CTIME   ',
      `m        65536            0 --rw------- root     wheel    root     wheel               0      1048576         1001            0 no-entry no-entry ${host.split('\n')[2]?.slice(-8)}`,
      '',
      'Semaphores:',
      'T           ID          KEY MODE        OWNER    GROUP    CREATOR  CGROUP          NSEMS OTIME    CTIME   ',
      `s        65536            0 --rw------- root     wheel    root     wheel              17 no-entry ${host.split('\n')[2]?.slice(-8)}`,
      '',
      '',
    ].join('\n'))
    expect(host.split('\n')[2]?.slice(-8)).toMatch(/^[ \d]\d:\d\d:\d\d$/)
    // p's own namespace: it sees what its processes made.
    expect((await sim.runIn(p, 'ipcs', '-m')).stdout).toBe('Shared Memory:\nT           ID          KEY MODE        OWNER    GROUP   \nm        65536            0 --rw------- root     wheel   \n\n')
    // p.a shares p's shared memory (inherit: its IPC prison is p's, shm_prison_cansee); its semaphores are disabled.
    expect((await sim.runIn(a, 'ipcs', '-m')).stdout).toBe('Shared Memory:\nT           ID          KEY MODE        OWNER    GROUP   \nm        65536            0 --rw------- root     wheel   \n\n')
    expect((await sim.runIn(a, 'ipcs', '-s')).stdout).toBe('Semaphores:\nT           ID          KEY MODE        OWNER    GROUP   \n\n')
    expect((await sim.runIn(sim.jid('q') as number, 'ipcs', '-q')).stdout).toBe('Message Queues:\nT           ID          KEY MODE        OWNER    GROUP   \n\n')
  })

  it('rctl -u jail:NAME: what the processes use, a parent\'s totals with its descendants\'', async () => {
    await setRacct(sim.root, true)
    await scene()
    const used = async (name: string): Promise<string> => (await sim.run('rctl', '-u', `jail:${name}`)).stdout.split('\n').filter((l) => l !== '' && !l.endsWith('=0')).join(' ')
    expect(await used('p')).toBe('memorylocked=8192 maxproc=3 nthr=3 nmsgq=1 nsem=17 nshm=1 shmsize=1048576')
    expect(await used('p.a')).toBe('memorylocked=8192 maxproc=2 nthr=2')
    await stopProc(sim.root, 1002)
    expect(await used('p.a')).toBe('maxproc=1 nthr=1')
  })

  it('freebsd-version -kru: the model\'s release, in the order k, r, u; in a jail only -r', async () => {
    const j = await jail('web', 'osrelease=13.5-RELEASE')
    expect((await sim.run('freebsd-version', '-kru')).stdout).toBe('14.3-RELEASE\n14.3-RELEASE\n14.3-RELEASE\n')
    expect((await sim.run('freebsd-version')).stdout).toBe('14.3-RELEASE\n')
    expect((await sim.runIn(j, 'freebsd-version', '-r')).stdout).toBe('13.5-RELEASE\n')
    expect((await sim.runIn(j, 'freebsd-version', '-k')).code).toBe(69)
  })
})

describe('lifecycle', () => {
  it('jail -r kills the jail\'s processes and its descendants\', and takes the SysV objects of the namespaces it owned', async () => {
    await jail('p', 'ip4=inherit', 'children.max=2', 'sysvshm=new', 'sysvsem=new')
    await jail('p.a', 'sysvshm=inherit', 'sysvsem=new')
    await jail('h', 'sysvshm=inherit')
    await start('p', {shm: [4096]})
    await start('p.a', {shm: [8192], sem: [2]})
    await start('h', {shm: [100]})
    expect(sim.kernel().ipcs?.length).toBe(4)
    expect((await sim.run('jail', '-r', 'p')).code).toBe(0)
    const k = sim.kernel()
    expect(k.procs?.map((x) => x.comm)).toEqual(['sleep'])
    expect(k.procs?.[0]?.jid).toBe(sim.jid('h'))
    // h's segment is in the host's namespace (inherit): it stays.
    expect(k.ipcs?.map((o) => [o.kind, o.size])).toEqual([['shm', 100]])
    expect(checkInvariants(k)).toEqual([])
  })

  it('a process keeps a non-persistent jail alive; when the last one stops, the jail dies', async () => {
    await jail('web')
    const pid = await start('web', {})
    await sim.run('jail', '-m', 'name=web', 'nopersist')
    expect(sim.alive()).toEqual(['web'])
    await stopProc(sim.root, pid)
    expect(sim.alive()).toEqual([])
  })

  it('a jail\'s /etc/rc starts syslogd (its two log sockets) and cron; /etc/rc.shutdown stops them', async () => {
    const j = await jail('web', 'exec.start=/bin/sh /etc/rc', 'exec.stop=/bin/sh /etc/rc.shutdown')
    expect((await sim.run('ps', '-J', String(j), '-o', 'pid,comm')).stdout).toBe(' PID COMMAND\n1001 syslogd\n1002 cron\n')
    expect((await sim.run('procstat', '-f', '1001')).stdout.split('\n').slice(1, 3)).toEqual([
      ' 1001 syslogd              4 s - rw------   1       0 UDD /var/run/log',
      ' 1001 syslogd              5 s - rw------   1       0 UDD /var/run/logpriv',
    ])
    expect(sim.kernel().jails.find((x) => x.jid === j)?.daemons).toBe(1)
    expect((await sim.run('jail', '-r', 'web')).code).toBe(0)
    expect(sim.kernel().procs).toEqual([])
  })

  it('an invariant catches a process in a jail that is gone', async () => {
    const k = sim.kernel()
    k.procs = [{pid: 5, jid: 77, comm: 'x', uid: 0, sockets: [], wired: 0}]
    expect(checkInvariants(k)).toContain('pid 5: its jail 77 is not alive')
  })
})

describe('mounts from inside and devfs -m', () => {
  it('a jail mounts a tmpfs exactly with allow.mount, allow.mount.tmpfs and enforce_statfs < 2', async () => {
    const j = await jail('web', 'allow.mount', 'allow.mount.tmpfs', 'enforce_statfs=1')
    mkdirSync(sim.fs('/jails/web/tmp'))
    expect(await sim.runIn(j, 'mount', '-t', 'tmpfs', 'tmpfs', '/tmp')).toMatchObject({code: 0, stderr: ''})
    expect(sim.mountsBelow('/jails/web')).toEqual(['tmpfs /jails/web/tmp'])
    expect((await sim.runIn(j, 'umount', '/tmp')).code).toBe(0)
    for (const change of [['enforce_statfs=2'], ['enforce_statfs=1', 'allow.mount.notmpfs'], ['allow.mount.tmpfs', 'allow.nomount']]) {
      expect((await sim.run('jail', '-m', 'name=web', ...change)).code).toBe(0)
      expect(await sim.runIn(j, 'mount', '-t', 'tmpfs', 'tmpfs', '/tmp')).toMatchObject({code: 1, stderr: 'mount: tmpfs: Operation not permitted\n'})
    }
    expect(sim.mountsBelow('/jails/web')).toEqual([])
  })

  it('devfs -m ON rule show: the rules of the ruleset bound to that devfs mount; a directory that is no devfs, or none, fails', async () => {
    mkdirSync(sim.fs('/jails/web/dev'), {recursive: true})
    await jail('web', 'mount.devfs', 'devfs_ruleset=4')
    expect(await sim.run('devfs', '-m', '/jails/web/dev', 'rule', 'show')).toEqual({code: 0, stderr: '', stdout: '100 include 1\n200 include 2\n300 include 3\n400 path fuse unhide\n500 path zfs unhide\n'})
    expect(await sim.run('devfs', '-m', '/jails', 'rule', 'show')).toMatchObject({code: 1, stderr: 'devfs rule: ioctl DEVFSIO_RGETNEXT: Inappropriate ioctl for device\n'})
    expect(await sim.run('devfs', '-m', '/nosuch', 'rule', 'show')).toMatchObject({code: 1, stderr: 'devfs: open: /nosuch: No such file or directory\n'})
  })
})
