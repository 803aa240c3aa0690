// The networking part of `/bin/sh /etc/rc` inside a jail: rc.d/netif and rc.d/routing, which
// run only in a jail that owns its vnet (`# KEYWORD: nojailvnet`; libexec/rc/rc @023fc80e adds
// `-s nojailvnet` when security.jail.vnet is not 1). The jail's rc.conf is read as data (plain
// assignments only, never run as shell), and every step runs the simulator's own tools
// (/sbin/ifconfig, /sbin/route, /sbin/sysctl) in the jail, as the scripts do. Sources:
// libexec/rc/rc.d/netif and rc.d/routing @023fc80e, libexec/rc/network.subr @03ccfdd2,
// libexec/rc/rc.subr @02274513 (checkyesno, check_startmsgs, startmsg, warn, run_rc_command),
// libexec/rc/rc.conf @0216ab4d (the defaults below). What each rule does and what is left out:
// FIDELITY.md, "Networking inside jails: rc, route, ping".
import {lstatSync} from 'node:fs'

import {getJail} from './kernel/jails.js'
import {backingPath} from './kernel/mounts.js'
import {globalPath, SysError} from './kernel/state.js'
import {loadKernel} from './store.js'
import type {ToolCtx} from './tools/common.js'

/** Where a command's output goes: the console, nowhere (`> /dev/null`), or back to the script (`$(...)`). */
export type Sink = 'console' | 'null' | 'capture'

/** Runs one program in the jail, its stdout and stderr to the given sinks; its status and what was captured. */
export type RcRun = (argv: string[], out?: Sink, err?: Exclude<Sink, 'capture'>) => Promise<{code: number; stdout: string}>

/** The jail's console (stdout and stderr of /etc/rc). */
export interface Console {
  out(text: string): void
  err(text: string): void
}

/** /etc/defaults/rc.conf (libexec/rc/rc.conf @0216ab4d): the values netif and routing read. */
export const DEFAULTS: Record<string, string> = {
  rc_startmsgs: 'YES',
  netif_enable: 'YES',
  network_interfaces: 'auto',
  cloned_interfaces: '',
  synchronous_dhclient: 'NO',
  defaultrouter: 'NO',
  static_routes: '',
  gateway_enable: 'NO',
  icmp_bmcastecho: 'NO',
  icmp_drop_redirect: 'NO',
  icmp_log_redirect: 'NO',
  forward_sourceroute: 'NO',
  accept_sourceroute: 'NO',
  arpproxy_all: 'NO',
  ipv6_network_interfaces: 'auto',
  ipv6_activate_all_interfaces: 'NO',
  ipv6_defaultrouter: 'NO',
  ipv6_static_routes: '',
  ipv6_gateway_enable: 'NO',
  ipv6_cpe_wanif: 'NO',
  ipv6_default_interface: 'NO',
}

/** The largest rc.conf the simulator reads: the bound nest's own reads of jail files have (src/host/files.ts READ_LIMIT). */
export const RC_CONF_MAX = 1024 * 1024

/** rc.subr warn(): `$0: WARNING: ...` on stderr; $0 is /etc/rc, which sources each rc.d script. */
const warning = (con: Console, text: string): void => con.err(`/etc/rc: WARNING: ${text}\n`)
const notSim = (con: Console, text: string): void => con.err(`sim: /etc/rc: ${text}: not simulated\n`)

/**
 * rc.conf as data: `name=value`, `name="value"`, `name='value'`, blank lines and comments
 * (also after a value). Double-quoted text may not hold `$`, a backquote or a backslash, a bare
 * value no blank or shell character: anything else is shell the simulator does not run, reported
 * with its line and skipped.
 */
