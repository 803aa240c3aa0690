// nest migrate vm's plan as data (src/plan/migrate.ts) and the parsers of what it reads
// (gpart show -p, zpool import): pure, no host.
import {describe, expect, it} from 'vitest'

import {parseGpartShow, parseZpoolImport} from '../../src/host/parse.js'
import {type GuestDataset, importStep, landing, migrateNames, mountSteps, planAttach, planMove, rctlSteps, sortGuest, type VmFacts} from '../../src/plan/migrate.js'
import {describeAction} from '../../src/plan/steps.js'

const L = {top: 'zroot/nest', mountpoint: '/nest'}
const N = migrateNames(L, 'fbsd1')
const VM: VmFacts = {
  name: 'fbsd1', dataset: 'zroot/vm/fbsd1', disks: [{index: 0, dataset: 'zroot/vm/fbsd1/disk0'}], files: [], running: true,
  vmList: {file: '/etc/rc.conf', value: 'fbsd1 other'}, volRecursive: '0', hasWorkTop: false,
}

describe('gpart show -p (lib/geom/part/geom_part.c gpart_show_geom)', () => {
  it('reads the real sample of an official VM image (migration.md §2.4), free space left out', () => {
    const text = [
      '=>      40  20971440  md0  GPT  (10G)',
      '        40      1024    md0p1  freebsd-boot  (512K)',
      '      1064     81920    md0p2  efi  (40M)',
      '     82984   2097152    md0p3  freebsd-swap  (1.0G)',
      '   2180136  16777216    md0p4  freebsd-zfs  (8.0G)',
      '  18957352   2014128       - free -  (983M)',
      '',
    ].join('\n')
    const g = parseGpartShow(text)._unsafeUnwrap()
    expect(g.geom).toBe('md0')
    expect(g.scheme).toBe('GPT')
    expect(g.parts.map((p) => [p.provider, p.type, p.start, p.sectors])).toEqual([
      ['md0p1', 'freebsd-boot', 40, 1024], ['md0p2', 'efi', 1064, 81920], ['md0p3', 'freebsd-swap', 82984, 2097152], ['md0p4', 'freebsd-zfs', 2180136, 16777216],
    ])
  })

  it('refuses what is not its output', () => {
    expect(parseGpartShow('gpart: No such geom: md9.\n').isErr()).toBe(true)
  })
})

describe('zpool import listing (cmd/zpool/zpool_main.c show_import)', () => {
  const v22 = [
    '   pool: zroot',
    '     id: 1478204918239012389',
    '  state: ONLINE',
    'status: The pool was last accessed by another system.',
    ' action: The pool can be imported using its name or numeric identifier and',
    "\tthe '-f' flag.",
    '   see: https://openzfs.github.io/openzfs-docs/msg/ZFS-8000-EY',
    ' config:',
    '',
    '\tzroot                                  ONLINE',
    '\t  zvol/zroot/nest/.migrate/web/disk0p4  ONLINE',
    '',
  ].join('\n')

  it('reads the 2.2 layout: name, numeric id, state, status and action with their continuation lines', () => {
    expect(parseZpoolImport(v22)._unsafeUnwrap()).toEqual([{
      name: 'zroot', id: '1478204918239012389', state: 'ONLINE', status: 'The pool was last accessed by another system.',
      action: "The pool can be imported using its name or numeric identifier and the '-f' flag.", unsupported: [], config: ['zroot ONLINE', 'zvol/zroot/nest/.migrate/web/disk0p4 ONLINE'],
    }])
  })

  it('reads the 2.3 layout (one space less) and several pools', () => {
    const v23 = v22.replaceAll('   pool:', '  pool:').replaceAll('     id:', '    id:').replaceAll('  state:', ' state:').replaceAll(' action:', 'action:').replaceAll(' config:', 'config:')
    const two = `${v23}\n${v23.replace('1478204918239012389', '99')}`
    expect(parseZpoolImport(two)._unsafeUnwrap().map((p) => p.id)).toEqual(['1478204918239012389', '99'])
  })

  it('lists the features of a pool newer than this system', () => {
    const text = [
      '   pool: zroot', '     id: 5', '  state: UNAVAIL',
      'status: The pool uses the following feature(s) not supported on this system:',
      '\tcom.klarasystems:vdev_zaps_v2 (Support for root vdev ZAP.)',
      'action: The pool cannot be imported. Access the pool on a system that supports',
      '\tthe required feature(s), or recreate the pool from backup.',
      ' config:', '',
    ].join('\n')
    expect(parseZpoolImport(text)._unsafeUnwrap()[0]?.unsupported).toEqual(['com.klarasystems:vdev_zaps_v2'])
  })
})

