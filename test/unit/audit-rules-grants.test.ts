// The grant rules (audit-rules §3 A, M, S, H, I, Z): each fires on facts built for it, and stays
// quiet on a near miss. Facts start from what the simulated host prints for the checker's tree
// (test/helpers/audit-facts.ts: p with the vm-parent preset, a and b with the parent policy).
import {describe, expect, it} from 'vitest'

import type {AuditFacts} from '../../src/audit/facts.js'
import type {Finding} from '../../src/audit/finding.js'
import {classifyGrants} from '../../src/audit/grants.js'
import {GRANT_RULES} from '../../src/audit/rules/grants-index.js'
import {addProc, addSocket, setParams, treeFacts} from '../helpers/audit-facts.js'

const ALL = ['p', 'p.a', 'p.b']
const rule = (id: string) => GRANT_RULES.find((r) => r.id === id)!
function run(id: string, f: AuditFacts, scope: string[] = ALL): Finding[] {
  const s = new Set(scope)
  return rule(id).check({facts: f, scope: s, grants: classifyGrants(f, s)})
}
/** What a rule found, as [jail, severity, param, affects]. */
const short = (xs: Finding[]): Array<[string, string, string | undefined, string[]]> => xs.map((x) => [x.jail, x.severity, x.param, x.affects])
const facts = (setup?: (f: AuditFacts) => void): AuditFacts => {
  const f = treeFacts()
  setup?.(f)
  return f
}
const conf = (f: AuditFacts, name: string) => f.configs.find((c) => c.name === name)!
/** p.a's delegated dataset is no longer mounted (a child with no delegation). */
const undelegate = (f: AuditFacts, child: string): void => {
  f.mounts = f.mounts.filter((m) => m.from !== `zroot/nest/jails/p/delegated/${child}`)
  f.datasets = f.datasets.filter((d) => d.name !== `zroot/nest/jails/p/delegated/${child}`)
}

interface Case {
  id: string
  fires: string
  setup?: (f: AuditFacts) => void
  scope?: string[]
  found: Array<[string, string, string | undefined, string[]]>
  quiet: string
  quietSetup: (f: AuditFacts) => void
  quietScope?: string[]
}

