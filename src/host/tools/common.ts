// Turning a parser's complaint into a host error that names the command that printed it.
import {err, ok, type Result} from 'neverthrow'

import type {ExecResult, HostError} from '../exec.js'

export function parsed<T>(r: ExecResult, result: Result<T, string>): Result<T, HostError> {
  if (result.isOk()) return ok(result.value)
  const tool = r.argv[0] ?? ''
  return err({
    kind: 'host',
    message: `${r.argv.join(' ')}: unexpected output: ${result.error}`,
    tool,
    argv: r.argv,
    exitCode: r.exitCode,
    signal: null,
    stderr: '',
    durationMs: r.durationMs,
  })
}
