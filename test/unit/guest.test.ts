import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {describeError} from '../../src/domain/errors.js'
import {adaptFstab, adaptRcConf, compareRelease, guestInterfaces, guestNetwork, guestText, maskPrefix, parseOsRelease, releaseNote, userlandVersion, type AdaptRcOptions, type Release} from '../../src/domain/guest.js'
import {parseVmConf, type VmConf} from '../../src/domain/vmbhyve.js'
import {JAIL_MOUNT_FS} from '../../src/jailconf/params.js'

const FIX = join(import.meta.dirname, '../fixtures/freebsd-outputs/guest')
const fixture = (f: string): Buffer => readFileSync(join(FIX, f))
const rel = (s: string): Release => parseOsRelease(s) as Release

describe('guest files as text', () => {
  it('refuses binary, non-UTF-8, control characters and oversized files', () => {
    expect(guestText('a="b"\n', '/etc/rc.conf')._unsafeUnwrap()).toBe('a="b"\n')
    expect(describeError(guestText(new Uint8Array([0x61, 0, 0x62]), '/etc/rc.conf')._unsafeUnwrapErr())).toBe("/etc/rc.conf is binary (it contains NUL bytes) (check /etc/rc.conf in the guest's copy; nest reads it as a plain text file)")
    expect(guestText(new Uint8Array([0xff, 0xfe]), '/etc/fstab')._unsafeUnwrapErr().message).toBe('/etc/fstab is not text (not UTF-8)')
    expect(guestText('a=1\nb="\u001b[31m"\n', '/etc/rc.conf')._unsafeUnwrapErr().message).toBe('/etc/rc.conf has a control character (0x1b) on line 2')
    expect(guestText('a=1\r\n', '/etc/rc.conf')._unsafeUnwrapErr().message).toBe('/etc/rc.conf has a control character (0x0d) on line 1')
    expect(guestText('#'.repeat(256 * 1024 + 1), '/etc/rc.conf')._unsafeUnwrapErr().message).toBe('/etc/rc.conf is 262145 bytes, more than the 262144 nest reads')
    expect(guestText('\tx=1\n', '/etc/rc.conf').isOk()).toBe(true)
  })
})

describe('userland version', () => {
  it('reads USERLAND_VERSION from a release build of /bin/freebsd-version', () => {
    expect(userlandVersion(fixture('freebsd-version-14.2-RELEASE-p1.txt'))._unsafeUnwrap()).toEqual({major: 14, minor: 2, branch: 'RELEASE', stage: 0, patch: 1, text: '14.2-RELEASE-p1'})
  })

  it('refuses a script without the line, with two, or with a value that is not a version', () => {
    expect(userlandVersion('#!/bin/sh\necho 14.2\n')._unsafeUnwrapErr()).toMatchObject({kind: 'invalid-input', message: '/bin/freebsd-version has no USERLAND_VERSION= line: it is not FreeBSD\'s freebsd-version script'})
    expect(userlandVersion('USERLAND_VERSION="14.2-RELEASE"\nUSERLAND_VERSION="15.0-RELEASE"\n')._unsafeUnwrapErr().message).toContain('more than one USERLAND_VERSION= line')
    expect(userlandVersion('USERLAND_VERSION="$(id)"\n')._unsafeUnwrapErr().message).toBe('/bin/freebsd-version has "USERLAND_VERSION=\\"$(id)\\"", not a FreeBSD version like USERLAND_VERSION="14.2-RELEASE-p1"')
    expect(userlandVersion('USERLAND_VERSION="@@REVISION@@-@@BRANCH@@"\n').isErr()).toBe(true)
    expect(userlandVersion(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0])).isErr()).toBe(true)
  })

  it('parses the branch forms newvers.sh writes and nothing else', () => {
    expect(rel('15.0-CURRENT')).toMatchObject({major: 15, minor: 0, branch: 'CURRENT', stage: 0, patch: 0})
    expect(rel('14.3-BETA2')).toMatchObject({branch: 'BETA', stage: 2})
    expect(rel('14.2-STABLE')).toMatchObject({branch: 'STABLE'})
    for (const bad of ['14.2', '14.2-BETA', '14.2-RC1-p1', '14.2-STABLE-p1', '14.2-release', 'x.y-RELEASE', '14.2-RELEASE-p']) expect(parseOsRelease(bad)).toBeNull()
  })

  it('compares major.minor, then the branch in time order, and ignores patch levels', () => {
    const c = (g: string, h: string): string => compareRelease(rel(g), rel(h))
    expect(c('14.2-RELEASE-p3', '14.2-RELEASE-p1')).toBe('same')
    expect(c('14.2-RELEASE', '14.2-RELEASE-p5')).toBe('same')
    expect(c('14.3-RELEASE', '14.2-RELEASE')).toBe('newer')
    expect(c('15.0-RELEASE', '14.3-STABLE')).toBe('newer')
    expect(c('13.4-RELEASE-p2', '14.2-RELEASE')).toBe('older')
    expect(c('14.2-STABLE', '14.2-RELEASE')).toBe('newer')
    expect(c('14.3-RC1', '14.3-RELEASE')).toBe('older')
    expect(c('14.3-BETA3', '14.3-BETA2')).toBe('newer')
    expect(c('15.0-CURRENT', '15.0-ALPHA1')).toBe('older')
  })
})

