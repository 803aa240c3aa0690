// Side-by-side start-up timing: every command is run `runs` times, interleaved (a, b, c, a, b,
// c, ...) so that a load that comes and goes on a shared machine falls on all of them alike;
// each gets its median wall time and its ratio to the first (the baseline, `node -e 0`).
import {spawn} from 'node:child_process'
import {readFileSync} from 'node:fs'

/**
 * CPU seconds (user + system) of this process's waited-for children, from /proc (Linux; 0
 * elsewhere). Ticks of 10 ms: too coarse for one run, but its sum over many runs is a figure
 * that a busy machine disturbs much less than wall time.
 */
export function childCpuMs() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // Fields 16 and 17 of proc(5) (cutime, cstime); f[0] is field 3.
    return (Number(f[13]) + Number(f[14])) * 10
  } catch {
    return 0
  }
}

/** Wall milliseconds of one run of argv (output discarded); rejects on a non-zero exit. */
export function timeOnce(argv, env) {
  return new Promise((resolve, reject) => {
    const t = performance.now()
    const c = spawn(argv[0], argv.slice(1), {env, stdio: ['ignore', 'ignore', 'pipe']})
    let err = ''
    c.stderr.on('data', (d) => (err += d))
    c.on('error', reject)
    c.on('close', (code) => {
      const ms = performance.now() - t
      if (code === 0) resolve(ms)
      else reject(new Error(`${argv.join(' ')}: exit ${code}\n${err}`))
    })
  })
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/**
 * cases: [{label, argv, env}]; the first is the baseline. Returns [{label, median, ratio, runs}].
 * One warm-up round first (the page cache, not the figures).
 */
export async function sideBySide(cases, runs) {
  const times = cases.map(() => [])
  const cpu = cases.map(() => 0)
  for (const c of cases) await timeOnce(c.argv, c.env)
  for (let r = 0; r < runs; r++) {
    for (const [i, c] of cases.entries()) {
      const before = childCpuMs()
      times[i].push(await timeOnce(c.argv, c.env))
      cpu[i] += childCpuMs() - before
    }
  }
  const base = median(times[0])
  return cases.map((c, i) => ({
    label: c.label, median: median(times[i]), ratio: median(times[i]) / base, runs: times[i],
    cpu: cpu[i] / runs, cpuRatio: cpu[0] > 0 ? cpu[i] / cpu[0] : undefined,
  }))
}

export function printSideBySide(rows, out = console.log) {
  const w = Math.max(...rows.map((r) => r.label.length))
  out(`${''.padEnd(w)}  ${'median wall'.padStart(11)}  ${'ratio'.padStart(6)}  ${'mean cpu'.padStart(9)}  ${'ratio'.padStart(6)}`)
  for (const r of rows) {
    const cpu = r.cpuRatio === undefined ? '' : `${`${r.cpu.toFixed(1)} ms`.padStart(9)}  ${`${r.cpuRatio.toFixed(2)}x`.padStart(6)}`
    out(`${r.label.padEnd(w)}  ${`${r.median.toFixed(1)} ms`.padStart(11)}  ${`${r.ratio.toFixed(2)}x`.padStart(6)}  ${cpu}`)
  }
}