describe('the attach steps (migration.md §6.2 steps 1–5)', () => {
  it('record first, then stop, vm_list, one recursive snapshot, a volmode=geom clone per disk, zvol vdevs allowed', () => {
    const steps = planAttach(N, VM)
    expect(steps.map((s) => describeAction(s.action))).toEqual([
      'zfs create -o canmount=off zroot/nest/.migrate',
      'mkdir /var/run/nest/migrate/fbsd1',
      "zfs create -o canmount=off -o nest:vm=fbsd1 -o nest:vm-dataset=zroot/vm/fbsd1 -o nest:vm-running=yes -o 'nest:vm-list=/etc/rc.conf|fbsd1 other' -o nest:vol-recursive=0 zroot/nest/.migrate/fbsd1",
      'vm stop fbsd1',
      'wait until /dev/vmm/fbsd1 is gone (fbsd1 did not power off; at most 180 s)',
      'sysrc -f /etc/rc.conf vm_list=other',
      'zfs snapshot -r zroot/vm/fbsd1@nest-migrate',
      'zfs clone -o volmode=geom zroot/vm/fbsd1/disk0@nest-migrate zroot/nest/.migrate/fbsd1/disk0',
      'sysctl vfs.zfs.vol.recursive=1',
    ])
    // The VM-side steps are undone only on failure; the temporaries on success too.
    expect(steps.filter((s) => s.temporary).map((s) => s.id)).toEqual(['zfs create .migrate', 'mkdir run', 'zfs create work', 'zfs snapshot', 'zfs clone', 'sysctl'])
    expect(steps.find((s) => s.id === 'vm stop')?.undo.map(describeAction)).toEqual(['vm start fbsd1'])
    expect(steps.find((s) => s.id === 'vm_list')?.undo.map(describeAction)).toEqual(["sysrc -f /etc/rc.conf vm_list='fbsd1 other'"])
    expect(steps.find((s) => s.id === 'sysctl')?.undo.map(describeAction)).toEqual(['sysctl vfs.zfs.vol.recursive=0'])
  })

  it('a stopped guest out of vm_list with zvol vdevs already allowed: only the temporaries', () => {
    const steps = planAttach(N, {...VM, running: false, vmList: null, volRecursive: '1', hasWorkTop: true})
    expect(steps.map((s) => s.id)).toEqual(['mkdir run', 'zfs create work', 'zfs snapshot', 'zfs clone'])
    // A .migrate left by a migration that did not finish goes with the work dataset, if empty (not -r).
    expect(steps.find((s) => s.id === 'zfs create work')?.undo.map(describeAction)).toEqual(['zfs destroy -r zroot/nest/.migrate/fbsd1', 'zfs destroy zroot/nest/.migrate'])
  })

  it('the work dataset and .migrate are the record of what is left: kept when an undo before theirs fails', () => {
    const steps = planAttach(N, VM)
    expect(steps.filter((s) => s.record).map((s) => s.id)).toEqual(['zfs create .migrate', 'zfs create work'])
    expect(steps.find((s) => s.id === 'zfs create work')?.undo.map(describeAction)).toEqual(['zfs destroy -r zroot/nest/.migrate/fbsd1'])
  })

  it('imports by numeric id under the temporary name, below the altroot, nothing mounted, forced', () => {
    expect(describeAction(importStep(N, ['/dev/zvol/zroot/nest/.migrate/fbsd1/disk0p4'], '1478204918239012389', 'zroot').action))
      .toBe('zpool import -d /dev/zvol/zroot/nest/.migrate/fbsd1/disk0p4 -f -N -R /var/run/nest/migrate/fbsd1/altroot -t 1478204918239012389 nestmig_fbsd1')
  })
})

