// nest policy list | show NAME | check FILE.
import {readFile, stat} from 'node:fs/promises'
import path from 'node:path'

import {errAsync, okAsync, ResultAsync} from 'neverthrow'

import type {CommandCtx} from '../context/command.js'
import {invalidInput, type NestError, notFound, preflight} from '../domain/errors.js'
import type {Host} from '../host/host.js'
import {readDevfsRulesets} from '../host/tools/devfs.js'
import {devfsNeeds, devfsProblem, policyRuleset} from '../policies/devfs.js'
import {listPolicyFiles, loadPolicy, readPolicy} from '../policies/load.js'
import {parsePolicy, type Policy, policyProblems} from '../policies/policy.js'
import type {PolicyListResult, PolicyShowResult} from '../render/policy.js'
import {hostFor} from './world.js'

export function listPolicies(ctx: CommandCtx): ResultAsync<PolicyListResult, NestError> {
  const host = hostFor(ctx)
  return listPolicyFiles(host).andThen((entries) =>
    ResultAsync.combine(entries.map((e) => readPolicy(host, e).map((p) => ({name: e.name, origin: e.origin, file: e.file, description: p.description, error: null}))
      .orElse((err) => okAsync({name: e.name, origin: e.origin, file: e.file, description: '', error: err.message})))))
    .map((policies) => ({policies}))
}

export function showPolicy(ctx: CommandCtx, name: string): ResultAsync<PolicyShowResult, NestError> {
  return loadPolicy(hostFor(ctx), name).map((p) => ({...p, problems: policyProblems(p)}))
}

/** The largest policy file nest reads (a policy is a few lines). */
const POLICY_MAX = 1024 * 1024

/** A policy file on this machine: a regular file, read whole; what else is there is said. */
export function readPolicyFile(full: string): ResultAsync<string, NestError> {
  const fix = 'give the path of a policy file (name = value; lines, as in jail.conf), e.g. policies/parent.conf'
  return ResultAsync.fromPromise(stat(full), (e) => ((e as NodeJS.ErrnoException).code === 'ENOENT' ? notFound(`${full}: no such file`, fix) : invalidInput(`${full}: cannot read it: ${(e as Error).message}`, fix)))
    .andThen((st) => {
      if (st.isDirectory()) return errAsync(invalidInput(`${full} is a directory, not a policy file`, fix))
      if (!st.isFile()) return errAsync(invalidInput(`${full} is not a regular file`, fix))
      if (st.size > POLICY_MAX) return errAsync(invalidInput(`${full} is ${st.size} bytes, more than a policy can be (${POLICY_MAX})`, fix))
      return ResultAsync.fromPromise(readFile(full, 'utf8'), (e) => invalidInput(`${full}: cannot read it: ${(e as Error).message}`, fix))
    })
}

export function checkPolicyFile(_ctx: CommandCtx, file: string): ResultAsync<PolicyShowResult, NestError> {
  const full = path.resolve(file)
  const name = path.basename(full).replace(/\.conf$/, '')
  return readPolicyFile(full).andThen((text) => {
    const p = parsePolicy(name, full, text, 'file')
    if (p.isErr()) return errAsync(p.error)
    const problems = policyProblems(p.value)
    if (problems.length > 0) return errAsync(preflight(`policy ${full}: ${problems[0]}`, problems.slice(1).join('; ') || undefined))
    return okAsync({...p.value, problems})
  })
}

/**
 * The host's devfs rulesets against a policy, before anything changes: the policy's ruleset,
 * read from the kernel (`devfs rule -s N show`, with the included rulesets that could change
 * the verdict), must have rules and, for a delegated dataset, show /dev/zfs. Only the host
 * can read them (a jail's rule ioctls are EPERM), and a jail's children get its own ruleset
 * anyway (kern_jail.c), so inside a jail nothing is read.
 */
export function checkHostDevfs(host: Host, path: string, policy: Policy, jailed: boolean): ResultAsync<void, NestError> {
  const rs = policyRuleset(policy)
  if (jailed || rs === 0) return okAsync(undefined)
  // Only what can change the verdict on /dev/zfs is read: for ruleset 4, ruleset 4 alone.
  const more = (r: Parameters<typeof devfsNeeds>[0]): number[] => ((r.sets.get(rs) ?? []).length > 0 && policy.delegate ? devfsNeeds(r, rs, 'zfs') : [])
  return readDevfsRulesets(host, rs, more).andThen((sets) => {
    const problem = devfsProblem(policy, sets)
    return problem === null ? okAsync(undefined) : errAsync(preflight(`${path}: policy ${policy.name}: ${problem.message}`, problem.fix))
  })
}
