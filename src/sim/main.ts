// Entry point of every simulated FreeBSD tool as a process: `node main.cjs <tool> args...` (the
// bundle of this file), run by the shims in <sim root>/bin. The call itself is dispatch.ts's runTool.
import {writeSync} from 'node:fs'
import {isatty} from 'node:tty'

import {runTool} from './dispatch.js'
import {SysError} from './kernel/state.js'

/**
 * Write straight to a file descriptor, as the C tools' write(2) does: touching process.stdout
 * would build a stream (for a pipe, a net.Socket and the modules behind it), a few ms of each
 * tool process. A reader that goes away (`jls | head`) is not an error of the tool.
 */
function writeAll(fd: number, text: string): void {
  let buf = Buffer.from(text)
  while (buf.length > 0) {
    try {
      buf = buf.subarray(writeSync(fd, buf))
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'EAGAIN') continue
      if (code === 'EPIPE' || code === 'ECONNRESET') return
      throw error
    }
  }
}

/**
 * stdout with backpressure: write(2) blocks on a full pipe (or, on a non-blocking one, the
 * write is retried after a tick), and a reader gone (EPIPE: Node ignores SIGPIPE) is the
 * writer's error to report, as write(2) returns it to a C program that ignores SIGPIPE.
 */
async function writeWaiting(text: string): Promise<void> {
  let buf = Buffer.from(text)
  while (buf.length > 0) {
    try {
      buf = buf.subarray(writeSync(1, buf))
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'EAGAIN') {
        await new Promise((r) => setTimeout(r, 1))
        continue
      }
      // Node's child stdio is a socketpair, where a reader gone shows as ECONNRESET; a pipe(2) gives EPIPE.
      if (code === 'EPIPE' || code === 'ECONNRESET') throw new SysError('EPIPE')
      throw error
    }
  }
}

async function main(): Promise<number> {
  const [toolName, ...argv] = process.argv.slice(2)
  const root = process.env['NEST_SIM_ROOT']
  if (!root) {
    writeAll(2, 'sim: NEST_SIM_ROOT is not set\n')
    return 70
  }
  return runTool(toolName, argv, {
    root,
    jid: Number(process.env['NEST_SIM_JID'] ?? '0'),
    env: process.env,
    out: (t) => writeAll(1, t),
    err: (t) => writeAll(2, t),
    write: writeWaiting,
    // process.stdin is made only when a tool reads it (zfs recv, tar -x): a stream costs a few ms.
    stdin: {[Symbol.asyncIterator]: () => process.stdin[Symbol.asyncIterator]()},
    tty: {stdin: isatty(0), stdout: isatty(1)},
    // jexec may become the program it runs (execve), in this process.
    ownProcess: true,
  })
}

// No top-level await: the bundle of this entry is CommonJS (scripts/bundle-sim.js).
main().then((code) => {
  process.exitCode = code
}, (error: unknown) => {
  writeAll(2, `sim: internal error: ${error instanceof Error ? error.stack : String(error)}\n`)
  process.exitCode = 70
})
