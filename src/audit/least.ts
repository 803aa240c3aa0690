// The least parameters of each jail (audit-rules §2.3), top-down from the bottom-up needs
// (src/audit/analysis.ts): an allow flag stays on only where it is needed, or its use is unknown,
// and never where the parent's least set drops it (a child's flags are a subset of its
// parent's, kern_jail.c; allow.unprivileged_proc_debug excepted, jail.h PR_ALLOW_DIFFERENCES);
// enforce_statfs and securelevel rise to what the subtree tolerates (never below the parent's:
// the kernel raises a child to its parent's value); children.max shrinks to cm(J) (strictly
// below the parent's); sysv* narrow to what the subtree needs (disable under a disable parent);
// a top-level jail's devfs_ruleset 0 becomes 4 (5 for a vnet jail: devfs.rules'
// devfsrules_jail_vnet), which the kernel copies below. Nothing is widened: a jail that holds
// less than its subtree needs keeps what it has, and the rules (H04, H06, S05) report it.
import {ALLOW_DIFFERENCES} from '../jailconf/params.js'
import type {LeastParams} from './finding.js'
import {type TreeAnalysis, currentSysv, flagVerdict, heldFlags} from './analysis.js'
import {SYSV, type SysvMode} from './lifecycle.js'
import {int, jailOf, parentName, text} from './rule.js'

const RANK: Record<SysvMode, number> = {disable: 0, new: 1, inherit: 2}
const narrower = (a: SysvMode, b: SysvMode): SysvMode => (RANK[a] <= RANK[b] ? a : b)
const depth = (n: string): number => n.split('.').length

/** The least set of every running jail in the analysis, parents first. */
export function leastOf(t: TreeAnalysis): Map<string, Record<string, string>> {
  const f = t.facts
  const out = new Map<string, Record<string, string>>()
  const names = [...t.jails.keys()].filter((n) => jailOf(f, n) !== undefined && !jailOf(f, n)!.dying).sort((a, b) => depth(a) - depth(b) || a.localeCompare(b))
  for (const name of names) {
    const j = jailOf(f, name)!
    const a = t.jails.get(name)!
    const pn = parentName(name)
    const up = pn === null ? undefined : out.get(pn)
    const p: Record<string, string> = {}
    const held = new Set(heldFlags(j))
    for (const param of Object.keys(j.params).filter((k) => k.startsWith('allow.')).sort()) {
      let on = held.has(param) && flagVerdict(t, name, param).verdict !== 'unused'
      const free = (ALLOW_DIFFERENCES as readonly string[]).map((x) => `allow.${x}`).includes(param)
      if (on && !free && up !== undefined && up[param] === 'false') on = false
      p[param] = String(on)
    }
    const es = int(j.params['enforce_statfs'])
    if (es !== null) {
      const mountUnknown = [...a.unknown.keys()].some((k) => k === 'allow.mount' || k.startsWith('allow.mount.'))
      const target = mountUnknown ? es : a.es
      p['enforce_statfs'] = String(Math.max(es, target, int(up?.['enforce_statfs']) ?? -1))
    }
    const sl = int(j.params['securelevel'])
    if (sl !== null) {
      const target = sl >= 1 ? sl : Math.max(sl, Math.min(2, a.sl ?? 2))
      p['securelevel'] = String(Math.max(target, int(up?.['securelevel']) ?? -1))
    }
    const cm = int(j.params['children.max'])
    if (cm !== null) {
      let v = Math.min(cm, Math.max(a.cm, int(j.params['children.cur']) ?? 0))
      const upCm = int(up?.['children.max'])
      if (upCm !== null) v = Math.min(v, Math.max(0, upCm - 1))
      p['children.max'] = String(v)
    }
    for (const s of SYSV) {
      if (j.params[s] === undefined) continue
      const cur = currentSysv(j, s)
      let v = a.own.unknown.has(s) ? cur : narrower(cur, a.sysv[s].mode)
      if (up?.[s] === 'disable') v = 'disable'
      p[s] = v
    }
    const rs = int(j.params['devfs_ruleset'])
    if (rs !== null) {
      const vnet = text(j.params['vnet']) === 'new'
      const devfs = p['allow.mount.devfs'] === 'true' || f.configs.some((c) => c.name === name && c.params['mount.devfs'] !== undefined)
      let v = rs
      if (pn === null && rs === 0 && devfs) v = vnet ? 5 : 4
      if (up !== undefined && int(up['devfs_ruleset']) !== int(jailOf(f, pn!)?.params['devfs_ruleset'])) v = int(up['devfs_ruleset']) ?? v
      p['devfs_ruleset'] = String(v)
    }
    out.set(name, p)
  }
  return out
}

/** LeastParams for the jails in scope (tree order). */
export function leastParams(t: TreeAnalysis, scope: ReadonlySet<string>): LeastParams[] {
  const all = leastOf(t)
  return [...all].filter(([n]) => scope.has(n)).map(([jail, params]) => ({jail, params}))
}

/** The jail.conf spelling of a flag turned off: allow.mount.tmpfs → allow.mount.notmpfs. */
export const noForm = (param: string): string => {
  const dot = param.lastIndexOf('.')
  return `${param.slice(0, dot + 1)}no${param.slice(dot + 1)}`
}


