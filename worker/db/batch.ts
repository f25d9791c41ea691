/**
 * The guarded write batch. Every write is one atomic `db.batch`: its guards, the bump of
 * the registry's resourceVersion, then its changes (object rows, their label, port and
 * allocation rows, endpoint rows and the change record) commit together or not at all.
 *
 * A dry-run batch (`dryRun()`) runs the same statements with one more at the end that
 * always fails, so every guard and unique allocation is checked exactly as for a real
 * write and then the whole batch is rolled back: nothing is stored, no listener is told.
 */
import type { SQL } from 'drizzle-orm'
import { sql } from './sql'
import type { Database } from './client'
import { PreconditionFailed, preconditionOf } from './errors'
import type { GuardCode } from './schema'
import { keyWhere, type KeyedTable } from './tables'

/** The resourceVersion the current batch commits at (read after its bump). */
export const RV = sql`(SELECT value FROM meta WHERE key = 'resourceVersion')`

/** The resourceVersion the current batch will commit at, before its bump (see writeIf). */
export const NEXT_RV = sql`(SELECT value + 1 FROM meta WHERE key = 'resourceVersion')`

/** Whether the current batch recorded an event of this object at its resourceVersion (after its bump; see writeIf). */
export function recorded(kind: string, namespace: string, name: string): SQL {
  return sql`EXISTS (SELECT 1 FROM changes WHERE rv = ${RV} AND kind = ${kind} AND namespace = ${namespace} AND name = ${name})`
}

export type Statement = Parameters<Database['batch']>[0][number]

/**
 * Bodies already serialized, so that a write's change record and its row share one JSON
 * text (and the size check's text, registry/limits.ts). A body is a fresh object for each
 * write (registry/meta.ts `objectWrite`, `storedForm`), never changed once it is
 * serialized.
 */
const texts = new WeakMap<object, string>()

/** The JSON text of an object body, serialized once however many statements of a write store it. */
export function bodyText(body: object): string {
  let text = texts.get(body)
  if (text === undefined) {
    text = JSON.stringify(body)
    texts.set(body, text)
  }
  return text
}

/** `create`: the name must be free. A number: the stored object must have that resourceVersion. */
export type Precondition = 'create' | { rv: number }

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED'

/** Told of each committed write: its resourceVersion, and the milliseconds its batch took to commit. */
export type WriteListener = (rv: number, ms: number) => void

/** What a dry-run write resolves to: it committed at no resourceVersion. */
export const DRY_RUN_RV = 0

/**
 * The last statement of a dry-run batch: it always fails (guard.code is NOT NULL), which
 * rolls the batch back. The embedded client knows a dry run by it (it stores nothing, so it
 * is not held to the free-space reserve).
 */
export const ROLL_BACK_SQL = 'INSERT INTO guard (code) VALUES (NULL)'
const ROLL_BACK = sql.raw(ROLL_BACK_SQL)

/** Whether a batch failed on ROLL_BACK, i.e. everything before it ran. */
function rolledBack(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (/NOT NULL constraint failed: guard\.code/.test(e.message)) return true
  }
  return false
}

export class Batch {
  constructor(
    readonly db: Database,
    private readonly now: () => Date,
    /** The token name recorded with each change. */
    readonly actor = '',
    private readonly listeners: WriteListener[] = [],
    /** Roll every write back after its guards and changes ran (see the top of this file). */
    readonly dry = false,
  ) {}

  /** The same batches, recording `actor` (listeners are shared). */
  as(actor: string): Batch {
    return new Batch(this.db, this.now, actor, this.listeners, this.dry)
  }

  /** The same batches, each rolled back once it has run whole (a dry run). */
  dryRun(): Batch {
    return new Batch(this.db, this.now, this.actor, this.listeners, true)
  }

  /** Calls `listener` after every committed write, with its resourceVersion and how long its batch took. */
  onWrite(listener: WriteListener): void {
    this.listeners.push(listener)
  }

  run(query: SQL): Statement {
    return this.db.run(query)
  }

  /**
   * Runs one write batch: the guards, the resourceVersion bump, then the changes.
   * Returns the resourceVersion the batch committed at; a dry run resolves to
   * DRY_RUN_RV once everything in it ran, and commits nothing.
   */
  async write(guards: Statement[], changes: Statement[]): Promise<number> {
    const bump = this.db.all(sql`UPDATE meta SET value = value + 1 WHERE key = 'resourceVersion' RETURNING value`)
    let results: unknown[]
    const started = performance.now()
    try {
      results = await this.db.batch([...guards, bump, ...changes, ...(this.dry ? [this.run(ROLL_BACK)] : [])])
    } catch (error) {
      const code = preconditionOf(error)
      if (code) throw new PreconditionFailed(code)
      if (this.dry && rolledBack(error)) return DRY_RUN_RV
      throw error
    }
    const rows = results[guards.length] as { value: number }[] | undefined
    if (!rows?.[0]) throw new Error('write batch did not return the new resourceVersion')
    const rv = Number(rows[0].value)
    const ms = performance.now() - started
    for (const listener of this.listeners) listener(rv, ms)
    return rv
  }

