// vm(8) of vm-bhyve (churchers/vm-bhyve 6e91ff5, `vm` and lib/vm-*), as far as nest uses it:
// `vm list [-r]`, `vm start NAME...`, `vm stop NAME...` and `vm info NAME...`, after the checks
// every command runs first (lib/vm-base).
// Everything else vm-bhyve can do is refused as not simulated. vm is a sh script: its $0, in
// every `util::err` (`${0}: ERROR: $1`, exit 1) and `util::warn` (`${0}: WARNING: $1`) line, is
// the path the shell was given, /usr/local/sbin/vm when found through PATH.
import {loadKernel, withKernel} from '../store.js'
import {checkyesno, confGet, datastores, exists, findGuest, guestInfo, listDir, loadVmRcConfig, parseVmConf, powerOff, resolveVmDir, startGuest, vmOf, vmYesno} from '../vmbhyve.js'
import {notSimulated, type Tool, type ToolCtx} from './common.js'

const ARGV0 = '/usr/local/sbin/vm'

/** CMD_VALID_LIST (lib/vm-cmd). */
const COMMANDS = ['init', 'switch', 'datastore', 'image', 'get', 'set', 'list', 'create', 'destroy', 'rename', 'install', 'start', 'stop', 'restart', 'add', 'reset', 'poweroff', 'startall', 'stopall', 'console', 'iso', 'img', 'configure', 'passthru', '_run', 'info', 'clone', 'snapshot', 'rollback', 'migrate', 'version', 'usage']

