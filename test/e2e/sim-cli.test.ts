// nest sim commands: stdout, stderr, --json and exit codes. The first use and the exports run
// nest and the tools as real processes (bin/run.js, <root>/bin); the rest run in-process.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {nestEnv, nestInProcess, toolInProcess} from '../helpers/inprocess.js'
import {runNest, spawnRun} from '../helpers/sim.js'

let root: string
/** nest in-process, with the environment runNest gives the spawned one. */
const nestIn = (...args: string[]) => nestInProcess(nestEnv(root, {NEST_SIM_QUIET: ''}), args)
beforeEach(() => {
  root = path.join(mkdtempSync(path.join(tmpdir(), 'nest-e2e-')), 'sim')
})
afterEach(() => rmSync(path.dirname(root), {recursive: true, force: true}))

describe('nest sim', () => {
  it('initializes on first use with one notice on stderr, and shows the host', async () => {
    const r = await runNest(root, 'sim', 'status')
    expect(r.code).toBe(0)
    expect(r.stderr).toBe(`nest: using the simulated FreeBSD host at ${root} (initialized now)\n`)
    expect(r.stdout).toMatch(/^simulated FreeBSD 14\.3-RELEASE host at .*\njails: 0\ndatasets: 14\n/)
    const j = await runNest(root, 'sim', 'status', '--json')
    expect(JSON.parse(j.stdout)).toMatchObject({status: 0, result: {osrelease: '14.3-RELEASE', jails: []}, warnings: []})
  })

  it('prints exports that put the tools first on PATH', async () => {
    const env = (await runNest(root, 'sim', 'env')).stdout
    const r = await spawnRun('/bin/sh', ['-c', `${env}\njail -c name=p path=/ persist children.max=1 && jexec p jail -c name=c1 persist && jexec p jail -c name=c2 persist; echo "rc=$?"; jexec p sysctl -n security.jail.jailed`], process.env)
    expect(r.stdout).toBe('rc=1\n1\n')
    expect(r.stderr).toBe('jail: prison limit exceeded\n')
  })

  it('gives one JSON document and a documented code on bad input, and changes nothing', async () => {
    await nestIn('sim', 'init')
    const r = await nestIn('sim', 'latency', 'jail=fast', '--json')
    expect(r.code).toBe(3)
    expect(JSON.parse(r.stdout)).toEqual({status: 3, error: {kind: 'invalid-input', message: 'bad latency "jail=fast": use tool=milliseconds', fix: 'for example: jail=200,zfs=20'}, warnings: []})
    const u = await nestIn('sim', 'fault', '--json')
    expect(u.code).toBe(2)
    expect(JSON.parse(u.stdout)).toMatchObject({status: 2, error: {kind: 'usage'}})
    const missing = await nestIn('sim', 'restore', '/nonexistent/file')
    expect(missing).toMatchObject({code: 4, stdout: ''})
    expect(missing.stderr).toContain('nest: /nonexistent/file: no such file (give a file written by nest sim snapshot)\n')
  })

  it('snapshots and restores the whole model', async () => {
    const file = path.join(path.dirname(root), 'snap.json')
    await nestIn('sim', 'init')
    expect((await nestIn('sim', 'snapshot', file)).code).toBe(0)
    expect((await toolInProcess(root, 0, 'jail', ['-c', 'name=x', 'path=/', 'persist'])).code).toBe(0)
    expect(JSON.parse((await nestIn('sim', 'status', '--json')).stdout).result.jails).toHaveLength(1)
    expect((await nestIn('sim', 'restore', file)).code).toBe(0)
    expect(JSON.parse((await nestIn('sim', 'status', '--json')).stdout).result.jails).toHaveLength(0)
  })
})
