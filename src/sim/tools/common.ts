// What every fake tool shares: its context (which jail it runs in), output, getopt, and the
// loud refusal of anything the simulator does not emulate (house style §15).
import {STRERROR, type Errno} from '../../domain/errno.js'
import type {SimFs} from '../fs.js'
import {SysError} from '../kernel/state.js'

/** Where and how one program runs in-process. */
export interface ProgramIO {
  root: string
  /** The jail it runs in (0 = the host), from NEST_SIM_JID for a process. */
  jid: number
  env: NodeJS.ProcessEnv
  out(text: string): void
  err(text: string): void
  /**
   * Standard input, read as it comes (a pipe from another program, main.ts's process.stdin);
   * absent: nothing to read, as from /dev/null.
   */
  stdin?: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>
  /** isatty(3) of standard input and output; absent: neither is a terminal. */
  tty?: {stdin?: boolean; stdout?: boolean}
  /**
   * Write to standard output, waiting while the reader is behind (backpressure); throws
   * SysError EPIPE once the reader is gone. Absent: `out`, which never waits or fails.
   */
  write?(text: string): Promise<void>
}

/** Write to a program's stdout through its backpressure (ProgramIO.write), else `out`. */
export async function writeOut(io: ProgramIO, text: string): Promise<void> {
  if (io.write) await io.write(text)
  else io.out(text)
}

/** A program's standard input line by line (a final line without newline too), as it arrives. */
export async function* stdinLines(io: ProgramIO): AsyncGenerator<string> {
  if (!io.stdin) return
  const decoder = new TextDecoder()
  let buf = ''
  for await (const chunk of io.stdin) {
    buf += typeof chunk === 'string' ? chunk : decoder.decode(chunk, {stream: true})
    let nl = buf.indexOf('\n')
    while (nl >= 0) {
      yield buf.slice(0, nl)
      buf = buf.slice(nl + 1)
      nl = buf.indexOf('\n')
    }
  }
  buf += decoder.decode()
  if (buf !== '') yield buf
}

/** Where one tool call runs, where its output goes, and how it may run the programs it starts. */
export interface CallOptions extends ProgramIO {
  /**
   * This call is a process of its own (main.ts): a tool that execs a program (jexec) may become
   * that program, as execve(2) makes it, instead of starting another process.
   */
  ownProcess?: boolean
  /** Run the programs this call starts (jexec's, jail(8)'s hooks) in-process (inprocess.ts). */
  programs?: Programs
}

/** What a tool sees: its call, and the simulated host's files. */
export interface ToolCtx extends CallOptions {
  fs: SimFs
  /**
   * A `midway` fault fired for this call (control.ts): the tool writes half of its output stream,
   * then fails with this stderr and exit status (dispatch.ts gives it only to the tools that can).
   */
  midway?: {stderr: string; exit: number}
}

/**
 * Programs run in-process: the simulated tools through the simulator's own dispatch, nest
 * through a runner the caller injects (the simulator never imports nest). Each call returns
 * the program's exit status.
 */
export interface Programs {
  tool(name: string, argv: string[], io: ProgramIO): Promise<number>
  nest(argv: string[], io: ProgramIO): Promise<number>
}

export type Tool = (ctx: ToolCtx, argv: string[]) => Promise<number>

/** Exit status of a refusal: EX_UNAVAILABLE, distinct from every FreeBSD failure status used here. */
export const NOT_SIMULATED_EXIT = 69

/** Thrown for any option or form the simulator does not emulate: it never guesses. */
export class NotSimulated extends Error {}

export const notSimulated = (what: string): never => {
  throw new NotSimulated(what)
}

/** A usage error printed the way the real tool prints it. */
export class UsageError extends Error {
  constructor(readonly text: string, readonly exit = 1) {
    super(text)
  }
}

export const strerror = (e: unknown): string => (e instanceof SysError ? STRERROR[e.errno] : String(e))

export const errnoOf = (e: unknown): Errno | undefined => (e instanceof SysError ? e.errno : undefined)

export interface Getopt {
  flags: Map<string, string | true>
  /** Repeated options with values, in order (e.g. zfs -o). */
  multi: Array<[string, string]>
  rest: string[]
}

/**
 * BSD getopt(3): single-letter options, clustered (`-nq`), values attached or separate,
 * stopping at `--` or the first operand. Unknown options → usage error via `onBad`.
 */
export function getopt(argv: string[], spec: string, onBad: (opt: string) => never): Getopt {
  const takes = new Set<string>()
  const known = new Set<string>()
  for (let i = 0; i < spec.length; i++) {
    const c = spec[i] as string
    known.add(c)
    if (spec[i + 1] === ':') {
      takes.add(c)
      i++
    }
  }
  const flags = new Map<string, string | true>()
  const multi: Array<[string, string]> = []
  let i = 0
  for (; i < argv.length; i++) {
    const a = argv[i] as string
    if (a === '--') {
      i++
      break
    }
    if (!a.startsWith('-') || a === '-') break
    for (let j = 1; j < a.length; j++) {
      const c = a[j] as string
      if (!known.has(c)) onBad(c)
      if (takes.has(c)) {
        const v = j + 1 < a.length ? a.slice(j + 1) : argv[++i]
        if (v === undefined) onBad(c)
        flags.set(c, v as string)
        multi.push([c, v as string])
        break
      }
      flags.set(c, true)
    }
  }
  return {flags, multi, rest: argv.slice(i)}
}
