// What the policy commands answer: JSON types and text.
import type {Policy} from '../policies/policy.js'

export interface PolicyListResult {
  policies: Array<{name: string; origin: 'preset' | 'user'; file: string; description: string; error: string | null}>
}

export type PolicyShowResult = Policy & {problems: string[]}

export function renderPolicyList(r: PolicyListResult): string {
  const w = Math.max(4, ...r.policies.map((p) => p.name.length)) + 2
  return [`${'NAME'.padEnd(w)}${'ORIGIN'.padEnd(8)}DESCRIPTION`, ...r.policies.map((p) =>
    `${p.name.padEnd(w)}${p.origin.padEnd(8)}${p.error ? `broken: ${p.error}` : `${p.description.split('. ')[0]?.replace(/\.$/, '')}.`}`)].join('\n')
}

export function renderPolicyShow(p: PolicyShowResult): string {
  const lines = [`# ${p.name} (${p.origin}: ${p.file})`, `# ${p.description}`, `nest.delegate = ${p.delegate};`]
  if (p.raiseSecurelevel !== null) lines.push(`nest.raise_securelevel = ${p.raiseSecurelevel};`)
  for (const [k, v] of Object.entries(p.params)) lines.push(typeof v === 'string' ? `${k} = ${v};` : `${k} = ${v};`)
  for (const pr of p.problems) lines.push(`# problem: ${pr}`)
  return lines.join('\n')
}
