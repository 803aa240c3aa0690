// A jail's cpuset (sys/kern/kern_cpuset.c): each jail has a root set of its own, made from its
// creator's when the jail is made (cpuset_create_root); its mask must stay within its parent's
// (cpuset_modify: EINVAL otherwise), and narrowing it narrows every set below it
// (cpuset_testupdate / cpuset_update: EDEADLK when one would be left with no CPU).
import {descendants, getJail} from './jails.js'
import {fail, type Kernel, type SimJail} from './state.js'

/** The simulated host's CPUs: a fixed count (hw.ncpu, mp_ncpus), 0 to SIM_NCPU - 1. */
export const SIM_NCPU = 4

/** CPU_SETSIZE (sys/sys/_cpuset.h, CPU_MAXSIZE 1024 in 14.x): the largest cpu-list entry cpuset(1) parses. */
export const CPU_SETSIZE = 1024

const all = (): number[] => Array.from({length: SIM_NCPU}, (_, i) => i)

/** The CPUs a jail may run on: its own mask, else its parent's, the host's all of them. */
export function jailMask(k: Kernel, jid: number): number[] {
  if (jid === 0) return all()
  const j = getJail(k, jid)
  return j.cpuMask ?? jailMask(k, j.parent)
}

/**
 * cpuset_setaffinity(CPU_LEVEL_WHICH, CPU_WHICH_JAIL, jid) from the host: the jail's root set
 * gets `mask`, which must be within its parent's (EINVAL); every set below keeps only the CPUs
 * still allowed, none may be left empty (EDEADLK, nothing changed). An empty mask is EDEADLK
 * too (cpuset_testupdate finds no CPU).
 */
export function setJailMask(k: Kernel, caller: number, j: SimJail, mask: number[]): void {
  if (caller !== 0) fail('EPERM')
  const parent = jailMask(k, j.parent)
  if (mask.some((c) => !parent.includes(c))) fail('EINVAL')
  if (mask.length === 0) fail('EDEADLK')
  const below = descendants(k, j.jid)
  const next = new Map<number, number[]>()
  for (const d of below) {
    const narrowed = jailMask(k, d.jid).filter((c) => mask.includes(c))
    if (narrowed.length === 0) fail('EDEADLK')
    next.set(d.jid, narrowed)
  }
  j.cpuMask = [...mask].sort((a, b) => a - b)
  for (const d of below) d.cpuMask = next.get(d.jid) as number[]
}
