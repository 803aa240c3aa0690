// Renders jail.conf text that parses back to exactly the values given. Every value is
// double-quoted and escaped, so no input can end a string, start a variable, add a
// parameter or run a command: `"`, `\`, `$` and control characters are escaped.
import {err, ok, type Result} from 'neverthrow'

export interface PrintParam {
  name: string
  /** No values: a bare `name;` (a true boolean). */
  values: readonly string[]
  append?: boolean
  comment?: string
}

export interface PrintBlock {
  name: string
  comment?: string
  params: readonly PrintParam[]
}

const NAME = /^[A-Za-z0-9_.-]+$/

/** Quote one value for jail.conf; NUL cannot be represented (jail.conf values are C strings). */
export function quoteValue(v: string): Result<string, string> {
  let out = '"'
  for (const ch of v) {
    const code = ch.codePointAt(0) ?? 0
    if (code === 0) return err('a value cannot contain a NUL character')
    if (ch === '\\' || ch === '"' || ch === '$') out += `\\${ch}`
    else if (ch === '\n') out += '\\n'
    else if (ch === '\t') out += '\\t'
    else if (ch === '\r') out += '\\r'
    else if (code < 0x20 || code === 0x7f) out += `\\${code.toString(8).padStart(3, '0')}`
    else out += ch
  }
  return ok(`${out}"`)
}

function checkName(kind: string, name: string): Result<string, string> {
  return NAME.test(name) && !name.startsWith('.') ? ok(name) : err(`invalid ${kind} name ${JSON.stringify(name)}`)
}

function oneLineComment(c: string): string {
  return c.replaceAll(/[\r\n]+/g, ' ')
}

export function printParam(p: PrintParam, indent = '\t'): Result<string, string> {
  const name = checkName('parameter', p.name)
  if (name.isErr()) return err(name.error)
  const values: string[] = []
  for (const v of p.values) {
    const q = quoteValue(v)
    if (q.isErr()) return err(`${p.name}: ${q.error}`)
    values.push(q.value)
  }
  const op = p.append ? ' += ' : ' = '
  const body = values.length === 0 ? `${p.name};` : `${p.name}${op}${values.join(', ')};`
  return ok(`${indent}${body}${p.comment ? `\t# ${oneLineComment(p.comment)}` : ''}`)
}

/** Render blocks (`web { ... }`, `web.db { ... }`) to text ending in a newline. */
export function printConfig(blocks: readonly PrintBlock[], header?: string): Result<string, string> {
  const lines: string[] = []
  if (header) for (const h of header.split('\n')) lines.push(`# ${h}`.trimEnd())
  for (const b of blocks) {
    const name = b.name === '*' ? ok('*') : checkName('jail', b.name)
    if (name.isErr()) return err(name.error)
    if (lines.length > 0) lines.push('')
    if (b.comment) lines.push(`# ${oneLineComment(b.comment)}`)
    lines.push(`${b.name} {`)
    for (const p of b.params) {
      const r = printParam(p)
      if (r.isErr()) return err(r.error)
      lines.push(r.value)
    }
    lines.push('}')
  }
  return ok(`${lines.join('\n')}\n`)
}
