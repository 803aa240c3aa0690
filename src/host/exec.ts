// The one place nest runs programs (house style §7): argv arrays only, never a shell; explicit
// timeout, kill delay and cancellation; a controlled PATH; a structured log for --verbose;
// every failure a typed host error carrying the tool, argv, exit code, signal, short stderr
// and duration.
//
// execa is imported on first use, not at start-up: bundled, it costs a nest process about a
// third of a `node -e 0` (its ~130 modules), which --version, --help, usage errors and every
// command that answers without running a program would pay for nothing.
import type {Options as ExecaOptions, VerboseObject} from 'execa'
import {errAsync, okAsync, ResultAsync} from 'neverthrow'

import type {NestError} from '../domain/errors.js'

export interface ExecEnv {
  /** PATH for every program (FreeBSD's own, or the simulated host's tools). */
  path: string
  /** Extra environment (the simulated host's jail context). */
  env: Record<string, string>
  /** Structured log lines (--verbose / NEST_DEBUG=1); undefined: no log. */
  log?: (line: string) => void
}

export interface ExecOptions {
  /** Milliseconds before the program is killed (SIGTERM, then SIGKILL 2 s later). */
  timeoutMs?: number
  signal?: AbortSignal
  /**
   * `inherit`: the program talks to nest's own terminal (nest exec, nest console); `stderr`:
   * stdout is read, stderr goes straight to nest's own (a child manager's progress).
   */
  stdio?: 'pipe' | 'inherit' | 'stderr'
  /** More environment for this program only. */
  env?: Record<string, string>
  /** A non-zero exit is returned as a result, not as an error (callers that read the reason). */
  allowFailure?: boolean
}

export interface ExecResult {
  argv: string[]
  stdout: string
  stderr: string
  exitCode: number
  durationMs: number
}

export type HostError = Extract<NestError, {kind: 'host'}>

let execaModule: Promise<typeof import('execa')> | undefined
const loadExeca = (): Promise<typeof import('execa')> => (execaModule ??= import('execa'))

/** Five minutes: a jail start runs /etc/rc, which may take a while; nothing nest runs is interactive except under `inherit`. */
export const DEFAULT_TIMEOUT_MS = 300_000

/** The last lines of stderr, enough to say what went wrong in one message. */
export function shortStderr(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '')
  return lines.slice(-3).join('\n')
}

/** The environment nest adds for one program, as the log shows it (a long value by its size, as --dry-run does). */
const envOf = (env: Record<string, string> | undefined): {env?: Record<string, string>} =>
  env && Object.keys(env).length > 0 ? {env: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.length > 80 ? `<${v.length} bytes of JSON>` : v]))} : {}

/** What a failed tool said, named once: err(3) and most tools name themselves already (`jail: ...`). */
export const toolSaid = (tool: string, said: string): string => (said.startsWith(`${tool}: `) ? said : `${tool}: ${said}`)

export function runArgv(host: ExecEnv, argv: readonly string[], opts: ExecOptions = {}): ResultAsync<ExecResult, HostError> {
  const [file, ...args] = argv
  const tool = file ?? ''
  let started = Date.now()
  const log = host.log
  const run = loadExeca().then(({execa}) => (started = Date.now(), execa(tool, args, {
    reject: false,
    shell: false,
    timeout: opts.timeoutMs ?? (opts.stdio === 'inherit' ? 0 : DEFAULT_TIMEOUT_MS),
    forceKillAfterDelay: 2000,
    ...(opts.signal ? {cancelSignal: opts.signal} : {}),
    env: {...host.env, ...opts.env, PATH: host.path},
    extendEnv: true,
    stdin: opts.stdio === 'inherit' ? 'inherit' : 'ignore',
    stdout: opts.stdio === 'inherit' ? 'inherit' : 'pipe',
    stderr: opts.stdio === 'inherit' ? 'inherit' : opts.stdio === 'stderr' ? ['pipe', 'inherit'] : 'pipe',
    stripFinalNewline: false,
    verbose: log
      ? (_line: string, o: Pick<VerboseObject, 'type' | 'commandId' | 'message'>) => {
        if (o.type === 'command' || o.type === 'duration' || o.type === 'error') {
          log(JSON.stringify({event: o.type, id: o.commandId, argv, ...(o.type === 'command' ? envOf(opts.env) : {message: o.message})}))
        }
        return undefined
      }
      : 'none',
  })))
  return ResultAsync.fromSafePromise(run).andThen((r) => {
    const durationMs = Date.now() - started
    const stdout = typeof r.stdout === 'string' ? r.stdout : ''
    const stderr = typeof r.stderr === 'string' ? r.stderr : ''
    const exitCode = r.exitCode ?? (r.failed ? 127 : 0)
    if (!r.failed || (opts.allowFailure && r.exitCode !== undefined && !r.timedOut && !r.isCanceled)) {
      return okAsync({argv: [...argv], stdout, stderr, exitCode, durationMs})
    }
    const why = r.timedOut ? 'timed out' : r.isCanceled ? 'cancelled' : r.signal ? `killed by ${r.signal}` : r.exitCode === undefined ? 'could not be run' : `exit ${r.exitCode}`
    const short = shortStderr(stderr)
    // A program that could not be started has no exit code and says why in execa's message.
    const said = r.timedOut || r.isCanceled || r.signal ? why : short || (r.exitCode === undefined ? (r.shortMessage ?? why) : why)
    const e: HostError = {
      kind: 'host',
      message: toolSaid(tool, said),
      tool,
      argv: [...argv],
      exitCode: r.exitCode ?? null,
      signal: r.signal ?? null,
      stderr: short,
      durationMs,
    }
    return errAsync(e)
  })
}

