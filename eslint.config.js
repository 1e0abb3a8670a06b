// ESLint flat config: typescript-eslint's recommended rules plus a few type-aware ones that catch
// real bugs (floating promises, awaiting non-promises), and the module boundaries of STYLE.md §2 as
// `no-restricted-imports`. Formatting is left alone (see .editorconfig); no stylistic rules.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const APPS = ['@sightline/api-server', '@sightline/data-server', '@sightline/worker', '@sightline/sightline', '@sightline/agent'];

/** `packages/*` never import an app, by name or by path. */
const NO_APPS = [
  { group: APPS.flatMap((name) => [name, `${name}/*`]), message: 'packages/ must not import an app (STYLE.md §2).' },
  { group: ['**/apps/*/**'], message: 'packages/ must not import an app (STYLE.md §2).' },
];

/** Other workspaces only through their index (`@sightline/domain`, not `@sightline/domain/src/...`). */
const NO_DEEP = [
  // subpaths a package declares in its `exports` (e.g. `@sightline/render/csv`) are fine; its sources are not
  { group: ['@sightline/*/src', '@sightline/*/src/**'], message: 'Import a workspace through its index (`@sightline/<name>`) or a subpath it exports.' },
  { group: ['**/packages/*/src/**', '**/packages/*/src'], message: 'Import a package through its index (`@sightline/<name>`), not by path.' },
];

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      'coverage/**',
      'test-output/**',
      'bench/.out/**',
      'bench/.bare-koa.mjs',
      'packages/client/src/schema.ts',
      '.sightline/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { project: ['./tsconfig.json', './apps/api-server/viewer/tsconfig.json'], tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // type-aware: a promise nobody awaits loses its error
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      // `_`-prefixed names are deliberately unused (destructuring a field away, an unused parameter)
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // Koa state, jsonapi-serializer and driver rows are untyped at the edges
      '@typescript-eslint/no-explicit-any': 'off',
      // validators match NUL and other control characters on purpose (PostgreSQL rejects NUL, CSV/SQL lexers)
      'no-control-regex': 'off',
      // off: its hits here were all `let x; x = await f(() => x)`, where a closure may run before the
      // assignment (a const would throw in its temporal dead zone)
      'prefer-const': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      globals: { console: 'readonly', process: 'readonly', URL: 'readonly', fetch: 'readonly', AbortSignal: 'readonly', performance: 'readonly' },
    },
  },
  {
    files: ['packages/domain/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'koa', message: 'packages/domain has no HTTP: no koa (STYLE.md §2).' },
            { name: 'jsonapi-serializer', message: 'Only packages/jsonapi imports jsonapi-serializer.' },
            { name: '@sightline/jsonapi', message: 'packages/domain must not depend on packages/jsonapi (it depends on the domain).' },
            { name: '@sightline/http', message: 'packages/domain must not depend on packages/http (it depends on the domain).' },
            { name: '@sightline/runtime', message: 'packages/domain must not depend on packages/runtime (it depends on the domain).' },
          ],
          patterns: [...NO_APPS, ...NO_DEEP, { group: ['@koa/*'], message: 'packages/domain has no HTTP: no @koa/* (STYLE.md §2).' }],
        },
      ],
    },
  },
  {
    // JSON:API documents only: the Koa middlewares and `listen()` are packages/http's
    files: ['packages/jsonapi/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'koa', message: 'packages/jsonapi builds JSON:API documents only: Koa code goes in packages/http.' },
            { name: '@sightline/http', message: 'packages/jsonapi must not depend on packages/http (it depends on packages/jsonapi).' },
          ],
          patterns: [
            ...NO_APPS,
            ...NO_DEEP,
            { group: ['@koa/*', 'raw-body'], message: 'packages/jsonapi builds JSON:API documents only: Koa code goes in packages/http.' },
          ],
        },
      ],
    },
  },
  {
    files: ['packages/*/src/**/*.ts'],
    ignores: ['packages/domain/src/**', 'packages/jsonapi/src/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [...NO_APPS, ...NO_DEEP] }] },
  },
  {
    files: ['apps/*/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [...NO_DEEP, { group: [...APPS, '**/apps/*/**', '../../*/src/**'], message: 'An app never imports another app (STYLE.md §2).' }],
        },
      ],
    },
  },
  {
    // the all-in-one process composes the three apps: it may import them, through their index
    files: ['apps/sightline/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...NO_DEEP,
            { group: APPS.map((name) => `${name}/*`), message: 'Import an app through its index.' },
            { group: ['**/apps/*/**'], message: 'Import an app through its index.' },
          ],
        },
      ],
    },
  },
);
