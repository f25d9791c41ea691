/**
 * Independent clients agree: the real server (`npm start`) is queried over GET and POST,
 * for every record kind the registry serves, positive and negative, by two DoH clients
 * whose wire codecs and HTTP stacks share nothing with the server's
 * (test/support/doh-clients.ts):
 *
 * - dns-packet over Node's fetch, from npm: always runs
 * - dnspython (test/e2e/doh_client.py): needs Debian's python3-dnspython and
 *   python3-httpx (.ci/run installs them; SWITCHBOARD_TEST_PYTHON names another python3);
 *   without them its tests are skipped and the run says so
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type ServerProcess } from '../support/server'
import { E2E_TOKEN, authHeaders } from '../support/auth'
import { dohClients, type DohQuery, type DohResult as Result, type Rec } from '../support/doh-clients'


const NS = '/api/v1/namespaces/default'
const Z = 'cluster.local'
/** The ClusterIPs requested for the seeded services (lower band: requested IPs only). */
const IP4 = '10.96.0.10'
const IP6 = 'fd00:96::a'
const V6_RANGE = 'fd00:96::/108'
const METHODS = ['GET', 'POST'] as const

type Zone = typeof Z | 'in-addr.arpa' | 'ip6.arpa'

interface Case {
  kind: string
  name: string
  type: string
  /** The IPv6-only server instead of the IPv4 one. */
  v6?: boolean
  edns?: boolean
  rcode: 'NOERROR' | 'NXDOMAIN' | 'REFUSED'
  /** Answer records as `owner ttl TYPE data`; compared in order when `ordered`. */
  answer?: string[]
  ordered?: boolean
  additional?: string[]
  /** The zone whose SOA the authority section must hold (negative answers). */
  soa?: Zone
}

const svc = (name: string) => `${name}.default.svc.${Z}`
const rec = (owner: string, type: string, data: string, ttl = 5) => `${owner}. ${ttl} ${type} ${data}`
const a = (owner: string, ip: string) => rec(owner, 'A', ip)
const aaaa = (owner: string, ip: string) => rec(owner, 'AAAA', ip)
const srv = (owner: string, weight: number, port: number, target: string) => rec(owner, 'SRV', `0 ${weight} ${port} ${target}.`)
const ptr = (owner: string, target: string) => rec(owner, 'PTR', `${target}.`)
const cname = (owner: string, target: string) => rec(owner, 'CNAME', `${target}.`)
const nodata = (kind: string, name: string, type: string, soa: Zone = Z, v6 = false): Case => ({ kind, name, type, rcode: 'NOERROR', soa, v6 })
const nx = (kind: string, name: string, type: string, soa: Zone = Z): Case => ({ kind, name, type, rcode: 'NXDOMAIN', soa })
/** The 32-nibble ip6.arpa name of an address written with one `::`. */
function rev6(ip: string): string {
  const [head, tail] = ip.split('::') as [string, string?]
  const h = head ? head.split(':') : []
  const t = tail ? tail.split(':') : []
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t]
  const hex = groups.map((g) => g.padStart(4, '0')).join('')
  return `${[...hex].reverse().join('.')}.ip6.arpa`
}

