// The evidence a verdict or a finding rests on: the command that printed a fact and the lines of
// its output, in the form the tool prints them (audit-rules §5.1: "the exact command and its
// output lines"). The collection service records each command in facts.sources under these keys:
//   jls, mount, ps, procstat, ipcs, zfs, devfs  the one call behind each kind of fact;
//   rctl:<jail>                                 `rctl -hu jail:<jail>` (one call per jail, O6);
//   config:<file>                               how a jail.conf was read (`jail -f FILE -e '|'`).
// A key the facts lack falls back to the command §5.1 names, so a finding always says which
// command would show it.
import type {AuditFacts, ConfigFacts, Evidence, IpcFacts, JailFacts, MountFacts, ProcFacts, ZfsFacts} from './facts.js'
import {text} from './rule.js'

const FALLBACK: Record<string, string[]> = {
  jls: ['jls', '--libxo', 'json', '-n'],
  mount: ['mount', '-p'],
  ps: ['ps', '-ax', '-o', 'pid,jid,comm'],
  procstat: ['procstat', '-f'],
  ipcs: ['ipcs', '-a'],
  zfs: ['zfs', 'get', '-Hp', '-o', 'name,property,value,source'],
  devfs: ['devfs', 'rule', 'show'],
}

export function sourceOf(f: AuditFacts, key: string): string[] {
  const s = f.sources[key]
  if (s !== undefined) return [...s]
  if (key.startsWith('rctl:')) return [...(f.sources['rctl'] ?? ['rctl', '-hu']), `jail:${key.slice(5)}`]
  if (key.startsWith('config:')) return ['jail', '-f', key.slice(7), '-e', '|']
  return [...(FALLBACK[key] ?? [key])]
}

export const evidence = (f: AuditFacts, key: string, lines: string[]): Evidence => ({argv: sourceOf(f, key), lines})

/** A jls -n parameter of one jail, as `name: param=value`. */
export const jlsLine = (j: JailFacts, param: string): string => `${j.name}: ${param}=${text(j.params[param])}`
export const jlsEvidence = (f: AuditFacts, j: JailFacts, params: string[]): Evidence => evidence(f, 'jls', params.map((p) => jlsLine(j, p)))

/** A mount -p row (fstab form, mount.c putfsent: special, node, type, options, 0 0). */
export const mountLine = (m: MountFacts): string => `${m.from} ${m.on} ${m.type} ${m.opts.join(',')} 0 0`
export const mountEvidence = (f: AuditFacts, rows: readonly MountFacts[]): Evidence => evidence(f, 'mount', rows.map(mountLine))

/** jail.conf statements of a jail as `jail -e` prints them (`name: param=value`). */
export function configLines(c: ConfigFacts, params: string[]): string[] {
  return params.flatMap((p) => (c.params[p] ?? []).map((v) => (v === '' ? `${c.name}: ${p}` : `${c.name}: ${p}=${v}`)))
}
export const configEvidence = (f: AuditFacts, c: ConfigFacts, params: string[]): Evidence => evidence(f, `config:${c.file}`, configLines(c, params))

export const psLine = (p: ProcFacts): string => `${p.pid} ${p.jid} ${p.comm}`
export const ipcEvidence = (f: AuditFacts, rows: readonly IpcFacts[]): Evidence => evidence(f, 'ipcs', rows.map((r) => r.line))
export const zfsLine = (d: ZfsFacts, prop: string): string => `${d.name}\t${prop}\t${d.props[prop] ?? '-'}`
export const zfsEvidence = (f: AuditFacts, d: ZfsFacts, props: string[]): Evidence => evidence(f, 'zfs', props.map((p) => zfsLine(d, p)))

/** One path below (or at) another, as mount points compare: `/a/b` is below `/a`, `/ab` is not. */
export const isBelow = (p: string, root: string): boolean => p === root || p.startsWith(root.endsWith('/') ? root : `${root}/`)
export const strictlyBelow = (p: string, root: string): boolean => p !== root && isBelow(p, root)
