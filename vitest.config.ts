import { defineConfig } from 'vitest/config'

/** Two projects: everything on Node, and the Workers suite inside workerd against D1. */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          environment: 'node',
          include: ['test/**/*.test.ts'],
          exclude: ['test/workers/**', '**/node_modules/**'],
          // Each run's temporary files under one directory, removed at the end (test/support/temp-root.ts).
          globalSetup: ['test/support/temp-root.ts'],
        },
      },
      './vitest.workers.config.ts',
    ],
  },
})
