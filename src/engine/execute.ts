// Executing a plan: steps in order; on the first failure, the failing step's own clean-up,
// then the completed steps undone in reverse (house style §8). Undo is best effort and says
// what it could not undo, so a re-run can converge.
import {errAsync, okAsync, ResultAsync} from 'neverthrow'

import {atStep, conflict, internal, withFix, invalidInput, type NestError} from '../domain/errors.js'
import {shortStderr} from '../host/exec.js'
import {isDying, listJails} from '../host/tools/jls.js'
import {isBelow, listMounts} from '../host/tools/mount.js'
import {runChild} from '../host/tools/nest.js'
import type {Host} from '../host/host.js'
import {rcEdit, rcProblem} from '../domain/rcconf.js'
import {CONF_DIR} from '../model/layout.js'
import {type Action, commandOf, describeAction, type Step} from '../plan/steps.js'
import {cleanupBelow, type CleanupResult, cleanupUnlessRunning, unmountBatch} from './cleanup.js'

export interface EngineCtx {
  host: Host
  /** Progress lines (stderr). */
  progress(line: string): void
  /** Warnings (stderr, and in the JSON document). */
  warn(line: string): void
  parallel: number
  /** Told of each jail of a tree plan as its outcome is known. */
  settled?(jail: string, outcome: {status: 'done'} | {status: 'failed'; error: NestError} | {status: 'skipped'; because: string}, verb: 'start' | 'stop' | 'destroy'): void
}

/** What an action gives back besides success. */
export interface ActionOut {
  /** What an unmount or cleanup step unmounted, per root. */
  cleanups?: CleanupResult[]
  /** A child manager's answer (its JSON document). */
  doc?: unknown
  /** What a program printed (`jail -i -c` prints the new jail's jid). */
  stdout?: string
}

export interface StepDone extends ActionOut {
  id: string
  action: string
}

export function leftoverError(c: CleanupResult): NestError {
  const first = c.remaining[0]
  return {
    kind: 'partial',
    message: `${c.jail}: ${c.remaining.length} mount(s) stay below ${c.root}${first ? ` (${first.on}: ${first.reason})` : ''}`,
    fix: `find what holds them (fstat, jls -d), then run nest cleanup ${c.jail} --force`,
  }
}

