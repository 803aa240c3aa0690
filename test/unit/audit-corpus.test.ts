// The public over-privileged configurations of audit-rules.md §4 (test/fixtures/audit/T*, each
// with its SOURCE.md saying where each line came from), through the hygiene rules (D, F, N, X,
// R): the findings §4 expects, as rule, severity and jail, and every other finding listed too,
// so nothing absurd can fire unseen. A/M/S/H/I/Z belong to the grant rules.
import {describe, expect, it} from 'vitest'

import {configsFrom, type ConfigFile} from '../../src/audit/configs.js'
import type {AuditFacts, JailFacts} from '../../src/audit/facts.js'
import {parseJlsJson} from '../../src/host/parse.js'
import {buildFacts, fixture, jailsFromConfigs, mountsFrom, runHygiene, summary, type CaseInput} from '../helpers/audit-facts-hygiene.js'

const hostFile = (dir: string, name: string, path = '/etc/jail.conf'): ConfigFile => ({path, text: fixture(dir, name), startedBy: null, prefix: ''})
const audit = (input: CaseInput): string[] => summary(runHygiene(buildFacts(input)))

/** The jails the kernel holds for parameters given to `jail -c` (no configuration file): one a line, `k=v` or a flag. */
function runningWithout(name: string, params: string[]): JailFacts[] {
  const body = params.map((p) => (p.includes('=') ? `${p.slice(0, p.indexOf('='))} = ${JSON.stringify(p.slice(p.indexOf('=') + 1))};` : `${p};`)).join('\n')
  return jailsFromConfigs(configsFrom([{path: '(jail -c)', text: `${name} {\n${body}\n}\n`, startedBy: null, prefix: ''}]).configs)
}

describe('T1 — FreeBSD Handbook jail examples', () => {
  it('the typical entry: jail(8) cannot parse it (no ; after its ip6.addr)', () => {
    const f = buildFacts({files: [hostFile('T1', 'typical.conf')]})
    expect(f.configErrors?.map((e) => e.message.split(' (')[0])).toEqual(['/etc/jail.conf line 12: interface: syntax error'])
    expect(summary(runHygiene(f))).toEqual(['NEST-R02 medium (host)']) // the host's /etc/jail.conf: no one jail to name
  })
  const fstabs = {'/usr/local/jails/thinjail-nullfs-base.fstab': fixture('T1', 'thinjail-nullfs-base.fstab')}
  for (const [name, want] of Object.entries({
    'classic.conf': ['NEST-D01 low classic', 'NEST-D04 low classic'],
    'thin-zfs.conf': ['NEST-D01 low thinjail', 'NEST-D04 low thinjail', 'NEST-N01 medium thinjail'],
    'thin-nullfs.conf': ['NEST-D01 low thinjail', 'NEST-D04 low thinjail'],
    'vnet.conf': ['NEST-D04 low vnet', 'NEST-N02 info vnet', 'NEST-X01 medium vnet'],
    'linux.conf': ['NEST-D03 high ubuntu', 'NEST-D03 low ubuntu', 'NEST-D03 medium ubuntu', 'NEST-D04 low ubuntu', 'NEST-F04 high ubuntu'],
  })) {
    it(name, () => expect(audit({files: [hostFile('T1', name)], fstabs})).toEqual(want))
  }
  it('the Linux jail: /tmp and /home rw, and a devfs the host mounts with no ruleset', () => {
    const fs = runHygiene(buildFacts({files: [hostFile('T1', 'linux.conf')]}))
    expect(fs.filter((x) => x.rule === 'NEST-F04').map((x) => x.evidence[0]?.lines.join())).toEqual([
      '/tmp /usr/local/jails/containers/ubuntu/compat/ubuntu/tmp nullfs rw',
      '/home /usr/local/jails/containers/ubuntu/compat/ubuntu/home nullfs rw',
    ])
    expect(fs.find((x) => x.rule === 'NEST-D03' && x.severity === 'high')?.finding.split(':')[0]).toBe('the devfs on /usr/local/jails/containers/ubuntu/compat/ubuntu/dev shows disks (/dev/ada0), mem/kmem (/dev/mem), io (/dev/io), netmap (/dev/netmap), SCSI passthrough (/dev/pass0), cpuctl (/dev/cpuctl0), dtrace (/dev/dtrace/helper), pf (/dev/pf)')
  })
  it('the VNET jail: X01 medium, its hook variables being literals', () => {
    const x = runHygiene(buildFacts({files: [hostFile('T1', 'vnet.conf')]})).find((f) => f.rule === 'NEST-X01')
    expect(x?.finding).toBe('hooks run as host root expand $epair, $name, $bridge')
  })
})

describe('T2 — poudriere in a vnet parent (poudriere #657)', () => {
  it('X01 on the helper hooks, the vnet for review, ruleset 4 showing fuse', () => {
    const over: Partial<AuditFacts> = {datasets: [{name: 'data/jail/pkg.zs64.net/poudriere', props: {jailed: 'on', quota: 'none'}}]}
    expect(audit({files: [hostFile('T2', 'jail.conf')], over})).toEqual(['NEST-D04 low pkg', 'NEST-N02 info pkg', 'NEST-X01 medium pkg'])
  })
})

