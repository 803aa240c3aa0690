// nest's errors: one table of kinds (kind, exit code, summary, one row each), and a closed
// union tagged by kind derived from it. exitCodeOf, the ERROR CODES section of --help and the
// kinds a child manager's answer may carry all read the same table.

export interface ErrorRow {
  /** The exit status of a nest process that fails with this kind. */
  exit: number
  /** One line for ERROR CODES in --help. */
  summary: string
}

export const ERROR_KINDS = {
  // oclif's own status for a command line it cannot parse; a mistyped command is one too.
  'usage': {exit: 2, summary: 'the command line could not be parsed (unknown command or flag, missing argument)'},
  // A name or value FreeBSD would take apart differently (a dot, a leading dash): refuse before running anything.
  'invalid-input': {exit: 3, summary: 'invalid input: a malformed name, value or file; nothing was changed'},
  // A script can tell "nothing to act on" from a failure.
  'not-found': {exit: 4, summary: 'not found: a jail, policy, release or file that does not exist'},
  // jail(8) and zfs(8) fail half way on a jail that already exists, runs or is stopped.
  'conflict': {exit: 5, summary: 'conflict: the jail or host is not in a state that allows this'},
  // FreeBSD refuses a child's grants inside the parent with a bare "Operation not permitted" half way.
  'preflight': {exit: 6, summary: 'refused before changing anything: FreeBSD would reject this half way'},
  // A tree operation goes on past a failed jail; mounts can stay below a root (Device busy).
  'partial': {exit: 7, summary: 'partial success: some jails succeeded and some failed'},
  // Two nest processes on one jail would interleave jail(8) and zfs(8) calls.
  'busy': {exit: 8, summary: 'busy: another nest process is working on this jail'},
  // nest audit from cron or CI: the report is printed as usual, and the status says it found something.
  'findings': {exit: 9, summary: 'nest audit found something at or above --fail-on (the report is printed as usual)'},
  // A FreeBSD tool failed in a way nest has no better name for: its own words are passed on.
  'host': {exit: 10, summary: 'a host tool failed (its stderr is shown)'},
  // sysexits(3) EX_SOFTWARE: a bug in nest, not in the input or the host.
  'internal': {exit: 70, summary: 'internal error in nest (a bug: please report it)'},
} as const satisfies Record<string, ErrorRow>

export type NestErrorKind = keyof typeof ERROR_KINDS

interface Fixable {
  message: string
  /** What to do about it, in one line (a command when there is one). */
  fix?: string
  /** The step that failed, as its command reads (`zfs jail web.db zroot/...`): a plan's failure names it. */
  step?: string
}

/** The kinds that carry more (or less) than a message and a fix. */
interface Special {
  /** `details`: what did happen (each jail's outcome, the mounts that stay). */
  partial: Fixable & {details?: unknown}
  /** The tool, its argv, how it ended and its last lines of stderr. */
  host: Fixable & {tool: string; argv: string[]; exitCode: number | null; signal: string | null; stderr: string; durationMs: number}
  internal: {message: string; step?: string}
}

type PayloadOf<K extends NestErrorKind> = K extends keyof Special ? Special[K] : Fixable

export type NestError = {[K in NestErrorKind]: {kind: K} & PayloadOf<K>}[NestErrorKind]

/** Exit status per kind, from the table. */
export function exitCodeOf(kind: NestErrorKind): number {
  return ERROR_KINDS[kind].exit
}

/** Is this a kind nest knows (an inner nest's JSON answer, read back by the host)? */
export function isErrorKind(kind: unknown): kind is NestErrorKind {
  return typeof kind === 'string' && Object.hasOwn(ERROR_KINDS, kind)
}

/** The ERROR CODES section of --help: success, then one line per kind. */
export const ERROR_CODES: ReadonlyArray<readonly [number, string]> = [
  [0, 'success'],
  ...Object.values(ERROR_KINDS).map((r): readonly [number, string] => [r.exit, r.summary]),
]

type FixableKind = Exclude<NestErrorKind, keyof Special>

const make = <K extends FixableKind>(kind: K) => (message: string, fix?: string): NestError =>
  (fix === undefined ? {kind, message} : {kind, message, fix}) as NestError

export const usage = make('usage')
export const invalidInput = make('invalid-input')
export const notFound = make('not-found')
export const conflict = make('conflict')
export const preflight = make('preflight')
export const busy = make('busy')
export const internal = (message: string): NestError => ({kind: 'internal', message})

/** Some jails succeeded and some failed: `details` says what did happen. */
export function partial(message: string, fix?: string, details?: unknown): NestError {
  return {kind: 'partial', message, ...(fix === undefined ? {} : {fix}), ...(details === undefined ? {} : {details})}
}

/**
 * A failure at one step of a plan, as a human reads it: the jail, the step's command, then what
 * went wrong (`web/db: step "zfs jail web.db zroot/...": zfs: Input/output error`). A failure
 * that names its step already (an inner nest's, deeper and more precise) is kept as it is.
 */
export function atStep(e: NestError, jail: string, step: string): NestError {
  if (e.step !== undefined) return e
  const own = `${jail}: `
  const reason = e.message.startsWith(own) ? e.message.slice(own.length) : e.message
  return {...e, message: `${jail}: step "${step}": ${reason}`, step}
}

/** The same failure with a fix where it has none (an internal error's fix is always: report it). */
export function withFix(e: NestError, fix: string): NestError {
  return e.kind === 'internal' || ('fix' in e && e.fix) ? e : {...e, fix}
}

/** One line for a human: what is wrong, then what to do. */
export function describeError(e: NestError): string {
  const fix = 'fix' in e && e.fix ? ` (${e.fix})` : ''
  return `${e.message}${fix}`
}
