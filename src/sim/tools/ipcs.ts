// ipcs(1) (usr.bin/ipcs/ipcs.c of 14: main, print_kmsqheader/print_kmsqptr,
// print_kshmheader/print_kshmptr, print_ksemheader/print_ksemptr, fmt_perm, cvt_time) over
// the model's System V objects (kernel/procs.ts). The tables come from the kern.ipc.msqids,
// shmsegs and sema sysctls, which zero every object the caller's IPC prison may not see
// (sysctl_shmsegs: `rpr == NULL || shm_prison_cansee(rpr, ...) != 0`): the host sees every
// object, a jail those its own namespace's processes and its descendants' made, a jail with
// sysvX=disable none (the headers alone). ipcs has no jail filter (ipcs.1).
//
// Tables in the order messages, shared memory, semaphores, each `TITLE:`, its header, its rows
// by slot, then an empty line. -a is -b -c -o -p -t. Owners print through user_from_uid: the
// model's objects are root's (`root`, `wheel`). Times are cvt_time's `%2d:%02d:%02d` of
// localtime (the simulated host has no /etc/localtime: UTC), `no-entry` for none.
import {ipcsOf, ipcVisible, type SimIpc} from '../kernel/procs.js'
import type {Kernel} from '../kernel/state.js'
import {loadKernel} from '../store.js'
import {notSimulated, type Tool, UsageError} from './common.js'

const USAGE = 'usage: ipcs [-abcmopqstyMQST] [-C corefile] [-N namelist] [-u user]\n'

const BIGGEST = 1
const CREATOR = 2
const OUTSTANDING = 4
const PID = 8
const TIME = 16

/** The model's clock ticks are minutes from this moment (as tools/zfs.ts counts them). */
const EPOCH = 1_760_000_000

function cvtTime(tick: number | null): string {
  if (tick === null) return 'no-entry'
  const t = new Date((EPOCH + tick * 60) * 1000)
  const two = (n: number): string => String(n).padStart(2, '0')
  return `${String(t.getUTCHours()).padStart(2)}:${two(t.getUTCMinutes())}:${two(t.getUTCSeconds())}`
}

/** fmt_perm: two dashes, then rwa for owner, group, other. */
function fmtPerm(mode: number): string {
  const bit = (m: number, c: string): string => (mode & m ? c : '-')
  return `--${bit(0o400, 'r')}${bit(0o200, 'w')}${bit(0o100, 'a')}${bit(0o40, 'r')}${bit(0o20, 'w')}${bit(0o10, 'a')}${bit(0o4, 'r')}${bit(0o2, 'w')}${bit(0o1, 'a')}`
}

const user = (uid: number): string => (uid === 0 ? 'root' : String(uid))
const group = (gid: number): string => (gid === 0 ? 'wheel' : String(gid))
const r = (n: number | string, w: number): string => String(n).padStart(w)
const l = (s: string, w: number): string => s.padEnd(w)

function head(option: number, extra: Array<[number, string]>): string {
  return `T ${r('ID', 12)} ${r('KEY', 12)} ${l('MODE', 11)} ${l('OWNER', 8)} ${l('GROUP', 8)}${(option & CREATOR) ? ` ${l('CREATOR', 8)} ${l('CGROUP', 8)}` : ''}${extra.filter(([o]) => option & o).map(([, s]) => s).join('')}\n`
}

function first(kind: string, o: SimIpc, option: number): string {
  return `${kind} ${r(o.id, 12)} ${r(o.key, 12)} ${fmtPerm(o.mode)} ${l(user(o.uid), 8)} ${l(group(o.gid), 8)}${(option & CREATOR) ? ` ${l(user(o.uid), 8)} ${l(group(o.gid), 8)}` : ''}`
}

