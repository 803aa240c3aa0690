// devfs(8) rule management (sbin/devfs/rule.c). Rules need PRIV_DEVFS_RULE, never granted
// to a jail: inside one every rule command fails with EPERM (source-derived text).
import {withKernel, loadKernel} from '../store.js'
import {notSimulated, type Tool, type ToolCtx, UsageError} from './common.js'

export const devfs: Tool = async (ctx, argv) => {
  let ruleset: number | undefined
  const args: string[] = [...argv]
  const first = args.shift()
  if (first !== 'rule') return notSimulated(`devfs ${argv.join(' ')}`.trim())
  if (args[0] === 'showsets' || (args[0] === '-s' && args[2] === 'showsets')) return showsets(ctx, args.slice(args.indexOf('showsets')))
  if (args[0] === '-s') {
    ruleset = Number(args[1])
    args.splice(0, 2)
  }
  if (ruleset === undefined || !Number.isInteger(ruleset) || ruleset < 0 || ruleset > 65_535) {
    if (ruleset === undefined) notSimulated('devfs rule without -s (the current ruleset)')
    throw new UsageError(`devfs: invalid ruleset number: ${String(ruleset)}\n`)
  }
  const [cmd, ...rest] = args
  if (ctx.jid !== 0) {
    const ioctl = cmd === 'show' ? 'DEVFSIO_RGETNEXT' : cmd === 'add' ? 'DEVFSIO_RADD' : 'DEVFSIO_RDEL'
    // rule_main: setprogname("devfs rule"), so err(3) says `devfs rule: ioctl ...`.
    ctx.err(`devfs rule: ioctl ${ioctl}: Operation not permitted\n`)
    return 1
  }
  const key = String(ruleset)
  switch (cmd) {
    case 'show': {
      const rules = loadKernel(ctx.root).devfsRulesets[key] ?? []
      rules.forEach((r, i) => ctx.out(`${(i + 1) * 100} ${r}\n`))
      return 0
    }
    case 'add': {
      const rule = rest.join(' ').replaceAll(/["']/g, '').replace(/^include \$devfsrules_\w+=?/, 'include ')
      if (!/^(hide|include \d+|path \S+ (hide|unhide))$/.test(rule)) notSimulated(`devfs rule add ${rest.join(' ')}`)
      await withKernel(ctx.root, (k) => {
        k.devfsRulesets[key] = [...(k.devfsRulesets[key] ?? []), rule]
      })
      return 0
    }
    case 'delset':
      await withKernel(ctx.root, (k) => {
        delete k.devfsRulesets[key]
      })
      return 0
    default:
      return notSimulated(`devfs rule ${cmd ?? ''}`.trim())
  }
}

/**
 * `devfs rule [-s N] showsets` (sbin/devfs/rule.c rule_showsets): with no other operand (else
 * usage), DEVFSIO_SGETNEXT from 0 prints every ruleset number the kernel holds, one a line in
 * ascending order (sys/fs/devfs/devfs_rule.c keeps devfs_rulesets sorted and returns the first
 * above the one asked). A ruleset exists while it has rules or a devfs mount uses it
 * (devfs_ruleset_use creates it, devfs_ruleset_reap frees an empty unused one); 0 is no ruleset.
 * In a jail the ioctl fails its priv_check(PRIV_DEVFS_RULE) with EPERM.
 */
function showsets(ctx: ToolCtx, args: string[]): number {
  if (args.length !== 1) {
    // sbin/devfs/devfs.c usage().
    ctx.err('usage: \tdevfs [-m mount-point] [-s ruleset] rule ...\n\tdevfs [-m mount-point] ruleset ...\n')
    return 1
  }
  if (ctx.jid !== 0) {
    ctx.err('devfs rule: ioctl DEVFSIO_SGETNEXT: Operation not permitted\n')
    return 1
  }
  const k = loadKernel(ctx.root)
  const held = new Set<number>()
  for (const [n, rules] of Object.entries(k.devfsRulesets)) if (rules.length > 0) held.add(Number(n))
  for (const m of k.mounts) if (m.fstype === 'devfs' && (m.ruleset ?? 0) !== 0) held.add(m.ruleset as number)
  for (const n of [...held].sort((a, b) => a - b)) ctx.out(`${n}\n`)
  return 0
}
