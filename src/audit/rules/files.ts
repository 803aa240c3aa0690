// F — filesystem topology and paths (audit-rules.md §3 NEST-F01 … F08). Everything here comes
// from the host: lstat rows the collector took of each root and its ancestors (never
// followed), `mount -p`, jls paths, and the hooks' text for F03.
import type {AuditFacts, JailFacts, MountFacts, PathFacts} from '../facts.js'
import type {Finding} from '../finding.js'
import {configOf, type Rule, type RuleContext} from '../rule.js'
import {ancestorsOf, below, confEvidence, finding, isUnder, jailHolding, jlsEvidence, mountEvidence, pathEvidence, related, scopedConfigs, scopedJails} from './hygiene-common.js'
import {unpatched} from '../advisories.js'
import {hostWrites, runsAs} from './hooks.js'

const row = (f: AuditFacts, p: string): PathFacts | undefined => f.paths.find((r) => r.path === p)

/** The ancestor-or-self paths of a jail's root that are its own (below its parent jail's root). */
function ownChain(f: AuditFacts, j: JailFacts): string[] {
  const parent = j.parent === null ? undefined : f.jails.find((p) => p.name === j.parent && !p.dying)
  return ancestorsOf(j.path).filter((p) => !parent || (p !== parent.path && !isUnder(parent.path, p) && isUnder(p, parent.path)))
}

/** NEST-F01: a jail root or an ancestor writable or reachable by non-root host users. */
const f01: Rule = {
  id: 'NEST-F01',
  check(ctx: RuleContext): Finding[] {
    const f = ctx.facts
    const out: Finding[] = []
    for (const j of scopedJails(ctx)) {
      if (j.path === '/') continue
      const chain = ownChain(f, j)
      const rows = chain.map((p) => row(f, p)).filter((r): r is PathFacts => r !== undefined)
      const writable = rows.filter((r) => r.type !== 'link' && r.type !== 'missing' && (r.uid !== 0 || (r.mode & 0o022) !== 0))
      // Reachable: every directory from / to the root lets others search it (o+x). Only for a
      // jail of the host: a child is reachable only through its parent's root, reported there.
      const full = j.parent === null ? ancestorsOf(j.path).map((p) => row(f, p)) : []
      const reachable = full.length > 0 && full.every((r) => r !== undefined && r.type === 'dir' && (r.mode & 0o001) !== 0)
      if (writable.length === 0 && !reachable) continue
      const container = ancestorsOf(j.path).at(-2) ?? '/'
      const what = [
        ...(writable.length > 0 ? [`${writable.map((r) => r.path).join(', ')} owned by a non-root user or writable by group or others`] : []),
        ...(reachable ? [`every directory down to ${j.path} is searchable by others, so a host user can run what jail root plants there (a setuid binary)`] : []),
      ]
      out.push(finding({
        rule: 'NEST-F01',
        severity: 'high',
        jail: j.name,
        finding: what.join('; '),
        fix: `chown root:wheel ${[...new Set([...writable.map((r) => r.path), container])].join(' ')} && chmod 0700 ${container} (host)`,
        live: 'host',
        affects: below(f, j.name),
        evidence: [pathEvidence(f, reachable ? (full as PathFacts[]) : rows)],
      }))
    }
    return out
  },
}

/** NEST-F02: a symbolic link in the path of a jail's root. */
const f02: Rule = {
  id: 'NEST-F02',
  check(ctx: RuleContext): Finding[] {
    const f = ctx.facts
    const out: Finding[] = []
    for (const j of scopedJails(ctx)) {
      const links = ownChain(f, j).map((p) => row(f, p)).filter((r): r is PathFacts => r?.type === 'link')
      const c = configOf(f, j.name)
      const configured = c?.params['path']?.at(-1)
      const confLinks = configured && configured !== j.path ? ancestorsOf(configured).map((p) => row(f, p)).filter((r): r is PathFacts => r?.type === 'link') : []
      const all = [...new Map([...links, ...confLinks].map((r) => [r.path, r])).values()]
      if (all.length === 0) continue
      out.push(finding({
        rule: 'NEST-F02',
        severity: 'medium',
        jail: j.name,
        finding: `the path of its root goes through a symbolic link (${all.map((r) => r.path).join(', ')}): jail(8) checks links only below the root (command.c check_path)`,
        fix: `path = "<the real directory>"; in its jail.conf, then restart it (path is create-time)`,
        live: 'L3',
        param: 'path',
        affects: below(f, j.name),
        evidence: [pathEvidence(f, all), jlsEvidence(f, j, ['path'])],
      }))
    }
    return out
  },
}

