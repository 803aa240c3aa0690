// What a command hands to its use case: the host it acts on, how it talks to the user, and the
// facts its process was started with. Built by the CLI (src/cli), used by every layer below it,
// so that none of them imports the CLI.
import type {HostInfo} from '../host/select.js'

/** Siblings acted on at once by default (jail(8) calls this -p). */
export const DEFAULT_PARALLEL = 4

/**
 * Set by nest on the `jail -r` it runs: nest has stopped the jail's children and cleans up right
 * after, so the exec.prestop and exec.release hooks have nothing to do. jail(8) passes its
 * environment to every hook (usr.sbin/jail/command.c, run_command) unless exec.clean is set,
 * which empties it for every hook, outside the jail too: nest never writes exec.clean (a
 * policy may not set exec.* parameters), and a conf that has it still works, its hooks just
 * always run nest.
 */
export const CLEANUP_FOLLOWS = 'NEST_CLEANUP_FOLLOWS'

/** The environment variable that carries a child manager's world (JSON), from the nest that runs it. */
export const WORLD_ENV = 'NEST_WORLD'

export interface CommandCtx {
  host: HostInfo
  json: boolean
  verbose: boolean
  /** Progress, notices and warnings: stderr, never stdout. */
  note(line: string): void
  /** A warning: on stderr, and inside the JSON document under --json. */
  warn(line: string): void
  /** A jail's step as it starts: on a terminal, its live line (stderr; not under --json). */
  progress(line: string): void
  /** Run by a hook of a `jail -r` that nest itself runs, and cleans up after (NEST_CLEANUP_FOLLOWS). */
  cleanupFollows: boolean
  /** The world the nest that runs this child manager handed it (NEST_WORLD, JSON), if any. */
  childWorld?: string
  /** A jail is done: its live line on a terminal, else one line on stderr (not under --json). */
  finished(line: string): void
}
