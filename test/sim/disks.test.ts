// Guest disks: volumes as vm-bhyve makes them, the GEOM view by volmode, gpart show (the real
// sample of migration.md §2.4), mdconfig over image files, UFS mounts of guest partitions.
import {existsSync, readFileSync} from 'node:fs'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {makeSim, type TestSim} from '../helpers/sim.js'

let sim: TestSim
beforeEach(async () => {
  sim = await makeSim()
})
afterEach(() => sim.cleanup())

async function ok(tool: string, ...args: string[]): Promise<string> {
  const r = await sim.run(tool, ...args)
  expect({tool, args, code: r.code, stderr: r.stderr}).toEqual({tool, args, code: 0, stderr: ''})
  return r.stdout
}

describe('volumes (zfs create -V, zfs::make_zvol)', () => {
  it('-sV SIZE -o volmode=dev as vm-bhyve runs it; -V reserves zvol_volsize_to_reservation; sizes rounded to the block', async () => {
    await ok('zfs', 'create', '-sV', '20G', '-o', 'volmode=dev', 'zroot/vd0')
    await ok('zfs', 'create', '-V', '1G', 'zroot/vd1')
    await ok('zfs', 'create', '-V', '1000', 'zroot/vd2')
    expect(await ok('zfs', 'get', '-H', '-p', '-o', 'name,value', 'volsize,refreservation,volblocksize,volmode', 'zroot/vd0', 'zroot/vd1', 'zroot/vd2')).toBe([
      'zroot/vd0\t21474836480', 'zroot/vd0\t0', 'zroot/vd0\t16384', 'zroot/vd0\tdev',
      // 1G / 16K = 65536 blocks: numdb 7 + 64 + 1 = 72, times 2 copies of 128K = 18874368;
      // 1000 bytes rounded up to one 16K block: numdb 7, 1835008 more.
      'zroot/vd1\t1073741824', 'zroot/vd1\t1092616192', 'zroot/vd1\t16384', 'zroot/vd1\tdefault',
      'zroot/vd2\t16384', 'zroot/vd2\t1851392', 'zroot/vd2\t16384', 'zroot/vd2\tdefault', '',
    ].join('\n'))
    expect(await ok('zfs', 'list', '-H', '-o', 'name,type,mountpoint', '-t', 'volume')).toBe('zroot/vd0\tvolume\t-\nzroot/vd1\tvolume\t-\nzroot/vd2\tvolume\t-\n')
    expect(await sim.run('zfs', 'create', '-V', '0', 'zroot/vd3')).toEqual({code: 1, stdout: '', stderr: "cannot create 'zroot/vd3': volume size cannot be zero\n"})
    expect(await sim.run('zfs', 'create', '-V', '1x', 'zroot/vd3')).toEqual({code: 1, stdout: '', stderr: "bad volume size '1x': invalid numeric suffix 'x'\n"})
    expect(await sim.run('zfs', 'create', '-V', '1G', '-o', 'volmode=disk', 'zroot/vd3')).toEqual({code: 1, stdout: '', stderr: "cannot create 'zroot/vd3': 'volmode' must be one of 'default | full | geom | dev | none'\n"})
  })

  it('a clone of a volume snapshot is a volume sharing the disk; the origin cannot go first; destroying the last holder frees the disk', async () => {
    await ok('zfs', 'create', '-sV', '1G', 'zroot/v')
    await ok('zfs', 'snapshot', 'zroot/v@s')
    await ok('zfs', 'clone', '-o', 'volmode=geom', 'zroot/v@s', 'zroot/c')
    const k = sim.kernel()
    const disk = (n: string) => k.datasets.find((d) => d.name === n)?.disk
    expect(disk('zroot/c')).toBe(disk('zroot/v'))
    expect(disk('zroot/v@s')).toBe(disk('zroot/v'))
    expect(await ok('zfs', 'get', '-H', '-o', 'value', 'type,origin,volsize', 'zroot/c')).toBe('volume\nzroot/v@s\n1G\n')
    expect((await sim.run('zfs', 'destroy', 'zroot/v@s')).stderr).toBe("cannot destroy 'zroot/v@s': snapshot has dependent clones\nuse '-R' to destroy the following datasets:\nzroot/c\n")
    await ok('zfs', 'destroy', 'zroot/c')
    await ok('zfs', 'destroy', 'zroot/v@s')
    expect(sim.kernel().disks).toHaveLength(1)
    await ok('zfs', 'destroy', 'zroot/v')
    expect(sim.kernel().disks).toEqual([])
  })
})

