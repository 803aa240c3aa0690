// The guest's /etc/rc.conf adapted to a jail (migration.md §4.2), and what its knobs mean
// there. rc.conf is read as plain data (vmbhyve.ts rcAssignments: sh's last-assignment rule, a
// value needing the shell is not read) and edited as sysrc edits it (rcconf.ts rcEdit).
//
// Which scripts run in a jail is decided by their KEYWORD line: libexec/rc/rc skips `nojail`
// scripts in every jail (`skip="$skip -s nojail"` when security.jail.jailed is 1) and
// `nojailvnet` ones in a jail without its own vnet (migration.md §4.2). The table below is read
// from freebsd-src libexec/rc/rc.d (commit of each file in FIDELITY.md "Guest userland edits").
import {err, ok, type Result} from 'neverthrow'

import {invalidInput, type NestError} from '../errors.js'
import {ifnameProblem} from '../net.js'
import {rcEdit, rcProblem, type RcSet} from '../rcconf.js'
import {rcAssignments} from '../vmbhyve.js'

import {guestText, type GuestEdit, type GuestNote} from './text.js'

export const RC_CONF = '/etc/rc.conf'

/** rc.subr checkyesno: YES, TRUE, ON, 1 in any case. */
export const isYes = (v: string | null | undefined): boolean => v !== null && v !== undefined && /^(yes|true|on|1)$/i.test(v)

/** A knob a jail ignores: the rc.d script that reads it and that script's KEYWORD line. */
export interface RcKnob {
  script: string
  keyword: string
  /** 'enable': on when checkyesno says so; 'value': on when set, not empty and not NO. */
  kind: 'enable' | 'value'
}

const knob = (script: string, keyword: string, kind: RcKnob['kind'] = 'enable'): RcKnob => ({script, keyword, kind})
const SYSCONS = knob('syscons', 'nojail', 'value')

/** rc.conf knobs whose script never runs in a jail (KEYWORD: nojail), from libexec/rc/rc.d. */
export const NOJAIL_KNOBS: ReadonlyMap<string, RcKnob> = new Map([
  ['ntpd_enable', knob('ntpd', 'nojail resume shutdown')],
  ['ntpdate_enable', knob('ntpdate', 'nojail')],
  ['powerd_enable', knob('powerd', 'nojail shutdown')],
  ['moused_enable', knob('moused', 'nojail shutdown')],
  ['moused_nondefault_enable', knob('moused', 'nojail shutdown')],
  ['devd_enable', knob('devd', 'nojail shutdown')],
  ['zfsd_enable', knob('zfsd', 'nojail shutdown')],
  ['linux_enable', knob('linux', 'nojail')],
  ['savecore_enable', knob('savecore', 'nojail')],
  ['dumpdev', knob('dumpon', 'nojail', 'value')],
  ...['keyboard', 'keymap', 'keyrate', 'keybell', 'keychange', 'cursor', 'scrnmap', 'font8x16', 'font8x14', 'font8x8', 'blanktime', 'saver', 'allscreens_flags', 'allscreens_kbdflags'].map((k): [string, RcKnob] => [k, SYSCONS]),
])

/** How the jail is networked: its own vnet with the epair(s) renamed to the guest's names, or addresses on the host's stack. */
export type RcNet = {mode: 'vnet'; renames: ReadonlyArray<{from: string; to: string}>} | {mode: 'ip4'}

export interface AdaptRcOptions {
  net: RcNet
  /** Does the jail get a delegated (jailed=on) ZFS dataset? */
  delegatedZfs: boolean
  /** Does the guest's copy have /firstboot? */
  firstboot: boolean
  /** The file edited (/etc/rc.conf by default; rc.conf.local is read and edited the same way). */
  file?: string
}

export interface AdaptedRc {
  text: string
  edits: GuestEdit[]
  notes: GuestNote[]
  /** The guest's hostname= (for host.hostname), null when unset or not plain. */
  hostname: string | null
}

