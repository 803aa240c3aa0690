// The tree of jails as this nest sees it, from the one zfs list and the one jls of a World:
// its own jails, and below every parent with a delegated dataset the children that parent's
// nest created there (their datasets carry nest:name), at any depth. Nothing is run per jail.
import {pathOfJail} from '../domain/names.js'
import type {JailRecord} from '../host/parse.js'
import {isDying} from '../host/tools/jls.js'
import type {DatasetRow} from '../host/tools/zfs.js'
import {confFile, DATA_MOUNTPOINT, dataDataset, jailDataset, jailRoot, type Layout} from '../plan/jail.js'
import {jailRow, kernelJail, managedJails, type World} from './world.js'

export interface TreeNode {
  /** The kernel's dotted name, relative to this nest's own level. */
  jail: string
  /** As the user names it: `web/db`. */
  path: string
  parent: string | null
  /** The jail's own dataset (nest's metadata: nest:name, nest:policy, ...). */
  row: DatasetRow
  /** Its root dataset. */
  rootDataset: string
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

export function treeOf(w: World): TreeNode[] {
  const names = new Set(w.datasets.map((d) => d.name))
  const out: TreeNode[] = []
  const visit = (jail: string, parent: string | null, row: DatasetRow, root: string, conf: string): void => {
    const d = delegatedDataset(w.layout, jail)
    const kernel = kernelJail(w, jail)
    const node: TreeNode = {
      jail, path: pathOfJail(jail), parent, row, rootDataset: `${row.name}/root`, delegated: names.has(d) ? d : null,
      root: running(kernel) && kernel?.path ? kernel.path : root, conf, kernel, running: running(kernel),
    }
    out.push(node)
    if (!node.delegated) return
    const prefix = `${d}/jails/`
    for (const c of w.datasets) {
      const n = c.name.slice(prefix.length)
      if (c.type !== 'filesystem' || !c.name.startsWith(prefix) || n.includes('/') || c['nest:name'] !== n) continue
      visit(`${jail}.${n}`, jail, c, `${node.root}${DATA_MOUNTPOINT}/jails/${n}/root`, `${node.root}${confFile(n)}`)
    }
  }
  for (const top of managedJails(w)) {
    const row = jailRow(w, top)
    if (row) visit(top, null, row, jailRoot(w.layout, top), confFile(top))
  }
  return out
}

export const findNode = (nodes: readonly TreeNode[], jail: string): TreeNode | undefined => nodes.find((n) => n.jail === jail)

/** A jail and everything below it, parents first. */
export const subtreeOf = (nodes: readonly TreeNode[], jail: string): TreeNode[] => nodes.filter((n) => n.jail === jail || n.jail.startsWith(`${jail}.`))

/** The last component (what the parent's nest calls it) and the parent's dotted name. */
export function splitJail(jail: string): {parent: string | null; name: string} {
  const dot = jail.lastIndexOf('.')
  return dot < 0 ? {parent: null, name: jail} : {parent: jail.slice(0, dot), name: jail.slice(dot + 1)}
}
