// R — runtime state and drift (audit-rules.md §3 NEST-R01 … R07): the kernel's jails (jls -n)
// against their configurations (jail -e), processes (ps), datasets (zfs get) and the host's
// kernel version (freebsd-version -k) against the advisories' correction tables.
import {ALL_ALLOW, DEFAULT_ALLOW} from '../../jailconf/index.js'
import {ADVISORIES, kernelUnpatched, parseKernel} from '../advisories.js'
import {dangerousVisible, rulesOf} from '../devfs.js'
import type {AuditFacts, ConfigFacts, JailFacts} from '../facts.js'
import type {Finding, Severity} from '../finding.js'
import {configOf, flag, int, text, type Rule, type RuleContext} from '../rule.js'
import {isVnet} from './devices.js'
import {below, confEvidence, confFlag, confValue, finding, isUnder, jlsEvidence, mountEvidence, related, scopedJails, sourceArgv} from './hygiene-common.js'

const SYSV = ['sysvmsg', 'sysvsem', 'sysvshm']
const SYSV_RANK: Record<string, number> = {disable: 0, new: 1, inherit: 2}
const CREATE_TIME = ['path', 'ip4', 'ip6', 'vnet', 'osrelease', 'osreldate']

/** `jail -m name=J securelevel=1` in a hook of the jail's own config: the value its config sets after start. */
function hookSets(c: ConfigFacts, jail: string): Record<string, string> {
  const out: Record<string, string> = {}
  const own = jail.slice(jail.lastIndexOf('.') + 1)
  for (const p of ['exec.created', 'exec.poststart']) {
    for (const cmd of c.params[p] ?? []) {
      const w = cmd.trim().split(/\s+/)
      if (!/(^|\/)jail$/.test(w[0] ?? '') || !w.includes('-m')) continue
      const name = w.find((x) => x.startsWith('name='))?.slice(5)
      if (name !== jail && name !== own) continue
      for (const x of w.filter((y) => /^[a-z][a-z0-9_.]*=/.test(y) && !y.startsWith('name='))) out[x.slice(0, x.indexOf('='))] = x.slice(x.indexOf('=') + 1)
    }
  }
  return out
}

interface Diff {
  param: string
  running: string
  config: string
  cls: 'ad-hoc' | 'clamp' | 'create-time'
  more: boolean
}

const addrs = (vs: readonly string[]): string[] => vs.flatMap((v) => v.split(',')).map((v) => v.replace(/^[^|]*\|/, '').replace(/\/[0-9]+$/, '').trim()).filter((v) => v !== '').sort()

