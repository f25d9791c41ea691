import { beforeAll, describe, expect, it, vi } from 'vitest'
import { seededClock } from '../../worker/wiring'
import { RCODE, TYPE, decodeMessage, encodeMessage, optRecord, type Message } from '../../worker/dns/wire'
import { testApp, type TestApp } from '../support/app'
import { base64url as b64url } from '../support/dns-query'

const NS = '/api/v1/namespaces/default'

function query(name: string, type: number, opts: { id?: number; edns?: boolean; questions?: number } = {}): Uint8Array {
  const q = { name, type, class: 1 }
  const msg: Message = {
    header: { id: opts.id ?? 0x1234, qr: false, opcode: 0, aa: false, tc: false, rd: true, ra: false, ad: false, cd: false, rcode: 0 },
    questions: Array.from({ length: opts.questions ?? 1 }, () => q),
    answers: [],
    authorities: [],
    additionals: opts.edns ? [optRecord({ udpSize: 4096 })] : [],
  }
  return encodeMessage(msg)
}


async function ask(t: TestApp, name: string, type: number, via: 'GET' | 'POST' = 'GET') {
  const bytes = query(name, type)
  const res =
    via === 'GET'
      ? await t.req('GET', `/dns-query?dns=${b64url(bytes)}`)
      : await t.app.request('/dns-query', { method: 'POST', body: bytes as Uint8Array<ArrayBuffer>, headers: { 'content-type': 'application/dns-message' } })
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toBe('application/dns-message')
  const msg = decodeMessage(new Uint8Array(await res.arrayBuffer()))
  return { msg, cache: res.headers.get('cache-control') }
}

const data = (m: Message) => m.answers.map((r) => r.data)
const ips = (m: Message) => m.answers.map((r) => (r.data.kind === 'A' || r.data.kind === 'AAAA' ? r.data.address : '?')).sort()

let t: TestApp
let clusterIP: string

beforeAll(async () => {
  t = await testApp()
  const svc = await t.json('POST', `${NS}/services`, {
    metadata: { name: 'web' },
    spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }, { name: 'dns', port: 53, protocol: 'UDP' }] },
  })
  clusterIP = svc.body.spec.clusterIP
  await t.json('POST', `${NS}/services`, {
    metadata: { name: 'db' },
    spec: { clusterIP: 'None', selector: { app: 'db' }, ports: [{ name: 'pg', port: 5432, targetPort: 'pg' }] },
  })
  await t.json('POST', `${NS}/services`, { metadata: { name: 'empty' }, spec: { clusterIP: 'None', selector: { app: 'none' } } })
  await t.json('POST', `${NS}/services`, { metadata: { name: 'ext' }, spec: { type: 'ExternalName', externalName: 'www.example.com' } })
  await t.json('POST', `${NS}/services`, { metadata: { name: 'alias' }, spec: { type: 'ExternalName', externalName: 'web.default.svc.cluster.local' } })
  const pod = (name: string, ip: string | string[], app: string, extra: Record<string, unknown> = {}) => ({
    metadata: { name, labels: { app }, ...(extra.weight ? { annotations: { 'switchboard.dev/weight': extra.weight } } : {}) },
    spec: {
      ...(extra.hostname ? { hostname: extra.hostname, subdomain: 'db' } : {}),
      containers: [{ name: 'app', ports: [{ name: 'http', containerPort: 8080 }, { name: 'pg', containerPort: 5433 }] }],
    },
    status: {
      podIPs: (Array.isArray(ip) ? ip : [ip]).map((i) => ({ ip: i })),
      conditions: [{ type: 'Ready', status: extra.ready === false ? 'False' : 'True' }],
    },
  })
  for (const body of [
    pod('web-1', '10.1.0.1', 'web'),
    pod('db-0', ['10.2.0.1', 'fd00::1'], 'db', { hostname: 'db-0', weight: '3' }),
    pod('db-1', '10.2.0.2', 'db', { weight: '1' }),
    pod('db-2', '10.2.0.3', 'db', { ready: false }),
    pod('db-3', '10.2.0.4', 'db', { weight: '0' }),
  ]) {
    expect((await t.json('POST', `${NS}/pods`, body)).status).toBe(201)
  }
})

