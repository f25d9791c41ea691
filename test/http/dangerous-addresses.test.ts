/**
 * Pod IPs and user-written endpoint addresses are judged as Kubernetes' ValidateEndpointIP
 * judges endpoint addresses: unspecified, link-local and multicast addresses (IPv4-mapped
 * forms included) are a 422 naming the field, on every write path, and nothing is stored.
 * Loopback is refused too while access control is on, unless ALLOW_LOOPBACK_ADDRESSES says
 * otherwise. A pod stored before these rules stays, but DNS and the pick never hand out
 * its address.
 */
import { describe, expect, it } from 'vitest'
import { TYPE, decodeMessage } from '../../worker/dns/wire'
import { metaForCreate } from '../../worker/registry/meta'
import { podStrategy, podWrite } from '../../worker/registry/strategies/pod'
import { userEndpointRows } from '../../worker/registry/user-endpoints'
import type { EndpointsObject } from '../../worker/registry/endpoint-views'
import { Switchboard } from '../../sdk/src/index'
import { testApp, type TestApp } from '../support/app'
import { base64url as b64url, wireQuery } from '../support/dns-query'

const NS = '/api/v1/namespaces/default'
const TOKEN = 'dangerous-addresses-root-credential-0123456789'
const AUTH = { authorization: `Bearer ${TOKEN}` }
const ACCESS_CONTROL_ON = { SWITCHBOARD_ADMIN_TOKEN: TOKEN }

const UNSPECIFIED = (ip: string) => `may not be unspecified (${ip})`
const LOOPBACK = 'may not be in the loopback range (127.0.0.0/8, ::1/128)'
const LINK_LOCAL = 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'
const LINK_LOCAL_MULTICAST = 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'
const MULTICAST = 'may not be in the multicast range (224.0.0.0/4, ff00::/8)'

/** Each refused address (as sent, and as the registry writes it back) with Kubernetes' words for it. */
const REFUSED: [string, string, string][] = [
  ['169.254.169.254', '169.254.169.254', LINK_LOCAL],
  ['169.254.0.1', '169.254.0.1', LINK_LOCAL],
  ['fe80::1', 'fe80::1', LINK_LOCAL],
  ['febf:ffff::1', 'febf:ffff::1', LINK_LOCAL],
  ['0.0.0.0', '0.0.0.0', UNSPECIFIED('0.0.0.0')],
  ['::', '::', UNSPECIFIED('::')],
  ['127.0.0.1', '127.0.0.1', LOOPBACK],
  ['127.255.0.9', '127.255.0.9', LOOPBACK],
  ['::1', '::1', LOOPBACK],
  ['224.0.0.251', '224.0.0.251', LINK_LOCAL_MULTICAST],
  ['ff02::fb', 'ff02::fb', LINK_LOCAL_MULTICAST],
  ['239.255.255.250', '239.255.255.250', MULTICAST],
  ['ff05::1:3', 'ff05::1:3', MULTICAST],
  // IPv4-mapped and NAT64 forms reach the IPv4 address they carry.
  ['::ffff:169.254.169.254', '::ffff:169.254.169.254', LINK_LOCAL],
  ['::FFFF:A9FE:A9FE', '::ffff:169.254.169.254', LINK_LOCAL],
  ['::ffff:127.0.0.1', '::ffff:127.0.0.1', LOOPBACK],
  ['::ffff:0.0.0.0', '::ffff:0.0.0.0', UNSPECIFIED('::ffff:0.0.0.0')],
  ['64:ff9b::169.254.169.254', '64:ff9b::a9fe:a9fe', LINK_LOCAL],
]

/** Addresses near the refused ranges that are ordinary unicast addresses. */
const ALLOWED = ['10.0.0.1', '169.253.255.255', '169.255.0.1', '126.255.255.255', '128.0.0.1', '223.255.255.255', '240.0.0.1', 'fec0::1', 'fe7f::1', 'fd00::1', '::2', '::ffff:10.0.0.1', '2001:db8::1']

function pod(name: string, ip: string | string[], labels: Record<string, string> = { app: 'web' }) {
  const ips = Array.isArray(ip) ? ip : [ip]
  return {
    metadata: { name, labels },
    spec: { containers: [{ name: 'app', ports: [{ name: 'http', containerPort: 8080 }] }] },
    status: { podIPs: ips.map((i) => ({ ip: i })), conditions: [{ type: 'Ready', status: 'True' }] },
  }
}

