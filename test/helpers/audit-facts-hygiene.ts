// Builds AuditFacts for rule tests and the public-configuration corpus: configurations from
// jail.conf texts (src/audit/configs.ts), the jails the kernel would make of them (defaults and
// the parent clamps of kern_jail.c, §2.1 of audit-rules.md), mounts from fstab or `mount -p`
// lines, rulesets from devfs.rules texts. Plain data, no simulator.
import {readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {configsFrom, type ConfigFile} from '../../src/audit/configs.js'
import {parseDevfsRules} from '../../src/audit/devfs.js'
import type {AuditFacts, ConfigFacts, JailFacts, MountFacts, PathFacts, ProcFacts} from '../../src/audit/facts.js'
import type {Finding} from '../../src/audit/finding.js'
import {HYGIENE_RULES} from '../../src/audit/rules/hygiene-index.js'
import type {RuleContext} from '../../src/audit/rule.js'
import {ALL_ALLOW, boolValue, DEFAULT_ALLOW, splitNo} from '../../src/jailconf/index.js'
import type {ParamValue} from '../../src/host/parse.js'

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'audit')
export const fixture = (...p: string[]): string => readFileSync(join(FIXTURES, ...p), 'utf8')
export const DEFAULT_RULESETS = (): Record<number, string[]> => parseDevfsRules(fixture('defaults', 'devfs.rules'))

export function emptyFacts(over: Partial<AuditFacts> = {}): AuditFacts {
  return {
    host: {osrelease: '14.3-RELEASE', kernel: '14.3-RELEASE-p9', racct: false, dtrace: false, securelevel: -1},
    jails: [],
    configs: [],
    mounts: [],
    procs: [],
    sockets: [],
    ipc: [],
    rctl: {},
    rulesets: DEFAULT_RULESETS(),
    devfsMounts: [],
    datasets: [],
    paths: [],
    nest: {},
    sources: {jls: ['jls', '--libxo', 'json', '-n'], mount: ['mount', '-p'], ps: ['ps', '-ax', '-o', 'pid,jid,comm']},
    ...over,
  }
}

const conf = (c: ConfigFacts, p: string): string | undefined => c.params[p]?.at(-1)
function confBool(c: ConfigFacts, p: string): boolean | undefined {
  for (const [k, v] of Object.entries(c.params)) if (splitNo(k).base === p) return boolValue(k, v)
  return undefined
}

/**
 * The jails the kernel makes of configurations, parents first: allow.* from the configuration
 * or the defaults (PR_ALLOW_*_DEFAULT), masked by the parent's (all but unprivileged_proc_debug);
 * enforce_statfs and securelevel raised to the parent's; devfs_ruleset and securelevel inherited
 * when unset; sysv* disable unless set (allow.sysvipc means inherit); ip4/ip6 `new` with
 * addresses, else what the configuration says, else disable (unconfirmed: the kernel's default
 * when neither is given); vnet `new` when set.
 */
export function jailsFromConfigs(configs: readonly ConfigFacts[], host = '14.3-RELEASE'): JailFacts[] {
  const out: JailFacts[] = []
  const sorted = [...configs].sort((a, b) => a.name.split('.').length - b.name.split('.').length)
  for (const c of sorted) {
    const parentName = c.name.includes('.') ? c.name.slice(0, c.name.lastIndexOf('.')) : null
    const parent = out.find((j) => j.name === parentName)
    const p: Record<string, ParamValue> = {}
    for (const a of ALL_ALLOW) {
      const name = `allow.${a}`
      const want = confBool(c, name) ?? (DEFAULT_ALLOW as readonly string[]).includes(a)
      p[name] = want && (!parent || a === 'unprivileged_proc_debug' || parent.params[name] === true)
    }
    const num = (k: string, def: number): number => Number(conf(c, k) ?? def)
    const pes = parent ? Number(parent.params['enforce_statfs']) : 0
    p['enforce_statfs'] = String(Math.max(num('enforce_statfs', 2), pes))
    const psl = parent ? Number(parent.params['securelevel']) : -1
    p['securelevel'] = String(Math.max(num('securelevel', psl), psl))
    p['devfs_ruleset'] = conf(c, 'devfs_ruleset') ?? (parent ? String(parent.params['devfs_ruleset']) : '0')
    p['children.max'] = conf(c, 'children.max') ?? '0'
    p['children.cur'] = String(configs.filter((x) => x.name.startsWith(`${c.name}.`)).length)
    const ipc = confBool(c, 'allow.sysvipc') ? 'inherit' : 'disable'
    for (const s of ['sysvmsg', 'sysvsem', 'sysvshm']) p[s] = conf(c, s) ?? ipc
    p['allow.sysvipc'] = confBool(c, 'allow.sysvipc') ?? false
    p['vnet'] = confBool(c, 'vnet') || conf(c, 'vnet') === 'new' ? 'new' : 'inherit'
    for (const fam of ['ip4', 'ip6']) {
      const addrs = c.params[`${fam}.addr`] ?? []
      p[fam] = conf(c, fam) ?? (addrs.length > 0 ? 'new' : 'disable')
      p[`${fam}.addr`] = addrs.flatMap((a) => a.split(',')).map((a) => a.replace(/^[^|]*\|/, '').replace(/\/[0-9]+$/, '').trim())
    }
    p['persist'] = confBool(c, 'persist') ?? false
    p['osrelease'] = conf(c, 'osrelease') ?? host
    p['host.hostname'] = conf(c, 'host.hostname') ?? c.name
    p['name'] = c.name
    const path = conf(c, 'path') ?? '/'
    p['path'] = path
    out.push({name: c.name, jid: out.length + 1, parent: parentName, path, dying: false, params: p})
  }
  return out
}

