// A jail's root user is an adversary: at every path nest reads or writes below a jail's root it
// may plant a link to a file outside the simulated host's tree, a dangling link, a FIFO, a device
// (a UNIX socket where mknod is not allowed) or a file over nest's read limit. For each, the
// commands that touch the path run (bounded: none may hang), and then: nothing outside the sim
// tree was created, changed or removed; the jails the plant does not concern still list and
// stop; and the command either refused with a message naming the path, or, for a read nest can
// do without, warned and went on (each case says which).
import {execFileSync} from 'node:child_process'
import {lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import {READ_LIMIT} from '../../src/host/files.js'
import {makeSim, nestSteps, type Run, type TestSim} from '../helpers/sim.js'

const WEB = '/nest/jails/web/root'
const DB = `${WEB}/data/jails/db/root`
const LITE = '/nest/jails/lite/root'

const DIR_PARENT = [
  'nest.description = "A parent whose children live in directories of its root.";',
  'nest.delegate = false;', 'children.max = 8;', 'enforce_statfs = 1;', 'devfs_ruleset = 4;',
  'allow.mount;', 'allow.mount.devfs;', 'allow.mount.nullfs;', 'allow.mount.tmpfs;', '',
].join('\n')

type Plant = 'link out' | 'dangling link' | 'fifo' | 'device' | 'huge file'
const PLANTS: Plant[] = ['link out', 'dangling link', 'fifo', 'device', 'huge file']

let sim: TestSim
let outside: string
let outsideBefore: string[]
let besideBefore: string[]
/** Saved hosts: everything running; web/db stopped; everything stopped; lite with no child yet. */
let running: string
let dbStopped: string
let allStopped: string
let liteFresh: string
/** Whether mknod works here (root on Linux); else a UNIX socket stands for the device. */
let mknod = true

const outsideState = (): string[] => readdirSync(outside, {recursive: true}).map(String).sort().map((n) => {
  const st = lstatSync(path.join(outside, n))
  return `${n} ${st.isFile() ? readFileSync(path.join(outside, n), 'utf8') : 'dir'} ${st.mtimeMs}`
})

beforeAll(async () => {
  sim = await makeSim()
  outside = mkdtempSync(path.join(tmpdir(), 'nest-outside-'))
  writeFileSync(path.join(outside, 'sentinel'), 'the host\'s own file\n')
  const dir = sim.fs('/usr/local/etc/nest/policies')
  mkdirSync(dir, {recursive: true})
  writeFileSync(path.join(dir, 'dirparent.conf'), DIR_PARENT)
  await nestSteps(sim, ['bootstrap', '14.3-RELEASE'], ['create', 'lite', '--policy', 'dirparent'], ['create', 'other', '--policy', 'leaf'])
  liteFresh = sim.save()
  await nestSteps(sim, ['create', 'web'], ['create', 'web/db'], ['create', 'lite/k', '--policy', 'leaf'])
  running = sim.save()
  await nestSteps(sim, ['stop', 'web/db'])
  dbStopped = sim.save()
  await nestSteps(sim, ['stop', '--all'])
  allStopped = sim.save()
  try {
    execFileSync('mknod', [path.join(outside, 'probe'), 'c', '1', '3'], {stdio: 'ignore'})
    rmSync(path.join(outside, 'probe'))
  } catch {
    mknod = false
  }
  outsideBefore = outsideState()
}, 120_000)
afterAll(() => {
  sim.cleanup()
  rmSync(outside, {recursive: true, force: true})
})
beforeEach(() => {
  besideBefore = readdirSync(path.dirname(sim.root)).sort()
})

/** Put `what` at a host path of the simulated host (replacing what is there). */
async function plant(at: string, what: Plant): Promise<void> {
  const real = sim.fs(at)
  rmSync(real, {recursive: true, force: true})
  mkdirSync(path.dirname(real), {recursive: true})
  if (what === 'link out') symlinkSync(path.join(outside, 'sentinel'), real)
  else if (what === 'dangling link') symlinkSync(path.join(outside, 'made-by-nest'), real)
  else if (what === 'fifo') execFileSync('mkfifo', [real])
  else if (what === 'huge file') writeFileSync(real, Buffer.alloc(READ_LIMIT + 1, 'x'))
  else if (mknod) execFileSync('mknod', [real, 'c', '1', '3'])
  else {
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(real, resolve))
    // Closed, the socket file stays (Node unlinks nothing): a socket nobody listens on.
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

/** nest in-process, failing the test instead of hanging. */
async function bounded(...args: string[]): Promise<Run> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`nest ${args.join(' ')} did not finish in 20 s`)), 20_000)
  })
  try {
    return await Promise.race([sim.nest(...args), limit])
  } finally {
    clearTimeout(timer)
  }
}

/** What every case ends with: nothing outside touched, nothing new beside the sim root, the other jails fine. */
async function afterwards(): Promise<void> {
  expect(outsideState()).toEqual(outsideBefore)
  expect(readdirSync(path.dirname(sim.root)).filter((n) => !n.startsWith('saved-')).sort()).toEqual(besideBefore.filter((n) => !n.startsWith('saved-')))
  const list = await bounded('list', '--json')
  expect(list.code, list.stderr).toBe(0)
  const names = (JSON.parse(list.stdout) as {result: {jails: Array<{name: string}>}}).result.jails.map((j) => j.name)
  expect(names).toContain('other')
  const stop = await bounded('stop', 'other')
  expect(stop.code, stop.stderr).toBe(0)
}

const oneLine = (r: Run): string => r.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('warning: ')).join('\n')