/** get_if_var (network.subr): an interface's `.-/+` are `_` in its variables' names. */
export const ifVar = (ifname: string): string => ifname.replace(/[.\-/+]/g, '_')

/** network.subr dhcpif: a DHCP, SYNCDHCP or NOSYNCDHCP word in the interface's arguments. */
export const isDhcp = (args: string): boolean => args.split(/\s+/).some((w) => /^(NOSYNC|SYNC)?DHCP$/i.test(w))

/** The variables (not) to keep under ip4: the interface lines and routers rc.d/netif and rc.d/routing read. */
const NET_VARS = /^(ifconfig_[A-Za-z0-9_]+|ipv4_addrs_[A-Za-z0-9_]+|defaultrouter|ipv6_defaultrouter)$/
// Knobs of nojailvnet scripts kept under vnet, inert under ip4 (reported, not removed).
const VNET_ONLY: ReadonlyMap<string, string> = new Map([
  ['pf_enable', 'rc.d/pf'],
  ['gateway_enable', 'rc.d/routing'],
  ['ipv6_gateway_enable', 'rc.d/routing'],
  ['static_routes', 'rc.d/routing'],
  ['cloned_interfaces', 'rc.d/netif'],
])

/**
 * The guest's rc.conf made into a jail's: the network lines for the chosen mode, zfs_enable for
 * a delegated dataset, growfs off and /firstboot removed, and notes on what a jail ignores.
 */
