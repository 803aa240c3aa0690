// The processes of jails, as far as an audit observes them: what each one calls itself, the
// sockets it holds, the memory it wired, and the System V IPC objects they made. Each change
// goes through the kernel's own checks, with its errnos:
//
// - socket(2): sys/kern/uipc_socket.c socreate, `if (prison_check_af(cred,
//   prp->pr_domain->dom_family) != 0) return (EPROTONOSUPPORT);`; prison_check_af
//   (sys/kern/kern_jail.c): a jail that owns its vnet is not limited ("Prisons with their own
//   network stack are not limited"), AF_INET needs the jail's IPv4 (`(pr->pr_flags & PR_IP4) &&
//   pr->pr_ip4 == NULL` is EAFNOSUPPORT), AF_INET6 the same, AF_LOCAL and AF_ROUTE always,
//   anything else `if (!(pr->pr_allow & PR_ALLOW_SOCKET_AF)) error = EAFNOSUPPORT`.
// - a raw inet socket: rip_attach's priv_check(td, PRIV_NETINET_RAW) (sys/netinet/raw_ip.c);
//   prison_priv_check grants PRIV_NETINET_RAW to a PR_VNET jail, else `if
//   (cred->cr_prison->pr_allow & PR_ALLOW_RAW_SOCKETS) return (0); else return (EPERM);`.
// - bind(2) below 1024: sys/netinet/in_pcb.c in_pcbbind_setup, `if (ntohs(lport) <=
//   V_ipport_reservedhigh && ntohs(lport) >= V_ipport_reservedlow && priv_check_cred(cred,
//   PRIV_NETINET_RESERVEDPORT)) return (EACCES);` (reservedhigh 1023, reservedlow 0 by
//   default); prison_priv_check: PRIV_NETINET_RESERVEDPORT only `if (cred->cr_prison->pr_allow &
//   PR_ALLOW_RESERVED_PORTS)`, EPERM otherwise (not in the VIMAGE list: a vnet jail needs it too).
// - mlock(2): kern_mlock's priv_check_cred(cred, PRIV_VM_MLOCK) (sys/vm/vm_mmap.c);
//   prison_priv_check: `if (cred->cr_prison->pr_allow & PR_ALLOW_MLOCK) return (0); else return
//   (EPERM);`.
// - shmget/semget/msgget: sys/kern/sysv_shm.c (sysv_sem.c, sysv_msg.c): the caller's IPC
//   prison is its nearest jail with sysvX=new (inherit walks up to the parent); none
//   (disable) is ENOSYS (`if (shm_find_prison(td->td_ucred) == NULL) return (ENOSYS);`). An
//   object is seen from a prison rpr when `rpr == shmseg->cred->cr_prison ||
//   prison_ischild(rpr, shmseg->cred->cr_prison)` (shm_prison_cansee); the objects of a prison
//   with its own namespace go when it is removed (shm_prison_remove → shm_prison_cleanup).
import {vnetOf} from './ifnet.js'
import {fail, type Kernel, type SimJail} from './state.js'

// (jails.ts imports this module: its lookups are repeated here rather than imported back.)
const getJail = (k: Kernel, jid: number): SimJail => k.jails.find((j) => j.jid === jid) ?? fail('ESRCH')

/** `jid` is strictly below `ancestor` (0: the host, above every jail). */
function isWithin(k: Kernel, jid: number, ancestor: number): boolean {
  for (let cur = k.jails.find((j) => j.jid === jid)?.parent; cur !== undefined; cur = cur === 0 ? undefined : k.jails.find((j) => j.jid === cur)?.parent) {
    if (cur === ancestor) return true
    if (cur === 0) return false
  }
  return false
}

/** The families the simulated kernel has (GENERIC, plus ng_socket(4) loaded: a family prison_check_af does not list). */
export type SockDomain = 'inet' | 'inet6' | 'local' | 'route' | 'netgraph'

