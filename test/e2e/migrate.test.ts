/**
 * `npm run migrate`, run as the README says, on real database files: a fresh file gets
 * every migration and records each with the hash of its file; a second run is up to
 * date; a database at migration N gets N+1.. only; `--status` lists and changes nothing;
 * a database migrated by drizzle's own migrator (what start-up used before) is up to
 * date; tables made by the README's old hand loop (every file run in a shell, nothing
 * recorded) are adopted when their schema is exactly that of the first k migrations, and
 * refused otherwise; a D1 database made by wrangler is refused; a remote URL that cannot
 * be reached is a message naming DATABASE_URL. `npm start` shares the implementation: it
 * adopts a hand-made database the same way.
 */
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'libsql'
import { migrate as drizzleMigrate } from 'drizzle-orm/libsql/migrator'
import type { LibSQLDatabase } from 'drizzle-orm/libsql'
import { describe, expect, it } from 'vitest'
import { drizzleLibsql, openLibsql } from '../../worker/db/client'
import { applyMigrations, migrateClient, migrationPlan, MIGRATIONS_FOLDER } from '../../worker/db/migrate'
import { freePort, startServer, type ServerProcess } from '../support/server'
import { OPEN_ACCESS, serverApi } from '../support/server-api'
import { npmScript, type ScriptRun } from '../support/npm-script'
import { wranglerEnv } from '../support/wrangler-env'

const ROOT = new URL('../..', import.meta.url).pathname
const JOURNAL = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as { entries: { tag: string; when: number }[] }
const TAGS = JOURNAL.entries.map((e) => e.tag)
const fileOf = (tag: string) => join(MIGRATIONS_FOLDER, `${tag}.sql`)

const migrateCli = (env: Record<string, string>, ...args: string[]) => npmScript('migrate', env, ...args)

const dir = () => mkdtempSync(join(tmpdir(), 'switchboard-migrate-'))
const digest = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex')

/** Reads a file database directly (SQLite, no Switchboard code). */
function query(path: string, sql: string): Record<string, unknown>[] {
  const db = new Database(path)
  try {
    return db.prepare(sql).all() as Record<string, unknown>[]
  } finally {
    db.close()
  }
}

const records = (path: string) => query(path, 'SELECT hash, created_at FROM __drizzle_migrations ORDER BY created_at') as { hash: string; created_at: number }[]
const schema = (path: string) => query(path, `SELECT type, name, sql FROM sqlite_master WHERE name <> '__drizzle_migrations' ORDER BY name`)

/** The README's old hand loop: each file run whole in a SQL shell, nothing recorded. */
function handLoop(path: string, tags: string[]): void {
  const db = new Database(path)
  try {
    for (const tag of tags) db.exec(readFileSync(fileOf(tag), 'utf8'))
  } finally {
    db.close()
  }
}

/** A file database at migration `n` (the first n applied and recorded), through the start-up code. */
async function databaseAt(path: string, n: number): Promise<void> {
  const folder = dir()
  cpSync(MIGRATIONS_FOLDER, folder, { recursive: true })
  const journalPath = join(folder, 'meta', '_journal.json')
  writeFileSync(journalPath, JSON.stringify({ ...JOURNAL, entries: JOURNAL.entries.slice(0, n) }))
  const client = openLibsql({ url: `file:${path}` })
  await applyMigrations(drizzleLibsql(client), { folder })
  client.close()
}

const appliedLines = (out: string) => out.split('\n').filter((l) => l.startsWith('applied ')).map((l) => l.slice('applied '.length))
const recordedLines = (out: string) => [...out.matchAll(/^recorded (\S+) as applied/gm)].map((m) => m[1])

