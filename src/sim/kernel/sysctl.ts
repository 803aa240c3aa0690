// sysctl MIBs as each view reads them (§3; sys/kern/kern_jail.c, kern_mib.c).
import {ALL_ALLOW, KERNEL_PARAMS} from '../../jailconf/params.js'
import {getJail} from './jails.js'
import {fail, type Kernel} from './state.js'

type Reader = (k: Kernel, viewer: number) => string

const own = (f: (k: Kernel, viewer: number) => string | number): Reader => (k, v) => String(f(k, v))
const allowed = (flag: string): Reader => own((k, v) => (getJail(k, v).allow.includes(flag) ? 1 : 0))

/** Every simulated read-side MIB, in sysctl's (alphabetical) order for listings. */
function table(): Map<string, Reader> {
  const t = new Map<string, Reader>()
  t.set('kern.domainname', own((k, v) => getJail(k, v).host.domainname))
  t.set('kern.hostid', own((k, v) => getJail(k, v).host.hostid))
  t.set('kern.hostname', own((k, v) => getJail(k, v).host.hostname))
  t.set('kern.hostuuid', own((k, v) => getJail(k, v).host.hostuuid))
  t.set('kern.osreldate', own((k, v) => getJail(k, v).osreldate))
  t.set('kern.osrelease', own((k, v) => getJail(k, v).osrelease))
  t.set('kern.ostype', own(() => 'FreeBSD'))
  t.set('kern.racct.enable', own(() => 0))
  t.set('kern.securelevel', own((k, v) => getJail(k, v).securelevel))
  t.set('security.bsd.suser_enabled', own((k, v) => (getJail(k, v).allow.includes('suser') ? 1 : 0)))
  t.set('security.jail.allow_raw_sockets', allowed('raw_sockets'))
  t.set('security.jail.chflags_allowed', allowed('chflags'))
  t.set('security.jail.children.cur', own((k, v) => getJail(k, v).childrenCur))
  t.set('security.jail.children.max', own((k, v) => getJail(k, v).childrenMax))
  t.set('security.jail.devfs_ruleset', own((k, v) => getJail(k, v).devfsRuleset))
  t.set('security.jail.enforce_statfs', own((k, v) => (v === 0 ? (k.sysctl['security.jail.enforce_statfs'] ?? 2) : getJail(k, v).enforceStatfs)))
  t.set('security.jail.jail_max_af_ips', own(() => 255))
  t.set('security.jail.jailed', own((_k, v) => (v === 0 ? 0 : 1)))
  t.set('security.jail.mlock_allowed', allowed('mlock'))
  t.set('security.jail.mount_allowed', allowed('mount'))
  for (const a of ALL_ALLOW) {
    if (!a.includes('.')) continue
    t.set(`security.jail.${a.replace('.', '_')}_allowed`, allowed(a))
  }
  t.set('security.jail.vmm_allowed', allowed('vmm'))
  for (const p of KERNEL_PARAMS.values()) {
    const n = p.type === 'string' ? String(p.maxlen ?? 256) : '0'
    t.set(`security.jail.param.${p.name}`, own(() => n))
  }
  t.set('security.jail.set_hostname_allowed', allowed('set_hostname'))
  t.set('security.jail.socket_unixiproute_only', own((k, v) => (getJail(k, v).allow.includes('socket_af') ? 0 : 1)))
  t.set('security.jail.sysvipc_allowed', own((k, v) => (getJail(k, v).sysvshm === 'disable' ? 0 : 1)))
  t.set('security.jail.vnet', own((k, v) => (v !== 0 && getJail(k, v).vnet === 'new' ? 1 : 0)))
  t.set('vfs.recursive_forced_unmount', own((k) => k.sysctl['vfs.recursive_forced_unmount'] ?? 0))
  // Byte order (strcmp): the same order here, without localeCompare's ~10 ms of ICU set-up per process.
  return new Map([...t.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

const TABLE = table()

export function sysctlNames(prefix: string): string[] {
  return [...TABLE.keys()].filter((n) => prefix === '' || n === prefix || n.startsWith(`${prefix}.`))
}

export function readSysctl(k: Kernel, viewer: number, name: string): string | undefined {
  return TABLE.get(name)?.(k, viewer)
}

/** sysctl name=value. Only a few MIBs are writable, most only on the host. */
export function writeSysctl(k: Kernel, viewer: number, name: string, value: string): void {
  const n = Number(value)
  switch (name) {
    case 'security.jail.enforce_statfs':
    case 'vfs.recursive_forced_unmount':
      if (viewer !== 0) fail('EPERM')
      if (!Number.isInteger(n)) fail('EINVAL')
      if (name === 'security.jail.enforce_statfs' && (n < 0 || n > 2)) fail('EINVAL')
      k.sysctl[name] = n
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
