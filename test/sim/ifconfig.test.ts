// Conformance of the simulated ifconfig(8) and interface table with FreeBSD 14.x: one test per
// rule of src/sim/research/ifconfig.md (section named in each title) with the source file it
// was read from.
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {makeSim, type TestSim} from '../helpers/sim.js'

let sim: TestSim
beforeEach(async () => {
  sim = await makeSim()
})
afterEach(() => sim.cleanup())

const ok = async (p: Promise<{code: number; stdout: string; stderr: string}>): Promise<string> => {
  const r = await p
  expect(r.stderr).toBe('')
  expect(r.code).toBe(0)
  return r.stdout
}

/** A vnet jail that may have children (jid). */
async function vnetJail(name: string, from = 0, extra: string[] = []): Promise<number> {
  sim.mkdirs(`/jails/${name}`)
  const path = from === 0 ? `/jails/${name}` : '/'
  const r = await sim.runIn(from, 'jail', '-i', '-c', `name=${name}`, `path=${path}`, 'persist', 'vnet', ...(from === 0 ? ['children.max=5'] : []), ...extra)
  expect(r.stderr).toBe('')
  return Number(r.stdout.trim())
}

async function plainJail(name: string): Promise<number> {
  sim.mkdirs(`/jails/${name}`)
  const r = await sim.run('jail', '-i', '-c', `name=${name}`, `path=/jails/${name}`, 'persist')
  expect(r.stderr).toBe('')
  return Number(r.stdout.trim())
}

describe('§2 creating cloned interfaces (if_clone.c, if_epair.c, ifconfig.c ifcreate_ioctl)', () => {
  it('epair create prints the a side, lowest free unit first; both ends exist and join group epair', async () => {
    expect(await ok(sim.run('ifconfig', 'epair', 'create'))).toBe('epair0a\n')
    expect(await ok(sim.run('ifconfig', 'epair', 'create'))).toBe('epair1a\n')
    expect(await ok(sim.run('ifconfig', '-l'))).toBe('lo0 epair0a epair0b epair1a epair1b\n')
    expect(await ok(sim.run('ifconfig', '-g', 'epair'))).toBe('epair0a\nepair0b\nepair1a\nepair1b\n')
    // A freed unit is reused (ifc_alloc_unit).
    await ok(sim.run('ifconfig', 'epair0a', 'destroy'))
    expect(await ok(sim.run('ifconfig', 'epair', 'create'))).toBe('epair0a\n')
  })

  it('explicit units: epair7 create prints epair7a; bridge3 create prints nothing; bridge create prints bridge0', async () => {
    expect(await ok(sim.run('ifconfig', 'epair7', 'create'))).toBe('epair7a\n')
    expect(await ok(sim.run('ifconfig', 'bridge3', 'create'))).toBe('')
    expect(await ok(sim.run('ifconfig', 'bridge', 'create'))).toBe('bridge0\n')
    expect(await ok(sim.run('ifconfig', 'lo', 'create'))).toBe('lo1\n')
  })

  it('a taken unit: interface epair0 already exists (sample D); the only word create on an existing name', async () => {
    await ok(sim.run('ifconfig', 'epair0', 'create'))
    expect(await sim.run('ifconfig', 'epair0', 'create')).toEqual({code: 1, stdout: '', stderr: 'ifconfig: interface epair0 already exists\n'})
    expect(await sim.run('ifconfig', 'epair0a', 'create')).toEqual({code: 1, stdout: '', stderr: 'ifconfig: interface epair0a already exists\n'})
    // With more words, create is dropped and the rest applied.
    await ok(sim.run('ifconfig', 'epair0a', 'create', 'up'))
    expect((await sim.run('ifconfig', 'epair0a')).stdout).toMatch(/^epair0a: flags=1008843<UP,/)
  })

  it('no cloner matches: SIOCIFCREATE2 (foo0): Invalid argument; leading zero units; too long names', async () => {
    expect(await sim.run('ifconfig', 'foo0', 'create')).toEqual({code: 1, stdout: '', stderr: 'ifconfig: SIOCIFCREATE2 (foo0): Invalid argument\n'})
    expect((await sim.run('ifconfig', 'epair01', 'create')).stderr).toBe('ifconfig: SIOCIFCREATE2 (epair01): Invalid argument\n')
    expect((await sim.run('ifconfig', 'bridge1x', 'create')).stderr).toBe('ifconfig: SIOCIFCREATE2 (bridge1x): Invalid argument\n')
    expect((await sim.run('ifconfig', 'bridge0123456789', 'create')).stderr).toBe('ifconfig: bridge0123456789: cloning name too long\n')
    expect((await sim.run('ifconfig', 'epair99999', 'create')).stderr).toBe('ifconfig: SIOCIFCREATE2 (epair99999): No space left on device\n')
  })

  it('unknown interface: interface X does not exist (ifconfig.c main), exit 1', async () => {
    expect(await sim.run('ifconfig', 'epair0a')).toEqual({code: 1, stdout: '', stderr: 'ifconfig: interface epair0a does not exist\n'})
    expect(await sim.run('ifconfig', 'epair0a', 'up')).toEqual({code: 1, stdout: '', stderr: 'ifconfig: interface epair0a does not exist\n'})
  })

  it('the nesting trap: a moved-in epair0b blocks the wildcard epair create in the jail (epair_handle_unit)', async () => {
    const v = await vnetJail('v')
    await ok(sim.run('ifconfig', 'epair', 'create'))
    await ok(sim.run('ifconfig', 'epair0b', 'vnet', 'v'))
    expect(await sim.runIn(v, 'ifconfig', 'epair', 'create')).toEqual({code: 1, stdout: '', stderr: 'ifconfig: interface epair already exists\n'})
    expect(await ok(sim.runIn(v, 'ifconfig', 'epair5', 'create'))).toBe('epair5a\n')
  })
})

