import { describe, expect, it } from 'vitest'
import { testApp, type TestApp } from '../support/app'

const NS = '/api/v1/namespaces/default'
const PICK = `${NS}/services/web/pick`

function pod(name: string, ip: string, o: { weight?: number; ready?: boolean; zone?: string; node?: string; port?: boolean } = {}) {
  return {
    metadata: {
      name,
      labels: { app: 'web', ...(o.zone ? { 'topology.kubernetes.io/zone': o.zone } : {}) },
      annotations: { 'switchboard.dev/weight': String(o.weight ?? 1) },
    },
    spec: {
      ...(o.node ? { nodeName: o.node } : {}),
      containers: [{ name: 'app', ports: o.port === false ? [] : [{ name: 'http', containerPort: 8080 }] }],
    },
    status: { podIP: ip, conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
  }
}

async function setup(pods: ReturnType<typeof pod>[]): Promise<TestApp> {
  const t = await testApp()
  await t.json('POST', `${NS}/services`, {
    metadata: { name: 'web' },
    spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }, { name: 'admin', port: 9000 }] },
  })
  for (const p of pods) expect((await t.json('POST', `${NS}/pods`, p)).status).toBe(201)
  return t
}

async function picks(t: TestApp, n: number, query = ''): Promise<string[]> {
  const out: string[] = []
  for (let i = 0; i < n; i++) {
    const res = await t.json('GET', `${PICK}${query}`)
    expect(res.status).toBe(200)
    out.push(res.body.pod)
  }
  return out
}

describe('pick', () => {
  it('returns one endpoint with its address, ports, pod, node, zone and weight', async () => {
    const t = await setup([pod('a', '10.0.0.1', { zone: 'z1', node: 'n1', weight: 2 })])
    const res = await t.json('GET', PICK)
    expect(res.body).toMatchObject({
      kind: 'Pick',
      namespace: 'default',
      service: 'web',
      address: '10.0.0.1',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'admin', port: 9000, protocol: 'TCP' }],
      pod: 'a',
      node: 'n1',
      zone: 'z1',
      weight: 2,
    })
    expect((await t.json('GET', `${PICK}?port=http`)).body).toMatchObject({ address: '10.0.0.1', port: 8080 })
    expect((await t.json('GET', `${PICK}?port=nope`)).status).toBe(404)
  })

  it('follows the weights exactly in every window of W picks, and never picks drained, unready or terminating pods', async () => {
    const t = await setup([
      pod('a', '10.0.0.1', { weight: 5 }),
      pod('b', '10.0.0.2', { weight: 1 }),
      pod('c', '10.0.0.3', { weight: 1 }),
      pod('drained', '10.0.0.4', { weight: 0 }),
      pod('unready', '10.0.0.5', { ready: false }),
      pod('leaving', '10.0.0.6'),
    ])
    await t.json('DELETE', `${NS}/pods/leaving`, { gracePeriodSeconds: 60 })
    const seq = await picks(t, 21)
    for (let start = 0; start + 7 <= seq.length; start++) {
      const window = seq.slice(start, start + 7)
      expect([window.filter((p) => p === 'a').length, window.filter((p) => p === 'b').length, window.filter((p) => p === 'c').length]).toEqual([5, 1, 1])
    }
  })

  it('503s with Retry-After when nothing is ready, 404s an unknown service, answers an ExternalName', async () => {
    const t = await setup([pod('a', '10.0.0.1', { ready: false })])
    const res = await t.req('GET', PICK)
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('1')
    expect(((await res.json()) as any).reason).toBe('ServiceUnavailable')
    expect((await t.json('GET', `${NS}/services/nope/pick`)).status).toBe(404)
    await t.json('POST', `${NS}/services`, { metadata: { name: 'ext' }, spec: { type: 'ExternalName', externalName: 'api.example.com' } })
    expect((await t.json('GET', `${NS}/services/ext/pick`)).body).toMatchObject({ externalName: 'api.example.com' })
  })

  it('applies changes at once: added, drained, re-weighted and removed pods', async () => {
    const t = await setup([pod('a', '10.0.0.1')])
    expect(new Set(await picks(t, 4))).toEqual(new Set(['a']))
    await t.json('POST', `${NS}/pods`, pod('b', '10.0.0.2', { weight: 3 }))
    const after = await picks(t, 8)
    expect(after.filter((p) => p === 'b').length).toBe(6)
    await t.json('PATCH', `${NS}/pods/b`, { metadata: { annotations: { 'switchboard.dev/weight': '0' } } })
    expect(new Set(await picks(t, 4))).toEqual(new Set(['a']))
    await t.json('DELETE', `${NS}/pods/a`)
    expect((await t.json('GET', PICK)).status).toBe(503)
  })

  it('sticks a key to one endpoint', async () => {
    const t = await setup([pod('a', '10.0.0.1'), pod('b', '10.0.0.2'), pod('c', '10.0.0.3')])
    for (const key of ['alice', 'bob', 'carol']) {
      const first = (await t.json('GET', `${PICK}?key=${key}`)).body.pod
      for (let i = 0; i < 5; i++) expect((await t.json('GET', `${PICK}?key=${key}`)).body.pod).toBe(first)
    }
  })

  it('prefers a zone and says so when it falls back', async () => {
    const t = await setup([pod('a', '10.0.0.1', { zone: 'z1' }), pod('b', '10.0.0.2', { zone: 'z2' })])
    expect(new Set(await picks(t, 4, '?zone=z2'))).toEqual(new Set(['b']))
    const res = await t.req('GET', `${PICK}?zone=z9`)
    expect(res.headers.get('x-switchboard-zone-fallback')).toBe('true')
  })

  it('explains the candidates and the exclusions', async () => {
    const t = await setup([
      pod('a', '10.0.0.1', { zone: 'z1', weight: 2 }),
      pod('b', '10.0.0.2', { zone: 'z2' }),
      pod('d', '10.0.0.3', { weight: 0 }),
      pod('u', '10.0.0.4', { ready: false }),
      pod('n', '10.0.0.5', { port: false }),
    ])
    const res = await t.json('GET', `${PICK}?explain=true&zone=z1&port=http`)
    expect(res.body.explain.candidates).toEqual([{ address: '10.0.0.1', pod: 'a', zone: 'z1', weight: 2 }])
    const reasons = Object.fromEntries(res.body.explain.excluded.map((e: any) => [e.pod, e.reason]))
    expect(reasons).toEqual({ b: 'OtherZone', d: 'Drained', u: 'NotReady', n: 'NoSuchPort' })
  })

  it('costs no database query in steady state', async () => {
    const t = await setup([pod('a', '10.0.0.1', { weight: 2 }), pod('b', '10.0.0.2')])
    await t.json('GET', PICK)
    t.calls.reset()
    await picks(t, 200)
    expect({ execute: t.calls.execute, batch: t.calls.batch }).toEqual({ execute: 0, batch: 0 })
  })
})
