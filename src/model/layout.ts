// Where nest keeps things: its tree of datasets (or directories), each jail's root, dataset and
// jail.conf file. Pure names, no I/O: the model, the plans and the services all use them.

/**
 * nest's tree: `<pool>/nest` mounted on /nest; releases and jails below it. Inside a parent
 * with no delegated dataset it is a directory, /nest in the parent's own root (`dir`): its
 * children's roots are directories copied from a release the host copied in, and what nest
 * knows of each child is a file (DIR_META) instead of ZFS user properties.
 */
export interface Layout {
  /** The dataset (for a directory layout: the directory, so that "dataset" names are paths). */
  top: string
  mountpoint: string
  dir?: true
}

/** Where a parent with no delegated dataset keeps its children: a directory in its root. */
export const DIR_LAYOUT: Layout = {top: '/nest', mountpoint: '/nest', dir: true}
/** A directory child's metadata, beside its root: what the nest:* properties say of a dataset. */
export const DIR_META = 'nest.json'
export const dirMetaFile = (l: Layout, name: string): string => `${l.mountpoint}/jails/${name}/${DIR_META}`

/** Where `<pool>/nest` is mounted (nest bootstrap sets it; every jail.conf nest writes names paths below it). */
export const NEST_MOUNTPOINT = '/nest'

export const NEST_VERSION = '1'

/**
 * Where a jail is in its making (a user property of its dataset, a field of a directory child's
 * nest.json): set to `creating` with the dataset, the first thing create makes, and to `ready`
 * by its last step; a crash between the two leaves a jail that the next create recognizes as
 * half made (and undoes before it starts over). A dataset without it (`-`) is ready.
 */
export const NEST_STATE = 'nest:state'
export type NestState = 'creating' | 'ready'
export const isHalfMade = (row: {'nest:state'?: string} | undefined): boolean => row?.['nest:state'] === 'creating'
/** The first line nest writes in a jail.conf file (how a leftover file is known to be nest's). */
export const confHeader = (jail: string): string => `# Written by nest for ${jail} `
export const RELEASE_SNAPSHOT = 'base'
export const CONF_DIR = '/etc/jail.conf.d'

export const releaseDataset = (l: Layout, release: string): string => `${l.top}/releases/${release}`
export const releaseSnapshot = (l: Layout, release: string): string => `${releaseDataset(l, release)}@${RELEASE_SNAPSHOT}`
export const releasePath = (l: Layout, release: string): string => `${l.mountpoint}/releases/${release}`
export const jailDataset = (l: Layout, name: string): string => `${l.top}/jails/${name}`
export const rootDataset = (l: Layout, name: string): string => `${jailDataset(l, name)}/root`
export const dataDataset = (l: Layout, name: string): string => `${jailDataset(l, name)}/data`
export const jailRoot = (l: Layout, name: string): string => `${l.mountpoint}/jails/${name}/root`
export const confFile = (name: string): string => `${CONF_DIR}/${name}.conf`
/** Where a delegated dataset appears inside its jail. */
export const DATA_MOUNTPOINT = '/data'

