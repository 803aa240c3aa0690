// Networking inside jails: the emulated /etc/rc's rc.d/netif and rc.d/routing, route(8) and
// ping(8) over the model. Each rule's source is named in its test and in src/sim/FIDELITY.md
// ("Networking inside jails: rc, route, ping").
import {execFileSync} from 'node:child_process'
import {mkdirSync, readFileSync, symlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'

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
async function vnetJail(name: string, from = 0, root = `/jails/${name}`, inside = root, extra: string[] = []): Promise<number> {
  sim.mkdirs(`${root}/etc`)
  const r = await sim.runIn(from, 'jail', '-i', '-c', `name=${name}`, `path=${inside}`, 'persist', 'vnet', ...(from === 0 ? ['children.max=2'] : []), ...extra)
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
async function hostAndGw(extra: string[] = []): Promise<number> {
  const gw = await vnetJail('gw', 0, '/jails/gw', '/jails/gw', extra)
  await wire(0, 'e0a_gw', 'e0b_gw', 'gw')
  await ok(sim.run('ifconfig', 'e0a_gw', 'inet', '192.0.2.1/24', 'up'))
  await ok(sim.run('ifconfig', 'e0a_gw', 'inet6', '2001:db8::1/64'))
  return gw
}

/** A vnet's lo0 once rc brought it up: ::1 and fe80::1 came with it (in6_ifattach.c), scopeid its ifindex. */
const lo0Up = (jid: number): string => `lo0: flags=1008049<UP,LOOPBACK,RUNNING,MULTICAST,LOWER_UP> metric 0 mtu 16384\n\toptions=680003<RXCSUM,TXCSUM,LINKSTATE,RXCSUM_IPV6,TXCSUM_IPV6>\n\tinet 127.0.0.1 netmask 0xff000000\n\tinet6 ::1 prefixlen 128\n\tinet6 fe80::1%lo0 prefixlen 64 scopeid 0x${(vnet0(sim.kernel(), jid, 'lo0')?.index ?? 0).toString(16)}\n\tgroups: lo\n\tnd6 options=21<PERFORMNUD,AUTO_LINKLOCAL>\n`
/** rc.d/routing static_inet6: the fixed routes before the default (route.c newroute's lines). */
const V6_FIXED = 'add host ::1: gateway lo0 fib 0: route already in table\nadd net fe80::: gateway ::1\nadd net ff02::: gateway ::1\nadd net ::ffff:0.0.0.0: gateway ::1\nadd net ::0.0.0.0: gateway ::1\n'

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
      lo0Up(gw) +
      'vnet0: flags=1008843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST,LOWER_UP> metric 0 mtu 1500\n\toptions=8<VLAN_MTU>\n' +
      `\tether ${vnet0(sim.kernel(), gw, 'vnet0')?.ether}\n` +
      '\tinet 192.0.2.10 netmask 0xffffff00 broadcast 192.0.2.255\n\tinet6 2001:db8::10 prefixlen 64\n\tgroups: epair\n' +
      '\tmedia: Ethernet 10Gbase-T (10Gbase-T <full-duplex>)\n\tstatus: active\n\tnd6 options=21<PERFORMNUD,AUTO_LINKLOCAL>\n' +
      'add host 127.0.0.1: gateway lo0 fib 0: route already in table\n' +
      'add net default: gateway 192.0.2.1\n' +
      V6_FIXED +
      'add net default: gateway 2001:db8::1\n',
    )
    // ifconfig_up ran `ifconfig vnet0 inet6 -ifdisabled` first (network.subr ipv6_up): IFDISABLED is gone.
    expect(r.stderr).toBe('')
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
      `Starting Network: lo0.\n${lo0Up(sim.kernel().jails.find((j) => j.name === 'gw2')?.jid ?? 0)}add host 127.0.0.1: gateway lo0 fib 0: route already in table\nAdditional inet routing options: gateway=YES.\n${V6_FIXED}`,
    )
  })
})

