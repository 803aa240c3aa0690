// The simulated kernel's one model of state: plain, serializable data. Every fake tool
// reads and writes this, and nothing else keeps state (house style §13).
import type {Errno} from '../../domain/errno.js'
import type {SimIfnet} from './ifnet.js'
import type {SimRacct} from './rctl.js'
import type {SimForwarding, SimRoute} from './route.js'

export type JailState = 'ALIVE' | 'DYING'
export type SysvMode = 'disable' | 'new' | 'inherit'

export interface IpState {
  mode: 'disable' | 'new' | 'inherit'
  addrs: string[]
}

export interface SimJail {
  jid: number
  /** Full dotted name from the host. */
  name: string
  /** jid of the parent; 0 for a top-level jail. */
  parent: number
  /** Global (host) path of the jail root. */
  path: string
  state: JailState
  persist: boolean
  /** Long-running processes started inside (the daemons of an emulated /etc/rc). */
  daemons: number
  /** Real simulator processes attached with jexec or jail(8) (pids), pruned when they exit. */
  pids: number[]
  childrenMax: number
  /** Stored count of descendants, alive or dying: an invariant checks it against the tree. */
  childrenCur: number
  securelevel: number
  enforceStatfs: number
  devfsRuleset: number
  /** allow.* flags held, without the `allow.` prefix (`mount.zfs`, `raw_sockets`). */
  allow: string[]
  host: {mode: 'new' | 'inherit'; hostname: string; domainname: string; hostuuid: string; hostid: number}
  ip4: IpState
  ip6: IpState
  vnet: 'new' | 'inherit'
  sysvmsg: SysvMode
  sysvsem: SysvMode
  sysvshm: SysvMode
  osrelease: string
  osreldate: number
  cpusetId: number
  zfsMountSnapshot: number
  /** Datasets attached with `zfs jail` (spl_zone.c keeps a per-jail list). */
  datasets: string[]
  /** The mount that held the root directory when the jail was made (pr_root->v_mount). */
  rootMountId: number | null
  /** Tool calls left before a dying jail is freed (something still holds a reference). */
  dyingHold: number
  /**
   * The CPUs of the jail's cpuset (kern_cpuset.c pr_cpuset), set with `cpuset -l LIST -j JAIL`;
   * absent: its parent's (kernel/cpuset.ts). Absent in models saved before it was recorded.
   */
  cpuMask?: number[]
}

export interface SimMount {
  id: number
  fstype: string
  /** The special as given (`devfs`, `.`, `zroot/x`, a nullfs lower as the mounter wrote it). */
  from: string
  /** Global path of the mount point. */
  on: string
  /** Option words in mount -p terms: `ro`, `noexec`, `nosuid`, `noatime`, ... */
  opts: string[]
  /** The jail whose process made the mount (0 = host). */
  by: number
  /**
   * That jail's ancestors at mount time (parent first). The mount's credential keeps the prison
   * (dying) after jail_remove, so its ancestors may still unmount it (vfs_suser, prison_check).
   */
  byAncestors?: number[]
  /** nullfs: global path of the lower directory, and the mount it lives on. */
  lower?: string
  lowerMountId?: number | null
  /** devfs: the ruleset applied. */
  ruleset?: number
  /**
   * devfs: the simulated devices (`fd`, `zfs`) the ruleset hid when the mount applied it
   * (devfs_ruleset_apply at mount): rules added later do not change an existing mount's
   * entries (DEVFSIO_RADD applies nothing). Absent in models saved before it was recorded.
   */
  hidden?: string[]
  /**
   * devfs: the simulator made `<on>/fd` when mounting, standing for the `fd` directory devfs
   * holds (sys/kern/kern_descrip.c makes `fd/0`..`fd/2`), and removes it on unmount.
   */
  madeFd?: boolean
  /** zfs: the dataset. */
  dataset?: string
  /** Set through the control plane: processes hold files open here (EBUSY unless -f). */
  busy?: boolean
  /** ufs: the guest disk and partition it reads (kernel/disks.ts ufsMount). */
  ufs?: {disk: string; index: number}
}

export type DatasetType = 'filesystem' | 'volume' | 'snapshot'

export interface SimDataset {
  name: string
  type: DatasetType
  /** Properties set locally (source `local`), including user properties such as `nest:policy`. */
  props: Record<string, string>
  /**
   * Properties a `zfs recv` stream carried (source `received`): below a local value, above an
   * inherited one (zfsprops.7 "Sources"; dsl_prop.c keeps them apart, `$recvd`). Absent: none.
   */
  received?: Record<string, string>
  /** A clone's origin snapshot. */
  origin?: string
  createtxg: number
  guid: string
  creation: number
  /** Bytes referenced by this dataset itself (fixed in the simulator). */
  referenced: number
  /** Clock tick of the last snapshot made or destroyed here (dsl_dir_snap_cmtime_update); absent: never. */
  snapshotsChanged?: number
  /**
   * The id of a tree in the simulator's tree store (`<sim root>/snapshots/<id>`, ZfsFs) holding
   * this filesystem's files while they are in no directory of the host tree: a received dataset
   * not mounted yet (`zfs recv -u`), an imported guest pool's dataset, one unmounted with
   * `stashContent`. Its first mount puts them at the mount point (zfs.ts zfsMount); a snapshot
   * of it while unmounted copies them; its destroy drops them. Absent: the files are wherever
   * the dataset is (or was last) mounted, as for every dataset made by `zfs create`.
   */
  content?: string
  /**
   * A volume (and each snapshot of one): the id of the guest disk in `Kernel.disks` its blocks
   * are (disks.ts). Snapshots and clones of a volume share their disk until one of them is
   * written (a pool imported from it, a UFS mounted read-write): the writer gets its own copy.
   */
  disk?: string
}

