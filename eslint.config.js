// ESLint: typescript-eslint's recommended rules, the type-aware rules that catch the async mistakes
// a service pays for in production (a promise nobody awaits or handles, a promise where a callback
// returns nothing, an await of something that is no promise), and no import cycles: modules depend
// one way. Formatting is Prettier's (.prettierrc.json), not ESLint's.
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'build/', 'coverage/', '.tap/', 'data/', 'openapi/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { languageOptions: { globals: globals.node } },
  {
    files: ['**/*.ts', '**/*.mts', '**/*.tsx'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver()] },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'import-x/no-cycle': 'error',
      // A `let` a closure reads before its one assignment (a test double wired before the app) is right.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    // The dashboard (ui/, bundled by scripts/build-ui.mjs) runs in the browser: its own tsconfig
    // (DOM lib, Preact's JSX), found by the project service beside its files.
    files: ['ui/**'],
    languageOptions: { globals: globals.browser },
  },
  {
    // Regular expressions that look for control characters on purpose (hostile input, path rules).
    files: ['src/http/input-checks.ts', 'src/git/tree-path.ts'],
    rules: { 'no-control-regex': 'off' },
  },
  {
    files: ['test/**'],
    rules: {
      // A test file's top-level `t.test(…)` calls return promises tap itself awaits.
      '@typescript-eslint/no-floating-promises': 'off',
    },
  },
  {
    files: ['test/**', 'bench/**'],
    rules: {
      // Tests and benches reach into answers whose shape they assert or report.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
);
