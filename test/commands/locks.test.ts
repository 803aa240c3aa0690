// Locks, in-process on a saved tree (web and web/db running): a lock names its owner (pid,
// start time, invocation), a dead owner's lock is taken over at once with a notice and a live
// one is waited for; held locks passed down in NEST_HELD_LOCKS count only in the lock
// directory they were taken in; and what a command decides on is read under its locks.
import {spawn, spawnSync} from 'node:child_process'
import {existsSync, readFileSync, renameSync} from 'node:fs'

import {ResultAsync} from 'neverthrow'
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import {type Invocation, markInvocationDead, withInvocation} from '../../src/context/invocation.js'
import {withJailLock} from '../../src/engine/lock.js'
import type {Host} from '../../src/host/host.js'
import {linuxStart, parseLstart} from '../../src/host/proc.js'
import {callTool} from '../../src/sim/inprocess.js'
import {nestEnv, programs} from '../helpers/inprocess.js'
import {holdLock} from '../helpers/locks.js'
import {makeSim, nestSteps, type TestSim} from '../helpers/sim.js'

let sim: TestSim
/** web and web/db, running. */
let tree: string

beforeAll(async () => {
  sim = await makeSim()
  await nestSteps(sim, ['bootstrap', '14.3-RELEASE'], ['create', 'web'], ['create', 'web/db'])
  tree = sim.save()
}, 60_000)
beforeEach(() => sim.restore(tree))
afterAll(() => sim.cleanup())

const WEB_LOCK = '/var/run/nest/web.lock'
const WEB_ROOT = '/nest/jails/web/root'

/** A pid that was a process a moment ago and is none now. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0'])
  return r.pid as number
}

/** Just enough of a host for withJailLock: where its lock files are. */
const lockHost = (): Host => ({files: {local: (p: string) => sim.fs(p)}} as unknown as Host)
/** jail(8) run by hand on the host, its hooks' nest in-process, in an environment nest would pass it. */
const jailByHand = (env: Record<string, string>, ...argv: string[]) => callTool(programs, 'jail', argv, {root: sim.root, jid: 0, env: {...nestEnv(sim.root, env), NEST_SIM_JID: '0'}})
const quietInvocation = (): Invocation => ({env: {}, out: () => undefined, err: () => undefined, isTTY: false, setExitCode: () => undefined})