const VNET: AdaptRcOptions = {net: {mode: 'vnet', renames: [{from: 'epair100b', to: 'vtnet0'}]}, delegatedZfs: true, firstboot: false}
const IP4: AdaptRcOptions = {net: {mode: 'ip4'}, delegatedZfs: false, firstboot: false}

describe('rc.conf adaptation', () => {
  it('adapts the official VM image rc.conf: epair renamed, zfs on, growfs off, /firstboot removed, DHCP needs bpf', () => {
    const r = adaptRcConf(fixture('vmimage-rc.conf.txt'), {...VNET, firstboot: true})._unsafeUnwrap()
    expect(r.text).toBe('hostname="freebsd"\nifconfig_DEFAULT="DHCP inet6 accept_rtadv"\ngrowfs_enable="NO"\n# nest migrate vm\nifconfig_epair100b_name="vtnet0"\nzfs_enable="YES"\n')
    expect(r.hostname).toBe('freebsd')
    expect(r.edits.map((e) => [e.file, e.key, e.action, e.from, e.to])).toEqual([
      ['/etc/rc.conf', 'ifconfig_epair100b_name', 'add', undefined, 'vtnet0'],
      ['/etc/rc.conf', 'zfs_enable', 'add', undefined, 'YES'],
      ['/etc/rc.conf', 'growfs_enable', 'set', 'YES', 'NO'],
      ['/firstboot', '/firstboot', 'remove', undefined, undefined],
    ])
    expect(r.edits[0]?.why).toBe('rc.d/netif (KEYWORD: nojailvnet) runs in a VNET jail and renames epair100b to vtnet0 first (network.subr ifnet_rename), so the guest\'s ifconfig_vtnet0 lines configure it')
    expect(r.edits[2]?.why).toContain('rc.d/growfs (KEYWORD: firstboot')
    expect(r.notes).toEqual([{level: 'warning', file: '/etc/rc.conf', key: 'ifconfig_DEFAULT', text: 'ifconfig_DEFAULT asks for DHCP: dhclient in the jail needs /dev/bpf, which the jail rulesets of /etc/defaults/devfs.rules (4 devfsrules_jail, 5 devfsrules_jail_vnet) hide; give the jail a ruleset that unhides bpf (as Bastille\'s bastille_vnet=13 does), or set the current address statically'}])
  })

  it('keeps the static network lines under vnet and removes them under ip4', () => {
    const text = 'hostname="web.example.org"\nifconfig_vtnet0="inet 192.0.2.10 netmask 0xffffff00"\nifconfig_vtnet0_ipv6="inet6 2001:db8::10 prefixlen 64"\ndefaultrouter="192.0.2.1"\nipv6_defaultrouter="2001:db8::1"\nsshd_enable="YES"\npf_enable="YES"\nzfs_enable="YES"\n'
    const v = adaptRcConf(text, VNET)._unsafeUnwrap()
    expect(v.text).toBe(`${text}# nest migrate vm\nifconfig_epair100b_name="vtnet0"\n`)
    expect(v.notes).toEqual([])
    const a = adaptRcConf(text, IP4)._unsafeUnwrap()
    expect(a.text).toBe('hostname="web.example.org"\nsshd_enable="YES"\npf_enable="YES"\nzfs_enable="YES"\n')
    expect(a.edits.map((e) => [e.key, e.action, e.from])).toEqual([
      ['ifconfig_vtnet0', 'remove', 'inet 192.0.2.10 netmask 0xffffff00'],
      ['ifconfig_vtnet0_ipv6', 'remove', 'inet6 2001:db8::10 prefixlen 64'],
      ['defaultrouter', 'remove', '192.0.2.1'],
      ['ipv6_defaultrouter', 'remove', '2001:db8::1'],
    ])
    expect(a.notes.map((n) => n.text)).toEqual(['pf_enable is read by rc.d/pf (KEYWORD: nojailvnet), which does not run in a jail without its own vnet: it has no effect there'])
  })

  it('disables the services a jail cannot run, reports what it ignores or forbids', () => {
    const text = 'ntpd_enable="YES"\npowerd_enable=yes\nmoused_enable="NO"\ndumpdev="AUTO"\nkeymap="fr.acc.kbd"\nkld_list="vmm nmdm"\nrctl_enable="YES"\nkern_securelevel_enable="YES"\nkern_securelevel="2"\n'
    const r = adaptRcConf(text, IP4)._unsafeUnwrap()
    expect(r.text).toBe('ntpd_enable="NO"\npowerd_enable="NO"\nmoused_enable="NO"\ndumpdev="NO"\nkeymap="fr.acc.kbd"\nkld_list="vmm nmdm"\nrctl_enable="YES"\nkern_securelevel_enable="YES"\nkern_securelevel="2"\n')
    expect(r.edits.map((e) => [e.key, e.action, e.from, e.to, e.why])).toEqual([
      ['ntpd_enable', 'set', 'YES', 'NO', 'rc.d/ntpd is KEYWORD: nojail resume shutdown: rc skips it in every jail (libexec/rc/rc), so it cannot run there'],
      ['powerd_enable', 'set', 'yes', 'NO', 'rc.d/powerd is KEYWORD: nojail shutdown: rc skips it in every jail (libexec/rc/rc), so it cannot run there'],
      ['dumpdev', 'set', 'AUTO', 'NO', 'rc.d/dumpon is KEYWORD: nojail: rc skips it in every jail (libexec/rc/rc), so it cannot run there'],
    ])
    expect(r.notes.map((n) => `${n.level} ${n.key}: ${n.text}`)).toEqual([
      'note keymap: keymap has no effect in a jail: rc.d/syscons is KEYWORD: nojail (skipped in every jail)',
      'warning kld_list: kld_list="vmm nmdm": rc.d/kld is KEYWORD: nojail and a jail cannot load modules; load them on the host (its kld_list or loader.conf) before the jail starts',
      'note rctl_enable: rctl_enable has no effect in a jail: rc.d/rctl is KEYWORD: nojail and rctl(8) rules are the host\'s; nest gives the jail its limits from the host',
      'warning kern_securelevel: kern_securelevel=2 with kern_securelevel_enable: rc.d/securelevel (no nojail KEYWORD) raises the jail\'s securelevel, which stops chflags and mounts its own child jails need (Bastille)',
    ])
    expect(r.hostname).toBeNull()
  })

  it('sets zfs_enable only for a delegated dataset, replaces a NO in place, and reads no shell', () => {
    expect(adaptRcConf('zfs_enable="NO"\n', VNET)._unsafeUnwrap().text).toBe('zfs_enable="YES"\n# nest migrate vm\nifconfig_epair100b_name="vtnet0"\n')
    expect(adaptRcConf('zfs_enable="NO"\n', IP4)._unsafeUnwrap().text).toBe('zfs_enable="NO"\n')
    const r = adaptRcConf('hostname="$(hostname -s)"\n', IP4)._unsafeUnwrap()
    expect(r.hostname).toBeNull()
    expect(r.notes[0]?.text).toBe('hostname is not a plain value nest can read without running the shell: left as it is (hostname="$(hostname -s)")')
  })

  it('refuses a rename nest could not write', () => {
    expect(adaptRcConf('', {...VNET, net: {mode: 'vnet', renames: [{from: 'epair100b', to: 'a"b'}]}})._unsafeUnwrapErr().kind).toBe('invalid-input')
    expect(adaptRcConf(new Uint8Array([0]), VNET).isErr()).toBe(true)
  })
})

