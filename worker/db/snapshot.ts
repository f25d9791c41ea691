/**
 * Snapshots: several queries that see the database as it was at one moment, however
 * long the reader takes between them and whatever is written meanwhile — a read
 * transaction of libSQL (the embedded file's is a connection of its own, a remote
 * database's an interactive transaction). Databases that offer none (D1, `:memory:`)
 * give no snapshot, and their readers fall back to one batch.
 */
import { LibsqlError, type Client, type InArgs, type Transaction } from '@libsql/core/api'
import type { SQL } from 'drizzle-orm'
import { SQLiteAsyncDialect } from 'drizzle-orm/sqlite-core'
import type { Database } from './client'

export interface Snapshot {
  all<T>(query: SQL): Promise<T[]>
  /** Ends the read transaction; the snapshot cannot be read after. */
  close(): void
}

const dialect = new SQLiteAsyncDialect()

/** A snapshot of `db` as it is now, or null when its driver offers none. */
export async function openSnapshot(db: Database): Promise<Snapshot | null> {
  const client = (db as unknown as { $client?: Partial<Client> }).$client
  if (typeof client?.transaction !== 'function' || typeof client.protocol !== 'string') return null
  let tx: Transaction
  try {
    tx = await client.transaction('read')
  } catch (e) {
    if (e instanceof LibsqlError && e.code === 'TRANSACTION_UNSUPPORTED') return null
    throw e
  }
  return {
    async all<T>(query: SQL): Promise<T[]> {
      const q = dialect.sqlToQuery(query)
      const result = await tx.execute({ sql: q.sql, args: q.params as InArgs })
      return result.rows as unknown as T[]
    },
    close: () => tx.close(),
  }
}
