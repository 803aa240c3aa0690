// What `nest audit` observes of the jails at run time, host side (../shared/audit-rules.md §1.2
// O4, O6, O7, O8, O12, O13), with the fewest process starts: one `ps -ax -o pid,jid,comm`, one
// `procstat -f` for every jailed pid (none when no jail has a process), one `ipcs -a`,
// `sysctl kern.racct.enable` and `freebsd-version -k` (together with ps), `rctl -u jail:NAME`
// per running jail only when racct is on, `devfs rule -s N show` per ruleset in use (the
// jails' devfs_ruleset and what those include), `devfs -m ON rule show` per devfs mount under
// an audited jail's root. Nothing runs through jexec: what a jail's processes call themselves
// (comm) is the one thing here a jail controls, and it is kept as data.
import {okAsync, ResultAsync} from 'neverthrow'

import type {AuditFacts, DevfsMountFacts, IpcFacts, JailFacts, MountFacts, ProcFacts, SocketFacts} from '../audit/facts.js'
import type {NestError} from '../domain/errors.js'
import type {HostError} from '../host/exec.js'
import type {Host} from '../host/host.js'
import {parsed} from '../host/tools/common.js'
import {parseDevfsShow, showMountRules} from '../host/tools/devfs.js'
import {IPCS_ARGV, type IpcsRow, listIpcs} from '../host/tools/ipcs.js'
import {OTHER_FAMILY, processFiles, RAW_PROTOCOLS} from '../host/tools/procstat.js'
import {listProcesses, PS_ARGV, type PsRow} from '../host/tools/ps.js'
import {jailUsage} from '../host/tools/rctl.js'
import {readSysctls} from '../host/tools/sysctl.js'

export type RuntimeFacts = Pick<AuditFacts, 'procs' | 'sockets' | 'ipc' | 'rctl' | 'rulesets' | 'devfsMounts'> & {
  racct: boolean
  kernel: string | null
  sources: AuditFacts['sources']
}

/** `freebsd-version -k` (O13): the installed kernel's version with its patch level; null when it says nothing usable. */
function kernelVersion(host: Host): ResultAsync<string | null, HostError> {
  return host.run(['freebsd-version', '-k'], {allowFailure: true}).map((r) => {
    const v = r.stdout.trim()
    return r.exitCode === 0 && /^\d+\.\d+-[A-Z0-9-]+$/.test(v) ? v : null
  })
}

const below = (p: string, root: string): boolean => p === root || p.startsWith(root.endsWith('/') ? root : `${root}/`)

/** `devfs rule -s N show`: the lines as printed, and the rulesets they include. */
function showRuleset(host: Host, n: number): ResultAsync<{lines: string[]; includes: number[]}, HostError> {
  return host.run(['devfs', 'rule', '-s', String(n), 'show']).andThen((r) =>
    parsed(r, parseDevfsShow(r.stdout).map((rows) => ({lines: r.stdout.split('\n').filter((l) => l !== ''), includes: rows.flatMap((x) => (x.include === null ? [] : [x.include]))}))),
  )
}

/** Rulesets and what they include, read in rounds until none is missing (an include of a ruleset read already is not read again). */
function readRulesets(host: Host, first: readonly number[], have: Record<number, string[]> = {}): ResultAsync<Record<number, string[]>, HostError> {
  const todo = [...new Set(first)].filter((n) => n > 0 && !(n in have)).sort((a, b) => a - b)
  if (todo.length === 0) return okAsync(have)
  return ResultAsync.combine(todo.map((n) => showRuleset(host, n).map((got) => [n, got] as const))).andThen((got) => {
    const next: Record<number, string[]> = {...have}
    for (const [n, g] of got) next[n] = g.lines
    return readRulesets(host, got.flatMap(([, g]) => g.includes), next)
  })
}

/**
 * The run-time facts of `jails` (JailFacts from jls, host side) and the devfs mounts under
 * their roots (`mounts`, mount -p as the collector read it).
 */
export function observeRuntime(host: Host, jails: readonly JailFacts[], mounts: readonly MountFacts[] = []): ResultAsync<RuntimeFacts, NestError> {
  return observeRuntimeFrom(host, startRuntime(host), jails, mounts)
}