describe('route(8) (sbin/route/route.c of 14: newroute, rtmsg, print_getmsg)', () => {
  it('add, get, delete the default route; the second add is in the table already, a second delete not found', async () => {
    await ok(sim.run('ifconfig', 'lo0', 'up'))
    const e = (await ok(sim.run('ifconfig', 'epair', 'create'))).trim()
    await ok(sim.run('ifconfig', e, 'inet', '192.0.2.5/24', 'up'))
    expect(await sim.run('route', 'add', 'default', '192.0.2.1')).toEqual({code: 0, stdout: 'add net default: gateway 192.0.2.1\n', stderr: ''})
    expect(await sim.run('route', 'add', 'default', '192.0.2.1')).toEqual({code: 1, stdout: 'add net default: gateway 192.0.2.1 fib 0: route already in table\n', stderr: ''})
    const getN = ['   route to: 0.0.0.0', 'destination: 0.0.0.0', '       mask: 0.0.0.0', '    gateway: 192.0.2.1', '        fib: 0', `  interface: ${e}`, '      flags: <UP,GATEWAY,DONE,STATIC>',
      ' recvpipe  sendpipe  ssthresh  rtt,msec    mtu        weight    expire', '       0         0         0         0      1500         1         0 ']
    expect(await ok(sim.run('route', '-n', 'get', 'default'))).toBe(`${getN.join('\n')}\n`)
    // routename: the zero address is `default` unless -n.
    expect((await ok(sim.run('route', 'get', 'default'))).split('\n').slice(0, 3)).toEqual(['   route to: default', 'destination: default', '       mask: default'])
    expect(await sim.run('route', 'delete', 'default')).toEqual({code: 0, stdout: 'delete net default\n', stderr: ''})
    expect(await sim.run('route', 'delete', 'default')).toEqual({code: 1, stdout: 'delete net default fib 0: not in table\n', stderr: 'route: route has not been found\n'})
    // A get that finds nothing: rtmsg's warnx, and newroute exits with the -1 it summed.
    expect(await sim.run('route', '-n', 'get', 'default')).toEqual({code: 255, stdout: '', stderr: 'route: route has not been found\n'})
  })

  it('IPv6 default; a gateway off link; a jail without its own vnet may not write; usage errors', async () => {
    const e = (await ok(sim.run('ifconfig', 'epair', 'create'))).trim()
    await ok(sim.run('ifconfig', e, 'inet6', '2001:db8::5/64'))
    expect(await ok(sim.run('route', 'add', '-inet6', 'default', '2001:db8::1'))).toBe('add net default: gateway 2001:db8::1\n')
    expect(sim.kernel().routes).toEqual([{vnet: 0, af: 'inet6', dst: '::', plen: 0, host: false, gateway: '2001:db8::1', ifindex: sim.kernel().ifnets.find((i) => i.name === e)?.index}])
    expect(await sim.run('route', 'add', '-net', '10.0.0.0/24', '198.51.100.1')).toEqual({
      code: 1, stdout: 'add net 10.0.0.0/24: gateway 198.51.100.1 fib 0: Network is unreachable\n', stderr: 'route: writing to routing socket: Network is unreachable\n',
    })
    sim.mkdirs('/jails/web')
    const web = Number((await ok(sim.run('jail', '-i', '-c', 'name=web', 'path=/jails/web', 'persist'))).trim())
    expect(await sim.runIn(web, 'route', 'add', '-inet6', '2001:db8:1::/48', '2001:db8::1')).toEqual({code: 1, stdout: '', stderr: 'route: writing to routing socket: Operation not permitted\n'})
    // It reads its vnet's table (the host's).
    expect((await ok(sim.runIn(web, 'route', '-n', 'get', '-inet6', 'default'))).split('\n')[3]).toBe('    gateway: 2001:db8::1')
    expect(await sim.run('route', 'add', '-bogus', 'default', '192.0.2.1')).toEqual({code: 64, stdout: '', stderr: 'route: bad keyword: bogus\nroute: usage: route [-46dnqtv] command [[modifiers] args]\n'})
    expect(await sim.run('route', 'add', '-iface', 'default', 'nosuch0')).toEqual({code: 65, stdout: '', stderr: "route: interface 'nosuch0' does not exist\n"})
    expect((await sim.run('route', 'flush')).code).toBe(69)
  })

  it('routes through an interface go with it: moved to another vnet or destroyed (rt_flushifroutes)', async () => {
    const gw = await hostAndGw()
    await ok(sim.run('route', 'add', '-net', '10.0.0.0/24', '192.0.2.10'))
    rcConf('/jails/gw', NEST_RC)
    await boot('gw')
    expect(sim.kernel().routes.filter((r) => r.vnet === gw).length).toBeGreaterThan(0)
    await ok(sim.run('jail', '-r', 'gw'))
    const k = sim.kernel()
    // gw's vnet is gone with its table; the host's route leaves by e0a_gw, which stays.
    expect(k.routes.map((r) => [r.vnet, r.dst])).toEqual([[0, '10.0.0.0']])
    await ok(sim.run('ifconfig', 'e0a_gw', 'destroy'))
    expect(sim.kernel().routes).toEqual([])
  })

  it('a kernel.json saved before the routing tables loads with none and forwarding off', async () => {
    const file = path.join(sim.root, 'kernel.json')
    const k = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
    delete k['routes']
    delete k['forwarding']
    writeFileSync(file, JSON.stringify(k))
    expect(await ok(sim.run('sysctl', '-n', 'net.inet.ip.forwarding', 'net.inet6.ip6.forwarding'))).toBe('0\n0\n')
    expect(await sim.run('route', '-n', 'get', 'default')).toEqual({code: 255, stdout: '', stderr: 'route: route has not been found\n'})
  })
})

