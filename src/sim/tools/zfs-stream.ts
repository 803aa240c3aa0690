// `zfs send` and `zfs recv|receive` over the simulated kernel (OpenZFS 2.2, as FreeBSD 14.3
// ships it: cmd/zfs/zfs_main.c zfs_do_send / zfs_do_receive, lib/libzfs/libzfs_sendrecv.c).
// The stream itself, the walk of the snapshot trees and the reading of a stream: ../kernel/zstream.ts.
import {rmSync} from 'node:fs'
import path from 'node:path'

import {STRERROR} from '../../domain/errno.js'
import {type Kernel, type SimDataset, SysError} from '../kernel/state.js'
import {
  availBytes, datasetOrFail, findDataset, MODELLED_PROPS, newContentId, newDataset, poolOf, prop, validateProps, zfsCreate, ZfsError, zfsMount,
} from '../kernel/zfs.js'
import {
  planSend, readStream, type Received, STREAM_MAGIC, StreamError, StreamHash, storeStaged, treeRecords, countTreeRecords, type StreamBegin, type StreamFs,
} from '../kernel/zstream.js'
import {lookupProp} from '../kernel/zfsprops.js'
import {loadKernel, withKernel, withLock} from '../store.js'
import {getopt, notSimulated, stdinLines, type ToolCtx, UsageError, writeOut} from './common.js'
import {nicebytes, nicenum} from './zfs.js'

/** zfs_main.c usage(B_FALSE) for a command without a property table: its help, then these lines; exit 2. */
const USAGE_TAIL = '\nFor the property list, run: zfs set|get\n\nFor the delegated permission list, run: zfs allow|unallow\n\nFor further help on a command or topic, run: zfs help [<topic>]\n'

/** get_usage(HELP_SEND), zfs_main.c (2.2). */
const SEND_HELP = '\tsend [-DLPbcehnpsVvw] [-i|-I snapshot]\n\t     [-R [-X dataset[,dataset]...]]     <snapshot>\n'
  + '\tsend [-DnVvPLecw] [-i snapshot|bookmark] <filesystem|volume|snapshot>\n'
  + '\tsend [-DnPpVvLec] [-i bookmark|snapshot] --redact <bookmark> <snapshot>\n'
  + '\tsend [-nVvPe] -t <receive_resume_token>\n\tsend [-PnVv] --saved filesystem\n'

/** get_usage(HELP_RECEIVE), zfs_main.c (2.2). */
const RECEIVE_HELP = '\treceive [-vMnsFhu] [-o <property>=<value>] ... [-x <property>] ...\n\t    <filesystem|volume|snapshot>\n'
  + '\treceive [-vMnsFhu] [-o <property>=<value>] ... [-x <property>] ... \n\t    [-d | -e] <filesystem>\n'
  + '\treceive -A <filesystem|volume>\n'

const usageOf = (help: string) => (lead = ''): never => {
  throw new UsageError(`${lead}usage:\n${help}${USAGE_TAIL}`, 2)
}

/**
 * A fault that lets the call start and cuts it short halfway (control.ts `midway`): the stream
 * stops after half its records, the call then fails with the fault's stderr and exit status.
 */
export interface Midway {
  stderr: string
  exit: number
}

