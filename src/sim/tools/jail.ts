// jail(8) (usr.sbin/jail/jail.c, command.c, config.c, state.c): command-line jails and
// jail.conf jails, the start and stop sequences with their exec hooks run for real, rollback
// of a failed start, and the implied parent.child dependency (§5).
import {err, ok} from 'neverthrow'

import {
  boolValue, INTERNAL_PARAMS, isKnownParam, KERNEL_PARAMS, lastValue, paramValues, parseConfig, resolveConfig, splitNo,
  type IncludeReader, type ResolvedJail,
} from '../../jailconf/index.js'
import {descendants, getJail, jailRemove, jailSet, lookupByName, lookupJail, nameFor, type RawParams} from '../kernel/jails.js'
import {mountHolding} from '../kernel/mounts.js'
import {SysError, globalPath, normPath, type Kernel} from '../kernel/state.js'
import {runProgram} from '../run.js'
import {loadKernel, withKernel} from '../store.js'
import {getopt, notSimulated, strerror, type Tool, type ToolCtx, UsageError} from './common.js'

const USAGE = `usage: jail [-dhilqv] [-J jid_file] [-u username] [-U username]
            -[cmr] param=value ... [command=command ...]
       jail [-dqv] [-f file] -[cmr] [jail]
       jail [-qv] [-f file] -[rR] ['*' | jail ...]
       jail [-dhilqv] [-J jid_file] [-u username] [-U username]
            [-n jailname] [-s securelevel]
            path hostname ip[,...] command ...
       jail [-f file] -e separator
`

