// How /etc/rc.d/devfs loads devfs.rules(5) files into the kernel: libexec/rc/rc.subr
// devfs_init_rulesets and devfs_rulesets_from_file, run line by line as sh(1) runs them.
//
//   { while read line; do
//       case $line in
//       \#*) continue ;;
//       \[*\]*) rulenum=`expr "$line" : "\[.*=\([0-9]*\)\]"`         (empty: warn, _err=1, break)
//               rulename=`expr "$line" : "\[\(.*\)=[0-9]*\]"`        (empty: warn, _err=1, break)
//               eval $rulename=\$rulenum
//               /sbin/devfs rule -s $rulenum delset                   (fails: _err=1, break) ;;
//       *)      rulecmd="${line%%"\#*"}"
//               [ -n "$rulecmd" ] && eval /sbin/devfs rule -s $rulenum $rulecmd  (fails: break)
//       esac
//     done } < $file            (with `set -f`: no pathname expansion of the patterns)
//
// The pure part lives here; the devfs commands it runs and the files it reads come from the
// caller (the service tool, and sim init through bootRulesets).
import {type DevfsResult, devfsRule} from './kernel/devfs.js'
import {DEFAULT_DEVFS_RULES} from './kernel/devfs-rules-default.js'
import type {Kernel} from './kernel/state.js'

/** /etc/defaults/rc.conf: devfs_rulesets="/etc/defaults/devfs.rules /etc/devfs.rules". */
export const DEVFS_RULESETS_FILES = ['/etc/defaults/devfs.rules', '/etc/devfs.rules']

export interface RcDevfsIO {
  /** The file's text, or null when `[ ! -e "$file" ]` (a missing file is skipped silently). */
  read(file: string): string | null
  /** `/sbin/devfs ARGS...` (ARGS after the program name). */
  devfs(argv: string[]): DevfsResult
  err(text: string): void
  /** `$0` in rc.subr's warn(): the script service(8) runs, `/etc/rc.d/devfs`. */
  prog: string
}

/** A form of devfs.rules the simulator does not emulate: refused before anything changes. */
export class RulesNotSimulated extends Error {}

const IFS_WS = new Set([' ', '\t', '\n'])

/**
 * The lines `while read line` yields (no -r): a backslash quotes the next character and is
 * removed, a backslash before a newline joins the lines; leading and trailing IFS white space
 * that no backslash quoted is dropped. A last line with no newline after it is never seen:
 * read(1) returns non-zero at end of file, which ends the loop before its body runs.
 */
export function readLines(text: string): string[] {
  const lines: string[] = []
  let chars: Array<{c: string; q: boolean}> = []
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string
    if (c === '\\' && i + 1 < text.length) {
      const n = text[++i] as string
      if (n !== '\n') chars.push({c: n, q: true})
      continue
    }
    if (c === '\\') break // a backslash at the very end: end of file inside the line
    if (c === '\n') {
      lines.push(trimIfs(chars))
      chars = []
      continue
    }
    chars.push({c, q: false})
  }
  return lines
}

function trimIfs(chars: Array<{c: string; q: boolean}>): string {
  let a = 0
  let b = chars.length
  while (a < b && !chars[a]?.q && IFS_WS.has(chars[a]?.c ?? '')) a++
  while (b > a && !chars[b - 1]?.q && IFS_WS.has(chars[b - 1]?.c ?? '')) b--
  return chars.slice(a, b).map((x) => x.c).join('')
}

/** rc.subr's own variables, which a `$name` in a rule line would expand to. */
const RC_LOCALS = new Set(['file', '_err', '_me', '_opts', 'line', 'rulenum', 'rulename', 'rulecmd'])

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/**
 * The words sh makes of the line `eval` parses: blanks separate words; `'...'` is literal;
 * `"..."` expands `$name`/`${name}` and takes `\` before `$ \` " ` only; an unquoted `\`
 * quotes the next character; `#` at the start of a word begins a comment; an unquoted
 * `$name` is expanded and then split on blanks, and a word that was only an empty expansion
 * disappears. Globbing is off (`set -f`). What else sh would do with the line (`;`, `|`, `&`,
 * redirections, `(`, `` ` ``, `$(...)`, `${...}` forms, special parameters, `~`) is refused.
 */