describe('npm run migrate', () => {
  it('applies every migration to a fresh file, recording each with its file hash; a second run is up to date', async () => {
    const path = join(dir(), 'fresh.db')
    const first = await migrateCli({ DATABASE_URL: `file:${path}` })
    expect(first.code, first.stderr).toBe(0)
    expect(appliedLines(first.stdout)).toEqual(TAGS)
    expect(records(path)).toEqual(JOURNAL.entries.map((e) => ({ hash: createHash('sha256').update(readFileSync(fileOf(e.tag))).digest('hex'), created_at: e.when })))
    expect(query(path, `SELECT name FROM namespaces`)).toEqual([{ name: 'default' }])

    const before = schema(path)
    const second = await migrateCli({ DATABASE_URL: `file:${path}` })
    expect(second.code, second.stderr).toBe(0)
    expect(appliedLines(second.stdout)).toEqual([])
    expect(second.stdout).toContain(`up to date (${TAGS.length} migrations applied)`)
    expect(schema(path)).toEqual(before)
    expect(records(path)).toHaveLength(TAGS.length)
  }, 60_000)

  it('brings a database at migration N to the last, applying N+1.. only; --status lists them and changes nothing', async () => {
    const n = 4
    const path = join(dir(), 'at-n.db')
    await databaseAt(path, n)
    const bytes = digest(path)
    const status = await migrateCli({ DATABASE_URL: `file:${path}` }, '--status')
    expect(status.code, status.stderr).toBe(0)
    expect(status.stdout).toContain(`${n} of ${TAGS.length} migrations applied, ${TAGS.length - n} pending`)
    for (const [i, tag] of TAGS.entries()) expect(status.stdout).toMatch(new RegExp(`^  ${i < n ? 'applied' : 'pending'} +${tag}$`, 'm'))
    expect(digest(path)).toBe(bytes)
    expect(records(path)).toHaveLength(n)

    const run = await migrateCli({ DATABASE_URL: `file:${path}` })
    expect(run.code, run.stderr).toBe(0)
    expect(appliedLines(run.stdout)).toEqual(TAGS.slice(n))
    expect(records(path).map((r) => r.created_at)).toEqual(JOURNAL.entries.map((e) => e.when))
    expect(query(path, `SELECT count(*) AS n FROM namespaces`)).toEqual([{ n: 1 }])
  }, 60_000)

  it('finds a database migrated by drizzle’s own migrator up to date', async () => {
    const path = join(dir(), 'drizzle.db')
    const client = openLibsql({ url: `file:${path}` })
    await drizzleMigrate(drizzleLibsql(client) as unknown as LibSQLDatabase, { migrationsFolder: MIGRATIONS_FOLDER })
    client.close()
    const run = await migrateCli({ DATABASE_URL: `file:${path}` })
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain('up to date (')
    expect(run.stdout).not.toContain('warning')
  }, 60_000)

  it('prints every migration pending for a file that does not exist yet, and creates nothing', async () => {
    const folder = dir()
    const run = await migrateCli({ DATABASE_URL: `file:${join(folder, 'none.db')}` }, '--status')
    expect(run.code, run.stderr).toBe(0)
    for (const tag of TAGS) expect(run.stdout).toMatch(new RegExp(`^  pending +${tag}$`, 'm'))
    expect(readdirSync(folder)).toEqual([])
  }, 60_000)

  describe('tables made by the old hand loop (every file run by hand, nothing recorded)', () => {
    it('records all as applied without running them again when the schema is that of every migration', async () => {
      const path = join(dir(), 'hand.db')
      handLoop(path, TAGS)
      const uid = query(path, `SELECT uid FROM namespaces`)
      const status = await migrateCli({ DATABASE_URL: `file:${path}` }, '--status')
      expect(status.code, status.stderr).toBe(0)
      expect(status.stdout).toContain(`exactly the one migrations up to ${TAGS.at(-1)} make`)
      for (const tag of TAGS) expect(status.stdout).toMatch(new RegExp(`^  unrecorded +${tag}$`, 'm'))
      expect(query(path, `SELECT name FROM sqlite_master WHERE name = '__drizzle_migrations'`)).toEqual([])

      const run = await migrateCli({ DATABASE_URL: `file:${path}` })
      expect(run.code, run.stderr).toBe(0)
      expect(recordedLines(run.stdout)).toEqual(TAGS)
      expect(appliedLines(run.stdout)).toEqual([])
      // The seed did not run again: still one default namespace, the same one.
      expect(query(path, `SELECT uid FROM namespaces`)).toEqual(uid)
      expect(records(path).map((r) => r.created_at)).toEqual(JOURNAL.entries.map((e) => e.when))
      const again = await migrateCli({ DATABASE_URL: `file:${path}` })
      expect(again.stdout).toContain('up to date (')
    }, 60_000)

    it('at start-up too: npm start records the ones run by hand and applies the rest, then serves', async () => {
      const n = 5
      const path = join(dir(), 'hand-partial.db')
      handLoop(path, TAGS.slice(0, n))
      let server: ServerProcess | undefined
      try {
        server = await startServer({ env: OPEN_ACCESS, databasePath: path })
        const api = serverApi(server.url)
        expect((await api('GET', '/api/v1/namespaces')).items.map((ns: { metadata: { name: string } }) => ns.metadata.name)).toEqual(['default'])
        for (const tag of TAGS.slice(0, n)) expect(server.output()).toContain(`switchboard: recorded ${tag} as applied`)
        for (const tag of TAGS.slice(n)) expect(server.output()).toContain(`switchboard: applied ${tag}\n`)
      } finally {
        await server?.stop()
      }
      expect(records(path).map((r) => r.created_at)).toEqual(JOURNAL.entries.map((e) => e.when))
      const status = await migrateCli({ DATABASE_URL: `file:${path}` }, '--status')
      expect(status.stdout).toContain(`${TAGS.length} of ${TAGS.length} migrations applied, 0 pending`)
    }, 60_000)

    it('through npm run migrate: records the first k and applies the rest', async () => {
      const n = 5
      const path = join(dir(), 'hand-partial-cli.db')
      handLoop(path, TAGS.slice(0, n))
      const run = await migrateCli({ DATABASE_URL: `file:${path}` })
      expect(run.code, run.stderr).toBe(0)
      expect(recordedLines(run.stdout)).toEqual(TAGS.slice(0, n))
      expect(appliedLines(run.stdout)).toEqual(TAGS.slice(n))
    }, 60_000)

    it('refuses, changing nothing, when the schema is that of no prefix of the migrations', async () => {
      const path = join(dir(), 'hand-stray.db')
      handLoop(path, TAGS)
      const db = new Database(path)
      db.exec('CREATE TABLE stray (x TEXT)')
      db.close()
      const bytes = digest(path)
      const run = await migrateCli({ DATABASE_URL: `file:${path}` })
      expect(run.code).toBe(1)
      expect(run.stderr).toContain('no record of migrations')
      expect(run.stderr).toContain('table stray')
      expect(run.stderr).toContain('nothing was changed')
      expect(digest(path)).toBe(bytes)
    }, 60_000)

    it('refuses when two prefixes leave the same schema (a data-only migration between them)', async () => {
      const path = join(dir(), 'hand-init.db')
      handLoop(path, TAGS.slice(0, 1))
      const bytes = digest(path)
      const run = await migrateCli({ DATABASE_URL: `file:${path}` })
      expect(run.code).toBe(1)
      expect(run.stderr).toContain(`${TAGS[0]} and ${TAGS[1]}`)
      expect(digest(path)).toBe(bytes)
    }, 60_000)
  })

  it('applies each migration once when two migrators race on a fresh file', async () => {
    // Two connections, as two processes would have, started together: both read every
    // migration as pending, and take turns at each await, so each one's batches meet the other's.
    const path = join(dir(), 'race.db')
    const clients = [openLibsql({ url: `file:${path}` }), openLibsql({ url: `file:${path}` })]
    const logs: string[][] = [[], []]
    try {
      await Promise.all(clients.map((c, i) => migrateClient(c, { log: (line) => logs[i]!.push(line) })))
    } finally {
      for (const c of clients) c.close()
    }
    const applied = logs.flat().filter((l) => l.startsWith('applied ')).map((l) => l.slice('applied '.length))
    const meanwhile = logs.flat().filter((l) => l.endsWith('was applied meanwhile by another process'))
    expect([...applied].sort()).toEqual([...TAGS].sort())
    expect(meanwhile.length, 'the migrators met').toBeGreaterThan(0)
    expect(records(path).map((r) => r.created_at)).toEqual(JOURNAL.entries.map((e) => e.when))
    expect(query(path, `SELECT count(*) AS n FROM namespaces`)).toEqual([{ n: 1 }])
  }, 60_000)

  it('warns of a migration file edited after it ran, and refuses one older than the last recorded that never ran', async () => {
    const path = join(dir(), 'edited.db')
    await databaseAt(path, TAGS.length)
    const folder = dir()
    cpSync(MIGRATIONS_FOLDER, folder, { recursive: true })
    writeFileSync(join(folder, `${TAGS[2]}.sql`), `${readFileSync(fileOf(TAGS[2]!), 'utf8')}\n-- edited\n`)
    const client = openLibsql({ url: `file:${path}` })
    try {
      const plan = await migrationPlan(client, folder)
      expect(plan.warnings).toEqual([expect.stringContaining(`migration ${TAGS[2]} was edited after it was applied`)])
      expect(plan.migrations.filter((m) => m.changedFrom).map((m) => m.tag)).toEqual([TAGS[2]])

      // A migration whose journal time falls before the last recorded one, and that is not recorded.
      const journal = { ...JOURNAL, entries: [...JOURNAL.entries] }
      journal.entries.splice(3, 0, { ...JOURNAL.entries[3]!, tag: '0002_late', when: JOURNAL.entries[2]!.when + 1 })
      writeFileSync(join(folder, '0002_late.sql'), 'CREATE TABLE late (x TEXT);')
      writeFileSync(join(folder, 'meta', '_journal.json'), JSON.stringify(journal))
      const before = digest(path)
      await expect(migrateClient(client, { folder })).rejects.toThrow(/migration 0002_late is older than the last one recorded but was never recorded/)
      expect(digest(path)).toBe(before)
    } finally {
      client.close()
    }
  }, 60_000)

  it('refuses a D1 database migrated by wrangler, pointing at wrangler', async () => {
    const persist = dir()
    const made = await new Promise<ScriptRun>((resolve) =>
      execFile('npx', ['wrangler', 'd1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persist], { cwd: ROOT, env: wranglerEnv(), timeout: 120_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? 1 : 0, stdout, stderr }),
      ),
    )
    expect(made.code, made.stderr).toBe(0)
    const d1 = join(persist, 'v3', 'd1', 'miniflare-D1DatabaseObject')
    const file = readdirSync(d1).find((f) => f.endsWith('.sqlite'))!
    const run = await migrateCli({ DATABASE_URL: `file:${join(d1, file)}` })
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('wrangler d1 migrations apply')
  }, 120_000)

  it('names DATABASE_URL when a remote database cannot be reached or the URL is not libSQL\'s, and rejects unknown arguments', async () => {
    const port = await freePort()
    const remote = await migrateCli({ DATABASE_URL: `http://127.0.0.1:${port}`, DATABASE_AUTH_TOKEN: 'secret-token-value' })
    expect(remote.code).toBe(1)
    expect(remote.stderr).toContain(`DATABASE_URL=http://127.0.0.1:${port}`)
    expect(remote.stderr).not.toContain('secret-token-value')
    const scheme = await migrateCli({ DATABASE_URL: 'postgres://127.0.0.1/registry' })
    expect(scheme.code).toBe(1)
    expect(scheme.stderr).toContain('DATABASE_URL=postgres://127.0.0.1/registry is not a database URL libSQL can open')
    const bad = await migrateCli({ DATABASE_URL: `file:${join(dir(), 'x.db')}` }, '--statuz')
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('unknown argument --statuz')
  }, 60_000)
})

