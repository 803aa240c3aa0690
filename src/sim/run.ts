// Running a program on the simulated host, in a given jail: the simulated tools, an
// emulated /etc/rc and /etc/rc.shutdown, nest itself, and a short list of harmless programs.
// Anything else is refused as not simulated, so a configuration can never touch the machine.
import {appendFileSync, closeSync, constants, existsSync, openSync, writeSync} from 'node:fs'
import path from 'node:path'

import {NEST_ENTRY, NEST_WRAPPER, NODE_BIN} from '../domain/install.js'
import {getJail, processExit} from './kernel/jails.js'
import {backingPath} from './kernel/mounts.js'
import {rcStart, rcStop} from './kernel/procs.js'
import {normPath} from './kernel/state.js'
import {allocPseudoPid, releasePseudoPid} from './pids.js'
import {runJib} from './jib.js'
import {type Console, rcNetwork, type Sink} from './rc.js'
import {runSh, runTest, ShNotSimulated} from './sh.js'
import {loadKernel, simPaths, withKernel} from './store.js'
import {NOT_SIMULATED_EXIT, type ProgramIO, type ToolCtx} from './tools/common.js'
import {runUtility, UTILITIES} from './tools/utils.js'

/** A program that runs the simulated tools for a script of its own (/etc/rc) names itself here; the invocation log says so (`by`). */
export const CALLER_ENV = 'NEST_SIM_BY'

/** The simulated FreeBSD tools, by the names FreeBSD installs them under. */
export const SIM_TOOLS = ['jail', 'jls', 'jexec', 'zfs', 'zpool', 'mount', 'mount_nullfs', 'umount', 'sysctl', 'devfs', 'pkg', 'ifconfig', 'route', 'ping', 'ping6', 'netstat', 'service', 'vm', 'rctl', 'sysrc', 'gpart', 'cpuset', 'mdconfig', 'tar', 'ps', 'procstat', 'ipcs', 'freebsd-version'] as const

const HARMLESS = new Set(['true', 'false', 'echo', 'sleep', 'test', '['])

/** The installation's root (where package.json and bin/run.js are), from src/sim or dist/src/sim. */
function installRoot(): string {
  for (let dir = import.meta.dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir
  }
  return path.resolve(import.meta.dirname, '../../..')
}
export const INSTALL_ROOT = installRoot()
/**
 * The tools always run the bundle `npm run build` makes of main.ts (scripts/bundle-sim.js),
 * never a TypeScript loader: each call is a Node start, and its cost is module loading.
 */
export const SIM_MAIN = path.join(INSTALL_ROOT, 'dist', 'sim', 'main.cjs')

export interface RunOptions {
  jid: number
  /** Append stdout and stderr to this real file (exec.consolelog) instead of inheriting. */
  logFile?: string
  /** Kill after this many seconds (exec.timeout). */
  timeoutSec?: number
  env?: NodeJS.ProcessEnv
  /**
   * execve(2) the program in this process (jexec does: usr.sbin/jexec/jexec.c ends in execvp):
   * nest then runs in the jexec process, with its pid, output and exit status, and no second
   * process starts. Only where the tool is a process of its own.
   */
  exec?: boolean
  /**
   * The text the caller prints when the program is not in the jail's view (execvp ENOENT):
   * jail(8)'s child says `jail: NAME: exec PROG: No such file or directory` (command.c
   * run_command). Used for programs the simulator looks up in the view (jib).
   */
  notFound?: (prog: string) => string
}

export interface RunResult {
  code: number
  signal?: string
  timedOut?: boolean
}

/**
 * exec.consolelog, already resolved inside the tree (SimFs.real): opened for appending without
 * following a last link or blocking on a FIFO a jail put there (no reader: ENXIO, a failure).
 */
const openLog = (file: string): number => openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o644)

const basename = (p: string): string => p.slice(p.lastIndexOf('/') + 1)

/** Is a program present in a jail's view? (A file at its path, through nullfs mounts.) */
function presentInView(ctx: ToolCtx, jid: number, p: string): boolean {
  const k = loadKernel(ctx.root)
  const root = getJail(k, jid).path
  return ctx.fs.at(root).exists(backingPath(k, normPath(`${root}/${p}`)))
}

