// A host as nest sees it: programs run through the exec boundary with the host's PATH, and
// files read and written under the host's "/" (FreeBSD's own, or the simulated host's fs/),
// so product code never touches the local machine's /etc.
import type {ResultAsync} from 'neverthrow'

import {type ExecEnv, type ExecOptions, type ExecResult, type HostError, type PipeOptions, type PipeResult, runArgv, runPipe} from './exec.js'
import {type HostFiles, makeHostFiles} from './files.js'
import type {HostInfo} from './select.js'

export type {HostFiles} from './files.js'

export interface Host {
  info: HostInfo
  run(argv: readonly string[], opts?: ExecOptions): ResultAsync<ExecResult, HostError>
  /** `from | to` joined by an OS pipe (exec.ts runPipe): fails when either side fails. */
  pipe(from: readonly string[], to: readonly string[], opts?: PipeOptions): ResultAsync<PipeResult, HostError>
  files: HostFiles
}

/** The host's files, each change nest makes to them logged (--verbose) as its programs are. */
function loggedFiles(files: HostFiles, log: (line: string) => void): HostFiles {
  const say = (action: string, p: string, to?: string): void => log(JSON.stringify({event: 'file', action, path: p, ...(to ? {to} : {})}))
  return {
    ...files,
    write: (p, text, mode, within) => (say('write', p), files.write(p, text, mode, within)),
    remove: (p, within) => (say('remove', p), files.remove(p, within)),
    removeTree: (p, within) => (say('remove-tree', p), files.removeTree(p, within)),
    mkdir: (p, within) => (say('mkdir', p), files.mkdir(p, within)),
    chmod: (p, mode) => (say(`chmod ${mode.toString(8).padStart(4, '0')}`, p), files.chmod(p, mode)),
    copy: (from, to, within) => (say('copy', from, to), files.copy(from, to, within)),
  }
}

export function makeHost(info: HostInfo, log?: (line: string) => void): Host {
  const env: Record<string, string> = info.kind === 'sim' ? {NEST_SIM_JID: String(info.simJid ?? 0)} : {}
  const exec: ExecEnv = {path: info.path, env, ...(log ? {log} : {})}
  const files = makeHostFiles(info.fsRoot, info.kind === 'sim')
  return {info, run: (argv, opts) => runArgv(exec, argv, opts), pipe: (from, to, opts) => runPipe(exec, from, to, opts), files: log ? loggedFiles(files, log) : files}
}
