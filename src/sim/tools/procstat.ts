// procstat(1) -f (usr.bin/procstat/procstat_files.c, procstat_files; procstat.c main) over the
// model's processes (kernel/procs.ts). A simulated process holds only its sockets (the model
// has no vnodes: no text, cwd, root or jail rows, no descriptors 0-2): FIDELITY.md.
//
// The header once, before the first process (procstat.c sets hflag after it): `%5s %-16s %5s
// %1s %1s %-8s %3s %7s %-3s %-12s` of PID COMM FD T V FLAGS REF OFFSET PRO NAME; a socket row
// is `%5d ` pid, `%-16s ` comm, `%5d ` fd, `s `, `- ` (V is for vnodes), the flags `rw------ `,
// the reference count `%3d ` and offset `%7jd ` (1 and 0 for a socket: **unconfirmed**,
// kern_descrip.c not re-read), PRO as protocol_to_string makes it (`%-3s `), then the address:
// for AF_LOCAL the bound path (or the peer's, `-` for none), else `local peer` with
// addr_to_string (`A:PORT` for inet, `A.PORT` for inet6, an empty string for other families).
// A pid that is not there (or not visible from a jail) is a warning and the others are shown
// (libprocstat's `kern.proc.pid` sysctl failing with ESRCH: text **unconfirmed**).
import {visibleProcs, IPPROTO, type SimSocket} from '../kernel/procs.js'
import {loadKernel} from '../store.js'
import {getopt, notSimulated, type Tool, UsageError} from './common.js'

const USAGE = [
  'usage: procstat [--libxo] [-Hhn] [-M core] [-N system] [-w interval] command',
  '                [pid ... | core ...]',
  '',
].join('\n')

/** protocol_to_string (procstat_files.c). */
export function protocolToString(s: SimSocket): string {
  if (s.domain === 'inet' || s.domain === 'inet6') {
    switch (s.protocol) {
      case IPPROTO.TCP: return 'TCP'
      case IPPROTO.UDP: return 'UDP'
      case IPPROTO.ICMP: return 'ICM'
      case IPPROTO.RAW: return 'RAW'
      case 132: return 'SCT'
      case 258: return 'IPD'
      default: return 'IP?'
    }
  }
  if (s.domain === 'local') return s.type === 'stream' ? 'UDS' : s.type === 'dgram' ? 'UDD' : 'UD?'
  return '?'
}

/** addr_to_string of the local and the peer address (the model's sockets are never connected). */
function names(s: SimSocket): string {
  if (s.domain === 'local') return s.local ?? '-'
  if (s.domain === 'inet') return `${s.local ?? '0.0.0.0:0'} 0.0.0.0:0`
  if (s.domain === 'inet6') return `${s.local ?? '::.0'} ::.0`
  return ' '
}

export const procstat: Tool = async (ctx, argv) => {
  // procstat.c's getopt string for the options of 14.x this simulator knows; the others are refused loudly.
  const o = getopt(argv, 'CfhHMnNw', (c) => notSimulated(`procstat -${c} (only -f, the files of processes)`))
  for (const f of ['H', 'n', 'M', 'N', 'w', 'C']) if (o.flags.has(f)) notSimulated(`procstat -${f}`)
  let hflag = o.flags.has('h')
  // procstat(1) of 14 takes the command as `-f` or as the word `files`; only files is simulated.
  let rest = o.rest
  if (!o.flags.has('f')) {
    if (rest[0] !== 'files') return notSimulated(`procstat ${rest[0] ?? ''} (only -f, the files of processes)`.trim())
    rest = rest.slice(1)
  }
  if (rest.length === 0) notSimulated('procstat -f with no pid (-a, every process)')
  if (rest.some((p) => !/^\d+$/.test(p))) throw new UsageError(USAGE, 1)
  const k = loadKernel(ctx.root)
  const seen = visibleProcs(k, ctx.jid)
  for (const p of rest) {
    const proc = seen.find((x) => x.pid === Number(p))
    if (!proc) {
      ctx.err(`procstat: sysctl: kern.proc.pid: ${p}: No such process\n`)
      continue
    }
    if (!hflag) {
      ctx.out(`${'PID'.padStart(5)} ${'COMM'.padEnd(16)} ${'FD'.padStart(5)} T V ${'FLAGS'.padEnd(8)} REF  OFFSET PRO ${'NAME'.padEnd(12)}\n`)
      hflag = true
    }
    for (const s of proc.sockets) {
      ctx.out(`${String(proc.pid).padStart(5)} ${proc.comm.padEnd(16)} ${String(s.fd).padStart(5)} s - rw------ ${'1'.padStart(3)} ${'0'.padStart(7)} ${protocolToString(s).padEnd(3)} ${names(s)}\n`)
    }
  }
  return 0
}
