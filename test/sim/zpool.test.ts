// zpool import/export of guest pools (OpenZFS 2.2.7 zpool_main.c / libzfs_pool.c texts), and the
// migration's steps 3–9 and 15 (migration.md §6.2) run by hand on a guest put on the host with
// `nest sim vm add --disk`: they must leave the host, and the VM's own disk, as they were.
import {readFileSync} from 'node:fs'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import type {Kernel} from '../../src/sim/kernel/state.js'
import {saveKernel} from '../../src/sim/store.js'
import {makeSim, type TestSim} from '../helpers/sim.js'

let sim: TestSim
beforeEach(async () => {
  sim = await makeSim()
})
afterEach(() => sim.cleanup())

const CLONE = 'zroot/nest/.migrate/fbsd1/disk0'
const DEV = `/dev/zvol/${CLONE}p4`
const ALT = '/var/run/nest/migrate/fbsd1/altroot'
const ID = '1478204918239012389'

async function ok(tool: string, ...args: string[]): Promise<string> {
  const r = await sim.run(tool, ...args)
  expect({tool, args, code: r.code, stderr: r.stderr}).toEqual({tool, args, code: 0, stderr: ''})
  return r.stdout
}

/** Steps 3–5: the guest, its recursive snapshot, a geom clone of its disk, zvol vdevs allowed. */
async function attach(name = 'fbsd1', fixture = 'zfs-bastille'): Promise<void> {
  expect((await sim.nest('sim', 'vm', 'add', name, '--disk', fixture)).code).toBe(0)
  await ok('zfs', 'snapshot', '-r', `zroot/vm/${name}@nest-migrate`)
  await ok('zfs', 'create', '-p', '-o', 'canmount=off', `zroot/nest/.migrate/${name}`)
  await ok('zfs', 'clone', '-o', 'volmode=geom', `zroot/vm/${name}/disk0@nest-migrate`, `zroot/nest/.migrate/${name}/disk0`)
  await ok('sysctl', 'vfs.zfs.vol.recursive=1')
}

const LISTING = `   pool: zroot
     id: ${ID}
  state: ONLINE
status: The pool was last accessed by another system.
 action: The pool can be imported using its name or numeric identifier and
\tthe '-f' flag.
   see: https://openzfs.github.io/openzfs-docs/msg/ZFS-8000-EY
 config:

\tzroot                                     ONLINE
\t  zvol/zroot/nest/.migrate/fbsd1/disk0p4  ONLINE
`

/** What a host looks like from outside: the state a migration must leave as it found it. */
function hostState(k: Kernel) {
  return {
    datasets: k.datasets.map((d) => d.name).sort(),
    mounts: k.mounts.map((m) => `${m.fstype} ${m.from} ${m.on}`),
    pools: k.pools,
    sysctl: {'vfs.zfs.vol.recursive': 0, ...k.sysctl},
    mds: k.mds,
  }
}

