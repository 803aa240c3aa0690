// Tree plans are values: the planner gets this nest's view (datasets, jails, mounts) and gives
// the ordered groups that --dry-run prints and the engine runs. Compared directly.
import {describe, expect, it} from 'vitest'

import type {JailRecord, MountRecord} from '../../src/host/parse.js'
import type {DatasetRow} from '../../src/host/tools/zfs.js'
import {treeOf, type World} from '../../src/model/tree.js'
import {describeAction} from '../../src/plan/steps.js'
import {type ChildWorld, planDestroyTree, planRestartTree, planStartTree, planStopTree, planSteps, type PlanView, type TreePlan} from '../../src/plan/tree.js'

const W = '/nest/jails/web/root'
const DB = `${W}/data/jails/db/root`
const row = (name: string, o: Partial<DatasetRow> = {}): DatasetRow => ({
  name, type: 'filesystem', mountpoint: '-', mounted: 'yes', jailed: 'off', origin: '-',
  'nest:name': '-', 'nest:policy': '-', 'nest:release': '-', 'nest:delegate': '-', 'nest:version': '-', 'nest:state': '-', 'nest:net': '-', 'nest:conf': '-', 'nest:root': '-', ...o,
})
const meta = (name: string): Partial<DatasetRow> => ({'nest:name': name, 'nest:policy': 'parent', 'nest:release': '14.3-RELEASE', 'nest:delegate': 'on', 'nest:version': '1'})
const jail = (name: string, jid: number, path: string, parent = 0): JailRecord => ({jid, name, parent, path, params: {name, jid, path, 'children.max': 16, 'children.cur': 0, dying: false}})
const m = (on: string, type: string): MountRecord => ({from: 'x', on, type, opts: []})

function view(running: boolean): PlanView {
  const w: World = {
    layout: {top: 'zroot/nest', mountpoint: '/nest'},
    datasets: [
      row('zroot/nest/jails/web', meta('web')), row('zroot/nest/jails/web/root'), row('zroot/nest/jails/web/data', {jailed: 'on', mountpoint: '/data'}),
      row('zroot/nest/jails/web/data/jails/db', meta('db')), row('zroot/nest/jails/web/data/jails/db/root'),
      row('zroot/nest/jails/web/delegated', {mounted: 'no'}), row('zroot/nest/jails/web/delegated/db', {jailed: 'on', mountpoint: '/data', 'nest:name': 'web.db'}),
    ],
    jails: running ? [jail('web', 1, W), jail('web.db', 2, DB, 1)] : [],
    releases: ['14.3-RELEASE'],
    dirChildren: new Map(),
  }
  const mounts = running
    ? [m(W, 'zfs'), m(`${W}/dev`, 'devfs'), m(`${W}/usr/local/libexec/nest`, 'nullfs'), m(`${W}/data`, 'zfs'), m(DB, 'zfs'), m(`${DB}/dev`, 'devfs'), m(`${DB}/usr/local/libexec/nest`, 'nullfs'), m(`${DB}/data`, 'zfs')]
    : [m(W, 'zfs'), m(`${W}/data`, 'zfs')]
  const nodes = treeOf(w)
  return {w, nodes, mounts, needsNode: new Set(), confMounts: new Map([['web', [`${W}/usr/local/libexec/nest`, `${W}/dev`]]]), parallel: 4}
}

/** A plan as one line per step, with the jails each group acts on and what it waits for. */
const shape = (p: TreePlan): unknown => p.groups.map((g) => ({jails: g.jails, via: g.via, after: g.after, needs: g.needs, steps: [...g.each.flatMap((e) => e.steps), ...g.all].map((s) => describeAction(s.action))}))
const worldOf = (p: TreePlan, i: number): ChildWorld => {
  const a = p.groups[i]?.all.find((s) => s.action.kind === 'nest')?.action
  return JSON.parse(a?.kind === 'nest' ? (a.env?.['NEST_WORLD'] ?? 'null') : 'null') as ChildWorld
}

