// NEST_SIM_ROOT that is not a simulated host: a file, or a directory holding something else, is
// refused with one line and exit 3 (invalid input) before anything is made there; a missing or
// empty directory becomes a new simulated host (src/host/select.ts, src/sim/control.ts).
import {mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {nestEnv, nestInProcess} from '../helpers/inprocess.js'

let base: string
beforeEach(() => {
  base = mkdtempSync(path.join(tmpdir(), 'nest-simroot-'))
})
afterEach(() => rmSync(base, {recursive: true, force: true}))

const nest = (root: string, ...args: string[]) => nestInProcess(nestEnv(root), args)
const FIX = 'set NEST_SIM_ROOT to a simulated host, or to a missing or empty directory for a new one'

describe('NEST_SIM_ROOT', () => {
  it('a file is refused with one line, exit 3, and left as it was', async () => {
    const file = path.join(base, 'file')
    writeFileSync(file, 'mine\n')
    for (const root of [file, path.join(file, 'below')]) {
      const r = await nest(root, 'list')
      expect(r).toEqual({code: 3, stdout: '', stderr: `nest: ${root} is not a directory, so it cannot hold the simulated host (${FIX})\n`})
      const j = await nest(root, 'sim', 'init', '--json')
      expect(j.code).toBe(3)
      expect(JSON.parse(j.stdout)).toEqual({status: 3, error: {kind: 'invalid-input', message: `${root} is not a directory, so it cannot hold the simulated host`, fix: FIX}, warnings: []})
    }
    expect(readFileSync(file, 'utf8')).toBe('mine\n')
    expect(readdirSync(base)).toEqual(['file'])
  })

  it('a non-empty directory that is not a simulated host is refused (list, sim init, sim reset) and nothing is made in it', async () => {
    const dir = path.join(base, 'work')
    mkdirSync(path.join(dir, 'fs'), {recursive: true})
    writeFileSync(path.join(dir, 'notes.txt'), 'keep\n')
    for (const args of [['list'], ['sim', 'init'], ['sim', 'reset'], ['create', 'web']]) {
      const r = await nest(dir, ...args)
      expect(r).toEqual({code: 3, stdout: '', stderr: `nest: ${dir} is not a simulated host (no kernel.json) and not empty (${FIX})\n`})
    }
    expect(readdirSync(dir).sort()).toEqual(['fs', 'notes.txt'])
    expect(readdirSync(path.join(dir, 'fs'))).toEqual([])
  })

  it('a missing or an empty directory becomes a new simulated host, used as one from then on', async () => {
    const missing = path.join(base, 'a', 'b')
    const empty = path.join(base, 'empty')
    mkdirSync(empty)
    for (const root of [missing, empty]) {
      expect(await nest(root, 'list', '--json')).toMatchObject({code: 0})
      expect(readdirSync(root)).toContain('kernel.json')
      expect(await nest(root, 'list')).toMatchObject({code: 0})
    }
  })
})
