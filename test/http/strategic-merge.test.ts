/**
 * PATCH with `application/strategic-merge-patch+json`, as kubectl apply, edit, patch and
 * label send it, through the real app over a real database: services (ports by port),
 * pods (containers by name, their ports by containerPort, status conditions by type),
 * leases, and the errors of a malformed patch (a Status naming the field, never a 500).
 */
import { describe, expect, it } from 'vitest'
import { testApp, type TestApp } from '../support/app'

const NS = '/api/v1/namespaces/default'
const LEASES = '/apis/coordination.k8s.io/v1/namespaces/default/leases'
const SMP = { 'content-type': 'application/strategic-merge-patch+json' }

const smp = (t: TestApp, path: string, patch: unknown) => t.json('PATCH', path, typeof patch === 'string' ? patch : JSON.stringify(patch), SMP)

async function withService(t: TestApp) {
  const res = await t.json('POST', `${NS}/services`, {
    metadata: { name: 'web', labels: { app: 'web' } },
    spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'https', port: 443, targetPort: 8443 }] },
  })
  expect(res.status).toBe(201)
  return res.body
}

async function withPod(t: TestApp) {
  const res = await t.json('POST', `${NS}/pods`, {
    metadata: { name: 'web-1', labels: { app: 'web' } },
    spec: { containers: [{ name: 'app', ports: [{ name: 'http', containerPort: 8080 }] }, { name: 'proxy', ports: [{ name: 'https', containerPort: 8443 }] }] },
    status: { podIP: '10.1.0.1', conditions: [{ type: 'Ready', status: 'False' }] },
  })
  expect(res.status).toBe(201)
  return res.body
}

describe('strategic merge patch on services', () => {
  it('merges ports by port: changes one, adds one, keeps the rest, and labels merge', async () => {
    const t = await testApp()
    const before = await withService(t)
    const res = await smp(t, `${NS}/services/web`, {
      metadata: { labels: { tier: 'fe' } },
      spec: { ports: [{ port: 80, targetPort: 9090 }, { name: 'metrics', port: 9100 }] },
    })
    expect(res.status).toBe(200)
    expect(res.body.metadata.labels).toEqual({ app: 'web', tier: 'fe' })
    expect(res.body.spec.ports.map((p: { port: number; targetPort: number }) => [p.port, p.targetPort])).toEqual([
      [80, 9090],
      [9100, 9100],
      [443, 8443],
    ])
    expect(res.body.spec.clusterIP).toBe(before.spec.clusterIP)
    expect(Number(res.body.metadata.resourceVersion)).toBeGreaterThan(Number(before.metadata.resourceVersion))
  })

  it('removes a port with $patch: delete and reorders with $setElementOrder, as kubectl apply sends them', async () => {
    const t = await testApp()
    await withService(t)
    const res = await smp(t, `${NS}/services/web`, {
      spec: { '$setElementOrder/ports': [{ port: 443 }, { port: 8000 }], ports: [{ name: 'alt', port: 8000 }, { port: 80, $patch: 'delete' }] },
    })
    expect(res.status).toBe(200)
    expect(res.body.spec.ports.map((p: { name: string }) => p.name)).toEqual(['https', 'alt'])
    const got = await t.json('GET', `${NS}/services/web`)
    expect(got.body.spec.ports).toEqual(res.body.spec.ports)
  })

  it('a null deletes a field; a patch that changes nothing writes nothing', async () => {
    const t = await testApp()
    const before = await withService(t)
    const removed = await smp(t, `${NS}/services/web`, { spec: { selector: null } })
    expect(removed.status).toBe(200)
    expect(removed.body.spec.selector).toBeUndefined()
    const same = await smp(t, `${NS}/services/web`, { spec: { ports: [{ port: 80, targetPort: 8080 }] } })
    expect(same.status).toBe(200)
    expect(same.body.metadata.resourceVersion).toBe(removed.body.metadata.resourceVersion)
    expect(before.metadata.resourceVersion).not.toBe(removed.body.metadata.resourceVersion)
  })

  it('validates the patched object as a replace: a changed clusterIP or a duplicate port name is a 422 naming the field', async () => {
    const t = await testApp()
    await withService(t)
    const ip = await smp(t, `${NS}/services/web`, { spec: { clusterIP: '10.96.0.99' } })
    expect(ip.status).toBe(422)
    expect(ip.body.details.causes[0].field).toMatch(/^spec\.clusterIPs?$/)
    // Renaming port 443 to the name port 80 has: the merged list has the name twice.
    const dup = await smp(t, `${NS}/services/web`, { spec: { ports: [{ name: 'http', port: 443 }] } })
    expect(dup.status).toBe(422)
    expect(dup.body.details.causes[0].field).toMatch(/^spec\.ports\[\d\]\.name$/)
  })
})

