// The base utilities a jailed process runs on the simulated host (src/sim/tools/utils.ts): ls,
// cat, uname and hostname over the caller's view of the tree, never outside it; ps (tools/ps.ts) and df, and
// every flag not simulated, refused with exit 69. Formats from bin/ls/ls.c and print.c,
// bin/cat/cat.c, usr.bin/uname/uname.c, bin/hostname/hostname.c.
import {mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {lsTime, strmode} from '../../src/sim/tools/utils.js'
import {makeSim, type TestSim} from '../helpers/sim.js'

let sim: TestSim
let outside: string
beforeEach(async () => {
  sim = await makeSim()
  outside = mkdtempSync(path.join(tmpdir(), 'nest-utils-outside-'))
  writeFileSync(path.join(outside, 'secret'), 'outside the tree\n')
})
afterEach(() => {
  sim.cleanup()
  rmSync(outside, {recursive: true, force: true})
})

/** A jail rooted at /jails/web with a few files, one a dot file. */
async function web(extra: string[] = []): Promise<number> {
  sim.mkdirs('/jails/web/etc', '/jails/web/bin', '/jails/web/var/empty', '/jails/web/dev')
  writeFileSync(sim.fs('/jails/web/etc/motd'), 'hello from web\n')
  writeFileSync(sim.fs('/jails/web/.profile'), 'PATH=/bin\n')
  const r = await sim.run('jail', '-c', 'name=web', 'path=/jails/web', 'host.hostname=web.example.org', 'persist', ...extra)
  expect(r.code, r.stderr).toBe(0)
  return sim.jid('web') as number
}

const jexec = (...cmd: string[]): ReturnType<TestSim['run']> => sim.run('jexec', 'web', ...cmd)

describe('ls (bin/ls/ls.c, print.c)', () => {
  it('lists the jail root one name a line (output no terminal), dot files included for root (implied -A), byte order', async () => {
    await web()
    const r = await jexec('ls', '/')
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toBe('.profile\nbin\ndev\netc\nvar\n')
    expect((await jexec('/bin/ls')).stdout).toBe('.profile\nbin\ndev\netc\nvar\n')
    expect((await jexec('ls', '-1', '/etc')).stdout).toBe('motd\n')
  })

  it('-a adds . and ..; ".." of the jail root is the root itself', async () => {
    await web()
    const r = await jexec('ls', '-a', '/')
    expect(r.stdout).toBe('.\n..\n.profile\nbin\ndev\netc\nvar\n')
    const l = await jexec('ls', '-la', '/')
    const lines = l.stdout.split('\n')
    // `.` and `..` of "/" are the same directory: the same link count.
    const nlink = (s: string | undefined): string | undefined => s?.split(/ +/)[1]
    expect(nlink(lines[1])).toBe(nlink(lines[2]))
  })

  it('-l: total, strmode, links, root  wheel, size, time, name, -> target', async () => {
    await web()
    symlinkSync('motd', sim.fs('/jails/web/etc/motd.link'))
    const when = new Date('2026-11-20T08:05:00Z')
    utimesSync(sim.fs('/jails/web/etc/motd'), when, when)
    const r = await jexec('ls', '-l', '/etc')
    expect(r.code, r.stderr).toBe(0)
    const lines = r.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^total \d+$/)
    expect(lines[1]).toMatch(/^-rw-r--r-- {2}1 root {2}wheel {2}15 Nov 20 08:05 motd$/)
    expect(lines[2]).toMatch(/^l[rwx-]{9} {2}1 root {2}wheel {3}4 \w{3} [ \d]\d \d\d:\d\d motd\.link -> motd$/)
  })

  it('files first, then each directory under its name; a missing one warned of, exit 1', async () => {
    await web()
    const r = await jexec('ls', '/etc', '/etc/motd', '/nonesuch')
    expect(r.code).toBe(1)
    expect(r.stderr).toBe('ls: /nonesuch: No such file or directory\n')
    expect(r.stdout).toBe('/etc/motd\n\n/etc:\nmotd\n')
  })

  it('a link planted in the jail pointing outside leads to the jail root, never out', async () => {
    await web()
    symlinkSync(outside, sim.fs('/jails/web/escape'))
    symlinkSync('../../../../../../..', sim.fs('/jails/web/up'))
    expect((await jexec('ls', '/escape')).code).toBe(1)
    expect((await jexec('ls', '/up')).stdout).toBe('.profile\nbin\ndev\nescape\netc\nup\nvar\n')
  })

  it('refuses options it does not simulate (exit 69)', async () => {
    await web()
    const r = await jexec('ls', '-R', '/')
    expect(r.code).toBe(69)
    expect(r.stderr).toBe('sim: ls -R: not simulated\n')
  })

  it('strmode and printtime as libc and print.c write them', () => {
    expect(strmode(0o040755)).toBe('drwxr-xr-x ')
    expect(strmode(0o104755)).toBe('-rwsr-xr-x ')
    expect(strmode(0o041777)).toBe('drwxrwxrwt ')
    expect(strmode(0o041776)).toBe('drwxrwxrwT ')
    expect(strmode(0o120755)).toBe('lrwxr-xr-x ')
    const now = Date.parse('2026-12-01T12:00:00Z')
    expect(lsTime(Date.parse('2026-12-01T09:07:00Z'), now)).toBe('Dec  1 09:07 ')
    expect(lsTime(Date.parse('2025-01-15T09:07:00Z'), now)).toBe('Jan 15  2025 ')
  })
})