describe('lock owners', () => {
  it('a lock names its owner: pid, start time, invocation and id', async () => {
    const inv = quietInvocation()
    let seen = ''
    await withInvocation(inv, async () => {
      await withJailLock(lockHost(), 'web', () => {
        seen = readFileSync(sim.fs(WEB_LOCK), 'utf8')
        return ResultAsync.fromSafePromise(Promise.resolve(0))
      })
    })
    const owner = JSON.parse(seen) as Record<string, unknown>
    expect(owner).toMatchObject({pid: process.pid, start: linuxStart('self'), jail: 'web'})
    expect(owner['token']).toMatch(/^i\d+$/)
    expect(owner['id']).toMatch(/^[0-9a-f-]{36}$/)
    // Released: no lock file, and its id is no longer passed down.
    expect(existsSync(sim.fs(WEB_LOCK))).toBe(false)
    expect(inv.env['NEST_HELD_LOCKS']).toBeUndefined()
  })

  it('the lock of a nest process that is gone is taken over at once, with a notice', async () => {
    const pid = deadPid()
    holdLock(sim.fs(WEB_LOCK), 'web', {pid, start: 'linux:1'})
    const t0 = Date.now()
    const r = await sim.nestWith({NEST_LOCK_WAIT: '20'}, 'stop', 'web', '--json')
    expect(r.code, r.stderr).toBe(0)
    expect(Date.now() - t0).toBeLessThan(5000)
    expect(r.stderr).toContain(`web: took over the lock of nest process ${pid}, which is gone\n`)
    expect(r.stderr).not.toContain('waiting for it')
    expect(sim.alive()).toEqual([])
    expect(existsSync(sim.fs(WEB_LOCK))).toBe(false)
  })

  it('a pid that now names another process (its start time differs) is a dead owner too', async () => {
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], {stdio: 'ignore'})
    try {
      const pid = other.pid as number
      await new Promise((r) => setTimeout(r, 100))
      holdLock(sim.fs(WEB_LOCK), 'web', {pid, start: 'linux:1'})
      const r = await sim.nestWith({NEST_LOCK_WAIT: '20'}, 'stop', 'web')
      expect(r.code, r.stderr).toBe(0)
      expect(r.stderr).toContain(`web: took over the lock of nest process ${pid}, which is gone\n`)
    } finally {
      other.kill('SIGKILL')
    }
  })

  it('a live owner in another process is waited for, then busy (exit 8); its lock stays', async () => {
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], {stdio: 'ignore'})
    try {
      const pid = other.pid as number
      await new Promise((r) => setTimeout(r, 100))
      const lock = holdLock(sim.fs(WEB_LOCK), 'web', {pid, start: linuxStart(pid) ?? ''})
      const r = await sim.nestWith({NEST_LOCK_WAIT: '1'}, 'stop', 'web')
      expect(r.code).toBe(8)
      expect(r.stderr).toBe('web: another nest process is working on this jail; waiting for it (up to 1 s)\nnest: web: another nest process is working on this jail (wait for it to finish, then run the command again)\n')
      expect(JSON.parse(readFileSync(lock.file, 'utf8'))).toMatchObject({id: lock.id, pid})
      expect(sim.alive()).toEqual(['web', 'web.db'])
    } finally {
      other.kill('SIGKILL')
    }
  })

  it('an invocation of this process that ended without releasing its lock is a dead owner', async () => {
    holdLock(sim.fs(WEB_LOCK), 'web', {token: 'i999999'})
    const r = await sim.nestWith({NEST_LOCK_WAIT: '20'}, 'stop', 'web')
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toContain(`web: took over the lock of nest process ${process.pid} (invocation i999999), which is gone\n`)
  })

  it('markInvocationDead: a hung invocation marked dead gives up its locks to the next nest', async () => {
    const inv = quietInvocation()
    let entered!: () => void
    const inside = new Promise<void>((r) => (entered = r))
    // Holds web's lock and never finishes: as an in-process crash leaves it.
    void withInvocation(inv, async () => withJailLock(lockHost(), 'web', () => {
      entered()
      return ResultAsync.fromSafePromise(new Promise<number>(() => undefined))
    }))
    await inside
    const waiting = await sim.nestWith({NEST_LOCK_WAIT: '0'}, 'stop', 'web')
    expect(waiting.code).toBe(8)
    markInvocationDead(inv)
    const r = await sim.nestWith({NEST_LOCK_WAIT: '0'}, 'stop', 'web')
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(new RegExp(`web: took over the lock of nest process ${process.pid} \\(invocation i\\d+\\), which is gone\\n`))
    expect(sim.alive()).toEqual([])
  })

  it('many nests that find the same dead owner: one takes it over, and they hold it one at a time', async () => {
    holdLock(sim.fs(WEB_LOCK), 'web', {pid: deadPid(), start: 'linux:1'})
    let inside = 0
    let most = 0
    const notices: string[] = []
    const one = (): Promise<unknown> => withInvocation(quietInvocation(), async () => withJailLock(lockHost(), 'web', () => {
      inside++
      most = Math.max(most, inside)
      return ResultAsync.fromSafePromise(new Promise((r) => setTimeout(r, 15)).then(() => inside--))
    }, (line) => notices.push(line)))
    await Promise.all(Array.from({length: 8}, one))
    expect(most).toBe(1)
    expect(notices.filter((l) => l.includes('took over'))).toHaveLength(1)
    expect(existsSync(sim.fs(WEB_LOCK))).toBe(false)
  })

  it('ps -o lstart= in the C locale and UTC (bin/ps/print.c: strftime %c of ki_start)', () => {
    expect(parseLstart('Tue Dec  1 20:14:41 2026\n')).toBe(Date.UTC(2026, 11, 1, 20, 14, 41))
    expect(parseLstart('Sat Jan 10 03:04:05 2026')).toBe(Date.UTC(2026, 0, 10, 3, 4, 5))
    expect(parseLstart('')).toBeNull()
  })
})

