// The hygiene rules (audit-rules.md §3 D, F, N, X, R): for each, a case that fires and one that
// must not, on facts built from jail.conf texts (test/helpers/audit-facts-hygiene.ts).
import {describe, expect, it} from 'vitest'

import {kernelUnpatched, ADVISORIES} from '../../src/audit/advisories.js'
import {dangerousVisible, parseDevfsRules, rulesOf} from '../../src/audit/devfs.js'
import type {AuditFacts, JailFacts, PathFacts} from '../../src/audit/facts.js'
import type {Finding} from '../../src/audit/finding.js'
import {buildFacts, DEFAULT_RULESETS, mountsFrom, runHygiene} from '../helpers/audit-facts-hygiene.js'

const host = (text: string, extra: Parameters<typeof buildFacts>[0] = {files: []}): AuditFacts =>
  buildFacts({...extra, files: [{path: '/etc/jail.conf', text, startedBy: null, prefix: ''}, ...extra.files]})
const of = (f: AuditFacts, rule: string, scope?: string[]): Finding[] => runHygiene(f, scope).filter((x) => x.rule === rule)
const brief = (fs: Finding[]): string[] => fs.map((x) => `${x.severity} ${x.jail}`)
const jail = (f: AuditFacts, name: string): JailFacts => f.jails.find((j) => j.name === name) as JailFacts
const dir = (path: string, mode: number, uid = 0, type: PathFacts['type'] = 'dir'): PathFacts => ({path, type, uid, gid: 0, mode})

describe('devfs rulesets (src/audit/devfs.ts)', () => {
  it('ruleset 4 shows no dangerous device; an empty ruleset shows them all; depth 1 stops nested includes', () => {
    const sets = DEFAULT_RULESETS()
    expect(dangerousVisible(rulesOf(sets, 4), sets, false)).toEqual([])
    expect(dangerousVisible([], sets, false).map((v) => v.dev.cls)).toContain('disks')
    // ruleset 6 includes 4 only: 4's own includes (hide all) do not run at vfs.devfs.rule_depth 1
    const six = {...sets, ...parseDevfsRules('[r=6]\nadd include $devfsrules_jail\nadd path \'bpf*\' unhide\n')}
    expect(dangerousVisible(rulesOf(six, 6), six, false).map((v) => v.dev.cls)).toContain('mem/kmem')
  })
})

