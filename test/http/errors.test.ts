import { describe, expect, it } from 'vitest'
import pkg from '../../package.json'
import { VERSION } from '../../worker/version'
import { testApp } from '../support/app'

const SVC = '/api/v1/namespaces/default/services'

async function status(res: Response) {
  const body = (await res.json()) as any
  expect(body).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: res.status })
  return body
}

describe('errors are Kubernetes Status objects', () => {
  it('400s malformed JSON', async () => {
    const t = await testApp()
    const res = await t.req('POST', SVC, '{"metadata": {', { 'content-type': 'application/json' })
    expect(res.status).toBe(400)
    expect((await status(res)).reason).toBe('BadRequest')
  })

  it('400s a body that is not an object', async () => {
    const t = await testApp()
    for (const body of ['[]', '42', '"svc"', 'null']) {
      const res = await t.req('POST', SVC, body, { 'content-type': 'application/json' })
      expect(res.status, body).toBe(400)
      await status(res)
    }
  })

  it('415s a wrong content type', async () => {
    const t = await testApp()
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/x-yaml']) {
      const res = await t.req('POST', SVC, '{}', { 'content-type': type })
      expect(res.status).toBe(415)
      expect((await status(res)).reason).toBe('UnsupportedMediaType')
    }
    const patch = await t.req('PATCH', `${SVC}/x`, '{}', { 'content-type': 'application/json' })
    expect(patch.status).toBe(415)
  })

  it('413s a body over 1 MiB, declared or streamed', async () => {
    const t = await testApp()
    const big = JSON.stringify({ metadata: { name: 'a', annotations: { x: 'y'.repeat(1024 * 1024) } } })
    const res = await t.req('POST', SVC, big, { 'content-type': 'application/json' })
    expect(res.status).toBe(413)
    expect((await status(res)).reason).toBe('RequestEntityTooLarge')
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 20; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(100_000)))
        controller.close()
      },
    })
    const streamed = await t.app.request(SVC, {
      method: 'POST',
      body: stream,
      headers: { 'content-type': 'application/json' },
      // @ts-expect-error: Node's fetch needs duplex for a streamed body
      duplex: 'half',
    })
    expect(streamed.status).toBe(413)
  })

  it('404s unknown paths and 405s unknown methods, naming the allowed ones', async () => {
    const t = await testApp()
    const missing = await t.req('GET', '/api/v1/nothing')
    expect(missing.status).toBe(404)
    expect((await status(missing)).reason).toBe('NotFound')
    const method = await t.req('PUT', '/api/v1/namespaces/default/endpoints')
    expect(method.status).toBe(405)
    expect(method.headers.get('allow')).toBe('GET, POST')
    expect((await status(method)).reason).toBe('MethodNotAllowed')
    expect((await t.req('DELETE', SVC)).status).toBe(405)
  })

  it('answers an unexpected failure with a 500 Status that reveals nothing', async () => {
    const t = await testApp()
    t.client.close()
    const logged: unknown[] = []
    const { createApp } = await import('../../worker/app')
    const app = createApp({ registry: t.registry, resolver: t.resolver, picker: t.picker, tokens: t.tokens, version: VERSION, logError: (e) => logged.push(e) })
    const res = await app.request('/api/v1/namespaces')
    expect(res.status).toBe(500)
    const body = await status(res)
    expect(body.message).toBe('an internal error occurred')
    expect(logged).toHaveLength(1)
  })

  it('names a grouped kind with its group, as Kubernetes does (message and details.group); a core kind without one', async () => {
    const t = await testApp()
    const LEASES = '/apis/coordination.k8s.io/v1/namespaces/default/leases'
    const missing = await t.json('GET', `${LEASES}/nope`)
    expect(missing.status).toBe(404)
    expect(missing.body).toMatchObject({ message: 'leases.coordination.k8s.io "nope" not found', details: { name: 'nope', group: 'coordination.k8s.io', kind: 'leases' } })
    const lease = { metadata: { name: 'l' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 10 } }
    expect((await t.json('POST', LEASES, lease)).status).toBe(201)
    const taken = await t.json('POST', LEASES, lease)
    expect(taken.status).toBe(409)
    expect(taken.body).toMatchObject({ message: 'leases.coordination.k8s.io "l" already exists', details: { group: 'coordination.k8s.io', kind: 'leases' } })
    const stale = await t.json('PUT', `${LEASES}/l`, { ...lease, metadata: { name: 'l', resourceVersion: '1' } })
    expect(stale.status).toBe(409)
    expect(stale.body.message).toMatch(/^Operation cannot be fulfilled on leases\.coordination\.k8s\.io "l": the object has been modified/)
    const bad = await t.json('PUT', `${LEASES}/l`, { ...lease, spec: { ...lease.spec, leaseDurationSeconds: 0 } })
    expect(bad.status).toBe(422)
    expect(bad.body).toMatchObject({ details: { name: 'l', group: 'coordination.k8s.io', kind: 'Lease' } })
    expect(bad.body.message).toBe('Lease.coordination.k8s.io "l" is invalid: spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0')
    const wrongUid = await t.json('DELETE', `${LEASES}/l`, { preconditions: { uid: 'not-the-uid' } })
    expect(wrongUid.status).toBe(409)
    expect(wrongUid.body).toMatchObject({ details: { name: 'l', group: 'coordination.k8s.io', kind: 'leases' } })
    expect(wrongUid.body.message).toMatch(/^Operation cannot be fulfilled on leases\.coordination\.k8s\.io "l": Precondition failed: UID in precondition: not-the-uid, UID in object meta: [0-9a-f-]{36}$/)
    const pod = await t.json('GET', '/api/v1/namespaces/default/pods/nope')
    expect(pod.body).toMatchObject({ message: 'pods "nope" not found', details: { name: 'nope', kind: 'pods' } })
    expect(pod.body.details.group).toBeUndefined()
  })
})

describe('health, version and discovery', () => {
  it('answers /healthz once the database is usable, and 503 when it is not', async () => {
    const t = await testApp()
    expect((await t.req('GET', '/healthz')).status).toBe(200)
    t.client.close()
    expect((await t.req('GET', '/healthz')).status).toBe(503)
  })

  it('reports the version of package.json', async () => {
    const t = await testApp()
    expect(VERSION).toBe(pkg.version)
    expect((await t.json('GET', '/version')).body.gitVersion).toBe(`v1.32.0+switchboard.${pkg.version}`)
  })

  it('serves the discovery documents kubectl reads', async () => {
    const t = await testApp()
    expect((await t.json('GET', '/api')).body).toMatchObject({ kind: 'APIVersions', versions: ['v1'] })
    const v1 = (await t.json('GET', '/api/v1')).body
    expect(v1.resources.map((r: any) => r.name)).toEqual(expect.arrayContaining(['namespaces', 'services', 'pods']))
  })

  it('echoes or assigns a request ID', async () => {
    const t = await testApp()
    expect((await t.req('GET', '/version', undefined, { 'x-request-id': 'abc' })).headers.get('x-request-id')).toBe('abc')
    expect((await t.req('GET', '/version')).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
  })
})
