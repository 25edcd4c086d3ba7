import { defineConfig } from 'vitest/config';

// Three projects so CI and people can run a lane alone: pure unit tests, integration tests against a real
// Temporal dev server and Docker engine (started in the global setup), and replay of committed histories.
export default defineConfig({
  test: {
    reporters: process.env.CI === 'true' ? ['default', 'json'] : ['default'],
    // As `outputFile`, not a reporter option, so a lane's `--outputFile.json=…` on the command line wins.
    ...(process.env.CI === 'true' ? { outputFile: { json: '.vitest-report.json' } } : {}),
    projects: [
      {
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          // The compiled CLI, and a real MinIO for the S3 variants of the world-store, ledger and lease suites (scale-out).
          globalSetup: ['tests/build-global-setup.ts', 'tests/integration/minio-global-setup.ts'],
          testTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          globalSetup: ['tests/build-global-setup.ts', 'tests/integration/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
      {
        // Not part of `npm test`: re-records the committed replay histories (npm run replay:record).
        test: {
          name: 'record',
          include: ['tests/integration/**/*.record.ts'],
          globalSetup: ['tests/integration/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 900_000,
          fileParallelism: false,
        },
      },
      {
        // Not part of `npm test`: the scale-out lane (npm run test:scale; docs/scale-out.md) — a Temporal cluster
        // on PostgreSQL, MinIO and workers in network namespaces (root, iproute2), with faults.
        test: {
          name: 'scale',
          include: ['tests/scale/**/*.test.ts'],
          globalSetup: ['tests/scale/global-setup.ts'],
          testTimeout: 1_800_000,
          hookTimeout: 900_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'replay',
          include: ['tests/replay/**/*.test.ts'],
          testTimeout: 120_000,
        },
      },
    ],
  },
});
