// The clone twin's plan on plain data (src/plan/twin.ts): the snapshot, the clones under
// `twin-ID-TOP` parents first with nest's properties, the twin's jail.conf (renamed, networking
// neutralised, nothing of the original left), and what a re-run recognises as a leftover.
import {describe, expect, it} from 'vitest'

import {DIR_LAYOUT, type Layout} from '../../src/model/layout.js'
import {neutraliseNet, planCloneTwin, twinLeftovers, twinRootConf, type TwinSource} from '../../src/plan/twin.js'

const L: Layout = {top: 'zroot/nest', mountpoint: '/nest'}
const J = 'zroot/nest/jails'
// The tree as `zfs get -s local` shows it (vm-parent p with p/a and p/b).
const SOURCES: TwinSource[] = [
  {name: `${J}/p`, props: {'nest:name': 'p', 'nest:policy': 'vm-parent', 'nest:state': 'ready', 'nest:version': '1'}},
  {name: `${J}/p/root`, props: {'sim:restored': 'yes'}},
  {name: `${J}/p/delegated/a`, props: {mountpoint: '/data', jailed: 'on', 'nest:name': 'p.a', 'nest:state': 'ready'}},
  {name: `${J}/p/data`, props: {mountpoint: '/data', jailed: 'on'}},
  {name: `${J}/p/delegated`, props: {canmount: 'off'}},
  {name: `${J}/p/data/jails/a`, props: {'nest:name': 'a'}},
  {name: `${J}/q`, props: {'nest:name': 'q'}},
  {name: `${J}/pp/root`, props: {}},
]

const P_CONF = `# Written by nest for p (policy vm-parent, release 14.3-RELEASE).
# nest reads it back; \`service jail start p\` uses it too.

p {
\tpath = "/nest/jails/p/root";
\thost.hostname = "p";
\tpersist;
\tmount.devfs;
\tip4 = "inherit";
\tip6 = "inherit";
\tchildren.max = "8";
\tallow.mount;
\tmount = "/usr/local/libexec/nest /nest/jails/p/root/usr/local/libexec/nest nullfs ro 0 0";
\texec.created = "/sbin/zfs jail p zroot/nest/jails/p/data";
\texec.start = "/sbin/zfs mount zroot/nest/jails/p/data";
\texec.start += "/bin/sh /etc/rc";
\texec.prestop = "test \\"\\$NEST_CLEANUP_FOLLOWS\\" = 1 || /usr/local/bin/nest stop p --children-only";
\texec.poststart = "/usr/sbin/jail -m name=p securelevel=1";
\texec.stop = "/bin/sh /etc/rc.shutdown";
\texec.release = "test \\"\\$NEST_CLEANUP_FOLLOWS\\" = 1 || /usr/local/bin/nest cleanup p";
}
`