describe('§3 destroy (if_clone.c if_clone_destroy, if_epair.c epair_clone_destroy)', () => {
  it('destroying either end of an epair destroys both, and it leaves its bridge', async () => {
    await ok(sim.run('ifconfig', 'epair', 'create'))
    await ok(sim.run('ifconfig', 'bridge', 'create', 'addm', 'epair0a'))
    await ok(sim.run('ifconfig', 'epair0b', 'destroy'))
    expect(await ok(sim.run('ifconfig', '-l'))).toBe('lo0 bridge0\n')
    expect(await ok(sim.run('ifconfig', 'bridge0'))).not.toContain('member:')
  })

  it('lo0 cannot be destroyed: SIOCIFDESTROY: Invalid argument', async () => {
    expect(await sim.run('ifconfig', 'lo0', 'destroy')).toEqual({code: 1, stdout: '', stderr: 'ifconfig: SIOCIFDESTROY: Invalid argument\n'})
  })

  it('an epair end in a jail goes with its other end destroyed on the host', async () => {
    const v = await vnetJail('v')
    await ok(sim.run('ifconfig', 'epair', 'create'))
    await ok(sim.run('ifconfig', 'epair0b', 'vnet', String(v)))
    await ok(sim.run('ifconfig', 'epair0a', 'destroy'))
    expect(await ok(sim.runIn(v, 'ifconfig', '-l'))).toBe('lo0\n')
  })
})

describe('§4 name (ifconfig.c setifname, if.c if_rename)', () => {
  it('prints the new name; later words apply to it; the group is kept', async () => {
    await ok(sim.run('ifconfig', 'epair', 'create'))
    expect(await ok(sim.run('ifconfig', 'epair0b', 'name', 'eth0', 'inet', '10.0.0.2/24', 'up'))).toBe('eth0\n')
    expect(await ok(sim.run('ifconfig', '-g', 'epair'))).toBe('epair0a\neth0\n')
    expect(await ok(sim.run('ifconfig', 'eth0'))).toContain('\tinet 10.0.0.2 netmask 0xffffff00 broadcast 10.0.0.255\n')
  })

  it('IFNAMSIZ: 16 bytes is File name too long; a taken name is File exists; the name is printed even on a later failure', async () => {
    await ok(sim.run('ifconfig', 'epair', 'create'))
    expect(await sim.run('ifconfig', 'epair0a', 'name', 'a234567890123456')).toEqual({code: 1, stdout: '', stderr: 'ifconfig: ioctl SIOCSIFNAME (set name): File name too long\n'})
    expect(await ok(sim.run('ifconfig', 'epair0a', 'name', 'a23456789012345'))).toBe('a23456789012345\n')
    expect(await sim.run('ifconfig', 'epair0b', 'name', 'a23456789012345')).toEqual({code: 1, stdout: '', stderr: 'ifconfig: ioctl SIOCSIFNAME (set name): File exists\n'})
    expect(await sim.run('ifconfig', 'epair0b', 'name', 'x', 'frobnicate')).toEqual({code: 1, stdout: 'x\n', stderr: 'ifconfig: frobnicate: bad value\n'})
  })

  it('a renamed bridge member stays a member (if_bridge.c bridge_ifdetach IFF_RENAMING)', async () => {
    await ok(sim.run('ifconfig', 'epair', 'create'))
    await ok(sim.run('ifconfig', 'bridge0', 'create', 'addm', 'epair0a'))
    await ok(sim.run('ifconfig', 'epair0a', 'name', 'up0'))
    expect(await ok(sim.run('ifconfig', 'bridge0'))).toContain('\tmember: up0 flags=143<LEARNING,DISCOVER,AUTOEDGE,AUTOPTP>\n')
  })
})