/** zfs send. `midway`: the fault that cuts the stream (dispatch.ts hands it over). */
export async function zfsSend(ctx: ToolCtx, rest: string[], midway?: Midway): Promise<number> {
  const usage = usageOf(SEND_HELP)
  const o = getopt(rest, 'RpvPnX:DLbcehsVwi:I:t:S', (c) => usage(`invalid option '${c}'\n`))
  for (const c of 'DLbcehsVwiItS') if (o.flags.has(c)) notSimulated(`zfs send -${c}`)
  const replicate = o.flags.has('R')
  const dryrun = o.flags.has('n')
  const parsable = o.flags.has('P')
  const verbose = o.flags.has('v') || parsable
  const exclude: string[] = []
  for (const [c, v] of o.multi) {
    if (c !== 'X') continue
    for (const ds of v.split(',')) {
      // zfs_main.c: "-X %s: not a valid non-root dataset name.\n", then usage.
      if (!/^[A-Za-z0-9][A-Za-z0-9_.:-]*(\/[A-Za-z0-9_.:-]+)+$/.test(ds)) usage(`-X ${ds}: not a valid non-root dataset name.\n`)
      exclude.push(ds)
    }
  }
  if (exclude.length > 0 && !replicate) {
    ctx.err('Cannot specify dataset exclusion (-X) on a non-recursive send.\n')
    return 1
  }
  if (o.rest.length < 1) usage('missing snapshot argument\n')
  if (o.rest.length > 1) usage('too many arguments\n')
  if (!dryrun && ctx.tty?.stdout) {
    ctx.err('Error: Stream can not be written to a terminal.\nYou must redirect standard output.\n')
    return 1
  }
  // A verbose real send prints a progress line a second on stderr (send_progress_thread): not modelled.
  if (verbose && !dryrun) notSimulated('zfs send -v/-P without -n')
  const snapName = o.rest[0] as string
  const at = snapName.indexOf('@')
  if (at < 0) notSimulated('zfs send of a filesystem (not a snapshot)')
  const fsName = snapName.slice(0, at)
  if (exclude.some((x) => fsName === x || fsName.startsWith(`${x}/`))) notSimulated('zfs send -X of the sent dataset itself (zfs-send.8: "The root dataset may not be excluded.")')
  // The plan is read under the kernel lock (no change half seen), the trees streamed after it.
  const warnings: string[] = []
  const planned = await withLock(ctx.root, async () => {
    const k = loadKernel(ctx.root)
    try {
      // zfs_do_send opens the snapshot (zfs_send_one) or, with -R, its file system first.
      const fsd = datasetOrFail(k, ctx.jid, replicate ? fsName : snapName)
      if (fsd.type === 'volume') notSimulated('zfs send of a volume')
      if (replicate && !findDataset(k, snapName)) {
        return {error: `WARNING: could not send ${snapName}: does not exist\n`}
      }
      if (replicate && k.datasets.some((d) => d.type === 'volume' && d.name.startsWith(`${fsName}/`) && !exclude.some((x) => d.name === x || d.name.startsWith(`${x}/`)))) {
        notSimulated('zfs send -R of a tree holding volumes')
      }
      return {plan: planSend(k, snapName, {replicate, props: o.flags.has('p'), exclude}, (d) => prop(k, d, 'mountpoint'), (w) => warnings.push(w))}
    } catch (error) {
      if (error instanceof ZfsError) return {error: `${error.message}\n`}
      throw error
    }
  })
  for (const w of warnings) ctx.err(w)
  if (planned.error !== undefined) {
    ctx.err(planned.error)
    return 1
  }
  const plan = planned.plan as ReturnType<typeof planSend>
  if (dryrun) {
    if (verbose) ctx.out(dryRunLines(plan, fsName, parsable, replicate))
    return warnings.length > 0 ? 1 : 0
  }
  // The records, written as they are made; a reader gone ends the send (EPIPE).
  const hash = new StreamHash()
  let sending = `${fsName}@${plan.fss[0]?.snaps[0]?.snap ?? snapName.slice(at + 1)}`
  const cut = midway ? Math.floor(countRecords(plan, path.join(ctx.root, 'snapshots')) / 2) : Number.POSITIVE_INFINITY
  const emit = async (line: string): Promise<boolean> => {
    if (hash.records >= cut) return false
    hash.add(line)
    await writeOut(ctx, `${line}\n`)
    return true
  }
  try {
    await writeOut(ctx, `${STREAM_MAGIC}\n`)
    hash.add(STREAM_MAGIC)
    let going = await emit(JSON.stringify(plan.begin))
    for (const f of plan.fss) if (going) going = await emit(JSON.stringify({r: 'fs', ...f}))
    for (const t of plan.trees) {
      if (!going) break
      sending = t.rel === '' ? `${fsName}@${t.snap}` : `${fsName}/${t.rel}@${t.snap}`
      going = await emit(JSON.stringify({r: 'tree', rel: t.rel, snap: t.snap}))
      for (const line of treeRecords(path.join(ctx.root, 'snapshots', t.store), t.skip)) {
        if (!going) break
        going = await emit(line)
      }
    }
    if (going) {
      const records = hash.records
      await writeOut(ctx, `${JSON.stringify({r: 'end', records, sha256: hash.digest()})}\n`)
    }
  } catch (error) {
    if (error instanceof SysError && error.errno === 'EPIPE') {
      // dump_ioctl (libzfs_sendrecv.c): "warning: cannot send '%s'" and strerror, for the
      // snapshot being sent. Whether a real zfs dies of SIGPIPE first is unconfirmed: the write
      // happens in the kernel (dmu_send), which returns EPIPE to the ioctl; modelled as that.
      ctx.err(`warning: cannot send '${sending}': ${STRERROR.EPIPE}\n`)
      return 1
    }
    throw error
  }
  if (midway) {
    ctx.err(midway.stderr)
    return midway.exit
  }
  return warnings.length > 0 ? 1 : 0
}