async function tables(t: TestApp) {
  const pods = await t.client.execute('SELECT namespace, name, pod_ip, body FROM pods ORDER BY namespace, name')
  const endpoints = await t.client.execute('SELECT * FROM endpoints ORDER BY namespace, service, ip')
  return JSON.stringify([pods.rows, endpoints.rows])
}

function expectRefused(res: { status: number; body: any }, field: string, value: string, detail: string) {
  expect(res.status).toBe(422)
  expect(res.body).toMatchObject({ kind: 'Status', reason: 'Invalid', code: 422 })
  expect(res.body.details.causes).toContainEqual({ reason: 'FieldValueInvalid', field, message: `Invalid value: "${value}": ${detail}` })
}


async function dnsA(t: TestApp, name: string, headers: Record<string, string> = {}): Promise<string[]> {
  const q = wireQuery(name, TYPE.A, { id: 1 })
  const res = await t.req('GET', `/dns-query?dns=${b64url(q)}`, undefined, headers)
  expect(res.status).toBe(200)
  return decodeMessage(new Uint8Array(await res.arrayBuffer())).answers.map((r) => (r.data.kind === 'A' ? r.data.address : '?'))
}

describe('pod IPs like Kubernetes endpoint addresses', () => {
  it('refuses unspecified, loopback, link-local and multicast pod IPs on create, naming the field, and stores nothing', async () => {
    const t = await testApp({ env: ACCESS_CONTROL_ON })
    const before = await tables(t)
    for (const [sent, written, detail] of REFUSED) {
      const res = await t.json('POST', `${NS}/pods`, { ...pod('p', sent), status: { podIP: sent } }, AUTH)
      expectRefused(res, 'status.podIP', written, detail)
      // The second address of a dual-stack pod is named by its own index.
      const other = written.includes('.') && !written.includes(':') ? 'fd00::7' : '10.0.0.7'
      const dual = await t.json('POST', `${NS}/pods`, pod('p', [other, sent]), AUTH)
      expectRefused(dual, 'status.podIPs[1].ip', written, detail)
    }
    expect(await tables(t)).toBe(before)
    for (const [i, ip] of ALLOWED.entries()) expect((await t.json('POST', `${NS}/pods`, pod(`ok-${i}`, ip), AUTH)).status).toBe(201)
  })

  it('refuses them on replace, merge patch, the status subresource and server-side apply, changing nothing', async () => {
    const t = await testApp({ env: ACCESS_CONTROL_ON })
    expect((await t.json('POST', `${NS}/pods`, pod('p', '10.0.0.5'), AUTH)).status).toBe(201)
    const before = await tables(t)
    const stored = (await t.json('GET', `${NS}/pods/p`, undefined, AUTH)).body
    const status = { podIP: '169.254.169.254', podIPs: [{ ip: '169.254.169.254' }] }
    const apply = { 'content-type': 'application/apply-patch+yaml', ...AUTH }
    const attempts = [
      () => t.json('PUT', `${NS}/pods/p`, { ...stored, status: { ...stored.status, ...status } }, AUTH),
      () => t.json('PATCH', `${NS}/pods/p`, { status }, AUTH),
      () => t.json('PUT', `${NS}/pods/p/status`, { ...stored, status: { ...stored.status, ...status } }, AUTH),
      () => t.json('PATCH', `${NS}/pods/p/status`, { status }, AUTH),
      () => t.json('PATCH', `${NS}/pods/p/status?fieldManager=agent`, JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, status }), apply),
      () => t.json('PATCH', `${NS}/pods/fresh?fieldManager=agent`, JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'fresh' }, status }), apply),
    ]
    for (const attempt of attempts) expectRefused(await attempt(), 'status.podIP', '169.254.169.254', LINK_LOCAL)
    expect(await tables(t)).toBe(before)
  })

  it('allows loopback with access control off (local development) or with ALLOW_LOOPBACK_ADDRESSES, and nothing else', async () => {
    const local = await testApp()
    expect((await local.json('POST', `${NS}/pods`, pod('lo', '127.0.0.1'))).status).toBe(201)
    expect((await local.json('POST', `${NS}/pods`, pod('lo6', '::1'))).status).toBe(201)
    expectRefused(await local.json('POST', `${NS}/pods`, pod('md', '169.254.169.254')), 'status.podIP', '169.254.169.254', LINK_LOCAL)

    const allowed = await testApp({ env: { ...ACCESS_CONTROL_ON, ALLOW_LOOPBACK_ADDRESSES: 'true' } })
    expect((await allowed.json('POST', `${NS}/pods`, pod('lo', '127.0.0.1'), AUTH)).status).toBe(201)
    expectRefused(await allowed.json('POST', `${NS}/pods`, pod('un', '0.0.0.0'), AUTH), 'status.podIP', '0.0.0.0', UNSPECIFIED('0.0.0.0'))
  })
})

