// FreeBSD's nesting rules (semantics §1.4, §2.2–§2.9), checked before anything changes: what a
// child may be given under a given parent. FreeBSD itself would mostly say only
// `jail_set: Operation not permitted`, half way; nest names the parameter, both values and the fix.
import {err, ok, type Result} from 'neverthrow'

import {sameAddress} from '../domain/address.js'
import {type NestError, preflight} from '../domain/errors.js'
import type {Policy} from './policy.js'

export type Params = Record<string, unknown>

export interface Level {
  /** As the user names it (`web/db`). */
  path: string
  /** As the kernel does, from where nest runs (`web.db`). */
  jail: string
  params: Params
  /** Only part of the parameters are known (inside the jail itself): unknown ones are not checked. */
  partial?: boolean
}

export interface NestingInput {
  path: string
  /** The parent (its jls parameters, or inside it what its sysctls say). */
  parent: Level
  /** Every ancestor whose children.max counts, nearest first (the parent included). */
  ancestors: Level[]
  policy: Policy
  /** --children-max: an explicit ask is checked, never adjusted. */
  childrenMax?: number
  ip4: string[]
  ip6: string[]
  /** --vnet: a stack of its own, with an epair the parent creates and moves in. */
  vnet?: boolean
  /** The parent keeps its children's roots in directories (no delegated dataset): no ZFS mounts. */
  inDirectory?: boolean
}

export interface Nesting {
  policy: Policy
  notes: string[]
}

const num = (v: unknown, dflt: number): number => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : Number.NaN
  return Number.isNaN(n) ? dflt : n
}
const truthy = (v: unknown): boolean => v === true || v === 'true' || v === 1 || v === '1'
const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' && v !== '' ? v.split(',') : [])

/** The grants a child needs from its parent just to exist under nest (jail(8) in the parent mounts them). */
function mountsNeeded(policy: Policy, inDirectory: boolean): string[] {
  return ['devfs', ...(inDirectory ? [] : ['zfs']), ...(num(policy.params['children.max'], 0) > 0 ? ['nullfs'] : [])]
}

