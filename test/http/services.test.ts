import { describe, expect, it } from 'vitest'
import { testApp, type TestApp } from '../support/app'

const BASE = '/api/v1/namespaces/default/services'

async function create(t: TestApp, body: unknown) {
  return t.json('POST', BASE, body)
}

describe('service defaulting', () => {
  it('defaults type, protocol, targetPort, sessionAffinity and allocates a ClusterIP in range', async () => {
    const t = await testApp()
    const res = await create(t, { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } })
    expect(res.status).toBe(201)
    const s = res.body.spec
    expect(s.type).toBe('ClusterIP')
    expect(s.sessionAffinity).toBe('None')
    expect(s.ports).toEqual([{ protocol: 'TCP', port: 80, targetPort: 80 }])
    expect(s.clusterIPs).toEqual([s.clusterIP])
    expect(s.ipFamilies).toEqual(['IPv4'])
    const [a, b] = s.clusterIP.split('.').map(Number)
    expect(a).toBe(10)
    expect(b).toBeGreaterThanOrEqual(96)
    expect(b).toBeLessThanOrEqual(111)
    expect(res.body.metadata.generation).toBe(1)
  })

  it('keeps a named targetPort', async () => {
    const t = await testApp()
    const res = await create(t, { metadata: { name: 'web' }, spec: { ports: [{ port: 80, targetPort: 'http' }] } })
    expect(res.body.spec.ports[0].targetPort).toBe('http')
  })

  it('serves headless and ExternalName services without an IP', async () => {
    const t = await testApp()
    const headless = await create(t, { metadata: { name: 'db' }, spec: { clusterIP: 'None', selector: { app: 'db' } } })
    expect(headless.status).toBe(201)
    expect(headless.body.spec.clusterIPs).toEqual(['None'])
    const ext = await create(t, { metadata: { name: 'ext' }, spec: { type: 'ExternalName', externalName: 'www.example.com' } })
    expect(ext.status).toBe(201)
    expect(ext.body.spec.clusterIP).toBeUndefined()
    const ips = await t.client.execute('SELECT count(*) AS n FROM cluster_ips')
    expect(Number(ips.rows[0]!.n)).toBe(0)
  })
})