describe('§6 flags, ether and addresses (af_inet.c, af_inet6.c, af_link.c, netinet/in.c)', () => {
  it('up and down; adding an IPv4 address brings the interface up (ether_ioctl)', async () => {
    await ok(sim.run('ifconfig', 'epair', 'create'))
    expect((await sim.run('ifconfig', 'epair0a')).stdout.split('\n')[0]).toBe('epair0a: flags=1008842<BROADCAST,RUNNING,SIMPLEX,MULTICAST,LOWER_UP> metric 0 mtu 1500')
    await ok(sim.run('ifconfig', 'epair0a', 'up'))
    expect((await sim.run('ifconfig', 'epair0a')).stdout.split('\n')[0]).toBe('epair0a: flags=1008843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST,LOWER_UP> metric 0 mtu 1500')
    await ok(sim.run('ifconfig', 'epair0a', 'down'))
    await ok(sim.run('ifconfig', 'epair0b', 'inet', '192.0.2.2/24'))
    expect((await sim.run('ifconfig', 'epair0b')).stdout).toMatch(/^epair0b: flags=1008843<UP,/)
  })

  it('inet without alias replaces the first address, alias adds, -alias deletes, a missing one cannot be deleted', async () => {
    await ok(sim.run('ifconfig', 'epair', 'create'))
    await ok(sim.run('ifconfig', 'epair0a', 'inet', '192.0.2.1/24'))
    await ok(sim.run('ifconfig', 'epair0a', 'inet', '198.51.100.1/24'))
    await ok(sim.run('ifconfig', 'epair0a', 'inet', '203.0.113.1/31', 'alias'))
    await ok(sim.run('ifconfig', 'epair0a', 'inet6', '2001:DB8:0::10/64', 'alias'))
    const s = await ok(sim.run('ifconfig', 'epair0a'))
    expect(s).toContain('\tinet 198.51.100.1 netmask 0xffffff00 broadcast 198.51.100.255\n\tinet 203.0.113.1 netmask 0xfffffffe broadcast 203.0.113.1\n\tinet6 2001:db8::10 prefixlen 64\n')
    expect(s).not.toContain('192.0.2.1')
    await ok(sim.run('ifconfig', 'epair0a', 'inet', '203.0.113.1', '-alias'))
    expect(await ok(sim.run('ifconfig', 'epair0a'))).not.toContain('203.0.113.1')
    expect(await sim.run('ifconfig', 'epair0a', 'inet', '203.0.113.1', '-alias')).toEqual({code: 1, stdout: '', stderr: "ifconfig: ioctl (SIOCDIFADDR): Can't assign requested address\n"})
  })

  it('bad values: width too large, width invalid, bad value; no mask is a warning and the classful default', async () => {
    await ok(sim.run('ifconfig', 'epair', 'create'))
    expect((await sim.run('ifconfig', 'epair0a', 'inet', '192.0.2.10/33')).stderr).toBe('ifconfig: 192.0.2.10/33: bad value (width too large)\n')
    expect((await sim.run('ifconfig', 'epair0a', 'inet', '192.0.2.10/x')).stderr).toBe('ifconfig: 192.0.2.10/x: bad value (width invalid)\n')
    expect(await sim.run('ifconfig', 'epair0a', 'frobnicate')).toEqual({code: 1, stdout: '', stderr: 'ifconfig: frobnicate: bad value\n'})
    const r = await sim.run('ifconfig', 'epair0a', 'inet', '10.1.2.3')
    expect(r).toEqual({code: 0, stdout: '', stderr: 'ifconfig: WARNING: setting interface address without mask is deprecated,\ndefault mask may not be correct.\n'})
    expect(await ok(sim.run('ifconfig', 'epair0a'))).toContain('\tinet 10.1.2.3 netmask 0xff000000 broadcast 10.255.255.255\n')
  })

  it('ether sets the MAC and shows the original as hwaddr (sample C); malformed addresses are refused', async () => {
    await ok(sim.run('ifconfig', 'epair', 'create'))
    const before = await ok(sim.run('ifconfig', 'epair0a'))
    const orig = /\tether (\S+)\n/.exec(before)?.[1] as string
    expect(orig).toMatch(/^02:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}:0a$/)
    expect((await ok(sim.run('ifconfig', 'epair0b'))).includes(`\tether ${orig.slice(0, 15)}0b\n`)).toBe(true)
    await ok(sim.run('ifconfig', 'epair0a', 'ether', '02:AB:cd:ef:1:2'))
    expect(await ok(sim.run('ifconfig', 'epair0a'))).toContain(`\tether 02:ab:cd:ef:01:02\n\thwaddr ${orig}\n`)
    expect(await sim.run('ifconfig', 'epair0a', 'ether', 'zz:00')).toEqual({code: 1, stdout: '', stderr: 'ifconfig: malformed link-level address\n'})
    expect(await sim.run('ifconfig', 'epair0a', 'ether', '02:00')).toEqual({code: 1, stdout: '', stderr: 'ifconfig: ioctl (SIOCAIFADDR): Invalid argument\n'})
    expect((await sim.run('ifconfig', 'lo0', 'ether', '02:00:00:00:00:01')).stderr).toBe('ifconfig: ioctl (SIOCAIFADDR): Invalid argument\n')
  })
})

