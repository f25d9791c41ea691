/**
 * The D1 driver (Workers): drizzle over a D1 binding. drizzle's D1 batch cannot bind
 * the parameters of raw SQL statements (it expects a prepared statement the raw ones do
 * not have), so batches are sent to D1 here, each statement prepared and bound from its
 * SQL as compile.ts builds it. A D1 batch is a transaction: a failing statement rolls back the whole batch.
 */
import { drizzle, type AnyD1Database } from 'drizzle-orm/d1'
import type { Database } from './client'
import { runBatch } from './compile'
import * as schema from './schema'

export function drizzleD1(d1: AnyD1Database): Database {
  const db = drizzle(d1, { schema }) as unknown as Database
  db.batch = (queries) => runBatch(queries, (statements) => d1.batch(statements.map((s) => d1.prepare(s.sql).bind(...s.args))))
  return db
}
