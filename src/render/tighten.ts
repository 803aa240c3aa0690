// What `nest tighten` answers (its --json document's `result`) and its text: the diff of
// parameters per jail with the jail.conf lines, the ordered live steps with their class and
// rollback, the tightened policy, the twin's lifecycle (--what-if), what --apply did.
import type {JailDiff, LiveStep} from '../plan/tighten.js'

export interface ConfEdit {
  /** The jail, as the user names it. */
  name: string
  /** The file, as the host sees it. */
  file: string
  /** Lines that go, and lines that come (jail.conf text). */
  removed: string[]
  added: string[]
}

/** One phase of the twin's lifecycle (stop, start, stop, cleanup), as nest's own services ran it there. */
export interface TwinPhase {
  phase: 'stop' | 'start' | 'stop again' | 'cleanup'
  ok: boolean
  /** Each jail's line as the service said it (`p/a: started`, `p/a: failed: …`). */
  lines: string[]
  error?: string
}

/** A failure on the twin, against the grant that caused it. */
export interface TwinFailure {
  /** The jail that failed, as the user names it. */
  name: string
  /** FreeBSD's own words (`jail: a: mount.devfs: … Operation not permitted`). */
  error: string
  /** The changes of the plan it is blamed on (`p: allow.mount.devfs true → false`). */
  grants: string[]
}

export interface TightenResult {
  name: string
  mode: 'plan' | 'what-if' | 'apply'
  /** Where the target came from: a policy file, or the audit's least set. */
  target: string
  diffs: JailDiff[]
  confs: ConfEdit[]
  steps: LiveStep[]
  /** Jails restarted (--apply --restart) or that need a restart (L3 changes). */
  restart: string[]
  policy: {name: string; text: string; file: string | null}
  twin: {clean: boolean; phases: TwinPhase[]; failures: TwinFailure[]} | null
  applied: {steps: string[]; confs: string[]; restarted: string[]; verified: boolean} | null
}

/**
 * The JSON schema of `result` (JSON Schema 2020-12), kept beside the type it describes; the
 * command tests validate real answers (plan, what-if, apply) against it.
 */
const STRINGS = {type: 'array', items: {type: 'string'}}
const PARAMS = {type: 'object', additionalProperties: {type: 'string'}}
const CLASS = {enum: ['L1', 'L2', 'L3', 'CFG']}
const obj = (required: readonly string[], properties: Record<string, unknown>): Record<string, unknown> => ({type: 'object', required, additionalProperties: false, properties})
export const TIGHTEN_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'nest tighten result',
  ...obj(['name', 'mode', 'target', 'diffs', 'confs', 'steps', 'restart', 'policy', 'twin', 'applied'], {
    name: {type: 'string', description: 'the subtree\'s root, as the user names it'},
    mode: {enum: ['plan', 'what-if', 'apply']},
    target: {type: 'string', description: 'a policy file, or the audit\'s least set'},
    diffs: {type: 'array', items: obj(['jail', 'path', 'changes'], {
      jail: {type: 'string'}, path: {type: 'string'},
      changes: {type: 'array', items: obj(['param', 'from', 'to', 'forced', 'live'], {param: {type: 'string'}, from: {type: 'string'}, to: {type: 'string'}, forced: {type: 'boolean'}, live: CLASS})},
    })},
    confs: {type: 'array', items: obj(['name', 'file', 'removed', 'added'], {name: {type: 'string'}, file: {type: 'string'}, removed: STRINGS, added: STRINGS})},
    steps: {type: 'array', items: obj(['id', 'jail', 'argv', 'live', 'why', 'predicts', 'rollback'], {
      id: {type: 'string'}, jail: {type: 'string'}, argv: STRINGS, live: CLASS, why: {type: 'string'},
      predicts: {type: 'object', additionalProperties: PARAMS}, rollback: {type: 'array', items: STRINGS},
    })},
    restart: STRINGS,
    policy: obj(['name', 'text', 'file'], {name: {type: 'string'}, text: {type: 'string'}, file: {type: ['string', 'null']}}),
    twin: {oneOf: [{type: 'null'}, obj(['clean', 'phases', 'failures'], {
      clean: {type: 'boolean'},
      phases: {type: 'array', items: obj(['phase', 'ok', 'lines'], {phase: {enum: ['stop', 'start', 'stop again', 'cleanup']}, ok: {type: 'boolean'}, lines: STRINGS, error: {type: 'string'}})},
      failures: {type: 'array', items: obj(['name', 'error', 'grants'], {name: {type: 'string'}, error: {type: 'string'}, grants: STRINGS})},
    })]},
    applied: {oneOf: [{type: 'null'}, obj(['steps', 'confs', 'restarted', 'verified'], {steps: STRINGS, confs: STRINGS, restarted: STRINGS, verified: {type: 'boolean'}})]},
  }),
} as const

const arrow = (c: JailDiff['changes'][number]): string => `${c.param} ${c.from} → ${c.to}${c.forced ? ' (forced by its parent)' : ''} [${c.live}]`

export function renderTighten(r: TightenResult): string {
  const out: string[] = [`${r.name}: tighten to ${r.target}`]
  const changed = r.diffs.filter((d) => d.changes.length > 0)
  if (changed.length === 0) out.push(r.confs.length === 0 ? '  nothing to change: every jail already has these parameters' : '  the kernel has these parameters already; the jail.conf files below still ask for more')
  for (const d of changed) {
    out.push(`${d.path}:`)
    for (const c of d.changes) out.push(`  ${arrow(c)}`)
  }
  for (const c of r.confs) {
    out.push(`--- ${c.file}`)
    for (const l of c.removed) out.push(`-${l}`)
    for (const l of c.added) out.push(`+${l}`)
  }
  if (r.steps.length > 0) out.push('live steps:')
  for (const s of r.steps) out.push(`  ${s.live} ${s.argv.join(' ')}`, ...s.rollback.map((b) => `     rollback: ${b.join(' ')}`))
  if (r.restart.length > 0) out.push(`restart (L3): ${r.restart.join(', ')}`)
  if (r.policy.file) out.push(`policy ${r.policy.name} written to ${r.policy.file}`)
  if (r.twin) {
    out.push(`twin: ${r.twin.clean ? `clean lifecycle (${r.twin.phases.map((x) => (x.phase === 'stop again' ? 'stop' : x.phase)).join(', ')})` : 'the lifecycle failed'}`)
    for (const p of r.twin.phases) out.push(`  ${p.phase}: ${p.ok ? 'ok' : `failed: ${p.error ?? ''}`}`)
    for (const f of r.twin.failures) out.push(`  ${f.name}: ${f.error}`, ...(f.grants.length > 0 ? [`    caused by: ${f.grants.join('; ')}`] : []))
  }
  if (r.applied) out.push(`applied: ${r.applied.steps.length} live step(s), ${r.applied.confs.length} jail.conf file(s)${r.applied.restarted.length > 0 ? `, restarted ${r.applied.restarted.join(', ')}` : ''}; jls -n ${r.applied.verified ? 'equals the plan' : 'differs from the plan'}`)
  return out.join('\n')
}
