// One simulated tool call, wherever it runs: latency, faults, the tool itself, the mapping of
// the simulator's own errors to exit statuses, and the invocation log. The executables in
// <root>/bin reach it through main.ts (a process per call, as FreeBSD's tools are); tests and
// the simulator's own program runner may call it in-process with the same arguments.
import {appendFileSync} from 'node:fs'

import {type Control, loadControl, takeFault} from './control.js'
import {crashCaller} from './crash.js'
import {SimFs} from './fs.js'
import {getJail} from './kernel/jails.js'
import {type CallOptions, NOT_SIMULATED_EXIT, NotSimulated, type Tool, type ToolCtx, UsageError} from './tools/common.js'
import {InvariantError, loadKernel, simPaths} from './store.js'

/**
 * Each tool's module, imported only when that tool runs: a `jls` process loads jls.ts and
 * what it needs, not jail(8)'s configuration grammar or zfs(8) (a tool call is a Node start).
 */
export const TOOLS: Record<string, () => Promise<Tool>> = {
  jail: async () => (await import('./tools/jail.js')).jail,
  jls: async () => (await import('./tools/jls.js')).jls,
  jexec: async () => (await import('./tools/jexec.js')).jexec,
  zfs: async () => (await import('./tools/zfs.js')).zfs,
  zpool: async () => (await import('./tools/zpool.js')).zpool,
  gpart: async () => (await import('./tools/gpart.js')).gpart,
  mdconfig: async () => (await import('./tools/mdconfig.js')).mdconfig,
  mount: async () => (await import('./tools/mount.js')).mount,
  mount_nullfs: async () => (await import('./tools/mount.js')).mountNullfs,
  umount: async () => (await import('./tools/mount.js')).umount,
  sysctl: async () => (await import('./tools/sysctl.js')).sysctl,
  devfs: async () => (await import('./tools/devfs.js')).devfs,
  pkg: async () => (await import('./tools/pkg.js')).pkg,
  ifconfig: async () => (await import('./tools/ifconfig.js')).ifconfig,
  service: async () => (await import('./tools/service.js')).service,
  route: async () => (await import('./tools/route.js')).route,
  ping: async () => (await import('./tools/ping.js')).ping,
  ping6: async () => (await import('./tools/ping.js')).ping6,
  netstat: async () => (await import('./tools/netstat.js')).netstat,
  vm: async () => (await import('./tools/vm.js')).vm,
  rctl: async () => (await import('./tools/rctl.js')).rctl,
  sysrc: async () => (await import('./tools/sysrc.js')).sysrc,
  cpuset: async () => (await import('./tools/cpuset.js')).cpuset,
  tar: async () => (await import('./tools/tar.js')).tar,
  ps: async () => (await import('./tools/ps.js')).ps,
  procstat: async () => (await import('./tools/procstat.js')).procstat,
  ipcs: async () => (await import('./tools/ipcs.js')).ipcs,
  'freebsd-version': async () => (await import('./tools/freebsd-version.js')).freebsdVersion,
}

export type {CallOptions}

/** The calls a `midway` fault can cut (their stdout a stream another program reads): `zfs send`. */
const midwaySite = (tool: string, argv: string[]): boolean => tool === 'zfs' && argv[0] === 'send'

function latencyFor(control: Control, env: NodeJS.ProcessEnv, tool: string): number {
  const spec = env['NEST_SIM_LATENCY']
  if (spec) {
    for (const part of spec.split(',')) {
      const [t, ms] = part.split('=')
      if (t === tool && ms !== undefined) return Number(ms) || 0
    }
    return 0
  }
  return control.latency[tool] ?? 0
}

/** `o` with every byte written to its stdout added to `counter.bytes`. */
function countingOut(o: CallOptions, counter: {bytes: number}): CallOptions {
  const {out, write} = o
  return {
    ...o,
    out: (text) => {
      counter.bytes += Buffer.byteLength(text)
      out(text)
    },
    ...(write ? {write: async (text: string) => {
      await write(text)
      counter.bytes += Buffer.byteLength(text)
    }} : {}),
  }
}

/** Run one simulated tool; its exit status. Never throws: a simulator error is a status. */
export async function runTool(toolName: string | undefined, argv: string[], given: CallOptions): Promise<number> {
  const load = toolName && Object.hasOwn(TOOLS, toolName) ? TOOLS[toolName] : undefined
  if (!load || !toolName) {
    given.err(`sim: ${toolName ?? '(none)'}: not simulated\n`)
    return NOT_SIMULATED_EXIT
  }
  const started = Date.now()
  // A stream's writer (`zfs send`): the bytes it wrote to stdout go into its log line (`bytes`,
  // the bench's "bytes moved"), counted as they pass, nothing of them kept.
  const counter = midwaySite(toolName, argv) ? {bytes: 0} : undefined
  const o = counter ? countingOut(given, counter) : given
  // The tool's view of the tree: its jail's root is its "/" (links inside resolve from there).
  const ctx: ToolCtx = {...o, fs: new SimFs(o.root, o.jid === 0 ? '/' : () => loadKernel(o.root).jails.find((j) => j.jid === o.jid)?.path ?? '/')}
  let code: number
  try {
    // control.json is read once; it is locked and written only when a fault may fire.
    const control = loadControl(o.root)
    const ms = latencyFor(control, o.env, toolName)
    if (ms > 0) await new Promise((r) => setTimeout(r, ms))
    const fault = await takeFault(o.root, toolName, argv, control)
    if (fault?.midway) {
      // A fault that cuts the call's output stream halfway: only the tools that write one take it.
      if (!midwaySite(toolName, argv)) throw new NotSimulated(`a midway fault of ${toolName} ${argv[0] ?? ''}`.trim())
      code = await (await load())({...ctx, midway: {stderr: fault.stderr, exit: fault.exit}}, argv)
    } else if (fault && !fault.crash) {
      o.err(fault.stderr)
      code = fault.exit
    } else {
      code = await (await load())(ctx, argv)
      // The call is done; its caller dies before it learns how it ended.
      if (fault?.crash) crashCaller(o.env, o.ownProcess === true)
    }
  } catch (error) {
    if (error instanceof NotSimulated) {
      o.err(`sim: ${toolName}: ${error.message}: not simulated\n`)
      code = NOT_SIMULATED_EXIT
    } else if (error instanceof UsageError) {
      o.err(error.text)
      code = error.exit
    } else if (error instanceof InvariantError) {
      o.err(`sim: invariant violated: ${error.message}\n`)
      code = 70
    } else {
      o.err(`sim: ${toolName}: internal error: ${(error as Error).stack ?? String(error)}\n`)
      code = 70
    }
  }
  let jailName: string | null = null
  try {
    jailName = o.jid === 0 ? null : getJail(loadKernel(o.root), o.jid).name
  } catch {
    jailName = `jid ${o.jid}`
  }
  const by = o.env['NEST_SIM_BY']
  const line = JSON.stringify({tool: toolName, argv, jail: jailName, jid: o.jid, exit: code, ms: Date.now() - started, ...(counter ? {bytes: counter.bytes} : {}), ...(by ? {by} : {})})
  appendFileSync(simPaths(o.root).log, `${line}\n`)
  return code
}
