// nest audit: what each jail holds and what it uses, from the host's own tools and files
// (../shared/audit-rules.md §1, §5.1). The facts are collected with a fixed number of process
// starts whatever the size of the tree: one jls, one mount -p, one zfs get per pool, one sysctl,
// then the run-time observations (src/services/audit-observe.ts); the jail.conf files and the
// owners and modes of the paths are read as files, never through a jail. Then the pure rules
// (src/audit) give the verdicts, the findings and the least set.
import {errAsync, okAsync, ResultAsync} from 'neverthrow'

import {auditReport} from '../audit/index.js'
import type {AuditFacts, ConfigError, ConfigFacts, JailFacts, NestJailFacts, PathFacts, ZfsFacts} from '../audit/facts.js'
import {type AuditReport, type Severity, severityRank} from '../audit/finding.js'
import {type ConfigFile, configsFrom, includesOf} from '../audit/configs.js'
import {confFlag, confValue} from '../audit/rules/hygiene-common.js'
import type {CommandCtx} from '../context/command.js'
import {invalidInput, type NestError, notFound} from '../domain/errors.js'
import {parseJailPath} from '../domain/names.js'
import type {Host} from '../host/host.js'
import {parseZfsColumns} from '../host/parse.js'
import {isDying, listJails} from '../host/tools/jls.js'
import {listMounts} from '../host/tools/mount.js'
import {readSysctls} from '../host/tools/sysctl.js'
import {CONF_DIR} from '../model/layout.js'
import {type TreeNode, treeOf} from '../model/tree.js'
import {loadPolicy, USER_POLICY_DIR} from '../policies/load.js'
import {observeRuntimeFrom, startRuntime} from './audit-observe.js'
import {findLayout, hostFor, loadWorld} from './world.js'

export interface AuditOptions {
  /** Exit 9 when a finding is at or above this severity. */
  failOn: Severity
  /** `7d`, `12h`: a lifecycle recorded longer ago does not count; undefined: any. */
  window?: string
}

export interface AuditResult extends AuditReport {
  /** The jail named (`p.a`), or null for every jail. */
  name: string | null
  failOn: Severity
  /** How many findings of each severity. */
  counts: Record<Severity, number>
  /** Whether a finding is at or above failOn (the exit status is then 9). */
  failed: boolean
}

/** The properties the audit reads of every dataset (O10), nest's records among them; referenced stands for written on a dataset with no snapshot (zfs prints written as - then). */
export const ZFS_AUDIT_PROPS = ['jailed', 'quota', 'refquota', 'filesystem_limit', 'snapshot_limit', 'mounted', 'mountpoint', 'setuid', 'exec', 'written', 'referenced', 'creation', 'nest:name', 'nest:policy', 'nest:state', 'nest:started', 'nest:stopped'] as const

/** `7d`, `12h`, `30m`, `90s` → seconds. */
export function parseWindow(text: string): number | null {
  const m = /^([0-9]{1,6})([smhd])$/.exec(text)
  if (!m) return null
  return Number(m[1]) * {s: 1, m: 60, h: 3600, d: 86_400}[m[2] as 's' | 'm' | 'h' | 'd']
}

/** A jail named as nest names it (`p/a`) or as the kernel does (`p.a`): the kernel's dotted name. */
function dottedName(input: string): ResultAsync<string, NestError> {
  const r = parseJailPath(input.includes('/') ? input : input.split('.').join('/'))
  return r.isOk() ? okAsync(r.value.jail) : errAsync(r.error)
}