describe('records', () => {
  it('dns-version TXT', async () => {
    const { msg } = await ask(t, 'dns-version.cluster.local', TYPE.TXT)
    expect(data(msg)).toEqual([{ kind: 'TXT', strings: ['1.1.0'] }])
  })

  it('a ClusterIP service answers its ClusterIP; the other family is NODATA with the SOA', async () => {
    const { msg, cache } = await ask(t, 'web.default.svc.cluster.local', TYPE.A)
    expect(msg.header).toMatchObject({ id: 0x1234, qr: true, aa: true, rcode: RCODE.NOERROR })
    expect(ips(msg)).toEqual([clusterIP])
    expect(cache).toBe('max-age=5')
    const v6 = (await ask(t, 'web.default.svc.cluster.local', TYPE.AAAA)).msg
    expect(v6.header.rcode).toBe(RCODE.NOERROR)
    expect(v6.answers).toEqual([])
    expect(v6.authorities[0]!.data).toMatchObject({ kind: 'SOA', mname: 'ns.dns.cluster.local' })
  })

  it('a headless service answers its ready, non-drained endpoints; none ready is NXDOMAIN', async () => {
    expect(ips((await ask(t, 'db.default.svc.cluster.local', TYPE.A)).msg)).toEqual(['10.2.0.1', '10.2.0.2'])
    expect(ips((await ask(t, 'db.default.svc.cluster.local', TYPE.AAAA)).msg)).toEqual(['fd00::1'])
    expect((await ask(t, 'empty.default.svc.cluster.local', TYPE.A)).msg.header.rcode).toBe(RCODE.NXDOMAIN)
  })

  it('hostname records for endpoints with a hostname, and dashed-IP names for the others', async () => {
    expect(ips((await ask(t, 'db-0.db.default.svc.cluster.local', TYPE.A)).msg)).toEqual(['10.2.0.1'])
    expect(ips((await ask(t, '10-2-0-2.db.default.svc.cluster.local', TYPE.A)).msg)).toEqual(['10.2.0.2'])
    expect((await ask(t, 'nobody.db.default.svc.cluster.local', TYPE.A)).msg.header.rcode).toBe(RCODE.NXDOMAIN)
  })

  it('SRV for a ClusterIP service: one record per named port, target the service, address in additional', async () => {
    const { msg } = await ask(t, '_http._tcp.web.default.svc.cluster.local', TYPE.SRV)
    expect(data(msg)).toEqual([{ kind: 'SRV', priority: 0, weight: 100, port: 80, target: 'web.default.svc.cluster.local' }])
    expect(msg.additionals.map((r) => r.data)).toEqual([{ kind: 'A', address: clusterIP }])
    expect((await ask(t, '_dns._udp.web.default.svc.cluster.local', TYPE.SRV)).msg.answers).toHaveLength(1)
    expect((await ask(t, '_dns._tcp.web.default.svc.cluster.local', TYPE.SRV)).msg.header.rcode).toBe(RCODE.NXDOMAIN)
    expect((await ask(t, 'web.default.svc.cluster.local', TYPE.SRV)).msg.answers).toHaveLength(2)
  })

  it('SRV for a headless service: one per ready endpoint, weighted by pod weight, with addresses', async () => {
    const { msg } = await ask(t, '_pg._tcp.db.default.svc.cluster.local', TYPE.SRV)
    const srv = data(msg).map((d) => (d.kind === 'SRV' ? `${d.weight} ${d.port} ${d.target}` : '?')).sort()
    expect(srv).toEqual(['1 5433 10-2-0-2.db.default.svc.cluster.local', '3 5433 db-0.db.default.svc.cluster.local'])
    expect(msg.additionals.map((r) => (r.data.kind === 'A' || r.data.kind === 'AAAA' ? r.data.address : '?')).sort()).toEqual(['10.2.0.1', '10.2.0.2', 'fd00::1'])
  })

  it('PTR for ClusterIPs and ready endpoint IPs; unknown IPs are NXDOMAIN', async () => {
    const reverse = clusterIP.split('.').reverse().join('.') + '.in-addr.arpa'
    expect(data((await ask(t, reverse, TYPE.PTR)).msg)).toEqual([{ kind: 'PTR', target: 'web.default.svc.cluster.local' }])
    expect(data((await ask(t, '1.0.2.10.in-addr.arpa', TYPE.PTR)).msg)).toEqual([{ kind: 'PTR', target: 'db-0.db.default.svc.cluster.local' }])
    const v6 = '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa'
    expect(data((await ask(t, v6, TYPE.PTR)).msg)).toEqual([{ kind: 'PTR', target: 'db-0.db.default.svc.cluster.local' }])
    expect((await ask(t, '3.0.2.10.in-addr.arpa', TYPE.PTR)).msg.header.rcode).toBe(RCODE.NXDOMAIN)
  })

  it('ExternalName is a CNAME, chased inside the zone', async () => {
    expect(data((await ask(t, 'ext.default.svc.cluster.local', TYPE.A)).msg)).toEqual([{ kind: 'CNAME', target: 'www.example.com' }])
    const chased = (await ask(t, 'alias.default.svc.cluster.local', TYPE.A)).msg
    expect(data(chased)).toEqual([
      { kind: 'CNAME', target: 'web.default.svc.cluster.local' },
      { kind: 'A', address: clusterIP },
    ])
    expect((await ask(t, 'ext.default.svc.cluster.local', TYPE.SRV)).msg.answers).toEqual([])
  })

  it('matches case-insensitively and answers in the query case', async () => {
    const { msg } = await ask(t, 'WeB.DeFault.SVC.cluster.LOCAL', TYPE.A)
    expect(msg.answers[0]!.name).toBe('WeB.DeFault.SVC.cluster.LOCAL')
    expect(ips(msg)).toEqual([clusterIP])
  })

  it('tells NXDOMAIN from NODATA, always with the SOA, its serial the resourceVersion', async () => {
    const rv = Number((await t.json('GET', '/api/v1/namespaces')).body.metadata.resourceVersion)
    const cases: [string, number, number][] = [
      ['nope.default.svc.cluster.local', TYPE.A, RCODE.NXDOMAIN],
      ['web.nowhere.svc.cluster.local', TYPE.A, RCODE.NXDOMAIN],
      ['nowhere.svc.cluster.local', TYPE.A, RCODE.NXDOMAIN],
      ['default.svc.cluster.local', TYPE.A, RCODE.NOERROR],
      ['svc.cluster.local', TYPE.A, RCODE.NOERROR],
      ['foo.cluster.local', TYPE.A, RCODE.NXDOMAIN],
      ['web.default.svc.cluster.local', TYPE.TXT, RCODE.NOERROR],
      ['_nope._tcp.web.default.svc.cluster.local', TYPE.SRV, RCODE.NXDOMAIN],
      ['a.b.c.web.default.svc.cluster.local', TYPE.A, RCODE.NXDOMAIN],
    ]
    for (const [name, type, rcode] of cases) {
      const { msg, cache } = await ask(t, name, type)
      expect(msg.header.rcode, name).toBe(rcode)
      expect(msg.answers, name).toEqual([])
      const soa = msg.authorities[0]!
      expect(soa.data.kind, name).toBe('SOA')
      if (soa.data.kind === 'SOA') expect(soa.data.serial).toBe(rv)
      expect(cache).toBe('max-age=5')
    }
  })

  it('refuses names outside the zone, and answers ANY minimally (RFC 8482)', async () => {
    const out = (await ask(t, 'example.com', TYPE.A)).msg
    expect(out.header.rcode).toBe(RCODE.REFUSED)
    const any = (await ask(t, 'web.default.svc.cluster.local', TYPE.ANY)).msg
    expect(any.answers.map((r) => r.type)).toEqual([TYPE.HINFO])
  })
})

