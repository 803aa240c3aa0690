// devfs rulesets as the kernel applies them (sys/fs/devfs/devfs_rule.c), for the D rules: which
// devices a devfs mounted with a ruleset shows. Pure.
//
// - Rules run in order on each node: a rule whose conditions match hides or unhides it
//   (devfs_rule_run); with no rule a node is visible, so an empty or missing ruleset shows
//   every device (devfs.8: rulesets are created empty on first reference).
// - `path` is fnmatch(3) with FNM_PATHNAME (devfs_rule_matchpath): `*` and `?` never match `/`.
// - `include N` runs ruleset N only while depth is left: vfs.devfs.rule_depth is 1 by default
//   (`unsigned devfs_rule_depth = 1;`, sys/fs/devfs/devfs_devs.c), so the includes of an
//   included ruleset do not run (why devfsrules_jail and devfsrules_jail_vnet include 1, 2 and 3
//   themselves, /etc/defaults/devfs.rules).
// - `type disk|mem|tape|tty` matches the device's cdevsw D_* type (devfs_rule_match).

/** One rule: its conditions and action, from `devfs rule show` (`100 path 'bpf*' unhide`). */
export interface DevfsRule {
  path?: string
  type?: string
  include?: number
  action: 'hide' | 'unhide' | 'none'
}

