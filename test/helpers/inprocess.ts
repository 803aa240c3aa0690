// nest and the simulated host in one process, for tests: nest's own command classes run by
// oclif (config.runCommand) inside an invocation context of their own (environment, stdout,
// stderr, TTY flag, exit code), on a host whose programs are the simulator's own tools
// dispatched through runTool without spawning; the programs those tools start (jexec's command,
// jail(8)'s exec.* hooks) run in-process too, nest included. Not a mock: the same product code
// and the same simulator code as the executables, without a Node.js start per call.
import path from 'node:path'

import {Config} from '@oclif/core'
import {errAsync, okAsync, ResultAsync} from 'neverthrow'

import {type HostFactory, type Invocation, invocation, markInvocationDead, withInvocation} from '../../src/context/invocation.js'
import {type ExecOptions, type ExecResult, type HostError, type PipeOptions, type PipeResult, settlePipe, shortStderr, toolSaid} from '../../src/host/exec.js'
import {type Host, makeHost} from '../../src/host/host.js'
import type {HostInfo} from '../../src/host/select.js'
import {INVOCATION_ENV, registerCrash} from '../../src/sim/crash.js'
import {callTool, inProcessPrograms, pipeTools} from '../../src/sim/inprocess.js'
import {SIM_TOOLS} from '../../src/sim/run.js'
import type {ProgramIO} from '../../src/sim/tools/common.js'

export interface Run {
  code: number
  stdout: string
  stderr: string
  /** Ended by the simulator's crash mode, as kill -9 ends a process (code 137, as a shell reports it). */
  crashed?: boolean
}

/** The exit status a shell reports for a process killed by SIGKILL. */
export const CRASH_EXIT = 128 + 9

/** What a crashed invocation is still doing: its calls in flight, which run to their end as a dead process's children do. */
const inflight = new WeakMap<object, Set<Promise<unknown>>>()
let invocationIds = 0

/** A promise that never settles: what a dead invocation's next step waits for. */
const never = <T>(): Promise<T> => new Promise<T>(() => undefined)

const REPO = path.resolve(import.meta.dirname, '../..')

let config: Promise<Config> | undefined
/** oclif's configuration (the compiled commands), loaded once per test file. */
export const nestConfig = (): Promise<Config> => (config ??= Config.load(REPO))

/** The command id (`sim:status`) and its arguments, from a command line as a user types it. */
function splitCommand(c: Config, argv: readonly string[]): [string, string[]] | undefined {
  for (let n = Math.min(argv.length, 3); n >= 1; n--) {
    const id = argv.slice(0, n).join(':')
    if (c.findCommand(id)) return [id, argv.slice(n)]
  }
  return undefined
}

export interface NestIO {
  env: NodeJS.ProcessEnv
  out(text: string): void
  err(text: string): void
  isTTY?: boolean
}

/**
 * Run one nest command line in-process; its exit status. Errors oclif throws end as bin/run.js
 * ends them: a command line it cannot parse exits 2 with oclif's message on stderr.
 */
export async function runNestIn(argv: readonly string[], io: NestIO): Promise<number> {
  return (await runNestCrashable(argv, io)).code
}

/**
 * Run one nest command line in-process; its exit status, and whether the simulator's crash
 * mode ended it: then it is as a process killed with SIGKILL (nothing of it runs afterwards,
 * nothing more is printed, its locks stay behind), once the calls it had in flight are done.
 */
export async function runNestCrashable(argv: readonly string[], io: NestIO): Promise<{code: number; crashed: boolean}> {
  const c = await nestConfig()
  let code = 0
  const id = `inv-${process.pid}-${invocationIds++}`
  const inv: Invocation = {
    env: {...io.env, [INVOCATION_ENV]: id},
    out: (t) => (inv.dead ? undefined : io.out(t)),
    err: (t) => (inv.dead ? undefined : io.err(t)),
    isTTY: io.isTTY ?? false,
    setExitCode: (n: number) => (code = n),
    hostFactory: inProcessHost,
  }
  inflight.set(inv, new Set())
  let crashed!: () => void
  const crash = new Promise<void>((resolve) => (crashed = resolve))
  const forget = registerCrash(id, () => {
    inv.dead = true
    // Its locks now count as a dead owner's: the next nest takes them over at once (lock.ts).
    markInvocationDead(inv)
    crashed()
  })
  const ran = withInvocation(inv, async () => {
    const found = splitCommand(c, argv)
    if (!found) {
      io.err(` ›   Error: command ${argv.join(' ')} not found\n`)
      code = 2
      return
    }
    try {
      await c.runCommand(found[0], found[1])
    } catch (error) {
      // Told by shape, not by class: the commands may carry a bundled copy of oclif.
      const e = error as Error & {oclif?: {exit?: number}; code?: string; render?: () => string}
      if (e.oclif && e.code === 'EEXIT') code = e.oclif.exit ?? 0
      else if (e.oclif) {
        io.err(`${e.render ? e.render() : ` ›   Error: ${e.message}`}\n`)
        code = e.oclif.exit ?? 2
      } else {
        io.err(`${e.stack ?? String(e)}\n`)
        code = 1
      }
    }
  }).then(() => false)
  const died = crash.then(async () => {
    // Its children (a jail(8) running hooks, a child manager) finish on their own.
    for (let calls = inflight.get(inv); calls && calls.size > 0;) await Promise.allSettled([...calls])
    return true
  })
  const dead = await Promise.race([ran, died])
  forget()
  return dead ? {code: CRASH_EXIT, crashed: true} : {code, crashed: false}
}