describe('service validation', () => {
  const cases: [string, unknown, string][] = [
    ['name is a DNS-1035 label', { metadata: { name: '1web' }, spec: { ports: [{ port: 80 }] } }, 'metadata.name'],
    ['name is required', { metadata: {}, spec: { ports: [{ port: 80 }] } }, 'metadata.name'],
    ['port in range', { metadata: { name: 'a' }, spec: { ports: [{ port: 0 }] } }, 'spec.ports[0].port'],
    ['port in range (high)', { metadata: { name: 'a' }, spec: { ports: [{ port: 65536 }] } }, 'spec.ports[0].port'],
    ['ports required for ClusterIP', { metadata: { name: 'a' }, spec: {} }, 'spec.ports'],
    ['port name required with several ports', { metadata: { name: 'a' }, spec: { ports: [{ port: 80 }, { port: 81, name: 'b' }] } }, 'spec.ports[0].name'],
    ['port name is a DNS label', { metadata: { name: 'a' }, spec: { ports: [{ port: 80, name: 'Http' }] } }, 'spec.ports[0].name'],
    ['duplicate port names', { metadata: { name: 'a' }, spec: { ports: [{ port: 80, name: 'x' }, { port: 81, name: 'x' }] } }, 'spec.ports[1].name'],
    ['duplicate protocol/port', { metadata: { name: 'a' }, spec: { ports: [{ port: 80, name: 'x' }, { port: 80, name: 'y' }] } }, 'spec.ports[1]'],
    ['protocol supported', { metadata: { name: 'a' }, spec: { ports: [{ port: 80, protocol: 'HTTP' }] } }, 'spec.ports[0].protocol'],
    ['named targetPort is an IANA name', { metadata: { name: 'a' }, spec: { ports: [{ port: 80, targetPort: 'my--port' }] } }, 'spec.ports[0].targetPort'],
    ['numeric targetPort in range', { metadata: { name: 'a' }, spec: { ports: [{ port: 80, targetPort: 70000 }] } }, 'spec.ports[0].targetPort'],
    ['type supported', { metadata: { name: 'a' }, spec: { type: 'Magic', ports: [{ port: 80 }] } }, 'spec.type'],
    ['nodePort forbidden for ClusterIP', { metadata: { name: 'a' }, spec: { ports: [{ port: 80, nodePort: 30001 }] } }, 'spec.ports[0].nodePort'],
    ['nodePort in range', { metadata: { name: 'a' }, spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 80 }] } }, 'spec.ports[0].nodePort'],
    ['headless NodePort', { metadata: { name: 'a' }, spec: { type: 'NodePort', clusterIP: 'None', ports: [{ port: 80 }] } }, 'spec.clusterIPs[0]'],
    ['externalName required', { metadata: { name: 'a' }, spec: { type: 'ExternalName' } }, 'spec.externalName'],
    ['externalName a DNS subdomain', { metadata: { name: 'a' }, spec: { type: 'ExternalName', externalName: 'Not A Name' } }, 'spec.externalName'],
    ['ExternalName without clusterIP', { metadata: { name: 'a' }, spec: { type: 'ExternalName', externalName: 'a.b', clusterIP: '10.96.0.10' } }, 'spec.clusterIPs'],
    ['selector label values', { metadata: { name: 'a' }, spec: { selector: { app: 'not valid!' }, ports: [{ port: 80 }] } }, 'spec.selector'],
    ['selector label keys', { metadata: { name: 'a' }, spec: { selector: { '-app': 'x' }, ports: [{ port: 80 }] } }, 'spec.selector'],
    ['clusterIP is an IP', { metadata: { name: 'a' }, spec: { clusterIP: '10.96.0.300', ports: [{ port: 80 }] } }, 'spec.clusterIPs[0]'],
    ['sessionAffinity supported', { metadata: { name: 'a' }, spec: { sessionAffinity: 'Sticky', ports: [{ port: 80 }] } }, 'spec.sessionAffinity'],
  ]
  for (const [title, body, field] of cases) {
    it(`422: ${title}`, async () => {
      const t = await testApp()
      const res = await create(t, body)
      expect(res.status).toBe(422)
      expect(res.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Invalid', code: 422 })
      expect(res.body.details.causes.map((c: any) => c.field)).toContain(field)
      expect((await t.json('GET', BASE)).body.items).toEqual([])
    })
  }

  it('400s a body whose fields have the wrong JSON type, naming the field', async () => {
    const t = await testApp()
    const res = await create(t, { metadata: { name: 'a' }, spec: { ports: [{ port: '80' }] } })
    expect(res.status).toBe(400)
    expect(res.body.details.causes[0].field).toBe('spec.ports[0].port')
  })

  it('400s a body of another kind', async () => {
    const t = await testApp()
    const res = await create(t, { kind: 'Pod', metadata: { name: 'a' }, spec: { ports: [{ port: 80 }] } })
    expect(res.status).toBe(400)
  })
})

