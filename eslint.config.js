// Lint rules, including the import boundaries of the house style (§19).
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

const restrict = (patterns, message) => ({
  'no-restricted-imports': ['error', {patterns: [{group: [...new Set(patterns)], message}]}],
})

// Each layer of src/ and what it may import (besides itself); everything else is a forbidden edge.
const LAYERS = {
  domain: [],
  jailconf: ['domain'],
  host: ['domain', 'jailconf'],
  policies: ['domain', 'jailconf', 'host'],
  model: ['domain', 'host'],
  context: ['domain', 'host'],
  plan: ['domain', 'jailconf', 'host', 'policies', 'model', 'context'],
  audit: ['domain', 'jailconf', 'host', 'policies', 'model', 'plan'],
  engine: ['domain', 'jailconf', 'host', 'policies', 'model', 'context', 'plan'],
  render: ['domain', 'host', 'policies', 'model', 'plan', 'engine', 'audit'],
  services: ['domain', 'jailconf', 'host', 'policies', 'model', 'context', 'plan', 'engine', 'render', 'audit'],
  cli: ['domain', 'host', 'context', 'render', 'services'],
}
const ALL = [...Object.keys(LAYERS), 'sim']
const forbidden = (layer, allowed) => ALL.filter((d) => d !== layer && !allowed.includes(d))
  .flatMap((d) => [`**/src/${d}/**`, `../${d}/*`, `../../${d}/*`, `../${d}`, `../../${d}`])

export default tseslint.config(
  {ignores: ['dist/**', 'node_modules/**', 'coverage/**']},
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {globals: {process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', Buffer: 'readonly'}},
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_', varsIgnorePattern: '^_'}],
      'no-console': 'error',
    },
  },
  // The layers of src/ (README, Layout): each may import only the ones below it, so no import
  // cycle between layers can form. execa only in src/host/exec.ts; nothing but the host selector
  // reaches the simulator; the simulator imports only the grammar and plain domain types.
  ...Object.entries(LAYERS).map(([layer, allowed]) => ({
    files: [`src/${layer}/**/*.ts`],
    ignores: ['src/host/exec.ts', 'src/host/select.ts', 'src/host/sim-control.ts'],
    rules: restrict([...forbidden(layer, allowed), 'execa', '**/sim/**', '../sim/*', '../../sim/*'], `src/${layer} may import only ${allowed.length ? allowed.map((a) => `src/${a}`).join(', ') : 'itself'} (the layers in README, Layout); execa only in src/host/exec.ts; src/sim only through src/host/select.ts`),
  })),
  {
    files: ['src/host/exec.ts'],
    rules: restrict([...forbidden('host', LAYERS.host), '**/sim/**', '../sim/*'], 'src/host may import only src/domain and src/jailconf; src/sim only through src/host/select.ts and src/host/sim-control.ts'),
  },
  {
    files: ['src/host/select.ts', 'src/host/sim-control.ts'],
    rules: restrict([...forbidden('host', [...LAYERS.host, 'sim']), 'execa'], 'src/host/select.ts and sim-control.ts may import only src/domain, src/jailconf and src/sim; execa belongs in src/host/exec.ts'),
  },
  // The simulator imports only the grammar and plain domain types: it cannot borrow product logic.
  {
    files: ['src/sim/**/*.ts'],
    rules: restrict(['execa', ...forbidden('sim', ['domain', 'jailconf'])], 'src/sim may import only src/jailconf and src/domain'),
  },
  // Commands stay thin: only src/cli, src/services and src/render.
  {
    files: ['commands/**/*.ts'],
    rules: restrict(['execa', ...forbidden('commands', ['cli', 'services', 'render'])], 'commands/ may import only src/cli, src/services and src/render'),
  },
  {
    files: ['src/**/*.ts', 'commands/**/*.ts'],
    ignores: ['src/cli/base.ts'],
    rules: {'no-restricted-syntax': ['error', {selector: "MemberExpression[object.name='process'][property.name='exit']", message: 'return a Result; NestCommand sets the exit code'}]},
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.js'],
    languageOptions: {globals: {performance: 'readonly'}},
    // Benchmarks print their figures on stdout.
    rules: {'@typescript-eslint/no-non-null-assertion': 'off', 'no-console': 'off'},
  },
)
