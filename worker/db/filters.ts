/**
 * List filters in SQL: label-selector requirements become EXISTS subqueries over the
 * `labels` table, field-selector requirements become column comparisons (at most two
 * parameters per field, whatever the number of terms), and the
 * continue token becomes a keyset bound on (namespace, name). Label requirements match
 * exactly as `matchesRequirement` (worker/selectors/labels.ts) matches them in memory.
 */
import type { SQL } from 'drizzle-orm'
import { sql } from './sql'
import { INT64_MAX, INT64_MIN, parseInt64 } from '../selectors/int64'
import type { FieldRequirement, Requirement } from '../selectors/types'

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
    // One JSON parameter however many namespaces a token reaches (D1 takes at most 100 parameters per statement).
    terms.push(
      filter.namespaces.length
        ? sql`${table.scope ?? table.namespace} IN (SELECT value FROM json_each(${JSON.stringify(filter.namespaces)}))`
        : sql`0 = 1`,
    )
  }
  for (const req of filter.labels ?? []) terms.push(labelTerm(kind, table, req))
  for (const [field, reqs] of byField(filter.fields ?? [])) terms.push(fieldTerm(fieldColumn(field), reqs))
  if (filter.after) {
    terms.push(sql`(${table.namespace}, ${table.name}) > (${filter.after.namespace}, ${filter.after.name})`)
  }
  return allOf(terms)
}

/**
 * The conjunction of `terms` as a balanced tree of ANDs: `a AND b AND c …` parses as a chain
 * as deep as it is long, and SQLite caps an expression's depth (1000; D1 sets 100), so a
 * selector's hundred requirements must nest logarithmically.
 */
function allOf(terms: SQL[]): SQL {
  if (terms.length === 1) return terms[0]!
  const half = Math.ceil(terms.length / 2)
  return sql`(${allOf(terms.slice(0, half))}) AND (${allOf(terms.slice(half))})`
}

/**
 * One label requirement as an EXISTS subquery. Its key and values are written into the
 * statement as string literals rather than bound: a selector's keys and values have label
 * syntax (the parser refuses anything else; quotes are doubled all the same), and bound
 * they would cap a selector at D1's 100 parameters per statement. Literals keep the plan
 * (one index probe per object), and the selector limits (registry/limits.ts) keep the
 * statement within D1's 100 KB.
 */
function labelTerm(kind: string, table: { namespace: SQL; name: SQL }, req: Requirement): SQL {
  const row = (extra: SQL) =>
    sql`EXISTS (SELECT 1 FROM labels l WHERE l.kind = ${literal(kind)} AND l.namespace = ${table.namespace} AND l.name = ${table.name} AND l.key = ${literal(req.key)} AND ${extra})`
  const values = sql.raw(req.values.map(quote).join(', '))
  switch (req.operator) {
    case 'exists':
      return row(sql`1 = 1`)
    case 'doesNotExist':
      return sql`NOT ${row(sql`1 = 1`)}`
    case 'equals':
    case 'in':
      return row(sql`l.value IN (${values})`)
    case 'notEquals':
    case 'notIn':
      return sql`NOT ${row(sql`l.value IN (${values})`)}`
    case 'gt':
    case 'lt': {
      const bound = req.values.length === 1 ? parseInt64(req.values[0] ?? '') : null
      if (bound === null) return sql`0 = 1`
      const cmp = req.operator === 'gt' ? sql`>` : sql`<`
      return row(sql`${int64Value(sql`l.value`)} ${cmp} CAST(${sql.raw(bound.toString())} AS INTEGER)`)
    }
  }
}

/** A string as the text of an SQL string literal, quotes doubled. */
function quote(value: string): string {
  return `'${value.replaceAll("'", "''")}'`
}

function literal(value: string): SQL {
  return sql.raw(quote(value))
}

/** The field requirements grouped by field, in first-seen order. */
function byField(reqs: readonly FieldRequirement[]): Map<string, FieldRequirement[]> {
  const out = new Map<string, FieldRequirement[]>()
  for (const req of reqs) out.set(req.field, [...(out.get(req.field) ?? []), req])
  return out
}

/**
 * Every requirement on one field (a missing value reads as ''), in at most two terms of
 * one parameter each however many there are: `field=v` terms all hold only when they name
 * one value, and `field!=v` terms become one NOT IN over a JSON list.
 */
function fieldTerm(column: SQL, reqs: readonly FieldRequirement[]): SQL {
  const value = sql`coalesce(${column}, '')`
  const equal = [...new Set(reqs.filter((r) => r.operator === 'equals').map((r) => r.value))]
  const unequal = [...new Set(reqs.filter((r) => r.operator === 'notEquals').map((r) => r.value))]
  const terms: SQL[] = []
  if (equal.length > 1) return sql`0 = 1`
  if (equal.length === 1) terms.push(sql`${value} = ${equal[0]}`)
  if (unequal.length) terms.push(sql`${value} NOT IN (SELECT value FROM json_each(${JSON.stringify(unequal)}))`)
  return sql.join(terms, sql` AND `)
}

// Constants of the rule, written into the SQL as literals (D1 caps the parameters of a statement).
const MAX_DIGITS = sql.raw(String(INT64_MAX.toString().length))
const MAX_MAGNITUDE = sql.raw(`'${INT64_MAX}'`)
const MIN_MAGNITUDE = sql.raw(`'${-INT64_MIN}'`)

/**
 * `parseInt64` (worker/selectors/int64.ts) in SQL: the text as an INTEGER when it is an
 * optional sign and decimal digits within int64, else NULL (which no comparison matches).
 * The range is checked on the digits, leading zeros dropped, before the CAST, which alone
 * would clamp out-of-range text to the int64 bounds.
 */
function int64Value(text: SQL): SQL {
  const negative = sql`substr(${text}, 1, 1) = '-'`
  const digits = sql`CASE WHEN substr(${text}, 1, 1) IN ('+', '-') THEN substr(${text}, 2) ELSE ${text} END`
  const magnitude = sql`ltrim(${digits}, '0')`
  const limit = sql`CASE WHEN ${negative} THEN ${MIN_MAGNITUDE} ELSE ${MAX_MAGNITUDE} END`
  const decimal = sql`${digits} <> '' AND ${digits} NOT GLOB '*[^0-9]*'`
  const inRange = sql`(length(${magnitude}) < ${MAX_DIGITS} OR (length(${magnitude}) = ${MAX_DIGITS} AND ${magnitude} <= ${limit}))`
  return sql`(CASE WHEN ${decimal} AND ${inRange} THEN CAST(${text} AS INTEGER) END)`
}
