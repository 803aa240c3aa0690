import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Most tests run nest and the simulated tools in-process and take well under a second; the
    // end-to-end ring (test/e2e) spawns real processes: give it room under load on 2 cores.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Test files run in parallel, one worker process per core of this 2-core machine; every test
    // restores the host it needs, so files and tests run in any order (--sequence.shuffle).
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
    disableConsoleIntercept: true,
  },
})
