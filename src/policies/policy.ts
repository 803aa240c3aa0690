// Policies: files of jail parameters (jail.conf's own names and syntax) plus nest settings,
// for a role. Presets ship in policies/; a user file of the same name in
// /usr/local/etc/nest/policies/ wins. Every file is checked by the same rules.
import {err, ok, type Result} from 'neverthrow'

import {invalidInput, type NestError} from '../domain/errors.js'
import {INTERNAL_PARAMS, isBoolParam, KERNEL_PARAMS, parseConfig, quoteValue, splitNo, type ParamStmt} from '../jailconf/index.js'

export type PolicyValue = string | boolean

export interface Policy {
  name: string
  /** Where it was read from (host path for user policies, installation path for presets). */
  file: string
  origin: 'preset' | 'user' | 'file'
  description: string
  /** Create <jail>/data with jailed=on and attach it to the jail (`zfs jail`). */
  delegate: boolean
  /** Raise securelevel to this once the jail has booted (exec.poststart). */
  raiseSecurelevel: number | null
  /** Jail parameters, jail.conf names, booleans normalized (`allow.nomount` → allow.mount=false). */
  params: Record<string, PolicyValue>
  /**
   * `nest.needs`: grants the operator declares needed although nest may not see them used (a
   * ping once a week, a tmpfs a job mounts at night): `nest audit` keeps them as needed and
   * `nest tighten` never removes them (audit-rules.md §1.1 (c)). Absent: none declared.
   */
  needs?: string[]
}

/** What a policy may set: what a jail is granted, never what is per jail (path, name, addresses). */
const GRANTS = new Set([
  'children.max', 'enforce_statfs', 'securelevel', 'devfs_ruleset', 'sysvmsg', 'sysvsem', 'sysvshm', 'persist',
  ...[...KERNEL_PARAMS.keys()].filter((n) => n.startsWith('allow.')),
])
const SETTINGS = new Set(['nest.description', 'nest.delegate', 'nest.raise_securelevel', 'nest.needs'])
const JAILSYS = new Set(['new', 'inherit', 'disable'])
const RANGES: Record<string, [number, number]> = {
  'children.max': [0, 999_999],
  enforce_statfs: [0, 2],
  securelevel: [-1, 3],
  devfs_ruleset: [0, 65_535],
  'nest.raise_securelevel': [-1, 3],
}

export const POLICY_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/

const literal = (s: ParamStmt): string[] | undefined => {
  const out: string[] = []
  for (const v of s.values) {
    if (!v.every((p) => p.kind === 'lit')) return undefined
    out.push(v.map((p) => (p.kind === 'lit' ? p.text : '')).join(''))
  }
  return out
}

function parseBool(v: string): boolean | undefined {
  const l = v.toLowerCase()
  if (l === 'true' || l === '1') return true
  if (l === 'false' || l === '0') return false
  return undefined
}

/** Parse and check one policy file. Errors name the file, the line and the key. */
export function parsePolicy(name: string, file: string, text: string, origin: Policy['origin']): Result<Policy, NestError> {
  const bad = (line: number | null, msg: string, fix?: string): Result<Policy, NestError> =>
    err(invalidInput(`policy ${file}${line === null ? '' : ` line ${line}`}: ${msg}`, fix ?? 'see nest policy show parent for a valid policy'))
  const ast = parseConfig(text, file)
  if (ast.isErr()) return err(invalidInput(`policy ${ast.error.message}`, 'fix the syntax: name = value; one per line, as in jail.conf'))
  const params: Record<string, PolicyValue> = {}
  let description = ''
  let delegate = false
  let raise: number | null = null
  let needs: string[] | undefined
  for (const block of ast.value.blocks) {
    if (block.name !== '*') return bad(block.line, `"${block.name} { ... }": a policy holds parameters only, not jail blocks`)
    for (const s of block.params) {
      if (s.isVar) return bad(s.line, `$${s.name}: variables are not allowed in a policy`)
      if (s.append) return bad(s.line, `${s.name}: "+=" is not allowed in a policy`)
      const values = literal(s)
      if (!values) return bad(s.line, `${s.name}: variables are not allowed in a policy`)
      const {base, negated} = splitNo(s.name)
      if (!GRANTS.has(base) && !SETTINGS.has(base)) {
        const why = KERNEL_PARAMS.has(base) ? 'is set per jail, not by a policy' : INTERNAL_PARAMS.has(base) ? 'is a jail(8) setting nest writes itself, not a policy\'s' : s.name.startsWith('nest.') ? `is not a nest setting (${[...SETTINGS].join(', ')})` : 'is not a jail parameter FreeBSD 14.3 knows'
        return bad(s.line, `${s.name} ${why}`)
      }
      if (values.length > 1) return bad(s.line, `${s.name}: takes one value, not a list`)
      const raw = values[0]
      if (base === 'nest.description') {
        if (raw === undefined || raw.trim() === '') return bad(s.line, 'nest.description: needs a text')
        description = raw
        continue
      }
      if (base === 'nest.needs') {
        const names = (raw ?? '').split(/[\s,]+/).filter((n) => n !== '')
        const wrong = names.find((n) => !GRANTS.has(n) || n === 'persist')
        if (wrong !== undefined) return bad(s.line, `nest.needs: ${JSON.stringify(wrong)} is not a grant a policy sets`, 'list jail parameters such as allow.raw_sockets allow.mount.tmpfs, separated by blanks')
        needs = [...new Set(names)]
        continue
      }
      if (isBoolParam(base) || base === 'nest.delegate') {
        let v = true
        if (raw !== undefined) {
          const b = parseBool(raw)
          if (b === undefined) return bad(s.line, `${s.name}: unknown boolean value "${raw}"`, 'use true or false')
          v = b
        }
        if (negated) v = !v
        // nest's jails outlive their processes (a jail stopped by nest, its children, its dataset):
        // without persist, jail(8) removes a jail whose exec.start left no process.
        if (base === 'persist' && !v) return bad(s.line, `${s.name}: nest's jails are persistent, a policy cannot turn persist off`, 'remove the line: nest writes persist for every jail')
        if (base === 'nest.delegate') delegate = v
        else params[base] = v
        continue
      }
      if (raw === undefined) return bad(s.line, `${s.name}: needs a value`)
      const range = RANGES[base]
      if (range) {
        if (!/^-?[0-9]+$/.test(raw)) return bad(s.line, `${s.name}: non-integer value "${raw}"`)
        const n = Number(raw)
        if (n < range[0] || n > range[1]) return bad(s.line, `${s.name} = ${raw} is out of range ${range[0]}..${range[1]}`)
        if (base === 'nest.raise_securelevel') raise = n
        else params[base] = raw
        continue
      }
      if (!JAILSYS.has(raw)) return bad(s.line, `${s.name}: unknown value "${raw}"`, 'use new, inherit or disable')
      params[base] = raw
    }
  }
  if (description === '') return bad(null, 'no nest.description: say in one paragraph when to use this policy')
  return ok({name, file, origin, description, delegate, raiseSecurelevel: raise, params, ...(needs === undefined ? {} : {needs})})
}