export interface PipeOptions {
  /** Milliseconds before both programs are killed (SIGTERM, then SIGKILL 2 s later). */
  timeoutMs?: number
  signal?: AbortSignal
  /** More environment for both programs. */
  env?: Record<string, string>
}

export interface PipeResult {
  /** The writer (`zfs send …`, `tar -c …`): its stdout went to the reader, so it is empty here. */
  from: ExecResult
  /** The reader (`zfs recv …`, `tar -x …`). */
  to: ExecResult
  durationMs: number
}

/** What one side of a pipe was told and said, as runArgv reads an execa result. */
export interface PipeSide {
  argv: string[]
  tool: string
  stdout: string
  stderr: string
  exitCode: number | null
  signal: string | null
  why: string | undefined
  shortMessage: string | undefined
}

function sideOf(argv: readonly string[], r: {stdout?: unknown; stderr?: unknown; exitCode?: number; signal?: string; failed: boolean; timedOut: boolean; isCanceled: boolean; shortMessage?: string}): PipeSide {
  const why = !r.failed ? undefined : r.timedOut ? 'timed out' : r.isCanceled ? 'cancelled' : r.signal ? `killed by ${r.signal}` : r.exitCode === undefined ? 'could not be run' : `exit ${r.exitCode}`
  return {
    argv: [...argv], tool: argv[0] ?? '', stdout: typeof r.stdout === 'string' ? r.stdout : '', stderr: typeof r.stderr === 'string' ? r.stderr : '',
    exitCode: r.exitCode ?? null, signal: r.signal ?? null, why, shortMessage: r.shortMessage,
  }
}

/** A failed side as a host error; the other side's words too when it failed as well. */
function pipeFailure(bad: PipeSide, other: PipeSide, durationMs: number): HostError {
  const said = (s: PipeSide): string => {
    const short = shortStderr(s.stderr)
    return s.why === 'timed out' || s.why === 'cancelled' || s.signal ? (s.why ?? '') : short || (s.exitCode === null ? (s.shortMessage ?? s.why ?? '') : (s.why ?? ''))
  }
  const also = other.why === undefined ? '' : `\n(and ${toolSaid(other.tool, said(other))})`
  return {
    kind: 'host', message: `${toolSaid(bad.tool, said(bad))}${also}`, tool: bad.tool, argv: bad.argv,
    exitCode: bad.exitCode, signal: bad.signal, stderr: shortStderr(bad.stderr), durationMs,
  }
}

/**
 * Which side of a failed pipe the error names: the writer, unless the writer only failed because
 * the reader went away first (SIGPIPE, or its `Broken pipe`) or did not fail at all.
 */
function blamed(from: PipeSide, to: PipeSide): [PipeSide, PipeSide] {
  if (from.why === undefined) return [to, from]
  if (to.why === undefined) return [from, to]
  const brokenPipe = from.signal === 'SIGPIPE' || /Broken pipe/.test(from.stderr)
  return brokenPipe ? [to, from] : [from, to]
}