  /**
   * A write that applies only if its change record does. `record` inserts the write's
   * change-log event at the next resourceVersion (NEXT_RV) when, and only when, the write
   * applies, so that its condition is judged once; the resourceVersion is bumped only when
   * that event exists, and each of `changes` must check that it does (`recorded`), so that
   * nothing is written when the record was not. Returns the new resourceVersion and the
   * changes' results, or null when nothing was recorded (nothing was written).
   */
  async writeIf(record: Statement, changes: Statement[]): Promise<{ rv: number; results: unknown[] } | null> {
    if (this.dry) throw new Error('a conditional write has no dry run')
    // No event is ever at the next resourceVersion but one this batch has just recorded.
    const bump = this.db.all(
      sql`UPDATE meta SET value = value + 1 WHERE key = 'resourceVersion' AND EXISTS (SELECT 1 FROM changes WHERE rv = meta.value + 1) RETURNING value`,
    )
    const started = performance.now()
    const results = await this.db.batch([record, bump, ...changes])
    const rows = results[1] as { value: number }[]
    if (!rows[0]) return null
    const rv = Number(rows[0].value)
    const ms = performance.now() - started
    for (const listener of this.listeners) listener(rv, ms)
    return { rv, results: results.slice(2) }
  }

  /** A statement that fails the batch with `code` when `failure` holds. */
  guard(code: GuardCode, failure: SQL): Statement {
    return this.run(sql`INSERT INTO guard (code) SELECT ${code} WHERE ${failure}`)
  }

  /** Guards that the namespace exists. */
  namespaceExists(namespace: string): Statement {
    return this.guard('missing_namespace', sql`NOT EXISTS (SELECT 1 FROM namespaces WHERE name = ${namespace})`)
  }

  /** Guards that no object of `table` has this key. */
  absent(table: KeyedTable, namespace: string, name: string): Statement {
    return this.guard('exists', sql`EXISTS (SELECT 1 FROM ${sql.raw(table.table)} WHERE ${keyWhere(table, namespace, name)})`)
  }

  /**
   * Guards that the object exists and, when asked, that it is still at a resourceVersion:
   * one statement, failing with not_found when there is no such object, else with conflict.
   */
  existing(table: KeyedTable, namespace: string, name: string, pre?: Precondition): Statement[] {
    const t = sql.raw(table.table)
    const where = keyWhere(table, namespace, name)
    if (!pre || pre === 'create') return [this.guard('not_found', sql`NOT EXISTS (SELECT 1 FROM ${t} WHERE ${where})`)]
    return [
      this.run(sql`INSERT INTO guard (code) SELECT CASE WHEN EXISTS (SELECT 1 FROM ${t} WHERE ${where}) THEN 'conflict' ELSE 'not_found' END
        WHERE NOT EXISTS (SELECT 1 FROM ${t} WHERE ${where} AND rv = ${pre.rv})`),
    ]
  }

  /** Guards that a lease is still at resourceVersion `rv` (null: that there is still no such lease). */
  leaseAt(namespace: string, name: string, rv: number | null): Statement {
    const lease = sql`SELECT 1 FROM leases WHERE namespace = ${namespace} AND name = ${name}`
    return rv === null ? this.guard('conflict', sql`EXISTS (${lease})`) : this.guard('conflict', sql`NOT EXISTS (${lease} AND rv = ${rv})`)
  }

  /**
   * The guards of a write: a create needs its namespace (if any) and a free name (one
   * statement, failing with missing_namespace first, else with exists); a replace, the object as read.
   */
  precondition(table: KeyedTable, namespace: string, name: string, pre: Precondition): Statement[] {
    if (pre !== 'create') return this.existing(table, namespace, name, pre)
    const taken = sql`EXISTS (SELECT 1 FROM ${sql.raw(table.table)} WHERE ${keyWhere(table, namespace, name)})`
    if (!table.namespaced) return [this.guard('exists', taken)]
    const missing = sql`NOT EXISTS (SELECT 1 FROM namespaces WHERE name = ${namespace})`
    return [this.run(sql`INSERT INTO guard (code) SELECT CASE WHEN ${missing} THEN 'missing_namespace' ELSE 'exists' END WHERE ${missing} OR ${taken}`)]
  }

  /**
   * The event of one object in the change log. ADDED and MODIFIED record `object` as
   * written; MODIFIED also the object as stored before (unless `recordBefore` is false:
   * registry/event-before.ts), and DELETED the object as stored last, both read from
   * `table`: so this statement goes before the one that writes or deletes the object's row.
   */
  change(kind: string, table: KeyedTable, namespace: string, name: string, type: ChangeType, object?: Record<string, unknown>, recordBefore = true): Statement {
    const stored = sql`(SELECT body FROM ${sql.raw(table.table)} WHERE ${keyWhere(table, namespace, name)})`
    const written = type === 'DELETED' ? stored : object === undefined ? sql`NULL` : sql`${bodyText(object)}`
    const before = type === 'MODIFIED' && recordBefore ? stored : sql`NULL`
    return this.run(
      sql`INSERT INTO changes (rv, kind, namespace, name, type, at, actor, object, old_object)
          VALUES (${RV}, ${kind}, ${namespace}, ${name}, ${type}, ${this.at()}, ${this.actor}, ${written}, ${before})`,
    )
  }

  /** An event without an object (tokens: their rows hold a secret's hash, never logged). */
  bareChange(kind: string, namespace: string, name: string, type: ChangeType): Statement {
    return this.run(
      sql`INSERT INTO changes (rv, kind, namespace, name, type, at, actor) VALUES (${RV}, ${kind}, ${namespace}, ${name}, ${type}, ${this.at()}, ${this.actor})`,
    )
  }

  /** DELETED events for every object of `table` in a namespace (a namespace's deletion), before the rows go. */
  deletedIn(kind: string, table: string, namespace: string): Statement {
    return this.run(
      sql`INSERT INTO changes (rv, kind, namespace, name, type, at, actor, object)
          SELECT ${RV}, ${kind}, namespace, name, 'DELETED', ${this.at()}, ${this.actor}, body FROM ${sql.raw(table)} WHERE namespace = ${namespace}`,
    )
  }

  /** The time recorded with this batch's changes. */
  at(): string {
    return this.now().toISOString()
  }
}