const num = (p: Policy, k: string, dflt: number): number => (typeof p.params[k] === 'string' ? Number(p.params[k]) : dflt)

/**
 * Rules FreeBSD would otherwise enforce half way (kern_jail.c, vfs_mount.c, zfs_vfsops.c):
 * each problem names the parameter and the fix. Pure: the host's part comes in `hostAllow`.
 */
export function policyProblems(p: Policy, hostAllow?: ReadonlySet<string>): string[] {
  const out: string[] = []
  const enforce = num(p, 'enforce_statfs', 2)
  const mounts = Object.entries(p.params).filter(([k, v]) => k.startsWith('allow.mount.') && v === true).map(([k]) => k)
  if (mounts.length > 0 && p.params['allow.mount'] !== true) {
    out.push(`${mounts[0]} needs allow.mount: add "allow.mount;"`)
  }
  if ((mounts.length > 0 || p.params['allow.mount'] === true) && enforce >= 2) {
    // prison_priv_check: PRIV_VFS_MOUNT is refused to a jail with enforce_statfs 2.
    out.push(`${mounts[0] ?? 'allow.mount'} cannot be used with enforce_statfs = ${enforce}: a jail mounts only with enforce_statfs < 2 (set enforce_statfs = 1)`)
  }
  if (p.delegate) {
    for (const need of ['allow.mount', 'allow.mount.zfs']) {
      if (p.params[need] !== true) out.push(`nest.delegate needs ${need}: the jail mounts its delegated dataset itself (add "${need};")`)
    }
    // zfs inside the jail also needs /dev/zfs: whether the policy's devfs ruleset shows it
    // depends on the host's rulesets, decided by devfsProblem (policies/devfs.ts) once read.
  }
  if (p.raiseSecurelevel !== null && p.raiseSecurelevel < num(p, 'securelevel', -1)) {
    out.push(`nest.raise_securelevel = ${p.raiseSecurelevel} is below securelevel = ${num(p, 'securelevel', -1)}: a securelevel can only be raised`)
  }
  if (hostAllow) {
    for (const [k, v] of Object.entries(p.params)) {
      if (k.startsWith('allow.') && v === true && !hostAllow.has(k)) {
        const fs = k.startsWith('allow.mount.') ? k.slice('allow.mount.'.length) : ''
        out.push(`${k}: this host cannot grant it (security.jail.param.${k} is missing${fs ? `; load the module: kldload ${fs}` : ''})`)
      }
    }
  }
  return out
}

/**
 * A policy as a file again (what parsePolicy reads back to the same values): how a child
 * manager gets exactly the grants its parent's nest checked, user policies included.
 */
export function printPolicy(p: Policy): Result<string, NestError> {
  const lines: string[] = []
  const put = (name: string, v: PolicyValue): Result<void, NestError> => {
    if (typeof v === 'boolean') {
      if (v) lines.push(`${name};`)
      else {
        const dot = name.lastIndexOf('.')
        lines.push(name.startsWith('nest.') ? `${name} = false;` : `${name.slice(0, dot + 1)}no${name.slice(dot + 1)};`)
      }
      return ok(undefined)
    }
    const q = quoteValue(v)
    if (q.isErr()) return err(invalidInput(`policy ${p.name}: ${name}: ${q.error}`))
    lines.push(`${name} = ${q.value};`)
    return ok(undefined)
  }
  const all: Array<[string, PolicyValue]> = [
    ...(p.description ? [['nest.description', p.description] as [string, PolicyValue]] : []),
    ['nest.delegate', p.delegate],
    ...(p.raiseSecurelevel === null ? [] : [['nest.raise_securelevel', String(p.raiseSecurelevel)] as [string, PolicyValue]]),
    ...(p.needs === undefined ? [] : [['nest.needs', p.needs.join(' ')] as [string, PolicyValue]]),
    ...Object.entries(p.params),
  ]
  for (const [k, v] of all) {
    const r = put(k, v)
    if (r.isErr()) return err(r.error)
  }
  return ok(`${lines.join('\n')}\n`)
}
