// The one base class that owns the edges (house style §2): --json and its envelope, the
// output streams, host selection, and turning a Result into an exit code.
import {Command, Errors, Flags, type Interfaces, toConfiguredId} from '@oclif/core'
import type {ResultAsync} from 'neverthrow'

import {describeError, exitCodeOf, type NestError, usage, withFix} from '../domain/errors.js'
import {shellWords} from '../domain/shell.js'
import {CLEANUP_FOLLOWS, type CommandCtx, WORLD_ENV} from '../context/command.js'
import {invocation} from '../context/invocation.js'
import {selectHost} from '../host/select.js'
import {AS_ENV, renameChild} from '../host/tools/nest.js'
import {renderTreeSteps, type TreeResult} from '../render/jails.js'
import {wantsJson} from './not-found.js'
import {makeProgress} from './progress.js'


export type {CommandCtx}

export type BaseFlags = Interfaces.InferredFlags<typeof NestCommand.baseFlags>

export abstract class NestCommand extends Command {
  static override baseFlags = {
    json: Flags.boolean({description: 'Print one JSON document on stdout (also on failure).', helpGroup: 'GLOBAL'}),
    host: Flags.string({description: 'Host to act on: freebsd, or sim (the simulated FreeBSD host). Default: freebsd on FreeBSD, sim elsewhere; or $NEST_HOST.', options: ['freebsd', 'sim'], helpGroup: 'GLOBAL'}),
    verbose: Flags.boolean({description: 'Log every command nest runs (on stderr).', helpGroup: 'GLOBAL'}),
  }

  private collected: string[] = []
  private jsonMode = false

  /** Parse, select the host, run one service, print its answer or its error. */
  protected async runWith<T, F extends {json: boolean; host: string | undefined; verbose: boolean}>(
    flags: F,
    work: (ctx: CommandCtx) => ResultAsync<T, NestError>,
    render: (result: T) => string,
    statusOf: (result: T) => number = () => 0,
  ): Promise<void> {
    this.jsonMode = flags.json
    const inv = invocation()
    const board = makeProgress((t) => inv.err(t), {tty: inv.isTTY, json: flags.json, columns: inv.columns})
    // A child manager names its jail as the user does (`gw/hub: …`, not `hub: …`); its JSON answer is renamed by its caller.
    const as = /^([A-Za-z0-9_-]+)=(\S+)$/.exec(inv.env[AS_ENV] ?? '')
    delete inv.env[AS_ENV]
    const named = (line: string): string => (as ? renameChild(line, as[1] as string, as[2] as string) : line)
    const note = (line: string): void => board.say(named(line))
    const warn = (line: string): void => {
      this.collected.push(named(line))
      board.say(`warning: ${named(line)}`)
    }
    const progress = (line: string): void => board.step(named(line))
    const finished = (line: string): void => board.finished(named(line))
    // A child manager's world is for this process alone, never for the programs it runs.
    const childWorld = inv.env[WORLD_ENV]
    delete inv.env[WORLD_ENV]
    const result = await selectHost(flags.host, note, inv.env).andThen((host) =>
      work({
        host, json: flags.json, verbose: flags.verbose || inv.env['NEST_DEBUG'] === '1', note, warn, progress, finished,
        cleanupFollows: inv.env[CLEANUP_FOLLOWS] === '1', ...(childWorld ? {childWorld} : {}),
      }),
    )
    board.end()
    if (result.isOk()) {
      const status = statusOf(result.value)
      if (flags.json) this.emitJson({status, result: result.value, warnings: this.collected})
      else {
        const text = render(result.value)
        if (text) inv.out(text.endsWith('\n') ? text : `${text}\n`)
      }
      inv.setExitCode(status)
      return
    }
    this.fail(result.error)
  }

  private emitJson(doc: unknown): void {
    invocation().out(`${JSON.stringify(doc, null, 2)}\n`)
  }

  /** This command line as the user typed it (what a fix says to run again). */
  private again(): string {
    return shellWords(['nest', ...(this.id ?? '').split(':'), ...this.argv.filter((a) => a !== '--json')])
  }

  /**
   * Every failure names its step and says what to do: a tool's failure outside a plan (a read)
   * names its command; in plain output, a failure without a fix of its own is fixed by running
   * the command again once its cause is gone (a plan's failure has undone what it did). A
   * child manager (always --json) leaves that to the nest that called it, which knows the
   * command line the user typed.
   */
  private explained(e: NestError): NestError {
    const read = e.kind === 'host' && e.step === undefined
    const named = read ? {...e, message: `step "${shellWords(e.argv)}": ${e.message}`, step: shellWords(e.argv)} : e
    const fix = read || e.step === undefined ? `once the cause is fixed, run ${this.again()} again` : `what it had done is undone; once the cause is fixed, run ${this.again()} again`
    return this.jsonMode ? named : withFix(named, fix)
  }

  protected fail(error: NestError): void {
    const e = this.explained(error)
    const status = exitCodeOf(e.kind)
    if (this.jsonMode) this.emitJson({status, error: e, warnings: this.collected})
    else {
      // A partial tree operation still answers for every jail it touched.
      const details = e.kind === 'partial' ? (e.details as Partial<TreeResult> | undefined) : undefined
      if (details && Array.isArray(details.jails)) invocation().out(`${renderTreeSteps(details as TreeResult)}\n`)
      invocation().err(`nest: ${describeError(e)}\n`)
    }
    invocation().setExitCode(status)
  }

  /** A command line oclif cannot parse (the usage kind) still gets one JSON document under --json. */
  protected override async catch(error: Error & {exitCode?: number}): Promise<unknown> {
    if (error instanceof Errors.CLIError && wantsJson(this.argv)) {
      this.jsonMode = true
      this.fail(usage(error.message, `${this.config.bin} ${this.id ? `${toConfiguredId(this.id, this.config)} ` : ''}--help`))
      return
    }
    return super.catch(error)
  }
}