describe('ClusterIP allocation', () => {
  it('honours a requested free IP in range, and 422s one taken or out of range', async () => {
    const t = await testApp()
    const ok = await create(t, { metadata: { name: 'a' }, spec: { clusterIP: '10.96.0.10', ports: [{ port: 53 }] } })
    expect(ok.body.spec.clusterIP).toBe('10.96.0.10')
    const takenRes = await create(t, { metadata: { name: 'b' }, spec: { clusterIP: '10.96.0.10', ports: [{ port: 53 }] } })
    expect(takenRes.status).toBe(422)
    expect(takenRes.body.details.causes[0]).toMatchObject({ field: 'spec.clusterIPs' })
    expect(takenRes.body.details.causes[0].message).toContain('provided IP is already allocated')
    const out = await create(t, { metadata: { name: 'c' }, spec: { clusterIP: '192.168.0.1', ports: [{ port: 53 }] } })
    expect(out.status).toBe(422)
    expect(out.body.details.causes[0].message).toContain('not in the valid range')
    for (const ip of ['10.96.0.0', '10.111.255.255']) {
      const edge = await create(t, { metadata: { name: 'd' }, spec: { clusterIP: ip, ports: [{ port: 53 }] } })
      expect(edge.status).toBe(422)
    }
  })

  it('allocates unique IPs, never the network or broadcast address, until the range is full', async () => {
    const t = await testApp({ env: { SERVICE_CLUSTER_IP_RANGE: '192.168.7.0/28' } })
    const ips = new Set<string>()
    for (let i = 0; i < 14; i++) {
      const res = await create(t, { metadata: { name: `s${i}` }, spec: { ports: [{ port: 80 }] } })
      expect(res.status).toBe(201)
      ips.add(res.body.spec.clusterIP)
    }
    expect(ips.size).toBe(14)
    expect(ips.has('192.168.7.0')).toBe(false)
    expect(ips.has('192.168.7.15')).toBe(false)
    const full = await create(t, { metadata: { name: 'full' }, spec: { ports: [{ port: 80 }] } })
    expect(full.status).toBe(422)
    expect(full.body.details.causes[0].field).toBe('spec.clusterIPs')
    // deleting one releases its address for the next service
    const victim = (await t.json('GET', `${BASE}/s3`)).body.spec.clusterIP
    expect((await t.json('DELETE', `${BASE}/s3`)).status).toBe(200)
    const next = await create(t, { metadata: { name: 'next' }, spec: { ports: [{ port: 80 }] } })
    expect(next.body.spec.clusterIP).toBe(victim)
  })

  it('allocates at random', async () => {
    const t = await testApp()
    const a = await create(t, { metadata: { name: 'a' }, spec: { ports: [{ port: 80 }] } })
    const b = await create(t, { metadata: { name: 'b' }, spec: { ports: [{ port: 80 }] } })
    expect(a.body.spec.clusterIP).not.toBe(b.body.spec.clusterIP)
    // the lower band is kept for requested IPs
    const offset = (ip: string) => ip.split('.').map(Number).reduce((n, o) => n * 256 + o, 0) - (10 * 2 ** 24 + 96 * 2 ** 16)
    expect(offset(a.body.spec.clusterIP)).toBeGreaterThan(256)
  })
})

