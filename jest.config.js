// Jest runs TypeScript through @swc/jest in native ESM mode (see README, "Development").
// Type errors are caught by `tsc` (npm run typecheck), which `npm test` runs first.
const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  // NodeNext-style `./foo.js` specifiers -> `./foo.ts`
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }] },
};

/** @type {import('jest').Config} */
export default {
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  testTimeout: 60_000, // integration tests on a loaded 2-core machine can take tens of seconds
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/{apps,packages}/*/test/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: ['\\.int\\.test\\.ts$'],
    },
    { ...common, displayName: 'int', testMatch: ['<rootDir>/{apps,packages}/*/test/**/*.int.test.ts', '<rootDir>/test/**/*.int.test.ts'] },
  ],
};
