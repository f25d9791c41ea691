/**
 * Label rows: one row per label pair of every object, so that label selectors and
 * service selectors match in SQL.
 */
import { sql } from '../sql'
import type { Batch, Statement } from '../batch'

/** Replaces an object's label rows; a new object (`fresh`) has none to delete. */
export function labelRows(b: Batch, kind: string, namespace: string, name: string, labels: Record<string, string>, fresh = false): Statement[] {
  const del = fresh ? [] : [deleteLabels(b, kind, namespace, name)]
  if (Object.keys(labels).length === 0) return del
  // The pairs go as one JSON parameter: the statement has four parameters however many labels (D1 takes at most 100).
  return [
    ...del,
    b.run(sql`INSERT INTO labels (kind, namespace, name, key, value)
      SELECT ${kind}, ${namespace}, ${name}, j.key, j.value FROM json_each(${JSON.stringify(labels)}) j`),
  ]
}

/** Deletes an object's label rows. */
export function deleteLabels(b: Batch, kind: string, namespace: string, name: string): Statement {
  return b.run(sql`DELETE FROM labels WHERE kind = ${kind} AND namespace = ${namespace} AND name = ${name}`)
}
