// The simulated host in-process: one tool call dispatched through runTool without a process,
// and every program it starts (jexec's command, jail(8)'s exec.* hooks) run the same way: the
// simulated tools through runTool again, nest through a runner the caller injects (tests run
// nest's own command classes; the simulator never imports nest). Not a mock: the same tool
// code and the same kernel model as the executables in <root>/bin, without a Node.js start
// per call. In-process programs are processes of their jail under pseudo pids (pids.ts).
import {runTool} from './dispatch.js'
import type {ProgramIO, Programs} from './tools/common.js'

/** Runs nest with a command line, in a jail's context (io.env carries NEST_SIM_JID); its exit status. */
export type NestRunner = (argv: string[], io: ProgramIO) => Promise<number>

/** The in-process program runners for a simulator whose nest is `nest`. */
export function inProcessPrograms(nest: NestRunner): Programs {
  const programs: Programs = {
    tool: (name, argv, io) => runTool(name, argv, {root: io.root, jid: io.jid, env: io.env, out: io.out, err: io.err, programs}),
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
