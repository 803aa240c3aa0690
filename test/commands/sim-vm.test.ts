// `nest sim vm add NAME --conf FILE [--running]`: a vm-bhyve guest on the simulated host, as
// the simulated vm(8) and nest's migration will find it (src/sim/control.ts addVmGuest).
import {existsSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {makeSim, type TestSim} from '../helpers/sim.js'

const FIX = path.resolve(import.meta.dirname, '../fixtures/freebsd-outputs/vm-bhyve')
const TWO_NICS = path.join(FIX, 'issue191-bhyveload-two-nics-uuid-macs.conf.txt')
const PR163 = path.join(FIX, 'pr163-bhyveload-cpu2-mem2G-sparse-zvol-placeholders.conf.txt')

let sim: TestSim
beforeEach(async () => {
  sim = await makeSim()
})
afterEach(() => sim.cleanup())

const rc = (): string => readFileSync(sim.fs('/etc/rc.conf'), 'utf8')

describe('nest sim vm add', () => {
  it('a stopped guest: vm_enable, vm_dir and vm_list added to rc.conf, NAME.conf copied byte for byte, its switch\'s bridge made as vm init makes it', async () => {
    const before = rc()
    const r = await sim.nest('sim', 'vm', 'add', 'fbsd1', '--conf', PR163)
    expect(r.code).toBe(0)
    expect(r.stdout).toBe('vm fbsd1: /vm/fbsd1/fbsd1.conf, stopped\n  /etc/rc.conf: vm_enable="YES"\n  /etc/rc.conf: vm_dir="/vm"\n  /etc/rc.conf: vm_list="fbsd1"\n  switch bridge: vm-public (vm init makes it at boot)\n')
    expect(rc()).toBe(`${before}vm_enable="YES"\nvm_dir="/vm"\nvm_list="fbsd1"\n`)
    expect(readFileSync(sim.fs('/vm/fbsd1/fbsd1.conf'), 'utf8')).toBe(readFileSync(PR163, 'utf8'))
    expect(readdirSync(sim.fs('/vm/fbsd1'))).toEqual(['fbsd1.conf'])
    expect(sim.kernel().vms).toEqual([])
    expect(existsSync(sim.fs('/dev/vmm/fbsd1'))).toBe(false)
    expect((await sim.run('ifconfig', '-l')).stdout).toBe('lo0 vm-public\n')
    expect(readFileSync(sim.fs('/vm/.config/system.conf'), 'utf8')).toBe('switch_list="public"\ntype_public="standard"\n')
  })

  it('--running --json: the kernel entry, /dev/vmm/NAME and run.lock naming the host; a second guest joins vm_list in place', async () => {
    expect((await sim.nest('sim', 'vm', 'add', 'a1', '--conf', PR163)).code).toBe(0)
    const r = await sim.nest('sim', 'vm', 'add', 'b2', '--conf', TWO_NICS, '--running', '--json')
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual({
      status: 0,
      result: {root: sim.root, name: 'b2', dir: '/vm/b2', conf: '/vm/b2/b2.conf', running: true, pid: 5000, rcConf: ['vm_list="a1 b2"'], switches: ['vm-private']},
      warnings: [],
    })
    expect(sim.kernel().vms).toEqual([{name: 'b2', pid: 5000, stage: 'bhyve'}])
    expect(existsSync(sim.fs('/dev/vmm/b2'))).toBe(true)
    expect(readFileSync(sim.fs('/vm/b2/run.lock'), 'utf8')).toBe('nest-sim.local\n')
    expect(rc().match(/^vm_list=.*$/gm)).toEqual(['vm_list="a1 b2"'])
  })

  it('the host\'s own settings are kept: vm_dir and vm_list from /etc/rc.conf.d/vm, vm_list updated there', async () => {
    sim.mkdirs('/etc/rc.conf.d', '/guests')
    writeFileSync(sim.fs('/etc/rc.conf.d/vm'), 'vm_enable="YES"\nvm_dir="/guests"\nvm_list="old"\n')
    const before = rc()
    const r = await sim.nest('sim', 'vm', 'add', 'new.example', '--conf', PR163)
    expect(r.code).toBe(0)
    expect(rc()).toBe(before)
    expect(readFileSync(sim.fs('/etc/rc.conf.d/vm'), 'utf8')).toBe('vm_enable="YES"\nvm_dir="/guests"\nvm_list="old new.example"\n')
    expect(existsSync(sim.fs('/guests/new.example/new.example.conf'))).toBe(true)
  })

  it('a ZFS vm_dir: the guest\'s directory is a dataset of its own below the store\'s (core::create, zfs::make_dataset)', async () => {
    expect((await sim.run('zfs', 'create', '-o', 'mountpoint=/vms', 'zroot/vms')).code).toBe(0)
    writeFileSync(sim.fs('/etc/rc.conf'), `${rc()}vm_enable="YES"\nvm_dir="zfs:zroot/vms"\n`)
    const r = await sim.nest('sim', 'vm', 'add', 'fbsd1', '--conf', PR163, '--json')
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout).result).toMatchObject({dir: '/vms/fbsd1', conf: '/vms/fbsd1/fbsd1.conf', rcConf: ['vm_list="fbsd1"']})
    expect((await sim.run('zfs', 'list', '-H', '-o', 'name,mountpoint', '-r', 'zroot/vms')).stdout).toBe('zroot/vms\t/vms\nzroot/vms/fbsd1\t/vms/fbsd1\n')
    expect((await sim.run('mount')).stdout).toContain('zroot/vms/fbsd1 on /vms/fbsd1 (zfs, local')
    expect(readFileSync(sim.fs('/vms/fbsd1/fbsd1.conf'), 'utf8')).toBe(readFileSync(PR163, 'utf8'))
  })

  it('refusals change nothing: a guest already there, a bad name, vm_enable="NO", vm_dir that is no directory (exit 3); a missing FILE (exit 4)', async () => {
    expect((await sim.nest('sim', 'vm', 'add', 'fbsd1', '--conf', PR163)).code).toBe(0)
    const saved = rc()
    const again = await sim.nest('sim', 'vm', 'add', 'fbsd1', '--conf', TWO_NICS, '--running')
    expect(again.code).toBe(3)
    expect(again.stderr).toContain('nest: /vm/fbsd1/fbsd1.conf exists: the guest fbsd1 is on the host already')
    expect(readFileSync(sim.fs('/vm/fbsd1/fbsd1.conf'), 'utf8')).toBe(readFileSync(PR163, 'utf8'))
    expect(sim.kernel().vms).toEqual([])
    const bad = await sim.nest('sim', 'vm', 'add', '-bad', '--conf', PR163)
    expect(bad.code).not.toBe(0)
    const bang = await sim.nest('sim', 'vm', 'add', 'x!', '--conf', PR163)
    expect(bang.code).toBe(3)
    expect(bang.stderr).toContain("x!: not a vm-bhyve guest name (util::check_name")
    const missing = await sim.nest('sim', 'vm', 'add', 'x2', '--conf', path.join(sim.root, 'nope.conf'))
    expect(missing.code).toBe(4)
    expect(rc()).toBe(saved)
    writeFileSync(sim.fs('/etc/rc.conf'), `${saved}vm_enable="NO"\n`)
    const off = await sim.nest('sim', 'vm', 'add', 'x3', '--conf', PR163)
    expect(off.code).toBe(3)
    expect(off.stderr).toContain('vm_enable="NO" in the host\'s rc.conf')
    writeFileSync(sim.fs('/etc/rc.conf'), `${saved}vm_dir="zfs:zroot/none"\n`)
    const zfs = await sim.nest('sim', 'vm', 'add', 'x4', '--conf', PR163)
    expect(zfs.code).toBe(3)
    expect(zfs.stderr).toContain('vm_dir="zfs:zroot/none": unable to locate mountpoint for ZFS dataset zroot/none')
    expect(existsSync(sim.fs('/vm/x3'))).toBe(false)
  })
})

