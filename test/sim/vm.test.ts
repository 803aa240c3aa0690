// The simulated vm(8) of vm-bhyve: each text and exit status with the place in vm-bhyve it comes
// from (churchers/vm-bhyve 6e91ff5: `vm`, lib/vm-base, lib/vm-cmd, lib/vm-core, lib/vm-config,
// lib/vm-datastore, lib/vm-run, lib/vm-util, lib/vm-zfs), and rc.subr's checkyesno. Guests are
// put on the host with `nest sim vm add` from the real NAME.conf files in
// test/fixtures/freebsd-outputs/vm-bhyve.
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {makeSim, type TestSim} from '../helpers/sim.js'

const FIX = path.resolve(import.meta.dirname, '../fixtures/freebsd-outputs/vm-bhyve')
const TEMPLATE = path.join(FIX, 'template-freebsd-zvol.conf.txt')
const TWO_NICS = path.join(FIX, 'issue191-bhyveload-two-nics-uuid-macs.conf.txt')
const PR163 = path.join(FIX, 'pr163-bhyveload-cpu2-mem2G-sparse-zvol-placeholders.conf.txt')
const ERR = '/usr/local/sbin/vm: ERROR: '
const WARN = '/usr/local/sbin/vm: WARNING: '

let sim: TestSim
beforeEach(async () => {
  sim = await makeSim()
})
afterEach(() => sim.cleanup())

async function add(name: string, conf: string, ...more: string[]): Promise<void> {
  const r = await sim.nest('sim', 'vm', 'add', name, '--conf', conf, ...more)
  expect(r.stderr).not.toContain('nest: /')
  expect(r.code).toBe(0)
}

const rcConf = (text: string): void => writeFileSync(sim.fs('/etc/rc.conf'), text)

describe('the checks every command runs first (lib/vm-base, lib/vm-cmd)', () => {
  it('vm_enable unset: checkyesno warns (rc.subr), then util::err "$vm_enable is not enabled in /etc/rc.conf!", exit 1', async () => {
    expect(await sim.run('vm', 'list')).toEqual({
      code: 1,
      stdout: '',
      stderr: `${WARN}$vm_enable is not set properly - see rc.conf(5).\n${ERR}$vm_enable is not enabled in /etc/rc.conf!\n`,
    })
  })

  it('vm_enable="NO": the error alone (checkyesno knows NO); rc_force set skips the check', async () => {
    rcConf('vm_enable="NO"\n')
    expect(await sim.run('vm', 'stop', 'x')).toEqual({code: 1, stdout: '', stderr: `${ERR}$vm_enable is not enabled in /etc/rc.conf!\n`})
    rcConf('vm_enable="NO"\nrc_force="YES"\nvm_dir="/vm"\n')
    sim.mkdirs('/vm')
    expect(await sim.run('vm', 'stop', 'x')).toEqual({code: 0, stdout: '', stderr: `${WARN}x doesn't appear to be a running virtual machine\n`})
  })

  it('cmd::parse_info runs before the rc checks: no word is "no command specified", a shared prefix "ambiguous command", exit 1', async () => {
    expect(await sim.run('vm')).toEqual({code: 1, stdout: '', stderr: `${ERR}no command specified\n`})
    expect(await sim.run('vm', 'st')).toEqual({code: 1, stdout: '', stderr: `${ERR}ambiguous command 'st'\n`})
  })

  it('vm_dir missing or not a directory: "$vm_dir has not been configured or is not a valid directory", exit 1', async () => {
    rcConf('vm_enable="YES"\n')
    expect(await sim.run('vm', 'list')).toEqual({code: 1, stdout: '', stderr: `${ERR}$vm_dir has not been configured or is not a valid directory\n`})
    rcConf('vm_enable="YES"\nvm_dir="/nowhere"\n')
    expect(await sim.run('vm', 'list')).toEqual({code: 1, stdout: '', stderr: `${ERR}$vm_dir has not been configured or is not a valid directory\n`})
  })

  it('vm_dir="zfs:DS" with DS not mounted: zfs::init "unable to locate mountpoint for ZFS dataset DS"; mounted: its mount point', async () => {
    rcConf('vm_enable="YES"\nvm_dir="zfs:zroot/vms"\n')
    expect(await sim.run('vm', 'list')).toEqual({code: 1, stdout: '', stderr: `${ERR}unable to locate mountpoint for ZFS dataset zroot/vms\n`})
    expect((await sim.run('zfs', 'create', '-o', 'mountpoint=/guests', 'zroot/vms')).code).toBe(0)
    await add('fbsd14', TEMPLATE)
    expect(existsSync(sim.fs('/guests/fbsd14/fbsd14.conf'))).toBe(true)
    expect((await sim.run('vm', 'list')).stdout).toBe(
      'NAME    DATASTORE  LOADER     CPU  MEMORY  VNC  AUTO     STATE\n' +
      'fbsd14  default    bhyveload  1    256M    -    Yes [1]  Stopped\n',
    )
  })

  it('vm_enable and vm_dir from /etc/rc.conf.d/vm (load_rc_config "vm"); the directories lib/vm-base makes as needed', async () => {
    sim.mkdirs('/etc/rc.conf.d', '/store')
    writeFileSync(sim.fs('/etc/rc.conf.d/vm'), 'vm_enable="YES"\nvm_dir="/store"\n')
    expect(await sim.run('vm', 'list')).toEqual({code: 0, stdout: 'NAME  DATASTORE  LOADER  CPU  MEMORY  VNC  AUTO  STATE\n', stderr: ''})
    for (const d of ['.config', '.templates', '.iso', '.img']) expect(existsSync(sim.fs(`/store/${d}`))).toBe(true)
    expect(readFileSync(sim.fs('/store/.config/null.iso'), 'utf8')).toBe('')
  })

  it('anything else vm-bhyve does is refused as not simulated, exit 69', async () => {
    await add('fbsd14', TEMPLATE)
    for (const argv of [['info'], ['start', '-f', 'fbsd14'], ['restart', 'fbsd14'], ['switch', 'list'], ['version'], ['list', '-v'], ['frobnicate'], ['stop']]) {
      const r = await sim.run('vm', ...argv)
      expect(r.code).toBe(69)
      expect(r.stderr).toMatch(/^sim: vm: .*: not simulated\n$/)
    }
  })

  it('a vm process of its own (bin/vm, SIM_TOOLS) runs the same tool', async () => {
    await add('fbsd14', TEMPLATE, '--running')
    const r = await sim.spawnTool('vm', 'list', '-r')
    expect(r).toEqual({code: 0, stdout: 'NAME    DATASTORE  LOADER     CPU  MEMORY  VNC  AUTO     STATE\nfbsd14  default    bhyveload  1    256M    -    Yes [1]  Running (5000)\n', stderr: ''})
  })
})

