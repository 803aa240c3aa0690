// Networking inside jails: the emulated /etc/rc's rc.d/netif and rc.d/routing, route(8) and
// ping(8) over the model. Each rule's source is named in its test and in src/sim/FIDELITY.md
// ("Networking inside jails: rc, route, ping").
import {execFileSync} from 'node:child_process'
import {mkdirSync, readFileSync, symlinkSync, writeFileSync} from 'node:fs'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {makeSim, type TestSim} from '../helpers/sim.js'

let sim: TestSim
beforeEach(async () => {
  sim = await makeSim()
})
afterEach(() => sim.cleanup())

type R = {code: number; stdout: string; stderr: string}
const ok = async (p: Promise<R>): Promise<string> => {
  const r = await p
  expect(r.stderr).toBe('')
  expect(r.code).toBe(0)
  return r.stdout
}

/** A vnet jail made from `from` (jid), its root at host path `root`; its jid. */
async function vnetJail(name: string, from = 0, root = `/jails/${name}`, inside = root): Promise<number> {
  sim.mkdirs(`${root}/etc`)
  const r = await sim.runIn(from, 'jail', '-i', '-c', `name=${name}`, `path=${inside}`, 'persist', 'vnet', 'children.max=2')
  expect(r.stderr).toBe('')
  return Number(r.stdout.trim())
}

/** An epair made in `from`'s vnet: its a side renamed `a` stays, its b side renamed `b` goes to jail `to`. */
async function wire(from: number, a: string, b: string, to: string): Promise<void> {
  const made = (await ok(sim.runIn(from, 'ifconfig', 'epair', 'create'))).trim()
  await ok(sim.runIn(from, 'ifconfig', made, 'name', a))
  await ok(sim.runIn(from, 'ifconfig', `${made.slice(0, -1)}b`, 'name', b))
  await ok(sim.runIn(from, 'ifconfig', b, 'vnet', to))
}

const rcConf = (root: string, text: string, file = 'rc.conf'): void => writeFileSync(sim.fs(`${root}/etc/${file}`), text)
const boot = (jail: string): Promise<R> => sim.run('jexec', jail, '/bin/sh', '/etc/rc')
const vnet0 = (k: ReturnType<TestSim['kernel']>, vnet: number, name: string) => k.ifnets.find((i) => i.vnet === vnet && i.name === name)

/** The lines nest writes for `--vnet --ip4 192.0.2.10/24 --ip6 2001:db8::10/64` (issue 12). */
const NEST_RC = 'ifconfig_e0b_gw_name="vnet0"\nifconfig_vnet0="inet 192.0.2.10/24"\ndefaultrouter="192.0.2.1"\nifconfig_vnet0_ipv6="inet6 2001:db8::10/64"\nipv6_defaultrouter="2001:db8::1"\n'

/** The host's side: e0a_gw with 192.0.2.1/24 and 2001:db8::1/64; gw a vnet jail holding e0b_gw. */
async function hostAndGw(): Promise<number> {
  const gw = await vnetJail('gw')
  await wire(0, 'e0a_gw', 'e0b_gw', 'gw')
  await ok(sim.run('ifconfig', 'e0a_gw', 'inet', '192.0.2.1/24', 'up'))
  await ok(sim.run('ifconfig', 'e0a_gw', 'inet6', '2001:db8::1/64'))
  return gw
}

const LO0_UP = 'lo0: flags=1008049<UP,LOOPBACK,RUNNING,MULTICAST,LOWER_UP> metric 0 mtu 16384\n\toptions=680003<RXCSUM,TXCSUM,LINKSTATE,RXCSUM_IPV6,TXCSUM_IPV6>\n\tinet 127.0.0.1 netmask 0xff000000\n\tgroups: lo\n\tnd6 options=21<PERFORMNUD,AUTO_LINKLOCAL>\n'
/** rc.d/routing static_inet6: the fixed routes before the default (route.c newroute's lines). */
const V6_FIXED = 'add host ::1: gateway lo0\nadd net fe80::: gateway ::1\nadd net ff02::: gateway ::1\nadd net ::ffff:0.0.0.0: gateway ::1\nadd net ::0.0.0.0: gateway ::1\n'

