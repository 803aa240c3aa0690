// Kernel invariants, asserted after every simulated operation (house style §14). A violation
// means the simulator itself is wrong: the tool stops with exit 70 and says which one.
import {ALLOW_DIFFERENCES} from '../jailconf/params.js'
import {jailMask} from './kernel/cpuset.js'
import {ifnetInvariants} from './kernel/ifnet.js'
import {descendants} from './kernel/jails.js'
import {procInvariants} from './kernel/procs.js'
import {type Kernel, pathWithin} from './kernel/state.js'

export function checkInvariants(k: Kernel): string[] {
  const bad: string[] = []
  const jids = new Set<number>()
  for (const j of k.jails) {
    // jids are one flat space: never two prisons with one id (get_next_prid).
    if (jids.has(j.jid)) bad.push(`jid ${j.jid} is used twice`)
    jids.add(j.jid)
    if (j.jid < 1 || j.jid > 999_999) bad.push(`jid ${j.jid} is out of range`)
  }
  for (const j of k.jails) {
    const parent = j.parent === 0 ? undefined : k.jails.find((p) => p.jid === j.parent)
    // A prison holds a reference on its parent, so the parent outlives it.
    if (j.parent !== 0 && !parent) bad.push(`${j.name}: parent jid ${j.parent} does not exist`)
    // An alive jail under a dying parent cannot exist: removal marks the whole subtree.
    if (parent && j.state === 'ALIVE' && parent.state !== 'ALIVE') bad.push(`${j.name}: alive under dying parent ${parent.name}`)
    if (parent && !j.name.startsWith(`${parent.name}.`)) bad.push(`${j.name}: name does not extend parent's ${parent.name}`)
    // children.cur counts every descendant not yet freed (kern_jail.c pr_childcount).
    const count = descendants(k, j.jid).length
    if (j.childrenCur !== count) bad.push(`${j.name}: children.cur ${j.childrenCur} but ${count} descendants`)
    if (parent && j.state === 'ALIVE') {
      // Inheritance rules hold for every live jail at every moment.
      if (j.enforceStatfs < parent.enforceStatfs) bad.push(`${j.name}: enforce_statfs below its parent's`)
      if (j.securelevel < parent.securelevel) bad.push(`${j.name}: securelevel below its parent's`)
      const extra = j.allow.filter((a) => !parent.allow.includes(a) && !(ALLOW_DIFFERENCES as readonly string[]).includes(a))
      if (extra.length > 0) bad.push(`${j.name}: holds allow.${extra.join(', allow.')} its parent lacks`)
    }
    for (const ds of j.datasets) {
      // Only existing file systems are on a jail's zfs list.
      const d = k.datasets.find((x) => x.name === ds)
      if (!d || d.type !== 'filesystem') bad.push(`${j.name}: attached dataset ${ds} is not an existing file system`)
    }
    if (j.state === 'DYING' && (j.daemons > 0 || j.persist)) bad.push(`${j.name}: dying but persistent or running`)
  }
  const mountIds = new Set<number>()
  k.mounts.forEach((m, i) => {
    if (mountIds.has(m.id)) bad.push(`mount id ${m.id} is used twice`)
    mountIds.add(m.id)
    if (m.id >= k.nextMountId) bad.push(`mount id ${m.id} not below the next id`)
    // Every mount point lives on a file system mounted before it (no mount of a removed mount point).
    if (m.on !== '/' && !k.mounts.slice(0, i).some((o) => pathWithin(m.on, o.on))) bad.push(`mount ${m.on} has no file system beneath it`)
    if (m.fstype === 'zfs' && !k.datasets.some((d) => d.name === m.dataset)) bad.push(`mount ${m.on}: dataset ${m.dataset} does not exist`)
    if (m.fstype === 'nullfs' && m.lower === undefined) bad.push(`nullfs mount ${m.on} has no lower directory`)
  })
  const zfsMounts = k.mounts.filter((m) => m.fstype === 'zfs').map((m) => m.dataset)
  if (new Set(zfsMounts).size !== zfsMounts.length) bad.push('a dataset is mounted twice')
  const names = new Set<string>()
  for (const d of k.datasets) {
    if (names.has(d.name)) bad.push(`dataset ${d.name} exists twice`)
    names.add(d.name)
    const parent = d.name.includes('@') ? d.name.split('@')[0] : d.name.includes('/') ? d.name.slice(0, d.name.lastIndexOf('/')) : undefined
    if (parent !== undefined && !k.datasets.some((p) => p.name === parent)) bad.push(`dataset ${d.name} has no parent`)
    if (d.origin !== undefined && !k.datasets.some((o) => o.name === d.origin)) bad.push(`clone ${d.name} lost its origin ${d.origin}`)
  }
  bad.push(...ifnetInvariants(k))
  // Processes live in live jails, SysV objects in live namespaces (kernel/procs.ts).
  bad.push(...procInvariants(k))
  // RCTL: no rule while RACCT is off (every rctl syscall is ENOSYS then); each rule hangs on a
  // prison_racct of its name (rctl_rule_add holds it), listed once.
  if (!k.racct.enabled && (k.racct.rules.length > 0 || k.racct.raccts.length > 0)) bad.push('rctl rules or prison_raccts while kern.racct.enable is 0')
  if (new Set(k.racct.raccts).size !== k.racct.raccts.length) bad.push('a prison_racct is listed twice')
  for (const r of k.racct.rules) if (!k.racct.raccts.includes(r.id)) bad.push(`rctl rule for jail:${r.id} without its prison_racct`)
  // cpuset: a jail's CPUs are some of its parent's (cpuset_modify), never none.
  for (const j of k.jails) {
    if (j.cpuMask === undefined || (j.parent !== 0 && !k.jails.some((p) => p.jid === j.parent))) continue
    const parent = jailMask(k, j.parent)
    if (j.cpuMask.length === 0 || j.cpuMask.some((c) => !parent.includes(c))) bad.push(`${j.name}: cpuset mask ${j.cpuMask.join(',')} is empty or outside its parent's`)
  }
  return bad
}
