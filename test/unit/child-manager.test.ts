// What the host makes of an inner nest's answer (`jexec PARENT nest ... --json`): its error kinds
// are the table's, named as the user names the child; a usage error is nest's own bug.
import {okAsync} from 'neverthrow'
import {describe, expect, it} from 'vitest'

import type {Host} from '../../src/host/host.js'
import {runChild} from '../../src/host/tools/nest.js'

/** A host whose one program answers with this stdout and exit status. */
const answering = (doc: unknown, exitCode: number, calls: string[][] = []): Host => ({
  info: {} as Host['info'],
  files: {} as Host['files'],
  pipe: () => {
    throw new Error('no pipe here')
  },
  run: (argv) => {
    calls.push([...argv])
    return okAsync({argv: [...argv], stdout: `${JSON.stringify(doc)}\n`, stderr: '', exitCode, durationMs: 5})
  },
})

const call = {in: 'web', argv: ['start', 'db', '--no-children'], as: 'web/db'}

describe('runChild', () => {
  it('runs the inner nest with --json and returns its result', async () => {
    const calls: string[][] = []
    const r = await runChild(answering({status: 0, result: {jails: []}, warnings: []}, 0, calls), call)
    expect(r._unsafeUnwrap()).toEqual({status: 0, result: {jails: []}, warnings: []})
    expect(calls).toEqual([['jexec', 'web', '/usr/local/libexec/nest/bin/run.js', 'start', 'db', '--no-children', '--json']])
  })

  it('passes on a kind of the table with the child named as the user names it', async () => {
    const doc = {status: 5, error: {kind: 'conflict', message: 'db: already running', fix: 'nest stop db'}, warnings: []}
    const e = (await runChild(answering(doc, 5), call))._unsafeUnwrapErr()
    expect(e).toEqual({kind: 'conflict', message: 'web/db: already running', fix: 'nest stop web/db'})
  })

  it('turns the inner nest\'s usage error into an internal one: the user\'s command line was fine', async () => {
    const doc = {status: 2, error: {kind: 'usage', message: 'Nonexistent flag: --no-children\nSee more help with --help', fix: 'nest start --help'}, warnings: []}
    const e = (await runChild(answering(doc, 2), call))._unsafeUnwrapErr()
    expect(e).toEqual({kind: 'internal', message: 'web/db: the nest in web could not parse nest start db --no-children: Nonexistent flag: --no-children'})
  })

  it('reports an answer that is no nest document as the failed jexec, with its last line of stderr', async () => {
    const e = (await runChild(answering({status: 9, error: {kind: 'mystery', message: 'x'}}, 9), call))._unsafeUnwrapErr()
    expect(e).toMatchObject({kind: 'host', tool: 'jexec', exitCode: 9, message: 'web/db: nest in web failed: exit 9'})
  })
})