const stats = (target: string, sent: number, got: number, v6 = false, t = '0.045'): string =>
  `\n--- ${target} ${v6 ? 'ping6' : 'ping'} statistics ---\n${sent} packets transmitted, ${got} packets received, ${(((sent - got) * 100) / sent).toFixed(1)}% packet loss\n` +
  (got > 0 ? `round-trip min/avg/max/${v6 ? 'std-dev' : 'stddev'} = ${t}/${t}/${t}/0.000 ms\n` : '')

describe('ping(8) answered from the model (sbin/ping main.c, ping.c; tests/test_ping.py transcripts)', () => {
  it('on link across an epair into a vnet jail, both ways; an address nobody holds gets no reply (exit 2)', async () => {
    const gw = await hostAndGw()
    rcConf('/jails/gw', NEST_RC)
    await boot('gw')
    expect(await sim.runIn(gw, 'ping', '-c', '2', '192.0.2.1')).toEqual({
      code: 0, stderr: '',
      stdout: 'PING 192.0.2.1 (192.0.2.1): 56 data bytes\n64 bytes from 192.0.2.1: icmp_seq=0 ttl=64 time=0.045 ms\n64 bytes from 192.0.2.1: icmp_seq=1 ttl=64 time=0.045 ms\n' + stats('192.0.2.1', 2, 2),
    })
    expect(await sim.run('ping', '-c', '1', '192.0.2.10')).toEqual({code: 0, stderr: '', stdout: 'PING 192.0.2.10 (192.0.2.10): 56 data bytes\n64 bytes from 192.0.2.10: icmp_seq=0 ttl=64 time=0.045 ms\n' + stats('192.0.2.10', 1, 1)})
    expect(await sim.run('ping', '-c', '3', '192.0.2.99')).toEqual({code: 2, stderr: '', stdout: `PING 192.0.2.99 (192.0.2.99): 56 data bytes\n${stats('192.0.2.99', 3, 0)}`})
    // ping6 (an IPv6 target): PING6(...) src --> dst, `bytes from X, ... hlim=`.
    expect(await sim.runIn(gw, 'ping', '-c', '1', '2001:db8::1')).toEqual({
      code: 0, stderr: '', stdout: 'PING6(56=40+8+8 bytes) 2001:db8::10 --> 2001:db8::1\n16 bytes from 2001:db8::1, icmp_seq=0 hlim=64 time=0.045 ms\n' + stats('2001:db8::1', 1, 1, true),
    })
    expect(await sim.runIn(gw, 'ping6', '-q', '-c', '2', '2001:db8::2')).toEqual({code: 2, stderr: '', stdout: `PING6(56=40+8+8 bytes) 2001:db8::10 --> 2001:db8::2\n${stats('2001:db8::2', 2, 0, true)}`})
    // The loopback in the jail's own vnet.
    expect((await sim.runIn(gw, 'ping', '-c', '1', '127.0.0.1')).code).toBe(0)
    // A link taken down: no reply.
    await ok(sim.run('ifconfig', 'e0a_gw', 'down'))
    expect((await sim.runIn(gw, 'ping', '-c', '1', '192.0.2.1')).code).toBe(2)
  })

  it('no route: sendto fails for each packet (No route to host), exit 2; ping6 fails at its UDP connect', async () => {
    const gw = await vnetJail('gw')
    await boot('gw')
    expect(await sim.runIn(gw, 'ping', '-c', '2', '198.51.100.1')).toEqual({
      code: 2, stdout: `PING 198.51.100.1 (198.51.100.1): 56 data bytes\n${stats('198.51.100.1', 2, 0)}`, stderr: 'ping: sendto: No route to host\nping: sendto: No route to host\n',
    })
    expect(await sim.runIn(gw, 'ping', '-c', '1', '2001:db8::1')).toEqual({code: 1, stdout: '', stderr: 'ping: UDP connect: No route to host\n'})
  })

  it('through routers: a VNET child behind its VNET parent reaches the host only while the parent forwards; ttl counts the routers back', async () => {
    const gw = await hostAndGw()
    rcConf('/jails/gw', `${NEST_RC}gateway_enable="YES"\n`)
    await boot('gw')
    const app = await vnetJail('app', gw, '/jails/gw/app', '/app')
    expect(app).toBeGreaterThan(gw)
    await wire(gw, 'e0a_app', 'e0b_app', 'app')
    await ok(sim.runIn(gw, 'ifconfig', 'e0a_app', 'inet', '10.0.0.1/24', 'up'))
    rcConf('/jails/gw/app', 'ifconfig_e0b_app_name="vnet0"\nifconfig_vnet0="inet 10.0.0.10/24"\ndefaultrouter="10.0.0.1"\nrc_startmsgs="NO"\n')
    await boot('gw.app')
    // The host has no way back to 10.0.0.0/24 yet: the requests arrive, no reply returns.
    expect((await sim.runIn(app, 'ping', '-c', '1', '192.0.2.1')).code).toBe(2)
    await ok(sim.run('route', 'add', '-net', '10.0.0.0/24', '192.0.2.10'))
    expect(await sim.runIn(app, 'ping', '-c', '1', '-t', '5', '192.0.2.1')).toEqual({
      code: 0, stderr: '', stdout: 'PING 192.0.2.1 (192.0.2.1): 56 data bytes\n64 bytes from 192.0.2.1: icmp_seq=0 ttl=63 time=0.085 ms\n' + stats('192.0.2.1', 1, 1, false, '0.085'),
    })
    // The router itself answers without forwarding.
    expect((await sim.runIn(app, 'ping', '-c', '1', '192.0.2.10')).stdout).toContain('ttl=64 time=0.045 ms')
    await ok(sim.runIn(gw, 'sysctl', 'net.inet.ip.forwarding=0'))
    expect((await sim.runIn(app, 'ping', '-c', '1', '192.0.2.1')).code).toBe(2)
  })

  it('a jail without its own vnet: its own addresses only; none of that family, or no raw sockets, fail at socket()', async () => {
    await hostAndGw()
    sim.mkdirs('/jails/web', '/jails/bare', '/jails/raw')
    await ok(sim.run('jail', '-c', 'name=web', 'path=/jails/web', 'persist', 'ip4.addr=192.0.2.1', 'allow.raw_sockets'))
    await ok(sim.run('jail', '-c', 'name=bare', 'path=/jails/bare', 'persist', 'ip4=disable', 'allow.raw_sockets'))
    await ok(sim.run('jail', '-c', 'name=raw', 'path=/jails/raw', 'persist', 'ip4.addr=192.0.2.1'))
    const web = sim.jid('web') as number
    // The host has 192.0.2.1 itself: local delivery, the jail's own address as source.
    expect((await sim.runIn(web, 'ping', '-c', '1', '192.0.2.1')).code).toBe(0)
    expect(await sim.runIn(sim.jid('bare') as number, 'ping', '-c', '1', '192.0.2.1')).toEqual({code: 71, stdout: '', stderr: 'ping: ssend socket: Protocol not supported\n'})
    expect(await sim.runIn(sim.jid('raw') as number, 'ping', '-c', '1', '192.0.2.1')).toEqual({code: 71, stdout: '', stderr: 'ping: ssend socket: Operation not permitted\n'})
  })

  it('-4 with -6, or a family the target does not have, is refused as main.c does; -t6 is a timeout', async () => {
    expect(await sim.run('ping', '-4', '-6', '127.0.0.1')).toEqual({code: 1, stdout: '', stderr: 'ping: -4 and -6 cannot be used simultaneously\n'})
    expect(await sim.run('ping', '-6', '-c1', '127.0.0.1')).toEqual({code: 1, stdout: '', stderr: 'ping: IPv6 requested but IPv4 target address provided\n'})
    expect((await sim.run('ping', '-c1', '-t6', '127.0.0.1')).code).toBe(0)
    // errx(EX_USAGE, ...) is one line (test_ping.py: `ping: invalid timing interval: \`x'`); usage() is the synopsis, exit 1.
    expect(await sim.run('ping', '-c', 'x', '127.0.0.1')).toEqual({code: 64, stdout: '', stderr: "ping: invalid count of packets to transmit: `x'\n"})
    expect(await sim.run('ping', '-%', '127.0.0.1')).toMatchObject({code: 1, stdout: '', stderr: expect.stringMatching(/^ping: illegal option -- %\nusage:\n\tping \[-4AaDdfHnoQqRrv\]/)})
  })
})

