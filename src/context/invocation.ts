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
   * simulator's crash mode): nothing of it runs any more, and a lock it holds has no live owner.
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

/** Run `fn` (one nest command line) as an invocation of its own. */
export function withInvocation<T>(inv: Invocation, fn: () => Promise<T>): Promise<T> {
  return storage.run(inv, fn)
}
