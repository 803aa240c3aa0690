// X — hooks and configuration hygiene (audit-rules.md §3 NEST-X01 … X05), from the
// configurations' text (params after expansion, raw before) and lstat rows of the files.
import type {AuditFacts, ConfigFacts, PathFacts} from '../facts.js'
import type {Finding, Severity} from '../finding.js'
import {USER_POLICY_DIR} from '../../policies/load.js'
import type {Rule, RuleContext} from '../rule.js'
import {confEvidence, finding, isUnder as under, pathEvidence, scopedConfigs} from './hygiene-common.js'

/** The hooks jail(8) runs on the host, as root (jail.8 exec.*; command.c runs them outside the jail). */
export const HOST_HOOKS = ['exec.prepare', 'exec.prestart', 'exec.created', 'exec.poststart', 'exec.prestop', 'exec.poststop', 'exec.release'] as const

/**
 * The characters that make jail(8) run a command through `/bin/sh -c` (command.c run_command:
 * `strpbrk(comstring->s, "!\"$&'()*;<>?[\\]`{|}~")`, a lone trailing `&` aside, which only
 * backgrounds it); a command without them is split on white space and exec'd.
 */
const SHELL_CHARS = /[!"$&'()*;<>?[\\\]`{|}~]/
export const runsThroughShell = (cmd: string): boolean => {
  const i = cmd.search(SHELL_CHARS)
  return i >= 0 && !(cmd[i] === '&' && i === cmd.length - 1)
}

const MOUNTERS = /^(mount|mount_[a-z0-9]+)$/
const COPIERS = new Set(['cp', 'install', 'rsync', 'tar', 'cpio', 'ln', 'mv', 'pax', 'ditto'])
const WRITERS = new Set(['touch', 'mkdir', 'chown', 'chmod', 'chflags', 'tee', 'rm', 'sysrc', 'sed', 'truncate', 'dd'])

const strip = (w: string): string => w.replace(/^['"]+|['"]+$/g, '').replace(/[;)]+$/, '')

/**
 * Whether a host command writes below `root` (the jail's root, after expansion; rawRoot and
 * rawCmd are the texts before it, where `${path}` names the root): a mount whose mount point,
 * a copy whose destination, a redirection or a file command whose operand is there.
 */
export function hookWrites(cmd: string, root: string, rawCmd?: string, rawRoot?: string): 'mount' | 'copy' | 'write' | null {
  const inRoot = (w: string): boolean => w.startsWith('/') && under(strip(w), root)
  const rawInRoot = (w: string): boolean => /\$\{?path\}?/.test(w) || (rawRoot !== undefined && rawRoot !== '' && w.includes(rawRoot))
  const segments = cmd.split(/;|&&|\|\||\|/)
  const rawSegments = rawCmd?.split(/;|&&|\|\||\|/) ?? []
  let kind: 'mount' | 'copy' | 'write' | null = null
  segments.forEach((seg, i) => {
    const words = seg.trim().split(/\s+/).filter((w) => w !== '')
    const rawWords = (rawSegments[i] ?? '').trim().split(/\s+/).filter((w) => w !== '')
    const prog = (words[0] ?? '').replace(/^.*\//, '')
    const args = words.slice(1)
    const last = args.at(-1)
    const lastRaw = rawWords.at(-1)
    const hits = (w: string | undefined, rw: string | undefined): boolean => (w !== undefined && inRoot(w)) || (rw !== undefined && rawInRoot(rw))
    for (let k = 0; k < words.length; k++) {
      const w = words[k] as string
      const target = w === '>' || w === '>>' ? words[k + 1] : /^>>?/.test(w) ? w.replace(/^>>?/, '') : undefined
      if (target !== undefined && hits(target, undefined)) kind = kind ?? 'write'
    }
    if (MOUNTERS.test(prog) && hits(last, lastRaw)) kind = 'mount'
    else if (COPIERS.has(prog) && (hits(last, lastRaw) || args.some((a, n) => (a === '-C' || a === '-t') && hits(args[n + 1], undefined)))) kind = kind === 'mount' ? kind : 'copy'
    else if (WRITERS.has(prog) && args.some((a, n) => hits(a, rawWords[n + 1]))) kind = kind ?? 'write'
  })
  return kind
}

/** What host-side hooks write below the configured root. */
export function hostWrites(c: ConfigFacts): {param: string; command: string; kind: 'mount' | 'copy' | 'write'}[] {
  const root = c.params['path']?.at(-1)
  const rawRoot = c.raw['path']?.at(-1)
  if (root === undefined || root === '/') return []
  return HOST_HOOKS.flatMap((param) =>
    (c.params[param] ?? []).flatMap((command, i) => {
      const kind = hookWrites(command, root, c.raw[param]?.[i], rawRoot)
      return kind ? [{param, command, kind}] : []
    }),
  )
}

/** Who runs a configuration's outside hooks: the host's root, or the parent's whose jail(8) reads it. */
export const runsAs = (c: ConfigFacts): string => (c.startedBy === null ? 'host root' : `${c.startedBy}'s root`)

/** NEST-X01: host hooks jail(8) runs through sh, or that expand jail.conf variables. */
const x01: Rule = {
  id: 'NEST-X01',
  check(ctx: RuleContext): Finding[] {
    const out: Finding[] = []
    for (const c of scopedConfigs(ctx)) {
      const lines: {param: string; cmd: string; vars: string[]; shell: boolean; shaped: boolean}[] = []
      for (const param of HOST_HOOKS) {
        ;(c.params[param] ?? []).forEach((cmd, i) => {
          const raw = c.raw[param]?.[i] ?? cmd
          const vars = [...raw.matchAll(/\$\{([^}]+)\}/g)].map((m) => m[1] as string)
          const shell = runsThroughShell(cmd)
          if (vars.length === 0 && !shell) return
          // A variable whose value has white space or shell characters changes the command's shape.
          // (the command with each variable as one plain word, against the command jail(8) runs)
          const plain = raw.replace(/\$\{[^}]+\}/g, 'X')
          const words = (t: string): number => t.trim().split(/\s+/).length
          const shaped = vars.length > 0 && (words(cmd) > words(plain) || (shell && !runsThroughShell(plain)))
          lines.push({param, cmd, vars, shell, shaped})
        })
      }
      if (lines.length === 0) continue
      const severity: Severity = lines.some((l) => l.shaped) ? 'high' : 'medium'
      const vars = [...new Set(lines.flatMap((l) => l.vars))]
      const shells = lines.filter((l) => l.shell).map((l) => l.param)
      out.push(finding({
        rule: 'NEST-X01',
        severity,
        jail: c.name,
        finding: [
          ...(vars.length > 0 ? [`hooks run as ${runsAs(c)} expand ${vars.map((v) => `$${v}`).join(', ')}${lines.some((l) => l.shaped) ? ', whose value changes the command\'s words' : ''}`] : []),
          ...(shells.length > 0 ? [`${[...new Set(shells)].join(', ')} run${new Set(shells).size === 1 ? 's' : ''} through /bin/sh -c as ${runsAs(c)} (shell characters, command.c run_command)`] : []),
        ].join('; '),
        fix: 'a fixed argv to a helper with no shell characters (jail(8) execs it without a shell), data passed as validated names; single-quote literal strings',
        live: 'CFG',
        evidence: [confEvidence(c, [...new Set(lines.map((l) => l.param))], true)],
      }))
    }
    return out
  },
}

/** NEST-X02: host hooks that mount or copy into the jail's tree. */
const x02: Rule = {
  id: 'NEST-X02',
  check(ctx: RuleContext): Finding[] {
    const out: Finding[] = []
    for (const c of scopedConfigs(ctx)) {
      const w = hostWrites(c).filter((x) => x.kind !== 'write')
      if (w.length === 0) continue
      out.push(finding({
        rule: 'NEST-X02',
        severity: 'high',
        jail: c.name,
        finding: `hooks run as ${runsAs(c)} ${w.map((x) => x.kind).includes('mount') ? 'mount' : 'copy'} into its root with no check for links jail root planted: ${w.map((x) => `${x.param} "${x.command}"`).join('; ')}`,
        fix: 'mount.fstab or mount entries instead (jail(8) checks each mount point, command.c check_path), ro where possible',
        live: 'CFG',
        evidence: [confEvidence(c, [...new Set(w.map((x) => x.param))], true)],
      }))
    }
    return out
  },
}

/** NEST-X03: no exec.clean on a jail that runs commands inside. */
const x03: Rule = {
  id: 'NEST-X03',
  check(ctx: RuleContext): Finding[] {
    const out: Finding[] = []
    for (const c of scopedConfigs(ctx)) {
      const inside = ['exec.start', 'exec.stop', 'command'].filter((p) => (c.params[p] ?? []).length > 0)
      if (inside.length === 0 || 'exec.clean' in c.params) continue
      out.push(finding({
        rule: 'NEST-X03',
        severity: 'low',
        jail: c.name,
        finding: `no exec.clean: ${inside.join(', ')} run in the jail with jail(8)'s own environment (jail.8 exec.clean), so the caller's variables reach jail processes`,
        fix: 'exec.clean; in its jail.conf (whether it also clears the environment of host hooks, which nest passes NEST_CLEANUP_FOLLOWS through, is unconfirmed: command.c)',
        live: 'CFG',
        param: 'exec.clean',
        evidence: [confEvidence(c, inside)],
      }))
    }
    return out
  },
}

/** NEST-X04: exec.consolelog inside the jail's root. */
const x04: Rule = {
  id: 'NEST-X04',
  check(ctx: RuleContext): Finding[] {
    const out: Finding[] = []
    for (const c of scopedConfigs(ctx)) {
      const log = c.params['exec.consolelog']?.at(-1)
      const root = c.params['path']?.at(-1)
      if (!log || !root || root === '/' || !under(log, root)) continue
      out.push(finding({
        rule: 'NEST-X04',
        severity: 'low',
        jail: c.name,
        finding: `exec.consolelog ${log} is inside its root: host root opens a path jail root controls (jail(8) checks it for links first, then opens it: a race)`,
        fix: 'exec.consolelog = "/var/log/jail_console_${name}.log"; (a host directory)',
        live: 'CFG',
        param: 'exec.consolelog',
        evidence: [confEvidence(c, ['exec.consolelog', 'path'])],
      }))
    }
    return out
  },
}

/** NEST-X05: the host's jail.conf files (and their directory) writable by non-root. */
const x05: Rule = {
  id: 'NEST-X05',
  check(ctx: RuleContext): Finding[] {
    const f = ctx.facts
    const files = confFiles(f, ctx)
    const rows = files.map((p) => f.paths.find((r) => r.path === p)).filter((r): r is PathFacts => r !== undefined && r.type !== 'missing')
    const bad = rows.filter((r) => r.type === 'link' || r.uid !== 0 || (r.mode & 0o022) !== 0)
    if (bad.length === 0) return []
    const jails = [...new Set(f.configs.filter((c) => c.startedBy === null && bad.some((b) => b.path === c.file || b.path === dir(c.file))).map((c) => c.name))]
    return [
      finding({
        rule: 'NEST-X05',
        severity: 'high',
        jail: jails[0] ?? '',
        finding: `${bad.map((b) => b.path).join(', ')} ${bad.length === 1 ? 'is' : 'are'} ${bad.some((b) => b.type === 'link') ? 'a link or ' : ''}writable by a non-root user: the hooks in them run as host root${jails.length > 1 ? ` (jails ${jails.join(', ')})` : ''}`,
        fix: `chown root:wheel ${bad.map((b) => b.path).join(' ')} && chmod ${bad.some((b) => b.type === 'dir') ? '0755 (directories), 0644 (files)' : '0644'} (host)`,
        live: 'host',
        affects: jails.slice(1),
        evidence: [pathEvidence(f, bad)],
      }),
    ]
  },
}

const dir = (p: string): string => p.slice(0, Math.max(p.lastIndexOf('/'), 1))

/** The host's configuration files and directories X05 looks at (the collector lstats these). */
export function confFiles(f: AuditFacts, ctx?: RuleContext): string[] {
  const host = f.configs.filter((c: ConfigFacts) => c.startedBy === null && (!ctx || ctx.scope.has(c.name)))
  // nest's own policy directory too: what a policy grants, nest writes into jail.conf (§3 X05).
  return [...new Set(['/etc/jail.conf', '/etc/jail.conf.d', USER_POLICY_DIR, ...host.map((c) => c.file), ...host.map((c) => dir(c.file)), ...(f.configErrors ?? []).filter((e) => e.startedBy === null).map((e) => e.file)])]
}

export const HOOK_RULES: Rule[] = [x01, x02, x03, x04, x05]
