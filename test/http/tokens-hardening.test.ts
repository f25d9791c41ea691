/**
 * Tokens that must not be issued, and tokens that must stop working: the reserved names
 * (`admin`, which the root credential acts under, and `system:` names), tokens for
 * namespaces that do not exist, expiry times that are not RFC 3339 instants in the future,
 * tokens outliving their namespace, and root credentials too short to be safe. Each
 * refused write leaves the database as it was.
 */
import { describe, expect, it } from 'vitest'
import { ConfigError, parseConfig } from '../../worker/config'
import worker from '../../worker/index'
import { seededClock } from '../../worker/wiring'
import { MODIFIED_BY } from '../../worker/registry/registry'
import { testApp, type TestApp } from '../support/app'
import { dumpTables } from '../support/db'

const ROOT = 'root-credential-for-the-token-hardening-tests-0123'
const ENV = { SWITCHBOARD_ADMIN_TOKEN: ROOT }
const TOKENS = '/apis/switchboard.dev/v1/tokens'
const NAMESPACES = '/api/v1/namespaces'
const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` })
const token = (name: string, namespaces: string[], extra: Record<string, unknown> = {}) => ({
  metadata: { name },
  spec: { role: 'register', namespaces, ...extra },
})

async function asRoot(t: TestApp, method: string, path: string, body?: unknown) {
  const res = await t.json(method, path, body, bearer(ROOT))
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body
}

/** Sends a token create as the root credential and expects a 422 naming `field`, with nothing stored. */
async function refused(t: TestApp, body: unknown, field: string, message?: RegExp) {
  const before = await dumpTables(t.client)
  for (const query of ['', '?dryRun=All']) {
    const res = await t.json('POST', `${TOKENS}${query}`, body, bearer(ROOT))
    expect({ query, status: res.status, reason: res.body.reason }).toEqual({ query, status: 422, reason: 'Invalid' })
    expect(res.body.details.causes.map((c: { field: string }) => c.field)).toContain(field)
    if (message) expect(res.body.details.causes.find((c: { field: string }) => c.field === field).message).toMatch(message)
  }
  expect(await dumpTables(t.client)).toBe(before)
}

describe('reserved token names', () => {
  it('refuses "admin", the name the root credential acts under, and "system:" names', async () => {
    const t = await testApp({ env: ENV })
    await refused(t, token('admin', ['*']), 'metadata.name', /reserved/)
    await refused(t, token('system:masters', ['*']), 'metadata.name', /reserved/)
    await refused(t, token('system:admin', ['default']), 'metadata.name', /reserved/)
    // so "admin" in the audit is always the root credential
    await asRoot(t, 'POST', '/api/v1/namespaces/default/services', { metadata: { name: 'web' }, spec: { ports: [{ port: 80 }] } })
    expect((await asRoot(t, 'GET', '/api/v1/namespaces/default/services/web')).metadata.annotations[MODIFIED_BY]).toBe('admin')
    // names that merely contain the words are fine
    expect((await t.json('POST', TOKENS, token('admin-bot', ['default']), bearer(ROOT))).status).toBe(201)
    expect((await t.json('POST', TOKENS, token('system-agent', ['default']), bearer(ROOT))).status).toBe(201)
  })
})

describe('tokens for namespaces that do not exist', () => {
  it('are refused with a 422 naming each missing namespace by its index', async () => {
    const t = await testApp({ env: ENV })
    await asRoot(t, 'POST', NAMESPACES, { metadata: { name: 'team-a' } })
    await refused(t, token('ghost', ['team-z']), 'spec.namespaces[0]', /no such namespace/)
    await refused(t, token('ghosts', ['team-a', 'team-z', 'team-y']), 'spec.namespaces[1]')
    const res = await t.json('POST', TOKENS, token('ghosts', ['team-a', 'team-z', 'team-y']), bearer(ROOT))
    expect(res.body.details.causes.map((c: { field: string }) => c.field)).toEqual(['spec.namespaces[1]', 'spec.namespaces[2]'])
    // a namespace named twice, or more namespaces than a token may list
    await refused(t, token('twice', ['team-a', 'default', 'team-a']), 'spec.namespaces[2]', /Duplicate/)
    const many = Array.from({ length: 1001 }, (_, i) => `team-${i}`)
    await refused(t, token('many', many), 'spec.namespaces', /at most 1000/)
    // existing namespaces, and "*", are fine
    expect((await t.json('POST', TOKENS, token('team', ['team-a', 'default']), bearer(ROOT))).status).toBe(201)
    expect((await t.json('POST', TOKENS, token('everyone', ['*']), bearer(ROOT))).status).toBe(201)
  })
})

describe('spec.expiresAt', () => {
  const NOW = new Date('2030-01-01T00:00:00.000Z')
  const app = () => testApp({ env: ENV, clock: seededClock(5, () => NOW) })

  it.each([
    ['99999'], // read by Date.parse as the year 99999
    ['2031-02-30'], // rolled over to 2 March by Date.parse
    ['1'], // read by Date.parse as 2001
    ['2031-02-30T00:00:00Z'],
    ['2031-02-29T00:00:00Z'],
    ['2030-04-31T00:00:00Z'],
    ['2030-13-01T00:00:00Z'],
    ['2030-06-01T24:00:00Z'],
    ['2030-06-01T12:00:60Z'],
    ['2030-06-01T12:00:00+24:00'],
    ['2030-06-01'],
    ['2030-06-01 12:00:00Z'],
    ['2030-06-01T12:00:00'],
    ['June 1, 2030'],
    ['+099999-01-01T00:00:00.000Z'],
  ])('refuses %j: not an RFC 3339 time', async (expiresAt) => {
    await refused(await app(), token('ci', ['default'], { expiresAt }), 'spec.expiresAt', /RFC 3339/)
  })

  it.each([['2029-12-31T23:59:59Z'], ['2030-01-01T00:00:00Z'], ['2030-01-01T01:00:00+01:00'], ['2001-01-01T00:00:00Z']])(
    'refuses %j: not in the future',
    async (expiresAt) => {
      await refused(await app(), token('ci', ['default'], { expiresAt }), 'spec.expiresAt', /future/)
    },
  )

  it.each([
    ['2030-01-01T00:00:00.001Z', '2030-01-01T00:00:00.001Z'],
    ['2032-02-29T12:00:00Z', '2032-02-29T12:00:00.000Z'],
    ['2031-03-01T01:30:00+02:00', '2031-02-28T23:30:00.000Z'],
    ['2031-02-28T22:30:00-01:30', '2031-03-01T00:00:00.000Z'],
    ['2031-06-01t12:00:00.123456789z', '2031-06-01T12:00:00.123Z'],
  ])('accepts %j and stores it in UTC as %j', async (expiresAt, stored) => {
    const t = await app()
    const created = await t.json('POST', TOKENS, token('ci', ['default'], { expiresAt }), bearer(ROOT))
    expect(created.status).toBe(201)
    expect(created.body.spec.expiresAt).toBe(stored)
    expect((await asRoot(t, 'GET', `${TOKENS}/ci`)).spec.expiresAt).toBe(stored)
  })
})

describe('a token bound to its namespace', () => {
  async function setup() {
    const t = await testApp({ env: { ...ENV, CATCH_UP_INTERVAL_MS: '10' } })
    for (const name of ['team-a', 'team-b']) await asRoot(t, 'POST', NAMESPACES, { metadata: { name } })
    const issue = async (name: string, namespaces: string[]) => (await asRoot(t, 'POST', TOKENS, token(name, namespaces))).status.secret as string
    const secrets = { own: await issue('team-a-agent', ['team-a']), both: await issue('both-agent', ['team-a', 'team-b']), all: await issue('all-agent', ['*']), other: await issue('team-b-agent', ['team-b']) }
    return { t, secrets }
  }
  const pods = (ns: string) => `/api/v1/namespaces/${ns}/pods`

  it('is revoked (401) when the namespace is deleted, and stays revoked when it is re-created', async () => {
    const { t, secrets } = await setup()
    const peer = t.peer()
    const asPeer = (secret: string, ns: string) => peer.request(pods(ns), { headers: bearer(secret) })
    for (const [secret, ns] of [[secrets.own, 'team-a'], [secrets.both, 'team-b'], [secrets.all, 'team-a']] as const) {
      expect((await t.req('GET', pods(ns), undefined, bearer(secret))).status).toBe(200)
      expect((await asPeer(secret, ns)).status).toBe(200) // the peer caches the principal
    }

    await asRoot(t, 'DELETE', `${NAMESPACES}/team-a`)
    const dnsPath = (secret: string) => `/dns-query/${secret}?name=team-b.svc.cluster.local&type=A`
    for (const app of ['this', 'peer'] as const) {
      if (app === 'peer') await new Promise((resolve) => setTimeout(resolve, 30)) // past the peer's catch-up interval
      const get = (secret: string, ns: string) => (app === 'this' ? t.req('GET', pods(ns), undefined, bearer(secret)) : asPeer(secret, ns))
      const gone = await get(secrets.own, 'team-a')
      expect({ app, status: gone.status }).toEqual({ app, status: 401 })
      expect(((await gone.json()) as { reason: string }).reason).toBe('Unauthorized')
      // a token for several namespaces is revoked whole, in the namespaces that remain too
      expect({ app, status: (await get(secrets.both, 'team-b')).status }).toEqual({ app, status: 401 })
      expect((await t.req('GET', dnsPath(secrets.both))).status).toBe(401)
      // tokens for every namespace, and for other namespaces, are unaffected
      expect({ app, status: (await get(secrets.all, 'team-b')).status }).toEqual({ app, status: 200 })
      expect({ app, status: (await get(secrets.other, 'team-b')).status }).toEqual({ app, status: 200 })
    }

    await asRoot(t, 'POST', NAMESPACES, { metadata: { name: 'team-a' } })
    expect((await t.req('GET', pods('team-a'), undefined, bearer(secrets.own))).status).toBe(401)
    expect((await t.req('POST', pods('team-a'), { metadata: { name: 'p' } }, bearer(secrets.own))).status).toBe(401)
    expect((await asPeer(secrets.own, 'team-a')).status).toBe(401)
    expect((await t.req('GET', pods('team-a'), undefined, bearer(secrets.all))).status).toBe(200)
    // a token issued for the new namespace works
    const fresh = (await asRoot(t, 'POST', TOKENS, token('team-a-agent-2', ['team-a']))).status.secret as string
    expect((await t.req('GET', pods('team-a'), undefined, bearer(fresh))).status).toBe(200)
  })
})

describe('the root credential', () => {
  const short = 'x'.repeat(31)

  it('must be at least 32 characters: a shorter one stops start-up, naming the variable', () => {
    expect(() => parseConfig({ SWITCHBOARD_ADMIN_TOKEN: short })).toThrow(ConfigError)
    expect(() => parseConfig({ SWITCHBOARD_ADMIN_TOKEN: short })).toThrow(/SWITCHBOARD_ADMIN_TOKEN: must be at least 32 characters/)
    expect(() => parseConfig({ SWITCHBOARD_ADMIN_TOKEN: 'dev-root-credential-change-me' })).toThrow(/SWITCHBOARD_ADMIN_TOKEN/)
    expect(parseConfig({ SWITCHBOARD_ADMIN_TOKEN: 'x'.repeat(32) }).adminToken).toBe('x'.repeat(32))
  })

  it('on Workers, a shorter one fails closed: every call is a 503 saying why, without the value', async () => {
    const res = await worker.fetch(
      new Request('http://registry/api/v1/namespaces', { headers: bearer(short) }),
      { SWITCHBOARD_ADMIN_TOKEN: short, DATABASE_URL: 'libsql://x.example' },
      { waitUntil: () => {} },
    )
    expect(res.status).toBe(503)
    const body = (await res.json()) as { kind: string; reason: string; message: string }
    expect(body).toMatchObject({ kind: 'Status', reason: 'ServiceUnavailable' })
    expect(body.message).toMatch(/SWITCHBOARD_ADMIN_TOKEN: must be at least 32 characters/)
    expect(body.message).not.toContain(short)
  })
})