const ds = (name: string, mountpoint: string, canmount = 'on', type: GuestDataset['type'] = 'filesystem'): GuestDataset => ({name, type, mountpoint, canmount, used: 1000})
/** bsdinstall's layout (usr.sbin/bsdinstall/scripts/zfsboot ZFSBOOT_DATASETS) plus Bastille's tree, imported as nestmig_fbsd1. */
const POOL = [
  ds('nestmig_fbsd1', '/zroot'), ds('nestmig_fbsd1/ROOT', 'none', 'on'), ds('nestmig_fbsd1/ROOT/default', '/', 'noauto'), ds('nestmig_fbsd1/ROOT/old', '/', 'noauto'),
  ds('nestmig_fbsd1/home', '/home'), ds('nestmig_fbsd1/tmp', '/tmp'), ds('nestmig_fbsd1/usr', '/usr', 'off'), ds('nestmig_fbsd1/usr/ports', '/usr/ports'),
  ds('nestmig_fbsd1/var', '/var', 'off'), ds('nestmig_fbsd1/var/log', '/var/log'), ds('nestmig_fbsd1/srv', '/data/srv'),
  ds('nestmig_fbsd1/bastille', '/usr/local/bastille'), ds('nestmig_fbsd1/bastille/jails', '/usr/local/bastille/jails'), ds('nestmig_fbsd1/bastille/jails/web1/root', '/usr/local/bastille/jails/web1/root'),
  ds('nestmig_fbsd1/swap', '-', '-', 'volume'),
]

