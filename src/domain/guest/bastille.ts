// The guest's own Bastille (migration.md §4.2 last row, §4.3): its configuration and the files
// of its jails that must change or move to the host. Sources: BastilleBSD/bastille
// (bastille.conf.sample 01553ba; limits.sh, start.sh 040f806; create.sh 548ab2e).
import {err, ok, type Result} from 'neverthrow'

import {invalidInput, type NestError} from '../errors.js'
import {rcEdit, rcProblem, type RcSet} from '../rcconf.js'
import {rcAssignments} from '../vmbhyve.js'

import {guestText, type GuestEdit, type GuestNote} from './text.js'

export const BASTILLE_CONF = '/usr/local/etc/bastille/bastille.conf'

export interface AdaptedBastilleConf {
  text: string
  edits: GuestEdit[]
  notes: GuestNote[]
}

/**
 * bastille.conf with the ZFS pool and prefix the jail sees: dataset names are global, so inside
 * the jail Bastille must name the host's datasets (`${bastille_zfs_zpool}/${bastille_zfs_prefix}`,
 * bootstrap.sh). bastille.conf is sh sourced by Bastille, edited here as sysrc -f would (the
 * assignment replaced, what follows it on the line kept); bastille_prefix stays (paths are
 * inside the jail).
 */
export function adaptBastilleConf(data: Uint8Array | string, opts: {pool: string; prefix: string}): Result<AdaptedBastilleConf, NestError> {
  return guestText(data, BASTILLE_CONF).andThen((text) => {
    const vars = rcAssignments(text)
    const set: RcSet = [['bastille_zfs_zpool', opts.pool], ['bastille_zfs_prefix', opts.prefix]]
    for (const [k, v] of set) {
      const p = rcProblem(k, v)
      if (p) return err(invalidInput(`cannot edit the guest's bastille.conf: ${p}`))
    }
    const edits: GuestEdit[] = []
    for (const [key, to] of set) {
      const had = vars.get(key)
      const from = had === undefined ? undefined : had.value ?? had.line
      if (from === to) continue
      edits.push({file: BASTILLE_CONF, key, action: had === undefined ? 'add' : 'set', ...(from === undefined ? {} : {from}), to: to as string, why: `Bastille names its datasets \${bastille_zfs_zpool}/\${bastille_zfs_prefix}/... (bootstrap.sh); dataset names are global, so in the jail they are the host's (${opts.pool}/${opts.prefix})`})
    }
    const notes: GuestNote[] = []
    if (!/^(yes|true|on|1)$/i.test(vars.get('bastille_zfs_enable')?.value ?? '')) {
      notes.push({level: 'note', file: BASTILLE_CONF, key: 'bastille_zfs_enable', text: 'bastille_zfs_enable is not YES: this Bastille does not use ZFS, and the pool and prefix set are unused'})
    }
    const kept = set.filter(([k, v]) => edits.some((e) => e.key === k) && v !== null)
    return ok({text: rcEdit(text, kept), edits, notes})
  })
}

export interface HostRctl {
  /** Host rctl(8) rules for the nested child, one a line of /etc/rctl.conf. */
  rules: string[]
  notes: GuestNote[]
}

// rctl(8) rule: subject:subject-id:resource:action[=amount[/per]].
const RULE = /^jail:([^:\s]+):([a-z]+):([a-z]+)=([0-9]+[kmgtpeKMGTPE]?)(?:\/([a-z]+))?$/

/**
 * A Bastille child's rctl.conf as host rules. Bastille writes `jail:NAME:RES:deny=V/jail` and
 * `jail:NAME:RES:log=V/jail` (limits.sh) and start.sh runs `rctl -a` on each line; rctl is the
 * host's only, and a nested jail is named there by its full dotted name (PARENT.CHILD).
 */
export function bastilleRctl(data: Uint8Array | string, opts: {parent: string; child: string; file?: string}): Result<HostRctl, NestError> {
  const file = opts.file ?? `rctl.conf of Bastille jail ${opts.child}`
  return guestText(data, file).map((text) => {
    const rules: string[] = []
    const notes: GuestNote[] = []
    for (const raw of text.split('\n')) {
      // rc.d/rctl and start.sh read the first word of a line; a # line is a comment.
      const line = raw.trim()
      if (line === '' || line.startsWith('#')) continue
      const m = RULE.exec(line)
      if (!m || m[1] !== opts.child) {
        notes.push({level: 'warning', file, key: line.slice(0, 60), text: m ? `a rule for jail ${m[1] as string}, not ${opts.child}: not carried over` : `not a jail rctl rule nest can carry over: ${line.slice(0, 60)}`})
        continue
      }
      rules.push(`jail:${opts.parent}.${opts.child}:${m[2] as string}:${m[3] as string}=${m[4] as string}${m[5] === undefined ? '' : `/${m[5]}`}`)
    }
    return {rules, notes}
  })
}

/**
 * A Bastille child's zfs.conf (`DATASET MOUNTPOINT` lines, zfs.sh) cannot work nested: Bastille's
 * start.sh runs `zfs set jailed=off/on` and the jail is given the dataset with `zfs jail`, which
 * only the host may do (PRIV_ZFS_JAIL). One warning per dataset.
 */
export function bastilleZfsConf(data: Uint8Array | string, child: string): Result<GuestNote[], NestError> {
  const file = `zfs.conf of Bastille jail ${child}`
  return guestText(data, file).map((text) => text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')).map((l): GuestNote => ({
    level: 'warning',
    file,
    key: l.split(/\s+/)[0] as string,
    text: `Bastille jail ${child} is given dataset ${l.split(/\s+/)[0] as string} with zfs jail, which is not supported nested: a jail cannot zfs jail to its own children (PRIV_ZFS_JAIL), and Bastille's start runs zfs set jailed=off/on, host-only`,
  })))
}