describe('/etc/rc in a vnet jail: rc.d/netif and rc.d/routing (libexec/rc @023fc80e, network.subr)', () => {
  it("nest's rc.conf: rename, addresses, up, the status of each interface, then the routes", async () => {
    const gw = await hostAndGw()
    rcConf('/jails/gw', NEST_RC)
    const r = await boot('gw')
    // ifnet_rename prints the new name (ifconfig's printifnamemaybe); netif_common's startmsg,
    // then `ifconfig IF` for each; static_inet's loopback route is there already (EEXIST).
    expect(r.stdout).toBe(
      'vnet0\n' +
      'Starting Network: lo0 vnet0.\n' +
      LO0_UP +
      'vnet0: flags=1008843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST,LOWER_UP> metric 0 mtu 1500\n\toptions=8<VLAN_MTU>\n' +
      `\tether ${vnet0(sim.kernel(), gw, 'vnet0')?.ether}\n` +
      '\tinet 192.0.2.10 netmask 0xffffff00 broadcast 192.0.2.255\n\tinet6 2001:db8::10 prefixlen 64\n\tgroups: epair\n' +
      '\tmedia: Ethernet 10Gbase-T (10Gbase-T <full-duplex>)\n\tstatus: active\n\tnd6 options=29<PERFORMNUD,IFDISABLED,AUTO_LINKLOCAL>\n' +
      'add host 127.0.0.1: gateway lo0 fib 0: route already in table\n' +
      'add net default: gateway 192.0.2.1\n' +
      V6_FIXED +
      'add net default: gateway 2001:db8::1\n',
    )
    // ifconfig_up runs `ifconfig vnet0 inet6 -ifdisabled` first: the ND6 flag is not modelled, refused loudly.
    expect(r.stderr).toBe('sim: ifconfig: ifconfig -ifdisabled: not simulated\n')
    expect(r.code).toBe(0)
    const k = sim.kernel()
    expect(vnet0(k, gw, 'vnet0')?.addrs).toEqual([{af: 'inet', addr: '192.0.2.10', plen: 24}, {af: 'inet6', addr: '2001:db8::10', plen: 64}])
    expect(k.routes.filter((x) => x.vnet === gw && x.dst === '0.0.0.0' || x.vnet === gw && x.dst === '::' && x.plen === 0).map((x) => [x.af, x.gateway])).toEqual([['inet', '192.0.2.1'], ['inet6', '2001:db8::1']])
    expect(await ok(sim.runIn(gw, 'sysctl', '-n', 'net.inet.ip.forwarding'))).toBe('0\n')
    // The daemons are started as before.
    expect(k.jails.find((j) => j.jid === gw)?.daemons).toBe(1)
  })

  it('a jail without its own vnet skips netif and routing (KEYWORD: nojailvnet)', async () => {
    sim.mkdirs('/jails/web/etc')
    const jid = Number((await ok(sim.run('jail', '-i', '-c', 'name=web', 'path=/jails/web', 'persist'))).trim())
    rcConf('/jails/web', 'ifconfig_lo0="inet 127.0.0.2/8"\ndefaultrouter="192.0.2.1"\ngateway_enable="YES"\n')
    expect(await boot('web')).toEqual({code: 0, stdout: '', stderr: ''})
    expect(sim.kernel().routes).toEqual([])
    expect(sim.kernel().jails.find((j) => j.jid === jid)?.daemons).toBe(1)
  })

  it("a VNET parent's cloned lo1 and gateway_enable: clone_up's line, options_inet's line, forwarding on in its vnet only", async () => {
    const gw = await hostAndGw()
    rcConf('/jails/gw', `${NEST_RC}cloned_interfaces="lo1"\nifconfig_lo1="inet 10.0.0.1/24"\ngateway_enable="YES"\nrc_startmsgs="NO"\n`)
    const r = await boot('gw')
    expect(r.stdout).toBe(
      'Created clone interfaces: lo1.\nvnet0\n' +
      'add host 127.0.0.1: gateway lo0 fib 0: route already in table\nadd net default: gateway 192.0.2.1\n' +
      'Additional inet routing options: gateway=YES.\n' +
      V6_FIXED + 'add net default: gateway 2001:db8::1\n',
    )
    expect(r.code).toBe(0)
    expect(vnet0(sim.kernel(), gw, 'lo1')?.addrs).toEqual([{af: 'inet', addr: '10.0.0.1', plen: 24}])
    expect(await ok(sim.runIn(gw, 'sysctl', 'net.inet.ip.forwarding'))).toBe('net.inet.ip.forwarding: 1\n')
    expect(await ok(sim.run('sysctl', '-n', 'net.inet.ip.forwarding'))).toBe('0\n')
  })

  it('rc.conf is data: a line of other shell is reported with its line number and skipped, the rest applies', async () => {
    const gw = await hostAndGw()
    rcConf('/jails/gw', 'ifconfig_e0b_gw_name="vnet0"\n# a comment\nif [ -x /bin/sh ]; then defaultrouter=192.0.2.1; fi\nifconfig_vnet0="inet $ADDR"\nifconfig_vnet0=\'inet 192.0.2.10/24\' # the address\nrc_startmsgs=NO\n')
    const r = await boot('gw')
    expect(r.stderr).toBe(
      'sim: /etc/rc: /etc/rc.conf line 3: if [ -x /bin/sh ]; then defaultrouter=192.0.2.1; fi: only name=value assignments are read, this line is skipped: not simulated\n' +
      'sim: /etc/rc: /etc/rc.conf line 4: ifconfig_vnet0="inet $ADDR": only name=value assignments are read, this line is skipped: not simulated\n',
    )
    expect(r.stdout).toBe(`vnet0\nadd host 127.0.0.1: gateway lo0 fib 0: route already in table\n${V6_FIXED}`)
    expect(r.code).toBe(0)
    expect(vnet0(sim.kernel(), gw, 'vnet0')?.addrs).toEqual([{af: 'inet', addr: '192.0.2.10', plen: 24}])
  })

  it('rc.conf.local is read after rc.conf; get_if_var maps .-/+ to _ (e0b_gw.x is configured by ifconfig_e0b_gw_x_name)', async () => {
    const gw = await vnetJail('gw')
    const made = (await ok(sim.run('ifconfig', 'epair', 'create'))).trim()
    await ok(sim.run('ifconfig', `${made.slice(0, -1)}b`, 'name', 'e0b.g-w'))
    await ok(sim.run('ifconfig', 'e0b.g-w', 'vnet', 'gw'))
    rcConf('/jails/gw', 'ifconfig_e0b_g_w_name="net1"\nifconfig_net1="inet 192.0.2.10/24"\nrc_startmsgs="NO"\n')
    rcConf('/jails/gw', 'ifconfig_net1="inet 192.0.2.20/24"\n', 'rc.conf.local')
    expect((await boot('gw')).stdout).toBe(`net1\nadd host 127.0.0.1: gateway lo0 fib 0: route already in table\n${V6_FIXED}`)
    expect(vnet0(sim.kernel(), gw, 'net1')?.addrs).toEqual([{af: 'inet', addr: '192.0.2.20', plen: 24}])
  })

  it('SYNCDHCP: dhclient is not simulated, said on stderr; the interface is still brought up', async () => {
    const gw = await hostAndGw()
    rcConf('/jails/gw', 'ifconfig_e0b_gw_name="vnet0"\nifconfig_vnet0="SYNCDHCP"\nrc_startmsgs="NO"\n')
    const r = await boot('gw')
    expect(r.stderr).toBe('sim: /etc/rc: dhclient on vnet0 (no DHCP server in the simulator; vnet0 is up without an address from it): not simulated\n')
    expect(r.code).toBe(0)
    expect(vnet0(sim.kernel(), gw, 'vnet0')).toMatchObject({up: true, addrs: []})
  })

  it('a step that fails does not fail /etc/rc: an unreachable default router is reported and rc goes on', async () => {
    const gw = await hostAndGw()
    rcConf('/jails/gw', 'ifconfig_e0b_gw_name="vnet0"\nifconfig_vnet0="inet 192.0.2.10/24"\ndefaultrouter="198.51.100.1"\ngateway_enable="YES"\nrc_startmsgs="NO"\n')
    const r = await boot('gw')
    expect(r.stdout).toBe('vnet0\nadd host 127.0.0.1: gateway lo0 fib 0: route already in table\nadd net default: gateway 198.51.100.1 fib 0: Network is unreachable\nAdditional inet routing options: gateway=YES.\n' + V6_FIXED)
    expect(r.stderr).toBe('route: writing to routing socket: Network is unreachable\n')
    expect(r.code).toBe(0)
    expect(await ok(sim.runIn(gw, 'sysctl', '-n', 'net.inet.ip.forwarding'))).toBe('1\n')
  })

  it("aliases in numeric order up to the first empty one; an inet alias without its keyword is warned about", async () => {
    const gw = await hostAndGw()
    rcConf('/jails/gw', 'ifconfig_e0b_gw_name="vnet0"\nifconfig_vnet0="inet 192.0.2.10/24"\nifconfig_vnet0_alias10="inet 192.0.2.13/32"\nifconfig_vnet0_alias0="192.0.2.11/32"\nifconfig_vnet0_alias1="inet 192.0.2.12/32"\nifconfig_vnet0_alias2=""\nifconfig_vnet0_alias3="inet 192.0.2.14/32"\nrc_startmsgs="NO"\n')
    const r = await boot('gw')
    expect(r.stderr).toBe('/etc/rc: WARNING: $ifconfig_vnet0_alias0 needs leading "inet" keyword for an IPv4 address.\n')
    expect(vnet0(sim.kernel(), gw, 'vnet0')?.addrs.map((a) => a.addr)).toEqual(['192.0.2.10', '192.0.2.11', '192.0.2.12'])
  })

  it("rc.conf is read in the jail's view: a link to an absolute path stays inside the jail, a FIFO is not read", async () => {
    const gw = await hostAndGw()
    // The host's own /etc/rc.conf must never be what the jail's link names.
    mkdirSync(sim.fs('/etc'), {recursive: true})
    writeFileSync(sim.fs('/etc/rc.conf'), 'defaultrouter="192.0.2.1"\nrc_startmsgs="NO"\n')
    symlinkSync('/etc/elsewhere.conf', sim.fs('/jails/gw/etc/rc.conf'))
    writeFileSync(sim.fs('/jails/gw/etc/elsewhere.conf'), 'rc_startmsgs="NO"\n')
    execFileSync('mkfifo', [sim.fs('/jails/gw/etc/rc.conf.local')])
    const r = await boot('gw')
    expect(r).toEqual({code: 0, stdout: `add host 127.0.0.1: gateway lo0 fib 0: route already in table\n${V6_FIXED}`, stderr: ''})
    expect(sim.kernel().routes.some((x) => x.vnet === gw && x.plen === 0)).toBe(false)
  })

  it("exec.consolelog gets the boot's console: jail(8) running exec.start=/bin/sh /etc/rc", async () => {
    sim.mkdirs('/jails/gw2/etc', '/var/log')
    rcConf('/jails/gw2', 'gateway_enable="YES"\n')
    const r = await sim.run('jail', '-c', 'name=gw2', 'path=/jails/gw2', 'persist', 'vnet', 'exec.start=/bin/sh /etc/rc', 'exec.consolelog=/var/log/gw2.log')
    expect(r.code).toBe(0)
    expect(readFileSync(sim.fs('/var/log/gw2.log'), 'utf8')).toBe(
      `Starting Network: lo0.\n${LO0_UP}add host 127.0.0.1: gateway lo0 fib 0: route already in table\nAdditional inet routing options: gateway=YES.\n${V6_FIXED}`,
    )
  })
})
