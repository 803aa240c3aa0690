// The exec boundary itself, with real programs: argv passed as is (no shell), failures typed
// with tool, argv, exit code, short stderr; timeouts and missing programs too.
import {describe, expect, it} from 'vitest'

import {runArgv, runPipe} from '../../src/host/exec.js'

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

describe('runPipe', () => {
  it('joins stdout to stdin without a shell and resolves with both results', async () => {
    const r = (await runPipe(host, ['printf', '%s\\n', 'a;b', '$(x)'], ['tr', 'a-z', 'A-Z']))._unsafeUnwrap()
    expect(r.to.stdout).toBe('A;B\n$(X)\n')
    expect(r.from.stdout).toBe('')
    expect([r.from.exitCode, r.to.exitCode]).toEqual([0, 0])
  })

  it('moves more than a pipe buffer without holding it (the reader sees it all)', async () => {
    const r = (await runPipe(host, ['head', '-c', '3000000', '/dev/zero'], ['wc', '-c']))._unsafeUnwrap()
    expect(r.to.stdout.trim()).toBe('3000000')
  })

  it('fails when the reader fails, naming the reader', async () => {
    const e = (await runPipe(host, ['echo', 'data'], ['sh', '-c', 'cat >/dev/null; echo "cannot receive: failed" >&2; exit 1']))._unsafeUnwrapErr()
    expect(e).toMatchObject({kind: 'host', tool: 'sh', exitCode: 1, stderr: 'cannot receive: failed', message: 'sh: cannot receive: failed'})
    expect(e.argv[0]).toBe('sh')
  })

  it('fails when the writer fails though the reader succeeded, naming the writer', async () => {
    const e = (await runPipe(host, ['sh', '-c', 'echo half; echo "warning: cannot send" >&2; exit 1'], ['cat']))._unsafeUnwrapErr()
    expect(e).toMatchObject({kind: 'host', tool: 'sh', argv: ['sh', '-c', 'echo half; echo "warning: cannot send" >&2; exit 1'], exitCode: 1, message: 'sh: warning: cannot send'})
  })

  it('blames the reader when the writer only died of the broken pipe, and says both', async () => {
    const e = (await runPipe(host, ['sh', '-c', 'sleep 0.2; echo x; echo "cannot send: Broken pipe" >&2; exit 1'], ['sh', '-c', 'echo "recv: gone" >&2; exit 3']))._unsafeUnwrapErr()
    expect(e).toMatchObject({tool: 'sh', exitCode: 3, stderr: 'recv: gone'})
    expect(e.message).toBe('sh: recv: gone\n(and sh: killed by SIGPIPE)')
  })

  it('times out both sides and logs both commands', async () => {
    const lines: string[] = []
    const e = (await runPipe({...host, log: (l) => lines.push(l)}, ['sleep', '5'], ['sh', '-c', 'cat; sleep 5'], {timeoutMs: 200}))._unsafeUnwrapErr()
    expect(e).toMatchObject({kind: 'host', tool: 'sleep', message: 'sleep: timed out\n(and sh: timed out)', signal: 'SIGTERM'})
    const commands = lines.map((l) => JSON.parse(l) as {event: string; argv: string[]}).filter((l) => l.event === 'command')
    expect(commands.map((c) => c.argv)).toEqual([['sleep', '5'], ['sh', '-c', 'cat; sleep 5']])
  })

  it('reports a reader that is not on PATH', async () => {
    const e = (await runPipe(host, ['echo', 'x'], ['no-such-tool-here']))._unsafeUnwrapErr()
    expect(e).toMatchObject({kind: 'host', tool: 'no-such-tool-here', exitCode: null})
  })
})
