// Preloaded into every Node process of a bench run (NODE_OPTIONS=--import, bench/migrate.js):
// at exit, appends the process's peak resident set (getrusage(2) ru_maxrss, through
// process.resourceUsage().maxRSS, in KiB) to the file NEST_BENCH_RSS names, one JSON line per
// process, with its CPU time (user + system). It changes nothing in the process it measures.
import {appendFileSync} from 'node:fs'

const file = process.env.NEST_BENCH_RSS
const usage = () => {
  const u = process.resourceUsage()
  return {maxRssKiB: u.maxRSS, cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000}
}
if (file) {
  process.on('exit', () => {
    try {
      appendFileSync(file, `${JSON.stringify({pid: process.pid, argv: process.argv.slice(1, 4), ...usage()})}\n`)
    } catch {
      // The bench reads what it finds; a process that could not write is only missing there.
    }
  })
}
