// One simulated tool call, wherever it runs: latency, faults, the tool itself, the mapping of
// the simulator's own errors to exit statuses, and the invocation log. The executables in
// <root>/bin reach it through main.ts (a process per call, as FreeBSD's tools are); tests and
// the simulator's own program runner may call it in-process with the same arguments.
import {appendFileSync} from 'node:fs'

import {loadControl, takeFault} from './control.js'
import {SimFs} from './fs.js'
import {getJail} from './kernel/jails.js'
import {devfs} from './tools/devfs.js'
import {jail} from './tools/jail.js'
import {jexec} from './tools/jexec.js'
import {jls} from './tools/jls.js'
import {mount, mountNullfs, umount} from './tools/mount.js'
import {sysctl} from './tools/sysctl.js'
import {zfs, zpool} from './tools/zfs.js'
import {pkg} from './tools/pkg.js'
import {NOT_SIMULATED_EXIT, NotSimulated, type Programs, type Tool, type ToolCtx, UsageError} from './tools/common.js'
import {InvariantError, loadKernel, simPaths} from './store.js'

export const TOOLS: Record<string, Tool> = {
  jail, jls, jexec, zfs, zpool, mount, mount_nullfs: mountNullfs, umount, sysctl, devfs, pkg,
}

/** Where one tool call runs and where its output goes. */
export interface CallOptions {
  root: string
  /** The jail it runs in (0 = the host). */
  jid: number
  env: NodeJS.ProcessEnv
  out(text: string): void
  err(text: string): void
  /** Run the programs this call starts (jexec's, jail(8)'s hooks) in-process (inprocess.ts). */
  programs?: Programs
}

function latencyFor(root: string, env: NodeJS.ProcessEnv, tool: string): number {
  const spec = env['NEST_SIM_LATENCY']
  if (spec) {
    for (const part of spec.split(',')) {
      const [t, ms] = part.split('=')
      if (t === tool && ms !== undefined) return Number(ms) || 0
    }
    return 0
  }
  return loadControl(root).latency[tool] ?? 0
}

/** Run one simulated tool; its exit status. Never throws: a simulator error is a status. */
export async function runTool(toolName: string | undefined, argv: string[], o: CallOptions): Promise<number> {
  const tool = toolName ? TOOLS[toolName] : undefined
  if (!tool || !toolName) {
    o.err(`sim: ${toolName ?? '(none)'}: not simulated\n`)
    return NOT_SIMULATED_EXIT
  }
  const started = Date.now()
  const ctx: ToolCtx = {root: o.root, jid: o.jid, fs: new SimFs(o.root), env: o.env, out: o.out, err: o.err, ...(o.programs ? {programs: o.programs} : {})}
  let code: number
  try {
    const ms = latencyFor(o.root, o.env, toolName)
    if (ms > 0) await new Promise((r) => setTimeout(r, ms))
    const fault = await takeFault(o.root, toolName, argv)
    if (fault) {
      o.err(fault.stderr)
      code = fault.exit
    } else {
      code = await tool(ctx, argv)
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
  const line = JSON.stringify({tool: toolName, argv, jail: jailName, jid: o.jid, exit: code, ms: Date.now() - started})
  appendFileSync(simPaths(o.root).log, `${line}\n`)
  return code
}