describe('GEOM by volmode (zvol_os.c) and gpart show (geom_part.c)', () => {
  it('dev: no GEOM provider; geom/full/default: the disk and its partitions; none: nothing; changing volmode re-creates them', async () => {
    expect((await sim.nest('sim', 'vm', 'add', 'g1', '--disk', 'zfs-bastille')).code).toBe(0)
    const vol = 'zroot/vm/g1/disk0'
    expect((await sim.run('gpart', 'show', `zvol/${vol}`)).stderr).toBe(`gpart: No such geom: zvol/${vol}.\n`)
    for (const mode of ['geom', 'full', 'default']) {
      await ok('zfs', 'set', `volmode=${mode}`, vol)
      expect((await ok('gpart', 'show', `/dev/zvol/${vol}`)).split('\n')[0]).toBe(`=>      40  41942960  zvol/${vol}  GPT  (20G)`)
    }
    expect(await ok('gpart', 'show', '-l', `zvol/${vol}`)).toBe([
      `=>      40  41942960  zvol/${vol}  GPT  (20G)`,
      '        40    532480                       1  efiboot0  (260M)',
      '    532520      1024                       2  gptboot0  (512K)',
      '    533544       984                          - free -  (492K)',
      '    534528   4194304                       3  swap0  (2.0G)',
      '   4728832  37212160                       4  zfs0  (18G)',
      '  41940992      2008                          - free -  (1.0M)', '', '',
    ].join('\n'))
    expect((await ok('gpart', 'show', '-r', `zvol/${vol}`)).split('\n')[5]).toBe('   4728832  37212160                       4  516e7cba-6ecf-11d6-8ff8-00022d09712b  (18G)')
    expect(await sim.run('gpart', 'show', '-l', '-r', `zvol/${vol}`)).toEqual({code: 1, stdout: '', stderr: 'gpart: -l and -r are mutually exclusive\n'})
    await ok('zfs', 'set', 'volmode=none', vol)
    expect(await ok('gpart', 'show')).toBe('')
    expect(await sim.run('zpool', 'import', '-d', `/dev/zvol/${vol}p4`)).toEqual({code: 0, stdout: '', stderr: 'no pools available to import\n'})
  })

  it('the real sample: an official VM image on md0 (p4 freebsd-ufs where the sample has freebsd-zfs)', async () => {
    expect((await sim.nest('sim', 'vm', 'add', 'img1', '--disk', 'ufs-vmimage')).code).toBe(0)
    expect(await ok('mdconfig', '-a', '-t', 'vnode', '-f', '/vm/img1/disk0.img', '-o', 'readonly')).toBe('md0\n')
    expect(await ok('gpart', 'show', 'md0')).toBe([
      '=>      40  20971440  md0  GPT  (10G)',
      '        40      1024    1  freebsd-boot  (512K)',
      '      1064     81920    2  efi  (40M)',
      '     82984   2097152    3  freebsd-swap  (1.0G)',
      '   2180136  16777216    4  freebsd-ufs  (8.0G)',
      '  18957352   2014128       - free -  (983M)', '', '',
    ].join('\n'))
    expect((await ok('gpart', 'show', '-p', 'md0')).split('\n')[4]).toBe('   2180136  16777216  md0p4  freebsd-ufs  (8.0G)')
    expect(await sim.run('gpart', 'show', 'md1')).toEqual({code: 1, stdout: '', stderr: 'gpart: No such geom: md1.\n'})
  })
})