describe('cat (bin/cat/cat.c)', () => {
  it('prints files of the jail view; a missing one or a directory warned of, the rest still printed, exit 1', async () => {
    await web()
    expect(await jexec('cat', '/etc/motd')).toMatchObject({code: 0, stdout: 'hello from web\n'})
    const r = await jexec('cat', '/nonesuch', '/etc', '/etc/motd')
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('hello from web\n')
    expect(r.stderr).toBe('cat: /nonesuch: No such file or directory\ncat: /etc: Is a directory\n')
  })

  it('a link pointing outside the tree is resolved inside the jail: cat never reads outside', async () => {
    await web()
    // Absolute: from the jail's "/", so /tmp/.../secret inside the jail (absent).
    symlinkSync(path.join(outside, 'secret'), sim.fs('/jails/web/etc/abs'))
    // Relative with many "..": stops at the jail's root, lands on the jail's /etc/motd.
    symlinkSync('../../../../../../../../etc/motd', sim.fs('/jails/web/etc/rel'))
    // A host file the jail must not see through a link either.
    sim.mkdirs('/etc')
    writeFileSync(sim.fs('/etc/host-only'), 'host secret\n')
    symlinkSync('/../../etc/host-only', sim.fs('/jails/web/etc/hostlink'))
    const abs = await jexec('cat', '/etc/abs')
    expect(abs.code).toBe(1)
    expect(abs.stdout).toBe('')
    expect(abs.stderr).toBe('cat: /etc/abs: No such file or directory\n')
    expect(await jexec('cat', '/etc/rel')).toMatchObject({code: 0, stdout: 'hello from web\n'})
    expect(await jexec('cat', '/etc/hostlink')).toMatchObject({code: 1, stdout: ''})
    expect(await jexec('cat', '/../../../etc/host-only')).toMatchObject({code: 1, stdout: ''})
  })

  it('sees what a nullfs mount shows in the jail', async () => {
    await web()
    sim.mkdirs('/data/shared', '/jails/web/mnt')
    writeFileSync(sim.fs('/data/shared/note'), 'shared\n')
    const m = await sim.run('mount_nullfs', '/data/shared', '/jails/web/mnt')
    expect(m.code, m.stderr).toBe(0)
    expect(await jexec('cat', '/mnt/note')).toMatchObject({code: 0, stdout: 'shared\n'})
    expect((await jexec('ls', '/mnt')).stdout).toBe('note\n')
  })

  it('refuses flags and standard input (exit 69)', async () => {
    await web()
    expect((await jexec('cat', '-n', '/etc/motd')).code).toBe(69)
    expect(await jexec('cat')).toMatchObject({code: 69})
  })
})

