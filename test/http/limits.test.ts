/**
 * The registry's size limits (worker/registry/limits.ts, README "Limits"), generated for
 * every write route and every list query: a valid body exactly at a limit is accepted,
 * and the same body one item beyond it is a 4xx Status naming the field, sent as a
 * create, a replace and each kind of patch (merge, JSON, strategic merge, apply), with
 * the database exactly as it was. Then each request the issue found answering 500 with
 * valid-sized input, sent as it was sent.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { KINDS } from '../../worker/registry/kinds'
import {
  MAX_CONTAINERS,
  MAX_CONTAINER_PORTS,
  MAX_ENDPOINTS_ADDRESSES,
  MAX_FIELD_SELECTOR_TERMS,
  MAX_GRACE_PERIOD_SECONDS,
  MAX_INT32,
  MAX_LABELS,
  MAX_OBJECT_BYTES,
  MAX_POD_CONDITIONS,
  MAX_POD_PORTS,
  MAX_SELECTOR_REQUIREMENTS,
  MAX_SELECTOR_VALUES,
  MAX_SERVICE_PORTS,
  MAX_SUBSET_ADDRESSES,
} from '../../worker/registry/limits'
import { ANNOTATIONS_MAX_BYTES } from '../../worker/registry/validation'
import { SQLiteSyncDialect } from 'drizzle-orm/sqlite-core'
import { manualEndpoints } from '../../worker/db/endpoint-rows'
import { buildUserEndpoints, userEndpointRows } from '../../worker/registry/user-endpoints'
import { testApp, type TestApp } from '../support/app'
import { dumpTables } from '../support/db'

type Json = any

interface Resource {
  /** The collection path. */
  path: string
  apiVersion: string
  kind: string
  /** The seeded object's name (replaced and patched). */
  seeded: string
  /** A valid object of this name. */
  template: (name: string) => Json
  /** False when the resource takes no PATCH (user-written Endpoints: PUT only). */
  patch?: false
}

