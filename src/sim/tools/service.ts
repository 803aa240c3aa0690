// service(8) (usr.sbin/service/service.sh) for the rc scripts the simulator emulates:
// /etc/rc.d/devfs (libexec/rc/rc.d/devfs, below) and /etc/rc.d/jail (tools/service-jail.ts).
// Every other script, option or form is refused.
//
// rc.d/devfs: start_cmd=devfs_start, stop_cmd=':'. devfs_start loads the rulesets
// (devfs_init_rulesets, rc.subr) when devfs_load_rulesets is YES (its default in
// /etc/defaults/rc.conf, with devfs_rulesets="/etc/defaults/devfs.rules /etc/devfs.rules",
// devfs_system_ruleset="" and devfs_set_rulesets=""), then reads /etc/devfs.conf. devfs_start
// does not look at devfs_init_rulesets's status, so the script ends 0 even after a warning.
import {DevfsNotSimulated, devfsRule} from '../kernel/devfs.js'
import {devfsInitRulesets, RulesNotSimulated} from '../devfsrules.js'
import {withKernel} from '../store.js'
import {notSimulated, type Tool, type ToolCtx} from './common.js'
import {serviceJail} from './service-jail.js'

/** service.sh: `exec env -i ... /etc/rc.d/$script $*`, so rc.subr's warn() names it so. */
const PROG = '/etc/rc.d/devfs'

/** rc.conf files that could change what rc.d/devfs does (load_rc_config devfs). */
const RC_CONFS = ['/etc/rc.conf', '/etc/rc.conf.local']

/** The largest devfs.rules file read (a few kilobytes in practice); larger is refused. */
const RULES_MAX = 1024 * 1024

export const service: Tool = async (ctx, argv) => {
  const [script, cmd, ...rest] = argv
  if (script === undefined || script.startsWith('-')) return notSimulated(`service ${argv.join(' ')}`.trim())
  if (script === 'jail') return serviceJail(ctx, argv.slice(1))
  if (script !== 'devfs') return notSimulated(`service ${script} (only /etc/rc.d/devfs and /etc/rc.d/jail are emulated)`)
  if (ctx.jid !== 0) return notSimulated('service devfs in a jail (rc.d/devfs is KEYWORD: nojail)')
  if (rest.length > 0) return notSimulated(`service devfs ${argv.slice(1).join(' ')}`)
  checkRcConf(ctx)
  switch (cmd) {
    case 'stop':
    case 'onestop':
    case 'forcestop':
      return 0 // stop_cmd=':'
    case 'start':
    case 'restart':
    case 'onestart':
    case 'onerestart':
    case 'forcestart':
    case 'forcerestart':
      break
    default:
      return notSimulated(`service devfs ${cmd ?? ''}`.trim())
  }
  if (ctx.fs.exists('/etc/devfs.conf')) return notSimulated('/etc/devfs.conf (links, owners and modes of devices)')
  const errs: string[] = []
  try {
    await withKernel(ctx.root, (k) => {
      devfsInitRulesets({
        read: (f) => readRules(ctx, f),
        devfs: (args) => {
          if (args[0] !== 'rule') return notSimulated(`/sbin/devfs ${args.join(' ')}`)
          return devfsRule(k, args.slice(1))
        },
        err: (t) => errs.push(t),
        prog: PROG,
      })
    })
  } catch (e) {
    if (e instanceof RulesNotSimulated || e instanceof DevfsNotSimulated) return notSimulated(e.message)
    throw e
  }
  for (const e of errs) ctx.err(e)
  return 0
}

/** A devfs.rules file as rc.subr reads it: `[ ! -e "$file" ]` skips it; a non-file is refused. */
function readRules(ctx: ToolCtx, file: string): string | null {
  if (!ctx.fs.exists(file)) return null
  if (ctx.fs.isDir(file)) return notSimulated(`${file} is a directory (sh: cannot read it)`)
  const text = ctx.fs.read(file)
  if (text.length > RULES_MAX) return notSimulated(`${file}: more than ${RULES_MAX} bytes`)
  return text
}

/**
 * rc.conf is shell: the simulator reads no variable from it. A line that sets one of
 * rc.d/devfs's variables would change what it does, so it is refused rather than ignored.
 */
function checkRcConf(ctx: ToolCtx): void {
  for (const f of RC_CONFS) {
    if (!ctx.fs.exists(f) || ctx.fs.isDir(f)) continue
    const line = ctx.fs.read(f).split('\n').find((l) => /^\s*(export\s+)?devfs_[A-Za-z_]*=/.test(l))
    if (line !== undefined) notSimulated(`${f}: ${line.trim()} (rc.conf variables of rc.d/devfs)`)
  }
  if (ctx.fs.exists('/etc/rc.conf.d/devfs')) notSimulated('/etc/rc.conf.d/devfs')
}
