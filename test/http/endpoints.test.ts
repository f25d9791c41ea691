import { describe, expect, it } from 'vitest'
import { testApp, type TestApp } from '../support/app'

const NS = '/api/v1/namespaces/default'
const SLICES = '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices'

interface PodOpts {
  labels?: Record<string, string>
  ip?: string | string[] | null
  ready?: boolean
  phase?: string
  ports?: { name: string; containerPort: number; protocol?: string }[]
  weight?: string
  hostname?: string
  subdomain?: string
  node?: string
}

function pod(name: string, o: PodOpts = {}) {
  const ips = o.ip === null ? [] : Array.isArray(o.ip) ? o.ip : [o.ip ?? '10.0.0.1']
  return {
    metadata: {
      name,
      labels: o.labels ?? { app: 'web' },
      ...(o.weight !== undefined ? { annotations: { 'switchboard.dev/weight': o.weight } } : {}),
    },
    spec: {
      ...(o.hostname ? { hostname: o.hostname } : {}),
      ...(o.subdomain ? { subdomain: o.subdomain } : {}),
      ...(o.node ? { nodeName: o.node } : {}),
      containers: [{ name: 'app', ports: o.ports ?? [{ name: 'http', containerPort: 8080 }] }],
    },
    status: {
      ...(o.phase ? { phase: o.phase } : {}),
      ...(ips.length ? { podIPs: ips.map((ip) => ({ ip })) } : {}),
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }],
    },
  }
}

const web = (spec: Record<string, unknown> = {}) => ({
  metadata: { name: 'web', labels: { team: 'a' } },
  spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }], ...spec },
})

async function slices(t: TestApp, service = 'web') {
  const res = await t.json('GET', `${SLICES}?labelSelector=${encodeURIComponent(`kubernetes.io/service-name=${service}`)}`)
  expect(res.status).toBe(200)
  return res.body.items as any[]
}

async function endpointIPs(t: TestApp, service = 'web') {
  const all = (await slices(t, service)).flatMap((s) => s.endpoints.map((e: any) => ({ ...e, addressType: s.addressType, ports: s.ports })))
  return all.sort((a, b) => a.addresses[0].localeCompare(b.addresses[0]))
}

