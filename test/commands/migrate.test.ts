// nest migrate vm, in-process on a simulated host with vm-bhyve guests (issue 13): a ZFS guest
// with two Bastille jails becomes a running parent jail with its children; a UFS guest on an
// image file migrates with --network ip4; --dry-run lists exactly what the run then does and
// changes nothing; what is refused changes nothing; a failure half way gives the VM back.
// Each test starts from a host saved once for the file.
import {lstatSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import {addFault, clearFaults} from '../../src/sim/control.js'
import {hostState, makeSim, nestSteps, type TestSim} from '../helpers/sim.js'

let sim: TestSim
const nest = (...args: string[]) => sim.nest(...args)
const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/freebsd-outputs/vm-bhyve')

/** What a migration may touch, and what its rollback or a refusal must leave as it was. */
function migrationState(): unknown {
  const k = sim.kernel()
  return {
    host: hostState(sim, ['/etc/jail.conf.d', '/nest', '/vm', '/var/run/nest/migrate']),
    rc: readFileSync(sim.fs('/etc/rc.conf'), 'utf8'),
    vms: k.vms.map((v) => v.name),
    pools: k.pools.map((p) => p.name),
    disks: k.disks,
    mds: k.mds,
    sysctl: k.sysctl,
  }
}

let boot: string
let bastille: string

beforeAll(async () => {
  sim = await makeSim()
  await nestSteps(sim, ['bootstrap', '14.3-RELEASE'])
  boot = sim.save()
  await nestSteps(sim, ['sim', 'vm', 'add', 'fbsd1', '--disk', 'zfs-bastille', '--running'])
  bastille = sim.save()
}, 120_000)
afterAll(() => sim.cleanup())
beforeEach(async () => {
  await clearFaults(sim.root)
})

const zpools = async (): Promise<string> => (await sim.run('zpool', 'list', '-H', '-o', 'name')).stdout

describe('a ZFS guest with two Bastille jails (nest migrate vm fbsd1 --stop-vm)', () => {
  it('becomes a running parent jail with its two children; the temporaries are gone, the VM is stopped, out of vm_list and its disk as it was', async () => {
    sim.restore(bastille)
    const vmDisk = JSON.stringify(sim.kernel().disks)
    const r = await nest('migrate', 'vm', 'fbsd1', '--stop-vm')
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout.split('\n')[0]).toBe('fbsd1 is now the jail fbsd1 (/etc/jail.conf.d/fbsd1.conf), with its jails fbsd1/app1, fbsd1/web1')
    expect(r.stdout).toContain('  zroot/ROOT/default -> zroot/nest/jails/fbsd1/root (')
    expect(r.stdout).toContain('  zroot/bastille -> zroot/nest/jails/fbsd1/data/bastille (')
    expect(r.stdout).toContain('/usr/local/bastille/jails/web1/jail.conf: set web1.devfs_ruleset=0 (was 4)')
    expect(r.stdout).toContain('/usr/local/bastille/jails/app1/jail.conf: set app1.devfs_ruleset=0 (was 13)')
    expect(r.stdout).toMatch(/to go back to the VM:\n {2}nest destroy fbsd1 --recursive --force\n {2}sysrc -f \/etc\/rc.conf vm_list\+=fbsd1\n {2}vm start fbsd1\n?$/)

    const list = JSON.parse((await nest('list', '--json')).stdout) as {result: {jails: Array<{name: string; state: string}>}}
    expect(list.result.jails.map((j) => [j.name, j.state])).toEqual([['fbsd1', 'running'], ['fbsd1/app1', 'running'], ['fbsd1/web1', 'running']])
    // The guest's interface name, with the VM's MAC and address (the epair renamed by the guest's own rc.conf).
    const ifc = await nest('exec', 'fbsd1', '--', 'ifconfig', 'vtnet0')
    expect(ifc.stdout).toContain('\tether 58:9c:fc:0a:1b:2c\n')
    expect(ifc.stdout).toContain('\tinet 192.0.2.50 netmask 0xffffff00 broadcast 192.0.2.255\n')
    // The children's jail.conf files say 0 (inherit the parent's; the kernel gives a nested jail its parent's ruleset).
    for (const j of ['web1', 'app1']) expect(readFileSync(sim.fs(`/nest/jails/fbsd1/root/usr/local/bastille/jails/${j}/jail.conf`), 'utf8')).toMatch(/^ {2}devfs_ruleset = 0;$/m)

    expect(await zpools()).toBe('zroot\n')
    expect((await sim.run('zfs', 'list', '-H', '-t', 'snapshot', '-o', 'name', '-r', 'zroot/vm')).stdout).toBe('')
    expect((await sim.run('zfs', 'list', 'zroot/nest/.migrate')).code).toBe(1)
    expect((await sim.run('sysctl', '-n', 'vfs.zfs.vol.recursive')).stdout).toBe('0\n')
    expect(readFileSync(sim.fs('/etc/rc.conf'), 'utf8')).toMatch(/^vm_list=""$/m)
    expect((await sim.run('vm', 'list')).stdout).toMatch(/^fbsd1 .* No +Stopped$/m)
    expect(JSON.stringify(sim.kernel().disks.filter((d) => vmDisk.includes(`"id":"${d.id}"`)))).toBe(JSON.stringify(JSON.parse(vmDisk).filter((d: {id: string}) => sim.kernel().disks.some((x) => x.id === d.id))))
  }, 60_000)

  it('--dry-run changes nothing, and lists exactly the commands the run then runs, in order', async () => {
    sim.restore(bastille)
    const before = migrationState()
    const dry = await nest('migrate', 'vm', 'fbsd1', '--stop-vm', '--dry-run', '--json')
    expect(dry.code, dry.stderr).toBe(0)
    expect(migrationState()).toEqual(before)
    const plan = (JSON.parse(dry.stdout) as {result: {steps: Array<{action: string}>}}).result.steps.map((s) => s.action)
    expect(plan[0]).toBe('zfs create -o canmount=off zroot/nest/.migrate')
    expect(plan).toContain('vm stop fbsd1')

    const run = await nest('migrate', 'vm', 'fbsd1', '--stop-vm', '--verbose')
    expect(run.code, run.stderr).toBe(0)
    // Every program the run started, as --verbose logs it (a pipe logs both sides, then one line for it).
    const started: string[] = []
    const sides: string[] = []
    for (const line of run.stderr.split('\n')) {
      const m = /^exec: (\{.*\})$/.exec(line)
      if (!m) continue
      const e = JSON.parse(m[1] as string) as {event: string; argv?: string[]; pipe?: 'from' | 'to'}
      if (e.event !== 'command' || !e.argv) continue
      const words = e.argv.map((w) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replaceAll("'", "'\\''")}'`)).join(' ')
      if (e.pipe === 'from') sides.push(words)
      else if (e.pipe === 'to') started.push(`${sides.pop() ?? ''} | ${words}`)
      else started.push(words)
    }
    const planned = plan.filter((a) => !/^(write|remove|mkdir|sysrc|wait until|nest cleanup|rm -rf) /.test(a))
    // The plan's commands are run in the plan's order; what else ran only read (zfs list, gpart show, ...).
    expect(started.filter((c) => planned.includes(c))).toEqual(planned)
    const reads = started.filter((c) => !planned.includes(c))
    for (const c of reads) expect(c).toMatch(/^(zfs (list|get)|zpool (list|get|import -d [^ ]+$)|gpart show|sysctl -q|ifconfig -l|jls|mount -p|mdconfig -l|jexec )/)
  }, 90_000)

  it('a running guest without --stop-vm is refused, and nothing changes', async () => {
    sim.restore(bastille)
    const before = migrationState()
    const r = await nest('migrate', 'vm', 'fbsd1')
    expect(r.code).toBe(5)
    expect(r.stderr).toContain('vm-bhyve guest fbsd1 is running (/dev/vmm/fbsd1): its disks change while it runs (add --stop-vm to have nest stop it with vm stop and wait, or stop it first: vm stop fbsd1)')
    expect(migrationState()).toEqual(before)
  })

  it('a failure half way (zfs recv) rolls everything back: the VM runs again, in vm_list, no temporary left; the same command then converges', async () => {
    sim.restore(bastille)
    const before = migrationState()
    await addFault(sim.root, {tool: 'zfs', match: 'recv', nth: 2, stderr: 'cannot receive new filesystem stream: out of space'})
    const r = await nest('migrate', 'vm', 'fbsd1', '--stop-vm')
    expect(r.code).toBe(10)
    expect(r.stderr).toMatch(/fbsd1: step "zfs send -R nestmig_fbsd1\/home@nest-migrate \| zfs recv -u -x mountpoint zroot\/nest\/jails\/fbsd1\/root\/home": .*out of space/)
    expect(migrationState()).toEqual(before)
    expect((await sim.run('vm', 'list')).stdout).toMatch(/^fbsd1 .* Running \([0-9]+\)$/m)
    await clearFaults(sim.root)
    const again = await nest('migrate', 'vm', 'fbsd1', '--stop-vm')
    expect(again.code, again.stderr).toBe(0)
  }, 90_000)
})

