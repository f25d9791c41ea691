/**
 * The D1 driver (Workers): drizzle over a D1 binding. drizzle's D1 batch cannot bind
 * the parameters of raw SQL statements (it expects a prepared statement the raw ones do
 * not have), so batches are sent to D1 here, each statement prepared and bound from its
 * built SQL. A D1 batch is a transaction: a failing statement rolls back the whole batch.
 */
import { drizzle, type AnyD1Database } from 'drizzle-orm/d1'
import type { Database } from './client'
import * as schema from './schema'

interface Prepared {
  getQuery(): { sql: string; params: unknown[] }
  mapResult(result: unknown, isFromBatch: boolean): unknown
}

export function drizzleD1(d1: AnyD1Database): Database {
  const db = drizzle(d1, { schema }) as unknown as Database
  db.batch = async (queries) => {
    const prepared = (queries as { _prepare(): Prepared }[]).map((q) => q._prepare())
    const statements = prepared.map((p) => {
      const { sql, params } = p.getQuery()
      return d1.prepare(sql).bind(...params)
    })
    const results = await d1.batch(statements)
    return (results as unknown[]).map((r, i) => prepared[i]!.mapResult(r, true))
  }
  return db
}