/**
 * One line in the invocation log per program run here, beside the tools' own lines: `program`
 * (never `tool`, so what counts as a tool call stays the same) and `spawned`, whether the
 * simulator started a process for it (nest, sleep) or ran it in-process (sh -c, test, echo,
 * /etc/rc). A simulated tool started here logs its own `tool` line and gets none.
 */
function logProgram(ctx: ToolCtx, argv: string[], jid: number, spawned: boolean, code: number, started: number): void {
  let jail: string | null = null
  try {
    jail = jid === 0 ? null : getJail(loadKernel(ctx.root), jid).name
  } catch {
    jail = `jid ${jid}`
  }
  const line = JSON.stringify({program: basename(argv[0] ?? ''), argv, jail, jid, spawned, exit: code, ms: Date.now() - started})
  appendFileSync(simPaths(ctx.root).log, `${line}\n`)
}

const isSimTool = (name: string): boolean => (SIM_TOOLS as readonly string[]).includes(name)

export async function runProgram(ctx: ToolCtx, argv: string[], opts: RunOptions): Promise<RunResult> {
  const started = Date.now()
  const name = basename(argv[0] ?? '')
  const r = await runOne(ctx, argv, opts)
  if (!isSimTool(name)) logProgram(ctx, argv, opts.jid, r.spawned, r.code, started)
  return r.result
}

/** `/bin/sh -c LINE`: the subset in sh.ts, each command run here again (in the same jail, environment and console log). */
async function runShell(ctx: ToolCtx, line: string, opts: RunOptions, env: NodeJS.ProcessEnv): Promise<RunResult> {
  let last: RunResult = {code: 0}
  try {
    const code = await runSh(line, env, async (cmd) => {
      const {notFound: _caller, ...inShell} = opts
      last = await runProgram(ctx, cmd, {...inShell, env})
      return last.code
    })
    return {...last, code}
  } catch (error) {
    if (!(error instanceof ShNotSimulated)) throw error
    ctx.err(`sim: sh -c: ${error.message}: not simulated (the simulated sh runs simple commands, &&, ||, !, quotes, $VAR and test)\n`)
    return {code: NOT_SIMULATED_EXIT}
  }
}

/** A process of a jail while it runs (it keeps a non-persistent jail alive), whether spawned, exec'd or in-process. */
const attachPid = (root: string, jid: number, pid: number): Promise<void> => withKernel(root, (k) => {
  const j = k.jails.find((x) => x.jid === jid)
  if (j && j.state === 'ALIVE') j.pids.push(pid)
}).catch(() => undefined)

const detachPid = (root: string, jid: number, pid: number): Promise<void> => withKernel(root, (k) => processExit(k, jid, pid)).catch(() => undefined)

/**
 * This process becomes nest (execve): its environment and argv replaced, nest's entry point run
 * here; its pid is the jail's process until nest ends. The caller exits with nest's status.
 */
async function execNest(ctx: ToolCtx, argv: string[], env: NodeJS.ProcessEnv, jid: number): Promise<RunResult> {
  for (const k of Object.keys(process.env)) if (!(k in env)) delete process.env[k]
  Object.assign(process.env, env)
  process.argv = [process.execPath, ...argv]
  const pid = process.pid
  if (jid !== 0) await attachPid(ctx.root, jid, pid)
  const {pathToFileURL} = await import('node:url')
  try {
    await import(pathToFileURL(argv[0] as string).href)
  } finally {
    if (jid !== 0) await detachPid(ctx.root, jid, pid)
  }
  const code = process.exitCode
  return {code: typeof code === 'number' ? code : Number(code ?? 0) || 0}
}