describe('mdconfig and UFS mounts', () => {
  it('attach, list, mount -t ufs -o ro shows the files, detach busy, umount, detach; the VM\'s image file untouched', async () => {
    expect((await sim.nest('sim', 'vm', 'add', 'img1', '--disk', 'ufs-vmimage')).code).toBe(0)
    const img = '/vm/img1/disk0.img'
    const marker = readFileSync(sim.fs(img), 'utf8')
    expect(marker).toMatch(/^nest-sim guest disk disk-[0-9]+\n$/)
    expect(await ok('mdconfig', '-a', '-t', 'vnode', '-o', 'readonly', '-f', img)).toBe('md0\n')
    expect(await ok('mdconfig', img)).toBe('md1\n')
    expect(await ok('mdconfig', '-l')).toBe('md0 md1 \n')
    expect(await ok('mdconfig', '-l', '-v')).toBe(`md0\tvnode\t   10G\t${img}\nmd1\tvnode\t   10G\t${img}\n`)
    await ok('mdconfig', '-d', '-u', 'md1')
    sim.mkdirs('/mnt/src')
    await ok('mount', '-t', 'ufs', '-o', 'ro', '/dev/md0p4', '/mnt/src')
    expect(readFileSync(sim.fs('/mnt/src/bin/freebsd-version'), 'utf8')).toContain('USERLAND_VERSION="14.3-RELEASE"\n')
    expect(readFileSync(sim.fs('/mnt/src/etc/rc.conf'), 'utf8')).toContain('growfs_enable="YES"\n')
    expect(existsSync(sim.fs('/mnt/src/firstboot'))).toBe(true)
    expect((await ok('mount')).split('\n')).toContain('/dev/md0p4 on /mnt/src (ufs, local, read-only)')
    expect(await sim.run('mdconfig', '-d', '-u', '0')).toEqual({code: 1, stdout: '', stderr: 'mdconfig: ioctl(/dev/mdctl): Device busy\n'})
    await ok('umount', '/mnt/src')
    expect(existsSync(sim.fs('/mnt/src/etc'))).toBe(false)
    await ok('mdconfig', '-d', '-u', '0')
    expect(await ok('mdconfig', '-l')).toBe('')
    expect(readFileSync(sim.fs(img), 'utf8')).toBe(marker)
  })

  it('errors: a missing file, not a regular file, an unknown unit; rw on an unclean UFS is EPERM with the kernel errmsg', async () => {
    expect((await sim.nest('sim', 'vm', 'add', 'img1', '--disk', 'ufs-vmimage')).code).toBe(0)
    expect(await sim.run('mdconfig', '-a', '-t', 'vnode', '-f', '/vm/nope.img')).toEqual({code: 1, stdout: '', stderr: 'mdconfig: realpath: No such file or directory\n'})
    expect(await sim.run('mdconfig', '/vm/nope.img')).toEqual({code: 1, stdout: '', stderr: 'mdconfig: could not find full path for /vm/nope.img: No such file or directory\n'})
    expect(await sim.run('mdconfig', '-a', '-t', 'vnode', '-f', '/vm/img1')).toEqual({code: 1, stdout: '', stderr: 'mdconfig: /vm/img1 is not a regular file\n'})
    expect(await sim.run('mdconfig', '-d', '-u', '7')).toEqual({code: 1, stdout: '', stderr: 'mdconfig: ioctl(/dev/mdctl): No such file or directory\n'})
    expect(await ok('mdconfig', '/vm/img1/disk0.img')).toBe('md0\n')
    const k = sim.kernel()
    const ufs = k.disks[0]?.parts[3]?.ufs
    if (ufs) ufs.clean = false
    const {saveKernel} = await import('../../src/sim/store.js')
    await saveKernel(sim.root, k)
    sim.mkdirs('/mnt/src')
    expect(await sim.run('mount', '-t', 'ufs', '/dev/md0p4', '/mnt/src')).toEqual({code: 1, stdout: '', stderr: 'mount: /dev/md0p4: R/W mount of /mnt/src denied. Filesystem is not clean - run fsck.: Operation not permitted\n'})
    await ok('mount', '-t', 'ufs', '-o', 'ro', '/dev/md0p4', '/mnt/src')
    expect(await sim.run('mount', '-t', 'ufs', '-o', 'ro', '/dev/md0p3', '/mnt')).toEqual({code: 1, stdout: '', stderr: 'mount: /dev/md0p3: Invalid argument\n'})
  })

  it('a read-write mount writes a copy of its own: the file then names that copy, a clone\'s file leaves the VM\'s as it was', async () => {
    expect((await sim.nest('sim', 'vm', 'add', 'img1', '--disk', 'ufs-vmimage')).code).toBe(0)
    await ok('zfs', 'snapshot', 'zroot/vm/img1@m')
    await ok('zfs', 'clone', 'zroot/vm/img1@m', 'zroot/img1copy')
    const vmMarker = readFileSync(sim.fs('/vm/img1/disk0.img'), 'utf8')
    expect(readFileSync(sim.fs('/zroot/img1copy/disk0.img'), 'utf8')).toBe(vmMarker)
    expect(await ok('mdconfig', '/zroot/img1copy/disk0.img')).toBe('md0\n')
    sim.mkdirs('/mnt/src')
    await ok('mount', '-t', 'ufs', '/dev/md0p4', '/mnt/src')
    expect(readFileSync(sim.fs('/zroot/img1copy/disk0.img'), 'utf8')).not.toBe(vmMarker)
    expect(readFileSync(sim.fs('/vm/img1/disk0.img'), 'utf8')).toBe(vmMarker)
    await ok('umount', '/mnt/src')
    await ok('mdconfig', '-d', '-u', 'md0')
  })
})

