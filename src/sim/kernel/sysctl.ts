// sysctl MIBs as each view reads them (§3; sys/kern/kern_jail.c, kern_mib.c).
import {ALL_ALLOW, KERNEL_PARAMS} from '../../jailconf/params.js'
import {SIM_NCPU} from './cpuset.js'
import {checkNetPriv, vnetOf} from './ifnet.js'
import {getJail} from './jails.js'
import {forwardingOf, setForwarding} from './route.js'
import {fail, type Kernel} from './state.js'

type Reader = (k: Kernel, viewer: number) => string

/**
 * The type names `sysctl -t` prints (sbin/sysctl/sysctl.c ctl_typename), for the CTLTYPE each
 * simulated OID is declared with.
 */
export type CtlType = 'integer' | 'unsigned integer' | 'long integer' | 'unsigned long' | 'uint8_t' | 'string' | 'opaque'

interface Oid {
  read: Reader
  type: CtlType
}

const own = (f: (k: Kernel, viewer: number) => string | number): Reader => (k, v) => String(f(k, v))
const allowed = (flag: string): Reader => own((k, v) => (getJail(k, v).allow.includes(flag) ? 1 : 0))

/**
 * The OID of a jail parameter's descriptor (sys/kern/kern_jail.c, sys/sys/jail.h): a parameter
 * that also names a node of parameters (`host` with `host.hostname`, `allow.mount` with
 * `allow.mount.zfs`, `ip4` with `ip4.addr`) is the node's leaf with an empty name,
 * `SYSCTL_JAIL_PARAM(_allow_mount, , ...)` or SYSCTL_JAIL_PARAM_SYS_NODE's, so its full name
 * ends in a dot: `security.jail.param.allow.mount.`.
 */
function paramOid(name: string): string {
  const isNode = [...KERNEL_PARAMS.keys()].some((n) => n.startsWith(`${name}.`))
  return `security.jail.param.${name}${isNode ? '.' : ''}`
}