/** The environment nest gets on a simulated host (as the spawned helper gives it). */
export function nestEnv(root: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {...process.env, NEST_SIM_ROOT: root, NEST_HOST: 'sim', NEST_SIM_QUIET: '1', NEST_SIM_LATENCY: '', ...extra}
  delete env['NEST_HELD_LOCKS']
  delete env['NEST_SIM_JID']
  delete env['NEST_CLEANUP_FOLLOWS']
  return {...env, ...extra}
}

/** One nest command line in-process, with its output collected. */
export async function nestInProcess(env: NodeJS.ProcessEnv, argv: readonly string[]): Promise<Run> {
  let stdout = ''
  let stderr = ''
  const {code, crashed} = await runNestCrashable(argv, {env, out: (t) => (stdout += t), err: (t) => (stderr += t)})
  return {code, stdout, stderr, ...(crashed ? {crashed} : {})}
}

/** How the simulator runs nest in-process: jexec's `nest …` and the hooks' `/usr/local/bin/nest …`. */
const nestProgram = (argv: string[], io: ProgramIO): Promise<number> => runNestIn(argv, {env: io.env, out: io.out, err: io.err})

export const programs = inProcessPrograms(nestProgram)

/** A simulated tool in-process, on the host (jid 0) or inside a jail. */
export function toolInProcess(root: string, jid: number, tool: string, argv: string[]): Promise<Run> {
  return callTool(programs, tool, argv, {root, jid, env: {...process.env, NEST_SIM_ROOT: root, NEST_SIM_JID: String(jid), NEST_SIM_LATENCY: ''}})
}

let commandIds = 0

/**
 * The host nest sees, with `run` dispatched in-process: what execa would give the program
 * (the invocation's environment, the host's jail, PATH) and what runArgv makes of its status.
 */
