// The one name grammar of nest (checked before anything runs). A jail path is `web` or
// `web/db/cache`; the kernel's name is the dotted form `web.db.cache` (jail(8) "Hierarchical
// Jails"). Each level: letters, digits, `_` and `-`; not all digits (jail(8) would take a
// number as a jid); no leading `-` (it would read as an option); at most 63 characters (a
// hostname label, since nest uses the name as host.hostname).
import {err, ok, type Result} from 'neverthrow'

import {invalidInput, type NestError} from './errors.js'

export const NAME_MAX = 63
/** Levels below the host: deep enough for any real tree, small enough for dataset names. */
export const DEPTH_MAX = 8

export interface JailPath {
  /** `web/db`: what users type and nest prints. */
  path: string
  /** `web.db`: the kernel's name for it. */
  jail: string
  levels: string[]
}

const LEVEL = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/

const FIX = 'use letters, digits, "_" and "-" (not only digits, no leading "-", at most 63 characters), and "/" between levels'

function shown(s: string): string {
  const j = JSON.stringify(s)
  return j.length > 40 ? `${j.slice(0, 37)}..."` : j
}

/** Why one level is not a name, or undefined when it is one. */
function levelProblem(level: string): string | undefined {
  if (level === '') return 'an empty name'
  if (level.length > NAME_MAX) return `longer than ${NAME_MAX} characters`
  if (level.startsWith('-')) return 'starts with "-"'
  if (!LEVEL.test(level)) {
    const bad = [...level].find((c) => !/[A-Za-z0-9_-]/.test(c)) ?? ''
    return `contains ${shown(bad)}`
  }
  if (/^[0-9]+$/.test(level)) return 'only digits (jail(8) would read it as a jid)'
  return undefined
}

/** Is this one level of a jail path (a directory under /nest/jails that nest may have made)? */
export const isJailName = (level: string): boolean => levelProblem(level) === undefined

export function parseJailPath(input: string): Result<JailPath, NestError> {
  const levels = input.split('/')
  if (levels.length > DEPTH_MAX) return err(invalidInput(`invalid jail name ${shown(input)}: more than ${DEPTH_MAX} levels`, FIX))
  for (const l of levels) {
    const p = levelProblem(l)
    if (p) return err(invalidInput(`invalid jail name ${shown(input)}: ${p}`, FIX))
  }
  return ok({path: levels.join('/'), jail: levels.join('.'), levels})
}

/** A release name as FreeBSD spells them: 14.3-RELEASE, 15.0-BETA2, 14.2-RELEASE-p1. */
export function parseRelease(input: string): Result<string, NestError> {
  return /^[0-9]{1,2}\.[0-9]-(RELEASE|STABLE|CURRENT|BETA[0-9]|RC[0-9])(-p[0-9]{1,2})?$/.test(input)
    ? ok(input)
    : err(invalidInput(`invalid release ${shown(input)}`, 'give a FreeBSD release such as 14.3-RELEASE'))
}

/** The kernel name → nest's path. */
export const pathOfJail = (jail: string): string => jail.split('.').join('/')