export function adaptRcConf(data: Uint8Array | string, opts: AdaptRcOptions): Result<AdaptedRc, NestError> {
  const file = opts.file ?? RC_CONF
  return guestText(data, file).andThen((text) => {
    const vars = rcAssignments(text)
    const value = (k: string): string | null => vars.get(k)?.value ?? null
    const set: RcSet = []
    const edits: GuestEdit[] = []
    const notes: GuestNote[] = []
    const note = (level: GuestNote['level'], key: string, t: string): void => {
      notes.push({level, file, key, text: t})
    }
    const change = (key: string, to: string | null, why: string): void => {
      const from = vars.has(key) ? value(key) ?? '(not plain)' : undefined
      set.push([key, to])
      const action = to === null ? 'remove' : from === undefined ? 'add' : 'set'
      edits.push({file, key, action, ...(from === undefined ? {} : {from}), ...(to === null ? {} : {to}), why})
    }

    for (const [k, v] of vars) if (v.value === null) note('warning', k, `${k} is not a plain value nest can read without running the shell: left as it is (${v.line.slice(0, 60)})`)

    // Network.
    const dhcp = [...vars].filter(([k, v]) => /^ifconfig_[A-Za-z0-9_]+$/.test(k) && !/_(name|ipv6|alias[0-9]+|aliases|descr)$/.test(k) && v.value !== null && isDhcp(v.value)).map(([k]) => k)
    if (opts.net.mode === 'vnet') {
      for (const r of opts.net.renames) {
        const p = ifnameProblem(r.from) ?? ifnameProblem(r.to)
        if (p) return err(invalidInput(`cannot rename ${JSON.stringify(r.from)} to ${JSON.stringify(r.to)} in the guest's rc.conf: ${p}`))
        change(`ifconfig_${ifVar(r.from)}_name`, r.to, `rc.d/netif (KEYWORD: nojailvnet) runs in a VNET jail and renames ${r.from} to ${r.to} first (network.subr ifnet_rename), so the guest's ifconfig_${ifVar(r.to)} lines configure it`)
      }
      for (const k of dhcp) note('warning', k, `${k} asks for DHCP: dhclient in the jail needs /dev/bpf, which the jail rulesets of /etc/defaults/devfs.rules (4 devfsrules_jail, 5 devfsrules_jail_vnet) hide; give the jail a ruleset that unhides bpf (as Bastille's bastille_vnet=13 does), or set the current address statically`)
    } else {
      for (const k of [...vars.keys()].filter((k) => NET_VARS.test(k))) {
        change(k, null, `rc.d/netif and rc.d/routing are KEYWORD: nojailvnet: they do not run in a jail without its own vnet, which uses the host's interfaces and routes (addresses go to ip4.addr/ip6.addr)`)
      }
      for (const k of dhcp) note('warning', k, `${k} asked for DHCP: a jail on the host's stack has no DHCP client; give its address with --ip4`)
      for (const [k, script] of VNET_ONLY) {
        if (vars.has(k) && value(k) !== '' && !/^no$/i.test(value(k) ?? '')) note('note', k, `${k} is read by ${script} (KEYWORD: nojailvnet), which does not run in a jail without its own vnet: it has no effect there`)
      }
    }

    // ZFS: rc.d/zfs has no nojail keyword and mounts the delegated datasets in a jail.
    if (opts.delegatedZfs && !isYes(value('zfs_enable'))) {
      change('zfs_enable', 'YES', `rc.d/zfs (no nojail KEYWORD) mounts the jail's delegated datasets at its start (zfs_start_jail: zfs mount -a when mounting is allowed)`)
    }

    // growfs: KEYWORD: firstboot, and it would resize the host's disks.
    if (isYes(value('growfs_enable'))) {
      change('growfs_enable', 'NO', `rc.d/growfs (KEYWORD: firstboot, not nojail) would run gpart and growfs or zpool online -e on the disk under the jail's root, the host's`)
    }
    if (opts.firstboot) {
      edits.push({file: '/firstboot', key: '/firstboot', action: 'remove', why: `rc runs the KEYWORD: firstboot scripts (growfs, and any package's) while /firstboot exists (libexec/rc/rc); the VM's first boot is long past`})
    }

    // What a jail ignores or forbids.
    // A service that cannot run in a jail is disabled (its enable knob, and dumpdev, set to NO:
    // rc.conf's own off value), so that the jail's rc.conf says what runs; the console's own
    // settings (syscons) have no off value of their own and are only reported.
    for (const [k, kn] of NOJAIL_KNOBS) {
      const v = value(k)
      const on = kn.kind === 'enable' ? isYes(v) : v !== null && v !== '' && !/^no$/i.test(v)
      if (!on) continue
      if (kn.kind === 'enable' || k === 'dumpdev') change(k, 'NO', `rc.d/${kn.script} is KEYWORD: ${kn.keyword}: rc skips it in every jail (libexec/rc/rc), so it cannot run there`)
      else note('note', k, `${k} has no effect in a jail: rc.d/${kn.script} is KEYWORD: ${kn.keyword} (skipped in every jail)`)
    }
    const kld = value('kld_list')
    if (kld !== null && kld.trim() !== '') note('warning', 'kld_list', `kld_list="${kld}": rc.d/kld is KEYWORD: nojail and a jail cannot load modules; load them on the host (its kld_list or loader.conf) before the jail starts`)
    if (isYes(value('rctl_enable'))) note('note', 'rctl_enable', `rctl_enable has no effect in a jail: rc.d/rctl is KEYWORD: nojail and rctl(8) rules are the host's; nest gives the jail its limits from the host`)
    if (isYes(value('kern_securelevel_enable')) && Number(value('kern_securelevel') ?? '-1') >= 1) {
      note('warning', 'kern_securelevel', `kern_securelevel=${value('kern_securelevel') ?? ''} with kern_securelevel_enable: rc.d/securelevel (no nojail KEYWORD) raises the jail's securelevel, which stops chflags and mounts its own child jails need (Bastille)`)
    }

    for (const [k, v] of set) {
      const p = rcProblem(k, v)
      if (p) return err(invalidInput(`cannot edit the guest's rc.conf: ${p}`))
    }
    const hostname = value('hostname')
    return ok({text: rcEdit(text, set, 'nest migrate vm'), edits, notes, hostname: hostname === '' ? null : hostname})
  })
}
