// The jail parameter table of FreeBSD 14.3, shared by nest and the simulated kernel.
// Kernel parameters come from sys/kern/kern_jail.c (SYSCTL_JAIL_PARAM*), jail(8)'s own
// ("internal") parameters from usr.sbin/jail/config.c intparams[].

export type ParamType = 'int' | 'bool' | 'string' | 'jailsys' | 'ip4' | 'ip6'

export interface KernelParam {
  name: string
  type: ParamType
  /** Read-only: jail_set refuses it (children.cur, parent, dying, cpuset.id). */
  readOnly?: boolean
  /** CTLFLAG_RDTUN: only at creation (`<param> cannot be changed after creation`). */
  createOnly?: boolean
  /** Longest string the kernel takes, including the NUL (security.jail.param.<name>). */
  maxlen?: number
}

/** allow.* flags compiled into a 14.3 kernel (kern_jail.c pr_flag_allow). */
export const STATIC_ALLOW = [
  'set_hostname', 'sysvipc', 'raw_sockets', 'chflags', 'mount', 'quotas', 'socket_af', 'mlock',
  'reserved_ports', 'read_msgbuf', 'unprivileged_proc_debug', 'suser', 'nfsd', 'extattr',
  'adjtime', 'settime',
] as const

/** File systems flagged VFCF_JAIL whose modules GENERIC loads (allow.mount.<fs>). */
export const JAIL_MOUNT_FS = [
  'devfs', 'fdescfs', 'nullfs', 'procfs', 'tmpfs', 'zfs', 'linprocfs', 'linsysfs', 'fusefs',
] as const

/** Dynamic allow flags registered by modules (prison_add_allow). */
export const DYNAMIC_ALLOW = ['vmm'] as const

/** allow.* a new jail starts with, masked by its parent's (kern_jail.c PR_ALLOW_*_DEFAULT). */
export const DEFAULT_ALLOW = ['set_hostname', 'reserved_ports', 'unprivileged_proc_debug', 'suser'] as const

/** The only flag a child may hold without its parent (PR_ALLOW_DIFFERENCES). */
export const ALLOW_DIFFERENCES = ['unprivileged_proc_debug'] as const

export const ALL_ALLOW: readonly string[] = [
  ...STATIC_ALLOW,
  ...JAIL_MOUNT_FS.map((fs) => `mount.${fs}`),
  ...DYNAMIC_ALLOW,
]

const kernel: KernelParam[] = [
  {name: 'jid', type: 'int', createOnly: true},
  {name: 'name', type: 'string', maxlen: 256},
  {name: 'path', type: 'string', createOnly: true, maxlen: 1024},
  {name: 'parent', type: 'int', readOnly: true},
  {name: 'securelevel', type: 'int'},
  {name: 'enforce_statfs', type: 'int'},
  {name: 'devfs_ruleset', type: 'int'},
  {name: 'children.max', type: 'int'},
  {name: 'children.cur', type: 'int', readOnly: true},
  {name: 'cpuset.id', type: 'int', readOnly: true},
  {name: 'persist', type: 'bool'},
  {name: 'dying', type: 'bool', readOnly: true},
  {name: 'host', type: 'jailsys'},
  {name: 'host.hostname', type: 'string', maxlen: 256},
  {name: 'host.domainname', type: 'string', maxlen: 256},
  {name: 'host.hostuuid', type: 'string', maxlen: 64},
  {name: 'host.hostid', type: 'int'},
  {name: 'osrelease', type: 'string', createOnly: true, maxlen: 32},
  {name: 'osreldate', type: 'int', createOnly: true},
  {name: 'ip4', type: 'jailsys', createOnly: true},
  {name: 'ip4.addr', type: 'ip4'},
  {name: 'ip4.saddrsel', type: 'bool'},
  {name: 'ip6', type: 'jailsys', createOnly: true},
  {name: 'ip6.addr', type: 'ip6'},
  {name: 'ip6.saddrsel', type: 'bool'},
  {name: 'vnet', type: 'jailsys', createOnly: true},
  {name: 'sysvmsg', type: 'jailsys'},
  {name: 'sysvsem', type: 'jailsys'},
  {name: 'sysvshm', type: 'jailsys'},
  {name: 'zfs.mount_snapshot', type: 'int'},
  {name: 'allow.mount', type: 'bool'},
  ...ALL_ALLOW.filter((a) => a !== 'mount').map((a): KernelParam => ({name: `allow.${a}`, type: 'bool'})),
]

