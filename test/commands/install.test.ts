// Node.js in a parent is installed from inside the running jail (`pkg -j NAME install -y node`),
// never with `pkg -r ROOT` from the host into a root the jail's root user controls (freebsd/pkg
// libpkg/pkg_add.c: -r follows the links in the root's directories from the host's "/"). Only
// when it is missing (looked at without following a link), so a start with Node.js present
// runs no pkg at all.
import {lstatSync, readFileSync} from 'node:fs'
import path from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {makeSim, nestSteps, type TestSim} from '../helpers/sim.js'

let sim: TestSim
let bootstrapped: string
beforeAll(async () => {
  sim = await makeSim()
  await nestSteps(sim, ['bootstrap', '14.3-RELEASE'])
  bootstrapped = sim.save()
}, 60_000)
afterAll(() => sim.cleanup())

/** The tool calls made while `f` runs, as `tool argv...` lines. */
async function callsDuring(f: () => Promise<void>): Promise<string[]> {
  const log = path.join(sim.root, 'invocations.jsonl')
  const seen = readFileSync(log, 'utf8').length
  await f()
  return readFileSync(log, 'utf8').slice(seen).split('\n').filter((l) => l.includes('"tool"')).map((l) => {
    const c = JSON.parse(l) as {tool: string; argv: string[]}
    return [c.tool, ...c.argv].join(' ')
  })
}

describe('Node.js for nest inside a parent', () => {
  it('create: pkg -j once the jail runs, right after jail -c', async () => {
    sim.restore(bootstrapped)
    const calls = await callsDuring(() => nestSteps(sim, ['create', 'web']))
    const jail = calls.findIndex((c) => c.startsWith('jail -f /etc/jail.conf.d/web.conf -i -c web'))
    expect(jail).toBeGreaterThanOrEqual(0)
    expect(calls.filter((c) => c.startsWith('pkg'))).toEqual(['pkg -j web install -y node'])
    expect(calls.findIndex((c) => c.startsWith('pkg'))).toBeGreaterThan(jail)
    expect(lstatSync(sim.fs('/nest/jails/web/root/usr/local/bin/node')).isFile()).toBe(true)
  }, 30_000)

  it('create --no-start installs nothing; the first start does (after jail -c), the next ones run no pkg', async () => {
    sim.restore(bootstrapped)
    expect((await callsDuring(() => nestSteps(sim, ['create', 'web', '--no-start']))).filter((c) => c.startsWith('pkg'))).toEqual([])
    const first = await callsDuring(() => nestSteps(sim, ['start', 'web']))
    expect(first.filter((c) => c.startsWith('pkg'))).toEqual(['pkg -j web install -y node'])
    expect(first.findIndex((c) => c.startsWith('pkg'))).toBeGreaterThan(first.findIndex((c) => c.startsWith('jail -f')))
    await nestSteps(sim, ['stop', 'web'])
    expect((await callsDuring(() => nestSteps(sim, ['start', 'web']))).filter((c) => c.startsWith('pkg'))).toEqual([])
  }, 30_000)

  it('a nested parent gets it from inside, once its parent\'s nest has created and started it', async () => {
    sim.restore(bootstrapped)
    await nestSteps(sim, ['create', 'web'])
    const calls = await callsDuring(() => nestSteps(sim, ['create', 'web/db']))
    expect(calls.filter((c) => c.startsWith('pkg'))).toEqual(['pkg -j web.db install -y node'])
  }, 30_000)
})