export function checkNesting(i: NestingInput): Result<Nesting, NestError> {
  const p = i.parent
  const refuse = (what: string, fix: string): Result<Nesting, NestError> => err(preflight(`${i.path}: ${what}`, fix))
  const notes: string[] = []
  const params = {...i.policy.params}

  const pmax = num(p.params['children.max'], 0)
  if (pmax === 0) return refuse(`${p.path} cannot have children (children.max 0)`, `give ${p.path} a parent policy (nest policy show parent), or raise it: jail -m name=${p.jail} children.max=N`)
  for (const a of i.ancestors) {
    const cur = num(a.params['children.cur'], 0)
    const max = num(a.params['children.max'], 0)
    if (cur + 1 > max) {
      return refuse(`${a.path} is full: children.cur ${cur} of children.max ${max} (every jail below ${a.path} counts)`, `raise it by ${cur + 1 - max} (jail -m name=${a.jail} children.max=${cur + 1}, and in its jail.conf), or destroy a jail below it`)
    }
  }
  if (i.childrenMax !== undefined) {
    if (i.childrenMax >= pmax) return refuse(`children.max ${i.childrenMax} is not below ${p.path}'s ${pmax} (a child's must be smaller)`, `--children-max ${pmax - 1} or less`)
    params['children.max'] = String(i.childrenMax)
  } else if (num(params['children.max'], 0) >= pmax) {
    notes.push(`${i.path}: children.max ${pmax - 1} (policy ${i.policy.name} says ${String(params['children.max'])}; below ${p.path} it must be less than ${pmax})`)
    params['children.max'] = String(pmax - 1)
  }

  const pmount = truthy(p.params['allow.mount']) && num(p.params['enforce_statfs'], 2) < 2
  for (const fs of mountsNeeded(i.policy, i.inDirectory === true)) {
    if (!pmount || !truthy(p.params[`allow.mount.${fs}`])) {
      return refuse(`${p.path} cannot mount ${fs} for its children (it needs allow.mount, allow.mount.${fs} and enforce_statfs below 2; it has allow.mount=${truthy(p.params['allow.mount'])}, allow.mount.${fs}=${truthy(p.params[`allow.mount.${fs}`])}, enforce_statfs ${num(p.params['enforce_statfs'], 2)})`, `give ${p.path} a parent policy (nest policy show parent)`)
    }
  }
  for (const [k, v] of Object.entries(params)) {
    if (!k.startsWith('allow.') || v !== true || k === 'allow.unprivileged_proc_debug') continue
    if (p.partial && p.params[k] === undefined) continue
    if (!truthy(p.params[k])) return refuse(`${k} is asked by policy ${i.policy.name} but ${p.path} does not have it (${p.path}: ${k}=false)`, `grant ${k} to ${p.path} first, or use a policy without it`)
  }
  const es = num(params['enforce_statfs'], 2)
  const pes = num(p.params['enforce_statfs'], 2)
  if (es < pes) return refuse(`enforce_statfs ${es} is lower than ${p.path}'s ${pes}`, `use enforce_statfs ${pes} or more in the policy`)
  const pse = num(p.params['securelevel'], -1)
  if (params['securelevel'] !== undefined && num(params['securelevel'], -1) < pse) {
    return refuse(`securelevel ${String(params['securelevel'])} is lower than ${p.path}'s ${pse}`, `use securelevel ${pse} or more in the policy`)
  }
  for (const ipc of ['sysvmsg', 'sysvsem', 'sysvshm']) {
    const v = params[ipc]
    if ((v === 'new' || v === 'inherit') && !p.partial && (p.params[ipc] ?? 'disable') === 'disable') {
      return refuse(`${ipc}=${v} but ${p.path} has ${ipc}=disable`, `use ${ipc}=disable, or give ${p.path} ${ipc}=new first`)
    }
  }
  // Only a jail that owns its vnet may create an interface, move one into a child or add an
  // address to one (sys/kern/kern_jail.c prison_priv_check: PRIV_NET_IFCREATE, PRIV_NET_SETIFVNET,
  // PRIV_NET_ADDIFADDR need PR_VNET). The kernel itself lets any parent create a vnet = new child
  // (kern_jail_set checks nothing of the parent's stack), which would then have only its lo0.
  const ownsStack = p.params['vnet'] === 'new' || p.params['vnet'] === 1 || p.params['vnet'] === '1'
  if (i.vnet && !ownsStack) {
    return refuse(`--vnet needs ${p.path} to own its network stack, and it has vnet=inherit: only such a jail may create an epair and move it into a child (vnet.interface)`, `create ${p.path} with --vnet, or leave --vnet out (then ${i.path} uses ${p.path}'s addresses)`)
  }
  for (const [fam, asked] of [['ip4', i.ip4], ['ip6', i.ip6]] as const) {
    if (asked.length === 0) continue
    const onIf = asked.find((a) => a.includes('|'))
    if (onIf !== undefined && !ownsStack) {
      return refuse(`${fam}.addr ${onIf}: ${p.path} has no network stack of its own (vnet=inherit), so its jail(8) cannot add ${onIf.slice(onIf.indexOf('|') + 1)} to ${onIf.slice(0, onIf.indexOf('|'))}`, `give the address alone, one of ${p.path}'s`)
    }
    const mode = String(p.params[fam] ?? 'inherit')
    const have = list(p.params[`${fam}.addr`])
    if (mode === 'disable') return refuse(`${fam} address ${asked[0]}: ${p.path} has no ${fam} (${fam}=disable)`, `leave --${fam} out`)
    // The kernel compares addresses, not their text, and a prefix is ifconfig's, not the jail's.
    const addr = (a: string): string => a.slice(a.indexOf('|') + 1).split('/')[0] ?? a
    const outside = asked.find((a) => have.length > 0 && !have.some((h) => sameAddress(fam, addr(h), addr(a))))
    if (outside !== undefined) return refuse(`${fam}.addr ${outside} is not one of ${p.path}'s (${have.join(', ')}): FreeBSD gives a child only addresses of a parent without a network stack of its own`, `use addresses of ${p.path}, or leave --${fam} out to inherit them`)
  }
  const rs = num(params['devfs_ruleset'], 0)
  const prs = num(p.params['devfs_ruleset'], 0)
  if (rs !== 0 && rs !== prs) {
    notes.push(`${i.path}: devfs_ruleset ${prs} (policy ${i.policy.name} says ${rs}; inside ${p.path} only ${prs === 0 ? '0' : `0 or ${prs}`} can be used, and the child sees what ${p.path}'s ruleset shows)`)
    params['devfs_ruleset'] = String(prs)
  }
  return ok({policy: {...i.policy, params}, notes})
}

/** What a jail may do, from its own sysctls (inside it, jls does not show the jail itself). */
export function selfLevel(sys: Map<string, string>, path: string): Level {
  const params: Params = {
    'children.max': sys.get('security.jail.children.max'),
    'children.cur': sys.get('security.jail.children.cur'),
    enforce_statfs: sys.get('security.jail.enforce_statfs'),
    devfs_ruleset: sys.get('security.jail.devfs_ruleset'),
    securelevel: sys.get('kern.securelevel'),
    'allow.mount': sys.get('security.jail.mount_allowed') === '1',
    vnet: sys.get('security.jail.vnet') === '1' ? 'new' : 'inherit',
  }
  for (const [k, v] of sys) {
    const m = /^security\.jail\.mount_(\w+)_allowed$/.exec(k)
    if (m) params[`allow.mount.${m[1]}`] = v === '1'
  }
  return {path, jail: path, params, partial: true}
}
