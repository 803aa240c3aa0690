// observeRuntime (src/services/audit-observe.ts) on the tree the checker builds (p with the
// vm-parent policy, p/a, p/b): what the jails' processes hold, read host side with one ps, one
// procstat, one ipcs and the devfs reads; a process that opens a raw socket in p.a (its grant
// given with jail -m, as an operator would) changes the answer.
import path from 'node:path'

import {errAsync, okAsync, ResultAsync} from 'neverthrow'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {JailFacts, MountFacts} from '../../src/audit/facts.js'
import {type Host, makeHost} from '../../src/host/host.js'
import {observeRuntime} from '../../src/services/audit-observe.js'
import {setRacct, startProc} from '../../src/sim/control.js'
import {simPaths} from '../../src/sim/store.js'
import {toolInProcess} from '../helpers/inprocess.js'
import {makeSim, nestSteps, type TestSim} from '../helpers/sim.js'

let sim: TestSim
let calls: string[][]
beforeAll(async () => {
  sim = await makeSim()
  await nestSteps(sim, ['bootstrap', '14.3-RELEASE'], ['create', 'p', '--policy', 'vm-parent'], ['create', 'p/a'], ['create', 'p/b'])
}, 120_000)
afterAll(() => sim.cleanup())

/** The simulated host, each tool run in-process (as the in-process command tests run them), every argv kept. */
function host(): Host {
  const base = makeHost({kind: 'sim', path: simPaths(sim.root).bin, fsRoot: path.join(sim.root, 'fs'), simRoot: sim.root, simJid: 0, nestBin: '/usr/local/bin/nest', nestInstall: '/usr/local/nest'})
  calls = []
  return {
    ...base,
    run: (argv, opts = {}) => {
      calls.push([...argv])
      const [tool = '', ...args] = argv
      return ResultAsync.fromSafePromise(toolInProcess(sim.root, 0, tool, args)).andThen((r) => {
        const res = {argv: [...argv], stdout: r.stdout, stderr: r.stderr, exitCode: r.code, durationMs: 0}
        if (r.code === 0 || opts.allowFailure) return okAsync(res)
        return errAsync({kind: 'host' as const, message: `${tool}: ${r.stderr.trim()}`, tool, argv: [...argv], exitCode: r.code, signal: null, stderr: r.stderr, durationMs: 0})
      })
    },
  }
}

/** The jails and mounts as the collector has them (jls and mount -p, host side). */
function facts(): {jails: JailFacts[]; mounts: MountFacts[]} {
  const k = sim.kernel()
  const jails = k.jails.filter((j) => j.state === 'ALIVE').map((j): JailFacts => ({
    name: j.name, jid: j.jid, parent: k.jails.find((x) => x.jid === j.parent)?.name ?? null, path: j.path, dying: false, params: {devfs_ruleset: j.devfsRuleset},
  }))
  return {jails, mounts: k.mounts.map((m) => ({from: m.from, on: m.on, type: m.fstype, opts: m.opts}))}
}

describe('observeRuntime', () => {
  it('reports the raw socket a process of p.a opens, once it has one, in one ps, one procstat and one ipcs', async () => {
    const {jails, mounts} = facts()
    const before = (await observeRuntime(host(), jails, mounts))._unsafeUnwrap()
    expect(before.sockets.filter((s) => s.raw)).toEqual([])
    // The rc daemons of each jail: syslogd (its log sockets) and cron.
    expect(before.procs.map((p) => `${jails.find((j) => j.jid === p.jid)?.name}:${p.comm}`)).toEqual(['p:syslogd', 'p:cron', 'p.a:syslogd', 'p.a:cron', 'p.b:syslogd', 'p.b:cron'])
    expect(before.sockets.map((s) => s.protocol)).toEqual(['UDD', 'UDD', 'UDD', 'UDD', 'UDD', 'UDD'])

    // Without the grant the kernel refuses the socket (rip_attach: EPERM); with it the process holds one.
    expect(await startProc(sim.root, 'p/a', {comm: 'pinger', rawSocket: true})).toEqual({error: 'p/a: socket(PF_INET, SOCK_RAW, IPPROTO_ICMP): Operation not permitted'})
    expect((await sim.run('jail', '-m', 'name=p.a', 'allow.raw_sockets=1')).code).toBe(0)
    const started = await startProc(sim.root, 'p/a', {comm: 'pinger', rawSocket: true})
    expect('pid' in started).toBe(true)
    const pid = 'pid' in started ? started.pid : 0

    const after = (await observeRuntime(host(), jails, mounts))._unsafeUnwrap()
    const a = jails.find((j) => j.name === 'p.a')?.jid
    expect(after.procs).toContainEqual({pid, jid: a, comm: 'pinger'})
    expect(after.sockets.filter((s) => s.raw)).toEqual([
      {pid, fd: '3', protocol: 'ICM', raw: true, otherFamily: false, line: ` ${pid} pinger               3 s - rw------   1       0 ICM 0.0.0.0:0 0.0.0.0:0`},
    ])
    expect(after.racct).toBe(false)
    expect(after.rctl).toEqual({})
    expect(after.kernel).toBe('14.3-RELEASE')
    // Each devfs mount under a jail's root, with the rules of the ruleset bound to it.
    expect(after.devfsMounts.map((m) => m.on).sort()).toEqual(jails.map((j) => `${j.path}/dev`).sort())
    for (const m of after.devfsMounts) expect(m.rules.length).toBeGreaterThan(0)
    expect(Object.keys(after.rulesets).length).toBeGreaterThan(0)
    // The fewest starts: one ps, one procstat with every jailed pid, one ipcs; no rctl with racct off.
    const tools = calls.map((c) => c[0])
    expect(tools.filter((t) => t === 'ps')).toHaveLength(1)
    expect(calls.filter((c) => c[0] === 'procstat')).toEqual([['procstat', '-f', ...after.procs.map((p) => String(p.pid))]])
    expect(tools.filter((t) => t === 'ipcs')).toHaveLength(1)
    expect(tools).not.toContain('rctl')
    expect(tools).not.toContain('jexec')
    expect(after.sources['ps']).toEqual(['ps', '-ax', '-o', 'pid,jid,comm'])
  })

  it('with racct on: rctl -u per running jail, a parent\'s totals with its children\'s; SysV objects with their creator\'s jid', async () => {
    await setRacct(sim.root, true)
    const shm = await startProc(sim.root, 'p', {comm: 'postgres', shm: [1048576]})
    expect('pid' in shm).toBe(true)
    const {jails, mounts} = facts()
    const r = (await observeRuntime(host(), jails, mounts))._unsafeUnwrap()
    expect(r.racct).toBe(true)
    expect(Object.keys(r.rctl).sort()).toEqual(['p', 'p.a', 'p.b'])
    expect(r.rctl['p']?.['maxproc']).toBe(8)
    expect(r.rctl['p.a']?.['maxproc']).toBe(3)
    expect(r.rctl['p']?.['shmsize']).toBe(1048576)
    const p = jails.find((j) => j.name === 'p')?.jid
    expect(r.ipc.map((o) => [o.kind, o.size, o.cpid, o.jid])).toEqual([['shm', 1048576, 'pid' in shm ? shm.pid : 0, p]])
    expect(calls.filter((c) => c[0] === 'rctl')).toHaveLength(3)
  })
})
