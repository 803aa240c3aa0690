// Networks at any depth, nest's commands in-process on a simulated host: a VNET jail on a
// bridge through an epair (jail.conf hooks, rc.conf in its root), the epair gone whoever stops
// it (nest, jail -r, service jail stop) and back with `service jail start`, a bridge that exists
// left alone, addresses jail(8) adds as aliases, VNET children inside a VNET parent's own
// stack at depth 2 and 3, and the refusals that change nothing. Each test starts from a host
// saved once for the file.
import {readFileSync} from 'node:fs'

import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import {addFault, clearFaults} from '../../src/sim/control.js'
import {hostState as hostStateOf, makeSim, nestSteps, type TestSim} from '../helpers/sim.js'
import {GW} from '../helpers/sweep.js'

let sim: TestSim
const nest = (...args: string[]) => sim.nest(...args)
const GW_ROOT = '/nest/jails/gw/root'

/** The interfaces of a stack: `host`, or a jail's name as the kernel has it (`gw.hub`). */
function ifnets(where: string): string[] {
  const k = sim.kernel()
  const jid = where === 'host' ? 0 : k.jails.find((j) => j.name === where && j.state === 'ALIVE')?.jid
  return k.ifnets.filter((i) => i.vnet === jid).map((i) => i.name)
}
const membersOf = (where: string, bridge: string): string[] => {
  const k = sim.kernel()
  const jid = where === 'host' ? 0 : k.jails.find((j) => j.name === where && j.state === 'ALIVE')?.jid
  const br = k.ifnets.find((i) => i.vnet === jid && i.name === bridge)
  return (br?.members ?? []).map((m) => k.ifnets.find((i) => i.index === m)?.name ?? '?').sort()
}
const hostState = (): unknown => hostStateOf(sim, ['/etc/jail.conf.d', '/nest/jails'])

let boot: string
let gw: string
let web: string
let restricted: string

beforeAll(async () => {
  sim = await makeSim()
  await nestSteps(sim, ['bootstrap', '14.3-RELEASE'])
  boot = sim.save()
  await nestSteps(sim, GW)
  gw = sim.save()
  sim.restore(boot)
  await nestSteps(sim, ['create', 'web'])
  web = sim.save()
  sim.restore(boot)
  await nestSteps(sim, ['create', 'rp', '--ip4', '192.0.2.20,192.0.2.21'])
  restricted = sim.save()
}, 120_000)
afterAll(() => sim.cleanup())
beforeEach(() => sim.restore(gw))

