// `zfs send` / `zfs recv` streams of the simulated kernel: what a stream carries, how the
// sender walks the snapshot trees it serializes, and how a receive makes datasets of it.
//
// A real stream is a DMU replay stream (DRR_BEGIN ... DRR_END records, fletcher-4 checksums;
// include/sys/zfs_ioctl.h, module/zfs/dmu_send.c, dmu_recv.c) wrapped, for -R, in a compound
// "package" whose first BEGIN carries an nvlist of the datasets, their properties and their
// snapshots (lib/libzfs/libzfs_sendrecv.c gather_nvlist, zfs_receive_package). The model's is
// a text stream of its own, self-describing, one JSON record a line after a magic line, so
// that `zfs recv` needs nothing from the model to build what was sent (a truncated or altered
// stream is then detectable as it is in ZFS: by the missing END record or the checksum):
//
//   NESTSIM-ZSTREAM 1
//   {"r":"begin","toname":"pool/a@s","replicate":true,"props":true,"features":[...],"datasets":N}
//   {"r":"fs","rel":"","type":"filesystem","props":{...},"snaps":[{"snap":"s","referenced":N}...]}
//   {"r":"tree","rel":"","snap":"s"}            the files of rel@s follow, one record each:
//   {"r":"dir","p":"etc","mode":493,"uid":0,"gid":0}
//   {"r":"file","p":"etc/rc.conf","mode":420,"size":12,"uid":0,"gid":0}  then its bytes in "data" records
//   {"r":"data","b":"<base64 of at most DATA_CHUNK bytes>"}
//   {"r":"link","p":"bin/sh","to":"/rescue/sh"}
//   {"r":"end","records":N,"sha256":"<hex of every line before this one, newlines included>"}
//
// `rel` is the dataset's name below the sent one ("" for itself, "usr/local" for a descendant);
// file paths are relative to the dataset's root. The sender writes it incrementally, file by
// file, chunk by chunk (nothing of it held in memory); the receiver writes the trees into the
// simulator's tree store as they arrive and makes the datasets only once the END record checked.
import {createHash, type Hash} from 'node:crypto'
import {chmodSync, closeSync, lchownSync, lstatSync, mkdirSync, openSync, readdirSync, readlinkSync, readSync, renameSync, rmSync, symlinkSync, writeSync} from 'node:fs'
import path from 'node:path'

import type {Kernel, SimDataset} from './state.js'

export const STREAM_MAGIC = 'NESTSIM-ZSTREAM 1'

/** Bytes of a file in one `data` record. */
export const DATA_CHUNK = 49_152

export interface StreamSnap {
  snap: string
  referenced: number
}

export interface StreamFs {
  /** The dataset's name below the sent one ("" for the sent one itself). */
  rel: string
  type: 'filesystem'
  /** Local and received properties at send time (send_iterate_prop), with -R or -p; else none. */
  props: Record<string, string>
  /** Its snapshots in the stream, oldest first; the last is the named one (tosnap). */
  snaps: StreamSnap[]
}

export interface StreamBegin {
  r: 'begin'
  /** The snapshot named on the command line (drr_toname). */
  toname: string
  replicate: boolean
  props: boolean
  /** The source pool's features (SimPool.features); absent: it lists none. */
  features?: string[]
  datasets: number
}

/** One dataset's snapshot to serialize: its tree in the store, and what to leave out of it. */
export interface SendTree {
  rel: string
  snap: string
  /** The tree store id of the snapshot's files. */
  store: string
  /** Paths (relative to the dataset's root) where a sent descendant is mounted: their files are the descendant's. */
  skip: string[]
}

export interface SendPlan {
  begin: StreamBegin
  fss: StreamFs[]
  trees: SendTree[]
}

const parentName = (name: string): string | undefined => {
  const slash = name.lastIndexOf('/')
  return slash < 0 ? undefined : name.slice(0, slash)
}

/** The properties a stream carries for a dataset (send_iterate_prop: source local or received), without the simulator's own. */
export function sentProps(d: SimDataset): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [p, v] of Object.entries({...d.received, ...d.props})) if (!p.startsWith('sim:')) out[p] = v
  return out
}