/** The calls that need nothing else first (ps, ipcs, kern.racct.enable, freebsd-version): started at once, beside jls and mount -p. */
export type RuntimeStart = ResultAsync<[PsRow[], IpcsRow[], Map<string, string>, string | null], HostError>
export function startRuntime(host: Host, sysctls: ResultAsync<Map<string, string>, HostError> = readSysctls(host, ['kern.racct.enable'])): RuntimeStart {
  return ResultAsync.combine([listProcesses(host), listIpcs(host), sysctls, kernelVersion(host)])
}

/** observeRuntime with its first calls already under way (src/services/audit.ts starts them with jls and mount -p). */
export function observeRuntimeFrom(host: Host, start: RuntimeStart, jails: readonly JailFacts[], mounts: readonly MountFacts[] = [], configured: readonly number[] = []): ResultAsync<RuntimeFacts, NestError> {
  const sources: AuditFacts['sources'] = {ps: [...PS_ARGV], ipcs: [...IPCS_ARGV], racct: ['sysctl', '-q', 'kern.racct.enable'], kernel: ['freebsd-version', '-k']}
  const jids = new Set(jails.map((j) => j.jid))
  const running = jails.filter((j) => !j.dying)
  const devMounts = mounts.filter((m) => m.type === 'devfs' && jails.some((j) => below(m.on, j.path)))
  // The rulesets the running jails hold, and those their configurations will mount /dev with
  // (a stopped jail's devfs_ruleset, or 4 for mount.devfs: NEST-D02 must not call them unloaded).
  const rulesetsInUse = [...new Set([...jails.map((j) => Number(j.params['devfs_ruleset'] ?? 0)), ...configured])].filter((n) => Number.isInteger(n) && n > 0)
  return start.andThen(([ps, ipcs, sys, kernel]) => {
    const procs: ProcFacts[] = ps.filter((p) => p.jid !== 0).map((p) => ({pid: p.pid, jid: p.jid, comm: p.comm}))
    const jailed = procs.filter((p) => jids.has(p.jid)).map((p) => p.pid)
    const racct = sys.get('kern.racct.enable') === '1'
    if (jailed.length > 0) sources['procstat'] = ['procstat', '-f', ...jailed.map(String)]
    const files = jailed.length === 0 ? okAsync([]) : processFiles(host, jailed)
    const usage = racct
      ? ResultAsync.combine(running.map((j) => jailUsage(host, j.name).map((u) => [j.name, u] as const)))
      : okAsync([] as Array<readonly [string, Record<string, number>]>)
    if (racct && running.length > 0) sources['rctl'] = ['rctl', '-u', `jail:${(running[0] as JailFacts).name}`]
    if (rulesetsInUse.length > 0) sources['rulesets'] = ['devfs', 'rule', '-s', String(Math.min(...rulesetsInUse)), 'show']
    if (devMounts.length > 0) sources['devfsMounts'] = ['devfs', '-m', (devMounts[0] as MountFacts).on, 'rule', 'show']
    const bound = ResultAsync.combine(devMounts.map((m) => showMountRules(host, m.on).map((rules): DevfsMountFacts => ({on: m.on, rules}))))
    return ResultAsync.combine([files, usage, readRulesets(host, rulesetsInUse), bound]).map(([fl, us, rulesets, devfsMounts]): RuntimeFacts => {
      const sockets: SocketFacts[] = fl.filter((f) => f.type === 's').map((f) => ({
        pid: f.pid, fd: f.fd, protocol: f.protocol, raw: RAW_PROTOCOLS.has(f.protocol), otherFamily: f.protocol === OTHER_FAMILY, line: f.line,
      }))
      const jidOf = new Map(ps.map((p) => [p.pid, p.jid]))
      const ipc: IpcFacts[] = ipcs.map((o) => ({kind: o.kind, id: o.id, key: o.key, cpid: o.cpid, jid: o.cpid === null ? null : (jidOf.get(o.cpid) ?? null), size: o.size, line: o.line}))
      return {procs, sockets, ipc, rctl: Object.fromEntries(us), rulesets, devfsMounts, racct, kernel, sources}
    })
  })
}

