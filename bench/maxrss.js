// Preloaded into every Node process of a bench run (NODE_OPTIONS=--import, bench/migrate.js):
// at exit, appends the process's peak resident set (getrusage(2) ru_maxrss, through
// process.resourceUsage().maxRSS, in KiB) to the file NEST_BENCH_RSS names, one JSON line per
// process, with its CPU time (user + system) and the bytes it read and wrote. It changes nothing in the process it measures.
import {appendFileSync, readFileSync} from 'node:fs'

const file = process.env.NEST_BENCH_RSS
const usage = () => {
  const u = process.resourceUsage()
  return {maxRssKiB: u.maxRSS, cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000, ...io()}
}
// proc(5) /proc/self/io (Linux): rchar and wchar, the bytes the process read and wrote through
// read(2) and write(2) and their kin, pipes included; nothing elsewhere.
const io = () => {
  try {
    const t = readFileSync('/proc/self/io', 'utf8')
    return {rchar: Number(/^rchar: (\d+)/m.exec(t)?.[1]), wchar: Number(/^wchar: (\d+)/m.exec(t)?.[1])}
  } catch {
    return {}
  }
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
