// A dataset's files kept apart from the host tree (Kernel datasets' `content`): what a received
// or imported dataset holds before its first mount, as ZFS keeps blocks whatever is mounted.
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {SimFs} from '../../src/sim/fs.js'
import {findDataset, stashContent} from '../../src/sim/kernel/zfs.js'
import {loadKernel, saveKernel} from '../../src/sim/store.js'
import {makeSim, type TestSim} from '../helpers/sim.js'

let sim: TestSim
beforeEach(async () => {
  sim = await makeSim()
})
afterEach(() => sim.cleanup())

describe('dataset content at rest', () => {
  it('a stashed dataset leaves the host tree, a snapshot taken meanwhile has its files, and its next mount brings them back', async () => {
    expect((await sim.run('zfs', 'create', '-o', 'mountpoint=/srv/g', 'zroot/g')).code).toBe(0)
    writeFileSync(sim.fs('/srv/g/hello'), 'hi\n')
    expect((await sim.run('zfs', 'unmount', 'zroot/g')).code).toBe(0)
    const root = sim.root
    const k = loadKernel(root)
    stashContent(k, findDataset(k, 'zroot/g')!, '/srv/g', new SimFs(root))
    await saveKernel(root, k)
    expect(existsSync(sim.fs('/srv/g/hello'))).toBe(false)
    expect((await sim.run('zfs', 'snapshot', 'zroot/g@s')).code).toBe(0)
    expect((await sim.run('zfs', 'clone', 'zroot/g@s', 'zroot/c')).code).toBe(0)
    expect(readFileSync(sim.fs('/zroot/c/hello'), 'utf8')).toBe('hi\n')
    expect((await sim.run('zfs', 'mount', 'zroot/g')).code).toBe(0)
    expect(readFileSync(sim.fs('/srv/g/hello'), 'utf8')).toBe('hi\n')
    expect(findDataset(sim.kernel(), 'zroot/g')?.content).toBeUndefined()
  })

  it('destroying a dataset that was never mounted drops its stored files', async () => {
    expect((await sim.run('zfs', 'create', '-o', 'mountpoint=/srv/h', 'zroot/h')).code).toBe(0)
    writeFileSync(sim.fs('/srv/h/f'), 'x')
    expect((await sim.run('zfs', 'unmount', 'zroot/h')).code).toBe(0)
    const root = sim.root
    const k = loadKernel(root)
    const d = findDataset(k, 'zroot/h')!
    stashContent(k, d, '/srv/h', new SimFs(root))
    await saveKernel(root, k)
    const id = d.content as string
    expect(existsSync(path.join(root, 'snapshots', id, 'f'))).toBe(true)
    expect((await sim.run('zfs', 'destroy', 'zroot/h')).code).toBe(0)
    expect(existsSync(path.join(root, 'snapshots', id))).toBe(false)
  })
})