describe('refusals that change nothing', () => {
  it('a grub guest (not FreeBSD): exit 6, one line with the fix', async () => {
    sim.restore(boot)
    await nestSteps(sim, ['sim', 'vm', 'add', 'deb1', '--conf', path.join(FIXTURES, 'template-debian-grub.conf.txt')])
    const before = migrationState()
    const r = await nest('migrate', 'vm', 'deb1')
    expect(r.code).toBe(6)
    expect(r.stderr.trim().split('\n').at(-1)).toBe('nest: vm-bhyve guest deb1 is not a FreeBSD guest: it boots with loader="grub" (Linux, OpenBSD, NetBSD...), and only a FreeBSD userland can become a jail (migrate FreeBSD guests only (loader bhyveload or uefi); keep this one a VM)')
    expect(migrationState()).toEqual(before)
  })

  it('a guest of another datastore (system.conf datastore_list, path_NAME="zfs:…") is found there and checked', async () => {
    sim.restore(bastille)
    for (const argv of [['create', '-o', 'mountpoint=/vms2', 'zroot/vms2'], ['create', 'zroot/vms2/deb2']]) expect((await sim.run('zfs', ...argv)).code).toBe(0)
    writeFileSync(sim.fs('/vms2/deb2/deb2.conf'), readFileSync(path.join(FIXTURES, 'template-debian-grub.conf.txt')))
    writeFileSync(sim.fs('/vm/.config/system.conf'), `${readFileSync(sim.fs('/vm/.config/system.conf'), 'utf8')}datastore_list="default vms2"\npath_vms2="zfs:zroot/vms2"\n`)
    const before = migrationState()
    const r = await nest('migrate', 'vm', 'deb2')
    expect(r.code).toBe(6)
    expect(r.stderr).toContain('vm-bhyve guest deb2 is not a FreeBSD guest: it boots with loader="grub"')
    expect(migrationState()).toEqual(before)
    const none = await nest('migrate', 'vm', 'nosuch')
    expect(none.code).toBe(4)
    expect(none.stderr).toContain('vm-bhyve guest nosuch: no nosuch/nosuch.conf in any datastore (default: /vm) (see vm list)')
  })

  it('a guest newer than the host: refused from the pool listing, the temporaries it took to read it undone', async () => {
    sim.restore(boot)
    await nestSteps(sim, ['sim', 'vm', 'add', 'new1', '--disk', 'zfs-newer'])
    const before = migrationState()
    const r = await nest('migrate', 'vm', 'new1')
    expect(r.code).toBe(6)
    expect(r.stderr).toContain('vm-bhyve guest new1 is newer than this host: its pool zroot uses features this host\'s ZFS does not support')
    expect(migrationState()).toEqual(before)
  })

  it('a name that cannot be a jail\'s, and a jail that exists already', async () => {
    sim.restore(bastille)
    expect((await nest('migrate', 'vm', 'fbsd1', '--as', 'a.b')).code).toBe(3)
    await nestSteps(sim, ['create', 'web', '--no-start'])
    const before = migrationState()
    const r = await nest('migrate', 'vm', 'fbsd1', '--as', 'web', '--stop-vm')
    expect(r.code).toBe(5)
    expect(r.stderr).toContain('web: a jail of that name exists (give the migrated jail another name with --as, or nest destroy web first)')
    expect(migrationState()).toEqual(before)
  })
})

