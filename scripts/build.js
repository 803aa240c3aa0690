// npm run build: tsc (dist/src, dist/commands: the simulator's tools run dist/src/sim/main.js),
// then the CLI bundled with esbuild into dist/cli, then oclif's manifest.
//
// Why a bundle: @oclif/core and its dependencies are ~200 CommonJS files; resolving and reading
// them one by one was most of a run's start-up (imported from node_modules @oclif/core costs
// 2.5x `node -e 0`, the same code as one bundled file 1.7x). The manifest lets oclif find a
// command without importing every command module.
//
// The shape: each command (and the entry, the help class, the not-found hook) is one file of
// its own, tree-shaken for that command alone, so `nest list` does not even parse create's or
// the lifecycle's code, and a command never loads another's. What they share must be one
// module instance (oclif's classes and caches) and is loaded only when used (execa), so those
// are vendor files of their own, imported through package.json "imports" (#nest/oclif,
// #nest/execa): a bare specifier that resolves from any file's depth, and inside a jail, where
// the installation is mounted elsewhere.
import {execFileSync} from 'node:child_process'
import {mkdirSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {build} from 'esbuild'

const root = path.resolve(import.meta.dirname, '..')
process.chdir(root)

execFileSync(process.execPath, [path.join('node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], {stdio: 'inherit'})

const out = 'dist/cli'
rmSync(out, {recursive: true, force: true})

const common = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  // oclif's optional TypeScript runtimes: never used by the built CLI.
  external: ['typescript', 'ts-node', 'tsx'],
  // CommonJS dependencies call require() for Node's own modules (oclif, proper-lockfile) and
  // read __filename (write-file-atomic's temporary names): give each file its own.
  banner: {js: "import {createRequire as __nestCreateRequire} from 'node:module'; const require = __nestCreateRequire(import.meta.url); const __filename = import.meta.filename; const __dirname = import.meta.dirname;"},
  logLevel: 'warning',
}

// The vendor files. @oclif/core is CommonJS: its names are listed so that ESM can import them.
const oclifNames = Object.keys(await import('@oclif/core')).filter((n) => n !== 'default' && n !== '__esModule')
mkdirSync('dist/cli-src', {recursive: true})
writeFileSync('dist/cli-src/oclif.js', `import oclif from '@oclif/core'\nexport const {${oclifNames.join(', ')}} = oclif\n`)
writeFileSync('dist/cli-src/execa.js', "export * from 'execa'\n")
await build({...common, entryPoints: {'vendor/oclif': 'dist/cli-src/oclif.js', 'vendor/execa': 'dist/cli-src/execa.js'}, outdir: out, nodePaths: [path.join(root, 'node_modules')]})
rmSync('dist/cli-src', {recursive: true, force: true})

const vendor = {
  name: 'nest-vendor',
  setup(b) {
    b.onResolve({filter: /^(@oclif\/core|execa)$/}, (args) => ({path: args.path === 'execa' ? '#nest/execa' : '#nest/oclif', external: true}))
  },
}
const commands = readdirSync('commands', {recursive: true, encoding: 'utf8'})
  .filter((f) => f.endsWith('.ts'))
  .map((f) => path.join('commands', f))
await build({
  ...common,
  entryPoints: ['src/cli/main.ts', 'src/cli/help.ts', 'src/cli/not-found.ts', ...commands],
  outdir: out,
  outbase: '.',
  plugins: [vendor],
})

// The manifest: the commands' ids, flags and args as oclif would find them by importing each.
// (Each command file brings its own signal-exit, which listens on every signal: all of them in
// one process, only here, pass Node's default of 10 listeners.)
process.setMaxListeners(0)
const {Plugin} = await import('@oclif/core')
const plugin = new Plugin({root, type: 'core', ignoreManifest: true, errorOnManifestCreate: true})
await plugin.load()
writeFileSync('oclif.manifest.json', `${JSON.stringify(plugin.manifest, null, 2)}\n`)