describe('a register token', () => {
  it('cannot steer clients to a cloud metadata service, itself or the local machine', async () => {
    const t = await testApp({ env: ACCESS_CONTROL_ON })
    const minted = await t.json('POST', '/apis/switchboard.dev/v1/tokens', { metadata: { name: 'agent' }, spec: { role: 'register', namespaces: ['default'] } }, AUTH)
    expect(minted.status).toBe(201)
    const agent = { authorization: `Bearer ${minted.body.status.secret}` }
    expect((await t.json('POST', `${NS}/services`, { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } }, AUTH)).status).toBe(201)
    expect((await t.json('POST', `${NS}/pods`, pod('good', '10.0.0.1'), agent)).status).toBe(201)
    for (const ip of ['169.254.169.254', '0.0.0.0', '127.0.0.1']) {
      expect((await t.json('POST', `${NS}/pods`, pod(`evil-${ip.replace(/\./g, '-')}`, ip), agent)).status).toBe(422)
      expect((await t.json('PATCH', `${NS}/pods/good/status`, { status: { podIP: ip, podIPs: [{ ip }] } }, agent)).status).toBe(422)
    }
    for (let i = 0; i < 10; i++) expect((await t.json('GET', `${NS}/services/web/pick`, undefined, agent)).body.address).toBe('10.0.0.1')
  })
})

describe('user-written endpoint addresses', () => {
  it('refuses them in addresses and notReadyAddresses on create and replace, naming the field, and stores nothing', async () => {
    const t = await testApp({ env: ACCESS_CONTROL_ON })
    expect((await t.json('POST', `${NS}/services`, { metadata: { name: 'ext' }, spec: { ports: [{ port: 80 }] } }, AUTH)).status).toBe(201)
    const before = await tables(t)
    const body = (addresses: string[], notReady: string[] = []) => ({
      metadata: { name: 'ext' },
      subsets: [{ addresses: addresses.map((ip) => ({ ip })), ...(notReady.length ? { notReadyAddresses: notReady.map((ip) => ({ ip })) } : {}), ports: [{ port: 80 }] }],
    })
    for (const [sent, written, detail] of REFUSED) {
      expectRefused(await t.json('POST', `${NS}/endpoints`, body(['10.0.0.1', sent]), AUTH), 'subsets[0].addresses[1].ip', written, detail)
      expectRefused(await t.json('PUT', `${NS}/endpoints/ext`, body(['10.0.0.1'], [sent]), AUTH), 'subsets[0].notReadyAddresses[0].ip', written, detail)
    }
    expect(await tables(t)).toBe(before)
    // In two writes: D1 binds at most 100 variables per statement, which a dozen addresses exceed today.
    expect((await t.json('POST', `${NS}/endpoints`, body(ALLOWED.slice(0, 7)), AUTH)).status).toBe(201)
    expect((await t.json('PUT', `${NS}/endpoints/ext`, body(ALLOWED.slice(7)), AUTH)).status).toBe(200)
    const replaced = await t.json('PUT', `${NS}/endpoints/ext`, body(['10.0.0.2', '169.254.169.254']), AUTH)
    expectRefused(replaced, 'subsets[0].addresses[1].ip', '169.254.169.254', LINK_LOCAL)
  })
})