describe('ND6 flags and a vnet lo0 coming up (netinet6/nd6.h ND6_IFF_*, af_inet6.c setnd6flags, in6_ifattach.c)', () => {
  it('inet6 -ifdisabled clears IFDISABLED, accept_rtadv sets ACCEPT_RTADV; a move resets them', async () => {
    const v = await vnetJail('v')
    await ok(sim.run('ifconfig', 'epair', 'create'))
    expect(await ok(sim.run('ifconfig', 'epair0a'))).toContain('\tnd6 options=29<PERFORMNUD,IFDISABLED,AUTO_LINKLOCAL>\n')
    await ok(sim.run('ifconfig', 'epair0a', 'inet6', '-ifdisabled', 'accept_rtadv'))
    expect(await ok(sim.run('ifconfig', 'epair0a'))).toContain('\tnd6 options=23<PERFORMNUD,ACCEPT_RTADV,AUTO_LINKLOCAL>\n')
    await ok(sim.run('ifconfig', 'epair0b', 'inet6', '-ifdisabled'))
    await ok(sim.run('ifconfig', 'epair0b', 'vnet', 'v'))
    expect(await ok(sim.runIn(v, 'ifconfig', 'epair0b'))).toContain('\tnd6 options=29<PERFORMNUD,IFDISABLED,AUTO_LINKLOCAL>\n')
  })

  it('a vnet jail\'s lo0 gets ::1 and fe80::1 when it comes up, as the host\'s has them', async () => {
    const v = await vnetJail('v')
    expect(await ok(sim.runIn(v, 'ifconfig', 'lo0'))).not.toContain('inet6')
    await ok(sim.runIn(v, 'ifconfig', 'lo0', 'inet', '127.0.0.1/8', 'alias'))
    const lo0 = await ok(sim.runIn(v, 'ifconfig', 'lo0'))
    expect(lo0).toContain('\tinet6 ::1 prefixlen 128\n')
    expect(lo0).toMatch(/\tinet6 fe80::1%lo0 prefixlen 64 scopeid 0x[0-9a-f]+\n/)
  })
})

