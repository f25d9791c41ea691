/**
 * Rows of child tables that belong to one owner, keyed by (namespace, owner): a
 * service's selectors, ports and allocations, a pod's named ports.
 */
import { sql } from '../sql'
import type { Batch, Statement } from '../batch'

/** Replaces the rows of a child table that belong to one owner; a new owner (`fresh`) has none to delete. */
export function replaceRows(
  b: Batch,
  table: string,
  namespace: string,
  ownerColumn: string,
  owner: string,
  columns: string[],
  rows: unknown[][],
  fresh = false,
): Statement[] {
  const del = fresh ? [] : [deleteRows(b, table, namespace, ownerColumn, owner)]
  if (rows.length === 0) return del
  const names = sql.raw(['namespace', ownerColumn, ...columns].join(', '))
  // The rows go as one JSON array of arrays: three parameters however many rows (D1 takes at most 100 per statement).
  const values = sql.raw(columns.map((_, i) => `json_extract(j.value, '$[${i}]')`).join(', '))
  return [...del, b.run(sql`INSERT INTO ${sql.raw(table)} (${names}) SELECT ${namespace}, ${owner}, ${values} FROM json_each(${JSON.stringify(rows)}) j`)]
}

/** Deletes the rows of a child table that belong to one owner. */
export function deleteRows(b: Batch, table: string, namespace: string, ownerColumn: string, owner: string): Statement {
  return b.run(sql`DELETE FROM ${sql.raw(table)} WHERE namespace = ${namespace} AND ${sql.raw(ownerColumn)} = ${owner}`)
}
