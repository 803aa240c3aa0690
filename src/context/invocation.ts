// One nest invocation's edges: its environment, its output streams, whether stderr is a
// terminal, its exit status, and how its host runs programs. By default these are the
// process's own; a test (or anything that runs several nest command lines in one process at
// once) runs each inside its own context, so that concurrent invocations share no streams, no
// exit code and no environment (NEST_HELD_LOCKS, which nest's hooks inherit, lives there).
import {AsyncLocalStorage} from 'node:async_hooks'

import type {Host} from '../host/host.js'
import type {HostInfo} from '../host/select.js'

export type HostFactory = (info: HostInfo, log?: (line: string) => void) => Host

export interface Invocation {
  env: NodeJS.ProcessEnv
  out(text: string): void
  err(text: string): void
  /** Is stderr a terminal (live progress)? */
  isTTY: boolean
  /** The terminal's width, when it is one. */
  columns?: number
  setExitCode(code: number): void
  /** How this invocation's host runs programs; absent: through the exec boundary. */
  hostFactory?: HostFactory
  /**
   * Set by an in-process runner when the invocation was ended as `kill -9` ends a process (the
   * simulator's crash mode): nothing of it runs any more (the runner marks it dead for its locks
   * too: markInvocationDead).
   */
  dead?: boolean
}

const processInvocation: Invocation = {
  get env() {
    return process.env
  },
  out: (text) => {
    process.stdout.write(text)
  },
  err: (text) => {
    process.stderr.write(text)
  },
  get isTTY() {
    return process.stderr.isTTY === true
  },
  get columns() {
    return process.stderr.columns
  },
  setExitCode: (code) => {
    process.exitCode = code
  },
}

// One store per process even when this module is loaded twice (compiled by oclif from dist/,
// and from source by a test runner): both copies must see the same context.
const KEY = Symbol.for('nest.invocation')
const holder = globalThis as {[KEY]?: AsyncLocalStorage<Invocation>}
const storage: AsyncLocalStorage<Invocation> = (holder[KEY] ??= new AsyncLocalStorage<Invocation>())

/** The current invocation: the one `withInvocation` set up, else the process itself. */
export function invocation(): Invocation {
  return storage.getStore() ?? processInvocation
}

// Which invocations of this process are still running, by token: a lock whose owner record
// names this process and a token not here is a dead owner's (src/engine/lock.ts), which is
// how an invocation that ended without releasing its locks (a crash in-process) is told apart
// from one still at work. One registry per process, as for the store above.
const LIVE = Symbol.for('nest.invocation.live')
const reg = globalThis as {[LIVE]?: {next: number; tokens: WeakMap<Invocation, string>; live: Set<string>}}
const registry = (reg[LIVE] ??= {next: 1, tokens: new WeakMap(), live: new Set(['main'])})

/** The token of an invocation (`main` for the process's own): what a lock's owner record names. */
export function invocationToken(inv: Invocation = invocation()): string {
  if (inv === processInvocation) return 'main'
  let t = registry.tokens.get(inv)
  if (t === undefined) {
    t = `i${registry.next++}`
    registry.tokens.set(inv, t)
    registry.live.add(t)
  }
  return t
}

/** Is the invocation with this token still running in this process? */
export function isInvocationLive(token: string): boolean {
  return registry.live.has(token)
}

/**
 * Mark an invocation as gone (the current one by default): the locks it holds count as a dead
 * owner's from now on, and the next nest that wants one takes it over at once, with a notice.
 * For an in-process crash (abort an invocation without releasing its locks); an invocation
 * whose `withInvocation` has returned is gone already.
 */
export function markInvocationDead(inv: Invocation = invocation()): void {
  registry.live.delete(invocationToken(inv))
}

/** Run `fn` (one nest command line) as an invocation of its own. */
export function withInvocation<T>(inv: Invocation, fn: () => Promise<T>): Promise<T> {
  invocationToken(inv)
  return Promise.resolve(storage.run(inv, fn)).finally(() => markInvocationDead(inv))
}
