// What `nest audit` answers: a verdict for every grant a jail holds, and findings from the
// rule catalogue (../shared/audit-rules.md §3, rule ids NEST-A01 … NEST-R07). Plain data: the
// rules make them, the renderer prints them, `nest tighten` computes its policy from them.
import type {Evidence} from './facts.js'

export type Severity = 'high' | 'medium' | 'low' | 'info'
export const SEVERITIES: readonly Severity[] = ['info', 'low', 'medium', 'high']
export const severityRank = (s: Severity): number => SEVERITIES.indexOf(s)

/**
 * How a fix takes effect (audit-rules §3): L1 `jail -m` at once; L2 `jail -m`, but existing
 * mounts or objects keep the old state; L3 a create-time parameter (restart); CFG a
 * pseudo-parameter or file (next start); host a change on the host (a file mode, a quota).
 */
export type LiveClass = 'L1' | 'L2' | 'L3' | 'CFG' | 'host'

/** A grant a jail holds: `allow.raw_sockets`, `allow.mount.tmpfs`, `children.max`, `enforce_statfs`, `sysvshm`, … */
export type GrantVerdict = 'needed' | 'unused' | 'unknown'

export interface Grant {
  jail: string
  /** The parameter as jail(8) names it. */
  param: string
  /** Its effective value (jls -n). */
  value: string
  verdict: GrantVerdict
  /**
   * Why: for needed, what uses it (`observed`, `lifecycle`, `config`, `declared`, `child`); for
   * unused, the evidence of non-use; for unknown, what this host cannot observe.
   */
  reason: string
  /** What the least set would make it (`allow.noraw_sockets`, `children.max=4`); null when it stays. */
  least: string | null
  evidence: Evidence[]
}

export interface Finding {
  /** `NEST-A01`. */
  rule: string
  severity: Severity
  jail: string
  /** One line: what is wrong. */
  finding: string
  /** One line: what to do (the jail.conf line or command). */
  fix: string
  live: LiveClass
  /** The parameter the finding is about, when there is one (tighten acts on these). */
  param?: string
  /** Descendants the fix also changes (clearing an allow flag clears it below, §2.1). */
  affects: string[]
  evidence: Evidence[]
}

/** The least parameters of one jail (§2.3), as jail(8) parameters: what tighten would set. */
export interface LeastParams {
  jail: string
  /** Parameter → value the least set gives (`allow.raw_sockets` → `false`, `children.max` → `4`). */
  params: Record<string, string>
}

export interface AuditReport {
  /** The jails audited (a subtree's root and every descendant, or all). */
  jails: string[]
  grants: Grant[]
  findings: Finding[]
  least: LeastParams[]
  /** What this host could not observe and why (no DTrace, racct disabled). */
  limits: string[]
}