export function runAudit(ctx: CommandCtx, name: string | undefined, o: AuditOptions): ResultAsync<AuditResult, NestError> {
  const host = hostFor(ctx)
  const named = name === undefined ? okAsync<string | null, NestError>(null) : dottedName(name)
  const window = o.window === undefined ? null : parseWindow(o.window)
  if (o.window !== undefined && window === null) return errAsync(invalidInput(`--window ${JSON.stringify(o.window)}: not a duration`, 'give a number and a unit: 90s, 30m, 12h, 7d'))
  return named.andThen((jail) => collectFacts(host, ctx.warn, window).andThen((facts) => {
    const all = new Set([...facts.jails.filter((j) => !j.dying).map((j) => j.name), ...facts.configs.map((c) => c.name)])
    if (jail !== null && !all.has(jail)) return errAsync(notFound(`${jail}: no such jail (neither running nor in a jail.conf nest reads)`, 'see jls, or nest list'))
    const scope = new Set([...all].filter((j) => jail === null || j === jail || j.startsWith(`${jail}.`)))
    const report = auditReport(facts, scope, {whole: jail === null})
    const counts: Record<Severity, number> = {high: 0, medium: 0, low: 0, info: 0}
    for (const f of report.findings) counts[f.severity]++
    const failed = report.findings.some((f) => severityRank(f.severity) >= severityRank(o.failOn))
    return okAsync({name: jail, ...report, failOn: o.failOn, counts, failed})
  }))
}

/**
 * Every fact the rules read, host side. The calls that need nothing first start together (jls,
 * mount -p, sysctl, zfs get, the layout, ps, ipcs, freebsd-version); what needs their answers
 * (nest's tree from the same jls, procstat of the jailed pids, devfs of the rulesets and mounts
 * in use) follows: two process starts deep, whatever the size of the tree.
 */
export function collectFacts(host: Host, warn: (line: string) => void, window: number | null = null): ResultAsync<AuditFacts, NestError> {
  const jls = listJails(host)
  // One sysctl for the host's facts and the run-time observation's kern.racct.enable.
  const sysctls = readSysctls(host, SYSCTLS)
  const start = startRuntime(host, sysctls)
  return ResultAsync.combine([jls, listMounts(host), sysctls, zfsFacts(host), findLayout(host, warn)]).andThen(([records, table, sys, zfs, layout]) => {
    for (const u of table.unreadable) warn(`mount -p: ${u}`)
    const byJid = new Map(records.map((r) => [r.jid, r.name]))
    const jails: JailFacts[] = records.filter((r) => r.jid !== null && r.path !== null).map((r) => ({
      name: r.name, jid: r.jid as number, parent: r.parent === null || r.parent === 0 ? null : (byJid.get(r.parent) ?? null), path: r.path as string, dying: isDying(r), params: r.params,
    }))
    const mounts = table.mounts.map((m) => ({from: m.from, on: m.on, type: m.type, opts: m.opts}))
    const nodes = layout === null ? okAsync<TreeNode[], NestError>([]) : loadWorld(host, layout, {warn, jails: records}).map(treeOf)
    // The configurations first (files, no process start): the rulesets they name are read with the running jails' ones.
    return readConfigs(host, jails, warn).andThen((conf) => ResultAsync.combine([okAsync<typeof conf, NestError>(conf), observeRuntimeFrom(host, start, jails, mounts, configuredRulesets(conf.configs)), nodes])).andThen(([conf, runtime, tree]) => {
      const configs = conf.configs
      const pathsWanted = auditPaths(jails, configs)
      return ResultAsync.combine(pathsWanted.map((p) => host.files.stat(p).map((st): PathFacts => ({path: p, ...st})))).andThen((paths) =>
        nestFacts(host, tree, zfs, window, warn).map((nest): AuditFacts => ({
          host: {osrelease: sys.get('kern.osrelease') ?? '', kernel: runtime.kernel, racct: runtime.racct, dtrace: false, securelevel: Number(sys.get('kern.securelevel') ?? '-1')},
          jails, configs, configErrors: conf.errors, mounts,
          procs: runtime.procs, sockets: runtime.sockets, ipc: runtime.ipc, rctl: runtime.rctl, rulesets: runtime.rulesets, devfsMounts: runtime.devfsMounts,
          datasets: zfs.rows, paths, nest,
          sources: {jls: ['jls', '--libxo', 'json', '-d', '-n'], mount: ['mount', '-p'], ...runtime.sources, sysctl: ['sysctl', '-q', ...SYSCTLS], racct: ['sysctl', '-q', ...SYSCTLS], zfs: ZFS_ARGV},
        })))
    })
  })
}

/**
 * The devfs rulesets the configurations name: devfs_ruleset, and for mount.devfs the ruleset
 * jail(8) mounts /dev with (command.c: `ruleset = string_param(j->intparams[KP_DEVFS_RULESET]);
 * if (!ruleset) ruleset = "4";`).
 */
