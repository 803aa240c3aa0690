// A create below a parent, as data: what the host does before and after the nest inside the
// parent creates the child (its release, its delegated dataset, Node.js, zfs jail), each step
// with its undo, so that a failure anywhere rolls back in reverse.
import type {JailPath} from '../domain/names.js'
import {DATA_MOUNTPOINT, DIR_LAYOUT, NEST_STATE, releasePath, releaseSnapshot} from '../model/layout.js'
import {delegatedContainer, delegatedDataset, type TreeNode, type World} from '../model/tree.js'
import type {Policy} from '../policies/policy.js'
import {isParentPolicy, nodeStep} from './jail.js'
import {type Action, destroyDs, type Step} from './steps.js'
import {attachStep, mountOwnStep} from './tree.js'

/** What the child's create asks for that the parent's nest is told. */
export interface NestedCreateOptions {
  ip4: string[]
  ip6: string[]
  vnet: boolean
  bridge?: string
  ifname?: string
  routers: string[]
  mac?: string
  thick: boolean
  start: boolean
}

/** What a parent with no delegated dataset has already: its /nest, the release (a parent with one: zfs tells). */
export interface DirParent {
  nest: boolean
  release: boolean
}

/** Where a parent with no delegated dataset keeps the release its nest copies roots from. */
export const dirReleasePath = (p: Pick<TreeNode, 'root'>, release: string): string => `${p.root}${DIR_LAYOUT.mountpoint}/releases/${release}`

/** `within`: the root of p's outermost ancestor (model/tree.ts guardOf): the host writes into p's root below it. */
export function planNestedCreate(w: Pick<World, 'layout' | 'datasets'>, p: TreeNode, jp: JailPath, child: string, policy: Policy, policyText: string, release: string, o: NestedCreateOptions, parentHas: DirParent, within: string): Step[] {
  const l = w.layout
  const has = (ds: string): boolean => w.datasets.some((d) => d.name === ds)
  const steps: Step[] = []
  const deleg = delegatedDataset(l, jp.jail)
  if (policy.delegate) {
    const container = delegatedContainer(l, jp.jail)
    if (!has(container)) steps.push({id: 'zfs create', why: 'where the datasets delegated to jails below the top level live', action: {kind: 'run', argv: ['zfs', 'create', '-o', 'canmount=off', container]}, undo: [destroyDs(container)]})
    steps.push({
      id: 'zfs create data', why: `the dataset delegated to ${jp.path} (jailed=on; only the host can attach it: zfs jail)`,
      // nest:name says whose it is; nest:state=creating until the host's last step, so that a crash between leaves what the next create recognizes.
      action: {kind: 'run', argv: ['zfs', 'create', '-o', 'jailed=on', '-o', `mountpoint=${DATA_MOUNTPOINT}`, '-o', `nest:name=${jp.jail}`, '-o', `${NEST_STATE}=creating`, deleg]}, undo: [destroyDs(deleg)],
    })
  }
  const rel = `${p.delegated}/releases/${release}`
  if (!p.delegated && !parentHas.release) {
    const to = dirReleasePath(p, release)
    const top = `${p.root}${DIR_LAYOUT.mountpoint}`
    steps.push(
      // A rollback of the first child takes the directory away again (the inner nest has removed its child by then).
      {id: 'mkdir', why: `where ${p.path}'s nest keeps releases and children (it has no delegated dataset)`, action: {kind: 'mkdir', path: `${top}/releases`, within}, undo: parentHas.nest ? [] : [{kind: 'remove-tree', path: top, within}]},
      {id: 'copy release', why: `${release} where ${p.path}'s nest copies its children's roots from (no dataset to clone into)`, action: {kind: 'copy', from: releasePath(l, release), to, within}, undo: [{kind: 'remove-tree', path: to, within}], onFailure: [{kind: 'remove-tree', path: to, within}]},
    )
  } else if (p.delegated && !has(`${rel}@base`)) {
    if (!has(`${p.delegated}/releases`)) steps.push({id: 'zfs create releases', why: `releases inside ${p.path}'s dataset`, action: {kind: 'run', argv: ['zfs', 'create', `${p.delegated}/releases`]}, undo: [destroyDs(`${p.delegated}/releases`)]})
    if (!has(rel)) steps.push({id: 'zfs clone release', why: `${release} where ${p.path} can clone it (its dataset cannot see the host's)`, action: {kind: 'run', argv: ['zfs', 'clone', releaseSnapshot(l, release), rel]}, undo: [destroyDs(rel)]})
    steps.push({id: 'zfs snapshot release', why: `the snapshot ${p.path}'s nest clones roots from`, action: {kind: 'run', argv: ['zfs', 'snapshot', `${rel}@base`]}, undo: [{kind: 'run', argv: ['zfs', 'destroy', `${rel}@base`]}]})
  }
  const argv = ['create', child, '--policy', policy.name, '--policy-text', policyText, '--release', release,
    ...(o.ip4.length > 0 ? ['--ip4', o.ip4.join(',')] : []), ...(o.ip6.length > 0 ? ['--ip6', o.ip6.join(',')] : []),
    ...(o.vnet ? ['--vnet'] : []), ...(o.bridge === undefined ? [] : ['--bridge', o.bridge]), ...(o.ifname === undefined ? [] : ['--ifname', o.ifname]),
    ...(o.routers.length > 0 ? ['--defaultrouter', o.routers.join(',')] : []), ...(o.mac === undefined ? [] : ['--mac', o.mac]), ...(o.thick ? ['--thick'] : []), ...(o.start ? [] : ['--no-start'])]
  // The child goes (stopped first, inside the parent) before the host-side datasets it lives in
  // and the release snapshot its root is a clone of: zfs refuses a snapshot with dependent clones.
  const removeChild: Action = {kind: 'nest', in: p.jail, argv: ['destroy', child, '--force', '--if-exists'], as: jp.path}
  // The parent's first child makes where its children live (`<its dataset>/jails`): a rollback takes it away again.
  const jails = p.delegated ? `${p.delegated}/jails` : null
  // (The inner nest's own rollback may have taken it already: no error then.)
  const undo: Action[] = [removeChild, ...(jails !== null && !has(jails) ? [{kind: 'run', argv: ['zfs', 'destroy', '-r', jails], allowFailure: true} satisfies Action] : [])]
  steps.push({
    id: 'nest create', why: `${p.path}'s nest creates ${child} with ${p.path}'s own jail(8), in its own /etc/jail.conf.d`,
    // Its own failure is undone by the inner nest; whatever that rollback left, this takes away.
    action: {kind: 'nest', in: p.jail, argv, as: jp.path}, undo, onFailure: undo,
  })
  // From inside the running child (pkg -j): a child created with --no-start gets it at its first start.
  if (isParentPolicy(policy) && o.start) steps.push(nodeStep(jp.jail))
  if (policy.delegate && o.start) steps.push(attachStep(jp.jail, deleg), mountOwnStep(jp.jail, deleg))
  if (policy.delegate) steps.push({id: 'mark ready', why: `the host's part of ${jp.path} is done: ${NEST_STATE}=ready on its delegated dataset`, action: {kind: 'run', argv: ['zfs', 'set', `${NEST_STATE}=ready`, deleg]}, undo: []})
  return steps
}