export function runAction(ctx: EngineCtx, a: Action): ResultAsync<ActionOut | undefined, NestError> {
  switch (a.kind) {
    case 'run':
      return ctx.host.run(a.argv, {...(a.allowFailure || a.gone ? {allowFailure: true} : {}), ...(a.env ? {env: a.env} : {})}).andThen((r) => {
        if (r.exitCode === 0 || !a.gone) return okAsync<ActionOut | undefined, NestError>({stdout: r.stdout})
        const said = shortStderr(r.stderr).split('\n').filter((l) => l !== '')
        // Only now is jls asked: the jail must be gone before its mounts are touched.
        const jail = a.gone
        return listJails(ctx.host).andThen((jails) => {
          if (jails.some((j) => j.name === jail && !isDying(j))) return errAsync(conflict(`${jail.replaceAll('.', '/')}: still running after jail -r${said.length ? ` (${said.at(-1)})` : ''}`, `see its configuration; jail -f ${CONF_DIR}/${jail}.conf -r ${jail} shows why`))
          for (const l of said) ctx.warn(l)
          const epair = a.epair === undefined ? okAsync<undefined, NestError>(undefined) : ctx.host.run(['ifconfig', a.epair, 'destroy'], {allowFailure: true}).map(() => undefined)
          if (a.root === undefined) return epair
          const root = a.root
          return epair.andThen(() => cleanupBelow(ctx.host, jail, root, {force: false})).map((c): ActionOut => ({cleanups: [c]}))
        })
      })
    case 'unmount':
      return unmountBatch(ctx.host, a).map((cleanups) => ({cleanups}))
    case 'write':
      return ctx.host.files.write(a.path, a.content, a.mode, a.within).map(() => undefined)
    case 'rcconf': {
      const bad = a.set.map(([k, v]) => rcProblem(k, v)).find((x) => x !== null)
      if (bad) return errAsync(invalidInput(`${a.path}: ${bad}`, 'give plain values (addresses, interface names)'))
      return ctx.host.files.read(a.path, a.within).andThen((text) => ctx.host.files.write(a.path, rcEdit(text ?? '', a.set, a.comment), 0o644, a.within)).map(() => undefined)
    }
    case 'remove':
      return ctx.host.files.remove(a.path, a.within).map(() => undefined)
    case 'remove-tree':
      return listMounts(ctx.host).andThen((table) => {
        const held = table.mounts.find((m) => m.on === a.path || isBelow(m.on, a.path))
        if (held) return errAsync(conflict(`${a.path}: ${held.type} is still mounted on ${held.on}, so its files are not removed`, `unmount it first: umount ${held.on}`))
        // A mount nest cannot read may be below it: its files are not removed on a guess.
        const unsure = table.unreadable.find((u) => u.includes(a.path))
        if (unsure) return errAsync(conflict(`${a.path}: mount -p ${unsure}: something may be mounted below it, so its files are not removed`, `unmount it by hand (umount), then run the command again`))
        return ctx.host.files.removeTree(a.path, a.within).map(() => undefined)
      })
    case 'mkdir':
      return ctx.host.files.mkdir(a.path, a.within).map(() => undefined)
    case 'chmod':
      return ctx.host.files.chmod(a.path, a.mode).map(() => undefined)
    case 'verify':
      return verifyManifest(ctx, a.file, a.manifest, a.entry).map(() => undefined)
    case 'copy':
      return ctx.host.files.copy(a.from, a.to, a.within).map(() => undefined)
    case 'nest':
      return runChild(ctx.host, a).map((doc) => ({doc}))
    case 'bridge-gone':
      // ifconfig's status of a bridge lists each member on a `member:` line (sbin/ifconfig/ifbridge.c bridge_status).
      return ctx.host.run(['ifconfig', a.bridge], {allowFailure: true}).andThen((r) => {
        if (r.exitCode !== 0 || /^\s+member: /m.test(r.stdout)) return okAsync(undefined)
        return ctx.host.run(['ifconfig', a.bridge, 'destroy']).map(() => undefined)
      })
    case 'cleanup':
      return cleanupUnlessRunning(ctx.host, a.jail, a.root, ctx.warn).map((c) => ({cleanups: [c]}))
    case 'pipe':
      return ctx.host.pipe(a.from, a.to).map(() => undefined)
    case 'wait-gone':
      return waitGone(ctx, a.path, a.seconds, a.what)
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Poll (twice a second) until nothing is at `path`; a timeout says what did not happen. */
function waitGone(ctx: EngineCtx, p: string, seconds: number, what: string): ResultAsync<undefined, NestError> {
  const until = Date.now() + seconds * 1000
  const poll = (): ResultAsync<undefined, NestError> => ctx.host.files.kind(p).andThen((k) => {
    if (k === 'none') return okAsync(undefined)
    if (Date.now() >= until) return errAsync(conflict(`${what}: ${p} is still there after ${seconds} s`, 'see why it does not stop (its console), stop it by hand, then run the command again'))
    return ResultAsync.fromSafePromise(sleep(500)).andThen(poll)
  })
  return poll()
}

/** base.txz against MANIFEST (tab-separated: file, sha256, count, name, description, default). */
function verifyManifest(ctx: EngineCtx, file: string, manifest: string, entry: string): ResultAsync<void, NestError> {
  return ResultAsync.combine([ctx.host.files.read(manifest), ctx.host.run(['sha256', '-q', file])]).andThen(([text, sum]) => {
    const line = (text ?? '').split('\n').map((l) => l.split('\t')).find((f) => f[0] === entry)
    if (!line) return errAsync(invalidInput(`${manifest}: no line for ${entry}`, 'give the MANIFEST of the same release'))
    if (line[1] !== sum.stdout.trim()) return errAsync(invalidInput(`${file}: SHA-256 ${sum.stdout.trim()} does not match ${manifest} (${line[1]})`, 'fetch the archive again'))
    return okAsync(undefined)
  })
}

/** An action, where mounts that stay below a root fail it: what follows must not find them. */
function runChecked(ctx: EngineCtx, a: Action): ResultAsync<ActionOut | undefined, NestError> {
  return runAction(ctx, a).andThen((out) => {
    const stuck = out?.cleanups?.find((c) => c.remaining.length > 0)
    return stuck ? errAsync(leftoverError(stuck)) : okAsync(out)
  })
}

/** Run actions one after the other, keep going on failure; the messages of those that failed. */
async function bestEffort(ctx: EngineCtx, actions: readonly Action[]): Promise<string[]> {
  const failed: string[] = []
  for (const a of actions) {
    const r = await runChecked(ctx, a)
    if (r.isErr()) failed.push(`${describeAction(a)}: ${r.error.message}`)
  }
  return failed
}

export function executePlan(ctx: EngineCtx, label: string, steps: readonly Step[]): ResultAsync<StepDone[], NestError> {
  return new Transaction(ctx, label).run(steps)
}

/**
 * A plan run in parts, each part planned from what the earlier ones found (a migration plans
 * its receives from the pool it imported): one rollback for all of it. A failure in any part
 * runs the failing step's own clean-up, then undoes every completed step of every part, last
 * first. `release` runs the undo of completed steps now, on success too (temporaries: a clone,
 * an imported pool), and forgets them, so a later failure does not undo them twice.
 */
export class Transaction {
  private readonly completed: Step[] = []
  private failed = false

  constructor(private readonly ctx: EngineCtx, private readonly label: string) {}

  run(steps: readonly Step[]): ResultAsync<StepDone[], NestError> {
    if (this.failed) return errAsync(internal(`${this.label}: a part ran after the plan had failed`))
    return ResultAsync.fromSafePromise(this.runSteps(steps)).andThen((r) => (r.error ? errAsync(r.error) : okAsync(r.done)))
  }

  /** Undo the completed steps `which` picks, now, last first; what could not be undone is the error. */
  release(which: (s: Step) => boolean): ResultAsync<void, NestError> {
    const picked = this.completed.filter(which)
    const run = async (): Promise<string[]> => {
      const failures: string[] = []
      for (const prev of [...picked].reverse()) {
        if (prev.record && failures.length > 0) {
          failures.push(`${prev.id}: not undone: it records what is left, which a re-run undoes`)
        } else {
          if (prev.undo.length > 0) this.ctx.progress(`${this.label}: ${prev.id}: undo`)
          failures.push(...await bestEffort(this.ctx, prev.undo))
        }
        this.completed.splice(this.completed.indexOf(prev), 1)
      }
      return failures
    }
    return ResultAsync.fromSafePromise(run()).andThen((failures) => (failures.length === 0 ? okAsync(undefined)
      : errAsync(withFix(conflict(`${this.label}: ${failures.join('; ')}`), 'run the same command again once the cause is fixed: nest finishes or undoes what is left'))))
  }

  /**
   * Fail the whole plan without a failing step (a refusal found half way): everything completed
   * is undone. After a failed step (already rolled back) it only passes the error on.
   */
  abort(e: NestError): ResultAsync<never, NestError> {
    const run = async (): Promise<NestError> => {
      this.failed = true
      const had = this.completed.length > 0
      const failures = await this.undoAll()
      if (failures.length > 0) return withFix({...e, message: `${e.message}; rolling back left: ${failures.join('; ')}`}, 'run the same command again once the cause is fixed: nest finishes or undoes what is left')
      if (had) this.ctx.progress(`${this.label}: rolled back`)
      return e
    }
    return ResultAsync.fromSafePromise(run()).andThen((x) => errAsync(x))
  }

  /** Undo every completed step, last first, once: they are forgotten as they are undone. */
  private async undoAll(): Promise<string[]> {
    const failures: string[] = []
    for (const prev of [...this.completed].reverse()) {
      if (prev.record && failures.length > 0) {
        failures.push(`${prev.id}: not undone: it records what is left, which a re-run undoes`)
        continue
      }
      if (prev.undo.length > 0) this.ctx.progress(`${this.label}: undo ${prev.id}`)
      failures.push(...await bestEffort(this.ctx, prev.undo))
    }
    this.completed.length = 0
    return failures
  }

  private async runSteps(steps: readonly Step[]): Promise<{done: StepDone[]; error?: NestError}> {
    const ctx = this.ctx
    const label = this.label
    const done: StepDone[] = []
    for (const step of steps) {
      ctx.progress(`${label}: ${step.id}`)
      const r = await runChecked(ctx, step.action)
      if (r.isOk()) {
        done.push({...r.value, id: step.id, action: describeAction(step.action)})
        this.completed.push(step)
        continue
      }
      this.failed = true
      const skipped = (a: Action): boolean => a.kind === 'run' && a.unlessSaid !== undefined && r.error.message.includes(a.unlessSaid)
      const failures = await bestEffort(ctx, (step.onFailure ?? []).filter((a) => !skipped(a)))
      const kept = (step.onFailure ?? []).flatMap((a) => (a.kind === 'run' && a.kept !== undefined && skipped(a) ? [a.kept] : []))
      const hadWork = this.completed.length > 0
      failures.push(...await this.undoAll())
      const at = atStep(r.error, label, commandOf(step.action))
      const e = kept.length > 0 ? {...at, message: `${at.message}; ${kept.join('; ')}`} : at
      if (failures.length > 0) {
        return {done, error: withFix({...e, message: `${e.message}; rolling back left: ${failures.join('; ')}`}, 'run the same command again once the cause is fixed: nest finishes or undoes what is left')}
      }
      if (hadWork || (step.onFailure ?? []).length > 0) ctx.progress(`${label}: rolled back`)
      return {done, error: e}
    }
    return {done}
  }
}
