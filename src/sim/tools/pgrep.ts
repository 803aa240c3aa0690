// pgrep(1) (bin/pkill/pkill.c) over the model's processes (kernel/procs.ts): `-j JID|NAME[,…]`
// (`any`: every jailed process, `none`: the host's), `-l` (the comm after the pid), and an
// extended regular expression matched against the comm (regcomp REG_EXTENDED; `-f`, the whole
// command line, is not in the model). A selection option stands for the pattern (pkill.c's
// `criteria`). One pid a line, by pid; exit 0 when something matched, 1 when nothing did.
import {lookupJail} from '../kernel/jails.js'
import {visibleProcs} from '../kernel/procs.js'
import {loadKernel} from '../store.js'
import {notSimulated, type Tool, UsageError} from './common.js'

const USAGE = [
  'usage: pgrep [-LSfilanoqvx] [-d delim] [-F pidfile] [-G gid]',
  '             [-M core] [-N system]',
  '             [-P ppid] [-U uid] [-c class] [-g pgrp] [-j jail]',
  '             [-s sid] [-t tty] [-u euid] pattern ...',
  '',
].join('\n')

export const pgrep: Tool = async (ctx, argv) => {
  let long = false
  const jails: string[] = []
  let i = 0
  for (; i < argv.length; i++) {
    const a = argv[i] as string
    if (!a.startsWith('-') || a === '-') break
    if (a === '--') {
      i++
      break
    }
    const f = a[1] as string
    if (f === 'l' && a.length === 2) long = true
    else if (f === 'j') {
      const v = a.length > 2 ? a.slice(2) : argv[++i]
      if (v === undefined) throw new UsageError(`pgrep: option requires an argument -- j\n${USAGE}`, 2)
      jails.push(...v.split(',').filter((w) => w !== ''))
    } else notSimulated(`pgrep ${a}`)
  }
  const patterns = argv.slice(i)
  if (patterns.length === 0 && jails.length === 0) throw new UsageError(USAGE, 2)
  const k = loadKernel(ctx.root)
  const want: Array<number | 'any' | 'none'> = []
  for (const j of jails) {
    if (j === 'any' || j === 'none') {
      want.push(j)
      continue
    }
    try {
      want.push(lookupJail(k, ctx.jid, j).jid)
    } catch {
      // makelist's LT_JAIL case: jail_getid(3) failing on a number keeps the number (it matches
      // no process); on anything else `errx(STATUS_BADUSAGE, "Invalid jail ID or name `%s'", sp)`.
      if (/^\d+$/.test(j)) {
        want.push(Number(j))
        continue
      }
      ctx.err(`pgrep: Invalid jail ID or name \`${j}'\n`)
      return 2
    }
  }
  const res = patterns.map((p) => new RegExp(p))
  const hits = visibleProcs(k, ctx.jid).filter((p) =>
    (want.length === 0 || want.some((w) => (w === 'any' ? p.jid !== 0 : w === 'none' ? p.jid === 0 : p.jid === w)))
    && (res.length === 0 || res.some((re) => re.test(p.comm))))
  ctx.out(hits.map((p) => `${p.pid}${long ? ` ${p.comm}` : ''}\n`).join(''))
  return hits.length > 0 ? 0 : 1
}
