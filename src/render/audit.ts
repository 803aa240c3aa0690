// What `nest audit` answers: its JSON document (AuditResult, schema below) and its text, a table
// of the findings (severity, rule, jail, finding, fix) and, per jail, the grants it does not use.
import type {Finding, Grant, Severity} from '../audit/finding.js'

export type {AuditReport, Finding, Grant, LeastParams, Severity} from '../audit/finding.js'
export type {Evidence} from '../audit/facts.js'

/** `nest audit --json`: `result` is this (src/services/audit.ts AuditResult). */
export interface AuditDoc {
  name: string | null
  jails: string[]
  grants: Grant[]
  findings: Finding[]
  least: Array<{jail: string; params: Record<string, string>}>
  limits: string[]
  failOn: Severity
  counts: Record<Severity, number>
  failed: boolean
}

/**
 * The JSON schema of `result` (JSON Schema 2020-12), kept beside the type it describes; a test
 * validates real audits against it.
 */
const EVIDENCE = {type: 'object', required: ['argv', 'lines'], properties: {argv: {type: 'array', items: {type: 'string'}}, lines: {type: 'array', items: {type: 'string'}}}, additionalProperties: false}
const SEVERITY = {enum: ['high', 'medium', 'low', 'info']}
export const AUDIT_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'nest audit result',
  type: 'object',
  required: ['name', 'jails', 'grants', 'findings', 'least', 'limits', 'failOn', 'counts', 'failed'],
  additionalProperties: false,
  properties: {
    name: {type: ['string', 'null'], description: 'the jail audited with its subtree (dotted), null for every jail'},
    jails: {type: 'array', items: {type: 'string'}},
    grants: {type: 'array', items: {
      type: 'object', required: ['jail', 'param', 'value', 'verdict', 'reason', 'least', 'evidence'], additionalProperties: false,
      properties: {jail: {type: 'string'}, param: {type: 'string'}, value: {type: 'string'}, verdict: {enum: ['needed', 'unused', 'unknown']}, reason: {type: 'string'}, least: {type: ['string', 'null']}, evidence: {type: 'array', items: EVIDENCE}},
    }},
    findings: {type: 'array', items: {
      type: 'object', required: ['rule', 'severity', 'jail', 'finding', 'fix', 'live', 'affects', 'evidence'], additionalProperties: false,
      properties: {
        rule: {type: 'string', pattern: '^NEST-[A-Z][0-9]{2}$'}, severity: SEVERITY, jail: {type: 'string'}, finding: {type: 'string'}, fix: {type: 'string'},
        live: {enum: ['L1', 'L2', 'L3', 'CFG', 'host']}, param: {type: 'string'}, affects: {type: 'array', items: {type: 'string'}}, evidence: {type: 'array', items: EVIDENCE},
      },
    }},
    least: {type: 'array', items: {type: 'object', required: ['jail', 'params'], additionalProperties: false, properties: {jail: {type: 'string'}, params: {type: 'object', additionalProperties: {type: 'string'}}}}},
    limits: {type: 'array', items: {type: 'string'}},
    failOn: SEVERITY,
    counts: {type: 'object', required: ['high', 'medium', 'low', 'info'], additionalProperties: false, properties: Object.fromEntries(['high', 'medium', 'low', 'info'].map((s) => [s, {type: 'integer', minimum: 0}]))},
    failed: {type: 'boolean'},
  },
} as const

// eslint-disable-next-line no-control-regex -- a jail's names and hook texts may hold control characters: never print them raw
const printable = (s: string): string => s.replace(/[\u0000-\u001f\u007f]/g, '?')

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)) + 1) ?? []
  return rows.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join(' ').trimEnd()).join('\n')
}

export function renderAudit(r: AuditDoc): string {
  const out: string[] = []
  const what = r.name === null ? `${r.jails.length} jail(s)` : `${r.name} and the ${r.jails.length - 1} jail(s) below it`
  if (r.findings.length === 0) out.push(`no findings for ${what}`)
  else out.push(table([['SEVERITY', 'RULE', 'JAIL', 'FINDING', 'FIX'], ...r.findings.map((f) => [f.severity, f.rule, f.jail, f.finding, f.fix].map(printable))]))
  const byJail = new Map<string, Grant[]>()
  for (const g of r.grants) byJail.set(g.jail, [...(byJail.get(g.jail) ?? []), g])
  const lines: string[] = []
  for (const [jail, gs] of byJail) {
    const of = (v: Grant['verdict']): string[] => gs.filter((g) => g.verdict === v).map((g) => g.param)
    const [unused, unknown, needed] = [of('unused'), of('unknown'), of('needed')]
    lines.push(`${printable(jail)}: ${needed.length} needed, ${unused.length} unused${unused.length > 0 ? ` (${unused.join(' ')})` : ''}${unknown.length > 0 ? `, ${unknown.length} unknown (${unknown.join(' ')})` : ''}`)
  }
  if (lines.length > 0) out.push('', 'grants:', ...lines.map((l) => `  ${l}`))
  if (r.limits.length > 0) out.push('', 'not observable here:', ...r.limits.map((l) => `  ${l}`))
  const c = r.counts
  out.push('', `${c.high} high, ${c.medium} medium, ${c.low} low, ${c.info} info${r.failed ? ` (at or above --fail-on ${r.failOn}: exit 9)` : ''}; nest audit --json for the evidence, nest tighten ${r.name ?? 'NAME'} --what-if for the least set`)
  return out.join('\n')
}
