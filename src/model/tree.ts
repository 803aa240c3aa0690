// The model nest acts on: the World (what one zfs list and one jls say) and the tree of jails
// built from it. The tree of jails as this nest sees it, from the one zfs list and the one jls of a World:
// its own jails, and below every parent with a delegated dataset the children that parent's
// nest created there (their datasets carry nest:name), at any depth. Nothing is run per jail.
import {epairA, parseNet} from '../domain/net.js'
import {pathOfJail} from '../domain/names.js'
import type {JailRecord, MountRecord} from '../host/parse.js'
import {isDying} from '../host/tools/jls.js'
import type {DatasetRow} from '../host/tools/zfs.js'
import {confFile, DATA_MOUNTPOINT, dataDataset, DIR_LAYOUT, jailDataset, jailRoot, type Layout} from './layout.js'

export interface World {
  layout: Layout
  /** nest's datasets (for a directory layout: a row per child directory, type `directory`). */
  datasets: DatasetRow[]
  jails: JailRecord[]
  /** The releases jails can be built from here. */
  releases: string[]
  /**
   * The children of jails that have no delegated dataset, by the parent's dotted name: rows
   * read from `<root>/nest/jails/<child>/nest.json` in the parent's root.
   */
  dirChildren: Map<string, DatasetRow[]>
  /** The mount table (`mount -p`), when the use case needs it (start, stop, destroy). */
  mounts?: MountRecord[]
}

export interface TreeNode {
  /** The kernel's dotted name, relative to this nest's own level. */
  jail: string
  /** As the user names it: `web/db`. */
  path: string
  parent: string | null
  /** The jail's own dataset (nest's metadata: nest:name, nest:policy, ...). */
  row: DatasetRow
  /** Its root dataset (null for a child whose root is a directory in its parent's root). */
  rootDataset: string | null
  /** The dataset delegated to it, when it exists. */
  delegated: string | null
  /** Its root and its jail.conf file, as this host sees them. */
  root: string
  conf: string
  kernel: JailRecord | undefined
  running: boolean
}

/**
 * The dataset delegated to a jail. Top level: `<jail>/data`. Deeper: a host dataset outside
 * every other delegated tree (zfs-jail(8): a jailed dataset's children cannot be attached to
 * another jail), kept under the top-level jail's own dataset so that destroying it takes all.
 */
export function delegatedDataset(l: Layout, jail: string): string {
  const [first = jail, ...rest] = jail.split('.')
  return rest.length === 0 ? dataDataset(l, first) : `${jailDataset(l, first)}/delegated/${rest.join('.')}`
}

export const delegatedContainer = (l: Layout, jail: string): string => `${jailDataset(l, jail.split('.')[0] ?? jail)}/delegated`

const running = (k: JailRecord | undefined): boolean => k !== undefined && !isDying(k)

/** The jail's own dataset (with nest:name), or undefined when nest does not know it. */
export const jailRow = (w: World, jail: string): DatasetRow | undefined =>
  w.datasets.find((d) => d.name === jailDataset(w.layout, jail) && d['nest:name'] === jail)

/** The live kernel record of a jail (a dying one only when nothing alive has the name). */
export function kernelJail(w: World, jail: string): JailRecord | undefined {
  const all = w.jails.filter((j) => j.name === jail)
  return all.find((j) => !isDying(j)) ?? all[0]
}

/**
 * A jail nest did not make but knows (a migrated guest's Bastille jail): its dataset carries
 * nest:name, and nest:conf and nest:root, the paths of its jail.conf and root as its parent sees
 * them (nest migrate vm sets them). Below the host they come from a dataset the parent's root
 * controls: plain absolute paths only, else the row is not one.
 */
const ADOPTED_PATH = /^\/[A-Za-z0-9_.+-][A-Za-z0-9_./+-]*$/
export const isAdopted = (d: Pick<DatasetRow, 'nest:conf' | 'nest:root' | 'nest:name'>): boolean =>
  d['nest:name'] !== '-' && [d['nest:conf'], d['nest:root']].every((p) => p !== undefined && ADOPTED_PATH.test(p) && !p.split('/').includes('..'))

/**
 * What nest knows of an adopted jail: its name and paths only. Its dataset inherits the nest:*
 * properties of the jail it lives in (user properties are inheritable): those are not its own.
 */
const adoptedRow = (d: DatasetRow): DatasetRow => ({...d, 'nest:policy': '-', 'nest:release': '-', 'nest:delegate': '-', 'nest:version': '-', 'nest:state': '-', 'nest:net': '-'})