describe('matching', () => {
  it('selects pods of the namespace whose labels contain the selector, with an IP, not finished', async () => {
    const t = await testApp()
    await t.json('POST', `${NS}/services`, web())
    await t.json('POST', `${NS}/pods`, pod('a', { ip: '10.0.0.1', labels: { app: 'web', extra: 'x' } }))
    await t.json('POST', `${NS}/pods`, pod('b', { ip: '10.0.0.2', labels: { app: 'api' } }))
    await t.json('POST', `${NS}/pods`, pod('c', { ip: null }))
    await t.json('POST', `${NS}/pods`, pod('d', { ip: '10.0.0.4', phase: 'Succeeded' }))
    await t.json('POST', `${NS}/pods`, pod('e', { ip: '10.0.0.5', phase: 'Failed' }))
    await t.json('POST', '/api/v1/namespaces', { metadata: { name: 'other' } })
    await t.json('POST', '/api/v1/namespaces/other/pods', pod('f', { ip: '10.0.0.6' }))
    expect((await endpointIPs(t)).map((e) => e.addresses[0])).toEqual(['10.0.0.1'])
    // a label change moves the pod in and out, immediately
    await t.json('PATCH', `${NS}/pods/b`, { metadata: { labels: { app: 'web' } } })
    expect((await endpointIPs(t)).map((e) => e.addresses[0])).toEqual(['10.0.0.1', '10.0.0.2'])
    await t.json('PATCH', `${NS}/services/web`, { spec: { selector: { extra: 'x' } } })
    expect((await endpointIPs(t)).map((e) => e.addresses[0])).toEqual(['10.0.0.1'])
    await t.json('DELETE', `${NS}/pods/a`)
    expect(await endpointIPs(t)).toEqual([])
  })

  it('computes nothing for selectorless, empty-selector and ExternalName services', async () => {
    const t = await testApp()
    await t.json('POST', `${NS}/pods`, pod('a'))
    await t.json('POST', `${NS}/services`, { metadata: { name: 'bare' }, spec: { ports: [{ port: 80 }] } })
    await t.json('POST', `${NS}/services`, { metadata: { name: 'empty' }, spec: { selector: {}, ports: [{ port: 80 }] } })
    await t.json('POST', `${NS}/services`, { metadata: { name: 'ext' }, spec: { type: 'ExternalName', externalName: 'a.example', selector: { app: 'web' } } })
    for (const name of ['bare', 'empty', 'ext']) {
      expect(await slices(t, name)).toEqual([])
      expect((await t.json('GET', `${NS}/endpoints/${name}`)).status).toBe(404)
    }
    const rows = await t.client.execute('SELECT count(*) AS n FROM endpoints')
    expect(Number(rows.rows[0]!.n)).toBe(0)
  })

  it('serves Endpoints that users write for a selectorless service, and keeps selector services read-only', async () => {
    const t = await testApp()
    await t.json('POST', `${NS}/services`, { metadata: { name: 'db' }, spec: { ports: [{ name: 'pg', port: 5432 }] } })
    const written = await t.json('PUT', `${NS}/endpoints/db`, {
      metadata: { name: 'db' },
      subsets: [
        { addresses: [{ ip: '192.168.1.10', hostname: 'db-0' }], notReadyAddresses: [{ ip: '192.168.1.11' }], ports: [{ name: 'pg', port: 5432 }] },
      ],
    })
    expect(written.status).toBe(200)
    const got = await t.json('GET', `${NS}/endpoints/db`)
    expect(got.body.subsets[0].addresses[0]).toMatchObject({ ip: '192.168.1.10', hostname: 'db-0' })
    const mirrored = await slices(t, 'db')
    expect(mirrored).toHaveLength(1)
    expect(mirrored[0].metadata.labels['endpointslice.kubernetes.io/managed-by']).toBe('endpointslicemirroring-controller.k8s.io')
    expect(mirrored[0].endpoints.map((e: any) => [e.addresses[0], e.conditions.ready])).toEqual([
      ['192.168.1.10', true],
      ['192.168.1.11', false],
    ])
    const bad = await t.json('PUT', `${NS}/endpoints/db`, { metadata: { name: 'db' }, subsets: [{ addresses: [{ ip: 'nope' }] }] })
    expect(bad.status).toBe(422)
    expect(bad.body.details.causes[0].field).toBe('subsets[0].addresses[0].ip')

    await t.json('POST', `${NS}/services`, web())
    const refused = await t.json('PUT', `${NS}/endpoints/web`, { metadata: { name: 'web' }, subsets: [] })
    expect(refused.status).toBe(405)
    expect((await t.json('DELETE', `${NS}/endpoints/web`)).status).toBe(405)
    // giving the selectorless service a selector hands its endpoints to the registry
    await t.json('PATCH', `${NS}/services/db`, { spec: { selector: { app: 'db' } } })
    expect((await t.json('GET', `${NS}/endpoints/db`)).body.subsets).toEqual([])
  })
})

describe('user-written Endpoints under concurrent writes', () => {
  const body = (i: number) => ({ metadata: { name: 'db' }, subsets: [{ addresses: [{ ip: `192.168.2.${i + 1}` }], ports: [{ name: 'pg', port: 5432 }] }] })

  it.each([
    ['an existing object', true],
    ['a missing object (the PUTs race to create it)', false],
  ])('replaces %s from two apps on one database without a resourceVersion: every PUT answers 200', async (_, exists) => {
    const t = await testApp()
    await t.json('POST', `${NS}/services`, { metadata: { name: 'db' }, spec: { ports: [{ name: 'pg', port: 5432 }] } })
    if (exists) expect((await t.json('PUT', `${NS}/endpoints/db`, body(100))).status).toBe(200)
    const before = Number((await t.json('GET', `${NS}/endpoints/db`)).body.metadata?.resourceVersion ?? 0)
    const other = t.peer()
    t.calls.reset()
    const n = 40
    const answers = await Promise.all(
      Array.from({ length: n }, (_, i) => {
        const init = { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body(i)) }
        return i % 2 ? Promise.resolve(other.request(`${NS}/endpoints/db`, init)) : t.req('PUT', `${NS}/endpoints/db`, body(i))
      }),
    )
    expect(answers.map((r) => r.status)).toEqual(Array(n).fill(200))
    // They did collide: some guarded batches failed and were tried again.
    expect(t.calls.batch).toBeGreaterThan(n)
    const final = (await t.json('GET', `${NS}/endpoints/db`)).body
    expect(final.subsets[0].addresses).toHaveLength(1)
    if (exists) expect(Number(final.metadata.resourceVersion)).toBe(before + n)
  })

  it('keeps a PUT that names a stale resourceVersion a 409', async () => {
    const t = await testApp()
    await t.json('POST', `${NS}/services`, { metadata: { name: 'db' }, spec: { ports: [{ name: 'pg', port: 5432 }] } })
    const first = (await t.json('PUT', `${NS}/endpoints/db`, body(1))).body
    expect((await t.json('PUT', `${NS}/endpoints/db`, body(2))).status).toBe(200)
    const stale = { ...body(3), metadata: { name: 'db', resourceVersion: first.metadata.resourceVersion } }
    expect((await t.json('PUT', `${NS}/endpoints/db`, stale)).status).toBe(409)
  })
})

