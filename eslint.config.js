// Lint rules, including the import boundaries of the house style (§19).
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

const restrict = (patterns, message) => ({
  'no-restricted-imports': ['error', {patterns: [{group: patterns, message}]}],
})

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
  // execa only in src/host/exec.ts; nothing but the host selector reaches the simulator.
  {
    files: ['src/**/*.ts', 'commands/**/*.ts'],
    ignores: ['src/host/exec.ts', 'src/host/select.ts', 'src/host/sim-control.ts', 'src/sim/**'],
    rules: restrict(['execa', '**/sim/**', '../sim/*', '../../sim/*'], 'execa belongs in src/host/exec.ts; src/sim is reached only through src/host/select.ts'),
  },
  {
    files: ['src/host/select.ts', 'src/host/sim-control.ts'],
    rules: restrict(['execa'], 'execa belongs in src/host/exec.ts'),
  },
  // The simulator imports only the grammar and plain domain types: it cannot borrow product logic.
  {
    files: ['src/sim/**/*.ts'],
    rules: restrict(['execa', '**/host/**', '**/engine/**', '**/services/**', '**/cli/**', '**/render/**', '**/plan/**', '**/policies/**'], 'src/sim may import only src/jailconf and src/domain'),
  },
  // Commands stay thin: only src/cli, src/services and src/render.
  {
    files: ['commands/**/*.ts'],
    rules: restrict(['execa', '**/src/host/**', '**/src/sim/**', '**/src/engine/**', '**/src/plan/**', '**/src/domain/**', '**/src/jailconf/**'], 'commands/ may import only src/cli, src/services and src/render'),
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