export function parseRcConf(text: string, file: string, con: Console, vars: Record<string, string>): void {
  const lines = text.split('\n')
  lines.forEach((raw, n) => {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) return
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line)
    let value: string | undefined
    if (m) {
      const rest = m[2] as string
      const dq = /^"([^"$`\\]*)"\s*(#.*)?$/.exec(rest)
      const sq = /^'([^']*)'\s*(#.*)?$/.exec(rest)
      const bare = /^([^\s"'$`\\;&|<>()*?[\]{}~#!]*)\s*(#.*)?$/.exec(rest)
      value = dq ? dq[1] : sq ? sq[1] : bare ? bare[1] : undefined
    }
    if (!m || value === undefined) {
      notSim(con, `${file} line ${n + 1}: ${line.length > 60 ? `${line.slice(0, 60)}...` : line}: only name=value assignments are read, this line is skipped`)
      return
    }
    vars[m[1] as string] = value
  })
}

/** load_rc_config: the defaults, then /etc/rc.conf and /etc/rc.conf.local, read in the jail's view. */
function loadRcConf(ctx: ToolCtx, jid: number, con: Console): Record<string, string> {
  const vars = {...DEFAULTS}
  const k = loadKernel(ctx.root)
  const root = getJail(k, jid).path
  const view = ctx.fs.at(root)
  for (const file of ['/etc/rc.conf', '/etc/rc.conf.local']) {
    const global = backingPath(k, globalPath(root, file))
    let text: string
    try {
      // Sized before it is read (lstat of the resolved path: a link was resolved in the view).
      const st = lstatSync(view.real(global))
      if (st.isFile() && st.size > RC_CONF_MAX) {
        notSim(con, `${file}: larger than ${RC_CONF_MAX} bytes, not read`)
        continue
      }
      // rc.subr dot(): `[ -f $f -a -s $f ]`: a missing, empty or non-regular file is not read.
      text = view.read(global)
    } catch (error) {
      if (error instanceof SysError || (error as NodeJS.ErrnoException).code === 'ENOENT') continue
      throw error
    }
    parseRcConf(text, file, con, vars)
  }
  if (vars['rc_conf_files'] !== undefined) notSim(con, 'rc_conf_files (only /etc/rc.conf and /etc/rc.conf.local are read)')
  return vars
}

/** rc.subr checkyesno: YES/TRUE/ON/1, NO/FALSE/OFF/0, anything else warned about and false. */
function yes(vars: Record<string, string>, name: string, con: Console): boolean {
  const v = vars[name] ?? ''
  if (/^(yes|true|on|1)$/i.test(v)) return true
  if (/^(no|false|off|0)$/i.test(v)) return false
  warning(con, `$${name} is not set properly - see rc.conf(5).`)
  return false
}

const isNo = (v: string | undefined): boolean => v === undefined || v === '' || /^no$/i.test(v)
const words = (v: string | undefined): string[] => (v ?? '').split(/\s+/).filter((w) => w !== '')

/** get_if_var: `.-/+` in the interface name become `_` (ltr), then the variable with IF replaced. */
const ifVar = (vars: Record<string, string>, ifn: string, pattern: string): string | undefined => vars[pattern.replace('IF', ifn.replace(/[.\-/+]/g, '_'))]

const PSEUDO = /^(dhcp|noauto|nosyncdhcp|syncdhcp|wpa|hostap)$/i

/** _ifconfig_getargs: ifconfig_IF[_af], else $ifconfig_DEFAULT. */
const rawArgs = (vars: Record<string, string>, ifn: string, af?: string): string => ifVar(vars, ifn, `ifconfig_IF${af ? `_${af}` : ''}`) ?? vars['ifconfig_DEFAULT'] ?? ''

/** ifconfig_getargs: the words minus the pseudo-words and any `vnet <jail>` pair. */
function getArgs(vars: Record<string, string>, ifn: string, af?: string): string[] {
  const out: string[] = []
  let skipNext = false
  for (const w of words(rawArgs(vars, ifn, af))) {
    if (skipNext) {
      skipNext = false
      continue
    }
    if (PSEUDO.test(w)) continue
    if (w === 'vnet') {
      skipNext = true
      continue
    }
    out.push(w)
  }
  return out
}

