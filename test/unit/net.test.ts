// A jail's network as data: the flags checked before anything changes, the epair unit chosen,
// the rc.conf lines of a VNET jail (libexec/rc/network.subr), nest:net read back defensively,
// and rc.conf edited as sysrc(8) edits it.
import {describe, expect, it} from 'vitest'

import {freeEpairUnit, ifnameProblem, macProblem, netOf, netRequestProblem, parseNet, printNet, rcConfOf, type VnetNet} from '../../src/domain/net.js'
import {rcEdit, rcProblem} from '../../src/domain/rcconf.js'

const vnet = (o: Partial<VnetNet> = {}): VnetNet => ({kind: 'vnet', unit: 100, bridge: 'bridge0', ifname: 'vnet0', ip4: [], ip6: [], routers: [], mac: null, ...o})

describe('the network flags', () => {
  it('accepts what FreeBSD admins write', () => {
    expect(netRequestProblem({vnet: true, ip4: ['192.0.2.10/24'], ip6: ['2001:db8::10/64'], routers: ['192.0.2.1', '2001:db8::1'], mac: '58:9c:fc:00:00:01', bridge: 'vm-public'})).toBeNull()
    expect(netRequestProblem({vnet: true, ip4: ['dhcp'], ip6: ['auto'], routers: []})).toBeNull()
    expect(netRequestProblem({vnet: false, ip4: ['em0|192.0.2.10/24', '192.0.2.11'], ip6: ['2001:db8::10'], routers: []})).toBeNull()
  })
  it('refuses, naming the flag', () => {
    expect(netRequestProblem({vnet: false, ip4: [], ip6: [], routers: ['192.0.2.1']})?.what).toBe('--defaultrouter needs --vnet (a jail without its own network stack uses its creator\'s interfaces and routes)')
    expect(netRequestProblem({vnet: true, ip4: ['em0|192.0.2.10/24'], ip6: [], routers: []})?.what).toBe('--ip4 "em0|192.0.2.10/24": a VNET jail has its own interface: give the address alone')
    expect(netRequestProblem({vnet: false, ip4: ['e m0|192.0.2.10'], ip6: [], routers: []})?.what).toBe('--ip4 "e m0|192.0.2.10": the interface "e m0": it is not letters, digits, "_", "." and "-", starting with a letter (like vnet0, bridge0, vm-public)')
    expect(netRequestProblem({vnet: true, ip4: [], ip6: ['auto', '2001:db8::1/64'], routers: []})?.what).toBe('--ip6 auto takes the address from the network, so it comes alone')
    expect(netRequestProblem({vnet: true, ip4: [], ip6: [], routers: ['gw.example']})?.what).toBe('--defaultrouter "gw.example" is not an IPv4 or IPv6 address')
  })
  it('interface names fit IFNAMSIZ; MACs are unicast', () => {
    expect(ifnameProblem('a23456789012345')).toBeNull()
    expect(ifnameProblem('a234567890123456')).toBe('it is 16 characters long; interface names have at most 15 (IFNAMSIZ)')
    expect(ifnameProblem('0abc')).not.toBeNull()
    expect(ifnameProblem('vnet0;reboot')).not.toBeNull()
    expect(macProblem('02:00:00:00:00:01')).toBeNull()
    expect(macProblem('00:00:00:00:00:00')).toBe('it is all zeros')
    expect(macProblem('58:9c:fc:00:00')).not.toBeNull()
  })
})

describe('the epair unit', () => {
  it('is the lowest from 100 that no jail of the level has and no interface here is', () => {
    expect(freeEpairUnit([], ['lo0', 'epair0a', 'epair0b'])).toBe(100)
    expect(freeEpairUnit([100, 102], ['lo0'])).toBe(101)
    expect(freeEpairUnit([100], ['epair101b'])).toBe(102)
  })
})