export interface SimSocket {
  fd: number
  domain: SockDomain
  type: 'stream' | 'dgram' | 'raw'
  /** IPPROTO_* number (inet, inet6), 0 otherwise. */
  protocol: number
  /** Bound local address (inet: `A:PORT`; local: its path), as procstat prints it; absent: unbound. */
  local?: string
  /** A listening TCP socket's port (for EADDRINUSE). */
  port?: number
  /** The vnet the socket lives in (its jail's, vnetOf), for port collisions. */
  vnet?: number
}

export interface SimProc {
  pid: number
  jid: number
  /** p_comm: what the process calls itself (MAXCOMLEN 19). */
  comm: string
  uid: number
  sockets: SimSocket[]
  /** Bytes it wired with mlock(2). */
  wired: number
  /** Started by the jail's /etc/rc (a daemon of SimJail.daemons), stopped by /etc/rc.shutdown. */
  rc?: boolean
}

export type IpcKind = 'msg' | 'sem' | 'shm'

export interface SimIpc {
  kind: IpcKind
  /** IXSEQ_TO_IPCID(ix, perm): the slot in the low 16 bits, its sequence number above. */
  id: number
  key: number
  /** Bytes (shm), semaphores (sem), the queue's byte limit (msg: msg_qbytes = msgmnb). */
  size: number
  mode: number
  uid: number
  gid: number
  /** shm_cpid (shm); msg and sem keep no creator pid. */
  cpid: number
  /** The jail of the creating process (cred->cr_prison): visibility and accounting follow it. */
  cjid: number
  /** The IPC namespace: the jail whose sysvX = new holds it (0: the host's). */
  ns: number
  /** Creation time (the model's clock tick). */
  ctime: number
}

/** IPPROTO_* numbers (netinet/in.h). */
export const IPPROTO = {ICMP: 1, TCP: 6, UDP: 17, ICMPV6: 58, RAW: 255} as const

/** kern.ipc.shmmax default (sys/kern/sysv_shm.c: SHMMAXPGS 131072 pages of 4 KiB), shmmin 1. */
export const SHMMAX = 131_072 * 4096
/** kern.ipc.semmsl default (sys/kern/sysv_sem.c SEMMSL = SEMMNS, 340). */
export const SEMMSL = 340
/** kern.ipc.msgmnb default (sys/kern/sysv_msg.c MSGMNB 2048): a new queue's msg_qbytes. */
export const MSGMNB = 2048

export const procsOf = (k: Kernel): SimProc[] => (k.procs ??= [])
export const ipcsOf = (k: Kernel): SimIpc[] => (k.ipcs ??= [])

/** The next pid (the model's own counter, above every pid the simulator ever hands out here). */
function nextPid(k: Kernel): number {
  k.lastPid = (k.lastPid ?? 1000) + 1
  return k.lastPid
}

/** The jail that owns its vnet (PR_VNET): prison_owns_vnet. */
const ownsVnet = (j: SimJail): boolean => j.jid !== 0 && j.vnet === 'new'

/** prison_check_af (kern_jail.c): 0 when the family is allowed, else the errno socreate turns into EPROTONOSUPPORT. */
export function checkAf(k: Kernel, jid: number, domain: SockDomain): boolean {
  if (jid === 0) return true
  const j = getJail(k, jid)
  if (ownsVnet(j)) return true
  switch (domain) {
    case 'inet':
      return !(j.ip4.mode !== 'inherit' && j.ip4.addrs.length === 0)
    case 'inet6':
      return !(j.ip6.mode !== 'inherit' && j.ip6.addrs.length === 0)
    case 'local':
    case 'route':
      return true
    default:
      return j.allow.includes('socket_af')
  }
}

/** prison_priv_check for the privileges a process here asks for. */
function privOk(k: Kernel, jid: number, priv: 'PRIV_NETINET_RAW' | 'PRIV_NETINET_RESERVEDPORT' | 'PRIV_VM_MLOCK'): boolean {
  if (jid === 0) return true
  const j = getJail(k, jid)
  if (priv === 'PRIV_NETINET_RAW') return ownsVnet(j) || j.allow.includes('raw_sockets')
  if (priv === 'PRIV_NETINET_RESERVEDPORT') return j.allow.includes('reserved_ports')
  return j.allow.includes('mlock')
}

