/**
 * Migration 0006 on the embedded libSQL file, as `npm start` applies it: tokens issued
 * before tokens were bound to their namespaces' uids are bound to the namespaces as they
 * exist at the upgrade; one naming a namespace that does not exist then is refused from
 * then on, and a token named `admin` (the root credential's name) is revoked.
 * (test/workers/token-bindings.test.ts checks the same on D1.)
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { migrate } from 'drizzle-orm/libsql/migrator'
import type { LibSQLDatabase } from 'drizzle-orm/libsql'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../worker/config'
import { drizzleLibsql, openLibsql } from '../../worker/db/client'
import { applyMigrations, MIGRATIONS_FOLDER } from '../../worker/db/migrate'
import { sha256 } from '../../worker/registry/tokens'
import { buildApp, seededClock } from '../../worker/wiring'

const ROOT = 'root-credential-for-the-migration-tests-0123456789'

/** A copy of migrations/ whose journal stops before 0006. */
function migrationsBefore0006(): string {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-migrations-'))
  cpSync(MIGRATIONS_FOLDER, dir, { recursive: true })
  const journalPath = join(dir, 'meta', '_journal.json')
  const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: { tag: string }[] }
  journal.entries = journal.entries.filter((e) => e.tag < '0006')
  writeFileSync(journalPath, JSON.stringify(journal))
  return dir
}

describe('migration 0006 on libSQL', () => {
  it('binds existing tokens to their namespaces as they exist; tokens for missing namespaces and one named admin stop working', async () => {
    const client = openLibsql({ url: ':memory:' })
    const db = drizzleLibsql(client)
    await migrate(db as unknown as LibSQLDatabase, { migrationsFolder: migrationsBefore0006() })
    expect((await client.execute('PRAGMA table_info(tokens)')).rows.map((r) => r.name)).not.toContain('namespace_uids')
    await client.execute(
      `INSERT INTO namespaces (name, uid, rv, body) VALUES ('team-a', 'uid-team-a', 1, '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team-a","uid":"uid-team-a"},"spec":{"finalizers":["kubernetes"]},"status":{"phase":"Active"}}')`,
    )
    const legacy: [string, string[]][] = [
      ['team-a-agent', ['team-a']],
      ['ghost-agent', ['team-z']],
      ['mixed-agent', ['default', 'team-z']],
      ['everyone', ['*']],
      ['admin', ['*']],
    ]
    for (const [name, namespaces] of legacy) {
      await client.execute({
        sql: `INSERT INTO tokens (name, uid, hash, role, namespaces, expires_at, created_at, created_by, rv) VALUES (?, ?, ?, 'read', ?, NULL, '2026-01-01T00:00:00Z', 'admin', 1)`,
        args: [name, `uid-${name}`, await sha256(`secret-of-${name}`), JSON.stringify(namespaces)],
      })
    }

    await applyMigrations(db)
    const { app } = buildApp(db, parseConfig({ SWITCHBOARD_ADMIN_TOKEN: ROOT }), seededClock(1))
    const get = async (name: string, path: string) => (await app.request(path, { headers: { authorization: `Bearer secret-of-${name}` } })).status
    expect(await get('team-a-agent', '/api/v1/namespaces/team-a/pods')).toBe(200)
    expect(await get('everyone', '/api/v1/namespaces/default/pods')).toBe(200)
    expect(await get('ghost-agent', '/api/v1/namespaces/team-z/pods')).toBe(401)
    expect(await get('mixed-agent', '/api/v1/namespaces/default/pods')).toBe(401)
    expect(await get('admin', '/api/v1/namespaces/default/pods')).toBe(401)
    expect((await client.execute("SELECT name, namespace_uids FROM tokens ORDER BY name")).rows.map((r) => [r.name, JSON.parse(String(r.namespace_uids))])).toEqual([
      ['everyone', {}],
      ['ghost-agent', { 'team-z': '' }],
      ['mixed-agent', { default: expect.stringMatching(/./), 'team-z': '' }],
      ['team-a-agent', { 'team-a': 'uid-team-a' }],
    ])
    client.close()
  })
})
