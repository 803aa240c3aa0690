// tar -c | tar -x on the simulated host (bsdtar subset, src/sim/tools/tar.ts): modes, links never
// followed, hard links, owners (by name unless --numeric-owner), file flags, --one-file-system.
import {chmodSync, chownSync, linkSync, lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {makeHost} from '../../src/host/host.js'
import {loadFflags, saveFflags} from '../../src/sim/fflags.js'
import {pipeTools} from '../../src/sim/inprocess.js'
import {simPaths} from '../../src/sim/store.js'
import {programs} from '../helpers/inprocess.js'
import {makeSim, type TestSim} from '../helpers/sim.js'

let sim: TestSim
beforeEach(async () => {
  sim = await makeSim()
})
afterEach(() => sim.cleanup())

const env = (): NodeJS.ProcessEnv => ({...process.env, NEST_SIM_ROOT: sim.root, NEST_SIM_JID: '0', NEST_SIM_LATENCY: ''})
const tarPipe = (c: string[], x: string[]) => pipeTools(programs, ['tar', c], ['tar', x], {root: sim.root, jid: 0, env: env()})

/** A guest tree at /src: modes, a link, a hard link, owners, a flag, and a file system mounted below it. */
async function source(): Promise<void> {
  sim.mkdirs('/src/etc', '/src/bin', '/src/home/bob', '/dst')
  writeFileSync(sim.fs('/src/etc/rc.conf'), 'hostname="g"\n')
  writeFileSync(sim.fs('/src/bin/test'), 'test binary')
  chmodSync(sim.fs('/src/bin/test'), 0o555)
  linkSync(sim.fs('/src/bin/test'), sim.fs('/src/bin/['))
  writeFileSync(sim.fs('/src/bin/su'), 'su')
  chmodSync(sim.fs('/src/bin/su'), 0o4555)
  symlinkSync('/etc/rc.conf', sim.fs('/src/rc.link'))
  writeFileSync(sim.fs('/src/home/bob/.profile'), 'x\n')
  chownSync(sim.fs('/src/home/bob'), 1001, 1001)
  chownSync(sim.fs('/src/home/bob/.profile'), 1001, 1001)
  await saveFflags(sim.root, {'/src/bin/su': 'schg'})
  expect((await sim.run('zfs', 'create', '-o', 'mountpoint=/src/mnt', 'zroot/srcmnt')).code).toBe(0)
  writeFileSync(sim.fs('/src/mnt/other'), 'not ours\n')
}

const st = (p: string): string => {
  const s = lstatSync(sim.fs(p))
  return `${(s.mode & 0o7777).toString(8)} ${s.uid}:${s.gid}`
}

describe('tar -c | tar -x', () => {
  it('copies the tree: modes, owners by number, a link as a link, a hard link as one, flags, nothing across a mount point', async () => {
    await source()
    const r = await tarPipe(['-c', '-f', '-', '--one-file-system', '-C', '/src', '.'], ['-x', '-p', '-f', '-', '--numeric-owner', '-C', '/dst'])
    expect(r.from).toEqual({code: 0, stdout: '', stderr: ''})
    expect(r.to).toEqual({code: 0, stdout: '', stderr: ''})
    expect(readFileSync(sim.fs('/dst/etc/rc.conf'), 'utf8')).toBe('hostname="g"\n')
    expect([st('/dst/bin/test'), st('/dst/bin/su'), st('/dst/home/bob'), st('/dst/home/bob/.profile')]).toEqual(['555 0:0', '4555 0:0', '755 1001:1001', '644 1001:1001'])
    expect(lstatSync(sim.fs('/dst/bin/[')).ino).toBe(lstatSync(sim.fs('/dst/bin/test')).ino)
    expect(readlinkSync(sim.fs('/dst/rc.link'))).toBe('/etc/rc.conf')
    expect(loadFflags(sim.root)['/dst/bin/su']).toBe('schg')
    expect(lstatSync(sim.fs('/dst/mnt')).isDirectory()).toBe(true)
    expect(() => lstatSync(sim.fs('/dst/mnt/other'))).toThrow()
  })

  it('without --numeric-owner, extraction maps owner names through the host\'s passwd and group (bsdtar.1)', async () => {
    await source()
    // The archive was made where bob is 1001 (the guest's own passwd)...
    writeFileSync(sim.fs('/etc/passwd'), 'root:*:0:0::/root:/bin/sh\nbob:*:1001:1001::/home/bob:/bin/sh\n')
    writeFileSync(sim.fs('/etc/group'), 'wheel:*:0:root\nbob:*:1001:\n')
    const archive = (await sim.run('tar', '-c', '-f', '-', '-C', '/src/home', '.')).stdout
    // ...and is extracted on a host where bob is 2002.
    writeFileSync(sim.fs('/etc/passwd'), 'root:*:0:0::/root:/bin/sh\nbob:*:2002:2002::/home/bob:/bin/sh\n')
    writeFileSync(sim.fs('/etc/group'), 'wheel:*:0:root\nbob:*:2002:\n')
    const x = async (dir: string, ...flags: string[]): Promise<number> => {
      mkdirSync(sim.fs(dir), {recursive: true})
      return programs.tool('tar', ['-x', '-p', '-f', '-', ...flags, '-C', dir], {root: sim.root, jid: 0, env: env(), out: () => undefined, err: () => undefined, stdin: [archive]})
    }
    expect(await x('/by-name')).toBe(0)
    expect(st('/by-name/bob/.profile')).toBe('644 2002:2002')
    expect(await x('/by-number', '--numeric-owner')).toBe(0)
    expect(st('/by-number/bob/.profile')).toBe('644 1001:1001')
  })

  it('fails on what is no archive and on one cut short; refuses what it does not emulate', async () => {
    sim.mkdirs('/dst')
    const io = (stdin: string[]) => {
      let err = ''
      return {io: {root: sim.root, jid: 0, env: env(), out: () => undefined, err: (t: string) => (err += t), stdin}, said: () => err}
    }
    const bad = io(['hello\n'])
    expect(await programs.tool('tar', ['-x', '-f', '-', '-C', '/dst'], bad.io)).toBe(1)
    expect(bad.said()).toBe('tar: Error opening archive: Unrecognized archive format\n')
    sim.mkdirs('/src/a')
    writeFileSync(sim.fs('/src/a/f'), 'data')
    const whole = (await sim.run('tar', '-c', '-f', '-', '-C', '/src', '.')).stdout
    const cut = io([whole.split('\n').slice(0, 3).join('\n')])
    expect(await programs.tool('tar', ['-x', '-f', '-', '-C', '/dst'], cut.io)).toBe(1)
    expect(cut.said()).toBe('tar: Truncated tar archive\ntar: Error exit delayed from previous errors\n')
    expect(await sim.run('tar', '-c', '-f', '-', '-C', '/nowhere', '.')).toEqual({code: 1, stdout: '', stderr: "tar: could not chdir to '/nowhere'\n"})
    expect((await sim.run('tar', '-c', '-z', '-f', '-', '-C', '/src', '.')).code).toBe(69)
    expect((await sim.run('tar', '-c', '-f', 'out.tar', '-C', '/src', '.')).code).toBe(69)
  })

  it('never extracts through a link planted in the destination', async () => {
    sim.mkdirs('/src/etc', '/dst', '/outside')
    writeFileSync(sim.fs('/src/etc/passwd'), 'x\n')
    symlinkSync('/outside', sim.fs('/dst/etc'))
    const r = await tarPipe(['-c', '-f', '-', '-C', '/src', '.'], ['-x', '-p', '-f', '-', '-C', '/dst'])
    // The archive's ./etc directory replaces the link; nothing is written through it.
    expect(r.to).toEqual({code: 0, stdout: '', stderr: ''})
    expect(lstatSync(sim.fs('/dst/etc')).isDirectory()).toBe(true)
    expect(readFileSync(sim.fs('/dst/etc/passwd'), 'utf8')).toBe('x\n')
    expect(() => lstatSync(sim.fs('/outside/passwd'))).toThrow()
  })

  it('as two real processes through Host.pipe', async () => {
    await source()
    const bin = simPaths(sim.root).bin
    const host = makeHost({kind: 'sim', path: bin, fsRoot: path.join(sim.root, 'fs'), simRoot: sim.root, simJid: 0, nestBin: '/usr/local/bin/nest', nestInstall: '/usr/local/nest'})
    const r = await host.pipe([`${bin}/tar`, '-c', '-f', '-', '--one-file-system', '-C', '/src', '.'], [`${bin}/tar`, '-x', '-p', '-f', '-', '--numeric-owner', '-C', '/dst'], {env: {NEST_SIM_ROOT: sim.root}})
    expect(r.isOk()).toBe(true)
    expect(st('/dst/home/bob/.profile')).toBe('644 1001:1001')
  }, 20_000)
})