describe('sorting the guest pool (migration.md §3.1)', () => {
  const g = sortGuest('nestmig_fbsd1', POOL, 'nestmig_fbsd1/ROOT/default', '/usr/local/bastille')
  if (typeof g === 'string') throw new Error(g)

  it('the BE is the root, the other top-level trees go below it, Bastille\'s to the delegated dataset, the rest stays with a reason', () => {
    expect(g.root.name).toBe('nestmig_fbsd1/ROOT/default')
    expect(g.os.map((o) => o.rel)).toEqual(['home', 'tmp', 'usr', 'var', 'srv'])
    expect(g.data?.name).toBe('nestmig_fbsd1/bastille')
    expect(g.skipped).toEqual([
      {name: 'nestmig_fbsd1', why: 'the pool root dataset (a jail has one root: its boot environment)'},
      {name: 'nestmig_fbsd1/ROOT/old', why: 'another boot environment'},
      {name: 'nestmig_fbsd1/swap', why: 'a volume (the guest\'s swap or a raw disk): a jail has no block devices'},
    ])
  })

  it('receives each tree once (-R), sets the mountpoints inheritance gets wrong, and never receives below the jailed dataset before it is jailed', () => {
    const steps = planMove(L, N, g, POOL, {policy: 'vm-parent', release: '14.2-RELEASE', net: null, vm: 'fbsd1', undo: {}}, true)
    const lines = steps.map((s) => describeAction(s.action))
    expect(lines.filter((l) => l.includes('zfs recv'))).toEqual([
      'zfs send -R nestmig_fbsd1/ROOT/default@nest-migrate | zfs recv -u -o mountpoint=/nest/jails/fbsd1/root -o canmount=on zroot/nest/jails/fbsd1/root',
      'zfs send -R nestmig_fbsd1/home@nest-migrate | zfs recv -u -x mountpoint zroot/nest/jails/fbsd1/root/home',
      'zfs send -R nestmig_fbsd1/tmp@nest-migrate | zfs recv -u -x mountpoint zroot/nest/jails/fbsd1/root/tmp',
      'zfs send -R nestmig_fbsd1/usr@nest-migrate | zfs recv -u -x mountpoint zroot/nest/jails/fbsd1/root/usr',
      'zfs send -R nestmig_fbsd1/var@nest-migrate | zfs recv -u -x mountpoint zroot/nest/jails/fbsd1/root/var',
      'zfs send -R nestmig_fbsd1/srv@nest-migrate | zfs recv -u -x mountpoint zroot/nest/jails/fbsd1/root/srv',
      'zfs send -R nestmig_fbsd1/bastille@nest-migrate | zfs recv -u zroot/nest/jails/fbsd1/data/bastille',
    ])
    expect(lines).toContain('zfs set mountpoint=/nest/jails/fbsd1/root/data/srv zroot/nest/jails/fbsd1/root/srv')
    expect(lines.indexOf('zfs create -o jailed=on -o mountpoint=/data zroot/nest/jails/fbsd1/data')).toBeLessThan(lines.findIndex((l) => l.includes('data/bastille')))
    // One undo for the whole move: the jail's dataset, recursively.
    expect(steps.flatMap((s) => s.undo.map(describeAction))).toEqual(['zfs destroy -r zroot/nest/jails/fbsd1'])
  })

  it('a Bastille tree inside the OS tree is sent apart (-X), into the delegated dataset', () => {
    const inside = [ds('p', '/zroot'), ds('p/ROOT', 'none'), ds('p/ROOT/default', '/', 'noauto'), ds('p/usr', '/usr', 'off'), ds('p/usr/local', '/usr/local'), ds('p/usr/local/bastille', '/usr/local/bastille')]
    const g2 = sortGuest('p', inside, 'p/ROOT/default', '/usr/local/bastille')
    if (typeof g2 === 'string') throw new Error(g2)
    expect(g2.os).toEqual([{ds: inside[3], rel: 'usr', exclude: ['p/usr/local/bastille']}])
    expect(landing(L, 'fbsd1', g2, inside).map((x) => x.to)).toEqual(['zroot/nest/jails/fbsd1/root', 'zroot/nest/jails/fbsd1/root/usr', 'zroot/nest/jails/fbsd1/root/usr/local', 'zroot/nest/jails/fbsd1/data/bastille'])
  })

  it('mounts on the host what was mounted in the guest (the root first), never the delegated tree', () => {
    expect(mountSteps(L, 'fbsd1', g, POOL).map((s) => describeAction(s.action))).toEqual([
      'zfs mount zroot/nest/jails/fbsd1/root', 'zfs mount zroot/nest/jails/fbsd1/root/home', 'zfs mount zroot/nest/jails/fbsd1/root/tmp',
      'zfs mount zroot/nest/jails/fbsd1/root/usr/ports', 'zfs mount zroot/nest/jails/fbsd1/root/var/log', 'zfs mount zroot/nest/jails/fbsd1/root/srv',
    ])
  })

  it('a BE that is not in the pool is refused', () => {
    expect(sortGuest('nestmig_fbsd1', POOL, 'nestmig_fbsd1/ROOT/gone', null)).toBe('the boot environment nestmig_fbsd1/ROOT/gone (bootfs) is not a file system of the pool')
  })
})

describe('limits (migration.md §5)', () => {
  it('each rule added now and appended to /etc/rctl.conf; the undo removes the rule and restores the file', () => {
    const steps = rctlSteps(['jail:fbsd1:memoryuse:deny=2147483648'], 'jail:other:pcpu:deny=100')
    expect(steps.map((s) => describeAction(s.action))).toEqual(['rctl -a jail:fbsd1:memoryuse:deny=2147483648', 'write /etc/rctl.conf'])
    expect(steps[1]?.action).toMatchObject({content: 'jail:other:pcpu:deny=100\njail:fbsd1:memoryuse:deny=2147483648\n'})
    expect(steps.flatMap((s) => s.undo.map(describeAction))).toEqual(['rctl -r jail:fbsd1:memoryuse:deny=2147483648', 'write /etc/rctl.conf'])
    expect(rctlSteps(['jail:fbsd1:pcpu:deny=200'], null)[1]?.undo.map(describeAction)).toEqual(['remove /etc/rctl.conf'])
  })
})
