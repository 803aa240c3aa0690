// The guest's Bastille jails started inside the migrated parent, through the parent's own
// jail(8), as on FreeBSD: `nest migrate vm fbsd1 --stop-vm` (fixture zfs-bastille) run for real
// once, then web1 (classic, an alias on fbsd1's vtnet0) and app1 (VNET, jib's epair and bridge)
// started and stopped from their jail.conf files.
import {readFileSync, rmSync} from 'node:fs'

import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import {bsdSum, deriveMac} from '../../src/sim/jib.js'
import {makeSim, nestSteps, type TestSim} from '../helpers/sim.js'

let sim: TestSim
let migrated: string
const JAILS = '/usr/local/bastille/jails'
const PARENT = '/nest/jails/fbsd1/root'

beforeAll(async () => {
  sim = await makeSim()
  await nestSteps(sim, ['bootstrap', '14.3-RELEASE'], ['sim', 'vm', 'add', 'fbsd1', '--disk', 'zfs-bastille', '--running'])
  const m = await sim.nest('migrate', 'vm', 'fbsd1', '--stop-vm')
  expect(m.code, m.stderr).toBe(0)
  // The migration starts them (nest's children now); these tests start them by hand, as fbsd1's admin would.
  expect(sim.alive()).toEqual(['fbsd1', 'fbsd1.app1', 'fbsd1.web1'])
  const stop = await sim.nest('stop', 'fbsd1/app1', 'fbsd1/web1')
  expect(stop.code, stop.stderr).toBe(0)
  expect(sim.alive()).toEqual(['fbsd1'])
  // jib leaves the bridge it made (jib destroy does not destroy it): gone, as before app1's first start.
  const br = await sim.runIn(sim.jid('fbsd1') as number, 'ifconfig', 'vtnet0bridge', 'destroy')
  expect(br.code, br.stderr).toBe(0)
  migrated = sim.save()
}, 180_000)
afterAll(() => sim.cleanup())

const fbsd1 = (): number => sim.jid('fbsd1') as number
const jail = (...args: string[]): ReturnType<TestSim['run']> => sim.runIn(fbsd1(), 'jail', ...args)
const inFbsd1 = (tool: string, ...args: string[]): ReturnType<TestSim['run']> => sim.runIn(fbsd1(), tool, ...args)

