// What running public configurations through the audit found wrong (test/fixtures/audit-public):
// each case is one of them cut down to the lines that matter, on hand-built facts.
import {describe, expect, it} from 'vitest'

import {auditReport} from '../../src/audit/index.js'
import type {AuditFacts, JailFacts} from '../../src/audit/facts.js'
import {configuredRulesets} from '../../src/services/audit.js'
import {buildFacts, runHygiene} from '../helpers/audit-facts-hygiene.js'

const host = (text: string, extra: Partial<Parameters<typeof buildFacts>[0]> = {}): AuditFacts =>
  buildFacts({...extra, files: [{path: '/etc/jail.conf', text, startedBy: null, prefix: ''}, ...(extra.files ?? [])]})
const jail = (f: AuditFacts, name: string): JailFacts => f.jails.find((j) => j.name === name) as JailFacts
const brief = (f: AuditFacts, rule: string): string[] => runHygiene(f).filter((x) => x.rule === rule).map((x) => `${x.severity} ${x.jail} ${x.finding}`)

describe('configurations nobody on the team wrote', () => {
  it('R02: a jail jail(8) refuses in the host\'s /etc/jail.conf is reported on that jail (poudriere_in_jail.wiki: name= inside its own block)', () => {
    const f = host('poudriere {\n\tname=poudriere;\n\tpath=/jails/poudriere;\n}\nother { path = /jails/other; }\n', {jails: []})
    expect(brief(f, 'NEST-R02')).toEqual([
      'medium poudriere jail(8) refuses this jail\'s configuration in /etc/jail.conf: /etc/jail.conf: poudriere: cannot redefine parameter "name".',
    ])
  })

  it('R02: a file jail(8) cannot parse at all is the host\'s finding, not dropped', () => {
    const f = host('broken {\n path = /j/x\n}\n', {jails: []})
    expect(runHygiene(f).filter((x) => x.rule === 'NEST-R02').map((x) => `${x.severity} ${x.jail}`)).toEqual(['medium (host)'])
  })

  it('D01: devfs_ruleset = 0 written with mount.devfs is high: jail(8) mounts /dev with -oruleset=0, not 4', () => {
    expect(brief(host('a { path = /j/a; mount.devfs; devfs_ruleset = 0; }\n'), 'NEST-D01')).toEqual([
      'high a devfs_ruleset = 0 is configured with mount.devfs: jail(8) mounts its /dev with -oruleset=0 (no rules; 4 only when the parameter is unset), so its /dev shows every device of the host',
    ])
    expect(brief(host('a { path = /j/a; mount.devfs; }\n'), 'NEST-D01').map((x) => x.slice(0, 6))).toEqual(['low a '])
  })

  it('D05: a child its parent\'s jail(8) started with devfs_ruleset=0 has the parent\'s rules on /dev (devfs_mount applies the jail\'s own), not a drift', () => {
    const f = host('ingress { path = /jails/ingress; devfs_ruleset = 5; mount.devfs; children.max = 6; allow.mount; allow.mount.devfs; enforce_statfs = 1; }\n', {
      files: [{path: '/jails/ingress/etc/jail.conf', text: 'freshports { path = /jails/freshports; mount.devfs; devfs_ruleset = 0; }\n', startedBy: 'ingress', prefix: 'ingress', root: '/jails/ingress'}],
    })
    jail(f, 'ingress.freshports').params['devfs_ruleset'] = '5'
    f.devfsMounts = [{on: '/jails/ingress/dev', rules: f.rulesets[5] ?? []}, {on: '/jails/ingress/jails/freshports/dev', rules: f.rulesets[5] ?? []}]
    expect(brief(f, 'NEST-D05')).toEqual([])
    f.devfsMounts = [{on: '/jails/ingress/jails/freshports/dev', rules: f.rulesets[4] ?? []}]
    expect(brief(f, 'NEST-D05').map((x) => x.split(' (the parameter')[0])).toEqual(['medium ingress.freshports its /dev (/jails/ingress/jails/freshports/dev) is mounted with rules other than ruleset 5\'s'])
  })

  it('M03/M04: a presence-risk grant whose use is unknown (a jail nest did not start) is still reported at its severity', () => {
    const f = host('w { path = /j/w; allow.mount; allow.mount.nullfs; allow.mount.devfs; enforce_statfs = 1; }\n')
    f.host.kernel = '14.3-RELEASE-p9' // patched: NEST-R07 says nothing, M03 must
    const r = auditReport(f, new Set(['w']))
    expect(r.grants.filter((g) => g.param === 'allow.mount.nullfs').map((g) => g.verdict)).toEqual(['unknown'])
    expect(r.findings.filter((x) => x.rule === 'NEST-M03' || x.rule === 'NEST-M04').map((x) => `${x.rule} ${x.severity} ${x.finding.split(' (')[0]}`)).toEqual([
      'NEST-M03 high allow.mount.nullfs is held and its use is unknown',
      'NEST-M04 high allow.mount.devfs is held and its use is unknown',
    ])
  })

  it('the rulesets the configurations name are read: devfs_ruleset, else 4 for mount.devfs (command.c), never 0', () => {
    const f = host('a { path = /j/a; mount.devfs; }\nb { path = /j/b; mount.devfs; devfs_ruleset = 5; }\nc { path = /j/c; devfs_ruleset = 7; }\nd { path = /j/d; mount.devfs; devfs_ruleset = 0; }\ne { path = /j/e; }\n')
    expect(configuredRulesets(f.configs)).toEqual([4, 5, 7])
  })

  it('Z04: /dev/zfs visible through the rules bound to /dev (jail(8) mounted ruleset 4) is said so, not "devfs ruleset 0 unhides it"', () => {
    const f = host('a { path = /j/a; mount.devfs; }\n')
    f.mounts.push({from: 'devfs', on: '/j/a/dev', type: 'devfs', opts: ['rw']})
    f.devfsMounts = [{on: '/j/a/dev', rules: f.rulesets[4] ?? []}]
    const z = auditReport(f, new Set(['a'])).findings.filter((x) => x.rule === 'NEST-Z04')
    expect(z.map((x) => x.finding)).toEqual(['/dev/zfs is visible in a, which has no delegated dataset (the rules on its /dev (/j/a/dev) unhide it)'])
    expect(z[0]?.evidence[1]?.argv).toEqual(['devfs', '-m', '/j/a/dev', 'rule', 'show'])
  })

  it('a configured jail that is not running: what its next start holds, from its configuration alone', () => {
    const f = host('p {\n\tpath=/jails/p;\n\tip4=inherit;\n\tip6=inherit;\n\tallow.mount;\n\tallow.mount.devfs;\n\tallow.mount.nullfs;\n\tallow.sysvipc;\n\tenforce_statfs=1;\n}\nq { path = /jails/q; mount.devfs; devfs_ruleset = 0; enforce_statfs = 0; sysvshm = new; }\nr { path = /jails/r; vnet; ip4 = inherit; }\n', {jails: []})
    const got = runHygiene(f).filter((x) => x.finding.startsWith('configured, not running')).map((x) => `${x.rule} ${x.severity} ${x.jail} ${x.live}`)
    expect(got).toEqual(['NEST-N01 medium p CFG', 'NEST-I01 medium p CFG', 'NEST-M03 high p CFG', 'NEST-M04 high p CFG', 'NEST-S01 medium q CFG', 'NEST-D01 high q CFG'])
    // Once it runs, the kernel's values are read instead: nothing said twice.
    const g = host('q { path = /jails/q; mount.devfs; devfs_ruleset = 0; enforce_statfs = 0; }\n')
    expect(runHygiene(g).filter((x) => x.finding.startsWith('configured, not running'))).toEqual([])
  })

  it('M08: allow.mount.zfs held, its use unknown, no dataset attached and none its configuration attaches (FreshPorts nginx01, its zfs jail lines commented out)', () => {
    const f = host('nginx01 { path = /jails/nginx01; allow.mount = true; allow.mount.zfs = true; enforce_statfs = 1; }\nw { path = /jails/w; allow.mount; allow.mount.zfs; enforce_statfs = 1; exec.created = "zfs jail w zroot/w/data"; }\n')
    const m08 = auditReport(f, new Set(['nginx01', 'w'])).findings.filter((x) => x.rule === 'NEST-M08')
    expect(m08.map((x) => `${x.severity} ${x.jail} ${x.finding.split(' (')[0]}`)).toEqual(['medium nginx01 allow.mount.zfs is held and its use is unknown'])
  })
})