describe('strategic merge patch on pods', () => {
  it('merges containers by name and their ports by containerPort', async () => {
    const t = await testApp()
    await withPod(t)
    const res = await smp(t, `${NS}/pods/web-1`, {
      spec: { containers: [{ name: 'app', ports: [{ name: 'metrics', containerPort: 9100 }] }, { name: 'log', image: 'log:1' }] },
    })
    expect(res.status).toBe(200)
    expect(res.body.spec.containers.map((c: { name: string; ports?: { containerPort: number }[] }) => [c.name, (c.ports ?? []).map((p) => p.containerPort)])).toEqual([
      ['app', [9100, 8080]],
      ['log', []],
      ['proxy', [8443]],
    ])
  })

  it('removes a container with $patch: delete', async () => {
    const t = await testApp()
    await withPod(t)
    const res = await smp(t, `${NS}/pods/web-1`, { spec: { containers: [{ name: 'proxy', $patch: 'delete' }] } })
    expect(res.status).toBe(200)
    expect(res.body.spec.containers.map((c: { name: string }) => c.name)).toEqual(['app'])
  })

  it('merges status conditions by type through /status', async () => {
    const t = await testApp()
    await withPod(t)
    const res = await smp(t, `${NS}/pods/web-1/status`, { status: { conditions: [{ type: 'Ready', status: 'True' }, { type: 'Initialized', status: 'True' }] } })
    expect(res.status).toBe(200)
    expect(res.body.status.conditions.map((c: { type: string; status: string }) => `${c.type}=${c.status}`)).toEqual(['Ready=True', 'Initialized=True'])
  })

  it('adds and removes finalizers as a set ($deleteFromPrimitiveList)', async () => {
    const t = await testApp()
    await withPod(t)
    const added = await smp(t, `${NS}/pods/web-1`, { metadata: { finalizers: ['example.com/a', 'example.com/b'] } })
    expect(added.body.metadata.finalizers).toEqual(['example.com/a', 'example.com/b'])
    const removed = await smp(t, `${NS}/pods/web-1`, { metadata: { '$deleteFromPrimitiveList/finalizers': ['example.com/a'] } })
    expect(removed.status).toBe(200)
    expect(removed.body.metadata.finalizers).toEqual(['example.com/b'])
  })
})

describe('strategic merge patch on leases', () => {
  it('renews and hands over a lease', async () => {
    const t = await testApp()
    const created = await t.json('POST', LEASES, { metadata: { name: 'l' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 10 } })
    expect(created.status).toBe(201)
    const res = await smp(t, `${LEASES}/l`, { spec: { holderIdentity: 'b', renewTime: '2026-06-01T12:00:00.000000Z' } })
    expect(res.status).toBe(200)
    expect(res.body.spec).toMatchObject({ holderIdentity: 'b', leaseDurationSeconds: 10, renewTime: '2026-06-01T12:00:00.000000Z' })
  })
})

describe('malformed strategic merge patches', () => {
  it('answers 400 naming the field, and changes nothing', async () => {
    const t = await testApp()
    const before = await withService(t)
    const cases: [unknown, string | undefined][] = [
      [{ spec: { ports: [{ name: 'no-port' }] } }, 'spec.ports[].port'],
      [{ spec: { ports: [{ port: 80, $patch: 'merge' }] } }, 'spec.ports[].$patch'],
      [{ spec: { $patch: 'explode' } }, 'spec.$patch'],
      [{ spec: { '$setElementOrder/ports': [{ port: 80 }, { port: 443 }], ports: [{ port: 443 }, { port: 80 }] } }, 'spec.ports'],
      [{ metadata: { $retainKeys: 'labels' } }, 'metadata.$retainKeys'],
      [{ spec: { ports: [[{ port: 1 }]] } }, 'spec.ports'],
      [[{ op: 'add' }], undefined],
      ['"text"', undefined],
      ['{"spec":', undefined],
    ]
    for (const [patch, field] of cases) {
      const res = await smp(t, `${NS}/services/web`, patch)
      expect([400, 422], JSON.stringify(patch)).toContain(res.status)
      expect(res.body.kind).toBe('Status')
      if (field) expect(res.body.details?.causes?.[0]?.field, JSON.stringify(patch)).toBe(field)
    }
    const got = await t.json('GET', `${NS}/services/web`)
    expect(got.body.metadata.resourceVersion).toBe(before.metadata.resourceVersion)
  })

  it('is not accepted where PATCH is not served (endpointslices)', async () => {
    const t = await testApp()
    const res = await t.req('PATCH', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/x', '{}', SMP)
    expect(res.status).toBe(405)
  })
})