/** Characters that make jail(8) run a command through /bin/sh -c (command.c). */
const SHELL_META = /[!"$&'()*;<>?[\\\]`{|}~]/

interface Job {
  /** The name as the caller knows it (config block name or name= from the command line). */
  name: string
  /** From a configuration file: messages say `jail: <name>: `. */
  fromConfig: boolean
  conf: ResolvedJail
}

interface Opts {
  quiet: boolean
  verbose: boolean
  printJid: boolean
}

class JailRun {
  constructor(readonly ctx: ToolCtx, readonly o: Opts) {}

  note(job: Job, text: string): void {
    if (!this.o.quiet && (job.fromConfig || this.o.verbose)) this.ctx.out(`${job.name}: ${text}\n`)
  }

  warn(job: Job, text: string): void {
    this.ctx.err(job.fromConfig ? `jail: ${job.name}: ${text}\n` : `jail: ${text}\n`)
  }

  get k(): Kernel {
    return loadKernel(this.ctx.root)
  }

  running(name: string): number | undefined {
    try {
      return lookupByName(this.k, this.ctx.jid, name).jid
    } catch {
      return undefined
    }
  }

  /**
   * Run one command string of an exec.* parameter, the way command.c's run_command does: the
   * first of its shell characters makes it `/bin/sh -c LINE` (interpreted by the simulator's sh
   * subset, src/sim/sh.ts), unless that character is a `&` ending the line (run in the
   * background, not simulated); a line without any is split on blanks, no quoting. Messages
   * show the argv joined by spaces (comline).
   */
  async runCommand(job: Job, line: string, jid: number): Promise<boolean> {
    if (line.trim() === '') return true
    const meta = SHELL_META.exec(line)
    if (meta && meta[0] === '&' && meta.index === line.length - 1) notSimulated(`${line}: a hook run in the background (a trailing &)`)
    const argv = meta ? ['/bin/sh', '-c', line] : line.trim().split(/[ \t\f\v\r\n]+/)
    return this.runArgv(job, argv, jid)
  }

  /**
   * command.c check_path: a path jail(8) is about to use (a mount point, exec.consolelog) is
   * lstat'ed component by component below the jail's path, and refused where one is a link
   * ("is a symbolic link") or missing (a file's last component may be missing), "since that's
   * where the security risk lies". Paths as the caller sees them.
   */
  checkPath(job: Job, pname: string, p: string, isFile: boolean): boolean {
    const jailPath = lastValue(job.conf, 'path') ?? ''
    if (!p.startsWith(`${jailPath}/`) || jailPath === '') return true
    const view = getJail(this.k, this.ctx.jid).path
    const parts = p.slice(jailPath.length).split('/').filter((c) => c !== '')
    for (let i = 1; i <= parts.length; i++) {
      const t = `${jailPath}/${parts.slice(0, i).join('/')}`
      let kind
      try {
        kind = this.ctx.fs.lkind(globalPath(view, t))
      } catch {
        kind = null
      }
      if (kind === null) {
        if (isFile && i === parts.length) break
        this.warn(job, `${pname}: ${t}: No such file or directory`)
        return false
      }
      if (kind === 'link') {
        this.warn(job, `${pname}: ${t} is a symbolic link`)
        return false
      }
    }
    return true
  }

  async runArgv(job: Job, argv: string[], jid: number, shown = argv.join(' ')): Promise<boolean> {
    if (this.o.verbose) this.ctx.out(`${job.name}: run command${jid === this.ctx.jid ? '' : ' in jail'}: ${shown}\n`)
    const inside = jid !== this.ctx.jid
    const consolelog = inside ? lastValue(job.conf, 'exec.consolelog') : undefined
    const timeout = lastValue(job.conf, 'exec.timeout')
    // exec.clean replaces the environment of every command, in the jail or not (command.c
    // run_command: `if (clean) environ = &cleanenv`, outside any injail test), keeping TERM;
    // setusercontext then sets root's PATH, and HOME, SHELL and USER follow.
    const clean = boolParam(job.conf, 'exec.clean')
    const env: NodeJS.ProcessEnv = clean ? {PATH: '/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin', HOME: '/root', SHELL: '/bin/sh', USER: 'root', TERM: this.ctx.env['TERM'] ?? 'dumb'} : this.ctx.env
    let logFile: string | undefined
    if (consolelog && !this.checkPath(job, 'exec.consolelog', consolelog, true)) return false
    try {
      // Opened by jail(8) outside the jail (command.c, get_jail... open of exec.consolelog): the caller's view.
      if (consolelog) logFile = this.ctx.fs.real(globalPath(getJail(this.k, this.ctx.jid).path, consolelog))
    } catch (error) {
      if (!(error instanceof SysError)) throw error
      // command.c run_command: `jail_warnx(j, "open %s: %s", conslog, strerror(errno))`; jail(8)
      // makes no directory (O_WRONLY | O_CREAT | O_APPEND, DEFFILEMODE).
      this.warn(job, `open ${consolelog}: ${strerror(error)}`)
      return false
    }
    const r = await runProgram(this.ctx, argv, {
      jid,
      env,
      // The forked child's execvp failing: `jail_warnx(j, "exec %s: %s", argv[0], strerror(errno)); exit(1)`.
      notFound: (p) => `jail: ${job.fromConfig ? `${job.name}: ` : ''}exec ${p}: No such file or directory\n`,
      ...(logFile ? {logFile} : {}),
      ...(timeout ? {timeoutSec: Number(timeout)} : {}),
    })
    if (r.timedOut) {
      this.warn(job, `${shown}: timed out`)
      return false
    }
    if (r.signal) {
      this.warn(job, `${shown}: exited on signal 9`)
      return false
    }
    if (r.code !== 0) {
      this.warn(job, `${shown}: failed`)
      return false
    }
    return true
  }

  async runHooks(job: Job, param: string, jid: number): Promise<boolean> {
    for (const line of paramValues(job.conf, param) ?? []) if (!(await this.runCommand(job, line, jid))) return false
    return true
  }

  /**
   * The ifconfig commands for `ip4.addr`/`ip6.addr` values that name an interface (`IF|ADDR`)
   * or every value when `interface` is set (config.c check_intparams), without their last word
   * (`alias` going up, `-alias` going down), as command.c run_command builds them: IPv4 without
   * a prefix gets `netmask 255.255.255.255`, a dotted one after "/" becomes the netmask; IPv6
   * without one gets `prefixlen 128`.
   */
  aliasCommands(job: Job): string[][] {
    const dflt = lastValue(job.conf, 'interface')
    const out: string[][] = []
    for (const fam of ['ip4', 'ip6'] as const) {
      for (const v of paramValues(job.conf, `${fam}.addr`) ?? []) {
        const bar = v.indexOf('|')
        if (bar < 0 && dflt === undefined) continue
        const iface = bar < 0 ? (dflt as string) : v.slice(0, bar)
        const addr = (bar < 0 ? v : v.slice(bar + 1)).split(' ')[0] ?? ''
        const slash = addr.indexOf('/')
        if (fam === 'ip4') {
          const rest = slash < 0 ? ['netmask', '255.255.255.255'] : addr.slice(slash + 1).includes('.') ? ['netmask', addr.slice(slash + 1)] : []
          out.push(['/sbin/ifconfig', iface, 'inet', slash >= 0 && rest.length > 0 ? addr.slice(0, slash) : addr, ...rest])
        } else {
          out.push(['/sbin/ifconfig', iface, 'inet6', addr, ...(slash < 0 ? ['prefixlen', '128'] : [])])
        }
      }
    }
    return out
  }

  /** The mounts a jail's configuration asks for, in start order, as [path, argv]. */
  mountSteps(job: Job): Array<{param: string; path: string; type: string; argv: string[]}> {
    const path = lastValue(job.conf, 'path') ?? '/'
    const steps: Array<{param: string; path: string; type: string; argv: string[]}> = []
    const fstabLine = (param: string, line: string): void => {
      const f = line.trim().split(/\s+/)
      if (f.length < 3) return
      const [special, node, type, opts] = f as [string, string, string, string | undefined]
      const argv = ['/sbin/mount', '-t', type, ...(opts && opts !== 'rw' && opts !== 'defaults' ? ['-o', opts] : []), special, node]
      steps.push({param, path: node, type, argv})
    }
    for (const line of paramValues(job.conf, 'mount') ?? []) fstabLine('mount', line)
    const fstab = lastValue(job.conf, 'mount.fstab')
    if (fstab) {
      const k = this.k
      const text = this.ctx.fs.exists(globalPath(getJail(k, this.ctx.jid).path, fstab)) ? this.ctx.fs.read(globalPath(getJail(k, this.ctx.jid).path, fstab)) : ''
      for (const line of text.split('\n')) if (line.trim() && !line.trim().startsWith('#')) fstabLine('mount.fstab', line)
    }
    if (boolParam(job.conf, 'mount.devfs')) {
      const rs = lastValue(job.conf, 'devfs_ruleset') ?? '4'
      steps.push({param: 'mount.devfs', path: `${path}/dev`, type: 'devfs', argv: ['/sbin/mount', '-t', 'devfs', `-oruleset=${rs}`, '.', normPath(`${path}/dev`)]})
    }
    if (boolParam(job.conf, 'mount.fdescfs')) steps.push({param: 'mount.fdescfs', path: `${path}/dev/fd`, type: 'fdescfs', argv: ['/sbin/mount', '-t', 'fdescfs', '.', normPath(`${path}/dev/fd`)]})
    if (boolParam(job.conf, 'mount.procfs')) steps.push({param: 'mount.procfs', path: `${path}/proc`, type: 'procfs', argv: ['/sbin/mount', '-t', 'procfs', '.', normPath(`${path}/proc`)]})
    return steps.map((s) => ({...s, path: normPath(s.path)}))
  }

  /** The kernel parameters of a jail's configuration, as jail(8) hands them to jail_set. */
  kernelParams(job: Job): RawParams {
    const out: RawParams = []
    for (const p of job.conf.params) {
      if (!KERNEL_PARAMS.has(splitNo(p.name).base)) continue
      // jail(8) gives the kernel the address alone: an interface before "|", a "/prefix" and
      // ifconfig options after a blank are its own (usr.sbin/jail/config.c, check_intparams).
      const values = p.name === 'ip4.addr' || p.name === 'ip6.addr' ? p.values.map((v) => v.slice(v.indexOf('|') + 1).split('/')[0]?.split(' ')[0] ?? '') : p.values
      out.push({name: p.name, value: values.length === 0 ? null : values.join(',')})
    }
    return out
  }

  async kernelSet(job: Job, params: RawParams, create: boolean): Promise<number | undefined> {
    if (this.o.verbose) this.ctx.out(`${job.name}: jail_set(JAIL_${create ? 'CREATE' : 'UPDATE'}) ${params.map((p) => (p.value === null ? p.name : `${p.name}=${p.value}`)).join(' ')}\n`)
    try {
      return await withKernel(this.ctx.root, (k) => jailSet(k, this.ctx.jid, params, {create, update: !create}, {
        isDir: (g) => this.ctx.fs.isDir(g),
        canonical: (g) => this.ctx.fs.canonical(g),
        mountOf: (g) => mountHolding(k, g)?.id ?? null,
      }))
    } catch (error) {
      if (!(error instanceof SysError)) throw error
      this.warn(job, error.errmsg ?? `jail_set: ${strerror(error)}`)
      return undefined
    }
  }

  async remove(job: Job, jid: number): Promise<boolean> {
    try {
      const pids = await withKernel(this.ctx.root, (k) => jailRemove(k, this.ctx.jid, jid))
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {
          // Already gone.
        }
      }
    } catch (error) {
      if (!(error instanceof SysError)) throw error
      // Only EPERM is reported: a jail already gone is not an error here (jail.c).
      if (error.errno === 'EPERM') {
        this.warn(job, `jail_remove: ${strerror(error)}`)
        return false
      }
    }
    this.note(job, 'removed')
    return true
  }

  /** The start sequence (§5.2) with rollback of what was done (§5.3). */
  async start(job: Job): Promise<boolean> {
    const conf = job.conf
    const path = lastValue(conf, 'path')
    if (path !== undefined && !path.startsWith('/')) {
      this.warn(job, `path ${path}: not an absolute pathname`)
      return false
    }
    if (path !== undefined && !this.ctx.fs.isDir(globalPath(getJail(this.k, this.ctx.jid).path, path))) {
      this.warn(job, `path ${path}: No such file or directory`)
      return false
    }
    // config.c check_intparams reads each mount.fstab file before anything runs: one it cannot
    // open fails the jail (`mount.fstab: FILE: No such file or directory`).
    for (const fstab of paramValues(conf, 'mount.fstab') ?? []) {
      if (fstab !== '' && !this.ctx.fs.exists(globalPath(getJail(this.k, this.ctx.jid).path, fstab))) {
        this.warn(job, `mount.fstab: ${fstab}: No such file or directory`)
        return false
      }
    }
    const undo: Array<() => Promise<void>> = []
    const rollback = async (): Promise<false> => {
      for (const u of undo.reverse()) await u()
      return false
    }
    if (!(await this.runHooks(job, 'exec.prepare', this.ctx.jid))) return rollback()
    // The addresses jail(8) sets on an interface, its first start steps (jail.c startcommands),
    // each undone by its -alias when a later step fails, last first.
    for (const a of this.aliasCommands(job)) {
      if (!(await this.runArgv(job, [...a, 'alias'], this.ctx.jid))) return rollback()
      undo.push(async () => {
        await this.runArgv(job, [...a, '-alias'], this.ctx.jid)
      })
    }
    for (const m of this.mountSteps(job)) {
      if (!this.checkPath(job, m.param, m.path, false)) return rollback()
      if (!(await this.runArgv(job, m.argv, this.ctx.jid))) return rollback()
      undo.push(async () => {
        await runProgram(this.ctx, ['/sbin/umount', m.path], {jid: this.ctx.jid})
      })
    }
    if (!(await this.runHooks(job, 'exec.prestart', this.ctx.jid))) return rollback()
    const params = this.kernelParams(job)
    const hasPersist = params.some((p) => splitNo(p.name).base === 'persist')
    const needsTemp = ['exec.start', 'command', 'exec.poststart'].some((p) => paramValues(conf, p) !== undefined)
    const tempPersist = !hasPersist && needsTemp
    // jail(8) sets persist while it runs commands in a new jail, and clears it afterwards (§2.7).
    if (tempPersist) params.push({name: 'persist', value: null})
    const jid = await this.kernelSet(job, params, true)
    if (jid === undefined) return rollback()
    this.note(job, 'created')
    if (this.o.printJid) this.ctx.out(`${jid}\n`)
    undo.push(async () => {
      await this.remove(job, jid)
    })
    if (!(await this.runHooks(job, 'exec.created', this.ctx.jid))) return rollback()
    // vnet.interface, after exec.created (jail.c startcommands): command.c run_command runs
    // `/sbin/ifconfig IF vnet J` for each value, J the jail's jid parameter or else its name; a
    // failed start moves them back (`-vnet`), last first, before the jail is removed. A stop runs
    // no -vnet: the interfaces go home when the jail dies (the kernel model, ifnet.ts).
    const target = lastValue(conf, 'jid') ?? lastValue(conf, 'name') ?? job.name
    for (const iface of paramValues(conf, 'vnet.interface') ?? []) {
      if (iface === '') continue
      if (!(await this.runArgv(job, ['/sbin/ifconfig', iface, 'vnet', target], this.ctx.jid))) return rollback()
      undo.push(async () => {
        await this.runArgv(job, ['/sbin/ifconfig', iface, '-vnet', target], this.ctx.jid)
      })
    }
    if (!(await this.runHooks(job, 'exec.start', jid))) return rollback()
    const command = paramValues(conf, 'command')
    if (command && command.length > 0 && !(await this.runArgv(job, command, jid))) return rollback()
    if (!(await this.runHooks(job, 'exec.poststart', this.ctx.jid))) return rollback()
    if (tempPersist) {
      await withKernel(this.ctx.root, (k) => {
        const j = k.jails.find((x) => x.jid === jid)
        if (j) {
          j.persist = false
          // With no process left, the jail dies as soon as persist is cleared.
          if (j.daemons === 0 && j.pids.length === 0 && !k.jails.some((c) => c.parent === jid && c.state === 'ALIVE')) {
            jailRemove(k, 0, jid)
          }
        }
      })
    }
    return true
  }

  /** The stop sequence (§5.4): a failure before removal abandons the stop. */
  async stop(job: Job, jid: number): Promise<boolean> {
    if (!(await this.runHooks(job, 'exec.prestop', this.ctx.jid))) return false
    if (!(await this.runHooks(job, 'exec.stop', jid))) return false
    const timeout = Number(lastValue(job.conf, 'stop.timeout') ?? '10')
    const pids = this.k.jails.find((j) => j.jid === jid)?.pids ?? []
    if (timeout > 0 && pids.length > 0) {
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGTERM')
        } catch {
          // Gone.
        }
      }
      const until = Date.now() + timeout * 1000
      while (Date.now() < until && (this.k.jails.find((j) => j.jid === jid)?.pids.length ?? 0) > 0) await new Promise((r) => setTimeout(r, 50))
    }
    let okAll = await this.remove(job, jid)
    if (!(await this.runHooks(job, 'exec.poststop', this.ctx.jid))) okAll = false
    const steps = this.mountSteps(job)
    const order = [
      ...steps.filter((s) => s.param === 'mount.procfs'),
      ...steps.filter((s) => s.param === 'mount.fdescfs'),
      ...steps.filter((s) => s.param === 'mount.devfs'),
      ...steps.filter((s) => s.param === 'mount.fstab').reverse(),
      ...steps.filter((s) => s.param === 'mount').reverse(),
    ]
    for (const s of order) {
      const k = this.k
      const global = globalPath(getJail(k, this.ctx.jid).path, s.path)
      const m = k.mounts.filter((x) => x.on === global).at(-1)
      // jail(8) checks that the path is a mount point of the expected type before unmounting
      // (command.c check_path with umount_type); a failed check fails the command (run_command
      // returns -1, next_command marks the jail failed: exit 1) and the stop goes on.
      if (!m) {
        this.warn(job, `${s.param}: ${s.path}: not a mount point`)
        okAll = false
        continue
      }
      if (m.fstype !== s.type) {
        this.warn(job, `${s.param}: ${s.path}: not a ${s.type} mount`)
        okAll = false
        continue
      }
      // command.c run_command, IP_MOUNT/IP__MOUNT_FROM_FSTAB going down: `/sbin/umount -t TYPE
      // PATH`; mount.devfs and the other mount.* booleans: `/sbin/umount PATH`.
      const argv = s.param === 'mount' || s.param === 'mount.fstab' ? ['/sbin/umount', '-t', s.type, s.path] : ['/sbin/umount', s.path]
      if (!(await this.runArgv(job, argv, this.ctx.jid))) okAll = false
    }
    // Then the addresses, IPv6 before IPv4 (jail.c stopcommands), each in its given order.
    const aliases = this.aliasCommands(job)
    for (const a of [...aliases.filter((x) => x[2] === 'inet6'), ...aliases.filter((x) => x[2] === 'inet')]) {
      if (!(await this.runArgv(job, [...a, '-alias'], this.ctx.jid))) okAll = false
    }
    if (!(await this.runHooks(job, 'exec.release', this.ctx.jid))) okAll = false
    return okAll
  }

  async modify(job: Job, jid: number): Promise<boolean> {
    // The kernel refuses create-only parameters only when they would change (§2.12).
    const params = this.kernelParams(job).filter((p) => p.name !== 'name' && p.name !== 'jid')
    const set = await this.kernelSet(job, [{name: 'jid', value: String(jid)}, ...params], false)
    if (set === undefined) return false
    this.note(job, 'updated')
    return true
  }

}

