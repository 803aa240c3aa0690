// nest migrate vm's answer: what moved, what changed in the guest's files, what stayed behind,
// the limits, and how to go back (issue 13, "Report").
import type {GuestEdit} from '../domain/guest.js'
import {renderPlan} from './jails.js'
import type {PlanResult} from './jails.js'

export interface MigrateResult {
  dryRun: false
  jail: string
  vm: string
  /** The guest's own jails, nest's children of the jail now (started). */
  children: string[]
  /** Each guest dataset (its name in the guest) and the dataset it is now, with its size in bytes (null: a copied UFS tree, not measured). */
  moved: Array<{from: string; to: string; used: number | null}>
  /** What was not moved, and why. */
  skipped: Array<{name: string; why: string}>
  /** Each change made to the guest's files (the originals are kept as FILE.nest-orig). */
  edits: GuestEdit[]
  /** What the admin should know of the guest's files (what a jail ignores, what to do on the host). */
  notes: string[]
  /** The rctl rules added for the jail (none when racct is off or --limits none). */
  limits: string[]
  conf: string
  /** The commands that give the VM back. */
  back: string[]
}

const size = (n: number): string => {
  const units = ['B', 'K', 'M', 'G', 'T']
  let v = n
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${i === 0 ? v : v.toFixed(v >= 10 ? 0 : 1)}${units[i] ?? ''}`
}

export function renderMigrate(r: MigrateResult | PlanResult): string {
  if (r.dryRun) return renderPlan(r)
  const lines = [`${r.vm} is now the jail ${r.jail} (${r.conf})${r.children.length > 0 ? `, with its jails ${r.children.join(', ')}` : ''}`, '', 'moved:']
  for (const m of r.moved) lines.push(`  ${m.from} -> ${m.to}${m.used === null ? "" : ` (${size(m.used)})`}`)
  if (r.skipped.length > 0) {
    lines.push('', 'not moved:')
    for (const s of r.skipped) lines.push(`  ${s.name}: ${s.why}`)
  }
  if (r.edits.length > 0) {
    lines.push('', 'changed in the guest\'s files (originals kept as FILE.nest-orig):')
    for (const e of r.edits) lines.push(`  ${e.file}: ${e.action} ${e.key}${e.to === undefined ? '' : `=${e.to}`}${e.from === undefined ? '' : ` (was ${e.from})`}: ${e.why}`)
  }
  if (r.notes.length > 0) {
    lines.push('', 'notes:')
    for (const n of r.notes) lines.push(`  ${n}`)
  }
  lines.push('', r.limits.length > 0 ? `limits: ${r.limits.join(', ')}` : 'limits: none')
  lines.push('', 'to go back to the VM:')
  for (const b of r.back) lines.push(`  ${b}`)
  return lines.join('\n')
}