describe('T3 — poudriere in a jail (poudriere #216)', () => {
  it('devfs_ruleset 0 with allow.mount.devfs', () => {
    expect(audit({files: [hostFile('T3', 'jail.conf')]})).toEqual(['NEST-D01 high poudriere', 'NEST-D04 low poudriere'])
  })
})

describe('T4 — build jails without a devfs ruleset (poudriere #59)', () => {
  it('disks and mem visible, no ruleset, no configuration', () => {
    const jails = runningWithout('83i386-09', ['path=/poudriere/jails/83i386/build/09', 'persist'])
    const mounts = mountsFrom(fixture('T4', 'mount-p.txt'))
    const f = buildFacts({files: [], jails, over: {mounts, devfsMounts: [{on: '/poudriere/jails/83i386/build/09/dev', rules: []}]}})
    const fs = runHygiene(f)
    expect(summary(fs)).toEqual(['NEST-D01 low 83i386-09', 'NEST-D03 high 83i386-09', 'NEST-D03 low 83i386-09', 'NEST-D03 medium 83i386-09', 'NEST-D05 high 83i386-09', 'NEST-R02 medium 83i386-09'])
    expect(fs.find((x) => x.rule === 'NEST-D03' && x.severity === 'high')?.finding).toContain('disks (/dev/ada0), mem/kmem (/dev/mem)')
  })
})

describe('T5 — a home server (Bastille music jail; cups and lms)', () => {
  it('the music jail: enforce_statfs 0 is the grant rules\', the USB devices it declares are low, osrelease pinned', () => {
    const over: Partial<AuditFacts> = {nest: {mpdjail: {policy: null, declared: ['device:usb'], phase: 'run', lifecycle: null}}}
    expect(audit({files: [hostFile('T5', 'mpdjail.conf', '/etc/jail.conf.d/mpdjail.conf')], devfsRules: fixture('T5', 'devfs.rules'), over})).toEqual(['NEST-D03 low mpdjail', 'NEST-R04 low mpdjail', 'NEST-X03 low mpdjail'])
  })
  it('the second setup: inherit addresses, the host\'s pkg cache rw into lms, a printer ruleset with USB', () => {
    const fstabs = {'/usr/local/jails/lms.fstab': fixture('T5', 'lms.fstab')}
    expect(audit({files: [hostFile('T5', 'second.conf')], fstabs, devfsRules: fixture('T5', 'devfs-cups.rules')})).toEqual([
      'NEST-D01 low lms',
      'NEST-D03 medium cups',
      'NEST-D04 low lms',
      'NEST-F04 high lms',
      'NEST-N01 medium cups',
      'NEST-N01 medium lms',
    ])
  })
})

describe('T6 — NanoBSD build jail (rc.conf form, empty ruleset 5)', () => {
  it('ruleset 5 empty: every device, md disks included; no jail.conf', () => {
    const jails = runningWithout('build', ['path=/usr/jails/build', 'allow.mount', 'allow.chflags', 'enforce_statfs=1', 'devfs_ruleset=5', 'ip4.addr=10.0.0.50'])
    const f = buildFacts({files: [], jails, devfsRules: fixture('T6', 'devfs.rules'), over: {}})
    f.mounts.push({from: 'devfs', on: '/usr/jails/build/dev', type: 'devfs', opts: ['rw']})
    f.devfsMounts = [{on: '/usr/jails/build/dev', rules: []}]
    const fs = runHygiene(f)
    expect(summary(fs)).toEqual(['NEST-D02 high build', 'NEST-D03 high build', 'NEST-D03 low build', 'NEST-D03 medium build', 'NEST-R02 medium build'])
    expect(fs.find((x) => x.rule === 'NEST-D02')?.finding.split(':')[0]).toBe('devfs ruleset 5 is empty or not loaded')
  })
})

describe('T7 — rookie-inc wiki: hooks that mount into the jail', () => {
  it('X02 and F03 high, F04 high for the pkg cache, X01 medium', () => {
    const extraMounts = '/usr/ports /jail/www/usr/ports nullfs ro 0 0\n/var/cache/pkg /jail/www/var/cache/pkg nullfs rw 0 0\n'
    const fs = runHygiene(buildFacts({files: [hostFile('T7', 'jail.conf')], extraMounts}))
    expect(summary(fs)).toEqual(['NEST-D04 low www', 'NEST-F03 high www', 'NEST-F04 high www', 'NEST-X01 medium www', 'NEST-X02 high www'])
    expect(fs.find((x) => x.rule === 'NEST-X02')?.evidence[0]?.lines).toEqual([
      'www: exec.prestart = "mount_nullfs -o ro /usr/ports/ /jail/${name}/usr/ports";',
      'www: exec.prestart = "mount_nullfs /var/cache/pkg/ /jail/${name}/var/cache/pkg";',
    ])
  })
})