describe('held locks (NEST_HELD_LOCKS)', () => {
  it("jail -r web under the lock of the nest that runs it: its hooks' nest (prestop, release) does not wait for it", async () => {
    const lock = holdLock(sim.fs(WEB_LOCK), 'web')
    try {
      const r = await jailByHand({...lock.env, NEST_LOCK_WAIT: '0'}, '-f', '/etc/jail.conf.d/web.conf', '-r', 'web')
      expect(r.code, r.stderr).toBe(0)
      expect(r.stderr).not.toContain('another nest process')
      expect(sim.alive()).toEqual([])
      expect(sim.mountsBelow(WEB_ROOT)).toEqual([])
    } finally {
      lock.release()
    }
  })

  it('a held entry whose id is not the lock file\'s is not held: the hook waits, and jail(8) gives up the stop', async () => {
    const lock = holdLock(sim.fs(WEB_LOCK), 'web')
    try {
      const r = await jailByHand({NEST_HELD_LOCKS: 'web=0b9e1c9e-0000-4000-8000-000000000000', NEST_LOCK_WAIT: '0'}, '-f', '/etc/jail.conf.d/web.conf', '-r', 'web')
      expect(r.code).toBe(1)
      expect(r.stderr).toContain('web: another nest process is working on this jail')
      expect(sim.alive()).toEqual(['web', 'web.db'])
    } finally {
      lock.release()
    }
  })

  it('a child manager does not skip a lock it does not hold: the name is the same, the lock directory is web\'s own', async () => {
    // The host nest runs under a held `db` lock of the host's (as a hook of a host nest acting on a jail db would)...
    const hostDb = holdLock(sim.fs('/var/run/nest/db.lock'), 'db')
    // ...while, inside web, another nest works on web's own db.
    const innerDb = holdLock(sim.fs(`${WEB_ROOT}/var/run/nest/db.lock`), 'db')
    try {
      const r = await sim.nestWith({...hostDb.env, NEST_LOCK_WAIT: '1'}, 'stop', 'web/db')
      expect(r.code).not.toBe(0)
      expect(r.stderr).toContain('another nest process is working on this jail')
      expect(sim.alive()).toEqual(['web', 'web.db'])
    } finally {
      hostDb.release()
      innerDb.release()
    }
  })
})

describe('decisions under the lock', () => {
  it('stop --all leaves alone a top-level jail whose lock it does not hold (a create in progress: datasets, no jail.conf yet)', async () => {
    const conf = sim.fs('/etc/jail.conf.d/web.conf')
    renameSync(conf, `${conf}.aside`)
    const lock = holdLock(sim.fs(WEB_LOCK), 'web')
    try {
      const r = await sim.nestWith({NEST_LOCK_WAIT: '0'}, 'stop', '--all', '--json')
      expect(r.code, r.stderr).toBe(0)
      expect(JSON.parse(r.stdout)).toEqual({status: 0, result: {dryRun: false, jails: []}, warnings: []})
      expect(sim.alive()).toEqual(['web', 'web.db'])
    } finally {
      lock.release()
      renameSync(`${conf}.aside`, conf)
    }
  })

  it("a parent's exec.prestop decides under the tree's lock: while a nest works on web it waits, and the stop is refused", async () => {
    expect((await sim.nest('stop', 'web/db')).code).toBe(0)
    const lock = holdLock(sim.fs(WEB_LOCK), 'web')
    try {
      const r = await sim.nestWith({NEST_LOCK_WAIT: '0'}, 'stop', 'web', '--children-only')
      expect(r.code).toBe(8)
    } finally {
      lock.release()
    }
    const r = await sim.nestWith({NEST_LOCK_WAIT: '0'}, 'stop', 'web', '--children-only', '--json')
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual({status: 0, result: {dryRun: false, jails: []}, warnings: []})
  })

  it('a jail -c that fails because another process has just started the jail leaves that jail\'s mounts alone', async () => {
    expect((await sim.nest('stop', 'web')).code).toBe(0)
    // nest's jail -c waits 400 ms (latency) before it acts; meanwhile jail(8) by hand starts web.
    const starting = sim.nestWith({NEST_SIM_LATENCY: 'jail=400'}, 'start', 'web', '--no-children')
    await new Promise((r) => setTimeout(r, 150))
    const byHand = await jailByHand({NEST_SIM_LATENCY: ''}, '-f', '/etc/jail.conf.d/web.conf', '-c', 'web')
    expect(byHand.code, byHand.stderr).toBe(0)
    const r = await starting
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain('web: running (another process started it): what is mounted below /nest/jails/web/root stays')
    expect(sim.alive()).toEqual(['web'])
    expect(sim.mountsBelow(WEB_ROOT).sort()).toEqual(['devfs /nest/jails/web/root/dev', 'nullfs /nest/jails/web/root/usr/local/libexec/nest', 'zfs /nest/jails/web/root/data'].sort())
  })
})
