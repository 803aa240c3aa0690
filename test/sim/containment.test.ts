// The simulated host is a chroot of its tree: whatever links a jail plants (absolute, relative,
// `..`-heavy, loops), no tool reads, writes or deletes anything outside $NEST_SIM_ROOT. Links
// are resolved inside the tree as namei(9) resolves them for a process whose root is the
// jail's (sys/kern/vfs_lookup.c: ".." stops at the root, MAXSYMLINKS = 32 of sys/sys/param.h).
import {execFileSync} from 'node:child_process'
import {existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {MAXSYMLINKS, type PathKind, resolvePath, ResolveError} from '../../src/domain/resolve.js'
import {SimFs} from '../../src/sim/fs.js'
import {makeSim, type TestSim} from '../helpers/sim.js'

/** A directory outside the sim tree, with a sentinel file: what no tool may touch. */
interface Outside {
  dir: string
  /** Every entry below it with its content or link target and mtime. */
  state(): string[]
}

function makeOutside(): Outside {
  const dir = mkdtempSync(path.join(tmpdir(), 'nest-outside-'))
  writeFileSync(path.join(dir, 'sentinel'), 'do not touch\n')
  mkdirSync(path.join(dir, 'sub'))
  writeFileSync(path.join(dir, 'sub', 'file'), 'also not\n')
  const state = (): string[] => readdirSync(dir, {recursive: true}).map(String).sort().map((n) => {
    const p = path.join(dir, n)
    const st = lstatSync(p)
    return `${n} ${st.isDirectory() ? 'dir' : readFileSync(p, 'utf8')} ${st.mtimeMs}`
  })
  return {dir, state}
}

let sim: TestSim
let outside: Outside
let before: string[]
/** Entries next to the sim root (its parent directory) before the test: nothing new may appear there. */
let besideBefore: string[]
beforeEach(async () => {
  sim = await makeSim()
  outside = makeOutside()
  before = outside.state()
  besideBefore = readdirSync(path.dirname(sim.root)).sort()
})
afterEach(() => {
  expect(outside.state()).toEqual(before)
  expect(readdirSync(path.dirname(sim.root)).filter((n) => !n.startsWith('saved-')).sort()).toEqual(besideBefore)
  rmSync(outside.dir, {recursive: true, force: true})
  sim.cleanup()
})

const link = (target: string, at: string): void => {
  mkdirSync(path.dirname(sim.fs(at)), {recursive: true})
  symlinkSync(target, sim.fs(at))
}
const jailAt = async (name: string, root: string): Promise<number> => {
  sim.mkdirs(root)
  const r = await sim.run('jail', '-c', `name=${name}`, `path=${root}`, 'persist', 'allow.mount', 'allow.mount.nullfs', 'allow.mount.zfs', 'enforce_statfs=1', 'children.max=4')
  expect(r.code, r.stderr).toBe(0)
  return sim.jid(name) as number
}

describe('resolvePath (namei with a root directory)', () => {
  /** A tree as a map: a string is a link's target, 'dir' and 'file' what they say. */
  const tree = (entries: Record<string, string>) => ({
    kind: (p: string): PathKind | null => {
      const e = entries[p]
      if (e === undefined) return p === '/' || Object.keys(entries).some((k) => k.startsWith(`${p}/`)) ? 'dir' : null
      return e === 'dir' || e === 'file' ? e : 'link'
    },
    readlink: (p: string): string => entries[p] as string,
  })

  it('reads absolute targets from the view\'s "/", relative ones from the link\'s directory, and never climbs above "/"', () => {
    const t = tree({'/j/etc': 'dir', '/j/a': '/etc', '/j/b': '../../../../../etc', '/j/c/d': '../../../x', '/j/etc/f': 'file'})
    expect(resolvePath(t, '/j', '/a/f', true)).toEqual({path: '/j/etc/f', kind: 'file'})
    expect(resolvePath(t, '/j', '/b/f', true)).toEqual({path: '/j/etc/f', kind: 'file'})
    expect(resolvePath(t, '/j', '/c/d', true)).toEqual({path: '/j/x', kind: null})
    expect(resolvePath(t, '/j', '/../../../etc/f', true)).toEqual({path: '/j/etc/f', kind: 'file'})
    // The last component is not followed where the syscall would not follow it (lstat, unlink).
    expect(resolvePath(t, '/j', '/a', false)).toEqual({path: '/j/a', kind: 'link'})
    // The same link seen from the host's "/" leads to the host's /etc, which this tree lacks.
    expect(() => resolvePath(t, '/', '/j/a/f', true)).toThrow(new ResolveError('ENOENT', '/etc'))
  })

  it('fails with ELOOP past MAXSYMLINKS (32) links, and names the path', () => {
    const chain = (n: number): Record<string, string> => Object.fromEntries(Array.from({length: n}, (_, i) => [`/l${i}`, i === n - 1 ? '/end' : `/l${i + 1}`]))
    expect(resolvePath(tree({...chain(MAXSYMLINKS), '/end': 'file'}), '/', '/l0', true)).toEqual({path: '/end', kind: 'file'})
    expect(() => resolvePath(tree({...chain(MAXSYMLINKS + 1), '/end': 'file'}), '/', '/l0', true)).toThrow(new ResolveError('ELOOP', '/l32'))
    expect(() => resolvePath(tree({'/a': 'b', '/b': 'a'}), '/', '/a/x', true)).toThrowError(/ELOOP/)
  })

  it('fails with ENOTDIR through a file and ENOENT through nothing or an empty target', () => {
    const t = tree({'/f': 'file', '/e': ''})
    expect(() => resolvePath(t, '/', '/f/x', true)).toThrow(new ResolveError('ENOTDIR', '/f'))
    expect(() => resolvePath(t, '/', '/none/x', true)).toThrow(new ResolveError('ENOENT', '/none'))
    expect(() => resolvePath(t, '/', '/e', true)).toThrow(new ResolveError('ENOENT', '/e'))
  })
})

describe('SimFs: every access inside the tree', () => {
  it('an absolute link to a real directory outside leads into the tree (the host\'s view, and a jail\'s)', () => {
    link(outside.dir, '/j/escape')
    sim.mkdirs(outside.dir, path.join('/j', outside.dir))
    const fs = new SimFs(sim.root)
    fs.write('/j/escape/sentinel', 'written inside\n')
    expect(readFileSync(sim.fs(path.join(outside.dir, 'sentinel')), 'utf8')).toBe('written inside\n')
    // In the jail rooted at /j, the same link starts at /j.
    const inJail = fs.at('/j')
    inJail.write('/j/escape/other', 'x')
    expect(existsSync(sim.fs(path.join('/j', outside.dir, 'other')))).toBe(true)
    expect(fs.read('/j/escape/sentinel')).toBe('written inside\n')
    expect(inJail.exists('/j/escape/sentinel')).toBe(false)
    fs.removeTree('/j/escape')
    expect(existsSync(sim.fs('/j/escape'))).toBe(false)
  })

  it('relative links full of `..` stop at the view\'s "/"', () => {
    const up = `${'../'.repeat(40)}${outside.dir.slice(1)}`
    link(up, '/j/a/b/up')
    sim.mkdirs(path.join('/j', outside.dir))
    const fs = new SimFs(sim.root).at('/j')
    fs.write('/j/a/b/up/sub/file', 'inside\n')
    expect(readFileSync(sim.fs(path.join('/j', outside.dir, 'sub', 'file')), 'utf8')).toBe('inside\n')
    // From the host's "/" the same link names the outside directory's path in the tree, where nothing is.
    expect(() => new SimFs(sim.root).resolve('/j/a/b/up/sub')).toThrowError(/ENOENT/)
    expect(fs.canonical('/j/a/b/up')).toBe(path.join('/j', outside.dir))
  })

  it('a loop fails ELOOP; a FIFO, a socket or a device is never read (no blocking), a final link never written through onto one', () => {
    link('loop2', '/j/loop1')
    link('loop1', '/j/loop2')
    const fs = new SimFs(sim.root)
    expect(() => fs.read('/j/loop1')).toThrowError(/ELOOP/)
    // mkdir -p of the loop's directory: mkdir(2) on a link is EEXIST, and stat(2) through it ELOOP.
    expect(() => fs.write('/j/loop1/x', '')).toThrowError(/EEXIST/)
    expect(() => fs.read('/j/loop1/x')).toThrowError(/ELOOP/)
    execFileSync('mkfifo', [sim.fs('/j/fifo')])
    expect(() => fs.read('/j/fifo')).toThrowError(/EAGAIN/)
    expect(() => fs.write('/j/fifo', 'x')).toThrowError(/EAGAIN/)
    link('/j/fifo', '/j/tofifo')
    expect(() => fs.read('/j/tofifo')).toThrowError(/EAGAIN/)
  })

  it('mkdir -p on a dangling link fails EEXIST, on a link to a directory goes through it', () => {
    link('/nowhere', '/j/dangling')
    link('/j/real', '/j/todir')
    sim.mkdirs('/j/real')
    const fs = new SimFs(sim.root)
    expect(() => fs.mkdirp('/j/dangling/x')).toThrowError(/EEXIST/)
    fs.mkdirp('/j/todir/x/y')
    expect(statSync(sim.fs('/j/real/x/y')).isDirectory()).toBe(true)
  })
})

describe('the tools never leave the tree', () => {
  it('jail -c path= through a link records the resolved path inside the tree (kern_jail_set: vn_path_to_global_path)', async () => {
    link(outside.dir, '/jails/viaLink')
    sim.mkdirs(outside.dir)
    const r = await sim.run('jail', '-c', 'name=j', 'path=/jails/viaLink', 'persist')
    expect(r.code, r.stderr).toBe(0)
    expect((await sim.run('jls', '-j', 'j', 'path')).stdout).toBe(`${outside.dir}\n`)
  })

  it('a link a jail plants at a dataset\'s mount point, snapshot, clone and destroy: copies the link, follows nothing', async () => {
    const p = await jailAt('p', '/p')
    expect((await sim.run('zfs', 'create', '-p', '-o', 'mountpoint=/p/data', 'zroot/p/data')).code).toBe(0)
    // The jail's root user plants links in the dataset: absolute to the real disk, relative upwards.
    symlinkSync(outside.dir, sim.fs('/p/data/abs'))
    symlinkSync(`${'../'.repeat(30)}${outside.dir.slice(1)}`, sim.fs('/p/data/rel'))
    execFileSync('mkfifo', [sim.fs('/p/data/fifo')])
    expect((await sim.run('zfs', 'snapshot', 'zroot/p/data@s')).code).toBe(0)
    expect((await sim.run('zfs', 'clone', '-o', 'mountpoint=/p/clone', 'zroot/p/data@s', 'zroot/p/clone')).code).toBe(0)
    expect(readlinkSync(sim.fs('/p/clone/abs'))).toBe(outside.dir)
    expect(lstatSync(sim.fs('/p/clone/rel')).isSymbolicLink()).toBe(true)
    // rm -rf of the dataset's files removes the links, not what they name.
    expect((await sim.run('zfs', 'destroy', 'zroot/p/clone')).code).toBe(0)
    expect((await sim.run('zfs', 'destroy', '-r', 'zroot/p/data')).code).toBe(0)
    expect(existsSync(sim.fs('/p/data/abs'))).toBe(false)
    expect(sim.alive()).toContain('p')
    expect(p).toBeGreaterThan(0)
  })

  it('a dangling link at a dataset\'s mount point: zfs mount fails as libzfs does, creates nothing outside; a link to a directory is mounted where it leads', async () => {
    expect((await sim.run('zfs', 'create', '-o', 'canmount=noauto', '-o', 'mountpoint=/pd', 'zroot/pd')).code).toBe(0)
    symlinkSync(path.join(outside.dir, 'made'), sim.fs('/pd'))
    expect(await sim.run('zfs', 'mount', 'zroot/pd')).toEqual({code: 1, stdout: '', stderr: "cannot mount '/pd': failed to create mountpoint: File exists\n"})
    sim.mkdirs('/real')
    rmSync(sim.fs('/pd'))
    symlinkSync('/real', sim.fs('/pd'))
    expect((await sim.run('zfs', 'mount', 'zroot/pd')).code).toBe(0)
    expect(sim.kernel().mounts.at(-1)).toMatchObject({fstype: 'zfs', from: 'zroot/pd', on: '/real'})
  })

  it('a mount point replaced by a link: mount (host and jail) mounts on the resolved path inside the tree', async () => {
    const p = await jailAt('p', '/p')
    sim.mkdirs('/src', '/p/mnt', '/p/target')
    link('/target', '/p/mnt/via')
    expect((await sim.runIn(p, 'mount', '-t', 'nullfs', '/mnt', '/mnt/via')).code).toBe(0)
    expect(sim.kernel().mounts.at(-1)?.on).toBe('/p/target')
    link(outside.dir, '/hostlink')
    sim.mkdirs(outside.dir)
    expect((await sim.run('mount', '-t', 'tmpfs', 'tmpfs', '/hostlink')).code).toBe(0)
    expect(sim.kernel().mounts.at(-1)?.on).toBe(outside.dir)
  })

  it('pkg -r into a root whose /usr/local/bin/node is a link out: the link is replaced (renameat over it), nothing outside', async () => {
    sim.mkdirs('/c/usr/local/bin')
    symlinkSync(path.join(outside.dir, 'node'), sim.fs('/c/usr/local/bin/node'))
    expect((await sim.run('pkg', '-r', '/c', 'install', '-y', 'node')).code).toBe(0)
    expect(existsSync(path.join(outside.dir, 'node'))).toBe(false)
    expect(lstatSync(sim.fs('/c/usr/local/bin/node')).isFile()).toBe(true)
  })

  it('pkg -r into a root whose /usr/local is an absolute link: followed from the host\'s "/" (openat without a beneath rule), inside the tree', async () => {
    sim.mkdirs('/c/usr', '/elsewhere/bin')
    symlinkSync('/elsewhere', sim.fs('/c/usr/local'))
    expect((await sim.run('pkg', '-r', '/c', 'install', '-y', 'node')).code).toBe(0)
    expect(lstatSync(sim.fs('/elsewhere/bin/node')).isFile()).toBe(true)
  })

  it('exec.consolelog at a FIFO or through a link out: no hang, nothing outside', async () => {
    sim.mkdirs('/j')
    execFileSync('mkfifo', [sim.fs('/j/fifo')])
    symlinkSync(path.join(outside.dir, 'log'), sim.fs('/j/out'))
    sim.mkdirs(outside.dir)
    const viaFifo = await sim.run('jail', '-c', 'name=x', 'path=/j', 'persist', 'exec.consolelog=/j/fifo', 'exec.start=jls')
    expect(viaFifo.stderr).toContain('sim: exec.consolelog ')
    // command.c run_command: check_path refuses a link below the jail's path before the open.
    const viaLink = await sim.run('jail', '-c', 'name=y', 'path=/j', 'persist', 'exec.consolelog=/j/out', 'exec.start=jls')
    expect(viaLink).toEqual({code: 1, stdout: '', stderr: 'jail: exec.consolelog: /j/out is a symbolic link\n'})
    // Above the jail's path a link is the host's own: followed, inside the tree.
    symlinkSync(path.join(outside.dir, 'log'), sim.fs('/hostlog'))
    const hostLink = await sim.run('jail', '-c', 'name=z', 'path=/j', 'persist', 'exec.consolelog=/hostlog', 'exec.start=jls')
    expect(hostLink.code, hostLink.stderr).toBe(0)
    expect(readFileSync(sim.fs(path.join(outside.dir, 'log')), 'utf8')).toMatch(/JID/)
  })

  it('a mount point below the jail\'s path that is a link: jail(8) refuses it (check_path) before mounting', async () => {
    sim.mkdirs('/j/dev-real')
    symlinkSync('/dev-real', sim.fs('/j/dev'))
    const r = await sim.run('jail', '-c', 'name=m', 'path=/j', 'persist', 'mount.devfs')
    expect(r).toEqual({code: 1, stdout: '', stderr: 'jail: mount.devfs: /j/dev is a symbolic link\n'})
    expect(sim.kernel().mounts.filter((m) => m.on.startsWith('/j'))).toEqual([])
  })

  it('pkg -j JAIL: attached to the jail first, so its absolute links resolve from the jail\'s root; info per jail; an unknown jail refused', async () => {
    await jailAt('p', '/p')
    sim.mkdirs('/p/usr', '/p/elsewhere', '/elsewhere')
    symlinkSync('/elsewhere', sim.fs('/p/usr/local'))
    expect(await sim.run('pkg', '-j', 'p', 'install', '-y', 'node')).toEqual({code: 0, stdout: 'Installing node... done\n', stderr: ''})
    expect(lstatSync(sim.fs('/p/elsewhere/bin/node')).isFile()).toBe(true)
    expect(existsSync(sim.fs('/elsewhere/bin/node'))).toBe(false)
    expect((await sim.run('pkg', '-j', 'p', 'info')).stdout).toMatch(/^node-sim /)
    // libjail's jail_getid(3) error, printed by pkg's errx (src/main.c).
    expect(await sim.run('pkg', '-j', 'nosuch', 'install', '-y', 'node')).toEqual({code: 1, stdout: '', stderr: 'pkg: jail "nosuch" not found\n'})
  })

  it('jail -f through a loop or a FIFO fails instead of hanging', async () => {
    link('loop', '/etc/loop')
    execFileSync('mkfifo', [sim.fs('/etc/fifo.conf')])
    expect((await sim.run('jail', '-f', '/etc/loop', '-c', 'x')).code).toBe(1)
    expect((await sim.run('jail', '-f', '/etc/fifo.conf', '-c', 'x')).code).not.toBe(0)
  })
})
