// jls(8): the whole running tree in one call, every parameter, dying jails too.
import type {ResultAsync} from 'neverthrow'

import type {HostError} from '../exec.js'
import type {Host} from '../host.js'
import {type JailRecord, parseJlsJson, toInt} from '../parse.js'
import {parsed} from './common.js'

/** `jls --libxo json -d -n`: one call for the whole tree (names are dotted below the viewer). */
export function listJails(host: Host): ResultAsync<JailRecord[], HostError> {
  return host.run(['jls', '--libxo', 'json', '-d', '-n']).andThen((r) => parsed(r, parseJlsJson(r.stdout)))
}

export const isDying = (j: JailRecord): boolean => j.params['dying'] === true || j.params['dying'] === 'true'

export const intParam = (j: JailRecord, name: string): number | null => toInt(j.params[name])
