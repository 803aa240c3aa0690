#!/usr/bin/env node
// The benchmark (`npm run bench`; not part of `npm test`). One run prints, measured side by side
// on this machine:
//
// 1. start-up: `node -e 0`, `nest --version`, `nest list --json` on an empty simulated host and
//    one simulated tool call (`jls`), each as a ratio to `node -e 0`: medians of BENCH_RUNS
//    runs, interleaved (bench/measure.js), with the mean CPU time beside them;
// 2. the tree (3 parents x 10 children x 2 grandchildren = 93 jails): for `nest stop --all`
//    and `nest start --all`, the processes each starts and its tool calls, from the simulated
//    host's invocation log, and the wall time at --parallel 1 and at nest's default, with a
//    fixed tool latency (NEST_SIM_LATENCY, default jail=200,zfs=20).
//
// Processes are counted as the simulated host starts them: the top-level nest, one per tool
// call (a `tool` line: every simulated tool is a Node process), and one per program the
// simulator spawned for a hook or jexec (a `program` line with `spawned`: nest, sleep). Hooks
// that the simulator interprets in-process (`sh -c` guards, `test`, `echo`, /etc/rc) start none
// here; they are counted apart. (On FreeBSD `jexec web nest` is one process, here two.)
//
// The tree is built once per build of nest (a key over dist/ and the tree's shape) and kept in
// $TMPDIR/nest-bench-cache/; each run copies it to a fresh sim root. BENCH_FRESH=1 rebuilds it.
// BENCH_ONLY=startup, tree or net runs one part; BENCH_ONLY=migrate runs bench/migrate.js (the
// migration benchmark, not part of the default run: it takes about 20 minutes). Leave dist/ alone while it runs (no
// `npm run build`): every nest and tool process it starts loads dist/ as it starts.
import {spawn} from 'node:child_process'
import {createHash} from 'node:crypto'
import {cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {initSim, writeShims} from '../dist/src/sim/control.js'
import {printSideBySide, sideBySide} from './measure.js'

const REPO = path.resolve(import.meta.dirname, '..')
const BIN = path.join(REPO, 'bin', 'run.js')
const PARENTS = Number(process.env.BENCH_PARENTS ?? 3)
const CHILDREN = Number(process.env.BENCH_CHILDREN ?? 10)
const GRAND = Number(process.env.BENCH_GRANDCHILDREN ?? 2)
const RUNS = Number(process.env.BENCH_RUNS ?? 15)
const LATENCY = process.env.NEST_SIM_LATENCY || 'jail=200,zfs=20'
const BUILD_PARALLEL = Number(process.env.BENCH_BUILD_PARALLEL ?? 3)
const ONLY = process.env.BENCH_ONLY ?? ''

const say = (text) => process.stderr.write(`${text}\n`)
const sec = (ms) => `${(ms / 1000).toFixed(1)} s`

const nestEnv = (root, latency = '') => ({...process.env, NEST_SIM_ROOT: root, NEST_HOST: 'sim', NEST_SIM_QUIET: '1', NEST_SIM_LATENCY: latency})

/** Run nest to completion; rejects with its stderr on a non-zero exit. */
const nest = (root, args, latency = '') => new Promise((resolve, reject) => {
  const c = spawn(process.execPath, [BIN, ...args], {env: nestEnv(root, latency), stdio: ['ignore', 'ignore', 'pipe']})
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

async function startup() {
  const empty = mkdtempSync(path.join(tmpdir(), 'nest-bench-empty-'))
  try {
    await initSim(empty)
    const env = nestEnv(empty)
    const rows = await sideBySide([
      {label: 'node -e 0', argv: [process.execPath, '-e', '0'], env},
      {label: 'nest --version', argv: [process.execPath, BIN, '--version'], env},
      {label: 'nest list --json (empty host)', argv: [process.execPath, BIN, 'list', '--json'], env},
      {label: 'one simulated tool call (jls)', argv: [path.join(empty, 'bin', 'jls')], env},
    ], RUNS)
    console.log(`start-up, side by side: median wall of ${RUNS} interleaved runs, ratio to node -e 0 (goals: nest <= 2.5x, a tool <= 1.3x)`)
    printSideBySide(rows)
    console.log('')
  } finally {
    rmSync(empty, {recursive: true, force: true})
  }
}

/** Every file of dist/ (its content) and the tree's shape: a tree built by other code is not reused. */
function buildKey() {
  const h = createHash('sha256')
  h.update(JSON.stringify({PARENTS, CHILDREN, GRAND}))
  const walk = (dir) => {
    for (const e of readdirSync(dir, {withFileTypes: true}).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = path.join(dir, e.name)
      if (e.isDirectory()) walk(p)
      else if (!p.endsWith('.map')) h.update(p.slice(REPO.length)).update(readFileSync(p))
    }
  }
  walk(path.join(REPO, 'dist'))
  for (const f of ['bin/run.js', 'package.json']) h.update(readFileSync(path.join(REPO, f)))
  for (const f of readdirSync(path.join(REPO, 'policies')).sort()) h.update(readFileSync(path.join(REPO, 'policies', f)))
  return h.digest('hex').slice(0, 16)
}

/** Build the tree on a fresh host at `root`: parents in parallel, then each parent's children in turn. */
async function buildTree(root) {
  await initSim(root)
  const parents = Array.from({length: PARENTS}, (_, i) => `p${i + 1}`)
  const children = parents.flatMap((p) => Array.from({length: CHILDREN}, (_, i) => `${p}/c${i + 1}`))
  const grand = children.flatMap((c) => Array.from({length: GRAND}, (_, i) => `${c}/g${i + 1}`))
  await nest(root, ['bootstrap', '14.3-RELEASE'])
  await pool(parents.map((p) => () => nest(root, ['create', p, '--children-max', String(CHILDREN * (GRAND + 1) + 1)])), BUILD_PARALLEL)
  // One parent's jails one after the other (nest holds the parent's lock while it creates one);
  // different parents in parallel, and a child's own children as soon as it exists.
  const parentOf = (k) => k.slice(0, k.lastIndexOf('/'))
  await pool(parents.map((p) => async () => {
    for (const c of children.filter((x) => parentOf(x) === p)) {
      await nest(root, ['create', c, '--children-max', String(GRAND + 1)])
      for (const g of grand.filter((x) => parentOf(x) === c)) await nest(root, ['create', g, '--policy', 'leaf'])
    }
  }), BUILD_PARALLEL)
  return parents.length + children.length + grand.length
}

/** A sim root holding the built tree: a copy of the cached one, built first when there is none. */
async function treeRoot() {
  const cache = path.join(tmpdir(), 'nest-bench-cache')
  const key = buildKey()
  const built = path.join(cache, `tree-${key}`)
  if (process.env.BENCH_FRESH === '1') rmSync(built, {recursive: true, force: true})
  if (!existsSync(path.join(built, 'kernel.json'))) {
    mkdirSync(cache, {recursive: true})
    // Older builds' trees go: only this build's is of use.
    for (const old of readdirSync(cache)) if (old.startsWith('tree-')) rmSync(path.join(cache, old), {recursive: true, force: true})
    const tmp = mkdtempSync(path.join(cache, 'building-'))
    say(`building the tree once for this build (${key}) ...`)
    const t = performance.now()
    const total = await buildTree(tmp)
    say(`built ${total} jails in ${sec(performance.now() - t)}`)
    renameSync(tmp, built)
  } else {
    say(`using the tree built before for this build (${key}, ${new Date(statSync(built).mtimeMs).toISOString()})`)
  }
  const root = mkdtempSync(path.join(tmpdir(), 'nest-bench-tree-'))
  cpSync(built, root, {recursive: true})
  // The shims name their sim root: point the copy's at itself.
  writeShims(root)
  return root
}

const logLines = (root) => readFileSync(path.join(root, 'invocations.jsonl'), 'utf8').split('\n').filter(Boolean)

/** What one top-level nest started, from the log lines it added. */
function count(lines) {
  const c = {processes: 1, tools: 0, nests: 0, otherSpawned: 0, inProcess: 0, rc: 0}
  for (const l of lines.map((x) => JSON.parse(x))) {
    if (l.tool !== undefined) {
      c.tools++
      c.processes++
      // A jail's own boot (/etc/rc's ifconfig, route, sysctl): its processes, not nest's.
      if (l.by !== undefined) c.rc++
    } else if (l.program !== undefined) {
      const isNest = l.program === 'nest' || String(l.argv?.[0] ?? '').endsWith('/bin/run.js')
      if (!l.spawned) c.inProcess++
      else {
        c.processes++
        if (isNest) c.nests++
        else c.otherSpawned++
      }
    }
  }
  return c
}

async function measured(root, args) {
  const from = logLines(root).length
  const t = performance.now()
  await nest(root, args, LATENCY)
  const ms = performance.now() - t
  return {ms, ...count(logLines(root).slice(from))}
}

async function tree() {
  const root = await treeRoot()
  try {
    const total = PARENTS + PARENTS * CHILDREN + PARENTS * CHILDREN * GRAND
    say(`timing with NEST_SIM_LATENCY=${LATENCY} ...`)
    const runs = []
    for (const [label, flags] of [['--parallel 1', ['--parallel', '1']], ['default', []]]) {
      const stop = await measured(root, ['stop', '--all', ...flags])
      const start = await measured(root, ['start', '--all', ...flags])
      runs.push({label, stop, start})
    }
    const jailMs = Number(/(?:^|,)jail=(\d+)/.exec(LATENCY)?.[1] ?? 0)
    console.log(`tree: ${PARENTS} parents x ${CHILDREN} children x ${GRAND} grandchildren = ${total} jails, 3 levels; NEST_SIM_LATENCY=${LATENCY}`)
    console.log('processes: the top-level nest + tool calls + nests started by hooks and jexec + other programs spawned; in-process: hook commands the simulator ran without a process (sh -c, test, echo, /etc/rc)')
    console.log('')
    const head = ['operation', 'parallel', 'wall', 'processes', 'tool calls', 'nests', 'other', 'in-process']
    const rows = runs.flatMap((r) => [['nest stop --all', r.label, r.stop], ['nest start --all', r.label, r.start]])
      .map(([op, label, m]) => [op, label, sec(m.ms), String(m.processes), String(m.tools), String(m.nests), String(m.otherSpawned), String(m.inProcess)])
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
    for (const r of [head, ...rows]) console.log(r.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '))
    console.log('')
    console.log(`goals: stop --all <= 300 processes, start --all <= 350 (before: 856 and 667); ideal wall with unlimited parallelism ~ levels x jail latency = ${sec(3 * jailMs)}`)
  } finally {
    rmSync(root, {recursive: true, force: true, maxRetries: 5})
  }
}

/**
 * 3. a VNET jail beside one without a network of its own, side by side in one run: what the
 *    network costs a start and a stop (its jail.conf hooks: `ifconfig epairN create`, the
 *    bridge's `addm`, the poststop `destroy`; jail(8)'s `vnet.interface`), and `nest list`.
 */
async function net() {
  const root = mkdtempSync(path.join(tmpdir(), 'nest-bench-net-'))
  try {
    await initSim(root)
    await nest(root, ['bootstrap', '14.3-RELEASE'])
    await nest(root, ['create', 'web', '--policy', 'leaf', '--no-start'])
    await nest(root, ['create', 'gw', '--policy', 'leaf', '--no-start', '--vnet', '--ip4', '192.0.2.10/24', '--defaultrouter', '192.0.2.1'])
    const rows = []
    for (const op of ['start', 'stop']) for (const j of ['web', 'gw']) rows.push([`nest ${op} ${j}`, await measured(root, [op, j])])
    await nest(root, ['start', 'web'])
    await nest(root, ['start', 'gw'])
    rows.push(['nest list (both running)', await measured(root, ['list'])])
    console.log(`network: web (no network of its own) beside gw (--vnet, epair on bridge0, address and route in its rc.conf); NEST_SIM_LATENCY=${LATENCY}`)
    const head = ['operation', 'wall', 'processes', 'of them the jail\'s /etc/rc', 'tool calls', 'in-process']
    const cells = rows.map(([op, m]) => [op, sec(m.ms), String(m.processes), String(m.rc), String(m.tools), String(m.inProcess)])
    const widths = head.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)))
    for (const r of [head, ...cells]) console.log(r.map((c, i) => (i < 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '))
    console.log('')
  } finally {
    rmSync(root, {recursive: true, force: true, maxRetries: 5})
  }
}

try {
  if (ONLY === 'migrate') await import('./migrate.js')
  if (ONLY === 'net') await net()
  if (ONLY === '' || ONLY === 'startup') await startup()
  if (ONLY === '' || ONLY === 'tree') await tree()
  if (ONLY === '') await net()
} catch (e) {
  say(`bench: ${e instanceof Error ? e.message : String(e)}`)
  process.exitCode = 1
}