describe('updates', () => {
  const body = { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80 }] } }

  it('keeps the allocated ClusterIP on a replace that omits it, and rejects a change', async () => {
    const t = await testApp()
    const created = await create(t, body)
    const replaced = await t.json('PUT', `${BASE}/web`, { ...body, spec: { ...body.spec, selector: { app: 'web2' } } })
    expect(replaced.status).toBe(200)
    expect(replaced.body.spec.clusterIP).toBe(created.body.spec.clusterIP)
    expect(replaced.body.spec.selector).toEqual({ app: 'web2' })
    expect(replaced.body.metadata.uid).toBe(created.body.metadata.uid)
    expect(replaced.body.metadata.generation).toBe(2)
    const changed = await t.json('PUT', `${BASE}/web`, { ...body, spec: { ...body.spec, clusterIP: '10.96.0.99' } })
    expect(changed.status).toBe(422)
    expect(changed.body.details.causes[0]).toMatchObject({ field: 'spec.clusterIPs[0]' })
    expect(changed.body.details.causes[0].message).toContain('may not change once set')
    const toHeadless = await t.json('PUT', `${BASE}/web`, { ...body, spec: { ...body.spec, clusterIP: 'None' } })
    expect(toHeadless.status).toBe(422)
  })

  it('treats resubmitting the same manifest as a no-op', async () => {
    const t = await testApp()
    const created = await create(t, body)
    const again = await t.json('PUT', `${BASE}/web`, body)
    expect(again.status).toBe(200)
    expect(again.body.metadata.resourceVersion).toBe(created.body.metadata.resourceVersion)
  })

  it('409s a stale resourceVersion and changes nothing; no resourceVersion is unconditional', async () => {
    const t = await testApp()
    const created = await create(t, body)
    const rv = created.body.metadata.resourceVersion
    const first = await t.json('PUT', `${BASE}/web`, { ...body, metadata: { name: 'web', resourceVersion: rv, labels: { v: '1' } } })
    expect(first.status).toBe(200)
    const stale = await t.json('PUT', `${BASE}/web`, { ...body, metadata: { name: 'web', resourceVersion: rv, labels: { v: '2' } } })
    expect(stale.status).toBe(409)
    expect(stale.body.reason).toBe('Conflict')
    const stalePatch = await t.json('PATCH', `${BASE}/web`, { metadata: { resourceVersion: rv, labels: { v: '3' } } })
    expect(stalePatch.status).toBe(409)
    expect((await t.json('GET', `${BASE}/web`)).body.metadata.labels).toEqual({ v: '1' })
    const free = await t.json('PUT', `${BASE}/web`, { ...body, metadata: { name: 'web', labels: { v: '4' } } })
    expect(free.status).toBe(200)
    expect(free.body.metadata.labels).toEqual({ v: '4' })
  })

  it('merge-patches, and json-patches', async () => {
    const t = await testApp()
    await create(t, body)
    const merged = await t.json('PATCH', `${BASE}/web`, { spec: { selector: { tier: 'fe' } } })
    expect(merged.status).toBe(200)
    expect(merged.body.spec.selector).toEqual({ app: 'web', tier: 'fe' })
    const removed = await t.json('PATCH', `${BASE}/web`, { spec: { selector: { app: null } } })
    expect(removed.body.spec.selector).toEqual({ tier: 'fe' })
    const res = await t.req(
      'PATCH',
      `${BASE}/web`,
      JSON.stringify([{ op: 'replace', path: '/spec/ports/0/port', value: 8080 }]),
      { 'content-type': 'application/json-patch+json' },
    )
    expect(res.status).toBe(200)
    expect(((await res.json()) as any).spec.ports[0]).toMatchObject({ port: 8080, targetPort: 80 })
    const smp = await t.req('PATCH', `${BASE}/web`, '{}', { 'content-type': 'application/strategic-merge-patch+json' })
    expect(smp.status).toBe(200)
  })

  it('404s a replace, patch or delete of a missing service', async () => {
    const t = await testApp()
    expect((await t.json('PUT', `${BASE}/nope`, { ...body, metadata: { name: 'nope' } })).status).toBe(404)
    expect((await t.json('PATCH', `${BASE}/nope`, { spec: {} })).status).toBe(404)
    expect((await t.json('DELETE', `${BASE}/nope`)).status).toBe(404)
  })

  it('400s a replace whose body names another object', async () => {
    const t = await testApp()
    await create(t, body)
    expect((await t.json('PUT', `${BASE}/web`, { ...body, metadata: { name: 'other' } })).status).toBe(400)
  })

  it('switches to ExternalName and back, releasing and reallocating the IP', async () => {
    const t = await testApp()
    const created = await create(t, body)
    const ext = await t.json('PUT', `${BASE}/web`, { metadata: { name: 'web' }, spec: { type: 'ExternalName', externalName: 'example.org' } })
    expect(ext.status).toBe(200)
    const ips = await t.client.execute('SELECT count(*) AS n FROM cluster_ips')
    expect(Number(ips.rows[0]!.n)).toBe(0)
    const back = await t.json('PUT', `${BASE}/web`, body)
    expect(back.status).toBe(200)
    expect(back.body.spec.clusterIP).toMatch(/^10\./)
    expect(created.body.spec.clusterIP).toMatch(/^10\./)
  })

  it('honours delete preconditions', async () => {
    const t = await testApp()
    const created = await create(t, body)
    const stale = await t.json('DELETE', `${BASE}/web`, { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { resourceVersion: '1' } })
    expect(stale.status).toBe(409)
    const ok = await t.json('DELETE', `${BASE}/web`, { preconditions: { resourceVersion: created.body.metadata.resourceVersion } })
    expect(ok.status).toBe(200)
  })
})