describe('ports', () => {
  it('resolves named target ports per pod; pods lacking the name land in their own slice', async () => {
    const t = await testApp()
    await t.json('POST', `${NS}/services`, web({ ports: [{ name: 'http', port: 80, targetPort: 'http' }, { name: 'metrics', port: 9000, targetPort: 9100 }] }))
    await t.json('POST', `${NS}/pods`, pod('a', { ip: '10.0.0.1', ports: [{ name: 'http', containerPort: 8080 }] }))
    await t.json('POST', `${NS}/pods`, pod('b', { ip: '10.0.0.2', ports: [{ name: 'http', containerPort: 9090 }] }))
    await t.json('POST', `${NS}/pods`, pod('c', { ip: '10.0.0.3', ports: [] }))
    await t.json('POST', `${NS}/pods`, pod('d', { ip: '10.0.0.4', ports: [{ name: 'http', containerPort: 8080, protocol: 'UDP' }] }))
    const byIP = Object.fromEntries((await endpointIPs(t)).map((e) => [e.addresses[0], e.ports]))
    expect(byIP['10.0.0.1']).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'metrics', port: 9100, protocol: 'TCP' }])
    expect(byIP['10.0.0.2']).toEqual([{ name: 'http', port: 9090, protocol: 'TCP' }, { name: 'metrics', port: 9100, protocol: 'TCP' }])
    expect(byIP['10.0.0.3']).toEqual([{ name: 'metrics', port: 9100, protocol: 'TCP' }])
    expect(byIP['10.0.0.4']).toEqual([{ name: 'metrics', port: 9100, protocol: 'TCP' }])
    expect(await slices(t)).toHaveLength(3)
    // Endpoints group the same way, by port set
    const ep = (await t.json('GET', `${NS}/endpoints/web`)).body
    expect(ep.subsets).toHaveLength(3)
    // a port change on the service recomputes every pod
    await t.json('PATCH', `${NS}/services/web`, { spec: { ports: [{ name: 'http', port: 80, targetPort: 7000 }] } })
    expect(new Set((await endpointIPs(t)).map((e) => JSON.stringify(e.ports)))).toEqual(new Set([JSON.stringify([{ name: 'http', port: 7000, protocol: 'TCP' }])]))
  })

  it('puts pods matching no port in a slice with no ports, and leaves them out of Endpoints', async () => {
    const t = await testApp()
    await t.json('POST', `${NS}/services`, web())
    await t.json('POST', `${NS}/pods`, pod('a', { ports: [] }))
    const s = await slices(t)
    expect(s).toHaveLength(1)
    expect(s[0].ports).toEqual([])
    expect(s[0].endpoints).toHaveLength(1)
    expect((await t.json('GET', `${NS}/endpoints/web`)).body.subsets).toEqual([])
  })
})

