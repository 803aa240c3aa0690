// A guest fixture's disks built into the model: each disk a SimDisk (kernel/disks.ts), the
// files of each dataset and UFS file system written as a tree in the tree store
// (`<sim root>/snapshots/<content id>`), where ZfsFs finds them when something mounts them.
import {chmodSync, lchownSync, linkSync, mkdirSync, symlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {type GuestDataset, type GuestPool, newDisk, type SimDisk} from '../kernel/disks.js'
import type {Kernel} from '../kernel/state.js'
import {newContentId} from '../kernel/zfs.js'
import {simPaths} from '../store.js'
import type {FixtureDisk, FixtureFile, FixturePool} from './format.js'

/** Write a declared tree under a real directory (inside the sim root's tree store). */
export function writeTree(dir: string, files: FixtureFile[]): void {
  mkdirSync(dir, {recursive: true})
  for (const f of files) {
    const rel = path.posix.normalize(f.path).replace(/^\/+/, '')
    if (rel === '' || rel.startsWith('..')) throw new Error(`fixture path ${f.path}: not inside the file system`)
    const real = path.join(dir, rel)
    mkdirSync(path.dirname(real), {recursive: true})
    const type = f.type ?? 'file'
    if (type === 'dir') {
      mkdirSync(real, {recursive: true})
      chmodSync(real, Number.parseInt(f.mode ?? '0755', 8))
    } else if (type === 'symlink') {
      symlinkSync(f.target ?? '', real)
    } else if (type === 'hardlink') {
      linkSync(path.join(dir, (f.target ?? '').replace(/^\/+/, '')), real)
    } else {
      writeFileSync(real, f.text ?? '')
      chmodSync(real, Number.parseInt(f.mode ?? '0644', 8))
    }
    // The declared owner (the simulator runs as root, as CI does; elsewhere owners stay the runner's).
    if ((f.uid !== undefined || f.gid !== undefined) && type !== 'hardlink') {
      try {
        lchownSync(real, f.uid ?? 0, f.gid ?? 0)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EPERM') throw error
      }
    }
  }
}

function buildPool(k: Kernel, root: string, p: FixturePool): GuestPool {
  const tree = (files: FixtureFile[]): string => {
    const id = newContentId(k)
    writeTree(path.join(simPaths(root).snapshots, id), files)
    return id
  }
  const datasets: GuestDataset[] = p.datasets.map((d) => {
    const content = tree(d.files ?? [])
    return {
      name: d.name, type: 'filesystem', props: {...d.props}, content,
      snapshots: (d.snapshots ?? []).map((s) => ({name: s, content: tree(d.files ?? [])})),
    }
  })
  return {
    name: p.name, guid: p.guid, hostid: p.hostid, hostname: p.hostname, state: p.state ?? 'ACTIVE', txg: p.txg, timestamp: p.timestamp,
    features: p.features.map((f) => ({...f})), ...(p.bootfs === undefined ? {} : {bootfs: p.bootfs}), datasets,
  }
}

/** One fixture disk as a new disk of the model. */
export function buildDisk(k: Kernel, root: string, d: FixtureDisk): SimDisk {
  const disk = newDisk(k, d.sectors)
  if (d.gpt) disk.gpt = {...d.gpt}
  disk.parts = d.parts.map((p) => {
    const out: SimDisk['parts'][number] = {index: p.index, type: p.type, start: p.start, size: p.size, ...(p.label === undefined ? {} : {label: p.label})}
    if (p.pool) out.pool = buildPool(k, root, p.pool)
    if (p.ufs) {
      const id = newContentId(k)
      writeTree(path.join(simPaths(root).snapshots, id), p.ufs.files)
      const flags = Object.fromEntries(p.ufs.files.filter((f) => f.flags).map((f) => [path.posix.normalize(`/${f.path}`), f.flags as string]))
      out.ufs = {clean: p.ufs.clean, content: id, ...(Object.keys(flags).length > 0 ? {flags} : {})}
    }
    return out
  })
  return disk
}