describe('NodePorts', () => {
  it('allocates unique NodePorts in 30000-32767 for NodePort and LoadBalancer services, released on delete', async () => {
    const t = await testApp({ env: { SERVICE_NODE_PORT_RANGE: '30000-30003' } })
    const a = await create(t, { metadata: { name: 'a' }, spec: { type: 'NodePort', ports: [{ name: 'x', port: 80 }, { name: 'y', port: 81 }] } })
    expect(a.status).toBe(201)
    const b = await create(t, { metadata: { name: 'b' }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } })
    expect(b.status).toBe(201)
    expect(b.body.spec.externalTrafficPolicy).toBe('Cluster')
    const ports = [...a.body.spec.ports, ...b.body.spec.ports].map((p: any) => p.nodePort)
    expect(new Set(ports).size).toBe(3)
    for (const p of ports) expect(p >= 30000 && p <= 30003).toBe(true)
    const taken = await create(t, { metadata: { name: 'c' }, spec: { type: 'NodePort', ports: [{ port: 80, nodePort: ports[0] }] } })
    expect(taken.status).toBe(422)
    expect(taken.body.details.causes[0].field).toBe('spec.ports[0].nodePort')
    const last = await create(t, { metadata: { name: 'd' }, spec: { type: 'NodePort', ports: [{ port: 80 }] } })
    expect(last.status).toBe(201)
    const full = await create(t, { metadata: { name: 'e' }, spec: { type: 'NodePort', ports: [{ port: 80 }] } })
    expect(full.status).toBe(422)
    await t.json('DELETE', `${BASE}/a`)
    const again = await create(t, { metadata: { name: 'e' }, spec: { type: 'NodePort', ports: [{ port: 80 }] } })
    expect(again.status).toBe(201)
  })

  it('keeps NodePorts on a replace that omits them', async () => {
    const t = await testApp()
    const body = { metadata: { name: 'np' }, spec: { type: 'NodePort', ports: [{ port: 80 }] } }
    const created = await create(t, body)
    const replaced = await t.json('PUT', `${BASE}/np`, body)
    expect(replaced.body.spec.ports[0].nodePort).toBe(created.body.spec.ports[0].nodePort)
  })
})

describe('lists', () => {
  it('lists cluster-wide with field and label selectors', async () => {
    const t = await testApp()
    await t.json('POST', '/api/v1/namespaces', { metadata: { name: 'other' } })
    await create(t, { metadata: { name: 'a', labels: { tier: 'fe' } }, spec: { ports: [{ port: 80 }] } })
    await create(t, { metadata: { name: 'b', labels: { tier: 'be' } }, spec: { type: 'NodePort', ports: [{ port: 80 }] } })
    await t.json('POST', '/api/v1/namespaces/other/services', { metadata: { name: 'a' }, spec: { clusterIP: 'None' } })
    const all = await t.json('GET', '/api/v1/services')
    expect(all.body.items.map((s: any) => `${s.metadata.namespace}/${s.metadata.name}`)).toEqual(['default/a', 'default/b', 'other/a'])
    const np = await t.json('GET', '/api/v1/services?fieldSelector=spec.type%3DNodePort')
    expect(np.body.items.map((s: any) => s.metadata.name)).toEqual(['b'])
    const headless = await t.json('GET', '/api/v1/services?fieldSelector=spec.clusterIP%3DNone')
    expect(headless.body.items.map((s: any) => s.metadata.namespace)).toEqual(['other'])
    const fe = await t.json('GET', `${BASE}?labelSelector=${encodeURIComponent('tier in (fe)')}`)
    expect(fe.body.items.map((s: any) => s.metadata.name)).toEqual(['a'])
    const bad = await t.json('GET', `${BASE}?fieldSelector=spec.selector%3Dx`)
    expect(bad.status).toBe(400)
    expect(bad.body.message).toContain('field label not supported')
  })
})