describe('Bastille jails inside the migrated fbsd1', {timeout: 60_000}, () => {
  beforeEach(() => sim.restore(migrated))

  it('web1 (classic) and app1 (VNET) start and stop through fbsd1\'s jail(8); nothing of theirs is left', async () => {
    const w = await jail('-f', `${JAILS}/web1/jail.conf`, '-c', 'web1')
    expect(w, w.stderr).toMatchObject({code: 0, stdout: 'web1: created\n', stderr: ''})
    // jib addm app1 vtnet0: `ifconfig $new name ...` is not redirected, so the new names are printed.
    const a = await jail('-f', `${JAILS}/app1/jail.conf`, '-c', 'app1')
    expect(a, a.stderr).toMatchObject({code: 0, stdout: 'vtnet0bridge\ne0a_app1\ne0b_app1\napp1: created\n', stderr: ''})
    expect(sim.alive()).toEqual(['fbsd1', 'fbsd1.app1', 'fbsd1.web1'])

    // kern_jail.c: "Nested jails always inherit parent's devfs ruleset": asking for 0 gives fbsd1's 4.
    expect((await sim.run('jls', '-j', 'fbsd1.web1', '-n', 'devfs_ruleset')).stdout).toBe('devfs_ruleset=4\n')
    expect((await sim.run('jls', '-j', 'fbsd1.web1', '-n', 'securelevel', 'osrelease', 'enforce_statfs', 'ip6', 'ip4.addr')).stdout)
      .toBe('securelevel=2 osrelease=14.2-RELEASE-p1 enforce_statfs=2 ip6=disable ip4.addr=192.0.2.51\n')
    expect((await sim.run('jls', '-j', 'fbsd1.app1', '-n', 'vnet', 'devfs_ruleset')).stdout).toBe('vnet=new devfs_ruleset=4\n')

    // web1's address: an alias fbsd1's jail(8) put on fbsd1's own vtnet0.
    expect((await inFbsd1('ifconfig', 'vtnet0')).stdout).toContain('\tinet 192.0.2.50 netmask 0xffffff00 broadcast 192.0.2.255\n\tinet 192.0.2.51 netmask 0xffffff00 broadcast 192.0.2.255\n')
    // app1's epair: e0a_app1 on the bridge jib made (vtnet0bridge, vtnet0 its member), with the description and jib's MAC.
    const br = (await inFbsd1('ifconfig', 'vtnet0bridge')).stdout
    expect(br).toMatch(/\tmember: e0a_app1 flags=.*\n.*\n\tmember: vtnet0 flags=/)
    const e0a = (await inFbsd1('ifconfig', 'e0a_app1')).stdout
    expect(e0a).toMatch(/^e0a_app1: flags=\S+ metric 0 mtu 1500\n\tdescription: vnet0 host interface for Bastille jail app1\n\toptions=8<VLAN_MTU>\n\tether 02:20:91:0a:1b:2c\n/)
    // Inside app1: e0b_app1 renamed vnet0 by its rc.conf (ifconfig_e0b_app1_name), its address set.
    const app1 = sim.jid('fbsd1.app1') as number
    expect((await sim.runIn(app1, 'ifconfig', '-l')).stdout).toBe('lo0 vnet0\n')
    const v0 = (await sim.runIn(app1, 'ifconfig', 'vnet0')).stdout
    expect(v0).toContain('\tether 0e:20:91:0a:1b:2c\n')
    expect(v0).toContain('\tinet 192.0.2.52 netmask 0xffffff00 broadcast 192.0.2.255\n')
    // The mounts: the release by nullfs (mount.fstab), devfs (mount.devfs).
    expect(sim.mountsBelow(`${PARENT}${JAILS}/web1/root`)).toEqual([`nullfs ${PARENT}${JAILS}/web1/root/.bastille`, `devfs ${PARENT}${JAILS}/web1/root/dev`])
    // exec.consolelog: /etc/rc's console, appended to by fbsd1's jail(8) in fbsd1's /var/log/bastille.
    expect(readFileSync(sim.fs(`${PARENT}/var/log/bastille/app1_console.log`), 'utf8')).toContain('Starting Network: lo0 vnet0.\n')

    expect(await jail('-f', `${JAILS}/web1/jail.conf`, '-r', 'web1')).toMatchObject({code: 0, stdout: 'web1: removed\n', stderr: ''})
    expect(await jail('-f', `${JAILS}/app1/jail.conf`, '-r', 'app1')).toMatchObject({code: 0, stdout: 'app1: removed\n', stderr: ''})
    expect(sim.alive()).toEqual(['fbsd1'])
    // exec.poststop destroyed e0a_app1 (and with it e0b_app1); jib never destroys its bridge.
    expect((await inFbsd1('ifconfig', '-l')).stdout).toBe('lo0 vtnet0 vtnet0bridge\n')
    expect((await inFbsd1('ifconfig', 'vtnet0')).stdout).not.toContain('192.0.2.51')
    expect(sim.mountsBelow(`${PARENT}${JAILS}`).filter((m) => !m.startsWith('zfs '))).toEqual([])
  })

  it('the unedited files: devfs_ruleset = 4 is fbsd1\'s own and works; 13 fails as FreeBSD fails, rolled back', async () => {
    // devfs_vfsops.c: a jail may mount devfs only with ruleset 0 or its own (4 for fbsd1).
    const w = await jail('-f', `${JAILS}/web1/jail.conf.nest-orig`, '-c', 'web1')
    expect(w, w.stderr).toMatchObject({code: 0, stdout: 'web1: created\n'})
    const a = await jail('-f', `${JAILS}/app1/jail.conf.nest-orig`, '-c', 'app1')
    expect(a).toMatchObject({code: 1, stdout: '', stderr: `mount: .: Operation not permitted\njail: app1: /sbin/mount -t devfs -oruleset=13 . ${JAILS}/app1/root/dev: failed\n`})
    expect(sim.alive()).toEqual(['fbsd1', 'fbsd1.web1'])
    // The nullfs mount made before it is undone; jib never ran (exec.prestart comes after the mounts).
    expect(sim.mountsBelow(`${PARENT}${JAILS}/app1/root`)).toEqual([])
    expect((await inFbsd1('ifconfig', '-l')).stdout).toBe('lo0 vtnet0\n')
  })

  it('exec.consolelog in a directory fbsd1 lacks: jail(8) makes none, the start fails at exec.start and is rolled back', async () => {
    rmSync(sim.fs(`${PARENT}/var/log/bastille`), {recursive: true})
    const w = await jail('-f', `${JAILS}/web1/jail.conf`, '-c', 'web1')
    expect(w).toMatchObject({code: 1, stdout: 'web1: created\nweb1: removed\n', stderr: 'jail: web1: open /var/log/bastille/web1_console.log: No such file or directory\n'})
    expect(sim.alive()).toEqual(['fbsd1'])
    expect((await inFbsd1('ifconfig', 'vtnet0')).stdout).not.toContain('192.0.2.51')
    expect(sim.mountsBelow(`${PARENT}${JAILS}/web1/root`)).toEqual([])
  })

  it('a fbsd1 without jib: the prestart hook fails as execvp fails, the start is rolled back', async () => {
    rmSync(sim.fs(`${PARENT}/usr/local/bin/jib`))
    const a = await jail('-f', `${JAILS}/app1/jail.conf`, '-c', 'app1')
    expect(a).toMatchObject({code: 1, stdout: '', stderr: 'jail: app1: exec jib: No such file or directory\njail: app1: jib addm app1 vtnet0: failed\n'})
    expect(sim.alive()).toEqual(['fbsd1'])
    expect(sim.mountsBelow(`${PARENT}${JAILS}/app1/root`)).toEqual([])
  })

  it('jib: show, destroy, usage and the name check, as the script prints them', async () => {
    const jib = (...args: string[]): ReturnType<TestSim['run']> => sim.run('jexec', 'fbsd1', '/usr/local/bin/jib', ...args)
    expect(await jib('addm', 'app1', 'vtnet0')).toMatchObject({code: 0, stdout: 'vtnet0bridge\ne0a_app1\ne0b_app1\n', stderr: ''})
    // A second addm finds e0a_app1 and skips it (no re-bridging, no new MACs).
    expect(await jib('addm', 'app1', 'vtnet0')).toMatchObject({code: 0, stdout: '', stderr: ''})
    expect(await jib('show')).toMatchObject({code: 0, stdout: 'app1\n'})
    expect(await jib('show', 'app1')).toMatchObject({code: 0, stdout: 'e0a_app1\n'})
    expect(await jib('destroy', 'app1')).toMatchObject({code: 0, stdout: '', stderr: ''})
    expect((await inFbsd1('ifconfig', '-l')).stdout).toBe('lo0 vtnet0 vtnet0bridge\n')
    // NAME only of [0-9a-zA-Z_] (a nested name like web.app is refused): action_usage, exit 1.
    expect(await jib('addm', 'web.app', 'vtnet0')).toMatchObject({code: 1, stdout: '\tCreates e0b_NAME [e1b_NAME ...]\n', stderr: 'Usage: jib addm [-b BRIDGE_NAME] NAME [!]iface0 [[!]iface1 ...]\n'})
    expect(await jib('destroy')).toMatchObject({code: 1, stdout: '\tDestroy e0b_NAME [e1b_NAME ...]\n', stderr: 'Usage: jib destroy NAME\n'})
    expect(await jib('frob')).toMatchObject({
      code: 1, stdout: '',
      stderr: 'Usage: jib action [arguments]\nActions:\n\taddm [-b BRIDGE_NAME] NAME [!]iface0 [[!]iface1 ...]\n\t\tCreates e0b_NAME [e1b_NAME ...]\n\tshow\n\t\tList possible NAME values for `show NAME\'\n\tshow NAME\n\t\tLists e0b_NAME [e1b_NAME ...]\n\tdestroy NAME\n\t\tDestroy e0b_NAME [e1b_NAME ...]\n',
    })
    // -b names the bridge <iface><BRIDGE_NAME>: a new one, which vtnet0 (vtnet0bridge's member)
    // cannot join (if_bridge.c bridge_ioctl_add: EBUSY); jib returns there, its bridge1 left behind.
    expect(await jib('addm', '-b', 'br', 'db', '!vtnet0')).toMatchObject({code: 1, stdout: '', stderr: 'ifconfig: BRDGADD vtnet0: Device busy\n'})
    expect((await inFbsd1('ifconfig', '-l')).stdout).toBe('lo0 vtnet0 vtnet0bridge bridge1\n')
    // Where the view has no jib (FreeBSD ships it only in /usr/share/examples/jails), exec fails.
    expect((await sim.run('jexec', 'fbsd1', '/usr/local/sbin/jib', 'show')).code).toBe(127)
  })

  it('ifconfig description/-description: SIOCSIFDESCR, shown after the flags line', async () => {
    expect((await inFbsd1('ifconfig', 'vtnet0', 'description', 'uplink to vm-public')).code).toBe(0)
    expect((await inFbsd1('ifconfig', 'vtnet0')).stdout).toMatch(/^vtnet0: flags=\S+ metric 0 mtu 1500\n\tdescription: uplink to vm-public\n\toptions=/)
    expect((await inFbsd1('ifconfig', 'vtnet0', '-description')).code).toBe(0)
    expect((await inFbsd1('ifconfig', 'vtnet0')).stdout).not.toContain('description')
    // ifconfig IF ether: the status for the link family only (what jib's derive_mac reads).
    expect((await inFbsd1('ifconfig', 'vtnet0', 'ether')).stdout).toMatch(/^vtnet0: flags=\S+ metric 0 mtu 1500\n\toptions=8<VLAN_MTU>\n\tether 58:9c:fc:0a:1b:2c\n\thwaddr \S+\n$/)
  })
})

describe('jib derive_mac', () => {
  it('sum(1) of the name and the NP:SS:SS:II:II:II layout', () => {
    // `printf app1 | sum` prints `8337 1` (0x2091).
    expect(bsdSum('app1')).toBe(8337)
    expect(deriveMac('58:9c:fc:0a:1b:2c', 'app1', 0)).toEqual(['02:20:91:0a:1b:2c', '0e:20:91:0a:1b:2c'])
    expect(deriveMac('02:00:00:aa:bb:cc', 'app1', 1)).toEqual(['1a:20:91:aa:bb:cc', '1e:20:91:aa:bb:cc'])
    expect(deriveMac('0e:00:00:aa:bb:cc', 'app1', 0)).toEqual(['02:20:91:aa:bb:cc', '06:20:91:aa:bb:cc'])
  })
})
