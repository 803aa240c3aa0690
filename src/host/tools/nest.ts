// nest itself inside a running jail (a child manager): `jexec <jail> nest ... --json`. Its
// stderr (progress, notices) reaches the user as it comes; its one JSON document is the answer.
import {errAsync, okAsync, type ResultAsync} from 'neverthrow'

import {internal, isErrorKind, type NestError} from '../../domain/errors.js'
import {NEST_ENTRY} from '../../domain/install.js'
import type {Host} from '../host.js'

export interface ChildCall {
  /** The jail to run nest in, as the caller names it (`web`, `web.db`). */
  in: string
  /** nest's arguments, the command then the jail (`create`, `db`, `--policy`, `parent`): `--json` is added. */
  argv: string[]
  /** How the user names the child (`web/db`): the inner nest only knows `db`. */
  as: string
  /** More environment for the child manager (its world: NEST_WORLD). */
  env?: Record<string, string>
}

/** The inner nest says `db: ...` and `nest start db`; the user typed web/db. */
export function renameChild(text: string, inner: string, as: string): string {
  const esc = inner.replaceAll(/[.*+?^${}()|[\]\\]/g, '\\$&')
  return text.replace(new RegExp(`^${esc}(?=[:/ ]|$)`), as).replaceAll(new RegExp(`(\\bnest [a-z-]+(?: --?[a-z-]+)* )${esc}\\b`, 'g'), `$1${as}`)
}

/** `INNER=AS`: how the child manager's notes, on the user's terminal, name its jail as the user does (`hub=gw/hub`). */
export const AS_ENV = 'NEST_AS'

export function runChild(host: Host, c: ChildCall): ResultAsync<unknown, NestError> {
  const inner = c.argv[1] ?? ''
  const argv = ['jexec', c.in, NEST_ENTRY, ...c.argv, '--json']
  // Only for the commands of one jail (create, destroy): a tree call's lines name several.
  const single = c.argv[0] === 'create' || c.argv[0] === 'destroy'
  const env = {...c.env, ...(single && inner !== '' && inner !== c.as ? {[AS_ENV]: `${inner}=${c.as}`} : {})}
  return host.run(argv, {allowFailure: true, stdio: 'stderr', env}).andThen((r) => {
    let doc: unknown
    try {
      doc = JSON.parse(r.stdout)
    } catch {
      doc = undefined
    }
    if (r.exitCode === 0 && doc !== undefined) return okAsync(doc)
    const e = (doc as {error?: {kind?: string; message?: string; fix?: string; step?: unknown; details?: unknown}} | undefined)?.error
    if (e && typeof e.message === 'string' && isErrorKind(e.kind)) {
      // The inner nest's step (a command run inside the parent) says more than the jexec that ran it.
      const step = typeof e.step === 'string' ? {step: e.step} : {}
      if (e.kind === 'host') return errAsync({kind: 'host', message: renameChild(e.message, inner, c.as), tool: 'jexec', argv, exitCode: r.exitCode, signal: null, stderr: '', durationMs: r.durationMs, ...step} satisfies NestError)
      // The user's command line was parsed; the one the inner nest could not parse nest built itself.
      if (e.kind === 'usage') return errAsync(internal(`${c.as}: the nest in ${c.in} could not parse ${['nest', ...c.argv].join(' ')}: ${e.message.split('\n')[0]}`))
      return errAsync({
        kind: e.kind, message: renameChild(e.message, inner, c.as), ...(e.fix ? {fix: renameChild(e.fix, inner, c.as)} : {}), ...step, ...(e.details === undefined ? {} : {details: e.details}),
      } as NestError)
    }
    const said = r.stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '').at(-1) ?? `exit ${r.exitCode}`
    return errAsync({
      kind: 'host', message: `${c.as}: nest in ${c.in} failed: ${said}`, tool: 'jexec', argv, exitCode: r.exitCode, signal: null, stderr: said, durationMs: r.durationMs,
    } satisfies NestError)
  })
}
