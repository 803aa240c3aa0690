// The jail.conf lexer, after usr.sbin/jail/jaillex.l.
//
// Tokens that touch (no white space or comment between them) form one string:
// `/jails/$name/root` is three pieces of one value. jaillex.l tracks this with its
// `instr` flag (STR vs STR1, VAR vs VAR1); here every string token carries `joined`.

export type Piece = {kind: 'lit'; text: string} | {kind: 'var'; name: string}

export type Token =
  | {type: 'str'; pieces: Piece[]; joined: boolean; raw: string; line: number}
  | {type: 'punct'; value: ',' | ';' | '=' | '{' | '}' | '+='; raw: string; line: number}
  | {type: 'other'; raw: string; line: number}
  | {type: 'eof'; raw: ''; line: number}

export interface LexError {
  line: number
  message: string // "unterminated string", "unterminated comment", "unterminated variable"
}

// Characters of an unquoted atom (jaillex.l: [A-Za-z0-9_!%&()\-.:<>?@\[\]^`|~]).
const ATOM = /[A-Za-z0-9_!%&()\-.:<>?@[\]^`|~]/
// Single characters that are strings on their own ([$*+/\\]); `$` only when no variable follows.
const SINGLE = new Set(['$', '*', '+', '/', '\\'])
const IDENT_START = /[A-Za-z_]/
const IDENT = /[A-Za-z_0-9]/

export interface LexResult {
  tokens: Token[]
  errors: LexError[]
}

/** Decode one backslash escape starting at text[i] === '\\'; returns the text and the next index. */
function decodeEscape(text: string, i: number, end: number): {out: string; next: number} {
  let s = i + 1
  if (s >= end) return {out: '', next: s}
  const c = text[s] as string
  if (c >= '0' && c <= '7') {
    let v = c.charCodeAt(0) - 48
    let n = 1
    while (n < 3 && s + 1 < end && (text[s + 1] as string) >= '0' && (text[s + 1] as string) <= '7') {
      s++
      v = v * 8 + (text.charCodeAt(s) - 48)
      n++
    }
    return {out: String.fromCharCode(v & 0xff), next: s + 1}
  }
  switch (c) {
    case 'a': return {out: '\x07', next: s + 1}
    case 'b': return {out: '\b', next: s + 1}
    case 'f': return {out: '\f', next: s + 1}
    case 'n': return {out: '\n', next: s + 1}
    case 'r': return {out: '\r', next: s + 1}
    case 't': return {out: '\t', next: s + 1}
    case 'v': return {out: '\v', next: s + 1}
    case '\n': return {out: '', next: s + 1} // backslash-newline continues the string
    case 'x': {
      let v = 0
      let n = 0
      while (n < 2 && s + 1 < end && /[0-9A-Fa-f]/.test(text[s + 1] as string)) {
        s++
        v = v * 16 + Number.parseInt(text[s] as string, 16)
        n++
      }
      return {out: String.fromCharCode(v), next: s + 1}
    }
    default: return {out: c, next: s + 1}
  }
}

function countLines(text: string, from: number, to: number): number {
  let n = 0
  for (let i = from; i < to; i++) if (text[i] === '\n') n++
  return n
}

function pushLit(pieces: Piece[], text: string): void {
  const last = pieces.at(-1)
  if (last && last.kind === 'lit') last.text += text
  else pieces.push({kind: 'lit', text})
}

export function lex(text: string): LexResult {
  const tokens: Token[] = []
  const errors: LexError[] = []
  let i = 0
  let line = 1
  let joined = false // the previous token was a string with nothing between
  const n = text.length

  const emitStr = (pieces: Piece[], start: number): void => {
    const raw = text.slice(start, i)
    line += countLines(text, start, i)
    tokens.push({type: 'str', pieces, joined, raw, line})
    joined = true
  }

  while (i < n) {
    const c = text[i] as string
    // White space and comments end a string.
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      if (c === '\n') line++
      i++
      joined = false
      continue
    }
    if (c === '#' || (c === '/' && text[i + 1] === '/')) {
      while (i < n && text[i] !== '\n') i++
      joined = false
      continue
    }
    if (c === '/' && text[i + 1] === '*') {
      const close = text.indexOf('*/', i + 2)
      if (close < 0) {
        line += countLines(text, i, n)
        errors.push({line, message: 'unterminated comment'})
        i = n
        break
      }
      line += countLines(text, i, close + 2)
      i = close + 2
      joined = false
      continue
    }
    if (c === '+' && text[i + 1] === '=') {
      tokens.push({type: 'punct', value: '+=', raw: '+=', line})
      i += 2
      joined = false
      continue
    }
    if (c === ',' || c === ';' || c === '=' || c === '{' || c === '}') {
      tokens.push({type: 'punct', value: c, raw: c, line})
      i++
      joined = false
      continue
    }
    const start = i
    if (ATOM.test(c)) {
      while (i < n && ATOM.test(text[i] as string)) i++
      emitStr([{kind: 'lit', text: text.slice(start, i)}], start)
      continue
    }
    if (c === '\\') {
      const {out, next} = decodeEscape(text, i, n)
      i = next
      emitStr([{kind: 'lit', text: out}], start)
      continue
    }
    if (c === '$') {
      const v = lexVariable(text, i, n, false)
      if (v.kind === 'var') {
        i = v.next
        emitStr([{kind: 'var', name: v.name}], start)
        continue
      }
      if (v.kind === 'unterminated') {
        line += countLines(text, i, v.next)
        errors.push({line, message: 'unterminated variable'})
        i = v.next
        joined = false
        continue
      }
      i++
      emitStr([{kind: 'lit', text: '$'}], start)
      continue
    }
    if (SINGLE.has(c)) {
      i++
      emitStr([{kind: 'lit', text: c}], start)
      continue
    }
    if (c === "'" || c === '"') {
      const r = lexQuoted(text, i, n, c)
      if (r.kind === 'unterminated') {
        line += countLines(text, i, r.next)
        errors.push({line, message: 'unterminated string'})
        i = r.next
        joined = false
        continue
      }
      i = r.next
      emitStr(r.pieces, start)
      continue
    }
    // Anything else is a token of its own that the grammar cannot place (a syntax error).
    tokens.push({type: 'other', raw: c, line})
    i++
    joined = false
  }
  tokens.push({type: 'eof', raw: '', line})
  return {tokens, errors}
}

type VarLex = {kind: 'var'; name: string; next: number} | {kind: 'none'} | {kind: 'unterminated'; next: number}

/** `$name` or `${name}` at text[i] === '$'. Inside double quotes a braced name may not hold `"`. */
function lexVariable(text: string, i: number, n: number, inDq: boolean): VarLex {
  const next = text[i + 1]
  if (next !== undefined && IDENT_START.test(next)) {
    let j = i + 1
    while (j < n && IDENT.test(text[j] as string)) j++
    return {kind: 'var', name: text.slice(i + 1, j), next: j}
  }
  if (next === '{') {
    let j = i + 2
    let name = ''
    while (j < n) {
      const ch = text[j] as string
      if (ch === '}') return {kind: 'var', name, next: j + 1}
      if (ch === '\n' || ch === '{' || (inDq && ch === '"')) break
      if (ch === '\\') {
        const e = decodeEscape(text, j, n)
        name += e.out
        j = e.next
        continue
      }
      name += ch
      j++
    }
    return {kind: 'unterminated', next: j}
  }
  return {kind: 'none'}
}

type QuotedLex = {kind: 'ok'; pieces: Piece[]; next: number} | {kind: 'unterminated'; next: number}

/** A quoted string; double quotes expand `$var` and `${var}`, single quotes do not. */
function lexQuoted(text: string, i: number, n: number, q: "'" | '"'): QuotedLex {
  const pieces: Piece[] = []
  let j = i + 1
  while (j < n) {
    const ch = text[j] as string
    if (ch === q) {
      if (pieces.length === 0) pieces.push({kind: 'lit', text: ''})
      return {kind: 'ok', pieces, next: j + 1}
    }
    if (ch === '\\') {
      if (j + 1 >= n) break
      const e = decodeEscape(text, j, n)
      pushLit(pieces, e.out)
      j = e.next
      continue
    }
    if (q === '"' && ch === '$') {
      const v = lexVariable(text, j, n, true)
      if (v.kind === 'var') {
        pieces.push({kind: 'var', name: v.name})
        j = v.next
        continue
      }
      if (v.kind === 'unterminated') return {kind: 'unterminated', next: v.next}
    }
    pushLit(pieces, ch)
    j++
  }
  // jaillex.l reports an unterminated string at the end of its line.
  const eol = text.indexOf('\n', i)
  return {kind: 'unterminated', next: eol < 0 ? n : eol}
}
