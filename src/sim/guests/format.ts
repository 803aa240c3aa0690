// The declarative format of a guest fixture (a vm-bhyve guest with its disks), plain JSON data:
// see src/sim/guests/README.md. `nest sim vm add NAME --disk FIXTURE` reads one (by name from
// the shipped set, guests.ts, or a JSON file) and builds its disks in the model (build.ts).
import type {GuestFeature} from '../kernel/disks.js'

/** One file system entry; parents are made as directories (0755) when not declared. */
export interface FixtureFile {
  /** Absolute inside the file system (`/etc/rc.conf`). */
  path: string
  /** `file` (default), `dir`, `symlink` (target: the link's text) or `hardlink` (target: another declared path). */
  type?: 'file' | 'dir' | 'symlink' | 'hardlink'
  text?: string
  /** Octal mode, `0644` (files) / `0755` (directories) when absent. */
  mode?: string
  /** Owner, group and file flags (chflags, `schg`), as the guest has them: declared only, see README. */
  uid?: number
  gid?: number
  flags?: string
  target?: string
}

export interface FixtureDataset {
  /** Relative to the pool: '' is the pool's root dataset. */
  name: string
  /** Local properties (canonical names), as the guest's installer set them. */
  props?: Record<string, string>
  files?: FixtureFile[]
  /** Snapshots taken after the files were written (names after `@`). */
  snapshots?: string[]
}

export interface FixturePool {
  name: string
  guid: string
  hostid: number
  hostname: string
  state?: 'ACTIVE' | 'EXPORTED'
  txg: number
  /** Seconds since the epoch of the last label write. */
  timestamp: number
  features: GuestFeature[]
  bootfs?: string
  datasets: FixtureDataset[]
}

export interface FixturePartition {
  index: number
  type: string
  start: number
  size: number
  label?: string
  pool?: FixturePool
  ufs?: {clean: boolean; files: FixtureFile[]}
}

export interface FixtureDisk {
  /** The vm-bhyve disk name (`disk0`, or `disk0.img` for a file disk). */
  name: string
  sectors: number
  gpt?: {first: number; last: number}
  parts: FixturePartition[]
}

export interface GuestFixture {
  name: string
  description: string
  /** The guest's default NAME.conf (vm-bhyve; `--conf` replaces it). */
  conf: string
  disks: FixtureDisk[]
}
