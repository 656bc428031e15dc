/**
 * The production topology's tests (test/cluster): they start their own Temporal server on
 * PostgreSQL and spawnguard processes, so they need no dev server and run one file at a time.
 * `npm test` runs them after the main suite; `SPAWNGUARD_TEST=cluster npm test` runs only them.
 * @type {import('jest').Config}
 */
const base = require('./jest.config');

module.exports = {
  testEnvironment: base.testEnvironment,
  transform: base.transform,
  transformIgnorePatterns: base.transformIgnorePatterns,
  setupFiles: base.setupFiles,
  roots: ['<rootDir>/test/cluster'],
  testMatch: ['**/*.test.ts'],
  testTimeout: 600_000,
  maxWorkers: 1,
};
