// Grant verdicts (audit-rules §1.1, §2): needed with what needs it, unused with the evidence of
// non-use, unknown with what this host cannot see; needs flow up the tree.
import {describe, expect, it} from 'vitest'

import {classifyGrants} from '../../src/audit/grants.js'
import type {Grant} from '../../src/audit/finding.js'
import {addProc, addSocket, setParams, treeFacts} from '../helpers/audit-facts.js'

const ALL = new Set(['p', 'p.a', 'p.b'])
const verdicts = (g: Grant[], jail: string): Record<string, string> => Object.fromEntries(g.filter((x) => x.jail === jail).map((x) => [x.param, `${x.verdict}${x.least ? ` → ${x.least}` : ''}`]))
const one = (g: Grant[], jail: string, param: string): Grant => g.find((x) => x.jail === jail && x.param === param)!

describe('classifyGrants', () => {
  it('a fresh vm-parent with two children: what the children\'s lifecycle uses is needed, the rest unused, the defaults unknown', () => {
    const g = classifyGrants(treeFacts(), ALL)
    expect(verdicts(g, 'p')).toEqual({
      'allow.chflags': 'unused → allow.nochflags',
      'allow.mount': 'needed',
      'allow.mount.devfs': 'needed',
      'allow.mount.fdescfs': 'unused → allow.mount.nofdescfs',
      'allow.mount.linprocfs': 'unused → allow.mount.nolinprocfs',
      'allow.mount.nullfs': 'needed',
      'allow.mount.procfs': 'unused → allow.mount.noprocfs',
      'allow.mount.tmpfs': 'unused → allow.mount.notmpfs',
      'allow.mount.zfs': 'needed',
      'allow.raw_sockets': 'unused → allow.noraw_sockets',
      'allow.reserved_ports': 'unknown',
      'allow.set_hostname': 'unknown',
      'allow.socket_af': 'unused → allow.nosocket_af',
      'allow.suser': 'unknown',
      'allow.sysvipc': 'unused → allow.nosysvipc',
      'allow.unprivileged_proc_debug': 'unknown',
      'children.max': 'needed → children.max=4',
      enforce_statfs: 'needed',
      sysvmsg: 'unused → sysvmsg=disable',
      sysvsem: 'unused → sysvsem=disable',
      sysvshm: 'unused → sysvshm=disable',
      devfs_ruleset: 'needed',
    })
    expect(verdicts(g, 'p.a')).toEqual({
      'allow.mount': 'unused → allow.nomount',
      'allow.mount.devfs': 'unused → allow.mount.nodevfs',
      'allow.mount.nullfs': 'unused → allow.mount.nonullfs',
      'allow.mount.tmpfs': 'unused → allow.mount.notmpfs',
      'allow.mount.zfs': 'unused → allow.mount.nozfs',
      'allow.reserved_ports': 'unknown',
      'allow.set_hostname': 'unknown',
      'allow.suser': 'unknown',
      'allow.unprivileged_proc_debug': 'unknown',
      'children.max': 'unused → children.max=0',
      enforce_statfs: 'unused → enforce_statfs=2',
      devfs_ruleset: 'needed',
    })
    expect(verdicts(g, 'p.b')).toEqual(verdicts(g, 'p.a'))
  })

  it('says why, with the evidence: the lifecycle mount that needs devfs, the sample that shows no raw socket', () => {
    const g = classifyGrants(treeFacts(), ALL)
    const devfs = one(g, 'p', 'allow.mount.devfs')
    expect(devfs.reason).toBe('lifecycle: p\'s jail(8) mounts devfs on /nest/jails/p/root/data/jails/a/root/dev for p.a (mount.devfs) (and 1 more)')
    expect(devfs.evidence[0]).toEqual({argv: ['jail', '-f', '/nest/jails/p/root/etc/jail.conf.d/a.conf', '-e', '|'], lines: ['p.a: mount.devfs']})
    expect(devfs.evidence[1]).toEqual({argv: ['mount', '-p'], lines: ['devfs /nest/jails/p/root/data/jails/a/root/dev devfs rw 0 0']})
    const raw = one(g, 'p', 'allow.raw_sockets')
    expect(raw.reason).toBe('p runs no process, so it holds no socket, and no jail below it needs it')
    expect(raw.evidence).toEqual([{argv: ['jls', '--libxo', 'json', '-n'], lines: ['p: allow.raw_sockets=true']}, {argv: ['ps', '-ax', '-o', 'pid,jid,comm'], lines: []}])
    const zfs = one(g, 'p.a', 'allow.mount.zfs')
    expect(zfs.reason).toContain('the only ZFS p.a mounts is its delegated dataset zroot/nest/jails/p/delegated/a, and the delegation is unused: no jail\'s root and no dataset below it, 98304 bytes written')
    expect(one(g, 'p', 'children.max').reason).toBe('lifecycle: 2 jail(s) created through it (p.a, p.b), plus 2 spare for jails that stay counted while they die on a restart')
  })

  it('a raw socket a child\'s process holds makes allow.raw_sockets needed on the child and on the whole path above it', () => {
    const f = treeFacts()
    setParams(f, 'p.a', {'allow.raw_sockets': true})
    addProc(f, 'p.a', 4242, 'ping')
    addSocket(f, 4242, 'ping', 'ICM')
    const g = classifyGrants(f, ALL)
    expect(one(g, 'p.a', 'allow.raw_sockets')).toMatchObject({verdict: 'needed', reason: 'observed: p.a\'s processes hold 1 raw socket(s)', least: null})
    expect(one(g, 'p.a', 'allow.raw_sockets').evidence).toEqual([{argv: ['procstat', '-f'], lines: ['4242 ping 3 s - rw------ 1 0 ICM -']}])
    expect(one(g, 'p', 'allow.raw_sockets')).toMatchObject({verdict: 'needed', reason: 'child: p.a needs it (observed: p.a\'s processes hold 1 raw socket(s))', least: null})
  })

  it('a process holding only TCP sockets leaves raw sockets unused, saying the sample cannot see a transient use', () => {
    const f = treeFacts()
    addProc(f, 'p', 77, 'sshd')
    addSocket(f, 77, 'sshd', 'TCP')
    const raw = one(classifyGrants(f, ALL), 'p', 'allow.raw_sockets')
    expect(raw.verdict).toBe('unused')
    expect(raw.reason).toBe('procstat -f of p\'s 1 process(es) shows no raw socket (PRO ICM, RAW, IP?, IPD), and no jail below it needs it; a sample: a transient use (a ping) is seen only with DTrace (O5), which nest does not run')
    expect(raw.evidence.map((e) => e.lines)).toEqual([['p: allow.raw_sockets=true'], ['77 1 sshd'], ['77 sshd 3 s - rw------ 1 0 TCP -']])
  })

  it('without a lifecycle record the grants used only at start are unknown; the steady-state ones are still judged', () => {
    const f = treeFacts()
    for (const n of ['p', 'p.a', 'p.b']) f.nest[n]!.lifecycle = null
    const g = classifyGrants(f, ALL)
    expect(one(g, 'p', 'allow.mount.tmpfs')).toMatchObject({verdict: 'unknown', least: null, reason: 'nest has no record of a start of p (or of a jail above it): a grant used only while it and its children start cannot be called unused (§1.1)'})
    expect(one(g, 'p', 'allow.chflags').verdict).toBe('unknown')
    expect(one(g, 'p.a', 'enforce_statfs').verdict).toBe('unknown')
    expect(one(g, 'p', 'allow.mount.devfs').verdict).toBe('needed')
    expect(one(g, 'p', 'allow.raw_sockets').verdict).toBe('unused')
  })

  it('a mount made from inside a child is observed there and needed on its parent too', () => {
    const f = treeFacts()
    f.mounts.push({from: 'tmpfs', on: '/nest/jails/p/root/data/jails/a/root/tmp', type: 'tmpfs', opts: ['rw', 'size=67108864']})
    const g = classifyGrants(f, ALL)
    expect(one(g, 'p.a', 'allow.mount.tmpfs')).toMatchObject({verdict: 'needed', reason: 'observed: tmpfs mounted on /nest/jails/p/root/data/jails/a/root/tmp from inside p.a'})
    expect(one(g, 'p.a', 'allow.mount')).toMatchObject({verdict: 'needed'})
    expect(one(g, 'p.a', 'enforce_statfs')).toMatchObject({verdict: 'needed', least: null})
    expect(one(g, 'p', 'allow.mount.tmpfs')).toMatchObject({verdict: 'needed', reason: 'child: p.a needs it (observed: tmpfs mounted on /nest/jails/p/root/data/jails/a/root/tmp from inside p.a)'})
  })

  it('a delegated dataset with data written keeps allow.mount.zfs; without written in the facts its use is unknown', () => {
    const f = treeFacts()
    f.datasets.find((d) => d.name === 'zroot/nest/jails/p/delegated/a')!.props['written'] = '5242880'
    delete f.datasets.find((d) => d.name === 'zroot/nest/jails/p/delegated/b')!.props['written']
    const g = classifyGrants(f, ALL)
    expect(one(g, 'p.a', 'allow.mount.zfs')).toMatchObject({verdict: 'needed', reason: 'observed: p.a mounts its delegated dataset zroot/nest/jails/p/delegated/a, 5242880 bytes were written to it'})
    expect(one(g, 'p.b', 'allow.mount.zfs')).toMatchObject({verdict: 'unknown', reason: 'zfs get written of zroot/nest/jails/p/delegated/b is not in the facts: whether p.b writes to its delegated dataset cannot be told'})
    expect(one(g, 'p.b', 'allow.mount').verdict).toBe('unknown')
    expect(one(g, 'p.b', 'enforce_statfs').verdict).toBe('unknown')
  })

  it('allow.mlock: unknown with racct off, needed with memory wired (own minus the children\'s), unused with none', () => {
    const f = treeFacts()
    setParams(f, 'p', {'allow.mlock': true})
    setParams(f, 'p.a', {'allow.mlock': true})
    expect(one(classifyGrants(f, ALL), 'p', 'allow.mlock')).toMatchObject({verdict: 'unknown', reason: 'kern.racct.enable is 0: rctl -u cannot show memorylocked (O6), and nest runs no DTrace for PRIV_VM_MLOCK (O5)'})
    f.host.racct = true
    f.rctl = {p: {memorylocked: 4096}, 'p.a': {memorylocked: 4096}, 'p.b': {}}
    const g = classifyGrants(f, ALL)
    expect(one(g, 'p.a', 'allow.mlock')).toMatchObject({verdict: 'needed', reason: 'observed: p.a has 4096 bytes wired (memorylocked)'})
    expect(one(g, 'p', 'allow.mlock').reason).toBe('child: p.a needs it (observed: p.a has 4096 bytes wired (memorylocked))')
    f.rctl = {p: {memorylocked: 0}, 'p.a': {memorylocked: 0}}
    expect(one(classifyGrants(f, ALL), 'p', 'allow.mlock')).toMatchObject({verdict: 'unused', least: 'allow.nomlock'})
  })

  it('SysV: a shared memory segment made by a child\'s process keeps sysvshm on the path; msg objects without a creator are unknown without racct', () => {
    const f = treeFacts()
    setParams(f, 'p.a', {sysvshm: 'new'})
    addProc(f, 'p.a', 900, 'postgres')
    f.ipc.push({kind: 'shm', id: 65536, key: '0x0052e2c1', cpid: 900, jid: 2, size: 56, line: 'm  65536 0x0052e2c1 --rw------- postgres postgres 56 900 900'})
    f.ipc.push({kind: 'msg', id: 1, key: '0x0000004d', cpid: null, jid: null, size: 0, line: 'q      1 0x0000004d --rw-r--r--     root    wheel'})
    const g = classifyGrants(f, ALL)
    expect(one(g, 'p.a', 'sysvshm')).toMatchObject({verdict: 'needed', least: null, reason: 'observed: p.a\'s processes created 1 SysV shm object(s)'})
    expect(one(g, 'p', 'sysvshm')).toMatchObject({verdict: 'needed', least: null})
    expect(one(g, 'p', 'sysvmsg').verdict).toBe('unknown')
    expect(one(g, 'p', 'sysvsem').verdict).toBe('unused')
  })

  it('declared needs are needed; a vnet jail\'s raw_sockets is a no-op; nfsd and vmm go by the processes that use them', () => {
    const f = treeFacts()
    f.nest['p']!.declared = ['allow.mount.tmpfs', 'allow.chflags']
    setParams(f, 'p.b', {vnet: 'new', 'allow.raw_sockets': true, 'allow.nfsd': true, 'allow.vmm': true})
    addProc(f, 'p.b', 501, 'nfsd')
    const g = classifyGrants(f, ALL)
    expect(one(g, 'p', 'allow.mount.tmpfs')).toMatchObject({verdict: 'needed', reason: 'declared: declared by p\'s operator (allow.mount.tmpfs)'})
    expect(one(g, 'p', 'allow.chflags').verdict).toBe('needed')
    expect(one(g, 'p.b', 'allow.raw_sockets')).toMatchObject({verdict: 'unused', reason: 'a no-op: p.b owns a vnet, and prison_priv_check grants a vnet jail raw sockets and every socket family without it (§1.3)'})
    expect(one(g, 'p.b', 'allow.nfsd')).toMatchObject({verdict: 'needed', reason: 'observed: p.b runs nfsd'})
    expect(one(g, 'p.b', 'allow.vmm')).toMatchObject({verdict: 'unused', reason: 'no bhyve process runs in p.b or below it'})
  })

  it('a securelevel below 1 is unused outside a window and needed inside one; a changed hostname makes set_hostname needed', () => {
    const f = treeFacts()
    setParams(f, 'p', {securelevel: '-1', 'host.hostname': 'renamed'})
    expect(one(classifyGrants(f, ALL), 'p', 'securelevel')).toMatchObject({verdict: 'unused', least: 'securelevel=2'})
    expect(one(classifyGrants(f, ALL), 'p', 'allow.set_hostname')).toMatchObject({verdict: 'needed', reason: 'observed: p\'s hostname is renamed, not the configured p'})
    f.nest['p']!.phase = 'bootstrap'
    expect(one(classifyGrants(f, ALL), 'p', 'securelevel')).toMatchObject({verdict: 'needed', least: null, reason: 'declared: p is in its bootstrap window (nest:phase=bootstrap)'})
  })

  it('only the jails in scope get verdicts', () => {
    expect([...new Set(classifyGrants(treeFacts(), new Set(['p.a'])).map((x) => x.jail))]).toEqual(['p.a'])
  })
})
