// `zfs send | zfs recv` on the simulated host: two tool calls joined by a pipe (in-process, as
// test/helpers/inprocess.ts's Host runs them, and as real processes through Host.pipe), the
// stream carrying datasets, properties, snapshots and files; receive's options and failures.
import {chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {makeHost} from '../../src/host/host.js'
import type {HostInfo} from '../../src/host/select.js'
import {pipeTools} from '../../src/sim/inprocess.js'
import {addFault} from '../../src/sim/control.js'
import {loadKernel, saveKernel, simPaths} from '../../src/sim/store.js'
import {inProcessHost, programs} from '../helpers/inprocess.js'
import {makeSim, type TestSim} from '../helpers/sim.js'

let sim: TestSim
beforeEach(async () => {
  sim = await makeSim()
})
afterEach(() => sim.cleanup())

const ok = async (tool: string, ...args: string[]): Promise<string> => {
  const r = await sim.run(tool, ...args)
  expect(r.stderr).toBe('')
  expect(r.code).toBe(0)
  return r.stdout
}

/** `zfs a… | zfs b…` in-process. */
const zpipe = (from: string[], to: string[]) =>
  pipeTools(programs, ['zfs', from], ['zfs', to], {root: sim.root, jid: 0, env: {...process.env, NEST_SIM_ROOT: sim.root, NEST_SIM_JID: '0', NEST_SIM_LATENCY: ''}})

const get = (props: string, ds: string): Promise<string> => ok('zfs', 'get', '-H', '-o', 'property,value,source', props, ds)

/**
 * A guest-like tree: zroot/guest/ROOT/default (the boot environment: files, a link, a setuid
 * binary, a directory of its own mode; atime=off, canmount=noauto once written) and
 * zroot/guest/home with a child home/user, each snapshotted @m.
 */
async function guest(): Promise<void> {
  await ok('zfs', 'create', '-o', 'mountpoint=none', 'zroot/guest')
  await ok('zfs', 'create', '-o', 'mountpoint=none', '-o', 'canmount=off', 'zroot/guest/ROOT')
  await ok('zfs', 'create', '-o', 'mountpoint=/g/root', '-o', 'atime=off', '-o', 'exec=on', 'zroot/guest/ROOT/default')
  mkdirSync(sim.fs('/g/root/etc'), {recursive: true})
  writeFileSync(sim.fs('/g/root/etc/rc.conf'), 'hostname="guest"\n')
  mkdirSync(sim.fs('/g/root/bin'))
  writeFileSync(sim.fs('/g/root/bin/su'), 'su binary')
  chmodSync(sim.fs('/g/root/bin/su'), 0o4555)
  symlinkSync('/etc/rc.conf', sim.fs('/g/root/rc.link'))
  mkdirSync(sim.fs('/g/root/tmp'))
  chmodSync(sim.fs('/g/root/tmp'), 0o1777)
  mkdirSync(sim.fs('/g/root/var'))
  writeFileSync(sim.fs('/g/root/var/owned'), 'o')
  chownSync(sim.fs('/g/root/var/owned'), 1001, 1002)
  await ok('zfs', 'snapshot', 'zroot/guest/ROOT/default@m')
  await ok('zfs', 'set', 'canmount=noauto', 'zroot/guest/ROOT/default')
  await ok('zfs', 'create', '-o', 'mountpoint=/g/home', '-o', 'setuid=off', 'zroot/guest/home')
  await ok('zfs', 'create', 'zroot/guest/home/user')
  writeFileSync(sim.fs('/g/home/README'), 'home\n')
  writeFileSync(sim.fs('/g/home/user/.profile'), 'PATH=/bin\n')
  await ok('zfs', 'snapshot', 'zroot/guest/home@m')
  await ok('zfs', 'snapshot', 'zroot/guest/home/user@m')
  await ok('zfs', 'create', '-p', '-o', 'mountpoint=/nest/jails/j', 'zroot/nest/jails/j')
}

/** Every entry below a host directory: path, type, mode (and a link's target, a file's text). */
function tree(dir: string): string[] {
  const out: string[] = []
  const walk = (d: string, rel: string): void => {
    for (const n of readdirSync(d).sort()) {
      const p = path.join(d, n)
      const st = lstatSync(p)
      const r = `${rel}/${n}`
      const mode = (st.mode & 0o7777).toString(8)
      if (st.isSymbolicLink()) out.push(`${r} -> ${readlinkSync(p)}`)
      else if (st.isDirectory()) {
        out.push(`${r}/ ${mode}`)
        walk(p, r)
      } else out.push(`${r} ${mode} ${readFileSync(p, 'utf8')}`)
    }
  }
  walk(dir, '')
  return out
}

const datasets = (): string[] => sim.kernel().datasets.map((d) => d.name).sort()
const staging = (): string[] => readdirSync(path.join(sim.root, 'snapshots')).filter((n) => n.startsWith('.recv-'))

describe('zfs send | zfs recv', () => {
  it('receives a boot environment as a jail root: -o values local, the rest received, not mounted (-u), files kept until the mount', async () => {
    await guest()
    const r = await zpipe(['send', '-R', 'zroot/guest/ROOT/default@m'], ['recv', '-u', '-o', 'mountpoint=/nest/jails/j/root', '-o', 'canmount=on', 'zroot/nest/jails/j/root'])
    expect(r.to).toEqual({code: 0, stdout: '', stderr: ''})
    expect(r.from).toEqual({code: 0, stdout: '', stderr: ''})
    expect(await get('mountpoint,canmount,atime,exec,mounted', 'zroot/nest/jails/j/root')).toBe(
      'mountpoint\t/nest/jails/j/root\tlocal\ncanmount\ton\tlocal\natime\toff\treceived\nexec\ton\treceived\nmounted\tno\t-\n',
    )
    expect(await ok('zfs', 'list', '-H', '-t', 'snapshot', '-o', 'name', '-r', 'zroot/nest')).toBe('zroot/nest/jails/j/root@m\n')
    expect(existsSync(sim.fs('/nest/jails/j/root/etc'))).toBe(false)
    await ok('zfs', 'mount', 'zroot/nest/jails/j/root')
    expect(tree(sim.fs('/nest/jails/j/root'))).toEqual(['/bin/ 755', '/bin/su 4555 su binary', '/etc/ 755', '/etc/rc.conf 644 hostname="guest"\n', '/rc.link -> /etc/rc.conf', '/tmp/ 1777', '/var/ 755', '/var/owned 644 o'])
    const owned = lstatSync(sim.fs('/nest/jails/j/root/var/owned'))
    expect([owned.uid, owned.gid]).toEqual([1001, 1002])
    expect(staging()).toEqual([])
  })

  it('receives below the root with -x mountpoint: the mountpoint inherits, a descendant comes along with its own files only', async () => {
    await guest()
    await zpipe(['send', '-R', 'zroot/guest/ROOT/default@m'], ['recv', '-u', '-o', 'mountpoint=/nest/jails/j/root', '-o', 'canmount=on', 'zroot/nest/jails/j/root'])
    const r = await zpipe(['send', '-R', 'zroot/guest/home@m'], ['recv', '-u', '-x', 'mountpoint', 'zroot/nest/jails/j/root/home'])
    expect([r.from.code, r.to.code, r.to.stderr]).toEqual([0, 0, ''])
    expect(await get('mountpoint,setuid', 'zroot/nest/jails/j/root/home')).toBe('mountpoint\t/nest/jails/j/root/home\tinherited from zroot/nest/jails/j/root\nsetuid\toff\treceived\n')
    expect(await get('mountpoint,setuid', 'zroot/nest/jails/j/root/home/user')).toBe('mountpoint\t/nest/jails/j/root/home/user\tinherited from zroot/nest/jails/j/root\nsetuid\toff\tinherited from zroot/nest/jails/j/root/home\n')
    expect(await ok('zfs', 'list', '-H', '-r', '-t', 'all', '-o', 'name', 'zroot/nest/jails/j/root/home')).toBe('zroot/nest/jails/j/root/home\nzroot/nest/jails/j/root/home/user\nzroot/nest/jails/j/root/home/user@m\nzroot/nest/jails/j/root/home@m\n')
    await ok('zfs', 'mount', 'zroot/nest/jails/j/root')
    await ok('zfs', 'mount', 'zroot/nest/jails/j/root/home')
    expect(tree(sim.fs('/nest/jails/j/root/home'))).toEqual(['/README 644 home\n'])
    await ok('zfs', 'mount', 'zroot/nest/jails/j/root/home/user')
    expect(tree(sim.fs('/nest/jails/j/root/home/user'))).toEqual(['/.profile 644 PATH=/bin\n'])
  })

  it('receives below a jailed=on dataset: jailed inherits, the received mountpoint is kept and the host never mounts it', async () => {
    await guest()
    await ok('zfs', 'create', '-o', 'mountpoint=/g/bastille', 'zroot/guest/bastille')
    writeFileSync(sim.fs('/g/bastille/bastille.conf'), 'x\n')
    await ok('zfs', 'snapshot', 'zroot/guest/bastille@m')
    await ok('zfs', 'unmount', 'zroot/guest/bastille')
    await ok('zfs', 'set', 'canmount=noauto', 'zroot/guest/bastille')
    await ok('zfs', 'set', 'mountpoint=/usr/local/bastille', 'zroot/guest/bastille')
    await ok('zfs', 'create', '-o', 'jailed=on', '-o', 'mountpoint=none', 'zroot/nest/jails/j/data')
    const r = await zpipe(['send', '-R', 'zroot/guest/bastille@m'], ['recv', '-u', 'zroot/nest/jails/j/data/bastille'])
    expect([r.from.code, r.to.code, r.to.stderr]).toEqual([0, 0, ''])
    expect(await get('jailed,mountpoint', 'zroot/nest/jails/j/data/bastille')).toBe('jailed\ton\tinherited from zroot/nest/jails/j/data\nmountpoint\t/usr/local/bastille\treceived\n')
    await ok('zfs', 'mount', '-a')
    expect(sim.kernel().mounts.some((m) => m.dataset === 'zroot/nest/jails/j/data/bastille')).toBe(false)
    expect(existsSync(sim.fs('/usr/local/bastille'))).toBe(false)
  })

  it('without -u mounts what it received at its received mountpoint: over the host\'s own directory (the mistake -u and -x avoid)', async () => {
    await ok('zfs', 'create', '-o', 'mountpoint=/g/log', 'zroot/glog')
    writeFileSync(sim.fs('/g/log/messages'), 'guest log\n')
    await ok('zfs', 'snapshot', 'zroot/glog@m')
    await ok('zfs', 'unmount', 'zroot/glog')
    await ok('zfs', 'set', 'canmount=noauto', 'zroot/glog')
    await ok('zfs', 'set', 'mountpoint=/var/log', 'zroot/glog')
    await ok('zfs', 'create', '-o', 'mountpoint=/nest/x', 'zroot/x')
    // canmount=noauto came along (received): -o canmount=on without -u mounts it at once.
    const r = await zpipe(['send', '-R', 'zroot/glog@m'], ['recv', '-o', 'canmount=on', 'zroot/x/log'])
    expect([r.from.code, r.to.code, r.to.stderr]).toEqual([0, 0, ''])
    expect(sim.kernel().mounts.find((m) => m.dataset === 'zroot/x/log')?.on).toBe('/var/log')
    expect(readFileSync(sim.fs('/var/log/messages'), 'utf8')).toBe('guest log\n')
  })

  it('send -nP prints each snapshot and the total from the model; nothing is written', async () => {
    await guest()
    await ok('zfs', 'snapshot', 'zroot/guest/home@n')
    await ok('zfs', 'snapshot', 'zroot/guest/home/user@n')
    expect(await ok('zfs', 'send', '-nP', '-R', 'zroot/guest/home@n')).toBe(
      'full\tzroot/guest/home@m\t98304\nincremental\tm\tzroot/guest/home@n\t0\nfull\tzroot/guest/home/user@m\t98304\nincremental\tm\tzroot/guest/home/user@n\t0\nsize\t196608\n',
    )
    expect(await ok('zfs', 'send', '-nP', 'zroot/guest/home@m')).toBe('full\tzroot/guest/home@m\t98304\nsize\t98304\n')
    const v = await sim.run('zfs', 'send', '-n', '-v', '-R', '-X', 'zroot/guest/home/user', 'zroot/guest/home@m')
    expect(v).toEqual({code: 0, stdout: 'full send of zroot/guest/home@m estimated size is 96K\ntotal estimated size is 96K\n', stderr: ''})
  })

  it('a -R descendant without the snapshot is left out with a warning, and the send fails', async () => {
    await guest()
    await ok('zfs', 'create', 'zroot/guest/home/late')
    const r = await sim.run('zfs', 'send', '-nP', '-R', 'zroot/guest/home@m')
    expect(r.stderr).toBe('WARNING: could not send zroot/guest/home/late@m: does not exist\n')
    expect(r.code).toBe(1)
  })

  it('refuses a terminal: send to one, receive from one', async () => {
    await guest()
    const io = {root: sim.root, jid: 0, env: {...process.env, NEST_SIM_ROOT: sim.root}}
    let err = ''
    expect(await programs.tool('zfs', ['send', 'zroot/guest/home@m'], {...io, out: () => undefined, err: (t) => (err += t), tty: {stdout: true}})).toBe(1)
    expect(err).toBe('Error: Stream can not be written to a terminal.\nYou must redirect standard output.\n')
    err = ''
    expect(await programs.tool('zfs', ['recv', 'zroot/x'], {...io, out: () => undefined, err: (t) => (err += t), tty: {stdin: true}})).toBe(1)
    expect(err).toBe('Error: Backup stream can not be read from a terminal.\nYou must redirect standard input.\n')
  })

  it('fails on an empty stream, on something that is no stream, and on a missing snapshot', async () => {
    await guest()
    expect(await sim.run('zfs', 'recv', 'zroot/nest/jails/j/r')).toEqual({code: 1, stdout: '', stderr: 'cannot receive: failed to read from stream\n'})
    const bad = await zpipe(['list', '-H'], ['recv', 'zroot/nest/jails/j/r'])
    expect(bad.to).toEqual({code: 1, stdout: '', stderr: 'cannot receive: invalid stream (bad magic number)\n'})
    expect(await sim.run('zfs', 'send', 'zroot/guest/home@none')).toEqual({code: 1, stdout: '', stderr: "cannot open 'zroot/guest/home@none': dataset does not exist\n"})
    expect(datasets()).not.toContain('zroot/nest/jails/j/r')
  })

  it('refuses an existing destination and a missing parent, before reading the data: the sender sees the broken pipe', async () => {
    await guest()
    writeFileSync(sim.fs('/g/home/big'), 'x'.repeat(400_000))
    await ok('zfs', 'snapshot', 'zroot/guest/home@big')
    const before = datasets()
    const r = await zpipe(['send', 'zroot/guest/home@big'], ['recv', '-u', 'zroot/nest/jails/j'])
    expect(r.to).toEqual({code: 1, stdout: '', stderr: "cannot receive new filesystem stream: destination 'zroot/nest/jails/j' exists\nmust specify -F to overwrite it\n"})
    expect(r.from).toEqual({code: 1, stdout: '', stderr: "warning: cannot send 'zroot/guest/home@big': Broken pipe\n"})
    const p = await zpipe(['send', 'zroot/guest/home@m'], ['recv', '-u', 'zroot/none/x'])
    expect(p.to.stderr).toBe("cannot open 'zroot/none': dataset does not exist\ncannot receive new filesystem stream: unable to restore to destination\n")
    expect(datasets()).toEqual(before)
    expect(staging()).toEqual([])
  })

  it('-e names the target after the sent dataset\'s last element, -d after all but its pool (making what is missing between)', async () => {
    await guest()
    const e = await zpipe(['send', '-R', 'zroot/guest/home@m'], ['recv', '-u', '-e', 'zroot/nest/jails/j'])
    expect([e.from.code, e.to.code, e.to.stderr]).toEqual([0, 0, ''])
    const d = await zpipe(['send', '-R', 'zroot/guest/home@m'], ['recv', '-u', '-d', 'zroot/nest'])
    expect([d.from.code, d.to.code, d.to.stderr]).toEqual([0, 0, ''])
    expect(datasets().filter((n) => !n.includes('@') && n !== 'zroot/home' && (n.includes('/home') || n === 'zroot/nest/guest'))).toEqual([
      'zroot/guest/home', 'zroot/guest/home/user', 'zroot/nest/guest', 'zroot/nest/guest/home', 'zroot/nest/guest/home/user', 'zroot/nest/jails/j/home', 'zroot/nest/jails/j/home/user',
    ])
    expect(await sim.run('zfs', 'recv', '-d', 'zroot/nowhere')).toEqual({code: 1, stdout: '', stderr: 'cannot receive: specified fs (zroot/nowhere) does not exist\n'})
  })

  it('refuses -F, -s, -A as not simulated, and a wrong option as zfs does', async () => {
    for (const f of ['-F', '-s', '-A']) expect((await sim.run('zfs', 'recv', f, 'zroot/x')).code).toBe(69)
    const r = await sim.run('zfs', 'recv', '-o', 'mountpoint', 'zroot/x')
    expect(r.code).toBe(2)
    expect(r.stderr.startsWith("missing '=' for property=value argument\nusage:\n\treceive [-vMnsFhu]")).toBe(true)
    expect((await sim.run('zfs', 'recv', '-o', 'recordsize=1M', 'zroot/x')).code).toBe(69)
    const x = await sim.run('zfs', 'send', '-X', 'zroot/a', 'zroot/a@s')
    expect(x).toEqual({code: 1, stdout: '', stderr: 'Cannot specify dataset exclusion (-X) on a non-recursive send.\n'})
  })
})

describe('faults in the pipe: after each, the target does not exist and nothing else changed', () => {
  it('send dies halfway (a midway fault, as `nest sim fault --midway` adds it): recv sees an incomplete stream', async () => {
    await guest()
    const before = datasets()
    const added = await sim.nest('sim', 'fault', 'zfs', '--match', '^send ', '--midway', '--stderr', "warning: cannot send 'zroot/guest/ROOT/default@m': Input/output error")
    expect(added).toMatchObject({code: 0, stdout: 'fault 1: zfs matching /^send /, call 1, midway\n'})
    const r = await zpipe(['send', '-R', 'zroot/guest/ROOT/default@m'], ['recv', '-u', 'zroot/nest/jails/j/root'])
    expect(r.from).toEqual({code: 1, stdout: '', stderr: "warning: cannot send 'zroot/guest/ROOT/default@m': Input/output error\n"})
    expect(r.to).toEqual({code: 1, stdout: '', stderr: 'cannot receive new filesystem stream: incomplete stream\n'})
    expect(datasets()).toEqual(before)
    expect(staging()).toEqual([])
    // Only a call that writes a stream takes it.
    await addFault(sim.root, {tool: 'zfs', match: '^list', midway: true})
    expect(await sim.run('zfs', 'list')).toMatchObject({code: 69, stderr: 'sim: zfs: a midway fault of zfs list: not simulated\n'})
  })

  it('a stream feature the receiving pool lacks: pool must be upgraded', async () => {
    await guest()
    const k = loadKernel(sim.root)
    k.pools.push({name: 'gpool', size: 1 << 30, guid: '77', features: ['large_dnode', 'zstd_compress']})
    k.datasets.push({name: 'gpool', type: 'filesystem', props: {mountpoint: '/gpool'}, createtxg: 1, guid: '78', creation: 1, referenced: 98_304})
    ;(k.pools.find((p) => p.name === 'zroot') as {features?: string[]}).features = ['large_dnode']
    await saveKernel(sim.root, k)
    await ok('zfs', 'create', '-o', 'mountpoint=/gpool/src', 'gpool/src')
    await ok('zfs', 'snapshot', 'gpool/src@m')
    const before = datasets()
    const r = await zpipe(['send', '-R', 'gpool/src@m'], ['recv', '-u', 'zroot/nest/jails/j/root'])
    expect(r.to).toEqual({code: 1, stdout: '', stderr: 'cannot receive new filesystem stream: pool must be upgraded to receive this stream.\n'})
    expect(datasets()).toEqual(before)
  })

  it('recv failing by a scripted fault, and out of space', async () => {
    await guest()
    const before = datasets()
    await addFault(sim.root, {tool: 'zfs', match: '^recv ', stderr: 'cannot receive new filesystem stream: pool must be upgraded to receive this stream.'})
    const f = await zpipe(['send', '-R', 'zroot/guest/home@m'], ['recv', '-u', 'zroot/nest/jails/j/home'])
    expect(f.to.code).toBe(1)
    expect(datasets()).toEqual(before)
    const k = loadKernel(sim.root)
    const pool = k.pools.find((p) => p.name === 'zroot') as {size: number}
    const used = k.datasets.filter((d) => d.type !== 'snapshot').reduce((n, d) => n + d.referenced, 0)
    pool.size = used + 100_000
    await saveKernel(sim.root, k)
    const r = await zpipe(['send', '-R', 'zroot/guest/home@m'], ['recv', '-u', 'zroot/nest/jails/j/home'])
    expect(r.to).toEqual({code: 1, stdout: '', stderr: 'cannot receive new filesystem stream: out of space\n'})
    expect(datasets()).toEqual(before)
    expect(staging()).toEqual([])
  })
})

describe('Host.pipe on the simulated host', () => {
  const info = (): HostInfo => ({kind: 'sim', path: simPaths(sim.root).bin, fsRoot: path.join(sim.root, 'fs'), simRoot: sim.root, simJid: 0, nestBin: '/usr/local/bin/nest', nestInstall: '/usr/local/nest'})

  it('in-process: resolves with both results, and fails naming the reader', async () => {
    await guest()
    const host = inProcessHost(info())
    const r = (await host.pipe(['zfs', 'send', '-R', 'zroot/guest/home@m'], ['zfs', 'recv', '-u', '-x', 'mountpoint', 'zroot/nest/jails/j/home']))._unsafeUnwrap()
    expect([r.from.exitCode, r.to.exitCode]).toEqual([0, 0])
    const e = (await host.pipe(['zfs', 'send', '-R', 'zroot/guest/home@m'], ['zfs', 'recv', '-u', 'zroot/nest/jails/j/home']))._unsafeUnwrapErr()
    expect(e).toMatchObject({kind: 'host', tool: 'zfs', argv: ['zfs', 'recv', '-u', 'zroot/nest/jails/j/home'], exitCode: 1})
    expect(e.stderr).toBe("cannot receive new filesystem stream: destination 'zroot/nest/jails/j/home' exists\nmust specify -F to overwrite it")
  })

  it('real processes: the simulator\'s zfs send and recv joined by an OS pipe, a large file kept whole', async () => {
    await guest()
    const big = 'abc'.repeat(300_000)
    writeFileSync(sim.fs('/g/home/big'), big)
    await ok('zfs', 'snapshot', 'zroot/guest/home@big')
    const host = makeHost(info())
    const bin = simPaths(sim.root).bin
    const env = {NEST_SIM_ROOT: sim.root}
    const r = await host.pipe([`${bin}/zfs`, 'send', 'zroot/guest/home@big'], [`${bin}/zfs`, 'recv', '-x', 'mountpoint', 'zroot/nest/jails/j/home'], {env})
    expect(r.isOk()).toBe(true)
    expect(readFileSync(sim.fs('/nest/jails/j/home/big'), 'utf8')).toBe(big)
    const e = (await host.pipe([`${bin}/zfs`, 'send', 'zroot/guest/home@big'], [`${bin}/zfs`, 'recv', '-u', 'zroot/nest/jails/j/home'], {env}))._unsafeUnwrapErr()
    expect(e.argv[1]).toBe('recv')
    expect(e.message).toBe(`${bin}/zfs: cannot receive new filesystem stream: destination 'zroot/nest/jails/j/home' exists\nmust specify -F to overwrite it\n(and ${bin}/zfs: warning: cannot send 'zroot/guest/home@big': Broken pipe)`)
  }, 20_000)
})
