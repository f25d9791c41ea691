/**
 * Real libSQL databases for Node tests: in memory or in a temporary file, migrated with
 * the same migrations as production, with every round trip counted.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Client } from '@libsql/client'
import { drizzleLibsql, openLibsql, tuneEmbedded } from '../../worker/db/client'
import { applyMigrations } from '../../worker/db/migrate'
import { callCounts, type CallCounts, type SqlClient, type TestDatabase } from './sql'

export { dumpTables, type CallCounts, type SqlClient, type TestDatabase } from './sql'

/** A migrated database: `:memory:` by default, or a file in a fresh temp directory. */
export async function testDatabase(kind: 'memory' | 'file' = 'memory'): Promise<TestDatabase> {
  const url = kind === 'memory' ? ':memory:' : `file:${join(mkdtempSync(join(tmpdir(), 'switchboard-')), 'test.db')}`
  const raw = openLibsql({ url })
  await tuneEmbedded(raw)
  const { client, calls } = countCalls(raw)
  const db = drizzleLibsql(client)
  await applyMigrations(db)
  calls.reset()
  return { client: sqlClient(client), db, calls }
}

/** Wraps a client so that every `execute` and `batch` (one database round trip each) is counted. */
export function countCalls(client: Client): { client: Client; calls: CallCounts } {
  const calls = callCounts()
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

function sqlClient(client: Client): SqlClient {
  return {
    execute: async (statement) =>
      client.execute(typeof statement === 'string' ? statement : { sql: statement.sql, args: statement.args as never }),
    close: () => client.close(),
  }
}
