#!/usr/bin/env node
// The migration benchmark (`npm run bench:migrate`, or BENCH_ONLY=migrate npm run bench; issue 13):
// for each N datasets x F files per dataset of a grid, on a fresh simulated host each, a vm-bhyve
// guest (the fixture generateGuest makes: zfs-bastille's layout plus zroot/data/d0..d{N-1}, F
// files each, written to a fixture file and given to `nest sim vm add --disk FILE --running`),
// then `nest migrate vm fbsd1 --stop-vm` as a real process: the real CLI and the real simulated
// tools, the `zfs send | zfs recv` pipes real OS pipes. One table:
//
// - bytes moved: the bytes the `zfs send` calls wrote to their pipes (the `bytes` of their lines
//   in the simulated host's invocation log, dispatch.ts);
// - tool calls, from the same log (every simulated tool is a process), of them those the jail's
//   own /etc/rc made (`by`), and the `zfs send`/`zfs recv` pairs; by tool below the table;
// - wall time of the nest process, and per file; CPU time (user + system) of the nest process
//   and, summed, of the tools' (a busy machine stretches wall time much more than CPU time);
//   the tools' wall time by tool below the table (where a growth with F comes from); the bytes
//   the nest process read and wrote (rchar, wchar of /proc/self/task/*/io: a stream through nest shows);
// - peak RSS (getrusage ru_maxrss) of the nest process, and apart from it the largest of the
//   simulated tools' processes: every Node process of the run is started with
//   NODE_OPTIONS=--import bench/maxrss.js, which writes its peak at exit (nest is not changed);
//
// then for each N the ratios of the largest F to the smallest: tool calls (must be 1.00: nest
// makes no call per file) and nest's peak RSS (must be ~1: no stream is held in nest's memory).
//
// BENCH_GRID (NxF,...; the default below) sets the grid;
// BENCH_KEEP=1 keeps each sim root (its invocations.jsonl, maxrss.jsonl) and says where. Leave
// dist/ alone while it runs (no `npm run build`): every process it starts loads dist/.
import {spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {pathToFileURL} from 'node:url'

import {initSim} from '../dist/src/sim/control.js'
import {generateGuest} from '../dist/src/sim/guests/guests.js'

const REPO = path.resolve(import.meta.dirname, '..')
const BIN = path.join(REPO, 'bin', 'run.js')
const PRELOAD = pathToFileURL(path.join(import.meta.dirname, 'maxrss.js')).href
// N x F, each a migration. The issue's grid is N in 1, 4, 16 by F in 10, 1000, 10000: the
// simulator writes every file as a file of its own several times over (the guest's disk, the
// snapshot store, the stream's staging, the received tree, the mounts), so the default is the
// part of it that runs in about 20 minutes on 2 busy cores. BENCH_GRID=1x10,1x10000 for others.
// An entry NxFxS gives each file S bytes (K and M suffixes); without it a file is its one line of
// about 20 bytes, and the stream is too small to show whether nest holds it: the xS entries
// (the same N and F, a stream of tens of MiB) are the memory check.
const UNITS = {'': 1, K: 1024, M: 1024 * 1024}
const GRID = (process.env.BENCH_GRID ?? '1x10,1x1000,4x10,4x1000,16x10,16x100,1x10x1M,1x10x8M').split(',').filter(Boolean).map((c) => {
  const m = /^(\d+)x(\d+)(?:x(\d+)([KM]?))?$/.exec(c.trim())
  if (!m) throw new Error(`BENCH_GRID: ${c}: not NxF or NxFxS`)
  return {n: Number(m[1]), f: Number(m[2]), s: m[3] === undefined ? undefined : Number(m[3]) * UNITS[m[4]], label: c.trim()}
})

const say = (text) => process.stderr.write(`${text}\n`)
const sec = (ms) => `${(ms / 1000).toFixed(1)} s`
const mib = (kib) => `${(kib / 1024).toFixed(1)} MiB`
const io = (n) => (n === undefined || Number.isNaN(n) ? '-' : size(n))
const size = (n) => (n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`)

/** Run nest to completion; its pid and wall time, or a rejection with its stderr. */
const nest = (root, args, extraEnv = {}) => new Promise((resolve, reject) => {
  const env = {...process.env, NEST_SIM_ROOT: root, NEST_HOST: 'sim', NEST_SIM_QUIET: '1', NEST_SIM_LATENCY: '', ...extraEnv}
  const t = performance.now()
  const c = spawn(process.execPath, [BIN, ...args], {env, stdio: ['ignore', 'ignore', 'pipe']})
  let err = ''
  c.stderr.on('data', (d) => (err += d))
  c.on('close', (code) => (code === 0 ? resolve({pid: c.pid, ms: performance.now() - t}) : reject(new Error(`nest ${args.join(' ')}: exit ${code}\n${err}`))))
})

const logLines = (root) => readFileSync(path.join(root, 'invocations.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))

/** One migration of a guest with `n` datasets of `f` files each, on a fresh host. */
async function one(n, f, s) {
  const root = mkdtempSync(path.join(tmpdir(), `nest-bench-migrate-${n}x${f}-`))
  try {
    await initSim(root)
    await nest(root, ['bootstrap', '14.3-RELEASE'])
    const fixture = path.join(root, 'guest.json')
    writeFileSync(fixture, JSON.stringify(generateGuest({datasets: n, files: f, ...(s === undefined ? {} : {fileBytes: s})})))
    await nest(root, ['sim', 'vm', 'add', 'fbsd1', '--disk', fixture, '--running'])
    const from = logLines(root).length
    const rss = path.join(root, 'maxrss.jsonl')
    writeFileSync(rss, '')
    const options = [process.env.NODE_OPTIONS, `--import=${PRELOAD}`].filter(Boolean).join(' ')
    const run = await nest(root, ['migrate', 'vm', 'fbsd1', '--stop-vm'], {NODE_OPTIONS: options, NEST_BENCH_RSS: rss})
    const lines = logLines(root).slice(from)
    const peaks = readFileSync(rss, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
    const own = peaks.find((p) => p.pid === run.pid)
    if (!own) throw new Error(`no peak RSS recorded for the nest process (pid ${run.pid})`)
    const others = peaks.filter((p) => p !== own)
    const tools = lines.filter((l) => l.tool !== undefined)
    const byTool = {}
    const msByTool = {}
    for (const l of tools) {
      const k = l.tool === 'zfs' || l.tool === 'zpool' ? `${l.tool} ${l.argv[0]}` : l.tool
      byTool[k] = (byTool[k] ?? 0) + 1
      msByTool[k] = (msByTool[k] ?? 0) + l.ms
    }
    const sends = tools.filter((l) => l.tool === 'zfs' && l.argv[0] === 'send' && !l.argv.some((a) => /^-[a-zA-Z]*n/.test(a)))
    const recvs = tools.filter((l) => l.tool === 'zfs' && (l.argv[0] === 'recv' || l.argv[0] === 'receive'))
    return {
      n, f, s, files: n * f, bytes: sends.reduce((s, l) => s + (l.bytes ?? 0), 0),
      calls: tools.length, rc: tools.filter((l) => l.by !== undefined).length, pairs: Math.min(sends.length, recvs.length),
      sendMs: sends.reduce((s, l) => s + l.ms, 0), recvMs: recvs.reduce((s, l) => s + l.ms, 0),
      ms: run.ms, rss: own.maxRssKiB, cpu: own.cpuMs, rchar: own.rchar, wchar: own.wchar, toolCpu: others.reduce((s, p) => s + p.cpuMs, 0), toolRss: Math.max(0, ...others.map((p) => p.maxRssKiB)),
      toolRssBy: others.reduce((m, p) => (p.maxRssKiB > m.maxRssKiB ? p : m), {maxRssKiB: 0}), byTool, msByTool,
    }
  } finally {
    if (process.env.BENCH_KEEP === '1') say(`  kept ${root}`)
    else rmSync(root, {recursive: true, force: true, maxRetries: 5})
  }
}

function table(head, rows, left = 0) {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  for (const r of [head, ...rows]) console.log(r.map((c, i) => (i < left ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '))
}

try {
  const results = []
  for (const {n, f, s, label} of GRID) {
    say(`migrating a guest with ${n} datasets x ${f} files${s === undefined ? '' : ` of ${size(s)}`} ...`)
    const r = {label, ...(await one(n, f, s))}
    say(`  ${sec(r.ms)}, ${r.calls} tool calls, nest peak RSS ${mib(r.rss)}`)
    results.push(r)
  }
  console.log(`nest migrate vm fbsd1 --stop-vm: a guest with N datasets (below zroot/data, besides zfs-bastille's 22) of F files each; no tool latency`)
  console.log('tool calls: the simulated host\'s invocation log (each one a process); rc: of them the jail\'s own /etc/rc; pairs: zfs send | zfs recv')
  console.log('peak RSS: getrusage ru_maxrss of the nest process; tools: the largest of the simulated tools\' processes (apart)')
  console.log('nest read, wrote: rchar and wchar of the nest process\'s threads (/proc/self/task/*/io, pipes and sockets included): a stream that passes through nest shows here')
  console.log('')
  table(['N', 'F', 'file size', 'files', 'bytes moved', 'tool calls', 'rc', 'pairs', 'send+recv', 'wall', 'wall/file', 'nest cpu', 'tools cpu', 'nest read', 'nest wrote', 'nest peak RSS', 'tools peak RSS'],
    results.map((r) => [String(r.n), String(r.f), r.s === undefined ? '~20 B' : size(r.s), String(r.files), size(r.bytes), String(r.calls), String(r.rc), String(r.pairs), sec(r.sendMs + r.recvMs), sec(r.ms), `${(r.ms / r.files).toFixed(2)} ms`, sec(r.cpu), sec(r.toolCpu), io(r.rchar), io(r.wchar), mib(r.rss), mib(r.toolRss)]))
  console.log('')
  console.log('ratios, the largest F to the smallest for the same N (tool calls must be 1.00, nest peak RSS ~1)')
  const plain = results.filter((r) => r.s === undefined)
  const ns = [...new Set(plain.map((r) => r.n))]
  table(['N', 'F', 'tool calls', 'nest peak RSS', 'nest cpu', 'bytes moved', 'wall', 'wall/file (largest F)'],
    ns.map((n) => {
      const mine = plain.filter((r) => r.n === n).sort((a, b) => a.f - b.f)
      const lo = mine[0]
      const hi = mine.at(-1)
      return [String(n), `${hi.f} / ${lo.f}`, (hi.calls / lo.calls).toFixed(2), (hi.rss / lo.rss).toFixed(2), (hi.cpu / lo.cpu).toFixed(2), (hi.bytes / lo.bytes).toFixed(1), (hi.ms / lo.ms).toFixed(1), `${(hi.ms / hi.files).toFixed(2)} ms`]
    }))
  const sized = results.filter((r) => r.s !== undefined)
  if (sized.length > 0) {
    console.log('')
    console.log('memory: the same N and F with larger files, against the ~20 B files (nest peak RSS must stay ~1 while the bytes grow)')
    table(['grid', 'bytes moved', 'ratio', 'nest wrote', 'nest peak RSS', 'ratio', 'tools peak RSS', 'tool calls'], sized.map((r) => {
      const base = plain.find((p) => p.n === r.n && p.f === r.f)
      const ratio = (a, b) => (b ? (a / b).toFixed(2) : '-')
      return [r.label, size(r.bytes), ratio(r.bytes, base?.bytes), io(r.wchar), mib(r.rss), ratio(r.rss, base?.rss), mib(r.toolRss), base ? `${r.calls} (${base.calls})` : String(r.calls)]
    }))
  }
  console.log('')
  console.log('tool calls by tool (the same for every F when nest makes no call per file)')
  const tools = [...new Set(results.flatMap((r) => Object.keys(r.byTool)))].sort()
  table(['tool', ...results.map((r) => r.label)], tools.map((t) => [t, ...results.map((r) => String(r.byTool[t] ?? 0))]), 1)
  console.log('')
  console.log('wall time by tool, seconds (what grows with F)')
  table(['tool', ...results.map((r) => r.label)], tools.map((t) => [t, ...results.map((r) => ((r.msByTool[t] ?? 0) / 1000).toFixed(1))]), 1)
  const worst = results.reduce((m, r) => (r.toolRss > m.toolRss ? r : m))
  console.log('')
  console.log(`largest simulated tool process: ${mib(worst.toolRss)} (${worst.toolRssBy.argv?.slice(1).join(' ') ?? '?'}, at ${worst.label})`)
} catch (e) {
  say(`bench: ${e instanceof Error ? e.message : String(e)}`)
  process.exitCode = 1
}