function tables(k: Kernel, viewer: number, display: Set<string>, option: number): string {
  const seen = ipcsOf(k).filter((o) => ipcVisible(k, viewer, o)).sort((a, b) => (a.id & 0xffff) - (b.id & 0xffff))
  let out = ''
  if (display.has('msg')) {
    out += 'Message Queues:\n'
    out += head(option, [[OUTSTANDING, ` ${r('CBYTES', 20)} ${r('QNUM', 20)}`], [BIGGEST, ` ${r('QBYTES', 20)}`], [PID, ` ${r('LSPID', 12)} ${r('LRPID', 12)}`], [TIME, ` ${l('STIME', 8)} ${l('RTIME', 8)} ${l('CTIME', 8)}`]])
    for (const o of seen.filter((x) => x.kind === 'msg')) {
      out += `${first('q', o, option)}${(option & OUTSTANDING) ? ` ${r(0, 12)} ${r(0, 12)}` : ''}${(option & BIGGEST) ? ` ${r(o.size, 20)}` : ''}${(option & PID) ? ` ${r(0, 12)} ${r(0, 12)}` : ''}${(option & TIME) ? ` ${cvtTime(null)} ${cvtTime(null)} ${cvtTime(o.ctime)}` : ''}\n`
    }
    out += '\n'
  }
  if (display.has('shm')) {
    out += 'Shared Memory:\n'
    out += head(option, [[OUTSTANDING, ` ${r('NATTCH', 12)}`], [BIGGEST, ` ${r('SEGSZ', 12)}`], [PID, ` ${r('CPID', 12)} ${r('LPID', 12)}`], [TIME, ` ${l('ATIME', 8)} ${l('DTIME', 8)} ${l('CTIME', 8)}`]])
    for (const o of seen.filter((x) => x.kind === 'shm')) {
      out += `${first('m', o, option)}${(option & OUTSTANDING) ? ` ${r(0, 12)}` : ''}${(option & BIGGEST) ? ` ${r(o.size, 12)}` : ''}${(option & PID) ? ` ${r(o.cpid, 12)} ${r(0, 12)}` : ''}${(option & TIME) ? ` ${cvtTime(null)} ${cvtTime(null)} ${cvtTime(o.ctime)}` : ''}\n`
    }
    out += '\n'
  }
  if (display.has('sem')) {
    out += 'Semaphores:\n'
    out += head(option, [[BIGGEST, ` ${r('NSEMS', 12)}`], [TIME, ` ${l('OTIME', 8)} ${l('CTIME', 8)}`]])
    for (const o of seen.filter((x) => x.kind === 'sem')) {
      out += `${first('s', o, option)}${(option & BIGGEST) ? ` ${r(o.size, 12)}` : ''}${(option & TIME) ? ` ${cvtTime(null)} ${cvtTime(o.ctime)}` : ''}\n`
    }
    out += '\n'
  }
  return out
}

export const ipcs: Tool = async (ctx, argv) => {
  let display = new Set(['msg', 'shm', 'sem'])
  let option = 0
  for (const a of argv) {
    if (!a.startsWith('-') || a === '-') throw new UsageError(USAGE, 1)
    for (const f of a.slice(1)) {
      if (f === 'a') option |= BIGGEST | CREATOR | OUTSTANDING | PID | TIME
      else if (f === 'b') option |= BIGGEST
      else if (f === 'c') option |= CREATOR
      else if (f === 'o') option |= OUTSTANDING
      else if (f === 'p') option |= PID
      else if (f === 't') option |= TIME
      // -m, -q, -s: that table alone (the last one given wins, as `display = SHMINFO`).
      else if (f === 'm') display = new Set(['shm'])
      else if (f === 'q') display = new Set(['msg'])
      else if (f === 's') display = new Set(['sem'])
      else if ('MQSTyuCN'.includes(f)) notSimulated(`ipcs -${f}`)
      else throw new UsageError(`ipcs: illegal option -- ${f}\n${USAGE}`, 1)
    }
  }
  ctx.out(tables(loadKernel(ctx.root), ctx.jid, display, option))
  return 0
}