describe('tree plans', () => {
  it('stop: the child through its parent\'s nest (with its world), then the parent, then one umount of what is left, deepest first', () => {
    const v = view(true)
    const p = planStopTree(v, 'web', v.nodes, new Set(['web']))
    expect(shape(p)).toEqual([
      {jails: ['web.db'], via: 'web', after: [], needs: [], steps: ['NEST_WORLD=<' + JSON.stringify(worldOf(p, 0)).length + ' bytes of JSON> jexec web /usr/local/libexec/nest/bin/run.js stop db --no-children --parallel 4 --json']},
      {jails: ['web'], via: null, after: [0], needs: [], steps: ['NEST_CLEANUP_FOLLOWS=1 jail -f /etc/jail.conf.d/web.conf -r web', `umount ${DB} ${W}/data`]},
    ])
    // The nest inside web sees db by its own name, its root and mounts below web's root, and its own delegated dataset.
    const cw = worldOf(p, 0)
    expect(cw.layout).toEqual({top: 'zroot/nest/jails/web/data', mountpoint: '/data'})
    expect(cw.jails.map((j) => [j.name, j.jid, j.parent, j.path])).toEqual([['db', 2, 0, '/data/jails/db/root']])
    expect(cw.mounts.map((x) => x.on)).toEqual(['/', '/dev', '/usr/local/libexec/nest', '/data', '/data/jails/db/root', '/data/jails/db/root/dev', '/data/jails/db/root/usr/local/libexec/nest', '/data/jails/db/root/data'])
    expect(cw.datasets?.map((d) => d.name)).toEqual(['zroot/nest/jails/web/data', 'zroot/nest/jails/web/data/jails/db', 'zroot/nest/jails/web/data/jails/db/root'])
  })

  it('start: the parent, then its child through its nest, then the child\'s dataset attached and mounted', () => {
    const v = view(false)
    const p = planStartTree(v, 'web', v.nodes)
    expect(shape(p)).toEqual([
      {jails: ['web'], via: null, after: [], needs: [], steps: [`umount ${W}/data`, 'jail -f /etc/jail.conf.d/web.conf -c web']},
      {jails: ['web.db'], via: 'web', after: [0], needs: ['web'], steps: [expect.stringMatching(/^NEST_WORLD=<\d+ bytes of JSON> jexec web \/usr\/local\/libexec\/nest\/bin\/run.js start db --no-children --parallel 4 --json$/), 'zfs jail web.db zroot/nest/jails/web/delegated/db', 'jexec web.db zfs mount zroot/nest/jails/web/delegated/db']},
    ])
    // web was started by this plan: its nest is told nothing runs in it; its exec.start mounted
    // its own dataset, nothing below it is mounted yet.
    const cw = worldOf(p, 1)
    expect([cw.jails, cw.mounts, cw.datasets?.map((d) => d.mounted)]).toEqual([[], [], ['yes', 'no', 'no']])
  })

  it('start: Node.js, where missing, is installed from inside each jail once it runs (pkg -j), never into its root from outside', () => {
    const v = {...view(false), needsNode: new Set(['web', 'web.db'])}
    expect(shape(planStartTree(v, 'web', v.nodes))).toEqual([
      {jails: ['web'], via: null, after: [], needs: [], steps: [`umount ${W}/data`, 'jail -f /etc/jail.conf.d/web.conf -c web', 'pkg -j web install -y node']},
      {jails: ['web.db'], via: 'web', after: [0], needs: ['web'], steps: [expect.stringMatching(/ start db --no-children --parallel 4 --json$/), 'pkg -j web.db install -y node', 'zfs jail web.db zroot/nest/jails/web/delegated/db', 'jexec web.db zfs mount zroot/nest/jails/web/delegated/db']},
    ])
  })

  it('a child manager in a jail just started mounts its datasets in one zfs mount -a', () => {
    const top = 'zroot/nest/jails/web/delegated/db'
    const w: World = {
      layout: {top, mountpoint: '/data'},
      datasets: [row(top, {jailed: 'on', mountpoint: '/data', mounted: 'no'}), row(`${top}/jails/c`, {...meta('c'), mounted: 'no'}), row(`${top}/jails/c/root`, {mounted: 'no'})],
      jails: [], releases: [], dirChildren: new Map(),
    }
    const v: PlanView = {w, nodes: treeOf(w), mounts: [], needsNode: new Set(), confMounts: new Map(), parallel: 4, inJail: true}
    const p = planStartTree(v, 'c', v.nodes)
    expect(planSteps(p).map(({label, step}) => `${label}: ${describeAction(step.action)}`)).toEqual([
      'c: zfs mount -a',
      'c: jail -f /etc/jail.conf.d/c.conf -c c',
    ])
    // On the host a root is mounted by its name (zfs mount -a would mount datasets that are not nest's).
    expect(planSteps(planStartTree({...v, inJail: false}, 'c', v.nodes)).map(({step}) => describeAction(step.action))).toEqual([`zfs mount ${top}/jails/c/root`, 'jail -f /etc/jail.conf.d/c.conf -c c'])
    // Nothing to start: nothing mounted either.
    expect(planStartTree({...v, nodes: []}, 'c', []).before).toBeUndefined()
  })

  it('restart: every stop group, then the start groups after them', () => {
    const v = view(true)
    const p = planRestartTree(v, 'web', v.nodes, new Set(['web']))
    expect(p.groups.map((g) => [g.jails, g.after, g.needs])).toEqual([[['web.db'], [], []], [['web'], [0], []], [['web'], [0, 1], []], [['web.db'], [0, 1, 2], ['web']]])
    // Once stopped, nothing is left below web's root to unmount before it starts.
    expect(p.groups[2]?.each[0]?.steps.map((s) => s.id)).toEqual(['jail -c'])
  })

  it('destroy --force: the stop first, then the datasets and the configuration; the dry run lists every command', () => {
    const v = view(true)
    const p = planDestroyTree(v, v.nodes[0]!, v.nodes, {recursive: true})
    expect(planSteps(p).map(({label, step}) => `${label}: ${describeAction(step.action)}`).slice(1)).toEqual([
      'web: NEST_CLEANUP_FOLLOWS=1 jail -f /etc/jail.conf.d/web.conf -r web',
      `web: umount ${DB} ${W}/data`,
      'web: zfs destroy -r zroot/nest/jails/web',
      'web: remove /etc/jail.conf.d/web.conf',
    ])
    expect(p.groups.at(-1)?.needs).toEqual(['web'])
    // A child: its parent's nest removes it, then the host destroys what it delegated to it.
    const db = v.nodes[1]!
    const child = planDestroyTree(v, db, [db], {recursive: false})
    expect(shape(child)).toEqual([
      {jails: ['web.db'], via: 'web', after: [], needs: [], steps: [expect.stringMatching(/jexec web \/usr\/local\/libexec\/nest\/bin\/run.js stop db --no-children/)]},
      {jails: ['web.db'], via: 'web', after: [0], needs: ['web.db'], steps: ['jexec web /usr/local/libexec/nest/bin/run.js destroy db --json', 'zfs destroy -r zroot/nest/jails/web/delegated/db']},
    ])
  })

  it('a stopped jail: stop only unmounts its leftovers, with nothing to unmount no step at all', () => {
    const v = view(false)
    expect(shape(planStopTree(v, 'web', v.nodes.slice(0, 1), new Set(['web'])))).toEqual([{jails: ['web'], via: null, after: [], needs: [], steps: [`umount ${W}/data`]}])
    const clean = {...v, mounts: [m(W, 'zfs')]}
    expect(shape(planStopTree(clean, 'web', v.nodes.slice(0, 1), new Set(['web'])))).toEqual([{jails: ['web'], via: null, after: [], needs: [], steps: []}])
  })
})
