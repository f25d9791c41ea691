/**
 * What a test may do to the database under an app, whatever the driver: run SQL to check
 * or break the stored state, count round trips, and dump every table. Node tests get a
 * libSQL database (test/support/db.ts); the Workers suite runs the same tests on D1
 * (test/workers/db.ts), swapped in by vitest.workers.config.ts.
 */
import type { Database } from '../../worker/db/client'

/** A statement and its positional parameters. */
export type Statement = string | { sql: string; args: unknown[] }

/** The SQL a test sends directly; rows are keyed by column name. */
export interface SqlClient {
  execute(statement: Statement): Promise<{ rows: Record<string, unknown>[] }>
  /** Makes the database unusable: every later call fails. */
  close(): void
}

/** Round trips to the database: single statements, and batches (one round trip each). */
export interface CallCounts {
  execute: number
  batch: number
  reset(): void
}

export interface TestDatabase {
  client: SqlClient
  db: Database
  calls: CallCounts
}

export function callCounts(): CallCounts {
  return {
    execute: 0,
    batch: 0,
    reset() {
      this.execute = 0
      this.batch = 0
    },
  }
}

/** Tables that belong to the database engine or the migration runner, not the registry. */
const NOT_REGISTRY = "name NOT LIKE 'sqlite_%' AND name NOT LIKE '\\_\\_drizzle%' ESCAPE '\\' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name <> 'd1_migrations'"

/** The registry's tables, by name. */
export async function registryTables(client: SqlClient): Promise<string[]> {
  const tables = await client.execute(`SELECT name FROM sqlite_master WHERE type = 'table' AND ${NOT_REGISTRY} ORDER BY name`)
  return tables.rows.map((row) => String(row.name))
}

/** Every row of every registry table, for checking that a rejected request changed nothing. */
export async function dumpTables(client: SqlClient): Promise<string> {
  const out: string[] = []
  for (const name of await registryTables(client)) {
    const columns = await client.execute(`PRAGMA table_info("${name}")`)
    const order = columns.rows.map((_, i) => i + 1).join(', ')
    const rows = await client.execute(`SELECT * FROM "${name}" ORDER BY ${order}`)
    out.push(`${name}:${JSON.stringify(rows.rows.map((row) => ({ ...row })))}`)
  }
  return out.join('\n')
}