describe('the migration sequence by hand (migration.md §6.2 steps 3–9, 15)', () => {
  it('snapshot, geom clone, sysctl, gpart, listing, import -f -N -R -t, mount -o ro, snapshot -r, export, cleanup: the host and the VM disk as before', async () => {
    expect((await sim.nest('sim', 'vm', 'add', 'fbsd1', '--disk', 'zfs-bastille', '--running')).code).toBe(0)
    const before = sim.kernel()
    const vmDisk = before.datasets.find((d) => d.name === 'zroot/vm/fbsd1/disk0')?.disk as string
    const diskBefore = before.disks.find((d) => d.id === vmDisk)
    // Step 3: the VM's zvol, volmode=dev: a device, no GEOM provider, so no partitions.
    expect(await ok('zfs', 'get', '-H', '-o', 'value', 'volmode,volsize,refreservation', 'zroot/vm/fbsd1/disk0')).toBe('dev\n20G\nnone\n')
    expect(await sim.run('gpart', 'show', 'zvol/zroot/vm/fbsd1/disk0')).toEqual({code: 1, stdout: '', stderr: 'gpart: No such geom: zvol/zroot/vm/fbsd1/disk0.\n'})
    await ok('zfs', 'snapshot', '-r', 'zroot/vm/fbsd1@nest-migrate')
    expect(await ok('zfs', 'list', '-H', '-o', 'name', '-t', 'snapshot', '-r', 'zroot/vm/fbsd1')).toBe('zroot/vm/fbsd1/disk0@nest-migrate\nzroot/vm/fbsd1@nest-migrate\n')
    // Step 4: a clone of a volume snapshot is a volume; with volmode=geom its partitions appear.
    await ok('zfs', 'create', '-p', '-o', 'canmount=off', 'zroot/nest/.migrate/fbsd1')
    await ok('zfs', 'clone', '-o', 'volmode=geom', 'zroot/vm/fbsd1/disk0@nest-migrate', CLONE)
    expect(await ok('zfs', 'get', '-H', '-o', 'value', 'type,origin,volmode', CLONE)).toBe('volume\nzroot/vm/fbsd1/disk0@nest-migrate\ngeom\n')
    // Step 5.
    expect(await ok('sysctl', '-n', 'vfs.zfs.vol.recursive')).toBe('0\n')
    expect(await ok('sysctl', 'vfs.zfs.vol.recursive=1')).toBe('vfs.zfs.vol.recursive: 0 -> 1\n')
    // Step 6.
    expect(await ok('gpart', 'show', '-p', `zvol/${CLONE}`)).toBe([
      '=>      40  41942960    zvol/zroot/nest/.migrate/fbsd1/disk0  GPT  (20G)',
      '        40    532480  zvol/zroot/nest/.migrate/fbsd1/disk0p1  efi  (260M)',
      '    532520      1024  zvol/zroot/nest/.migrate/fbsd1/disk0p2  freebsd-boot  (512K)',
      '    533544       984                                          - free -  (492K)',
      '    534528   4194304  zvol/zroot/nest/.migrate/fbsd1/disk0p3  freebsd-swap  (2.0G)',
      '   4728832  37212160  zvol/zroot/nest/.migrate/fbsd1/disk0p4  freebsd-zfs  (18G)',
      '  41940992      2008                                          - free -  (1.0M)',
      '', '',
    ].join('\n'))
    expect(await ok('zpool', 'import', '-d', DEV)).toBe(LISTING)
    // Step 7.
    expect(await ok('zpool', 'import', '-d', DEV, '-f', '-N', '-R', ALT, '-t', ID, 'nestmig_fbsd1')).toBe('')
    expect(sim.kernel().mounts.filter((m) => m.on.startsWith(ALT))).toEqual([])
    expect(await ok('zpool', 'get', '-H', '-o', 'value', 'bootfs,altroot,cachefile,readonly', 'nestmig_fbsd1')).toBe(`nestmig_fbsd1/ROOT/default\n${ALT}\nnone\noff\n`)
    expect(await ok('zpool', 'list', '-H', '-o', 'name,guid')).toBe(`zroot\t15402873648923485011\nnestmig_fbsd1\t${ID}\n`)
    expect(await ok('zfs', 'get', '-H', '-o', 'value', 'mountpoint', 'nestmig_fbsd1/home', 'nestmig_fbsd1/ROOT/default', 'nestmig_fbsd1/bastille')).toBe(`${ALT}/home\n${ALT}\n${ALT}/usr/local/bastille\n`)
    // Step 8: read the guest's userland read-only, under the altroot.
    await ok('zfs', 'mount', '-o', 'ro', 'nestmig_fbsd1/ROOT/default')
    expect(sim.kernel().mounts.find((m) => m.dataset === 'nestmig_fbsd1/ROOT/default')).toMatchObject({on: ALT, opts: ['ro', 'noatime', 'nfsv4acls']})
    expect(readFileSync(sim.fs(`${ALT}/bin/freebsd-version`), 'utf8')).toContain('USERLAND_VERSION="14.2-RELEASE-p1"\n')
    expect(readFileSync(sim.fs(`${ALT}/usr/local/etc/bastille/bastille.conf`), 'utf8')).toContain('bastille_zfs_zpool="zroot"')
    // Step 9.
    await ok('zfs', 'snapshot', '-r', 'nestmig_fbsd1@nest-migrate')
    expect((await ok('zfs', 'list', '-H', '-o', 'name', '-t', 'snapshot', '-r', 'nestmig_fbsd1')).split('\n')).toContain('nestmig_fbsd1/bastille/jails/app1/root@nest-migrate')
    await ok('zfs', 'unmount', 'nestmig_fbsd1/ROOT/default')
    // Step 15: export, sysctl back, clone and snapshot destroyed.
    await ok('zpool', 'export', 'nestmig_fbsd1')
    expect(await ok('sysctl', 'vfs.zfs.vol.recursive=0')).toBe('vfs.zfs.vol.recursive: 1 -> 0\n')
    await ok('zfs', 'destroy', CLONE)
    await ok('zfs', 'destroy', 'zroot/nest/.migrate/fbsd1')
    await ok('zfs', 'destroy', '-r', 'zroot/vm/fbsd1@nest-migrate')
    await ok('zfs', 'destroy', '-r', 'zroot/nest')
    const after = sim.kernel()
    expect(hostState(after)).toEqual(hostState(before))
    // The VM's disk: the same record, its label untouched (still the guest's hostid and txg, ACTIVE).
    expect(after.datasets.find((d) => d.name === 'zroot/vm/fbsd1/disk0')?.disk).toBe(vmDisk)
    expect(after.disks).toEqual([diskBefore])
    expect(diskBefore?.parts[3]?.pool).toMatchObject({name: 'zroot', hostid: 0x5a3c_9e01, hostname: 'fbsd1.example.org', state: 'ACTIVE', txg: 48_211})
  })

  it('the clone got its own copy at the import: exported, its label says EXPORTED by this host, the name kept (-t)', async () => {
    await attach()
    await ok('zpool', 'import', '-d', DEV, '-f', '-N', '-R', ALT, '-t', ID, 'nestmig_fbsd1')
    await ok('zpool', 'export', 'nestmig_fbsd1')
    const k = sim.kernel()
    const cloneDisk = k.disks.find((d) => d.id === k.datasets.find((x) => x.name === CLONE)?.disk)
    const vmDisk = k.disks.find((d) => d.id === k.datasets.find((x) => x.name === 'zroot/vm/fbsd1/disk0')?.disk)
    expect(cloneDisk?.id).not.toBe(vmDisk?.id)
    expect(cloneDisk?.parts[3]?.pool).toMatchObject({name: 'zroot', state: 'EXPORTED', hostid: 0, hostname: 'nest-sim.local', txg: 48_213})
    expect(vmDisk?.parts[3]?.pool).toMatchObject({state: 'ACTIVE', txg: 48_211})
    // Exported and then listed again: no status, importable without -f.
    expect(await ok('zpool', 'import', '-d', DEV)).toBe(`   pool: zroot\n     id: ${ID}\n  state: ONLINE\n action: The pool can be imported using its name or numeric identifier.\n config:\n\n\tzroot                                     ONLINE\n\t  zvol/zroot/nest/.migrate/fbsd1/disk0p4  ONLINE\n`)
  })
})