export interface SimPool {
  name: string
  size: number
  guid: string
  /** An imported guest pool (zpool.ts): where it came from and what its label says. Absent: the host's own pool. */
  guest?: import('./disks.js').ImportedPool
  /**
   * The pool's enabled features (`feature@NAME` without the prefix) where the model tracks them:
   * a send stream carries its source pool's list and a receive into a pool lacking one of them
   * fails ENOTSUP (src/sim/kernel/zstream.ts). Absent: every feature a stream may need.
   */
  features?: string[]
}

export interface Kernel {
  version: 1
  osrelease: string
  osreldate: number
  hostname: string
  hostuuid: string
  /** The last jid handed out (get_next_prid starts after it). */
  lastJid: number
  nextMountId: number
  nextCpuset: number
  txg: number
  clock: number
  jails: SimJail[]
  mounts: SimMount[]
  datasets: SimDataset[]
  pools: SimPool[]
  /** devfs rulesets loaded in the kernel: number → rule lines (`path zfs unhide`, `include 1`, `hide`). */
  devfsRulesets: Record<string, string[]>
  /** Writable host sysctls that are state (security.jail.enforce_statfs, vfs.recursive_forced_unmount, ...). */
  sysctl: Record<string, number>
  securelevel: number
  /** Packages installed with `pkg -r ROOT install`, per global root path. */
  packages: Record<string, string[]>
  /** How many tool calls a newly dying jail lingers before it is freed (control plane). */
  dyingHoldDefault: number
  /** The interface table of every vnet (ifnet.ts): list order = each vnet's if_link_ifnet order. */
  ifnets: SimIfnet[]
  /** Counter behind generated MAC addresses. */
  ifMacSeq: number
  /** Static routes of every vnet's table (route.ts); the routes addresses bring are computed. */
  routes: SimRoute[]
  /** net.inet.ip.forwarding / net.inet6.ip6.forwarding per vnet; a vnet not listed has both 0. */
  forwarding: SimForwarding[]
  /**
   * bhyve guests that exist in the kernel (vm-bhyve's view of one: /dev/vmm/NAME and its
   * process, titled `bhyve: NAME`, or the loader's while it boots): see src/sim/vmbhyve.ts.
   */
  vms: SimVm[]
  /** RACCT/RCTL (kernel/rctl.ts): kern.racct.enable, the prison_raccts and the rules. */
  racct: SimRacct
  /** Guest disks (disks.ts): what is written on every zvol and vm-bhyve image file. */
  disks: import('./disks.js').SimDisk[]
  /** md(4) units attached with mdconfig (disks.ts). */
  mds: import('./disks.js').SimMd[]
  /** Counter behind disk ids. */
  diskSeq: number
  /**
   * The processes of jails the model knows (kernel/procs.ts): their names, sockets and wired
   * memory. Absent in models saved before it was recorded: none.
   */
  procs?: import('./procs.js').SimProc[]
  /** System V IPC objects (kernel/procs.ts), every namespace's. Absent: none. */
  ipcs?: import('./procs.js').SimIpc[]
  /** The last pid the model handed out (procs.ts nextPid). */
  lastPid?: number
  /** Each IPC slot's sequence number (its last use), per kind: IXSEQ_TO_IPCID's upper bits. */
  ipcSeq?: Record<'msg' | 'sem' | 'shm', number[]>
}

/** A bhyve guest alive in the kernel: its vmm device /dev/vmm/NAME and the process that runs it. */
export interface SimVm {
  name: string
  pid: number
  /** `bhyve` once bhyve(8) runs it (`bhyve: NAME`), `loader` while bhyveload/grub-bhyve does. */
  stage: 'bhyve' | 'loader'
}

/** A kernel-level failure: an errno and, where the kernel sets one, its errmsg. */
export class SysError extends Error {
  constructor(readonly errno: Errno, readonly errmsg?: string) {
    super(errmsg ?? errno)
  }
}

export const fail = (errno: Errno, errmsg?: string): never => {
  throw new SysError(errno, errmsg)
}

/** Normalize an absolute path: collapse `//`, `.` and `..` (never above `/`). */
export function normPath(p: string): string {
  const out: string[] = []
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') out.pop()
    else out.push(part)
  }
  return `/${out.join('/')}`
}

/** `child` is `parent` or below it, by whole path components. */
export function pathWithin(child: string, parent: string): boolean {
  if (parent === '/') return child.startsWith('/')
  return child === parent || child.startsWith(`${parent}/`)
}

/** Join a jail root (global) and a path seen inside it. */
export function globalPath(root: string, inside: string): string {
  return normPath(`${root}/${inside}`)
}

/** The path a viewer rooted at `root` sees for a global path (prison_path-style). */
export function viewPath(root: string, global: string): string {
  if (root === '/') return global
  if (global === root) return '/'
  return global.startsWith(`${root}/`) ? global.slice(root.length) : global
}
