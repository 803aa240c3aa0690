#!/usr/bin/env node
// Prints what one simulated tool call costs on this machine (the floor under every nest
// figure measured on the simulated host): wall time of N sequential and N parallel `jls`
// and `jail -c` calls on a fresh simulated host.
import {spawn} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {initSim} from '../dist/src/sim/control.js'

const N = Number(process.env.BENCH_N ?? 20)
const root = mkdtempSync(path.join(tmpdir(), 'nest-bench-'))
await initSim(root)
mkdirSync(path.join(root, 'fs', 'j'), {recursive: true})
const run = (tool, args) => new Promise((resolve) => {
  const c = spawn(path.join(root, 'bin', tool), args, {env: {...process.env, NEST_SIM_ROOT: root, NEST_SIM_LATENCY: ''}, stdio: 'ignore'})
  c.on('close', resolve)
})
const time = async (label, fn) => {
  const t = performance.now()
  await fn()
  const ms = performance.now() - t
  console.log(`${label.padEnd(28)} ${ms.toFixed(0).padStart(7)} ms total ${(ms / N).toFixed(1).padStart(7)} ms/call`)
}
console.log(`simulated tool calls, N=${N}`)
await time('jls, sequential', async () => { for (let i = 0; i < N; i++) await run('jls', []) })
await time('jls, parallel', () => Promise.all(Array.from({length: N}, () => run('jls', []))))
await time('jail -c, sequential', async () => { for (let i = 0; i < N; i++) await run('jail', ['-c', `name=s${i}`, 'path=/j', 'persist']) })
await time('jail -c, parallel', () => Promise.all(Array.from({length: N}, (_, i) => run('jail', ['-c', `name=p${i}`, 'path=/j', 'persist']))))
rmSync(root, {recursive: true, force: true})