describe("T8 — pot's start command", () => {
  it('inherit addresses and no configuration (F03 is not observable: pot writes from its own script)', () => {
    const jails = runningWithout('web', fixture('T8', 'jail-c.params').trim().split('\n'))
    // jail(8) mounted its /dev for mount.devfs with ruleset 4 (no devfs_ruleset given: command.c's default)
    expect(audit({files: [], jails, extraMounts: 'devfs /opt/pot/jails/web/m/dev devfs rw,ruleset=4 0 0\n'})).toEqual(['NEST-D01 low web', 'NEST-D04 low web', 'NEST-N01 medium web', 'NEST-R02 medium web'])
  })
})

describe('T9 — CBSD defaults', () => {
  it('ruleset 4 showing zfs and fuse it does not use', () => {
    expect(audit({files: [hostFile('T9', 'jail.conf')]})).toEqual(['NEST-D04 low cbsdjail'])
  })
})

describe('T10 — jail.conf(5) example "bar"', () => {
  it('F08 on path = /, R03 when it is idle', () => {
    const files = [hostFile('T10', 'jail.conf')]
    const jails = jailsFromConfigs(configsFrom(files).configs)
    const procs = [{pid: 50, jid: jails.find((j) => j.name === 'foo')?.jid ?? 0, comm: 'sshd'}]
    expect(audit({files, procs})).toEqual(['NEST-D01 low foo', 'NEST-D04 low foo', 'NEST-F08 high bar', 'NEST-R03 low bar'])
  })
})

describe("T11 — nest's own vm-parent with two children (the simulated host)", () => {
  it('what nest itself writes, honestly: inherit addresses, shell hooks, no exec.clean, a ro share between siblings', () => {
    const recs = parseJlsJson(fixture('T11', 'jls.json'))._unsafeUnwrap()
    const byJid = new Map(recs.map((r) => [r.jid, r.name]))
    const jails: JailFacts[] = recs.map((r) => ({name: r.name, jid: r.jid ?? 0, parent: r.parent ? (byJid.get(r.parent) ?? null) : null, path: r.path ?? '/', dying: r.params['dying'] === true, params: r.params}))
    const datasets = fixture('T11', 'zfs-get.txt')
      .trim()
      .split('\n')
      .reduce<Record<string, Record<string, string>>>((acc, l) => {
        const [name = '', prop = '', value = ''] = l.split('\t')
        acc[name] = {...(acc[name] ?? {}), [prop]: value}
        return acc
      }, {})
    const root = '/nest/jails/p/root'
    const f = buildFacts({
      files: [
        {path: '/etc/jail.conf.d/p.conf', text: fixture('T11', 'etc/jail.conf.d/p.conf'), startedBy: null, prefix: ''},
        {path: `${root}/etc/jail.conf.d/a.conf`, text: fixture('T11', 'p-root/etc/jail.conf.d/a.conf'), startedBy: 'p', prefix: 'p', root},
        {path: `${root}/etc/jail.conf.d/b.conf`, text: fixture('T11', 'p-root/etc/jail.conf.d/b.conf'), startedBy: 'p', prefix: 'p', root},
      ],
      jails,
      over: {mounts: mountsFrom(fixture('T11', 'mount-p.txt')), datasets: Object.entries(datasets).map(([name, props]) => ({name, props}))},
    })
    const fs = runHygiene(f)
    expect(summary(fs)).toEqual([
      'NEST-D04 low p',
      'NEST-D04 low p.a',
      'NEST-D04 low p.b',
      'NEST-F05 medium p.a',
      'NEST-F05 medium p.b',
      'NEST-N01 medium p',
      'NEST-N01 medium p.a',
      'NEST-N01 medium p.b',
      'NEST-X01 medium p',
      'NEST-X01 medium p.a',
      'NEST-X01 medium p.b',
      'NEST-X03 low p',
      'NEST-X03 low p.a',
      'NEST-X03 low p.b',
    ])
    // p's securelevel: -1 in p.conf, raised to 1 by its own exec.poststart: no drift.
    expect(fs.filter((x) => x.rule === 'NEST-R01')).toEqual([])
    expect(fs.find((x) => x.rule === 'NEST-X01' && x.jail === 'p.a')?.finding).toBe("exec.prestop, exec.release run through /bin/sh -c as p's root (shell characters, command.c run_command)")
    // The simulated host's kernel says 14.3-RELEASE (freebsd-version -k, no patch level): SA-26:02
    // and SA-26:04 are not corrected there, so the nullfs grant and the shared directory are high.
    f.host.kernel = '14.3-RELEASE'
    const unpatched = summary(runHygiene(f)).filter((x) => /R07|F05/.test(x))
    expect(unpatched).toEqual(['NEST-F05 high p.a', 'NEST-F05 high p.b', 'NEST-R07 high p', 'NEST-R07 high p.a', 'NEST-R07 high p.b'])
  })
})
