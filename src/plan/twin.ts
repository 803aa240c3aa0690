// The clone twin of `nest tighten NAME --what-if` on FreeBSD (audit-rules §5.3, issue 14): the
// subtree's datasets snapshotted (`zfs snapshot -r <pool>/nest/jails/TOP@nest-twin-ID`) and cloned,
// parents before children, under a name that is itself a nest jail of the host (TWIN =
// `twin-ID-TOP`), its jail.conf the subtree root's rewritten for TWIN with networking neutralised.
// Pure: the plan as data (argv arrays and texts); the service runs it. What it must never touch:
// no argv of the plan changes, mounts, attaches or destroys a production dataset; the only
// production names in it are the snapshot made (and destroyed) and the clones' origins.
//
// FreeBSD facts used (from the sources, cited where they decide):
// - `zfs snapshot -r fs@snap` snapshots fs and every descendant at once (zfs(8) zfs-snapshot:
//   "-r Recursively create snapshots of all descendent datasets"); `zfs destroy -r fs@snap`
//   destroys that snapshot of fs and of every descendant (zfs-destroy(8): "-r Destroy (or mark for
//   deferred deletion) all snapshots with this name in descendent file systems").
// - `zfs clone -o prop=value snap fs`: the clone's parent must exist (no -p used: parents first);
//   a clone is created with the given properties (zfs-clone(8)); user properties (`nest:*`) are
//   not copied from the origin, so nest's own are given again with -o.
// - a clone with jailed=on is not mounted by `zfs clone` on the host (libzfs zfs_is_mountable:
//   a zoned dataset "cannot be mounted in the global zone"; FreeBSD's jailed is ZFS_PROP_ZONED).
//   Unconfirmed on a real host; the simulator does the same (src/sim/kernel/zfs.ts zfsClone).
// - `-o mountpoint=` of a clone is checked against its new parent's jailed (libzfs_dataset.c
//   zfs_clone: check_parents(hdl, target, &zoned, ...) then zfs_valid_proplist(..., zoned, ...)):
//   the twin's delegated clones (parent `TWIN/delegated`, not jailed) may be given theirs; no
//   dataset below a jailed one has a local mountpoint in nest's layout (it would be refused).
import {err, ok, type Result} from 'neverthrow'

import {isJailName, NAME_MAX} from '../domain/names.js'
import {confHeader, confFile, jailDataset, type Layout} from '../model/layout.js'

/** The snapshot name of a twin, and how a leftover one is known. */
export const TWIN_SNAPSHOT = 'nest-twin-'
/** A twin's jail name: `twin-ID-TOP` (a valid nest name; a leftover is known by it and by nest:twin). */
export const twinName = (id: string, top: string): string => `twin-${id}-${top}`
/** The user property on a twin's own dataset: the jail it is a twin of (how a re-run knows a leftover is a twin, not a user's jail). */
export const TWIN_PROP = 'nest:twin'
const TWIN_RE = /^twin-([a-z0-9]+)-(.+)$/

/** One dataset of the subtree as `zfs get -s local` shows it: its name and its local properties. */
export interface TwinSource {
  name: string
  /** Its local properties (mountpoint, canmount, jailed, nest:*); inherited ones are not given again. */
  props: Record<string, string>
}

export interface CloneStep {
  /** The production dataset and the twin's dataset cloned from its snapshot. */
  origin: string
  clone: string
  argv: string[]
}

export interface CloneTwinPlan {
  twin: string
  /** The twin's own dataset (`<pool>/nest/jails/TWIN`). */
  dataset: string
  snapshot: string
  snapshotArgv: string[]
  /** Parents before children. */
  clones: CloneStep[]
  /** The twin's jail.conf on the host. */
  conf: string
  /** What undoes it, in order: the clones (all of them, -r), then the snapshots. */
  destroy: string[][]
}

/** The local properties a clone is given: nest's own (nest:name rewritten), mountpoint below the top moved to the twin's, canmount, jailed. */
function cloneProps(l: Layout, top: string, twin: string, relative: string, props: Record<string, string>): string[] {
  const out: string[] = []
  const fromMnt = `${l.mountpoint}/jails/${top}`
  const toMnt = `${l.mountpoint}/jails/${twin}`
  for (const [k, v] of Object.entries(props).sort(([a], [b]) => a.localeCompare(b))) {
    let value = v
    if (k === 'nest:name') {
      // The twin's own dataset names the twin; a delegated dataset names its kernel jail (`p.a` → `TWIN.a`).
      if (relative === '') value = twin
      else if (v === top || v.startsWith(`${top}.`)) value = `${twin}${v.slice(top.length)}`
    } else if (k === 'mountpoint') {
      if (v === fromMnt || v.startsWith(`${fromMnt}/`)) value = `${toMnt}${v.slice(fromMnt.length)}`
    } else if (!k.startsWith('nest:') && k !== 'canmount' && k !== 'jailed') continue
    out.push('-o', `${k}=${value}`)
  }
  if (relative === '') out.push('-o', `${TWIN_PROP}=${top}`)
  return out
}