describe('zpool import errors (zpool_main.c, libzfs_pool.c)', () => {
  it('by name next to the host zroot, without -f, by an unknown id, with vfs.zfs.vol.recursive=0, nothing on a device', async () => {
    await attach()
    expect(await sim.run('zpool', 'import', '-d', DEV, '-f', 'zroot')).toEqual({code: 1, stdout: '', stderr: "cannot import 'zroot': a pool with that name already exists\nuse the form 'zpool import <pool | id> <newpool>' to give it a new name\n"})
    expect(await sim.run('zpool', 'import', '-d', DEV, '-N', ID, 'nestmig_fbsd1')).toEqual({
      code: 1, stdout: '',
      stderr: "cannot import 'zroot': pool was previously in use from another system.\nLast accessed by fbsd1.example.org (hostid=5a3c9e01) at Thu Nov 14 09:30:00 2024\nThe pool can be imported, use 'zpool import -f' to import the pool.\n",
    })
    expect(await sim.run('zpool', 'import', '-d', DEV, '-f', '123', 'x')).toEqual({code: 1, stdout: '', stderr: "cannot import '123': no such pool available\n"})
    await ok('sysctl', 'vfs.zfs.vol.recursive=0')
    expect(await sim.run('zpool', 'import', '-d', DEV, '-f', '-N', ID, 'nestmig_fbsd1')).toEqual({code: 1, stdout: '', stderr: "cannot import 'zroot' as 'nestmig_fbsd1': one or more devices is currently unavailable\n"})
    expect(await sim.run('zpool', 'import', '-d', `/dev/zvol/${CLONE}p3`)).toEqual({code: 0, stdout: '', stderr: 'no pools available to import\n'})
    expect(await sim.run('zpool', 'export', 'nope')).toEqual({code: 1, stdout: '', stderr: "cannot open 'nope': no such pool\n"})
    expect(sim.kernel().pools.map((p) => p.name)).toEqual(['zroot'])
  })

  it('a guest newer than the host: listed UNAVAIL with its unsupported features, refused on import', async () => {
    await attach('new15', 'zfs-newer')
    const dev = '/dev/zvol/zroot/nest/.migrate/new15/disk0p4'
    expect(await ok('zpool', 'import', '-d', dev)).toBe([
      '   pool: zroot', '     id: 9083416275519846611', '  state: UNAVAIL',
      'status: The pool was last accessed by another system.',
      ' action: The pool cannot be imported due to damaged devices or data.',
      '   see: https://openzfs.github.io/openzfs-docs/msg/ZFS-8000-EY', ' config:', '',
      '\tzroot                                     UNAVAIL  unsupported feature(s)',
      '\t  zvol/zroot/nest/.migrate/new15/disk0p4  ONLINE', '',
    ].join('\n'))
    expect(await sim.run('zpool', 'import', '-d', dev, '-f', '-N', '-R', ALT, '-t', '9083416275519846611', 'nestmig_new15')).toEqual({
      code: 1,
      stdout: 'This pool uses the following feature(s) not supported by this system:\n\torg.zfsonlinux:longname (support filename up to 1024 bytes)\n\tcom.klarasystems:fast_dedup (Support for advanced deduplication)\n',
      stderr: "cannot import 'zroot' as 'nestmig_new15': unsupported version or feature\n",
    })
  })

  it('two guests with one pool GUID (a vm clone): one pool config, as get_configs groups labels by pool GUID; by name: more than one matching needs two GUIDs', async () => {
    await attach('fbsd1', 'zfs-bastille')
    await attach('fbsd2', 'zfs-clash')
    const out = await ok('zpool', 'import', '-d', DEV, '-d', '/dev/zvol/zroot/nest/.migrate/fbsd2/disk0p4')
    expect(out.match(/^ {3}pool: /gm)).toHaveLength(1)
    expect(out).toContain(`     id: ${ID}\n`)
  })

  it('without -N and -R the guest datasets mount over the host\'s own paths (the mistake the flags prevent)', async () => {
    await attach()
    await ok('zpool', 'import', '-d', DEV, '-f', ID, 'nestmig_fbsd1')
    const on = sim.kernel().mounts.filter((m) => m.dataset?.startsWith('nestmig_fbsd1')).map((m) => `${m.dataset} ${m.on}`)
    expect(on).toContain('nestmig_fbsd1/home /home')
    expect(on).toContain('nestmig_fbsd1/var/log /var/log')
    expect(on).toContain('nestmig_fbsd1/tmp /tmp')
  })

  it('export: a busy mount stops it (zfs_unmount\'s text), -f goes through and the files go back to the disk', async () => {
    await attach()
    await ok('zpool', 'import', '-d', DEV, '-f', '-R', ALT, '-t', ID, 'nestmig_fbsd1')
    const k = sim.kernel()
    const m = k.mounts.find((x) => x.dataset === 'nestmig_fbsd1/home')
    if (m) m.busy = true
    await saveKernel(sim.root, k)
    expect(await sim.run('zpool', 'export', 'nestmig_fbsd1')).toEqual({code: 1, stdout: '', stderr: `cannot unmount '${ALT}/home': pool or dataset is busy\n`})
    await ok('zpool', 'export', '-f', 'nestmig_fbsd1')
    expect(sim.kernel().mounts.filter((x) => x.on.startsWith(ALT))).toEqual([])
    // Imported again: the home dataset's files are still there (from the disk).
    await ok('zpool', 'import', '-d', DEV, '-R', ALT, '-t', ID, 'nestmig_fbsd1')
    expect(readFileSync(sim.fs(`${ALT}/home/admin/.profile`), 'utf8')).toBe('PATH=/bin:/usr/bin\n')
  })

  it('a zvol a pool is imported from cannot be destroyed (EBUSY: the vdev holds it open), nor its parent with -r; once exported it can', async () => {
    await attach()
    await ok('zpool', 'import', '-d', DEV, '-f', '-N', '-R', ALT, '-t', ID, 'nestmig_fbsd1')
    const busy = {code: 1, stdout: '', stderr: `cannot destroy '${CLONE}': pool or dataset is busy\n`}
    expect(await sim.run('zfs', 'destroy', '-r', CLONE)).toEqual(busy)
    expect(await sim.run('zfs', 'destroy', '-r', 'zroot/nest/.migrate/fbsd1')).toEqual(busy)
    expect(sim.kernel().datasets.some((d) => d.name === CLONE)).toBe(true)
    await ok('zpool', 'export', 'nestmig_fbsd1')
    await ok('zfs', 'destroy', '-r', 'zroot/nest/.migrate/fbsd1')
    await ok('zfs', 'destroy', '-r', 'zroot/vm/fbsd1@nest-migrate')
  })
})