describe('D — devices', () => {
  it('D01 fires high on devfs_ruleset 0 with allow.mount.devfs, low without, not with a ruleset', () => {
    expect(brief(of(host('a { path = /j/a; persist; allow.mount; allow.mount.devfs; enforce_statfs = 1; }\n'), 'NEST-D01'))).toEqual(['high a'])
    expect(brief(of(host('a { path = /j/a; persist; }\n'), 'NEST-D01'))).toEqual(['low a'])
    expect(of(host('a { path = /j/a; persist; devfs_ruleset = 4; }\n'), 'NEST-D01')).toEqual([])
  })

  it('D02 fires on a ruleset that is not loaded or does not hide all first, not on ruleset 4', () => {
    const f = host('a { path = /j/a; mount.devfs; devfs_ruleset = 7; }\nb { path = /j/b; mount.devfs; devfs_ruleset = 8; }\nc { path = /j/c; mount.devfs; }\n', {files: [], devfsRules: "[open=8]\nadd path 'bpf*' unhide\n"})
    const d02 = of(f, 'NEST-D02')
    expect(brief(d02)).toEqual(['high a', 'high b'])
    expect(d02[0]?.evidence[0]).toEqual({argv: ['devfs', 'rule', '-s', '7', 'show'], lines: []})
  })

  it('D03 names the dangerous classes a ruleset unhides, with their severities; ruleset 4 shows none', () => {
    const rules = "[jail_disks=10]\nadd include $devfsrules_hide_all\nadd include $devfsrules_unhide_basic\nadd path 'da*' unhide\nadd path 'bpf*' unhide\nadd path 'ttyu*' unhide\n"
    const f = host('a { path = /j/a; mount.devfs; devfs_ruleset = 10; }\nb { path = /j/b; mount.devfs; }\n', {files: [], devfsRules: rules})
    expect(of(f, 'NEST-D03').map((x) => `${x.severity} ${x.jail} ${x.finding.split(':')[0]}`)).toEqual(['high a the devfs on /j/a/dev shows disks (/dev/da0)', 'medium a the devfs on /j/a/dev shows bpf (/dev/bpf)', 'low a the devfs on /j/a/dev shows console (/dev/ttyu0)'])
    const none = host('a { path = /j/a; mount.devfs; devfs_ruleset = 7; }\n')
    expect(brief(of(none, 'NEST-D03'))).toEqual(['high a', 'medium a', 'low a'])
  })

  it('D03 lowers a declared device need', () => {
    const rules = "[music=6]\nadd include $devfsrules_hide_all\nadd path 'ugen*' unhide\n"
    const f = host('m { path = /j/m; mount.devfs; devfs_ruleset = 6; }\n', {files: [], devfsRules: rules, over: {nest: {m: {policy: null, declared: ['device:usb'], phase: 'run', lifecycle: null}}}})
    expect(brief(of(f, 'NEST-D03'))).toEqual(['low m'])
  })

  it('D04 fires on fuse visible without fusefs (zfs is Z04\'s), not when fusefs is allowed', () => {
    expect(of(host('a { path = /j/a; mount.devfs; devfs_ruleset = 4; }\n'), 'NEST-D04').map((x) => x.finding)).toEqual([
      'the devfs on /j/a/dev shows devices it does not need: fuse (allow.mount.fusefs is off)',
    ])
    const f = host('a { path = /j/a; mount.devfs; devfs_ruleset = 4; allow.mount; allow.mount.fusefs; allow.mount.zfs; enforce_statfs = 1; exec.created = "/sbin/zfs jail a tank/a"; }\n', {files: [], over: {datasets: [{name: 'tank/a', props: {jailed: 'on'}}]}})
    expect(of(f, 'NEST-D04')).toEqual([])
  })

  it('D05 fires when /dev was mounted with other rules, not when they are the ruleset\'s', () => {
    const f = host('a { path = /j/a; mount.devfs; devfs_ruleset = 4; }\n')
    f.devfsMounts = [{on: '/j/a/dev', rules: []}]
    expect(of(f, 'NEST-D05').map((x) => `${x.severity} ${x.finding}`)).toEqual([
      "high its /dev (/j/a/dev) is mounted with rules other than ruleset 4's: none, every device is visible (the parameter governs only new mounts)",
    ])
    f.devfsMounts = [{on: '/j/a/dev', rules: [...(f.rulesets[4] ?? [])]}]
    expect(of(f, 'NEST-D05')).toEqual([])
  })

  it('D06 fires on a host-started child that sees more than its parent, not on one its parent starts', () => {
    const rules = "[wide=9]\nadd include $devfsrules_hide_all\nadd path 'mem' unhide\n"
    const text = 'p { path = /j/p; mount.devfs; devfs_ruleset = 4; children.max = 2; }\np.c { path = /j/p/c; mount.devfs; devfs_ruleset = 9; }\n'
    expect(brief(of(host(text, {files: [], devfsRules: rules}), 'NEST-D06'))).toEqual(['high p.c'])
    const inner = buildFacts({files: [{path: '/etc/jail.conf', text: 'p { path = /j/p; mount.devfs; devfs_ruleset = 4; children.max = 2; }\n', startedBy: null, prefix: ''}, {path: '/j/p/etc/jail.conf', text: 'c { path = /c; mount.devfs; devfs_ruleset = 9; }\n', startedBy: 'p', prefix: 'p', root: '/j/p'}], devfsRules: rules})
    expect(of(inner, 'NEST-D06')).toEqual([])
  })
})

