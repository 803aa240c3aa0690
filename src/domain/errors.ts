// nest's errors: one closed union tagged by kind, built by small factories. One exhaustive
// switch maps each kind to its exit code; the table is shown in --help as ERROR CODES.

export type NestError =
  /** A malformed argument (a jail name, a number, a file): nothing was run. */
  | {kind: 'invalid-input'; message: string; fix?: string}
  /** Something named does not exist (a jail, a policy, a release, a file). */
  | {kind: 'not-found'; message: string; fix?: string}
  /** The system is not in a state that allows this (already exists, running, stopped). */
  | {kind: 'conflict'; message: string; fix?: string}
  /** A FreeBSD rule would refuse this half way; nest refused it before changing anything. */
  | {kind: 'preflight'; message: string; fix?: string}
  /** Some jails succeeded and some failed. */
  | {kind: 'partial'; message: string; fix?: string; details?: unknown}
  /** Another nest process holds the lock of this jail. */
  | {kind: 'busy'; message: string; fix?: string}
  /** A host tool failed in a way nest could not turn into one of the above. */
  | {kind: 'host'; message: string; tool: string; argv: string[]; exitCode: number | null; signal: string | null; stderr: string; durationMs: number}
  /** A bug in nest. */
  | {kind: 'internal'; message: string}

export type NestErrorKind = NestError['kind']

/** Exit status per kind; 2 is oclif's own for a command line it cannot parse. */
export function exitCodeOf(kind: NestErrorKind): number {
  switch (kind) {
    case 'invalid-input': return 3
    case 'not-found': return 4
    case 'conflict': return 5
    case 'preflight': return 6
    case 'partial': return 7
    case 'busy': return 8
    case 'host': return 10
    case 'internal': return 70
  }
}

export const ERROR_CODES: Array<[number, string]> = [
  [0, 'success'],
  [2, 'the command line could not be parsed (unknown flag, missing argument)'],
  [3, 'invalid input: a malformed name, value or file; nothing was changed'],
  [4, 'not found: a jail, policy, release or file that does not exist'],
  [5, 'conflict: the jail or host is not in a state that allows this'],
  [6, 'refused before changing anything: FreeBSD would reject this half way'],
  [7, 'partial success: some jails succeeded and some failed'],
  [8, 'busy: another nest process is working on this jail'],
  [10, 'a host tool failed (its stderr is shown)'],
  [70, 'internal error in nest (a bug: please report it)'],
]

type Plain = Exclude<NestError, {kind: 'host'}>['kind']

const make = (kind: Plain) => (message: string, fix?: string): NestError =>
  (fix === undefined ? {kind, message} : {kind, message, fix}) as NestError

export const invalidInput = make('invalid-input')
export const notFound = make('not-found')
export const conflict = make('conflict')
export const preflight = make('preflight')
export const partial = make('partial')
export const busy = make('busy')
export const internal = (message: string): NestError => ({kind: 'internal', message})

/** One line for a human: what is wrong, then what to do. */
export function describeError(e: NestError): string {
  const fix = 'fix' in e && e.fix ? ` (${e.fix})` : ''
  return `${e.message}${fix}`
}
