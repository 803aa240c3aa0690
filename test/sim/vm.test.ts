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
    for (const argv of [['info', 'fbsd14'], ['start', 'fbsd14'], ['switch', 'list'], ['version'], ['list', '-v'], ['frobnicate'], ['stop']]) {
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