class VmExit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`)
  }
}

const err = (ctx: ToolCtx, text: string): never => {
  ctx.err(`${ARGV0}: ERROR: ${text}\n`)
  throw new VmExit(1)
}
const warn = (ctx: ToolCtx, text: string): void => ctx.err(`${ARGV0}: WARNING: ${text}\n`)

/**
 * cmd::find (lib/vm-cmd): an exact name, else the one command the word is a prefix of
 * (`grep -iqs "^word"`); two such commands: `ambiguous command 'word'`; none: undefined.
 */
function findCommand(ctx: ToolCtx, word: string | undefined): string | undefined {
  if (!word) return err(ctx, 'no command specified')
  if (COMMANDS.includes(word)) return word
  const hits = COMMANDS.filter((c) => c.toLowerCase().startsWith(word.toLowerCase()))
  if (hits.length > 1) return err(ctx, `ambiguous command '${word}'`)
  return hits[0]
}

/** column -t -s^ (usr.bin/column): fields split as strtok(3) does (empty ones vanish), each column padded to its widest cell plus two blanks, the last one not. */
export function columnT(rows: string[][]): string {
  const cells = rows.map((r) => r.filter((c) => c !== ''))
  const widths: number[] = []
  for (const r of cells) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)))
  return cells.map((r) => `${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd((widths[i] ?? 0) + 2))).join('')}\n`).join('')
}

export const vm: Tool = async (ctx, argv) => {
  if (ctx.jid !== 0) notSimulated('vm inside a jail')
  try {
    return await run(ctx, argv)
  } catch (error) {
    if (error instanceof VmExit) return error.code
    throw error
  }
}

async function run(ctx: ToolCtx, argv: string[]): Promise<number> {
  // cmd::parse_info runs before the rc checks: version and usage need no configuration.
  const first = findCommand(ctx, argv[0])
  if (first === 'version' || first === 'usage') notSimulated(`vm ${first}`)
  const vars = loadVmRcConfig(ctx.fs, (t) => ctx.err(t))
  // `[ -z "$rc_force" ] && ! checkyesno vm_enable && util::err ...` (lib/vm-base); checkyesno
  // warns about a value that is neither yes nor no (rc.subr, as $0's warn).
  if (!vars['rc_force']) {
    const enabled = checkyesno(vars['vm_enable'])
    if (enabled === 'bad') warn(ctx, '$vm_enable is not set properly - see rc.conf(5).')
    if (enabled !== 'yes') err(ctx, '$vm_enable is not enabled in /etc/rc.conf!')
  }
  // util::check_bhyve_support: the simulated host runs everything as root, vmm.ko loaded.
  const k = loadKernel(ctx.root)
  const vmDir = resolveVmDir(k, ctx.fs, vars['vm_dir'])
  if (!vmDir.ok) return err(ctx, vmDir.error)
  // lib/vm-base makes the directories it expects as needed.
  for (const d of ['.config', '.templates', '.iso', '.img']) ctx.fs.mkdirp(`${vmDir.dir}/${d}`)
  if (!exists(ctx.fs, `${vmDir.dir}/.config/null.iso`)) ctx.fs.write(`${vmDir.dir}/.config/null.iso`, '')
  let coreText = ''
  try {
    coreText = ctx.fs.read(`${vmDir.dir}/.config/system.conf`)
  } catch {
    // grep ... 2>/dev/null: no system.conf, no core configuration.
  }
  const core = parseVmConf(coreText)
  const stores = datastores(k, ctx.fs, vmDir, core)
  // cmd::parse: a word that names no command prints the usage (util::usage, exit 1).
  if (first === undefined) return notSimulated(`vm ${argv[0] ?? ''} (the usage text)`)
  const args = argv.slice(1)
  switch (first) {
    case 'list':
      return list(ctx, args, vars, stores)
    case 'stop':
      return stop(ctx, args, stores)
    case 'start':
      return start(ctx, args, stores, core)
    case 'info':
      return info(ctx, args, stores)
    default:
      return notSimulated(`vm ${first}`)
  }
}

/** core::list (lib/vm-core): every guest of every store, with its state. */
function list(ctx: ToolCtx, args: string[], vars: Record<string, string>, stores: ReturnType<typeof datastores>): number {
  let runningOnly = false
  for (const a of args) {
    if (a === '-r') runningOnly = true
    else notSimulated(`vm list ${a}`)
  }
  const k = loadKernel(ctx.root)
  const ourHost = k.hostname
  const autostart = (vars['vm_list'] ?? '').split(/\s+/).filter(Boolean)
  const rows: string[][] = [['NAME', 'DATASTORE', 'LOADER', 'CPU', 'MEMORY', 'VNC', 'AUTO', 'STATE']]
  for (const store of stores) {
    for (const name of listDir(ctx.fs, store.path)) {
      const dir = `${store.path}/${name}`
      if (!exists(ctx.fs, `${dir}/${name}.conf`)) continue
      let conf: string[] = []
      try {
        conf = parseVmConf(ctx.fs.read(`${dir}/${name}.conf`))
      } catch {
        // grep ... 2>/dev/null: an unreadable file is an empty configuration.
      }
      // vm::running_check: the bhyve process (`Running (PID)`), else the loader's (`Bootloader (PID)`).
      const v = vmOf(k, name)
      let state = v ? `${v.stage === 'bhyve' ? 'Running' : 'Bootloader'} (${v.pid})` : 'Stopped'
      const lock = readFirstLine(ctx, `${dir}/run.lock`)
      let vnc = '-'
      if ((v || lock === ourHost) && vmYesno(confGet(conf, 'graphics'))) {
        // grep vnc console | cut -d= -f2
        const line = (readText(ctx, `${dir}/console`) ?? '').split('\n').find((l) => l.includes('vnc'))
        vnc = line?.split('=')[1] || '-'
      }
      const n = autostart.indexOf(name)
      // `for _vm in ${vm_list}`: the last match wins; its position counts from 1.
      const last = autostart.lastIndexOf(name)
      const auto = n < 0 ? 'No' : `Yes [${last + 1}]`
      if (state === 'Stopped' && lock !== undefined) state = `Locked (${lock})`
      if (state === 'Stopped' && runningOnly) continue
      rows.push([name, store.name, confGet(conf, 'loader', 'none'), confGet(conf, 'cpu'), confGet(conf, 'memory'), vnc, auto, state])
    }
  }
  ctx.out(columnT(rows))
  return 0
}

function readText(ctx: ToolCtx, p: string): string | undefined {
  try {
    return ctx.fs.read(p)
  } catch {
    return undefined
  }
}

/** `head -n1 FILE` when FILE exists (`[ -e ... ]`). */
function readFirstLine(ctx: ToolCtx, p: string): string | undefined {
  if (!exists(ctx.fs, p)) return undefined
  return (readText(ctx, p) ?? '').split('\n')[0] ?? ''
}

/**
 * core::stop (lib/vm-core), for each name: no /dev/vmm/NAME is a warning (exit 0); a running
 * bhyve gets `Sending ACPI shutdown to NAME` and SIGTERM, which bhyve(8) turns into an ACPI
 * power-off. The simulated guest powers off at once: bhyve exits 1 and vm::run's exit path
 * (lib/vm-run) destroys the vmm device and unlocks the directory. A guest still in its loader
 * asks for confirmation (util::confirm), which is not simulated.
 */
async function stop(ctx: ToolCtx, names: string[], stores: ReturnType<typeof datastores>): Promise<number> {
  if (names.length === 0) notSimulated('vm stop without a name (the usage text)')
  for (const name of names) {
    const v = vmOf(loadKernel(ctx.root), name)
    if (!v) {
      warn(ctx, `${name} doesn't appear to be a running virtual machine`)
      continue
    }
    if (v.stage === 'loader') notSimulated(`vm stop ${name} in the bootloader stage (an interactive question)`)
    ctx.out(`Sending ACPI shutdown to ${name}\n`)
    const guest = findGuest(ctx.fs, stores, name)
    await withKernel(ctx.root, (k) => powerOff(k, ctx.fs, name, guest?.dir))
  }
  return 0
}