describe('a UFS guest from an official VM image on a file disk (--network ip4)', () => {
  it('migrates: its files copied with their owners, modes, flags and links, growfs off, /firstboot gone, the jail running on the host\'s addresses', async () => {
    // The guest put there afresh: a saved host is restored with cpSync, which keeps neither owners nor hard links.
    sim.restore(boot)
    await nestSteps(sim, ['sim', 'vm', 'add', 'fbsd2', '--disk', 'ufs-vmimage'])
    const r = await nest('migrate', 'vm', 'fbsd2', '--network', 'ip4')
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toContain('warning: fbsd2: vtnet0 took its address from DHCP: the jail shares the host\'s addresses (ip4 = inherit)')
    expect(r.stdout).toContain('  /dev/md0p4 (UFS, the guest\'s root) -> zroot/nest/jails/fbsd2/root\n')
    const root = '/nest/jails/fbsd2/root'
    expect(readFileSync(sim.fs(`${root}/etc/rc.conf`), 'utf8')).toMatch(/^growfs_enable="NO"$/m)
    expect(() => readFileSync(sim.fs(`${root}/firstboot`))).toThrow()
    expect(readFileSync(sim.fs(`${root}/etc/rc.conf.nest-orig`), 'utf8')).toMatch(/^growfs_enable="YES"$/m)
    expect(readFileSync(sim.fs(`${root}/home/freebsd/notes.link`), 'utf8')).toBe('hello\n')
    // Owners by number, modes, and one file with two names (tar -x -p --numeric-owner of a tar -c of the root).
    const notes = statSync(sim.fs(`${root}/home/freebsd/notes.txt`))
    if (process.getuid?.() === 0) expect([notes.uid, notes.gid]).toEqual([1001, 1001])
    expect(notes.mode & 0o7777).toBe(0o640)
    expect(statSync(sim.fs(`${root}/home/freebsd/notes.link`)).ino).toBe(notes.ino)
    expect(lstatSync(sim.fs(`${root}/usr/home`)).isSymbolicLink()).toBe(true)
    // File flags (the model's record, src/sim/fflags.ts): the guest's schg /sbin/init is schg in the copy too.
    expect((JSON.parse(readFileSync(path.join(sim.root, 'fflags.json'), 'utf8')) as Record<string, string>)[`${root}/sbin/init`]).toBe('schg')
    const list = JSON.parse((await nest('list', '--json')).stdout) as {result: {jails: Array<{name: string; state: string}>}}
    expect(list.result.jails.map((j) => [j.name, j.state])).toEqual([['fbsd2', 'running']])
    expect(sim.kernel().mds).toEqual([])
    expect((await sim.run('mount', '-p')).stdout).not.toContain('/var/run/nest/migrate')
  }, 60_000)
})

