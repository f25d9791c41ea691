/**
 * Reads and compaction of the change log (`changes`): the events after a resourceVersion,
 * in order, with the newest compacted resourceVersion; and pruning of the events older
 * than the retention window, a bounded slice per batch so that writes are never held up
 * for long.
 */
import { sql } from './sql'
import type { Database } from './client'
import { readResourceVersion, rvOf } from './objects'

export interface ChangeRow {
  rv: number
  kind: string
  namespace: string
  name: string
  type: 'ADDED' | 'MODIFIED' | 'DELETED'
  object: string | null
  oldObject: string | null
}

export interface ChangesRead {
  /** The registry's resourceVersion when the events were read. */
  rv: number
  /** Events at or before this resourceVersion may be gone. */
  compactedRv: number
  rows: ChangeRow[]
  /** More events follow the last one read (the read stopped at `limit`). */
  more: boolean
}

/** Rows deleted per compaction batch. */
const COMPACTION_SLICE = 5000

/** The events after `after`, oldest first, at most `limit` of them (one indexed read). */
export async function changesSince(db: Database, after: number, limit: number): Promise<ChangesRead> {
  const [rv, compacted, rows] = (await db.batch([
    readResourceVersion(db),
    db.all(sql`SELECT value FROM meta WHERE key = 'compactedRv'`),
    db.all(sql`SELECT rv, kind, namespace, name, type, object, old_object AS oldObject FROM changes
                WHERE rv > ${after} ORDER BY rv, id LIMIT ${limit + 1}`),
  ])) as [unknown, { value: number }[], ChangeRow[]]
  const page = rows.slice(0, limit).map((r) => ({ ...r, rv: Number(r.rv) }))
  return { rv: rvOf(rv), compactedRv: Number(compacted[0]?.value ?? 0), rows: page, more: rows.length > limit }
}

/**
 * Deletes the events recorded before `before` (an ISO time), oldest first, in slices, and
 * records the newest deleted resourceVersion as compacted. Returns how many were deleted.
 */
export async function compactChanges(db: Database, before: string): Promise<number> {
  let deleted = 0
  for (;;) {
    const slice = sql`SELECT id FROM (SELECT id, at FROM changes ORDER BY id LIMIT ${COMPACTION_SLICE}) WHERE at < ${before}`
    const [, gone] = (await db.batch([
      db.run(sql`UPDATE meta SET value = max(value, (SELECT coalesce(max(rv), 0) FROM changes WHERE id IN (${slice})))
                  WHERE key = 'compactedRv'`),
      db.all(sql`DELETE FROM changes WHERE id IN (${slice}) RETURNING id`),
    ])) as [unknown, unknown[]]
    deleted += gone.length
    if (gone.length < COMPACTION_SLICE) return deleted
  }
}
