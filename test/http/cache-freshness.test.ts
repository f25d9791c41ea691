/**
 * The discovery caches (DNS answers, the pick, token principals) follow the change feed
 * object by object: a write through this app is seen by its next read; another app's
 * write on the same database (another process, another isolate) within the catch-up
 * interval of the injected clock; and a write in one namespace drops no cached entry of
 * another (counted in database round trips).
 */
import { describe, expect, it, vi } from 'vitest'
import { RCODE, TYPE, decodeMessage } from '../../worker/dns/wire'
import { seededClock } from '../../worker/wiring'
import { testApp, type TestApp } from '../support/app'
import { base64url, wireQuery as query } from '../support/dns-query'

const API = '/api/v1'
const ns = (namespace: string) => `${API}/namespaces/${namespace}`
const INTERVAL = 500
const ROOT = 'root-credential-for-the-cache-freshness-tests-0123'
const TOKENS = '/apis/switchboard.dev/v1/tokens'

function pod(name: string, ip: string, ready = true) {
  return {
    metadata: { name, labels: { app: 'db' } },
    spec: { containers: [{ name: 'app', ports: [{ name: 'pg', containerPort: 5432 }] }] },
    status: { podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  }
}


function wireQuery(name: string, type: number): string {
  return `/dns-query?dns=${base64url(query(name, type, { id: 7 }))}`
}

type Request = (path: string, init?: RequestInit) => Response | Promise<Response>

/** The sorted addresses (or PTR targets) a DoH wire query answers, through `request`. */
async function answers(request: Request, name: string, type: number = TYPE.A): Promise<string[] | 'NXDOMAIN'> {
  const res = await request(wireQuery(name, type))
  expect(res.status).toBe(200)
  const msg = decodeMessage(new Uint8Array(await res.arrayBuffer()))
  if (msg.header.rcode === RCODE.NXDOMAIN) return 'NXDOMAIN'
  return msg.answers
    .map((r) => (r.data.kind === 'A' ? r.data.address : r.data.kind === 'PTR' ? r.data.target : '?'))
    .sort()
}

async function candidates(request: Request, namespace: string): Promise<string[]> {
  const res = await request(`${ns(namespace)}/services/db/pick?explain=true`)
  expect(res.status).toBe(200)
  const body = (await res.json()) as { explain: { candidates: { pod: string }[] } }
  return body.explain.candidates.map((c) => c.pod).sort()
}

const send = (request: Request, method: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  Promise.resolve(
    request(path, {
      method,
      body: JSON.stringify(body),
      headers: { 'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json', ...headers },
    }),
  )

const notReady = { status: { conditions: [{ type: 'Ready', status: 'False' }] } }

/** An app with namespaces a and b, each with a headless service `db` over pods p1 (ready) and p2. */
async function setup(env: Record<string, string> = {}) {
  let now = Date.parse('2030-06-01T00:00:00Z')
  const t = await testApp({ clock: seededClock(5, () => new Date(now)), env: { CATCH_UP_INTERVAL_MS: String(INTERVAL), ...env } })
  const auth: Record<string, string> = env.SWITCHBOARD_ADMIN_TOKEN ? { authorization: `Bearer ${env.SWITCHBOARD_ADMIN_TOKEN}` } : {}
  for (const [n, i] of [
    ['a', 1],
    ['b', 2],
  ] as const) {
    expect((await t.json('POST', `${API}/namespaces`, { metadata: { name: n } }, auth)).status).toBe(201)
    const svc = { metadata: { name: 'db' }, spec: { clusterIP: 'None', selector: { app: 'db' }, ports: [{ name: 'pg', port: 5432 }] } }
    expect((await t.json('POST', `${ns(n)}/services`, svc, auth)).status).toBe(201)
    expect((await t.json('POST', `${ns(n)}/pods`, pod('p1', `10.${i}.0.1`), auth)).status).toBe(201)
    expect((await t.json('POST', `${ns(n)}/pods`, pod('p2', `10.${i}.0.2`), auth)).status).toBe(201)
  }
  const peer = t.peer()
  return { t, peer: peer.request.bind(peer) as Request, local: t.app.request.bind(t.app) as Request, tick: (ms: number) => (now += ms) }
}

describe('caches that follow the change feed', () => {
  it('see a write through this app at the next read: DNS, negative answers, the pick and reverse lookups', async () => {
    const { local } = await setup()
    expect(await answers(local, 'db.a.svc.cluster.local')).toEqual(['10.1.0.1', '10.1.0.2'])
    expect(await candidates(local, 'a')).toEqual(['p1', 'p2'])
    expect(await answers(local, '2.0.1.10.in-addr.arpa', TYPE.PTR)).toEqual(['10-1-0-2.db.a.svc.cluster.local'])
    expect(await answers(local, 'web.a.svc.cluster.local')).toBe('NXDOMAIN')

    expect((await send(local, 'PATCH', `${ns('a')}/pods/p2/status`, notReady)).status).toBe(200)
    expect(await answers(local, 'db.a.svc.cluster.local')).toEqual(['10.1.0.1'])
    expect(await candidates(local, 'a')).toEqual(['p1'])
    expect(await answers(local, '2.0.1.10.in-addr.arpa', TYPE.PTR)).toBe('NXDOMAIN')

    const web = { metadata: { name: 'web' }, spec: { clusterIP: 'None', selector: { app: 'db' }, ports: [{ port: 80 }] } }
    expect((await send(local, 'POST', `${ns('a')}/services`, web)).status).toBe(201)
    expect(await answers(local, 'web.a.svc.cluster.local')).toEqual(['10.1.0.1'])

    expect((await send(local, 'DELETE', ns('a'), {})).status).toBe(200)
    expect(await answers(local, 'db.a.svc.cluster.local')).toBe('NXDOMAIN')
    expect(await answers(local, 'a.svc.cluster.local')).toBe('NXDOMAIN')
  })

  it("see another app's write once the catch-up interval has passed, not before", async () => {
    const { local, peer, tick } = await setup()
    expect(await answers(local, 'db.a.svc.cluster.local')).toEqual(['10.1.0.1', '10.1.0.2'])
    expect(await candidates(local, 'a')).toEqual(['p1', 'p2'])
    expect(await answers(local, '2.0.1.10.in-addr.arpa', TYPE.PTR)).toEqual(['10-1-0-2.db.a.svc.cluster.local'])

    expect((await send(peer, 'PATCH', `${ns('a')}/pods/p2/status`, notReady)).status).toBe(200)
    tick(INTERVAL - 1)
    expect(await answers(local, 'db.a.svc.cluster.local')).toEqual(['10.1.0.1', '10.1.0.2'])
    expect(await candidates(local, 'a')).toEqual(['p1', 'p2'])
    tick(1)
    expect(await answers(local, 'db.a.svc.cluster.local')).toEqual(['10.1.0.1'])
    expect(await candidates(local, 'a')).toEqual(['p1'])
    expect(await answers(local, '2.0.1.10.in-addr.arpa', TYPE.PTR)).toBe('NXDOMAIN')
  })

  for (const writer of ['this app', 'another app'] as const) {
    it(`keep every entry of namespace a while ${writer} writes in namespace b: one catch-up query, nothing reloaded`, async () => {
      const { t, local, peer, tick } = await setup()
      const reads = async () => {
        expect(await answers(local, 'db.a.svc.cluster.local')).toEqual(['10.1.0.1', '10.1.0.2'])
        expect(await answers(local, 'a.svc.cluster.local')).toEqual([])
        expect(await answers(local, '1.0.1.10.in-addr.arpa', TYPE.PTR)).toEqual(['10-1-0-1.db.a.svc.cluster.local'])
        expect(await candidates(local, 'a')).toEqual(['p1', 'p2'])
        const json = await (await local('/resolve?name=db.a.svc.cluster.local&type=A')).json()
        expect((json as { Answer: unknown[] }).Answer).toHaveLength(2)
      }
      await reads()
      const resolve = vi.spyOn(t.resolver, 'resolve')
      const write = writer === 'this app' ? local : peer
      expect((await send(write, 'PATCH', `${ns('b')}/pods/p2/status`, notReady)).status).toBe(200)
      expect((await send(write, 'POST', `${ns('b')}/pods`, pod('p3', '10.2.0.3'))).status).toBe(201)
      expect((await send(write, 'DELETE', `${ns('b')}/pods/p1`, {})).status).toBe(200)
      tick(INTERVAL)
      t.calls.reset()
      await reads()
      // The catch-up is the only round trip; no entry of namespace a was read again.
      expect({ batch: t.calls.batch, execute: t.calls.execute }).toEqual({ batch: 1, execute: 0 })
      // The wire answers came from the answer cache: only the JSON form resolved again.
      expect(resolve).toHaveBeenCalledTimes(1)
      // The writes did reach the other namespace.
      expect(await answers(local, 'db.b.svc.cluster.local')).toEqual(['10.2.0.3'])
    })
  }

  it("see a token revoked through another app once the catch-up interval has passed", async () => {
    const { t, peer, tick } = await setup({ SWITCHBOARD_ADMIN_TOKEN: ROOT })
    const root = { authorization: `Bearer ${ROOT}` }
    const token = { apiVersion: 'switchboard.dev/v1', kind: 'Token', metadata: { name: 'reader' }, spec: { role: 'read', namespaces: ['a'] } }
    const created = await t.json('POST', TOKENS, token, root)
    expect(created.status).toBe(201)
    const reader = { authorization: `Bearer ${created.body.status.secret}` }
    expect((await t.req('GET', `${ns('a')}/pods`, undefined, reader)).status).toBe(200)
    expect((await peer(`${TOKENS}/reader`, { method: 'DELETE', headers: root })).status).toBe(200)
    tick(INTERVAL - 1)
    expect((await t.req('GET', `${ns('a')}/pods`, undefined, reader)).status).toBe(200)
    tick(1)
    expect((await t.req('GET', `${ns('a')}/pods`, undefined, reader)).status).toBe(401)
  })
})