export const inProcessHost: HostFactory = (info: HostInfo, log?: (line: string) => void): Host => {
  const base = makeHost(info, log)
  const run = (argv: readonly string[], opts: ExecOptions = {}): ResultAsync<ExecResult, HostError> => {
    const [file = '', ...args] = argv
    const root = info.simRoot
    const name = file.includes('/') && path.dirname(file) === info.path ? path.basename(file) : file
    const started = Date.now()
    const id = String(commandIds++)
    // As exec.ts logs it: the environment nest adds, a long value by its size.
    const shown = Object.entries(opts.env ?? {}).map(([k, v]) => [k, v.length > 80 ? `<${v.length} bytes of JSON>` : v])
    log?.(JSON.stringify({event: 'command', id, argv, ...(shown.length > 0 ? {env: Object.fromEntries(shown)} : {})}))
    const failed = (said: string, exitCode: number | null, stderr: string): ResultAsync<ExecResult, HostError> => {
      log?.(JSON.stringify({event: 'error', id, argv, message: said}))
      return errAsync({kind: 'host', message: toolSaid(file, said), tool: file, argv: [...argv], exitCode, signal: null, stderr, durationMs: Date.now() - started})
    }
    if (root === undefined || !(SIM_TOOLS as readonly string[]).includes(name)) {
      // What execa says of a program that is not on the host's PATH.
      return failed(`Command failed with ENOENT: ${argv.join(' ')}\nspawn ${file} ENOENT`, null, '')
    }
    if (opts.signal?.aborted) return failed('cancelled', null, '')
    const inv = invocation()
    // A crashed invocation starts nothing more.
    if (inv.dead) return ResultAsync.fromSafePromise(never<ExecResult>())
    const env: NodeJS.ProcessEnv = {...inv.env, NEST_SIM_JID: String(info.simJid ?? 0), ...opts.env, PATH: info.path}
    let stdout = ''
    let stderr = ''
    const out = opts.stdio === 'inherit' ? inv.out : (t: string) => (stdout += t)
    const err = opts.stdio === 'inherit' || opts.stdio === 'stderr' ? inv.err : (t: string) => (stderr += t)
    const calls = inflight.get(inv)
    const call = programs.tool(name, args, {root, jid: info.simJid ?? 0, env, out, err}).finally(() => calls?.delete(call))
    calls?.add(call)
    // A call that ends after its caller crashed is answered to no one.
    const answered = call.then((exitCode) => (inv.dead ? never<number>() : exitCode))
    return ResultAsync.fromSafePromise(answered).andThen((exitCode) => {
      const durationMs = Date.now() - started
      log?.(JSON.stringify({event: 'duration', id, argv, message: `(done in ${durationMs}ms)`}))
      if (exitCode === 0 || opts.allowFailure) return okAsync({argv: [...argv], stdout, stderr, exitCode, durationMs})
      const short = shortStderr(stderr)
      return failed(short || `exit ${exitCode}`, exitCode, short)
    })
  }
  /** `from | to`: both tool calls at once, joined by an in-process pipe (src/sim/inprocess.ts makePipe); settled as exec.ts settles real ones. */
  const pipe = (from: readonly string[], to: readonly string[], opts: PipeOptions = {}): ResultAsync<PipeResult, HostError> => {
    const root = info.simRoot
    const started = Date.now()
    const toolOf = (file: string): string => (file.includes('/') && path.dirname(file) === info.path ? path.basename(file) : file)
    const ids = [String(commandIds++), String(commandIds++)]
    for (const [i, argv] of [from, to].entries()) log?.(JSON.stringify({event: 'command', id: ids[i], argv, pipe: i === 0 ? 'from' : 'to'}))
    const missing = [from, to].find((a) => root === undefined || !(SIM_TOOLS as readonly string[]).includes(toolOf(a[0] ?? '')))
    if (missing) {
      const file = missing[0] ?? ''
      return errAsync({kind: 'host', message: toolSaid(file, `Command failed with ENOENT: ${missing.join(' ')}\nspawn ${file} ENOENT`), tool: file, argv: [...missing], exitCode: null, signal: null, stderr: '', durationMs: 0})
    }
    if (opts.signal?.aborted) return errAsync({kind: 'host', message: toolSaid(from[0] ?? '', 'cancelled'), tool: from[0] ?? '', argv: [...from], exitCode: null, signal: null, stderr: '', durationMs: 0})
    const inv = invocation()
    if (inv.dead) return ResultAsync.fromSafePromise(never<PipeResult>())
    const env: NodeJS.ProcessEnv = {...inv.env, NEST_SIM_JID: String(info.simJid ?? 0), ...opts.env, PATH: info.path}
    const [f = '', ...fargs] = from
    const [t = '', ...targs] = to
    const calls = inflight.get(inv)
    const call = pipeTools(programs, [toolOf(f), fargs], [toolOf(t), targs], {root: root as string, jid: info.simJid ?? 0, env}).finally(() => calls?.delete(call))
    calls?.add(call)
    const answered = call.then((r) => (inv.dead ? never<typeof r>() : r))
    return ResultAsync.fromSafePromise(answered).andThen((r) => {
      const durationMs = Date.now() - started
      for (const [i, argv] of [from, to].entries()) log?.(JSON.stringify({event: 'duration', id: ids[i], argv, message: `(done in ${durationMs}ms)`}))
      const side = (argv: readonly string[], x: {code: number; stdout: string; stderr: string}) => ({
        argv: [...argv], tool: argv[0] ?? '', stdout: x.stdout, stderr: x.stderr, exitCode: x.code, signal: null, why: x.code === 0 ? undefined : `exit ${x.code}`, shortMessage: undefined,
      })
      return settlePipe(side(from, r.from), side(to, r.to), durationMs)
    })
  }
  return {info, files: deadStops(base.files), run, pipe}
}

/** The host's files, as a crashed invocation finds them: no operation of it starts or answers any more. */
function deadStops(files: Host['files']): Host['files'] {
  const wrapped = {} as Record<string, unknown>
  for (const [k, v] of Object.entries(files)) {
    if (typeof v !== 'function') {
      wrapped[k] = v
      continue
    }
    const fn = v as (...a: unknown[]) => unknown
    wrapped[k] = (...a: unknown[]): unknown => {
      const inv = invocation()
      if (!inv.dead) {
        const r = fn.apply(files, a)
        if (!(r instanceof ResultAsync)) return r
        return new ResultAsync((async () => {
          const settled = await r
          return inv.dead ? never<typeof settled>() : settled
        })())
      }
      return k === 'local' ? fn.apply(files, a) : ResultAsync.fromSafePromise(never())
    }
  }
  return wrapped as unknown as Host['files']
}
