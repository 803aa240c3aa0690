// ps(1) as nest runs it: `ps -ax -o pid,jid,comm` (bin/ps/ps.c: a header `PID JID COMMAND`,
// pid and jid right-justified to their column's width, comm left-justified and last, so one
// blank before it and nothing after; rows by pid). comm is what a process calls itself: data,
// never trusted (a jail's process may name itself anything, blanks included).
import {err, ok, type Result, type ResultAsync} from 'neverthrow'

import type {HostError} from '../exec.js'
import type {Host} from '../host.js'
import {parsed} from './common.js'

export interface PsRow {
  pid: number
  jid: number
  comm: string
}

export const PS_ARGV = ['ps', '-ax', '-o', 'pid,jid,comm'] as const

/** The output of `ps -ax -o pid,jid,comm`. */
export function parsePs(text: string): Result<PsRow[], string> {
  const lines = text.split('\n')
  if (lines.at(-1) === '') lines.pop()
  const [head, ...rows] = lines
  if (head === undefined || !/^ *PID +JID COMMAND$/.test(head)) return err(`no ps header in ${JSON.stringify(head ?? '')}`)
  const out: PsRow[] = []
  for (const line of rows) {
    const m = /^ *(\d+) +(\d+) (.*)$/.exec(line)
    if (!m) return err(`a row nest cannot read: ${JSON.stringify(line)}`)
    out.push({pid: Number(m[1]), jid: Number(m[2]), comm: m[3] as string})
  }
  return ok(out)
}

/** Every process with its jid (ps exits 1 when it printed none: the header alone is no failure). */
export function listProcesses(host: Host): ResultAsync<PsRow[], HostError> {
  return host.run(PS_ARGV, {allowFailure: true}).andThen((r) => {
    const rows = parsePs(r.stdout)
    if (r.exitCode !== 0 && !(r.exitCode === 1 && rows.isOk() && rows.value.length === 0)) return parsed(r, err(`exit ${r.exitCode}: ${r.stderr.trim()}`))
    return parsed(r, rows)
  })
}