describe('vm list (core::list, printed through column -ts^)', () => {
  it('every guest of vm_dir, ls order; AUTO is the place in vm_list; Running (PID) from the bhyve process; Stopped', async () => {
    await add('spos-osy', TWO_NICS, '--running')
    await add('fbsd14', TEMPLATE)
    const r = await sim.run('vm', 'list')
    expect(r).toEqual({
      code: 0,
      stderr: '',
      stdout:
        'NAME      DATASTORE  LOADER     CPU  MEMORY  VNC  AUTO     STATE\n' +
        'fbsd14    default    bhyveload  1    256M    -    Yes [2]  Stopped\n' +
        'spos-osy  default    bhyveload  1    2048M   -    Yes [1]  Running (5000)\n',
    })
    // -r: running guests only.
    expect((await sim.run('vm', 'list', '-r')).stdout).toBe(
      'NAME      DATASTORE  LOADER     CPU  MEMORY  VNC  AUTO     STATE\nspos-osy  default    bhyveload  1    2048M   -    Yes [1]  Running (5000)\n',
    )
  })

  it('a stopped guest with run.lock is Locked (HOST) (head -n1 run.lock); not in vm_list is No', async () => {
    await add('fbsd14', PR163)
    writeFileSync(sim.fs('/vm/fbsd14/run.lock'), 'other-host.example\n')
    rcConf(readFileSync(sim.fs('/etc/rc.conf'), 'utf8').replace('vm_list="fbsd14"', 'vm_list=""'))
    expect((await sim.run('vm', 'list')).stdout).toBe(
      'NAME    DATASTORE  LOADER     CPU  MEMORY  VNC  AUTO  STATE\nfbsd14  default    bhyveload  2    2G      -    No    Locked (other-host.example)\n',
    )
  })

  it('NAME.conf read as config::load does: first match wins, quotes dropped, # cuts, indented lines ignored; loader defaults to none', async () => {
    const conf = path.join(sim.root, 'odd.conf')
    writeFileSync(conf, '  loader="grub"\ncpu=4 # four\ncpu=8\nmemory="1G"\n')
    await add('odd', conf)
    // No loader line (the indented one is not read): "none". Guests without a conf file are not listed.
    sim.mkdirs('/vm/empty-dir')
    expect((await sim.run('vm', 'list')).stdout).toBe('NAME  DATASTORE  LOADER  CPU  MEMORY  VNC  AUTO     STATE\nodd   default    none    4    1G      -    Yes [1]  Stopped\n')
  })

  it('an empty field vanishes, as strtok(3) splits in column(1): a guest without cpu shifts its row left', async () => {
    const conf = path.join(sim.root, 'nocpu.conf')
    writeFileSync(conf, 'loader="bhyveload"\nmemory=512M\n')
    await add('nocpu', conf)
    expect((await sim.run('vm', 'list')).stdout).toBe('NAME   DATASTORE  LOADER     CPU   MEMORY  VNC      AUTO     STATE\nnocpu  default    bhyveload  512M  -       Yes [1]  Stopped\n')
  })

  it('datastores from .config/system.conf (datastore::load, datastore::get): default first, then datastore_list; iso stores skipped', async () => {
    await add('fbsd14', TEMPLATE)
    sim.mkdirs('/ssd/vm/fast1', '/isos/x', '/vm/.config')
    writeFileSync(sim.fs('/ssd/vm/fast1/fast1.conf'), readFileSync(TEMPLATE, 'utf8'))
    writeFileSync(sim.fs('/isos/x/x.conf'), 'loader="none"\n')
    writeFileSync(sim.fs('/vm/.config/system.conf'), 'datastore_list="ssd cds"\npath_ssd="/ssd/vm"\npath_cds="iso:/isos"\n')
    expect((await sim.run('vm', 'list')).stdout).toBe(
      'NAME    DATASTORE  LOADER     CPU  MEMORY  VNC  AUTO     STATE\n' +
      'fbsd14  default    bhyveload  1    256M    -    Yes [1]  Stopped\n' +
      'fast1   ssd        bhyveload  1    256M    -    No       Stopped\n',
    )
  })
})

