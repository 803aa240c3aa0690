// oclif's command_not_found hook: a mistyped command is a usage error (exit 2) that names the
// closest command, and under --json it is one JSON document on stdout like every other error.
//
// Why not @oclif/plugin-not-found itself: on a terminal it asks "Did you mean create? (Y/n)",
// default yes, and then runs the guess with the rest of the command line (`nest destory web`
// would destroy web on Enter); it waits up to ten seconds for the answer, also under --json;
// off a terminal it suggests nothing and exits 127. It has no setting to turn the question
// off (oclif/plugin-not-found#965, closed unresolved). nest ranks the commands the same way
// (edit distance over the visible command ids and aliases), never asks, never runs a guess.
import {type Hook, type Interfaces, toConfiguredId} from '@oclif/core'

import {describeError, ERROR_KINDS, type NestError, usage} from '../domain/errors.js'

/** Levenshtein distance: insertions, deletions and substitutions, each costing one. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({length: b.length + 1}, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    prev = row
  }
  return prev[b.length] ?? 0
}

export interface Guess {
  /** The words taken for the command (oclif joins the whole command line into the id). */
  typed: string
  /** The closest command, when one is close: at most half of the typed words' letters change. */
  near?: string
}

/**
 * What was meant by a command line that names no command: for each leading run of its words,
 * the closest command of as many words; the closest of all wins (the longer run on a tie).
 * Hidden commands count only inside their own topic (`nest sim rest` finds `sim reset`).
 */
export function closestCommand(id: string, config: Pick<Interfaces.Config, 'commands' | 'findTopic'>): Guess {
  const words = id.split(':')
  let best: {typed: string; near: string; d: number} | undefined
  for (let k = 1; k <= words.length; k++) {
    const typed = words.slice(0, k).join(':')
    const topic = k > 1 ? `${words[0]}:` : undefined
    for (const c of config.commands) {
      if (c.hidden && (topic === undefined || !c.id.startsWith(topic))) continue
      for (const candidate of [c.id, ...c.aliases]) {
        if (candidate.split(':').length !== k) continue
        const d = editDistance(typed, candidate)
        if (d <= Math.max(2, Math.floor(typed.length / 2)) && (best === undefined || d <= best.d)) best = {typed, near: candidate, d}
      }
    }
  }
  if (best) return {typed: best.typed, near: best.near}
  // Nothing close: the first word, or a topic and the word after it.
  return {typed: words.slice(0, words.length > 1 && config.findTopic(words[0] ?? '') ? 2 : 1).join(':')}
}

/** The usage error of an unknown command, with the closest one as its fix. */
export function unknownCommand(id: string, config: Interfaces.Config): NestError {
  const guess = closestCommand(id, config)
  const fix = guess.near === undefined ? `${config.bin} help lists the commands` : `did you mean ${toConfiguredId(guess.near, config)}?`
  return usage(`${toConfiguredId(guess.typed, config)} is not a ${config.bin} command`, fix)
}

/** --json among the words before `--` (after it they belong to a program). */
export function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--')
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json')
}

const hook: Hook.CommandNotFound = async function (opts) {
  const e = unknownCommand(opts.id, opts.config)
  const status = ERROR_KINDS.usage.exit
  if (wantsJson(process.argv.slice(2))) {
    process.stdout.write(`${JSON.stringify({status, error: e, warnings: []}, null, 2)}\n`)
  } else {
    process.stderr.write(`${opts.config.bin}: ${describeError(e)}\n`)
  }
  this.exit(status)
}

export default hook
