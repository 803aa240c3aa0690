// cpuset(1) (usr.bin/cpuset/cpuset.c) for jails: `cpuset -l LIST -j JAIL` sets a jail's CPUs,
// `cpuset -g -j JAIL` prints them, `cpuset -g -i -j JAIL` its set id. The jail is found with
// jail_getid(3) (a jid or a name; its error through errx: `cpuset: jail "X" not found`).
// Everything else cpuset does (processes, threads, irqs, domains, running a command) is refused
// as not simulated. The kernel side is kernel/cpuset.ts.
import {CPU_SETSIZE, jailMask, setJailMask, SIM_NCPU} from '../kernel/cpuset.js'
import {getJail, lookupJail} from '../kernel/jails.js'
import {SysError} from '../kernel/state.js'
import {loadKernel, withKernel} from '../store.js'
import {errnoOf, getopt, notSimulated, strerror, type Tool, type ToolCtx, UsageError} from './common.js'

const USAGE =
  'usage: cpuset [-l cpu-list] [-n policy:domain-list] [-s setid] cmd ...\n' +
  '       cpuset [-l cpu-list] [-n policy:domain-list] [-s setid] -p pid\n' +
  '       cpuset [-c] [-l cpu-list] [-n policy:domain-list] -C -p pid\n' +
  '       cpuset [-c] [-l cpu-list] [-n policy:domain-list]\n' +
  '              [-j jailid | -p pid | -t tid | -s setid | -x irq]\n' +
  '       cpuset -g [-cir]\n' +
  '              [-d domain | -j jailid | -p pid | -t tid | -s setid | -x irq]\n'

const usage = (ctx: ToolCtx): number => {
  ctx.err(USAGE)
  return 1
}

/**
 * The cpu-list parser (parselist): numbers, `a-b` ranges, `,` between, or `all` (the root set's
 * CPUs). undefined: malformed (cpuset's message for it in 14.x was not read: refused).
 */
export function parseCpuList(list: string): number[] | 'all' | undefined {
  if (list.toLowerCase() === 'all') return 'all'
  const out = new Set<number>()
  let state: 'NONE' | 'NUM' | 'DASH' = 'NONE'
  let last = 0
  let cur = 0
  for (let i = 0; i < list.length; ) {
    const c = list[i] as string
    if (/[0-9]/.test(c)) {
      let j = i
      while (j < list.length && /[0-9]/.test(list[j] as string)) j++
      cur = Number(list.slice(i, j))
      if (cur >= CPU_SETSIZE) return notSimulated(`cpuset -l ${list} (an entry of CPU_SETSIZE or more)`)
      i = j
      if (state === 'NONE') {
        last = cur
        state = 'NUM'
      } else if (state === 'DASH') {
        for (; last <= cur; last++) out.add(last)
        state = 'NONE'
      } else return undefined
      continue
    }
    if (c === ',') {
      if (state === 'NUM') {
        out.add(cur)
        state = 'NONE'
      } else if (state === 'DASH') return undefined
    } else if (c === '-') {
      if (state !== 'NUM') return undefined
      state = 'DASH'
    } else return undefined
    i++
  }
  if (state === 'NUM') out.add(cur)
  if (state === 'DASH') return undefined
  return [...out].sort((a, b) => a - b)
}

/** printset: the CPUs in order, `, ` between. */
const printSet = (mask: number[]): string => mask.join(', ')

export const cpuset: Tool = async (ctx, argv) => {
  // getopt(3)'s own complaint (lib/libc/stdlib/getopt.c), then usage().
  const spec = 'Ccd:gij:l:n:p:rs:t:x:'
  const o = getopt(argv, spec, (c) => {
    throw new UsageError(`cpuset: ${spec.includes(c) ? 'option requires an argument' : 'illegal option'} -- ${c}\n${USAGE}`, 1)
  })
  for (const c of 'CcdnprstxR') if (o.flags.has(c)) notSimulated(`cpuset -${c}`)
  const g = o.flags.has('g')
  const i = o.flags.has('i')
  const jail = o.flags.get('j')
  const list = o.flags.get('l')
  if (o.rest.length > 0) {
    // Running a command in a new set: not simulated; with -j it is a usage error.
    if (jail !== undefined) return usage(ctx)
    return notSimulated('cpuset CMD (running a command in a set)')
  }
  if (jail === undefined) return notSimulated('cpuset without -j (processes, threads, sets, irqs)')
  if (ctx.jid !== 0) notSimulated('cpuset inside a jail (cpuset of a child jail from its parent: unconfirmed)')
  const k = loadKernel(ctx.root)
  let jid: number
  try {
    jid = lookupJail(k, ctx.jid, jail as string).jid
  } catch (error) {
    if (error instanceof SysError && error.errmsg) {
      ctx.err(`cpuset: ${error.errmsg}\n`)
      return 1
    }
    throw error
  }
  if (g) {
    if (list !== undefined) return usage(ctx)
    if (i) {
      // printsetid: CPU_LEVEL_WHICH without -s becomes CPU_LEVEL_CPUSET (" cpuset").
      ctx.out(`jail ${jid} cpuset id: ${getJail(k, jid).cpusetId}\n`)
      return 0
    }
    // printaffinity: the mask, then the domain policy line (not with -d or -x). The simulated
    // host has one memory domain, 0; its policy name is **unconfirmed** (first-touch assumed).
    ctx.out(`jail ${jid} mask: ${printSet(jailMask(k, jid))}\njail ${jid} domain policy: first-touch mask: 0\n`)
    return 0
  }
  if (i) return usage(ctx)
  if (list === undefined) return usage(ctx)
  const parsed = parseCpuList(list as string)
  if (parsed === undefined) return notSimulated(`cpuset -l ${list} (a malformed cpu-list: 14.x's message not read)`)
  const mask = parsed === 'all' ? Array.from({length: SIM_NCPU}, (_, n) => n) : parsed
  try {
    await withKernel(ctx.root, (kk) => setJailMask(kk, ctx.jid, getJail(kk, jid), mask))
  } catch (error) {
    if (!errnoOf(error)) throw error
    // err(EXIT_FAILURE, "setaffinity").
    ctx.err(`cpuset: setaffinity: ${strerror(error)}\n`)
    return 1
  }
  return 0
}