describe('vm stop (core::stop)', () => {
  it('a running guest: "Sending ACPI shutdown to NAME", exit 0; it powers off: /dev/vmm/NAME, run.lock and console gone (vm::run, vm::unlock)', async () => {
    await add('spos-osy', TWO_NICS, '--running')
    expect(existsSync(sim.fs('/dev/vmm/spos-osy'))).toBe(true)
    expect(readFileSync(sim.fs('/vm/spos-osy/run.lock'), 'utf8')).toBe('nest-sim.local\n')
    writeFileSync(sim.fs('/vm/spos-osy/console'), 'com1=/dev/nmdm-spos-osy.1A\n')
    expect(await sim.run('vm', 'stop', 'spos-osy')).toEqual({code: 0, stdout: 'Sending ACPI shutdown to spos-osy\n', stderr: ''})
    expect(existsSync(sim.fs('/dev/vmm/spos-osy'))).toBe(false)
    for (const f of ['run.lock', 'console']) expect(existsSync(sim.fs(`/vm/spos-osy/${f}`))).toBe(false)
    expect(sim.kernel().vms).toEqual([])
    expect((await sim.run('vm', 'list')).stdout).toContain('Yes [1]  Stopped\n')
  })

  it('no /dev/vmm/NAME: util::warn "NAME doesn\'t appear to be a running virtual machine" on stderr, still exit 0; each name in turn', async () => {
    await add('a1', TEMPLATE, '--running')
    await add('b2', TEMPLATE)
    expect(await sim.run('vm', 'stop', 'b2', 'a1', 'nope')).toEqual({
      code: 0,
      stdout: 'Sending ACPI shutdown to a1\n',
      stderr: `${WARN}b2 doesn't appear to be a running virtual machine\n${WARN}nope doesn't appear to be a running virtual machine\n`,
    })
    // cmd::find: a unique prefix names the command.
    expect(await sim.run('vm', 'li', '-r')).toEqual({code: 0, stdout: 'NAME  DATASTORE  LOADER  CPU  MEMORY  VNC  AUTO  STATE\n', stderr: ''})
    // grep -i: any case for a prefix, but the exact match is case-sensitive, so STOP is a prefix of stop and stopall.
    expect(await sim.run('vm', 'STOP', 'a1')).toEqual({code: 1, stdout: '', stderr: `${ERR}ambiguous command 'STOP'\n`})
  })

  it('a guest in its loader stage asks to force an exit (util::confirm): not simulated, nothing changes', async () => {
    await add('boot1', TEMPLATE, '--running')
    const kfile = path.join(sim.root, 'kernel.json')
    const k = JSON.parse(readFileSync(kfile, 'utf8')) as {vms: Array<{stage: string}>}
    ;(k.vms[0] as {stage: string}).stage = 'loader'
    writeFileSync(kfile, `${JSON.stringify(k)}\n`)
    expect((await sim.run('vm', 'list')).stdout).toContain('Bootloader (5000)\n')
    const r = await sim.run('vm', 'stop', 'boot1')
    expect(r.code).toBe(69)
    expect(existsSync(sim.fs('/dev/vmm/boot1'))).toBe(true)
  })

  it('a fault scripted on vm (nest sim fault vm) fails the call and leaves the guest running', async () => {
    await add('a1', TEMPLATE, '--running')
    expect((await sim.nest('sim', 'fault', 'vm', '--match', '^stop ', '--stderr', 'vm: injected', '--exit', '1')).code).toBe(0)
    expect(await sim.run('vm', 'stop', 'a1')).toEqual({code: 1, stdout: '', stderr: 'vm: injected\n'})
    expect(sim.kernel().vms.map((v) => v.name)).toEqual(['a1'])
    expect(await sim.run('vm', 'stop', 'a1')).toEqual({code: 0, stdout: 'Sending ACPI shutdown to a1\n', stderr: ''})
  })

  it('a host saved before guests were modelled (no vms in kernel.json) has none running', async () => {
    const kfile = path.join(sim.root, 'kernel.json')
    const k = JSON.parse(readFileSync(kfile, 'utf8')) as Record<string, unknown>
    delete k['vms']
    writeFileSync(kfile, `${JSON.stringify(k)}\n`)
    expect(sim.kernel().vms).toEqual([])
    rcConf('vm_enable="YES"\nvm_dir="/vm"\n')
    sim.mkdirs('/vm')
    expect((await sim.run('vm', 'stop', 'x')).stderr).toBe(`${WARN}x doesn't appear to be a running virtual machine\n`)
  })
})

