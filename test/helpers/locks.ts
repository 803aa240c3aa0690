// A nest lock held by the test itself: the owner record nest writes (src/engine/lock.ts),
// naming this process's own invocation (`main`, live while the test runs), or a dead owner.
import {randomUUID} from 'node:crypto'
import {mkdirSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import type {LockOwner} from '../../src/engine/lock.js'
import {selfProcess} from '../../src/host/proc.js'

export interface HeldLock {
  id: string
  file: string
  /** NEST_HELD_LOCKS for a nest run under this lock (as a hook of its holder). */
  env: Record<string, string>
  release(): void
}

/** Write a lock file at `file` (a local path) for `jail`, owned as `owner` says (default: this process). */
export function holdLock(file: string, jail: string, owner: Partial<LockOwner> = {}): HeldLock {
  const me = selfProcess()
  const record: LockOwner = {id: randomUUID(), pid: me.pid, start: me.start, token: 'main', jail, since: new Date().toISOString(), ...owner}
  mkdirSync(path.dirname(file), {recursive: true})
  writeFileSync(file, `${JSON.stringify(record)}\n`, {flag: 'wx'})
  return {id: record.id, file, env: {NEST_HELD_LOCKS: `${jail}=${record.id}`}, release: () => rmSync(file, {force: true})}
}
