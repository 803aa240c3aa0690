// umount(8) with several operands (sbin/umount/umount.c main: each operand in order through
// checkname, a failure warned and the next one still tried, exit 1 if any failed), so nest can
// unmount a batch in one call; and mount -p, the table nest reads, as one lock-free read.
import {mkdirSync, readFileSync} from 'node:fs'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {makeSim, type TestSim} from '../helpers/sim.js'

let sim: TestSim
beforeEach(async () => {
  sim = await makeSim()
})
afterEach(() => sim.cleanup())

const dirs = (...ps: string[]): void => sim.mkdirs(...ps)
const mounted = (): string[] => sim.kernel().mounts.filter((m) => m.on.startsWith('/m')).map((m) => `${m.fstype} ${m.on}`)

describe('umount node ...', () => {
  beforeEach(async () => {
    dirs('/m/a', '/m/b', '/m/c', '/m/d', '/src')
    for (const [t, from, on] of [['tmpfs', 'tmpfs', '/m/a'], ['tmpfs', 'tmpfs', '/m/b'], ['nullfs', '/src', '/m/c'], ['tmpfs', 'tmpfs', '/m/d']]) {
      expect((await sim.run('mount', '-t', t as string, from as string, on as string)).code).toBe(0)
    }
    dirs('/m/b/sub')
    expect((await sim.run('mount', '-t', 'tmpfs', 'tmpfs', '/m/b/sub')).code).toBe(0)
  })

  it('unmounts every operand in order in one call', async () => {
    expect(await sim.run('umount', '/m/b/sub', '/m/b', '/m/a')).toEqual({code: 0, stdout: '', stderr: ''})
    expect(mounted()).toEqual(['nullfs /m/c', 'tmpfs /m/d'])
    expect(await sim.run('umount', '-v', '/m/c', '/m/d/')).toEqual({code: 0, stdout: '/src: unmount from /m/c\ntmpfs: unmount from /m/d\n', stderr: ''})
    expect(mounted()).toEqual([])
  })

  it('warns for each operand that fails, still unmounts the others, and exits 1', async () => {
    const r = await sim.run('umount', '/m/b', '/m/a', '/m/none', '/src', '/m/c')
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: 'umount: unmount of /m/b failed: Device busy\n' +
        'umount: /m/none: statfs: No such file or directory\numount: /m/none: unknown file system\n' +
        // /src, the special of the nullfs on /m/c, named that mount: /m/c is gone when its turn comes.
        'umount: /m/c: not a file system root directory\n',
    })
    expect(mounted()).toEqual(['tmpfs /m/b', 'tmpfs /m/d', 'tmpfs /m/b/sub'])
    // An order that works: the deepest first.
    expect((await sim.run('umount', '/m/b/sub', '/m/b')).code).toBe(0)
    expect(await sim.run('umount', '/m/b', '/m/d')).toEqual({code: 1, stdout: '', stderr: 'umount: /m/b: not a file system root directory\n'})
    expect(mounted()).toEqual([])
  })

  it('fails an operand of another type without a word (-t)', async () => {
    expect(await sim.run('umount', '-t', 'nullfs', '/m/a', '/m/c')).toEqual({code: 1, stdout: '', stderr: ''})
    expect(mounted()).toEqual(['tmpfs /m/a', 'tmpfs /m/b', 'tmpfs /m/d', 'tmpfs /m/b/sub'])
  })
})

describe('mount -p', () => {
  it('is one read: no lock taken, the model not written', async () => {
    dirs('/m/a')
    expect((await sim.run('mount', '-t', 'tmpfs', 'tmpfs', '/m/a')).code).toBe(0)
    const before = readFileSync(`${sim.root}/kernel.json`, 'utf8')
    mkdirSync(`${sim.root}/lock`) // proper-lockfile's lock directory: a tool that locked would wait for it
    const r = await sim.run('mount', '-p')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('tmpfs\t\t\t/m/a\t\t\ttmpfs\trw\t\t0 0\n')
    expect(readFileSync(`${sim.root}/kernel.json`, 'utf8')).toBe(before)
  })
})
