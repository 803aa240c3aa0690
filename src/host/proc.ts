// Which process is this, and is a process named by a lock's owner record still that process?
// A pid alone is not enough: once its process is gone the pid is free, and another process
// may get it. So a process is named by its pid and its start time, read where it is cheap:
//
// - Linux (the simulated host runs on it): /proc/<pid>/stat field 22, starttime, in clock
//   ticks since boot (proc(5)); exact, and read from a file, no program run.
// - FreeBSD: the kernel's kinfo_proc has ki_start (the process's start, set at fork), which
//   ps(1) prints with `-o lstart` as strftime("%c", localtime(ki_start.tv_sec)), to the
//   second (bin/ps/print.c, lstarted; keyword.c names lstart). Reading it takes a ps process,
//   so nest records its own start from Node.js (`Date.now() - process.uptime()`, which is no
//   earlier than the fork) and runs ps only on the takeover path: when a lock is held and its
//   owner's pid exists. With LC_ALL=C and TZ=UTC, %c is `Tue Dec  1 20:14:41 2026`. The two
//   agree to within the time Node.js takes to start, so they are compared with a margin
//   (START_MARGIN_MS); a reused pid would need a process started within that margin of the
//   one that died, which a nest that lived long enough to take a lock rules out in practice.
// - Anywhere else: the pid only.
import {readFileSync} from 'node:fs'

import {okAsync, ResultAsync} from 'neverthrow'

import type {Host} from './host.js'

export interface ProcessId {
  pid: number
  /** `linux:<starttime ticks>` or `epoch:<ms>`: how this process's start was read. */
  start: string
}

const START_MARGIN_MS = 3000

/** starttime (field 22) of /proc/<pid>/stat; the command name (field 2) may hold spaces and parentheses. */
export function linuxStart(pid: number | 'self'): string | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ')
    // rest[0] is field 3 (state), so field 22 is rest[19].
    const ticks = rest[19]
    return ticks !== undefined && /^\d+$/.test(ticks) ? `linux:${ticks}` : null
  } catch {
    return null
  }
}

let self: ProcessId | undefined

/** This process. */
export function selfProcess(): ProcessId {
  if (self) return self
  const linux = process.platform === 'linux' ? linuxStart('self') : null
  self = {pid: process.pid, start: linux ?? `epoch:${Math.floor(Date.now() - process.uptime() * 1000)}`}
  return self
}

/**
 * Does a process with this pid exist (kill(pid, 0): ESRCH says no; EPERM says it exists)? On
 * FreeBSD a jailed process gets ESRCH for every process outside its jail (kern_prot.c,
 * cr_cansignal calls prison_check first): a child manager's lock owners are in its own jail,
 * as its /var/run/nest is, so it sees them.
 */
function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/** `ps -o lstart=` in the C locale and UTC (`Tue Dec  1 20:14:41 2026`): epoch milliseconds. */
export function parseLstart(text: string): number | null {
  const m = /^\s*[A-Z][a-z]{2} ([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4})\s*$/.exec(text)
  if (!m) return null
  const month = MONTHS.indexOf(m[1] as string)
  if (month < 0) return null
  return Date.UTC(Number(m[6]), month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]))
}

/**
 * Is the process recorded as `p` still running? Its pid must exist and, where the start time
 * can be read, have started when `p` says (else the pid was reused). Never fails: a start
 * that cannot be read counts as the same process (waiting is safe; taking over is not).
 */
export function processAlive(host: Host, p: ProcessId): ResultAsync<boolean, never> {
  const me = selfProcess()
  if (p.pid === me.pid) return okAsync(p.start === me.start)
  if (!pidExists(p.pid)) return okAsync(false)
  if (p.start.startsWith('linux:')) {
    const now = process.platform === 'linux' ? linuxStart(p.pid) : null
    return okAsync(now === null ? pidExists(p.pid) : now === p.start)
  }
  if (p.start.startsWith('epoch:') && process.platform === 'freebsd') {
    const recorded = Number(p.start.slice('epoch:'.length))
    return host.run(['ps', '-o', 'lstart=', '-p', String(p.pid)], {allowFailure: true, env: {LC_ALL: 'C', TZ: 'UTC'}})
      .map((r) => {
        // ps exits 1 when no such process is left.
        if (r.exitCode !== 0) return false
        const started = parseLstart(r.stdout)
        // lstart is truncated to the second: the recorded start is within [started, started + 1 s + margin).
        return started === null || Math.abs(recorded - started) < START_MARGIN_MS
      })
      .orElse(() => okAsync(true))
  }
  return okAsync(true)
}