describe('rc.conf of a VNET jail', () => {
  it('renames the b side, then configures it under its new name', () => {
    expect(rcConfOf(vnet({ip4: ['192.0.2.10/24', '192.0.2.11/32'], ip6: ['2001:db8::10/64'], routers: ['192.0.2.1', '2001:db8::1']}))).toEqual([
      ['ifconfig_epair100b_name', 'vnet0'], ['ifconfig_vnet0', 'inet 192.0.2.10/24'], ['ifconfig_vnet0_ipv6', 'inet6 2001:db8::10/64'],
      ['ifconfig_vnet0_alias0', 'inet 192.0.2.11/32'], ['defaultrouter', '192.0.2.1'], ['ipv6_defaultrouter', '2001:db8::1'],
    ])
    expect(rcConfOf(vnet({ip4: ['dhcp'], ip6: ['auto']}))).toEqual([['ifconfig_epair100b_name', 'vnet0'], ['ifconfig_vnet0', 'SYNCDHCP'], ['ifconfig_vnet0_ipv6', 'inet6 accept_rtadv']])
    expect(rcConfOf(vnet())).toEqual([['ifconfig_epair100b_name', 'vnet0'], ['ifconfig_vnet0', 'up']])
    // get_if_var: `.-/+` in an interface's name are `_` in its variables' names.
    expect(rcConfOf(vnet({ifname: 'vm-lan.0'}))[1]).toEqual(['ifconfig_vm_lan_0', 'up'])
  })
})

describe('nest:net', () => {
  it('reads back what nest wrote', () => {
    const n = netOf({vnet: true, ip4: ['192.0.2.10/24'], ip6: [], routers: ['192.0.2.1'], mac: '58:9C:FC:00:00:01'}, 100)
    expect(n).toEqual(vnet({ip4: ['192.0.2.10/24'], routers: ['192.0.2.1'], mac: '58:9c:fc:00:00:01'}))
    expect(parseNet(printNet(n as VnetNet))._unsafeUnwrap()).toEqual(n)
    expect(parseNet('-')._unsafeUnwrap()).toBeNull()
    expect(netOf({vnet: false, ip4: [], ip6: [], routers: []}, 0)).toBeNull()
  })
  it('refuses what a parent\'s root could have put there', () => {
    expect(parseNet('{"kind":"vnet","unit":100,"bridge":"bridge0; reboot","ifname":"vnet0","ip4":[],"ip6":[],"routers":[],"mac":null}')._unsafeUnwrapErr()).toBe('nest:net has a malformed epair, bridge or interface')
    expect(parseNet('{"kind":"alias","ip4":["1.2.3.4 $(x)"],"ip6":[]}')._unsafeUnwrapErr()).toBe('nest:net has no address lists')
    expect(parseNet('{"kind":"vnet","unit":99999,"bridge":"bridge0","ifname":"vnet0","ip4":[],"ip6":[],"routers":[],"mac":null}').isErr()).toBe(true)
    expect(parseNet('nonsense')._unsafeUnwrapErr()).toBe('nest:net is not JSON')
    // A terminal escape nest list would print.
    expect(parseNet('{"kind":"alias","ip4":["1.2.3.4\\u001b[2J"],"ip6":[]}').isErr()).toBe(true)
  })
})

describe('rc.conf edited as sysrc does', () => {
  it('replaces the last assignment in place, appends the rest after a comment, keeps every other line', () => {
    const text = '# mine\nhostname="old"\nsshd_enable="YES"\nhostname="older"\n'
    expect(rcEdit(text, [['hostname', 'gw'], ['ifconfig_vnet0', 'inet 192.0.2.10/24']], 'nest')).toBe('# mine\nhostname="old"\nsshd_enable="YES"\nhostname="gw"\n# nest\nifconfig_vnet0="inet 192.0.2.10/24"\n')
    expect(rcEdit('', [['a', '1']], 'c')).toBe('# c\na="1"\n')
    expect(rcEdit('a="1"\nb="2"\n', [['a', null]])).toBe('b="2"\n')
  })
  it('refuses what would need quoting', () => {
    expect(rcProblem('ifconfig_vnet0', 'inet $(reboot)')).toBe('the value of ifconfig_vnet0 would need quoting in rc.conf')
    expect(rcProblem('a-b', 'x')).toBe('"a-b" is not an rc.conf variable name')
    expect(rcProblem('defaultrouter', '192.0.2.1')).toBeNull()
  })
})