/** shm_find_prison (and its sem/msg twins): the jail whose namespace the caller uses; null when disabled. */
export function ipcPrison(k: Kernel, jid: number, kind: IpcKind): number | null {
  const field = kind === 'shm' ? 'sysvshm' : kind === 'sem' ? 'sysvsem' : 'sysvmsg'
  for (let cur = jid; cur !== 0; ) {
    const j = getJail(k, cur)
    if (j[field] === 'disable') return null
    if (j[field] === 'new') return j.jid
    cur = j.parent
  }
  return 0
}

/** shm_prison_cansee: the object's creator is the viewer's IPC prison or below it. */
export function ipcVisible(k: Kernel, viewer: number, o: SimIpc): boolean {
  const rpr = ipcPrison(k, viewer, o.kind)
  if (rpr === null) return false
  return o.cjid === rpr || isWithin(k, o.cjid, rpr)
}

/** A syscall that failed: its name as a program would print it (err(3)) and the errno. */
export class ProcSysError extends Error {
  constructor(readonly call: string, readonly errno: Parameters<typeof fail>[0]) {
    super(call)
  }
}

const refuse = (call: string, errno: Parameters<typeof fail>[0]): never => {
  throw new ProcSysError(call, errno)
}

/** What a process does when it starts (the control plane's `nest sim proc start` flags). */
export interface ProcSpec {
  comm: string
  rawSocket?: boolean
  sockets?: SockDomain[]
  listen?: number[]
  shm?: number[]
  sem?: number[]
  msg?: number
  mlock?: number
}

const AF: Record<SockDomain, string> = {inet: 'PF_INET', inet6: 'PF_INET6', local: 'PF_LOCAL', route: 'PF_ROUTE', netgraph: 'PF_NETGRAPH'}

/** The first address a jail binds INADDR_ANY to (prison_local_ip4: its primary address when restricted). */
function localAddr(k: Kernel, jid: number): string {
  if (jid === 0) return '0.0.0.0'
  const j = getJail(k, jid)
  if (ownsVnet(j) || j.ip4.mode === 'inherit') return '0.0.0.0'
  return (j.ip4.addrs[0] ?? '0.0.0.0').replace(/\/.*$/, '')
}

/** An IPC slot and its id (IXSEQ_TO_IPCID): the lowest free index, its sequence number one more than its last use. */
function allocIpcId(k: Kernel, kind: IpcKind): number {
  const used = new Set(ipcsOf(k).filter((o) => o.kind === kind).map((o) => o.id & 0xffff))
  let ix = 0
  while (used.has(ix)) ix++
  const seqs = ((k.ipcSeq ??= {msg: [], sem: [], shm: []})[kind])
  const seq = ((seqs[ix] ?? 0) + 1) & 0x7fff
  seqs[ix] = seq
  return (seq << 16) | ix
}

/**
 * A process starts in `jid` and makes what `spec` says, in this order: its sockets (raw, then
 * the families, then the listening TCP sockets), SysV objects (shm, sem, msg), then mlock. The
 * first refusal fails it all: nothing is changed (the caller works on a copy it drops).
 */