describe('sysctl vfs.zfs.vol.* (zvol_os.c) and the bench generator', () => {
  it('vol.mode reads 1 and is not written here; vol.recursive is 0 and writable on the host only', async () => {
    expect(await ok('sysctl', 'vfs.zfs.vol.mode', 'vfs.zfs.vol.recursive')).toBe('vfs.zfs.vol.mode: 1\nvfs.zfs.vol.recursive: 0\n')
    expect((await sim.run('sysctl', 'vfs.zfs.vol.mode=2')).code).toBe(69)
    expect(await ok('sysctl', '-n', 'vfs.zfs.vol.recursive')).toBe('0\n')
  })

  it('generateGuest: N more datasets of F files each, importable like the shipped guests', async () => {
    const {generateGuest} = await import('../../src/sim/guests/guests.js')
    const {writeFileSync} = await import('node:fs')
    const file = `${sim.root}/gen.json`
    writeFileSync(file, JSON.stringify(generateGuest({datasets: 3, files: 2})))
    expect((await sim.nest('sim', 'vm', 'add', 'bench1', '--disk', file)).code).toBe(0)
    await ok('zfs', 'snapshot', 'zroot/vm/bench1/disk0@m')
    await ok('zfs', 'clone', '-o', 'volmode=geom', 'zroot/vm/bench1/disk0@m', 'zroot/bc')
    await ok('sysctl', 'vfs.zfs.vol.recursive=1')
    await ok('zpool', 'import', '-d', '/dev/zvol/zroot/bcp4', '-f', '-R', '/mnt/b', '-t', '5512397745311923941', 'b')
    expect(readFileSync(sim.fs('/mnt/b/data/d2/f1.txt'), 'utf8')).toBe('dataset 2 file 1\n')
    await ok('zpool', 'export', 'b')
  })
})

