/**
 * Independent clients read a truncated answer: dns-packet over fetch (npm, always) and
 * dnspython (test/e2e/doh_client.py; skipped, saying so, without Debian's
 * python3-dnspython and python3-httpx) ask the real server (`npm start`) over GET and
 * POST, with and without EDNS, for an SRV answer larger than a DNS message, and find TC
 * set and exactly the records that fit in 65,535 octets (less the OPT record when the
 * query has EDNS: its UDP size does not apply over HTTPS).
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { useServer } from '../support/server'
import { E2E_TOKEN, authHeaders } from '../support/auth'
import { dohClients, type DohQuery, type DohResult } from '../support/doh-clients'


const NS = '/api/v1/namespaces/default'
const NAME = 'big.default.svc.cluster.local'
const PORTS = Array.from({ length: 10 }, (_, i) => ({ name: `p${i}`, port: 8000 + i, targetPort: `p${i}` }))
const hostname = (i: number) => `h${String(i).padStart(3, '0')}-${'y'.repeat(58)}`
/** Each SRV record: a pointer to the question, type, class, TTL, rdlength, priority, weight, port, and its target in full (RFC 2782). */
const SRV_OCTETS = 2 + 10 + 6 + `${hostname(0)}.${NAME}`.length + 2
const room = (opt: number) => 65535 - 12 - (NAME.length + 2) - 4 - opt
const FIT = Math.floor(room(0) / SRV_OCTETS)
const FIT_EDNS = Math.floor(room(11) / SRV_OCTETS)
const PODS = Math.ceil((FIT + 1) / PORTS.length)

const server = useServer()

async function api(method: string, path: string, body: unknown): Promise<number> {
  const res = await fetch(`${server.url}${path}`, { method, headers: authHeaders({ 'content-type': 'application/json' }), body: JSON.stringify(body) })
  await res.arrayBuffer()
  return res.status
}

const QUERIES: DohQuery[] = [
  { name: NAME, type: 'SRV', method: 'GET', edns: false },
  { name: NAME, type: 'SRV', method: 'POST', edns: false },
  { name: NAME, type: 'SRV', method: 'GET', edns: true },
  { name: NAME, type: 'SRV', method: 'POST', edns: true },
]

beforeAll(async () => {
  expect(await api('POST', `${NS}/services`, { metadata: { name: 'big' }, spec: { clusterIP: 'None', selector: { app: 'big' }, ports: PORTS } })).toBe(201)
  const statuses = await Promise.all(
    Array.from({ length: PODS }, (_, i) =>
      api('POST', `${NS}/pods`, {
        metadata: { name: `big-${i}`, labels: { app: 'big' } },
        spec: { hostname: hostname(i), subdomain: 'big', containers: [{ name: 'app', ports: PORTS.map((p) => ({ name: p.name, containerPort: p.port })) }] },
        status: { podIP: `10.77.0.${i + 1}`, conditions: [{ type: 'Ready', status: 'True' }] },
      }),
    ),
  )
  expect(statuses.filter((s) => s !== 201)).toEqual([])
}, 120_000)

const CLIENTS = dohClients('DoH truncation tests')

for (const client of CLIENTS) {
  describe.skipIf(client.skip)(`${client.name} reads an SRV answer larger than a DNS message`, () => {
    let results: DohResult[] = []
    beforeAll(async () => {
      results = await client.run(`${server.url}/dns-query/${E2E_TOKEN}`, QUERIES)
    }, 60_000)

    it.each(QUERIES.map((q, i) => ({ i, label: `${q.method}${q.edns ? ' with EDNS' : ''}` })))('$label', ({ i }) => {
      const r = results[i]!
      expect(r.error).toBeUndefined()
      expect(r.rcode).toBe('NOERROR')
      expect(r.flags).toContain('TC')
      expect(r.flags).toContain('AA')
      expect(PODS * PORTS.length).toBeGreaterThan(FIT)
      expect(r.answer.length).toBe(QUERIES[i]!.edns ? FIT_EDNS : FIT)
      expect(r.answer.every((a) => a.type === 'SRV' && /^0 1 80\d\d h\d{3}-y{58}\.big\.default\.svc\.cluster\.local\.$/.test(a.data))).toBe(true)
      expect(r.additional).toEqual([])
      expect(r.edns).toBe(QUERIES[i]!.edns ? 0 : -1)
    })
  })
}
