/**
 * Statement text and arguments from the store's SQL, built without drizzle's general
 * query builder, and the batch every driver runs write and read batches with.
 *
 * The store writes its statements as drizzle `SQL` templates (built by its own tag,
 * sql.ts): strings, values and nested templates (`sql.raw`, `sql.join`). drizzle turns each
 * into text by a general walk that asks of every piece which of a dozen entity kinds it
 * is, copies its configuration at every level and merges arrays of partial results; on a
 * readiness write that walk cost more CPU than SQLite's execution of the same statements.
 * `compile` walks only what the store writes (text, values, nested templates) into one
 * string and one argument list, with the same result as drizzle's SQLite dialect (a `?`
 * per value, in order); anything else (a table or column object, a placeholder, an encoded
 * param, inlined params) answers null, and such a statement is built by drizzle as before.
 */
import { SQL, StringChunk } from 'drizzle-orm'
import type { Database } from './client'
import type { Client, InStatement } from '@libsql/core/api'
import { SQLiteRaw } from 'drizzle-orm/sqlite-core/query-builders/raw'

export interface CompiledStatement {
  sql: string
  args: unknown[]
}

/** The text and arguments of `query`, or null when it holds more than text, values and nested templates. */
export function compile(query: SQL): CompiledStatement | null {
  const parts: string[] = []
  const args: unknown[] = []
  return walk(query, parts, args) ? { sql: parts.join(''), args } : null
}

function walk(query: SQL, parts: string[], args: unknown[]): boolean {
  if ((query as unknown as { shouldInlineParams: boolean }).shouldInlineParams) return false
  for (const chunk of query.queryChunks) {
    if (chunk instanceof StringChunk) {
      for (const text of chunk.value) parts.push(text)
    } else if (chunk instanceof SQL) {
      if (!walk(chunk, parts, args)) return false
    } else if (chunk === null || typeof chunk === 'string' || typeof chunk === 'number' || typeof chunk === 'bigint' || typeof chunk === 'boolean') {
      parts.push('?')
      args.push(chunk)
    } else if (chunk !== undefined) {
      return false
    }
  }
  return true
}

/** A statement of a drizzle batch: a raw statement (`db.run`, `db.all`, `db.get`, `db.values`) or a query builder. */
interface BatchItem {
  _prepare(): { getQuery(): { sql: string; params: unknown[] }; mapResult(result: unknown, isFromBatch: boolean): unknown }
}

/**
 * Runs a drizzle batch with `run` (the driver's own batch: one transaction), each
 * statement compiled as above where it can be, and maps each result as drizzle would.
 */
export async function runBatch(
  queries: readonly unknown[],
  run: (statements: CompiledStatement[]) => Promise<unknown[]>,
): Promise<unknown[]> {
  const prepared = (queries as BatchItem[]).map((q) => q._prepare())
  const statements = (queries as BatchItem[]).map((q, i) => {
    const fast = q instanceof SQLiteRaw ? compile(q.getSQL()) : null
    if (fast) return fast
    const built = prepared[i]!.getQuery()
    return { sql: built.sql, args: built.params }
  })
  const results = await run(statements)
  return results.map((r, i) => prepared[i]!.mapResult(r, true))
}

/** `db` with its batches sent to the libSQL `client` (one transaction each), their statements built as above. */
export function withLibsqlBatch(db: Database, client: Pick<Client, 'batch'>): Database {
  db.batch = (queries) => runBatch(queries, (statements) => client.batch(statements as InStatement[]))
  return db
}