describe('§7/§8 listings (ifgroup.c, ifconfig_netlink.c status_nl, ifbridge.c bridge_status)', () => {
  it('the host has lo0 up with the loopback addresses; -g of an unknown group prints nothing, exit 0', async () => {
    expect(await ok(sim.run('ifconfig'))).toBe(
      'lo0: flags=1008049<UP,LOOPBACK,RUNNING,MULTICAST,LOWER_UP> metric 0 mtu 16384\n' +
      '\toptions=680003<RXCSUM,TXCSUM,LINKSTATE,RXCSUM_IPV6,TXCSUM_IPV6>\n' +
      '\tinet 127.0.0.1 netmask 0xff000000\n' +
      '\tinet6 ::1 prefixlen 128\n' +
      '\tinet6 fe80::1%lo0 prefixlen 64 scopeid 0x1\n' +
      '\tgroups: lo\n' +
      '\tnd6 options=21<PERFORMNUD,AUTO_LINKLOCAL>\n',
    )
    expect(await sim.run('ifconfig', '-g', 'nothing')).toEqual({code: 0, stdout: '', stderr: ''})
  })

  it('an epair end and a bridge with a member, as composed in §12b', async () => {
    await ok(sim.run('ifconfig', 'epair', 'create'))
    expect(await ok(sim.run('ifconfig', 'bridge0', 'create'))).toBe('')
    await ok(sim.run('ifconfig', 'bridge0', 'inet', '192.0.2.1/24', 'addm', 'epair0a', 'up'))
    await ok(sim.run('ifconfig', 'epair0a', 'up'))
    const e = (await ok(sim.run('ifconfig', 'epair0a'))).replace(/ether \S+/, 'ether M')
    expect(e).toBe(
      'epair0a: flags=1008943<UP,BROADCAST,RUNNING,PROMISC,SIMPLEX,MULTICAST,LOWER_UP> metric 0 mtu 1500\n' +
      '\toptions=8<VLAN_MTU>\n\tether M\n\tgroups: epair\n' +
      '\tmedia: Ethernet 10Gbase-T (10Gbase-T <full-duplex>)\n\tstatus: active\n' +
      '\tnd6 options=29<PERFORMNUD,IFDISABLED,AUTO_LINKLOCAL>\n',
    )
    const b = (await ok(sim.run('ifconfig', 'bridge0'))).replace(/ether \S+/, 'ether M')
    expect(b).toBe(
      'bridge0: flags=1008843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST,LOWER_UP> metric 0 mtu 1500\n' +
      '\toptions=0\n\tether M\n' +
      '\tinet 192.0.2.1 netmask 0xffffff00 broadcast 192.0.2.255\n' +
      '\tid 00:00:00:00:00:00 priority 32768 hellotime 2 fwddelay 15\n' +
      '\tmaxage 20 holdcnt 6 proto rstp maxaddr 2000 timeout 1200\n' +
      '\troot id 00:00:00:00:00:00 priority 32768 ifcost 0 port 0\n' +
      '\tmember: epair0a flags=143<LEARNING,DISCOVER,AUTOEDGE,AUTOPTP>\n' +
      '\t        ifmaxaddr 0 port 2 priority 128 path cost 2000\n' +
      '\tgroups: bridge\n\tnd6 options=9<PERFORMNUD,IFDISABLED>\n',
    )
  })

  it('bridge members are listed newest first (bridge_ioctl_add LIST_INSERT_HEAD)', async () => {
    await ok(sim.run('ifconfig', 'epair', 'create'))
    await ok(sim.run('ifconfig', 'epair', 'create'))
    await ok(sim.run('ifconfig', 'bridge', 'create', 'addm', 'epair0a', 'addm', 'epair1a'))
    expect((await ok(sim.run('ifconfig', 'bridge0'))).match(/member: (\S+)/g)).toEqual(['member: epair1a', 'member: epair0a'])
  })
})

describe('§9 addm/deletem (if_bridge.c bridge_ioctl_add/_del)', () => {
  it('already a member: File exists (sample E); another bridge: Device busy; lo0: Invalid argument; missing: No such file', async () => {
    await ok(sim.run('ifconfig', 'epair', 'create'))
    await ok(sim.run('ifconfig', 'bridge', 'create', 'addm', 'epair0a'))
    await ok(sim.run('ifconfig', 'bridge', 'create'))
    expect(await sim.run('ifconfig', 'bridge0', 'addm', 'epair0a')).toEqual({code: 1, stdout: '', stderr: 'ifconfig: BRDGADD epair0a: File exists\n'})
    expect((await sim.run('ifconfig', 'bridge1', 'addm', 'epair0a')).stderr).toBe('ifconfig: BRDGADD epair0a: Device busy\n')
    expect((await sim.run('ifconfig', 'bridge1', 'addm', 'lo0')).stderr).toBe('ifconfig: BRDGADD lo0: Invalid argument\n')
    expect((await sim.run('ifconfig', 'bridge1', 'addm', 'epair9a')).stderr).toBe('ifconfig: BRDGADD epair9a: No such file or directory\n')
    expect((await sim.run('ifconfig', 'bridge1', 'deletem', 'epair0a')).stderr).toBe('ifconfig: BRDGDEL epair0a: No such file or directory\n')
    await ok(sim.run('ifconfig', 'bridge0', 'deletem', 'epair0a'))
    expect(await ok(sim.run('ifconfig', 'epair0a'))).not.toContain('PROMISC')
  })

  it("requires its argument: 'addm' requires argument", async () => {
    await ok(sim.run('ifconfig', 'bridge', 'create'))
    expect(await sim.run('ifconfig', 'bridge0', 'addm')).toEqual({code: 1, stdout: '', stderr: "ifconfig: 'addm' requires argument\n"})
  })
})

