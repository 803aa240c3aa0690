#!/usr/bin/env node
// The tree benchmark: on a fresh simulated host, build 3 parents x 10 children x 2 grandchildren
// (93 jails), then with a fixed tool latency (NEST_SIM_LATENCY, default jail=200,zfs=20) time
// `nest start --all` and `nest stop --all` at --parallel 1 and at the default, and count the
// tool calls of one `nest list` in the simulated host's invocation log. Prints a table.
import {spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {initSim} from '../dist/src/sim/control.js'
import {DEFAULT_PARALLEL} from '../dist/src/services/scene.js'

const PARENTS = Number(process.env.BENCH_PARENTS ?? 3)
const CHILDREN = Number(process.env.BENCH_CHILDREN ?? 10)
const GRAND = Number(process.env.BENCH_GRANDCHILDREN ?? 2)
const LATENCY = process.env.NEST_SIM_LATENCY || 'jail=200,zfs=20'
const BUILD_PARALLEL = 6
const BIN = path.resolve(import.meta.dirname, '..', 'bin', 'run.js')

const root = mkdtempSync(path.join(tmpdir(), 'nest-bench-tree-'))
await initSim(root)
const log = path.join(root, 'invocations.jsonl')

const nest = (args, latency = '') => new Promise((resolve, reject) => {
  const c = spawn(process.execPath, [BIN, ...args], {env: {...process.env, NEST_SIM_ROOT: root, NEST_HOST: 'sim', NEST_SIM_QUIET: '1', NEST_SIM_LATENCY: latency}, stdio: ['ignore', 'ignore', 'pipe']})
  let err = ''
  c.stderr.on('data', (d) => (err += d))
  c.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`nest ${args.join(' ')}: exit ${code}\n${err}`))))
})

/** Run jobs, `n` at a time. */
async function pool(jobs, n) {
  let next = 0
  await Promise.all(Array.from({length: n}, async () => {
    while (next < jobs.length) await jobs[next++]()
  }))
}

const wall = async (fn) => {
  const t = performance.now()
  await fn()
  return (performance.now() - t) / 1000
}

try {
  const parents = Array.from({length: PARENTS}, (_, i) => `p${i + 1}`)
  const children = parents.flatMap((p) => Array.from({length: CHILDREN}, (_, i) => `${p}/c${i + 1}`))
  const grand = children.flatMap((c) => Array.from({length: GRAND}, (_, i) => `${c}/g${i + 1}`))
  const total = parents.length + children.length + grand.length
  process.stderr.write(`building ${total} jails (no added latency)...\n`)
  const built = await wall(async () => {
    await nest(['bootstrap', '14.3-RELEASE'])
    await pool(parents.map((p) => () => nest(['create', p, '--children-max', String(CHILDREN * (GRAND + 1) + 1)])), BUILD_PARALLEL)
    // One parent's children one after the other (nest holds the parent's lock while it creates one).
    const under = (kids, parentOf) => [...new Set(kids.map(parentOf))].map((p) => async () => {
      for (const k of kids.filter((x) => parentOf(x) === p)) await nest(['create', k, ...(k.split('/').length === 2 ? ['--children-max', String(GRAND + 1)] : ['--policy', 'leaf'])])
    })
    const parentOf = (k) => k.slice(0, k.lastIndexOf('/'))
    await pool(under(children, parentOf), BUILD_PARALLEL)
    await pool(under(grand, parentOf), BUILD_PARALLEL)
  })
  process.stderr.write(`built in ${built.toFixed(1)} s; timing with NEST_SIM_LATENCY=${LATENCY}\n`)

  const rows = []
  for (const parallel of [1, DEFAULT_PARALLEL]) {
    const stop = await wall(() => nest(['stop', '--all', '--parallel', String(parallel)], LATENCY))
    const start = await wall(() => nest(['start', '--all', '--parallel', String(parallel)], LATENCY))
    rows.push({parallel, start, stop})
  }
  const before = readFileSync(log, 'utf8').split('\n').filter(Boolean).length
  await nest(['list'], LATENCY)
  const calls = readFileSync(log, 'utf8').split('\n').filter(Boolean).slice(before).map((l) => JSON.parse(l))
  const jailMs = Number(/(?:^|,)jail=(\d+)/.exec(LATENCY)?.[1] ?? 0)
  const ideal = 3 * jailMs / 1000

  const seq = rows[0]
  const par = rows[1]
  console.log(`tree: ${PARENTS} parents x ${CHILDREN} children x ${GRAND} grandchildren = ${total} jails, 3 levels; NEST_SIM_LATENCY=${LATENCY}`)
  console.log('')
  console.log('operation         --parallel 1   --parallel ' + String(DEFAULT_PARALLEL).padEnd(3) + '   ratio   ideal (levels x jail latency)')
  for (const [label, key] of [['nest start --all', 'start'], ['nest stop --all', 'stop']]) {
    console.log(`${label.padEnd(17)} ${`${seq[key].toFixed(1)} s`.padStart(12)}   ${`${par[key].toFixed(1)} s`.padStart(14)}   ${(seq[key] / par[key]).toFixed(2).padStart(5)}   ${ideal.toFixed(1)} s`)
  }
  console.log('')
  console.log(`nest list: ${calls.length} tool call(s): ${calls.map((c) => [c.tool, ...(c.argv ?? c.args ?? [])].slice(0, 3).join(' ')).join('; ')}`)
} catch (e) {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`)
  process.exitCode = 1
} finally {
  // A nest still running after a failure may still write there: do not let that hide the failure.
  try {
    rmSync(root, {recursive: true, force: true, maxRetries: 5})
  } catch (e) {
    process.stderr.write(`bench: could not remove ${root}: ${e instanceof Error ? e.message : String(e)}\n`)
  }
}