describe('a pod stored before the rules', () => {
  /** Writes a pod through the store alone, as a registry without the address rules stored it. */
  async function storeUnchecked(t: TestApp, body: ReturnType<typeof pod>) {
    const obj = podStrategy.create(body as never, metaForCreate(body.metadata as never, 'default', t.registry.clock), t.registry.clock)
    await t.registry.store.putPod(podWrite(obj), 'create')
  }

  it('stays, and may change its readiness, but DNS and the pick never hand out its address', async () => {
    const t = await testApp({ env: ACCESS_CONTROL_ON })
    const headless = { metadata: { name: 'h' }, spec: { clusterIP: 'None', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } }
    expect((await t.json('POST', `${NS}/services`, headless, AUTH)).status).toBe(201)
    expect((await t.json('POST', `${NS}/pods`, pod('good', '10.0.0.1'), AUTH)).status).toBe(201)
    await storeUnchecked(t, pod('metadata', '169.254.169.254'))
    await storeUnchecked(t, pod('mapped', '::ffff:169.254.169.254'))

    // Stored and listed, so that it can be seen and fixed, but not ready.
    expect((await t.json('GET', `${NS}/pods/metadata`, undefined, AUTH)).body.status.podIP).toBe('169.254.169.254')
    const eps = (await t.json('GET', `${NS}/endpoints/h`, undefined, AUTH)).body
    expect(eps.subsets[0].addresses.map((a: any) => a.ip)).toEqual(['10.0.0.1'])
    expect(eps.subsets[0].notReadyAddresses.map((a: any) => a.ip).sort()).toEqual(['169.254.169.254', '::ffff:169.254.169.254'])
    // Never answered.
    expect(await dnsA(t, 'h.default.svc.cluster.local', AUTH)).toEqual(['10.0.0.1'])
    const pick = await t.json('GET', `${NS}/services/h/pick?explain=true`, undefined, AUTH)
    expect(pick.body.explain.candidates.map((c: any) => c.pod)).toEqual(['good'])
    const reasons = Object.fromEntries(pick.body.explain.excluded.map((e: any) => [e.pod, e.reason]))
    expect(reasons).toEqual({ metadata: 'UnservableAddress', mapped: 'UnservableAddress' })
    for (let i = 0; i < 20; i++) expect((await t.json('GET', `${NS}/services/h/pick`, undefined, AUTH)).body.pod).toBe('good')

    // Its agent may still report readiness with the address it has, but not move to another refused one.
    const flip = await t.json('PATCH', `${NS}/pods/metadata/status`, { status: { conditions: [{ type: 'Ready', status: 'False' }] } }, AUTH)
    expect(flip.status).toBe(200)
    const moved = await t.json('PATCH', `${NS}/pods/metadata/status`, { status: { podIP: '169.254.0.9', podIPs: [{ ip: '169.254.0.9' }] } }, AUTH)
    expectRefused(moved, 'status.podIP', '169.254.0.9', LINK_LOCAL)
    const fixed = await t.json('PATCH', `${NS}/pods/metadata/status`, { status: { podIP: '10.0.0.9', podIPs: [{ ip: '10.0.0.9' }], conditions: [{ type: 'Ready', status: 'True' }] } }, AUTH)
    expect(fixed.status).toBe(200)
    expect((await dnsA(t, 'h.default.svc.cluster.local', AUTH)).sort()).toEqual(['10.0.0.1', '10.0.0.9'])
    expect((await t.json('DELETE', `${NS}/pods/mapped`, undefined, AUTH)).status).toBe(200)
  })
})

