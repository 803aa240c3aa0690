// The guest's /etc/fstab made into a jail's (migration.md §4.2). fstab(5): one file system a
// line, fields separated by blanks (device, mount point, type, options, dump, pass), `#` starts
// a comment. rc never mounts /etc/fstab in a jail (rc.d/mountcritlocal, which runs `mount -a`,
// and rc.d/swap are KEYWORD: nojail shutdown), but `mount -a` run inside would: the guest's
// disks do not exist there, so their lines are commented out (the original kept after
// `# nest: `). procfs and fdescfs become the
// jail parameters mount.procfs / mount.fdescfs (jail(8) mounts them from outside). What a jail
// can mount itself (a VFCF_JAIL file system: the caller passes jailconf/params.ts JAIL_MOUNT_FS,
// which src/domain may not import) stays, with the
// allow.mount.* it needs; jail(8): allow.mount works only with enforce_statfs below 2.
import {ok, type Result} from 'neverthrow'

import {type NestError} from '../errors.js'

import {guestText, type GuestEdit, type GuestNote} from './text.js'

export const FSTAB = '/etc/fstab'

/** The prefix of a line nest commented out. */
export const FSTAB_COMMENT = '# nest: '

export interface AdaptedFstab {
  text: string
  /** One 'remove' edit per line commented out (key: the mount point, from: the line). */
  edits: GuestEdit[]
  /** Jail parameters that replace a dropped line: mount.procfs, mount.fdescfs. */
  params: string[]
  /** allow.* the kept lines need (allow.mount, allow.mount.<fs>), once each. */
  allow: string[]
  notes: GuestNote[]
}

// Disk devices of a bhyve guest (vtbd: virtio-blk, ada: ahci-hd, nda/nvd: nvme, cd: ahci-cd)
// and the GEOM labels over them.
const GUEST_DISK = /^\/dev\/(gpt|gptid|ufs|ufsid|label|diskid|msdosfs|iso9660)\/|^\/dev\/(vtbd|ada|nda|nvd|da|cd|md|mmcsd)[0-9]/

/** Why a line cannot stay in a jail's fstab, or null when it can. */
function dropReason(device: string, mountpoint: string, type: string, options: string, mountable: readonly string[]): string | null {
  if (type === 'swap' || options.split(',').includes('sw')) return 'swap: a jail has no swap of its own (rc.d/swap is KEYWORD: nojail shutdown)'
  if (mountpoint === '/') return "the root: the jail's root is its path on the host, mounted before it starts"
  if (type === 'procfs') return 'procfs: set mount.procfs on the jail, which jail(8) mounts from the host'
  if (type === 'fdescfs') return 'fdescfs: set mount.fdescfs on the jail, which jail(8) mounts from the host'
  if (GUEST_DISK.test(device)) return `${device} is a disk of the VM, which does not exist in the jail`
  if (!mountable.includes(type)) return `${type} cannot be mounted inside a jail (not a VFCF_JAIL file system)`
  return null
}

export interface AdaptFstabOptions {
  /** The file systems a jail may mount itself (jailconf/params.ts JAIL_MOUNT_FS). */
  mountable: readonly string[]
}

/** The guest's fstab with what a jail cannot mount commented out. */
export function adaptFstab(data: Uint8Array | string, opts: AdaptFstabOptions): Result<AdaptedFstab, NestError> {
  return guestText(data, FSTAB).andThen((text) => {
    const edits: GuestEdit[] = []
    const params = new Set<string>()
    const allow = new Set<string>()
    const notes: GuestNote[] = []
    const lines = text.split('\n').map((line, i) => {
      const body = line.replace(/#.*$/, '').trim()
      if (body === '') return line
      const f = body.split(/[ \t]+/)
      const [device = '', mountpoint = '', type = '', options = ''] = f
      if (f.length < 3) {
        notes.push({level: 'warning', file: FSTAB, key: `line ${i + 1}`, text: `line ${i + 1} is not a device, mount point and type: left as it is (${line.slice(0, 60)})`})
        return line
      }
      const reason = dropReason(device, mountpoint, type, options, opts.mountable)
      if (reason === null) {
        allow.add('allow.mount')
        allow.add(`allow.mount.${type}`)
        return line
      }
      if (type === 'procfs') params.add('mount.procfs')
      if (type === 'fdescfs') params.add('mount.fdescfs')
      edits.push({file: FSTAB, key: mountpoint, action: 'remove', from: line, why: reason})
      return `${FSTAB_COMMENT}${line}`
    })
    if (allow.size > 0) {
      const fs = [...allow].filter((a) => a !== 'allow.mount').map((a) => a.slice('allow.mount.'.length)).join(', ')
      notes.push({level: 'note', file: FSTAB, text: `kept ${fs} lines: rc does not mount /etc/fstab in a jail (rc.d/mountcritlocal is KEYWORD: nojail shutdown), so they are mounted only by mount -a inside, which needs ${[...allow].join(', ')} and enforce_statfs below 2 (jail(8)), or from the host through the jail's mount.fstab`})
    }
    return ok({text: lines.join('\n'), edits, params: [...params], allow: [...allow], notes})
  })
}
