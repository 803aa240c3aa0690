// File flags (chflags(1): schg, sappnd, uarch, nodump, ...) of the simulated host's files: the
// Linux tree under <sim root>/fs has none, so the model keeps them in one record,
// <sim root>/fflags.json, global path → the flags as `ls -lo` and bsdtar's --fflags name them
// (`schg,uarch`). Only tar(1) reads and writes it (tools/tar.ts): flags travel with a tar copy,
// not with a zfs stream, a snapshot or a rename (a documented limit of the model).
import {readFileSync} from 'node:fs'
import path from 'node:path'

import {writeFileAtomic} from './store.js'

export type Fflags = Record<string, string>

const fileOf = (root: string): string => path.join(root, 'fflags.json')

export function loadFflags(root: string): Fflags {
  try {
    return JSON.parse(readFileSync(fileOf(root), 'utf8')) as Fflags
  } catch {
    return {}
  }
}

/** Save under the simulator's lock (store.ts withLock), as every change to its state is. */
export async function saveFflags(root: string, flags: Fflags): Promise<void> {
  writeFileAtomic(fileOf(root), `${JSON.stringify(flags, null, 1)}\n`)
}
