// The one model: concurrent tool calls lose nothing, invariants stop a broken state loudly,
// and the views of one state (jls text, libxo JSON, sysctl, mount) agree with the model.
import {readdirSync, readFileSync, writeFileSync, mkdirSync} from 'node:fs'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {makeSim, runNest, type TestSim} from '../helpers/sim.js'

let sim: TestSim
beforeEach(async () => {
  sim = await makeSim()
})
afterEach(() => sim.cleanup())

describe('one model under concurrent tools', () => {
  it('keeps every one of 30 concurrent creations and 30 mounts', async () => {
    mkdirSync(sim.fs('/j'), {recursive: true})
    for (let i = 0; i < 30; i++) mkdirSync(sim.fs(`/m/${i}`), {recursive: true})
    // Real processes: concurrency across processes is what the lock is for.
    const calls = Array.from({length: 30}, (_, i) => [
      sim.spawnTool('jail', '-c', `name=j${i}`, 'path=/j', 'persist'),
      sim.spawnTool('mount', '-t', 'tmpfs', 'tmpfs', `/m/${i}`),
    ]).flat()
    const results = await Promise.all(calls)
    expect(results.filter((r) => r.code !== 0)).toEqual([])
    const k = sim.kernel()
    expect(k.jails.map((j) => j.name).sort()).toEqual(Array.from({length: 30}, (_, i) => `j${i}`).sort())
    expect(new Set(k.jails.map((j) => j.jid)).size).toBe(30)
    expect(k.mounts.filter((m) => m.fstype === 'tmpfs')).toHaveLength(30)
    const log = readFileSync(`${sim.root}/invocations.jsonl`, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as {tool: string; exit: number})
    expect(log.filter((l) => l.tool === 'jail' && l.exit === 0)).toHaveLength(30)
  })
})

describe('kernel invariants', () => {
  it('stops with exit 70 when the model breaks a rule', async () => {
    mkdirSync(sim.fs('/j'), {recursive: true})
    await sim.run('jail', '-c', 'name=a', 'path=/j', 'persist', 'children.max=3')
    await sim.runIn(1, 'jail', '-c', 'name=b', 'persist')
    const k = sim.kernel()
    const a = k.jails.find((j) => j.name === 'a')!
    a.childrenCur = 0
    writeFileSync(`${sim.root}/kernel.json`, JSON.stringify(k))
    const r = await sim.run('jail', '-c', 'name=c', 'path=/j', 'persist')
    expect(r.code).toBe(70)
    expect(r.stderr).toBe('sim: invariant violated: a: children.cur 0 but 1 descendants\n')
  })
})

describe('views of one state agree', () => {
  it('jls text, libxo JSON, sysctl and mount agree from the host, a parent and a grandchild', async () => {
    for (const d of ['/p/dev', '/p/tmp', '/p/c/tmp', '/p/c/g']) mkdirSync(sim.fs(d), {recursive: true})
    await sim.run('jail', '-c', 'name=p', 'path=/p', 'persist', 'children.max=5', 'allow.mount', 'allow.mount.tmpfs', 'enforce_statfs=1')
    await sim.runIn(1, 'jail', '-c', 'name=c', 'path=/c', 'persist', 'children.max=2', 'allow.mount', 'allow.mount.tmpfs', 'enforce_statfs=1')
    await sim.runIn(2, 'jail', '-c', 'name=g', 'path=/g', 'persist')
    await sim.runIn(2, 'mount', '-t', 'tmpfs', 'tmpfs', '/tmp')
    const k = sim.kernel()
    const views: Array<[number, string, Array<[string, string, number]>]> = [
      [0, '/', [['p', '/p', 0], ['p.c', '/p/c', 1], ['p.c.g', '/p/c/g', 2]]],
      [1, '/p', [['c', '/c', 0], ['c.g', '/c/g', 2]]],
      [2, '/p/c', [['g', '/g', 0]]],
    ]
    for (const [jid, , expected] of views) {
      const text = (await sim.runIn(jid, 'jls', 'name', 'path', 'parent')).stdout
      expect(text).toBe(expected.map(([n, p, par]) => `${n} ${p} ${par}\n`).join(''))
      const json = JSON.parse((await sim.runIn(jid, 'jls', '--libxo', 'json', 'name', 'path', 'parent')).stdout) as {'jail-information': {jail: Array<Record<string, string>>}}
      expect(json['jail-information'].jail.map((j) => [j['name'], j['path'], Number(j['parent'])])).toEqual(expected)
      const cur = (await sim.runIn(jid, 'sysctl', '-n', 'security.jail.children.cur', 'security.jail.jailed')).stdout
      const own = jid === 0 ? k.jails.length : k.jails.find((j) => j.jid === jid)!.childrenCur
      expect(cur).toBe(`${own}\n${jid === 0 ? 0 : 1}\n`)
    }
    expect((await sim.run('mount')).stdout).toContain('tmpfs on /p/c/tmp (tmpfs, local)\n')
    // enforce_statfs=1: the file system holding the root as "/", then mounts below the root, prefix removed.
    const root = 'zroot/ROOT/default on / (zfs, local, noatime, nfsv4acls)\n'
    expect((await sim.runIn(1, 'mount')).stdout).toBe(`${root}tmpfs on /c/tmp (tmpfs, local)\n`)
    expect((await sim.runIn(2, 'mount')).stdout).toBe(`${root}tmpfs on /tmp (tmpfs, local)\n`)
    // enforce_statfs=2: only the file system holding the root, shown as "/".
    expect((await sim.runIn(3, 'mount')).stdout).toBe('zroot/ROOT/default on / (zfs, local, noatime, nfsv4acls)\n')
  })
})

describe('formats match the real samples', () => {
  const dir = new URL('../fixtures/freebsd-outputs/', import.meta.url)
  it('zfs -H is tab-separated like the real list, mount -p like fstab', async () => {
    const h = (await sim.run('zfs', 'list', '-H', '-o', 'name,used,usedbydataset,usedbyrefreservation,usedbysnapshots,usedbychildren', 'zroot/home')).stdout
    expect(h).toBe('zroot/home\t96K\t96K\t0B\t0B\t0B\n')
    const hp = (await sim.run('zfs', 'list', '-Hp', '-o', 'name,used', 'zroot/home')).stdout
    expect(hp).toBe('zroot/home\t98304\n')
    expect((await sim.run('mount', '-p')).stdout.split('\n')[1]).toBe('devfs\t\t\t/dev\t\t\tdevfs\trw\t\t0 0')
    expect(readdirSync(dir).length).toBeGreaterThan(0)
  })

  it('answers a fault scripted through nest sim fault, then converges', async () => {
    expect((await runNest(sim.root, 'sim', 'fault', 'zfs', '--match', '^create ', '--stderr', "cannot create 'zroot/x': out of space", '--json')).code).toBe(0)
    expect(await sim.run('zfs', 'create', 'zroot/x')).toMatchObject({code: 1, stderr: "cannot create 'zroot/x': out of space\n"})
    expect((await sim.run('zfs', 'create', 'zroot/x')).code).toBe(0)
  })
})
