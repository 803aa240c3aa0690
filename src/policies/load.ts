// Finding and reading policies: presets from the installation's policies/, user files from
// /usr/local/etc/nest/policies/ on the host (a user file of the same name wins).
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'

import {errAsync, okAsync, type ResultAsync} from 'neverthrow'

import {invalidInput, type NestError, notFound} from '../domain/errors.js'
import type {Host} from '../host/host.js'
import {parsePolicy, type Policy, POLICY_NAME} from './policy.js'

export const USER_POLICY_DIR = '/usr/local/etc/nest/policies'

function installRoot(): string {
  for (let dir = import.meta.dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir
  }
  return path.resolve(import.meta.dirname, '../..')
}
export const PRESET_DIR = path.join(installRoot(), 'policies')

const presetNames = (): string[] =>
  readdirSync(PRESET_DIR).filter((f) => f.endsWith('.conf')).map((f) => f.slice(0, -'.conf'.length)).sort()

export interface PolicyEntry {
  name: string
  file: string
  origin: 'preset' | 'user'
}

export function listPolicyFiles(host: Host): ResultAsync<PolicyEntry[], NestError> {
  return host.files.list(USER_POLICY_DIR).map((userFiles) => {
    const users = userFiles.filter((f) => f.endsWith('.conf')).map((f) => f.slice(0, -5)).filter((n) => POLICY_NAME.test(n))
    const byName = new Map<string, PolicyEntry>()
    for (const n of presetNames()) byName.set(n, {name: n, file: path.join(PRESET_DIR, `${n}.conf`), origin: 'preset'})
    for (const n of users) byName.set(n, {name: n, file: `${USER_POLICY_DIR}/${n}.conf`, origin: 'user'})
    return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name))
  })
}

export function loadPolicy(host: Host, name: string): ResultAsync<Policy, NestError> {
  if (!POLICY_NAME.test(name)) {
    return errAsync(invalidInput(`invalid policy name ${JSON.stringify(name)}`, 'use lowercase letters, digits, "_" and "-"'))
  }
  return listPolicyFiles(host).andThen((all) => {
    const entry = all.find((e) => e.name === name)
    if (!entry) return errAsync(notFound(`policy ${name}: not found`, `see nest policy list, or add ${USER_POLICY_DIR}/${name}.conf`))
    return readPolicy(host, entry)
  })
}

export function readPolicy(host: Host, e: PolicyEntry): ResultAsync<Policy, NestError> {
  const text = e.origin === 'preset' ? okAsync<string | null, NestError>(readFileSync(e.file, 'utf8')) : host.files.read(e.file)
  return text.andThen((t) => {
    if (t === null) return errAsync(notFound(`policy ${e.name}: ${e.file} is gone`))
    const p = parsePolicy(e.name, e.file, t, e.origin)
    return p.isOk() ? okAsync(p.value) : errAsync(p.error)
  })
}
