#!/usr/bin/env node
// Bundles the simulated host's tool entry (src/sim/main.ts) into dist/sim/, run by `npm run
// build` after tsc. Every simulated tool call is a Node start (jail(8)'s hooks and nest run
// them as real executables), so what one costs beyond `node -e 0` is module loading: the
// bundle is one file to read for what every tool shares, plus one chunk per tool loaded by
// dispatch.ts's lazy import(), instead of ~50 files resolved one by one.
//
// CommonJS, one file: a CommonJS entry skips Node's ES module loader (measured: an empty .mjs
// costs ~0.15x `node -e 0` more than an empty .cjs). esbuild turns each tool's dynamic import()
// into a module initialised on first use, so a `jls` runs only jls.ts's top level.
import {rmSync} from 'node:fs'
import path from 'node:path'

import {build} from 'esbuild'

const root = path.resolve(import.meta.dirname, '..')
// Nothing of an older build stays beside this one.
rmSync(path.join(root, 'dist/sim'), {recursive: true, force: true})
await build({
  entryPoints: [path.join(root, 'src/sim/main.ts')],
  outfile: path.join(root, 'dist/sim/main.cjs'),
  bundle: true,
  format: 'cjs',
  // run.ts finds the installation from its own directory.
  define: {'import.meta.dirname': '__dirname'},
  platform: 'node',
  target: 'node20',
  // npm packages (proper-lockfile, write-file-atomic: CommonJS that reads __filename) load from
  // node_modules as they are, and only when a tool changes the model (store.ts imports them then).
  packages: 'external',
  logLevel: 'warning',
})
