// The jail advisories NEST-R07 checks the host's kernel against (audit-rules.md §3 R07), as data:
// each with the releases it names and the patch level that corrects each, copied from the
// advisory's "Corrected:" lines (freebsd/freebsd-doc website/static/security/advisories/*.asc).
// A kernel on a branch the advisory lists is unpatched below that patch level; a kernel older
// than every branch it lists was affected and is past its end of life ("Affects: All supported
// versions"); a newer branch shipped with the fix. Pure.

export interface Advisory {
  id: string
  cve: string
  /** What a jail must have for the advisory to matter, in words (the rule decides per jail). */
  feature: string
  /** Release branch (`14.3`) → first corrected patch level (`8` for 14.3-RELEASE-p8). */
  fixed: Record<string, number>
  /** Whether branches older than every listed one are affected (the advisory affected all supported versions). */
  olderAffected: boolean
  source: string
}

export const ADVISORIES: readonly Advisory[] = [
  {
    id: 'FreeBSD-SA-26:02.jail',
    cve: 'CVE-2025-15547',
    feature: 'allow.mount.nullfs',
    // "Affects: FreeBSD 14.3 and 13.5"; "releng/14.3, 14.3-RELEASE-p8", "releng/13.5, 13.5-RELEASE-p9"
    fixed: {'14.3': 8, '13.5': 9},
    olderAffected: false,
    source: 'FreeBSD-SA-26:02.jail.asc, Corrected: 2026-01-27',
  },
  {
    id: 'FreeBSD-SA-26:04.jail',
    cve: 'CVE-2025-15576',
    feature: 'a nullfs directory shared by jails that are not each other\'s ancestors',
    // "Affects: FreeBSD 14.3 and 13.5."; "14.3-RELEASE-p9", "13.5-RELEASE-p10"
    fixed: {'14.3': 9, '13.5': 10},
    olderAffected: false,
    source: 'FreeBSD-SA-26:04.jail.asc, Corrected: 2026-02-24',
  },
  {
    id: 'FreeBSD-SA-26:66.jail',
    cve: 'CVE-2026-101304',
    feature: 'allow.mount.fdescfs (fdescfs nodup), or directory descriptors passed into a jail',
    // Unconfirmed: the advisory text is not in the stored freebsd-doc; the corrections are
    // those audit-rules.md §3 R07 gives (15.1-p4, 15.0-p14, 14.5-p1, 14.4-p10).
    // Older branches are not judged: without the text, which releases it affects is unknown.
    fixed: {'15.1': 4, '15.0': 14, '14.5': 1, '14.4': 10},
    olderAffected: false,
    source: 'audit-rules.md §3 NEST-R07 (advisory text unconfirmed)',
  },
  {
    id: 'FreeBSD-SA-21:10.jail_mount',
    cve: 'CVE-2020-25584',
    feature: 'allow.mount (any allow.mount.<fs>) with enforce_statfs below 2',
    // "releng/13.0, 13.0-RC5-p1" (13.0-RELEASE shipped with it), "12.2-RELEASE-p6", "11.4-RELEASE-p9"
    fixed: {'13.0': 0, '12.2': 6, '11.4': 9},
    olderAffected: true,
    source: 'FreeBSD-SA-21:10.jail_mount.asc, Corrected: 2021-04-06',
  },
  {
    id: 'FreeBSD-SA-22:04.netmap',
    cve: 'CVE-2022-23084, CVE-2022-23085',
    feature: 'netmap visible in the jail\'s devfs',
    // "releng/13.0, 13.0-RELEASE-p11", "releng/12.3, 12.3-RELEASE-p5" (13.1-RC1-p1: 13.1-RELEASE shipped with it)
    fixed: {'13.1': 0, '13.0': 11, '12.3': 5},
    olderAffected: true,
    source: 'FreeBSD-SA-22:04.netmap.asc, Corrected: 2022-04-06',
  },
  {
    id: 'FreeBSD-SA-20:07.epair',
    cve: 'CVE-2020-7452',
    feature: 'vnet with an epair(4) interface',
    // "releng/12.1, 12.1-RELEASE-p3", "releng/11.3, 11.3-RELEASE-p7"
    fixed: {'12.1': 3, '11.3': 7},
    olderAffected: true,
    source: 'FreeBSD-SA-20:07.epair.asc, Corrected: 2020-03-19',
  },
]

/** `14.3-RELEASE-p7` → {branch: '14.3', patch: 7}; a -STABLE/-CURRENT kernel is not judged. */
export function parseKernel(v: string | null): {branch: string; major: number; minor: number; patch: number} | null {
  const m = v === null ? null : /^([0-9]+)\.([0-9]+)-(RELEASE|RC[0-9]*|BETA[0-9]*)(?:-p([0-9]+))?/.exec(v.trim())
  if (!m) return null
  return {branch: `${m[1]}.${m[2]}`, major: Number(m[1]), minor: Number(m[2]), patch: m[4] === undefined ? 0 : Number(m[4])}
}

const cmp = (a: string, b: string): number => {
  const [am, an] = a.split('.').map(Number) as [number, number]
  const [bm, bn] = b.split('.').map(Number) as [number, number]
  return am - bm || an - bn
}

/** Whether a kernel version lacks an advisory's correction; null when it cannot be told. */
export function kernelUnpatched(adv: Advisory, kernel: string | null): boolean | null {
  const k = parseKernel(kernel)
  if (!k) return null
  const fix = adv.fixed[k.branch]
  if (fix !== undefined) return k.patch < fix
  const branches = Object.keys(adv.fixed).sort(cmp)
  const oldest = branches[0] as string
  if (cmp(k.branch, oldest) < 0) return adv.olderAffected
  // Between listed branches on another major (13.4 for an advisory listing 14.3 and 13.5): those were not affected.
  return false
}

/** Whether the host's kernel (facts.host.kernel) lacks the correction of the advisory named. */
export function unpatched(f: {host: {kernel: string | null}}, id: string): boolean {
  const adv = ADVISORIES.find((a) => a.id === id)
  return adv ? kernelUnpatched(adv, f.host.kernel) === true : false
}