const CASES: Case[] = [
  {id: 'NEST-A01', fires: 'raw sockets on p, which no process uses', found: [['p', 'medium', 'allow.raw_sockets', []]],
    quiet: 'a process of p holds an ICMP socket', quietSetup: (f) => { addProc(f, 'p', 10, 'ping'); addSocket(f, 10, 'ping', 'ICM') }},
  {id: 'NEST-A02', fires: 'socket_af on p, no foreign family', found: [['p', 'medium', 'allow.socket_af', []]],
    quiet: 'p holds a socket of another family', quietSetup: (f) => { addProc(f, 'p', 11, 'bluetoothd'); addSocket(f, 11, 'bluetoothd', '?') }},
  {id: 'NEST-A03', fires: 'chflags on p in its run phase', found: [['p', 'medium', 'allow.chflags', []]],
    quiet: 'p is in a maintenance window', quietSetup: (f) => { f.nest['p']!.phase = 'maintenance' }},
  {id: 'NEST-A04', fires: 'mlock on p, racct on, nothing wired', setup: (f) => { setParams(f, 'p', {'allow.mlock': true}); f.host.racct = true; f.rctl = {p: {memorylocked: 0}} }, found: [['p', 'low', 'allow.mlock', []]],
    quiet: 'racct is off (unknown, not unused)', quietSetup: (f) => setParams(f, 'p', {'allow.mlock': true})},
  {id: 'NEST-A05', fires: 'allow.sysvipc on p', found: [['p', 'medium', 'allow.sysvipc', []]],
    quiet: 'allow.sysvipc off', quietSetup: (f) => setParams(f, 'p', {'allow.sysvipc': false})},
  {id: 'NEST-A06', fires: 'allow.quotas on p, whose root is a file system of its own', setup: (f) => setParams(f, 'p', {'allow.quotas': true}), found: [['p', 'low', 'allow.quotas', []]],
    quiet: 'quotas declared needed', quietSetup: (f) => { setParams(f, 'p', {'allow.quotas': true}); f.nest['p']!.declared = ['allow.quotas'] }},
  {id: 'NEST-A07', fires: 'read_msgbuf on p', setup: (f) => setParams(f, 'p', {'allow.read_msgbuf': true}), found: [['p', 'medium', 'allow.read_msgbuf', []]],
    quiet: 'declared needed', quietSetup: (f) => { setParams(f, 'p', {'allow.read_msgbuf': true}); f.nest['p']!.declared = ['allow.read_msgbuf'] }},
  {id: 'NEST-A08', fires: 'set_hostname on, hostnames as configured, once at the top', found: [['p', 'low', 'allow.set_hostname', ['p.a', 'p.b']]],
    quiet: 'no lifecycle recorded', quietSetup: (f) => { for (const n of ALL) f.nest[n]!.lifecycle = null }},
  {id: 'NEST-A09', fires: 'reserved_ports on jails that run no process', found: [['p', 'low', 'allow.reserved_ports', ['p.a', 'p.b']]],
    quiet: 'every jail runs a process', quietSetup: (f) => { addProc(f, 'p', 1, 'init'); addProc(f, 'p.a', 2, 'init'); addProc(f, 'p.b', 3, 'init') }},
  {id: 'NEST-A10', fires: 'unprivileged_proc_debug on, per jail', found: [['p', 'low', 'allow.unprivileged_proc_debug', []], ['p.a', 'low', 'allow.unprivileged_proc_debug', []], ['p.b', 'low', 'allow.unprivileged_proc_debug', []]],
    quiet: 'off everywhere', quietSetup: (f) => { for (const n of ALL) setParams(f, n, {'allow.unprivileged_proc_debug': false}) }},
  {id: 'NEST-A11', fires: 'suser on a jail with no children and children.max 0', setup: (f) => setParams(f, 'p.a', {'children.max': '0'}), found: [['p.a', 'low', 'allow.suser', []]],
    quiet: 'the children may still create jails (children.max 16)', quietSetup: () => undefined},
  {id: 'NEST-A12', fires: 'nfsd on p, no nfsd runs', setup: (f) => setParams(f, 'p', {'allow.nfsd': true}), found: [['p', 'medium', 'allow.nfsd', []]],
    quiet: 'mountd runs in p', quietSetup: (f) => { setParams(f, 'p', {'allow.nfsd': true}); addProc(f, 'p', 40, 'mountd') }},
  {id: 'NEST-A13', fires: 'vmm on p, no bhyve', setup: (f) => setParams(f, 'p', {'allow.vmm': true}), found: [['p', 'high', 'allow.vmm', []]],
    quiet: 'bhyve runs in p', quietSetup: (f) => { setParams(f, 'p', {'allow.vmm': true}); addProc(f, 'p', 41, 'bhyve') }},
  {id: 'NEST-A14', fires: 'extattr on p', setup: (f) => setParams(f, 'p', {'allow.extattr': true}), found: [['p', 'low', 'allow.extattr', []]],
    quiet: 'declared', quietSetup: (f) => { setParams(f, 'p', {'allow.extattr': true}); f.nest['p']!.declared = ['allow.extattr'] }},
  {id: 'NEST-A15', fires: 'routing on a shared-stack p', setup: (f) => setParams(f, 'p', {'allow.routing': true}), found: [['p', 'high', 'allow.routing', []]],
    quiet: 'p owns a vnet', quietSetup: (f) => setParams(f, 'p', {'allow.routing': true, vnet: 'new'})},
  {id: 'NEST-A16', fires: 'settime and adjtime on p', setup: (f) => setParams(f, 'p', {'allow.settime': true, 'allow.adjtime': true}), found: [['p', 'high', 'allow.adjtime', []], ['p', 'high', 'allow.settime', []]],
    quiet: 'both off', quietSetup: () => undefined},
  {id: 'NEST-A17', fires: 'unprivileged_parent_tampering on p', setup: (f) => setParams(f, 'p', {'allow.unprivileged_parent_tampering': true}), found: [['p', 'medium', 'allow.unprivileged_parent_tampering', []]],
    quiet: 'declared', quietSetup: (f) => { setParams(f, 'p', {'allow.unprivileged_parent_tampering': true}); f.nest['p']!.declared = ['allow.unprivileged_parent_tampering'] }},
  {id: 'NEST-A18', fires: 'setaudit on p and p.a: once, at p', setup: (f) => { setParams(f, 'p', {'allow.setaudit': true}); setParams(f, 'p.a', {'allow.setaudit': true}) }, found: [['p', 'low', 'allow.setaudit', ['p.a']]],
    quiet: 'off', quietSetup: () => undefined},
  {id: 'NEST-A19', fires: 'allow.dying in p.a\'s configuration', setup: (f) => { conf(f, 'p.a').params['allow.dying'] = [] }, found: [['p.a', 'low', 'allow.dying', []]],
    quiet: 'nest\'s own configurations', quietSetup: () => undefined},
  {id: 'NEST-A20', fires: 'raw sockets on a vnet child whose parent needs them', setup: (f) => { f.nest['p']!.declared = ['allow.raw_sockets']; setParams(f, 'p.b', {vnet: 'new', 'allow.raw_sockets': true}) }, found: [['p.b', 'low', 'allow.raw_sockets', []]],
    quiet: 'a shared-stack child with raw sockets is A01, not A20', quietSetup: (f) => { f.nest['p']!.declared = ['allow.raw_sockets']; setParams(f, 'p.b', {'allow.raw_sockets': true}) }},

  {id: 'NEST-M01', fires: 'allow.mount on children with no delegated dataset, which mount nothing', setup: (f) => { undelegate(f, 'a'); undelegate(f, 'b') }, found: [['p.a', 'low', 'allow.mount', []], ['p.b', 'low', 'allow.mount', []]],
    quiet: 'they mount their delegated datasets', quietSetup: () => undefined},
  {id: 'NEST-M02', fires: 'a mount type no other rule names, unused on p', setup: (f) => setParams(f, 'p', {'allow.mount.ext2fs': true}), found: [['p', 'low', 'allow.mount.ext2fs', []]],
    quiet: 'declared', quietSetup: (f) => { setParams(f, 'p', {'allow.mount.ext2fs': true}); f.nest['p']!.declared = ['allow.mount.ext2fs'] }},
  {id: 'NEST-M03', fires: 'nullfs: unused on the children (high), needed on p for their nest mount (high, prefer the host)', found: [['p.a', 'high', 'allow.mount.nullfs', []], ['p.b', 'high', 'allow.mount.nullfs', []], ['p', 'high', 'allow.mount.nullfs', ['p.a', 'p.b']]],
    quiet: 'nobody holds nullfs', quietSetup: (f) => { for (const n of ALL) setParams(f, n, {'allow.mount.nullfs': false}) }},
  {id: 'NEST-M04', fires: 'devfs unused on the children (ruleset 4: low); needed on p with ruleset 0 (high)', setup: (f) => setParams(f, 'p', {devfs_ruleset: '0'}), found: [['p.a', 'low', 'allow.mount.devfs', []], ['p.b', 'low', 'allow.mount.devfs', []], ['p', 'high', 'allow.mount.devfs', ['p.a', 'p.b']]],
    quiet: 'the children mount devfs themselves and p has ruleset 4', quietSetup: (f) => { f.nest['p.a']!.declared = ['allow.mount.devfs']; f.nest['p.b']!.declared = ['allow.mount.devfs'] }},
  {id: 'NEST-M04', fires: 'needed devfs on p, whose ruleset 4 was changed to unhide mem (high)', setup: (f) => { f.rulesets[4]!.push('600 path mem unhide'); for (const n of ['p.a', 'p.b']) f.nest[n]!.declared = ['allow.mount.devfs'] }, found: [['p', 'high', 'allow.mount.devfs', ['p.a', 'p.b']], ['p.a', 'high', 'allow.mount.devfs', []], ['p.b', 'high', 'allow.mount.devfs', []]],
    quiet: 'the stock ruleset 4', quietSetup: (f) => { for (const n of ['p.a', 'p.b']) f.nest[n]!.declared = ['allow.mount.devfs'] }},
  {id: 'NEST-M05', fires: 'fdescfs: needed by p, which mounts it with nodup', setup: (f) => f.mounts.push({from: 'fdescfs', on: '/nest/jails/p/root/dev/fd', type: 'fdescfs', opts: ['rw', 'nodup']}), found: [['p', 'medium', 'allow.mount.fdescfs', []]],
    quiet: 'declared, never mounted nodup', quietSetup: (f) => { f.nest['p']!.declared = ['allow.mount.fdescfs'] }},
  {id: 'NEST-M06', fires: 'procfs and linprocfs on p, unused', found: [['p', 'medium', 'allow.mount.linprocfs', []], ['p', 'medium', 'allow.mount.procfs', []]],
    quiet: 'declared', quietSetup: (f) => { f.nest['p']!.declared = ['allow.mount.linprocfs', 'allow.mount.procfs'] }},
  {id: 'NEST-M07', fires: 'a tmpfs without size= mounted inside p.a (needed there, and on p for it); p.b holds tmpfs unused', setup: (f) => f.mounts.push({from: 'tmpfs', on: '/nest/jails/p/root/data/jails/a/root/tmp', type: 'tmpfs', opts: ['rw']}), found: [['p.b', 'medium', 'allow.mount.tmpfs', []], ['p.a', 'medium', 'allow.mount.tmpfs', []]],
    quiet: 'the tmpfs has a size, and p.b does not hold tmpfs', quietSetup: (f) => { f.mounts.push({from: 'tmpfs', on: '/nest/jails/p/root/data/jails/a/root/tmp', type: 'tmpfs', opts: ['rw', 'size=64m']}); setParams(f, 'p.b', {'allow.mount.tmpfs': false}) }},
  {id: 'NEST-M08', fires: 'allow.mount.zfs on p.a, which has no delegated dataset', setup: (f) => undelegate(f, 'a'), found: [['p.a', 'medium', 'allow.mount.zfs', []]],
    quiet: 'p.a has its (unused) delegation: that is M02 and Z02', quietSetup: () => undefined},
  {id: 'NEST-M09', fires: 'fusefs on p', setup: (f) => setParams(f, 'p', {'allow.mount.fusefs': true}), found: [['p', 'medium', 'allow.mount.fusefs', []]],
    quiet: 'declared', quietSetup: (f) => { setParams(f, 'p', {'allow.mount.fusefs': true}); f.nest['p']!.declared = ['allow.mount.fusefs'] }},
  {id: 'NEST-M10', fires: 'p9fs on p (15.x)', setup: (f) => setParams(f, 'p', {'allow.mount.p9fs': true}), found: [['p', 'medium', 'allow.mount.p9fs', []]],
    quiet: 'declared', quietSetup: (f) => { setParams(f, 'p', {'allow.mount.p9fs': true}); f.nest['p']!.declared = ['allow.mount.p9fs'] }},
  {id: 'NEST-M11', fires: 'a tmpfs on p.a\'s /tmp that no configuration made', setup: (f) => f.mounts.push({from: 'tmpfs', on: '/nest/jails/p/root/data/jails/a/root/tmp', type: 'tmpfs', opts: ['rw']}), found: [['p.a', 'low', undefined, []]],
    quiet: 'only the mounts nest and the configurations make', quietSetup: () => undefined},

  {id: 'NEST-S01', fires: 'enforce_statfs 0 on p.b', setup: (f) => setParams(f, 'p.b', {enforce_statfs: '0'}), found: [['p.b', 'medium', 'enforce_statfs', []]],
    quiet: 'declared needed', quietSetup: (f) => { setParams(f, 'p.b', {enforce_statfs: '0'}); f.nest['p.b']!.declared = ['enforce_statfs=0'] }},
  {id: 'NEST-S02', fires: 'enforce_statfs 1 on children with no delegated dataset, which mount nothing', setup: (f) => { undelegate(f, 'a'); undelegate(f, 'b') }, found: [['p.a', 'medium', 'enforce_statfs', []], ['p.b', 'medium', 'enforce_statfs', []]],
    quiet: 'they mount their delegated datasets', quietSetup: () => undefined},
  {id: 'NEST-S03', fires: 'a 12.2-RELEASE-p3 kernel with mount grants', setup: (f) => { f.host.kernel = '12.2-RELEASE-p3' }, found: [['p', 'high', 'allow.mount', []], ['p.a', 'high', 'allow.mount', []], ['p.b', 'high', 'allow.mount', []]],
    quiet: '12.2-RELEASE-p6 has the fix', quietSetup: (f) => { f.host.kernel = '12.2-RELEASE-p6' }},
  {id: 'NEST-S04', fires: 'p at securelevel -1 in its run phase, raising its children', setup: (f) => { for (const n of ALL) setParams(f, n, {securelevel: '-1'}) }, found: [['p', 'medium', 'securelevel', ['p.a', 'p.b']]],
    quiet: 'securelevel 1 (as nest raises it)', quietSetup: () => undefined},
  {id: 'NEST-S05', fires: 'p.a configured securelevel 0 under p at 1', setup: (f) => { conf(f, 'p.a').params['securelevel'] = ['0'] }, found: [['p.a', 'medium', 'securelevel', []]],
    quiet: 'configured 1', quietSetup: (f) => { conf(f, 'p.a').params['securelevel'] = ['1'] }},

  {id: 'NEST-H01', fires: 'tmpfs unused in p\'s whole tree: one jail -m at p', found: [['p', 'medium', 'allow.mount.tmpfs', ['p.a', 'p.b']]],
    quiet: 'only p holds tmpfs (M07 then)', quietSetup: (f) => { setParams(f, 'p.a', {'allow.mount.tmpfs': false}); setParams(f, 'p.b', {'allow.mount.tmpfs': false}) }},
  {id: 'NEST-H02', fires: 'children.max 256 for two children', found: [['p', 'low', 'children.max', ['p.a', 'p.b']]],
    quiet: 'children.max 4', quietSetup: (f) => setParams(f, 'p', {'children.max': '4'})},
  {id: 'NEST-H03', fires: 'children.max 16 on children with no children', found: [['p.a', 'low', 'children.max', []], ['p.b', 'low', 'children.max', []]],
    quiet: 'children.max 0', quietSetup: (f) => { setParams(f, 'p.a', {'children.max': '0'}); setParams(f, 'p.b', {'children.max': '0'}) }},
  {id: 'NEST-H04', fires: 'children.max 2 for two children: no room for a restart', setup: (f) => setParams(f, 'p', {'children.max': '2'}), found: [['p', 'low', 'children.max', []]],
    quiet: 'children.max 256', quietSetup: () => undefined},
  {id: 'NEST-H05', fires: 'p.a\'s root outside p\'s', setup: (f) => { f.jails.find((j) => j.name === 'p.a')!.path = '/srv/a' }, found: [['p.a', 'high', 'path', []]],
    quiet: 'roots below p\'s', quietSetup: () => undefined},
  {id: 'NEST-H06', fires: 'p.a\'s configuration asks for raw sockets p does not hold', setup: (f) => { setParams(f, 'p', {'allow.raw_sockets': false}); conf(f, 'p.a').params['allow.raw_sockets'] = [] }, found: [['p.a', 'medium', 'allow.raw_sockets', []]],
    quiet: 'p holds them', quietSetup: (f) => { conf(f, 'p.a').params['allow.raw_sockets'] = [] }},
  {id: 'NEST-H06', fires: 'p.a\'s devfs would be mounted with ruleset 5 by p, whose own is 4', setup: (f) => { conf(f, 'p.a').params['devfs_ruleset'] = ['5'] }, found: [['p.a', 'medium', 'devfs_ruleset', []]],
    quiet: 'no devfs_ruleset given: jail(8) uses 4, p\'s own', quietSetup: (f) => { delete conf(f, 'p.a').params['devfs_ruleset'] }},
  {id: 'NEST-H06', fires: 'p.b moves an interface into a vnet of its own, but p has none', setup: (f) => { conf(f, 'p.b').params['vnet'] = []; conf(f, 'p.b').params['vnet.interface'] = ['epair5b'] }, found: [['p.b', 'medium', 'vnet', []]],
    quiet: 'p owns a vnet', quietSetup: (f) => { conf(f, 'p.b').params['vnet'] = []; conf(f, 'p.b').params['vnet.interface'] = ['epair5b']; setParams(f, 'p', {vnet: 'new'}) }},
  {id: 'NEST-H07', fires: 'p mounts only for its children (no dataset of its own mounted, nor they theirs)', setup: (f) => {
    undelegate(f, 'a')
    undelegate(f, 'b')
    f.mounts = f.mounts.filter((m) => !(m.from.startsWith('zroot/nest/jails/p/data') && !m.from.endsWith('/root')))
    conf(f, 'p').params['exec.start'] = ['/bin/sh /etc/rc']
  }, found: [['p', 'low', undefined, []]],
    quiet: 'p mounts its delegated dataset too', quietSetup: () => undefined},
  {id: 'NEST-H08', fires: 'p\'s sysv new while nothing below uses SysV', found: [['p', 'medium', 'sysvmsg', ['p.a', 'p.b']]],
    quiet: 'p disables them', quietSetup: (f) => setParams(f, 'p', {sysvmsg: 'disable', sysvsem: 'disable', sysvshm: 'disable'})},

  {id: 'NEST-I01', fires: 'allow.sysvipc on p; high once the host has objects', setup: (f) => f.ipc.push({kind: 'shm', id: 1, key: '0x1', cpid: 5, jid: 0, size: 4096, line: 'm 1 0x1 --rw------- root wheel 4096 5 5'}), found: [['p', 'high', 'allow.sysvipc', []]],
    quiet: 'explicit sysv*=new and no allow.sysvipc', quietSetup: (f) => setParams(f, 'p', {'allow.sysvipc': false})},
  {id: 'NEST-I02', fires: 'sysvshm=new on p.a, unused', setup: (f) => { setParams(f, 'p.a', {sysvshm: 'new'}) }, found: [['p.a', 'low', 'sysvshm', []]],
    quiet: 'p.a\'s process made a segment', quietSetup: (f) => { setParams(f, 'p.a', {sysvshm: 'new'}); addProc(f, 'p.a', 7, 'postgres'); f.ipc.push({kind: 'shm', id: 2, key: '0x2', cpid: 7, jid: 2, size: 56, line: 'm 2 0x2 --rw------- pgsql pgsql 56 7 7'}) }},
  {id: 'NEST-I03', fires: 'p.a configured sysvshm=new under p at disable', setup: (f) => { setParams(f, 'p', {sysvshm: 'disable'}); conf(f, 'p.a').params['sysvshm'] = ['new'] }, found: [['p', 'medium', 'sysvshm', ['p.a']]],
    quiet: 'p at new', quietSetup: (f) => { conf(f, 'p.a').params['sysvshm'] = ['new'] }},

  {id: 'NEST-Z01', fires: 'no quota on any delegated dataset', found: [['p', 'medium', 'quota', []], ['p.a', 'medium', 'quota', []], ['p.b', 'medium', 'quota', []]],
    quiet: 'quotas set', quietSetup: (f) => { for (const d of f.datasets) d.props['quota'] = '10737418240' }},
  {id: 'NEST-Z02', fires: 'the children\'s delegations are unused', found: [['p.a', 'medium', 'allow.mount.zfs', []], ['p.b', 'medium', 'allow.mount.zfs', []]],
    quiet: 'data written to both', quietSetup: (f) => { for (const d of f.datasets) if (d.name.includes('/delegated/')) d.props['written'] = '9000000' }},
  {id: 'NEST-Z03', fires: 'p\'s configured delegation now unjailed and mounted setuid', setup: (f) => { f.datasets.find((d) => d.name === 'zroot/nest/jails/p/data')!.props['jailed'] = 'off' }, found: [['p', 'medium', undefined, []]],
    quiet: 'still jailed', quietSetup: () => undefined},
  {id: 'NEST-Z04', fires: '/dev/zfs (ruleset 4) in p.a, which has no delegation', setup: (f) => undelegate(f, 'a'), found: [['p.a', 'low', undefined, []]],
    quiet: 'p.a has a delegated dataset', quietSetup: () => undefined},
  {id: 'NEST-Z05', fires: 'zfs.mount_snapshot 1 on p', setup: (f) => setParams(f, 'p', {'zfs.mount_snapshot': '1'}), found: [['p', 'medium', 'zfs.mount_snapshot', []]],
    quiet: '0', quietSetup: () => undefined},
]

