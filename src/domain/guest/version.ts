// The guest's userland version and whether the host's kernel can run it (migration.md §4.1).
//
// /bin/freebsd-version is a shell script whose version is a literal line: the release build
// turns bin/freebsd-version/freebsd-version.sh.in's `USERLAND_VERSION="@@REVISION@@-@@BRANCH@@"`
// into `USERLAND_VERSION="14.2-RELEASE-p1"` with sed, REVISION and BRANCH coming from
// sys/conf/newvers.sh (bin/freebsd-version/Makefile: `eval $(sh ${NEWVERS} -v); sed -e
// "s/@@REVISION@@/${REVISION}/g; s/@@BRANCH@@/${BRANCH}/g"`). nest reads that line as data and
// never runs the script. REVISION is MAJOR.MINOR; BRANCH is CURRENT, STABLE, PRERELEASE,
// ALPHAn, BETAn, RCn, RELEASE or RELEASE-pN (newvers.sh sets one of them per branch; the list
// is the release engineering convention, not read from one source text: unconfirmed).
//
// A jail runs the host's kernel. poudriere's check (src/share/poudriere/common.sh,
// buildlog_start) is `if [ ${JAIL_OSVERSION} -gt ${HOST_OSVERSION} ]`, i.e. __FreeBSD_version
// (osreldate), with "!!! Jail is newer than host. (Jail: J, Host: H) !!!" / "!!! This is not
// supported. !!!" / "!!! Host kernel must be same or newer than jail. !!!". freebsd-version
// gives no osreldate, so nest compares what it has: MAJOR.MINOR first, then, on the same
// MAJOR.MINOR, the branch in the order a branch goes through in time (CURRENT < ALPHA <
// PRERELEASE < BETA < RC < RELEASE < STABLE; osreldate grows along it). The patch level is
// ignored: `freebsd-version -u` and `-k` differ legitimately (a userland-only errata bumps the
// userland's -pN and leaves the kernel's, freebsd-version.1), so 14.2-RELEASE-p3 on a
// 14.2-RELEASE-p1 kernel is "same".
import {err, ok, type Result} from 'neverthrow'

import {invalidInput, type NestError} from '../errors.js'

import {guestText, type GuestNote} from './text.js'

export interface Release {
  major: number
  minor: number
  /** CURRENT, STABLE, PRERELEASE, ALPHA, BETA, RC, RELEASE. */
  branch: string
  /** ALPHAn, BETAn, RCn: n; otherwise 0. */
  stage: number
  /** RELEASE-pN: N; otherwise 0. */
  patch: number
  /** As written: 14.2-RELEASE-p1. */
  text: string
}

const RELEASE = /^([0-9]{1,3})\.([0-9]{1,3})-(CURRENT|STABLE|PRERELEASE|RELEASE|ALPHA|BETA|RC)([0-9]{0,3})(?:-p([0-9]{1,4}))?$/

/** A `kern.osrelease` / freebsd-version string (14.2-RELEASE-p1), or null when it is not one. */
export function parseOsRelease(text: string): Release | null {
  const m = RELEASE.exec(text)
  if (!m) return null
  const branch = m[3] as string
  const staged = ['ALPHA', 'BETA', 'RC'].includes(branch)
  // ALPHA/BETA/RC carry a number, the others none; only RELEASE takes -pN.
  if (staged !== (m[4] !== '') || (m[5] !== undefined && branch !== 'RELEASE')) return null
  return {major: Number(m[1]), minor: Number(m[2]), branch, stage: staged ? Number(m[4]) : 0, patch: m[5] === undefined ? 0 : Number(m[5]), text}
}

const LINE = /^USERLAND_VERSION="([^"]*)"[ \t]*$/

/** The guest's userland version from the text of its /bin/freebsd-version. */
export function userlandVersion(freebsdVersionScript: Uint8Array | string): Result<Release, NestError> {
  const file = '/bin/freebsd-version'
  return guestText(freebsdVersionScript, file).andThen((text) => {
    const lines = text.split('\n').filter((l) => l.startsWith('USERLAND_VERSION='))
    if (lines.length !== 1) {
      return err(invalidInput(`${file} has ${lines.length === 0 ? 'no' : 'more than one'} USERLAND_VERSION= line: it is not FreeBSD's freebsd-version script`, 'only a FreeBSD userland can become a jail; check that the guest is FreeBSD'))
    }
    const m = LINE.exec(lines[0] as string)
    const rel = m ? parseOsRelease(m[1] as string) : null
    if (rel === null) return err(invalidInput(`${file} has ${JSON.stringify((lines[0] as string).slice(0, 60))}, not a FreeBSD version like USERLAND_VERSION="14.2-RELEASE-p1"`, 'check that the guest is FreeBSD'))
    return ok(rel)
  })
}

const BRANCH_ORDER = ['CURRENT', 'ALPHA', 'PRERELEASE', 'BETA', 'RC', 'RELEASE', 'STABLE']

export type Comparison = 'older' | 'same' | 'newer'

/**
 * The guest userland against the host kernel (`sysctl -n kern.osrelease`): 'newer' is what
 * poudriere warns about (the host kernel must be the same or newer than the jail).
 */
export function compareRelease(guest: Release, host: Release): Comparison {
  const key = (r: Release): number[] => [r.major, r.minor, BRANCH_ORDER.indexOf(r.branch), r.stage]
  const g = key(guest)
  const h = key(host)
  for (let i = 0; i < g.length; i++) {
    if ((g[i] as number) > (h[i] as number)) return 'newer'
    if ((g[i] as number) < (h[i] as number)) return 'older'
  }
  return 'same'
}

/**
 * What the admin should know about the guest userland on this host's kernel: a warning when it
 * is newer (poudriere's "Host kernel must be same or newer than jail."), a note when older (the
 * jail may be created with osrelease/osreldate so that `uname -r` stays the guest's, migration.md
 * §5), nothing when the same.
 */
export function releaseNote(guest: Release, host: Release): GuestNote | null {
  const file = '/bin/freebsd-version'
  switch (compareRelease(guest, host)) {
    case 'newer':
      return {level: 'warning', file, key: 'USERLAND_VERSION', text: `the guest userland ${guest.text} is newer than the host kernel ${host.text}: a jail runs the host's kernel, which must be the same or newer than the jail's userland; upgrade the host first`}
    case 'older':
      return {level: 'note', file, key: 'USERLAND_VERSION', text: `the guest userland ${guest.text} is older than the host kernel ${host.text}: osrelease and osreldate can be set when the jail is created so that uname -r stays ${guest.text}`}
    default:
      return null
  }
}
