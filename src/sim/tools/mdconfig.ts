// mdconfig(8) for vnode units over the simulated host's files (sbin/mdconfig/mdconfig.c;
// the texts of the 2025 version migration.md §2.3 quotes, the list format of freebsd-src
// 039ea81 md_list): -a -t vnode -f FILE [-o readonly|ro] [-u N], mdconfig FILE,
// -d -u N|mdN [-o force], -l [-v] [-f FILE] [-u N].
import {MdError, mdAttach, mdDetach} from '../kernel/disks.js'
import {loadKernel, withKernel} from '../store.js'
import {getopt, notSimulated, type Tool, type ToolCtx} from './common.js'
import {humanize} from './gpart.js'

// usage() of freebsd-src 039ea81 (newer versions add -L, -r and more options: **unconfirmed** for 14.3).
const USAGE = 'usage: mdconfig -a -t type [-n] [-o [no]option] ... [-f file]\n'
  + '                [-s size] [-S sectorsize] [-u unit]\n'
  + '                [-x sectors/track] [-y heads/cyl]\n'
  + '       mdconfig -d -u unit [-o [no]force]\n'
  + '       mdconfig -l [-v] [-n] [-u unit]\n'
  + '       mdconfig file\n'
  + '\t\ttype = {malloc, preload, vnode, swap}\n'
  + '\t\toption = {cluster, compress, reserve}\n'
  + '\t\tsize = %d (512 byte blocks), %db (B),\n'
  + '\t\t       %dk (kB), %dm (MB), %dg (GB) or\n'
  + '\t\t       %dt (TB)\n'

function usage(ctx: ToolCtx): number {
  ctx.err(USAGE)
  return 1
}

/** `-u 0`, `-u md0`, `-u /dev/md0` (the /dev/ and md prefixes stripped, then strtoul). */
function unitOf(arg: string): number | undefined {
  const s = arg.replace(/^\/dev\//, '').replace(/^md/, '')
  return /^[0-9]+$/.test(s) ? Number(s) : undefined
}

export const mdconfig: Tool = async (ctx, argv) => {
  if (ctx.jid !== 0) return notSimulated('mdconfig inside a jail')
  let o
  try {
    o = getopt(argv, 'adf:lno:rs:S:t:u:vx:y:L:', () => {
      throw new MdError('usage')
    })
  } catch {
    return usage(ctx)
  }
  for (const c of ['n', 'r', 's', 'S', 'x', 'y', 'L']) if (o.flags.has(c)) notSimulated(`mdconfig -${c}`)
  const action = o.flags.has('a') ? 'attach' : o.flags.has('d') ? 'detach' : o.flags.has('l') ? 'list' : o.flags.has('f') ? 'attach' : o.rest.length === 1 ? 'attach' : undefined
  if ((Number(o.flags.has('a')) + Number(o.flags.has('d')) + Number(o.flags.has('l'))) > 1 || action === undefined) return usage(ctx)
  const unitArg = o.flags.get('u')
  const unit = typeof unitArg === 'string' ? unitOf(unitArg) : undefined
  if (typeof unitArg === 'string' && unit === undefined) {
    ctx.err(`mdconfig: bad unit: ${unitArg.replace(/^\/dev\//, '').replace(/^md/, '')}\n`)
    return 1
  }
  const opts = o.multi.filter(([c]) => c === 'o').map(([, v]) => v)
  try {
    if (action === 'list') {
      const k = loadKernel(ctx.root)
      const file = typeof o.flags.get('f') === 'string' ? ctx.fs.canonical(o.flags.get('f') as string) : undefined
      const units = k.mds.filter((m) => (unit === undefined || m.unit === unit) && (file === undefined || m.file === file)).sort((a, b) => a.unit - b.unit)
      // md_list: names then a blank each (a newline at the end if any), -v or -u a line each.
      if (o.flags.has('v') || unit !== undefined) {
        for (const m of units) {
          const size = (k.disks.find((d) => d.id === m.disk)?.sectors ?? 0) * 512
          // md_prthumanval: humanize_number into a 6-byte buffer, printed %6s (the digit budget as gpart's: **unconfirmed**).
          ctx.out(`md${m.unit}\tvnode\t${humanize(size).padStart(6)}\t${m.file}\n`)
        }
        return unit !== undefined && units.length === 0 ? 1 : 0
      }
      if (units.length > 0) ctx.out(`${units.map((m) => `md${m.unit} `).join('')}\n`)
      return 0
    }
    if (action === 'detach') {
      if (unit === undefined) return usage(ctx)
      let force = false
      for (const v of opts) {
        if (v === 'force') force = true
        else if (v === 'noforce') force = false
        else {
          ctx.err(`mdconfig: Unknown option: ${v}.\n`)
          return 1
        }
      }
      await withKernel(ctx.root, (k) => mdDetach(k, unit, force, ctx.fs))
      return 0
    }
    // attach
    const type = o.flags.get('t')
    if (typeof type === 'string' && type !== 'vnode') notSimulated(`mdconfig -t ${type}`)
    const fileArg = typeof o.flags.get('f') === 'string' ? (o.flags.get('f') as string) : o.rest[0]
    if (fileArg === undefined) {
      ctx.err('mdconfig: must specify -f for -t vnode\n')
      return 1
    }
    let readonly = false
    for (const v of opts) {
      if (v === 'readonly' || v === 'ro') readonly = true
      else if (v === 'noreadonly') readonly = false
      else if (!['cluster', 'nocluster', 'compress', 'nocompress', 'async', 'noasync', 'cache', 'nocache'].includes(v)) {
        ctx.err(`mdconfig: Unknown option: ${v}.\n`)
        return 1
      }
    }
    // md_set_file: realpath(3) first (the simulator has no working directory: a relative path is taken from /).
    const given = fileArg.startsWith('/') ? fileArg : `/${fileArg}`
    if (!ctx.fs.exists(given)) {
      ctx.err(o.flags.has('f') ? 'mdconfig: realpath: No such file or directory\n' : `mdconfig: could not find full path for ${fileArg}: No such file or directory\n`)
      return 1
    }
    const real = ctx.fs.canonical(given)
    if (ctx.fs.lkind(real) !== 'file') {
      ctx.err(`mdconfig: ${real} is not a regular file\n`)
      return 1
    }
    const text = ctx.fs.read(real)
    const md = await withKernel(ctx.root, (k) => mdAttach(k, real, text, Buffer.byteLength(text), readonly, unit))
    // MD_AUTOUNIT: the unit made is printed (printf("%s%d\n", MD_NAME, unit)); with -u, nothing.
    if (unit === undefined) ctx.out(`md${md.unit}\n`)
    return 0
  } catch (error) {
    if (error instanceof MdError) {
      ctx.err(`mdconfig: ${error.message}\n`)
      return 1
    }
    throw error
  }
}
