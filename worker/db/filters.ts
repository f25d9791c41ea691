/**
 * List filters in SQL: label-selector requirements become EXISTS subqueries over the
 * `labels` table, field-selector requirements become column comparisons, and the
 * continue token becomes a keyset bound on (namespace, name).
 */
import { sql, type SQL } from 'drizzle-orm'
import type { Requirement } from '../registry/labels'
import type { FieldRequirement } from '../registry/fields'

export interface ListFilter {
  namespace?: string
  /** Only objects in these namespaces (a token's reach). */
  namespaces?: string[]
  labels?: Requirement[]
  fields?: FieldRequirement[]
  /** Items strictly after this (namespace, name) key. */
  after?: { namespace: string; name: string }
  limit?: number
}

/**
 * Builds the WHERE clause for a list over `table`, whose objects have labels of `kind`.
 * `scope` is the column that `namespaces` restricts (a namespace's own name for namespaces).
 */
export function listWhere(
  kind: string,
  table: { namespace: SQL; name: SQL; scope?: SQL },
  filter: ListFilter,
  fieldColumn: (field: string) => SQL,
): SQL {
  const terms: SQL[] = [sql`1 = 1`]
  if (filter.namespace !== undefined) terms.push(sql`${table.namespace} = ${filter.namespace}`)
  if (filter.namespaces !== undefined) {
    terms.push(
      filter.namespaces.length
        ? sql`${table.scope ?? table.namespace} IN (${sql.join(
            filter.namespaces.map((n) => sql`${n}`),
            sql`, `,
          )})`
        : sql`0 = 1`,
    )
  }
  for (const req of filter.labels ?? []) terms.push(labelTerm(kind, table, req))
  for (const req of filter.fields ?? []) {
    const column = fieldColumn(req.field)
    terms.push(
      req.operator === 'equals'
        ? sql`coalesce(${column}, '') = ${req.value}`
        : sql`coalesce(${column}, '') <> ${req.value}`,
    )
  }
  if (filter.after) {
    terms.push(sql`(${table.namespace}, ${table.name}) > (${filter.after.namespace}, ${filter.after.name})`)
  }
  return sql.join(terms, sql` AND `)
}

function labelTerm(kind: string, table: { namespace: SQL; name: SQL }, req: Requirement): SQL {
  const row = (extra: SQL) =>
    sql`EXISTS (SELECT 1 FROM labels l WHERE l.kind = ${kind} AND l.namespace = ${table.namespace} AND l.name = ${table.name} AND l.key = ${req.key} AND ${extra})`
  const values = sql.join(
    req.values.map((v) => sql`${v}`),
    sql`, `,
  )
  switch (req.operator) {
    case 'exists':
      return row(sql`1 = 1`)
    case 'doesNotExist':
      return sql`NOT ${row(sql`1 = 1`)}`
    case 'equals':
      return row(sql`l.value = ${req.values[0] ?? ''}`)
    case 'notEquals':
      return sql`NOT ${row(sql`l.value = ${req.values[0] ?? ''}`)}`
    case 'in':
      return row(sql`l.value IN (${values})`)
    case 'notIn':
      return sql`NOT ${row(sql`l.value IN (${values})`)}`
    case 'gt':
    case 'lt': {
      const bound = Number(req.values[0])
      const cmp = req.operator === 'gt' ? sql`>` : sql`<`
      return row(
        sql`l.value <> '' AND l.value NOT GLOB '*[^0-9]*' AND CAST(l.value AS INTEGER) ${cmp} ${bound}`,
      )
    }
  }
}
