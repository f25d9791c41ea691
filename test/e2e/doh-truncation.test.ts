/**
 * An independent client reads a truncated answer: dnspython (test/e2e/doh_client.py) asks
 * the real server (`npm start`) over GET and POST, with and without EDNS, for an SRV answer
 * larger than a DNS message, and finds TC set and exactly the records that fit in 65,535
 * octets (less the OPT record when the query has EDNS: its UDP size does not apply over
 * HTTPS).
 *
 * Needs Debian's python3-dnspython and python3-httpx, as test/e2e/doh-client.test.ts does.
 */
import { spawnSync } from 'node:child_process'
import { beforeAll, describe, expect, it } from 'vitest'
import { useServer } from '../support/server'
import { E2E_TOKEN, authHeaders } from '../support/auth'

const PYTHON = '/usr/bin/python3'
const CLIENT = new URL('./doh_client.py', import.meta.url).pathname
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

interface Result {
  error?: string
  rcode: string
  flags: string[]
  edns: number
  answer: { type: string; data: string }[]
  additional: unknown[]
}

let results: Result[] = []
const QUERIES = [
  { method: 'GET', edns: false },
  { method: 'POST', edns: false },
  { method: 'GET', edns: true },
  { method: 'POST', edns: true },
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
  const probe = spawnSync(PYTHON, ['-c', 'import dns.query, dns.message, httpx'], { encoding: 'utf8' })
  if (probe.status !== 0) {
    throw new Error(`the DoH client needs dnspython and httpx for ${PYTHON} (Debian: apt-get install python3-dnspython python3-httpx, as .ci/run does)`)
  }
  const url = `${server.url}/dns-query/${E2E_TOKEN}`
  const queries = QUERIES.map((q) => ({ name: NAME, type: 'SRV', ...q }))
  const run = spawnSync(PYTHON, [CLIENT, url], { input: JSON.stringify(queries), encoding: 'utf8', timeout: 60_000 })
  if (run.status !== 0) throw new Error(`doh_client.py exited ${run.status}: ${run.stderr}`)
  results = JSON.parse(run.stdout) as Result[]
}, 120_000)

describe('dnspython reads an SRV answer larger than a DNS message', () => {
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
