// sysctl(8): several MIBs (or subtrees) in one call; unknown ones are simply absent.
import type {ResultAsync} from 'neverthrow'

import type {HostError} from '../exec.js'
import type {Host} from '../host.js'
import {parseSysctl} from '../parse.js'
import {parsed} from './common.js'

export function readSysctls(host: Host, names: readonly string[]): ResultAsync<Map<string, string>, HostError> {
  return host.run(['sysctl', '-q', ...names], {allowFailure: true}).andThen((r) => parsed(r, parseSysctl(r.stdout)))
}