describe('a planted file at each path nest touches below a jail\'s root', () => {
  it.each(PLANTS)('%s at a parent\'s /usr/local/bin/node: start only looks (a link counts as present); nothing is installed through it', async (what) => {
    sim.restore(allStopped)
    await plant(`${WEB}/usr/local/bin/node`, what)
    const r = await bounded('start', 'web')
    // Present (nest looks with lstat): no pkg. Inside web a link leads nowhere, so web's own nest cannot run for web/db.
    if (what === 'link out' || what === 'dangling link') {
      expect(r.code).toBe(7)
      expect(r.stderr).toMatch(/web\/db/)
    } else {
      expect(r.code, r.stderr).toBe(0)
    }
    expect(sim.alive()).toContain('web')
    expect(lstatSync(sim.fs(`${WEB}/usr/local/bin/node`)).isFile()).toBe(what === 'huge file')
    await afterwards()
  }, 60_000)

  it.each(PLANTS)('%s at a nested child\'s /usr/local/bin/node (the issue\'s case): start web/db creates nothing through it', async (what) => {
    sim.restore(dbStopped)
    await plant(`${DB}/usr/local/bin/node`, what)
    const log = path.join(sim.root, 'invocations.jsonl')
    const seen = readFileSync(log, 'utf8').length
    const r = await bounded('start', 'web/db')
    expect(r.code, r.stderr).toBe(0)
    expect(sim.alive()).toContain('web.db')
    const calls = readFileSync(log, 'utf8').slice(seen).split('\n').filter((l) => l.includes('"tool":"pkg"'))
    expect(calls).toEqual([])
    await afterwards()
  }, 60_000)

  it.each(PLANTS)('%s at a directory child\'s nest.json (the issue\'s hang): list and stop of other jails go on; list warns and leaves the child out', async (what) => {
    sim.restore(running)
    await plant(`${LITE}/nest/jails/k/nest.json`, what)
    const list = await bounded('list')
    expect(list.code).toBe(0)
    expect(list.stderr).toMatch(new RegExp(`^warning: (cannot read )?${LITE}/nest/jails/k/nest.json: `, 'm'))
    expect(list.stderr).toContain('the jail k in /nest/jails/lite/root/nest/jails left out')
    expect(list.stdout).not.toMatch(/lite\/k/)
    const stop = await bounded('stop', 'lite')
    expect(stop.code, stop.stderr).toBe(0)
    await afterwards()
  }, 60_000)

  it.each(PLANTS)('%s at a stopped nested child\'s jail.conf in its parent\'s root: list warns (no children.max) and goes on; start web/db refuses', async (what) => {
    sim.restore(dbStopped)
    await plant(`${WEB}/etc/jail.conf.d/db.conf`, what)
    const list = await bounded('list')
    expect(list.code).toBe(0)
    expect(list.stderr).toMatch(new RegExp(`^warning: (cannot read )?${WEB}/etc/jail.conf.d/db.conf: .*; web/db's children.max not shown$`, 'm'))
    expect(list.stdout).toMatch(/db +- +stopped/)
    const start = await bounded('start', 'web/db')
    expect(start.code).not.toBe(0)
    expect(oneLine(start)).toMatch(/db\.conf/)
    await afterwards()
  }, 60_000)

  it.each(PLANTS)('%s at a directory parent\'s /nest/jails (the issue\'s rm -rf): create and destroy of a child stay in the tree', async (what) => {
    sim.restore(liteFresh)
    await plant(`${LITE}/nest/jails`, what)
    const create = await bounded('create', 'lite/k2', '--policy', 'leaf')
    const destroy = await bounded('destroy', 'lite/k2', '--force')
    if (what === 'link out' || what === 'dangling link') {
      // Inside lite the link is lite's own business: it leads to a directory of lite's own root (the
      // simulator resolves it there), where lite's nest makes the child. The host follows nothing
      // below lite's root: lite's children are left out, with a warning naming the link, so the
      // host's destroy does not find lite/k2 (lite's own nest still can).
      expect(create.code, create.stderr).toBe(0)
      expect(destroy.code).toBe(4)
      expect(destroy.stderr).toContain(`warning: ${LITE}/nest/jails: a symbolic link, below the root of a jail (${LITE}): nest does not follow or read it there; the jails in ${LITE}/nest/jails left out`)
      expect(lstatSync(sim.fs(path.join(LITE, outside))).isDirectory()).toBe(true)
    } else {
      expect(create.code).not.toBe(0)
      expect(oneLine(create)).toMatch(/\/nest\/jails/)
    }
    await afterwards()
  }, 60_000)

  it.each(PLANTS)('%s at a directory parent\'s /nest/releases: the host copies no release into it (preflight, exit 6, the path named)', async (what) => {
    sim.restore(liteFresh)
    await plant(`${LITE}/nest/releases`, what)
    const r = await bounded('create', 'lite/k2', '--policy', 'leaf')
    expect(r.code).toBe(6)
    expect(oneLine(r)).toContain(`${LITE}/nest/releases is `)
    await afterwards()
  }, 60_000)

  it.each(PLANTS)('%s at a child manager\'s /var/run/nest: its lock stays inside the tree', async (what) => {
    sim.restore(running)
    await plant(`${WEB}/var/run/nest`, what)
    const r = await bounded('stop', 'web/db')
    if (what === 'link out' || what === 'dangling link') expect(r.code, r.stderr).toBe(0)
    else expect(r.code).not.toBe(0)
    await afterwards()
  }, 60_000)
})
