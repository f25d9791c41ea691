import { createExecutionContext, createScheduledController, env, SELF, waitOnExecutionContext } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { testDatabase } from './db'
import worker from '../../worker/index'

const AUTH = { authorization: 'Bearer workers-test-root-credential-0123456789' }
const json = { ...AUTH, 'content-type': 'application/json' }

async function call(method: string, path: string, body?: unknown) {
  const res = await SELF.fetch(`http://registry${path}`, {
    method,
    headers: body === undefined ? AUTH : method === 'PATCH' ? { ...json, 'content-type': 'application/merge-patch+json' } : json,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  return { status: res.status, body: (await res.json()) as any }
}

describe('the Worker on D1', () => {
  // A fresh registry for every test (the Worker under SELF uses the same D1 binding).
  beforeEach(async () => {
    await testDatabase()
  })

  it('serves the API, computes endpoints in one D1 batch, and enforces its guards', async () => {
    expect((await SELF.fetch('http://registry/healthz')).status).toBe(200)
    expect((await call('GET', '/api/v1/namespaces')).body.items.map((n: any) => n.metadata.name)).toEqual(['default'])
    const svc = await call('POST', '/api/v1/namespaces/default/services', {
      metadata: { name: 'web' },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    })
    expect(svc.status).toBe(201)
    const pod = await call('POST', '/api/v1/namespaces/default/pods', {
      metadata: { name: 'web-1', labels: { app: 'web' } },
      spec: { containers: [{ name: 'app', ports: [{ name: 'http', containerPort: 8080 }] }] },
      status: { podIP: '10.0.0.1', conditions: [{ type: 'Ready', status: 'True' }] },
    })
    expect(pod.status).toBe(201)
    const ep = await call('GET', '/api/v1/namespaces/default/endpoints/web')
    expect(ep.body.subsets[0]).toMatchObject({ addresses: [{ ip: '10.0.0.1' }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] })
    expect((await call('POST', '/api/v1/namespaces/default/services', { metadata: { name: 'web' }, spec: { ports: [{ port: 80 }] } })).status).toBe(409)
    expect((await call('POST', '/api/v1/namespaces/nope/pods', { metadata: { name: 'p' } })).status).toBe(404)
    const stale = await call('PUT', '/api/v1/namespaces/default/services/web', { ...svc.body, metadata: { ...svc.body.metadata, resourceVersion: '1' } })
    expect(stale.status).toBe(409)
  })

  it('answers DNS and picks from the same data (each test has its own storage)', async () => {
    await call('POST', '/api/v1/namespaces/default/services', { metadata: { name: 'db' }, spec: { clusterIP: 'None', selector: { app: 'db' } } })
    for (const [name, ip, weight] of [['db-0', '10.0.1.1', '3'], ['db-1', '10.0.1.2', '1']] as const) {
      await call('POST', '/api/v1/namespaces/default/pods', {
        metadata: { name, labels: { app: 'db' }, annotations: { 'switchboard.dev/weight': weight } },
        status: { podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] },
      })
    }
    const dns = await SELF.fetch('http://registry/resolve?name=db.default.svc.cluster.local&type=A', { headers: AUTH })
    const answer = (await dns.json()) as any
    expect(answer.Answer.map((a: any) => a.data).sort()).toEqual(['10.0.1.1', '10.0.1.2'])
    const picks: string[] = []
    for (let i = 0; i < 8; i++) picks.push((await call('GET', '/api/v1/namespaces/default/services/db/pick')).body.pod)
    expect(picks.filter((p) => p === 'db-0').length).toBe(6)
  })

  it('removes terminating pods on the cron trigger once their grace period has ended', async () => {
    for (const name of ['fast', 'slow']) {
      const created = await call('POST', '/api/v1/namespaces/default/pods', { metadata: { name }, status: { podIP: '10.0.2.1' } })
      expect(created.status).toBe(201)
    }
    expect((await call('DELETE', '/api/v1/namespaces/default/pods/fast?gracePeriodSeconds=1')).body.metadata.deletionTimestamp).toBeTruthy()
    expect((await call('DELETE', '/api/v1/namespaces/default/pods/slow?gracePeriodSeconds=3600')).status).toBe(200)
    await new Promise((resolve) => setTimeout(resolve, 2_100))
    const ctx = createExecutionContext()
    worker.scheduled(createScheduledController({ cron: '* * * * *' }), env, ctx)
    await waitOnExecutionContext(ctx)
    expect((await call('GET', '/api/v1/namespaces/default/pods/fast')).status).toBe(404)
    const slow = await call('GET', '/api/v1/namespaces/default/pods/slow')
    expect(slow.status).toBe(200)
    expect(slow.body.metadata.deletionTimestamp).toBeTruthy()
  })

  it('prunes the change log on the cron trigger: events older than the retention go, newer ones stay', async () => {
    await call('POST', '/api/v1/namespaces/default/pods', { metadata: { name: 'logged' }, status: { podIP: '10.0.3.1' } })
    // An event recorded long ago (older than any retention) beside the ones just written.
    await env.DB.prepare("INSERT INTO changes (rv, kind, namespace, name, type, at, actor) VALUES (1, 'Pod', 'default', 'ancient', 'ADDED', '2000-01-01T00:00:00.000Z', '')").run()
    const ctx = createExecutionContext()
    worker.scheduled(createScheduledController({ cron: '* * * * *' }), env, ctx)
    await waitOnExecutionContext(ctx)
    const names = (await env.DB.prepare('SELECT name FROM changes ORDER BY id').all<{ name: string }>()).results.map((r) => r.name)
    expect(names).not.toContain('ancient')
    expect(names).toContain('logged')
    const compacted = await env.DB.prepare("SELECT value FROM meta WHERE key = 'compactedRv'").first<number>('value')
    expect(compacted).toBeGreaterThanOrEqual(1)
  })

  it('judges leases when answering, and records a lapse on the cron trigger and after requests', async () => {
    const lease = (name: string, seconds: number) => ({
      metadata: { name },
      spec: { holderIdentity: 'agent', leaseDurationSeconds: seconds, renewTime: new Date().toISOString() },
    })
    const leases = '/apis/coordination.k8s.io/v1/namespaces/default/leases'
    expect((await call('POST', leases, lease('short', 1))).status).toBe(201)
    expect((await call('POST', leases, lease('long', 3600))).status).toBe(201)
    await call('POST', '/api/v1/namespaces/default/services', { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } })
    for (const [name, ip, bound] of [['a', '10.0.4.1', 'short'], ['b', '10.0.4.2', 'long']]) {
      const pod = { metadata: { name, labels: { app: 'web' }, annotations: { 'switchboard.dev/lease': bound } }, status: { podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] } }
      expect((await call('POST', '/api/v1/namespaces/default/pods', pod)).status).toBe(201)
    }
    const addresses = async () => {
      const slices = await call('GET', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices')
      return slices.body.items.flatMap((s: any) => s.endpoints.filter((e: any) => e.conditions.ready).map((e: any) => e.addresses[0])).sort()
    }
    expect(await addresses()).toEqual(['10.0.4.1', '10.0.4.2'])
    await new Promise((resolve) => setTimeout(resolve, 1_100))
    // Lapsed: out of the answers at once, before anything records it.
    expect(await addresses()).toEqual(['10.0.4.2'])
    for (let i = 0; i < 5; i++) expect((await call('GET', '/api/v1/namespaces/default/services/web/pick')).body.address).toBe('10.0.4.2')
    const ctx = createExecutionContext()
    worker.scheduled(createScheduledController({ cron: '* * * * *' }), env, ctx)
    await waitOnExecutionContext(ctx)
    const a = await call('GET', '/api/v1/namespaces/default/pods/a')
    expect(a.body.status.conditions.find((c: any) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'LeaseExpired' })
    // A renewal restores it in the same request.
    expect((await call('PATCH', `${leases}/short`, { spec: { renewTime: new Date().toISOString(), leaseDurationSeconds: 1 } })).status).toBe(200)
    expect((await call('GET', '/api/v1/namespaces/default/pods/a')).body.status.conditions.find((c: any) => c.type === 'Ready').status).toBe('True')
    expect(await addresses()).toEqual(['10.0.4.1', '10.0.4.2'])
    // Lapsed again: requests alone (no cron) get it recorded within about a second.
    await new Promise((resolve) => setTimeout(resolve, 1_100))
    let reason: string | undefined
    for (let i = 0; i < 30 && reason !== 'LeaseExpired'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      reason = (await call('GET', '/api/v1/namespaces/default/pods/a')).body.status.conditions.find((c: any) => c.type === 'Ready').reason
    }
    expect(reason).toBe('LeaseExpired')
  })

  it('refuses calls without a token', async () => {
    expect((await SELF.fetch('http://registry/api/v1/pods')).status).toBe(401)
  })
})