describe('guest addresses', () => {
  it('reads the installer static form with its hex netmask', () => {
    expect(guestNetwork(fixture('bsdinstall-static-ipv4-rc.conf.txt'), 'vtnet0')._unsafeUnwrap()).toEqual({
      ifname: 'vtnet0', ip4: ['192.0.2.10/24'], ip6: [], dhcp: false, rtadv: false, defaultrouter: '192.0.2.1', ipv6Defaultrouter: null, notes: [],
    })
  })

  it('falls back to ifconfig_DEFAULT: the VM image asks for DHCP and router advertisements', () => {
    expect(guestNetwork(fixture('vmimage-rc.conf.txt'), 'vtnet0')._unsafeUnwrap()).toMatchObject({ip4: [], ip6: [], dhcp: true, rtadv: true, defaultrouter: null})
  })

  it('reads every address form rc.conf(5) gives, aliases in number order up to the first empty one', () => {
    const text = [
      'ifconfig_vtnet0="inet 198.51.100.5 netmask 255.255.255.0 description \'lan side\'"',
      'ifconfig_vtnet0_ipv6="inet6 2001:db8:1::5 prefixlen 64"',
      'ifconfig_vtnet0_alias1="inet 198.51.100.7/32"',
      'ifconfig_vtnet0_alias0="inet 198.51.100.6 netmask 0xffffffff"',
      'ifconfig_vtnet0_alias1_ipv6="inet6 2001:db8:1::7/128"',
      'ifconfig_vtnet0_alias2="198.51.100.8/32"',
      'ifconfig_vtnet0_alias3=""',
      'ifconfig_vtnet0_alias4="inet 198.51.100.99/32"',
      'ifconfig_vtnet0_aliases="inet 203.0.113.1/32 inet6 2001:db8:2::1/64"',
      'ipv4_addrs_vtnet0="203.0.113.2/28 203.0.113.10-12/28"',
      'ifconfig_em0="SYNCDHCP"',
      'defaultrouter="198.51.100.1"',
      'ipv6_defaultrouter="fe80::1%vtnet0"',
      '',
    ].join('\n')
    const n = guestNetwork(text, 'vtnet0')._unsafeUnwrap()
    expect(n.ip4).toEqual(['198.51.100.5/24', '198.51.100.6/32', '198.51.100.7/32', '198.51.100.8/32', '203.0.113.1/32', '203.0.113.2/28'])
    expect(n.ip6).toEqual(['2001:db8:1::5/64', '2001:db8:1::7/128', '2001:db8:2::1/64'])
    expect(n.dhcp).toBe(false)
    expect(n.defaultrouter).toBe('198.51.100.1')
    expect(n.ipv6Defaultrouter).toBeNull()
    expect(n.notes.map((x) => x.text)).toEqual([
      'an address of vtnet0 nest cannot read: 203.0.113.10-12/28: an address range (ipv4_addrs_vtnet0) nest does not expand',
      'ipv6_defaultrouter="fe80::1%vtnet0" is not an address nest can use: fe80::1%vtnet0 is not an IPv6 address',
    ])
    expect(guestNetwork(text, 'em0')._unsafeUnwrap()).toMatchObject({ip4: [], dhcp: true})
  })

  it('reports a missing mask, a non-contiguous one and a legacy ipv6_ifconfig line', () => {
    const n = guestNetwork('ifconfig_vtnet1="inet 192.0.2.20"\nifconfig_vtnet1_alias0="inet 192.0.2.21 netmask 255.0.255.0"\nipv6_ifconfig_vtnet1="2001:db8::20 prefixlen 64"\n', 'vtnet1')._unsafeUnwrap()
    expect(n.ip4).toEqual(['192.0.2.20'])
    expect(n.ip6).toEqual(['2001:db8::20/64'])
    expect(n.notes.map((x) => x.text)).toEqual([
      'an address of vtnet1 nest cannot read: 192.0.2.21 netmask 255.0.255.0: not a mask nest can read',
      '192.0.2.20 has no netmask in the guest\'s rc.conf: give its prefix length with --ip4 192.0.2.20/LEN',
    ])
    expect(maskPrefix('0xffffff00')).toBe(24)
    expect(maskPrefix('255.255.255.255')).toBe(32)
    expect(maskPrefix('0.0.0.0')).toBe(0)
    expect(maskPrefix('0xff00ff00')).toBeNull()
  })
})

