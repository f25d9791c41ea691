/**
 * API tokens. Only the SHA-256 of a secret is stored; `namespaces` is a JSON list, and
 * `namespace_uids` binds the token to those namespaces as they were when it was issued
 * (name → uid), read in the same batch that stores it.
 */
import { sql } from '../sql'
import type { Database } from '../client'
import { RV, type Batch } from '../batch'
import { listWhere, type ListFilter } from '../filters'
import { RESOURCE_VERSION, rvOf } from '../objects'
import { pageOf } from '../page'
import type { ReadAll } from '../snapshot'
import { tokenTable } from '../tables'

/** A stored token (its secret is never stored, only its SHA-256). */
export interface TokenRow {
  name: string
  uid: string
  hash: string
  role: string
  namespaces: string[]
  expiresAt: string | null
  createdAt: string
  createdBy: string
  rv: number
  /**
   * Whether every namespace the token was issued for still exists with the uid it had
   * then. False once one was deleted (or deleted and re-created): the token is revoked.
   */
  bound: boolean
}

export interface TokenPage {
  rv: number
  items: TokenRow[]
  /** The name of the last item when more follow. */
  next?: string
}

const COLUMNS = sql.raw('name, uid, hash, role, namespaces, expires_at, created_at, created_by, rv')

/** The columns read: the stored ones, and whether the token's namespace bindings all still hold. */
const READ_COLUMNS = sql`${COLUMNS}, NOT EXISTS (
  SELECT 1 FROM json_each(tokens.namespace_uids) b
  WHERE NOT EXISTS (SELECT 1 FROM namespaces n WHERE n.name = b.key AND n.uid = b.value)) AS bound`

/**
 * Stores a token bound to the current uid of each of its namespaces. The batch fails with
 * `missing_namespace` when one of them (other than `*`) does not exist.
 */
export function createToken(b: Batch, t: Omit<TokenRow, 'rv' | 'bound'>): Promise<number> {
  const namespaces = JSON.stringify(t.namespaces)
  return b.write(
    [
      b.guard(
        'missing_namespace',
        sql`EXISTS (SELECT 1 FROM json_each(${namespaces}) j WHERE j.value <> '*' AND NOT EXISTS (SELECT 1 FROM namespaces n WHERE n.name = j.value))`,
      ),
      ...b.precondition(tokenTable, '', t.name, 'create'),
    ],
    [
      b.run(sql`
        INSERT INTO tokens (${COLUMNS}, namespace_uids)
        VALUES (${t.name}, ${t.uid}, ${t.hash}, ${t.role}, ${namespaces}, ${t.expiresAt}, ${t.createdAt},
                ${t.createdBy}, ${RV},
                (SELECT json_group_object(name, uid) FROM namespaces WHERE name IN (SELECT value FROM json_each(${namespaces}))))`),
      b.bareChange('Token', '', t.name, 'ADDED'),
    ],
  )
}

/** Which of `names` are not namespaces that exist (`*` is not a namespace name; it is never reported). */
export async function missingNamespaces(db: Database, names: string[]): Promise<string[]> {
  const rows = await db.all<{ value: string }>(
    sql`SELECT j.value AS value FROM json_each(${JSON.stringify(names)}) j
        WHERE j.value <> '*' AND NOT EXISTS (SELECT 1 FROM namespaces n WHERE n.name = j.value)`,
  )
  return rows.map((r) => String(r.value))
}

export function deleteToken(b: Batch, name: string): Promise<number> {
  return b.write(b.existing(tokenTable, '', name), [
    b.run(sql`DELETE FROM tokens WHERE name = ${name}`),
    b.bareChange('Token', '', name, 'DELETED'),
  ])
}

/** Tokens by name, or the one whose secret hashes to `hash`. */
export async function tokens(db: Database, by: { name?: string; hash?: string } = {}): Promise<TokenRow[]> {
  const where = by.hash !== undefined ? sql`hash = ${by.hash}` : by.name !== undefined ? sql`name = ${by.name}` : sql`1 = 1`
  return (await db.all<Record<string, unknown>>(sql`SELECT ${READ_COLUMNS} FROM tokens WHERE ${where} ORDER BY name`)).map(tokenOf)
}

/**
 * A page of tokens in name order and the resourceVersion it was read at, in one
 * consistent read (a batch, or a snapshot's reads). The filter's
 * `metadata.name` field selector and keyset apply; tokens have no labels, so a label
 * selector that needs one matches none.
 */
export async function tokenPage(read: ReadAll, filter: Omit<ListFilter, 'namespace' | 'namespaces'>): Promise<TokenPage> {
  const where = listWhere(tokenTable.labelKind, { namespace: sql`''`, name: sql`name` }, filter, (field) => {
    const column = tokenTable.fieldColumns[field]
    if (!column) throw new Error(`no column for field ${field} in tokens`)
    return sql.raw(column)
  })
  const limit = filter.limit ? sql` LIMIT ${filter.limit + 1}` : sql``
  const [rv, rows] = (await read([RESOURCE_VERSION, sql`SELECT ${READ_COLUMNS} FROM tokens WHERE ${where} ORDER BY name${limit}`])) as [
    unknown,
    Record<string, unknown>[],
  ]
  const { page: items, last } = pageOf(rows.map(tokenOf), filter.limit)
  return { rv: rvOf(rv), items, ...(last ? { next: last.name } : {}) }
}

function tokenOf(r: Record<string, unknown>): TokenRow {
  return {
    name: String(r.name),
    uid: String(r.uid),
    hash: String(r.hash),
    role: String(r.role),
    namespaces: JSON.parse(String(r.namespaces)) as string[],
    expiresAt: (r.expires_at as string | null) ?? null,
    createdAt: String(r.created_at),
    createdBy: String(r.created_by),
    rv: Number(r.rv),
    bound: Boolean(Number(r.bound)),
  }
}
