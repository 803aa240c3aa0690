// The exec boundary itself, with real programs: argv passed as is (no shell), failures typed
// with tool, argv, exit code, short stderr; timeouts and missing programs too.
import {describe, expect, it} from 'vitest'

import {runArgv} from '../../src/host/exec.js'

const host = {path: '/usr/bin:/bin', env: {}}

describe('runArgv', () => {
  it('passes arguments verbatim: no shell ever sees them', async () => {
    const r = (await runArgv(host, ['echo', '$(reboot)', 'a;b', '*']))._unsafeUnwrap()
    expect(r.stdout).toBe('$(reboot) a;b *\n')
    expect(r.exitCode).toBe(0)
  })

  it('turns a non-zero exit into a host error with the last lines of stderr', async () => {
    const e = (await runArgv(host, ['sh', '-c', 'echo one >&2; echo "zfs: cannot open x" >&2; exit 3']))._unsafeUnwrapErr()
    expect(e).toMatchObject({kind: 'host', tool: 'sh', exitCode: 3, signal: null, stderr: 'one\nzfs: cannot open x', message: 'sh: one\nzfs: cannot open x'})
  })

  it('returns the failure as a result when asked (callers that read the reason)', async () => {
    const r = (await runArgv(host, ['false'], {allowFailure: true}))._unsafeUnwrap()
    expect(r.exitCode).toBe(1)
  })

  it('reports a program that is not on PATH and one that timed out', async () => {
    const missing = (await runArgv(host, ['no-such-tool-here']))._unsafeUnwrapErr()
    expect(missing).toMatchObject({kind: 'host', tool: 'no-such-tool-here', exitCode: null})
    const slow = (await runArgv(host, ['sleep', '5'], {timeoutMs: 200}))._unsafeUnwrapErr()
    expect(slow).toMatchObject({kind: 'host', message: 'sleep: timed out', signal: 'SIGTERM'})
  })

  it('logs each command and its end when --verbose asks for it', async () => {
    const lines: string[] = []
    await runArgv({...host, log: (l) => lines.push(l)}, ['true'])
    expect(lines.map((l) => (JSON.parse(l) as {event: string}).event)).toEqual(['command', 'duration'])
  })
})