/** NEST-F03: host-side hooks that write into the jail's tree. */
const f03: Rule = {
  id: 'NEST-F03',
  check(ctx: RuleContext): Finding[] {
    const out: Finding[] = []
    for (const c of scopedConfigs(ctx)) {
      const writes = hostWrites(c)
      if (writes.length === 0) continue
      out.push(finding({
        rule: 'NEST-F03',
        severity: 'high',
        jail: c.name,
        finding: `${writes.length === 1 ? 'a hook that runs' : 'hooks that run'} as ${runsAs(c)} outside the jail ${writes.length === 1 ? 'writes' : 'write'} below its root, where jail root can plant a link (FreeBSD-SA-07:01.jail): ${writes.map((w) => `${w.param} "${w.command}"`).join('; ')}`,
        fix: 'mount with mount / mount.fstab (jail(8) checks the mount point, command.c check_path), or write from inside the jail in exec.start',
        live: 'CFG',
        evidence: [confEvidence(c, [...new Set(writes.map((w) => w.param))])],
      }))
    }
    return out
  },
}

/**
 * Host paths whose files the host itself uses (§3 F04's list): the directory or anything below
 * it. `/`, `/usr`, `/usr/local` and `/var` count only themselves, so a per-jail directory such as
 * the Handbook's /usr/local/jails/containers/NAME skeleton is not a host path.
 */
const SYSTEM_TREES = ['/etc', '/root', '/home', '/usr/home', '/tmp', '/var/tmp', '/var/cache/pkg', '/usr/ports', '/usr/src', '/boot', '/var/db', '/var/log', '/var/mail', '/bin', '/sbin', '/lib', '/libexec', '/usr/bin', '/usr/sbin', '/usr/lib', '/usr/libexec', '/usr/local/etc', '/usr/local/bin', '/usr/local/sbin', '/usr/local/lib']
const SYSTEM_DIRS = ['/', '/usr', '/usr/local', '/var']
const isSystemPath = (p: string): boolean => {
  const q = p.replace(/\/+$/, '') || '/'
  return SYSTEM_DIRS.includes(q) || SYSTEM_TREES.some((t) => isUnder(q, t))
}

const isRw = (m: MountFacts): boolean => !m.opts.includes('ro') && !m.opts.includes('rdonly')

/** NEST-F04: a nullfs mount of a host path into a jail, read-write. */
const f04: Rule = {
  id: 'NEST-F04',
  check(ctx: RuleContext): Finding[] {
    const f = ctx.facts
    const out: Finding[] = []
    for (const m of f.mounts) {
      if (m.type !== 'nullfs' || !isRw(m)) continue
      const j = jailHolding(f, m.on)
      if (!j || !ctx.scope.has(j.name)) continue
      // A source inside some jail's own tree is that jail's data, not the host's (F05 covers sharing).
      if (jailHolding(f, m.from)) continue
      if (!isSystemPath(m.from)) continue // a directory of its own (F05 covers one shared with other jails)
      out.push(finding({
        rule: 'NEST-F04',
        severity: 'high',
        jail: j.name,
        finding: `the host's ${m.from} is mounted read-write on ${m.on}: jail root can plant setuid files, links or poisoned files that the host uses`,
        fix: `mount it ro (and nosuid) in the fstab line or mount parameter, or give the jail a directory of its own`,
        live: 'L3',
        evidence: [mountEvidence(f, [m])],
      }))
    }
    return out
  },
}

/** NEST-F05: the same directory nullfs-mounted into jails that are not each other's ancestors. */
const f05: Rule = {
  id: 'NEST-F05',
  check(ctx: RuleContext): Finding[] {
    const f = ctx.facts
    const bySource = new Map<string, {m: MountFacts; jail: string}[]>()
    for (const m of f.mounts.filter((x) => x.type === 'nullfs')) {
      const j = jailHolding(f, m.on)
      if (!j) continue
      bySource.set(m.from, [...(bySource.get(m.from) ?? []), {m, jail: j.name}])
    }
    const patched = !unpatched(f, 'FreeBSD-SA-26:04.jail')
    const out: Finding[] = []
    for (const [from, uses] of bySource) {
      const jails = [...new Set(uses.map((u) => u.jail))]
      const unrelated = jails.filter((a) => jails.some((b) => !related(a, b)))
      if (unrelated.length < 2) continue
      const anyRw = uses.some((u) => isRw(u.m))
      for (const jail of unrelated.filter((n) => ctx.scope.has(n))) {
        out.push(finding({
          rule: 'NEST-F05',
          severity: !anyRw && patched ? 'medium' : 'high',
          jail,
          finding: `${from} is mounted into ${unrelated.join(', ')}, jails that are not each other's ancestors (${anyRw ? 'read-write in at least one' : 'read-only everywhere, so no unix socket can be bound in it'}): FreeBSD-SA-26:04.jail${patched ? '' : ', unpatched here,'} lets two such jails pass directory descriptors over a unix socket in a shared directory and leave their roots`,
          fix: 'a separate directory per jail, read-only shares, no unix sockets in shared directories',
          live: 'L3',
          evidence: [mountEvidence(f, uses.map((u) => u.m))],
        }))
      }
    }
    return out
  },
}