describe('/etc/rc reading a hostile rc.conf', () => {
  it('a file over 1 MiB is not read, said on stderr; the boot goes on', async () => {
    await vnetJail('gw')
    rcConf('/jails/gw', `rc_startmsgs="NO"\n${'#'.repeat(1024 * 1024)}\n`)
    const r = await boot('gw')
    expect(r.stderr).toBe('sim: /etc/rc: /etc/rc.conf: larger than 1048576 bytes, not read: not simulated\n')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('Starting Network: lo0.\n')
  })
})

describe('netstat -rn (usr.bin/netstat/route.c of 14)', () => {
  it("a booted vnet jail's tables, radix order, flags and columns as route.c prints them", async () => {
    const gw = await hostAndGw()
    rcConf('/jails/gw', NEST_RC)
    await boot('gw')
    const k = sim.kernel()
    const lo = vnet0(k, gw, 'lo0')?.index
    const v0 = vnet0(k, gw, 'vnet0')?.index
    expect(await ok(sim.runIn(gw, 'netstat', '-rn'))).toBe([
      'Routing tables', '', 'Internet:',
      'Destination        Gateway            Flags     Netif Expire',
      'default            192.0.2.1          UGS       vnet0',
      `127.0.0.1          link#${lo}             UH          lo0`,
      `192.0.2.0/24       link#${v0}             U         vnet0`,
      `192.0.2.10         link#${lo}             UHS         lo0`,
      '', 'Internet6:',
      'Destination                       Gateway                       Flags     Netif Expire',
      // ::1 is on lo0 once it is up (in6_ifattach.c): the reject routes via ::1 are gateway routes (UGRS), as FreeBSD lists them.
      '::/96                             ::1                           UGRS        lo0',
      'default                           2001:db8::1                   UGS       vnet0',
      `::1                               link#${lo}                        UHS         lo0`,
      '::ffff:0.0.0.0/96                 ::1                           UGRS        lo0',
      `2001:db8::/64                     link#${v0}                        U         vnet0`,
      `2001:db8::10                      link#${lo}                        UHS         lo0`,
      'fe80::/10                         ::1                           UGRS        lo0',
      `fe80::%lo0/64                     link#${lo}                        U           lo0`,
      `fe80::1%lo0                       link#${lo}                        UHS         lo0`,
      'ff02::/16                         ::1                           UGRS        lo0',
      '',
    ].join('\n'))
    // The host: lo0's IPv4 address is its own route (UH), its inet6 ones have their prefix; -f picks a family.
    expect(await ok(sim.run('netstat', '-rn', '-f', 'inet6'))).toBe([
      'Routing tables', '', 'Internet6:',
      'Destination                       Gateway                       Flags     Netif Expire',
      '::1                               link#1                        UHS         lo0',
      `2001:db8::/64                     link#${vnet0(k, 0, 'e0a_gw')?.index}                        U        e0a_gw`,
      '2001:db8::1                       link#1                        UHS         lo0',
      'fe80::%lo0/64                     link#1                        U           lo0',
      'fe80::1%lo0                       link#1                        UHS         lo0',
      '',
    ].join('\n'))
    expect((await sim.run('netstat', '-r')).code).toBe(69)
  })
})

