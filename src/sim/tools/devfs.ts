// devfs(8) rule management (sbin/devfs/devfs.c, rule.c) over the kernel's rulesets
// (src/sim/kernel/devfs.ts). Rules need PRIV_DEVFS_RULE, never granted to a jail: inside one
// every rule ioctl fails with EPERM (devfs_rules_ioctl's priv_check).
import {DEVFS_USAGE, DevfsNotSimulated, devfsRule} from '../kernel/devfs.js'
import {loadKernel, withKernel} from '../store.js'
import {notSimulated, type Tool} from './common.js'

/** The ioctl each rule command makes first, for the EPERM a jail gets (rule.c). */
const FIRST_IOCTL: Record<string, string> = {
  add: 'DEVFSIO_RADD', delset: 'DEVFSIO_RGETNEXT', show: 'DEVFSIO_RGETNEXT', showsets: 'DEVFSIO_SGETNEXT',
}

export const devfs: Tool = async (ctx, argv) => {
  // devfs.c main: getopt "m:" before the command; `-m` (another mount point) is not simulated.
  if (argv[0]?.startsWith('-m')) return notSimulated('devfs -m (a devfs other than /dev)')
  if (argv[0] !== 'rule') {
    if (argv[0] === 'ruleset') return notSimulated('devfs ruleset (the ruleset of /dev)')
    if (argv[0] === undefined) {
      ctx.err(DEVFS_USAGE)
      return 1
    }
    return notSimulated(`devfs ${argv.join(' ')}`.trim())
  }
  const args = argv.slice(1)
  const cmd = args.find((a, i) => !a.startsWith('-') && !(i > 0 && /^-s$/.test(args[i - 1] ?? '')))
  if (ctx.jid !== 0 && cmd !== undefined && FIRST_IOCTL[cmd]) {
    // rule_main: setprogname("devfs rule"), so err(3) says `devfs rule: ioctl ...`.
    ctx.err(`devfs rule: ioctl ${FIRST_IOCTL[cmd]}: Operation not permitted\n`)
    return 1
  }
  try {
    const changes = cmd === 'add' || cmd === 'delset'
    const r = changes ? await withKernel(ctx.root, (k) => devfsRule(k, args)) : devfsRule(loadKernel(ctx.root), args)
    if (r.out !== '') ctx.out(r.out)
    if (r.err !== '') ctx.err(r.err)
    return r.code
  } catch (e) {
    if (e instanceof DevfsNotSimulated) return notSimulated(e.message)
    throw e
  }
}