function boolParam(conf: ResolvedJail, name: string): boolean {
  const p = conf.params.find((x) => splitNo(x.name).base === name)
  return p ? boolValue(p.name, p.values) : false
}

/** jail(8)'s own checks of a resolved configuration before anything runs (check_intparams). */
function checkParams(conf: ResolvedJail): string[] {
  const errors = [...conf.errors]
  for (const p of conf.params) {
    if (!isKnownParam(p.name) && !/^allow\.mount\.[a-z0-9]+$/.test(splitNo(p.name).base)) {
      errors.push(`unknown parameter: ${p.name}`)
      continue
    }
    const base = splitNo(p.name).base
    const kind = INTERNAL_PARAMS.get(base) ?? KERNEL_PARAMS.get(base)?.type
    const last = p.values.at(-1)
    if (last === undefined) continue
    if (kind === 'bool' && !/^(true|false)$/i.test(last) && !/^-?[0-9]+$/.test(last)) errors.push(`${p.name}: unknown boolean value "${last}"`)
    if (kind === 'int' && !/^-?[0-9]+$/.test(last)) errors.push(`${p.name}: non-integer value "${last}"`)
  }
  return errors
}

function parseCommandLine(args: string[]): ResolvedJail {
  const params: Array<{name: string; values: string[]}> = []
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string
    const eq = a.indexOf('=')
    const name = eq < 0 ? a : a.slice(0, eq)
    if (name === 'command') {
      params.push({name, values: [a.slice(eq + 1), ...args.slice(i + 1)]})
      break
    }
    const value = eq < 0 ? undefined : a.slice(eq + 1)
    const kind = INTERNAL_PARAMS.get(name) ?? KERNEL_PARAMS.get(name)?.type
    const values = value === undefined ? [] : kind === 'ip4' || kind === 'ip6' || kind === 'list' ? value.split(',') : [value]
    const existing = params.find((p) => p.name === name)
    if (existing) existing.values = values
    else params.push({name, values})
  }
  const name = params.find((p) => p.name === 'name')?.values.at(-1) ?? params.find((p) => p.name === 'jid')?.values.at(-1) ?? ''
  return {name, params, errors: []}
}

