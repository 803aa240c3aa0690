// A Bastille child's jail.conf inside a migrated guest, adapted to run nested (migration.md
// §4.3). Read with nest's jail.conf grammar (src/jailconf, which src/domain may not import);
// edited in the text, on the line the parser reports, so that formatting and comments stay.
import {err, ok, type Result} from 'neverthrow'

import {invalidInput, type NestError} from '../domain/errors.js'
import {guestText, type GuestEdit, type GuestNote} from '../domain/guest.js'
import {parseConfig, type ParamStmt, type Value} from '../jailconf/index.js'

export interface AdaptBastilleJailOptions {
  /** The devfs ruleset the parent jail runs with (its own number is allowed to the children). */
  parentRuleset: number
  /** The interfaces the parent jail will have (its renamed epairs, lo0, the clones its rc.conf makes). */
  interfaces: readonly string[]
  /** The path to name in edits and notes. */
  file: string
}

export interface AdaptedBastilleJail {
  text: string
  edits: GuestEdit[]
  notes: GuestNote[]
}

const text = (v: Value): string => v.map((p) => (p.kind === 'lit' ? p.text : `\${${p.name}}`)).join('')

/** The interfaces a Bastille exec.* command names: `jib addm NAME IF...`, `ifconfig IF addm ...`. */
export function commandInterfaces(cmd: string): string[] {
  const w = cmd.trim().split(/\s+/)
  if (w[0] === 'jib' && w[1] === 'addm') return w.slice(3)
  if (w[0] === 'ifconfig' && w[2] === 'addm' && w[1] !== undefined) return [w[1]]
  return []
}

/**
 * devfs_ruleset set to 0 (inherit the parent's), even when it names the parent's own number:
 * inside a jail a different non-zero ruleset makes mount.devfs fail with "mount: .: Operation not permitted"
 * (freebsd-semantics.md §2.5; Bastille's create.sh writes 0 itself when security.jail.jailed is
 * 1, not when the jail was made in the VM). Interfaces the parent will not have are reported:
 * Bastille writes the guest's NIC name literally (`jib addm bastille0 vtnet0`, create.sh).
 */
export function adaptBastilleJailConf(data: Uint8Array | string, opts: AdaptBastilleJailOptions): Result<AdaptedBastilleJail, NestError> {
  return guestText(data, opts.file).andThen((conf) => {
    const ast = parseConfig(conf, opts.file)
    if (ast.isErr()) return err(invalidInput(`the guest's ${opts.file} is not a jail.conf nest can read: ${ast.error.message}`, 'fix it in the guest copy, or recreate that Bastille jail after the migration'))
    const lines = conf.split('\n')
    const edits: GuestEdit[] = []
    const notes: GuestNote[] = []
    const params: Array<{jail: string; p: ParamStmt}> = ast.value.blocks.flatMap((b) => b.params.map((p) => ({jail: b.name, p})))
    for (const {jail, p} of params) {
      const values = p.values.map(text)
      if (p.name === 'devfs_ruleset' && !p.isVar) {
        const v = values[0] ?? ''
        // The parent's own number works too, until the parent's ruleset changes (nest tighten): 0 follows it.
        if (!/^[0-9]+$/.test(v) || Number(v) === 0) continue
        const i = p.line - 1
        const edited = (lines[i] ?? '').replace(new RegExp(`(\\bdevfs_ruleset\\s*=\\s*)(["']?)${v}\\2`), '$10')
        if (edited === lines[i]) {
          notes.push({level: 'warning', file: opts.file, key: 'devfs_ruleset', text: `${jail}: devfs_ruleset = ${v} is not written on one line nest can edit: set it to 0 yourself`})
          continue
        }
        lines[i] = edited
        edits.push({file: opts.file, key: `${jail}.devfs_ruleset`, action: 'set', from: v, to: '0', why: Number(v) === opts.parentRuleset
          ? `0 inherits the parent's ruleset (${opts.parentRuleset}, the one written here), and keeps inheriting it if the parent's changes`
          : `inside the parent jail a devfs ruleset other than the parent's (${opts.parentRuleset}) is refused and mount.devfs fails ("mount: .: Operation not permitted"); 0 inherits the parent's`})
      }
      const named = p.name === 'interface' ? values : p.name.startsWith('exec.') ? values.flatMap(commandInterfaces) : []
      for (const ifname of named.filter((n) => !opts.interfaces.includes(n))) {
        notes.push({level: 'warning', file: opts.file, key: `${jail}.${p.name}`, text: `${jail}: ${p.name} names interface ${ifname}, which the parent jail will not have (it has ${opts.interfaces.join(', ')}): rename the parent's epair to ${ifname}, or change that line`})
      }
    }
    return ok({text: lines.join('\n'), edits, notes})
  })
}