describe('limits and a pool like another guest\'s', () => {
  it('with RACCT on, the VM\'s memory and CPUs become rctl rules, in /etc/rctl.conf too; a guest whose pool is zroot with another guest\'s GUID migrates beside it', async () => {
    sim.restore(boot)
    await nestSteps(sim, ['sim', 'racct', 'on'], ['sim', 'vm', 'add', 'fbsd1', '--disk', 'zfs-bastille'], ['sim', 'vm', 'add', 'fbsd3', '--disk', 'zfs-clash'])
    const r = await nest('migrate', 'vm', 'fbsd3')
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('limits: jail:fbsd3:memoryuse:deny=2147483648, jail:fbsd3:pcpu:deny=200')
    // rctl lists a subject's rules newest first (FIDELITY.md, rctl: the listing order of sys/kern/kern_rctl.c).
    expect((await sim.run('rctl', 'jail:fbsd3')).stdout).toBe('jail:fbsd3:pcpu:deny=200\njail:fbsd3:memoryuse:deny=2147483648\n')
    expect(readFileSync(sim.fs('/etc/rctl.conf'), 'utf8')).toBe('jail:fbsd3:memoryuse:deny=2147483648\njail:fbsd3:pcpu:deny=200\n')
    expect(await zpools()).toBe('zroot\n')
    // fbsd1, whose pool has the same name and GUID, is untouched.
    expect((await sim.run('zfs', 'list', '-H', '-o', 'name', '-t', 'all', '-r', 'zroot/vm/fbsd1')).stdout).toBe('zroot/vm/fbsd1\nzroot/vm/fbsd1/disk0\n')
  }, 60_000)
})