describe('conditions', () => {
  it('derives ready, serving and terminating; keeps drained pods with their weight', async () => {
    const t = await testApp()
    await t.json('POST', `${NS}/services`, web())
    await t.json('POST', `${NS}/pods`, pod('ready', { ip: '10.0.0.1', weight: '5' }))
    await t.json('POST', `${NS}/pods`, pod('unready', { ip: '10.0.0.2', ready: false }))
    await t.json('POST', `${NS}/pods`, pod('drained', { ip: '10.0.0.3', weight: '0' }))
    await t.json('POST', `${NS}/pods`, pod('leaving', { ip: '10.0.0.4' }))
    expect((await t.json('DELETE', `${NS}/pods/leaving`, { gracePeriodSeconds: 30 })).body.metadata.deletionTimestamp).toBeTruthy()
    const eps = await endpointIPs(t)
    expect(eps.map((e) => [e.targetRef.name, e.conditions, e.weight])).toEqual([
      ['ready', { ready: true, serving: true, terminating: false }, 5],
      ['unready', { ready: false, serving: false, terminating: false }, 1],
      ['drained', { ready: true, serving: true, terminating: false }, 0],
      ['leaving', { ready: false, serving: true, terminating: true }, 1],
    ])
    const ep = (await t.json('GET', `${NS}/endpoints/web`)).body
    expect(ep.subsets[0].addresses.map((a: any) => a.ip)).toEqual(['10.0.0.1', '10.0.0.3'])
    expect(ep.subsets[0].notReadyAddresses.map((a: any) => a.ip)).toEqual(['10.0.0.2'])
    // a zero grace period finishes the deletion
    expect((await t.json('DELETE', `${NS}/pods/leaving?gracePeriodSeconds=0`)).status).toBe(200)
    expect((await endpointIPs(t)).map((e) => e.targetRef.name)).toEqual(['ready', 'unready', 'drained'])
  })

  it('removes terminating pods once their grace period ends', async () => {
    let now = new Date('2026-01-01T00:00:00Z')
    const { seededClock } = await import('../../worker/wiring')
    const t = await testApp({ clock: seededClock(3, () => now) })
    await t.json('POST', `${NS}/services`, web())
    await t.json('POST', `${NS}/pods`, pod('p'))
    await t.json('DELETE', `${NS}/pods/p`, { gracePeriodSeconds: 10 })
    expect(await t.registry.reapExpired()).toBe(0)
    now = new Date('2026-01-01T00:00:11Z')
    expect(await t.registry.reapExpired()).toBe(1)
    expect((await t.json('GET', `${NS}/pods/p`)).status).toBe(404)
    expect(await endpointIPs(t)).toEqual([])
  })

  it('marks every endpoint ready with publishNotReadyAddresses', async () => {
    const t = await testApp()
    await t.json('POST', `${NS}/services`, web({ publishNotReadyAddresses: true }))
    await t.json('POST', `${NS}/pods`, pod('unready', { ready: false }))
    expect((await endpointIPs(t))[0].conditions).toEqual({ ready: true, serving: false, terminating: false })
    expect((await t.json('GET', `${NS}/endpoints/web`)).body.subsets[0].addresses).toHaveLength(1)
  })
})

describe('Endpoints and EndpointSlice shapes', () => {
  it('fills hostname (when subdomain names the service), nodeName, zone and targetRef', async () => {
    const t = await testApp()
    await t.json('POST', `${NS}/services`, web({ clusterIP: 'None' }))
    const created = await t.json('POST', `${NS}/pods`, {
      ...pod('a', { hostname: 'a-0', subdomain: 'web', node: 'node-1', labels: { app: 'web', 'topology.kubernetes.io/zone': 'eu-1' } }),
    })
    await t.json('POST', `${NS}/pods`, pod('b', { ip: '10.0.0.2', hostname: 'b-0', subdomain: 'other' }))
    const [a, b] = await endpointIPs(t)
    expect(a).toMatchObject({
      hostname: 'a-0',
      nodeName: 'node-1',
      zone: 'eu-1',
      targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: created.body.metadata.uid },
    })
    expect(b.hostname).toBeUndefined()
    const ep = (await t.json('GET', `${NS}/endpoints/web`)).body
    expect(ep.metadata.labels).toMatchObject({ team: 'a', 'service.kubernetes.io/headless': '' })
    expect(ep.subsets[0].addresses[0]).toMatchObject({ ip: '10.0.0.1', hostname: 'a-0', nodeName: 'node-1' })
  })

  it('labels and owns slices, splits them by address type and at MAX_ENDPOINTS_PER_SLICE', async () => {
    const t = await testApp({ env: { MAX_ENDPOINTS_PER_SLICE: '2' } })
    const svc = await t.json('POST', `${NS}/services`, web())
    for (let i = 1; i <= 5; i++) await t.json('POST', `${NS}/pods`, pod(`p${i}`, { ip: [`10.0.0.${i}`, `fd00::${i}`] }))
    const s = await slices(t)
    expect(s.filter((x) => x.addressType === 'IPv4').map((x) => x.endpoints.length).sort()).toEqual([1, 2, 2])
    expect(s.filter((x) => x.addressType === 'IPv6').map((x) => x.endpoints.length).sort()).toEqual([1, 2, 2])
    for (const slice of s) {
      expect(slice.metadata.labels).toMatchObject({
        team: 'a',
        'kubernetes.io/service-name': 'web',
        'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
      })
      expect(slice.metadata.ownerReferences[0]).toMatchObject({ kind: 'Service', name: 'web', uid: svc.body.metadata.uid, controller: true })
      for (const e of slice.endpoints) expect(e.addresses[0].includes(':')).toBe(slice.addressType === 'IPv6')
      const one = await t.json('GET', `${SLICES}/${slice.metadata.name}`)
      expect(one.body.metadata.uid).toBe(slice.metadata.uid)
    }
    expect(new Set(s.map((x) => x.metadata.name)).size).toBe(s.length)
  })

  it('gives a service with no endpoints one empty slice and an empty Endpoints', async () => {
    const t = await testApp()
    await t.json('POST', `${NS}/services`, web())
    const s = await slices(t)
    expect(s).toHaveLength(1)
    expect(s[0]).toMatchObject({ addressType: 'IPv4', endpoints: [], ports: [] })
    expect((await t.json('GET', `${NS}/endpoints/web`)).body).toMatchObject({ kind: 'Endpoints', subsets: [] })
    expect((await t.json('GET', '/apis/discovery.k8s.io/v1/endpointslices')).body.items).toHaveLength(1)
    expect((await t.json('GET', `${SLICES}/missing`)).status).toBe(404)
  })

  it('changes the resourceVersion of Endpoints whenever the endpoints change', async () => {
    const t = await testApp()
    await t.json('POST', `${NS}/services`, web())
    const rv0 = (await t.json('GET', `${NS}/endpoints/web`)).body.metadata.resourceVersion
    await t.json('POST', `${NS}/pods`, pod('a'))
    const rv1 = (await t.json('GET', `${NS}/endpoints/web`)).body.metadata.resourceVersion
    await t.json('PATCH', `${NS}/pods/a/status`, { status: { conditions: [{ type: 'Ready', status: 'False' }] } })
    const rv2 = (await t.json('GET', `${NS}/endpoints/web`)).body.metadata.resourceVersion
    await t.json('DELETE', `${NS}/pods/a`)
    const rv3 = (await t.json('GET', `${NS}/endpoints/web`)).body.metadata.resourceVersion
    expect(new Set([rv0, rv1, rv2, rv3]).size).toBe(4)
    expect(Number(rv3)).toBeGreaterThan(Number(rv2))
  })
})