/** `p` relative to `top`, if it is `top` or below it. */
function relPath(p: string, top: string): string | undefined {
  if (top === '/') return p.slice(1)
  if (p === top) return ''
  return p.startsWith(`${top}/`) ? p.slice(top.length + 1) : undefined
}

/** A record line, counted and hashed as it is written or read. */
export class StreamHash {
  records = 0

  private readonly h: Hash = createHash('sha256')

  add(line: string): void {
    this.records++
    this.h.update(`${line}\n`)
  }

  digest(): string {
    return this.h.digest('hex')
  }
}

/**
 * Every record of one snapshot tree, in a stable order (names sorted, a directory before what it
 * holds), the bytes of each file read a chunk at a time. Links are never followed; special
 * files (the tree store keeps none) are left out.
 */
export function* treeRecords(storeDir: string, skip: readonly string[]): Generator<string> {
  const skipped = new Set(skip)
  function* walk(dir: string, rel: string): Generator<string> {
    let names: string[]
    try {
      names = readdirSync(dir).sort()
    } catch {
      return
    }
    for (const n of names) {
      const p = rel === '' ? n : `${rel}/${n}`
      if (skipped.has(p)) continue
      const real = path.join(dir, n)
      const st = lstatSync(real)
      const mode = st.mode & 0o7777
      const own = {uid: st.uid, gid: st.gid}
      if (st.isSymbolicLink()) yield JSON.stringify({r: 'link', p, to: readlinkSync(real, 'utf8'), ...own})
      else if (st.isDirectory()) {
        yield JSON.stringify({r: 'dir', p, mode, ...own})
        yield* walk(real, p)
      } else if (st.isFile()) {
        yield JSON.stringify({r: 'file', p, mode, size: st.size, ...own})
        const fd = openSync(real, 'r')
        try {
          const buf = Buffer.alloc(DATA_CHUNK)
          for (let n0 = readSync(fd, buf); n0 > 0; n0 = readSync(fd, buf)) yield JSON.stringify({r: 'data', b: buf.subarray(0, n0).toString('base64')})
        } finally {
          closeSync(fd)
        }
      }
    }
  }
  yield* walk(storeDir, '')
}

/** How many records treeRecords makes of a tree, from names and sizes alone (no file read). */
export function countTreeRecords(storeDir: string, skip: readonly string[]): number {
  const skipped = new Set(skip)
  const walk = (dir: string, rel: string): number => {
    let names: string[]
    try {
      names = readdirSync(dir)
    } catch {
      return 0
    }
    let n = 0
    for (const name of names) {
      const p = rel === '' ? name : `${rel}/${name}`
      if (skipped.has(p)) continue
      const st = lstatSync(path.join(dir, name))
      if (st.isSymbolicLink()) n++
      else if (st.isDirectory()) n += 1 + walk(path.join(dir, name), p)
      else if (st.isFile()) n += 1 + Math.ceil(st.size / DATA_CHUNK)
    }
    return n
  }
  return walk(storeDir, '')
}

/**
 * What `zfs send [-R] [-p] [-X …] FS@SNAP` sends (libzfs_sendrecv.c zfs_send / zfs_send_one):
 * the named snapshot's dataset and, with -R, its descendant filesystems (less the -X ones and
 * theirs, zfs_main.c zfs_do_send_exclude), each with its snapshots up to the named one's txg
 * (send_iterate_snap skips later ones), properties with -R or -p. A descendant without the
 * named snapshot is left out with a warning (dump_filesystem). `mountpointOf` gives a dataset's
 * effective mountpoint, to leave a mounted descendant's files out of its parent's tree.
 */