function viewReader(ctx: ToolCtx, root: string): IncludeReader {
  return {
    read: (p) => {
      const g = globalPath(root, p)
      if (!ctx.fs.exists(g) || ctx.fs.isDir(g)) return err('No such file or directory')
      try {
        return ok(ctx.fs.read(g))
      } catch (error) {
        if (!(error instanceof SysError)) throw error
        return err(strerror(error))
      }
    },
    glob: (pat) => ctx.fs.glob(globalPath(root, pat)).map((g) => (root === '/' ? g : g.slice(root.length))),
  }
}

/** The order to act in: dependencies first for starting, dependents first for stopping. */
function order(jobs: Job[], all: Map<string, Job>, forStop: boolean, warn: (job: Job, t: string) => void): {list: Job[]; bad: Set<string>} {
  const deps = (j: Job): string[] => {
    const explicit = (paramValues(j.conf, 'depend') ?? []).flatMap((d) => d.split(',')).map((d) => d.trim()).filter(Boolean)
    const dot = j.name.lastIndexOf('.')
    const parent = dot > 0 ? j.name.slice(0, dot) : undefined
    return [...explicit, ...(parent && all.has(parent) ? [parent] : [])]
  }
  const bad = new Set<string>()
  const out: Job[] = []
  const state = new Map<string, 'visiting' | 'done'>()
  const visit = (j: Job): void => {
    if (state.get(j.name) === 'done') return
    if (state.get(j.name) === 'visiting') {
      warn(j, 'dependency loop')
      bad.add(j.name)
      return
    }
    state.set(j.name, 'visiting')
    for (const d of deps(j)) {
      const dj = all.get(d)
      if (!dj) {
        warn(j, `depends on undefined jail "${d}"`)
        bad.add(j.name)
        continue
      }
      if (jobs.includes(dj)) visit(dj)
    }
    state.set(j.name, 'done')
    out.push(j)
  }
  for (const j of jobs) visit(j)
  return {list: forStop ? out.reverse() : out, bad}
}

