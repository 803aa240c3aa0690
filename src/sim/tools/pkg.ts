// pkg(8), only `pkg -r ROOT install -y NAME...` and `pkg -r ROOT info`: packages recorded per
// root directory, with the files a package puts in place (enough for nest to find node).
import {getJail} from '../kernel/jails.js'
import {globalPath} from '../kernel/state.js'
import {loadKernel, withKernel} from '../store.js'
import {notSimulated, type Tool} from './common.js'

/** Files a package installs under its root, for the packages nest needs. */
const FILES: Record<string, string[]> = {
  node: ['/usr/local/bin/node'],
  node20: ['/usr/local/bin/node'],
  node22: ['/usr/local/bin/node'],
  nest: ['/usr/local/bin/nest'],
}

export const pkg: Tool = async (ctx, argv) => {
  if (argv[0] !== '-r' || argv[1] === undefined) return notSimulated(`pkg ${argv.join(' ')} (only pkg -r ROOT install -y and pkg -r ROOT info)`)
  const rootArg = argv[1]
  const [sub, ...rest] = argv.slice(2)
  const k = loadKernel(ctx.root)
  const root = globalPath(getJail(k, ctx.jid).path, rootArg)
  if (!ctx.fs.isDir(root)) {
    ctx.err(`pkg: ${rootArg}: No such file or directory\n`)
    return 1
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
  await withKernel(ctx.root, (kk) => {
    kk.packages[root] = [...new Set([...(kk.packages[root] ?? []), ...names])]
  })
  for (const n of names) for (const f of FILES[n] ?? []) ctx.fs.write(`${root}${f}`, `#!/bin/sh\n# ${n} (simulated package)\n`)
  ctx.out(`Installing ${names.join(', ')}... done\n`)
  return 0
}
