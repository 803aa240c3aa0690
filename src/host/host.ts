// A host as nest sees it: programs run through the exec boundary with the host's PATH, and
// files read and written under the host's "/" (FreeBSD's own, or the simulated host's fs/),
// so product code never touches the local machine's /etc.
import {cp, lstat, mkdir, readFile, readdir, rm, stat} from 'node:fs/promises'
import path from 'node:path'

import {errAsync, okAsync, ResultAsync} from 'neverthrow'
import writeFileAtomic from 'write-file-atomic'

import {internal, invalidInput, type NestError} from '../domain/errors.js'
import {type ExecEnv, type ExecOptions, type ExecResult, type HostError, runArgv} from './exec.js'
import type {HostInfo} from './select.js'

export interface HostFiles {
  /** The local path of a host path (for locks). */
  local(p: string): string
  read(p: string): ResultAsync<string | null, NestError>
  write(p: string, text: string, mode?: number): ResultAsync<void, NestError>
  remove(p: string): ResultAsync<void, NestError>
  /** Remove a directory tree (callers make sure nothing is mounted below it). */
  removeTree(p: string): ResultAsync<void, NestError>
  list(dir: string): ResultAsync<string[], NestError>
  isDir(p: string): ResultAsync<boolean, NestError>
  /** What is at a path, without following a symbolic link there. */
  kind(p: string): ResultAsync<'none' | 'dir' | 'link' | 'other', NestError>
  mkdir(p: string): ResultAsync<void, NestError>
  /** Copy a tree, keeping modes, times and symbolic links. */
  copy(from: string, to: string): ResultAsync<void, NestError>
}

export interface Host {
  info: HostInfo
  run(argv: readonly string[], opts?: ExecOptions): ResultAsync<ExecResult, HostError>
  files: HostFiles
}

const fileError = (what: string, p: string) => (e: unknown): NestError => {
  const code = (e as NodeJS.ErrnoException).code
  const why = code === 'EEXIST' ? 'File exists' : code === 'ENOTDIR' ? 'Not a directory' : code === 'EACCES' ? 'Permission denied' : code === 'EISDIR' ? 'Is a directory' : code === 'ENOSPC' ? 'No space left on device' : (e as Error).message
  return code === 'ENOTDIR' || code === 'EISDIR' || code === 'EEXIST' ? invalidInput(`cannot ${what} ${p}: ${why}`, `make ${path.dirname(p)} a directory`) : internal(`cannot ${what} ${p}: ${why}`)
}

function hostFiles(fsRoot: string): HostFiles {
  const local = (p: string): string => {
    if (!p.startsWith('/')) throw new Error(`host path ${p} is not absolute`)
    return path.join(fsRoot, p)
  }
  return {
    local,
    read: (p) =>
      ResultAsync.fromPromise(readFile(local(p), 'utf8'), (e) => e).orElse((e) =>
        (e as NodeJS.ErrnoException).code === 'ENOENT' ? okAsync(null) : errAsync(fileError('read', p)(e))),
    write: (p, text, mode = 0o644) =>
      ResultAsync.fromPromise(mkdir(path.dirname(local(p)), {recursive: true}).then(() => writeFileAtomic(local(p), text, {mode})), fileError('write', p)),
    remove: (p) => ResultAsync.fromPromise(rm(local(p), {force: true}), fileError('remove', p)),
    removeTree: (p) => ResultAsync.fromPromise(rm(local(p), {force: true, recursive: true}), fileError('remove', p)),
    list: (dir) =>
      ResultAsync.fromPromise(readdir(local(dir)), (e) => e).orElse((e) =>
        (e as NodeJS.ErrnoException).code === 'ENOENT' ? okAsync([]) : errAsync(fileError('list', dir)(e))),
    mkdir: (p) => ResultAsync.fromPromise(mkdir(local(p), {recursive: true}).then(() => undefined), fileError('create', p)),
    copy: (from, to) => ResultAsync.fromPromise(cp(local(from), local(to), {recursive: true, preserveTimestamps: true, verbatimSymlinks: true, force: true}), fileError('copy', from)),
    kind: (p) =>
      ResultAsync.fromPromise(lstat(local(p)), (e) => e).map((st) => (st.isSymbolicLink() ? 'link' as const : st.isDirectory() ? 'dir' as const : 'other' as const)).orElse((e) =>
        (e as NodeJS.ErrnoException).code === 'ENOENT' ? okAsync('none' as const) : errAsync(fileError('stat', p)(e))),
    isDir: (p) => ResultAsync.fromPromise(stat(local(p)).then((s) => s.isDirectory(), () => false), fileError('stat', p)),
  }
}

/** The host's files, each change nest makes to them logged (--verbose) as its programs are. */
function loggedFiles(files: HostFiles, log: (line: string) => void): HostFiles {
  const say = (action: string, p: string, to?: string): void => log(JSON.stringify({event: 'file', action, path: p, ...(to ? {to} : {})}))
  return {
    ...files,
    write: (p, text, mode) => (say('write', p), files.write(p, text, mode)),
    remove: (p) => (say('remove', p), files.remove(p)),
    removeTree: (p) => (say('remove-tree', p), files.removeTree(p)),
    mkdir: (p) => (say('mkdir', p), files.mkdir(p)),
    copy: (from, to) => (say('copy', from, to), files.copy(from, to)),
  }
}

export function makeHost(info: HostInfo, log?: (line: string) => void): Host {
  const env: Record<string, string> = info.kind === 'sim' ? {NEST_SIM_JID: String(info.simJid ?? 0)} : {}
  const exec: ExecEnv = {path: info.path, env, ...(log ? {log} : {})}
  const files = hostFiles(info.fsRoot)
  return {info, run: (argv, opts) => runArgv(exec, argv, opts), files: log ? loggedFiles(files, log) : files}
}