async function runOne(ctx: ToolCtx, argv: string[], opts: RunOptions): Promise<{result: RunResult; code: number; spawned: boolean}> {
  const inProcess = (result: RunResult): {result: RunResult; code: number; spawned: boolean} => ({result, code: result.code, spawned: false})
  const prog = argv[0] ?? ''
  const name = basename(prog)
  const args = argv.slice(1)
  const env = opts.env ?? ctx.env
  const write = (s: string): void => ctx.out(s)

  if (HARMLESS.has(name) && name !== 'sleep') {
    if (name === 'echo') write(`${args.join(' ')}\n`)
    if (name === 'test' || name === '[') {
      if (args.some((a) => a.startsWith('/'))) {
        ctx.err(`sim: test with paths: not simulated\n`)
        return inProcess({code: NOT_SIMULATED_EXIT})
      }
      try {
        return inProcess({code: runTest(name, args, (t) => ctx.err(t))})
      } catch (error) {
        if (!(error instanceof ShNotSimulated)) throw error
        ctx.err(`sim: ${error.message}: not simulated\n`)
        return inProcess({code: NOT_SIMULATED_EXIT})
      }
    }
    return inProcess({code: name === 'false' ? 1 : 0})
  }
  if (UTILITIES.has(name)) {
    // ls, cat, uname, hostname (tools/utils.ts): read-only, in-process, in the jail's view.
    const view = ctx.fs.at(getJail(loadKernel(ctx.root), opts.jid).path)
    return inProcess(await runInProcess(ctx, opts, env, async (io) => runUtility(name, args, {...io, fs: view})))
  }
  if (name === 'login') {
    // nest console: jexec -l JAIL login -f root. login(1) needs a terminal and the password
    // database; the simulated host has neither. One line, and what to do instead.
    const jail = opts.jid === 0 ? null : getJail(loadKernel(ctx.root), opts.jid).name.replaceAll('.', '/')
    ctx.err(`sim: login: not simulated (a console needs login(1) on a real FreeBSD host); run commands with ${jail === null ? 'jexec JAIL CMD' : `nest exec ${jail} -- CMD`}\n`)
    return inProcess({code: NOT_SIMULATED_EXIT})
  }
  if (name === 'sh' && (prog === 'sh' || prog === '/bin/sh') && args[0] === '-c' && args.length === 2) {
    return inProcess(await runShell(ctx, args[1] as string, opts, env))
  }
  if (name === 'sh' && (args[0] === '/etc/rc' || args[0] === '/etc/rc.shutdown')) {
    // The jail's boot starts its daemons (they keep a non-persistent jail alive); shutdown stops them.
    const booting = args[0] === '/etc/rc'
    // rc.d/netif and rc.d/routing (rc.ts), each step a simulated tool run here in the jail.
    if (booting && opts.jid !== 0) await bootNetwork(ctx, opts, env)
    if (opts.jid !== 0) {
      await withKernel(ctx.root, (k) => {
        const j = k.jails.find((x) => x.jid === opts.jid)
        if (!j) return
        j.daemons = booting ? 1 : 0
        // The daemons show as processes (ps, procstat): kernel/procs.ts.
        if (booting) rcStart(k, j.jid)
        else rcStop(k, j.jid)
      })
    }
    return inProcess({code: 0})
  }
  if (name === 'jib') {
    // jib (jib.ts) where the view has it: at the path given, or in a directory of PATH (Bastille
    // installs it as /usr/local/bin/jib; FreeBSD ships it only in /usr/share/examples/jails).
    const dirs = prog.includes('/') ? [''] : (env['PATH'] ?? '/bin:/usr/bin').split(':').filter((d) => d.startsWith('/'))
    const found = dirs.map((d) => (d === '' ? prog : `${d}/${prog}`)).find((p) => presentInView(ctx, opts.jid, p))
    if (found === undefined) {
      // execvp(3) failing (jail(8)'s child: `exec jib: No such file or directory`; sh: `jib: not found`).
      ctx.err(opts.notFound?.(prog) ?? `sim: ${prog}: No such file or directory (not in the jail's view${prog.includes('/') ? '' : ' on PATH'})\n`)
      return inProcess({code: opts.notFound ? 1 : 127})
    }
    return inProcess(await runInProcess(ctx, opts, env, async (io) => {
      const sub = (out: Sink, err: Exclude<Sink, 'capture'>): {ctx: ToolCtx; got: () => string} => {
        let stdout = ''
        const c: ToolCtx = {
          ...ctx,
          out: out === 'capture' ? (t) => (stdout += t) : out === 'null' ? () => undefined : io.out,
          err: err === 'null' ? () => undefined : io.err,
        }
        return {ctx: c, got: () => stdout}
      }
      const {logFile: _ignored, notFound: _caller, ...rest} = opts
      return runJib(args, async (argv, out = 'console', err = 'console') => {
        const s = sub(out, err)
        const r = await runProgram(s.ctx, argv, {...rest, env})
        return {code: r.code, stdout: s.got()}
      }, io)
    }))
  }
  let cmd: string
  let cmdArgs: string[]
  const childEnv: NodeJS.ProcessEnv = {...env, NEST_SIM_ROOT: ctx.root, NEST_SIM_JID: String(opts.jid)}
  if ((SIM_TOOLS as readonly string[]).includes(name)) {
    cmd = process.execPath
    cmdArgs = [SIM_MAIN, name, ...args]
  } else if (name === 'nest' || prog === NEST_ENTRY) {
    // nest runs where it is installed: on the host always; in a jail only if its view has the
    // program (the /usr/local/bin/nest wrapper execs the entry point) and Node.js for its
    // `#!/usr/bin/env node` line. Shell scripts are not interpreted: the wrapper is taken as what
    // nest writes, `exec /usr/local/libexec/nest/bin/run.js "$@"`.
    if (opts.jid !== 0) {
      const needed = name === 'nest' ? [NEST_WRAPPER, NEST_ENTRY] : [NEST_ENTRY]
      if (!needed.every((p) => presentInView(ctx, opts.jid, p))) {
        ctx.err(`jexec: execvp: ${prog}: No such file or directory\n`)
        return inProcess({code: 1})
      }
      if (!presentInView(ctx, opts.jid, NODE_BIN)) {
        ctx.err('env: node: No such file or directory\n')
        return inProcess({code: 127})
      }
    }
    cmd = process.execPath
    cmdArgs = [path.join(INSTALL_ROOT, 'bin', 'run.js'), ...args]
    childEnv['NEST_HOST'] = 'sim'
    childEnv['NEST_SIM_QUIET'] = '1'
    if (opts.exec && ctx.ownProcess && opts.logFile === undefined && opts.timeoutSec === undefined) return inProcess(await execNest(ctx, cmdArgs, childEnv, opts.jid))
  } else if (name === 'sleep') {
    cmd = 'sleep'
    cmdArgs = args
  } else {
    ctx.err(`sim: ${prog}: not simulated (the simulated host runs only its FreeBSD tools, nest, /etc/rc, sh -c (a subset) and ${[...HARMLESS, 'ls', 'cat', 'uname', 'hostname'].join(', ')})\n`)
    return inProcess({code: NOT_SIMULATED_EXIT})
  }
  const programs = ctx.programs
  if (programs && cmd === process.execPath) {
    const result = await runInProcess(ctx, opts, childEnv, (io) => (isSimTool(name) ? programs.tool(name, args, io) : programs.nest(args, io)))
    return {result, code: result.code, spawned: false}
  }
  // Imported here, not at the top: loading node:child_process costs a tool process ~15 ms, and
  // the tools that import this module for its constants (control.ts) never start a program.
  const {spawn} = await import('node:child_process')
  let fd: number | undefined
  try {
    fd = opts.logFile ? openLog(opts.logFile) : undefined
  } catch (error) {
    ctx.err(`sim: exec.consolelog ${opts.logFile}: ${(error as NodeJS.ErrnoException).code}: not simulated (only a regular file; FreeBSD would block on a FIFO)\n`)
    return {result: {code: NOT_SIMULATED_EXIT}, code: NOT_SIMULATED_EXIT, spawned: false}
  }
  try {
    const result = await new Promise<RunResult>((resolve) => {
      const child = spawn(cmd, cmdArgs, {
        env: childEnv,
        stdio: fd === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', fd, fd],
      })
      child.stdout?.on('data', (d: Buffer) => ctx.out(d.toString()))
      child.stderr?.on('data', (d: Buffer) => ctx.err(d.toString()))
      let timedOut = false
      const timer = opts.timeoutSec ? setTimeout(() => {
        timedOut = true
        child.kill('SIGKILL')
      }, opts.timeoutSec * 1000) : undefined
      const pid = child.pid
      const attached = opts.jid !== 0 && pid !== undefined ? attachPid(ctx.root, opts.jid, pid) : Promise.resolve()
      child.on('error', () => resolve({code: 127}))
      child.on('close', (code, signal) => {
        if (timer) clearTimeout(timer)
        void attached.then(async () => {
          if (opts.jid !== 0 && pid !== undefined) await detachPid(ctx.root, opts.jid, pid)
          resolve({code: code ?? 128, ...(signal ? {signal} : {}), ...(timedOut ? {timedOut} : {})})
        })
      })
    })
    return {result, code: result.code, spawned: true}
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

/**
 * The networking of a jail's boot (rc.ts): its console is /etc/rc's stdout and stderr (or
 * exec.consolelog), and each program it runs gets that console, nowhere (`> /dev/null`), or a
 * buffer (`$(...)`), as the rc scripts redirect it.
 */
async function bootNetwork(ctx: ToolCtx, opts: RunOptions, bootEnv: NodeJS.ProcessEnv): Promise<void> {
  // Its tool calls say who made them in the invocation log (`by`): the jail's own boot.
  const env = {...bootEnv, [CALLER_ENV]: '/etc/rc'}
  const log = opts.logFile
  const toLog = (t: string): void => {
    const fd = openLog(log as string)
    try {
      writeSync(fd, t)
    } finally {
      closeSync(fd)
    }
  }
  const con: Console = log ? {out: toLog, err: toLog} : {out: ctx.out, err: ctx.err}
  const run = async (argv: string[], out: Sink = 'console', err: Exclude<Sink, 'capture'> = 'console'): Promise<{code: number; stdout: string}> => {
    if (out === 'console' && err === 'console') return {code: (await runProgram(ctx, argv, {...opts, env})).code, stdout: ''}
    let stdout = ''
    const sub: ToolCtx = {
      ...ctx,
      out: out === 'capture' ? (t) => (stdout += t) : out === 'null' ? () => undefined : con.out,
      err: err === 'null' ? () => undefined : con.err,
    }
    const {logFile: _ignored, ...rest} = opts
    return {code: (await runProgram(sub, argv, {...rest, env})).code, stdout}
  }
  await rcNetwork(ctx, opts.jid, run, con)
}

/**
 * A simulated tool or nest run in-process: the same checks as a spawned one (above), output to
 * the caller or to exec.consolelog, and a pseudo pid that makes it a process of its jail while
 * it runs. No signal reaches it (stop.timeout's SIGTERM, exec.timeout's SIGKILL): on
 * exec.timeout the caller gets a timed-out result, as after SIGKILL, and the program runs to
 * its end on its own.
 */
async function runInProcess(ctx: ToolCtx, opts: RunOptions, env: NodeJS.ProcessEnv, program: (io: ProgramIO) => Promise<number>): Promise<RunResult> {
  const log = opts.logFile
  const toLog = (t: string): void => {
    let fd: number
    try {
      fd = openLog(log as string)
    } catch (error) {
      ctx.err(`sim: exec.consolelog ${log}: ${(error as NodeJS.ErrnoException).code}: not simulated (only a regular file; FreeBSD would block on a FIFO)\n`)
      return
    }
    try {
      writeSync(fd, t)
    } finally {
      closeSync(fd)
    }
  }
  const io: ProgramIO = {root: ctx.root, jid: opts.jid, env, out: log ? toLog : ctx.out, err: log ? toLog : ctx.err}
  const pid = opts.jid !== 0 ? allocPseudoPid() : undefined
  if (pid !== undefined) await attachPid(ctx.root, opts.jid, pid)
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    const running = program(io).then((code) => ({code}))
    if (!opts.timeoutSec) return await running
    const limit = new Promise<RunResult>((resolve) => {
      timer = setTimeout(() => resolve({code: 128, signal: 'SIGKILL', timedOut: true}), opts.timeoutSec as number * 1000)
    })
    return await Promise.race([running, limit])
  } finally {
    if (timer) clearTimeout(timer)
    if (pid !== undefined) {
      releasePseudoPid(pid)
      await detachPid(ctx.root, opts.jid, pid)
    }
  }
}
