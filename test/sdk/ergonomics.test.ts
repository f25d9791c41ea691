/**
 * The SDK's ergonomics against a real server: error headers, abort signals that leave no
 * listener behind, a pick that fails at once with its reason, services.apply(), and a
 * register() that keeps a drain and will not take over a live registration's name.
 */
import { getEventListeners } from 'node:events'
import { beforeAll, describe, expect, it } from 'vitest'
import { AbortError, ConflictError, NameTakenError, NotFoundError, ServiceUnavailableError, Switchboard } from '../../sdk/src/index'
import { E2E_TOKEN } from '../support/auth'
import { useServer } from '../support/server'

const server = useServer()
let sb: Switchboard

beforeAll(async () => {
  sb = new Switchboard({ baseUrl: server.url, token: E2E_TOKEN })
})

async function namespace(name: string): Promise<Switchboard> {
  await sb.namespaces.create({ metadata: { name } })
  const c = new Switchboard({ baseUrl: server.url, token: E2E_TOKEN, namespace: name })
  await c.services.create({ metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } })
  return c
}

describe('errors and signals', () => {
  it('APIError carries the answer headers', async () => {
    const e = await sb.pods.get('nobody').catch((e: unknown) => e)
    expect(e).toBeInstanceOf(NotFoundError)
    const error = e as NotFoundError
    expect(error.headers.get('content-type')).toMatch(/application\/json/)
    expect(error.headers.get('x-request-id')).toBe(error.requestId)
  })

  it('leaves no listener on the caller’s signal, whether calls succeed, fail or retry', async () => {
    const controller = new AbortController()
    const signal = controller.signal
    for (let i = 0; i < 20; i++) await sb.namespaces.get('default', { signal })
    await sb.pods.get('nobody', { signal }).catch(() => {})
    await sb.pods.listAll({ signal, limit: 1 })
    // retried answers: the wait between attempts listens to the signal, and stops listening after it
    let answers = 0
    const busy: typeof fetch = async (input, init) => {
      if (++answers <= 2) return new Response('{}', { status: 500 })
      return fetch(input, init)
    }
    await new Switchboard({ baseUrl: server.url, token: E2E_TOKEN, fetch: busy }).namespaces.get('default', { signal })
    expect(answers).toBe(3)
    expect(getEventListeners(signal, 'abort')).toHaveLength(0)
    controller.abort()
    await expect(sb.namespaces.get('default', { signal })).rejects.toBeInstanceOf(AbortError)
  })
})

describe('pick', () => {
  it('fails at once with the reason when no endpoint is ready; wait: true retries', async () => {
    const c = await namespace('erg-pick')
    const started = performance.now()
    const e = await c.services.pick('web').catch((e: unknown) => e)
    const took = performance.now() - started
    expect(e).toBeInstanceOf(ServiceUnavailableError)
    expect((e as ServiceUnavailableError).message).toBe('service "web" has no ready endpoint')
    expect((e as ServiceUnavailableError).headers.get('retry-after')).toBe('1')
    expect(took).toBeLessThan(500)
    // waiting: the pod registered meanwhile is picked
    setTimeout(() => void c.pods.register({ name: 'web-1', ip: '10.70.0.1', labels: { app: 'web' }, ports: { http: 8080 } }), 300)
    const picked = await c.services.pick('web', { port: 'http', wait: true })
    expect(picked).toMatchObject({ address: '10.70.0.1', port: 8080, pod: 'web-1' })
  })
})

