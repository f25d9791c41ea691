/**
 * Real libSQL databases for tests: in memory or in a temporary file, migrated with the
 * same migrations as production. `countCalls` wraps a client to count round trips.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Client } from '@libsql/client'
import { drizzleLibsql, openLibsql, tuneEmbedded, type Database } from '../../worker/db/client'
import { applyMigrations } from '../../worker/db/migrate'

export interface TestDatabase {
  client: Client
  db: Database
  calls: CallCounts
}

export interface CallCounts {
  execute: number
  batch: number
  reset(): void
}

/** A migrated database: `:memory:` by default, or a file in a fresh temp directory. */
export async function testDatabase(kind: 'memory' | 'file' = 'memory'): Promise<TestDatabase> {
  const url = kind === 'memory' ? ':memory:' : `file:${join(mkdtempSync(join(tmpdir(), 'switchboard-')), 'test.db')}`
  const raw = openLibsql({ url })
  await tuneEmbedded(raw)
  const { client, calls } = countCalls(raw)
  const db = drizzleLibsql(client)
  await applyMigrations(db)
  calls.reset()
  return { client, db, calls }
}

/** Wraps a client so that every `execute` and `batch` (one database round trip each) is counted. */
export function countCalls(client: Client): { client: Client; calls: CallCounts } {
  const calls: CallCounts = {
    execute: 0,
    batch: 0,
    reset() {
      this.execute = 0
      this.batch = 0
    },
  }
  const wrapped = new Proxy(client, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver)
      if (prop === 'execute' || prop === 'batch') {
        return (...args: unknown[]) => {
          calls[prop]++
          return (value as (...a: unknown[]) => unknown).apply(target, args)
        }
      }
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  return { client: wrapped, calls }
}

/** Every row of every registry table, for checking that a rejected request changed nothing. */
export async function dumpTables(client: Client): Promise<string> {
  const tables = await client.execute(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '__drizzle%' ORDER BY name",
  )
  const out: string[] = []
  for (const row of tables.rows) {
    const name = String(row.name)
    const columns = await client.execute(`PRAGMA table_info("${name}")`)
    const order = columns.rows.map((_, i) => i + 1).join(', ')
    const rows = await client.execute(`SELECT * FROM "${name}" ORDER BY ${order}`)
    out.push(`${name}:${JSON.stringify(rows.rows)}`)
  }
  return out.join('\n')
}
