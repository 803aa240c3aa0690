// Plans are data: compared directly. The jail.conf nest writes parses back (with the grammar
// jail(8) uses) to exactly the parameters intended, whatever the input.
import {describe, expect, it} from 'vitest'

import {mountForest, unmountOrder} from '../../src/plan/mounts.js'
import type {MountRecord} from '../../src/host/parse.js'
import {paramValues, parseConfig, resolveConfig} from '../../src/jailconf/index.js'
import {confMountPoints, type JailSpec, planCreate, renderJailConf} from '../../src/plan/jail.js'
import {describeAction} from '../../src/plan/steps.js'
import type {Policy} from '../../src/policies/policy.js'

const layout = {top: 'zroot/nest', mountpoint: '/nest'}
const policy: Policy = {name: 'parent', file: 'p', origin: 'preset', description: 'd', delegate: true, raiseSecurelevel: null, params: {'children.max': '16', enforce_statfs: '1', 'allow.mount': true, 'allow.mount.zfs': true, 'allow.mount.procfs': false}}
const spec: JailSpec = {jail: 'web', release: '14.3-RELEASE', policy, net: null, thick: false, nestBin: '/usr/local/bin/nest', hostSide: true, nestInstall: '/usr/local/libexec/nest'}

describe('create plan', () => {
  it('writes the configuration, makes the datasets, starts; each step with its undo', () => {
    const steps = planCreate(layout, spec, 'conf', true)
    expect(steps.map((s) => [s.id, describeAction(s.action), s.undo.map(describeAction)])).toEqual([
      ['write jail.conf', 'write /etc/jail.conf.d/web.conf', ['remove /etc/jail.conf.d/web.conf']],
      ['zfs create', 'zfs create -o nest:name=web -o nest:policy=parent -o nest:release=14.3-RELEASE -o nest:delegate=on -o nest:version=1 -o nest:state=creating zroot/nest/jails/web', ['zfs destroy -r zroot/nest/jails/web']],
      // Host users never enter the jail's tree (NEST-F01); its root below stays 0755.
      ['chmod 0700', 'chmod 0700 /nest/jails/web', []],
      ['zfs clone', 'zfs clone zroot/nest/releases/14.3-RELEASE@base zroot/nest/jails/web/root', ['zfs destroy -r zroot/nest/jails/web/root']],
      ['mkdir nest', 'mkdir /nest/jails/web/root/usr/local/libexec/nest', []],
      ['write nest', 'write /nest/jails/web/root/usr/local/bin/nest', []],
      ['zfs create data', 'zfs create -o jailed=on -o mountpoint=/data zroot/nest/jails/web/data', ['zfs destroy -r zroot/nest/jails/web/data']],
      ['jail -c', 'jail -f /etc/jail.conf.d/web.conf -i -c web', ['NEST_CLEANUP_FOLLOWS=1 jail -f /etc/jail.conf.d/web.conf -r web', 'nest cleanup web (unmount everything below /nest/jails/web/root, deepest first)']],
      // From inside the running jail (pkg -j): pkg -r would follow the links in a root its root user controls.
      ['pkg install node', 'pkg -j web install -y node', []],
      // Set last: until then a crash leaves web marked creating, which the next create undoes.
      ['mark ready', 'zfs set nest:state=ready zroot/nest/jails/web', []],
    ])
    // The files below the jail's root say so (within), and are neither followed nor trusted there.
    expect(steps.filter((s) => s.id === 'mkdir nest' || s.id === 'write nest').map((s) => (s.action as {within?: string}).within)).toEqual(['/nest/jails/web/root', '/nest/jails/web/root'])
    expect(steps.find((s) => s.id === 'write jail.conf')?.action).not.toHaveProperty('within')
    expect(planCreate(layout, {...spec, policy: {...policy, delegate: false}, nestInstall: null}, 'conf', false).map((s) => s.id)).toEqual(['write jail.conf', 'zfs create', 'chmod 0700', 'zfs clone', 'mark ready'])
    // Inside a parent (a child manager): no delegated dataset of its own making, no pkg from here.
    // Its first child makes <top>/jails as a step of its own (not zfs create -p), which a rollback undoes.
    expect(planCreate(layout, {...spec, hostSide: false}, 'conf', false, {jailsDataset: false}).map((s) => [s.id, describeAction(s.action)])).toEqual([
      ['write jail.conf', 'write /etc/jail.conf.d/web.conf'],
      ['zfs create jails', 'zfs create zroot/nest/jails'],
      ['zfs create', 'zfs create -o nest:name=web -o nest:policy=parent -o nest:release=14.3-RELEASE -o nest:delegate=on -o nest:version=1 -o nest:state=creating zroot/nest/jails/web'],
      ['zfs clone', 'zfs clone zroot/nest/releases/14.3-RELEASE@base zroot/nest/jails/web/root'],
      ['mkdir nest', 'mkdir /nest/jails/web/root/usr/local/libexec/nest'],
      ['write nest', 'write /nest/jails/web/root/usr/local/bin/nest'],
      ['mark ready', 'zfs set nest:state=ready zroot/nest/jails/web'],
    ])
  })

})