/** Records a send writes after the magic line, counted without reading a file (each file's data records from its size). */
function countRecords(plan: ReturnType<typeof planSend>, store: string): number {
  return plan.trees.reduce((n, t) => n + 1 + countTreeRecords(path.join(store, t.store), t.skip), 1 + plan.fss.length)
}

/**
 * `zfs send -n -v|-P`: send_print_verbose's line for each snapshot that would be sent (`full`
 * for a dataset's first, `incremental` from the one before), then the total (zfs_send:
 * `size\t%llu` with -P, else `total estimated size is` and zfs_nicebytes; zfs_send_one, for a
 * stream without -R, zfs_nicenum). Sizes are the model's: a full stream the snapshot's
 * referenced bytes, an incremental one what it refers to more than the one before.
 */
function dryRunLines(plan: ReturnType<typeof planSend>, fsName: string, parsable: boolean, replicate: boolean): string {
  let out = ''
  let total = 0
  for (const f of plan.fss) {
    const name = f.rel === '' ? fsName : `${fsName}/${f.rel}`
    let prev: {snap: string; referenced: number} | undefined
    for (const s of f.snaps) {
      const size = prev ? Math.max(0, s.referenced - prev.referenced) : s.referenced
      const to = `${name}@${s.snap}`
      if (parsable) out += prev ? `incremental\t${prev.snap}\t${to}\t${size}\n` : `full\t${to}\t${size}\n`
      else out += `${prev ? `send from @${prev.snap} to ${to}` : `full send of ${to}`}${size !== 0 ? ` estimated size is ${nicebytes(size)}` : ''}\n`
      total += size
      prev = s
    }
  }
  out += parsable ? `size\t${total}\n` : `total estimated size is ${replicate ? nicebytes(total) : nicenum(total)}\n`
  return out
}

/** -o/-x of zfs recv (parseprop / parsepropname, zfs_main.c): one list, each name once. */
function recvProps(multi: Array<[string, string]>, usage: (lead?: string) => never): {set: Record<string, string>; exclude: string[]} {
  const set: Record<string, string> = {}
  const exclude: string[] = []
  const seen = new Set<string>()
  for (const [c, v] of multi) {
    if (c !== 'o' && c !== 'x') continue
    const eq = v.indexOf('=')
    if (c === 'o' && eq < 0) usage("missing '=' for property=value argument\n")
    if (c === 'x' && eq >= 0) usage("invalid character '=' in property argument\n")
    const name = c === 'o' ? v.slice(0, eq) : v
    if (seen.has(name)) usage(`property '${name}' specified multiple times\n`)
    seen.add(name)
    if (c === 'o') set[name] = v.slice(eq + 1)
    else exclude.push(name)
  }
  return {set, exclude}
}

const NEWFS = 'cannot receive new filesystem stream'

