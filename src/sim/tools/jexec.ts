// jexec(8) (usr.sbin/jexec/jexec.c, 14.x: no -d): look the jail up relative to the caller,
// jail_attach, run the command inside.
import {checkJailPriv, lookupJail} from '../kernel/jails.js'
import {runProgram} from '../run.js'
import {loadKernel} from '../store.js'
import type {Kernel, SimJail} from '../kernel/state.js'
import {getopt, notSimulated, strerror, type Tool, type ToolCtx, UsageError} from './common.js'

const USAGE = 'usage: jexec [-l] [-u username | -U username] jail [command ...]\n'

/**
 * What jexec attaches to: the jail named relative to the caller (jail_getid), that the caller may
 * attach to (jail_attach's priv check); else jexec's message on stderr and its exit status 1.
 */
export function attachTarget(ctx: ToolCtx, k: Kernel, key: string): SimJail | 1 {
  let j: SimJail
  try {
    j = lookupJail(k, ctx.jid, key)
  } catch (error) {
    ctx.err(`jexec: ${(error as Error).message}\n`)
    return 1
  }
  try {
    checkJailPriv(k, ctx.jid)
  } catch (error) {
    ctx.err(`jexec: jail_attach(${j.jid}): ${strerror(error)}\n`)
    return 1
  }
  return j
}

export const jexec: Tool = async (ctx, argv) => {
  const o = getopt(argv, 'lnu:U:', () => {
    throw new UsageError(USAGE)
  })
  if (o.flags.has('u') && o.flags.has('U')) throw new UsageError(USAGE)
  const [key, ...cmd] = o.rest
  if (key === undefined) throw new UsageError(USAGE)
  for (const u of ['u', 'U']) {
    const user = o.flags.get(u)
    if (typeof user === 'string' && user !== 'root') notSimulated(`jexec -${u} ${user} (only root exists on the simulated host)`)
  }
  const target = attachTarget(ctx, loadKernel(ctx.root), key)
  if (target === 1) return 1
  const jid = target.jid
  if (cmd.length === 0) notSimulated('jexec without a command (an interactive shell)')
  const env = o.flags.has('l') ? {PATH: '/bin:/usr/bin', HOME: '/root', SHELL: '/bin/csh', USER: 'root', TERM: ctx.env['TERM'] ?? 'dumb'} : ctx.env
  // jexec ends in execvp(3): the command replaces it (a process of its own: this one).
  const r = await runProgram(ctx, cmd, {jid, env: {...env, NEST_SIM_ROOT: ctx.root}, exec: true})
  return r.signal ? 128 + 9 : r.code
}
