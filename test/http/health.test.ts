/**
 * /livez, /readyz and /healthz in Kubernetes' shapes, open without a token; readiness
 * fails when the database cannot be read or written; storage faults of a write answer a
 * Status (507 for a full database, 503 for a read-only one) and change nothing.
 */
import { LibsqlError } from '@libsql/client'
import { describe, expect, it } from 'vitest'
import { DBMOVED, storageFaultOf } from '../../worker/db/errors'
import { storageError } from '../../worker/registry/errors'
import { PROBE_INTERVAL_MS } from '../../worker/registry/health-checks'
import { seededClock } from '../../worker/wiring'
import { dumpTables } from '../support/db'
import { testApp } from '../support/app'

const ADMIN = 'health-admin-token-0123456789abcdef'
const ENV = { SWITCHBOARD_ADMIN_TOKEN: ADMIN }
const AUTH = { authorization: `Bearer ${ADMIN}` }

/** D1 (the suite in workerd) lets no client set the pragmas that make a database read-only or full. */
const PRAGMAS = (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent !== 'Cloudflare-Workers'

/** A clock whose time the test moves. */
function movableClock() {
  let now = Date.parse('2026-01-01T00:00:00Z')
  return { clock: seededClock(1, () => new Date(now)), advance: (ms: number) => (now += ms) }
}

async function text(res: Response | Promise<Response>): Promise<{ status: number; body: string; type: string | null }> {
  const r = await res
  return { status: r.status, body: await r.text(), type: r.headers.get('content-type') }
}

describe('/livez, /readyz and /healthz', () => {
  it('answer ok without a token while access control is on', async () => {
    const t = await testApp({ env: ENV })
    for (const path of ['/livez', '/readyz', '/healthz']) {
      const res = await text(t.req('GET', path))
      expect(res, path).toMatchObject({ status: 200, body: 'ok' })
      expect(res.type).toMatch(/^text\/plain/)
    }
    expect((await t.req('GET', '/api/v1/namespaces')).status).toBe(401)
  })

  it('list their checks with ?verbose, run one by path, and skip one with ?exclude', async () => {
    const t = await testApp({ env: ENV })
    expect(await text(t.req('GET', '/readyz?verbose'))).toMatchObject({
      status: 200,
      body: '[+]ping ok\n[+]database ok\n[+]database-write ok\nreadyz check passed\n',
    })
    expect((await text(t.req('GET', '/livez?verbose'))).body).toBe('[+]ping ok\nlivez check passed\n')
    expect((await text(t.req('GET', '/healthz?verbose'))).body).toBe('[+]ping ok\n[+]database ok\n[+]database-write ok\nhealthz check passed\n')
    expect((await text(t.req('GET', '/readyz/database-write?verbose'))).body).toBe('[+]database-write ok\nreadyz check passed\n')
    expect((await text(t.req('GET', '/readyz/database'))).body).toBe('ok')
    expect((await text(t.req('GET', '/readyz?verbose&exclude=database-write&exclude=ping'))).body).toBe('[+]database ok\nreadyz check passed\n')
    expect((await t.req('GET', '/readyz/no-such-check')).status).toBe(404)
    expect((await t.req('POST', '/readyz', {})).status).toBe(405)
  })

  it('fail readiness with 503 naming the database check when the database cannot be read, while /livez stays 200', async () => {
    const t = await testApp({ env: ENV })
    t.client.close()
    const ready = await text(t.req('GET', '/readyz'))
    expect(ready.status).toBe(503)
    expect(ready.body).toContain('[+]ping ok\n')
    expect(ready.body).toContain('[-]database failed: reason withheld\n')
    expect(ready.body).toMatch(/readyz check failed\n$/)
    expect((await t.req('GET', '/healthz')).status).toBe(503)
    expect(await text(t.req('GET', '/livez'))).toMatchObject({ status: 200, body: 'ok' })
  })

  it.runIf(PRAGMAS)('fail readiness when the database reads but cannot be written, and pass again once it can', async () => {
    const { clock, advance } = movableClock()
    const t = await testApp({ env: ENV, clock })
    await t.client.execute('PRAGMA query_only = ON')
    const ready = await text(t.req('GET', '/readyz?verbose'))
    expect(ready.status).toBe(503)
    expect(ready.body).toContain('[+]database ok\n')
    expect(ready.body).toContain('[-]database-write failed: the registry database cannot be written (it is read-only): nothing was changed\n')
    // The write is not refused as a 500 either.
    const created = await t.json('POST', '/api/v1/namespaces', { metadata: { name: 'ro' } }, AUTH)
    expect(created.status).toBe(503)
    expect(created.body).toMatchObject({ kind: 'Status', reason: 'ServiceUnavailable', code: 503 })
    await t.client.execute('PRAGMA query_only = OFF')
    advance(PROBE_INTERVAL_MS)
    expect(await text(t.req('GET', '/readyz'))).toMatchObject({ status: 200, body: 'ok' })
  })

  it('probe the write at most once per interval, however many ask', async () => {
    const { clock, advance } = movableClock()
    const t = await testApp({ env: ENV, clock })
    const before = await dumpTables(t.client)
    t.calls.reset()
    const answers = await Promise.all(Array.from({ length: 50 }, () => t.req('GET', '/readyz')))
    expect(answers.every((r) => r.status === 200)).toBe(true)
    expect(t.calls.batch).toBe(1)
    await t.req('GET', '/readyz')
    expect(t.calls.batch).toBe(1)
    advance(PROBE_INTERVAL_MS)
    await t.req('GET', '/readyz')
    expect(t.calls.batch).toBe(2)
    // The probe commits a write that changes nothing.
    expect(await dumpTables(t.client)).toBe(before)
  })
})

describe('a full database', () => {
  it.runIf(PRAGMAS)('answers 507 InsufficientStorage, changes nothing, and takes writes again once there is room', async () => {
    const { clock, advance } = movableClock()
    const t = await testApp({ env: ENV, clock, database: 'file' })
    expect((await t.json('POST', '/api/v1/namespaces', { metadata: { name: 'apps' } }, AUTH)).status).toBe(201)
    const pages = Number((await t.client.execute('PRAGMA page_count')).rows[0]![0])
    // No more pages than the database has now: the next write that needs one fails with SQLITE_FULL.
    await t.client.execute(`PRAGMA max_page_count = ${pages}`)
    const before = await dumpTables(t.client)
    const pod = { metadata: { name: 'big', annotations: { note: 'x'.repeat(200_000) } }, status: { podIP: '10.1.0.1' } }
    const full = await t.json('POST', '/api/v1/namespaces/apps/pods', pod, AUTH)
    expect(full.status).toBe(507)
    expect(full.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'InsufficientStorage', code: 507 })
    expect(full.body.message).toMatch(/disk .* is full/)
    expect(await dumpTables(t.client)).toBe(before)
    expect((await t.req('GET', '/api/v1/namespaces/apps/pods/big', undefined, AUTH)).status).toBe(404)

    await t.client.execute('PRAGMA max_page_count = 1073741823')
    advance(PROBE_INTERVAL_MS)
    expect((await t.json('POST', '/api/v1/namespaces/apps/pods', pod, AUTH)).status).toBe(201)
    expect((await t.req('GET', '/readyz')).status).toBe(200)
  })
})