describe('planCloneTwin', () => {
  it('snapshots the top recursively and clones every dataset below it, parents first, with nest\'s properties', () => {
    const plan = planCloneTwin(L, 'p', 'k3x', SOURCES)._unsafeUnwrap()
    expect([plan.twin, plan.dataset, plan.conf]).toEqual(['twin-k3x-p', `${J}/twin-k3x-p`, '/etc/jail.conf.d/twin-k3x-p.conf'])
    expect(plan.snapshotArgv).toEqual(['zfs', 'snapshot', '-r', `${J}/p@nest-twin-k3x`])
    expect(plan.clones.map((c) => c.argv.join(' '))).toEqual([
      `zfs clone -o nest:name=twin-k3x-p -o nest:policy=vm-parent -o nest:state=ready -o nest:version=1 -o nest:twin=p ${J}/p@nest-twin-k3x ${J}/twin-k3x-p`,
      `zfs clone -o jailed=on -o mountpoint=/data ${J}/p/data@nest-twin-k3x ${J}/twin-k3x-p/data`,
      `zfs clone -o canmount=off ${J}/p/delegated@nest-twin-k3x ${J}/twin-k3x-p/delegated`,
      `zfs clone ${J}/p/root@nest-twin-k3x ${J}/twin-k3x-p/root`,
      `zfs clone -o jailed=on -o mountpoint=/data -o nest:name=twin-k3x-p.a -o nest:state=ready ${J}/p/delegated/a@nest-twin-k3x ${J}/twin-k3x-p/delegated/a`,
      `zfs clone -o nest:name=a ${J}/p/data/jails/a@nest-twin-k3x ${J}/twin-k3x-p/data/jails/a`,
    ])
    expect(plan.destroy).toEqual([['zfs', 'destroy', '-r', `${J}/twin-k3x-p`], ['zfs', 'destroy', '-r', `${J}/p@nest-twin-k3x`]])
    // Nothing of it changes a production dataset: each production name is an origin snapshot, the snapshot made, or the snapshot destroyed.
    const all = [plan.snapshotArgv, ...plan.clones.map((c) => c.argv), ...plan.destroy].flat()
    expect(all.filter((w) => w.startsWith(`${J}/p`) && !w.includes('@nest-twin-k3x'))).toEqual([])
  })

  it('a mountpoint set below the top moves to the twin\'s; refuses a bad id, a name too long, a missing top', () => {
    const plan = planCloneTwin(L, 'p', 'a1', [{name: `${J}/p`, props: {mountpoint: '/nest/jails/p'}}, {name: `${J}/p/root`, props: {mountpoint: '/nest/jails/p/root'}}])._unsafeUnwrap()
    expect(plan.clones.map((c) => c.argv.slice(2, -2))).toEqual([['-o', 'mountpoint=/nest/jails/twin-a1-p', '-o', 'nest:twin=p'], ['-o', 'mountpoint=/nest/jails/twin-a1-p/root']])
    expect(planCloneTwin(L, 'p', 'A!', SOURCES)._unsafeUnwrapErr()).toBe('twin id "A!": lower-case letters and digits only')
    expect(planCloneTwin(L, 'x'.repeat(60), 'a1', [{name: `${J}/${'x'.repeat(60)}`, props: {}}])._unsafeUnwrapErr()).toMatch(/^x{60}: no twin name can be made from it \(twin-a1-x{60}\)/)
    expect(planCloneTwin(L, 'r', 'a1', SOURCES)._unsafeUnwrapErr()).toBe(`${J}/r: not among the datasets read: nothing to clone`)
    expect(DIR_LAYOUT.dir).toBe(true)
  })
})

describe('twinRootConf', () => {
  it('renames the block, paths, datasets and hooks to the twin, and neutralises networking', () => {
    const t = twinRootConf(L, 'p', 'twin-k3x-p', P_CONF)._unsafeUnwrap()
    expect(t).toBe(`# Written by nest for twin-k3x-p (policy vm-parent, release 14.3-RELEASE).
# nest reads it back; \`service jail start p\` uses it too.

twin-k3x-p {
\tpath = "/nest/jails/twin-k3x-p/root";
\thost.hostname = "twin-k3x-p";
\tpersist;
\tmount.devfs;
\tip4 = "disable";
\tip6 = "disable";
\tchildren.max = "8";
\tallow.mount;
\tmount = "/usr/local/libexec/nest /nest/jails/twin-k3x-p/root/usr/local/libexec/nest nullfs ro 0 0";
\texec.created = "/sbin/zfs jail twin-k3x-p zroot/nest/jails/twin-k3x-p/data";
\texec.start = "/sbin/zfs mount zroot/nest/jails/twin-k3x-p/data";
\texec.start += "/bin/sh /etc/rc";
\texec.prestop = "test \\"\\$NEST_CLEANUP_FOLLOWS\\" = 1 || /usr/local/bin/nest stop twin-k3x-p --children-only";
\texec.poststart = "/usr/sbin/jail -m name=twin-k3x-p securelevel=1";
\texec.stop = "/bin/sh /etc/rc.shutdown";
\texec.release = "test \\"\\$NEST_CLEANUP_FOLLOWS\\" = 1 || /usr/local/bin/nest cleanup twin-k3x-p";
}
`)
  })

  it('a name it cannot rename is refused: the twin would act on the original', () => {
    const bad = P_CONF.replace(/\}\n$/, '\texec.start += "/usr/local/bin/hook p";\n}\n')
    expect(twinRootConf(L, 'p', 'twin-k3x-p', bad)._unsafeUnwrapErr()).toBe('p: its jail.conf names it where the twin cannot rename it: exec.start += "/usr/local/bin/hook p";')
  })

  it('a top named like a path word (nest, root, data) renames only what names the jail', () => {
    const conf = P_CONF.replaceAll('for p ', 'for data ').replace(/^p \{/m, 'data {').replaceAll('/jails/p/', '/jails/data/').replaceAll('"p"', '"data"').replaceAll(' p ', ' data ').replaceAll('name=p ', 'name=data ').replaceAll('cleanup p"', 'cleanup data"')
    const t = twinRootConf(L, 'data', 'twin-a1-data', conf)._unsafeUnwrap()
    expect(t).toContain('\texec.created = "/sbin/zfs jail twin-a1-data zroot/nest/jails/twin-a1-data/data";\n')
    expect(t).toContain('\texec.start = "/sbin/zfs mount zroot/nest/jails/twin-a1-data/data";\n')
  })
})