describe('F — files', () => {
  const oneJail = 'a { path = /jails/a; persist; devfs_ruleset = 4; }\n'
  it('F01 fires on a writable ancestor and on a root any host user reaches, not on a 0700 container', () => {
    const f = host(oneJail)
    expect(of(f, 'NEST-F01')).toEqual([])
    f.paths = [dir('/', 0o755), dir('/jails', 0o777), dir('/jails/a', 0o755)]
    const [x] = of(f, 'NEST-F01')
    expect(x?.finding).toBe('/jails owned by a non-root user or writable by group or others; every directory down to /jails/a is searchable by others, so a host user can run what jail root plants there (a setuid binary)')
    expect(x?.evidence[0]?.lines).toEqual(['0 0 drwxr-xr-x /', '0 0 drwxrwxrwx /jails', '0 0 drwxr-xr-x /jails/a'])
  })

  it('F02 fires on a link in the path of the root, not on real directories', () => {
    const f = host(oneJail)
    expect(of(f, 'NEST-F02')).toEqual([])
    f.paths = [dir('/', 0o755), dir('/jails', 0o755, 0, 'link'), dir('/jails/a', 0o755)]
    expect(brief(of(f, 'NEST-F02'))).toEqual(['medium a'])
  })

  it('F03 and X02 fire on host hooks that mount or write below the root, not on hooks inside it', () => {
    const f = host('a { path = "/jails/$name"; exec.prestart = "mount_nullfs /var/cache/pkg /jails/$name/var/cache/pkg"; exec.poststart = "cp /etc/resolv.conf ${path}/etc/"; exec.start = "echo hi > /jails/a/tmp/x"; }\n')
    expect(of(f, 'NEST-F03').map((x) => x.finding)).toEqual([
      'hooks that run as host root outside the jail write below its root, where jail root can plant a link (FreeBSD-SA-07:01.jail): exec.prestart "mount_nullfs /var/cache/pkg /jails/a/var/cache/pkg"; exec.poststart "cp /etc/resolv.conf /jails/a/etc/"',
    ])
    expect(brief(of(f, 'NEST-X02'))).toEqual(['high a'])
    const quiet = host('a { path = /jails/a; exec.prestart = "/sbin/ifconfig lo1 create"; exec.start = "/bin/sh /etc/rc"; }\n')
    expect([...of(quiet, 'NEST-F03'), ...of(quiet, 'NEST-X02')]).toEqual([])
  })

  it('F04 fires on a host path nullfs-mounted rw, not on a ro one', () => {
    const f = host('a { path = /jails/a; mount = "/var/cache/pkg /jails/a/var/cache/pkg nullfs rw 0 0"; mount += "/usr/ports /jails/a/usr/ports nullfs ro 0 0"; }\n')
    expect(of(f, 'NEST-F04').map((x) => `${x.severity} ${x.evidence[0]?.lines.join()}`)).toEqual(['high /var/cache/pkg /jails/a/var/cache/pkg nullfs rw'])
  })

  it('F05 fires on a directory shared rw into unrelated jails (high), medium when ro and patched; not between parent and child', () => {
    const share = (opt: string): string => `a { path = /jails/a; mount = "/srv/share /jails/a/share nullfs ${opt} 0 0"; }\nb { path = /jails/b; mount = "/srv/share /jails/b/share nullfs ro 0 0"; }\n`
    expect(brief(of(host(share('rw')), 'NEST-F05'))).toEqual(['high a', 'high b'])
    expect(brief(of(host(share('ro')), 'NEST-F05'))).toEqual(['medium a', 'medium b'])
    const ro = host(share('ro'))
    ro.host.kernel = '14.3-RELEASE-p8'
    expect(brief(of(ro, 'NEST-F05'))).toEqual(['high a', 'high b'])
    expect(of(host('p { path = /jails/p; children.max = 1; mount = "/srv/x /jails/p/x nullfs ro 0 0"; }\np.c { path = /jails/p/c; mount = "/srv/x /jails/p/c/x nullfs ro 0 0"; }\n'), 'NEST-F05')).toEqual([])
  })

  it('F06 fires on a shared root and on a root inside an unrelated jail\'s, not on a child below its parent', () => {
    expect(brief(of(host('a { path = /jails/a; }\nb { path = /jails/a; }\nc { path = /jails/a/c; }\n'), 'NEST-F06'))).toEqual(['high a', 'high b', 'high c'])
    expect(of(host('p { path = /jails/p; children.max = 1; }\np.c { path = /jails/p/c; }\n'), 'NEST-F06')).toEqual([])
  })

  it('F07 fires on a root that is no mount point, not on one that is', () => {
    const f = host(oneJail, {files: [], rootDatasets: false, extraMounts: 'tank/jails /jails zfs rw 0 0\n'})
    expect(brief(of(f, 'NEST-F07'))).toEqual(['low a'])
    const g = host(oneJail, {files: [], rootDatasets: false, extraMounts: 'tank/jails/a /jails/a zfs rw 0 0\n'})
    expect(of(g, 'NEST-F07')).toEqual([])
  })

  it('F08 fires on path = / (low when declared), not on a real root', () => {
    expect(brief(of(host('bar { path = /; mount.nodevfs; persist; }\n'), 'NEST-F08'))).toEqual(['high bar'])
    const d = host('bar { path = /; persist; }\n', {files: [], over: {nest: {bar: {policy: null, declared: ['path=/'], phase: 'run', lifecycle: null}}}})
    expect(brief(of(d, 'NEST-F08'))).toEqual(['low bar'])
    expect(of(host(oneJail), 'NEST-F08')).toEqual([])
  })
})

