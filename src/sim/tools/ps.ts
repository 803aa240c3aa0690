// ps(1) (bin/ps/ps.c, keyword.c, print.c) over the model's processes (kernel/procs.ts): the
// daemons a jail's /etc/rc started and the processes the control plane started. The host sees
// every one of them, a jail its own and its descendants' (p_cansee → prison_check). The
// simulated host has no processes of its own (no init, no host daemons) and the simulator's
// own processes (a jexec running nest) are not listed: FIDELITY.md.
//
// Selection: without -x only processes with a controlling terminal are kept, and none has one
// (no terminals), so plain `ps` and `ps -a` print the header alone and exit 1. `-x` keeps the
// others; `-J` and `-p` imply it (ps.c xkeep_implied). Format: `-o` keywords pid, jid, comm and
// jail (keyword.c: `PID`, `JID`, `COMMAND`, `JAIL`, the last two LJUST), each `-o` adding to the
// list, `KW=` (or `KW=HEADER`) giving its header; the default format needs state and times the
// model has not: refused. Columns are as wide as their widest value or header (format_output,
// sizevars), right-justified unless LJUST; the last LJUST column is not padded; the header line
// is left out when every header is empty. Rows by pid (pscomp, every tdev NODEV). Exit 1 when
// nothing was printed.
import {getJail, lookupJail} from '../kernel/jails.js'
import {visibleProcs} from '../kernel/procs.js'
import {loadKernel} from '../store.js'
import {notSimulated, type Tool, UsageError} from './common.js'

const USAGE = [
  'usage: ps [--libxo] [-aCcdefHhjlmrSTuvwXxZ] [-O fmt | -o fmt]',
  '          [-G gid[,gid...]] [-J jid[,jid...]] [-M core] [-N system]',
  '          [-p pid[,pid...]] [-t tty[,tty...]] [-U user[,user...]]',
  '       ps [--libxo] -L',
  '',
].join('\n')

interface Kw {
  header: string
  ljust: boolean
}

const KEYWORDS: Record<string, Kw> = {
  pid: {header: 'PID', ljust: false},
  jid: {header: 'JID', ljust: false},
  comm: {header: 'COMMAND', ljust: true},
  ucomm: {header: 'UCOMM', ljust: true},
  jail: {header: 'JAIL', ljust: true},
}

export const ps: Tool = async (ctx, argv) => {
  const fmt: Array<{kw: string; header: string}> = []
  let x = false
  const jids: string[] = []
  const pids: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string
    if (!a.startsWith('-') || a === '-') notSimulated(`ps ${a} (operands)`)
    for (let c = 1; c < a.length; c++) {
      const f = a[c] as string
      if (f === 'a') continue
      if (f === 'x') {
        x = true
        continue
      }
      if (f === 'o' || f === 'J' || f === 'p') {
        const v = c + 1 < a.length ? a.slice(c + 1) : argv[++i]
        if (v === undefined) throw new UsageError(`ps: option requires an argument -- ${f}\n${USAGE}`, 1)
        if (f === 'o') {
          // parsefmt: a list split at commas or blanks; `kw=header` takes the rest as the header.
          const eq = v.indexOf('=')
          const list = eq < 0 ? v : v.slice(0, eq)
          const words = list.split(/[,\s]+/).filter((w) => w !== '')
          words.forEach((w, n) => {
            const kw = KEYWORDS[w]
            if (!kw) notSimulated(`ps -o ${w} (only pid, jid, comm, ucomm and jail are in the model)`)
            fmt.push({kw: w, header: eq >= 0 && n === words.length - 1 ? v.slice(eq + 1) : (kw as Kw).header})
          })
        } else (f === 'J' ? jids : pids).push(...v.split(/[,\s]+/).filter((w) => w !== ''))
        break
      }
      return notSimulated(`ps -${f}`)
    }
  }
  const k = loadKernel(ctx.root)
  // addelem_jid: jail_getid(3), a jid or a name as the caller sees it; unknown: warnx, fatal.
  const selJids: number[] = []
  for (const j of jids) {
    let jid: number | undefined
    try {
      jid = lookupJail(k, ctx.jid, j).jid
    } catch {
      jid = undefined
    }
    if (jid === undefined) {
      ctx.err(`ps: Invalid jail id: ${j}\n`)
      return 1
    }
    selJids.push(jid)
  }
  const selPids: number[] = []
  for (const p of pids) {
    if (!/^\d+$/.test(p)) {
      ctx.err(`ps: Invalid process id: ${p}\n`)
      return 1
    }
    selPids.push(Number(p))
  }
  const keepAll = x || selJids.length > 0 || selPids.length > 0
  if (fmt.length === 0) {
    if (keepAll) notSimulated('ps with the default format (state and times are not in the model; give -o pid,jid,comm)')
    ctx.out('PID TT  STAT TIME COMMAND\n')
    return 1
  }
  const procs = keepAll
    ? visibleProcs(k, ctx.jid).filter((p) => (selJids.length === 0 && selPids.length === 0) || selJids.includes(p.jid) || selPids.includes(p.pid))
    : []
  const value = (kw: string, p: (typeof procs)[number]): string => {
    if (kw === 'pid') return String(p.pid)
    if (kw === 'jid') return String(p.jid)
    // jailname (print.c): jail_getname(3) of the jid, `-` for jid 0 or a jail the caller cannot
    // look up (its own jail among them: a jail does not see itself).
    if (kw === 'jail') return p.jid === 0 || p.jid === ctx.jid ? '-' : getJail(k, p.jid).name.slice(ctx.jid === 0 ? 0 : getJail(k, ctx.jid).name.length + 1)
    return p.comm
  }
  const rows = procs.map((p) => fmt.map((f) => value(f.kw, p)))
  const widths = fmt.map((f, i) => Math.max(f.header.length, ...rows.map((r) => (r[i] as string).length)))
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => {
        const kw = KEYWORDS[(fmt[i] as {kw: string}).kw] as Kw
        if (kw.ljust) return i === cells.length - 1 ? c : c.padEnd(widths[i] as number)
        return c.padStart(widths[i] as number)
      })
      .join(' ')
  if (fmt.some((f) => f.header !== '')) ctx.out(`${line(fmt.map((f) => f.header))}\n`)
  for (const r of rows) ctx.out(`${line(r)}\n`)
  return rows.length === 0 ? 1 : 0
}