const FILE_DISK = path.join(FIX, 'template-default-file-disk.conf.txt')

/** A zvol in the model (the simulated zfs does not make volumes: `zfs create -V` is another part). */
function addZvol(name: string, volsize: number): void {
  const k = sim.kernel()
  k.datasets.push({name, type: 'volume', props: {volsize: String(volsize)}, createtxg: k.txg, guid: '123456789', creation: k.clock, referenced: 1_048_576})
  writeFileSync(`${sim.root}/kernel.json`, JSON.stringify(k))
}

describe('vm start (core::start, core::__start; vm::run in the background)', () => {
  it('a stopped guest with its disk: Starting / found guest / booting, exit 0; it runs (Kernel.vms, /dev/vmm, run.lock, console); uuid and MAC written to NAME.conf', async () => {
    await add('fbsd14', FILE_DISK)
    writeFileSync(sim.fs('/vm/fbsd14/disk0.img'), 'disk')
    expect(await sim.run('vm', 'start', 'fbsd14')).toEqual({code: 0, stdout: 'Starting fbsd14\n  * found guest in /vm/fbsd14\n  * booting...\n', stderr: ''})
    expect(sim.kernel().vms).toEqual([{name: 'fbsd14', pid: 5000, stage: 'bhyve'}])
    expect(existsSync(sim.fs('/dev/vmm/fbsd14'))).toBe(true)
    expect(readFileSync(sim.fs('/vm/fbsd14/run.lock'), 'utf8')).toBe(`${sim.kernel().hostname}\n`)
    expect(readFileSync(sim.fs('/vm/fbsd14/console'), 'utf8')).toBe('com1=/dev/nmdm-fbsd14.1B\n')
    const conf = readFileSync(sim.fs('/vm/fbsd14/fbsd14.conf'), 'utf8')
    expect(conf).toMatch(/\nuuid="[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"\nnetwork0_mac="58:9c:fc:0[0-9a-f]:[0-9a-f]{2}:[0-9a-f]{2}"\n$/)
    expect((await sim.run('vm', 'list')).stdout).toBe('NAME    DATASTORE  LOADER     CPU  MEMORY  VNC  AUTO     STATE\nfbsd14  default    bhyveload  1    256M    -    Yes [1]  Running (5000)\n')
    // Running already: the refusal on stdout, exit 0 (the loop's last command is `_done="1"`).
    expect(await sim.run('vm', 'start', 'fbsd14')).toEqual({code: 0, stdout: 'Starting fbsd14\n  * found guest in /vm/fbsd14\n  ! guest appears to be running already\n', stderr: ''})
    // vm stop, then vm start again: the uuid and MAC kept.
    expect((await sim.run('vm', 'stop', 'fbsd14')).code).toBe(0)
    expect((await sim.run('vm', 'start', 'fbsd14')).code).toBe(0)
    expect(readFileSync(sim.fs('/vm/fbsd14/fbsd14.conf'), 'utf8')).toBe(conf)
    expect(sim.kernel().vms.map((v) => v.name)).toEqual(['fbsd14'])
  })

  it('no such guest; incomplete configuration; a lock of another host; grub without grub-bhyve: each on stdout, exit 0, nothing runs', async () => {
    sim.mkdirs('/vm')
    rcConf('vm_enable="YES"\nvm_dir="/vm"\n')
    expect(await sim.run('vm', 'start', 'ghost')).toEqual({code: 0, stdout: 'Starting ghost\n  ! ghost does not seem to be a valid virtual machine\n', stderr: ''})
    const nocpu = path.join(sim.root, 'nocpu.conf')
    writeFileSync(nocpu, 'loader="bhyveload"\nmemory=512M\n')
    await add('nocpu', nocpu)
    await add('deb', path.join(FIX, 'template-debian-grub.conf.txt'))
    await add('fbsd14', FILE_DISK)
    writeFileSync(sim.fs('/vm/fbsd14/run.lock'), 'other-host.example\n')
    expect(await sim.run('vm', 'start', 'nocpu', 'deb', 'fbsd14')).toEqual({
      code: 0,
      stderr: '',
      stdout:
        'Starting nocpu\n  * found guest in /vm/nocpu\n  ! incomplete virtual machine configuration\n' +
        'Waiting 2 second(s)\nStarting deb\n  * found guest in /vm/deb\n  ! grub requested but sysutils/grub2-bhyve not installed?\n' +
        'Waiting 2 second(s)\nStarting fbsd14\n  * found guest in /vm/fbsd14\n  ! guest appears to be running already\n',
    })
    expect(sim.kernel().vms).toEqual([])
  })

  it('a stale lock of this host is no obstacle (vm::confirm_stopped with skip_lock=1)', async () => {
    await add('fbsd14', FILE_DISK)
    writeFileSync(sim.fs('/vm/fbsd14/disk0.img'), 'disk')
    writeFileSync(sim.fs('/vm/fbsd14/run.lock'), `${sim.kernel().hostname}\n`)
    expect((await sim.run('vm', 'start', 'fbsd14')).stdout).toContain('  * booting...\n')
    expect(sim.kernel().vms.map((v) => v.name)).toEqual(['fbsd14'])
  })

  it('the boot disk missing: vm start still says booting and exits 0 (vm _run runs in the background), the guest is not running and not locked', async () => {
    await add('fbsd14', FILE_DISK)
    expect(await sim.run('vm', 'start', 'fbsd14')).toEqual({code: 0, stdout: 'Starting fbsd14\n  * found guest in /vm/fbsd14\n  * booting...\n', stderr: ''})
    expect(sim.kernel().vms).toEqual([])
    expect(existsSync(sim.fs('/vm/fbsd14/run.lock'))).toBe(false)
    expect(existsSync(sim.fs('/vm/fbsd14/console'))).toBe(false)
    expect(existsSync(sim.fs('/dev/vmm/fbsd14'))).toBe(false)
    expect((await sim.run('vm', 'list')).stdout).toContain('Stopped')
  })

  it('zvol disks on a ZFS store: /dev/zvol/STORE/NAME/disk0 must be a volume of the model', async () => {
    rcConf('vm_enable="YES"\nvm_dir="zfs:zroot/vms"\n')
    expect((await sim.run('zfs', 'create', '-o', 'mountpoint=/vms', 'zroot/vms')).code).toBe(0)
    await add('fbsd14', TEMPLATE)
    expect((await sim.run('vm', 'start', 'fbsd14')).code).toBe(0)
    expect(sim.kernel().vms).toEqual([])
    addZvol('zroot/vms/fbsd14/disk0', 21_474_836_480)
    expect((await sim.run('vm', 'start', 'fbsd14')).stdout).toBe('Starting fbsd14\n  * found guest in /vms/fbsd14\n  * booting...\n')
    expect(sim.kernel().vms.map((v) => v.name)).toEqual(['fbsd14'])
  })

  it('uefi without the firmware (vm::uefi: fatal) does not run; prestart is refused as not simulated', async () => {
    const conf = path.join(sim.root, 'uefi.conf')
    writeFileSync(conf, 'loader="uefi"\ncpu=2\nmemory=1G\ndisk0_type="nvme"\ndisk0_name="disk0.img"\n')
    await add('win', conf)
    writeFileSync(sim.fs('/vm/win/disk0.img'), 'disk')
    expect((await sim.run('vm', 'start', 'win')).code).toBe(0)
    expect(sim.kernel().vms).toEqual([])
    sim.mkdirs('/usr/local/share/uefi-firmware')
    writeFileSync(sim.fs('/usr/local/share/uefi-firmware/BHYVE_UEFI.fd'), '')
    expect((await sim.run('vm', 'start', 'win')).code).toBe(0)
    expect(sim.kernel().vms.map((v) => v.name)).toEqual(['win'])
    const pre = path.join(sim.root, 'pre.conf')
    writeFileSync(pre, 'loader="bhyveload"\ncpu=1\nmemory=1G\nprestart="/root/x.sh"\n')
    await add('pre', pre)
    const r = await sim.run('vm', 'start', 'pre')
    expect(r.code).toBe(69)
    expect(r.stderr).toBe('sim: vm: vm start pre: the prestart script: not simulated\n')
  })
})