export const jail: Tool = async (ctx, argv) => {
  const o = getopt(argv, 'cdf:hiJ:lmn:p:qrRs:u:U:ve:', () => {
    throw new UsageError(USAGE)
  })
  const f = o.flags
  for (const c of ['h', 'l', 'n', 's', 'u', 'U', 'J']) if (f.has(c)) notSimulated(`jail -${c}`)
  if (f.has('d')) ctx.err("jail: the 'allow.dying' parameter and '-d' flag are deprecated and have no effect.\n")
  const opts: Opts = {quiet: f.has('q') || f.has('i'), verbose: f.has('v'), printJid: f.has('i')}
  const run = new JailRun(ctx, opts)
  const create = f.has('c')
  const modify = f.has('m')
  const remove = f.has('r')
  const k0 = loadKernel(ctx.root)
  const viewRoot = getJail(k0, ctx.jid).path

  if (f.has('R')) {
    if (create || modify || remove || o.rest.length === 0) throw new UsageError(USAGE)
    let status = 0
    for (const key of o.rest) {
      const job: Job = {name: key, fromConfig: false, conf: {name: key, params: [], errors: []}}
      let jid: number
      try {
        jid = lookupJail(loadKernel(ctx.root), ctx.jid, key).jid
      } catch {
        ctx.err(`jail: "${key}" not found\n`)
        status = 1
        continue
      }
      if (!(await run.remove(job, jid))) status = 1
    }
    return status
  }
  const sep = f.get('e')
  if (!create && !modify && !remove && typeof sep !== 'string') throw new UsageError(USAGE)

  const cmdline = o.rest.some((a) => a.includes('=')) || (o.rest.length > 1 && (create || modify) && !remove)
  if (cmdline) {
    const conf = parseCommandLine(o.rest)
    const job: Job = {name: conf.name, fromConfig: false, conf}
    const errors = checkParams(conf)
    if (errors.length > 0) {
      for (const e of errors) run.warn(job, e)
      return 1
    }
    const running = conf.name ? run.running(conf.name) : undefined
    if (remove) {
      if (running === undefined) {
        ctx.err(`jail: "${conf.name}" not found\n`)
        return 1
      }
      if (!(await run.stop(job, running))) return 1
      if (!create) return 0
    }
    if (running !== undefined && modify && !remove) return (await run.modify(job, running)) ? 0 : 1
    if (!create) {
      ctx.err(`jail: "${conf.name}" not found\n`)
      return 1
    }
    if (running !== undefined && !remove) {
      ctx.err(`jail: "${conf.name}" already exists\n`)
      return 1
    }
    return (await run.start(job)) ? 0 : 1
  }

  // Configuration file mode.
  const file = typeof f.get('f') === 'string' ? (f.get('f') as string) : '/etc/jail.conf'
  const g = globalPath(viewRoot, file)
  if (file === '-') notSimulated('jail -f - (configuration on standard input)')
  const haveFile = ctx.fs.exists(g) && !ctx.fs.isDir(g)
  // jail.c: -r reads the configuration only if the file exists (stat), else removes running jails.
  if (!haveFile && !(remove && !create)) {
    ctx.err(`jail: ${file}: No such file or directory\n`)
    return 1
  }
  let text = ''
  try {
    if (haveFile) text = ctx.fs.read(g)
  } catch (error) {
    // config.c: fopen/read of the file failed (here also a FIFO or device: the simulator never blocks on one).
    if (!(error instanceof SysError)) throw error
    ctx.err(`jail: ${file}: ${strerror(error)}\n`)
    return 1
  }
  const ast = haveFile ? parseConfig(text, file, viewReader(ctx, viewRoot)) : parseConfig('', file)
  if (ast.isErr()) {
    ctx.err(`jail: ${ast.error.message}\n`)
    return 1
  }
  const confs = resolveConfig(ast.value)
  const all = new Map(confs.map((c) => [c.name, {name: c.name, fromConfig: true, conf: c} as Job]))
  if (typeof sep === 'string') return showJails(ctx, confs, sep)
  let status = 0
  const names = o.rest
  if (remove && names.length === 0) throw new UsageError(USAGE)
  const wild = names.length === 0 || names.some((n) => n.includes('*'))
  const selected: Job[] = []
  const extraRemovals: string[] = []
  if (names.length === 0) selected.push(...all.values())
  for (const n of names) {
    if (n === '*' || n.endsWith('.*')) {
      const prefix = n === '*' ? '' : n.slice(0, -1)
      for (const j of all.values()) if (j.name.startsWith(prefix) && !selected.includes(j)) selected.push(j)
      if (remove) {
        // With a wildcard, -r also takes running jails the file does not define.
        const k = loadKernel(ctx.root)
        for (const j of descendants(k, ctx.jid).filter((x) => x.state === 'ALIVE')) {
          const rel = nameFor(k, ctx.jid, j)
          if (rel.startsWith(prefix) && !all.has(rel)) extraRemovals.push(rel)
        }
      }
      continue
    }
    const j = all.get(n)
    if (j) selected.push(j)
    else if (remove) extraRemovals.push(n)
    else {
      ctx.err(`jail: "${n}" not found\n`)
      status = 1
    }
  }
  for (const j of selected) {
    const errors = checkParams(j.conf)
    if (errors.length > 0) {
      for (const e of errors) run.warn(j, e)
      status = 1
    }
  }
  const usable = selected.filter((j) => checkParams(j.conf).length === 0)
  const failed = new Set<string>()
  const skipIfDepFailed = (j: Job): boolean => {
    const dot = j.name.lastIndexOf('.')
    const deps = [...(paramValues(j.conf, 'depend') ?? []), ...(dot > 0 ? [j.name.slice(0, dot)] : [])]
    if (deps.some((d) => failed.has(d))) {
      run.warn(j, 'skipped')
      failed.add(j.name)
      status = 1
      return true
    }
    return false
  }

  if (remove) {
    // Removing a parent first stops its configured children (the implied dependency).
    const withChildren = [...usable]
    for (const j of all.values()) {
      if (!withChildren.includes(j) && withChildren.some((p) => j.name.startsWith(`${p.name}.`)) && run.running(j.name) !== undefined) withChildren.push(j)
    }
    const {list, bad} = order(withChildren, all, true, (j, t) => run.warn(j, t))
    for (const j of list) {
      if (bad.has(j.name)) {
        status = 1
        continue
      }
      const jid = run.running(j.name)
      if (jid === undefined) {
        if (!wild && usable.includes(j)) {
          ctx.err(`jail: "${j.name}" not found\n`)
          status = 1
        }
        continue
      }
      if (!(await run.stop(j, jid))) status = 1
    }
    for (const n of extraRemovals) {
      // Named on the command line or by a wildcard with the file read: jail(8) has a name to print.
      const job: Job = {name: n, fromConfig: true, conf: {name: n, params: [], errors: []}}
      const jid = run.running(n)
      if (jid === undefined) {
        if (!wild) {
          ctx.err(`jail: "${n}" not found\n`)
          status = 1
        }
        continue
      }
      if (!(await run.stop(job, jid))) status = 1
    }
    if (!create) return status
  }
  if (create || modify) {
    // Starting a child first starts its configured parent if that is not running.
    const withParents = [...usable]
    for (let i = 0; i < withParents.length; i++) {
      const j = withParents[i] as Job
      const dot = j.name.lastIndexOf('.')
      const parent = dot > 0 ? all.get(j.name.slice(0, dot)) : undefined
      if (parent && !withParents.includes(parent) && run.running(parent.name) === undefined) withParents.push(parent)
    }
    const {list, bad} = order(withParents, all, false, (j, t) => run.warn(j, t))
    for (const j of list) {
      if (bad.has(j.name)) {
        failed.add(j.name)
        status = 1
        continue
      }
      if (skipIfDepFailed(j)) continue
      const jid = run.running(j.name)
      if (jid !== undefined) {
        if (modify) {
          if (!(await run.modify(j, jid))) {
            failed.add(j.name)
            status = 1
          }
          continue
        }
        if (!wild && usable.includes(j)) {
          ctx.err(`jail: "${j.name}" already exists\n`)
          status = 1
        }
        continue
      }
      if (!create) {
        ctx.err(`jail: "${j.name}" not found\n`)
        status = 1
        continue
      }
      if (!(await run.start(j))) {
        failed.add(j.name)
        status = 1
      }
    }
  }
  return status
}