export const KERNEL_PARAMS: ReadonlyMap<string, KernelParam> = new Map(kernel.map((p) => [p.name, p]))

export type InternalKind = 'bool' | 'int' | 'string' | 'list'

/** jail(8)'s own parameters: never passed to the kernel. */
export const INTERNAL_PARAMS: ReadonlyMap<string, InternalKind> = new Map<string, InternalKind>([
  ['allow.dying', 'bool'],
  ['command', 'list'],
  ['depend', 'list'],
  ['exec.clean', 'bool'],
  ['exec.consolelog', 'string'],
  ['exec.fib', 'int'],
  ['exec.jail_user', 'string'],
  ['exec.poststart', 'list'],
  ['exec.poststop', 'list'],
  ['exec.prepare', 'list'],
  ['exec.prestart', 'list'],
  ['exec.prestop', 'list'],
  ['exec.release', 'list'],
  ['exec.created', 'list'],
  ['exec.start', 'list'],
  ['exec.stop', 'list'],
  ['exec.system_jail_user', 'bool'],
  ['exec.system_user', 'string'],
  ['exec.timeout', 'int'],
  ['interface', 'string'],
  ['ip_hostname', 'bool'],
  ['mount', 'list'],
  ['mount.devfs', 'bool'],
  ['mount.fdescfs', 'bool'],
  ['mount.procfs', 'bool'],
  ['mount.fstab', 'string'],
  ['stop.timeout', 'int'],
  ['vnet.interface', 'list'],
])

/**
 * The name a boolean parameter has without its `no` (after the last dot):
 * `allow.mount.nonullfs` → {base: 'allow.mount.nullfs', negated: true}.
 */
export function splitNo(name: string): {base: string; negated: boolean} {
  const dot = name.lastIndexOf('.')
  const last = name.slice(dot + 1)
  if (last.startsWith('no') && last.length > 2) {
    const base = `${name.slice(0, dot + 1)}${last.slice(2)}`
    if (isBoolParam(base)) return {base, negated: true}
  }
  return {base: name, negated: false}
}

export function isBoolParam(name: string): boolean {
  return KERNEL_PARAMS.get(name)?.type === 'bool' || INTERNAL_PARAMS.get(name) === 'bool'
}

export function isKnownParam(name: string): boolean {
  const {base} = splitNo(name)
  return KERNEL_PARAMS.has(base) || INTERNAL_PARAMS.has(base)
}

/** config.c equalopts: `persist` and `nopersist`, `allow.mount.zfs` and `allow.mount.nozfs` are one option. */
export function equalOpts(a: string, b: string): boolean {
  if (a === b) return true
  if (a.startsWith('no') && a.slice(2) === b) return true
  if (b.startsWith('no') && a === b.slice(2)) return true
  let o1 = a
  let o2 = b
  for (let dot = o1.indexOf('.'); dot >= 0; dot = o1.indexOf('.')) {
    const prefix = o1.slice(0, dot + 1)
    if (!o2.startsWith(prefix)) return false
    o1 = o1.slice(dot + 1)
    o2 = o2.slice(dot + 1)
    if (equalOpts(o1, o2)) return true
  }
  return false
}

/** jail(8)'s boolean reading of a value list (config.c bool_param); undefined values = true. */
export function boolValue(name: string, values: readonly string[]): boolean {
  const dot = name.lastIndexOf('.')
  const negated = name.slice(dot + 1).startsWith('no')
  const last = values.at(-1)
  const truth = last === undefined || last.toLowerCase() === 'true' || (Number.parseInt(last, 10) || 0) !== 0
  return negated !== truth
}