/** The differences between a running jail and its configuration, each classified (§3 R01). */
export function driftOf(f: AuditFacts, j: JailFacts, c: ConfigFacts): Diff[] {
  const parent = j.parent === null ? undefined : f.jails.find((p) => p.name === j.parent && !p.dying)
  const hooked = hookSets(c, c.name)
  const cv = (p: string): string | undefined => hooked[p] ?? confValue(c, p)
  const out: Diff[] = []
  const push = (param: string, running: string, config: string, cls: Diff['cls'], more: boolean): void => {
    out.push({param, running, config, cls, more})
  }
  for (const a of ALL_ALLOW) {
    const p = `allow.${a}`
    if (!(p in j.params)) continue
    const run = flag(j.params[p])
    const hook = hooked[p]
    const conf = hook !== undefined ? hook !== 'false' && hook !== '0' : confFlag(c, p) ?? (p === 'allow.sysvipc' ? false : (DEFAULT_ALLOW as readonly string[]).includes(a))
    if (run === conf) continue
    if (run) push(p, 'true', 'false', 'ad-hoc', true)
    else push(p, 'false', 'true', parent && !flag(parent.params[p]) && a !== 'unprivileged_proc_debug' ? 'clamp' : 'ad-hoc', false)
  }
  const num = (p: string, def: number | null, higherIsMore: boolean): void => {
    const run = int(j.params[p])
    const conf = int(cv(p)) ?? def
    if (run === null || conf === null || run === conf) return
    const more = higherIsMore ? run > conf : run < conf
    const pv = int(parent?.params[p])
    const clamp = !more && pv !== null && (higherIsMore ? pv <= conf : pv >= run)
    push(p, String(run), String(conf), clamp ? 'clamp' : 'ad-hoc', more)
  }
  num('enforce_statfs', 2, false)
  num('securelevel', int(parent?.params['securelevel']) ?? -1, false)
  num('children.max', 0, true)
  {
    const run = int(j.params['devfs_ruleset'])
    const conf = int(cv('devfs_ruleset')) ?? (int(parent?.params['devfs_ruleset']) ?? 0)
    if (run !== null && run !== conf) {
      const copied = parent !== undefined && int(parent.params['devfs_ruleset']) === run
      push('devfs_ruleset', String(run), String(conf), copied ? 'clamp' : 'ad-hoc', run === 0)
    }
  }
  for (const s of SYSV) {
    if (!(s in j.params)) continue
    const run = text(j.params[s])
    const conf = cv(s) ?? (confFlag(c, 'allow.sysvipc') ? 'inherit' : 'disable')
    if (run === conf) continue
    const more = (SYSV_RANK[run] ?? 0) > (SYSV_RANK[conf] ?? 0)
    push(s, run, conf, !more && parent && text(parent.params[s]) === 'disable' ? 'clamp' : 'ad-hoc', more)
  }
  for (const p of CREATE_TIME) {
    const conf = cv(p)
    if (conf === undefined || !(p in j.params)) continue
    const run = text(j.params[p])
    if (p === 'vnet' && (conf === '' || conf === 'true') && run === 'new') continue
    if (run === conf) continue
    push(p, run, conf, 'create-time', (p === 'ip4' || p === 'ip6') && run === 'inherit')
  }
  for (const p of ['ip4.addr', 'ip6.addr']) {
    const conf = c.params[p]
    if (conf === undefined || !(p in j.params)) continue
    const run = addrs(Array.isArray(j.params[p]) ? (j.params[p] as string[]) : [text(j.params[p])])
    const want = addrs(conf)
    if (run.join(',') === want.join(',')) continue
    push(p, run.join(','), want.join(','), 'ad-hoc', run.some((a) => !want.includes(a)))
  }
  for (const p of ['host.hostname', 'persist']) {
    if (!(p in j.params)) continue
    const run = p === 'persist' ? String(flag(j.params[p])) : text(j.params[p])
    const conf = p === 'persist' ? String(confFlag(c, 'persist') ?? false) : cv(p)
    if (conf === undefined || run === conf) continue
    push(p, run, conf, 'ad-hoc', false)
  }
  return out
}

/** NEST-R01: a running jail whose parameters are not its configuration's. */
const r01: Rule = {
  id: 'NEST-R01',
  check(ctx: RuleContext): Finding[] {
    const f = ctx.facts
    const out: Finding[] = []
    for (const j of scopedJails(ctx)) {
      const c = configOf(f, j.name)
      if (!c) continue
      const diffs = driftOf(f, j, c).filter((d) => d.cls !== 'clamp')
      if (diffs.length === 0) continue
      const more = diffs.some((d) => d.more)
      const createOnly = diffs.every((d) => d.cls === 'create-time')
      out.push(finding({
        rule: 'NEST-R01',
        severity: more ? 'high' : 'medium',
        jail: j.name,
        finding: `the running jail differs from ${c.file}${more ? ' and has more than it' : ''}: ${diffs.map((d) => `${d.param} ${d.running} (config ${d.config}, ${d.cls})`).join('; ')}; its next start changes it`,
        fix: createOnly ? 'restart it to apply its configuration, or write the running values into its jail.conf' : `write the reviewed values into ${c.file}, or jail -m name=${j.name} ${diffs.filter((d) => d.cls === 'ad-hoc').map((d) => `${d.param}=${d.config}`).join(' ')}`,
        live: createOnly ? 'L3' : 'L1',
        affects: below(f, j.name),
        evidence: [jlsEvidence(f, j, diffs.map((d) => d.param)), confEvidence(c, diffs.map((d) => d.param).filter((p) => p in c.params))],
      }))
    }
    return out
  },
}