/** The destination checks of zfs_receive_one for a new file system, in its order; a ZfsError with libzfs's text. */
function checkDestination(k: Kernel, target: string, begin: StreamBegin, madeBelow?: string): void {
  if (findDataset(k, target)) throw new ZfsError(`${NEWFS}: destination '${target}' exists\nmust specify -F to overwrite it`)
  const slash = target.lastIndexOf('/')
  if (slash < 0) throw new ZfsError(`${NEWFS}: destination '${target}' does not exist`)
  const parent = target.slice(0, slash)
  // -d makes the missing file systems between its argument and the target (create_parents).
  const pd = madeBelow !== undefined && parent.startsWith(`${madeBelow}/`) && !findDataset(k, parent) ? findDataset(k, madeBelow) : findDataset(k, parent)
  // zfs_open of the parent prints its own error, then EZFS_BADRESTORE (source-derived).
  if (!pd) throw new ZfsError(`cannot open '${parent}': dataset does not exist\n${NEWFS}: unable to restore to destination`)
  if (pd.type !== 'filesystem') throw new ZfsError(`${NEWFS}: parent '${parent}' is not a filesystem`)
  // ENOTSUP from the kernel at the BEGIN record: a stream feature the pool has not enabled.
  const have = poolOf(k, target)?.features
  if (have && (begin.features ?? []).some((f) => !have.includes(f))) throw new ZfsError(`${NEWFS}: pool must be upgraded to receive this stream.`)
}

/** zfs recv|receive [-u] [-n] [-o p=v]… [-x p]… TARGET. */
export async function zfsReceive(ctx: ToolCtx, rest: string[]): Promise<number> {
  const usage = usageOf(RECEIVE_HELP)
  // getopt(":o:x:dehMnuvFsAc"): a missing value is "missing argument for '%c' option".
  const o = getopt(rest, 'o:x:dehMnuvFsAc', (c) => usage(c === 'o' || c === 'x' ? `missing argument for '${c}' option\n` : `invalid option '${c}'\n`))
  if (o.flags.has('d') && o.flags.has('e')) usage('invalid option combination: -d and -e are mutually exclusive\n')
  for (const c of 'FsAhMc') if (o.flags.has(c)) notSimulated(`zfs receive -${c}`)
  // -v prints "received %s stream in %.2f seconds" (timing): not modelled.
  if (o.flags.has('v')) notSimulated('zfs receive -v')
  const {set, exclude} = recvProps(o.multi, usage)
  // A settable native property the model does not act on is refused, as `zfs create -o` refuses it.
  for (const p of Object.keys(set)) {
    const desc = lookupProp(p)
    if (desc && !MODELLED_PROPS.has(desc.name) && desc.attr !== 'readonly') notSimulated(`zfs receive -o ${p}`)
  }
  if (o.rest.length < 1) usage('missing snapshot argument\n')
  if (o.rest.length > 1) usage('too many arguments\n')
  if (ctx.tty?.stdin) {
    ctx.err('Error: Backup stream can not be read from a terminal.\nYou must redirect standard input.\n')
    return 1
  }
  const arg = o.rest[0] as string
  if (arg.includes('@')) notSimulated('zfs receive into a named snapshot')
  if (ctx.jid !== 0) notSimulated('zfs receive inside a jail')
  // -d / -e (isprefix, istail): the target is named after the sent file system (zfs-receive.8).
  const prefix = o.flags.has('e') ? 'e' : o.flags.has('d') ? 'd' : undefined
  if (prefix && !findDataset(loadKernel(ctx.root), arg)) {
    // zfs_receive_impl, before reading the stream.
    ctx.err(`cannot receive: specified fs (${arg}) does not exist\n`)
    return 1
  }
  let target = arg
  const targetOf = (begin: StreamBegin): string => {
    const sent = begin.toname.slice(0, begin.toname.indexOf('@'))
    const parts = sent.split('/')
    const tail = prefix === 'e' ? parts.slice(-1) : parts.slice(1)
    return prefix && tail.length > 0 ? `${arg}/${tail.join('/')}` : arg
  }
  const noMount = o.flags.has('u')
  const dryrun = o.flags.has('n')
  const store = path.join(ctx.root, 'snapshots')
  const stage = path.join(store, `.recv-${process.pid}-${Date.now()}-${Math.floor(Math.random() * 1e9)}`)
  const fail = (text: string): number => {
    ctx.err(`${text}\n`)
    return 1
  }
  try {
    let received: Received
    try {
      received = await readStream(stdinLines(ctx), stage, (begin) => {
        target = targetOf(begin)
        checkDestination(loadKernel(ctx.root), target, begin, prefix === 'd' ? arg : undefined)
      })
    } catch (error) {
      if (error instanceof StreamError || error instanceof ZfsError) return fail(error.message)
      throw error
    }
    // The datasets' sizes against what the parent has left (ENOSPC while writing, in ZFS).
    const k0 = loadKernel(ctx.root)
    const need = received.fss.reduce((n, f) => n + (f.snaps.at(-1)?.referenced ?? 0), 0)
    const parentOfTarget = target.slice(0, target.lastIndexOf('/'))
    if (need > availBytes(k0, findDataset(k0, parentOfTarget) ? parentOfTarget : arg)) return fail(`${NEWFS}: out of space`)
    if (dryrun) return 0
    return await withKernel(ctx.root, (k) => {
      try {
        checkDestination(k, target, received.begin, prefix === 'd' ? arg : undefined)
        // create_parents (libzfs_dataset.c) makes and mounts them as `zfs create -p` would; the model leaves them unmounted with -u (unconfirmed).
        if (prefix === 'd' && !findDataset(k, target.slice(0, target.lastIndexOf('/')))) zfsCreate(k, 0, target.slice(0, target.lastIndexOf('/')), {}, true, ctx.fs, noMount)
        const top = k.datasets.find((d) => d.name === target.slice(0, target.lastIndexOf('/'))) as SimDataset
        const local = validateProps(k, 0, target, set, prop(k, top, 'jailed') === 'on', 'receive', 'filesystem', true, 1)
        const made = materialize(k, target, received, local, exclude, store, ctx)
        if (!noMount) mountReceived(k, made, ctx)
        return 0
      } catch (error) {
        if (error instanceof ZfsError) return fail(error.message)
        throw error
      }
    })
  } finally {
    rmSync(stage, {recursive: true, force: true})
  }
}

