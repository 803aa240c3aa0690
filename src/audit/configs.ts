// The configurations `nest audit` reads (audit-rules.md §1.2 O2): jail.conf texts as the host
// has them (/etc/jail.conf, /etc/jail.conf.d/*.conf, their `.include` targets) and the files of
// children that a parent's own jail(8) starts (inside the parent's root), turned into the
// parameters `jail -f FILE -e '|'` would print: variables expanded, wildcard blocks applied,
// `name` implied by the block name (usr.sbin/jail/config.c load_config, add_param; the grammar
// is src/jailconf, shared with the simulated jail(8)). Pure: the collector reads the files
// (with the host files API, which refuses links) and hands their texts in.
//
// A file jail(8) cannot parse is not fatal to the audit: jail(8) refuses the whole file
// (`jail: FILE line N: ...: syntax error`, jailparse.y yyerror through config.c), so the jails it
// configures have no usable configuration, which is what NEST-R02 reports. Failing the whole
// audit would hide every other jail's findings behind one typo in one file.
//
// Out of scope: the legacy rc.conf `jail_<name>_*` variables (rc.d/jail turns them into a
// temporary jail.conf, /var/run/jail.<name>.conf, only when no jail.conf names the jail); an
// audit of such a host sees those jails as running with no configuration (NEST-R02).
import {err, ok, type Result} from 'neverthrow'

import {parseConfig, resolveConfig, type IncludeReader} from '../jailconf/index.js'
import type {ConfigError, ConfigFacts} from './facts.js'

export type {ConfigError} from './facts.js'

export interface ConfigFile {
  /** The file as the host sees it (global path). */
  path: string
  text: string
  /** The jail whose jail(8) reads this file (null: the host's). */
  startedBy: string | null
  /** The dotted prefix of the names in it: '' on the host, `p` for p's own jail.conf.d. */
  prefix: string
  /**
   * The global path of the root the file's paths are relative to ('' on the host): a child's
   * `path = "/data/jails/a/root"` in p's file is `<p's root>/data/jails/a/root` on the host.
   */
  root?: string
}

export interface ConfigRead {
  configs: ConfigFacts[]
  errors: ConfigError[]
}

/** A nest-written file starts with its header (src/model/layout.ts confHeader). */
const NEST_HEADER = /^# Written by nest for /

/** Parameters whose value is a path below the jail's root's parent: globalised with `root`. */
const PATH_PARAMS = new Set(['path', 'exec.consolelog', 'mount.fstab'])

const joinRoot = (root: string, p: string): string => (root === '' || !p.startsWith('/') ? p : p === '/' ? root : `${root.replace(/\/+$/, '')}${p}`)

/** A message quotes the file's own text (a token jail(8) stopped at): its control characters shown, never printed. */
const oneLine = (s: string): string =>
  [...s].map((c) => (c === '\n' ? '\\n' : c === '\t' ? '\\t' : c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f ? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}` : c)).join('')

/** fnmatch-like glob over the paths given, as glob(3) with no flags would match them. */
function globOver(paths: readonly string[], pattern: string): string[] {
  const re = new RegExp(
    '^' +
      pattern
        .split('')
        .map((c) => (c === '*' ? '[^/]*' : c === '?' ? '[^/]' : /[\\^$.|+(){}[\]]/.test(c) ? `\\${c}` : c))
        .join('') +
      '$',
  )
  return paths.filter((p) => re.test(p)).sort()
}

/**
 * The reader `.include` goes through: the texts the collector read (every file it was given and
 * the extra include targets), nothing else: a target it did not read is `No such file or
 * directory`, as jail(8) would say for a file that is not there.
 */
export function includeReader(texts: Record<string, string>): IncludeReader {
  const paths = Object.keys(texts)
  return {
    read: (path: string): Result<string, string> => {
      const t = texts[path]
      return t === undefined ? err('No such file or directory') : ok(t)
    },
    glob: (pattern: string) => globOver(paths, pattern),
  }
}

/**
 * The `.include` patterns of a text, so the collector knows what else to read (it reads them and
 * calls this again on what it read, to a fixed point). Literal patterns only: jail.conf(5)
 * refuses variables in include names.
 */
export function includesOf(text: string): string[] {
  const out: string[] = []
  for (const m of text.matchAll(/^\s*\.include\s+("([^"]*)"|'([^']*)'|([^\s;]+))\s*;/gm)) {
    const v = m[2] ?? m[3] ?? m[4]
    if (v !== undefined) out.push(v)
  }
  return out
}

/**
 * Every configured jail of the files, by its full dotted name as the host sees it, with its
 * parameters as `jail -e` shows them (params) and as written (raw). `includes` holds the texts
 * of include targets that are not themselves entry files.
 */
export function configsFrom(files: readonly ConfigFile[], includes: Record<string, string> = {}): ConfigRead {
  const texts: Record<string, string> = {...includes}
  for (const f of files) texts[f.path] = f.text
  const reader = includeReader(texts)
  const configs: ConfigFacts[] = []
  const errors: ConfigError[] = []
  for (const f of files) {
    const ast = parseConfig(f.text, f.path, reader)
    if (ast.isErr()) {
      // An error inside an included file that is also read on its own is reported for that file, once.
      const at = ast.error.message.slice(0, ast.error.message.search(/(:| line )/))
      if (at !== f.path && files.some((g) => g.path === at)) continue
      errors.push({file: f.path, message: `${oneLine(ast.error.message)} (jail(8) refuses the whole file: fix it, then \`jail -f ${f.path} -e '|'\` shows what it reads)`, startedBy: f.startedBy, prefix: f.prefix})
      continue
    }
    const nest = NEST_HEADER.test(f.text)
    const root = f.root ?? ''
    for (const j of resolveConfig(ast.value, {raw: true})) {
      const name = f.prefix === '' ? j.name : `${f.prefix}.${j.name}`
      for (const e of j.errors) errors.push({file: f.path, message: oneLine(`${f.path}: ${j.name}: ${e}`), startedBy: f.startedBy, prefix: f.prefix, jail: name})
      const params: Record<string, string[]> = {}
      const raw: Record<string, string[]> = {}
      for (const p of j.params) {
        params[p.name] = PATH_PARAMS.has(p.name) ? p.values.map((v) => joinRoot(root, v)) : [...p.values]
        raw[p.name] = [...(p.raw ?? p.values)]
      }
      params['name'] = [name]
      // The block's own file: an included file's blocks carry the included file's name.
      const block = ast.value.blocks.find((b) => b.name === j.name)
      const file = block?.file ?? f.path
      // /etc/jail.conf's `.include "/etc/jail.conf.d/*.conf"` (the Handbook's layout) reaches files
      // that are read on their own too: one jail from one file is one configuration.
      if (configs.some((c) => c.name === name && c.file === file)) continue
      configs.push({name, file, startedBy: f.startedBy, params, raw, nest})
    }
  }
  return {configs, errors}
}