describe('/etc/rc: checkyesno (rc.subr)', () => {
  it('a mis-set rc_startmsgs is warned about by each check (startmsg, then netif_common) and counts as NO', async () => {
    await vnetJail('gw')
    rcConf('/jails/gw', 'rc_startmsgs="maybe"\n')
    const r = await boot('gw')
    expect(r.stderr).toBe('/etc/rc: WARNING: $rc_startmsgs is not set properly - see rc.conf(5).\n'.repeat(2))
    expect(r.stdout).toBe(`add host 127.0.0.1: gateway lo0 fib 0: route already in table\n${V6_FIXED}`)
  })
})

describe('ping across bridges and from a non-VNET child of a VNET parent', () => {
  it('two vnet jails on one host bridge reach each other through its members; a member taken down cuts it', async () => {
    const a = await vnetJail('a')
    const b = await vnetJail('b')
    await wire(0, 'e0a_a', 'e0b_a', 'a')
    await wire(0, 'e0a_b', 'e0b_b', 'b')
    await ok(sim.run('ifconfig', 'bridge0', 'create'))
    await ok(sim.run('ifconfig', 'bridge0', 'addm', 'e0a_a', 'addm', 'e0a_b', 'up'))
    await ok(sim.run('ifconfig', 'e0a_a', 'up'))
    await ok(sim.run('ifconfig', 'e0a_b', 'up'))
    rcConf('/jails/a', 'ifconfig_e0b_a="inet 198.51.100.1/24"\nrc_startmsgs="NO"\n')
    rcConf('/jails/b', 'ifconfig_e0b_b="inet 198.51.100.2/24"\nifconfig_e0b_b_ipv6="2001:db8:5::2/64"\nrc_startmsgs="NO"\n')
    await boot('a')
    const rb = await boot('b')
    // network.subr ifconfig_up: an address without its inet6 keyword is warned about and given one.
    expect(rb.stderr).toBe('/etc/rc: WARNING: $ifconfig_e0b_b_ipv6 needs leading "inet6" keyword for an IPv6 address.\n')
    expect(vnet0(sim.kernel(), b, 'e0b_b')?.addrs.map((x) => x.addr)).toEqual(['198.51.100.2', '2001:db8:5::2'])
    expect(await sim.runIn(a, 'ping', '-c', '1', '198.51.100.2')).toEqual({
      code: 0, stderr: '', stdout: 'PING 198.51.100.2 (198.51.100.2): 56 data bytes\n64 bytes from 198.51.100.2: icmp_seq=0 ttl=64 time=0.045 ms\n' + stats('198.51.100.2', 1, 1),
    })
    await ok(sim.run('ifconfig', 'e0a_b', 'down'))
    expect((await sim.runIn(a, 'ping', '-c', '1', '198.51.100.2')).code).toBe(2)
  })

  it("a non-VNET child of a VNET parent uses its own address as source; the way back needs the host's route to it", async () => {
    const gw = await hostAndGw(['allow.raw_sockets'])
    rcConf('/jails/gw', `${NEST_RC}cloned_interfaces="lo1"\nifconfig_lo1="inet 10.0.0.1/24"\nifconfig_lo1_alias0="inet 10.0.0.5/32"\nrc_startmsgs="NO"\n`)
    await boot('gw')
    sim.mkdirs('/jails/gw/kid')
    await ok(sim.runIn(gw, 'jail', '-c', 'name=kid', 'path=/kid', 'persist', 'ip4.addr=10.0.0.5', 'allow.raw_sockets'))
    const kid = sim.jid('gw.kid') as number
    // The request leaves by vnet0 from 10.0.0.5 (prison_get_ip4); the host has no route back yet.
    expect((await sim.runIn(kid, 'ping', '-c', '1', '192.0.2.1')).code).toBe(2)
    await ok(sim.run('route', 'add', '-net', '10.0.0.0/24', '192.0.2.10'))
    expect((await sim.runIn(kid, 'ping', '-c', '1', '192.0.2.1')).stdout).toContain('64 bytes from 192.0.2.1: icmp_seq=0 ttl=64 time=0.045 ms\n')
    // Its vnet's rc does not run for it: /etc/rc in the child configures nothing.
    expect(await boot('gw.kid')).toEqual({code: 0, stdout: '', stderr: ''})
  })
})