describe('nest sim vm add --disk (guest fixtures, src/sim/guests)', () => {
  it('zfs-bastille --running: vm_dir="zfs:zroot/vm" on /vm, the guest dataset, its sparse zvol with volmode=dev, the fixture\'s NAME.conf', async () => {
    const r = await sim.nest('sim', 'vm', 'add', 'fbsd1', '--disk', 'zfs-bastille', '--running')
    expect(r.code).toBe(0)
    expect(r.stdout).toBe([
      'vm fbsd1: /vm/fbsd1/fbsd1.conf, running (bhyve pid 5000, /dev/vmm/fbsd1, run.lock)',
      '  /etc/rc.conf: vm_enable="YES"', '  /etc/rc.conf: vm_dir="zfs:zroot/vm"', '  /etc/rc.conf: vm_list="fbsd1"',
      '  disk0: /dev/zvol/zroot/vm/fbsd1/disk0 (sparse-zvol)', '  switch bridge: vm-public (vm init makes it at boot)', '',
    ].join('\n'))
    expect(rc()).toContain('vm_dir="zfs:zroot/vm"\n')
    expect((await sim.run('zfs', 'list', '-H', '-o', 'name,type,mountpoint', '-r', 'zroot/vm')).stdout).toBe('zroot/vm\tfilesystem\t/vm\nzroot/vm/fbsd1\tfilesystem\t/vm/fbsd1\nzroot/vm/fbsd1/disk0\tvolume\t-\n')
    expect((await sim.run('zfs', 'get', '-H', '-o', 'value', 'volmode,volsize,refreservation', 'zroot/vm/fbsd1/disk0')).stdout).toBe('dev\n20G\nnone\n')
    const conf = readFileSync(sim.fs('/vm/fbsd1/fbsd1.conf'), 'utf8')
    expect(conf).toContain('loader="bhyveload"\ncpu=2\nmemory=2G\nnetwork0_type="virtio-net"\nnetwork0_switch="public"\nnetwork0_mac="58:9c:fc:0a:1b:2c"\n')
    expect(conf).toContain('disk0_name="disk0"\ndisk0_dev="sparse-zvol"\n')
    expect(sim.kernel().vms).toEqual([{name: 'fbsd1', pid: 5000, stage: 'bhyve'}])
    // The simulated vm(8) sees it.
    expect((await sim.run('vm', 'list')).stdout).toContain('fbsd1')
  })

  it('ufs-vmimage on a plain vm_dir: disk0.img names its disk; --conf replaces the fixture\'s conf; a zvol guest needs a ZFS store; an unknown fixture', async () => {
    expect((await sim.nest('sim', 'vm', 'add', 'plain', '--conf', PR163)).code).toBe(0)
    const r = await sim.nest('sim', 'vm', 'add', 'img1', '--disk', 'ufs-vmimage')
    expect(r.code).toBe(0)
    expect(r.stdout).toBe('vm img1: /vm/img1/img1.conf, stopped\n  /etc/rc.conf: vm_list="plain img1"\n  disk0.img: /vm/img1/disk0.img (file)\n')
    expect(readFileSync(sim.fs('/vm/img1/disk0.img'), 'utf8')).toMatch(/^nest-sim guest disk disk-1\n$/)
    const saved = rc()
    const zvol = await sim.nest('sim', 'vm', 'add', 'z1', '--disk', 'zfs-bastille')
    expect(zvol.code).toBe(3)
    expect(zvol.stderr).toContain('disk0_dev="sparse-zvol": cannot use ZVOL storage unless ZFS support is enabled')
    expect(rc()).toBe(saved)
    expect(existsSync(sim.fs('/vm/z1'))).toBe(false)
    const own = path.join(sim.root, 'own.conf')
    writeFileSync(own, 'loader="bhyveload"\ncpu=1\nmemory=512M\ndisk0_type="virtio-blk"\ndisk0_name="disk0.img"\n')
    expect((await sim.nest('sim', 'vm', 'add', 'img2', '--disk', 'ufs-vmimage', '--conf', own)).code).toBe(0)
    expect(readFileSync(sim.fs('/vm/img2/img2.conf'), 'utf8')).toBe(readFileSync(own, 'utf8'))
    expect(existsSync(sim.fs('/vm/img2/disk0.img'))).toBe(true)
    const unknown = await sim.nest('sim', 'vm', 'add', 'u1', '--disk', 'no-such-fixture')
    expect(unknown.code).toBe(4)
  })

  it('a fixture file (JSON of the format) works as the shipped ones do', async () => {
    const {zfsClash} = await import('../../src/sim/guests/guests.js')
    const file = path.join(sim.root, 'clash.json')
    writeFileSync(file, JSON.stringify(zfsClash()))
    expect((await sim.nest('sim', 'vm', 'add', 'fbsd2', '--disk', file)).code).toBe(0)
    const k = sim.kernel()
    expect(k.disks[0]?.parts[3]?.pool).toMatchObject({name: 'zroot', guid: '1478204918239012389', hostname: 'fbsd2.example.org'})
  })
})
