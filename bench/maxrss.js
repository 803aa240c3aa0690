// Preloaded into every Node process of a bench run (NODE_OPTIONS=--import, bench/migrate.js):
// at exit, appends the process's peak resident set (getrusage(2) ru_maxrss, through
// process.resourceUsage().maxRSS, in KiB) to the file NEST_BENCH_RSS names, one JSON line per
// process, with its CPU time (user + system) and the bytes it read and wrote. It changes
// nothing in the process it measures.
import {appendFileSync, readdirSync, readFileSync} from 'node:fs'

const file = process.env.NEST_BENCH_RSS
const usage = () => {
  const u = process.resourceUsage()
  return {maxRssKiB: u.maxRSS, cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000, ...io()}
}
// proc(5) /proc/self/task/TID/io (Linux): rchar and wchar, the bytes each thread read and wrote
// through read(2), write(2) and their kin, pipes and sockets included, summed over the process's
// threads. Not /proc/self/io: for a whole process it adds the I/O of the children it has reaped
// (kernel/exit.c wait_task_zombie adds theirs to its signal_struct), here every tool call.
const io = () => {
  try {
    let rchar = 0
    let wchar = 0
    for (const tid of readdirSync('/proc/self/task')) {
      const t = readFileSync(`/proc/self/task/${tid}/io`, 'utf8')
      rchar += Number(/^rchar: (\d+)/m.exec(t)?.[1] ?? 0)
      wchar += Number(/^wchar: (\d+)/m.exec(t)?.[1] ?? 0)
    }
    return {rchar, wchar}
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