describe('a VNET jail on a bridge', () => {
  it('create gw --vnet: an epair whose a side joins bridge0 (created) and whose b side is in gw; rc.conf configures it', async () => {
    sim.restore(boot)
    const r = await nest(...GW)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^gw: created \(running, jid \d+, policy parent, \/nest\/jails\/gw\/root\)\n$/)
    expect(r.stderr).toContain('gw: bridge0 does not exist: the jail\'s start creates it (exec.prestart), and it stays for other jails\n')
    expect(ifnets('host')).toEqual(['lo0', 'epair100a', 'bridge0'])
    expect(membersOf('host', 'bridge0')).toEqual(['epair100a'])
    expect(ifnets('gw')).toEqual(['lo0', 'vnet0'])
    const conf = readFileSync(sim.fs('/etc/jail.conf.d/gw.conf'), 'utf8')
    for (const line of ['vnet = "new";', 'vnet.interface = "epair100b";', 'exec.prestart = "/sbin/ifconfig epair100 create up";',
      'exec.prestart += "/sbin/ifconfig bridge0 create addm epair100a up";', 'exec.poststop = "/sbin/ifconfig epair100a destroy";']) expect(conf).toContain(`\t${line}\n`)
    expect(conf).not.toMatch(/ip4|ip6/)
    expect(readFileSync(sim.fs(`${GW_ROOT}/etc/rc.conf`), 'utf8')).toBe(
      '# Written by nest for gw\'s network (nest create --vnet)\nifconfig_epair100b_name="vnet0"\nifconfig_vnet0="inet 192.0.2.10/24"\ndefaultrouter="192.0.2.1"\n')
    // Inside: gw's rc renamed epair100b to vnet0 and configured it (rc.d/netif), and the default route (rc.d/routing).
    expect((await nest('exec', 'gw', '--', 'ifconfig', '-l')).stdout).toBe('lo0 vnet0\n')
    expect((await nest('exec', 'gw', '--', 'ifconfig', 'vnet0')).stdout).toContain('\tinet 192.0.2.10 netmask 0xffffff00 broadcast 192.0.2.255\n')
    expect((await nest('exec', 'gw', '--', 'route', '-n', 'get', 'default')).stdout).toContain('    gateway: 192.0.2.1\n')
    const host = await sim.run('ifconfig', 'bridge0')
    expect(host.stdout).toContain('\tmember: epair100a flags=143<LEARNING,DISCOVER,AUTOEDGE,AUTOPTP>\n')
    const list = JSON.parse((await nest('list', '--json')).stdout) as {result: {jails: Array<{name: string; network: unknown}>}}
    expect(list.result.jails.find((j) => j.name === 'gw')?.network).toEqual({
      vnet: true, interface: 'vnet0', epair: 'epair100a', bridge: 'bridge0', ip4: ['192.0.2.10/24'], ip6: [], routers: ['192.0.2.1'], mac: null, present: true,
    })
    expect((await nest('list')).stdout).toMatch(/\ngw +\d+ +running +parent +0\/16 +vnet0 192\.0\.2\.10\/24 on bridge0 +\/nest\/jails\/gw\/root\n/)
  })

  it('the epair goes whoever stops gw (nest, jail -r, service jail stop); service jail start brings it back as nest does', async () => {
    const stop = await nest('stop', 'gw')
    expect(stop.code, stop.stderr).toBe(0)
    expect(ifnets('host')).toEqual(['lo0', 'bridge0'])
    const started = await sim.run('service', 'jail', 'start', 'gw')
    expect(started).toMatchObject({code: 0, stdout: 'Starting jails: gw.\n'})
    expect(ifnets('host')).toEqual(['lo0', 'bridge0', 'epair100a'])
    expect(membersOf('host', 'bridge0')).toEqual(['epair100a'])
    expect(ifnets('gw')).toContain('lo0')
    expect((await sim.run('jail', '-f', '/etc/jail.conf.d/gw.conf', '-r', 'gw')).code).toBe(0)
    expect(ifnets('host')).toEqual(['lo0', 'bridge0'])
    await sim.run('service', 'jail', 'start', 'gw')
    const stopped = await sim.run('service', 'jail', 'stop', 'gw')
    expect(stopped).toMatchObject({code: 0, stdout: 'Stopping jails: gw.\n'})
    expect(ifnets('host')).toEqual(['lo0', 'bridge0'])
    // Nothing left for nest to clean up: it starts again.
    expect((await nest('start', 'gw')).code).toBe(0)
    expect(membersOf('host', 'bridge0')).toEqual(['epair100a'])
  })

  it('a bridge that exists (e.g. vm-bhyve\'s) is joined and left as it is; the next VNET jail takes the next epair unit', async () => {
    sim.restore(boot)
    for (const argv of [['bridge5', 'create'], ['epair', 'create'], ['bridge5', 'addm', 'epair0a', 'up']]) expect((await sim.run('ifconfig', ...argv)).code).toBe(0)
    expect((await nest('create', 'a', '--vnet', '--bridge', 'bridge5', '--ip4', '192.0.2.30/24')).code).toBe(0)
    const b = await nest('create', 'b', '--vnet', '--bridge', 'bridge5', '--ip4', '192.0.2.31/24', '--mac', '58:9c:fc:00:00:01', '--ifname', 'vtnet0')
    expect(b.code, b.stderr).toBe(0)
    expect(b.stderr).not.toContain('does not exist')
    expect(membersOf('host', 'bridge5')).toEqual(['epair0a', 'epair100a', 'epair101a'])
    // b's rc renamed its epair's b side to the name given (ifconfig_epair101b_name), the MAC set before it moved in.
    const k = sim.kernel()
    const bJid = k.jails.find((j) => j.name === 'b' && j.state === 'ALIVE')?.jid
    expect(k.ifnets.find((i) => i.vnet === bJid && i.name === 'vtnet0')?.ether).toBe('58:9c:fc:00:00:01')
    expect(readFileSync(sim.fs('/nest/jails/b/root/etc/rc.conf'), 'utf8')).toContain('ifconfig_epair101b_name="vtnet0"\nifconfig_vtnet0="inet 192.0.2.31/24"\n')
    expect((await nest('destroy', 'a', '--force')).code).toBe(0)
    expect((await nest('destroy', 'b', '--force')).code).toBe(0)
    expect(ifnets('host')).toEqual(['lo0', 'bridge5', 'epair0a', 'epair0b'])
    expect(membersOf('host', 'bridge5')).toEqual(['epair0a'])
  })

  it('addresses without --vnet: jail(8) adds them as aliases on the interface named and removes them on stop', async () => {
    sim.restore(boot)
    const r = await nest('create', 'al', '--policy', 'leaf', '--ip4', 'lo0|192.0.2.40/32', '--ip6', '2001:db8::40')
    expect(r.code, r.stderr).toBe(0)
    const lo0 = (): string[] => sim.kernel().ifnets.find((i) => i.name === 'lo0' && i.vnet === 0)?.addrs.map((a) => `${a.addr}/${a.plen}`) ?? []
    expect(lo0()).toContain('192.0.2.40/32')
    const jls = JSON.parse((await sim.run('jls', '--libxo', 'json', '-n')).stdout) as {'jail-information': {jail: Array<Record<string, unknown>>}}
    expect(jls['jail-information'].jail[0]?.['ip4.addr']).toEqual(['192.0.2.40'])
    expect((await nest('list')).stdout).toMatch(/\nal +\d+ +running +leaf +0\/0 +192\.0\.2\.40,2001:db8::40 on lo0 +\//)
    expect((await nest('stop', 'al')).code).toBe(0)
    expect(lo0()).not.toContain('192.0.2.40/32')
    // Stopped, the same (what nest configured, as the kernel would have it).
    expect((await nest('list')).stdout).toMatch(/\nal +- +stopped +leaf +0\/0 +192\.0\.2\.40,2001:db8::40 on lo0 +\//)
  })
})

describe('VNET children inside a VNET parent\'s own stack', () => {
  it('gw/hub --vnet: its epair is made in gw\'s stack and joins gw\'s bridge0; gw/hub/db --vnet, at depth 3, in hub\'s', async () => {
    const hub = await nest('create', 'gw/hub', '--vnet', '--ip4', '10.1.0.2/24', '--policy', 'parent')
    expect(hub.code, hub.stderr).toBe(0)
    // gw's nest names hub as the user does.
    expect(hub.stderr).toContain('\ngw/hub: bridge0 does not exist: the jail\'s start creates it (exec.prestart), and it stays for other jails\n')
    // gw's own b side is vnet0 (its rc renamed it), so the first unit in gw's stack is free again.
    expect(ifnets('gw')).toEqual(['lo0', 'vnet0', 'epair100a', 'bridge0'])
    expect(membersOf('gw', 'bridge0')).toEqual(['epair100a'])
    expect(ifnets('gw.hub')).toEqual(['lo0', 'vnet0'])
    const db = await nest('create', 'gw/hub/db', '--vnet', '--ip4', '10.2.0.2/24', '--policy', 'leaf')
    expect(db.code, db.stderr).toBe(0)
    expect(membersOf('gw.hub', 'bridge0')).toEqual(['epair100a'])
    expect(ifnets('gw.hub.db')).toEqual(['lo0', 'vnet0'])
    expect(ifnets('host')).toEqual(['lo0', 'epair100a', 'bridge0'])
    const list = JSON.parse((await nest('list', '--json')).stdout) as {result: {jails: Array<{name: string; network?: {interface: string; ip4: string[]; present: boolean | null}}>}}
    expect(list.result.jails.map((j) => [j.name, j.network?.ip4, j.network?.present])).toEqual([['gw', ['192.0.2.10/24'], true], ['gw/hub', ['10.1.0.2/24'], null], ['gw/hub/db', ['10.2.0.2/24'], null]])
    // Stopping the tree takes every epair away, each in its own stack.
    const stop = await nest('stop', 'gw')
    expect(stop.code, stop.stderr).toBe(0)
    expect(ifnets('host')).toEqual(['lo0', 'bridge0'])
    expect(sim.kernel().ifnets.filter((i) => i.name.startsWith('epair'))).toEqual([])
    expect((await nest('start', 'gw')).code).toBe(0)
    expect(ifnets('gw.hub.db')).toEqual(['lo0', 'vnet0'])
  })
})

describe('reachable in the model (the simulator\'s ping over epairs, bridges and routes)', () => {
  const pings = async (where: 'host' | string, addr: string): Promise<boolean> => {
    const r = where === 'host' ? await sim.run('ping', '-c', '1', addr) : await nest('exec', where, '--', 'ping', '-c', '1', addr)
    return r.code === 0 && r.stdout.includes(`64 bytes from ${addr}: icmp_seq=0`)
  }
  it('gw from the host\'s bridge, gw/app on gw\'s vnet0, gw/hub and gw/hub/db through the bridges inside gw and hub', async () => {
    await nestSteps(sim, ['create', 'gw/app', '--ip4', '192.0.2.11', '--policy', 'leaf'], ['create', 'gw/hub', '--vnet', '--ip4', '10.1.0.2/24', '--defaultrouter', '10.1.0.1', '--policy', 'parent'],
      ['create', 'gw/hub/db', '--vnet', '--ip4', '10.2.0.2/24', '--defaultrouter', '10.2.0.1', '--policy', 'leaf'])
    // The admin's side of each bridge: an address (on FreeBSD, ifconfig_bridge0 in each rc.conf).
    expect(await pings('host', '192.0.2.10')).toBe(false)
    expect((await sim.run('ifconfig', 'bridge0', 'inet', '192.0.2.1/24')).code).toBe(0)
    expect((await nest('exec', 'gw', '--', 'ifconfig', 'bridge0', 'inet', '10.1.0.1/24')).code).toBe(0)
    expect((await nest('exec', 'gw/hub', '--', 'ifconfig', 'bridge0', 'inet', '10.2.0.1/24')).code).toBe(0)
    expect(await pings('host', '192.0.2.10')).toBe(true)
    expect(await pings('host', '192.0.2.11')).toBe(true)
    expect(await pings('gw', '10.1.0.2')).toBe(true)
    expect(await pings('gw/hub', '10.2.0.2')).toBe(true)
    expect(await pings('gw/hub/db', '10.2.0.1')).toBe(true)
    // Not from the host: nothing routes 10.1.0.0/24 there.
    expect(await pings('host', '10.1.0.2')).toBe(false)
  })
})

describe('a non-VNET child of a VNET parent', () => {
  it('--ip4 lo1|A: gw\'s nest makes the loopback clone, now and at each boot of gw; a failed create takes it away again', async () => {
    const before = readFileSync(sim.fs(`${GW_ROOT}/etc/rc.conf`), 'utf8')
    await addFault(sim.root, {tool: 'jail', match: '-c app$', nth: 1, errno: 'EIO'})
    const failed = await nest('create', 'gw/app', '--policy', 'leaf', '--ip4', 'lo1|10.0.0.2')
    await clearFaults(sim.root)
    expect(failed.code).toBe(10)
    expect(ifnets('gw')).not.toContain('lo1')
    expect(readFileSync(sim.fs(`${GW_ROOT}/etc/rc.conf`), 'utf8')).toBe(before)
    const r = await nest('create', 'gw/app', '--policy', 'leaf', '--ip4', 'lo1|10.0.0.2')
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toContain('app: lo1 does not exist here: made now (a loopback clone for the addresses of this jail\'s children), and at each boot (cloned_interfaces in /etc/rc.conf)\n')
    expect(readFileSync(sim.fs(`${GW_ROOT}/etc/rc.conf`), 'utf8')).toBe(`${before}cloned_interfaces="lo1"\n`)
    const lo1 = sim.kernel().ifnets.find((i) => i.name === 'lo1')
    expect(lo1?.addrs).toEqual([{af: 'inet', addr: '10.0.0.2', plen: 32}])
    expect((await nest('stop', 'gw/app')).code).toBe(0)
    expect(sim.kernel().ifnets.find((i) => i.name === 'lo1')?.addrs).toEqual([])
  })
})

describe('refused before anything changes, with the parameter named', () => {
  it.each([
    ['a jail without a stack of its own has its creator\'s interfaces (kern_jail.c: pr_vnet = ppr->pr_vnet)', 'gw', ['create', 'x', '--bridge', 'bridge0'], 3, 'nest: --bridge needs --vnet (a jail without its own network stack uses its creator\'s interfaces and routes) (add --vnet, or leave --bridge out)'],
    ['rc.conf\'s ifconfig_IF takes inet A/len (libexec/rc/network.subr ifconfig_up)', 'gw', ['create', 'x', '--vnet', '--ip4', '192.0.2.50'], 3, 'nest: --ip4 "192.0.2.50": a VNET jail\'s address needs its prefix length (192.0.2.50/24) (give addresses such as 192.0.2.10/24 or dhcp, separated by commas)'],
    ['SYNCDHCP is the whole ifconfig_IF value (network.subr dhcpif)', 'gw', ['create', 'x', '--vnet', '--ip4', 'dhcp,192.0.2.50/24'], 3, 'nest: --ip4 dhcp takes the address from the network, so it comes alone (--ip4 dhcp, or addresses only)'],
    ['an interface\'s own MAC is unicast (IEEE 802 group bit; whether FreeBSD\'s if_setlladdr refuses one is unconfirmed: research/ifconfig.md)', 'gw', ['create', 'x', '--vnet', '--mac', '01:00:5e:00:00:01'], 3, 'nest: --mac "01:00:5e:00:00:01": it is a multicast address (the first octet is odd) (give a unicast MAC such as 58:9c:fc:00:00:01)'],
    ['one defaultrouter per family (rc.d/routing static_inet, static_inet6)', 'gw', ['create', 'x', '--vnet', '--defaultrouter', '192.0.2.1,192.0.2.2'], 3, 'nest: --defaultrouter names two IPv4 routers (give one router per family)'],
    ['IFNAMSIZ 16 with the NUL (sys/net/if.h; if.c ifhwioctl SIOCSIFNAME copyinstr)', 'gw', ['create', 'x', '--vnet', '--ifname', 'averyveryverylongname0'], 3, 'nest: --ifname "averyveryverylongname0": it is 22 characters long; interface names have at most 15 (IFNAMSIZ) (name the interface the jail sees, like vnet0 or vtnet0)'],
    ['only a bridgeN name matches the bridge cloner (sys/net/if_clone.c ifc_find_cloner_match)', 'gw', ['create', 'x', '--vnet', '--bridge', 'vm-public'], 6, 'nest: x: --bridge vm-public: no such interface here, and only a bridgeN is created when missing (create it first (ifconfig bridge create name vm-public), or use --bridge bridge0)'],
    ['addm needs a bridge (sys/net/if_bridge.c bridge_ioctl_add)', 'gw', ['create', 'x', '--vnet', '--bridge', 'lo0'], 6, 'nest: x: --bridge lo0 is an interface here but not a bridge (ifconfig -g bridge) (name a bridge (ifconfig -g bridge lists them), or a bridgeN that does not exist yet)'],
    ['an alias goes with its interface, and a VNET jail\'s epair goes at that jail\'s stop (exec.poststop; sys/net/if_epair.c epair_clone_destroy)', 'gw', ['create', 'x', '--ip4', 'epair100a|192.0.2.50/24'], 6, 'nest: x: epair100a is the epair of a VNET jail of nest\'s: it is destroyed at each stop of that jail, and an address on it with it (give the address on the bridge that epair joins, or on another interface)'],
    ['jail(8)\'s alias needs the interface (usr.sbin/jail/command.c run_command: ifconfig IF inet A alias)', 'gw', ['create', 'x', '--ip4', 'em0|192.0.2.50/24'], 6, 'nest: x: no interface em0 here (ifconfig -l: lo0 epair100a bridge0) (give the address on one of these interfaces, e.g. --ip4 bridge0|192.0.2.10/24, or create em0 first)'],
    ['only a jail that owns its vnet may create or move interfaces (kern_jail.c prison_priv_check PRIV_NET_IFCREATE, PRIV_NET_SETIFVNET)', 'web', ['create', 'web/x', '--vnet', '--policy', 'leaf'], 6, 'nest: web/x: --vnet needs web to own its network stack, and it has vnet=inherit: only such a jail may create an epair and move it into a child (vnet.interface) (create web with --vnet, or leave --vnet out (then web/x uses web\'s addresses))'],
    ['only a jail that owns its vnet may add addresses (kern_jail.c prison_priv_check PRIV_NET_ADDIFADDR)', 'web', ['create', 'web/x', '--ip4', 'lo0|192.0.2.5', '--policy', 'leaf'], 6, 'nest: web/x: ip4.addr lo0|192.0.2.5: web has no network stack of its own (vnet=inherit), so its jail(8) cannot add 192.0.2.5 to lo0 (give the address alone, one of web\'s)'],
    ['a child\'s addresses are a subset of a restricted parent\'s (kern_jail.c kern_jail_set: EPERM)', 'restricted', ['create', 'rp/x', '--ip4', '192.0.2.99', '--policy', 'leaf'], 6, 'nest: rp/x: ip4.addr 192.0.2.99 is not one of rp\'s (192.0.2.20, 192.0.2.21): FreeBSD gives a child only addresses of a parent without a network stack of its own (use addresses of rp, or leave --ip4 out to inherit them)'],
  ])('%s; from %s: nest %j exits %i', async (_rule, from, argv, code, message) => {
    sim.restore({gw, web, restricted}[from] as string)
    const before = hostState()
    const r = await nest(...argv)
    expect(r.code, r.stderr).toBe(code)
    expect(r.stderr.split('\n').filter((l) => l.startsWith('nest: ') && !l.startsWith('nest: using'))).toEqual([message])
    expect(hostState()).toEqual(before)
  })

  it('a non-VNET child of rp may have addresses of rp\'s', async () => {
    sim.restore(restricted)
    const r = await nest('create', 'rp/x', '--ip4', '192.0.2.21', '--policy', 'leaf')
    expect(r.code, r.stderr).toBe(0)
  })
})