describe('uname and hostname (usr.bin/uname/uname.c, bin/hostname/hostname.c)', () => {
  it('report the jail\'s kern.ostype, kern.hostname, kern.osrelease and hw.machine, in the order s n r v m', async () => {
    await web()
    const rel = (await sim.runIn(sim.jid('web') as number, 'sysctl', '-n', 'kern.osrelease')).stdout.trim()
    expect((await jexec('uname')).stdout).toBe('FreeBSD\n')
    expect((await jexec('uname', '-s')).stdout).toBe('FreeBSD\n')
    expect((await jexec('uname', '-r')).stdout).toBe(`${rel}\n`)
    expect((await jexec('uname', '-n')).stdout).toBe('web.example.org\n')
    expect((await jexec('uname', '-m')).stdout).toBe('amd64\n')
    expect((await jexec('uname', '-mns')).stdout).toBe('FreeBSD web.example.org amd64\n')
    expect((await jexec('uname', '-a')).stdout).toBe(`FreeBSD web.example.org ${rel} FreeBSD ${rel} GENERIC amd64\n`)
    expect((await jexec('uname', '-p')).code).toBe(69)
  })

  it('hostname prints the jail\'s host.hostname; -s up to the first dot; setting it is refused', async () => {
    await web()
    expect((await jexec('hostname')).stdout).toBe('web.example.org\n')
    expect((await jexec('hostname', '-s')).stdout).toBe('web\n')
    expect((await jexec('hostname', 'other')).code).toBe(69)
  })
})

describe('what is not simulated', () => {
  it('ps: no process has a controlling terminal, so the header alone and exit 1 (ps.c, keyword.c); -x with the default format refused (tools/ps.ts)', async () => {
    await web()
    expect(await jexec('ps')).toMatchObject({code: 1, stdout: 'PID TT  STAT TIME COMMAND\n', stderr: ''})
    expect(await jexec('ps', '-a')).toMatchObject({code: 1, stdout: 'PID TT  STAT TIME COMMAND\n'})
    const x = await jexec('ps', '-ax')
    expect(x.code).toBe(69)
    expect(x.stderr).toBe('sim: ps: ps with the default format (state and times are not in the model; give -o pid,jid,comm): not simulated\n')
  })

  it('login (nest console) says in one line what to do instead', async () => {
    await web()
    const r = await sim.run('jexec', '-l', 'web', 'login', '-f', 'root')
    expect(r.code).toBe(69)
    expect(r.stderr).toBe('sim: login: not simulated (a console needs login(1) on a real FreeBSD host); run commands with nest exec web -- CMD\n')
  })

  it('a host file is not in the jail\'s view', async () => {
    mkdirSync(sim.fs('/srv'), {recursive: true})
    writeFileSync(sim.fs('/srv/hello'), 'host\n')
    await web()
    expect(await sim.run('jexec', 'web', 'cat', '/srv/hello')).toMatchObject({code: 1})
  })
})

describe('df (bin/df/df.c)', () => {
  it('the host: every mount, 512-blocks, widths from the widest value, capacity, mount point', async () => {
    await web()
    const k = sim.kernel()
    const host = await sim.run('jexec', 'web', 'df')
    expect(host.code, host.stderr).toBe(0)
    const lines = host.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^Filesystem +512-blocks +Used +Avail Capacity {2}Mounted on$/)
    // web (enforce_statfs=2) sees only the mount holding its root, as "/".
    const rootMount = k.mounts.find((m) => m.id === k.jails.find((j) => j.name === 'web')?.rootMountId)
    expect(lines.length).toBe(rootMount ? 2 : 1)
    if (rootMount) expect(lines[1]).toMatch(new RegExp(`^${rootMount.from} +\\d+ +\\d+ +\\d+ +\\d+% {4}/$`))
  })

  it('devfs is 2 blocks, all used; nullfs reports the file system beneath; in a jail with enforce_statfs=1 the paths are the jail\'s', async () => {
    await web(['enforce_statfs=1', 'mount.devfs'])
    sim.mkdirs('/data/shared', '/jails/web/mnt')
    expect((await sim.run('mount_nullfs', '/data/shared', '/jails/web/mnt')).code).toBe(0)
    const r = await jexec('df')
    expect(r.code, r.stderr).toBe(0)
    const lines = r.stdout.trimEnd().split('\n')
    const dev = lines.find((l) => l.endsWith(' /dev'))
    expect(dev).toMatch(/^devfs +2 +2 +0 +100% {4}\/dev$/)
    const mnt = lines.find((l) => l.endsWith(' /mnt'))
    expect(mnt).toMatch(/^\/data\/shared +\d+ +\d+ +\d+ +\d+% {4}\/mnt$/)
    const w = lines[0]?.indexOf('512-blocks') as number
    for (const l of lines.slice(1)) expect(l.slice(0, w)).toMatch(/ $/)
    expect((await jexec('df', '-h')).code).toBe(69)
  })
})