describe('N — network', () => {
  it('N01 fires on ip4/ip6 inherit without vnet, not on a jail with its own address or a vnet', () => {
    const f = host('a { path = /j/a; ip4 = inherit; ip6 = inherit; }\nb { path = /j/b; ip4.addr = 192.0.2.2; ip6 = disable; }\nc { path = /j/c; vnet; ip4 = inherit; }\n')
    expect(of(f, 'NEST-N01').map((x) => `${x.jail} ${x.fix}`)).toEqual(['a ip4.addr = "<its own address>"; ip6 = "disable"; (or ip6.addr) in its jail.conf, then restart it (ip4/ip6 are create-time)'])
  })

  it('N02 reports a vnet jail for review (info), nothing for a shared-stack one', () => {
    expect(brief(of(host('v { path = /j/v; vnet; }\nw { path = /j/w; }\n'), 'NEST-N02'))).toEqual(['info v'])
  })

  const sock = (pid: number, name: string): AuditFacts['sockets'][number] => ({pid, fd: '3', protocol: 'TCP', raw: false, otherFamily: false, line: `${pid} sshd 3 s - rw------ 1 0 TCP ${name}`})
  it('N04 fires on ip6 enabled when every inet socket is IPv4, not when one is IPv6 or nothing was seen', () => {
    const f = host('a { path = /j/a; ip4 = inherit; ip6 = inherit; }\n', {files: [], procs: [{pid: 20, jid: 1, comm: 'nginx'}]})
    expect(of(f, 'NEST-N04')).toEqual([])
    f.sockets = [sock(20, '0.0.0.0:80 0.0.0.0:0')]
    expect(of(f, 'NEST-N04').map((x) => `${x.severity} ${x.jail} ${x.param}`)).toEqual(['low a ip6'])
    f.sockets.push(sock(20, '::.80 ::.0'))
    expect(of(f, 'NEST-N04')).toEqual([])
  })

  it('N05 fires on host sockets listening on every address next to a jail with its own, not on bound or connected ones', () => {
    const f = host('b { path = /j/b; ip4.addr = 192.0.2.2; }\n', {files: [], procs: [{pid: 10, jid: 0, comm: 'sshd'}, {pid: 11, jid: 1, comm: 'sh'}]})
    f.sockets = [sock(10, '192.0.2.1:22 0.0.0.0:0'), sock(10, '0.0.0.0:22 192.0.2.9:5000')]
    expect(of(f, 'NEST-N05')).toEqual([])
    f.sockets = [sock(10, '0.0.0.0:22 0.0.0.0:0')]
    expect(brief(of(f, 'NEST-N05'))).toEqual(['low b'])
    f.sockets = [sock(10, '::.22 ::.0')]
    expect(brief(of(f, 'NEST-N05'))).toEqual(['low b'])
  })
})

