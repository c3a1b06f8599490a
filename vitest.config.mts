import { defineConfig } from 'vitest/config';

/**
 * Three levels, by file name: *.unit.test.ts (pure logic), *.component.test.ts (one service in-process
 * against real NATS and FerretDB started on free ports), *.e2e.test.ts (the whole system as separate
 * processes, driven through the gateway). Component and e2e files run one at a time: the machine has two cores.
 */
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['**/*.unit.test.ts'], exclude: ['**/node_modules/**', '.tools/**'] } },
      {
        test: {
          name: 'component',
          include: ['**/*.component.test.ts'],
          exclude: ['**/node_modules/**', '.tools/**'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['**/*.e2e.test.ts'],
          exclude: ['**/node_modules/**', '.tools/**'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
