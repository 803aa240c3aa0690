// The jail.conf parser, after usr.sbin/jail/jailparse.y and the `.include` handling of
// config.c (FreeBSD 14.0+). Pure: file access goes through an IncludeReader.
import {err, ok, type Result} from 'neverthrow'

import {lex, type Piece, type Token} from './lexer.js'

/** One value of a parameter: literal text and variable references, concatenated. */
export type Value = Piece[]

export interface ParamStmt {
  /** Parameter name, or variable name (without `$`) when `isVar`. */
  name: string
  isVar: boolean
  /** `+=` appends to an earlier value list instead of replacing it. */
  append: boolean
  values: Value[]
  file: string
  line: number
}

export interface Block {
  /** A jail name (full dotted name), or a wildcard such as `*` or `web.*`. */
  name: string
  params: ParamStmt[]
  file: string
  line: number
}

export interface ConfigAst {
  blocks: Block[]
}

export interface ConfError {
  kind: 'conf-syntax'
  /** The message as jail(8) prints it after `jail: `. */
  message: string
}

/** How the parser reads included files; the simulator and nest each give their own view. */
export interface IncludeReader {
  read(path: string): Result<string, string> // error: strerror text, e.g. "No such file or directory"
  glob(pattern: string): string[] // sorted matches, possibly none
}

const MAX_INCLUDE_DEPTH = 32

const syntaxError = (file: string, tok: Token): ConfError =>
  tok.type === 'eof'
    ? {kind: 'conf-syntax', message: `${file}: unexpected EOF`}
    : {kind: 'conf-syntax', message: `${file} line ${tok.line}: ${tok.raw}: syntax error`}