describe('§10 vnet moves (if.c if_vmove_loan/if_vmove_reclaim/vnet_if_return)', () => {
  it('a new vnet jail sees only its own lo0, down, without addresses (sample B)', async () => {
    const v = await vnetJail('v')
    await ok(sim.run('ifconfig', 'epair', 'create'))
    expect(await ok(sim.runIn(v, 'ifconfig'))).toBe(
      'lo0: flags=8008<LOOPBACK,MULTICAST> metric 0 mtu 16384\n' +
      '\toptions=680003<RXCSUM,TXCSUM,LINKSTATE,RXCSUM_IPV6,TXCSUM_IPV6>\n' +
      '\tgroups: lo\n\tnd6 options=21<PERFORMNUD,AUTO_LINKLOCAL>\n',
    )
    expect((await sim.runIn(v, 'ifconfig', 'epair0a')).stderr).toBe('ifconfig: interface epair0a does not exist\n')
  })

  it('moving clears UP, addresses, bridge membership and extra groups; keeps name, MAC and index; appended last', async () => {
    const v = await vnetJail('v')
    await ok(sim.run('ifconfig', 'epair', 'create'))
    await ok(sim.run('ifconfig', 'bridge', 'create', 'addm', 'epair0b'))
    await ok(sim.run('ifconfig', 'epair0b', 'inet', '192.0.2.2/24'))
    const mac = /\tether (\S+)/.exec(await ok(sim.run('ifconfig', 'epair0b')))?.[1] as string
    expect(await ok(sim.run('ifconfig', 'epair0b', 'vnet', 'v'))).toBe('')
    expect(await ok(sim.run('ifconfig', '-l'))).toBe('lo0 epair0a bridge0\n')
    expect(await ok(sim.run('ifconfig', 'bridge0'))).not.toContain('member:')
    const inJail = await ok(sim.runIn(v, 'ifconfig', 'epair0b'))
    expect(inJail.split('\n')[0]).toBe('epair0b: flags=1008842<BROADCAST,RUNNING,SIMPLEX,MULTICAST,LOWER_UP> metric 0 mtu 1500')
    expect(inJail).toContain(`\tether ${mac}\n`)
    expect(inJail).not.toContain('inet')
    expect(await ok(sim.runIn(v, 'ifconfig', '-l'))).toBe('lo0 epair0b\n')
    expect(sim.kernel().ifnets.find((i) => i.name === 'epair0b')).toMatchObject({index: 4, home: 0, vnet: v})
  })

  it('into a non-vnet jail: File exists; an unknown jid: Device not configured; an unknown name: jail "x" not found', async () => {
    const p = await plainJail('p')
    await ok(sim.run('ifconfig', 'epair', 'create'))
    expect(await sim.run('ifconfig', 'epair0b', 'vnet', String(p))).toEqual({code: 1, stdout: '', stderr: 'ifconfig: SIOCSIFVNET: File exists\n'})
    expect((await sim.run('ifconfig', 'epair0b', 'vnet', '77')).stderr).toBe('ifconfig: SIOCSIFVNET: Device not configured\n')
    expect((await sim.run('ifconfig', 'epair0b', 'vnet', 'x')).stderr).toBe('ifconfig: jail "x" not found\n')
    expect((await sim.run('ifconfig', 'epair0b', 'vnet')).stderr).toBe("ifconfig: 'vnet' requires argument\n")
  })

  it('only into children: a sibling vnet jail is Device not configured from inside another jail', async () => {
    const a = await vnetJail('a')
    await vnetJail('b')
    await ok(sim.runIn(a, 'ifconfig', 'epair', 'create'))
    expect((await sim.runIn(a, 'ifconfig', 'epair0b', 'vnet', '2')).stderr).toBe('ifconfig: SIOCSIFVNET: Device not configured\n')
  })

  it('-vnet takes the interface back into the caller\'s vnet; one not there: SIOCSIFRVNET(jid, name): Device not configured', async () => {
    const v = await vnetJail('v')
    await ok(sim.run('ifconfig', 'epair', 'create'))
    await ok(sim.run('ifconfig', 'epair0b', 'vnet', 'v'))
    await ok(sim.runIn(v, 'ifconfig', 'epair0b', 'inet', '10.0.0.2/24'))
    expect(await ok(sim.run('ifconfig', 'epair0b', '-vnet', 'v'))).toBe('')
    expect(await ok(sim.run('ifconfig', 'epair0b'))).not.toContain('inet ')
    expect(await sim.run('ifconfig', 'epair0b', '-vnet', String(v))).toEqual({code: 1, stdout: '', stderr: `ifconfig: SIOCSIFRVNET(${v}, epair0b): Device not configured\n`})
    expect((await sim.run('ifconfig', 'epair0123456789ab', '-vnet', 'v')).stderr).toBe('ifconfig: epair0123456789ab: interface name too long\n')
  })

  it('a name taken in the target vnet: SIOCSIFVNET: File exists', async () => {
    const v = await vnetJail('v')
    await ok(sim.runIn(v, 'ifconfig', 'epair', 'create'))
    await ok(sim.run('ifconfig', 'epair', 'create'))
    expect((await sim.run('ifconfig', 'epair0b', 'vnet', 'v')).stderr).toBe('ifconfig: SIOCSIFVNET: File exists\n')
  })
})

