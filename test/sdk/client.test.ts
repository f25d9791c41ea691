import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { beforeAll, describe, expect, expectTypeOf, it } from 'vitest'
import {
  AbortError,
  AlreadyExistsError,
  ConflictError,
  ConnectionError,
  ForbiddenError,
  InvalidError,
  NotFoundError,
  ServiceUnavailableError,
  Switchboard,
  SwitchboardError,
  TimeoutError,
  UnauthorizedError,
  type Pod,
  type PickResult,
  type Service,
} from '../../sdk/src/index'
import { E2E_TOKEN } from '../support/auth'
import { useServer } from '../support/server'

const server = useServer()
let sb: Switchboard

beforeAll(() => {
  sb = new Switchboard({ baseUrl: server.url, token: E2E_TOKEN })
})

describe('the SDK against a real server', () => {
  it('creates, lists with selectors across pages, gets, patches and deletes', async () => {
    await sb.namespaces.create({ metadata: { name: 'sdk-a' } })
    const svc = await sb.services.create(
      { metadata: { name: 'web', labels: { tier: 'fe' } }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } },
      { namespace: 'sdk-a' },
    )
    expect(svc.spec.clusterIP).toMatch(/^10\./)
    for (let i = 0; i < 7; i++) {
      await sb.pods.register({ name: `web-${i}`, namespace: 'sdk-a', ip: `10.9.0.${i + 1}`, labels: { app: 'web', n: String(i % 2) }, ports: { http: 8080 }, weight: i + 1 })
    }
    const names = ['web-0', 'web-1', 'web-2', 'web-3', 'web-4', 'web-5', 'web-6']
    const first = await sb.pods.list({ namespace: 'sdk-a', limit: 2 })
    expect(first.items.map((p) => p.metadata.name)).toEqual(['web-0', 'web-1'])
    expect(first.hasNextPage()).toBe(true)
    expect(Number(first.resourceVersion)).toBeGreaterThan(0)
    const iterated: string[] = []
    for await (const p of sb.pods.list({ namespace: 'sdk-a', limit: 2 })) iterated.push(p.metadata.name)
    expect(iterated).toEqual(names)
    const pages: number[] = []
    for await (const page of first.pages()) pages.push(page.items.length)
    expect(pages).toEqual([2, 2, 2, 1])
    const all = await sb.pods.listAll({ namespace: 'sdk-a', limit: 2 })
    expect(all.items.map((p) => p.metadata.name)).toEqual(names)
    expect(all.resourceVersion).toBe(first.resourceVersion)
    expect((await sb.pods.listAll({ namespace: 'sdk-a', labelSelector: { n: '1' } })).items.length).toBe(3)
    expect((await sb.pods.listAll({ namespace: 'sdk-a', labelSelector: 'n in (0),app=web', fieldSelector: { 'metadata.name': 'web-2' } })).items.length).toBe(1)
    expect((await sb.services.listAll({ allNamespaces: true, labelSelector: { tier: 'fe' } })).items.map((s) => s.metadata.namespace)).toEqual(['sdk-a'])
    const patched = await sb.services.patch('web', { metadata: { labels: { tier: 'edge' } } }, { namespace: 'sdk-a' })
    expect(patched.metadata.labels).toEqual({ tier: 'edge' })
    await sb.pods.delete('web-6', { namespace: 'sdk-a' })
    await expect(sb.pods.get('web-6', { namespace: 'sdk-a' })).rejects.toBeInstanceOf(NotFoundError)
  })

  it('registers idempotently, sets readiness, drains, picks, resolves and looks up', async () => {
    await sb.namespaces.create({ metadata: { name: 'sdk-b' } })
    const b = new Switchboard({ baseUrl: server.url, token: E2E_TOKEN, namespace: 'sdk-b' })
    await b.services.create({ metadata: { name: 'api' }, spec: { clusterIP: 'None', selector: { app: 'api' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } })
    const first = await b.pods.register({ name: 'api-1', ip: '10.8.0.1', labels: { app: 'api' }, ports: { http: 9000 }, weight: 3, zone: 'z1' })
    const again = await b.pods.register({ name: 'api-1', ip: '10.8.0.1', labels: { app: 'api' }, ports: { http: 9000 }, weight: 3, zone: 'z1' })
    expect(again.metadata.uid).toBe(first.metadata.uid)
    expect(again.metadata.resourceVersion).toBe(first.metadata.resourceVersion)
    await b.pods.register({ name: 'api-2', ip: '10.8.0.2', labels: { app: 'api' }, ports: { http: 9000 } })

    const pick = await b.services.pick('api', { port: 'http' })
    expect(['10.8.0.1', '10.8.0.2']).toContain(pick.address)
    expect(pick.port).toBe(9000)
    expect((await b.lookup('api')).map((e) => e.address).sort()).toEqual(['10.8.0.1', '10.8.0.2'])

    await b.pods.setReady('api-2', false)
    expect((await b.lookup('api')).map((e) => e.pod)).toEqual(['api-1'])
    await b.pods.drain('api-1')
    await expect(b.services.pick('api')).rejects.toBeInstanceOf(ServiceUnavailableError)
    await b.pods.setReady('api-2', true)

    const dns = await b.resolve('_http._tcp.api.sdk-b.svc.cluster.local', 'SRV')
    expect(dns.status).toBe(0)
    expect(dns.answers).toEqual([{ name: '_http._tcp.api.sdk-b.svc.cluster.local.', ttl: 5, type: 'SRV', priority: 0, weight: 1, port: 9000, target: '10-8-0-2.api.sdk-b.svc.cluster.local.' }])
    const nx = await b.resolve('nope.sdk-b.svc.cluster.local')
    expect(nx.status).toBe(3)
    expect(nx.authority[0]!.type).toBe('SOA')
    const txt = await b.resolve('dns-version.cluster.local', 'TXT')
    expect(txt.answers[0]).toMatchObject({ type: 'TXT', text: ['1.1.0'] })
  })

  it('throws one error class per Status reason, with status, Status and request ID', async () => {
    const missing = await sb.pods.get('nope').catch((e) => e)
    expect(missing).toBeInstanceOf(NotFoundError)
    expect(missing.status).toBe(404)
    expect(missing.body.kind).toBe('Status')
    expect(missing.requestId).toMatch(/[0-9a-f-]{36}/)
    await sb.namespaces.create({ metadata: { name: 'sdk-c' } })
    await expect(sb.namespaces.create({ metadata: { name: 'sdk-c' } })).rejects.toBeInstanceOf(AlreadyExistsError)
    const invalid = await sb.services.create({ metadata: { name: 'Bad' }, spec: { ports: [{ port: 0 }] } }).catch((e) => e)
    expect(invalid).toBeInstanceOf(InvalidError)
    expect(invalid.causes.map((c: { field: string }) => c.field)).toEqual(expect.arrayContaining(['metadata.name', 'spec.ports[0].port']))
    const svc = await sb.services.create({ metadata: { name: 'cfl' }, spec: { ports: [{ port: 80 }] } })
    await sb.services.patch('cfl', { metadata: { labels: { a: 'b' } } })
    await expect(sb.services.replace('cfl', { ...svc, metadata: { ...svc.metadata, labels: { c: 'd' } } } as never)).rejects.toBeInstanceOf(ConflictError)
    await expect(new Switchboard({ baseUrl: server.url }).pods.list()).rejects.toBeInstanceOf(UnauthorizedError)
    const token = await sb.tokens.create({ metadata: { name: 'sdk-reader' }, spec: { role: 'read', namespaces: ['sdk-c'] } })
    const reader = new Switchboard({ baseUrl: server.url, token: token.status!.secret })
    await expect(reader.pods.list({ namespace: 'default' })).rejects.toBeInstanceOf(ForbiddenError)
    expect((await reader.pods.listAll({ namespace: 'sdk-c' })).items).toEqual([])
  })

  it('retries safe calls on network errors, never a create blindly; aborts and times out', async () => {
    let failures = 0
    const flaky: typeof fetch = async (input, init) => {
      if (failures < 2) {
        failures++
        throw new TypeError('fetch failed')
      }
      return fetch(input, init)
    }
    const retrying = new Switchboard({ baseUrl: server.url, token: E2E_TOKEN, fetch: flaky })
    expect((await retrying.namespaces.get('default')).metadata.name).toBe('default')
    expect(failures).toBe(2)

    let posts = 0
    const failingPost: typeof fetch = async (input, init) => {
      if (init?.method === 'POST') {
        posts++
        throw new TypeError('fetch failed')
      }
      return fetch(input, init)
    }
    const creates = new Switchboard({ baseUrl: server.url, token: E2E_TOKEN, fetch: failingPost })
    await expect(creates.namespaces.create({ metadata: { name: 'sdk-d' } })).rejects.toBeInstanceOf(ConnectionError)
    expect(posts).toBe(1)

    // a 503 with Retry-After and a 500 are retried for a safe call; the third answer is the server's
    let answers = 0
    const busy: typeof fetch = async (input, init) => {
      answers++
      if (answers === 1) return new Response(JSON.stringify({ kind: 'Status', code: 503, reason: 'ServiceUnavailable' }), { status: 503, headers: { 'retry-after': '0' } })
      if (answers === 2) return new Response('{}', { status: 500 })
      return fetch(input, init)
    }
    const patient = new Switchboard({ baseUrl: server.url, token: E2E_TOKEN, fetch: busy })
    expect((await patient.namespaces.get('default')).metadata.name).toBe('default')
    expect(answers).toBe(3)

    const controller = new AbortController()
    controller.abort()
    await expect(sb.pods.list({ signal: controller.signal })).rejects.toBeInstanceOf(AbortError)
    const never: typeof fetch = (_input, init) =>
      new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(new Error('aborted'))))
    const slow = new Switchboard({ baseUrl: server.url, fetch: never, timeoutMs: 50, maxRetries: 0 })
    await expect(slow.pods.list()).rejects.toBeInstanceOf(TimeoutError)
  })

  it('times out, aborts and retries while reading a body that stalls, with its own errors', async () => {
    // Headers and the start of a body, then nothing: a registry that stalls mid-answer.
    let requests = 0
    const stalling = createServer((_req, res) => {
      requests++
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write('{"kind":"Pod",')
    })
    await new Promise<void>((resolve) => stalling.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(stalling.address() as AddressInfo).port}`
    try {
      const once = new Switchboard({ baseUrl: url, timeoutMs: 300, maxRetries: 0 })
      const timedOut = await once.pods.get('x').catch((e: unknown) => e)
      expect(timedOut).toBeInstanceOf(TimeoutError)
      expect(timedOut).toBeInstanceOf(SwitchboardError)
      expect(requests).toBe(1)

      // A safe call is retried as for a timeout before the headers.
      const retrying = new Switchboard({ baseUrl: url, timeoutMs: 200, maxRetries: 1 })
      await expect(retrying.pods.get('x')).rejects.toBeInstanceOf(TimeoutError)
      expect(requests).toBe(3)

      const controller = new AbortController()
      const patient = new Switchboard({ baseUrl: url, timeoutMs: 10_000, maxRetries: 2 })
      const pending = patient.pods.get('x', { signal: controller.signal }).catch((e: unknown) => e)
      setTimeout(() => controller.abort(), 200)
      const aborted = await pending
      expect(aborted).toBeInstanceOf(AbortError)
      expect(requests).toBe(4)

      // A body cut off mid-way is a ConnectionError.
      const cutting = createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' })
        res.write('{"kind":"Pod",')
        setTimeout(() => res.destroy(), 50)
      })
      await new Promise<void>((resolve) => cutting.listen(0, '127.0.0.1', resolve))
      try {
        const cut = new Switchboard({ baseUrl: `http://127.0.0.1:${(cutting.address() as AddressInfo).port}`, maxRetries: 0 })
        await expect(cut.pods.get('x')).rejects.toBeInstanceOf(ConnectionError)
      } finally {
        cutting.closeAllConnections()
        cutting.close()
      }
    } finally {
      stalling.closeAllConnections()
      stalling.close()
    }
  })
})

describe('types', () => {
  it('pins the public types to the server definitions', () => {
    expectTypeOf(sb.pods.get).returns.resolves.toEqualTypeOf<Pod>()
    expectTypeOf(sb.services.get).returns.resolves.toEqualTypeOf<Service>()
    expectTypeOf(sb.services.pick).returns.resolves.toEqualTypeOf<PickResult>()
    expectTypeOf<Pod['status']['phase']>().toEqualTypeOf<'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown'>()
    expectTypeOf<Service['spec']['type']>().toEqualTypeOf<'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName'>()
    expectTypeOf(sb.pods.register).parameter(0).toHaveProperty('ip').toEqualTypeOf<string | string[]>()
  })
})
