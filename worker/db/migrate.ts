/**
 * The migrations in `migrations/`, applied to a libSQL database: at start-up on Node
 * (`npm start`), and by `npm run migrate` on any DATABASE_URL (an embedded file, or a
 * remote libSQL server such as Turso). One implementation serves both. D1 is migrated by
 * wrangler (`wrangler d1 migrations apply`, recorded in its `d1_migrations` table); the
 * Workers runtime does not import this file.
 *
 * What ran is recorded as drizzle's migrator records it, in `__drizzle_migrations`: one
 * row per migration with the SHA-256 of its file and its journal time (`when`) in
 * `created_at`. As with drizzle, a migration is pending when its time is later than the
 * last one recorded. Each pending migration runs in one batch together with its record,
 * so a failure leaves every earlier migration applied and recorded and this one not at all.
 * A unique index on `created_at` lets one process alone record (and so run) each
 * migration: a batch that fails because another process applied it first counts as done.
 *
 * A database whose tables exist while nothing is recorded (made by running the migration
 * files by hand, as Turso once had to be) is adopted only when its schema is exactly the
 * schema the first k migrations make, for one k: those k are recorded without running
 * them again, and the rest run. Otherwise nothing is changed and the reason is given.
 */
import { fileURLToPath } from 'node:url'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { readMigrationFiles } from 'drizzle-orm/migrator'
import type { Client, InStatement } from '@libsql/client'
import { openLibsql, type Database } from './client'

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../migrations', import.meta.url))