describe('services.apply()', () => {
  it('creates, then updates what its field manager owns, idempotently; a conflict names the other manager', async () => {
    await sb.namespaces.create({ metadata: { name: 'erg-apply' } })
    const c = new Switchboard({ baseUrl: server.url, token: E2E_TOKEN, namespace: 'erg-apply' })
    const desired = { metadata: { name: 'api', labels: { tier: 'be' } }, spec: { selector: { app: 'api' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } }
    const created = await c.services.apply(desired)
    expect(created.metadata.labels).toEqual({ tier: 'be' })
    const again = await c.services.apply(desired)
    expect(again.metadata.resourceVersion).toBe(created.metadata.resourceVersion)
    const changed = await c.services.apply({ ...desired, metadata: { name: 'api' } })
    expect(changed.metadata.labels ?? {}).toEqual({})
    const other = { metadata: { name: 'api' }, spec: { ports: [{ name: 'http', port: 80, targetPort: 9090 }] } }
    const conflict = await c.services.apply(other, { fieldManager: 'ops' }).catch((e: unknown) => e)
    expect(conflict).toBeInstanceOf(ConflictError)
    expect((conflict as ConflictError).message).toMatch(/conflict with "switchboard-sdk"/)
    const forced = await c.services.apply(other, { fieldManager: 'ops', force: true })
    expect(forced.spec.ports?.[0]?.targetPort).toBe(9090)
  })
})

describe('pods.register()', () => {
  it('updates an existing pod without resetting the readiness and weight it does not give', async () => {
    const c = await namespace('erg-upsert')
    const pod = { name: 'web-1', ip: '10.73.0.1', labels: { app: 'web' }, ports: { http: 8080 } }
    const created = await c.pods.register({ ...pod, weight: 3 })
    expect(created.metadata.annotations?.['switchboard.dev/weight']).toBe('3')
    await c.pods.drain('web-1')
    await c.pods.setReady('web-1', false)
    const again = await c.pods.register({ ...pod, ip: '10.73.0.2' })
    expect(again.metadata.uid).toBe(created.metadata.uid)
    expect(again.metadata.annotations?.['switchboard.dev/weight']).toBe('0')
    expect(again.status.conditions?.find((x) => x.type === 'Ready')?.status).toBe('False')
    expect(again.status.podIPs).toEqual([{ ip: '10.73.0.2' }])
    const given = await c.pods.register({ ...pod, ip: '10.73.0.2', weight: 5, ready: true })
    expect(given.metadata.annotations?.['switchboard.dev/weight']).toBe('5')
    expect(given.status.conditions?.find((x) => x.type === 'Ready')?.status).toBe('True')
    expect((await c.services.pick('web', { port: 'http' })).address).toBe('10.73.0.2')
  })
})

describe('register()', () => {
  it('does not undo a drain nor a readiness set by someone else on an existing pod', async () => {
    const c = await namespace('erg-drain')
    const first = await c.register({ name: 'web-1', ip: '10.71.0.1', labels: { app: 'web' }, ports: { http: 8080 } }, { leaseDurationSeconds: 5 })
    await c.pods.drain('web-1')
    await c.pods.setReady('web-1', false)
    await first.close().catch(() => {})
    // the pod is gone after close; write it again (drained, not ready) as an operator would have left it
    await c.pods.register({ name: 'web-1', ip: '10.71.0.1', labels: { app: 'web' }, ports: { http: 8080 }, weight: 0, ready: false })
    const again = await c.register({ name: 'web-1', ip: '10.71.0.2', labels: { app: 'web', v: '2' }, ports: { http: 8081 } }, { leaseDurationSeconds: 5 })
    try {
      const pod = await c.pods.get('web-1')
      expect(pod.metadata.annotations?.['switchboard.dev/weight']).toBe('0')
      expect(pod.status.conditions?.find((x) => x.type === 'Ready')?.status).toBe('False')
      expect(pod.status.podIPs).toEqual([{ ip: '10.71.0.2' }])
      expect(pod.metadata.labels).toMatchObject({ app: 'web', v: '2' })
      expect(pod.metadata.annotations?.['switchboard.dev/lease']).toBe('web-1')
      await expect(c.services.pick('web')).rejects.toBeInstanceOf(ServiceUnavailableError)
    } finally {
      await again.close()
    }
  })

  it('refuses a name held by another live registration, and takes it once that lease lapsed or with takeOver', async () => {
    const c = await namespace('erg-owner')
    const pod = { name: 'web-1', ip: '10.72.0.1', labels: { app: 'web' }, ports: { http: 8080 } }
    const holder = await c.register(pod, { leaseDurationSeconds: 2, holderIdentity: 'process-a' })
    const refused = await c.register(pod, { leaseDurationSeconds: 2, holderIdentity: 'process-b' }).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(NameTakenError)
    expect((refused as NameTakenError).message).toMatch(/held by "process-a"/)
    expect((refused as NameTakenError).lease).toBe('erg-owner/web-1')
    expect((await c.leases.get('web-1')).spec.holderIdentity).toBe('process-a')
    // the same holder registering again is not a takeover
    const same = await c.register(pod, { leaseDurationSeconds: 2, holderIdentity: 'process-a' })
    await same.close()
    await holder.close().catch(() => {})
    // a lapsed lease no longer holds the name
    await c.pods.register(pod)
    await c.leases.create({ metadata: { name: 'web-1' }, spec: { holderIdentity: 'process-c', leaseDurationSeconds: 1, renewTime: new Date(Date.now() - 5000).toISOString() } })
    await c.pods.patch('web-1', { metadata: { annotations: { 'switchboard.dev/lease': 'web-1' } } })
    const taken = await c.register(pod, { leaseDurationSeconds: 2, holderIdentity: 'process-d' })
    expect((await c.leases.get('web-1')).spec.holderIdentity).toBe('process-d')
    const forced = await c.register(pod, { leaseDurationSeconds: 2, holderIdentity: 'process-e', takeOver: true })
    expect((await c.leases.get('web-1')).spec.holderIdentity).toBe('process-e')
    await forced.close()
    await taken.close().catch(() => {})
  })
})