/**
 * The clone twin of the subtree whose top-level jail is `top` (a jail of the host's own level):
 * every dataset below `<pool>/nest/jails/TOP` (its root, its data with the children's, the
 * delegated ones of its children) cloned under `<pool>/nest/jails/TWIN` with the same relative
 * names, so that nest's layout (layout.ts, tree.ts delegatedDataset) finds the twin's as it
 * finds the original's.
 */
export function planCloneTwin(l: Layout, top: string, id: string, sources: readonly TwinSource[]): Result<CloneTwinPlan, string> {
  const twin = twinName(id, top)
  if (!/^[a-z0-9]+$/.test(id)) return err(`twin id "${id}": lower-case letters and digits only`)
  if (!isJailName(twin) || twin.length > NAME_MAX) return err(`${top}: no twin name can be made from it (${twin}): nest tighten --what-if needs a top-level name of at most ${NAME_MAX - twin.length + top.length} characters`)
  const from = jailDataset(l, top)
  const to = jailDataset(l, twin)
  const snapshot = `${from}@${TWIN_SNAPSHOT}${id}`
  const inside = sources.filter((s) => s.name === from || s.name.startsWith(`${from}/`))
  if (!inside.some((s) => s.name === from)) return err(`${from}: not among the datasets read: nothing to clone`)
  // Parents before children: a name sorts after its parent's when compared by depth, then name.
  const depth = (n: string): number => n.split('/').length
  const ordered = [...inside].sort((a, b) => depth(a.name) - depth(b.name) || a.name.localeCompare(b.name))
  const clones = ordered.map((s): CloneStep => {
    const relative = s.name.slice(from.length)
    const clone = `${to}${relative}`
    return {origin: s.name, clone, argv: ['zfs', 'clone', ...cloneProps(l, top, twin, relative, s.props), `${s.name}@${TWIN_SNAPSHOT}${id}`, clone]}
  })
  return ok({
    twin, dataset: to, snapshot, snapshotArgv: ['zfs', 'snapshot', '-r', snapshot], clones, conf: confFile(twin),
    destroy: [['zfs', 'destroy', '-r', to], ['zfs', 'destroy', '-r', snapshot]],
  })
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** A jail.conf's lines with networking neutralised: ip4/ip6 disabled, no vnet, no interface, no epair or jib hooks. */
export function neutraliseNet(text: string): string {
  const lines = text.split('\n')
  const out: string[] = []
  let sawIp4 = false
  let sawIp6 = false
  const param = (line: string): string | undefined => /^\s*([a-z0-9_.]+)\s*(?:\+?=|;)/.exec(line)?.[1]
  const dropped = new Set<string>()
  const kept = new Set<string>()
  for (const line of lines) {
    const p = param(line)
    if (p === 'ip4') { out.push(line.replace(/=.*$/, '= "disable";')); sawIp4 = true; continue }
    if (p === 'ip6') { out.push(line.replace(/=.*$/, '= "disable";')); sawIp6 = true; continue }
    if (p !== undefined && (/^ip[46]\.addr$/.test(p) || p === 'vnet' || p === 'vnet.interface' || p === 'interface' || p === 'ip4.saddrsel' || p === 'ip6.saddrsel')) continue
    if (p !== undefined && p.startsWith('exec.') && /\b(epair\d*[ab]?|jib|ifconfig|bridge\d*)\b/.test(line)) {
      dropped.add(p)
      continue
    }
    // A list whose first value went with a hook: the next one sets it (jail(8): `+=` appends to what is set).
    if (p !== undefined && dropped.has(p) && !kept.has(p) && /\+=/.test(line)) {
      kept.add(p)
      out.push(line.replace('+=', '='))
      continue
    }
    if (p !== undefined) kept.add(p)
    out.push(line)
  }
  // A jail whose file said nothing of ip4/ip6 would inherit or make its own: say disable, after
  // the other one when there is one, else after the block's first line.
  const at = (re: RegExp): number => out.findIndex((l) => re.test(l))
  const open = at(/\{\s*$/)
  if (!sawIp4) {
    const i6 = at(/^\s*ip6\s*=/)
    out.splice(i6 >= 0 ? i6 : open + 2, 0, '\tip4 = "disable";')
  }
  if (!sawIp6) {
    const i4 = at(/^\s*ip4\s*=/)
    out.splice(i4 >= 0 ? i4 + 1 : open + 2, 0, '\tip6 = "disable";')
  }
  return out.join('\n')
}

/**
 * The subtree root's jail.conf rewritten for its twin: the block, the header, paths and dataset
 * names below `<pool>/nest/jails/TOP` moved to TWIN's, the hooks naming the jail (`zfs jail TOP`,
 * `jail -m name=TOP`, `nest stop TOP`, `nest cleanup TOP`) naming TWIN, networking neutralised.
 * Refused when a name of the original is left in it (the twin would act on production).
 */
export function twinRootConf(l: Layout, top: string, twin: string, text: string): Result<string, string> {
  const t = escape(top)
  const mnt = escape(`${l.mountpoint}/jails/`)
  const ds = escape(`${l.top}/jails/`)
  const end = '(?=[/\\s";]|$)'
  let out = text
    .replace(confHeader(top), confHeader(twin))
    .replace(new RegExp(`^${t}(\\s*\\{)`, 'm'), `${twin}$1`)
    .replace(new RegExp(`${mnt}${t}${end}`, 'g'), `${l.mountpoint}/jails/${twin}`)
    .replace(new RegExp(`${ds}${t}${end}`, 'g'), `${l.top}/jails/${twin}`)
    .replace(new RegExp(`(host\\.hostname\\s*=\\s*")${t}(")`, 'g'), `$1${twin}$2`)
    .replace(new RegExp(`(\\bname=)${t}(?=[\\s"\\\\])`, 'g'), `$1${twin}`)
    .replace(new RegExp(`(\\b(?:zfs jail|stop|start|cleanup|restart)\\s+)${t}(?=[\\s"\\\\])`, 'g'), `$1${twin}`)
  out = neutraliseNet(out)
  // Every non-comment line is checked for what was not rewritten.
  const left = out.split('\n').filter((line) => !line.trimStart().startsWith('#')).find((line) =>
    new RegExp(`${mnt}${t}${end}`).test(line) || new RegExp(`${ds}${t}${end}`).test(line) || new RegExp(`(^|[\\s"=])${t}(?=[\\s";\\\\{]|$)`).test(line))
  if (left !== undefined) return err(`${top}: its jail.conf names it where the twin cannot rename it: ${left.trim()}`)
  return ok(out)
}

/** A child's jail.conf (inside the twin's cloned root) for the twin: its names are relative to its parent and stay; networking neutralised. */
export const twinChildConf = (text: string): string => neutraliseNet(text)

/** What a crashed twin left on the host, known by its names: `twin-ID-TOP` datasets with nest:twin, `@nest-twin-ID` snapshots of TOP, TWIN.conf files. */
export interface TwinLeftovers {
  destroy: string[][]
  remove: string[]
  /** Twins still running (jail -r first). */
  jails: string[]
}

/**
 * The leftovers of twins of `top`: every dataset `<pool>/nest/jails/twin-ID-TOP` whose
 * nest:twin is TOP (never a jail named so by a user: it has no nest:twin), every snapshot
 * `<pool>/nest/jails/TOP…@nest-twin-ID`, every `/etc/jail.conf.d/twin-ID-TOP.conf`, every
 * running jail of those names. Destroyed clones first (they depend on the snapshots).
 */
export function twinLeftovers(l: Layout, top: string, datasets: readonly TwinSource[], snapshots: readonly string[], confs: readonly string[], jails: readonly string[]): TwinLeftovers {
  const prefix = `${l.top}/jails/`
  const twins = datasets.filter((d) => {
    if (!d.name.startsWith(prefix)) return false
    const m = TWIN_RE.exec(d.name.slice(prefix.length))
    return m !== null && m[2] === top && d.props[TWIN_PROP] === top
  }).map((d) => d.name.slice(prefix.length))
  const from = jailDataset(l, top)
  // A snapshot of TOP or of any dataset below it (a destroy -r cut short): one `destroy -r TOP@…` per id takes them all.
  const ids = new Set<string>()
  for (const s of snapshots) {
    const at = s.indexOf(`@${TWIN_SNAPSHOT}`)
    const fs = at < 0 ? '' : s.slice(0, at)
    if (at >= 0 && (fs === from || fs.startsWith(`${from}/`))) ids.add(s.slice(at + 1 + TWIN_SNAPSHOT.length))
  }
  const stem = (c: string): string => c.replace(/^.*\//, '').replace(/\.conf$/, '')
  return {
    jails: jails.filter((j) => twins.includes(j.split('.')[0] ?? j)),
    destroy: [...twins.map((t) => ['zfs', 'destroy', '-r', jailDataset(l, t)]), ...[...ids].sort().map((id) => ['zfs', 'destroy', '-r', `${from}@${TWIN_SNAPSHOT}${id}`])],
    // A file of a twin whose dataset is gone too; never one of a user's jail named twin-… (its dataset has no nest:twin).
    remove: confs.filter((c) => TWIN_RE.exec(stem(c))?.[2] === top && (twins.includes(stem(c)) || !datasets.some((d) => d.name === `${prefix}${stem(c)}`))),
  }
}
