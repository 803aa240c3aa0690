// nest's host files (src/host/files.ts) on a scratch tree, as FreeBSD's host (paths as they are,
// the kernel resolving them) and as the simulated host (resolved inside fsRoot): below a jail's
// root (`within`) no link is followed, no FIFO or device blocks a read, nothing over the limit
// is read, a write replaces a final link instead of writing through it, trees are removed and
// copied without following links; outside any jail's root the simulated host's paths still stay
// inside its tree.
import {execFileSync} from 'node:child_process'
import {existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {makeHostFiles, READ_LIMIT} from '../../src/host/files.js'

let base: string
/** A file outside the tree: what nothing may touch. */
let sentinel: string
beforeEach(() => {
  base = mkdtempSync(path.join(tmpdir(), 'nest-files-'))
  sentinel = path.join(base, 'outside', 'sentinel')
  mkdirSync(path.dirname(sentinel), {recursive: true})
  writeFileSync(sentinel, 'keep\n')
})
afterEach(() => {
  expect(readFileSync(sentinel, 'utf8')).toBe('keep\n')
  rmSync(base, {recursive: true, force: true})
})

describe.each([['FreeBSD (the kernel resolves)', false], ['the simulated host (resolved inside fsRoot)', true]] as const)('below a jail\'s root, on %s', (_, sim) => {
  /** The tree: "/" of the host at fsRoot (base/fs for the simulated host; FreeBSD's paths are real ones). */
  const setup = (): {root: string; jail: string; real: (p: string) => string; files: ReturnType<typeof makeHostFiles>} => {
    const fsRoot = sim ? path.join(base, 'fs') : '/'
    const jail = sim ? '/nest/jails/web/root' : path.join(base, 'fs', 'nest/jails/web/root')
    const real = (p: string): string => (sim ? path.join(fsRoot, p) : p)
    mkdirSync(real(`${jail}/usr/local/bin`), {recursive: true})
    return {root: fsRoot, jail, real, files: makeHostFiles(fsRoot, sim)}
  }

  it('a link anywhere below the root is refused, naming it; nothing is read or written through it', async () => {
    const {jail, real, files} = setup()
    symlinkSync(path.dirname(sentinel), real(`${jail}/etc`))
    const r = await files.read(`${jail}/etc/sentinel`, jail)
    expect(r._unsafeUnwrapErr()).toEqual({
      kind: 'conflict',
      message: `${jail}/etc: a symbolic link, below the root of a jail (${jail}): nest does not follow or read it there`,
      fix: `remove ${jail}/etc (it may have been planted by the jail's root user) and run the command again`,
    })
    expect((await files.write(`${jail}/etc/sentinel`, 'x', 0o644, jail))._unsafeUnwrapErr().message).toMatch(/\/etc: a symbolic link/)
    expect((await files.mkdir(`${jail}/etc/new`, jail)).isErr()).toBe(true)
    expect((await files.list(`${jail}/etc`, jail)).isErr()).toBe(true)
    expect(await files.kind(`${jail}/etc/sentinel`, jail)).toEqual(expect.objectContaining({value: 'link'}))
    expect(existsSync(path.join(path.dirname(sentinel), 'new'))).toBe(false)
    // Without `within` (a path of the host's own) the link is followed, as the host's are.
    if (!sim) expect((await files.read(`${jail}/etc/sentinel`))._unsafeUnwrap()).toBe('keep\n')
  })

  it('a final link is not read; a write replaces it (rename over the name) and leaves its target alone', async () => {
    const {jail, real, files} = setup()
    symlinkSync(sentinel, real(`${jail}/usr/local/bin/nest`))
    expect((await files.read(`${jail}/usr/local/bin/nest`, jail))._unsafeUnwrapErr().message).toContain('a symbolic link, below the root of a jail')
    expect((await files.write(`${jail}/usr/local/bin/nest`, '#!/bin/sh\n', 0o755, jail)).isOk()).toBe(true)
    const st = lstatSync(real(`${jail}/usr/local/bin/nest`))
    expect(st.isFile()).toBe(true)
    expect(st.mode & 0o777).toBe(0o755)
    expect(readFileSync(real(`${jail}/usr/local/bin/nest`), 'utf8')).toBe('#!/bin/sh\n')
  })

  it('a FIFO, a device and a file over the limit are never read (and a FIFO never blocks)', async () => {
    const {jail, real, files} = setup()
    execFileSync('mkfifo', [real(`${jail}/fifo`)])
    expect((await files.read(`${jail}/fifo`, jail))._unsafeUnwrapErr().message).toBe(`${jail}/fifo: a FIFO, not a regular file, below the root of a jail (${jail}): nest does not follow or read it there`)
    writeFileSync(real(`${jail}/huge`), Buffer.alloc(READ_LIMIT + 1))
    expect((await files.read(`${jail}/huge`, jail))._unsafeUnwrapErr()).toEqual(expect.objectContaining({kind: 'invalid-input', message: `cannot read ${jail}/huge: ${READ_LIMIT + 1} bytes, more than nest reads of a file of its own (${READ_LIMIT})`}))
    expect((await files.read(`${jail}/none`, jail))._unsafeUnwrap()).toBeNull()
    expect(await files.kind(`${jail}/fifo`, jail)).toEqual(expect.objectContaining({value: 'other'}))
  })

  it('removeTree and copy follow no link below the root', async () => {
    const {jail, real, files} = setup()
    mkdirSync(real(`${jail}/tree/sub`), {recursive: true})
    symlinkSync(path.dirname(sentinel), real(`${jail}/tree/sub/out`))
    expect((await files.removeTree(`${jail}/tree`, jail)).isOk()).toBe(true)
    expect(existsSync(real(`${jail}/tree`))).toBe(false)
    // A copy into the root: the source's links copied as links; a link planted where a directory goes is replaced.
    const from = sim ? '/release' : path.join(base, 'fs', 'release')
    mkdirSync(real(`${from}/etc`), {recursive: true})
    writeFileSync(real(`${from}/etc/rc`), 'rc\n')
    symlinkSync('/etc/rc', real(`${from}/rclink`))
    symlinkSync(path.dirname(sentinel), real(`${jail}/etc`))
    expect((await files.copy(from, jail, jail)).isOk()).toBe(true)
    expect(lstatSync(real(`${jail}/etc`)).isDirectory()).toBe(true)
    expect(readFileSync(real(`${jail}/etc/rc`), 'utf8')).toBe('rc\n')
    expect(readlinkSync(real(`${jail}/rclink`))).toBe('/etc/rc')
    // A destination that is itself a link below the root: refused.
    symlinkSync(path.dirname(sentinel), real(`${jail}/dst`))
    expect((await files.copy(from, `${jail}/dst`, jail))._unsafeUnwrapErr().message).toContain(`${jail}/dst: a symbolic link`)
  })
})

describe('the simulated host, outside any jail\'s root', () => {
  it('resolves every path inside fsRoot: an absolute link leads inside the tree, never onto the local disk', async () => {
    const fsRoot = path.join(base, 'fs')
    mkdirSync(path.join(fsRoot, 'var/run'), {recursive: true})
    // A jail rooted at "/" (or a careless admin) made /var/run/nest a link to a real directory.
    symlinkSync(path.dirname(sentinel), path.join(fsRoot, 'var/run/nest'))
    const files = makeHostFiles(fsRoot, true)
    expect((await files.write('/var/run/nest/sentinel', 'x')).isOk()).toBe(true)
    expect(readFileSync(path.join(fsRoot, path.dirname(sentinel), 'sentinel'), 'utf8')).toBe('x')
    expect(files.local('/var/run/nest/web.lock')).toBe(path.join(fsRoot, path.dirname(sentinel), 'web.lock'))
    expect((await files.read('/var/run/nest/sentinel'))._unsafeUnwrap()).toBe('x')
  })
})