export function configuredRulesets(configs: readonly ConfigFacts[]): number[] {
  const out = new Set<number>()
  for (const c of configs) {
    const n = confValue(c, 'devfs_ruleset')
    const v = n !== undefined && /^[0-9]+$/.test(n) ? Number(n) : null
    if (v !== null && v > 0) out.add(v)
    if (confFlag(c, 'mount.devfs') === true && v === null) out.add(4)
  }
  return [...out].sort((a, b) => a - b)
}

const SYSCTLS = ['kern.osrelease', 'kern.securelevel', 'kern.racct.enable']

/** `zfs get` of the audit's properties on every dataset of every pool: one call (no dataset named: all of them, zfs-get(8)). */
const ZFS_ARGV = ['zfs', 'get', '-Hp', '-o', 'name,property,value,source', ZFS_AUDIT_PROPS.join(',')]
function zfsFacts(host: Host): ResultAsync<{rows: ZfsFacts[]}, NestError> {
  return host.run(ZFS_ARGV).andThen((r) => {
    const rows = parseZfsColumns(r.stdout, ['name', 'property', 'value', 'source'])
    if (rows.isErr()) return errAsync(invalidInput(`zfs get: ${rows.error}`))
    const byName = new Map<string, ZfsFacts>()
    for (const row of rows.value) {
      const name = row['name'] as string
      const prop = row['property'] as string
      // nest's records count only where they were set (a child's dataset inherits its parent's otherwise).
      if (prop.startsWith('nest:') && row['source'] !== 'local') continue
      const f = byName.get(name) ?? {name, props: {}}
      f.props[prop] = row['value'] as string
      byName.set(name, f)
    }
    return okAsync({rows: [...byName.values()]})
  })
}

/**
 * The jail.conf files nest reads (O2): the host's /etc/jail.conf and /etc/jail.conf.d/*.conf,
 * and in the root of every running jail the same two places (where its own jail(8) and nest's
 * child manager find its children). Below a jail's root nothing is followed: a file there that
 * is a link, a FIFO or too large is left out with a warning.
 */
function readConfigs(host: Host, jails: readonly JailFacts[], warn: (line: string) => void): ResultAsync<{configs: ConfigFacts[]; errors: ConfigError[]}, NestError> {
  const running = jails.filter((j) => !j.dying)
  const topOf = (j: JailFacts): string => {
    const top = running.find((x) => x.parent === null && x.name === j.name.split('.')[0])
    return top !== undefined && (j.path === top.path || j.path.startsWith(`${top.path}/`)) ? top.path : j.path
  }
  // A jail with path = / (jail.conf(5)'s "bar") shares the host's files: they are read once, as the host's.
  const places: Array<{dir: string; startedBy: string | null; within?: string}> = [
    {dir: '', startedBy: null},
    ...running.filter((j) => j.path !== '/').map((j) => ({dir: j.path, startedBy: j.name, within: topOf(j)})),
  ]
  const readOne = (p: string, within: string | undefined): ResultAsync<string | null, NestError> =>
    host.files.read(p, within).orElse((e) => {
      warn(`${e.message}; left out of the audit`)
      return okAsync(null)
    })
  const inPlace = (pl: (typeof places)[number]): ResultAsync<{files: ConfigFile[]; includes: Record<string, string>}, NestError> => {
    const dir = `${pl.dir}${CONF_DIR}`
    const file = (p: string, text: string): ConfigFile => ({path: p, text, startedBy: pl.startedBy, prefix: pl.startedBy ?? '', root: pl.dir})
    return host.files.list(dir, pl.within).orElse((e) => {
      warn(`${e.message}; left out of the audit`)
      return okAsync<string[], NestError>([])
    }).andThen((names) => {
      const paths = [`${pl.dir}/etc/jail.conf`, ...names.filter((f) => f.endsWith('.conf')).sort().map((f) => `${dir}/${f}`)]
      return ResultAsync.combine(paths.map((p) => readOne(p, pl.within))).andThen((texts) => {
        const files = paths.flatMap((p, i) => (texts[i] == null ? [] : [file(p, texts[i] as string)]))
        return readIncludes(files.map((f) => f.text), pl, readOne).map((includes) => ({files, includes}))
      })
    })
  }
  return ResultAsync.combine(places.map(inPlace)).map((found) => {
    const r = configsFrom(found.flatMap((f) => f.files), Object.assign({}, ...found.map((f) => f.includes)) as Record<string, string>)
    for (const e of r.errors) warn(e.message)
    return r
  })
}

