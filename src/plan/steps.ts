// Plans are data (house style §8, §9): ordered steps, each with the actions that undo it.
// A step names what it does in jail(8)'s and zfs(8)'s own words.
import {NEST_ENTRY} from '../domain/install.js'
import type {RcSet} from '../domain/rcconf.js'
import {shellWords} from '../domain/shell.js'


export type Action =
  /** Run a program (an argv array, never a shell string). */
  | {
    kind: 'run'; argv: string[]; allowFailure?: boolean; env?: Record<string, string>
    /**
     * `jail -r NAME`: a non-zero exit is a warning once jls shows the jail gone (jail(8) reports a
     * hook's failure after the removal too); a failure only while the jail is still alive.
     */
    gone?: string
    /**
     * With `gone`: the jail's root. A jail -r that failed for a jail now gone may have failed to
     * unmount what jail(8) unmounts itself (mount.devfs, its mount lines): what is left below the
     * root is unmounted then (and what stays reported), not left mounted behind a success.
     * (usr.sbin/jail/jail.c: failures after the removal are reported, exit 1, and the
     * remaining stop steps still run.)
     */
    root?: string
    /**
     * With `gone`: the a side of the jail's epair. A jail -r that failed for a jail now gone may
     * have failed in exec.poststop, which destroys it: then nest destroys it (when it is there).
     */
    epair?: string
    /**
     * In a failed step's onFailure: not run when the step's error says this (jail(8) names the
     * exec.prestart command that failed: usr.sbin/jail/command.c finish_command; a start whose
     * epair create failed made no epair, and the one there is another's).
     */
    unlessSaid?: string
    /** With `unlessSaid`: what the step's error adds when this is not run (what is left, and what to do). */
    kept?: string
  }
  /**
   * Unmount, in one umount(8) call (argv), the mounts below these roots, deepest first; what
   * umount refuses is read back with one mount -p and reported per root.
   */
  | {kind: 'unmount'; argv: string[]; roots: Array<{jail: string; root: string; mounts: Array<{on: string; type: string}>}>}
  /**
   * Write a file on the host. The file actions' `within`: the root of the jail (in this nest's
   * view) that the path lies below, set by the planner; below it no link is followed, no FIFO
   * or device opened, nothing large read (src/host/files.ts).
   */
  | {kind: 'write'; path: string; content: string; mode?: number; within?: string}
  /** Set variables in an rc.conf file as sysrc(8) does (src/domain/rcconf.ts): read, edited, written whole. */
  | {kind: 'rcconf'; path: string; set: RcSet; comment?: string; within?: string}
  /** Remove a file on the host. */
  | {kind: 'remove'; path: string; within?: string}
  /**
   * Remove a directory tree on the host (a directory child's root): refused while anything is
   * mounted below it, so that nothing is removed through a nullfs mount.
   */
  | {kind: 'remove-tree'; path: string; within?: string}
  /** Create a directory on the host. */
  | {kind: 'mkdir'; path: string; within?: string}
  /** Set a host directory's mode (never through a link): a jail's container closed to host users. */
  | {kind: 'chmod'; path: string; mode: number}
  /** Check a file's SHA-256 against its line in a release MANIFEST. */
  | {kind: 'verify'; file: string; manifest: string; entry: string}
  /** Copy a directory tree on the host (a thick jail's root from its release). */
  | {kind: 'copy'; from: string; to: string; within?: string}
  /**
   * Run nest inside a running jail (a child manager) with `--json`: `jexec <in> nest ...argv`.
   * `as` is the path the inner nest names its jail by in messages (`web/db`, not `db`).
   */
  | {kind: 'nest'; in: string; argv: string[]; as: string; env?: Record<string, string>}
  /** Destroy a bridge when it exists and has no member (one a rollback's jail made, that nothing else joined since). */
  | {kind: 'bridge-gone'; bridge: string}
  /** Unmount everything below a jail's root, deepest first (nest cleanup). */
  | {kind: 'cleanup'; jail: string; root: string}
  /**
   * Two programs joined by a pipe, `from`'s stdout into `to`'s stdin (`zfs send | zfs recv`,
   * `tar -c | tar -x`): nothing goes through nest, and the step fails when either side does.
   */
  | {kind: 'pipe'; from: string[]; to: string[]}
  /** Wait until nothing is at `path` (a vm-bhyve guest's /dev/vmm/NAME once it powered off), polling, at most `seconds`. */
  | {kind: 'wait-gone'; path: string; seconds: number; what: string}

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
  /**
   * What the step made is a temporary of the operation (a snapshot, a clone, an imported pool):
   * its undo runs on success too, once it has served (engine/execute.ts Transaction.release).
   */
  temporary?: true
  /**
   * What the step made is the record of what is left to undo (a migration's work dataset and its
   * nest:* properties, which a re-run reads): its undo is skipped once an undo before it failed,
   * so that the re-run still finds what to undo (engine/execute.ts).
   */
  record?: true
}


/** A value too long to read (a child manager's world) is shown by its size. */
const envWords = (env: Record<string, string> | undefined): string =>
  Object.entries(env ?? {}).map(([k, v]) => (v.length > 80 ? `${k}=<${v.length} bytes of JSON> ` : `${shellWords([`${k}=${v}`])} `)).join('')

/** `zfs destroy -r`: what undoes a dataset nest created (and everything nest made below it). */
export const destroyDs = (ds: string): Action => ({kind: 'run', argv: ['zfs', 'destroy', '-r', ds]})

/** One line per action, as --dry-run prints it. */
export function describeAction(a: Action): string {
  return a.kind === 'run' || a.kind === 'nest' ? envWords(a.env) + commandOf(a) : commandOf(a)
}

/** What an action runs or changes, without the environment it adds: how a failure names its step. */
export function commandOf(a: Action): string {
  switch (a.kind) {
    case 'run': return shellWords(a.argv)
    case 'unmount': return shellWords(a.argv)
    case 'write': return `write ${a.path}`
    case 'rcconf': return `sysrc -f ${a.path} ${a.set.map(([k, v]) => (v === null ? `-x ${k}` : `${k}=${shellWords([v])}`)).join(' ')}`
    case 'remove': return `remove ${a.path}`
    case 'remove-tree': return `rm -rf ${a.path}`
    case 'mkdir': return `mkdir ${a.path}`
    case 'chmod': return `chmod ${a.mode.toString(8).padStart(4, '0')} ${a.path}`
    case 'verify': return `sha256 -q ${a.file} (must match ${a.entry} in ${a.manifest})`
    case 'copy': return `copy ${a.from} to ${a.to}`
    case 'nest': return shellWords(['jexec', a.in, NEST_ENTRY, ...a.argv, '--json'])
    case 'bridge-gone': return `ifconfig ${a.bridge} destroy (when no interface is a member of it)`
    case 'cleanup': return `nest cleanup ${a.jail} (unmount everything below ${a.root}, deepest first)`
    case 'pipe': return `${shellWords(a.from)} | ${shellWords(a.to)}`
    case 'wait-gone': return `wait until ${a.path} is gone (${a.what}; at most ${a.seconds} s)`
  }
}
