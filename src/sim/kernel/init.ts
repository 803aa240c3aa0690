// A freshly installed FreeBSD 14.3-RELEASE host (bsdinstall's ZFS layout), no jails.
import {bootRulesets} from '../devfsrules.js'
import {emptyRacct} from './rctl.js'
import {hostInterfaces} from './ifnet.js'
import type {Kernel, SimDataset, SimMount} from './state.js'

const GIB = 1024 ** 3

/**
 * The rulesets in the kernel after boot: what rc.d/devfs loads from the stock
 * /etc/defaults/devfs.rules (sbin/devfs/devfs.rules), parsed as rc.subr parses it.
 */
export const DEFAULT_RULESETS: Record<string, string[]> = bootRulesets()

/** Datasets of a default install: name, local properties, mounted or not. */
const LAYOUT: Array<[string, Record<string, string>]> = [
  ['zroot', {mountpoint: '/zroot', atime: 'off', compression: 'lz4'}],
  ['zroot/ROOT', {mountpoint: 'none'}],
  ['zroot/ROOT/default', {mountpoint: '/'}],
  ['zroot/home', {mountpoint: '/home'}],
  ['zroot/tmp', {mountpoint: '/tmp', exec: 'on', setuid: 'off'}],
  ['zroot/usr', {mountpoint: '/usr', canmount: 'off'}],
  ['zroot/usr/ports', {setuid: 'off'}],
  ['zroot/usr/src', {}],
  ['zroot/var', {mountpoint: '/var', canmount: 'off'}],
  ['zroot/var/audit', {exec: 'off', setuid: 'off'}],
  ['zroot/var/crash', {exec: 'off', setuid: 'off'}],
  ['zroot/var/log', {exec: 'off', setuid: 'off'}],
  ['zroot/var/mail', {atime: 'on'}],
  ['zroot/var/tmp', {setuid: 'off'}],
]

function mountpointOf(name: string): string | undefined {
  const own = LAYOUT.find(([n]) => n === name)?.[1]
  if (own?.['canmount'] === 'off') return undefined
  if (own?.['mountpoint']) return own['mountpoint'] === 'none' ? undefined : own['mountpoint']
  const parent = name.slice(0, name.lastIndexOf('/'))
  const pm = LAYOUT.find(([n]) => n === parent)?.[1]?.['mountpoint']
  return pm && pm !== 'none' ? `${pm}/${name.slice(parent.length + 1)}` : undefined
}

function inherited(name: string, prop: string): string | undefined {
  for (let n = name; ; n = n.slice(0, n.lastIndexOf('/'))) {
    const v = LAYOUT.find(([x]) => x === n)?.[1]?.[prop]
    if (v !== undefined) return v
    if (!n.includes('/')) return undefined
  }
}

export function initialKernel(): Kernel {
  const datasets: SimDataset[] = LAYOUT.map(([name, props], i) => ({
    name, type: 'filesystem', props: {...props}, createtxg: i + 1, guid: String(1_000_003 * (i + 7)),
    creation: i + 1, referenced: name === 'zroot/ROOT/default' ? 2 * GIB : 98_304,
  }))
  const mounts: SimMount[] = []
  let id = 1
  const zfsMount = (name: string, on: string): void => {
    const opts = ['rw']
    if (inherited(name, 'atime') === 'off') opts.push('noatime')
    if (inherited(name, 'exec') === 'off') opts.push('noexec')
    if (inherited(name, 'setuid') === 'off') opts.push('nosuid')
    opts.push('nfsv4acls')
    mounts.push({id: id++, fstype: 'zfs', from: name, on, opts, by: 0, dataset: name})
  }
  zfsMount('zroot/ROOT/default', '/')
  mounts.push({id: id++, fstype: 'devfs', from: 'devfs', on: '/dev', opts: ['rw'], by: 0, ruleset: 0})
  for (const [name] of LAYOUT) {
    const mp = mountpointOf(name)
    if (mp && name !== 'zroot/ROOT/default') zfsMount(name, mp)
  }
  return {
    version: 1,
    osrelease: '14.3-RELEASE',
    osreldate: 1_403_000,
    hostname: 'nest-sim.local',
    hostuuid: '4c4c4544-0042-3510-8052-b4c04f4e3732',
    lastJid: 0,
    nextMountId: id,
    nextCpuset: 2,
    txg: LAYOUT.length + 1,
    clock: LAYOUT.length + 1,
    jails: [],
    mounts,
    datasets,
    pools: [{name: 'zroot', size: 200 * GIB, guid: '15402873648923485011'}],
    devfsRulesets: structuredClone(DEFAULT_RULESETS),
    sysctl: {'security.jail.enforce_statfs': 2, 'vfs.recursive_forced_unmount': 0},
    securelevel: -1,
    packages: {},
    dyingHoldDefault: 0,
    ifnets: hostInterfaces(),
    ifMacSeq: 0,
    routes: [],
    forwarding: [],
    vms: [],
    // GENERIC has RACCT and RCTL, with kern.racct.enable=0 (sys/kern/kern_racct.c RACCT_DEFAULT_TO_DISABLED).
    racct: emptyRacct(),
    disks: [],
    mds: [],
    diskSeq: 0,
  }
}