const hasWord = (vars: Record<string, string>, ifn: string, re: RegExp): boolean => words(rawArgs(vars, ifn)).some((w) => re.test(w))

export async function rcNetwork(ctx: ToolCtx, jid: number, run: RcRun, con: Console): Promise<void> {
  const k = loadKernel(ctx.root)
  // /etc/rc: security.jail.vnet must be 1, else netif and routing are skipped (nojailvnet).
  if (jid === 0 || getJail(k, jid).vnet !== 'new') return
  const vars = loadRcConf(ctx, jid, con)
  // rc.subr run_rc_command: /etc/rc runs each script with `quietstart` (no `autoboot` argument
  // from jail(8)), so rc_quiet is set and check_startmsgs is checkyesno rc_startmsgs.
  const startmsgs = (): boolean => yes(vars, 'rc_startmsgs', con)
  const root = getJail(k, jid).path
  const present = (p: string): boolean => ctx.fs.at(root).exists(backingPath(k, globalPath(root, p)))
  if (yes(vars, 'netif_enable', con)) await netifStart(run, con, vars, startmsgs, present)
  await routingStart(run, con, vars)
}

const ifconfig = (run: RcRun, ...args: string[]): Promise<{code: number; stdout: string}> => run(['/sbin/ifconfig', ...args])
const exists = async (run: RcRun, ifn: string): Promise<boolean> => (await run(['/sbin/ifconfig', ifn], 'null', 'null')).code === 0

