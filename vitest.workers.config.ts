import path from 'node:path'
import { defineWorkersProject, readD1Migrations } from '@cloudflare/vitest-pool-workers/config'

const NODE_DATABASE = path.join(__dirname, 'test/support/db')
const D1_DATABASE = path.join(__dirname, 'test/workers/db.ts')

/** Resolves every import of test/support/db (libSQL) to test/workers/db.ts (D1). */
function d1TestDatabase() {
  return {
    name: 'switchboard-d1-test-database',
    enforce: 'pre' as const,
    resolveId(source: string, importer: string | undefined) {
      if (!importer || !source.startsWith('.')) return null
      const target = path.resolve(path.dirname(importer), source).replace(/\.ts$/, '')
      return target === NODE_DATABASE ? D1_DATABASE : null
    },
  }
}

/**
 * The Workers suite: inside workerd, against a D1 database migrated from migrations/.
 * It runs the HTTP-level tests of test/http unchanged, with test/support/db resolved to
 * the D1 implementation (test/workers/db.ts), and the Worker-only tests of test/workers.
 */
export default defineWorkersProject(async () => {
  const migrations = await readD1Migrations(path.join(__dirname, 'migrations'))
  return {
    plugins: [d1TestDatabase()],
    test: {
      name: 'workers',
      include: ['test/http/**/*.test.ts', 'test/workers/**/*.test.ts'],
      setupFiles: ['./test/workers/apply-migrations.ts'],
      poolOptions: {
        workers: {
          singleWorker: true,
          // Each test makes its own fresh database (test/workers/db.ts drops every table and
          // migrates again), so the pool's per-test storage snapshots are not needed.
          isolatedStorage: false,
          wrangler: { configPath: './wrangler.toml' },
          miniflare: {
            bindings: { TEST_MIGRATIONS: migrations, SWITCHBOARD_ADMIN_TOKEN: 'workers-test-root-credential-0123456789' },
          },
        },
      },
    },
  }
})
