// Per-jail parameter resolution, after usr.sbin/jail/config.c load_config and add_param:
// wildcard blocks before a jail give defaults, after it they force values; the block name
// implies `name` (or `jid` when numeric); `$var` / `${var}` expand per jail.
import type {Block, ConfigAst, ParamStmt, Value} from './parser.js'
import {equalOpts} from './params.js'

export interface ResolvedParam {
  name: string
  values: string[]
  /**
   * With `{raw: true}`: the values before variable expansion, a variable written `${name}`
   * (the audit's hook rules read which values jail(8) expands, NEST-X01).
   */
  raw?: string[]
}

export interface ResolvedJail {
  /** The block name: the jail's full dotted name (or a jid). */
  name: string
  params: ResolvedParam[]
  /** jail_warnx texts (without the `jail: <name>: ` prefix); a jail with any is not started. */
  errors: string[]
}

/** config.c wild_jail_name */
export const isWildcard = (name: string): boolean => name.includes('*')

/**
 * config.c wild_jail_match: a non-final `*` component matches one jail component,
 * a final `*` matches one or more.
 */
export function wildcardMatches(jname: string, wname: string): boolean {
  let jc = jname
  let wc = wname
  for (;;) {
    const jd = jc.indexOf('.')
    const wd = wc.indexOf('.')
    if (jd < 0 || wd < 0) break
    if (!wc.startsWith('*.') && wc.slice(0, wd + 1) !== jc.slice(0, wd + 1)) return false
    jc = jc.slice(jd + 1)
    wc = wc.slice(wd + 1)
  }
  return jc === wc || wc === '*'
}

interface Working {
  name: string
  isVar: boolean
  values: Value[]
  immutable: boolean
}

function addParam(list: Working[], stmt: ParamStmt, errors: string[]): void {
  const found = list.find((w) => equalOpts(w.name, stmt.name))
  if (!found) {
    list.push({name: stmt.name, isVar: stmt.isVar, values: stmt.values.map((v) => [...v]), immutable: false})
    return
  }
  if (found.isVar !== stmt.isVar) {
    errors.push(`variable "$${stmt.name}" cannot have the same name as a parameter.`)
    return
  }
  if (found.immutable) {
    errors.push(`cannot redefine parameter "${found.name}".`)
    return
  }
  found.name = stmt.name
  const copies = stmt.values.map((v) => [...v])
  found.values = stmt.append && copies.length > 0 ? [...found.values, ...copies] : copies
}

type Expanded = {ok: true; values: string[]} | {ok: false}

function expandParams(list: Working[], errors: string[]): Map<Working, string[]> {
  const done = new Map<Working, string[]>()
  const bad = new Set<Working>()
  const visiting = new Set<Working>()

  const expand = (w: Working): Expanded => {
    const known = done.get(w)
    if (known) return {ok: true, values: known}
    if (bad.has(w)) return {ok: false}
    visiting.add(w)
    const out: string[] = []
    for (const value of w.values) {
      const vars = value.filter((p) => p.kind === 'var')
      let acc: string[] = ['']
      for (const piece of value) {
        if (piece.kind === 'lit') {
          acc = acc.map((a) => a + piece.text)
          continue
        }
        const target = list.find((x) => x.name === piece.name)
        if (!target || target.values.length === 0) {
          errors.push(`${w.name}: variable "${piece.name}" not found`)
          return fail(w)
        }
        if (visiting.has(target)) {
          errors.push(`${piece.name}: variable loop`)
          return fail(w)
        }
        const sub = expand(target)
        if (!sub.ok) return fail(w)
        if (sub.values.length > 1) {
          const inline = value.some((p) => p.kind === 'lit' && p.text !== '') || vars.length > 1
          if (inline) {
            errors.push(`${w.name}: array cannot be substituted inline`)
            return fail(w)
          }
          acc = [...sub.values]
          continue
        }
        acc = acc.map((a) => a + (sub.values[0] ?? ''))
      }
      out.push(...acc)
    }
    visiting.delete(w)
    done.set(w, out)
    return {ok: true, values: out}
  }
  const fail = (w: Working): Expanded => {
    visiting.delete(w)
    bad.add(w)
    return {ok: false}
  }
  for (const w of list) expand(w)
  return done
}

const rawText = (v: Value): string => v.map((p) => (p.kind === 'lit' ? p.text : `\${${p.name}}`)).join('')

/** Resolve every configured (non-wildcard) jail of a parsed configuration, in file order. */
export function resolveConfig(ast: ConfigAst, opts: {raw?: boolean} = {}): ResolvedJail[] {
  const wild = ast.blocks.map((b, seq) => ({b, seq})).filter(({b}) => isWildcard(b.name))
  const jails: ResolvedJail[] = []
  ast.blocks.forEach((block: Block, seq: number) => {
    if (isWildcard(block.name)) return
    const errors: string[] = []
    const list: Working[] = []
    const numeric = /^[0-9]+$/.test(block.name) && Number(block.name) !== 0
    list.push({name: numeric ? 'jid' : 'name', isVar: false, values: [[{kind: 'lit', text: block.name}]], immutable: true})
    let didSelf = false
    const addOwn = (): void => {
      for (const p of block.params) addParam(list, p, errors)
      didSelf = true
    }
    for (const w of wild) {
      if (seq < w.seq && !didSelf) addOwn()
      if (wildcardMatches(block.name, w.b.name)) for (const p of w.b.params) addParam(list, p, errors)
    }
    if (!didSelf) addOwn()
    const expanded = expandParams(list, errors)
    const params = list
      .filter((w) => !w.isVar && expanded.has(w))
      .map((w) => (opts.raw ? {name: w.name, values: expanded.get(w) ?? [], raw: w.values.map(rawText)} : {name: w.name, values: expanded.get(w) ?? []}))
    jails.push({name: block.name, params, errors})
  })
  return jails
}

/** The last value of a parameter (jail(8)'s string_param), if it is set. */
export function lastValue(jail: ResolvedJail, name: string): string | undefined {
  return jail.params.find((p) => p.name === name)?.values.at(-1)
}

export function paramValues(jail: ResolvedJail, name: string): string[] | undefined {
  return jail.params.find((p) => p.name === name)?.values
}