export function procStart(k: Kernel, jid: number, spec: ProcSpec): SimProc {
  if (jid !== 0 && getJail(k, jid).state !== 'ALIVE') fail('ESRCH')
  const proc: SimProc = {pid: nextPid(k), jid, comm: spec.comm.slice(0, 19), uid: 0, sockets: [], wired: 0}
  let fd = 3
  const vnet = vnetOf(k, jid)
  const socket = (domain: SockDomain, type: SimSocket['type'], protocol: number, label: string): SimSocket => {
    const call = `socket(${AF[domain]}, ${label})`
    if (!checkAf(k, jid, domain)) refuse(call, 'EPROTONOSUPPORT')
    if (type === 'raw' && (domain === 'inet' || domain === 'inet6') && !privOk(k, jid, 'PRIV_NETINET_RAW')) refuse(call, 'EPERM')
    const s: SimSocket = {fd: fd++, domain, type, protocol, vnet}
    proc.sockets.push(s)
    return s
  }
  if (spec.rawSocket) socket('inet', 'raw', IPPROTO.ICMP, 'SOCK_RAW, IPPROTO_ICMP')
  for (const d of spec.sockets ?? []) {
    if (d === 'inet') socket('inet', 'dgram', IPPROTO.UDP, 'SOCK_DGRAM, 0')
    else if (d === 'inet6') socket('inet6', 'dgram', IPPROTO.UDP, 'SOCK_DGRAM, 0')
    else if (d === 'local') socket('local', 'stream', 0, 'SOCK_STREAM, 0')
    else if (d === 'route') socket('route', 'raw', 0, 'SOCK_RAW, 0')
    else socket(d, 'dgram', 0, 'SOCK_DGRAM, 0')
  }
  for (const port of spec.listen ?? []) {
    const s = socket('inet', 'stream', IPPROTO.TCP, 'SOCK_STREAM, 0')
    if (port > 0 && port <= 1023 && !privOk(k, jid, 'PRIV_NETINET_RESERVEDPORT')) refuse(`bind(${port})`, 'EACCES')
    const addr = localAddr(k, jid)
    const taken = procsOf(k).some((p) => p.sockets.some((o) => o.port === port && o.vnet === vnet && o.protocol === IPPROTO.TCP && (o.local?.startsWith('0.0.0.0:') || addr === '0.0.0.0' || o.local === `${addr}:${port}`)))
    if (taken) refuse(`bind(${port})`, 'EADDRINUSE')
    s.local = `${addr}:${port}`
    s.port = port
  }
  const make = (kind: IpcKind, size: number, call: string): void => {
    const ns = ipcPrison(k, jid, kind)
    if (ns === null) refuse(call, 'ENOSYS')
    ipcsOf(k).push({kind, id: allocIpcId(k, kind), key: 0, size, mode: 0o600, uid: 0, gid: 0, cpid: kind === 'shm' ? proc.pid : 0, cjid: jid, ns: ns as number, ctime: k.clock})
  }
  for (const bytes of spec.shm ?? []) {
    // shmget_allocate_segment: `if (size < shm_shmmin || size > shm_shmmax) return (EINVAL);`
    if (bytes < 1 || bytes > SHMMAX) refuse(`shmget(IPC_PRIVATE, ${bytes})`, 'EINVAL')
    make('shm', bytes, `shmget(IPC_PRIVATE, ${bytes})`)
  }
  for (const nsems of spec.sem ?? []) {
    // semget: `if (nsems <= 0 || nsems > seminfo.semmsl) ... error = EINVAL`
    if (nsems <= 0 || nsems > SEMMSL) refuse(`semget(IPC_PRIVATE, ${nsems})`, 'EINVAL')
    make('sem', nsems, `semget(IPC_PRIVATE, ${nsems})`)
  }
  for (let i = 0; i < (spec.msg ?? 0); i++) make('msg', MSGMNB, 'msgget(IPC_PRIVATE)')
  if (spec.mlock !== undefined && spec.mlock > 0) {
    if (!privOk(k, jid, 'PRIV_VM_MLOCK')) refuse(`mlock(${spec.mlock})`, 'EPERM')
    proc.wired = spec.mlock
  }
  procsOf(k).push(proc)
  return proc
}

/** The daemons a jail's /etc/rc starts (simulator choice: syslogd with its two log sockets, cron). */
export function rcStart(k: Kernel, jid: number): void {
  if (procsOf(k).some((p) => p.jid === jid && p.rc)) return
  const vnet = vnetOf(k, jid)
  procsOf(k).push(
    {pid: nextPid(k), jid, comm: 'syslogd', uid: 0, wired: 0, rc: true, sockets: [
      {fd: 4, domain: 'local', type: 'dgram', protocol: 0, local: '/var/run/log', vnet},
      {fd: 5, domain: 'local', type: 'dgram', protocol: 0, local: '/var/run/logpriv', vnet},
    ]},
    {pid: nextPid(k), jid, comm: 'cron', uid: 0, wired: 0, rc: true, sockets: []},
  )
}

/** /etc/rc.shutdown: the rc daemons stop. */
export function rcStop(k: Kernel, jid: number): void {
  k.procs = procsOf(k).filter((p) => !(p.jid === jid && p.rc))
}

