// Reads the hygiene rules (D, F, N, X, R: audit-rules.md §3) share: the jails and configs in
// scope, evidence rows in the form each tool prints them, path arithmetic. Pure.
import {boolValue, splitNo} from '../../jailconf/index.js'
import type {AuditFacts, ConfigFacts, Evidence, JailFacts, MountFacts, PathFacts} from '../facts.js'
import type {Finding} from '../finding.js'
import {descendantsOf, text, type RuleContext} from '../rule.js'

/** The running (not dying) jails in scope. */
export const scopedJails = (ctx: RuleContext): JailFacts[] => ctx.facts.jails.filter((j) => !j.dying && ctx.scope.has(j.name))

/** The configured jails in scope (running or not). */
export const scopedConfigs = (ctx: RuleContext): ConfigFacts[] => ctx.facts.configs.filter((c) => ctx.scope.has(c.name))

/** The command behind a kind of fact, as the collector ran it (facts.sources), or its usual form. */
export const sourceArgv = (f: AuditFacts, kind: string, fallback: string[]): string[] => f.sources[kind] ?? fallback

export const JLS = ['jls', '--libxo', 'json', '-n']
export const MOUNT = ['mount', '-p']

/** `NAME: param=value` rows of jls -n for a jail. */
export function jlsEvidence(f: AuditFacts, j: JailFacts, params: string[]): Evidence {
  return {argv: sourceArgv(f, 'jls', JLS), lines: params.map((p) => `${j.name}: ${p}=${text(j.params[p])}`)}
}

/** jail.conf lines as `jail -f FILE -e` reads them (the values after expansion). */
export function confEvidence(c: ConfigFacts, params: string[], raw = false): Evidence {
  const src = raw ? c.raw : c.params
  const lines = params.flatMap((p) => (src[p] ?? []).length === 0 && p in src ? [`${c.name}: ${p};`] : (src[p] ?? []).map((v) => `${c.name}: ${p} = ${JSON.stringify(v)};`))
  return {argv: ['jail', '-f', c.file, '-e', '|'], lines}
}

/** A `mount -p` row as mount(8) prints it. */
export const mountLine = (m: MountFacts): string => `${m.from} ${m.on} ${m.type} ${m.opts.join(',')}`

export const mountEvidence = (f: AuditFacts, rows: MountFacts[]): Evidence => ({argv: sourceArgv(f, 'mount', MOUNT), lines: rows.map(mountLine)})

const TYPE_CHAR: Record<PathFacts['type'], string> = {dir: 'd', file: '-', link: 'l', missing: '?', other: 'o'}

/** An lstat row as `stat -f '%Su %Sg %Sp %N'` would show it (numeric owner). */
export function pathLine(p: PathFacts): string {
  if (p.type === 'missing') return `${p.path}: No such file or directory`
  const rwx = (n: number): string => `${n & 4 ? 'r' : '-'}${n & 2 ? 'w' : '-'}${n & 1 ? 'x' : '-'}`
  return `${p.uid} ${p.gid} ${TYPE_CHAR[p.type]}${rwx(p.mode >> 6)}${rwx(p.mode >> 3)}${rwx(p.mode)} ${p.path}`
}

export const pathEvidence = (f: AuditFacts, rows: PathFacts[]): Evidence => ({argv: sourceArgv(f, 'paths', ['stat', '-f', '%Su %Sg %Sp %N', ...rows.map((r) => r.path)]), lines: rows.map(pathLine)})

/** Whether `p` is `dir` or lies below it (plain string paths, as the kernel prints them). */
export function isUnder(p: string, dir: string): boolean {
  if (dir === '/') return p.startsWith('/')
  const d = dir.replace(/\/+$/, '')
  return p === d || p.startsWith(`${d}/`)
}

/** `/a/b/c` → [`/`, `/a`, `/a/b`, `/a/b/c`]. */
export function ancestorsOf(p: string): string[] {
  const parts = p.split('/').filter((s) => s !== '')
  const out = ['/']
  for (let i = 1; i <= parts.length; i++) out.push(`/${parts.slice(0, i).join('/')}`)
  return out
}

/** The running jail whose root holds a path most closely (the deepest root above it). */
export function jailHolding(f: AuditFacts, p: string): JailFacts | undefined {
  return f.jails
    .filter((j) => !j.dying && j.path !== '/' && isUnder(p, j.path))
    .sort((a, b) => b.path.length - a.path.length)[0]
}

/** Whether `a` is `b` or one of its ancestors or descendants (by dotted name). */
export const related = (a: string, b: string): boolean => a === b || a.startsWith(`${b}.`) || b.startsWith(`${a}.`)

/** A boolean parameter as a configuration sets it: true, false, or undefined when it does not. */
export function confFlag(c: ConfigFacts, name: string): boolean | undefined {
  for (const [k, v] of Object.entries(c.params)) {
    const {base} = splitNo(k)
    if (base === name) return boolValue(k, v)
  }
  return undefined
}

/** The last value of a parameter in a configuration. */
export const confValue = (c: ConfigFacts | undefined, name: string): string | undefined => c?.params[name]?.at(-1)

/** A finding as a rule makes it: `affects` may be left out (none). */
export type Make = Omit<Finding, 'affects'> & {affects?: string[]}

export function finding(m: Make): Finding {
  const f: Finding = {rule: m.rule, severity: m.severity, jail: m.jail, finding: m.finding, fix: m.fix, live: m.live, affects: m.affects ?? [], evidence: m.evidence}
  if (m.param !== undefined) f.param = m.param
  return f
}

/** The descendants a change on a jail reaches (the kernel copies or clears it below, §2.1). */
export const below = (f: AuditFacts, name: string): string[] => descendantsOf(f, name)
