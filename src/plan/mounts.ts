// The mounts below a jail's root as a forest, and the order that unmounts them deepest first.
// Pure: the plans use it to say which umount nest will run, the engine to run it.
import type {MountRecord} from '../host/parse.js'
import {isBelow} from '../host/tools/mount.js'

export interface MountNode {
  m: MountRecord
  kids: MountNode[]
}

/**
 * The mounts below `root` as a forest: a mount's children are the mounts below it, and one
 * stacked on the same path after it (the later mount covers the earlier one).
 */
export function mountForest(mounts: readonly MountRecord[], root: string): MountNode[] {
  const below = mounts.filter((m) => isBelow(m.on, root))
  const nodes = below.map((m): MountNode => ({m, kids: []}))
  const roots: MountNode[] = []
  nodes.forEach((n, i) => {
    let parent: MountNode | undefined
    for (let j = 0; j < nodes.length; j++) {
      if (j === i) continue
      const c = nodes[j] as MountNode
      const covers = isBelow(n.m.on, c.m.on) || (n.m.on === c.m.on && j < i)
      if (!covers) continue
      // The nearest ancestor: the longest path, the latest on the same path.
      if (!parent || c.m.on.length > parent.m.on.length || (c.m.on === parent.m.on && nodes.indexOf(c) > nodes.indexOf(parent))) parent = c
    }
    if (parent) parent.kids.push(n)
    else roots.push(n)
  })
  return roots
}

/** Deepest first, as one sequence (what --dry-run prints and a single worker would do). */
export function unmountOrder(forest: readonly MountNode[]): MountRecord[] {
  const out: MountRecord[] = []
  const walk = (n: MountNode): void => {
    for (const k of [...n.kids].reverse()) walk(k)
    out.push(n.m)
  }
  for (const n of forest) walk(n)
  return out
}