describe('transport', () => {
  it('answers GET and POST alike, echoes the ID, understands EDNS', async () => {
    const get = await ask(t, 'web.default.svc.cluster.local', TYPE.A, 'GET')
    const post = await ask(t, 'web.default.svc.cluster.local', TYPE.A, 'POST')
    expect(post.msg.answers).toEqual(get.msg.answers)
    const res = await t.req('GET', `/dns-query?dns=${b64url(query('web.default.svc.cluster.local', TYPE.A, { id: 7, edns: true }))}`)
    const msg = decodeMessage(new Uint8Array(await res.arrayBuffer()))
    expect(msg.header.id).toBe(7)
    expect(msg.additionals.map((r) => r.type)).toEqual([TYPE.OPT])
  })

  it('400s a missing or bad dns parameter and a garbled message; 415 and 413 for POST', async () => {
    expect((await t.req('GET', '/dns-query')).status).toBe(400)
    expect((await t.req('GET', '/dns-query?dns=***')).status).toBe(400)
    expect((await t.req('GET', `/dns-query?dns=${b64url(new Uint8Array([1, 2, 3]))}`)).status).toBe(400)
    const wrongType = await t.app.request('/dns-query', { method: 'POST', body: query('a.cluster.local', 1) as Uint8Array<ArrayBuffer>, headers: { 'content-type': 'text/plain' } })
    expect(wrongType.status).toBe(415)
    const big = await t.app.request('/dns-query', { method: 'POST', body: new Uint8Array(70_000), headers: { 'content-type': 'application/dns-message' } })
    expect(big.status).toBe(413)
  })

  it('FORMERR for no question or more than one', async () => {
    for (const questions of [0, 2]) {
      const res = await t.req('GET', `/dns-query?dns=${b64url(query('web.default.svc.cluster.local', TYPE.A, { questions }))}`)
      expect(res.status).toBe(200)
      expect(decodeMessage(new Uint8Array(await res.arrayBuffer())).header.rcode).toBe(RCODE.FORMERR)
    }
  })

  it('serves the JSON form at /dns-query and /resolve', async () => {
    const res = await t.req('GET', '/resolve?name=_http._tcp.web.default.svc.cluster.local&type=SRV')
    expect(res.status).toBe(200)
    const body = (await res.json()) as any
    expect(body).toMatchObject({ Status: 0, TC: false, RD: true, RA: false, AD: false, CD: false })
    expect(body.Question).toEqual([{ name: '_http._tcp.web.default.svc.cluster.local.', type: 33 }])
    expect(body.Answer[0]).toEqual({ name: '_http._tcp.web.default.svc.cluster.local.', type: 33, TTL: 5, data: '0 100 80 web.default.svc.cluster.local.' })
    const txt = (await (await t.req('GET', '/dns-query?name=dns-version.cluster.local&type=16&ct=application/dns-json')).json()) as any
    expect(txt.Answer[0].data).toBe('"1.1.0"')
    const accept = await t.req('GET', '/dns-query?name=nope.default.svc.cluster.local', undefined, { accept: 'application/dns-json' })
    const nx = (await accept.json()) as any
    expect(nx.Status).toBe(3)
    expect(nx.Authority[0].type).toBe(6)
    for (const bad of ['/resolve?name=a..b&type=A', '/resolve?name=web&type=BOGUS', '/resolve', '/resolve?name=x&type=70000']) {
      const r = await t.req('GET', bad)
      expect(r.status, bad).toBe(400)
      expect(((await r.json()) as any).error).toBeTruthy()
    }
  })
})