describe('vm info (info::guest_show)', () => {
  it('a stopped guest on a plain store: configuration, interfaces, disks with bytes (info::__bytes_human)', async () => {
    await add('spos-osy', TWO_NICS)
    const r = await sim.run('vm', 'info', 'spos-osy')
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const conf = readFileSync(TWO_NICS, 'utf8')
    const uuid = /uuid="([^"]*)"/.exec(conf)?.[1]
    expect(r.stdout).toBe(
      [
        '------------------------',
        'Virtual Machine: spos-osy',
        '------------------------',
        '  state: stopped',
        '  datastore: default',
        '  loader: bhyveload',
        `  uuid: ${uuid}`,
        '  cpu: 1',
        '  memory: 2048M',
        '',
        '  network-interface',
        '    number: 0',
        '    emulation: virtio-net',
        '    virtual-switch: public',
        '    fixed-mac-address: 58:9c:fc:44:c8:38',
        '    fixed-device: -',
        '',
        '  network-interface',
        '    number: 1',
        '    emulation: virtio-net',
        '    virtual-switch: private',
        '    fixed-mac-address: 58:9c:fc:44:2b:61',
        '    fixed-device: -',
        '',
        '  virtual-disk',
        '    number: 0',
        '    device-type: sparse-zvol',
        '    emulation: virtio-blk',
        '    options: -',
        // VM_DS_ZFS_DATASET is empty on a plain store; zfs get finds no such volume: no bytes lines.
        '    system-path: /dev/zvol//spos-osy/disk0',
        '',
        '',
      ].join('\n'),
    )
  })

  it('a file disk: stat -f%z and du (KiB) × 1024', async () => {
    await add('fbsd14', FILE_DISK)
    writeFileSync(sim.fs('/vm/fbsd14/disk0.img'), 'x'.repeat(5000))
    const r = await sim.run('vm', 'info', 'fbsd14')
    expect(r.stdout).toMatch(/\n {4}system-path: \/vm\/fbsd14\/disk0.img\n {4}bytes-size: 5000 \(4\.882K\)\n {4}bytes-used: \d+ \(\d+\.\d{3}K\)\n\n$/)
  })

  it('zvol disks: volsize and referenced; the clone origin of the guest dataset; an unknown guest is util::err', async () => {
    rcConf('vm_enable="YES"\nvm_dir="zfs:zroot/vms"\n')
    expect((await sim.run('zfs', 'create', '-o', 'mountpoint=/vms', 'zroot/vms')).code).toBe(0)
    await add('fbsd14', TEMPLATE)
    addZvol('zroot/vms/fbsd14/disk0', 21_474_836_480)
    const r = await sim.run('vm', 'info', 'fbsd14')
    expect(r.stdout).toContain('    system-path: /dev/zvol/zroot/vms/fbsd14/disk0\n    bytes-size: 21474836480 (20.000G)\n    bytes-used: 1048576 (1.000M)\n\n')
    expect(r.stdout).toContain('  uuid: auto\n  cpu: 1\n  memory: 256M\n')
    expect(await sim.run('vm', 'info', 'nope')).toEqual({code: 1, stdout: '', stderr: `${ERR}unable to locate virtual machine 'nope'\n`})
  })
})
