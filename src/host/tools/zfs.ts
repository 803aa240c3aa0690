// zfs(8) and zpool(8): nest's datasets in one `zfs list -H -p` call, scoped to nest's tree.
import {errAsync, okAsync, type ResultAsync} from 'neverthrow'

import type {HostError} from '../exec.js'
import type {Host} from '../host.js'
import {parseZfsColumns} from '../parse.js'
import {parsed} from './common.js'

export const DATASET_COLUMNS = ['name', 'type', 'mountpoint', 'mounted', 'jailed', 'origin', 'nest:name', 'nest:policy', 'nest:release', 'nest:delegate', 'nest:version', 'nest:state', 'nest:net', 'nest:conf', 'nest:root'] as const
export type DatasetRow = Record<(typeof DATASET_COLUMNS)[number], string>

/** Every dataset and snapshot under `top` (none when `top` does not exist). */
export function listDatasets(host: Host, top: string): ResultAsync<DatasetRow[], HostError> {
  return host.run(['zfs', 'list', '-H', '-p', '-r', '-t', 'filesystem,snapshot', '-o', DATASET_COLUMNS.join(','), top])
    .andThen((r) => parsed(r, parseZfsColumns(r.stdout, DATASET_COLUMNS)).map((rows) => rows as DatasetRow[]))
    .orElse((e) => (/dataset does not exist/.test(e.stderr) ? okAsync([]) : errAsync(e)))
}

/** Top-level datasets of every pool with nest's marker (where nest keeps its tree). */
export function findNestRoots(host: Host): ResultAsync<Array<{name: string; version: string; mountpoint: string}>, HostError> {
  const cols = ['name', 'nest:version', 'mountpoint']
  return host.run(['zfs', 'list', '-H', '-o', cols.join(','), '-d', '1']).andThen((r) =>
    parsed(r, parseZfsColumns(r.stdout, cols)).map((rows) =>
      rows.filter((x) => x['nest:version'] !== '-' && x['name']?.split('/').length === 2)
        .map((x) => ({name: x['name'] as string, version: x['nest:version'] as string, mountpoint: x['mountpoint'] as string}))))
}

export function listPools(host: Host): ResultAsync<string[], HostError> {
  return host.run(['zpool', 'list', '-H', '-o', 'name']).map((r) => r.stdout.split('\n').filter((l) => l !== ''))
}