describe('guest interfaces of the VM NICs', () => {
  const conf = (text: string): VmConf => parseVmConf(text)._unsafeUnwrap()

  it('names virtio-net and e1000 NICs by type in config order, with MAC and switch', () => {
    const vm = conf(fixture('../vm-bhyve/issue191-bhyveload-two-nics-uuid-macs.conf.txt').toString())
    const r = guestInterfaces(vm, fixture('bsdinstall-static-ipv4-rc.conf.txt'))._unsafeUnwrap()
    expect(r.nics).toEqual([
      {index: 0, type: 'virtio-net', driverName: 'vtnet0', name: 'vtnet0', mac: '58:9c:fc:44:c8:38', switch: 'public', configured: true},
      {index: 1, type: 'virtio-net', driverName: 'vtnet1', name: 'vtnet1', mac: '58:9c:fc:44:2b:61', switch: 'private', configured: false},
    ])
    expect(r.notes).toEqual([])
  })

  it('follows the guest\'s own rename and reports interfaces no NIC becomes', () => {
    const vm = conf('loader="bhyveload"\ncpu=1\nmemory=1G\nnetwork0_type="e1000"\nnetwork0_switch="public"\nnetwork0_mac="58:9c:fc:00:00:01"\nnetwork1_type="virtio-net"\nnetwork1_switch="lan"\nnetwork2_type="e1000"\nnetwork3_type="ne2000"\n')
    const rc = 'ifconfig_vtnet0_name="lan0"\nifconfig_lan0="inet 10.0.0.2/24"\nifconfig_em0="DHCP"\nifconfig_igb0="up"\n'
    const r = guestInterfaces(vm, rc)._unsafeUnwrap()
    expect(r.nics).toEqual([
      {index: 0, type: 'e1000', driverName: 'em0', name: 'em0', mac: '58:9c:fc:00:00:01', switch: 'public', configured: true},
      {index: 1, type: 'virtio-net', driverName: 'vtnet0', name: 'lan0', mac: null, switch: 'lan', configured: true},
      {index: 2, type: 'e1000', driverName: 'em1', name: 'em1', mac: null, switch: null, configured: false},
      {index: 3, type: 'ne2000', driverName: null, name: null, mac: null, switch: null, configured: false},
    ])
    expect(r.notes.map((n) => n.text)).toEqual([
      'network3_type="ne2000" is not a NIC type nest knows the guest driver of (virtio-net, e1000): name its interface yourself',
      'the guest\'s rc.conf configures igb0, which no NIC of the VM becomes: that interface will not exist in the jail',
    ])
  })
})