describe('addresses stored before the rules, read under the current policy', () => {
  async function storeUnchecked(t: TestApp, body: ReturnType<typeof pod>) {
    const obj = podStrategy.create(body as never, metaForCreate(body.metadata as never, 'default', t.registry.clock), t.registry.clock)
    await t.registry.store.putPod(podWrite(obj), 'create')
  }

  /** A selector service `web` with pods at a metadata, a loopback and an ordinary address, stored without the address rules. */
  async function upgraded(env: Record<string, string>, headers: Record<string, string>) {
    const t = await testApp({ env })
    const web = { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } }
    expect((await t.json('POST', `${NS}/services`, web, headers)).status).toBe(201)
    await storeUnchecked(t, pod('metadata', '169.254.169.254'))
    await storeUnchecked(t, pod('loopback', '127.0.0.1'))
    await storeUnchecked(t, pod('good', '10.0.0.9'))
    return t
  }

  function sdkOn(t: TestApp, token?: string) {
    return new Switchboard({ baseUrl: 'http://registry.test', ...(token ? { token } : {}), fetch: (input, init) => Promise.resolve(t.app.fetch(new Request(input, init))) })
  }

  it('with access control on, loopback and link-local endpoints are not ready anywhere: slices, Endpoints, the pick, DNS and the SDK', async () => {
    const t = await upgraded(ACCESS_CONTROL_ON, AUTH)
    const slices = (await t.json('GET', `/apis/discovery.k8s.io/v1/namespaces/default/endpointslices`, undefined, AUTH)).body.items
    const conditions = Object.fromEntries(slices.flatMap((s: any) => s.endpoints).map((e: any) => [e.addresses[0], e.conditions]))
    expect(conditions).toEqual({
      '10.0.0.9': { ready: true, serving: true, terminating: false },
      '127.0.0.1': { ready: false, serving: false, terminating: false },
      '169.254.169.254': { ready: false, serving: false, terminating: false },
    })
    const eps = (await t.json('GET', `${NS}/endpoints/web`, undefined, AUTH)).body
    expect(eps.subsets[0].addresses.map((a: any) => a.ip)).toEqual(['10.0.0.9'])
    expect(eps.subsets[0].notReadyAddresses.map((a: any) => a.ip)).toEqual(['127.0.0.1', '169.254.169.254'])
    const pick = await t.json('GET', `${NS}/services/web/pick?explain=true`, undefined, AUTH)
    expect(Object.fromEntries(pick.body.explain.excluded.map((e: any) => [e.pod, e.reason]))).toEqual({ metadata: 'UnservableAddress', loopback: 'UnservableAddress' })
    for (let i = 0; i < 20; i++) expect((await t.json('GET', `${NS}/services/web/pick`, undefined, AUTH)).body.address).toBe('10.0.0.9')
    const headless = { metadata: { name: 'h' }, spec: { clusterIP: 'None', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } }
    expect((await t.json('POST', `${NS}/services`, headless, AUTH)).status).toBe(201)
    expect(await dnsA(t, 'h.default.svc.cluster.local', AUTH)).toEqual(['10.0.0.9'])
    expect((await sdkOn(t, TOKEN).lookup('web')).map((e) => e.address)).toEqual(['10.0.0.9'])
  })

  it('with ALLOW_LOOPBACK_ADDRESSES or access control off, the stored loopback endpoint is served and the link-local one still is not', async () => {
    for (const [env, headers] of [[{ ...ACCESS_CONTROL_ON, ALLOW_LOOPBACK_ADDRESSES: 'true' }, AUTH], [{}, {}]] as const) {
      const t = await upgraded(env, headers)
      const eps = (await t.json('GET', `${NS}/endpoints/web`, undefined, headers)).body
      expect(eps.subsets[0].addresses.map((a: any) => a.ip)).toEqual(['10.0.0.9', '127.0.0.1'])
      expect(eps.subsets[0].notReadyAddresses.map((a: any) => a.ip)).toEqual(['169.254.169.254'])
      const picked = new Set<string>()
      for (let i = 0; i < 10; i++) picked.add((await t.json('GET', `${NS}/services/web/pick`, undefined, headers)).body.address)
      expect([...picked].sort()).toEqual(['10.0.0.9', '127.0.0.1'])
      const token = 'authorization' in headers ? TOKEN : undefined
      expect((await sdkOn(t, token).lookup('web')).map((e) => e.address).sort()).toEqual(['10.0.0.9', '127.0.0.1'])
    }
  })

  it('user-written Endpoints stored before the rules list the address as not ready, and the pick and the mirrored slice agree', async () => {
    const t = await testApp({ env: ACCESS_CONTROL_ON })
    expect((await t.json('POST', `${NS}/services`, { metadata: { name: 'ext' }, spec: { ports: [{ port: 80 }] } }, AUTH)).status).toBe(201)
    const ep: EndpointsObject = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: metaForCreate({ name: 'ext' } as never, 'default', t.registry.clock) as EndpointsObject['metadata'],
      subsets: [{ addresses: [{ ip: '10.0.0.3', weight: 1 }, { ip: '169.254.169.254', weight: 1 }, { ip: '127.0.0.1', weight: 1 }], ports: [{ port: 80, protocol: 'TCP' }] }],
    }
    await t.registry.store.putUserEndpoints(
      { namespace: 'default', name: 'ext', uid: ep.metadata.uid, body: ep as unknown as Record<string, unknown>, rows: userEndpointRows(ep) },
      'create',
    )
    const eps = (await t.json('GET', `${NS}/endpoints/ext`, undefined, AUTH)).body
    expect(eps.subsets).toEqual([
      { addresses: [{ ip: '10.0.0.3', weight: 1 }], notReadyAddresses: [{ ip: '169.254.169.254', weight: 1 }, { ip: '127.0.0.1', weight: 1 }], ports: [{ port: 80, protocol: 'TCP' }] },
    ])
    const slices = (await t.json('GET', `/apis/discovery.k8s.io/v1/namespaces/default/endpointslices`, undefined, AUTH)).body.items
    const ready = Object.fromEntries(slices.flatMap((s: any) => s.endpoints).map((e: any) => [e.addresses[0], e.conditions.ready]))
    expect(ready).toEqual({ '10.0.0.3': true, '127.0.0.1': false, '169.254.169.254': false })
    for (let i = 0; i < 10; i++) expect((await t.json('GET', `${NS}/services/ext/pick`, undefined, AUTH)).body.address).toBe('10.0.0.3')
    expect((await sdkOn(t, TOKEN).lookup('ext')).map((e) => e.address)).toEqual(['10.0.0.3'])
  })
})
