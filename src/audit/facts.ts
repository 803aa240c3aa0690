// What `nest audit` knows of a host: plain data, collected host side with a fixed number of
// tool calls (../shared/audit-rules.md §5.1) and evaluated by pure rules (src/audit/rules).
// Nothing here is read through jexec: every field comes from the host's own tools and files,
// so a jail's root can lie only about what runs inside its jail (its processes' names), never
// about its grants, its mounts or its files as the host sees them (§1.1).
import type {ParamValue} from '../host/parse.js'

/** One command as nest ran it and the lines of its output that a finding rests on. */
export interface Evidence {
  argv: string[]
  lines: string[]
}

/** A jail as the host's `jls --libxo json -n` reports it (O1), plus its place in the tree. */
export interface JailFacts {
  /** The kernel's full dotted name as the host sees it (`p.a`). */
  name: string
  jid: number
  /** The parent's dotted name; null for a jail of the host. */
  parent: string | null
  /** Global path of its root. */
  path: string
  dying: boolean
  /** Every parameter jls -n printed, by its jail(8) name (`allow.raw_sockets`, `children.max`). */
  params: Record<string, ParamValue>
}

/** One `mount -p` row (O3): special, mount point (global), type, options. */
export interface MountFacts {
  from: string
  on: string
  type: string
  opts: string[]
}

/** A process (O4: `ps -ax -o pid,jid,comm`): comm is what the process calls itself (untrusted). */
export interface ProcFacts {
  pid: number
  jid: number
  comm: string
}

/**
 * A socket a process holds (O7: `procstat -f PID…`, procstat_files.c): the PRO column as
 * procstat prints it (`TCP`, `UDP`, `RAW`, `ICM`, `UDD`, `?`, …) and the socket's domain as the
 * type column shows it (`s` rows only). `raw` and `otherFamily` are what the rules read.
 */
export interface SocketFacts {
  pid: number
  fd: string
  protocol: string
  /** A raw or divert inet socket (PRO `ICM`, `RAW`, `IP?`, `IPD`): PRIV_NETINET_RAW was used. */
  raw: boolean
  /** A family other than INET, INET6 and LOCAL (PRO `?`): prison_check_af let it through. */
  otherFamily: boolean
  /** The row as procstat printed it. */
  line: string
}

/** A SysV IPC object (O12: host `ipcs -a`, creator pid mapped to its jail through ps). */
export interface IpcFacts {
  kind: 'msg' | 'sem' | 'shm'
  id: number
  key: string
  /** The creator's pid (`cpid`, shm only in ipcs) and, when ps knows it, its jid. */
  cpid: number | null
  jid: number | null
  /** Bytes (shm), messages (msg) or semaphores (sem). */
  size: number
  line: string
}

/** A devfs mount and the rules bound to it (O8: `devfs -m ON rule show`). */
export interface DevfsMountFacts {
  on: string
  rules: string[]
}

/** One row of `zfs get -Hp -o name,property,value,source -r … <pool>` (O10). */
export interface ZfsFacts {
  name: string
  props: Record<string, string>
}

/** lstat of a path the host owns (O11): never followed, a link is reported as a link. */
export interface PathFacts {
  path: string
  /** `dir`, `file`, `link`, `missing`, `other`. */
  type: 'dir' | 'file' | 'link' | 'missing' | 'other'
  uid: number
  gid: number
  /** Permission bits (mode & 0o7777). */
  mode: number
}

/** A jail's configuration as a jail.conf file on the host, or in its parent's root, has it (O2). */
export interface ConfigFacts {
  /** The jail's full dotted name from the host (`p.a` for a block `a` in p's own jail.conf). */
  name: string
  /** The file it came from, as the host sees it (`/etc/jail.conf`, `<p's root>/etc/jail.conf.d/a.conf`). */
  file: string
  /** The jail whose jail(8) starts it: null for the host. */
  startedBy: string | null
  /** Parameters after variable expansion and wildcards (config.c), every value in order. */
  params: Record<string, string[]>
  /** The same statements before expansion, for the hygiene rules that read `$name` in hooks. */
  raw: Record<string, string[]>
  /** Whether nest wrote it (its header line). */
  nest: boolean
}

/** A configuration file jail(8) would refuse (src/audit/configs.ts): reported by NEST-R02. */
export interface ConfigError {
  /** The file jail(8) would refuse (global path). */
  file: string
  /** One line, as jail(8) says it: `FILE line N: TOKEN: syntax error`, with what to do. */
  message: string
  startedBy: string | null
  prefix: string
  /**
   * The jail (full dotted name) the error is about, when it is one jail's (`cannot redefine
   * parameter "name"`, config.c add_param): jail(8) refuses that jail, not the whole file.
   */
  jail?: string
}

/**
 * nest's own record of a jail (dataset user properties or nest.json): its policy, the grants
 * its operator declared needed (`nest.needs` in the policy), its phase, and what its lifecycle
 * used the last time nest started and stopped it (src/services/lifecycle-record.ts).
 */
export interface NestJailFacts {
  policy: string | null
  declared: string[]
  phase: 'bootstrap' | 'maintenance' | 'run'
  lifecycle: LifecycleRecord | null
}

/**
 * nest's record of a jail's lifecycle: when nest last started it (create, start, restart: the
 * jail and every child its jail(8) starts) and stopped it. What that lifecycle used is read at
 * audit time from the host's own tables (the mounts it made stay while the jail runs; unmounting
 * them at stop needs the same allow.mount.<fs> as mounting them did, vfs_subr.c vfs_suser), so
 * the record only says that a full start happened and when.
 */
export interface LifecycleRecord {
  /** When nest last started it (seconds since the epoch, host clock). */
  started: number
  /** When nest last stopped it, if it did. */
  stopped: number | null
}

export interface HostFacts {
  osrelease: string
  /** `freebsd-version -k` (O13), with the patch level; null when not known. */
  kernel: string | null
  /** kern.racct.enable: rctl -u answers only when it is 1. */
  racct: boolean
  /** The DTrace priv provider (O5) is not used by nest yet: always false, said in the evidence. */
  dtrace: boolean
  securelevel: number
}

export interface AuditFacts {
  host: HostFacts
  jails: JailFacts[]
  configs: ConfigFacts[]
  /** Configuration files jail(8) would refuse (a syntax error, an include not there): NEST-R02. */
  configErrors?: ConfigError[]
  mounts: MountFacts[]
  procs: ProcFacts[]
  sockets: SocketFacts[]
  ipc: IpcFacts[]
  /** `rctl -u jail:NAME` per running jail (O6), when racct is on: resource → amount. */
  rctl: Record<string, Record<string, number>>
  /** devfs rulesets loaded in the kernel (`devfs rule -s N show`): number → rule lines. */
  rulesets: Record<number, string[]>
  devfsMounts: DevfsMountFacts[]
  datasets: ZfsFacts[]
  paths: PathFacts[]
  nest: Record<string, NestJailFacts>
  /** The commands behind each kind of fact, for evidence (`jls`, `mount`, `ps`, …). */
  sources: Record<string, Evidence['argv']>
}