describe('fstab adaptation', () => {
  it('comments out every line of the official VM image fstab', () => {
    const r = adaptFstab(fixture('vmimage-fstab.txt'), {mountable: JAIL_MOUNT_FS})._unsafeUnwrap()
    expect(r.text).toBe('# Custom /etc/fstab for FreeBSD VM images\n# nest: /dev/gpt/rootfs   /       ufs     rw      1       1\n# nest: /dev/gpt/swapfs  none    swap    sw      0       0\n# nest: /dev/gpt/efiesp\t/boot/efi       msdosfs     rw      2       2\n')
    expect(r.edits.map((e) => [e.key, e.action, e.why])).toEqual([
      ['/', 'remove', "the root: the jail's root is its path on the host, mounted before it starts"],
      ['none', 'remove', 'swap: a jail has no swap of its own (rc.d/swap is KEYWORD: nojail shutdown)'],
      ['/boot/efi', 'remove', '/dev/gpt/efiesp is a disk of the VM, which does not exist in the jail'],
    ])
    expect(r.edits[0]?.from).toBe('/dev/gpt/rootfs   /       ufs     rw      1       1')
    expect(r.params).toEqual([])
    expect(r.allow).toEqual([])
    expect(r.notes).toEqual([])
  })

  it('turns proc and fdesc into jail parameters and keeps what a jail can mount, with its allow.mount.*', () => {
    const text = '# Device\tMountpoint\tFStype\tOptions\tDump\tPass#\n/dev/vtbd0p2\tnone\tswap\tsw\t0\t0\nproc\t/proc\tprocfs\trw\t0\t0\nfdesc /dev/fd fdescfs rw 0 0\ntmpfs /tmp tmpfs rw,mode=1777 0 0\n/usr/local/bastille/releases/14.2-RELEASE /usr/local/bastille/jails/web/root/.bastille nullfs ro 0 0\n/dev/ada1s1 /data ufs rw 2 2\n/dev/diskid/DISK-X /mnt ufs rw,noauto 0 0\nserver:/export /nfs nfs rw 0 0\nbroken line\n'
    const r = adaptFstab(text, {mountable: JAIL_MOUNT_FS})._unsafeUnwrap()
    expect(r.text.split('\n').filter((l) => l.startsWith('# nest: ')).length).toBe(6)
    expect(r.text).toContain('\ntmpfs /tmp tmpfs rw,mode=1777 0 0\n/usr/local/bastille/releases/14.2-RELEASE ')
    expect(r.params).toEqual(['mount.procfs', 'mount.fdescfs'])
    expect(r.allow).toEqual(['allow.mount', 'allow.mount.tmpfs', 'allow.mount.nullfs'])
    expect(r.edits.map((e) => e.why)).toEqual([
      'swap: a jail has no swap of its own (rc.d/swap is KEYWORD: nojail shutdown)',
      'procfs: set mount.procfs on the jail, which jail(8) mounts from the host',
      'fdescfs: set mount.fdescfs on the jail, which jail(8) mounts from the host',
      '/dev/ada1s1 is a disk of the VM, which does not exist in the jail',
      '/dev/diskid/DISK-X is a disk of the VM, which does not exist in the jail',
      'nfs cannot be mounted inside a jail (not a VFCF_JAIL file system)',
    ])
    expect(r.notes.map((n) => n.text)).toEqual([
      'line 10 is not a device, mount point and type: left as it is (broken line)',
      'kept tmpfs, nullfs lines: rc does not mount /etc/fstab in a jail (rc.d/mountcritlocal is KEYWORD: nojail shutdown), so they are mounted only by mount -a inside, which needs allow.mount, allow.mount.tmpfs, allow.mount.nullfs and enforce_statfs below 2 (jail(8)), or from the host through the jail\'s mount.fstab',
    ])
  })

  it('refuses a binary fstab', () => {
    expect(adaptFstab(new Uint8Array([0x2f, 0, 0]), {mountable: JAIL_MOUNT_FS}).isErr()).toBe(true)
  })
})

describe('release note', () => {
  it('warns on a newer userland, notes an older one, says nothing on the same', () => {
    expect(releaseNote(rel('15.0-RELEASE'), rel('14.3-RELEASE-p2'))).toEqual({level: 'warning', file: '/bin/freebsd-version', key: 'USERLAND_VERSION', text: "the guest userland 15.0-RELEASE is newer than the host kernel 14.3-RELEASE-p2: a jail runs the host's kernel, which must be the same or newer than the jail's userland; upgrade the host first"})
    expect(releaseNote(rel('13.4-RELEASE'), rel('14.3-RELEASE'))?.text).toBe('the guest userland 13.4-RELEASE is older than the host kernel 14.3-RELEASE: osrelease and osreldate can be set when the jail is created so that uname -r stays 13.4-RELEASE')
    expect(releaseNote(rel('14.3-RELEASE-p4'), rel('14.3-RELEASE-p1'))).toBeNull()
  })

  it('edits rc.conf.local under its own name', () => {
    const r = adaptRcConf('growfs_enable="YES"\n', {...IP4, file: '/etc/rc.conf.local'})._unsafeUnwrap()
    expect(r.edits.map((e) => e.file)).toEqual(['/etc/rc.conf.local'])
  })
})