describe('X — hooks', () => {
  it('X01 is medium for literal shell hooks, high when a variable changes the words, silent on plain argv', () => {
    const f = host('a { path = /j/a; exec.prestop = "test \\"\\$NEST_CLEANUP_FOLLOWS\\" = 1 || /usr/local/bin/nest stop a --children-only"; }\nb { path = /j/b; $ip = "10.0.0.2 up; reboot"; exec.prestart = "/sbin/ifconfig lo1 ${ip}"; }\nc { path = /j/c; exec.prestart = "/sbin/ifconfig lo1 create"; exec.start = "echo \\$HOME > /tmp/x"; }\n')
    expect(of(f, 'NEST-X01').map((x) => `${x.severity} ${x.jail} ${x.finding}`)).toEqual([
      'medium a exec.prestop runs through /bin/sh -c as host root (shell characters, command.c run_command)',
      "high b hooks run as host root expand $ip, whose value changes the command's words; exec.prestart runs through /bin/sh -c as host root (shell characters, command.c run_command)",
    ])
  })

  it('X03 fires without exec.clean when commands run inside, not with it or with none', () => {
    expect(brief(of(host('a { path = /j/a; exec.start = "/bin/sh /etc/rc"; }\nb { path = /j/b; exec.clean; exec.start = "/bin/sh /etc/rc"; }\nc { path = /j/c; persist; }\n'), 'NEST-X03'))).toEqual(['low a'])
  })

  it('X04 fires on a console log inside the root, not under /var/log', () => {
    expect(brief(of(host('a { path = /j/a; exec.consolelog = /j/a/var/log/console; }\nb { path = /j/b; exec.consolelog = /var/log/jail_b.log; }\n'), 'NEST-X04'))).toEqual(['low a'])
  })

  it('X05 fires on a jail.conf writable by others, not on a root-owned 0644 one', () => {
    const f = host('a { path = /j/a; }\n')
    f.paths = [...f.paths, {path: '/etc/jail.conf', type: 'file', uid: 0, gid: 0, mode: 0o644}, dir('/etc/jail.conf.d', 0o755)]
    expect(of(f, 'NEST-X05')).toEqual([])
    f.paths = [...f.paths.filter((p) => p.path !== '/etc/jail.conf'), {path: '/etc/jail.conf', type: 'file', uid: 1001, gid: 0, mode: 0o664}]
    expect(of(f, 'NEST-X05').map((x) => `${x.severity} ${x.jail} ${x.evidence[0]?.lines.join()}`)).toEqual(['high a 1001 0 -rw-rw-r-- /etc/jail.conf'])
    f.paths = [...f.paths.filter((p) => p.path !== '/etc/jail.conf'), dir('/usr/local/etc/nest/policies', 0o777)]
    expect(of(f, 'NEST-X05').map((x) => x.evidence[0]?.lines.join())).toEqual(['0 0 drwxrwxrwx /usr/local/etc/nest/policies'])
  })
})