const isGlob = (p: string): boolean => /[*?[]/.test(p)

function dirname(p: string): string {
  const i = p.lastIndexOf('/')
  return i <= 0 ? (i === 0 ? '/' : '.') : p.slice(0, i)
}

class Parser {
  private pos = 0
  constructor(private readonly toks: Token[], private readonly file: string) {}

  private peek(k = 0): Token {
    return this.toks[Math.min(this.pos + k, this.toks.length - 1)] as Token
  }

  private next(): Token {
    const t = this.peek()
    if (this.pos < this.toks.length - 1) this.pos++
    return t
  }

  private isPunct(t: Token, v: string): boolean {
    return t.type === 'punct' && t.value === v
  }

  /** string : STR | VAR | string STR1 | string VAR1 */
  private parseString(): Value | undefined {
    const t = this.peek()
    if (t.type !== 'str' || t.joined) return undefined
    this.next()
    const pieces: Piece[] = [...t.pieces]
    for (let u = this.peek(); u.type === 'str' && u.joined; u = this.peek()) {
      this.next()
      pieces.push(...u.pieces)
    }
    return pieces
  }

  /** value : string | value ',' string */
  private parseValue(): Result<Value[], ConfError> {
    const values: Value[] = []
    for (;;) {
      const s = this.parseString()
      if (!s) return err(syntaxError(this.file, this.peek()))
      values.push(s)
      if (!this.isPunct(this.peek(), ',')) return ok(values)
      this.next()
    }
  }

  /** param : name | name '=' value | name PLEQ value | name value; then ';' */
  private parseParam(): Result<ParamStmt, ConfError> {
    const start = this.peek()
    const nameVal = this.parseString()
    if (!nameVal) return err(syntaxError(this.file, this.peek()))
    // A name is one STR or one VAR token, never a concatenation.
    const only = nameVal.length === 1 ? nameVal[0] : undefined
    if (!only) return err(syntaxError(this.file, start))
    const param: ParamStmt = {
      name: only.kind === 'var' ? only.name : only.text,
      isVar: only.kind === 'var',
      append: false,
      values: [],
      file: this.file,
      line: start.line,
    }
    const t = this.peek()
    if (this.isPunct(t, '=') || this.isPunct(t, '+=')) {
      this.next()
      param.append = t.type === 'punct' && t.value === '+='
      const v = this.parseValue()
      if (v.isErr()) return err(v.error)
      param.values = v.value
    } else if (t.type === 'str') {
      const v = this.parseValue()
      if (v.isErr()) return err(v.error)
      param.values = v.value
    }
    const semi = this.peek()
    if (!this.isPunct(semi, ';')) return err(syntaxError(this.file, semi))
    this.next()
    return ok(param)
  }

  /** The statements of one file: blocks, top-level parameters, empty statements. */
  parseFile(): Result<Array<Block | ParamStmt>, ConfError> {
    const out: Array<Block | ParamStmt> = []
    for (;;) {
      const t = this.peek()
      if (t.type === 'eof') return ok(out)
      if (this.isPunct(t, ';')) {
        this.next()
        continue
      }
      if (t.type === 'str' && !t.joined && this.isPunct(this.peek(1), '{')) {
        const nameTok = this.next()
        if (nameTok.type !== 'str' || nameTok.pieces.length !== 1 || nameTok.pieces[0]?.kind !== 'lit') {
          return err(syntaxError(this.file, nameTok))
        }
        this.next()
        const block: Block = {name: nameTok.pieces[0].text, params: [], file: this.file, line: nameTok.line}
        for (;;) {
          const u = this.peek()
          if (this.isPunct(u, '}')) {
            this.next()
            break
          }
          if (this.isPunct(u, ';')) {
            this.next()
            continue
          }
          if (u.type === 'eof') return err(syntaxError(this.file, u))
          const p = this.parseParam()
          if (p.isErr()) return err(p.error)
          block.params.push(p.value)
        }
        out.push(block)
        continue
      }
      const p = this.parseParam()
      if (p.isErr()) return err(p.error)
      out.push(p.value)
    }
  }
}

function isBlock(x: Block | ParamStmt): x is Block {
  return 'params' in x
}

function literal(v: Value): string | undefined {
  return v.every((p) => p.kind === 'lit') ? v.map((p) => (p.kind === 'lit' ? p.text : '')).join('') : undefined
}

/**
 * Parse a configuration text. Top-level parameters go into an implicit `*` block at their
 * position (consecutive ones share it); `.include "glob";` splices the included files in place.
 */
export function parseConfig(
  text: string,
  file: string,
  reader?: IncludeReader,
): Result<ConfigAst, ConfError> {
  const blocks: Block[] = []
  const r = parseInto(text, file, reader, blocks, 0)
  return r.isErr() ? err(r.error) : ok({blocks})
}

function parseInto(
  text: string,
  file: string,
  reader: IncludeReader | undefined,
  blocks: Block[],
  depth: number,
): Result<void, ConfError> {
  const {tokens, errors} = lex(text)
  const first = errors[0]
  if (first) return err({kind: 'conf-syntax', message: `${file} line ${first.line}: ${first.message}`})
  const stmts = new Parser(tokens, file).parseFile()
  if (stmts.isErr()) return err(stmts.error)
  for (const s of stmts.value) {
    if (isBlock(s)) {
      blocks.push(s)
      continue
    }
    if (!s.isVar && s.name === '.include') {
      const r = includeFiles(s, reader, blocks, depth)
      if (r.isErr()) return r
      continue
    }
    const last = blocks.at(-1)
    // config.c appends to the last block whenever it is a `*` block.
    if (last && last.name === '*') last.params.push(s)
    else blocks.push({name: '*', params: [s], file, line: s.line})
  }
  return ok(undefined)
}

function includeFiles(
  s: ParamStmt,
  reader: IncludeReader | undefined,
  blocks: Block[],
  depth: number,
): Result<void, ConfError> {
  const at = `${s.file} line ${s.line}`
  const v = s.values.length === 1 ? s.values[0] : undefined
  const pattern = v ? literal(v) : undefined
  if (pattern === undefined) {
    // Variables are not allowed in an include file name (jail.conf.5).
    return err({kind: 'conf-syntax', message: `${at}: .include: invalid file name`})
  }
  if (!reader) return err({kind: 'conf-syntax', message: `${at}: .include: not available here`})
  if (depth + 1 > MAX_INCLUDE_DEPTH) return err({kind: 'conf-syntax', message: `${at}: maximum include depth exceeded`})
  const full = pattern.startsWith('/') ? pattern : `${dirname(s.file)}/${pattern}`
  const files = isGlob(full) ? reader.glob(full) : [full]
  for (const f of files) {
    const t = reader.read(f)
    if (t.isErr()) return err({kind: 'conf-syntax', message: `${f}: ${t.error}`})
    const r = parseInto(t.value, f, reader, blocks, depth + 1)
    if (r.isErr()) return r
  }
  return ok(undefined)
}