describe('grant rules', () => {
  it('GRANT_RULES holds A01–A20, M01–M11, S01–S05, H01–H08, I01–I03, Z01–Z05, each once', () => {
    const want = [['A', 20], ['M', 11], ['S', 5], ['H', 8], ['I', 3], ['Z', 5]].flatMap(([l, n]) => Array.from({length: n as number}, (_, i) => `NEST-${l}${String(i + 1).padStart(2, '0')}`))
    expect(GRANT_RULES.map((r) => r.id)).toEqual(want)
    expect([...new Set(CASES.map((c) => c.id))]).toEqual(want)
  })

  for (const c of CASES) {
    it(`${c.id} fires: ${c.fires}`, () => {
      expect(short(run(c.id, facts(c.setup), c.scope))).toEqual(c.found)
    })
    it(`${c.id} stays quiet: ${c.quiet}`, () => {
      expect(run(c.id, facts(c.quietSetup), c.quietScope)).toEqual([])
    })
  }
})

describe('the checker\'s tree (§4 T11: the vm-parent preset with two children, no Linux software)', () => {
  const all = (f: AuditFacts): Finding[] => {
    const s = new Set(ALL)
    const ctx = {facts: f, scope: s, grants: classifyGrants(f, s)}
    return GRANT_RULES.flatMap((r) => r.check(ctx))
  }

  it('finds what the catalogue expects on p (H02, A01, A02, I01, M03, M06 linprocfs, A03) and the children\'s unused mount grants', () => {
    const got = all(treeFacts()).filter((x) => x.severity !== 'low' || ['NEST-H02', 'NEST-H03', 'NEST-M01'].includes(x.rule)).map((x) => `${x.rule} ${x.jail} ${x.param ?? ''}`.trim())
    expect(got).toEqual([
      'NEST-A01 p allow.raw_sockets',
      'NEST-A02 p allow.socket_af',
      'NEST-A03 p allow.chflags',
      'NEST-A05 p allow.sysvipc',
      'NEST-M03 p.a allow.mount.nullfs',
      'NEST-M03 p.b allow.mount.nullfs',
      'NEST-M03 p allow.mount.nullfs',
      'NEST-M05 p allow.mount.fdescfs',
      'NEST-M06 p allow.mount.linprocfs',
      'NEST-M06 p allow.mount.procfs',
      'NEST-H01 p allow.mount.tmpfs',
      'NEST-H02 p children.max',
      'NEST-H03 p.a children.max',
      'NEST-H03 p.b children.max',
      'NEST-H08 p sysvmsg',
      'NEST-I01 p allow.sysvipc',
      'NEST-Z01 p quota',
      'NEST-Z01 p.a quota',
      'NEST-Z01 p.b quota',
      'NEST-Z02 p.a allow.mount.zfs',
      'NEST-Z02 p.b allow.mount.zfs',
    ])
  })

  it('gives each finding its evidence, fix and live class exactly', () => {
    const f = treeFacts()
    const by = (id: string, jail: string): Finding => all(f).find((x) => x.rule === id && x.jail === jail)!
    expect(by('NEST-A01', 'p')).toEqual({
      rule: 'NEST-A01', severity: 'medium', jail: 'p', param: 'allow.raw_sockets', live: 'L1', affects: [],
      finding: 'allow.raw_sockets is unused: p runs no process, so it holds no socket, and no jail below it needs it; raw sockets let jail root craft packets and drive network subsystems (jail.8)',
      fix: 'allow.noraw_sockets; in /etc/jail.conf.d/p.conf; live: jail -m name=p allow.noraw_sockets',
      evidence: [{argv: ['jls', '--libxo', 'json', '-n'], lines: ['p: allow.raw_sockets=true']}, {argv: ['ps', '-ax', '-o', 'pid,jid,comm'], lines: []}],
    })
    expect(by('NEST-H01', 'p')).toMatchObject({
      param: 'allow.mount.tmpfs', live: 'L2', affects: ['p.a', 'p.b'],
      fix: 'allow.mount.notmpfs; in /etc/jail.conf.d/p.conf; live: jail -m name=p allow.mount.notmpfs (mounts made before stay; nest unmounts them at stop); and drop allow.mount.tmpfs from the configs of p.a, p.b',
    })
    expect(by('NEST-H02', 'p')).toMatchObject({
      finding: 'children.max is 256, far more than the 4 its tree needs (2 jail(s) created through it (p.a, p.b), plus 2 spare for jails that stay counted while they die on a restart): the budget bounds how many jails a compromised parent can spawn',
      fix: 'children.max = "4"; in /etc/jail.conf.d/p.conf; live: jail -m name=p children.max=4',
      evidence: [{argv: ['jls', '--libxo', 'json', '-n'], lines: ['p: children.max=256', 'p: children.cur=2']}],
    })
    expect(by('NEST-Z02', 'p.a').evidence).toEqual([
      {argv: ['zfs', 'get', '-Hp', '-o', 'name,property,value,source'], lines: ['zroot/nest/jails/p/delegated/a\tjailed\ton', 'zroot/nest/jails/p/delegated/a\treferenced\t98304', 'zroot/nest/jails/p/delegated/a\tmounted\tyes']},
      {argv: ['mount', '-p'], lines: ['zroot/nest/jails/p/delegated/a /nest/jails/p/root/data/jails/a/root/data zfs rw,noatime,nfsv4acls 0 0']},
      {argv: ['jls', '--libxo', 'json', '-n'], lines: ['p.a: children.cur=0']},
    ])
  })

  it('uses the commands the collection recorded in facts.sources', () => {
    const f = treeFacts()
    f.sources = {jls: ['jls', '--libxo', 'json', '-n', '-j', 'p']}
    expect(all(f).find((x) => x.rule === 'NEST-A01')!.evidence[0]!.argv).toEqual(['jls', '--libxo', 'json', '-n', '-j', 'p'])
  })
})