/** `devfs rule show` rows (`100 include 1`, `400 path fuse unhide`) or devfs.rules `add` lines. */
export function parseRule(line: string): DevfsRule | null {
  const words = line
    .replace(/#.*$/, '')
    .trim()
    .split(/\s+/)
    .filter((w) => w !== '')
    .map((w) => w.replace(/^['"]|['"]$/g, ''))
  if (words[0] === 'add') words.shift()
  if (words[0] !== undefined && /^[0-9]+$/.test(words[0]) && words.length > 1) words.shift()
  if (words.length === 0) return null
  const r: DevfsRule = {action: 'none'}
  for (let i = 0; i < words.length; i++) {
    const w = words[i]
    if (w === 'path') r.path = words[++i]
    else if (w === 'type') r.type = words[++i]
    else if (w === 'include') r.include = Number(words[++i]?.replace(/^\$/, '') ?? NaN)
    else if (w === 'hide') r.action = 'hide'
    else if (w === 'unhide') r.action = 'unhide'
  }
  return r
}

/** fnmatch(3) with FNM_PATHNAME, for devfs paths. */
export function fnmatchPath(pattern: string, name: string): boolean {
  let re = '^'
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string
    if (c === '*') re += '[^/]*'
    else if (c === '?') re += '[^/]'
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1)
      if (end < 0) re += '\\['
      else {
        re += `[${pattern.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`
        i = end
      }
    } else re += /[\\^$.|+(){}]/.test(c) ? `\\${c}` : c
  }
  try {
    return new RegExp(`${re}$`).test(name)
  } catch {
    return pattern === name // a class fnmatch would reject ([z-a]): matched literally, never a throw
  }
}

/** A device node and its cdevsw type, for the `type` condition. */
export interface Device {
  name: string
  type?: 'disk' | 'mem' | 'tape' | 'tty'
}

function runRules(rules: readonly DevfsRule[], sets: Record<number, string[]>, dev: Device, depth: number, visible: boolean): boolean {
  let v = visible
  for (const r of rules) {
    if (r.include !== undefined) {
      if (depth > 0 && Number.isInteger(r.include)) v = runRules(rulesOf(sets, r.include), sets, dev, depth - 1, v)
      continue
    }
    if (r.path !== undefined && !fnmatchPath(r.path, dev.name)) continue
    if (r.type !== undefined && r.type !== dev.type) continue
    if (r.action === 'hide') v = false
    else if (r.action === 'unhide') v = true
  }
  return v
}

export const rulesOf = (sets: Record<number, string[]>, n: number): DevfsRule[] => (sets[n] ?? []).map(parseRule).filter((r): r is DevfsRule => r !== null)

/** Whether a devfs mounted with these rules (a ruleset's, or a mount's own) shows the device. */
export function visibleWith(rules: readonly DevfsRule[], sets: Record<number, string[]>, dev: Device, depth = 1): boolean {
  return runRules(rules, sets, dev, depth, true)
}

/** Whether the rules start by hiding everything (devfsrules_hide_all, `add hide`), includes expanded once. */
export function hidesAllFirst(rules: readonly DevfsRule[], sets: Record<number, string[]>, depth = 1): boolean {
  const first = rules[0]
  if (!first) return false
  if (first.include !== undefined) return depth > 0 && hidesAllFirst(rulesOf(sets, first.include), sets, depth - 1)
  return first.action === 'hide' && first.path === undefined && first.type === undefined
}

export type DeviceSeverity = 'high' | 'medium' | 'low'

/** A class of dangerous devices (audit-rules §3 NEST-D03), with sample nodes to test the rules on. */
export interface DangerousDevice {
  cls: string
  severity: DeviceSeverity
  samples: Device[]
  why: string
}

/**
 * NEST-D03's list. Severities as §3 D03 gives them: high for disks, mem/kmem/io, netmap,
 * SCSI passthrough, cpuctl, dtrace and pf outside a vnet; medium for bpf, tap/tun, vmm, usb,
 * klog and GPUs; low otherwise. Each `why` names its source.
 */
export const DANGEROUS_DEVICES: readonly DangerousDevice[] = [
  {cls: 'disks', severity: 'high', samples: [{name: 'ada0', type: 'disk'}, {name: 'ada0p2', type: 'disk'}, {name: 'da0', type: 'disk'}, {name: 'nda0', type: 'disk'}, {name: 'nvd0', type: 'disk'}, {name: 'vtbd0', type: 'disk'}, {name: 'md0', type: 'disk'}, {name: 'zvol/zroot/vol', type: 'disk'}, {name: 'gpt/root', type: 'disk'}, {name: 'diskid/DISK-1', type: 'disk'}, {name: 'geom.ctl'}], why: 'raw disk access bypasses the jail (jail.8 NOTE on devfs_ruleset; poudriere #59)'},
  {cls: 'mem/kmem', severity: 'high', samples: [{name: 'mem', type: 'mem'}, {name: 'kmem', type: 'mem'}], why: 'every jail holds PRIV_KMEM_READ: a visible node reads kernel memory (kern_jail.c prison_priv_check)'},
  {cls: 'io', severity: 'high', samples: [{name: 'io'}], why: 'I/O port access (security.7)'},
  {cls: 'netmap', severity: 'high', samples: [{name: 'netmap'}], why: 'FreeBSD-SA-22:04.netmap: "a privileged process running in a jail can affect the host environment"'},
  {cls: 'SCSI passthrough', severity: 'high', samples: [{name: 'pass0'}, {name: 'xpt0'}, {name: 'ctl'}, {name: 'cam/ctl'}], why: 'raw SCSI commands to the host\'s disks'},
  {cls: 'cpuctl', severity: 'high', samples: [{name: 'cpuctl0'}], why: 'MSR and microcode access'},
  {cls: 'dtrace', severity: 'high', samples: [{name: 'dtrace/helper'}], why: 'kernel tracing'},
  {cls: 'pf', severity: 'high', samples: [{name: 'pf'}], why: 'a shared-stack jail drives the host\'s own pf (unconfirmed: no PRIV_NETINET_PF check outside pfsync found)'},
  {cls: 'bpf', severity: 'medium', samples: [{name: 'bpf'}, {name: 'bpf0'}], why: 'packet capture on the host\'s interfaces (security.7)'},
  {cls: 'tap/tun', severity: 'medium', samples: [{name: 'tap0'}, {name: 'tun0'}], why: 'packets injected into the host\'s network'},
  {cls: 'vmm', severity: 'medium', samples: [{name: 'vmmctl'}, {name: 'vmm/guest'}], why: 'the hypervisor interface (jail.8 allow.vmm)'},
  {cls: 'usb', severity: 'medium', samples: [{name: 'usb/0.1.0'}, {name: 'ugen0.1'}], why: 'raw USB devices of the host'},
  {cls: 'klog', severity: 'medium', samples: [{name: 'klog'}], why: 'the kernel message buffer'},
  {cls: 'gpu', severity: 'medium', samples: [{name: 'dri/card0'}, {name: 'drm/0'}, {name: 'nvidia0'}], why: 'GPU command submission'},
  {cls: 'console', severity: 'low', samples: [{name: 'console'}, {name: 'ttyu0', type: 'tty'}, {name: 'cuau0', type: 'tty'}], why: 'the host\'s console and serial lines'},
  {cls: 'host control', severity: 'low', samples: [{name: 'pci'}, {name: 'acpi'}, {name: 'apm'}, {name: 'devctl'}, {name: 'auditpipe'}], why: 'host bus, power and event interfaces'},
]

/** The dangerous classes a set of rules shows, with the first sample node that shows. */
export function dangerousVisible(rules: readonly DevfsRule[], sets: Record<number, string[]>, vnet: boolean): {dev: DangerousDevice; node: string}[] {
  const out: {dev: DangerousDevice; node: string}[] = []
  for (const dev of DANGEROUS_DEVICES) {
    if (dev.cls === 'pf' && vnet) continue // a vnet jail's pf is its own (D04 covers an unneeded one)
    const node = dev.samples.find((s) => visibleWith(rules, sets, s))
    if (node) out.push({dev, node: node.name})
  }
  return out
}

/** The names /etc/defaults/devfs.rules gives rulesets 1–5, which /etc/devfs.rules may use (rc.subr reads both). */
export const DEFAULT_RULESET_NAMES: Record<string, number> = {devfsrules_hide_all: 1, devfsrules_unhide_basic: 2, devfsrules_unhide_login: 3, devfsrules_jail: 4, devfsrules_jail_vnet: 5}

/**
 * /etc/devfs.rules (and /etc/defaults/devfs.rules) text → rulesets by number, each rule as
 * `devfs rule show` prints it (numbered 100, 200, … as devfs_rule_autonumber numbers them),
 * `$name` includes resolved to the rulesets' numbers (rc.subr devfs_rulesets_from_file).
 */
export function parseDevfsRules(text: string, known: Record<string, number> = DEFAULT_RULESET_NAMES): Record<number, string[]> {
  const names: Record<string, number> = {...known}
  for (const m of text.matchAll(/^\s*\[([A-Za-z0-9_]+)=([0-9]+)\]/gm)) names[m[1] as string] = Number(m[2])
  const sets: Record<number, string[]> = {}
  let cur: number | null = null
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim()
    const head = /^\[([A-Za-z0-9_]+)=([0-9]+)\]$/.exec(line)
    if (head) {
      cur = Number(head[2])
      sets[cur] = sets[cur] ?? []
      continue
    }
    if (cur === null || !line.startsWith('add ')) continue
    const words = line
      .slice(4)
      .trim()
      .split(/\s+/)
      .map((w) => w.replace(/^['"]|['"]$/g, ''))
      .map((w) => (w.startsWith('$') && names[w.slice(1)] !== undefined ? String(names[w.slice(1)]) : w))
    const list = sets[cur] as string[]
    list.push(`${(list.length + 1) * 100} ${words.join(' ')}`)
  }
  return sets
}
