// npm run build: tsc (dist/src, dist/commands: the simulator's tools and the type check's
// output), then the CLI bundled with esbuild into dist/cli, then oclif's manifest.
//
// Why a bundle: oclif and its dependencies are ~200 CommonJS files; resolving and reading
// them one by one is most of a run's start-up (measured: @oclif/core imported from
// node_modules costs 2.5x `node -e 0`, the same code as one bundled file 1.7x). Splitting
// keeps each command in its own entry file, so a run loads only the command it runs and the
// chunks that command reaches. The manifest lets oclif find a command without importing
// every command module.
import {execFileSync} from 'node:child_process'
import {readdirSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {build} from 'esbuild'

const root = path.resolve(import.meta.dirname, '..')
process.chdir(root)

execFileSync(process.execPath, [path.join('node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], {stdio: 'inherit'})

const commands = readdirSync('commands', {recursive: true, encoding: 'utf8'})
  .filter((f) => f.endsWith('.ts'))
  .map((f) => path.join('commands', f))

rmSync('dist/cli', {recursive: true, force: true})
await build({
  entryPoints: ['src/cli/main.ts', 'src/cli/help.ts', 'src/cli/not-found.ts', ...commands],
  outdir: 'dist/cli',
  outbase: '.',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  // oclif's optional TypeScript runtimes: never used by the built CLI.
  external: ['typescript', 'ts-node', 'tsx'],
  // CommonJS dependencies call require() for Node's own modules (oclif, proper-lockfile) and
  // read __filename (write-file-atomic's temporary names): give each chunk its own.
  banner: {js: "import {createRequire as __nestCreateRequire} from 'node:module'; const require = __nestCreateRequire(import.meta.url); const __filename = import.meta.filename; const __dirname = import.meta.dirname;"},
  logLevel: 'warning',
})

// The manifest: the commands' ids, flags and args as oclif would find them by importing each.
const {Plugin} = await import('@oclif/core')
const plugin = new Plugin({root, type: 'core', ignoreManifest: true, errorOnManifestCreate: true})
await plugin.load()
writeFileSync('oclif.manifest.json', `${JSON.stringify(plugin.manifest, null, 2)}\n`)