/**
 * The literal `.include` targets of the files (jail.conf(5)), read to a fixed point, at most
 * a few rounds: a glob is matched against the files of its directory.
 */
function readIncludes(texts: readonly string[], pl: {dir: string; within?: string}, readOne: (p: string, within: string | undefined) => ResultAsync<string | null, NestError>, seen: Record<string, string> = {}, round = 0): ResultAsync<Record<string, string>, NestError> {
  const wanted = [...new Set(texts.flatMap(includesOf))].filter((p) => p.startsWith('/') && !p.includes('*') && !p.includes('?') && seen[`${pl.dir}${p}`] === undefined)
  if (wanted.length === 0 || round >= 4) return okAsync(seen)
  return ResultAsync.combine(wanted.map((p) => readOne(`${pl.dir}${p}`, pl.within))).andThen((got) => {
    const more: string[] = []
    wanted.forEach((p, i) => {
      const t = got[i]
      if (t !== null && t !== undefined) {
        seen[`${pl.dir}${p}`] = t
        more.push(t)
      }
    })
    return readIncludes(more, pl, readOne, seen, round + 1)
  })
}

/** The paths F01, F02 and X05 look at: every jail root and its ancestors, the jail.conf files and their directories. */
function auditPaths(jails: readonly JailFacts[], configs: readonly ConfigFacts[]): string[] {
  const out = new Set<string>(['/etc/jail.conf', CONF_DIR, USER_POLICY_DIR])
  const roots = [...jails.filter((j) => !j.dying).map((j) => j.path), ...configs.flatMap((c) => c.params['path']?.slice(-1) ?? [])]
  for (const r of roots) {
    if (!r.startsWith('/')) continue
    for (let p = r.replace(/\/+$/, '') || '/'; ; p = p.slice(0, p.lastIndexOf('/')) || '/') {
      out.add(p)
      if (p === '/') break
    }
  }
  for (const c of configs) if (!c.file.includes('/jails/')) out.add(c.file)
  return [...out].sort()
}

/** nest's records of its jails: policy, the grants it declares needed, when nest last started and stopped each. */
function nestFacts(host: Host, nodes: readonly TreeNode[], zfs: {rows: readonly ZfsFacts[]}, window: number | null, warn: (line: string) => void): ResultAsync<Record<string, NestJailFacts>, NestError> {
  const names = [...new Set(nodes.map((n) => n.row['nest:policy']).filter((p) => p !== '-' && p !== ''))]
  return ResultAsync.combine(names.map((p) => loadPolicy(host, p).map((pol) => pol.needs ?? []).orElse((e) => {
    warn(`${e.message}; the grants it declares needed are not known`)
    return okAsync<string[], NestError>([])
  }))).map((needs) => {
    const declared = new Map(names.map((p, i) => [p, needs[i] ?? []]))
    const now = Math.floor(Date.now() / 1000)
    const out: Record<string, NestJailFacts> = {}
    for (const n of nodes) {
      const props = zfs.rows.find((d) => d.name === n.row.name)?.props ?? {}
      const num = (v: string | undefined): number | null => (v !== undefined && /^[0-9]+$/.test(v) ? Number(v) : null)
      // A jail nest created and started: its create was its first start (the dataset's creation time).
      const started = num(props['nest:started']) ?? (props['nest:state'] === 'ready' && n.running ? num(props['creation']) : null)
      const inWindow = started !== null && (window === null || now - started <= window)
      const policy = n.row['nest:policy'] !== '-' ? n.row['nest:policy'] : null
      out[n.jail] = {
        policy,
        declared: policy === null ? [] : (declared.get(policy) ?? []),
        phase: 'run',
        lifecycle: started !== null && inWindow ? {started, stopped: num(props['nest:stopped'])} : null,
      }
    }
    return out
  })
}

/** The status of an audit: 9 when it found something at or above --fail-on. */
export const auditStatus = (r: AuditResult): number => (r.failed ? 9 : 0)
