// What the hygiene rules (D, F, X) need the collector to read, given what it already read
// (jls, mount -p, the configurations): the paths to lstat (O11), the devfs rulesets to show
// (O8, `devfs rule -s N show`, their includes too) and the devfs mounts whose bound rules to show
// (`devfs -m ON rule show`). Pure; the collector runs the reads.
import type {ConfigFacts, JailFacts, MountFacts} from './facts.js'
import {USER_POLICY_DIR} from '../policies/load.js'
import {parseRule} from './devfs.js'

/** `/a/b` → `/`, `/a`, `/a/b`. */
function chain(p: string): string[] {
  const parts = p.split('/').filter((s) => s !== '')
  return ['/', ...parts.map((_, i) => `/${parts.slice(0, i + 1).join('/')}`)]
}

const dirOf = (p: string): string => p.slice(0, Math.max(p.lastIndexOf('/'), 1))

/**
 * The paths to lstat: every jail root and each of its ancestors (F01, F02; a configured path
 * too, since it may differ from the kernel's when a link is in it), and the host's configuration
 * files with their directories (X05). Never followed: a link is reported as a link.
 */
export function pathsToStat(jails: readonly JailFacts[], configs: readonly ConfigFacts[], errorFiles: readonly string[] = []): string[] {
  const out = new Set<string>()
  for (const j of jails) if (!j.dying) for (const p of chain(j.path)) out.add(p)
  for (const c of configs) {
    const path = c.params['path']?.at(-1)
    if (path) for (const p of chain(path)) out.add(p)
  }
  for (const f of ['/etc/jail.conf', '/etc/jail.conf.d', USER_POLICY_DIR]) out.add(f)
  for (const c of configs.filter((x) => x.startedBy === null)) {
    out.add(c.file)
    out.add(dirOf(c.file))
  }
  for (const f of errorFiles) out.add(f)
  return [...out].sort()
}

/**
 * The rulesets to read: each jail's effective devfs_ruleset, each configured one, 4 (what
 * jail(8) mounts /dev with when none is set, command.c), and, from the rules already read, the
 * rulesets they include. Call again with what was read until it returns nothing new.
 */
export function rulesetsToRead(jails: readonly JailFacts[], configs: readonly ConfigFacts[], read: Record<number, string[]> = {}): number[] {
  const want = new Set<number>([4])
  const add = (v: unknown): void => {
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^[0-9]+$/.test(v) ? Number(v) : null
    if (n !== null && n > 0) want.add(n)
  }
  for (const j of jails) add(j.params['devfs_ruleset'])
  for (const c of configs) add(c.params['devfs_ruleset']?.at(-1))
  for (const lines of Object.values(read)) for (const l of lines) add(parseRule(l)?.include)
  return [...want].filter((n) => !(n in read)).sort((a, b) => a - b)
}

/** The devfs mounts whose bound rules to read (`devfs -m ON rule show`): every devfs in the mount table but the host's /dev. */
export const devfsMountsToRead = (mounts: readonly MountFacts[]): string[] => mounts.filter((m) => m.type === 'devfs' && m.on !== '/dev').map((m) => m.on)
