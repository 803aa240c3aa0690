// What the jail commands answer: their JSON types (one document under --json) and text.
import type {CleanupResult} from '../engine/cleanup.js'

export type {CleanupResult}

export type JailState = 'running' | 'stopped' | 'dying'

export interface JailEntry {
  /** nest's name, `/` between levels. */
  name: string
  /** The kernel's dotted name. */
  jail: string
  jid: number | null
  state: JailState
  parent: string | null
  policy: string | null
  release: string | null
  path: string
  children: {cur: number; max: number}
  /**
   * Its network, when it has one of its own or addresses (absent: its creator's stack, all of
   * its addresses). vnet: what nest configured in its rc.conf, and whether the epair's a side is
   * on this side now (null where this nest cannot see it: deeper jails' are in their parents').
   */
  network?: JailNetwork
  /** Left half made by a create that did not finish (nest:state=creating): `nest create` again undoes and remakes it, `nest destroy` removes it. */
  halfMade?: true
}

export type JailNetwork =
  | {vnet: true; interface: string; epair: string; bridge: string; ip4: string[]; ip6: string[]; routers: string[]; mac: string | null; present: boolean | null}
  /**
   * Addresses as the kernel has them (no interface, no prefix): the kernel's while it runs, what
   * nest configured when it does not; `on`: the interfaces jail(8) adds them to (`IF|A`), when any.
   */
  | {vnet: false; ip4: string[]; ip6: string[]; on: string[]}

export interface ListResult {
  jails: JailEntry[]
}

/** A --dry-run answer: the ordered plan, nothing changed. */
export interface PlanResult {
  dryRun: true
  name: string
  /** What nest read to make the plan (the same reads start the real run). */
  reads?: string[]
  steps: Array<{id: string; why: string; action: string; undo: string[]; content?: string}>
}

export interface CreateResult {
  dryRun: false
  jail: JailEntry
  datasets: string[]
  conf: string
  /** The stopped parents started first (--start-parent), topmost first. */
  startedParents?: string[]
}

/** What start, stop and restart did to one jail of the tree. */
export interface TreeStep {
  name: string
  outcome: 'started' | 'stopped' | 'restarted' | 'already running' | 'not running' | 'failed' | 'skipped'
  /** Why it failed, or which failure it was skipped for. */
  error?: string
  /** The step that failed (its command), when one did. */
  step?: string
  /** What `cleanup` unmounted below its root (stop, restart, start after a crash). */
  cleanup: CleanupResult | null
}

/** start, stop, restart: every jail acted on, parents first. */
export interface TreeResult {
  dryRun: false
  jails: TreeStep[]
}

export interface DestroyResult {
  dryRun: false
  name: string
  datasets: string[]
  /** A child whose root was a directory in its parent's root: that directory. */
  directories: string[]
  conf: string
  /** What was left of it (an interrupted create or destroy) and is now gone: `finished`; nothing at all (--if-exists): `absent`. */
  leftovers?: 'finished' | 'absent'
}

export interface ExecResultDoc {
  name: string
  argv: string[]
  exitCode: number
  /** Only under --json: otherwise the command talks to the terminal. */
  stdout?: string
  stderr?: string
}

export interface BootstrapResult {
  dryRun: false
  release: string
  dataset: string
  snapshot: string
  path: string
  created: boolean
}

const pad = (s: string, n: number): string => (s.length >= n ? `${s} ` : s + ' '.repeat(n - s.length))

/**
 * What a terminal gets of a value a jail's root may have set (a deeper jail's nest:* properties
 * live on datasets its parent controls): control characters as `?`, never an escape sequence.
 */
const printable = (v: string): string => [...v].map((c) => (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f || (c.charCodeAt(0) >= 0x80 && c.charCodeAt(0) < 0xa0) ? '?' : c)).join('')

