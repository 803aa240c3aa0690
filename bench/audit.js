#!/usr/bin/env node
// What `nest audit` costs as a tree grows (`npm run bench:audit`; not part of `npm test`). For
// trees of one vm-parent with N children (BENCH_AUDIT_SIZES, default 2,8,16), built side by
// side on fresh simulated hosts, one run prints per size: the processes the audit started (the
// top-level nest plus one per simulated tool call, from the simulated host's invocation log),
// its tool calls by tool, and its wall time (median of BENCH_RUNS runs, default 5), with the
// ratio of each to the smallest tree. The audit's own calls should not grow with N: one jls,
// one mount -p, one zfs get per pool, one sysctl, one ps, one procstat (of every jailed
// process at once), one ipcs, and per devfs ruleset in use; rctl -u per jail only with racct on.
import {spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {initSim} from '../dist/src/sim/control.js'

const REPO = path.resolve(import.meta.dirname, '..')
const BIN = path.join(REPO, 'bin', 'run.js')
const SIZES = (process.env.BENCH_AUDIT_SIZES ?? '2,8,16').split(',').map(Number)
const RUNS = Number(process.env.BENCH_RUNS ?? 5)

const env = (root) => ({...process.env, NEST_SIM_ROOT: root, NEST_HOST: 'sim', NEST_SIM_QUIET: '1'})

/** Run nest; resolves with its exit code and wall time (ms); rejects on a code not in `codes`. */
const nest = (root, args, codes = [0]) => new Promise((resolve, reject) => {
  const t0 = performance.now()
  const c = spawn(process.execPath, [BIN, ...args], {env: env(root), stdio: ['ignore', 'ignore', 'pipe']})
  let err = ''
  c.stderr.on('data', (d) => (err += d))
  c.on('close', (code) => (codes.includes(code) ? resolve({code, ms: performance.now() - t0}) : reject(new Error(`nest ${args.join(' ')}: exit ${code}\n${err}`))))
})

async function tree(n) {
  const root = mkdtempSync(path.join(tmpdir(), `nest-bench-audit-${n}-`))
  await initSim(root)
  await nest(root, ['bootstrap', '14.3-RELEASE'])
  await nest(root, ['create', 'p', '--policy', 'vm-parent'])
  for (let i = 0; i < n; i++) await nest(root, ['create', `p/c${i}`])
  return root
}

function calls(root) {
  const byTool = {}
  let tools = 0
  for (const line of readFileSync(path.join(root, 'invocations.jsonl'), 'utf8').split('\n').filter(Boolean)) {
    const l = JSON.parse(line)
    if (l.tool === undefined) continue
    tools++
    byTool[l.tool] = (byTool[l.tool] ?? 0) + 1
  }
  return {processes: 1 + tools, byTool}
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

const rows = []
for (const n of SIZES) {
  process.stderr.write(`building p with ${n} children...\n`)
  const root = await tree(n)
  try {
    const log = path.join(root, 'invocations.jsonl')
    writeFileSync(log, '')
    await nest(root, ['audit', 'p', '--json', '--fail-on', 'high'], [0, 9])
    const c = calls(root)
    const times = []
    for (let i = 0; i < RUNS; i++) times.push((await nest(root, ['audit', 'p', '--json'], [0, 9])).ms)
    rows.push({jails: n + 1, ...c, ms: median(times)})
  } finally {
    rmSync(root, {recursive: true, force: true})
  }
}
const base = rows[0]
console.log(`nest audit p --json on a vm-parent with N children: processes started, tool calls by tool, median wall of ${RUNS} runs; ratios to the smallest tree`)
for (const r of rows) {
  const tools = Object.entries(r.byTool).sort().map(([t, k]) => `${t} ${k}`).join(', ')
  console.log(`${String(r.jails).padStart(3)} jails: ${String(r.processes).padStart(3)} processes (x${(r.processes / base.processes).toFixed(2)}), ${(r.ms / 1000).toFixed(2)} s (x${(r.ms / base.ms).toFixed(2)}); ${tools}`)
}
