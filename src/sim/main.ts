// Entry point of every simulated FreeBSD tool as a process: `node main.js <tool> args...`, run
// by the shims in <sim root>/bin. The call itself is dispatch.ts's runTool.
import {runTool} from './dispatch.js'

// A reader that goes away (`jls | head`) is not an error of the tool.
process.stdout.on('error', () => undefined)

async function main(): Promise<number> {
  const [toolName, ...argv] = process.argv.slice(2)
  const root = process.env['NEST_SIM_ROOT']
  if (!root) {
    process.stderr.write('sim: NEST_SIM_ROOT is not set\n')
    return 70
  }
  return runTool(toolName, argv, {
    root,
    jid: Number(process.env['NEST_SIM_JID'] ?? '0'),
    env: process.env,
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
  })
}

process.exitCode = await main()
