import { describe, expect, it } from 'vitest'
import { testApp } from '../support/app'

const svc = (name: string) => ({ metadata: { name }, spec: { selector: { app: name }, ports: [{ port: 80 }] } })
const pod = (name: string) => ({
  metadata: { name, labels: { app: 'web' } },
  status: { podIP: '10.0.0.1', conditions: [{ type: 'Ready', status: 'True' }] },
})

describe('namespaces', () => {
  it('has default from the start, labelled with its name', async () => {
    const t = await testApp()
    const res = await t.json('GET', '/api/v1/namespaces/default')
    expect(res.status).toBe(200)
    expect(res.body.metadata.labels).toEqual({ 'kubernetes.io/metadata.name': 'default' })
    expect(res.body.status.phase).toBe('Active')
  })

  it('creates, gets, lists and deletes', async () => {
    const t = await testApp()
    const created = await t.json('POST', '/api/v1/namespaces', { metadata: { name: 'team-a' } })
    expect(created.status).toBe(201)
    expect(created.body.metadata.uid).toMatch(/^[0-9a-f-]{36}$/)
    expect(created.body.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    expect((await t.json('GET', '/api/v1/namespaces/team-a')).body.metadata.resourceVersion).toBe(created.body.metadata.resourceVersion)
    const list = await t.json('GET', '/api/v1/namespaces')
    expect(list.body.kind).toBe('NamespaceList')
    expect(list.body.items.map((n: any) => n.metadata.name)).toEqual(['default', 'team-a'])
    expect(Number(list.body.metadata.resourceVersion)).toBeGreaterThanOrEqual(Number(created.body.metadata.resourceVersion))
    const again = await t.json('POST', '/api/v1/namespaces', { metadata: { name: 'team-a' } })
    expect(again.status).toBe(409)
    expect(again.body.reason).toBe('AlreadyExists')
    expect((await t.json('DELETE', '/api/v1/namespaces/team-a')).status).toBe(200)
    const gone = await t.json('GET', '/api/v1/namespaces/team-a')
    expect(gone.status).toBe(404)
    expect(gone.body).toMatchObject({ kind: 'Status', reason: 'NotFound', message: 'namespaces "team-a" not found' })
  })

  it('rejects an invalid name with the field', async () => {
    const t = await testApp()
    const res = await t.json('POST', '/api/v1/namespaces', { metadata: { name: 'Team_A' } })
    expect(res.status).toBe(422)
    expect(res.body.details.causes[0].field).toBe('metadata.name')
  })

  it('refuses to delete default', async () => {
    const t = await testApp()
    const res = await t.json('DELETE', '/api/v1/namespaces/default')
    expect(res.status).toBe(403)
    expect(res.body.reason).toBe('Forbidden')
  })

  it('deletes everything in a namespace, and releases its ClusterIPs', async () => {
    const t = await testApp({ env: { SERVICE_CLUSTER_IP_RANGE: '10.0.0.0/29' } })
    await t.json('POST', '/api/v1/namespaces', { metadata: { name: 'a' } })
    const ips: string[] = []
    for (const name of ['s1', 's2', 's3', 's4', 's5']) {
      const res = await t.json('POST', '/api/v1/namespaces/a/services', svc(name))
      expect(res.status).toBe(201)
      ips.push(res.body.spec.clusterIP)
    }
    expect(new Set(ips).size).toBe(5)
    // a /29 has 6 usable addresses; fill the last one from another namespace
    expect((await t.json('POST', '/api/v1/namespaces/default/services', svc('full'))).status).toBe(201)
    expect((await t.json('POST', '/api/v1/namespaces/default/services', svc('over'))).status).toBe(422)
    expect((await t.json('POST', '/api/v1/namespaces/a/pods', pod('p1'))).status).toBe(201)

    expect((await t.json('DELETE', '/api/v1/namespaces/a')).status).toBe(200)
    expect((await t.json('GET', '/api/v1/namespaces/a/services/s1')).status).toBe(404)
    expect((await t.json('GET', '/api/v1/namespaces/a/pods/p1')).status).toBe(404)
    expect((await t.json('GET', '/api/v1/services')).body.items.map((s: any) => s.metadata.name)).toEqual(['full'])
    const rows = await t.client.execute("SELECT count(*) AS n FROM labels WHERE namespace = 'a'")
    expect(Number(rows.rows[0]!.n)).toBe(0)
    // the five released addresses can be allocated again
    for (const name of ['r1', 'r2', 'r3', 'r4', 'r5']) {
      expect((await t.json('POST', '/api/v1/namespaces/default/services', svc(name))).status).toBe(201)
    }
  })

  it('404s a write into a namespace that does not exist, and writes nothing', async () => {
    const t = await testApp()
    const res = await t.json('POST', '/api/v1/namespaces/nope/services', svc('web'))
    expect(res.status).toBe(404)
    expect(res.body).toMatchObject({ reason: 'NotFound', message: 'namespaces "nope" not found' })
    const pods = await t.json('POST', '/api/v1/namespaces/nope/pods', pod('p'))
    expect(pods.status).toBe(404)
    const ips = await t.client.execute('SELECT count(*) AS n FROM cluster_ips')
    expect(Number(ips.rows[0]!.n)).toBe(0)
  })
})