/**
 * `from | to`: two programs joined by one OS pipe, the writer's stdout the reader's stdin, as a
 * shell joins them: the reader is given the pipe's read end as its stdin (a file descriptor
 * execa passes to spawn as it is), and nest closes its own copy, so the data goes from one
 * process to the other and never through nest (execa's `.pipe()` would copy it through nest:
 * lib/io/pipeline.js). No shell, no temporary file. Resolves when both
 * have ended; fails when either exits non-zero, is killed, times out or is cancelled, the error
 * naming that side (argv, exit code, stderr). The log (--verbose) shows both commands.
 */
export function runPipe(host: ExecEnv, from: readonly string[], to: readonly string[], opts: PipeOptions = {}): ResultAsync<PipeResult, HostError> {
  let started = Date.now()
  const log = host.log
  const common = (argv: readonly string[]) => ({
    reject: false,
    shell: false,
    timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    forceKillAfterDelay: 2000,
    ...(opts.signal ? {cancelSignal: opts.signal} : {}),
    env: {...host.env, ...opts.env, PATH: host.path},
    extendEnv: true,
    stderr: 'pipe' as const,
    stripFinalNewline: false,
    verbose: log
      ? (_line: string, o: Pick<VerboseObject, 'type' | 'commandId' | 'message'>) => {
        if (o.type === 'command' || o.type === 'duration' || o.type === 'error') {
          log(JSON.stringify({event: o.type, id: o.commandId, argv, ...(o.type === 'command' ? {...envOf(opts.env), pipe: from === argv ? 'from' : 'to'} : {message: o.message})}))
        }
        return undefined
      }
      : ('none' as const),
  })
  const run = loadExeca().then(async ({execa}) => {
    started = Date.now()
    const [f = '', ...fargs] = from
    const [t = '', ...targs] = to
    const writer = execa(f, fargs, {...common(from), stdin: 'ignore', stdout: 'pipe', buffer: {stdout: false}})
    // The read end of the writer's stdout pipe (Node's Pipe handle) becomes the reader's stdin;
    // spawn dups it into the reader, then nest closes its copy (a reader that exits early gives
    // the writer EPIPE/SIGPIPE, as in a shell pipeline).
    const fd = (writer.stdout as unknown as {_handle?: {fd?: number}} | null)?._handle?.fd
    if (typeof fd !== 'number' || fd < 0) {
      writer.kill()
      await writer
      throw new Error(`${f}: no pipe to join to ${t}`)
    }
    // execa passes a file descriptor number as it is to spawn (lib/stdio/native.js: "any file
    // descriptor integer"); its types list only 0 to 9 for the stdio array, hence the cast.
    const readerOptions = {...common(to), stdin: fd, stdout: 'pipe'} as unknown as ExecaOptions
    const reader = execa(t, targs, readerOptions)
    writer.stdout?.destroy()
    const [w, r] = await Promise.allSettled([writer, reader])
    return {w, r}
  })
  return ResultAsync.fromSafePromise(run).andThen(({w, r}) => {
    const durationMs = Date.now() - started
    // execa rejects .pipe() itself only when it could not join the two (a bad argument).
    const ws = w.status === 'fulfilled' ? sideOf(from, w.value) : sideOf(from, {failed: true, timedOut: false, isCanceled: false, shortMessage: String(w.reason)})
    const rs = r.status === 'fulfilled' ? sideOf(to, r.value) : sideOf(to, {failed: true, timedOut: false, isCanceled: false, shortMessage: String((r.reason as Error)?.message ?? r.reason)})
    return settlePipe(ws, rs, durationMs)
  })
}

/** Both sides ended: the pipe's result, or the error naming the side to blame (see blamed). */
export function settlePipe(ws: PipeSide, rs: PipeSide, durationMs: number): ResultAsync<PipeResult, HostError> {
  if (ws.why === undefined && rs.why === undefined) {
    const ok = (s: PipeSide): ExecResult => ({argv: s.argv, stdout: s.stdout, stderr: s.stderr, exitCode: 0, durationMs})
    return okAsync({from: ok(ws), to: ok(rs), durationMs})
  }
  const [bad, other] = blamed(ws, rs)
  return errAsync(pipeFailure(bad, other, durationMs))
}
