// devfs(8) rule management (sbin/devfs/devfs.c, rule.c) over the kernel's rulesets
// (src/sim/kernel/devfs.ts). Rules need PRIV_DEVFS_RULE, never granted to a jail: inside one
// every rule ioctl fails with EPERM (devfs_rules_ioctl's priv_check).
import {DEVFS_USAGE, DevfsNotSimulated, devfsRule} from '../kernel/devfs.js'
import {getJail} from '../kernel/jails.js'
import {globalPath} from '../kernel/state.js'
import {loadKernel, withKernel} from '../store.js'
import {notSimulated, type Tool} from './common.js'

/** The ioctl each rule command makes first, for the EPERM a jail gets (rule.c). */
const FIRST_IOCTL: Record<string, string> = {
  add: 'DEVFSIO_RADD', delset: 'DEVFSIO_RGETNEXT', show: 'DEVFSIO_RGETNEXT', showsets: 'DEVFSIO_SGETNEXT',
}

export const devfs: Tool = async (ctx, argv0) => {
  // devfs.c main: getopt "m:" before the command; `-m MP` opens that mount point (open(2) of
  // the directory, `err(1, "open: %s", mntp)`), and every rule ioctl goes to it: a devfs mount
  // answers with its own ruleset (devfs_rid_input: ruleset 0 is the mount's dm_ruleset), any
  // other file system's directory with ENOTTY (its VOP_IOCTL: **unconfirmed** text).
  let argv = argv0
  let mountRuleset: number | undefined
  if (argv[0]?.startsWith('-m')) {
    const mp = argv[0].length > 2 ? argv[0].slice(2) : argv[1]
    argv = argv.slice(argv[0].length > 2 ? 1 : 2)
    if (mp === undefined) {
      ctx.err(`devfs: option requires an argument -- m\n${DEVFS_USAGE}`)
      return 1
    }
    const k = loadKernel(ctx.root)
    const root = ctx.jid === 0 ? '/' : getJail(k, ctx.jid).path
    const on = globalPath(root, mp.startsWith('/') ? mp : `/${mp}`)
    const m = k.mounts.filter((x) => x.on === on).at(-1)
    if (!m && !ctx.fs.exists(on)) {
      ctx.err(`devfs: open: ${mp}: No such file or directory\n`)
      return 1
    }
    if (argv[0] === 'rule' && ctx.jid === 0 && m?.fstype !== 'devfs') {
      ctx.err('devfs rule: ioctl DEVFSIO_RGETNEXT: Inappropriate ioctl for device\n')
      return 1
    }
    mountRuleset = m?.ruleset ?? 0
  }
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
    const r = changes ? await withKernel(ctx.root, (k) => devfsRule(k, args, mountRuleset)) : devfsRule(loadKernel(ctx.root), args, mountRuleset)
    if (r.out !== '') ctx.out(r.out)
    if (r.err !== '') ctx.err(r.err)
    return r.code
  } catch (e) {
    if (e instanceof DevfsNotSimulated) return notSimulated(e.message)
    throw e
  }
}
