/**
 * Server-side Tables (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`, as kubectl
 * get sends it): each kind's columns and cells for known objects, the wide columns'
 * priority, includeObject, paging, Accept negotiation, and watches whose events are
 * Tables of one row. The clock runs from a fixed instant, so ages are known.
 */
import { describe, expect, it } from 'vitest'
import { humanDuration } from '../../worker/registry/columns'
import { seededClock } from '../../worker/wiring'
import { testApp, type TestApp } from '../support/app'

const KUBECTL_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json'
const NS = '/api/v1/namespaces/default'
const LEASES = '/apis/coordination.k8s.io/v1/namespaces/default/leases'
const SLICES = '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices'
const TOKENS = '/apis/switchboard.dev/v1/tokens'
const T0 = Date.parse('2026-06-01T12:00:00.000Z')
const ADMIN = 'root-credential-for-the-table-tests-0123456789'

/** An app whose clock starts at T0 and runs; `later(ms)` moves it forward. */
async function app(env: Record<string, string> = {}) {
  const start = Date.now()
  let offset = 0
  const t = await testApp({ clock: seededClock(3, () => new Date(T0 + offset + (Date.now() - start))), env })
  const later = (ms: number) => {
    offset += ms
  }
  return Object.assign(t, { later })
}

async function ok(t: TestApp, method: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await t.json(method, path, body, headers)
  expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBeLessThan(300)
  return res.body
}

async function table(t: TestApp, path: string, accept = KUBECTL_ACCEPT, headers: Record<string, string> = {}) {
  const res = await t.json('GET', path, undefined, { accept, ...headers })
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body
}

/** A table's rows as { column name: cell }. */
function rows(tbl: any): Record<string, unknown>[] {
  return tbl.rows.map((r: any) => Object.fromEntries(tbl.columnDefinitions.map((c: any, i: number) => [c.name, r.cells[i]])))
}

function pod(name: string, ip: string, extra: { ready?: boolean; containers?: number; node?: string; annotations?: Record<string, string>; labels?: Record<string, string> } = {}) {
  return {
    metadata: { name, labels: extra.labels ?? { app: 'web' }, ...(extra.annotations ? { annotations: extra.annotations } : {}) },
    spec: {
      terminationGracePeriodSeconds: 30,
      ...(extra.node ? { nodeName: extra.node } : {}),
      containers: Array.from({ length: extra.containers ?? 1 }, (_, i) => ({ name: `c${i}`, ports: [{ name: 'http', containerPort: 8080 }] })),
    },
    status: { podIP: ip, conditions: [{ type: 'Ready', status: extra.ready === false ? 'False' : 'True' }] },
  }
}