const CASES: Case[] = [
  // dns-version
  { kind: 'dns-version TXT', name: `dns-version.${Z}`, type: 'TXT', rcode: 'NOERROR', answer: [rec(`dns-version.${Z}`, 'TXT', '"1.1.0"', 28800)] },
  nodata('dns-version TXT', `dns-version.${Z}`, 'A'),

  // ClusterIP A / AAAA
  { kind: 'ClusterIP A/AAAA', name: svc('web'), type: 'A', rcode: 'NOERROR', answer: [a(svc('web'), IP4)] },
  { kind: 'ClusterIP A/AAAA', name: 'WeB.DeFault.SVC.Cluster.LOCAL', type: 'A', rcode: 'NOERROR', answer: [a('WeB.DeFault.SVC.Cluster.LOCAL', IP4)] },
  { kind: 'ClusterIP A/AAAA', name: svc('web'), type: 'A', edns: true, rcode: 'NOERROR', answer: [a(svc('web'), IP4)] },
  nodata('ClusterIP A/AAAA', svc('web'), 'AAAA'),
  { kind: 'ClusterIP A/AAAA', name: svc('web6'), type: 'AAAA', v6: true, rcode: 'NOERROR', answer: [aaaa(svc('web6'), IP6)] },
  nodata('ClusterIP A/AAAA', svc('web6'), 'A', Z, true),

  // headless A / AAAA: ready, non-drained endpoints only
  { kind: 'headless A/AAAA', name: svc('db'), type: 'A', rcode: 'NOERROR', answer: [a(svc('db'), '10.2.0.1'), a(svc('db'), '10.2.0.2')] },
  { kind: 'headless A/AAAA', name: svc('db'), type: 'AAAA', rcode: 'NOERROR', answer: [aaaa(svc('db'), 'fd00::1')] },
  { kind: 'headless A/AAAA', name: svc('cache'), type: 'A', rcode: 'NOERROR', answer: [a(svc('cache'), '10.3.0.1')] },
  nodata('headless A/AAAA', svc('cache'), 'AAAA'),
  nx('headless A/AAAA', svc('empty'), 'A'),
  nx('headless A/AAAA', svc('empty'), 'AAAA'),

  // hostname records
  { kind: 'hostname A/AAAA', name: `db-0.${svc('db')}`, type: 'A', rcode: 'NOERROR', answer: [a(`db-0.${svc('db')}`, '10.2.0.1')] },
  { kind: 'hostname A/AAAA', name: `db-0.${svc('db')}`, type: 'AAAA', rcode: 'NOERROR', answer: [aaaa(`db-0.${svc('db')}`, 'fd00::1')] },
  { kind: 'hostname A/AAAA', name: `10-2-0-2.${svc('db')}`, type: 'A', rcode: 'NOERROR', answer: [a(`10-2-0-2.${svc('db')}`, '10.2.0.2')] },
  nodata('hostname A/AAAA', `10-2-0-2.${svc('db')}`, 'AAAA'),
  nx('hostname A/AAAA', `10-2-0-3.${svc('db')}`, 'A'), // not ready
  nx('hostname A/AAAA', `10-2-0-4.${svc('db')}`, 'A'), // weight 0
  nx('hostname A/AAAA', `nobody.${svc('db')}`, 'A'),

  // SRV
  {
    kind: 'SRV',
    name: `_http._tcp.${svc('web')}`,
    type: 'SRV',
    rcode: 'NOERROR',
    answer: [srv(`_http._tcp.${svc('web')}`, 100, 80, svc('web'))],
    additional: [a(svc('web'), IP4)],
  },
  {
    kind: 'SRV',
    name: `_dns._udp.${svc('web')}`,
    type: 'SRV',
    rcode: 'NOERROR',
    answer: [srv(`_dns._udp.${svc('web')}`, 100, 53, svc('web'))],
    additional: [a(svc('web'), IP4)],
  },
  {
    kind: 'SRV',
    name: svc('web'),
    type: 'SRV',
    rcode: 'NOERROR',
    answer: [srv(svc('web'), 100, 53, svc('web')), srv(svc('web'), 100, 80, svc('web'))],
    additional: [a(svc('web'), IP4)],
  },
  {
    kind: 'SRV',
    name: `_http._tcp.${svc('web6')}`,
    type: 'SRV',
    v6: true,
    rcode: 'NOERROR',
    answer: [srv(`_http._tcp.${svc('web6')}`, 100, 80, svc('web6'))],
    additional: [aaaa(svc('web6'), IP6)],
  },
  {
    kind: 'SRV',
    name: `_pg._tcp.${svc('db')}`,
    type: 'SRV',
    rcode: 'NOERROR',
    answer: [srv(`_pg._tcp.${svc('db')}`, 1, 5433, `10-2-0-2.${svc('db')}`), srv(`_pg._tcp.${svc('db')}`, 3, 5433, `db-0.${svc('db')}`)],
    additional: [a(`10-2-0-2.${svc('db')}`, '10.2.0.2'), a(`db-0.${svc('db')}`, '10.2.0.1'), aaaa(`db-0.${svc('db')}`, 'fd00::1')],
  },
  nodata('SRV', `_pg._tcp.${svc('db')}`, 'A'),
  nx('SRV', `_dns._tcp.${svc('web')}`, 'SRV'),
  nx('SRV', `_nope._tcp.${svc('web')}`, 'SRV'),
  nx('SRV', `_http._tcp.${svc('db')}`, 'SRV'),
  nx('SRV', `_pg._tcp.${svc('empty')}`, 'SRV'),

  // PTR
  { kind: 'PTR', name: '10.0.96.10.in-addr.arpa', type: 'PTR', rcode: 'NOERROR', answer: [ptr('10.0.96.10.in-addr.arpa', svc('web'))] },
  { kind: 'PTR', name: '1.0.2.10.in-addr.arpa', type: 'PTR', rcode: 'NOERROR', answer: [ptr('1.0.2.10.in-addr.arpa', `db-0.${svc('db')}`)] },
  { kind: 'PTR', name: '2.0.2.10.in-addr.arpa', type: 'PTR', rcode: 'NOERROR', answer: [ptr('2.0.2.10.in-addr.arpa', `10-2-0-2.${svc('db')}`)] },
  { kind: 'PTR', name: rev6('fd00::1'), type: 'PTR', rcode: 'NOERROR', answer: [ptr(rev6('fd00::1'), `db-0.${svc('db')}`)] },
  { kind: 'PTR', name: rev6(IP6), type: 'PTR', v6: true, rcode: 'NOERROR', answer: [ptr(rev6(IP6), svc('web6'))] },
  nodata('PTR', '10.0.96.10.in-addr.arpa', 'A', 'in-addr.arpa'),
  nx('PTR', '3.0.2.10.in-addr.arpa', 'PTR', 'in-addr.arpa'), // not ready
  nx('PTR', '4.0.2.10.in-addr.arpa', 'PTR', 'in-addr.arpa'), // weight 0
  nx('PTR', '99.0.2.10.in-addr.arpa', 'PTR', 'in-addr.arpa'),
  nx('PTR', rev6('fd00::2'), 'PTR', 'ip6.arpa'),

  // ExternalName
  { kind: 'CNAME', name: svc('ext'), type: 'A', rcode: 'NOERROR', answer: [cname(svc('ext'), 'www.example.com')] },
  { kind: 'CNAME', name: svc('ext'), type: 'AAAA', rcode: 'NOERROR', answer: [cname(svc('ext'), 'www.example.com')] },
  { kind: 'CNAME', name: svc('ext'), type: 'CNAME', rcode: 'NOERROR', answer: [cname(svc('ext'), 'www.example.com')] },
  nodata('CNAME', svc('ext'), 'SRV'),
  {
    kind: 'CNAME',
    name: svc('alias'),
    type: 'A',
    rcode: 'NOERROR',
    ordered: true,
    answer: [cname(svc('alias'), svc('web')), a(svc('web'), IP4)],
  },
  { kind: 'CNAME', name: svc('alias'), type: 'AAAA', rcode: 'NOERROR', answer: [cname(svc('alias'), svc('web'))], soa: Z },
  { kind: 'CNAME', name: svc('dangling'), type: 'A', rcode: 'NXDOMAIN', answer: [cname(svc('dangling'), svc('nope'))], soa: Z },

  // the zone apex and ANY (RFC 8482)
  {
    kind: 'apex and ANY',
    name: Z,
    type: 'SOA',
    rcode: 'NOERROR',
    answer: [rec(Z, 'SOA', `ns.dns.${Z}. hostmaster.${Z}. RV 7200 1800 86400 5`)],
  },
  { kind: 'apex and ANY', name: Z, type: 'NS', rcode: 'NOERROR', answer: [rec(Z, 'NS', `ns.dns.${Z}.`)] },
  { kind: 'apex and ANY', name: svc('web'), type: 'ANY', rcode: 'NOERROR', answer: [rec(svc('web'), 'HINFO', '"RFC8482" ""')] },

  // NXDOMAIN and NODATA
  nx('NXDOMAIN', svc('nope'), 'A'), // unknown service
  nx('NXDOMAIN', 'web.nowhere.svc.cluster.local', 'A'), // unknown namespace
  nx('NXDOMAIN', 'nowhere.svc.cluster.local', 'A'),
  nx('NXDOMAIN', `_nope._udp.${svc('web')}`, 'SRV'), // unknown port
  nx('NXDOMAIN', `foo.${Z}`, 'A'),
  nx('NXDOMAIN', `10-2-0-1.default.pod.${Z}`, 'A'),
  nx('NXDOMAIN', `a.b.c.${svc('web')}`, 'A'),
  nodata('NODATA', `default.svc.${Z}`, 'A'),
  nodata('NODATA', `svc.${Z}`, 'A'),
  nodata('NODATA', Z, 'A'),
  nodata('NODATA', svc('web'), 'TXT'),
  nodata('NODATA', svc('web'), 'MX'),

  // outside the zone
  { kind: 'REFUSED', name: 'example.com', type: 'A', rcode: 'REFUSED' },
  { kind: 'REFUSED', name: 'www.example.com', type: 'AAAA', rcode: 'REFUSED' },
  { kind: 'REFUSED', name: 'local', type: 'A', rcode: 'REFUSED' },
  { kind: 'REFUSED', name: `cluster.local.example.com`, type: 'A', rcode: 'REFUSED' },
]

