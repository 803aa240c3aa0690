// The simulated host's file tree: `<sim root>/fs` is "/" for the simulated host. Paths given
// here are global (host) paths; nothing can reach outside the tree.
import {cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {normPath} from './kernel/state.js'
import type {ZfsFs} from './kernel/zfs.js'

export class SimFs implements ZfsFs {
  constructor(readonly root: string) {}

  /** The real path of a global path; normalization keeps it inside the tree. */
  real(global: string): string {
    return path.join(this.root, 'fs', normPath(global))
  }

  isDir(global: string): boolean {
    try {
      return statSync(this.real(global)).isDirectory()
    } catch {
      return false
    }
  }

  exists(global: string): boolean {
    return existsSync(this.real(global))
  }

  mkdirp(global: string): void {
    mkdirSync(this.real(global), {recursive: true})
  }

  read(global: string): string {
    return readFileSync(this.real(global), 'utf8')
  }

  write(global: string, text: string): void {
    mkdirSync(path.dirname(this.real(global)), {recursive: true})
    writeFileSync(this.real(global), text)
  }

  removeTree(global: string): void {
    if (normPath(global) === '/') return
    rmSync(this.real(global), {recursive: true, force: true})
  }

  /** Sorted matches of a glob with `*`, `?` and `[...]` in the last components. */
  glob(pattern: string): string[] {
    const parts = normPath(pattern).split('/').filter(Boolean)
    let found = ['/']
    for (const part of parts) {
      const next: string[] = []
      const magic = /[*?[]/.test(part)
      const re = magic ? globToRegExp(part) : undefined
      for (const dir of found) {
        if (!re) {
          const p = normPath(`${dir}/${part}`)
          if (this.exists(p)) next.push(p)
          continue
        }
        let names: string[] = []
        try {
          names = readdirSync(this.real(dir))
        } catch {
          names = []
        }
        for (const n of names.sort()) if (re.test(n) && !n.startsWith('.')) next.push(normPath(`${dir}/${n}`))
      }
      found = next
    }
    return found.sort()
  }

  private snapDir(guid: string): string {
    return path.join(this.root, 'snapshots', guid)
  }

  saveSnapshot(guid: string, fromGlobal: string): void {
    const to = this.snapDir(guid)
    rmSync(to, {recursive: true, force: true})
    mkdirSync(to, {recursive: true})
    if (this.isDir(fromGlobal)) cpSync(this.real(fromGlobal), to, {recursive: true})
  }

  copySnapshot(fromGuid: string, toGuid: string): void {
    const to = this.snapDir(toGuid)
    mkdirSync(to, {recursive: true})
    if (existsSync(this.snapDir(fromGuid))) cpSync(this.snapDir(fromGuid), to, {recursive: true})
  }

  restoreSnapshot(guid: string, toGlobal: string): void {
    this.mkdirp(toGlobal)
    if (existsSync(this.snapDir(guid))) cpSync(this.snapDir(guid), this.real(toGlobal), {recursive: true})
  }

  dropSnapshot(guid: string): void {
    rmSync(this.snapDir(guid), {recursive: true, force: true})
  }
}

function globToRegExp(g: string): RegExp {
  let re = ''
  for (let i = 0; i < g.length; i++) {
    const c = g[i] as string
    if (c === '*') re += '[^/]*'
    else if (c === '?') re += '[^/]'
    else if (c === '[') {
      const close = g.indexOf(']', i + 1)
      if (close < 0) re += '\\['
      else {
        re += `[${g.slice(i + 1, close).replace(/^!/, '^').replaceAll('\\', '\\\\')}]`
        i = close
      }
    } else re += c.replaceAll(/[.+^${}()|\\]/g, '\\$&')
  }
  return new RegExp(`^${re}$`)
}
