/**
 * Generic reads of the object tables, driven by their `ObjectTable` descriptors: one
 * object by key, a filtered page of a list, the registry's resourceVersion.
 */
import { sql } from './sql'
import type { Database } from './client'
import { listWhere, type ListFilter } from './filters'
import { pageOf } from './page'
import type { ReadAll } from './snapshot'
import { keyWhere, type ObjectTable } from './tables'

/** A stored object: its JSON body (resourceVersion not included) and its resourceVersion. */
export interface StoredObject {
  rv: number
  body: Record<string, unknown>
}

export interface ListResult {
  rv: number
  items: StoredObject[]
  /** The (namespace, name) of the last item when more items follow. */
  next?: { namespace: string; name: string }
}

export const RESOURCE_VERSION = sql`SELECT value FROM meta WHERE key = 'resourceVersion'`

/** The registry's current resourceVersion. */
export async function resourceVersion(db: Database): Promise<number> {
  return rvOf(await db.all<{ value: number }>(RESOURCE_VERSION))
}

/** A statement reading the registry's resourceVersion inside a read batch (see `rvOf`). */
export function readResourceVersion(db: Database) {
  return db.all(RESOURCE_VERSION)
}

/** The resourceVersion from the rows of `readResourceVersion`. */
export function rvOf(rows: unknown): number {
  return Number((rows as { value: number }[])[0]?.value ?? 0)
}

export async function getObject(db: Database, table: ObjectTable, namespace: string, name: string): Promise<StoredObject | null> {
  const rows = await db.all<{ rv: number; body: string }>(
    sql`SELECT rv, body FROM ${sql.raw(table.table)} WHERE ${keyWhere(table, namespace, name)}`,
  )
  const row = rows[0]
  return row ? { rv: Number(row.rv), body: JSON.parse(row.body) } : null
}

/** A consistent page of objects and the resourceVersion it was read at (`read`: a batch, or a snapshot's reads; see snapshot.ts). */
export async function listObjects(read: ReadAll, table: ObjectTable, filter: ListFilter): Promise<ListResult> {
  const [rvRows, rows] = (await read([RESOURCE_VERSION, listSelect(table, filter)])) as [unknown, ListRow[]]
  return listResult(rvOf(rvRows), rows, filter.limit)
}

type ListRow = { ns: string; name: string; rv: number; body: string }

/** The SELECT of a list: the filter's objects in (namespace, name) order, `limit + 1` of them when limited. */
function listSelect(table: ObjectTable, filter: ListFilter) {
  // The listed table is aliased `o` so that label subqueries refer to its columns, not their own.
  const namespaceColumn = table.namespaced ? sql`o.namespace` : sql`''`
  const scope = table.namespaced ? namespaceColumn : sql`o.name`
  const where = listWhere(table.labelKind, { namespace: namespaceColumn, name: sql`o.name`, scope }, filter, (field) => {
    const column = table.fieldColumns[field]
    if (!column) throw new Error(`no column for field ${field} in ${table.table}`)
    return sql.raw(`o.${column}`)
  })
  const limit = filter.limit && filter.limit > 0 ? sql` LIMIT ${filter.limit + 1}` : sql``
  return sql`SELECT ${namespaceColumn} AS ns, o.name AS name, o.rv AS rv, o.body AS body FROM ${sql.raw(table.table)} o WHERE ${where} ORDER BY ${namespaceColumn}, o.name${limit}`
}

function listResult(rv: number, rows: ListRow[], limit: number | undefined): ListResult {
  const { page, last } = pageOf(rows, limit)
  return {
    rv,
    items: page.map((r) => ({ rv: Number(r.rv), body: JSON.parse(r.body) })),
    ...(last ? { next: { namespace: last.ns, name: last.name } } : {}),
  }
}
