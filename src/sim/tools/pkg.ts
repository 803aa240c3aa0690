// pkg(8), only `install -y NAME...` and `info`, with `-r ROOT` (a relocated installation) or
// `-j JAIL` (pkg attaches to the jail first): packages recorded per root directory, with the
// files a package puts in place (enough for nest to find node).
//
// What pkg does with links (freebsd/pkg, src/main.c and libpkg/pkg_add.c): `-r ROOT` takes
// realpath(ROOT) on the host and then works with *at() calls relative to a descriptor of that
// root (RELATIVE_PATH strips the leading "/"), with no beneath rule: every directory of a
// package path is looked up by the host's kernel, so a link there that the root's owner planted
// (absolute: from the host's "/") leads wherever it names; only the last component is safe
// (files go to a temporary name with openat(O_CREAT|O_EXCL) and are renameat'd over it, a
// dangling link where a directory belongs is unlinked and replaced), and package scripts run on
// the host with PKG_ROOTDIR set. `-j JAIL` calls jail_attach(2) and chdir("/") before anything
// else: every lookup then starts at the jail's root, as for any process in the jail, and the
// scripts run there. The simulator does both: `-r` resolves the root's directories from the
// caller's "/", `-j` from the jail's.
import {checkJailPriv, getJail, lookupJail} from '../kernel/jails.js'
import {globalPath} from '../kernel/state.js'
import {loadKernel, withKernel} from '../store.js'
import {notSimulated, strerror, type Tool} from './common.js'

/** Files a package installs under its root, for the packages nest needs. */
const FILES: Record<string, string[]> = {
  node: ['/usr/local/bin/node'],
  node20: ['/usr/local/bin/node'],
  node22: ['/usr/local/bin/node'],
  nest: ['/usr/local/bin/nest'],
}

export const pkg: Tool = async (ctx, argv) => {
  const how = argv[0]
  if ((how !== '-r' && how !== '-j') || argv[1] === undefined) return notSimulated(`pkg ${argv.join(' ')} (only pkg -r ROOT|-j JAIL install -y and info)`)
  const arg = argv[1]
  const [sub, ...rest] = argv.slice(2)
  const k = loadKernel(ctx.root)
  let root: string
  let fs = ctx.fs
  if (how === '-j') {
    let jid: number
    try {
      jid = lookupJail(k, ctx.jid, arg).jid
    } catch {
      // jail_getid(3): libjail's jail_errmsg.
      ctx.err(`pkg: jail "${arg}" not found\n`)
      return 1
    }
    try {
      checkJailPriv(k, ctx.jid)
    } catch (error) {
      ctx.err(`pkg: jail_attach(${arg}): ${strerror(error)}\n`)
      return 1
    }
    root = getJail(k, jid).path
    fs = ctx.fs.at(root)
  } else {
    root = globalPath(getJail(k, ctx.jid).path, arg)
    if (!ctx.fs.isDir(root)) {
      ctx.err(`pkg: Invalid rootdir: No such file or directory\n`)
      return 1
    }
    root = ctx.fs.canonical(root)
  }
  if (sub === 'info') {
    for (const p of (k.packages[root] ?? []).sort()) ctx.out(`${p}-sim                     simulated package\n`)
    return 0
  }
  if (sub !== 'install' || !rest.includes('-y')) return notSimulated(`pkg ${sub ?? ''} (only install -y and info)`)
  const names = rest.filter((a) => a !== '-y')
  for (const n of names) {
    if (!FILES[n]) {
      ctx.err(`pkg: No packages available to install matching '${n}' have been found in the repositories\n`)
      return 1
    }
  }
  for (const n of names) {
    for (const f of FILES[n] ?? []) {
      try {
        fs.install(`${root}${f}`, `#!/bin/sh\n# ${n} (simulated package)\n`)
      } catch (error) {
        ctx.err(`pkg: Fail to create temporary file: ${f}: ${strerror(error)}\n`)
        return 1
      }
    }
  }
  await withKernel(ctx.root, (kk) => {
    kk.packages[root] = [...new Set([...(kk.packages[root] ?? []), ...names])]
  })
  ctx.out(`Installing ${names.join(', ')}... done\n`)
  return 0
}
