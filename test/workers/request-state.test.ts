/**
 * What the Worker keeps from one request to the next within an isolate, and what it still
 * decides on every request: the app (kept for the same env object and for an equal env,
 * built anew for a changed setting), an actor's registry view, a token's hash (a revoked
 * token is refused all the same), and the lease sweep after requests (a waitUntil only
 * when one is due).
 */
import { env } from 'cloudflare:test'
import { afterEach, describe, expect, it, vi } from 'vitest'
import worker from '../../worker/index'
import type { Env } from '../../worker/bindings'
import { testApp } from '../support/app'
import { testDatabase } from './db'

const ROOT = env.SWITCHBOARD_ADMIN_TOKEN
const root = { authorization: `Bearer ${ROOT}` }
const TOKENS = '/apis/switchboard.dev/v1/tokens'
const PODS = '/api/v1/namespaces/default/pods'

afterEach(() => vi.restoreAllMocks())

/** Sends one request to the Worker entry; resolves to its answer and how many waitUntil calls it made. */
async function send(path: string, workerEnv: Env): Promise<{ res: Response; waits: number }> {
  const waits: Promise<unknown>[] = []
  const res = await worker.fetch(new Request(`http://registry${path}`, { headers: root }), workerEnv, { waitUntil: (p) => void waits.push(p) })
  await Promise.all(waits)
  return { res, waits: waits.length }
}

/** How many GET /metrics the app that answers had answered before this one (its own request counter). */
async function scrapesBefore(workerEnv: Env): Promise<number> {
  const { res } = await send('/metrics', workerEnv)
  expect(res.status).toBe(200)
  const line = (await res.text()).split('\n').find((l) => l.startsWith('switchboard_http_requests_total{method="GET",route="/metrics",code="200"}'))
  return line ? Number(line.split(' ').pop()) : 0
}

describe('the Worker entry across requests', () => {
  it('keeps its app for the same env and an equal one, and builds a new one when a setting changes', async () => {
    await testDatabase()
    // A setting no other test uses, so that this app is new here.
    const first: Env = { ...env, DNS_TTL: '17' }
    expect(await scrapesBefore(first)).toBe(0)
    expect(await scrapesBefore(first)).toBe(1)
    expect(await scrapesBefore({ ...first })).toBe(2)
    const changed: Env = { ...first, DNS_TTL: '18' }
    expect(await scrapesBefore(changed)).toBe(0)
    expect(await scrapesBefore(changed)).toBe(1)
  })

  it('registers a lease sweep after a request only when one is due (at most one a second)', async () => {
    await testDatabase()
    const e: Env = { ...env, DNS_TTL: '19' }
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      vi.setSystemTime(new Date('2030-01-01T00:00:00Z'))
      expect((await send('/version', e)).waits).toBe(1)
      expect((await send('/version', e)).waits).toBe(0)
      vi.setSystemTime(new Date('2030-01-01T00:00:00.900Z'))
      expect((await send('/version', e)).waits).toBe(0)
      vi.setSystemTime(new Date('2030-01-01T00:00:01.001Z'))
      expect((await send('/version', e)).waits).toBe(1)
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('per-request state an isolate keeps', () => {
  it("an actor's registry view is made once, and each actor's writes are recorded as its own", async () => {
    const t = await testApp({ env: { SWITCHBOARD_ADMIN_TOKEN: ROOT, LOG_FORMAT: 'json', LOG_LEVEL: 'info', LOG_AUDIT: 'true' } })
    // Compared as booleans: a failure printing two registries would exhaust the heap.
    expect(t.registry.as('') === t.registry).toBe(true)
    expect(t.registry.as('agent-a') === t.registry.as('agent-a')).toBe(true)
    expect(t.registry.as('agent-b') === t.registry.as('agent-a')).toBe(false)

    const secrets: Record<string, string> = {}
    for (const name of ['agent-a', 'agent-b']) {
      const issued = await t.json('POST', TOKENS, { metadata: { name }, spec: { role: 'register', namespaces: ['default'] } }, root)
      expect(issued.status).toBe(201)
      secrets[name] = issued.body.status.secret
    }
    const lines: string[] = []
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => void lines.push(String(line)))
    const order = ['agent-a', 'agent-b', 'agent-a', 'agent-b']
    for (const [i, name] of order.entries()) {
      const res = await t.req('POST', PODS, { metadata: { name: `p${i}` }, status: { podIP: `10.0.0.${i + 1}` } }, { authorization: `Bearer ${secrets[name]}` })
      expect(res.status).toBe(201)
    }
    const audited = lines.map((l) => JSON.parse(l) as { msg: string; actor: string; name: string }).filter((l) => l.msg === 'audit')
    expect(audited.map((l) => [l.name, l.actor])).toEqual(order.map((name, i) => [`p${i}`, name]))
  })

  it('a token whose hash is kept is refused from the request after its revocation', async () => {
    const t = await testApp({ env: { SWITCHBOARD_ADMIN_TOKEN: ROOT } })
    const issued = await t.json('POST', TOKENS, { metadata: { name: 'reader' }, spec: { role: 'read', namespaces: ['default'] } }, root)
    const bearer = { authorization: `Bearer ${issued.body.status.secret}` }
    // Two requests: the second finds the secret's hash kept.
    expect((await t.req('GET', PODS, undefined, bearer)).status).toBe(200)
    expect((await t.req('GET', PODS, undefined, bearer)).status).toBe(200)
    expect((await t.req('DELETE', `${TOKENS}/reader`, undefined, root)).status).toBe(200)
    expect((await t.req('GET', PODS, undefined, bearer)).status).toBe(401)
    // The root credential is kept the same way and goes on working; a wrong secret never did.
    expect((await t.req('GET', PODS, undefined, root)).status).toBe(200)
    expect((await t.req('GET', PODS, undefined, root)).status).toBe(200)
    expect((await t.req('GET', PODS, undefined, { authorization: 'Bearer sb_not-a-token' })).status).toBe(401)
  })
})