describe('neutraliseNet', () => {
  it('drops vnet, its interface and the epair hooks; a list that lost its first value starts with the next', () => {
    const vnet = 'v {\n\tpath = "/x";\n\tvnet = "new";\n\tvnet.interface = "epair3b";\n\texec.prestart = "/sbin/ifconfig epair3 create up";\n\texec.prestart += "/usr/bin/true";\n\texec.poststop = "/sbin/ifconfig epair3a destroy";\n\texec.start = "/bin/sh /etc/rc";\n}\n'
    expect(neutraliseNet(vnet)).toBe('v {\n\tpath = "/x";\n\tip4 = "disable";\n\tip6 = "disable";\n\texec.prestart = "/usr/bin/true";\n\texec.start = "/bin/sh /etc/rc";\n}\n')
    expect(neutraliseNet('a {\n\tpath = "/a";\n\tip4.addr = "10.0.0.2";\n\tip4 = "new";\n}\n')).toBe('a {\n\tpath = "/a";\n\tip4 = "disable";\n\tip6 = "disable";\n}\n')
  })
})

describe('twinLeftovers', () => {
  it('knows a crashed twin by its names and nest:twin, never a user\'s jail named twin-…', () => {
    const datasets: TwinSource[] = [
      {name: `${J}/twin-k3x-p`, props: {'nest:twin': 'p', 'nest:name': 'twin-k3x-p'}},
      {name: `${J}/twin-k3x-p/root`, props: {}},
      {name: `${J}/twin-u1-p`, props: {'nest:name': 'twin-u1-p'}},
      {name: `${J}/twin-z9-q`, props: {'nest:twin': 'q'}},
    ]
    const snaps = [`${J}/p@nest-twin-k3x`, `${J}/p/root@nest-twin-k3x`, `${J}/p/data@nest-twin-old`, `${J}/p@base`, `${J}/pp@nest-twin-k3x`]
    const confs = ['/etc/jail.conf.d/twin-k3x-p.conf', '/etc/jail.conf.d/twin-u1-p.conf', '/etc/jail.conf.d/twin-gone-p.conf', '/etc/jail.conf.d/p.conf']
    expect(twinLeftovers(L, 'p', datasets, snaps, confs, ['p', 'p.a', 'twin-k3x-p', 'twin-k3x-p.a', 'twin-u1-p'])).toEqual({
      jails: ['twin-k3x-p', 'twin-k3x-p.a'],
      destroy: [['zfs', 'destroy', '-r', `${J}/twin-k3x-p`], ['zfs', 'destroy', '-r', `${J}/p@nest-twin-k3x`], ['zfs', 'destroy', '-r', `${J}/p@nest-twin-old`]],
      remove: ['/etc/jail.conf.d/twin-k3x-p.conf', '/etc/jail.conf.d/twin-gone-p.conf'],
    })
  })
})
