/**
 * Snapshots: several queries that see the database as it was at one moment, however
 * long the reader takes between them and whatever is written meanwhile — a read
 * transaction of libSQL (the embedded file's is a connection of its own, a remote
 * database's an interactive transaction). Databases that offer none (D1, `:memory:`)
 * give no snapshot, and their readers fall back to one batch.
 *
 * `openReads` gives a reader either way: the queries of each read run together in one
 * batch of the database, or one after another in the snapshot, and `snapshot` tells which,
 * so that a list read page by page can read everything at once when its pages would not
 * be one consistent list.
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

/** Runs queries as one consistent read, their rows in the same order (objects with the columns as keys). */
export type ReadAll = (queries: readonly SQL[]) => Promise<unknown[][]>

/** Reads of one consistent view: a snapshot's (`snapshot`), or each read one batch of the database. */
export interface Reads {
  all: ReadAll
  snapshot: boolean
  /** Ends the snapshot, if any; the reads cannot be used after. */
  close(): void
}

/** Each read one batch of `db`. */
export function batchReads(db: Database): ReadAll {
  return async (queries) => (queries.length ? ((await db.batch(queries.map((q) => db.all(q)))) as unknown[][]) : [])
}

/** Reads from a snapshot of `db` when its driver offers one, else each read one batch. */
export async function openReads(db: Database): Promise<Reads> {
  const snapshot = await openSnapshot(db)
  if (!snapshot) return { all: batchReads(db), snapshot: false, close: () => undefined }
  let closed = false
  return {
    async all(queries) {
      const out: unknown[][] = []
      // Rows as drizzle gives them: plain objects of the named columns.
      for (const query of queries) out.push((await snapshot.all<object>(query)).map((row) => ({ ...row })))
      return out
    },
    snapshot: true,
    close() {
      if (!closed) snapshot.close()
      closed = true
    },
  }
}

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