const servers: ServerProcess[] = []
let v4: ServerProcess
let v6: ServerProcess
const serials = { v4: 0, v6: 0 }
let setupError: Error | null = null

const key = (c: Case, method: string) => `${method} ${c.v6 ? 'v6' : 'v4'} ${c.name} ${c.type}${c.edns ? ' edns' : ''}`
async function api(server: ServerProcess, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: authHeaders({ 'content-type': 'application/json' }),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const json = await res.json()
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`)
  return json
}

function pod(name: string, ips: string[], app: string, extra: { hostname?: string; weight?: string; ready?: boolean } = {}) {
  return {
    metadata: { name, labels: { app }, ...(extra.weight ? { annotations: { 'switchboard.dev/weight': extra.weight } } : {}) },
    spec: {
      ...(extra.hostname ? { hostname: extra.hostname, subdomain: app } : {}),
      containers: [{ name: 'app', ports: [{ name: 'http', containerPort: 8080 }, { name: 'pg', containerPort: 5433 }] }],
    },
    status: {
      podIPs: ips.map((ip) => ({ ip })),
      conditions: [{ type: 'Ready', status: extra.ready === false ? 'False' : 'True' }],
    },
  }
}

async function seed(): Promise<void> {
  const ports = [
    { name: 'http', port: 80, targetPort: 'http' },
    { name: 'dns', port: 53, protocol: 'UDP' },
  ]
  await api(v4, 'POST', `${NS}/services`, { metadata: { name: 'web' }, spec: { clusterIP: IP4, selector: { app: 'web' }, ports } })
  await api(v4, 'POST', `${NS}/services`, {
    metadata: { name: 'db' },
    spec: { clusterIP: 'None', selector: { app: 'db' }, ports: [{ name: 'pg', port: 5432, targetPort: 'pg' }] },
  })
  await api(v4, 'POST', `${NS}/services`, {
    metadata: { name: 'cache' },
    spec: { clusterIP: 'None', selector: { app: 'cache' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
  })
  await api(v4, 'POST', `${NS}/services`, { metadata: { name: 'empty' }, spec: { clusterIP: 'None', selector: { app: 'none' } } })
  await api(v4, 'POST', `${NS}/services`, { metadata: { name: 'ext' }, spec: { type: 'ExternalName', externalName: 'www.example.com' } })
  await api(v4, 'POST', `${NS}/services`, { metadata: { name: 'alias' }, spec: { type: 'ExternalName', externalName: svc('web') } })
  await api(v4, 'POST', `${NS}/services`, { metadata: { name: 'dangling' }, spec: { type: 'ExternalName', externalName: svc('nope') } })
  for (const body of [
    pod('web-1', ['10.1.0.1'], 'web'),
    pod('db-0', ['10.2.0.1', 'fd00::1'], 'db', { hostname: 'db-0', weight: '3' }),
    pod('db-1', ['10.2.0.2'], 'db', { weight: '1' }),
    pod('db-2', ['10.2.0.3'], 'db', { ready: false }),
    pod('db-3', ['10.2.0.4'], 'db', { weight: '0' }),
    pod('cache-1', ['10.3.0.1'], 'cache'),
  ]) {
    await api(v4, 'POST', `${NS}/pods`, body)
  }
  await api(v6, 'POST', `${NS}/services`, { metadata: { name: 'web6' }, spec: { clusterIP: IP6, selector: { app: 'web' }, ports } })
  await api(v6, 'POST', `${NS}/pods`, pod('web-1', ['fd00:1::1'], 'web'))
  serials.v4 = Number((await api(v4, 'GET', '/api/v1/namespaces')).metadata.resourceVersion)
  serials.v6 = Number((await api(v6, 'GET', '/api/v1/namespaces')).metadata.resourceVersion)
}

const PLAN = CASES.flatMap((c) => METHODS.map((method) => ({ c, method })))

/** Every case over GET and POST through one client; its results by case and method. */
async function ask(client: (url: string, queries: DohQuery[]) => Result[] | Promise<Result[]>): Promise<{ results: Map<string, Result>; ms: number }> {
  const queries = PLAN.map(({ c, method }): DohQuery => ({ name: c.name, type: c.type, method, url: `${c.v6 ? v6.url : v4.url}/dns-query/${E2E_TOKEN}`, edns: !!c.edns }))
  const started = performance.now()
  const out = await client(`${v4.url}/dns-query/${E2E_TOKEN}`, queries)
  const ms = performance.now() - started
  const results = new Map<string, Result>()
  PLAN.forEach(({ c, method }, i) => results.set(key(c, method), out[i]!))
  return { results, ms }
}

beforeAll(async () => {
  try {
    const started = await Promise.allSettled([startServer(), startServer({ env: { SERVICE_CLUSTER_IP_RANGE: V6_RANGE } })])
    for (const s of started) if (s.status === 'fulfilled') servers.push(s.value)
    for (const s of started) if (s.status === 'rejected') throw s.reason
    v4 = servers[0]!
    v6 = servers[1]!
    await seed()
  } catch (e) {
    setupError = e as Error
  }
}, 90_000)

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop('SIGKILL')))
})

const strings = (recs: Rec[]) => recs.map((r) => `${r.name} ${r.ttl} ${r.type} ${r.data}`)

function check(c: Case, r: Result | undefined): void {
  const label = `${r?.query.method} ${c.name} ${c.type}`
  expect(r, label).toBeDefined()
  expect(r!.error, label).toBeUndefined()
  expect(r!.idMatches, label).toBe(true)
  expect(r!.rcode, label).toBe(c.rcode)
  expect(r!.flags, label).toContain('QR')
  expect(r!.edns, label).toBe(c.edns ? 0 : -1)
  const serial = c.v6 ? serials.v6 : serials.v4
  const answer = (c.answer ?? []).map((s) => s.replace(' RV ', ` ${serial} `))
  if (c.ordered) expect(strings(r!.answer), label).toEqual(answer)
  else expect(strings(r!.answer).sort(), label).toEqual([...answer].sort())
  expect(strings(r!.additional).sort(), label).toEqual([...(c.additional ?? [])].sort())
  if (c.rcode === 'REFUSED') {
    expect(r!.flags, label).not.toContain('AA')
    expect(r!.authority, label).toEqual([])
    return
  }
  expect(r!.flags, label).toContain('AA')
  if (c.soa) {
    expect(strings(r!.authority), label).toEqual([
      `${c.soa}. 5 SOA ns.dns.${Z}. hostmaster.${Z}. ${serial} 7200 1800 86400 5`,
    ])
    expect(r!.soaSerial, label).toBe(serial)
  } else {
    expect(r!.authority, label).toEqual([])
  }
}

const CLIENTS = dohClients('DoH tests')

for (const client of CLIENTS) {
  describe.skipIf(client.skip)(`${client.name} (DoH over GET and POST) against the real server`, () => {
    let results = new Map<string, Result>()
    beforeAll(async () => {
      if (setupError) return
      const run = await ask(client.run)
      results = run.results
      console.log(`${client.name}: ${results.size} queries in ${Math.round(run.ms)} ms`)
    }, 90_000)

    it('ran every query through the independent client', () => {
      if (setupError) throw setupError
      expect(results.size).toBe(CASES.length * METHODS.length)
    })

    for (const kind of [...new Set(CASES.map((c) => c.kind))]) {
      describe(kind, () => {
        for (const c of CASES.filter((x) => x.kind === kind)) {
          it(`${c.type} ${c.name}${c.v6 ? ' (IPv6 server)' : ''}${c.edns ? ' with EDNS' : ''} → ${c.rcode}${c.soa && c.rcode === 'NOERROR' && !c.answer ? ' (NODATA)' : ''}`, () => {
            if (setupError) throw setupError
            const get = results.get(key(c, 'GET'))
            const post = results.get(key(c, 'POST'))
            check(c, get)
            check(c, post)
            expect({ ...post, query: null }).toEqual({ ...get, query: null })
          })
        }
      })
    }
  })
}