/**
 * The received datasets, parents first: each with the stream's properties as `received` (less
 * -x ones, and for a descendant less the -o ones: zfs-receive.8, "forced to be inherited"), the
 * -o ones local on the top; its snapshots with their trees; its files as `content` (the named
 * snapshot's tree) until it is first mounted.
 */
function materialize(k: Kernel, target: string, r: Received, local: Record<string, string>, exclude: string[], store: string, ctx: ToolCtx): SimDataset[] {
  const made: SimDataset[] = []
  const order = [...r.fss].sort((a, b) => (a.rel === '' ? -1 : b.rel === '' ? 1 : a.rel.split('/').length - b.rel.split('/').length || (a.rel < b.rel ? -1 : 1)))
  for (const f of order as StreamFs[]) {
    const name = f.rel === '' ? target : `${target}/${f.rel}`
    const received: Record<string, string> = {}
    for (const [p, v] of Object.entries(f.props)) {
      if (exclude.includes(p) || (f.rel !== '' && p in local)) continue
      received[p] = v
    }
    const d = newDataset(k, name, 'filesystem', f.rel === '' ? {...local} : {})
    if (Object.keys(received).length > 0) d.received = received
    let head: SimDataset | undefined
    for (const s of f.snaps) {
      const sd = newDataset(k, `${name}@${s.snap}`, 'snapshot', {})
      sd.referenced = s.referenced
      const staged = r.trees.find((t) => t.rel === f.rel && t.snap === s.snap)
      if (staged) storeStaged(store, staged.staged, sd.guid)
      head = sd
    }
    if (head) {
      d.referenced = head.referenced
      d.snapshotsChanged = k.clock
      d.content = newContentId(k)
      ctx.fs.copySnapshot(head.guid, d.content)
    }
    made.push(d)
  }
  return made
}

/**
 * Without -u, libzfs mounts what it received (zfs_receive_one, then changelist_postfix): each file
 * system that may be mounted — canmount=on, not jailed on the host, a mountpoint — at its
 * effective mountpoint, which for a received `mountpoint=/usr` is the host's own /usr.
 */
function mountReceived(k: Kernel, made: SimDataset[], ctx: ToolCtx): void {
  for (const d of made) {
    if (prop(k, d, 'jailed') === 'on' || prop(k, d, 'canmount') !== 'on') continue
    if (['none', 'legacy', '-'].includes(prop(k, d, 'mountpoint'))) continue
    zfsMount(k, 0, d.name, ctx.fs)
  }
}

