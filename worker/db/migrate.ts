/**
 * Applies `migrations/` to a libSQL database at start-up (Node runtime and tests).
 * The Workers runtime does not import this: there, migrations are applied with
 * wrangler or the libSQL tooling before deploy.
 */
import { fileURLToPath } from 'node:url'
import { migrate } from 'drizzle-orm/libsql/migrator'
import type { LibSQLDatabase } from 'drizzle-orm/libsql'
import type { Database } from './client'

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../migrations', import.meta.url))

export async function applyMigrations(db: Database): Promise<void> {
  await migrate(db as unknown as LibSQLDatabase, { migrationsFolder: MIGRATIONS_FOLDER })
}