/** Words of an rc.conf value used where the script `eval`s it: quotes or `$` would be shell. */
function evalWords(con: Console, what: string, args: string[]): string[] | undefined {
  if (args.some((a) => /["'$`\\]/.test(a))) {
    notSim(con, `${what}: a value with quotes or $ (eval would run it as shell)`)
    return undefined
  }
  return args
}

async function netifStart(run: RcRun, con: Console, vars: Record<string, string>, startmsgs: () => boolean, present: (p: string) => boolean): Promise<void> {
  for (const key of Object.keys(vars)) if (/^wlans_/.test(key)) notSim(con, `${key} (wlan_up)`)
  // clone_up: each cloned interface not there yet, `ifconfig IF create [create_args_IF]`.
  const created: string[] = []
  for (const spec of words(vars['cloned_interfaces'])) {
    const ifn = spec.split(':')[0] as string
    const extra = words(ifVar(vars, ifn, 'create_args_IF'))
    if (/^epair[0-9]/.test(ifn)) {
      if (await exists(run, `${ifn}a`) || await exists(run, `${ifn}b`)) continue
      if ((await ifconfig(run, ifn, 'create', ...extra)).code === 0) created.push(`${ifn}a`, `${ifn}b`)
    } else {
      if (await exists(run, ifn)) continue
      if ((await ifconfig(run, ifn, 'create', ...extra)).code === 0) created.push(ifn)
    }
  }
  if (words(vars['gif_interfaces']).length > 0) notSim(con, 'gif_interfaces')
  if (created.length > 0) con.out(`Created clone interfaces: ${created.join(' ')}.\n`)
  // ifnet_rename: for each interface `ifconfig -l` lists, ifconfig_IF_name renames it.
  for (const ifn of words((await run(['/sbin/ifconfig', '-l'], 'capture')).stdout)) {
    const to = ifVar(vars, ifn, 'ifconfig_IF_name')
    if (to !== undefined && to !== '') await ifconfig(run, ifn, 'name', to)
  }
  // netif_common ifn_start over list_net_interfaces.
  const ok: string[] = []
  for (const ifn of await netInterfaces(run, vars)) if (await ifnStart(run, con, vars, ifn, present)) ok.push(ifn)
  // The DAD wait (`sleep net.inet6.ip6.dad_count; sleep 1`) takes no time here.
  if (ok.length > 0) {
    // startmsg, then `if check_startmsgs`: two checkyesno calls (a mis-set rc_startmsgs warns twice).
    if (startmsgs()) con.out(`Starting Network: ${ok.join(' ')}.\n`)
    if (startmsgs()) for (const ifn of ok) await ifconfig(run, ifn)
  }
}

/** list_net_interfaces: `auto` is `ifconfig -l` minus NOAUTO ones, lo0 first; else the list given plus cloned_interfaces. */
async function netInterfaces(run: RcRun, vars: Record<string, string>): Promise<string[]> {
  const given = vars['network_interfaces'] ?? ''
  let list: string[]
  if (/^auto$/i.test(given)) {
    const all = words((await run(['/sbin/ifconfig', '-l'], 'capture')).stdout).filter((i) => !hasWord(vars, i, /^noauto$/i))
    list = [...all.filter((i) => i === 'lo0'), ...all.filter((i) => i !== 'lo0')]
  } else {
    list = [...words(given), ...words(vars['cloned_interfaces']).map((s) => s.split(':')[0] as string)]
      .flatMap((i) => (/^epair[0-9]/.test(i) ? [`${i}a`, `${i}b`] : [i]))
    if (!list.includes('lo0')) list.unshift('lo0')
  }
  // netif_common: a bare epairN stands for epairNa and epairNb.
  return list.flatMap((i) => (/^epair[0-9]+$/.test(i) ? [`${i}a`, `${i}b`] : [i]))
}

/** ipv6if: lo0 always; another interface when ipv6_network_interfaces names it (or is auto) and it has IPv6 configuration. */
function ipv6if(vars: Record<string, string>, ifn: string): boolean {
  if (ifn === 'lo0') return true
  const list = vars['ipv6_network_interfaces'] ?? ''
  if (!/^auto$/i.test(list) && !words(list).includes(ifn)) return false
  return rawArgs(vars, ifn, 'ipv6') !== '' || (ifVar(vars, ifn, 'ipv6_prefix_IF') ?? '') !== '' || (ifVar(vars, ifn, 'ipv6_ifconfig_IF') ?? '') !== ''
}

/** ipv6_autoconfif: not lo/stf, IPv6-configured, no router, and accept_rtadv among its ipv6 words. */
function autoconf(vars: Record<string, string>, ifn: string, con: Console): boolean {
  if (/^(lo|stf|lp|sl)[0-9]/.test(ifn) || !ipv6if(vars, ifn)) return false
  if (yes(vars, 'ipv6_gateway_enable', con)) return false
  if ((ifVar(vars, ifn, 'ipv6_prefix_IF') ?? '') !== '') return false
  return words(rawArgs(vars, ifn, 'ipv6')).includes('accept_rtadv')
}

/** ifn_start: ifscript_up, ifconfig_up, ipv4_up, ipv6_up, childif_create; true when any configured the interface. */
async function ifnStart(run: RcRun, con: Console, vars: Record<string, string>, ifn: string, present: (p: string) => boolean): Promise<boolean> {
  let cfg = false
  if (present(`/etc/start_if.${ifn}`)) {
    // ifscript_up sources the file: shell, which the simulator does not run.
    notSim(con, `/etc/start_if.${ifn} (sourced by ifscript_up)`)
    cfg = true
  }
  if (await ifconfigUp(run, con, vars, ifn)) cfg = true
  if (await ipv4Up(run, con, vars, ifn)) cfg = true
  if (await ipv6Up(run, con, vars, ifn)) cfg = true
  if ((ifVar(vars, ifn, 'vlans_IF') ?? '') !== '') notSim(con, `vlans_${ifn} (childif_create)`)
  return cfg
}

async function ifconfigUp(run: RcRun, con: Console, vars: Record<string, string>, ifn: string): Promise<boolean> {
  let cfg = ifn === 'lo0'
  const opts6: string[] = []
  if (yes(vars, 'ipv6_activate_all_interfaces', con)) opts6.push('-ifdisabled')
  if (/^(yes|true|on|1)$/i.test(vars['ipv6_enable'] ?? '') && !/^bridge[0-9]/.test(ifn) && !yes(vars, 'ipv6_gateway_enable', con)) opts6.push('accept_rtadv')
  if (vars['ipv6_cpe_wanif'] === ifn) opts6.push('-no_radr', 'accept_rtadv')
  if (opts6.length > 0) await ifconfig(run, ifn, 'inet6', ...opts6)
  // ifconfig_IF: `eval ifconfig IF args`.
  const args = evalWords(con, `ifconfig_${ifn}`, getArgs(vars, ifn))
  if (args && args.length > 0) {
    await ifconfig(run, ifn, ...args)
    cfg = true
  }
  // ifconfig_IF_ipv6 (after `inet6 -ifdisabled`), a leading address getting its `inet6`.
  let a6 = getArgs(vars, ifn, 'ipv6')
  if (a6.length > 0) {
    if (/^(:|[0-9a-fA-F]*:)/.test(a6[0] as string)) {
      warning(con, `$ifconfig_${ifn}_ipv6 needs leading "inet6" keyword for an IPv6 address.`)
      a6 = ['inet6', ...a6]
    }
    const ev = evalWords(con, `ifconfig_${ifn}_ipv6`, a6)
    await ifconfig(run, ifn, 'inet6', '-ifdisabled')
    if (ev) await ifconfig(run, ifn, ...ev)
    cfg = true
  }
  if ((ifVar(vars, ifn, 'ipv6_prefix_IF') ?? '') !== '') {
    await ifconfig(run, ifn, 'inet6', '-ifdisabled')
    cfg = true
  }
  if ((ifVar(vars, ifn, 'ipv6_ifconfig_IF') ?? '') !== '') notSim(con, `ipv6_ifconfig_${ifn} (obsolete)`)
  await ifalias(run, con, vars, ifn, 'link')
  await ifalias(run, con, vars, ifn, 'ether')
  const descr = ifVar(vars, ifn, 'ifconfig_IF_descr')
  if (descr !== undefined && descr !== '') await ifconfig(run, ifn, 'description', descr)
  if (hasWord(vars, ifn, /^wpa$/i) || hasWord(vars, ifn, /^hostap$/i)) {
    notSim(con, `${ifn}: WPA/HOSTAP (wpa_supplicant, hostapd)`)
    cfg = true
  } else if (cfg) {
    await ifconfig(run, ifn, 'up')
  }
  if (autoconf(vars, ifn, con)) {
    // ipv6_accept_rtadv_up: `ifconfig IF inet6 accept_rtadv up`, then rtsol.
    await ifconfig(run, ifn, 'inet6', 'accept_rtadv', 'up')
    notSim(con, `rtsol ${ifn} (no router advertisements in the simulator)`)
    cfg = true
  }
  // dhcpif: not lo/stf/lp/sl, DHCP, SYNCDHCP or NOSYNCDHCP among its words.
  if (!/^(lo|stf|lp|sl)[0-9]/.test(ifn) && hasWord(vars, ifn, /^(dhcp|syncdhcp|nosyncdhcp)$/i)) {
    if (!cfg) await ifconfig(run, ifn, 'up')
    const sync = hasWord(vars, ifn, /^syncdhcp$/i) || (!hasWord(vars, ifn, /^nosyncdhcp$/i) && yes(vars, 'synchronous_dhclient', con))
    notSim(con, `${sync ? 'dhclient' : 'DHCP'} on ${ifn} (no DHCP server in the simulator; ${ifn} is up without an address from it)`)
    cfg = true
  }
  return cfg
}

/** ipv4_up: lo0 gets 127.0.0.1/8 unless ifconfig_lo0 says otherwise; then the inet aliases. */
async function ipv4Up(run: RcRun, con: Console, vars: Record<string, string>, ifn: string): Promise<boolean> {
  if (ifn === 'lo0' && (ifVar(vars, 'lo0', 'ifconfig_IF') ?? '') === '') await ifconfig(run, 'lo0', 'inet', '127.0.0.1/8', 'alias')
  return ifalias(run, con, vars, ifn, 'inet')
}

/** ipv6_up: nothing to do (and "configured") for an interface that is not IPv6; else its inet6 aliases and prefixes. */
async function ipv6Up(run: RcRun, con: Console, vars: Record<string, string>, ifn: string): Promise<boolean> {
  if (!ipv6if(vars, ifn)) return true
  let ret = await ifalias(run, con, vars, ifn, 'inet6')
  for (const p of words(ifVar(vars, ifn, 'ipv6_prefix_IF'))) {
    // ipv6_prefix_hostid_addr_common: `ifconfig IF inet6 PREFIX:: prefixlen N eui64 alias`.
    const [pre, len] = p.includes('/') ? p.split('/') as [string, string] : [p, '64']
    await ifconfig(run, ifn, 'inet6', `${pre.replace(/::?$/, '')}::`, 'prefixlen', len, 'eui64', 'alias')
    ret = true
  }
  return ret
}

/**
 * ifalias_af_common (action `alias`): ifconfig_IF_aliasN in numeric order up to the first empty
 * one, those of this family (an inet one without its keyword warned about and taken), then
 * ipv4_addrs_IF; each group from a family keyword on is one `ifconfig IF <group> alias`.
 */
async function ifalias(run: RcRun, con: Console, vars: Record<string, string>, ifn: string, af: 'inet' | 'inet6' | 'link' | 'ether'): Promise<boolean> {
  const vif = ifn.replace(/[.\-/+]/g, '_')
  const prefix = `ifconfig_${vif}_alias`
  const names = Object.keys(vars).filter((n) => n.startsWith(prefix) && /^[0-9]/.test(n.slice(prefix.length)) && /^[a-zA-Z0-9_]+$/.test(n))
    .sort((a, b) => Number.parseInt(a.slice(prefix.length), 10) - Number.parseInt(b.slice(prefix.length), 10))
  const tokens: string[] = []
  for (const name of names) {
    const v = vars[name] ?? ''
    const fam = /^(inet|inet6|link|ether) /.exec(v)?.[1]
    if (fam === af) tokens.push(...words(v))
    else if (fam === undefined && v === '') break
    else if (fam === undefined && af === 'inet') {
      tokens.push('inet', ...words(v))
      warning(con, `$${name} needs leading "inet" keyword for an IPv4 address.`)
    }
  }
  if (af === 'inet') for (const a of words(ifVar(vars, ifn, 'ipv4_addrs_IF'))) tokens.push('inet', a)
  if (af === 'inet6' && Object.keys(vars).some((n) => n.startsWith(`ipv6_ifconfig_${vif}_alias`))) notSim(con, `ipv6_ifconfig_${vif}_aliasN (obsolete)`)
  const all = [...words(ifVar(vars, ifn, 'ifconfig_IF_aliases')), ...tokens]
  const groups: string[][] = []
  for (const t of all) {
    if (['inet', 'inet6', 'link', 'ether'].includes(t)) groups.push([t])
    else if (groups.length > 0) (groups[groups.length - 1] as string[]).push(t)
  }
  let ret = false
  for (const g of groups.filter((x) => x[0] === af)) {
    if (g.some((w) => /[0-9a-fA-F]-/.test(w))) {
      notSim(con, `${ifn}: the address range ${g.join(' ')} (ifalias_expand_addr)`)
      continue
    }
    const ev = evalWords(con, `${prefix}N`, g)
    if (ev && (await ifconfig(run, ifn, ...ev, 'alias')).code === 0) ret = true
  }
  return ret
}

/** rc.d/routing `routing_start doall`: for inet then inet6, the static routes, then the options. */
async function routingStart(run: RcRun, con: Console, vars: Record<string, string>): Promise<void> {
  // static_inet: the loopback route first, then the default router and static_routes (net.fibs 1: no -fib).
  const v4: Array<[string, string]> = [['_loopback', '-inet 127.0.0.1 -iface lo0']]
  for (const r of words(vars['static_routes'])) v4.push([r, vars[`route_${r.split(':')[0] as string}`] ?? ''])
  if (!isNo(vars['defaultrouter'])) v4.push(['_default', `default ${vars['defaultrouter'] as string}`])
  for (const [name, args] of v4) {
    if (args === '') warning(con, `route_${name.split(':')[0] as string} not found.`)
    else await run(['/sbin/route', 'add', ...words(args)])
  }
  await options(run, con, vars, 'inet')
  // static_inet6: loopback, link-local and multicast rejects, v4-mapped/compat rejects, then the rest.
  const v6: Array<[string, string]> = [
    ['_loopback', '::1 -prefixlen 128 -iface lo0'],
    ['_lla', 'fe80:: -prefixlen 10 ::1 -reject'],
    ['_llma', 'ff02:: -prefixlen 16 ::1 -reject'],
    ['_v4mapped', '::ffff:0.0.0.0 -prefixlen 96 ::1 -reject'],
    ['_v4compat', '::0.0.0.0 -prefixlen 96 ::1 -reject'],
  ]
  for (const r of words(vars['ipv6_static_routes'])) v6.push([r, vars[`ipv6_route_${r.split(':')[0] as string}`] ?? ''])
  if (!isNo(vars['ipv6_defaultrouter'])) v6.push(['_default', `default ${vars['ipv6_defaultrouter'] as string}`])
  for (const [name, args] of v6) {
    if (args === '') warning(con, `route_${name.split(':')[0] as string} not found`)
    else await run(['/sbin/route', 'add', '-inet6', ...words(args)])
  }
  const dif = vars['ipv6_default_interface'] ?? ''
  if (!yes(vars, 'ipv6_gateway_enable', con) && !/^(no|none)$/i.test(dif)) notSim(con, `ipv6_default_interface=${dif} (ifconfig IF inet6 defaultif)`)
  await options(run, con, vars, 'inet6')
}

/** options_inet / options_inet6: `Additional <af> routing options: ... .` for what is enabled; forwarding set either way. */
async function options(run: RcRun, con: Console, vars: Record<string, string>, af: 'inet' | 'inet6'): Promise<void> {
  const said: string[] = []
  if (af === 'inet') {
    // The ICMP, source-routing and proxy-ARP switches: each written 0 when off; the simulated
    // kernel has none of these OIDs and behaves as with 0. Turning one on is not modelled.
    for (const [v, what] of [['icmp_bmcastecho', 'broadcast ping responses'], ['icmp_log_redirect', 'log ICMP redirect'], ['forward_sourceroute', 'do source routing'], ['accept_sourceroute', 'accept source routing'], ['arpproxy_all', 'ARP proxyall']] as const) {
      if (yes(vars, v, con)) notSim(con, `${v}=YES (${what})`)
    }
    if (!/^(auto|)$/i.test(vars['icmp_drop_redirect'] ?? '') && yes(vars, 'icmp_drop_redirect', con)) notSim(con, 'icmp_drop_redirect=YES')
    const on = yes(vars, 'gateway_enable', con)
    if (on) said.push(' gateway=YES')
    await run(['/sbin/sysctl', `net.inet.ip.forwarding=${on ? 1 : 0}`], 'null')
  } else {
    const on = yes(vars, 'ipv6_gateway_enable', con)
    if (on) said.push(' gateway=YES')
    await run(['/sbin/sysctl', `net.inet6.ip6.forwarding=${on ? 1 : 0}`], 'null')
  }
  if (said.length > 0) con.out(`Additional ${af} routing options:${said.join('')}.\n`)
}