export function planSend(
  k: Kernel, snapName: string, o: {replicate: boolean; props: boolean; exclude: string[]},
  mountpointOf: (d: SimDataset) => string, warn: (text: string) => void,
): SendPlan {
  const at = snapName.indexOf('@')
  const fsName = snapName.slice(0, at)
  const tosnap = snapName.slice(at + 1)
  const top = k.datasets.find((d) => d.name === snapName) as SimDataset
  const excluded = (name: string): boolean => o.exclude.some((x) => name === x || name.startsWith(`${x}/`))
  const fsList = k.datasets.filter((d) => d.type !== 'snapshot' && (d.name === fsName || (o.replicate && d.name.startsWith(`${fsName}/`) && !excluded(d.name))))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const fss: StreamFs[] = []
  const trees: SendTree[] = []
  const sent: SimDataset[] = []
  for (const d of fsList) {
    // A descendant whose parent was left out cannot be received below it.
    const parent = parentName(d.name)
    if (d.name !== fsName && !sent.some((x) => x.name === parent)) continue
    const snaps = k.datasets.filter((x) => x.type === 'snapshot' && x.name.startsWith(`${d.name}@`)).sort((a, b) => a.createtxg - b.createtxg)
    const own = snaps.find((x) => x.name === `${d.name}@${tosnap}`)
    if (!own) {
      warn(`WARNING: could not send ${d.name}@${tosnap}: does not exist\n`)
      continue
    }
    sent.push(d)
    const chosen = o.replicate ? snaps.filter((x) => x.createtxg <= own.createtxg) : [own]
    const rel = d.name === fsName ? '' : d.name.slice(fsName.length + 1)
    fss.push({rel, type: 'filesystem', props: o.replicate || o.props ? sentProps(d) : {}, snaps: chosen.map((x) => ({snap: x.name.slice(x.name.indexOf('@') + 1), referenced: x.referenced}))})
  }
  for (const d of sent) {
    const rel = d.name === fsName ? '' : d.name.slice(fsName.length + 1)
    const mp = mountpointOf(d)
    const skip: string[] = []
    for (const c of sent) {
      if (!c.name.startsWith(`${d.name}/`)) continue
      const r = mp.startsWith('/') ? relPath(mountpointOf(c), mp) : undefined
      if (r !== undefined && r !== '') skip.push(r)
    }
    const f = fss.find((x) => x.rel === rel) as StreamFs
    for (const s of f.snaps) {
      const snapDs = k.datasets.find((x) => x.name === `${d.name}@${s.snap}`) as SimDataset
      trees.push({rel, snap: s.snap, store: snapDs.guid, skip})
    }
  }
  const pool = k.pools.find((p) => p.name === fsName.split('/')[0])
  void top
  return {
    begin: {r: 'begin', toname: snapName, replicate: o.replicate, props: o.props, ...(pool?.features ? {features: pool.features} : {}), datasets: fss.length},
    fss, trees,
  }
}

/** A stream the receiver could not take: libzfs's words after `cannot receive…: `. */
export class StreamError extends Error {
  constructor(readonly prefix: 'cannot receive' | 'cannot receive new filesystem stream', readonly why: string) {
    super(`${prefix}: ${why}`)
  }
}

export interface ReceivedTree {
  rel: string
  snap: string
  /** Where its files were staged (a directory of the tree store's parent). */
  staged: string
}

export interface Received {
  begin: StreamBegin
  fss: StreamFs[]
  trees: ReceivedTree[]
}

/**
 * Read a stream's records into a staging directory (`stageDir`, made here): the trees written
 * as their records arrive. `onHeader` is called once the BEGIN record and every `fs` record are
 * in (the package header: where libzfs checks the destination, before any data); it may throw.
 * Throws StreamError for a stream that is empty, not one, cut short or altered.
 */
