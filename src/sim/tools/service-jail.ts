// service(8)'s `service jail start|stop NAME...` (tools/service.ts dispatches the scripts)
// (usr.sbin/service/service.sh runs /etc/rc.d/jail; libexec/rc/rc.d/jail, commit 065edb73,
// research in src/sim/research/jail-networking.md §5a). What rc.d/jail does for each jail:
// - the name mangled `tr /. _`; the configuration the first readable of /etc/jail.NAME.conf,
//   /etc/jail.conf.d/NAME.conf, /etc/jail.conf (parse_options);
// - start: `jail -i -f CONF -c NAME` with its output captured (`> $_tmp 2>&1`): ` NAME` after
//   `Starting jails:` on success, else ` cannot start jail  "NAME": ` (echo joins its two
//   words with one more blank) and the captured output; then `.`. The exit status is 0 either
//   way (jail_start does not return the failure);
// - stop: a jail that is not running (`jls -j NAME` fails) is skipped silently; otherwise
//   `jail -q -f CONF -r NAME` (no `NAME: removed`), its output shown only when the jail is
//   still there after it.
// Any other verb is not simulated.
import {lookupJail} from '../kernel/jails.js'
import {runProgram} from '../run.js'
import {loadKernel} from '../store.js'
import {notSimulated, type Tool, type ToolCtx} from './common.js'

function confOf(ctx: ToolCtx, j: string): string {
  for (const c of [`/etc/jail.${j}.conf`, `/etc/jail.conf.d/${j}.conf`]) if (ctx.fs.at('/').exists(c)) return c
  return '/etc/jail.conf'
}

const running = (ctx: ToolCtx, j: string): boolean => {
  try {
    lookupJail(loadKernel(ctx.root), ctx.jid, j)
    return true
  } catch {
    return false
  }
}

/** jail(8) with its output kept (rc.d/jail's temp file). */
async function captured(ctx: ToolCtx, argv: string[]): Promise<{code: number; text: string}> {
  let text = ''
  const r = await runProgram({...ctx, out: (t) => { text += t }, err: (t) => { text += t }}, argv, {jid: ctx.jid})
  return {code: r.signal ? 137 : r.code, text}
}

/** `service jail VERB NAME...` (argv without `jail`). */
export const serviceJail: Tool = async (ctx, argv) => {
  const [verb, ...names] = argv
  if (verb !== 'start' && verb !== 'stop') notSimulated(`service jail ${argv.join(' ')} (only service jail start|stop NAME...)`)
  if (names.length === 0) notSimulated(`service jail ${verb ?? ''} without names (jail_list)`)
  if (verb === 'start') {
    ctx.out('Starting jails:')
    for (const name of names) {
      const j = name.replace(/[/.]/g, '_')
      const r = await captured(ctx, ['/usr/sbin/jail', '-i', '-f', confOf(ctx, j), '-c', j])
      if (r.code === 0) ctx.out(` ${j}`)
      else ctx.out(` cannot start jail  "${j}": \n${r.text}`)
    }
    ctx.out('.\n')
    return 0
  }
  ctx.out('Stopping jails:')
  for (const name of [...names].reverse()) {
    const j = name.replace(/[/.]/g, '_')
    if (!running(ctx, j)) continue
    ctx.out(` ${j}`)
    const r = await captured(ctx, ['/usr/sbin/jail', '-q', '-f', confOf(ctx, j), '-r', j])
    if (running(ctx, j)) ctx.out(`\n${r.text}`)
  }
  ctx.out('.\n')
  return 0
}
