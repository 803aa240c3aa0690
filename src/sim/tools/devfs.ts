// devfs(8) rule management (sbin/devfs/rule.c). Rules need PRIV_DEVFS_RULE, never granted
// to a jail: inside one every rule command fails with EPERM (source-derived text).
import {withKernel, loadKernel} from '../store.js'
import {notSimulated, type Tool, UsageError} from './common.js'

export const devfs: Tool = async (ctx, argv) => {
  let ruleset: number | undefined
  const args: string[] = [...argv]
  const first = args.shift()
  if (first !== 'rule') return notSimulated(`devfs ${argv.join(' ')}`.trim())
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
    ctx.err(`devfs: ioctl ${ioctl}: Operation not permitted\n`)
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
