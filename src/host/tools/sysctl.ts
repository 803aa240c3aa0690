// sysctl(8): several MIBs (or subtrees) in one call; unknown ones are simply absent.
import {errAsync, type ResultAsync} from 'neverthrow'

import {type HostError, shortStderr, toolSaid} from '../exec.js'
import type {Host} from '../host.js'
import {parseSysctl} from '../parse.js'
import {parsed} from './common.js'

/**
 * `sysctl -q` says nothing of an unknown oid and exits 1 (sbin/sysctl/sysctl.c, parse(): `if
 * (qflag) return (1);`), so exit 1 with an empty stderr means "some are absent"; anything it
 * does say is a failure of sysctl itself, not an absent parameter.
 */
export function readSysctls(host: Host, names: readonly string[]): ResultAsync<Map<string, string>, HostError> {
  return host.run(['sysctl', '-q', ...names], {allowFailure: true}).andThen((r) => {
    const said = shortStderr(r.stderr)
    if (r.exitCode !== 0 && said !== '') {
      return errAsync<Map<string, string>, HostError>({kind: 'host', message: toolSaid('sysctl', said), tool: 'sysctl', argv: r.argv, exitCode: r.exitCode, signal: null, stderr: said, durationMs: r.durationMs})
    }
    return parsed(r, parseSysctl(r.stdout))
  })
}
