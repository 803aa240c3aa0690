// The CLI's own edges as a user meets them, through real processes (bin/run.js): the version,
// help, a mistyped command (with and without --json) and exec's usage line. None of them selects
// a host, so none may create the simulated host they are pointed at.
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {NEST_BIN, runNest, spawnRun} from '../helpers/sim.js'

let root: string
beforeAll(() => {
  root = path.join(mkdtempSync(path.join(tmpdir(), 'nest-cli-')), 'sim')
})
afterAll(() => {
  // Nothing here acts on a host: the simulated host was never initialized.
  expect(existsSync(root)).toBe(false)
  rmSync(path.dirname(root), {recursive: true, force: true})
})

const version = (JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../package.json'), 'utf8')) as {version: string}).version

describe('nest, the command line itself', () => {
  it('prints its version', async () => {
    const r = await runNest(root, '--version')
    expect(r).toMatchObject({code: 0, stderr: ''})
    expect(r.stdout).toBe(`nest/${version} ${process.platform}-${process.arch} node-${process.version}\n`)
  })

  it('answers a mistyped command under --json with exactly one JSON document: a usage error, exit 2, the closest command as the fix', async () => {
    const r = await runNest(root, 'crate', 'web', '--json')
    expect(r.code).toBe(2)
    expect(r.stderr).toBe('')
    expect(JSON.parse(r.stdout)).toEqual({status: 2, error: {kind: 'usage', message: 'crate is not a nest command', fix: 'did you mean create?'}, warnings: []})
  })

  it('says what was meant on stderr, asks nothing and runs nothing, without --json (stdin is not a terminal here)', async () => {
    const r = await runNest(root, 'crate', 'web')
    expect(r).toEqual({code: 2, stdout: '', stderr: 'nest: crate is not a nest command (did you mean create?)\n'})
    const topic = await runNest(root, 'policy', 'shwo', 'parent')
    expect(topic).toEqual({code: 2, stdout: '', stderr: 'nest: policy shwo is not a nest command (did you mean policy show?)\n'})
  })

  // util-linux script(1) runs nest on a pseudo-terminal: stdin and stdout are a TTY there.
  it.skipIf(process.platform !== 'linux' || !existsSync('/usr/bin/script'))('asks nothing on a terminal either: a guess is never run', async () => {
    const line = [process.execPath, NEST_BIN, 'crate', 'web'].map((a) => `'${a}'`).join(' ')
    const r = await spawnRun('/usr/bin/script', ['-qec', `${line}; echo "rc=$?"`, '/dev/null'], {...process.env, NEST_SIM_ROOT: root})
    expect(r.stdout.replaceAll('\r', '')).toBe('nest: crate is not a nest command (did you mean create?)\nrc=2\n')
  })

  it('shows a command\'s help through `nest help COMMAND`, with the ERROR CODES table', async () => {
    const r = await runNest(root, 'help', 'create')
    expect(r).toMatchObject({code: 0, stderr: ''})
    expect(r.stdout).toContain('USAGE\n  $ nest create NAME ')
    expect(r.stdout).toContain('ERROR CODES\n    0  success\n    2  the command line could not be parsed (unknown command or flag, missing argument)\n')
  })

  it('shows `-- CMD` in exec\'s usage line', async () => {
    const r = await runNest(root, 'exec', '--help')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('USAGE\n  $ nest exec NAME [--host freebsd|sim] [--verbose] -- CMD [ARG...]\n  $ nest exec NAME --json -- CMD [ARG...]\n')
  })

  it('answers an unknown flag under --json with one usage document that says where help is', async () => {
    const r = await runNest(root, 'list', '--bogus', '--json')
    expect(r.code).toBe(2)
    expect(JSON.parse(r.stdout)).toEqual({status: 2, error: {kind: 'usage', message: 'Nonexistent flag: --bogus\nSee more help with --help', fix: 'nest list --help'}, warnings: []})
  })
})
