/**
 * Migration 0006 on D1: tokens issued before tokens were bound to their namespaces' uids
 * are bound at the upgrade to the namespaces as they then exist; a token naming a
 * namespace that does not exist then is refused from then on, and a token named `admin`
 * (the name the root credential acts under) is revoked.
 */
import { applyD1Migrations, env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../worker/config'
import { drizzleD1 } from '../../worker/db/d1'
import { sha256 } from '../../worker/registry/tokens'
import { buildApp, seededClock } from '../../worker/wiring'
import { testDatabase } from './db'

const ROOT = env.SWITCHBOARD_ADMIN_TOKEN
const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` })

/** An empty D1 database with the migrations before 0006 applied. */
async function before0006(): Promise<void> {
  await testDatabase()
  const tables = await env.DB.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'`).all<{ name: string }>()
  await env.DB.batch(tables.results.map((t) => env.DB.prepare(`DROP TABLE IF EXISTS "${t.name}"`)))
  await applyD1Migrations(env.DB, env.TEST_MIGRATIONS.filter((m) => m.name < '0006'))
}

describe('migration 0006 binds the tokens it finds', () => {
  it('to their namespaces as they exist; tokens for missing namespaces and a token named admin stop working', async () => {
    await before0006()
    const columns = await env.DB.prepare('PRAGMA table_info(tokens)').all<{ name: string }>()
    expect(columns.results.map((c) => c.name)).not.toContain('namespace_uids')
    await env.DB.prepare(
      `INSERT INTO namespaces (name, uid, rv, body) VALUES ('team-a', 'uid-team-a', 1, '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team-a","uid":"uid-team-a"},"spec":{"finalizers":["kubernetes"]},"status":{"phase":"Active"}}')`,
    ).run()
    const legacy: [string, string[]][] = [
      ['team-a-agent', ['team-a']],
      ['both-agent', ['team-a', 'default']],
      ['ghost-agent', ['team-z']],
      ['mixed-agent', ['default', 'team-z']],
      ['everyone', ['*']],
      ['admin', ['*']],
    ]
    for (const [name, namespaces] of legacy) {
      await env.DB.prepare(
        `INSERT INTO tokens (name, uid, hash, role, namespaces, expires_at, created_at, created_by, rv) VALUES (?, ?, ?, 'read', ?, NULL, '2026-01-01T00:00:00Z', 'admin', 1)`,
      )
        .bind(name, `uid-${name}`, await sha256(`secret-of-${name}`), JSON.stringify(namespaces))
        .run()
    }

    await applyD1Migrations(env.DB, env.TEST_MIGRATIONS)
    const { app } = buildApp(drizzleD1(env.DB), parseConfig({ SWITCHBOARD_ADMIN_TOKEN: ROOT }), seededClock(1))
    const get = async (name: string, path: string) => (await app.request(path, { headers: bearer(`secret-of-${name}`) })).status

    expect(await get('team-a-agent', '/api/v1/namespaces/team-a/pods')).toBe(200)
    expect(await get('both-agent', '/api/v1/namespaces/default/pods')).toBe(200)
    expect(await get('everyone', '/api/v1/namespaces/team-a/pods')).toBe(200)
    expect(await get('ghost-agent', '/api/v1/namespaces/team-z/pods')).toBe(401)
    expect(await get('mixed-agent', '/api/v1/namespaces/default/pods')).toBe(401)
    expect(await get('admin', '/api/v1/namespaces/default/pods')).toBe(401)
    const listed = (await (await app.request('/apis/switchboard.dev/v1/tokens', { headers: bearer(ROOT) })).json()) as { items: { metadata: { name: string } }[] }
    expect(listed.items.map((t) => t.metadata.name)).toEqual(['both-agent', 'everyone', 'ghost-agent', 'mixed-agent', 'team-a-agent'])

    // a creation of team-z now does not bring the ghost back
    expect((await app.request('/api/v1/namespaces', { method: 'POST', headers: { ...bearer(ROOT), 'content-type': 'application/json' }, body: '{"metadata":{"name":"team-z"}}' })).status).toBe(201)
    expect(await get('ghost-agent', '/api/v1/namespaces/team-z/pods')).toBe(401)
    // the bound tokens are revoked with their namespace
    expect((await app.request('/api/v1/namespaces/team-a', { method: 'DELETE', headers: bearer(ROOT) })).status).toBe(200)
    expect(await get('team-a-agent', '/api/v1/namespaces/team-a/pods')).toBe(401)
    expect(await get('both-agent', '/api/v1/namespaces/default/pods')).toBe(401)
    expect(await get('everyone', '/api/v1/namespaces/default/pods')).toBe(200)
  })
})