export function evalWords(s: string, vars: ReadonlyMap<string, string>): string[] {
  const words: string[] = []
  let cur = ''
  let keep = false // the word has a literal or quoted part, so it stays even when empty
  let inWord = false
  const refuse = (what: string): never => {
    throw new RulesNotSimulated(`${what} in a devfs.rules line`)
  }
  const expand = (i: number): {value: string; next: number} => {
    // s[i] is '$'.
    const rest = s.slice(i + 1)
    let name: string
    let next: number
    if (rest.startsWith('{')) {
      const end = rest.indexOf('}')
      if (end < 0) refuse('an unterminated ${')
      name = rest.slice(1, end)
      if (!NAME.test(name)) refuse(`\${${name}}`)
      next = i + 1 + end + 1
    } else {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest)
      if (!m) {
        if (rest === '' || /^[^0-9@*#?$!(-]/.test(rest)) return {value: '$', next: i + 1}
        return refuse(`$${rest[0] ?? ''}`)
      }
      name = m[0]
      next = i + 1 + name.length
    }
    if (RC_LOCALS.has(name) && !vars.has(name)) refuse(`$${name} (a variable of rc.subr itself)`)
    return {value: vars.get(name) ?? '', next}
  }
  let i = 0
  const end = (): void => {
    if (inWord && (cur !== '' || keep)) words.push(cur)
    cur = ''
    keep = false
    inWord = false
  }
  while (i < s.length) {
    const c = s[i] as string
    if (c === ' ' || c === '\t') {
      end()
      i++
    } else if (c === '#' && !inWord) {
      break
    } else if (c === "'") {
      const close = s.indexOf("'", i + 1)
      if (close < 0) refuse('an unterminated quote')
      cur += s.slice(i + 1, close)
      keep = inWord = true
      i = close + 1
    } else if (c === '"') {
      keep = inWord = true
      i++
      for (;;) {
        if (i >= s.length) refuse('an unterminated quote')
        const d = s[i] as string
        if (d === '"') {
          i++
          break
        }
        if (d === '\\' && i + 1 < s.length && '$`"\\'.includes(s[i + 1] as string)) {
          cur += s[i + 1]
          i += 2
        } else if (d === '$') {
          const x = expand(i)
          cur += x.value
          i = x.next
        } else if (d === '`') {
          refuse('`...`')
        } else {
          cur += d
          i++
        }
      }
    } else if (c === '\\') {
      if (i + 1 < s.length) cur += s[i + 1]
      keep = inWord = true
      i += 2
    } else if (c === '$') {
      const x = expand(i)
      i = x.next
      inWord = true
      // Field splitting of the unquoted expansion on IFS blanks.
      const parts = x.value.split(/[ \t\n]+/)
      parts.forEach((p, n) => {
        if (n > 0) {
          end()
          inWord = true
        }
        cur += p
      })
    } else if (';&|<>()`'.includes(c)) {
      refuse(`"${c}"`)
    } else if (c === '~' && !inWord) {
      refuse('"~"')
    } else {
      cur += c
      keep = inWord = true
      i++
    }
  }
  end()
  return words
}

/**
 * rc.subr's `${line%%"\#*"}`: the pattern is quoted, so it is the literal text `\#*` (POSIX
 * quoting in the trim operators, checked with dash, an ash like FreeBSD's sh; FreeBSD's sh
 * itself unconfirmed) and removes only a line's literal `\#*` ending. A comment after a rule is
 * dropped by `eval` instead, where `#` begins a word. A `#` inside a word, where the two
 * readings would differ, is refused.
 */
function ruleCommand(line: string): string {
  const cmd = line.endsWith('\\#*') ? line.slice(0, -3) : line
  // Up to the comment eval would see (a "#" starting a word), outside single quotes.
  const bare = cmd.replaceAll(/'[^']*'/g, "''")
  const comment = bare.search(/(^|[ \t])#/)
  if (/[^ \t]#/.test(comment < 0 ? bare : bare.slice(0, comment))) throw new RulesNotSimulated('a "#" inside a word of a devfs.rules line')
  return cmd
}

/** devfs_rulesets_from_file FILE: 0, or 1 after the first failure (what went before stays). */
function rulesetsFromFile(io: RcDevfsIO, file: string, vars: Map<string, string>): number {
  const text = io.read(file)
  if (text === null) return 0
  const me = 'devfs_rulesets_from_file'
  const warn = (m: string): void => io.err(`${io.prog}: WARNING: ${me}: ${m}\n`)
  for (const line of readLines(text)) {
    if (line.startsWith('#')) continue
    if (line.startsWith('[') && line.indexOf(']', 1) > 0) {
      // expr(1) matches a basic regular expression anchored at the start; `.*` is greedy.
      const rulenum = /^\[.*=([0-9]*)\]/.exec(line)?.[1] ?? ''
      if (rulenum === '') {
        warn(`cannot extract rule number (${line})`)
        return 1
      }
      const rulename = /^\[(.*)=[0-9]*\]/.exec(line)?.[1] ?? ''
      if (rulename === '') {
        warn(`cannot extract rule name (${line})`)
        return 1
      }
      // eval $rulename=\$rulenum: an assignment only when the name is a shell variable name.
      if (!NAME.test(rulename) || RC_LOCALS.has(rulename)) throw new RulesNotSimulated(`a ruleset name that is no shell variable name of its own ([${rulename}=${rulenum}])`)
      vars.set(rulename, rulenum)
      vars.set('rulenum', rulenum)
      vars.set('rulename', rulename)
      const r = io.devfs(['rule', '-s', rulenum, 'delset'])
      if (r.err !== '') io.err(r.err)
      if (r.code !== 0) return 1
      continue
    }
    const rulecmd = ruleCommand(line)
    if (rulecmd === '') continue
    // eval /sbin/devfs rule -s $rulenum $rulecmd: both expanded and split first (an unset
    // rulenum vanishes), then joined by single blanks and parsed again by eval.
    const fields = [...(vars.get('rulenum') ?? '').split(/[ \t\n]+/), ...rulecmd.split(/[ \t\n]+/)].filter((f) => f !== '')
    const words = evalWords(['/sbin/devfs', 'rule', '-s', ...fields].join(' '), new Map([...vars, ['line', line], ['rulecmd', rulecmd], ['file', file], ['_me', me], ['_err', '0']]))
    const r = io.devfs(words.slice(1))
    if (r.err !== '') io.err(r.err)
    if (r.code !== 0) return 1
  }
  return 0
}

/**
 * devfs_init_rulesets: each file of devfs_rulesets in turn, in one shell, so a ruleset name
 * set by an earlier file (`$devfsrules_jail`) expands in a later one. The first file that
 * fails ends it: `devfs_init_rulesets: could not read rules from FILE`, status 1.
 */
export function devfsInitRulesets(io: RcDevfsIO, files: readonly string[] = DEVFS_RULESETS_FILES): number {
  const vars = new Map<string, string>()
  for (const file of files) {
    if (rulesetsFromFile(io, file, vars) !== 0) {
      io.err(`${io.prog}: WARNING: devfs_init_rulesets: could not read rules from ${file}\n`)
      return 1
    }
  }
  return 0
}

/**
 * The rulesets a freshly booted host holds: rc.d/devfs at boot over the stock
 * /etc/defaults/devfs.rules (and no /etc/devfs.rules).
 */
export function bootRulesets(): Record<string, string[]> {
  const k = {devfsRulesets: {}, mounts: [], sysctl: {}} as unknown as Kernel
  const code = devfsInitRulesets({
    read: (f) => (f === '/etc/defaults/devfs.rules' ? DEFAULT_DEVFS_RULES : null),
    devfs: (argv) => devfsRule(k, argv.slice(1)),
    err: (t) => {
      throw new Error(`sim: the stock devfs.rules did not load: ${t}`)
    },
    prog: '/etc/rc.d/devfs',
  })
  if (code !== 0) throw new Error('sim: the stock devfs.rules did not load')
  return k.devfsRulesets
}