/** The table drizzle's migrator records applied migrations in (its own DDL, so either may record). */
const TABLE = '__drizzle_migrations'
const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS "${TABLE}" (
			id SERIAL PRIMARY KEY,
			hash text NOT NULL,
			created_at numeric
		)`
/** One record per migration: a second process's record of the same one fails, and with it that process's whole batch. */
const UNIQUE_RECORD = `CREATE UNIQUE INDEX IF NOT EXISTS "${TABLE}_once" ON "${TABLE}" (created_at)`
const RECORD = `INSERT INTO "${TABLE}" ("hash", "created_at") VALUES (?, ?)`

/** Tables that are no part of the registry's schema: SQLite's, libSQL's, D1's, and the record itself. */
const FOREIGN = `name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE 'libsql\\_%' ESCAPE '\\' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND tbl_name NOT IN ('${TABLE}', 'd1_migrations')`

/** One file of `migrations/`, as its journal names it. */
export interface Migration {
  tag: string
  /** The journal's `when` (ms), recorded as `created_at`. */
  when: number
  /** SHA-256 of the file, hex, as drizzle records it. */
  hash: string
  statements: string[]
}

export interface MigrationState extends Migration {
  applied: boolean
  /** The hash recorded when it ran, where it differs from the file's now (the file was edited since). */
  changedFrom?: string
}

/** What a database has of the migrations, read without changing it. */
export type MigrationPlan =
  | { kind: 'recorded'; migrations: MigrationState[]; warnings: string[] }
  /** Tables made without records, whose schema is that of the first `adopt` migrations. */
  | { kind: 'unrecorded'; adopt: number; migrations: MigrationState[]; warnings: string[] }

/** What applying did: each migration recorded without running (adopted), and each run. */
export interface MigrationReport {
  adopted: string[]
  applied: string[]
  total: number
  warnings: string[]
}

/** A database that migrations cannot be applied to safely; nothing was changed. */
export class MigrationError extends Error {
  override name = 'MigrationError'
}

/** The migrations of `folder`, in journal order, with drizzle's hashes. */
export function readMigrations(folder = MIGRATIONS_FOLDER): Migration[] {
  const journal = JSON.parse(readFileSync(join(folder, 'meta', '_journal.json'), 'utf8')) as { entries: { tag: string; when: number }[] }
  const files = readMigrationFiles({ migrationsFolder: folder })
  return journal.entries.map((entry, i) => ({
    tag: entry.tag,
    when: entry.when,
    hash: files[i]!.hash,
    statements: files[i]!.sql.filter((s) => s.trim() !== ''),
  }))
}

/** Reads what `client`'s database has applied; throws MigrationError when that cannot be told safely. Changes nothing. */
export async function migrationPlan(client: Client, folder = MIGRATIONS_FOLDER): Promise<MigrationPlan> {
  const migrations = readMigrations(folder)
  const tables = new Set((await client.execute(`SELECT name FROM sqlite_master WHERE type = 'table'`)).rows.map((r) => String(r.name)))
  if (tables.has('d1_migrations')) {
    throw new MigrationError(
      'this database is a D1 database migrated by wrangler (it has d1_migrations): apply migrations with `npx wrangler d1 migrations apply DB --remote` (or --local), not npm run migrate',
    )
  }
  const recorded = tables.has(TABLE)
    ? (await client.execute(`SELECT hash, created_at FROM "${TABLE}"`)).rows.map((r) => ({ hash: String(r.hash), when: Number(r.created_at) }))
    : []
  if (recorded.length === 0 && (await hasSchema(client))) return unrecorded(client, migrations)

  const last = Math.max(-Infinity, ...recorded.map((r) => r.when))
  const warnings: string[] = []
  const states = migrations.map((m): MigrationState => {
    if (m.when > last) return { ...m, applied: false }
    const row = recorded.find((r) => r.when === m.when)
    if (!row) {
      throw new MigrationError(
        `migration ${m.tag} is older than the last one recorded but was never recorded as applied (was it added after a later one ran?): apply it by hand and record it, or give it a later time in migrations/meta/_journal.json; nothing was changed`,
      )
    }
    if (row.hash !== m.hash) {
      warnings.push(`migration ${m.tag} was edited after it was applied (recorded hash ${row.hash.slice(0, 12)}…, file ${m.hash.slice(0, 12)}…)`)
      return { ...m, applied: true, changedFrom: row.hash }
    }
    return { ...m, applied: true }
  })
  for (const r of recorded) {
    if (!migrations.some((m) => m.when === r.when)) warnings.push(`a migration recorded at ${r.when} is not in migrations/: the database was migrated by a newer version`)
  }
  return { kind: 'recorded', migrations: states, warnings }
}

/**
 * Applies the pending migrations (adopting unrecorded tables first, see the top of this
 * file), reporting each as it goes through `log`.
 */
export async function migrateClient(client: Client, options: { folder?: string; log?: (line: string) => void } = {}): Promise<MigrationReport> {
  const plan = await migrationPlan(client, options.folder)
  const log = options.log ?? (() => undefined)
  for (const w of plan.warnings) log(`warning: ${w}`)
  const report: MigrationReport = { adopted: [], applied: [], total: plan.migrations.length, warnings: plan.warnings }
  if (plan.kind === 'unrecorded') {
    const adopted = plan.migrations.slice(0, plan.adopt)
    await client.migrate([CREATE_TABLE, UNIQUE_RECORD, ...adopted.map((m): InStatement => ({ sql: RECORD, args: [m.hash, m.when] }))])
    for (const m of adopted) {
      report.adopted.push(m.tag)
      log(`recorded ${m.tag} as applied (its schema was already there)`)
    }
  } else if (plan.migrations.some((m) => !m.applied)) {
    await client.migrate([CREATE_TABLE, UNIQUE_RECORD])
  }
  for (const m of plan.migrations.slice(plan.kind === 'unrecorded' ? plan.adopt : 0)) {
    if (m.applied) continue
    try {
      // The record first: if another process recorded it since the plan was read, nothing of it runs twice.
      await client.migrate([{ sql: RECORD, args: [m.hash, m.when] }, ...m.statements])
    } catch (e) {
      // Another process (a second `npm start`, or `npm run migrate` beside it) may have applied it first: its batch failed whole.
      if (!(await recordedAt(client, m.when))) throw e
      log(`${m.tag} was applied meanwhile by another process`)
      continue
    }
    report.applied.push(m.tag)
    log(`applied ${m.tag}`)
  }
  return report
}

/** Start-up's migration (Node, tests, benchmarks): `migrateClient` on the database's own client. */
export async function applyMigrations(db: Database, options: { folder?: string; log?: (line: string) => void } = {}): Promise<MigrationReport> {
  return migrateClient((db as unknown as { $client: Client }).$client, options)
}

/**
 * Opens a database for `npm run migrate`: an embedded file waits for a running server's
 * write lock (the embedded client's set-up statements do, up to its busy timeout), and is
 * otherwise left as it is (its journal mode is `npm start`'s business), so that a refusal
 * or `--status` changes nothing.
 */
export async function openForMigration(url: string, authToken: string | undefined): Promise<Client> {
  return openLibsql({ url, ...(authToken ? { authToken } : {}) })
}

async function recordedAt(client: Client, when: number): Promise<boolean> {
  return (await client.execute({ sql: `SELECT 1 FROM "${TABLE}" WHERE created_at = ?`, args: [when] })).rows.length > 0
}

/** Whether the database holds any table, index, view or trigger of the registry's (or anyone's) beyond the bookkeeping. */
async function hasSchema(client: Client): Promise<boolean> {
  return (await client.execute(`SELECT 1 FROM sqlite_master WHERE ${FOREIGN} LIMIT 1`)).rows.length > 0
}

/** The schema, as sorted `type name: sql` lines, leaving out what `FOREIGN` leaves out. */
async function schemaOf(client: Client): Promise<string[]> {
  const rows = (await client.execute(`SELECT type, name, sql FROM sqlite_master WHERE ${FOREIGN}`)).rows
  return rows.map((r) => `${String(r.type)} ${String(r.name)}: ${String(r.sql ?? '').trim()}`).sort()
}

/**
 * The plan for tables made without records: the first k migrations whose schema equals
 * the database's, when exactly one k does; otherwise MigrationError, naming the difference.
 */
async function unrecorded(client: Client, migrations: Migration[]): Promise<MigrationPlan> {
  const have = (await schemaOf(client)).join('\n')
  const reference = openLibsql({ url: ':memory:' })
  const matches: number[] = []
  let closest = { k: 0, missing: [] as string[], extra: [] as string[] }
  try {
    for (let k = 1; k <= migrations.length; k++) {
      await reference.migrate(migrations[k - 1]!.statements)
      const want = await schemaOf(reference)
      if (want.join('\n') === have) matches.push(k)
      else if (k === migrations.length) {
        const haveLines = new Set(have.split('\n'))
        closest = { k, missing: want.filter((l) => !haveLines.has(l)), extra: [...haveLines].filter((l) => !want.includes(l)) }
      }
    }
  } finally {
    reference.close()
  }
  const advice =
    'nothing was changed. If its migrations were applied by hand, apply the missing ones the same way until its schema is that of a migration, then run npm run migrate again; or restore a backup'
  if (matches.length === 0) {
    const names = (lines: string[]) => lines.map((l) => l.slice(0, l.indexOf(':'))).join(', ')
    throw new MigrationError(
      `the database has tables but no record of migrations, and its schema is not the one any prefix of migrations/ makes ` +
        `(compared with all ${closest.k}: missing ${names(closest.missing) || 'nothing'}; not made by them ${names(closest.extra) || 'nothing'}): ${advice}`,
    )
  }
  if (matches.length > 1) {
    // Two prefixes with one schema: a migration between them changes data only, and the schema cannot tell whether it ran.
    const tags = matches.map((k) => migrations[k - 1]!.tag).join(' and ')
    throw new MigrationError(`the database has tables but no record of migrations, and its schema is the one both ${tags} leave: which ran cannot be told; ${advice}`)
  }
  const adopt = matches[0]!
  return {
    kind: 'unrecorded',
    adopt,
    migrations: migrations.map((m, i) => ({ ...m, applied: i < adopt })),
    warnings: [],
  }
}
