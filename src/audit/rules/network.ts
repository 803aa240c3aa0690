// N — network (audit-rules.md §3 NEST-N01 … N05), from jls -n and the sockets procstat shows.
// N03 (allow.raw_sockets / allow.socket_af on a vnet jail) is NEST-A20, reported once with the
// allow.* rules. Socket families come from procstat -f's NAME column (procstat_files.c
// addr_to_string: inet `A:PORT`, inet6 `A.PORT`), the PRO column being TCP/UDP for both.
import type {Finding} from '../finding.js'
import {text, type Rule, type RuleContext} from '../rule.js'
import {isVnet} from './devices.js'
import {below, finding, jlsEvidence, scopedJails, sourceArgv} from './hygiene-common.js'

/** NEST-N01: ip4 or ip6 = inherit on a jail that shares the host's stack. */
const n01: Rule = {
  id: 'NEST-N01',
  check(ctx: RuleContext): Finding[] {
    const f = ctx.facts
    const out: Finding[] = []
    for (const j of scopedJails(ctx)) {
      if (isVnet(j)) continue
      const fams = ['ip4', 'ip6'].filter((p) => text(j.params[p]) === 'inherit')
      if (fams.length === 0) continue
      out.push(finding({
        rule: 'NEST-N01',
        severity: 'medium',
        jail: j.name,
        finding: `${fams.map((p) => `${p}=inherit`).join(' and ')} on a shared-stack jail: "unrestricted access to all system addresses" (jail.8), any host address and what the host binds to loopback`,
        fix: `${fams.includes('ip4') ? 'ip4.addr = "<its own address>";' : ''}${fams.length === 2 ? ' ' : ''}${fams.includes('ip6') ? 'ip6 = "disable"; (or ip6.addr)' : ''} in its jail.conf, then restart it (ip4/ip6 are create-time)`,
        live: 'L3',
        param: fams[0] as string,
        affects: below(f, j.name),
        evidence: [jlsEvidence(f, j, ['vnet', ...fams])],
      }))
    }
    return out
  },
}

/** NEST-N02: a vnet jail: the network-administration bundle comes with it (a choice, reported for review). */
const n02: Rule = {
  id: 'NEST-N02',
  check(ctx: RuleContext): Finding[] {
    const f = ctx.facts
    return scopedJails(ctx)
      .filter((j) => isVnet(j))
      .map((j) =>
        finding({
          rule: 'NEST-N02',
          severity: 'info',
          jail: j.name,
          finding: `vnet: its root holds raw sockets, bpf, pf, ipfw, routing and interface administration with no allow flag (kern_jail.c prison_priv_check); whether it uses its stack is not observable without DTrace${f.host.dtrace ? '' : ' (not used here)'}`,
          fix: 'keep it if the jail routes, filters or needs its own stack; otherwise a shared-stack jail with ip4.addr (restart)',
          live: 'L3',
          param: 'vnet',
          affects: below(f, j.name),
          evidence: [jlsEvidence(f, j, ['vnet'])],
        }),
      )
  },
}

/** A procstat -f socket row's local and peer addresses and their family, when it is an inet one. */
export function socketAddrs(line: string): {local: string; peer: string; family: 'inet' | 'inet6'} | null {
  const w = line.trim().split(/\s+/)
  const peer = w.at(-1) ?? ''
  const local = w.at(-2) ?? ''
  const inet = /^([0-9.]+|\*):([0-9]+|\*)$/
  const inet6 = /^([0-9a-fA-F:]*:[0-9a-fA-F:%.]*|\*)\.([0-9]+|\*)$/
  if (inet.test(local) && inet.test(peer)) return {local, peer, family: 'inet'}
  if (inet6.test(local) && inet6.test(peer) && local.includes(':')) return {local, peer, family: 'inet6'}
  return null
}

/** NEST-N04: an address family the jail may use while every inet socket it holds is of the other. */
const n04: Rule = {
  id: 'NEST-N04',
  check(ctx: RuleContext): Finding[] {
    const f = ctx.facts
    const out: Finding[] = []
    for (const j of scopedJails(ctx)) {
      if (isVnet(j)) continue
      const pids = new Set(f.procs.filter((p) => p.jid === j.jid).map((p) => p.pid))
      const socks = f.sockets.filter((s) => pids.has(s.pid)).map((s) => ({s, a: socketAddrs(s.line)})).filter((x) => x.a !== null)
      if (socks.length === 0) continue // nothing seen of its network use: no judgement
      const has = (fam: 'inet' | 'inet6'): boolean => socks.some((x) => x.a?.family === fam)
      const enabled = (p: 'ip4' | 'ip6'): boolean => text(j.params[p]) === 'inherit' || (text(j.params[p]) === 'new' && text(j.params[`${p}.addr`]) !== '')
      const unused = [...(enabled('ip6') && !has('inet6') ? ['ip6'] : []), ...(enabled('ip4') && !has('inet') ? ['ip4'] : [])]
      for (const p of unused) {
        out.push(finding({
          rule: 'NEST-N04',
          severity: 'low',
          jail: j.name,
          finding: `${p} is ${text(j.params[p])}, yet every inet socket it holds now is ${p === 'ip6' ? 'IPv4' : 'IPv6'} (${socks.length}): an address family it may not need (one look, not a window)`,
          fix: `${p} = "disable"; in its jail.conf if it never uses ${p === 'ip6' ? 'IPv6' : 'IPv4'}, then restart it (create-time)`,
          live: 'L3',
          param: p,
          affects: below(f, j.name),
          evidence: [jlsEvidence(f, j, [p, `${p}.addr`]), {argv: sourceArgv(f, 'procstat', ['procstat', '-f']), lines: socks.map((x) => x.s.line)}],
        }))
      }
    }
    return out
  },
}

/** NEST-N05: host daemons listening on every address, next to jails with addresses of their own. */
const n05: Rule = {
  id: 'NEST-N05',
  check(ctx: RuleContext): Finding[] {
    const f = ctx.facts
    const restricted = scopedJails(ctx).filter((j) => !isVnet(j) && text(j.params['ip4']) !== 'inherit' && text(j.params['ip4.addr']) !== '')
    if (restricted.length === 0) return []
    const hostPids = new Set(f.procs.filter((p) => p.jid === 0).map((p) => p.pid))
    // A listening socket: its local address the wildcard, no peer (addr_to_string prints the
    // unspecified address, 0.0.0.0:0 or ::.0, for an unconnected socket's peer).
    const wildLocal = /^(0\.0\.0\.0|\*):[0-9]+$|^(::|\*)\.[0-9]+$/
    const noPeer = /^(0\.0\.0\.0|\*):(0|\*)$|^(::|\*)\.(0|\*)$/
    const wild = f.sockets.filter((s) => {
      const a = socketAddrs(s.line)
      return hostPids.has(s.pid) && a !== null && wildLocal.test(a.local) && noPeer.test(a.peer)
    })
    if (wild.length === 0) return []
    return [
      finding({
        rule: 'NEST-N05',
        severity: 'low',
        jail: restricted[0]?.name ?? '',
        finding: `host processes listen on every address (${wild.length} socket(s)): they answer traffic sent to the jails' addresses (jail.8, Setting up the Host Environment)`,
        fix: 'bind host services to the host\'s own address',
        live: 'host',
        affects: restricted.slice(1).map((j) => j.name),
        evidence: [{argv: sourceArgv(f, 'procstat', ['procstat', '-f']), lines: wild.map((s) => s.line)}],
      }),
    ]
  },
}

export const NETWORK_RULES: Rule[] = [n01, n02, n04, n05]
