import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {adaptPeriodicConf, loaderModules, pinnedCpus, splitSysctlConf, vmLimits} from '../../src/domain/guest.js'
import {parseVmConf, type VmConf} from '../../src/domain/vmbhyve.js'

const VMFIX = join(import.meta.dirname, '../fixtures/freebsd-outputs/vm-bhyve')
const conf = (text: string): VmConf => parseVmConf(text)._unsafeUnwrap()

describe('VM resources as jail limits', () => {
  it('turns memory (bhyve megabytes) into bytes and cpu into pcpu percent, with the uuid', () => {
    const vm = conf(readFileSync(join(VMFIX, 'issue191-bhyveload-two-nics-uuid-macs.conf.txt'), 'utf8'))
    expect(vmLimits(vm, {jail: 'vm1'})).toEqual({
      rctl: ['jail:vm1:memoryuse:deny=2147483648', 'jail:vm1:pcpu:deny=100'],
      cpuset: null,
      cpusetCommand: null,
      hostuuid: '43157865-e6ed-11e7-8139-6451060e7679',
      notes: [],
    })
  })

  it('takes limit_pcpu over cpu, carries vm-bhyve throttles, pins from bhyve -p, and can log instead of deny', () => {
    const vm = conf('loader="bhyveload"\ncpu=4\nmemory=512\nbhyve_options="-S -p 0:2 -p 1:3 -p3:2"\nlimit_pcpu="150"\nlimit_rbps="10M"\nlimit_wiops="x"\nuuid="not-a-uuid"\n')
    const l = vmLimits(vm, {jail: 'web.db', memoryAction: 'log'})
    expect(l.rctl).toEqual(['jail:web.db:memoryuse:log=536870912', 'jail:web.db:pcpu:deny=150', 'jail:web.db:readbps:throttle=10M'])
    expect(l.cpuset).toBe('2,3')
    expect(l.cpusetCommand).toBe('cpuset -l 2,3 -j web.db')
    expect(l.hostuuid).toBeNull()
    expect(l.notes.map((n) => n.text)).toEqual(['limit_wiops="x" is not an rctl amount: not carried over', 'uuid="not-a-uuid" is not a UUID: host.hostuuid not set'])
    expect(pinnedCpus('-p 1:1')).toEqual([1])
    expect(pinnedCpus('-p x:1 -H')).toEqual([])
  })
})

describe('guest files whose settings are the host\'s', () => {
  it('turns off scrub and trim in periodic.conf', () => {
    const r = adaptPeriodicConf('daily_scrub_zfs_enable="YES"\ndaily_trim_zfs_enable="NO"\ndaily_status_zfs_enable="YES"\n')._unsafeUnwrap()
    expect(r.text).toBe('daily_scrub_zfs_enable="NO"\ndaily_trim_zfs_enable="NO"\ndaily_status_zfs_enable="YES"\n')
    expect(r.edits.map((e) => [e.key, e.from, e.to])).toEqual([['daily_scrub_zfs_enable', 'YES', 'NO']])
  })

  it('splits sysctl.conf into what a VNET jail keeps and what the host must set', () => {
    const text = '# tuning\nnet.inet.ip.forwarding=1\t# router\nnet.inet6.ip6.forwarding=1\nkern.ipc.somaxconn=1024\nvfs.zfs.arc_max=1073741824\nbogus\n\n'
    const v = splitSysctlConf(text, {vnet: true})._unsafeUnwrap()
    expect(v.jail).toEqual([{name: 'net.inet.ip.forwarding', value: '1'}, {name: 'net.inet6.ip6.forwarding', value: '1'}])
    expect(v.host.map((e) => e.name)).toEqual(['kern.ipc.somaxconn', 'vfs.zfs.arc_max'])
    expect(v.notes.map((n) => n.text)).toEqual(['not a name=value line: bogus', 'kern.ipc.somaxconn=1024 cannot be set from inside a jail: set it on the host if the jail needs it', 'vfs.zfs.arc_max=1073741824 cannot be set from inside a jail: set it on the host if the jail needs it'])
    expect(splitSysctlConf(text, {vnet: false})._unsafeUnwrap().jail).toEqual([])
  })

  it('lists the modules loader.conf loads', () => {
    const r = loaderModules('zfs_load="YES"\nvmm_load="yes"\nif_bridge_load="NO"\nkern.geom.label.disk_ident.enable="0"\nautoboot_delay="3"\n')._unsafeUnwrap()
    expect(r.modules).toEqual(['zfs', 'vmm'])
    expect(r.notes[1]?.text).toBe('the guest\'s loader loads vmm: a jail cannot load modules; load it on the host (kldload vmm, and in its loader.conf or kld_list) if the jail needs it')
  })
})