describe('§10.1 jail death (if.c vnet_if_return, if_clone.c if_clone_detach)', () => {
  it('moved-in interfaces return home down, without addresses, keeping a rename; those created inside are destroyed', async () => {
    const v = await vnetJail('v')
    await ok(sim.run('ifconfig', 'epair', 'create'))
    await ok(sim.run('ifconfig', 'epair0b', 'vnet', 'v'))
    await ok(sim.runIn(v, 'ifconfig', 'epair0b', 'name', 'eth0', 'inet', '10.0.0.2/24'))
    await ok(sim.runIn(v, 'ifconfig', 'bridge', 'create'))
    await ok(sim.runIn(v, 'ifconfig', 'epair', 'create'))
    await ok(sim.run('jail', '-r', 'v'))
    expect(await ok(sim.run('ifconfig', '-l'))).toBe('lo0 epair0a eth0\n')
    const eth0 = await ok(sim.run('ifconfig', 'eth0'))
    expect(eth0).toMatch(/^eth0: flags=1008842</)
    expect(eth0).not.toContain('inet ')
    expect(sim.kernel().ifnets.every((i) => i.vnet === 0 && i.home === 0)).toBe(true)
  })

  it('nested: an interface passed down two levels returns to its home (the host), not the parent', async () => {
    const a = await vnetJail('a')
    const b = await vnetJail('b', a)
    await ok(sim.run('ifconfig', 'epair', 'create'))
    await ok(sim.run('ifconfig', 'epair0b', 'vnet', 'a'))
    // PRIV_NET_SETIFVNET is granted to vnet jails: a passes it on to its child.
    await ok(sim.runIn(a, 'ifconfig', 'epair0b', 'vnet', 'b'))
    expect(await ok(sim.runIn(b, 'ifconfig', '-l'))).toBe('lo0 epair0b\n')
    // An epair made in a (its own unit 0) and moved into b returns to a, appended last.
    await ok(sim.runIn(a, 'ifconfig', 'epair', 'create'))
    await ok(sim.runIn(a, 'ifconfig', 'epair0a', 'vnet', 'b'))
    await ok(sim.runIn(a, 'jail', '-r', 'b'))
    expect(await ok(sim.run('ifconfig', '-l'))).toBe('lo0 epair0a epair0b\n')
    expect(await ok(sim.runIn(a, 'ifconfig', '-l'))).toBe('lo0 epair0b epair0a\n')
    // With a, its own epair is destroyed; the host's stays.
    await ok(sim.run('jail', '-r', 'a'))
    expect(sim.kernel().ifnets.map((i) => i.name)).toEqual(['lo0', 'epair0a', 'epair0b'])
  })

  it('an interface renamed inside comes home under its name even when home has one like it (if_vmove: no name check); ifunit finds the first', async () => {
    const v = await vnetJail('v')
    await ok(sim.run('ifconfig', 'bridge0', 'create'))
    await ok(sim.run('ifconfig', 'epair', 'create'))
    await ok(sim.run('ifconfig', 'epair0b', 'vnet', 'v'))
    await ok(sim.runIn(v, 'ifconfig', 'epair0b', 'name', 'bridge0'))
    await ok(sim.run('jail', '-r', 'v'))
    expect(await ok(sim.run('ifconfig', '-l'))).toBe('lo0 bridge0 epair0a bridge0\n')
    expect(await ok(sim.run('ifconfig', 'bridge0'))).toMatch(/\tgroups: bridge\n/)
    // Destroying the epair takes the returned one; the bridge stays.
    await ok(sim.run('ifconfig', 'epair0a', 'destroy'))
    expect(await ok(sim.run('ifconfig', '-l'))).toBe('lo0 bridge0\n')
  })
})

