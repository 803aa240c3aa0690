// mount(8) and umount(8): the mount table in one `mount -p` call; unmounting one path.
import type {ResultAsync} from 'neverthrow'

import type {ExecResult, HostError} from '../exec.js'
import type {Host} from '../host.js'
import {type MountTable, parseMountP} from '../parse.js'

/** The mount table; a line that cannot be read is in `unreadable` (said, not fatal for the rest). */
export function listMounts(host: Host): ResultAsync<MountTable, HostError> {
  return host.run(['mount', '-p']).map((r) => parseMountP(r.stdout))
}

/** `umount [-f] path`: the result carries the exit code and stderr (the reason a mount stays). */
export function unmount(host: Host, on: string, force: boolean): ResultAsync<ExecResult, HostError> {
  return host.run(['umount', ...(force ? ['-f'] : []), on], {allowFailure: true})
}

/** Is `p` strictly below `root`, by path component (`/j/web2` is not below `/j/web`)? */
export const isBelow = (p: string, root: string): boolean => p.startsWith(root.endsWith('/') ? root : `${root}/`)