describe('a dry run on a full disk', () => {
  /** An app over a database file whose disk counts as full (free space below the reserve), as `npm start` opens it. */
  async function onFullDisk() {
    // Imported here: the embedded client is Node's (the Workers suite skips this test).
    const { drizzleLibsql, openLibsql, tuneEmbedded } = await import('../../worker/db/client')
    const { applyMigrations } = await import('../../worker/db/migrate')
    const { buildApp } = await import('../../worker/wiring')
    const { parseConfig } = await import('../../worker/config')
    const { mkdtempSync } = await import('node:fs')
    const { tmpdir } = await import('node:os')
    const { join } = await import('node:path')
    const raw = openLibsql({ url: `file:${join(mkdtempSync(join(tmpdir(), 'switchboard-full-')), 'registry.db')}`, minFreeBytes: Number.MAX_SAFE_INTEGER })
    await tuneEmbedded(raw)
    const db = drizzleLibsql(raw)
    await applyMigrations(db)
    const { app } = buildApp(db, parseConfig(ENV), movableClock().clock)
    const send = async (method: string, path: string, body?: unknown) => {
      const res = await app.request(path, { method, headers: { ...AUTH, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) })
      return { status: res.status, body: (await res.json()) as any }
    }
    return { raw, send }
  }

  it.runIf(PRAGMAS)('is answered as on any disk (it stores nothing), alone or beside writes, while the writes get 507', async () => {
    const { raw, send } = await onFullDisk()
    const ns = { metadata: { name: 'apps' } }
    const dry = await send('POST', '/api/v1/namespaces?dryRun=All', ns)
    expect(dry.status, JSON.stringify(dry.body)).toBe(201)
    expect(dry.body.metadata.name).toBe('apps')
    // Sent together (so they may share a group commit): the dry run is answered, the write refused.
    const [dryToo, write] = await Promise.all([send('POST', '/api/v1/namespaces?dryRun=All', ns), send('POST', '/api/v1/namespaces', ns)])
    expect(dryToo.status).toBe(201)
    expect(write.status).toBe(507)
    expect(write.body).toMatchObject({ kind: 'Status', reason: 'InsufficientStorage', code: 507 })
    expect((await send('GET', '/api/v1/namespaces/apps')).status).toBe(404)
    raw.close()
  })
})

describe('the storage errors a Status is made of', () => {
  const cases: [string, unknown, string | null, number | null][] = [
    ['libSQL SQLITE_FULL', new LibsqlError('database or disk is full', 'SQLITE_FULL', 'SQLITE_FULL', 13), 'full', 507],
    ['D1, by message', new Error('D1_ERROR: database or disk is full: SQLITE_FULL'), 'full', 507],
    ['wrapped (drizzle)', new Error('Failed query: insert', { cause: new LibsqlError('database or disk is full', 'SQLITE_FULL') }), 'full', 507],
    ['the file removed or replaced', new LibsqlError('the database file was removed', 'SQLITE_READONLY', DBMOVED, 1032), 'moved', 503],
    ['read-only', new LibsqlError('attempt to write a readonly database', 'SQLITE_READONLY', 'SQLITE_READONLY', 8), 'readonly', 503],
    ['I/O', new LibsqlError('disk I/O error', 'SQLITE_IOERR', 'SQLITE_IOERR_WRITE', 778), 'io', 503],
    ['a guard', new LibsqlError('CHECK constraint failed: guard_conflict', 'SQLITE_CONSTRAINT'), null, null],
    ['anything else', new Error('boom'), null, null],
  ]
  it.each(cases)('%s', (_name, error, fault, code) => {
    expect(storageFaultOf(error)).toBe(fault)
    expect(storageError(error)?.code ?? null).toBe(code)
  })

  it('words each one for the client', () => {
    expect(storageError(new LibsqlError('x', 'SQLITE_FULL'))).toMatchObject({ reason: 'InsufficientStorage', message: expect.stringMatching(/full.*once space is freed/) })
    expect(storageError(new LibsqlError('x', 'SQLITE_READONLY', DBMOVED))).toMatchObject({
      reason: 'ServiceUnavailable',
      message: expect.stringMatching(/file was removed or replaced/),
    })
  })
})