/** Every simulated read-side MIB, in sysctl's (alphabetical) order for listings, with its CTLTYPE. */
function table(): Map<string, Oid> {
  const t = new Map<string, Oid>()
  const int = (read: Reader): Oid => ({read, type: 'integer'})
  // sys/kern/kern_mib.c: hostname, domainname, hostuuid, osrelease, ostype are strings;
  // hostid is SYSCTL_PROC(CTLTYPE_ULONG, "LU"); osreldate, securelevel CTLTYPE_INT.
  // sys/kern/subr_smp.c: SYSCTL_INT(_hw, OID_AUTO, ncpu, CTLFLAG_RD | CTLFLAG_CAPRD, &mp_ncpus, ...).
  t.set('hw.ncpu', int(own(() => SIM_NCPU)))
  // sys/net/vnet.c FEATURE(vimage, ...): GENERIC has options VIMAGE since 12.0; FEATURE is a read-only int 1 (sys/sys/sysctl.h).
  t.set('kern.features.vimage', int(own(() => 1)))
  t.set('kern.domainname', {read: own((k, v) => getJail(k, v).host.domainname), type: 'string'})
  t.set('kern.hostid', {read: own((k, v) => getJail(k, v).host.hostid), type: 'unsigned long'})
  t.set('kern.hostname', {read: own((k, v) => getJail(k, v).host.hostname), type: 'string'})
  t.set('kern.hostuuid', {read: own((k, v) => getJail(k, v).host.hostuuid), type: 'string'})
  t.set('kern.osreldate', int(own((k, v) => getJail(k, v).osreldate)))
  t.set('kern.osrelease', {read: own((k, v) => getJail(k, v).osrelease), type: 'string'})
  t.set('kern.ostype', {read: own(() => 'FreeBSD'), type: 'string'})
  // sys/kern/kern_racct.c: SYSCTL_BOOL, which is CTLTYPE_U8.
  t.set('kern.racct.enable', {read: own((k) => (k.racct.enabled ? 1 : 0)), type: 'uint8_t'})
  t.set('kern.securelevel', int(own((k, v) => getJail(k, v).securelevel)))
  // netinet/ip_input.c V_ipforwarding, netinet6/in6_proto.c V_ip6_forwarding: SYSCTL_INT with
  // CTLFLAG_VNET, so each vnet has its own (a jail without its own vnet reads its vnet's).
  t.set('net.inet.ip.forwarding', int(own((k, v) => forwardingOf(k, vnetOf(k, v)).inet)))
  t.set('net.inet6.ip6.forwarding', int(own((k, v) => forwardingOf(k, vnetOf(k, v)).inet6)))
  // sys/kern/kern_priv.c, kern_jail.c: SYSCTL_PROC(CTLTYPE_INT, "I") for these.
  t.set('security.bsd.suser_enabled', int(own((k, v) => (getJail(k, v).allow.includes('suser') ? 1 : 0))))
  t.set('security.jail.allow_raw_sockets', int(allowed('raw_sockets')))
  t.set('security.jail.chflags_allowed', int(allowed('chflags')))
  t.set('security.jail.children.cur', int(own((k, v) => getJail(k, v).childrenCur)))
  t.set('security.jail.children.max', int(own((k, v) => getJail(k, v).childrenMax)))
  t.set('security.jail.devfs_ruleset', int(own((k, v) => getJail(k, v).devfsRuleset)))
  t.set('security.jail.enforce_statfs', int(own((k, v) => (v === 0 ? (k.sysctl['security.jail.enforce_statfs'] ?? 2) : getJail(k, v).enforceStatfs))))
  // kern_jail.c: SYSCTL_UINT(_security_jail, OID_AUTO, jail_max_af_ips, ...).
  t.set('security.jail.jail_max_af_ips', {read: own(() => 255), type: 'unsigned integer'})
  t.set('security.jail.jailed', int(own((_k, v) => (v === 0 ? 0 : 1))))
  t.set('security.jail.mlock_allowed', int(allowed('mlock')))
  t.set('security.jail.mount_allowed', int(allowed('mount')))
  for (const a of ALL_ALLOW) {
    if (!a.includes('.')) continue
    t.set(`security.jail.${a.replace('.', '_')}_allowed`, int(allowed(a)))
  }
  t.set('security.jail.vmm_allowed', int(allowed('vmm')))
  // kern_jail.c sysctl_jail_param: a string parameter's descriptor reads as its maximum length,
  // the others as 0; SYSCTL_JAIL_PARAM_STRUCT (ip4.addr, ip6.addr) is CTLTYPE_STRUCT, opaque,
  // which sysctl(8) does not print without -o/-x (show_var: "don't fetch opaques that we don't
  // know how to print"); host.hostid is CTLTYPE_ULONG.
  for (const p of KERNEL_PARAMS.values()) {
    const n = p.type === 'string' ? String(p.maxlen ?? 256) : '0'
    const type: CtlType = p.type === 'string' ? 'string' : p.type === 'ip4' || p.type === 'ip6' ? 'opaque' : p.name === 'host.hostid' ? 'unsigned long' : 'integer'
    t.set(paramOid(p.name), {read: own(() => n), type})
  }
  t.set('security.jail.set_hostname_allowed', int(allowed('set_hostname')))
  t.set('security.jail.socket_unixiproute_only', int(own((k, v) => (getJail(k, v).allow.includes('socket_af') ? 0 : 1))))
  t.set('security.jail.sysvipc_allowed', int(own((k, v) => (getJail(k, v).sysvshm === 'disable' ? 0 : 1))))
  t.set('security.jail.vnet', int(own((k, v) => (v !== 0 && getJail(k, v).vnet === 'new' ? 1 : 0))))
  // sys/fs/devfs/devfs_devs.c: SYSCTL_UINT(_vfs_devfs, OID_AUTO, rule_depth, CTLFLAG_RW, ...), 1.
  t.set('vfs.devfs.rule_depth', {read: own((k) => k.sysctl['vfs.devfs.rule_depth'] ?? 1), type: 'unsigned integer'})
  // sys/kern/vfs_mount.c: SYSCTL_BOOL(_vfs, OID_AUTO, recursive_forced_unmount, ...).
  t.set('vfs.recursive_forced_unmount', {read: own((k) => k.sysctl['vfs.recursive_forced_unmount'] ?? 0), type: 'uint8_t'})
  // OpenZFS module/os/freebsd/zfs/zvol_os.c: SYSCTL_INT(_vfs_zfs_vol, OID_AUTO, mode, CTLFLAG_RWTUN,
  // &zvol_volmode, ...) (module/zfs/zvol.c: ZFS_VOLMODE_GEOM, 1) and SYSCTL_INT(_vfs_zfs_vol,
  // OID_AUTO, recursive, CTLFLAG_RWTUN, &zpool_on_zvol, 0, "Allow zpools to use zvols as vdevs (DANGEROUS)").
  t.set('vfs.zfs.vol.mode', {read: own((k) => k.sysctl['vfs.zfs.vol.mode'] ?? 1), type: 'integer'})
  t.set('vfs.zfs.vol.recursive', {read: own((k) => k.sysctl['vfs.zfs.vol.recursive'] ?? 0), type: 'integer'})
  // Byte order (strcmp): the same order here, without localeCompare's ~10 ms of ICU set-up per process.
  return new Map([...t.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

const TABLE = table()

const isNode = (name: string): boolean => [...TABLE.keys()].some((n) => n.startsWith(`${name}.`))

/**
 * kern_sysctl.c name2oid over the flat table: the name is taken apart with strsep(".") one
 * component at a time, each looked up among the children of the node before it; the walk ends,
 * found, as soon as nothing or only an empty string is left after a component, so
 * `kern.hostname.` names `kern.hostname` and `security.jail.param.allow.` the node, while
 * `allow.mount..` reaches the node's empty-named leaf. A component after a leaf, or one no
 * child has, is ENOENT (undefined here). Returns the OID's name and whether it is a node.
 */
export function sysctlLookup(arg: string): {name: string; node: boolean} | undefined {
  let rest: string | null = arg
  let path: string | undefined
  for (let depth = 0; depth < 24 && rest !== null; depth++) {
    const dot: number = rest.indexOf('.')
    const p: string = dot < 0 ? rest : rest.slice(0, dot)
    rest = dot < 0 ? null : rest.slice(dot + 1)
    const cand: string = path === undefined ? p : `${path}.${p}`
    const node = isNode(cand)
    if (!node && !TABLE.has(cand)) return undefined
    path = cand
    if (rest === null || rest === '') return {name: cand, node}
    if (!node) return undefined
  }
  return undefined
}

/** The leaves of a node (or the one leaf) in listing order; '' for everything. */
export function sysctlNames(prefix: string): string[] {
  return [...TABLE.keys()].filter((n) => prefix === '' || n === prefix || n.startsWith(`${prefix}.`))
}

export function readSysctl(k: Kernel, viewer: number, name: string): string | undefined {
  return TABLE.get(name)?.read(k, viewer)
}

export function sysctlType(name: string): CtlType | undefined {
  return TABLE.get(name)?.type
}

/** sysctl name=value. Only a few MIBs are writable, most only on the host. */
export function writeSysctl(k: Kernel, viewer: number, name: string, value: string): void {
  const n = Number(value)
  switch (name) {
    case 'security.jail.enforce_statfs':
    case 'vfs.devfs.rule_depth':
    case 'vfs.recursive_forced_unmount':
    case 'vfs.zfs.vol.recursive':
      if (viewer !== 0) fail('EPERM')
      if (!Number.isInteger(n)) fail('EINVAL')
      if (name === 'security.jail.enforce_statfs' && (n < 0 || n > 2)) fail('EINVAL')
      // Back to its default, the tunable is as on a host that never set it: one model for both.
      if (name === 'vfs.zfs.vol.recursive' && n === 0) delete k.sysctl[name]
      else k.sysctl[name] = n
      return
    case 'net.inet.ip.forwarding':
    case 'net.inet6.ip6.forwarding':
      // A VNET sysctl is written in the caller's vnet; a jail without its own vnet may not
      // (sysctl_root: CTLFLAG_PRISON is not set on these, so a jailed writer needs its own vnet,
      // CTLFLAG_VNET with prison_owns_vnet; **source-derived**, kern_sysctl.c not re-read).
      checkNetPriv(k, viewer)
      if (!Number.isInteger(n)) fail('EINVAL')
      setForwarding(k, vnetOf(k, viewer), name === 'net.inet.ip.forwarding' ? 'inet' : 'inet6', n)
      return
    case 'kern.securelevel': {
      if (!Number.isInteger(n)) fail('EINVAL')
      const j = getJail(k, viewer)
      // securelevel can be raised but never lowered, inside a jail or on the host.
      if (n < j.securelevel) fail('EPERM')
      if (viewer === 0) k.securelevel = n
      else j.securelevel = n
      return
    }
    case 'kern.hostname': {
      if (viewer === 0) {
        k.hostname = value
        return
      }
      const j = getJail(k, viewer)
      if (!j.allow.includes('set_hostname')) fail('EPERM')
      j.host.hostname = value
      return
    }
    default:
      if (TABLE.has(name)) fail('EPERM')
      fail('ENOENT')
  }
}