/** NEST-R02: a running jail no configuration names; a configuration jail(8) would refuse. */
const r02: Rule = {
  id: 'NEST-R02',
  check(ctx: RuleContext): Finding[] {
    const f = ctx.facts
    const out: Finding[] = []
    const errors = f.configErrors ?? []
    const errorFor = (name: string) => errors.find((e) => {
      if (e.jail !== undefined) return e.jail === name
      const base = e.file.replace(/^.*\//, '').replace(/\.conf$/, '')
      const jail = e.prefix === '' ? base : `${e.prefix}.${base}`
      return jail === name || (base === 'jail' && (e.prefix === '' ? !name.includes('.') : name.startsWith(`${e.prefix}.`)))
    })
    for (const e of errors) {
      const base = e.file.replace(/^.*\//, '').replace(/\.conf$/, '')
      // One jail's error is that jail's; an error of a whole file is the jail it is named for, or
      // (the host's /etc/jail.conf, which configures many) the host's.
      const named = e.jail ?? (base === 'jail' ? e.prefix : e.prefix === '' ? base : `${e.prefix}.${base}`)
      const known = named !== '' && (f.jails.some((x) => x.name === named) || f.configs.some((c) => c.name === named))
      if (known && !ctx.scope.has(named)) continue
      const jail = known ? named : '(host)'
      out.push(finding({
        rule: 'NEST-R02',
        severity: 'medium',
        jail,
        finding: e.jail !== undefined ? `jail(8) refuses this jail's configuration in ${e.file}: ${e.message}` : `jail(8) cannot read ${e.file}: ${e.message}`,
        fix: `fix ${e.file}; \`jail -f ${e.file} -e '|'\` shows what jail(8) reads`,
        live: 'CFG',
        evidence: [{argv: ['jail', '-f', e.file, '-e', '|'], lines: [e.message]}],
      }))
    }
    for (const j of scopedJails(ctx)) {
      if (configOf(f, j.name)) continue
      const e = errorFor(j.name)
      out.push(finding({
        rule: 'NEST-R02',
        severity: 'medium',
        jail: j.name,
        finding: e ? `running, and its configuration ${e.file} is one jail(8) cannot read` : 'running with no configuration nest reads: its next start cannot reproduce it, and nothing here says what it should have',
        fix: `adopt it (write its jail.conf from \`jls -s -j ${j.name}\`) or stop it`,
        live: 'CFG',
        evidence: [jlsEvidence(f, j, ['jid', 'path'])],
      }))
    }
    return out
  },
}

/** NEST-R03: persist, no processes, no children. */
const r03: Rule = {
  id: 'NEST-R03',
  check(ctx: RuleContext): Finding[] {
    const f = ctx.facts
    if (!f.sources['ps'] && f.procs.length === 0) return [] // no process table read: nothing to say
    const out: Finding[] = []
    for (const j of scopedJails(ctx)) {
      if (!flag(j.params['persist'])) continue
      if (f.procs.some((p) => p.jid === j.jid)) continue
      if ((int(j.params['children.cur']) ?? 0) > 0 || f.jails.some((x) => x.parent === j.name && !x.dying)) continue
      out.push(finding({
        rule: 'NEST-R03',
        severity: 'low',
        jail: j.name,
        finding: 'persist, with no process and no child: an idle jail that keeps its addresses, mounts and delegations (jail.8 persist)',
        fix: `stop it (nest stop ${j.name.replace(/\./g, '/')}), or jail -m name=${j.name} nopersist if it should end with its last process`,
        live: 'L1',
        param: 'persist',
        evidence: [jlsEvidence(f, j, ['persist', 'children.cur']), {argv: sourceArgv(f, 'ps', ['ps', '-ax', '-o', 'pid,jid,comm']), lines: [`no process with jid ${j.jid}`]}],
      }))
    }
    return out
  },
}

const version = (v: string): [number, number] | null => {
  const m = /^([0-9]+)\.([0-9]+)/.exec(v)
  return m ? [Number(m[1]), Number(m[2])] : null
}

/** NEST-R04: osrelease pinned to another release, or newer than the host's. */
const r04: Rule = {
  id: 'NEST-R04',
  check(ctx: RuleContext): Finding[] {
    const f = ctx.facts
    const out: Finding[] = []
    const host = version(f.host.osrelease)
    for (const j of scopedJails(ctx)) {
      const rel = text(j.params['osrelease'])
      if (rel === '' || rel === f.host.osrelease) continue
      const jv = version(rel)
      const newer = host !== null && jv !== null && (jv[0] > host[0] || (jv[0] === host[0] && jv[1] > host[1]))
      const c = configOf(f, j.name)
      const pinned = confValue(c, 'osrelease') !== undefined
      out.push(finding({
        rule: 'NEST-R04',
        severity: 'low',
        jail: j.name,
        finding: newer
          ? `osrelease ${rel} is newer than the host's ${f.host.osrelease}: a jail cannot run a newer FreeBSD than its host (Handbook, Jails)`
          : `osrelease ${rel} differs from the host's ${f.host.osrelease}${pinned ? ' (pinned in its jail.conf)' : ''}: a patch audit inside the jail sees that version, whatever its userland is`,
        fix: 'set osrelease to the installed userland (bin/freebsd-version -u of its root), or upgrade it; osrelease is create-time (restart)',
        live: 'L3',
        param: 'osrelease',
        evidence: [jlsEvidence(f, j, ['osrelease']), ...(c && pinned ? [confEvidence(c, ['osrelease'])] : [])],
      }))
    }
    return out
  },
}

/** NEST-R05: dying jails. */
const r05: Rule = {
  id: 'NEST-R05',
  check(ctx: RuleContext): Finding[] {
    const f = ctx.facts
    return f.jails
      .filter((j) => j.dying && (ctx.scope.has(j.name) || (j.parent !== null && ctx.scope.has(j.parent))))
      .map((j) =>
        finding({
          rule: 'NEST-R05',
          severity: 'low',
          jail: j.name,
          finding: `dying (jid ${j.jid}): it still counts in every ancestor's children.cur until what holds it (a socket in TIME_WAIT, an open file) lets go`,
          fix: 'find what holds it (sockstat, fstat); nothing to set',
          live: 'host',
          evidence: [jlsEvidence(f, j, ['dying', 'jid'])],
        }),
      )
  },
}

/** NEST-R06: datasets delegated to a jail that is gone; mounts left under a stopped jail's root. */
const r06: Rule = {
  id: 'NEST-R06',
  check(ctx: RuleContext): Finding[] {
    const f = ctx.facts
    const out: Finding[] = []
    const running = f.jails.filter((j) => !j.dying)
    const known = new Set([...running.map((j) => j.name), ...f.configs.map((c) => c.name)])
    const jailedNames = new Set(f.datasets.filter((d) => d.props['jailed'] === 'on').map((d) => d.name))
    for (const d of f.datasets) {
      if (d.props['jailed'] !== 'on') continue
      // Below a delegation point the jail's own nest names its datasets (relative names): only
      // the delegation points, whose parent dataset is not jailed, are the host's to judge.
      if (jailedNames.has(d.name.slice(0, Math.max(d.name.lastIndexOf('/'), 0)))) continue
      const owner = d.props['nest:name']?.replace(/\//g, '.')
      if (owner === undefined || owner === '' || owner === '-' || known.has(owner)) continue
      // An orphan belongs to no jail: reported by an audit of the whole host, or of a tree it names.
      const wholeHost = running.every((j) => ctx.scope.has(j.name))
      if (!wholeHost && ![...ctx.scope].some((s) => related(s, owner))) continue
      out.push(finding({
        rule: 'NEST-R06',
        severity: 'low',
        jail: owner,
        finding: `${d.name} is jailed=on for ${owner}, which neither runs nor has a configuration: an orphan delegation`,
        fix: `nest destroy ${owner.replace(/\./g, '/')} (it removes what a create or destroy left), or zfs set jailed=off ${d.name} after a review`,
        live: 'host',
        evidence: [{argv: sourceArgv(f, 'zfs', ['zfs', 'get', '-Hp', '-o', 'name,property,value,source', 'jailed,nest:name', '-r']), lines: [`${d.name}\tjailed\ton`, `${d.name}\tnest:name\t${d.props['nest:name'] ?? ''}`]}],
      }))
    }
    for (const c of f.configs.filter((x) => ctx.scope.has(x.name))) {
      if (running.some((j) => j.name === c.name)) continue
      const root = c.params['path']?.at(-1)
      if (!root || root === '/') continue
      const left = f.mounts.filter((m) => isUnder(m.on, root) && !running.some((j) => isUnder(m.on, j.path) && j.path.length > root.length))
      if (left.length === 0) continue
      out.push(finding({
        rule: 'NEST-R06',
        severity: 'low',
        jail: c.name,
        finding: `not running, yet ${left.length} mount(s) remain below its root ${root}: they block its next start and its destroy`,
        fix: `nest cleanup ${c.name.replace(/\./g, '/')}`,
        live: 'host',
        evidence: [mountEvidence(f, left)],
      }))
    }
    return out
  },
}

/** What a jail holds that an advisory is about (the R07 table's `feature`, decided per jail). */
function exposed(f: AuditFacts, id: string, j: JailFacts): string | null {
  const allow = (p: string): boolean => flag(j.params[p])
  switch (id) {
    case 'FreeBSD-SA-26:02.jail':
      return allow('allow.mount.nullfs') ? 'allow.mount.nullfs' : null
    case 'FreeBSD-SA-26:04.jail':
      return null // NEST-F05 reports a shared directory with this advisory's patch status: once is enough
    case 'FreeBSD-SA-26:66.jail':
      return allow('allow.mount.fdescfs') ? 'allow.mount.fdescfs' : f.mounts.some((m) => m.type === 'fdescfs' && m.opts.includes('nodup') && isUnder(m.on, j.path)) ? 'an fdescfs mounted nodup' : null
    case 'FreeBSD-SA-21:10.jail_mount':
      return null // the grant rules report it, as NEST-S03 (§3 S03 is this very check): once is enough
    case 'FreeBSD-SA-22:04.netmap': {
      const n = int(j.params['devfs_ruleset']) ?? 0
      return dangerousVisible(n === 0 ? [] : rulesOf(f.rulesets, n), f.rulesets, isVnet(j)).some((v) => v.dev.cls === 'netmap') ? 'netmap visible in its devfs ruleset' : null
    }
    case 'FreeBSD-SA-20:07.epair':
      return isVnet(j) ? 'vnet (epair interfaces)' : null
    default:
      return null
  }
}

/** NEST-R07: a granted feature with a jail advisory the host's kernel has not corrected. */
const r07: Rule = {
  id: 'NEST-R07',
  check(ctx: RuleContext): Finding[] {
    const f = ctx.facts
    if (!parseKernel(f.host.kernel)) return []
    const out: Finding[] = []
    for (const adv of ADVISORIES) {
      if (kernelUnpatched(adv, f.host.kernel) !== true) continue
      for (const j of scopedJails(ctx)) {
        const what = exposed(f, adv.id, j)
        if (!what) continue
        const sev: Severity = 'high'
        const fixLevel = parseKernel(f.host.kernel)
        const want = fixLevel ? adv.fixed[fixLevel.branch] : undefined
        out.push(finding({
          rule: 'NEST-R07',
          severity: sev,
          jail: j.name,
          finding: `${what}, on kernel ${f.host.kernel}, which lacks the correction of ${adv.id} (${adv.cve}; ${adv.source})`,
          fix: `${want !== undefined ? `update the host to ${fixLevel?.branch}-RELEASE-p${want} or later` : 'update the host to a supported release'}, or remove the grant (the advisory's own workaround)`,
          live: 'host',
          affects: below(f, j.name),
          evidence: [{argv: sourceArgv(f, 'kernel', ['freebsd-version', '-k']), lines: [f.host.kernel ?? '']}, jlsEvidence(f, j, what.startsWith('allow.') ? [what.split(' ')[0] as string] : ['vnet', 'devfs_ruleset', 'enforce_statfs'].filter((p) => p in j.params))],
        }))
      }
    }
    return out
  },
}

export const RUNTIME_RULES: Rule[] = [r01, r02, r03, r04, r05, r06, r07]
