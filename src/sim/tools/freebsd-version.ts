// freebsd-version(1) (bin/freebsd-version/freebsd-version.sh.in): -k the installed kernel's
// version, -r the running kernel's (kern.osrelease), -u the userland's; several print in the
// order k, r, u, one a line; none is -u. The simulated host's kernel, running kernel and
// userland are one release, the model's osrelease (a patch level shows as its `-pN` suffix
// there). In a jail only -r is simulated (the running kernel is the host's, its osrelease the
// jail's own parameter); -k and -u read files of the jail's root: refused. -j is refused.
import {getJail} from '../kernel/jails.js'
import {loadKernel} from '../store.js'
import {notSimulated, type Tool, UsageError} from './common.js'

const USAGE = 'usage: freebsd-version [-kru] [-j jail]\n'

export const freebsdVersion: Tool = async (ctx, argv) => {
  const want = new Set<string>()
  for (const a of argv) {
    if (!a.startsWith('-') || a === '-') throw new UsageError(USAGE, 1)
    for (const f of a.slice(1)) {
      if (f === 'k' || f === 'r' || f === 'u') want.add(f)
      else if (f === 'j') notSimulated('freebsd-version -j')
      else throw new UsageError(`freebsd-version: illegal option -- ${f}\n${USAGE}`, 1)
    }
  }
  if (want.size === 0) want.add('u')
  const k = loadKernel(ctx.root)
  if (ctx.jid !== 0 && (want.has('k') || want.has('u'))) notSimulated('freebsd-version -k or -u in a jail (they read its root)')
  const release = ctx.jid === 0 ? k.osrelease : getJail(k, ctx.jid).osrelease
  ctx.out(['k', 'r', 'u'].filter((f) => want.has(f)).map(() => `${release}\n`).join(''))
  return 0
}