describe('atomic and immediate', () => {
  it('a readiness flip among 1,000 pods and 100 services costs one read and one batch, and is seen at once', async () => {
    const t = await testApp()
    await t.json('POST', '/api/v1/namespaces', { metadata: { name: 'big' } })
    const base = '/api/v1/namespaces/big'
    for (let s = 0; s < 100; s++) {
      await t.json('POST', `${base}/services`, { metadata: { name: `svc-${s}` }, spec: { selector: { app: `app-${s}` }, ports: [{ port: 80, targetPort: 'http' }] } })
    }
    const writes = []
    for (let p = 0; p < 1000; p++) {
      writes.push(t.json('POST', `${base}/pods`, { ...pod(`pod-${p}`, { ip: `10.1.${p >> 8}.${p & 255}`, labels: { app: `app-${p % 100}` } }) }))
    }
    for (const w of await Promise.all(writes)) expect(w.status).toBe(201)
    t.calls.reset()
    const flipped = await t.json('PATCH', `${base}/pods/pod-42/status`, { status: { conditions: [{ type: 'Ready', status: 'False' }] } })
    expect(flipped.status).toBe(200)
    expect({ batch: t.calls.batch, execute: t.calls.execute }).toEqual({ batch: 1, execute: 1 })
    const ep = (await t.json('GET', `${base}/endpoints/svc-42`)).body
    expect(ep.subsets[0].notReadyAddresses.map((a: any) => a.targetRef.name)).toEqual(['pod-42'])
    expect(ep.subsets[0].addresses).toHaveLength(9)
  }, 60_000)

  it('a write whose batch fails leaves pods, services and endpoints as they were', async () => {
    const t = await testApp()
    await t.json('POST', `${NS}/services`, web())
    await t.json('POST', `${NS}/pods`, pod('a'))
    const rv = (await t.json('GET', `${NS}/pods/a`)).body.metadata.resourceVersion
    await t.json('PATCH', `${NS}/pods/a`, { metadata: { labels: { app: 'gone' } } })
    const stale = await t.json('PUT', `${NS}/pods/a`, { ...pod('a'), metadata: { name: 'a', resourceVersion: rv, labels: { app: 'web' } } })
    expect(stale.status).toBe(409)
    expect(await endpointIPs(t)).toEqual([])
  })
})