describe('R — runtime', () => {
  const text = 'a { path = /j/a; persist; allow.mount; allow.mount.tmpfs; enforce_statfs = 1; children.max = 2; }\n'
  it('R01 classes an ad-hoc grant as high, a lowered value as medium, and a parent clamp as nothing', () => {
    const f = host(text)
    expect(of(f, 'NEST-R01')).toEqual([])
    jail(f, 'a').params['allow.raw_sockets'] = true
    jail(f, 'a').params['children.max'] = '1'
    expect(of(f, 'NEST-R01').map((x) => `${x.severity} ${x.finding}`)).toEqual([
      'high the running jail differs from /etc/jail.conf and has more than it: allow.raw_sockets true (config false, ad-hoc); children.max 1 (config 2, ad-hoc); its next start changes it',
    ])
    const g = host('p { path = /j/p; children.max = 3; }\np.c { path = /j/p/c; allow.mount; allow.mount.tmpfs; enforce_statfs = 1; }\n')
    expect(of(g, 'NEST-R01')).toEqual([]) // the kernel clamped c's allow.mount and enforce_statfs to p's
  })

  it('R01 reads a value a hook of the configuration sets after start (nest raises securelevel in exec.poststart)', () => {
    const f = host('p { path = /j/p; securelevel = -1; exec.poststart = "/usr/sbin/jail -m name=p securelevel=1"; }\n')
    jail(f, 'p').params['securelevel'] = '1'
    expect(of(f, 'NEST-R01')).toEqual([])
    jail(f, 'p').params['securelevel'] = '0'
    expect(brief(of(f, 'NEST-R01'))).toEqual(['high p'])
  })

  it('R02 fires on a running jail with no configuration and on an unreadable file, not on a configured jail', () => {
    const f = buildFacts({files: [{path: '/etc/jail.conf.d/x.conf', text: 'x {\n path = /j/x\n}\n', startedBy: null, prefix: ''}, {path: '/etc/jail.conf.d/a.conf', text: 'a { path = /j/a; }\n', startedBy: null, prefix: ''}]})
    f.jails.push({name: 'x', jid: 9, parent: null, path: '/j/x', dying: false, params: {jid: '9', path: '/j/x'}}, {name: 'y', jid: 10, parent: null, path: '/j/y', dying: false, params: {jid: '10', path: '/j/y'}})
    expect(of(f, 'NEST-R02').map((x) => `${x.severity} ${x.jail} ${x.finding.slice(0, 60)}`)).toEqual([
      'medium x jail(8) cannot read /etc/jail.conf.d/x.conf: /etc/jail.conf.',
      'medium x running, and its configuration /etc/jail.conf.d/x.conf is on',
      'medium y running with no configuration nest reads: its next start can',
    ])
  })

  it('R03 fires on a persistent jail with no process and no child, not on one with a process or a child', () => {
    const f = host('a { path = /j/a; persist; }\nb { path = /j/b; persist; }\np { path = /j/p; persist; children.max = 1; }\np.c { path = /j/p/c; }\n', {files: [], procs: [{pid: 5, jid: 2, comm: 'nginx'}, {pid: 6, jid: 4, comm: 'sh'}]})
    expect(brief(of(f, 'NEST-R03'))).toEqual(['low a'])
  })

  it('R04 fires on a pinned or newer osrelease, not on the host\'s', () => {
    const f = host('a { path = /j/a; osrelease = 14.0-RELEASE; }\nb { path = /j/b; osrelease = 15.0-RELEASE; }\nc { path = /j/c; }\n')
    expect(of(f, 'NEST-R04').map((x) => `${x.jail} ${x.finding.slice(0, 40)}`)).toEqual(['a osrelease 14.0-RELEASE differs from the ', 'b osrelease 15.0-RELEASE is newer than the'])
  })

  it('R05 fires on a dying jail only', () => {
    const f = host('a { path = /j/a; }\n')
    expect(of(f, 'NEST-R05')).toEqual([])
    jail(f, 'a').dying = true
    expect(brief(of(f, 'NEST-R05'))).toEqual(['low a'])
  })

  it('R06 fires on an orphan delegation and on mounts below a stopped jail, not on a stopped jail\'s own delegation', () => {
    const f = host('a { path = /j/a; }\n', {files: [], jails: []})
    f.datasets = [{name: 'tank/nest/jails/gone/data', props: {jailed: 'on', 'nest:name': 'gone'}}, {name: 'tank/nest/jails/a/data', props: {jailed: 'on', 'nest:name': 'a'}}, {name: 'tank/nest/jails/a/data/x', props: {jailed: 'on', 'nest:name': 'x'}}]
    f.mounts = mountsFrom('devfs /j/a/dev devfs rw 0 0\n')
    expect(of(f, 'NEST-R06').map((x) => `${x.jail} ${x.finding.slice(0, 50)}`)).toEqual(['gone tank/nest/jails/gone/data is jailed=on for gone, w', 'a not running, yet 1 mount(s) remain below its root '])
  })

  it('R07 fires on allow.mount.nullfs under 14.3-RELEASE-p7, not under p8', () => {
    const f = host('a { path = /j/a; allow.mount; allow.mount.nullfs; enforce_statfs = 1; }\n')
    f.host.kernel = '14.3-RELEASE-p7'
    expect(of(f, 'NEST-R07').map((x) => x.finding)).toEqual(['allow.mount.nullfs, on kernel 14.3-RELEASE-p7, which lacks the correction of FreeBSD-SA-26:02.jail (CVE-2025-15547; FreeBSD-SA-26:02.jail.asc, Corrected: 2026-01-27)'])
    f.host.kernel = '14.3-RELEASE-p8'
    expect(of(f, 'NEST-R07')).toEqual([])
  })

  it('the advisory table: listed branches by patch level, older branches by the advisory\'s reach', () => {
    const at = (id: string, k: string): boolean | null => kernelUnpatched(ADVISORIES.find((a) => a.id === id) as (typeof ADVISORIES)[number], k)
    expect([at('FreeBSD-SA-21:10.jail_mount', '12.2-RELEASE-p5'), at('FreeBSD-SA-21:10.jail_mount', '12.2-RELEASE-p6'), at('FreeBSD-SA-21:10.jail_mount', '11.2-RELEASE'), at('FreeBSD-SA-21:10.jail_mount', '14.3-RELEASE')]).toEqual([true, false, true, false])
    expect([at('FreeBSD-SA-26:02.jail', '13.4-RELEASE-p2'), at('FreeBSD-SA-26:02.jail', '15.0-RELEASE'), at('FreeBSD-SA-26:02.jail', '14.3-STABLE')]).toEqual([false, false, null])
  })
})

describe('scope', () => {
  it('reports only the jails in scope', () => {
    const f = host('a { path = /j/a; ip4 = inherit; }\nb { path = /j/b; ip4 = inherit; }\n')
    expect(brief(of(f, 'NEST-N01', ['b']))).toEqual(['medium b'])
  })
})
