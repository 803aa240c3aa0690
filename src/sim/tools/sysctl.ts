// sysctl(8) (sbin/sysctl/sysctl.c): `name: value`, `-n`, `-q`, `-t`, nodes list their subtree,
// `name=value` writes. Names are looked up as the kernel's name2oid does (a trailing dot ends the
// name), and printed as the kernel names the OID.
import {readSysctl, sysctlLookup, sysctlNames, sysctlType, writeSysctl} from '../kernel/sysctl.js'
import {loadKernel, withKernel} from '../store.js'
import {errnoOf, getopt, notSimulated, strerror, type Tool} from './common.js'

const WRITABLE = new Set(['security.jail.enforce_statfs', 'vfs.devfs.rule_depth', 'vfs.recursive_forced_unmount', 'vfs.zfs.vol.recursive', 'kern.securelevel', 'kern.hostname', 'net.inet.ip.forwarding', 'net.inet6.ip6.forwarding'])

/** Loader tunables (CTLFLAG_RDTUN): kern.racct.enable (sys/kern/kern_racct.c). */
const TUNABLES = new Set(['kern.racct.enable'])

export const sysctl: Tool = async (ctx, argv) => {
  const o = getopt(argv, 'nqat', (c) => notSimulated(`sysctl -${c}`))
  const bare = o.flags.has('n')
  const quiet = o.flags.has('q')
  const types = o.flags.has('t')
  let status = 0
  const names = o.flags.has('a') ? [''] : o.rest
  if (names.length === 0) {
    ctx.err('usage: sysctl [-bdehiNnoqTtWx] [ -B <bufsize> ] [-f filename] name[=value] ...\n       sysctl [-bdehNnoqTtWx] [ -B <bufsize> ] -a\n')
    return 1
  }
  for (const arg of names) {
    const eq = arg.indexOf('=')
    if (eq >= 0) {
      const given = arg.slice(0, eq)
      const value = arg.slice(eq + 1)
      const found = sysctlLookup(given)
      if (found === undefined) {
        if (!quiet) ctx.err(`sysctl: unknown oid '${given}'\n`)
        status = 1
        continue
      }
      if (found.node) {
        ctx.err(`sysctl: oid '${given}' isn't a leaf node\n`)
        status = 1
        continue
      }
      const name = found.name
      // CTLFLAG_RWTUN, but a running host's volmode default changing under its zvols is not modelled.
      if (name === 'vfs.zfs.vol.mode') notSimulated('sysctl vfs.zfs.vol.mode=VALUE')
      const k0 = loadKernel(ctx.root)
      const old = readSysctl(k0, ctx.jid, name) ?? ''
      if (TUNABLES.has(name)) {
        // sbin/sysctl/sysctl.c parse(): CTLFLAG_TUN without CTLFLAG_WR.
        ctx.err(`sysctl: oid '${given}' is a read only tunable\nsysctl: Tunable values are set in /boot/loader.conf\n`)
        status = 1
        continue
      }
      if (!WRITABLE.has(name)) {
        ctx.err(`sysctl: oid '${given}' is read only\n`)
        status = 1
        continue
      }
      try {
        await withKernel(ctx.root, (k) => writeSysctl(k, ctx.jid, name, value))
        ctx.out(bare ? `${old} -> ${value}\n` : `${name}: ${old} -> ${value}\n`)
      } catch (error) {
        if (!errnoOf(error)) throw error
        ctx.err(`sysctl: ${arg}: ${strerror(error)}\n`)
        status = 1
      }
      continue
    }
    const found = arg === '' ? {name: '', node: true} : sysctlLookup(arg)
    if (found === undefined) {
      if (!quiet) ctx.err(`sysctl: unknown oid '${arg}'\n`)
      status = 1
      continue
    }
    const k = loadKernel(ctx.root)
    for (const n of found.node ? sysctlNames(found.name).filter((x) => x !== found.name) : [found.name]) {
      const type = sysctlType(n)
      // show_var: -t prints the type instead of the value; an opaque OID of a format sysctl(8)
      // does not know prints nothing (not even the newline) without -o/-x.
      if (types) {
        ctx.out(bare ? `${type}\n` : `${n}: ${type}\n`)
        continue
      }
      if (type === 'opaque') continue
      const v = readSysctl(k, ctx.jid, n) ?? ''
      ctx.out(bare ? `${v}\n` : `${n}: ${v}\n`)
    }
  }
  return status
}