describe('freshness', () => {
  it('a write is visible to the very next query', async () => {
    const before = await ask(t, 'db.default.svc.cluster.local', TYPE.A)
    expect(ips(before.msg)).toContain('10.2.0.2')
    await t.json('PATCH', `${NS}/pods/db-1/status`, { status: { conditions: [{ type: 'Ready', status: 'False' }] } })
    expect(ips((await ask(t, 'db.default.svc.cluster.local', TYPE.A)).msg)).toEqual(['10.2.0.1'])
    await t.json('PATCH', `${NS}/pods/db-1/status`, { status: { conditions: [{ type: 'Ready', status: 'True' }] } })
    expect(ips((await ask(t, 'db.default.svc.cluster.local', TYPE.A)).msg)).toEqual(['10.2.0.1', '10.2.0.2'])
  })
})

describe('answer cache', () => {
  it('keeps a wire answer for a second of the injected clock, not the wall clock', async () => {
    // Years away from the wall clock, and moved only by the test.
    let now = Date.parse('2040-01-01T00:00:00Z')
    const app = await testApp({ clock: seededClock(42, () => new Date(now)) })
    await app.json('POST', `${NS}/services`, { metadata: { name: 'web' }, spec: { ports: [{ port: 80 }] } })
    const resolve = vi.spyOn(app.resolver, 'resolve')
    const name = 'web.default.svc.cluster.local'

    await ask(app, name, TYPE.A)
    expect(resolve).toHaveBeenCalledTimes(1)
    await ask(app, name, TYPE.A)
    now += 999
    await ask(app, name, TYPE.A)
    expect(resolve).toHaveBeenCalledTimes(1)
    now += 1
    await ask(app, name, TYPE.A)
    expect(resolve).toHaveBeenCalledTimes(2)
    await ask(app, name, TYPE.A)
    expect(resolve).toHaveBeenCalledTimes(2)
  })
})
