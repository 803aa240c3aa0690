// devfs(8): the rulesets the host's kernel holds, as `devfs rule -s N show` prints them
// (sbin/devfs/rule.c rulespec_outfp), and vfs.devfs.rule_depth, which bounds how deep a
// mount's ruleset follows its includes (sys/fs/devfs/devfs_rule.c devfs_rule_run).
//
// nest reads the kernel, not /etc/devfs.rules: a devfs mount applies what the kernel holds
// (devfs_ruleset_apply), which is what rc.d/devfs loaded at boot or at the last
// `service devfs restart`, or what another tool added since (iocage and others write rulesets
// with `devfs rule add` directly). A file edited but not loaded applies to no jail.
import {err, ok, okAsync, type Result, ResultAsync} from 'neverthrow'

import type {HostError} from '../exec.js'
import type {Host} from '../host.js'
import {parsed} from './common.js'
import {readSysctls} from './sysctl.js'

/** One rule as rulespec_outfp prints it: `%d`, ` type T`..., ` path P`, ` hide`, ` unhide`, ... */
export interface DevfsRuleRow {
  num: number
  types: string[]
  path: string | null
  hide: boolean
  unhide: boolean
  include: number | null
}

/** The rulesets read, by number, and the include depth the kernel applies them with. */
export interface DevfsRulesets {
  depth: number
  sets: Map<number, DevfsRuleRow[]>
}

/** sys/fs/devfs/devfs_devs.c: `unsigned devfs_rule_depth = 1`. */
export const DEFAULT_RULE_DEPTH = 1

/** The words rulespec_outfp prints after a path pattern (a pattern holding a blank is refused). */
const AFTER_PATH = new Set(['hide', 'unhide', 'user', 'group', 'mode', 'include'])

/** `devfs rule -s N show`: one rule a line, in rule order; nothing for an empty or absent ruleset. */
export function parseDevfsShow(text: string): Result<DevfsRuleRow[], string> {
  const rows: DevfsRuleRow[] = []
  for (const line of text.split('\n')) {
    if (line === '') continue
    const w = line.split(' ')
    const num = Number(w[0])
    if (!/^\d+$/.test(w[0] ?? '')) return err(`no rule number in ${JSON.stringify(line)}`)
    const row: DevfsRuleRow = {num, types: [], path: null, hide: false, unhide: false, include: null}
    for (let i = 1; i < w.length; i++) {
      const x = w[i]
      const arg = w[i + 1]
      if (x === 'hide') row.hide = true
      else if (x === 'unhide') row.unhide = true
      else if ((x === 'type' || x === 'path' || x === 'user' || x === 'group' || x === 'mode' || x === 'include') && arg !== undefined && arg !== '') {
        i++
        if (x === 'type') row.types.push(arg)
        else if (x === 'path') {
          const next = w[i + 1]
          if (next !== undefined && !AFTER_PATH.has(next)) return err(`a path pattern nest cannot delimit in ${JSON.stringify(line)}`)
          row.path = arg
        } else if (x === 'include') {
          if (!/^\d+$/.test(arg)) return err(`include of ${JSON.stringify(arg)} in ${JSON.stringify(line)}`)
          row.include = Number(arg)
        }
      } else return err(`${JSON.stringify(x)} in ${JSON.stringify(line)}`)
    }
    rows.push(row)
  }
  return ok(rows)
}

/** `devfs rule -s N show`, parsed. Host-side only: in a jail every rule ioctl is EPERM. */
export function showDevfsRuleset(host: Host, n: number): ResultAsync<DevfsRuleRow[], HostError> {
  return host.run(['devfs', 'rule', '-s', String(n), 'show']).andThen((r) => parsed(r, parseDevfsShow(r.stdout)))
}

/**
 * Ruleset `first` and the include depth (`sysctl -q vfs.devfs.rule_depth`), in parallel; then,
 * while `more` names rulesets not read yet, those, in parallel. `more` decides which included
 * rulesets matter (policies/devfs.ts devfsNeeds), so most rulesets need one round.
 */
export function readDevfsRulesets(host: Host, first: number, more: (r: DevfsRulesets) => number[]): ResultAsync<DevfsRulesets, HostError> {
  return ResultAsync.combine([readSysctls(host, ['vfs.devfs.rule_depth']), showDevfsRuleset(host, first)]).andThen(([sys, rows]) => {
    const raw = Number(sys.get('vfs.devfs.rule_depth'))
    const r: DevfsRulesets = {depth: Number.isInteger(raw) && raw >= 0 ? raw : DEFAULT_RULE_DEPTH, sets: new Map([[first, rows]])}
    const round = (): ResultAsync<DevfsRulesets, HostError> => {
      const next = more(r).filter((n) => !r.sets.has(n))
      if (next.length === 0) return okAsync(r)
      return ResultAsync.combine(next.map((n) => showDevfsRuleset(host, n).map((rs) => r.sets.set(n, rs)))).andThen(round)
    }
    return round()
  })
}

/**
 * `devfs -m ON rule show`: the rules of the ruleset bound to the devfs mounted on ON (its
 * dm_ruleset: devfs_rid_input takes ruleset 0 from the userland as the mount's own), as the
 * kernel holds them now (a mount applied them when it was made or at its last applyset). The
 * lines as printed, for evidence; parseDevfsShow reads them.
 */
export function showMountRules(host: Host, on: string): ResultAsync<string[], HostError> {
  return host.run(['devfs', '-m', on, 'rule', 'show']).andThen((r) => parsed(r, parseDevfsShow(r.stdout).map(() => r.stdout.split('\n').filter((l) => l !== ''))))
}
