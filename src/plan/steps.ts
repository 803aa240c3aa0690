// Plans are data (house style §8, §9): ordered steps, each with the actions that undo it.
// A step names what it does in jail(8)'s and zfs(8)'s own words.

export type Action =
  /** Run a program (an argv array, never a shell string). */
  | {kind: 'run'; argv: string[]; allowFailure?: boolean; warnOnFailure?: boolean; env?: Record<string, string>}
  /** Fail unless the jail is gone (or dying): what follows must not touch a live jail. */
  | {kind: 'check-removed'; jail: string}
  /** Write a file on the host. */
  | {kind: 'write'; path: string; content: string; mode?: number}
  /** Remove a file on the host. */
  | {kind: 'remove'; path: string}
  /**
   * Remove a directory tree on the host (a directory child's root): refused while anything is
   * mounted below it, so that nothing is removed through a nullfs mount.
   */
  | {kind: 'remove-tree'; path: string}
  /** Create a directory on the host. */
  | {kind: 'mkdir'; path: string}
  /** Check a file's SHA-256 against its line in a release MANIFEST. */
  | {kind: 'verify'; file: string; manifest: string; entry: string}
  /** Copy a directory tree on the host (a thick jail's root from its release). */
  | {kind: 'copy'; from: string; to: string}
  /**
   * Run nest inside a running jail (a child manager) with `--json`: `jexec <in> nest ...argv`.
   * `as` is the path the inner nest names its jail by in messages (`web/db`, not `db`).
   */
  | {kind: 'nest'; in: string; argv: string[]; as: string}
  /** Unmount everything below a jail's root, deepest first (nest cleanup). */
  | {kind: 'cleanup'; jail: string; root: string}

export interface Step {
  /** A short id: `write jail.conf`, `zfs create`, `jail -c`. */
  id: string
  /** Why the step is there (shown by --dry-run). */
  why: string
  action: Action
  /** Undo a completed step when a later one fails, in this order. */
  undo: Action[]
  /** Clean up after this step itself failed half way (jail(8) undoes its own steps, not exec.start's). */
  onFailure?: Action[]
}

/** One line per action, as --dry-run prints it. */
export function describeAction(a: Action): string {
  switch (a.kind) {
    case 'run': return [...Object.entries(a.env ?? {}).map(([k, v]) => `${k}=${v}`), ...a.argv].map((w) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replaceAll("'", "'\\''")}'`)).join(' ')
    case 'write': return `write ${a.path}`
    case 'remove': return `remove ${a.path}`
    case 'remove-tree': return `rm -rf ${a.path}`
    case 'check-removed': return `jls: ${a.jail} must be gone`
    case 'mkdir': return `mkdir ${a.path}`
    case 'verify': return `sha256 -q ${a.file} (must match ${a.entry} in ${a.manifest})`
    case 'copy': return `copy ${a.from} to ${a.to}`
    case 'nest': return `jexec ${a.in} nest ${a.argv.join(' ')} --json`
    case 'cleanup': return `nest cleanup ${a.jail} (unmount everything below ${a.root}, deepest first)`
  }
}