/** An adopted jail below `top` that is not inside one of nest's own jails there. */
function adoptedBelow(rows: readonly DatasetRow[], top: string): DatasetRow[] {
  const adopted = rows.filter((c) => c.type === 'filesystem' && c.name.startsWith(`${top}/`) && !c.name.startsWith(`${top}/jails/`) && isAdopted(c))
  // User properties are inherited: the jail is the topmost dataset that has them, not its root below it.
  const byName = new Map(adopted.map((c) => [c.name, c]))
  return adopted.filter((c) => byName.get(c.name.slice(0, c.name.lastIndexOf('/')))?.['nest:conf'] !== c['nest:conf']).map(adoptedRow)
}

/** Every jail nest manages at this level (its datasets, or directories, with nest:name), and those it adopted. */
const managedJails = (w: World): DatasetRow[] => [
  ...w.datasets.filter((d) => (d.type === 'filesystem' || d.type === 'directory') && d['nest:name'] !== '-' && d.name === jailDataset(w.layout, d['nest:name'])),
  ...(w.layout.dir ? [] : adoptedBelow(w.datasets, w.layout.top)),
].sort((a, b) => (a['nest:name'] < b['nest:name'] ? -1 : a['nest:name'] > b['nest:name'] ? 1 : 0))

/** Where a parent's nest keeps a child's root: its delegated dataset, or else /nest in its root. */
export const childRoot = (p: Pick<TreeNode, 'root' | 'delegated'>, child: string): string =>
  `${p.root}${p.delegated ? DATA_MOUNTPOINT : DIR_LAYOUT.mountpoint}/jails/${child}/root`

export function treeOf(w: World): TreeNode[] {
  const names = new Set(w.datasets.map((d) => d.name))
  const out: TreeNode[] = []
  const visit = (jail: string, parent: string | null, row: DatasetRow, root: string, conf: string): void => {
    const d = delegatedDataset(w.layout, jail)
    const kernel = kernelJail(w, jail)
    const node: TreeNode = {
      jail, path: pathOfJail(jail), parent, row, rootDataset: row.type === 'directory' ? null : `${row.name}/root`, delegated: names.has(d) ? d : null,
      root: running(kernel) && kernel?.path ? kernel.path : root, conf, kernel, running: running(kernel),
    }
    out.push(node)
    const prefix = `${d}/jails/`
    const children = node.delegated
      ? [...w.datasets.filter((c) => c.type === 'filesystem' && c.name.startsWith(prefix) && c['nest:name'] === c.name.slice(prefix.length)), ...adoptedBelow(w.datasets, d)]
      : w.dirChildren.get(jail) ?? []
    for (const c of children) {
      const name = c['nest:name']
      if (isAdopted(c)) visit(`${jail}.${name}`, jail, c, `${node.root}${c['nest:root']}`, `${node.root}${c['nest:conf']}`)
      else visit(`${jail}.${name}`, jail, c, childRoot(node, name), `${node.root}${confFile(name)}`)
    }
  }
  for (const row of managedJails(w)) {
    const top = row['nest:name']
    if (isAdopted(row)) visit(top, null, row, row['nest:root'], row['nest:conf'])
    else visit(top, null, row, jailRoot(w.layout, top), confFile(top))
  }
  return out
}

/**
 * The root below which nothing of a jail is to be trusted, in this nest's view: the root of its
 * outermost ancestor here (its own for a jail of this nest's level), whose root user controls
 * every path below it, the roots of the jails inside included (src/host/files.ts `within`).
 */
export function guardOf(nodes: readonly TreeNode[], n: Pick<TreeNode, 'jail' | 'root'>): string {
  const top = n.jail.split('.')[0] ?? n.jail
  return nodes.find((x) => x.jail === top)?.root ?? n.root
}

export const findNode = (nodes: readonly TreeNode[], jail: string): TreeNode | undefined => nodes.find((n) => n.jail === jail)

/** A jail and everything below it, parents first. */
export const subtreeOf = (nodes: readonly TreeNode[], jail: string): TreeNode[] => nodes.filter((n) => n.jail === jail || n.jail.startsWith(`${jail}.`))

/** The last component (what the parent's nest calls it) and the parent's dotted name. */
export function splitJail(jail: string): {parent: string | null; name: string} {
  const dot = jail.lastIndexOf('.')
  return dot < 0 ? {parent: null, name: jail} : {parent: jail.slice(0, dot), name: jail.slice(dot + 1)}
}

/**
 * The a side of the epair of one of this nest's own jails (nest:net), when it has one. Only
 * for its own level: a deeper jail's epair is in its parent's stack, its parent's nest's to handle.
 */
export function epairOf(n: TreeNode): string | undefined {
  if (n.parent !== null) return undefined
  const net = parseNet(n.row['nest:net'])
  return net.isOk() && net.value?.kind === 'vnet' ? epairA(net.value) : undefined
}