/** fstab lines (`src mountpoint type opts 0 0`) or `mount -p` rows as MountFacts. */
export function mountsFrom(text: string): MountFacts[] {
  return text
    .split('\n')
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter((l) => l !== '')
    .map((l) => {
      const [from = '', on = '', type = '', opts = ''] = l.split(/\s+/)
      return {from, on: on.replace(/\/+$/, '') || '/', type, opts: opts.split(',')}
    })
}

/** The mounts jail(8) makes for a configuration: mount.devfs, mount.fdescfs, mount.procfs, mount and mount.fstab entries. */
export function jailMounts(c: ConfigFacts, fstab: (path: string) => string | undefined = () => undefined): MountFacts[] {
  const root = conf(c, 'path')
  if (!root) return []
  const out: MountFacts[] = []
  for (const line of c.params['mount'] ?? []) out.push(...mountsFrom(line))
  const fst = conf(c, 'mount.fstab')
  const t = fst ? fstab(fst) : undefined
  if (t) out.push(...mountsFrom(t))
  if (confBool(c, 'mount.devfs')) out.push({from: 'devfs', on: `${root}/dev`, type: 'devfs', opts: ['rw']})
  if (confBool(c, 'mount.fdescfs')) out.push({from: 'fdescfs', on: `${root}/dev/fd`, type: 'fdescfs', opts: ['rw']})
  if (confBool(c, 'mount.procfs')) out.push({from: 'procfs', on: `${root}/proc`, type: 'procfs', opts: ['rw']})
  return out
}

/** Root-owned 0755 directories for each jail root and its ancestors (a well-kept host), unless overridden. */
export function tidyPaths(jails: readonly JailFacts[], over: PathFacts[] = []): PathFacts[] {
  const rows = new Map<string, PathFacts>()
  for (const j of jails) {
    const parts = j.path.split('/').filter((s) => s !== '')
    for (let i = 0; i <= parts.length; i++) {
      const p = `/${parts.slice(0, i).join('/')}`
      // The directory holding a jail root is 0700 (iocage #347, Bastille #1568): no host user reaches it.
      const mode = i === parts.length - 1 ? 0o700 : 0o755
      if ((rows.get(p)?.mode ?? 0o777) > mode) rows.set(p, {path: p, type: 'dir', uid: 0, gid: 0, mode})
    }
  }
  for (const o of over) rows.set(o.path, o)
  return [...rows.values()]
}

export interface CaseInput {
  files: ConfigFile[]
  includes?: Record<string, string>
  devfsRules?: string
  fstabs?: Record<string, string>
  extraMounts?: string
  procs?: ProcFacts[]
  over?: Partial<AuditFacts>
  jails?: JailFacts[]
  /** Whether each jail root is a dataset of its own (a zfs mount row on it); default true. */
  rootDatasets?: boolean
}

/** AuditFacts for a case: configs, the jails made of them, their mounts, the rulesets, tidy paths. */
export function buildFacts(input: CaseInput): AuditFacts {
  const read = configsFrom(input.files, input.includes)
  const jails = input.jails ?? jailsFromConfigs(read.configs)
  const rulesets = {...DEFAULT_RULESETS(), ...(input.devfsRules ? parseDevfsRules(input.devfsRules) : {})}
  const mounts = [
    ...(input.rootDatasets === false ? [] : jails.filter((j) => j.path !== '/').map((j) => ({from: `zroot${j.path}`, on: j.path, type: 'zfs', opts: ['rw']}))),
    ...read.configs.flatMap((c) => jailMounts(c, (p) => input.fstabs?.[p])),
    ...(input.extraMounts ? mountsFrom(input.extraMounts) : []),
  ]
  const procs = input.procs ?? jails.map((j, i) => ({pid: 100 + i, jid: j.jid, comm: 'sh'}))
  // The rules each devfs was mounted with (what `devfs -m ON rule show` prints): jail(8)'s
  // mount.devfs uses devfs_ruleset or 4 (command.c); a devfs `mount` line without ruleset=N, none.
  const devfsMounts = mounts
    .filter((m) => m.type === 'devfs')
    .map((m) => {
      const c = read.configs.find((x) => x.params['path']?.at(-1) !== undefined && `${x.params['path']?.at(-1)}/dev` === m.on && confBool(x, 'mount.devfs'))
      const opt = m.opts.find((o) => o.startsWith('ruleset='))
      const n = c ? Number(conf(c, 'devfs_ruleset') ?? 4) : opt ? Number(opt.slice(8)) : 0
      return {on: m.on, rules: n === 0 ? [] : [...(rulesets[n] ?? [])]}
    })
  return emptyFacts({jails, configs: read.configs, configErrors: read.errors, mounts, rulesets, procs, devfsMounts, paths: tidyPaths(jails), ...input.over})
}

export function runHygiene(facts: AuditFacts, scope?: string[]): Finding[] {
  const ctx: RuleContext = {facts, scope: new Set(scope ?? [...facts.jails.map((j) => j.name), ...facts.configs.map((c) => c.name)]), grants: []}
  return HYGIENE_RULES.flatMap((r) => r.check(ctx))
}

/** `RULE severity jail` per finding, sorted: what the corpus asserts. */
export const summary = (fs: readonly Finding[]): string[] => [...new Set(fs.map((f) => `${f.rule} ${f.severity} ${f.jail}`))].sort()