describe('columns and cells of each kind', () => {
  it('Service: Name, Type, Cluster-IP, External-IP, Port(s), Age, and Selector in wide', async () => {
    const t = await app()
    await ok(t, 'POST', `${NS}/services`, { metadata: { name: 'web' }, spec: { clusterIP: '10.96.0.10', selector: { tier: 'front', app: 'web' }, ports: [{ name: 'http', port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' }] } })
    await ok(t, 'POST', `${NS}/services`, { metadata: { name: 'np' }, spec: { type: 'NodePort', clusterIP: '10.96.0.11', externalIPs: ['192.0.2.1'], ports: [{ port: 443, nodePort: 30443 }] } })
    await ok(t, 'POST', `${NS}/services`, { metadata: { name: 'lb' }, spec: { type: 'LoadBalancer', clusterIP: '10.96.0.12', ports: [{ port: 80, nodePort: 30080 }] } })
    await ok(t, 'POST', `${NS}/services`, { metadata: { name: 'db' }, spec: { clusterIP: 'None', selector: { app: 'db' } } })
    await ok(t, 'POST', `${NS}/services`, { metadata: { name: 'ext' }, spec: { type: 'ExternalName', externalName: 'www.example.com' } })
    t.later(3 * 3600_000 + 5 * 60_000)
    const tbl = await table(t, `${NS}/services`)
    expect(tbl.kind).toBe('Table')
    expect(tbl.apiVersion).toBe('meta.k8s.io/v1')
    expect(tbl.columnDefinitions.map((c: any) => [c.name, c.type, c.format, c.priority])).toEqual([
      ['Name', 'string', 'name', 0],
      ['Type', 'string', '', 0],
      ['Cluster-IP', 'string', '', 0],
      ['External-IP', 'string', '', 0],
      ['Port(s)', 'string', '', 0],
      ['Age', 'string', '', 0],
      ['Selector', 'string', '', 1],
    ])
    for (const c of tbl.columnDefinitions) expect(c.description).toMatch(/\w/)
    expect(tbl.rows.map((r: any) => r.cells)).toEqual([
      ['db', 'ClusterIP', 'None', '<none>', '<none>', '3h5m', 'app=db'],
      ['ext', 'ExternalName', '<none>', 'www.example.com', '<none>', '3h5m', '<none>'],
      ['lb', 'LoadBalancer', '10.96.0.12', '<pending>', '80:30080/TCP', '3h5m', '<none>'],
      ['np', 'NodePort', '10.96.0.11', '192.0.2.1', '443:30443/TCP', '3h5m', '<none>'],
      ['web', 'ClusterIP', '10.96.0.10', '<none>', '80/TCP,53/UDP', '3h5m', 'app=web,tier=front'],
    ])
  })

  it("Pod: Name, Ready, Status, Restarts, Age; IP, Node and Switchboard's Weight and Lease in wide", async () => {
    const t = await app()
    await ok(t, 'POST', `${NS}/pods`, pod('a', '10.1.0.1', { containers: 2, node: 'node-1', annotations: { 'switchboard.dev/weight': '3', 'switchboard.dev/lease': 'host-a' } }))
    await ok(t, 'POST', `${NS}/pods`, pod('b', '10.1.0.2', { ready: false }))
    await ok(t, 'POST', `${NS}/pods`, { metadata: { name: 'c' }, status: { phase: 'Pending' } })
    await ok(t, 'POST', `${NS}/pods`, pod('d', '10.1.0.4'))
    t.later(45_000)
    await ok(t, 'DELETE', `${NS}/pods/d`, undefined) // graceful: terminating for 30 s
    const tbl = await table(t, `${NS}/pods`)
    expect(tbl.columnDefinitions.map((c: any) => `${c.name}/${c.priority}`)).toEqual([
      'Name/0', 'Ready/0', 'Status/0', 'Restarts/0', 'Age/0', 'IP/1', 'Node/1', 'Weight/1', 'Lease/1',
    ])
    const cells = tbl.rows.map((r: any) => r.cells)
    expect(cells.map((c: any[]) => [...c.slice(0, 4), ...c.slice(5)])).toEqual([
      ['a', '2/2', 'Running', '0', '10.1.0.1', 'node-1', 3, 'host-a'],
      ['b', '0/1', 'Running', '0', '10.1.0.2', '<none>', 1, '<none>'],
      ['c', '0/1', 'Pending', '0', '<none>', '<none>', 1, '<none>'],
      ['d', '1/1', 'Terminating', '0', '10.1.0.4', '<none>', 1, '<none>'],
    ])
    for (const c of cells) expect(c[4]).toMatch(/^4[5-7]s$/)
  })

  it('Endpoints: Name, Endpoints (ip:port, three at most, then "+ N more..."), Age', async () => {
    const t = await app()
    await ok(t, 'POST', `${NS}/services`, { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } })
    await ok(t, 'POST', `${NS}/services`, { metadata: { name: 'idle' }, spec: { selector: { app: 'idle' }, ports: [{ port: 80 }] } })
    await ok(t, 'POST', `${NS}/services`, { metadata: { name: 'ext' }, spec: { clusterIP: 'None' } })
    for (let i = 1; i <= 5; i++) await ok(t, 'POST', `${NS}/pods`, pod(`web-${i}`, `10.1.0.${i}`, { ready: i !== 5 }))
    await ok(t, 'PUT', `${NS}/endpoints/ext`, { metadata: { name: 'ext' }, subsets: [{ addresses: [{ ip: '192.0.2.7' }, { ip: '2001:db8::7' }] }] })
    t.later(20 * 60_000)
    const tbl = await table(t, `${NS}/endpoints`)
    expect(tbl.columnDefinitions.map((c: any) => c.name)).toEqual(['Name', 'Endpoints', 'Age'])
    expect(tbl.rows.map((r: any) => r.cells)).toEqual([
      ['ext', '192.0.2.7,2001:db8::7', '20m'],
      ['idle', '<none>', '20m'],
      ['web', '10.1.0.1:8080,10.1.0.2:8080,10.1.0.3:8080 + 1 more...', '20m'],
    ])
  })

  it('EndpointSlice: Name, AddressType, Ports, Endpoints, Age', async () => {
    const t = await app()
    await ok(t, 'POST', `${NS}/services`, { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'admin', port: 81, targetPort: 9090 }] } })
    await ok(t, 'POST', `${NS}/services`, { metadata: { name: 'idle' }, spec: { selector: { app: 'idle' }, ports: [{ port: 80 }] } })
    for (let i = 1; i <= 4; i++) await ok(t, 'POST', `${NS}/pods`, pod(`web-${i}`, `10.1.0.${i}`))
    const tbl = await table(t, SLICES)
    expect(tbl.columnDefinitions.map((c: any) => c.name)).toEqual(['Name', 'AddressType', 'Ports', 'Endpoints', 'Age'])
    const byService = Object.fromEntries(rows(tbl).map((r) => [String(r.Name).replace(/-[^-]+$/, ''), r]))
    const slice = (await t.json('GET', SLICES)).body.items.find((s: any) => s.metadata.name === byService.web!.Name)
    expect(byService.web).toMatchObject({ AddressType: 'IPv4', Ports: slice.ports.map((p: any) => p.port).join(','), Endpoints: '10.1.0.1,10.1.0.2,10.1.0.3 + 1 more...' })
    expect(slice.ports).toHaveLength(2)
    expect(byService.idle).toMatchObject({ AddressType: 'IPv4', Endpoints: '<unset>' })
  })

  it('Namespace: Name, Status, Age; Lease: Name, Holder, Age', async () => {
    const t = await app()
    await ok(t, 'POST', '/api/v1/namespaces', { metadata: { name: 'team-a' } })
    await ok(t, 'POST', LEASES, { metadata: { name: 'host-a' }, spec: { holderIdentity: 'agent-a', leaseDurationSeconds: 30 } })
    await ok(t, 'POST', LEASES, { metadata: { name: 'free' }, spec: {} })
    t.later(9 * 86400_000)
    const ns = await table(t, '/api/v1/namespaces')
    expect(ns.columnDefinitions.map((c: any) => c.name)).toEqual(['Name', 'Status', 'Age'])
    expect(rows(ns).find((r) => r.Name === 'team-a')).toEqual({ Name: 'team-a', Status: 'Active', Age: '9d' })
    const leases = await table(t, LEASES)
    expect(leases.rows.map((r: any) => r.cells)).toEqual([
      ['free', '', '9d'],
      ['host-a', 'agent-a', '9d'],
    ])
  })

  it('Token: Name, Role, Namespaces, Expires, Age, Created-By in wide — and never the secret', async () => {
    const t = await app({ SWITCHBOARD_ADMIN_TOKEN: ADMIN })
    const auth = { authorization: `Bearer ${ADMIN}` }
    await ok(t, 'POST', '/api/v1/namespaces', { metadata: { name: 'team-a' } }, auth)
    const created = await ok(t, 'POST', TOKENS, { metadata: { name: 'ci' }, spec: { role: 'read', namespaces: ['default', 'team-a'], expiresAt: '2027-01-01T00:00:00Z' } }, auth)
    const tbl = await table(t, TOKENS, KUBECTL_ACCEPT, auth)
    expect(tbl.columnDefinitions.map((c: any) => `${c.name}/${c.priority}`)).toEqual(['Name/0', 'Role/0', 'Namespaces/0', 'Expires/0', 'Age/0', 'Created-By/1'])
    expect(tbl.rows[0].cells).toEqual(['ci', 'read', 'default,team-a', '2027-01-01T00:00:00.000Z', '0s', 'admin'])
    const one = await table(t, `${TOKENS}/ci`, KUBECTL_ACCEPT, auth)
    for (const text of [JSON.stringify(tbl), JSON.stringify(one)]) expect(text).not.toContain(created.status.secret)
  })
})

describe('Table options and negotiation', () => {
  async function seeded() {
    const t = await app()
    for (const name of ['a', 'b', 'c']) await ok(t, 'POST', `${NS}/pods`, pod(name, `10.1.0.${name.charCodeAt(0) - 96}`, { labels: { app: name } }))
    return t
  }

  it('includes each row as PartialObjectMetadata by default, the whole object or nothing when asked', async () => {
    const t = await seeded()
    const meta = await table(t, `${NS}/pods`)
    expect(meta.rows[0].object).toEqual({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: expect.objectContaining({ name: 'a', namespace: 'default', labels: { app: 'a' } }) })
    const full = await table(t, `${NS}/pods?includeObject=Object`)
    expect(full.rows[0].object).toMatchObject({ kind: 'Pod', apiVersion: 'v1', metadata: { name: 'a' }, status: { podIP: '10.1.0.1' } })
    const none = await table(t, `${NS}/pods?includeObject=None`)
    expect(none.rows[0].object).toBeUndefined()
    const bad = await t.json('GET', `${NS}/pods?includeObject=All`, undefined, { accept: KUBECTL_ACCEPT })
    expect(bad.status).toBe(400)
    expect(bad.body.message).toContain('includeObject')
  })

  it('answers a get with a Table of one row at the object resourceVersion', async () => {
    const t = await seeded()
    const obj = (await t.json('GET', `${NS}/pods/b`)).body
    const tbl = await table(t, `${NS}/pods/b`)
    expect(tbl.metadata.resourceVersion).toBe(obj.metadata.resourceVersion)
    expect(tbl.rows).toHaveLength(1)
    expect(tbl.rows[0].cells[0]).toBe('b')
  })

  it('pages a list Table with the list resourceVersion and continue token', async () => {
    const t = await seeded()
    const first = await table(t, `${NS}/pods?limit=2`)
    expect(first.rows.map((r: any) => r.cells[0])).toEqual(['a', 'b'])
    expect(first.metadata.resourceVersion).toMatch(/^\d+$/)
    expect(first.metadata.continue).toBeTruthy()
    const rest = await table(t, `${NS}/pods?limit=2&continue=${encodeURIComponent(first.metadata.continue)}`)
    expect(rest.rows.map((r: any) => r.cells[0])).toEqual(['c'])
    expect(rest.metadata.continue).toBeUndefined()
  })

  it('negotiates the Accept header by q-value, then order, as the API server does', async () => {
    const t = await seeded()
    const kindOf = async (accept: string) => {
      const res = await t.json('GET', `${NS}/pods`, undefined, { accept })
      return res.status === 200 ? `${res.body.kind} ${res.body.apiVersion}` : `${res.status} ${res.body.reason}`
    }
    expect(await kindOf('application/json')).toBe('PodList v1')
    expect(await kindOf('*/*')).toBe('PodList v1')
    expect(await kindOf('text/html')).toBe('PodList v1')
    expect(await kindOf(KUBECTL_ACCEPT)).toBe('Table meta.k8s.io/v1')
    expect(await kindOf('application/json;as=Table;v=v1beta1;g=meta.k8s.io, application/json')).toBe('Table meta.k8s.io/v1beta1')
    expect(await kindOf('application/json;q=0.9, application/json;as=Table;v=v1;g=meta.k8s.io')).toBe('Table meta.k8s.io/v1')
    expect(await kindOf('application/json, application/json;as=Table;v=v1;g=meta.k8s.io;q=0.5')).toBe('PodList v1')
    expect(await kindOf('application/json;as=Table;v=v2;g=meta.k8s.io, application/json;as=Table;v=v1;g=meta.k8s.io')).toBe('Table meta.k8s.io/v1')
    expect(await kindOf('application/json;as=Table;v=v1;g=meta.k8s.io;q=0, application/json')).toBe('PodList v1')
    expect(await kindOf('application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io')).toBe('406 NotAcceptable')
  })
})

describe('watches with the Table Accept header', () => {
  it('sends each event as a Table of one row, the column definitions in the first only', async () => {
    const t = await app()
    await ok(t, 'POST', `${NS}/pods`, pod('a', '10.1.0.1'))
    const list = await table(t, `${NS}/pods`)
    const res = await t.req('GET', `${NS}/pods?watch=1&resourceVersion=${list.metadata.resourceVersion}&timeoutSeconds=2`, undefined, { accept: KUBECTL_ACCEPT })
    expect(res.status).toBe(200)
    await ok(t, 'POST', `${NS}/pods`, pod('b', '10.1.0.2', { ready: false }))
    await ok(t, 'DELETE', `${NS}/pods/a?gracePeriodSeconds=0`, undefined)
    const events = (await res.text()).trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.type !== 'BOOKMARK')
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'DELETED'])
    const [added, deleted] = events
    expect(added.object.kind).toBe('Table')
    expect(added.object.columnDefinitions).toEqual(list.columnDefinitions)
    expect(added.object.rows).toHaveLength(1)
    expect(added.object.rows[0].cells.slice(0, 4)).toEqual(['b', '0/1', 'Running', '0'])
    expect(added.object.rows[0].object.kind).toBe('PartialObjectMetadata')
    expect(deleted.object.columnDefinitions).toEqual([])
    expect(deleted.object.rows[0].cells[0]).toBe('a')
  })

  it('keeps plain JSON events without the Table Accept header', async () => {
    const t = await app()
    const res = await t.req('GET', `${NS}/pods?watch=1&timeoutSeconds=1`)
    await ok(t, 'POST', `${NS}/pods`, pod('a', '10.1.0.1'))
    const events = (await res.text()).trim().split('\n').map((l) => JSON.parse(l))
    expect(events[0]).toMatchObject({ type: 'ADDED', object: { kind: 'Pod', metadata: { name: 'a' } } })
  })
})

describe('ages as Kubernetes prints them', () => {
  it.each([
    [-5_000, '<invalid>'],
    [-1_500, '0s'],
    [0, '0s'],
    [119_999, '119s'],
    [120_000, '2m'],
    [200_000, '3m20s'],
    [600_000, '10m'],
    [179 * 60_000, '179m'],
    [3 * 3600_000, '3h'],
    [5 * 3600_000 + 3 * 60_000, '5h3m'],
    [8 * 3600_000, '8h'],
    [47 * 3600_000, '47h'],
    [48 * 3600_000, '2d'],
    [3 * 86400_000 + 4 * 3600_000, '3d4h'],
    [8 * 86400_000, '8d'],
    [729 * 86400_000, '729d'],
    [730 * 86400_000, '2y'],
    [(365 + 400) * 86400_000, '2y35d'],
    [8 * 365 * 86400_000, '8y'],
  ])('%d ms is %s', (ms, text) => {
    expect(humanDuration(ms)).toBe(text)
  })
})
