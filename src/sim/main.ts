// Entry point of every simulated FreeBSD tool: `node main.js <tool> args...`, run by the
// shims in <sim root>/bin. Applies latency and faults, runs the tool, logs the invocation.
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
import {NOT_SIMULATED_EXIT, NotSimulated, type Tool, type ToolCtx, UsageError} from './tools/common.js'
import {InvariantError, loadKernel, simPaths} from './store.js'

const TOOLS: Record<string, Tool> = {
  jail, jls, jexec, zfs, zpool, mount, mount_nullfs: mountNullfs, umount, sysctl, devfs, pkg,
}

function latencyFor(root: string, tool: string): number {
  const env = process.env['NEST_SIM_LATENCY']
  if (env) {
    for (const part of env.split(',')) {
      const [t, ms] = part.split('=')
      if (t === tool && ms !== undefined) return Number(ms) || 0
    }
    return 0
  }
  return loadControl(root).latency[tool] ?? 0
}

// A reader that goes away (`jls | head`) is not an error of the tool.
process.stdout.on('error', () => undefined)

async function main(): Promise<number> {
  const [toolName, ...argv] = process.argv.slice(2)
  const root = process.env['NEST_SIM_ROOT']
  if (!root) {
    process.stderr.write('sim: NEST_SIM_ROOT is not set\n')
    return 70
  }
  const tool = toolName ? TOOLS[toolName] : undefined
  if (!tool || !toolName) {
    process.stderr.write(`sim: ${toolName ?? '(none)'}: not simulated\n`)
    return NOT_SIMULATED_EXIT
  }
  const jid = Number(process.env['NEST_SIM_JID'] ?? '0')
  const started = Date.now()
  const ctx: ToolCtx = {
    root,
    jid,
    fs: new SimFs(root),
    env: process.env,
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
  }
  let code: number
  try {
    const ms = latencyFor(root, toolName)
    if (ms > 0) await new Promise((r) => setTimeout(r, ms))
    const fault = await takeFault(root, toolName, argv)
    if (fault) {
      process.stderr.write(fault.stderr)
      code = fault.exit
    } else {
      code = await tool(ctx, argv)
    }
  } catch (error) {
    if (error instanceof NotSimulated) {
      process.stderr.write(`sim: ${toolName}: ${error.message}: not simulated\n`)
      code = NOT_SIMULATED_EXIT
    } else if (error instanceof UsageError) {
      process.stderr.write(error.text)
      code = error.exit
    } else if (error instanceof InvariantError) {
      process.stderr.write(`sim: invariant violated: ${error.message}\n`)
      code = 70
    } else {
      process.stderr.write(`sim: ${toolName}: internal error: ${(error as Error).stack ?? String(error)}\n`)
      code = 70
    }
  }
  let jailName: string | null = null
  try {
    jailName = jid === 0 ? null : getJail(loadKernel(root), jid).name
  } catch {
    jailName = `jid ${jid}`
  }
  const line = JSON.stringify({tool: toolName, argv, jail: jailName, jid, exit: code, ms: Date.now() - started})
  appendFileSync(simPaths(root).log, `${line}\n`)
  return code
}

process.exitCode = await main()