export async function readStream(lines: AsyncIterable<string>, stageDir: string, onHeader: (begin: StreamBegin, fss: StreamFs[]) => void): Promise<Received> {
  const hash = new StreamHash()
  let state: 'magic' | 'begin' | 'fss' | 'body' | 'done' = 'magic'
  let begin: StreamBegin | undefined
  const fss: StreamFs[] = []
  const trees: ReceivedTree[] = []
  let tree: ReceivedTree | undefined
  let file: {fd: number; left: number} | undefined
  const dirModes: Array<[string, number]> = []
  const corrupt = (): never => {
    throw new StreamError('cannot receive new filesystem stream', 'checksum mismatch')
  }
  const closeFile = (): void => {
    if (!file) return
    closeSync(file.fd)
    if (file.left !== 0) corrupt()
    file = undefined
  }
  const inTree = (p: unknown): string => {
    if (!tree || typeof p !== 'string' || p === '' || p.split('/').some((c) => c === '' || c === '.' || c === '..')) return corrupt()
    return path.join(tree.staged, p)
  }
  mkdirSync(stageDir, {recursive: true})
  const startHeader = (): void => {
    state = 'body'
    onHeader(begin as StreamBegin, fss)
  }
  for await (const line of lines) {
    if (state === 'magic') {
      if (line !== STREAM_MAGIC) throw new StreamError('cannot receive', 'invalid stream (bad magic number)')
      hash.add(line)
      state = 'begin'
      continue
    }
    let rec: Record<string, unknown>
    try {
      rec = JSON.parse(line) as Record<string, unknown>
    } catch {
      return corrupt()
    }
    if (rec['r'] === 'end') {
      if (state === 'begin') throw new StreamError('cannot receive', 'failed to read from stream')
      if (state === 'fss') startHeader()
      closeFile()
      if (rec['records'] !== hash.records || rec['sha256'] !== hash.digest()) corrupt()
      state = 'done'
      break
    }
    hash.add(line)
    if (state === 'begin') {
      if (rec['r'] !== 'begin') throw new StreamError('cannot receive', 'invalid stream (bad magic number)')
      begin = rec as unknown as StreamBegin
      state = 'fss'
      if (begin.datasets === 0) startHeader()
      continue
    }
    if (state === 'fss') {
      if (rec['r'] !== 'fs') corrupt()
      fss.push(rec as unknown as StreamFs)
      if (fss.length === begin?.datasets) startHeader()
      continue
    }
    if (rec['r'] !== 'data') closeFile()
    switch (rec['r']) {
      case 'tree': {
        tree = {rel: String(rec['rel']), snap: String(rec['snap']), staged: path.join(stageDir, String(trees.length))}
        mkdirSync(tree.staged)
        trees.push(tree)
        break
      }
      case 'dir': {
        const p = inTree(rec['p'])
        mkdirSync(p)
        owned(p, rec)
        dirModes.push([p, Number(rec['mode']) & 0o7777])
        break
      }
      case 'file': {
        const p = inTree(rec['p'])
        file = {fd: openSync(p, 'wx', 0o600), left: Number(rec['size'])}
        owned(p, rec)
        chmodSync(p, Number(rec['mode']) & 0o7777)
        break
      }
      case 'data': {
        if (!file) return corrupt()
        const b = Buffer.from(String(rec['b']), 'base64')
        file.left -= b.length
        writeSync(file.fd, b)
        break
      }
      case 'link': {
        const p = inTree(rec['p'])
        symlinkSync(String(rec['to']), p)
        owned(p, rec)
        break
      }
      default:
        corrupt()
    }
  }
  if (file) closeSync(file.fd)
  if (state === 'magic' || state === 'begin') throw new StreamError('cannot receive', 'failed to read from stream')
  // No END record: ZFS_ERR_STREAM_TRUNCATED, recv_ecksum_set_aux's "incomplete stream".
  if (state !== 'done') throw new StreamError('cannot receive new filesystem stream', 'incomplete stream')
  // Modes last, deepest first: a directory without write permission was still filled.
  for (const [p, mode] of dirModes.reverse()) chmodSync(p, mode)
  return {begin: begin as StreamBegin, fss, trees}
}

/** A received file's owner, as the stream says (kept where the simulator may chown: as root). */
function owned(p: string, rec: Record<string, unknown>): void {
  if (typeof rec['uid'] !== 'number' || typeof rec['gid'] !== 'number') return
  try {
    lchownSync(p, rec['uid'], rec['gid'])
  } catch {
    // EPERM: not root.
  }
}

/** Move a staged tree into the tree store under `id` (same filesystem: a rename). */
export function storeStaged(storeRoot: string, staged: string, id: string): void {
  const to = path.join(storeRoot, id)
  rmSync(to, {recursive: true, force: true})
  renameSync(staged, to)
}
