// The simulated host in-process: one tool call dispatched through runTool without a process,
// and every program it starts (jexec's command, jail(8)'s exec.* hooks) run the same way: the
// simulated tools through runTool again, nest through a runner the caller injects (tests run
// nest's own command classes; the simulator never imports nest). Not a mock: the same tool
// code and the same kernel model as the executables in <root>/bin, without a Node.js start
// per call. In-process programs are processes of their jail under pseudo pids (pids.ts).
import {runTool} from './dispatch.js'
import {SysError} from './kernel/state.js'
import type {ProgramIO, Programs} from './tools/common.js'

/** Runs nest with a command line, in a jail's context (io.env carries NEST_SIM_JID); its exit status. */
export type NestRunner = (argv: string[], io: ProgramIO) => Promise<number>

/** The in-process program runners for a simulator whose nest is `nest`. */
export function inProcessPrograms(nest: NestRunner): Programs {
  const programs: Programs = {
    tool: (name, argv, io) => runTool(name, argv, {
      root: io.root, jid: io.jid, env: io.env, out: io.out, err: io.err, programs,
      ...(io.stdin ? {stdin: io.stdin} : {}), ...(io.tty ? {tty: io.tty} : {}), ...(io.write ? {write: io.write} : {}),
    }),
    nest,
  }
  return programs
}

export interface InProcessResult {
  code: number
  stdout: string
  stderr: string
}

/** One simulated tool call in-process, with its output collected. */
export async function callTool(programs: Programs, tool: string, argv: string[], o: {root: string; jid: number; env: NodeJS.ProcessEnv}): Promise<InProcessResult> {
  let stdout = ''
  let stderr = ''
  const code = await programs.tool(tool, argv, {...o, out: (t) => (stdout += t), err: (t) => (stderr += t)})
  return {code, stdout, stderr}
}

/**
 * An OS pipe between two in-process programs: the writer's `write` waits while more than
 * `capacity` characters are unread (the model's pipe buffer), the reader's `stdin` yields what was written and ends
 * when the writer closes its end; once the reader has closed its end, a write fails EPIPE.
 */
export interface SimPipe {
  write(text: string): Promise<void>
  /** The writer's end closed: the reader sees end of file once it has read everything. */
  closeWriter(): void
  /** The reader's end closed (it exited): writes from now on fail EPIPE. */
  closeReader(): void
  stdin: AsyncIterable<string>
}

export function makePipe(capacity = 65_536): SimPipe {
  const queue: string[] = []
  let queued = 0
  let writerClosed = false
  let readerClosed = false
  let wakeReader: (() => void) | undefined
  let wakeWriter: (() => void) | undefined
  const wake = (which: 'reader' | 'writer'): void => {
    const f = which === 'reader' ? wakeReader : wakeWriter
    if (which === 'reader') wakeReader = undefined
    else wakeWriter = undefined
    f?.()
  }
  return {
    async write(text) {
      if (readerClosed) throw new SysError('EPIPE')
      queue.push(text)
      queued += text.length
      wake('reader')
      while (queued > capacity && !readerClosed) await new Promise<void>((r) => (wakeWriter = r))
      if (readerClosed && queued > 0) {
        queue.length = 0
        queued = 0
      }
    },
    closeWriter() {
      writerClosed = true
      wake('reader')
    },
    closeReader() {
      readerClosed = true
      queue.length = 0
      queued = 0
      wake('writer')
    },
    stdin: {
      async* [Symbol.asyncIterator]() {
        for (;;) {
          const next = queue.shift()
          if (next !== undefined) {
            queued -= next.length
            wake('writer')
            yield next
            continue
          }
          if (writerClosed || readerClosed) return
          await new Promise<void>((r) => (wakeReader = r))
        }
      },
    },
  }
}

/**
 * `from | to` in-process: both tool calls run at once, joined by a SimPipe; each one's exit
 * status and stderr, the reader's stdout.
 */
export async function pipeTools(
  programs: Programs, from: [string, string[]], to: [string, string[]],
  o: {root: string; jid: number; env: NodeJS.ProcessEnv; err?: (side: 'from' | 'to', text: string) => void},
): Promise<{from: InProcessResult; to: InProcessResult}> {
  const pipe = makePipe()
  const f: InProcessResult = {code: 0, stdout: '', stderr: ''}
  const t: InProcessResult = {code: 0, stdout: '', stderr: ''}
  const writer = programs.tool(from[0], from[1], {
    root: o.root, jid: o.jid, env: o.env, write: (s) => pipe.write(s), out: (s) => void pipe.write(s).catch(() => undefined),
    err: (s) => (f.stderr += s, o.err?.('from', s)),
  }).finally(() => pipe.closeWriter())
  const reader = programs.tool(to[0], to[1], {
    root: o.root, jid: o.jid, env: o.env, stdin: pipe.stdin, out: (s) => (t.stdout += s), err: (s) => (t.stderr += s, o.err?.('to', s)),
  }).finally(() => pipe.closeReader())
  ;[f.code, t.code] = await Promise.all([writer, reader])
  return {from: f, to: t}
}
