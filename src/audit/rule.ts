// The shape every audit rule has, and the reads they share. A rule is a pure function of the
// facts: it never runs anything, so the whole catalogue is unit-tested on plain data.
import type {ParamValue} from '../host/parse.js'
import type {AuditFacts, ConfigFacts, JailFacts} from './facts.js'
import type {Finding, Grant} from './finding.js'

export interface RuleContext {
  facts: AuditFacts
  /** The jails being audited (full dotted names): a subtree, or every jail. */
  scope: ReadonlySet<string>
  /** The grant verdicts (src/audit/grants.ts), computed before the rules that read them. */
  grants: readonly Grant[]
}

/** One rule of the catalogue: its id and what it finds in the scope. */
export interface Rule {
  id: string
  check(ctx: RuleContext): Finding[]
}

export const jailOf = (f: AuditFacts, name: string): JailFacts | undefined => f.jails.find((j) => j.name === name && !j.dying) ?? f.jails.find((j) => j.name === name)
export const configOf = (f: AuditFacts, name: string): ConfigFacts | undefined => f.configs.find((c) => c.name === name)
/** The running (or configured) children of a jail, by full name. */
export const childrenOf = (f: AuditFacts, name: string | null): string[] =>
  [...new Set([...f.jails.filter((j) => j.parent === name && !j.dying).map((j) => j.name), ...f.configs.filter((c) => parentName(c.name) === name).map((c) => c.name)])].sort()
export const parentName = (name: string): string | null => (name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : null)
/** Every descendant of a jail (running or configured), depth first. */
export function descendantsOf(f: AuditFacts, name: string): string[] {
  return childrenOf(f, name).flatMap((c) => [c, ...descendantsOf(f, c)])
}

/** A parameter as a boolean (jls -n prints flags as true/false, values as strings). */
export function flag(v: ParamValue | undefined): boolean {
  if (typeof v === 'boolean') return v
  if (typeof v === 'number') return v !== 0
  if (typeof v === 'string') return v === 'true' || v === '1'
  return false
}

export function int(v: ParamValue | undefined): number | null {
  if (typeof v === 'number') return v
  if (typeof v === 'string' && /^-?[0-9]+$/.test(v)) return Number(v)
  return null
}

export const text = (v: ParamValue | undefined): string => (v === undefined ? '' : Array.isArray(v) ? v.join(',') : String(v))