/** NEST-F06: two jails share a root, or one root lies inside another jail's root without being its descendant. */
const f06: Rule = {
  id: 'NEST-F06',
  check(ctx: RuleContext): Finding[] {
    const f = ctx.facts
    const jails = f.jails.filter((j) => !j.dying)
    const out: Finding[] = []
    for (const j of jails.filter((x) => ctx.scope.has(x.name))) {
      const others = jails.filter((o) => o.name !== j.name && !o.name.startsWith(`${j.name}.`) && !j.name.startsWith(`${o.name}.`) && (o.path === j.path || isUnder(j.path, o.path)) && o.path !== '/')
      if (others.length === 0) continue
      out.push(finding({
        rule: 'NEST-F06',
        severity: 'high',
        jail: j.name,
        finding: `its root ${j.path} ${others.some((o) => o.path === j.path) ? 'is also' : 'lies inside'} the root of ${others.map((o) => o.name).join(', ')}, which is not its ancestor: jails sharing a file system can influence each other (jail.8)`,
        fix: 'give each jail a root of its own (path is create-time: restart)',
        live: 'L3',
        param: 'path',
        evidence: [{argv: jlsEvidence(f, j, []).argv, lines: [j, ...others].map((x) => `${x.name}: path=${x.path}`)}],
      }))
    }
    return out
  },
}

/** NEST-F07: a jail's root is not a file system of its own. */
const f07: Rule = {
  id: 'NEST-F07',
  check(ctx: RuleContext): Finding[] {
    const f = ctx.facts
    if (f.mounts.length === 0) return [] // no mount table read: nothing to say
    const out: Finding[] = []
    for (const j of scopedJails(ctx)) {
      if (j.path === '/' || f.mounts.some((m) => m.on === j.path)) continue
      const holder = f.mounts.filter((m) => isUnder(j.path, m.on)).sort((a, b) => b.on.length - a.on.length)[0]
      const sharing = holder ? f.jails.filter((o) => !o.dying && o.name !== j.name && !related(o.name, j.name) && isUnder(o.path, holder.on) && !f.mounts.some((m) => m.on === o.path)) : []
      out.push(finding({
        rule: 'NEST-F07',
        severity: sharing.length > 0 ? 'medium' : 'low',
        jail: j.name,
        finding: `its root ${j.path} is not a mount point but a directory of ${holder ? `${holder.from} on ${holder.on}` : 'another file system'}${sharing.length > 0 ? `, shared with ${sharing.map((o) => o.name).join(', ')}` : ''}: space, quotas and moved directories are per file system (jail.8 NOTES)`,
        fix: 'one dataset per jail root (zfs create …, then move the root onto it)',
        live: 'L3',
        evidence: [mountEvidence(f, holder ? [holder] : []), jlsEvidence(f, j, ['path'])],
      }))
    }
    return out
  },
}

/** NEST-F08: a jail whose root is the host's /. */
const f08: Rule = {
  id: 'NEST-F08',
  check(ctx: RuleContext): Finding[] {
    const f = ctx.facts
    const out: Finding[] = []
    const seen = new Set<string>()
    const add = (name: string, ev: Finding['evidence']): void => {
      if (seen.has(name)) return
      seen.add(name)
      const declared = (f.nest[name]?.declared ?? []).includes('path=/')
      out.push(finding({
        rule: 'NEST-F08',
        severity: declared ? 'low' : 'high',
        jail: name,
        finding: `path = "/": the jail has no file system isolation at all${declared ? ' (declared a service jail)' : ''}`,
        fix: 'give it a root of its own (path = "/jails/NAME"), then restart it (path is create-time); a service jail should be declared as one',
        live: 'L3',
        param: 'path',
        evidence: ev,
      }))
    }
    for (const j of scopedJails(ctx)) if (j.path === '/') add(j.name, [jlsEvidence(f, j, ['path'])])
    for (const c of scopedConfigs(ctx)) if (c.params['path']?.at(-1) === '/') add(c.name, [confEvidence(c, ['path'])])
    return out
  },
}

export const FILE_RULES: Rule[] = [f01, f02, f03, f04, f05, f06, f07, f08]
