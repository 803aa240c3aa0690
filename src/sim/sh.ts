// The small part of sh(1) that jail(8)'s hooks need, interpreted in-process: a guard such as
// `test "$NEST_CLEANUP_FOLLOWS" = 1 || /usr/local/bin/nest cleanup web` starts no process when
// it skips the command. jail(8) runs a hook through `/bin/sh -c` as soon as it holds one of
// !"$&'()*;<>?[\]`{|}~ (usr.sbin/jail/command.c, run_command), so any quoting makes it a
// shell command line.
//
// Emulated: simple commands joined by `&&` and `||` (left to right, equal precedence), `!`
// before a command, single and double quotes, backslash escapes, and parameters from the
// environment: `$VAR`, `"$VAR"`, `${VAR}`, `${VAR:-word}` (unquoted results split on blanks).
// `test` and `[` compare strings in-process (`=`, `!=`, `-n`, `-z`, one operand, `!`).
// Everything else (pipes, redirections, `;`, `&`, newlines, subshells and groups, globbing,
// `~`, `` `...` ``, `$(...)`, arithmetic, special parameters, assignments, reserved words,
// test's other primaries) is refused as not simulated: the simulator never guesses.

/** A form of sh the simulator does not emulate; the caller reports it with exit 69. */
export class ShNotSimulated extends Error {}

const refuse = (what: string): never => {
  throw new ShNotSimulated(what)
}

/** One piece of a word: literal text, or a parameter expansion; quoted or not. */
type Part = {kind: 'text'; text: string; quoted: boolean} | {kind: 'param'; name: string; fallback?: string; quoted: boolean}
type Word = Part[]

export interface ShCommand {
  negate: boolean
  words: Word[]
}