export function renderList(r: ListResult): string {
  if (r.jails.length === 0) return 'no jails (create one with: nest create web)'
  const rows = [['NAME', 'JID', 'STATE', 'POLICY', 'CHILDREN', 'NETWORK', 'PATH']]
  for (const j of r.jails) {
    const depth = j.name.split('/').length - 1
    rows.push([`${'  '.repeat(depth)}${j.name.split('/').at(-1) ?? j.name}`, j.jid === null ? '-' : String(j.jid), j.halfMade ? `${j.state} (half made)` : j.state, j.policy ?? '-', `${j.children.cur}/${j.children.max}`, networkText(j), j.path].map(printable))
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)) + 1) ?? []
  return rows.map((row) => row.map((c, i) => (i === row.length - 1 ? c : pad(c, widths[i] ?? 0))).join(' ').trimEnd()).join('\n')
}

/** `vnet0 192.0.2.10/24 on bridge0`, `192.0.2.11`, or `-` (the creator's stack). */
function networkText(j: JailEntry): string {
  const n = j.network
  if (!n) return '-'
  const addrs = [...n.ip4, ...n.ip6]
  if (!n.vnet) return addrs.length > 0 ? `${addrs.join(',')}${n.on.length > 0 ? ` on ${n.on.join(',')}` : ''}` : '-'
  const missing = n.present === false && j.state === 'running' ? ` (${n.epair} missing)` : ''
  return `${n.interface}${addrs.length > 0 ? ` ${addrs.join(',')}` : ''} on ${n.bridge}${missing}`
}

export function renderPlan(r: PlanResult): string {
  const lines = [`plan for ${r.name} (dry run: nothing was changed):`]
  if (r.reads && r.reads.length > 0) lines.push(`read first: ${r.reads.join('; ')}`)
  if (r.steps.length === 0) lines.push('nothing to do')
  r.steps.forEach((s, i) => {
    lines.push(`${i + 1}. ${s.action}`, `     ${s.why}`)
    if (s.content) lines.push(...s.content.trimEnd().split('\n').map((l) => `     | ${l}`))
    if (s.undo.length > 0) lines.push(`     undo: ${s.undo.join('; ')}`)
  })
  return lines.join('\n')
}

const state = (j: JailEntry): string => (j.jid === null ? j.state : `${j.state}, jid ${j.jid}`)

export const renderCreate = (r: CreateResult | PlanResult): string =>
  r.dryRun ? renderPlan(r) : `${r.jail.name}: created (${state(r.jail)}, policy ${r.jail.policy ?? '-'}, ${r.jail.path})`

export function renderCleanup(r: CleanupResult): string {
  if (r.deferred) return ''
  const lines = r.unmounted.map((m) => `${r.jail}: unmounted ${m.on} (${m.type})`)
  for (const m of r.remaining) lines.push(`${r.jail}: stays: ${m.on} (${m.type}): ${m.reason}`)
  if (lines.length === 0) lines.push(`${r.jail}: nothing mounted below ${r.root}`)
  return lines.join('\n')
}

export function renderTreeSteps(r: TreeResult): string {
  return r.jails.map((j) => {
    const n = j.cleanup ? j.cleanup.unmounted.length : 0
    return `${j.name}: ${j.outcome}${n > 0 ? `; ${n} leftover mount(s) unmounted` : ''}${j.error ? ` (${j.error})` : ''}`
  }).join('\n')
}

export const renderTree = (r: TreeResult | PlanResult): string => (r.dryRun ? renderPlan(r) : renderTreeSteps(r))

export const renderDestroy = (r: DestroyResult | PlanResult): string =>
  r.dryRun ? renderPlan(r) : r.leftovers === 'absent' ? `${r.name}: not there (nothing to destroy)`
    : `${r.name}: destroyed (${[`${r.datasets.length} dataset(s)`, ...r.directories, ...(r.conf ? [r.conf] : [])].join(', ')})${r.leftovers === 'finished' ? ': what an interrupted create or destroy had left' : ''}`

export const renderCleanupOrPlan = (r: CleanupResult | PlanResult): string => ('dryRun' in r ? renderPlan(r) : renderCleanup(r))

export const renderBootstrap = (r: BootstrapResult | PlanResult): string =>
  r.dryRun ? renderPlan(r) : r.created ? `${r.release}: bootstrapped (${r.snapshot}, ${r.path})` : `${r.release}: already bootstrapped (${r.snapshot})`

export const renderExec = (r: ExecResultDoc): string => `${r.stdout ?? ''}`