/**
 * jail -e SEPARATOR: usr.sbin/jail/jail.c show_jails, right after load_config: every configured
 * jail that is not a wildcard, print_jail(stdout, j, 0, 0): its parameters in load_config's order
 * (the implied name first) but `jid`, joined by the separator, each by print_param: the name
 * alone when it has no value, else `name=` and the values, each through quoted_print, joined by
 * commas. load_config's warnings (config.c jail_warnx: a variable not found, ...) go to stderr
 * first; the exit status is 0 all the same.
 */
function showJails(ctx: ToolCtx, confs: ResolvedJail[], sep: string): number {
  for (const c of confs) for (const e of c.errors) ctx.err(`jail: ${c.name}: ${e}\n`)
  for (const c of confs) {
    const params = c.params.filter((p) => p.name !== 'jid')
    ctx.out(`${params.map((p) => (p.values.length === 0 ? p.name : `${p.name}=${p.values.map(quotedPrint).join(',')}`)).join(sep)}\n`)
  }
  return 0
}

/**
 * jail.c quoted_print: an empty value, or one with a single quote, goes in double quotes; one
 * with a double quote (and no single quote) in single quotes; one with a blank or a tab in
 * double quotes; any other as it is. Inside, a backslash and the quote chosen get a backslash.
 */
export function quotedPrint(s: string): string {
  const qc = s === '' || s.includes("'") ? '"' : s.includes('"') ? "'" : s.includes(' ') || s.includes('\t') ? '"' : ''
  let out = qc
  for (const c of s) out += c === '\\' || (qc !== '' && c === qc) ? `\\${c}` : c
  return `${out}${qc}`
}
