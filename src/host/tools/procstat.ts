// procstat(1) -f (usr.bin/procstat/procstat_files.c): the files of processes, one row each;
// nest keeps the socket rows (type `s`). A row is `%5d %-16s ` pid and comm (the comm can be
// longer than 16, or hold blanks: it is the process's own word), the descriptor (`%5d`, or
// cwd, root, jail, text, ctty, trace), the type, the vnode type, eight flag letters, REF and
// OFFSET (numbers or `-`), PRO (protocol_to_string: TCP, UDP, ICM, RAW, SCT, IPD, IP?, UDS, UDD,
// UD?, ?) and the addresses. The row is read from the flags field outwards, which a comm of at
// most 19 characters cannot imitate in full.
import {err, ok, type Result, type ResultAsync} from 'neverthrow'

import type {HostError} from '../exec.js'
import type {Host} from '../host.js'
import {parsed} from './common.js'

export interface ProcstatFile {
  pid: number
  comm: string
  fd: string
  /** The T column: `s` socket, `v` vnode, `p` pipe, ... */
  type: string
  /** PRO: a socket's protocol as protocol_to_string prints it; `-` for other files. */
  protocol: string
  name: string
  line: string
}

const ROW = /^ *(\d+) (.*?) +(\d+|cwd|root|jail|text|ctty|trace) ([a-z?]) ([a-z?-]) ([r-][w-][a-][s-][f-][n-][d-][l-]) +(-|\d+) +(-|\d+) (\S{1,3}) *(.*)$/

/** `procstat -f PID...`: the header (once), then a row per file. */
export function parseProcstatFiles(text: string): Result<ProcstatFile[], string> {
  const out: ProcstatFile[] = []
  for (const line of text.split('\n')) {
    if (line === '' || /^ *PID COMM +FD T V FLAGS +REF +OFFSET PRO NAME *$/.test(line)) continue
    const m = ROW.exec(line)
    if (!m) return err(`a row nest cannot read: ${JSON.stringify(line)}`)
    out.push({pid: Number(m[1]), comm: m[2] as string, fd: m[3] as string, type: m[4] as string, protocol: m[9] as string, name: m[10] as string, line})
  }
  return ok(out)
}

/** PRO values of a raw or divert inet socket (PRIV_NETINET_RAW was used to make it). */
export const RAW_PROTOCOLS = new Set(['ICM', 'RAW', 'IP?', 'IPD'])

/**
 * PRO `?`: a family protocol_to_string does not name. That is a family prison_check_af lets
 * through only with allow.socket_af (or a vnet), but also AF_ROUTE (always allowed): procstat
 * prints both alike, so a `?` is evidence that allow.socket_af may be in use, not proof.
 */
export const OTHER_FAMILY = '?'

/** The files of the given processes, in one call (a process gone meanwhile is a warning on stderr, not a failure). */
export function processFiles(host: Host, pids: readonly number[]): ResultAsync<ProcstatFile[], HostError> {
  return host.run(['procstat', '-f', ...pids.map(String)], {allowFailure: true}).andThen((r) => {
    const rows = parseProcstatFiles(r.stdout)
    if (r.exitCode !== 0 && r.stdout === '') return parsed(r, err(`exit ${r.exitCode}: ${r.stderr.trim()}`))
    return parsed(r, rows)
  })
}
