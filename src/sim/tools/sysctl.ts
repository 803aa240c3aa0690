// sysctl(8): `name: value`, `-n`, `-q`, prefixes list their subtree, `name=value` writes.
import {readSysctl, sysctlNames, writeSysctl} from '../kernel/sysctl.js'
import {loadKernel, withKernel} from '../store.js'
import {errnoOf, getopt, notSimulated, strerror, type Tool} from './common.js'

const WRITABLE = new Set(['security.jail.enforce_statfs', 'vfs.recursive_forced_unmount', 'kern.securelevel', 'kern.hostname'])

export const sysctl: Tool = async (ctx, argv) => {
  const o = getopt(argv, 'nqa', (c) => notSimulated(`sysctl -${c}`))
  const bare = o.flags.has('n')
  const quiet = o.flags.has('q')
  let status = 0
  const names = o.flags.has('a') ? [''] : o.rest
  if (names.length === 0) {
    ctx.err('usage: sysctl [-bdehiNnoqTtWx] [ -B <bufsize> ] [-f filename] name[=value] ...\n       sysctl [-bdehNnoqTtWx] [ -B <bufsize> ] -a\n')
    return 1
  }
  for (const arg of names) {
    const eq = arg.indexOf('=')
    if (eq >= 0) {
      const name = arg.slice(0, eq)
      const value = arg.slice(eq + 1)
      const k0 = loadKernel(ctx.root)
      const old = readSysctl(k0, ctx.jid, name)
      if (old === undefined) {
        if (!quiet) ctx.err(`sysctl: unknown oid '${name}'\n`)
        status = 1
        continue
      }
      if (!WRITABLE.has(name)) {
        ctx.err(`sysctl: oid '${name}' is read only\n`)
        status = 1
        continue
      }
      try {
        await withKernel(ctx.root, (k) => writeSysctl(k, ctx.jid, name, value))
        ctx.out(bare ? `${old} -> ${value}\n` : `${name}: ${old} -> ${value}\n`)
      } catch (error) {
        if (!errnoOf(error)) throw error
        ctx.err(`sysctl: ${name}=${value}: ${strerror(error)}\n`)
        status = 1
      }
      continue
    }
    const k = loadKernel(ctx.root)
    const all = sysctlNames(arg)
    if (all.length === 0) {
      if (!quiet) ctx.err(`sysctl: unknown oid '${arg}'\n`)
      status = 1
      continue
    }
    for (const n of all) {
      const v = readSysctl(k, ctx.jid, n) ?? ''
      ctx.out(bare ? `${v}\n` : `${n}: ${v}\n`)
    }
  }
  return status
}