/** kill(2) from the host: the process exits (its sockets close, its wired memory is released; SysV objects stay). */
export function procStop(k: Kernel, pid: number): SimProc {
  const p = procsOf(k).find((x) => x.pid === pid)
  if (!p) return fail('ESRCH')
  k.procs = procsOf(k).filter((x) => x !== p)
  return p
}

/** Does a jail have processes of the model (they keep a non-persistent jail alive)? */
export const hasProcs = (k: Kernel, jid: number): boolean => (k.procs ?? []).some((p) => p.jid === jid)

/**
 * A jail is removed: its processes are killed (jail_remove's SIGKILL), and the SysV objects of
 * the namespaces it owned go with it (shm_prison_remove, for each kind it had `new`).
 */
export function procsJailGone(k: Kernel, jids: readonly number[]): void {
  if (k.procs === undefined && k.ipcs === undefined) return
  const gone = new Set(jids)
  k.procs = procsOf(k).filter((p) => !gone.has(p.jid))
  k.ipcs = ipcsOf(k).filter((o) => !gone.has(o.ns))
}

/** The processes a viewer sees (p_cansee: its own jail and those below it; the host sees all). */
export function visibleProcs(k: Kernel, viewer: number): SimProc[] {
  return procsOf(k).filter((p) => viewer === 0 || p.jid === viewer || isWithin(k, p.jid, viewer)).sort((a, b) => a.pid - b.pid)
}

/**
 * What racct charges a jail's prison_racct with (kern_racct.c: every charge goes to the
 * process's prison and each of its ancestors, so a jail's totals include its descendants).
 */
export function jailUsage(k: Kernel, name: string): Record<string, number> {
  const within = (jid: number): boolean => {
    const j = k.jails.find((x) => x.jid === jid)
    return j !== undefined && (j.name === name || j.name.startsWith(`${name}.`))
  }
  const procs = procsOf(k).filter((p) => within(p.jid))
  const objs = ipcsOf(k).filter((o) => within(o.cjid))
  const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0)
  return {
    maxproc: procs.length,
    nthr: procs.length,
    memorylocked: sum(procs.map((p) => p.wired)),
    nmsgq: objs.filter((o) => o.kind === 'msg').length,
    nsem: sum(objs.filter((o) => o.kind === 'sem').map((o) => o.size)),
    nshm: objs.filter((o) => o.kind === 'shm').length,
    shmsize: sum(objs.filter((o) => o.kind === 'shm').map((o) => o.size)),
  }
}

/** Kernel invariants of processes and IPC objects. */
export function procInvariants(k: Kernel): string[] {
  const bad: string[] = []
  const pids = new Set<number>()
  for (const p of k.procs ?? []) {
    if (pids.has(p.pid)) bad.push(`pid ${p.pid} is used twice`)
    pids.add(p.pid)
    // A process lives in a live jail: jail_remove kills them all.
    const j = p.jid === 0 ? undefined : k.jails.find((x) => x.jid === p.jid)
    if (p.jid !== 0 && (!j || j.state !== 'ALIVE')) bad.push(`pid ${p.pid}: its jail ${p.jid} is not alive`)
    const fds = p.sockets.map((s) => s.fd)
    if (new Set(fds).size !== fds.length) bad.push(`pid ${p.pid}: a descriptor is used twice`)
  }
  const ids = new Set<string>()
  for (const o of k.ipcs ?? []) {
    if (ids.has(`${o.kind}:${o.id}`)) bad.push(`${o.kind} id ${o.id} is used twice`)
    ids.add(`${o.kind}:${o.id}`)
    // An object's namespace is the host's or a live jail's own (shm_prison_remove takes them with it).
    const field = o.kind === 'shm' ? 'sysvshm' : o.kind === 'sem' ? 'sysvsem' : 'sysvmsg'
    const ns = o.ns === 0 ? undefined : k.jails.find((x) => x.jid === o.ns)
    if (o.ns !== 0 && (!ns || ns.state !== 'ALIVE' || ns[field] !== 'new')) bad.push(`${o.kind} id ${o.id}: its namespace ${o.ns} is gone`)
  }
  return bad
}

