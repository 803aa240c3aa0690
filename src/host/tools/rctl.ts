// rctl(8) -u (usr.bin/rctl/rctl.c show_usage): a subject's resource use, `resource=amount` a
// line, amounts in plain numbers without -h. Needs kern.racct.enable=1 (a loader tunable):
// otherwise rctl says `RACCT/RCTL present, but disabled` and nest does not ask.
import {err, ok, type Result, type ResultAsync} from 'neverthrow'

import type {HostError} from '../exec.js'
import type {Host} from '../host.js'
import {parsed} from './common.js'

export function parseRctlUsage(text: string): Result<Record<string, number>, string> {
  const out: Record<string, number> = {}
  for (const line of text.split('\n')) {
    if (line === '') continue
    const m = /^([a-z]+)=(\d+)$/.exec(line)
    if (!m) return err(`a line nest cannot read: ${JSON.stringify(line)}`)
    out[m[1] as string] = Number(m[2])
  }
  return ok(out)
}

/** `rctl -u jail:NAME` (NAME the jail's full dotted name). */
export function jailUsage(host: Host, name: string): ResultAsync<Record<string, number>, HostError> {
  return host.run(['rctl', '-u', `jail:${name}`]).andThen((r) => parsed(r, parseRctlUsage(r.stdout)))
}