/** An and-or list: the first command, then each next one with the operator before it. */
export interface ShList {
  first: ShCommand
  rest: Array<{op: '&&' | '||'; command: ShCommand}>
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/
const RESERVED = new Set(['if', 'then', 'else', 'elif', 'fi', 'do', 'done', 'case', 'esac', 'while', 'until', 'for', 'in', '{', '}'])

type Token = {op: '&&' | '||'} | {word: Word}

/** `$...` at line[i] (the `$` itself): the part and the index after it. */
function readParam(line: string, i: number, quoted: boolean): [Part, number] {
  const next = line[i + 1] ?? ''
  if (next === '(') refuse(line[i + 2] === '(' ? 'arithmetic expansion $((...))' : 'command substitution $(...)')
  if (next === '{') {
    const end = line.indexOf('}', i + 2)
    if (end < 0) refuse('an unterminated ${')
    const body = line.slice(i + 2, end)
    const name = NAME.exec(body)?.[0]
    if (name === undefined) return refuse(`the parameter expansion \${${body}}`)
    const after = body.slice(name.length)
    if (after === '') return [{kind: 'param', name, quoted}, end + 1]
    if (after.startsWith(':-') && !/[$`"'\\{]/.test(after.slice(2))) return [{kind: 'param', name, fallback: after.slice(2), quoted}, end + 1]
    return refuse(`the parameter expansion \${${body}} (only \${NAME} and \${NAME:-word})`)
  }
  const name = NAME.exec(line.slice(i + 1))?.[0]
  if (name) return [{kind: 'param', name, quoted}, i + 1 + name.length]
  if (/[0-9@*#?$!-]/.test(next) && next !== '') refuse(`the special parameter $${next}`)
  // A `$` that starts no expansion is itself.
  return [{kind: 'text', text: '$', quoted}, i + 1]
}

function tokens(line: string): Token[] {
  const out: Token[] = []
  let word: Word | undefined
  const text = (t: string, quoted: boolean): void => {
    word ??= []
    word.push({kind: 'text', text: t, quoted})
  }
  const endWord = (): void => {
    if (word) out.push({word})
    word = undefined
  }
  let i = 0
  while (i < line.length) {
    const c = line[i] as string
    if (c === ' ' || c === '\t') {
      endWord()
      i++
    } else if (c === '&' || c === '|') {
      if (line[i + 1] !== c) refuse(c === '&' ? 'a background command (&)' : 'a pipeline (|)')
      endWord()
      out.push({op: c === '&' ? '&&' : '||'})
      i += 2
    } else if (c === '\n' || c === ';') {
      refuse('a list of commands (; or a newline)')
    } else if (c === '<' || c === '>') {
      refuse('a redirection (< or >)')
    } else if (c === '(' || c === ')') {
      refuse('a subshell ( )')
    } else if (c === '`') {
      refuse('command substitution `...`')
    } else if ((c === '#' || c === '~') && word === undefined) {
      refuse(c === '#' ? 'a comment (#)' : 'tilde expansion (~)')
    } else if (c === '*' || c === '?') {
      refuse(`pathname expansion (${c})`)
    } else if (c === '\\') {
      if (i + 1 >= line.length) refuse('a backslash at the end of the line')
      text(line[i + 1] as string, true)
      i += 2
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1)
      if (end < 0) refuse('an unterminated single quote')
      text(line.slice(i + 1, end), true)
      i = end + 1
    } else if (c === '"') {
      word ??= []
      text('', true)
      i++
      for (;;) {
        const d = line[i]
        if (d === undefined) refuse('an unterminated double quote')
        if (d === '"') {
          i++
          break
        }
        if (d === '`') refuse('command substitution `...`')
        if (d === '\\' && /[$`"\\\n]/.test(line[i + 1] ?? '')) {
          text(line[i + 1] as string, true)
          i += 2
        } else if (d === '$') {
          const [part, next] = readParam(line, i, true)
          word.push(part)
          i = next
        } else {
          text(d as string, true)
          i++
        }
      }
    } else if (c === '$') {
      const [part, next] = readParam(line, i, false)
      word ??= []
      word.push(part)
      i = next
    } else {
      text(c, false)
      i++
    }
  }
  endWord()
  return out
}

const unquotedText = (w: Word): string => w.map((p) => (p.kind === 'text' && !p.quoted ? p.text : '\0')).join('')

function command(words: Word[]): ShCommand {
  let negate = false
  if (words.length > 0 && unquotedText(words[0] as Word) === '!') {
    negate = true
    words = words.slice(1)
  }
  if (words.length === 0) refuse('an empty command')
  const first = unquotedText(words[0] as Word)
  if (RESERVED.has(first) || first === '!') refuse(`the reserved word ${first}`)
  if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(first)) refuse(`a variable assignment (${first.split('=')[0]}=...)`)
  for (const w of words) {
    const bare = unquotedText(w)
    // A lone `[` is no bracket expression (the test command); any other unquoted one would glob.
    if (bare.includes('[') && !(w.length === 1 && bare === '[')) refuse('pathname expansion ([...])')
  }
  return {negate, words}
}

/** Parse one `sh -c` command line of the subset; throws ShNotSimulated for anything else. */
export function parseSh(line: string): ShList {
  const list: Array<{op: '&&' | '||' | undefined; words: Word[]}> = [{op: undefined, words: []}]
  for (const t of tokens(line)) {
    if ('op' in t) {
      if ((list.at(-1) as {words: Word[]}).words.length === 0) refuse(`${t.op} without a command before it`)
      list.push({op: t.op, words: []})
    } else {
      (list.at(-1) as {words: Word[]}).words.push(t.word)
    }
  }
  const [head, ...tail] = list as [{words: Word[]}, ...Array<{op: '&&' | '||'; words: Word[]}>]
  return {first: command(head.words), rest: tail.map((x) => ({op: x.op, command: command(x.words)}))}
}

/** The fields of one word after parameter expansion and field splitting (IFS: blanks). */
function expand(w: Word, env: NodeJS.ProcessEnv): string[] {
  const fields: string[] = []
  let cur = ''
  let have = false
  for (const p of w) {
    if (p.kind === 'text') {
      cur += p.text
      have ||= p.quoted || p.text !== ''
      continue
    }
    const raw = env[p.name]
    const value = p.fallback !== undefined && (raw === undefined || raw === '') ? p.fallback : raw ?? ''
    if (p.quoted) {
      cur += value
      have = true
      continue
    }
    if (/[*?[]/.test(value)) refuse(`pathname expansion of $${p.name}'s value`)
    const pieces = value.split(/[ \t\n]+/)
    pieces.forEach((piece, n) => {
      if (n > 0) {
        if (have) fields.push(cur)
        cur = ''
        have = false
      }
      cur += piece
      have ||= piece !== ''
    })
  }
  if (have) fields.push(cur)
  return fields
}

/** Expand a parsed command's words to its argv (empty when every word expanded to nothing). */
export function expandCommand(c: ShCommand, env: NodeJS.ProcessEnv): string[] {
  if (env['IFS'] !== undefined && env['IFS'] !== ' \t\n') refuse('a non-default IFS')
  return c.words.flatMap((w) => expand(w, env))
}

/** test(1)'s own usage errors: exit status 2 (bin/test/test.c syntax()). */
class TestError extends Error {}

const STRING_BINARY = new Set(['=', '!='])
const OTHER_BINARY = new Set(['==', '-eq', '-ne', '-gt', '-ge', '-lt', '-le', '-nt', '-ot', '-ef', '<', '>'])
const isUnaryPrimary = (s: string): boolean => /^-[a-zA-Z]$/.test(s)

function testExpr(a: string[]): boolean {
  const [x, y, z] = a as [string, string, string]
  switch (a.length) {
    case 0: return false
    case 1: return x !== ''
    case 2:
      if (x === '!') return !testExpr([y])
      if (x === '-n') return y !== ''
      if (x === '-z') return y === ''
      if (isUnaryPrimary(x)) return refuse(`test ${x} (only -n and -z, no file tests)`)
      throw new TestError(`${x}: unexpected operator`)
    case 3:
      if (STRING_BINARY.has(y)) return y === '=' ? x === z : x !== z
      if (x === '!') return !testExpr([y, z])
      if (OTHER_BINARY.has(y) || y === '-a' || y === '-o') return refuse(`test ${y} (only string = and !=)`)
      throw new TestError(`${y}: unexpected operator`)
    case 4:
      if (x === '!') return !testExpr(a.slice(1))
      return refuse('test with four operands (only ! before a comparison)')
    default:
      return refuse('test with more than four operands (-a, -o, parentheses)')
  }
}

/** `test ARGS` or `[ ARGS ]`, in-process: 0 true, 1 false, 2 a usage error (on err). */
export function runTest(name: string, args: string[], err: (text: string) => void): number {
  try {
    if (name === '[') {
      if (args.at(-1) !== ']') throw new TestError('missing ]')
      args = args.slice(0, -1)
    }
    return testExpr(args) ? 0 : 1
  } catch (error) {
    if (!(error instanceof TestError)) throw error
    err(`${name}: ${error.message}\n`)
    return 2
  }
}

/**
 * Run one `sh -c` line of the subset: each command through `run` (its argv; the caller runs
 * builtins and programs as jail(8)'s hooks may), `&&` and `||` deciding what runs next.
 * The exit status of the last command run, as sh(1) gives it. Throws ShNotSimulated before
 * anything runs when the line is outside the subset.
 */
export async function runSh(line: string, env: NodeJS.ProcessEnv, run: (argv: string[]) => Promise<number>): Promise<number> {
  const list = parseSh(line)
  const one = async (c: ShCommand): Promise<number> => {
    const argv = expandCommand(c, env)
    const status = argv.length === 0 ? 0 : await run(argv)
    return c.negate ? (status === 0 ? 1 : 0) : status
  }
  let status = await one(list.first)
  for (const {op, command: c} of list.rest) {
    if ((op === '&&') === (status === 0)) status = await one(c)
  }
  return status
}