/**
 * core::start (lib/vm-core): `vm start NAME...`, each through core::__start, which prints its
 * progress on stdout and returns 1 on a refusal; core::start's loop ends with `_done="1"`, so
 * the command exits 0 whatever happened (source-derived). Options (-f foreground, -i
 * interactive, cmd::parse_args) are not simulated. The background `vm _run` that core::__start
 * starts (`$0 _run NAME >/dev/null 2>&1 &`) runs at once in the simulator: startGuest.
 */
async function start(ctx: ToolCtx, names: string[], stores: ReturnType<typeof datastores>, core: string[]): Promise<number> {
  if (names[0]?.startsWith('-')) notSimulated(`vm start ${names[0]} (cmd::parse_args options)`)
  if (names.length === 0) notSimulated('vm start without a name (the usage text)')
  // `: ${vm_delay:=2}`, `Waiting ${vm_delay} second(s)` between two guests.
  const delay = loadVmRcConfig(ctx.fs, () => {})['vm_delay'] || '2'
  let done = false
  for (const name of names) {
    if (done) ctx.out(`Waiting ${delay} second(s)\n`)
    done = true
    ctx.out(`Starting ${name}\n`)
    const guest = findGuest(ctx.fs, stores, name)
    if (!guest) {
      ctx.out(`  ! ${name} does not seem to be a valid virtual machine\n`)
      continue
    }
    ctx.out(`  * found guest in ${guest.dir}\n`)
    // vm::confirm_stopped NAME 1 (lib/vm-run), its warnings sent to /dev/null: a lock naming
    // another host, or /dev/vmm/NAME, is a running guest; a lock naming this host alone is
    // stale (skip_lock=1).
    const k = loadKernel(ctx.root)
    const lock = readFirstLine(ctx, `${guest.dir}/run.lock`)
    if ((lock !== undefined && lock !== k.hostname) || vmOf(k, name)) {
      ctx.out('  ! guest appears to be running already\n')
      continue
    }
    let conf: string[] = []
    try {
      conf = parseVmConf(ctx.fs.read(`${guest.dir}/${name}.conf`))
    } catch {
      // grep ... 2>/dev/null: an unreadable file is an empty configuration.
    }
    if (confGet(conf, 'cpu') === '' || confGet(conf, 'memory') === '') {
      ctx.out('  ! incomplete virtual machine configuration\n')
      continue
    }
    // VM_NO_UG is set only on a CPU without unrestricted guest support: the simulated host has it.
    // `which grub-bhyve`: sysutils/grub2-bhyve is not on the simulated host.
    if (confGet(conf, 'loader') === 'grub' && !exists(ctx.fs, '/usr/local/sbin/grub-bhyve')) {
      ctx.out('  ! grub requested but sysutils/grub2-bhyve not installed?\n')
      continue
    }
    // config::core::get _console console nmdm; `which tmux`: misc/tmux is not on the simulated host.
    if (confGet(core, 'console', 'nmdm') === 'tmux' && !exists(ctx.fs, '/usr/local/bin/tmux')) {
      ctx.out('  ! tmux support enabled but misc/tmux not found\n')
      continue
    }
    ctx.out('  * booting...\n')
    await withKernel(ctx.root, (kk) => startGuest(kk, ctx.fs, name, guest))
  }
  return 0
}

/**
 * info::guest (lib/vm-info): `vm info NAME...`, each guest found (`unable to locate virtual
 * machine 'NAME'`, util::err, exit 1) and shown by info::guest_show. A running guest's extra
 * lines (bhyvectl --get-stats, the console ports, each tap's counters) are not simulated, nor is
 * `vm info` without a name (every guest).
 */
function info(ctx: ToolCtx, names: string[], stores: ReturnType<typeof datastores>): number {
  if (names.length === 0) notSimulated('vm info without a name (every guest)')
  const k = loadKernel(ctx.root)
  for (const name of names) {
    const guest = findGuest(ctx.fs, stores, name)
    if (!guest) return err(ctx, `unable to locate virtual machine '${name}'`)
    if (vmOf(k, name)) notSimulated(`vm info ${name} while it runs (bhyvectl --get-stats, its console ports and taps)`)
    ctx.out(guestInfo(k, ctx.fs, name, guest))
  }
  return 0
}
