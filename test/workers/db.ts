/**
 * The D1 counterpart of test/support/db.ts for the Workers suite (vitest.workers.config.ts
 * resolves `../support/db` here): the tests under test/http run unchanged inside workerd,
 * on the D1 binding `DB`, through the production D1 driver. There is one D1 database, so
 * each `testDatabase()` drops every table and applies migrations/ again: a test gets a
 * fresh registry, and a second call in the same test empties the first app's database
 * too (on Node each call is a database of its own). Round trips are counted at the
 * binding; `close()` makes every later call throw.
 */
import { applyD1Migrations, env } from 'cloudflare:test'
import { drizzleD1 } from '../../worker/db/d1'
import { callCounts, registryTables, type CallCounts, type SqlClient, type TestDatabase } from '../support/sql'

export { dumpTables, type CallCounts, type SqlClient, type TestDatabase } from '../support/sql'

/**
 * Lets the test runner's own messages in at least once a second. The runner lives in a
 * Durable Object whose input gate stays closed while D1 calls follow each other without
 * a pause, so a long run of queries would hold vitest's replies back past its fixed 60 s
 * RPC timeout ("Timeout calling onTaskUpdate") although every test passes.
 */
let lastBreath = Date.now()
async function breathe(): Promise<void> {
  if (Date.now() - lastBreath < 1000) return
  await new Promise((resolve) => setTimeout(resolve, 1))
  lastBreath = Date.now()
}

/** A freshly migrated D1 database. The kind (memory or file) has no meaning on D1. */
export async function testDatabase(_kind?: 'memory' | 'file'): Promise<TestDatabase> {
  const probe = binding(env.DB, callCounts(), { closed: false })
  const drops = [...(await registryTables(probe.client)), 'd1_migrations'].map((t) => env.DB.prepare(`DROP TABLE IF EXISTS "${t}"`))
  await env.DB.batch(drops)
  await applyD1Migrations(env.DB, env.TEST_MIGRATIONS)
  const calls = callCounts()
  const { d1, client } = binding(env.DB, calls, { closed: false })
  return { client, db: drizzleD1(d1), calls }
}

/** The binding with its round trips counted, and a test's SQL client over it. */
function binding(real: D1Database, calls: CallCounts, state: { closed: boolean }): { d1: D1Database; client: SqlClient } {
  const open = () => {
    if (state.closed) throw new Error('the test closed this database')
  }
  const d1 = {
    prepare(query: string) {
      open()
      return counted(real.prepare(query), calls, open)
    },
    async batch(statements: D1PreparedStatement[]) {
      open()
      calls.batch++
      await breathe()
      return real.batch(statements.map((s) => (s instanceof CountedStatement ? s.real : s)))
    },
    exec(query: string) {
      open()
      calls.execute++
      return real.exec(query)
    },
    dump: () => real.dump(),
    withSession: (constraint?: string) => real.withSession(constraint),
  } as unknown as D1Database
  const client: SqlClient = {
    async execute(statement) {
      const { sql, args } = typeof statement === 'string' ? { sql: statement, args: [] } : statement
      const result = await d1.prepare(sql).bind(...args).all<Record<string, unknown>>()
      return { rows: result.results }
    },
    close() {
      state.closed = true
    },
  }
  return { d1, client }
}

/** A prepared statement whose every run is one counted round trip. */
class CountedStatement {
  constructor(
    readonly real: D1PreparedStatement,
    private readonly calls: CallCounts,
    private readonly open: () => void,
  ) {}
  bind(...values: unknown[]): CountedStatement {
    return new CountedStatement(this.real.bind(...values), this.calls, this.open)
  }
  private async run_<T>(go: () => Promise<T>): Promise<T> {
    this.open()
    this.calls.execute++
    await breathe()
    return go()
  }
  first(column?: string) {
    return this.run_(() => (column === undefined ? this.real.first() : this.real.first(column)))
  }
  all() {
    return this.run_(() => this.real.all())
  }
  run() {
    return this.run_(() => this.real.run())
  }
  raw(options?: { columnNames?: boolean }) {
    return this.run_(() => this.real.raw(options as never))
  }
}

function counted(statement: D1PreparedStatement, calls: CallCounts, open: () => void): D1PreparedStatement {
  return new CountedStatement(statement, calls, open) as unknown as D1PreparedStatement
}