describe('§11 permissions in a non-vnet jail (kern_jail.c prison_priv_check)', () => {
  it('reads the host table; every change fails with the EPERM texts', async () => {
    await ok(sim.run('ifconfig', 'epair', 'create'))
    await ok(sim.run('ifconfig', 'bridge', 'create'))
    const p = await plainJail('p')
    const v = await vnetJail('v')
    expect(await ok(sim.runIn(p, 'ifconfig', '-l'))).toBe('lo0 epair0a epair0b bridge0\n')
    const fails: Array<[string[], string]> = [
      [['epair', 'create'], 'ifconfig: SIOCIFCREATE2 (epair): Operation not permitted\n'],
      [['epair0a', 'destroy'], 'ifconfig: SIOCIFDESTROY: Operation not permitted\n'],
      [['epair0a', 'up'], 'ifconfig: up: permission denied\n'],
      [['epair0a', 'inet', '192.0.2.1/24', 'alias'], 'ifconfig: ioctl (SIOCAIFADDR): permission denied\n'],
      [['epair0a', 'name', 'x'], 'ifconfig: ioctl SIOCSIFNAME (set name): Operation not permitted\n'],
      [['epair0a', 'vnet', String(v)], 'ifconfig: SIOCSIFVNET: Operation not permitted\n'],
      [['bridge0', 'addm', 'epair0a'], 'ifconfig: BRDGADD epair0a: Operation not permitted\n'],
      [['epair0a', 'ether', '02:00:00:00:00:01'], 'ifconfig: ioctl (SIOCAIFADDR): permission denied\n'],
    ]
    for (const [args, text] of fails) expect(await sim.runIn(p, 'ifconfig', ...args)).toEqual({code: 1, stdout: '', stderr: text})
    expect(await ok(sim.run('ifconfig', '-l'))).toBe('lo0 epair0a epair0b bridge0\n')
  })

  it('a jail with an ip4 list sees only its own addresses; one that inherits sees all', async () => {
    await ok(sim.run('ifconfig', 'epair', 'create'))
    await ok(sim.run('ifconfig', 'epair0a', 'inet', '192.0.2.1/24'))
    await ok(sim.run('ifconfig', 'epair0a', 'inet', '192.0.2.2/24', 'alias'))
    sim.mkdirs('/jails/r', '/jails/i')
    const r = Number((await sim.run('jail', '-i', '-c', 'name=r', 'path=/jails/r', 'persist', 'ip4.addr=192.0.2.2')).stdout.trim())
    const i = Number((await sim.run('jail', '-i', '-c', 'name=i', 'path=/jails/i', 'persist', 'ip4=inherit')).stdout.trim())
    const seen = (s: string): string[] => [...s.matchAll(/\tinet (\S+)/g)].map((m) => m[1] as string)
    expect(seen(await ok(sim.runIn(r, 'ifconfig', 'epair0a')))).toEqual(['192.0.2.2'])
    expect(seen(await ok(sim.runIn(i, 'ifconfig', 'epair0a')))).toEqual(['192.0.2.1', '192.0.2.2'])
  })

  it('the tool runs as a process through its shim (<root>/bin/ifconfig)', async () => {
    expect(await sim.spawnTool('ifconfig', 'epair', 'create')).toEqual({code: 0, stdout: 'epair0a\n', stderr: ''})
    expect((await sim.spawnTool('ifconfig', '-l')).stdout).toBe('lo0 epair0a epair0b\n')
  })

  it('unmodelled words and options are refused loudly (exit 69)', async () => {
    await ok(sim.run('ifconfig', 'epair', 'create'))
    expect((await sim.run('ifconfig', 'epair0a', 'mtu', '9000')).code).toBe(69)
    expect((await sim.run('ifconfig', '-v')).code).toBe(69)
    expect((await sim.run('ifconfig', 'tap', 'create')).code).toBe(69)
  })
})

describe('a host saved before the interface table existed', () => {
  it('loads with the host interfaces a fresh host has, and ifconfig works on it', async () => {
    const file = path.join(sim.root, 'kernel.json')
    const k = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
    delete k['ifnets']
    delete k['ifMacSeq']
    writeFileSync(file, JSON.stringify(k))
    expect(await sim.run('ifconfig', '-l')).toEqual({code: 0, stdout: 'lo0\n', stderr: ''})
    expect((await sim.run('ifconfig', 'epair', 'create')).stdout).toBe('epair0a\n')
    expect((await sim.run('ifconfig', '-l')).stdout).toBe('lo0 epair0a epair0b\n')
  })
})
