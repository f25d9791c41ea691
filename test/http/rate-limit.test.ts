/**
 * Rate limits: per token (per client address without one) with 429, `Retry-After` and a
 * TooManyRequests Status; a tighter limit on failed authentications per address, so
 * guessing tokens stops after a handful; generous defaults (a writer renewing leases
 * 1,000 times a second is never throttled); none while access control is off. Time is
 * the app's injected clock; the client address is the `CF-Connecting-IP` header here
 * (the Workers form; Node takes the TCP peer).
 */
import { describe, expect, it } from 'vitest'
import { seededClock } from '../../worker/wiring'
import { testApp } from '../support/app'

const ROOT = 'root-credential-for-the-rate-limit-tests-0123456789'

async function limitedApp(env: Record<string, string> = {}) {
  let now = Date.parse('2026-01-01T00:00:00Z')
  const t = await testApp({ clock: seededClock(3, () => new Date(now)), env: { SWITCHBOARD_ADMIN_TOKEN: ROOT, ...env } })
  const get = (path: string, headers: Record<string, string>) => t.req('GET', path, undefined, headers)
  return { t, get, advance: (ms: number) => (now += ms) }
}

const as = (secret: string, address = '192.0.2.1') => ({ authorization: `Bearer ${secret}`, 'cf-connecting-ip': address })

async function expectTooMany(res: Response, seconds: number) {
  expect(res.status).toBe(429)
  expect(res.headers.get('retry-after')).toBe(String(seconds))
  const body = (await res.json()) as any
  expect(body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'TooManyRequests', code: 429, details: { retryAfterSeconds: seconds } })
  return body
}

describe('failed authentications', () => {
  it('a burst of 1,000 wrong-token guesses from one address gets a handful of 401s, then 429 with Retry-After', async () => {
    const { get } = await limitedApp()
    const statuses = new Map<number, number>()
    let last: Response | undefined
    for (let i = 0; i < 1000; i++) {
      last = await get('/api/v1/namespaces', as(`sb_guess-${i}`))
      statuses.set(last.status, (statuses.get(last.status) ?? 0) + 1)
    }
    expect(Object.fromEntries(statuses)).toEqual({ 401: 10, 429: 990 })
    const body = await expectTooMany(last!, 2)
    expect(body.message).toContain('too many failed authentications from address 192.0.2.1')
  })

  it('refuses even a valid token from that address until the bucket refills; other addresses are not affected', async () => {
    const { get, advance } = await limitedApp({ AUTH_FAILURES_PER_MINUTE: '6', AUTH_FAILURE_BURST: '3' })
    for (let i = 0; i < 3; i++) expect((await get('/api/v1/namespaces', as('sb_wrong'))).status).toBe(401)
    await expectTooMany(await get('/api/v1/namespaces', as(ROOT)), 10)
    expect((await get('/api/v1/namespaces', as(ROOT, '192.0.2.2'))).status).toBe(200)
    advance(9_000)
    await expectTooMany(await get('/api/v1/namespaces', as(ROOT)), 1)
    advance(1_000)
    expect((await get('/api/v1/namespaces', as(ROOT))).status).toBe(200)
    // One attempt refilled: the next wrong one uses it up.
    expect((await get('/api/v1/namespaces', as('sb_wrong'))).status).toBe(401)
    await expectTooMany(await get('/api/v1/namespaces', as('sb_wrong')), 10)
  })

  it('does not count requests without a token', async () => {
    const { get } = await limitedApp({ AUTH_FAILURE_BURST: '2' })
    for (let i = 0; i < 20; i++) expect((await get('/api/v1/namespaces', { 'cf-connecting-ip': '192.0.2.1' })).status).toBe(401)
    expect((await get('/api/v1/namespaces', as(ROOT))).status).toBe(200)
  })
})

describe('requests per token', () => {
  it('answers 429 past the burst, refills at the rate, and keeps each token to its own bucket', async () => {
    const { t, get, advance } = await limitedApp({ RATE_LIMIT_PER_SECOND: '5', RATE_LIMIT_BURST: '10' })
    const created = await t.json('POST', '/apis/switchboard.dev/v1/tokens', { metadata: { name: 'reader' }, spec: { role: 'read', namespaces: ['default'] } }, as(ROOT))
    expect(created.status).toBe(201)
    const reader = created.body.status.secret as string
    for (let i = 0; i < 9; i++) expect((await get('/api/v1/namespaces', as(ROOT, `192.0.2.${i + 1}`))).status).toBe(200)
    // Addresses do not matter for a token: it is the same bucket from anywhere.
    const body = await expectTooMany(await get('/api/v1/namespaces', as(ROOT, '198.51.100.7')), 1)
    expect(body.message).toBe('too many requests from token "admin": retry after 1 s')
    expect((await get('/api/v1/namespaces', as(reader))).status).toBe(200)
    advance(1_000)
    for (let i = 0; i < 5; i++) expect((await get('/api/v1/namespaces', as(ROOT))).status).toBe(200)
    expect((await get('/api/v1/namespaces', as(ROOT))).status).toBe(429)
  })

  it('by default lets one token make 1,000 requests a second for three seconds', async () => {
    const { get, advance } = await limitedApp()
    const statuses = new Set<number>()
    for (let i = 0; i < 3000; i++) {
      statuses.add((await get('/healthz', as(ROOT))).status)
      statuses.add((await get('/api/v1/namespaces/default', as(ROOT))).status)
      advance(1)
    }
    expect([...statuses]).toEqual([200])
  }, 60_000)
})

describe('requests without a token', () => {
  it('public DNS is limited per client address', async () => {
    const { get } = await limitedApp({ DOH_PUBLIC: 'true', RATE_LIMIT_PER_SECOND: '1', RATE_LIMIT_BURST: '3' })
    const path = '/resolve?name=kubernetes.default.svc.cluster.local&type=A'
    for (let i = 0; i < 3; i++) expect((await get(path, { 'cf-connecting-ip': '203.0.113.5' })).status).toBe(200)
    await expectTooMany(await get(path, { 'cf-connecting-ip': '203.0.113.5' }), 1)
    expect((await get(path, { 'cf-connecting-ip': '203.0.113.6' })).status).toBe(200)
  })

  it('are not limited while access control is off (local development, loopback only)', async () => {
    const t = await testApp({ clock: seededClock(3, () => new Date('2026-01-01T00:00:00Z')), env: { RATE_LIMIT_PER_SECOND: '1', RATE_LIMIT_BURST: '1', AUTH_FAILURE_BURST: '1' } })
    for (let i = 0; i < 20; i++) expect((await t.req('GET', '/api/v1/namespaces', undefined, { authorization: 'Bearer sb_anything' })).status).toBe(200)
  })
})