const NS = '/api/v1/namespaces/default'
const ip = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`

const RESOURCES = {
  namespace: {
    path: '/api/v1/namespaces',
    apiVersion: 'v1',
    kind: 'Namespace',
    seeded: 'team-a',
    template: (name) => ({ metadata: { name } }),
  },
  service: {
    path: `${NS}/services`,
    apiVersion: 'v1',
    kind: 'Service',
    seeded: 'web',
    template: (name) => ({ metadata: { name }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80 }] } }),
  },
  pod: {
    path: `${NS}/pods`,
    apiVersion: 'v1',
    kind: 'Pod',
    seeded: 'web-1',
    template: (name) => ({
      metadata: { name, labels: { app: 'web' } },
      spec: { containers: [{ name: 'app', ports: [{ name: 'http', containerPort: 8080 }] }] },
      status: { podIP: '10.244.0.5', conditions: [{ type: 'Ready', status: 'True' }] },
    }),
  },
  endpoints: {
    path: `${NS}/endpoints`,
    apiVersion: 'v1',
    kind: 'Endpoints',
    seeded: 'manual',
    patch: false,
    template: (name) => ({ metadata: { name }, subsets: [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 80 }] }] }),
  },
  lease: {
    path: '/apis/coordination.k8s.io/v1/namespaces/default/leases',
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    seeded: 'agent',
    template: (name) => ({ metadata: { name }, spec: { holderIdentity: 'agent-1', leaseDurationSeconds: 30 } }),
  },
} satisfies Record<string, Resource>

/** One limit: a valid object of a resource with `n` of the limited things, `at` the most allowed. */
interface Limit {
  name: string
  resource: Resource
  at: number
  field: string
  with: (obj: Json, n: number) => Json
}

const labels = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`l${i}`, 'v']))
const withLabels = (obj: Json, n: number) => ({ ...obj, metadata: { ...obj.metadata, labels: labels(n) } })
const containers = (...ports: number[]) => ports.map((count, c) => ({ name: `c${c}`, ports: Array.from({ length: count }, (_, i) => ({ name: `p${c}x${i}`, containerPort: i + 1 })) }))

/** `n` addresses in subsets of the most addresses each, every subset with the most ports, named at the longest (63). */
function maximalSubsets(n: number, fill: (i: number) => Json = (i) => ({ ip: ip(i) })): Json[] {
  const subsets: Json[] = []
  for (let start = 0; start < n; start += MAX_SUBSET_ADDRESSES) {
    const s: number = subsets.length
    const ports: Json[] = Array.from({ length: MAX_SERVICE_PORTS }, (_, i) => ({ name: `s${s}p${i}-`.padEnd(63, 'x'), port: i + 1, appProtocol: 'kubernetes.io/h2c' }))
    subsets.push({ addresses: Array.from({ length: Math.min(MAX_SUBSET_ADDRESSES, n - start) }, (_, i) => fill(start + i)), ports })
  }
  return subsets
}

const LIMITS: Limit[] = [
  // A namespace carries its own label kubernetes.io/metadata.name besides the ones sent.
  { name: 'namespace labels', resource: RESOURCES.namespace, at: MAX_LABELS - 1, field: 'metadata.labels', with: withLabels },
  { name: 'service labels', resource: RESOURCES.service, at: MAX_LABELS, field: 'metadata.labels', with: withLabels },
  { name: 'pod labels', resource: RESOURCES.pod, at: MAX_LABELS, field: 'metadata.labels', with: withLabels },
  { name: 'endpoints labels', resource: RESOURCES.endpoints, at: MAX_LABELS, field: 'metadata.labels', with: withLabels },
  { name: 'lease labels', resource: RESOURCES.lease, at: MAX_LABELS, field: 'metadata.labels', with: withLabels },
  {
    name: 'annotation bytes',
    resource: RESOURCES.pod,
    at: ANNOTATIONS_MAX_BYTES,
    field: 'metadata.annotations',
    with: (obj, n) => ({ ...obj, metadata: { ...obj.metadata, annotations: { note: 'x'.repeat(n - 'note'.length) } } }),
  },
  {
    name: 'service selector pairs',
    resource: RESOURCES.service,
    at: MAX_LABELS,
    field: 'spec.selector',
    with: (obj, n) => ({ ...obj, spec: { ...obj.spec, selector: labels(n) } }),
  },
  {
    name: 'service ports',
    resource: RESOURCES.service,
    at: MAX_SERVICE_PORTS,
    field: 'spec.ports',
    with: (obj, n) => ({ ...obj, spec: { ...obj.spec, ports: Array.from({ length: n }, (_, i) => ({ name: `p${i}`, port: i + 1 })) } }),
  },
  {
    name: 'pod containers',
    resource: RESOURCES.pod,
    at: MAX_CONTAINERS,
    field: 'spec.containers',
    with: (obj, n) => ({ ...obj, spec: { containers: containers(...Array.from({ length: n }, () => 0)) } }),
  },
  {
    name: 'ports of one container',
    resource: RESOURCES.pod,
    at: MAX_CONTAINER_PORTS,
    field: 'spec.containers[0].ports',
    with: (obj, n) => ({ ...obj, spec: { containers: containers(n) } }),
  },
  {
    name: 'ports of a pod',
    resource: RESOURCES.pod,
    at: MAX_POD_PORTS,
    field: 'spec.containers[*].ports',
    with: (obj, n) => ({ ...obj, spec: { containers: containers(MAX_CONTAINER_PORTS, MAX_POD_PORTS - MAX_CONTAINER_PORTS, n - MAX_POD_PORTS) } }),
  },
  {
    name: 'terminationGracePeriodSeconds',
    resource: RESOURCES.pod,
    at: MAX_GRACE_PERIOD_SECONDS,
    field: 'spec.terminationGracePeriodSeconds',
    with: (obj, n) => ({ ...obj, spec: { ...obj.spec, terminationGracePeriodSeconds: n } }),
  },
  {
    name: 'addresses of an Endpoints subset',
    resource: RESOURCES.endpoints,
    at: MAX_SUBSET_ADDRESSES,
    field: 'subsets[0].addresses',
    with: (obj, n) => ({
      ...obj,
      subsets: [{ addresses: Array.from({ length: n - 1 }, (_, i) => ({ ip: ip(i) })), notReadyAddresses: [{ ip: '10.255.0.1' }], ports: [{ port: 80 }] }],
    }),
  },
  {
    name: 'addresses of all Endpoints subsets',
    resource: RESOURCES.endpoints,
    at: MAX_ENDPOINTS_ADDRESSES,
    field: 'subsets[*].addresses',
    with: (obj, n) => {
      const subsets = []
      for (let start = 0; start < n; start += MAX_SUBSET_ADDRESSES) {
        const count = Math.min(MAX_SUBSET_ADDRESSES, n - start)
        subsets.push({ addresses: Array.from({ length: count }, (_, i) => ({ ip: ip(start + i) })), ports: [{ name: `p${start}`, port: 80 + subsets.length }] })
      }
      return { ...obj, subsets }
    },
  },
  {
    // The maxima together: every subset at the most addresses, each with the most ports (long names), as many subsets as the total allows.
    name: 'addresses × ports × subsets of Endpoints',
    resource: RESOURCES.endpoints,
    at: MAX_ENDPOINTS_ADDRESSES,
    field: 'subsets[*].addresses',
    with: (obj, n) => ({ ...obj, subsets: maximalSubsets(n) }),
  },
  {
    name: 'ports of an Endpoints subset',
    resource: RESOURCES.endpoints,
    at: MAX_SERVICE_PORTS,
    field: 'subsets[0].ports',
    with: (obj, n) => ({ ...obj, subsets: [{ addresses: [{ ip: '10.0.0.1' }], ports: Array.from({ length: n }, (_, i) => ({ name: `p${i}`, port: i + 1 })) }] }),
  },
  {
    name: 'lease duration (int32)',
    resource: RESOURCES.lease,
    at: MAX_INT32,
    field: 'spec.leaseDurationSeconds',
    with: (obj, n) => ({ ...obj, spec: { ...obj.spec, leaseDurationSeconds: n } }),
  },
]

/** A fresh database holding each resource's seeded object (and the selectorless service of the Endpoints). */
async function seeded(): Promise<TestApp> {
  const t = await testApp()
  const create = async (path: string, body: Json) => {
    const res = await t.json('POST', path, body)
    expect(res.status, JSON.stringify(res.body)).toBe(201)
  }
  await create(`${NS}/services`, { metadata: { name: 'manual' }, spec: { ports: [{ port: 80 }] } })
  for (const r of Object.values(RESOURCES)) await create(r.path, r.template(r.seeded))
  return t
}

/** The write requests that send `obj` (a whole object) to the seeded object's path: replace and every patch. */
function updates(r: Resource, obj: Json): { label: string; body: string; contentType: string; query?: string }[] {
  const full = { apiVersion: r.apiVersion, kind: r.kind, ...obj }
  const jsonPatch = Object.keys(obj).map((key) => ({ op: 'add', path: `/${key}`, value: obj[key] }))
  const put = { label: 'PUT', body: JSON.stringify(full), contentType: 'application/json' }
  if (r.patch === false) return [put]
  return [
    put,
    { label: 'merge patch', body: JSON.stringify(obj), contentType: 'application/merge-patch+json' },
    { label: 'JSON patch', body: JSON.stringify(jsonPatch), contentType: 'application/json-patch+json' },
    { label: 'strategic merge patch', body: JSON.stringify(obj), contentType: 'application/strategic-merge-patch+json' },
    { label: 'apply', body: JSON.stringify(full), contentType: 'application/apply-patch+yaml', query: '?fieldManager=limits&force=true' },
  ]
}

/** The database's contents, without the registry's heartbeat (meta presence rows, which a read may move as time passes). */
async function stored(t: TestApp): Promise<string> {
  const presence = ['presenceBeat', 'absentFrom', 'resumedAt']
  return (await dumpTables(t.client))
    .split('\n')
    .map((line) => (line.startsWith('meta:') ? `meta:${JSON.stringify(JSON.parse(line.slice(5)).filter((r: Json) => !presence.includes(r.key)))}` : line))
    .join('\n')
}

function causeFields(body: Json): string[] {
  return (body?.details?.causes ?? []).map((c: Json) => c.field)
}

describe('every write route: at a limit accepted, one beyond refused with the field named and nothing changed', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await seeded()
  })

  LIMITS.forEach((limit, index) => {
    it(limit.name, { timeout: 60_000 }, async () => {
      const r = limit.resource
      const named = (name: string) => limit.with(r.template(name), limit.at)
      const beyond = (name: string) => limit.with(r.template(name), limit.at + 1)

      const before = await stored(t)
      const refusals: string[] = []
      const refused = async (label: string, res: Response) => {
        const body = await res.json()
        if (res.status !== 422 || !causeFields(body).includes(limit.field)) refusals.push(`${label}: ${res.status} ${JSON.stringify(body).slice(0, 300)}`)
      }
      await refused('POST', await t.req('POST', r.path, beyond('beyond')))
      for (const u of updates(r, beyond(r.seeded))) {
        await refused(u.label, await t.req(u.label === 'PUT' ? 'PUT' : 'PATCH', `${r.path}/${r.seeded}${u.query ?? ''}`, u.body, { 'content-type': u.contentType }))
      }
      expect(refusals).toEqual([])
      expect(await stored(t)).toBe(before)

      const created = await t.req('POST', r.path, named(`at-limit-${index}`))
      expect(created.status, await created.clone().text()).toBe(201)
      const replaced = await t.req('PUT', `${r.path}/${r.seeded}`, { apiVersion: r.apiVersion, kind: r.kind, ...named(r.seeded) })
      expect(replaced.status, await replaced.clone().text()).toBe(200)
    })
  })
})

/** Every list route, from the table of kinds. */
const LIST_PATHS = KINDS.map((k) => `${k.group ? `/apis/${k.group}` : '/api'}/${k.version}/${k.namespaced ? 'namespaces/default/' : ''}${k.resource}`)

/** A selector of the most requirements whose values number `n` in all: one value each, and the rest in a last set. */
function valuesOver(n: number): string {
  const singles = Array.from({ length: MAX_SELECTOR_REQUIREMENTS - 1 }, (_, i) => `k${i}!=v`)
  return [...singles, `last notin (${Array.from({ length: n - singles.length }, (_, i) => `v${i}`).join(',')})`].join(',')
}

const QUERIES: { name: string; at: string; beyond: string; field: string }[] = [
  {
    name: 'label selector requirements',
    at: Array.from({ length: MAX_SELECTOR_REQUIREMENTS }, (_, i) => `!k${i}`).join(','),
    beyond: Array.from({ length: MAX_SELECTOR_REQUIREMENTS + 1 }, (_, i) => `!k${i}`).join(','),
    field: 'labelSelector',
  },
  {
    name: 'label selector values',
    at: `k notin (${Array.from({ length: MAX_SELECTOR_VALUES }, (_, i) => `v${i}`).join(',')})`,
    beyond: `k notin (${Array.from({ length: MAX_SELECTOR_VALUES + 1 }, (_, i) => `v${i}`).join(',')})`,
    field: 'labelSelector',
  },
  {
    name: 'label selector values over several requirements',
    at: valuesOver(MAX_SELECTOR_VALUES),
    beyond: valuesOver(MAX_SELECTOR_VALUES + 1),
    field: 'labelSelector',
  },
  {
    name: 'field selector terms',
    at: Array.from({ length: MAX_FIELD_SELECTOR_TERMS }, (_, i) => `metadata.name!=n${i}`).join(','),
    beyond: Array.from({ length: MAX_FIELD_SELECTOR_TERMS + 1 }, (_, i) => `metadata.name!=n${i}`).join(','),
    field: 'fieldSelector',
  },
]

describe('every list route: selectors at a limit answered, one beyond a 400 naming the parameter', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await seeded()
  })

  for (const q of QUERIES) {
    it(q.name, async () => {
      const problems: string[] = []
      for (const path of LIST_PATHS) {
        const at = await t.req('GET', `${path}?${q.field}=${encodeURIComponent(q.at)}`)
        if (at.status !== 200) problems.push(`${path} at the limit: ${at.status} ${(await at.text()).slice(0, 200)}`)
        const beyond = await t.req('GET', `${path}?${q.field}=${encodeURIComponent(q.beyond)}`)
        const body = await beyond.json()
        if (beyond.status !== 400 || !causeFields(body).includes(q.field)) problems.push(`${path} beyond: ${beyond.status} ${JSON.stringify(body).slice(0, 200)}`)
      }
      expect(problems).toEqual([])
    })
  }

  it('a label selector at the limit still selects exactly', async () => {
    const selector = [...Array.from({ length: MAX_SELECTOR_REQUIREMENTS - 2 }, (_, i) => `!k${i}`), 'app in (web)', `app notin (${Array.from({ length: 10 }, (_, i) => `x${i}`).join(',')})`].join(',')
    const res = await t.json('GET', `${NS}/pods?labelSelector=${encodeURIComponent(selector)}`)
    expect(res.status).toBe(200)
    expect(res.body.items.map((p: Json) => p.metadata.name)).toEqual(['web-1'])
  })
})

describe('a caller that reaches many namespaces', () => {
  it('lists with a reach of 40,000 namespaces (a token may name that many) as with one', async () => {
    const t = await seeded()
    const pods = KINDS.find((k) => k.resource === 'pods')!
    const namespaces = [...Array.from({ length: 40_000 }, (_, i) => `ns-${i}`), 'default']
    const wide = await t.registry.store.list(pods.storage!, { labels: [], fields: [], namespaces })
    expect(wide.items.map((o) => (o.body as Json).metadata.name)).toEqual(['web-1'])
    const none = await t.registry.store.list(pods.storage!, { labels: [], fields: [], namespaces: namespaces.slice(0, -1) })
    expect(none.items).toEqual([])
  })
})

describe('the requests that answered 500, sent as they were found', () => {
  const big = <T>(n: number, f: (i: number) => T) => Array.from({ length: n }, (_, i) => f(i))

  it('huge bodies are 422s naming the field, and change nothing', { timeout: 60_000 }, async () => {
    const t = await seeded()
    const before = await stored(t)
    const cases: [string, string, Json, string][] = [
      ['a pod with 7,000 labels', `${NS}/pods`, { metadata: { name: 'p', labels: labels(7000) } }, 'metadata.labels'],
      ['a pod with 10,000 container ports', `${NS}/pods`, { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', ports: big(10_000, (i) => ({ name: `p${i}`, containerPort: (i % 65535) + 1 })) }] } }, 'spec.containers[0].ports'],
      ['a service with 5,000 ports', `${NS}/services`, { metadata: { name: 's' }, spec: { selector: { a: 'b' }, ports: big(5000, (i) => ({ name: `p${i}`, port: i + 1 })) } }, 'spec.ports'],
      ['a service with 7,000 labels', `${NS}/services`, { metadata: { name: 's', labels: labels(7000) }, spec: { ports: [{ port: 80 }] } }, 'metadata.labels'],
      ['Endpoints with 20,000 addresses', `${NS}/endpoints`, { metadata: { name: 'manual-2' }, subsets: [{ addresses: big(20_000, (i) => ({ ip: ip(i) })), ports: [{ port: 80 }] }] }, 'subsets[*].addresses'],
      ['a pod with terminationGracePeriodSeconds 1e15', `${NS}/pods`, { metadata: { name: 'p' }, spec: { terminationGracePeriodSeconds: 1e15 } }, 'spec.terminationGracePeriodSeconds'],
    ]
    for (const [label, path, body, field] of cases) {
      const res = await t.json('POST', path, body)
      expect(res.status, label).toBe(422)
      expect(causeFields(res.body), label).toContain(field)
      expect(res.body.details.causes.find((c: Json) => c.field === field).message, label).toMatch(/^Too many: \d+: must have at most \d+ items$|must be less than or equal to/)
    }
    expect(await stored(t)).toBe(before)
  })

  it('a label selector of 999 terms is a 400 naming labelSelector', async () => {
    const t = await seeded()
    const res = await t.json('GET', `${NS}/pods?labelSelector=${encodeURIComponent(big(999, (i) => `k${i}=v`).join(','))}`)
    expect(res.status).toBe(400)
    expect(res.body.reason).toBe('BadRequest')
    expect(causeFields(res.body)).toEqual(['labelSelector'])
  })

  it('DeleteOptions gracePeriodSeconds 1e15 is a 422, ?gracePeriodSeconds beyond the limit a 400; nothing is deleted', async () => {
    const t = await seeded()
    const before = await stored(t)
    const body = await t.json('DELETE', `${NS}/pods/web-1`, { gracePeriodSeconds: 1e15 })
    expect(body.status).toBe(422)
    expect(causeFields(body.body)).toEqual(['gracePeriodSeconds'])
    const query = await t.json('DELETE', `${NS}/pods/web-1?gracePeriodSeconds=${MAX_GRACE_PERIOD_SECONDS + 1}`)
    expect(query.status).toBe(400)
    expect(causeFields(query.body)).toEqual(['gracePeriodSeconds'])
    expect(await stored(t)).toBe(before)
    const at = await t.json('DELETE', `${NS}/pods/web-1?gracePeriodSeconds=${MAX_GRACE_PERIOD_SECONDS}`)
    expect(at.status).toBe(200)
    expect(at.body.metadata.deletionGracePeriodSeconds).toBe(MAX_GRACE_PERIOD_SECONDS)
  })

  it('a pod stored with terminationGracePeriodSeconds 1e15 (before the limit) can still be deleted with a plain DELETE', async () => {
    const t = await seeded()
    const row = await t.client.execute(`SELECT body FROM pods WHERE name = 'web-1'`)
    const stored = JSON.parse(String(row.rows[0]!.body))
    stored.spec.terminationGracePeriodSeconds = 1e15
    await t.client.execute({ sql: `UPDATE pods SET body = ? WHERE name = 'web-1'`, args: [JSON.stringify(stored)] })
    const res = await t.json('DELETE', `${NS}/pods/web-1`)
    expect(res.status).toBe(200)
    // The grace is clamped to the limit, and the deletion instant stays a four-digit year.
    expect(res.body.metadata.deletionGracePeriodSeconds).toBe(MAX_GRACE_PERIOD_SECONDS)
    expect(res.body.metadata.deletionTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
  })
})

describe('user-written Endpoints at the combined maxima', () => {
  const longest = (i: number) => ({ ip: ip(i), hostname: `h${i}-`.padEnd(63, 'h'), nodeName: `node-${i}-`.padEnd(40, 'n') })

  it('go to the database as one statement whose parameters are each smaller than the object (D1: 2 MB a string, 100 parameters)', () => {
    const input = { metadata: { name: 'e', namespace: 'default' }, subsets: maximalSubsets(MAX_ENDPOINTS_ADDRESSES, longest) }
    const ep = buildUserEndpoints(input as Json, { name: 'e', namespace: 'default', uid: 'u', creationTimestamp: '2026-01-01T00:00:00Z' } as Json, { loopback: true } as Json)
    const objectBytes = new TextEncoder().encode(JSON.stringify(ep)).length
    const dialect = new SQLiteSyncDialect()
    const statements = manualEndpoints('default', 'e', userEndpointRows(ep)).map((q) => dialect.sqlToQuery(q))
    const strings = statements.flatMap((q) => q.params).filter((p): p is string => typeof p === 'string')
    const largest = Math.max(...strings.map((p) => new TextEncoder().encode(p).length))
    // Measured at these maxima: the object about 1 MB, the largest parameter (the rows) below it.
    expect(objectBytes).toBeLessThan(1024 * 1024) // it came in a request body
    expect(largest).toBeLessThanOrEqual(objectBytes)
    expect(largest).toBeLessThan(2_000_000)
    for (const q of statements) {
      expect(q.params.length).toBeLessThan(100)
      expect(q.sql.length).toBeLessThan(100_000)
    }
    console.log(`Endpoints at the combined maxima: object ${objectBytes} bytes, largest parameter ${largest} bytes, ${statements.length} statements`)
  })

  it("are stored with each address carrying its own subset's ports, and served back", { timeout: 60_000 }, async () => {
    const t = await seeded()
    await t.json('POST', `${NS}/services`, { metadata: { name: 'e' }, spec: { ports: [{ port: 1 }] } })
    const subsets = maximalSubsets(MAX_ENDPOINTS_ADDRESSES, longest)
    subsets[1].notReadyAddresses = subsets[1].addresses.splice(0, 10)
    const res = await t.json('POST', `${NS}/endpoints`, { metadata: { name: 'e' }, subsets })
    expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(201)
    const rows = await t.client.execute(`SELECT ip, family, ready, serving, hostname, node_name, ports FROM endpoints WHERE namespace = 'default' AND service = 'e' ORDER BY ip`)
    expect(rows.rows.length).toBe(MAX_ENDPOINTS_ADDRESSES)
    const expected = new Map<string, { ready: number; ports: string; hostname: string; nodeName: string }>()
    subsets.forEach((s: Json) => {
      const ports = JSON.stringify(s.ports.map((p: Json) => ({ name: p.name, port: p.port, protocol: 'TCP', appProtocol: p.appProtocol })))
      for (const [list, ready] of [['addresses', 1], ['notReadyAddresses', 0]] as const) {
        for (const a of s[list] ?? []) expected.set(a.ip, { ready, ports, hostname: a.hostname, nodeName: a.nodeName })
      }
    })
    const wrong = rows.rows.filter((r) => {
      const e = expected.get(String(r.ip))!
      return r.family !== 'IPv4' || r.ready !== e.ready || r.serving !== e.ready || r.hostname !== e.hostname || r.node_name !== e.nodeName || r.ports !== e.ports
    })
    expect(wrong.slice(0, 3)).toEqual([])
    const got = await t.json('GET', `${NS}/endpoints/e`)
    expect(got.body.subsets.reduce((n: number, s: Json) => n + (s.addresses?.length ?? 0) + (s.notReadyAddresses?.length ?? 0), 0)).toBe(MAX_ENDPOINTS_ADDRESSES)
  })
  it("with as many subsets as addresses, each its own ports, are stored with each address carrying its own subset's ports", { timeout: 60_000 }, async () => {
    const t = await seeded()
    await t.json('POST', `${NS}/services`, { metadata: { name: 'e' }, spec: { ports: [{ port: 1 }] } })
    const subsets = Array.from({ length: MAX_ENDPOINTS_ADDRESSES }, (_, i) => ({ addresses: [{ ip: ip(i) }], ports: [{ port: i + 1 }] }))
    const res = await t.json('POST', `${NS}/endpoints`, { metadata: { name: 'e' }, subsets })
    expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(201)
    const rows = await t.client.execute(`SELECT ip, ports FROM endpoints WHERE namespace = 'default' AND service = 'e'`)
    expect(rows.rows.length).toBe(MAX_ENDPOINTS_ADDRESSES)
    const portOf = new Map(subsets.map((s) => [s.addresses[0]!.ip, JSON.stringify([{ port: s.ports[0]!.port, protocol: 'TCP' }])]))
    expect(rows.rows.filter((r) => r.ports !== portOf.get(String(r.ip))).slice(0, 3)).toEqual([])
  })
})

describe('the size of an object as stored, and the count of pod conditions', () => {
  const conditions = (n: number, from = 0, message = '') => Array.from({ length: n }, (_, i) => ({ type: `c${from + i}`, status: 'True', ...(message ? { message } : {}) }))
  const POD = `${NS}/pods`
  const bytesOf = async (t: TestApp, name: string) => Number((await t.client.execute({ sql: `SELECT length(CAST(body AS BLOB)) AS n FROM pods WHERE name = ?`, args: [name] })).rows[0]!.n)

  it('a pod with 25,000 conditions is a 422 naming status.conditions, and so is a status patch adding 25,000 condition types, in every patch form', { timeout: 60_000 }, async () => {
    const t = await seeded()
    const before = await stored(t)
    const created = await t.json('POST', POD, { metadata: { name: 'p3' }, status: { podIP: '10.0.0.3', conditions: conditions(25_000) } })
    expect(created.status).toBe(422)
    expect(causeFields(created.body)).toEqual(['status.conditions'])
    expect(created.body.details.causes[0].message).toBe(`Too many: 25000: must have at most ${MAX_POD_CONDITIONS} items`)
    expect(await stored(t)).toBe(before)

    expect((await t.json('POST', POD, { metadata: { name: 'p3' }, status: { podIP: '10.0.0.3', conditions: conditions(MAX_POD_CONDITIONS) } })).status).toBe(201)
    const at = await stored(t)
    const patch = JSON.stringify({ status: { conditions: conditions(25_000, 100) } })
    const sends: [string, string, string, string][] = [
      ['strategic merge patch of status', 'PATCH', `${POD}/p3/status`, 'application/strategic-merge-patch+json'],
      ['strategic merge patch', 'PATCH', `${POD}/p3`, 'application/strategic-merge-patch+json'],
      ['merge patch of status', 'PATCH', `${POD}/p3/status`, 'application/merge-patch+json'],
      ['apply of status', 'PATCH', `${POD}/p3/status?fieldManager=m&force=true`, 'application/apply-patch+yaml'],
    ]
    for (const [label, method, path, type] of sends) {
      const body = type.startsWith('application/apply') ? JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p3' }, ...JSON.parse(patch) }) : patch
      const res = await t.json(method, path, body, { 'content-type': type })
      expect(res.status, label).toBe(422)
      expect(causeFields(res.body), label).toEqual(['status.conditions'])
    }
    // One new type more than the limit allows, merged by type, is refused after the merge.
    const one = await t.json('PATCH', `${POD}/p3/status`, JSON.stringify({ status: { conditions: conditions(1, 100) } }), { 'content-type': 'application/strategic-merge-patch+json' })
    expect(one.status).toBe(422)
    expect(one.body.details.causes[0].message).toBe(`Too many: ${MAX_POD_CONDITIONS + 1}: must have at most ${MAX_POD_CONDITIONS} items`)
    const put = await t.json('PUT', `${POD}/p3/status`, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p3' }, status: { podIP: '10.0.0.3', conditions: conditions(MAX_POD_CONDITIONS + 1) } })
    expect(put.status).toBe(422)
    expect(await stored(t)).toBe(at)
  })

  it('an object that would be stored over the limit is a 413 for every verb, and nothing changes; one just under it is stored', { timeout: 60_000 }, async () => {
    const t = await seeded()
    const before = await stored(t)
    // 64 conditions whose messages make the pod as stored just over the limit (the request body stays under 1 MiB).
    const message = (total: number) => 'm'.repeat(Math.ceil(total / MAX_POD_CONDITIONS))
    const big = { metadata: { name: 'big' }, status: { podIP: '10.0.0.9', conditions: conditions(MAX_POD_CONDITIONS, 0, message(MAX_OBJECT_BYTES)) } }
    const created = await t.json('POST', POD, big)
    expect(created.status).toBe(413)
    expect(created.body.reason).toBe('RequestEntityTooLarge')
    expect(created.body.message).toMatch(new RegExp(`^Pod "big" is too large: it would be stored as \\d+ bytes, more than the limit of ${MAX_OBJECT_BYTES} bytes$`))
    const lease = await t.json('POST', RESOURCES.lease.path, { metadata: { name: 'big' }, spec: { holderIdentity: 'h'.repeat(MAX_OBJECT_BYTES) } })
    expect(lease.status).toBe(413)
    expect(await stored(t)).toBe(before)

    // Half the limit is stored; each way of doubling it (every request body under 1 MiB) is refused.
    const half = { metadata: { name: 'big' }, status: { podIP: '10.0.0.9', conditions: conditions(MAX_POD_CONDITIONS / 2, 0, message(MAX_OBJECT_BYTES)) } }
    expect((await t.json('POST', POD, half)).status).toBe(201)
    const bytes = await bytesOf(t, 'big')
    expect(bytes).toBeGreaterThan(MAX_OBJECT_BYTES / 2)
    const at = await stored(t)
    const more = { status: { conditions: conditions(MAX_POD_CONDITIONS / 2, 100, message(MAX_OBJECT_BYTES)) } }
    const sends: [string, string, string, unknown, string][] = [
      ['strategic merge patch of status', 'PATCH', `${POD}/big/status`, more, 'application/strategic-merge-patch+json'],
      ['merge patch', 'PATCH', `${POD}/big/status`, { status: { conditions: [...half.status.conditions, ...more.status.conditions] } }, 'application/merge-patch+json'],
      ['JSON patch', 'PATCH', `${POD}/big/status`, more.status.conditions.map((c) => ({ op: 'add', path: '/status/conditions/-', value: c })), 'application/json-patch+json'],
      ['apply by a second field manager', 'PATCH', `${POD}/big/status?fieldManager=second`, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'big' }, ...more }, 'application/apply-patch+yaml'],
      ['PUT of status', 'PUT', `${POD}/big/status`, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'big' }, status: { podIP: '10.0.0.9', conditions: [...half.status.conditions, ...more.status.conditions] } }, 'application/json'],
    ]
    const wrong: string[] = []
    for (const [label, method, path, body, type] of sends) {
      const res = await t.json(method, path, JSON.stringify(body), { 'content-type': type })
      if (res.status !== 413 || res.body.reason !== 'RequestEntityTooLarge') wrong.push(`${label}: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`)
    }
    expect(wrong).toEqual([])
    expect(await stored(t)).toBe(at)
    // The refused object can still be deleted, gracefully or not.
    expect((await t.json('DELETE', `${POD}/big`)).status).toBe(200)
  })
})