describe('jail.conf', () => {
  it('parses back to the policy, the hooks and the path', () => {
    const text = renderJailConf(layout, {...spec, net: {kind: 'alias', ip4: ['192.0.2.1', '192.0.2.2'], ip6: []}})._unsafeUnwrap()
    const [web] = resolveConfig(parseConfig(text, 'web.conf')._unsafeUnwrap())
    const v = (n: string) => paramValues(web!, n)
    expect(web?.name).toBe('web')
    expect(v('path')).toEqual(['/nest/jails/web/root'])
    expect(v('children.max')).toEqual(['16'])
    expect(v('allow.mount.noprocfs')).toEqual([])
    expect(v('ip4.addr')).toEqual(['192.0.2.1', '192.0.2.2'])
    expect(v('exec.created')).toEqual(['/sbin/zfs jail web zroot/nest/jails/web/data'])
    expect(v('exec.start')).toEqual(['/sbin/zfs mount zroot/nest/jails/web/data', '/bin/sh /etc/rc'])
    // When nest runs jail -r itself, the hooks are a shell test: no nest process starts.
    expect(v('exec.release')).toEqual(['test "$NEST_CLEANUP_FOLLOWS" = 1 || /usr/local/bin/nest cleanup web'])
    expect(v('exec.prestop')).toEqual(['test "$NEST_CLEANUP_FOLLOWS" = 1 || /usr/local/bin/nest stop web --children-only'])
  })

  it('says which mount points jail(8) unmounts itself (the rest are leftovers nest unmounts)', () => {
    const text = renderJailConf(layout, spec)._unsafeUnwrap()
    expect(confMountPoints(text, 'web', '/nest/jails/web/root')).toEqual(['/nest/jails/web/root/usr/local/libexec/nest', '/nest/jails/web/root/dev'])
    expect(confMountPoints(renderJailConf(layout, {...spec, nestInstall: null})._unsafeUnwrap(), 'web', '/nest/jails/web/root')).toEqual(['/nest/jails/web/root/dev'])
    expect(confMountPoints('web {', 'web', '/r')).toEqual([])
  })

  it('keeps a hostile value a value: no parameter or command can be injected', () => {
    const evil = '"; exec.start = "/bin/rm -rf /"; x = "$(reboot)\n}'
    const text = renderJailConf(layout, {...spec, nestBin: evil})._unsafeUnwrap()
    const [web] = resolveConfig(parseConfig(text, 'web.conf')._unsafeUnwrap())
    expect(paramValues(web!, 'exec.release')).toEqual([`test "$NEST_CLEANUP_FOLLOWS" = 1 || ${evil} cleanup web`])
    expect(paramValues(web!, 'exec.start')).toEqual(['/sbin/zfs mount zroot/nest/jails/web/data', '/bin/sh /etc/rc'])
  })
})

describe('cleanup order', () => {
  const m = (on: string, type = 'nullfs'): MountRecord => ({from: 'x', on, type, opts: []})
  it('unmounts deepest first, stacked mounts top first, and never the root or a sibling prefix', () => {
    const mounts = [m('/nest/jails/web/root', 'zfs'), m('/nest/jails/web/root/dev', 'devfs'), m('/nest/jails/web/root/data', 'zfs'), m('/nest/jails/web/root/data/a'),
      m('/nest/jails/web/root/data/a/b', 'tmpfs'), m('/nest/jails/web/root/tmp', 'tmpfs'), m('/nest/jails/web/root/tmp', 'nullfs'), m('/nest/jails/web2/root/dev', 'devfs')]
    const order = unmountOrder(mountForest(mounts, '/nest/jails/web/root')).map((x) => `${x.type}:${x.on.slice('/nest/jails/web/root'.length)}`)
    expect(order).toEqual(['devfs:/dev', 'tmpfs:/data/a/b', 'nullfs:/data/a', 'zfs:/data', 'nullfs:/tmp', 'tmpfs:/tmp'])
  })
})
