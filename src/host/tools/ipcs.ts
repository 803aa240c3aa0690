// ipcs(1) -a (usr.bin/ipcs/ipcs.c of 14: print_kmsqptr, print_kshmptr, print_ksemptr): the
// host's System V objects, every namespace's (ipcs has no jail filter, ipcs.1), three tables
// (`Message Queues:`, `Shared Memory:`, `Semaphores:`) each with its header and rows. With -a
// a row is, blank-separated: T ID KEY MODE OWNER GROUP CREATOR CGROUP, then for messages
// CBYTES QNUM QBYTES LSPID LRPID STIME RTIME CTIME, for shared memory NATTCH SEGSZ CPID LPID
// ATIME DTIME CTIME, for semaphores NSEMS OTIME CTIME (a time is `no-entry` or `H:MM:SS`).
import {err, ok, type Result, type ResultAsync} from 'neverthrow'

import type {HostError} from '../exec.js'
import type {Host} from '../host.js'
import {parsed} from './common.js'

export interface IpcsRow {
  kind: 'msg' | 'sem' | 'shm'
  id: number
  key: string
  mode: string
  owner: string
  /** shm_cpid (shared memory only). */
  cpid: number | null
  /** Bytes (shm SEGSZ), the queue's byte limit (msg QBYTES), semaphores (sem NSEMS). */
  size: number
  line: string
}

const TITLES: Record<string, IpcsRow['kind']> = {'Message Queues:': 'msg', 'Shared Memory:': 'shm', 'Semaphores:': 'sem'}
/** Words in a row of each kind under -a, and where its size (and cpid) are. */
const SHAPE = {msg: {words: 16, size: 10, cpid: -1}, shm: {words: 15, size: 9, cpid: 10}, sem: {words: 11, size: 8, cpid: -1}} as const
const LETTER = {msg: 'q', shm: 'm', sem: 's'} as const

export const IPCS_ARGV = ['ipcs', '-a'] as const

/** The output of `ipcs -a`. */
export function parseIpcs(text: string): Result<IpcsRow[], string> {
  const out: IpcsRow[] = []
  let kind: IpcsRow['kind'] | null = null
  for (const line of text.split('\n')) {
    if (line === '') continue
    const title = TITLES[line]
    if (title) {
      kind = title
      continue
    }
    if (line.startsWith('T ')) continue
    if (kind === null) return err(`a row before any table: ${JSON.stringify(line)}`)
    const w = line.trim().split(/\s+/)
    const shape = SHAPE[kind]
    if (w[0] !== LETTER[kind] || w.length !== shape.words || !/^\d+$/.test(w[1] ?? '') || !/^-?\d+$/.test(w[2] ?? '') || !/^\d+$/.test(w[shape.size] ?? '')) {
      return err(`a row nest cannot read: ${JSON.stringify(line)}`)
    }
    const cpid = shape.cpid < 0 ? null : Number(w[shape.cpid])
    out.push({kind, id: Number(w[1]), key: w[2] as string, mode: w[3] as string, owner: w[4] as string, cpid, size: Number(w[shape.size]), line})
  }
  return ok(out)
}

export function listIpcs(host: Host): ResultAsync<IpcsRow[], HostError> {
  return host.run(IPCS_ARGV).andThen((r) => parsed(r, parseIpcs(r.stdout)))
}
