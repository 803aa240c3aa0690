// rc.conf edited as sysrc(8) edits it (f_sysrc_set and its awk script, usr.sbin/sysrc/sysrc.subr):
// a variable already assigned has the value of its last assignment (the one sh keeps) replaced in
// place, the line's indentation, quoting and what follows the value (a comment) kept; an
// assignment whose value starts with a backquote, `$` or a backslash is left alone and
// `name="value"` appended, as it is when the variable is not assigned. Every other line stays
// as it is. nest's values are plain (addresses, interface names, checked before): a value that
// would need escaping inside double quotes is refused, never written.

/** `name="value"` lines to set (value null: the variable's lines removed). */
export type RcSet = Array<[string, string | null]>

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/** What is wrong with an assignment nest would write, or null. */
export function rcProblem(name: string, value: string | null): string | null {
  if (!NAME.test(name)) return `${JSON.stringify(name)} is not an rc.conf variable name`
  if (value !== null && /["$`\\\n]/.test(value)) return `the value of ${name} would need quoting in rc.conf`
  return null
}

/** The line that assigns `name` (sysrc's own test: the name at the start, then `=`). */
const assigns = (line: string, name: string): boolean => new RegExp(`^\\s*${name}=`).test(line)

/** The text with each variable set (or removed); a comment line before what is appended. */
export function rcEdit(text: string, set: RcSet, comment?: string): string {
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n')
  const appended: string[] = []
  for (const [name, value] of set) {
    const at = lines.map((l, i) => (assigns(l, name) ? i : -1)).filter((i) => i >= 0)
    const line = `${name}="${value ?? ''}"`
    const edited = at.length > 0 && value !== null ? sysrcSetLine(lines[at.at(-1) as number] as string, name, value) : null
    if (value === null) {
      for (const i of at.reverse()) lines.splice(i, 1)
    } else if (edited !== null) {
      lines[at.at(-1) as number] = edited
    } else {
      appended.push(line)
    }
  }
  if (appended.length > 0 && comment !== undefined) lines.push(`# ${comment}`)
  lines.push(...appended)
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`
}

/**
 * f_sysrc_set_awk on the line that holds the last assignment of `name`: what precedes the value
 * is kept, then the value's opening quote (a single-quoted value stays single-quoted, a bare
 * value becomes double-quoted), the new value, the closing quote and whatever followed the old
 * value. null: the old value starts with a backquote, `$` or a backslash (sysrc leaves the line
 * and appends instead). An empty old value (`name=` at the end of the line): t1 and t2 are empty
 * in the awk script, so the value is written bare (source-derived: awk's %c of an empty string).
 */
export function sysrcSetLine(line: string, name: string, value: string): string | null {
  const m = new RegExp(`^\\s*${name}=`).exec(line)
  if (!m) return null
  const head = line.slice(0, m[0].length)
  let rest = line.slice(m[0].length)
  const t1 = rest.slice(0, 1)
  let open = t1
  let close = t1
  if (/[`$\\]/.test(t1)) return null
  if (t1 === "'") {
    rest = rest.replace(/^'[^']*/, '')
    if (rest.length === 0) close = ''
    rest = rest.replace(/^'/, '')
  } else if (t1 === '"') {
    // awk's /^"(.*\\\\+")*[^"]*/: a backslash, then one or more, then a quote, inside.
    rest = rest.replace(/^"(.*\\\\+")*[^"]*/, '')
    if (rest.length === 0) close = ''
    rest = rest.replace(/^"/, '')
  } else if (/[^\s;]/.test(t1)) {
    open = close = '"'
    rest = rest.replace(/^\S*/, '')
  } else if (/[\s;]/.test(t1)) {
    open = close = '"'
  }
  return `${head}${open}${value}${close}${rest}`
}
