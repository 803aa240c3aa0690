// rc.conf edited as sysrc(8) edits it (f_sysrc_set in usr.sbin/bsdconfig/share/sysrc.subr): a
// variable already assigned has its last assignment (the one sh keeps) replaced in place;
// otherwise `name="value"` is appended. Every other line stays
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
    if (value === null) {
      for (const i of at.reverse()) lines.splice(i, 1)
    } else if (at.length > 0) {
      lines[at.at(-1) as number] = line
    } else {
      appended.push(line)
    }
  }
  if (appended.length > 0 && comment !== undefined) lines.push(`# ${comment}`)
  lines.push(...appended)
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`
}
