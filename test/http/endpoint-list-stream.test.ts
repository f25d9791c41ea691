/**
 * Unpaged Endpoints, EndpointSlice and Token lists are streamed as the object lists are
 * (list-stream.ts): sent page by page as they are built, all of it from one read snapshot
 * (one resourceVersion) on libSQL, and from one read on D1, where the same file runs
 * inside workerd. The streamed list is exactly the concatenation of the paged one, with
 * selectors and a namespace-scoped token too, as JSON and as a Table.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { testApp, type TestApp } from '../support/app'
import { chunks } from '../support/chunks'

const ROOT = 'root-credential-for-the-endpoint-stream-tests-0123456789'
const API = '/api/v1'
const SLICES = '/apis/discovery.k8s.io/v1'
const TOKENS = '/apis/switchboard.dev/v1/tokens'
const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io'
const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` })
/** Services per namespace: more than two reads of 100 services in all, so a stream has several pages. */
const SERVICES = { a: 130, b: 100 }
const TOKEN_COUNT = 120

let t: TestApp
let readB: string

async function asRoot(method: string, path: string, body?: unknown) {
  const res = await t.json(method, path, body, bearer(ROOT))
  expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBeLessThan(300)
  return res.body
}

/** Runs `make(i)` for i < n, ten at a time. */
async function inBatches(n: number, make: (i: number) => Promise<unknown>) {
  for (let i = 0; i < n; i += 10) await Promise.all(Array.from({ length: Math.min(10, n - i) }, (_, j) => make(i + j)))
}

const svcName = (i: number) => `s-${String(i).padStart(3, '0')}`

/** A namespace of selector services with 0 to 3 ready pods each (slices split at 2), and a selectorless service with user-written Endpoints. */
async function seed(namespace: 'a' | 'b', octet: number) {
  await asRoot('POST', `${API}/namespaces`, { metadata: { name: namespace } })
  const base = `${API}/namespaces/${namespace}`
  await inBatches(SERVICES[namespace], (i) =>
    asRoot('POST', `${base}/services`, {
      metadata: { name: svcName(i), labels: { tier: i % 2 ? 'odd' : 'even' } },
      spec: { selector: { app: svcName(i) }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    }),
  )
  const pods = []
  for (let i = 0; i < SERVICES[namespace]; i++) {
    for (let p = 0; p < i % 4; p++) {
      pods.push({
        metadata: { name: `${svcName(i)}-${p}`, labels: { app: svcName(i) } },
        spec: { containers: [{ name: 'app', ports: [{ name: 'http', containerPort: 8080 }] }] },
        status: { podIP: `10.${octet}.${i}.${p + 1}`, conditions: [{ type: 'Ready', status: 'True' }] },
      })
    }
  }
  await t.registry.importPods(namespace, pods)
  await asRoot('POST', `${base}/services`, { metadata: { name: 'mirrored' }, spec: { ports: [{ name: 'http', port: 80 }] } })
  await asRoot('PUT', `${base}/endpoints/mirrored`, {
    metadata: { name: 'mirrored', labels: { tier: 'even' } },
    subsets: [{ addresses: [{ ip: `10.${octet}.200.1` }, { ip: `10.${octet}.200.2` }], ports: [{ name: 'http', port: 80 }] }],
  })
}

beforeAll(async () => {
  t = await testApp({ env: { SWITCHBOARD_ADMIN_TOKEN: ROOT, MAX_ENDPOINTS_PER_SLICE: '2' }, database: 'file' })
  await seed('a', 1)
  await seed('b', 2)
  readB = (await asRoot('POST', TOKENS, { metadata: { name: 'read-b' }, spec: { role: 'read', namespaces: ['b'] } })).status.secret
  await inBatches(TOKEN_COUNT - 1, (i) => asRoot('POST', TOKENS, { metadata: { name: `t-${String(i).padStart(3, '0')}` }, spec: { role: 'read', namespaces: ['a'] } }))
}, 120_000)

/** Every item of a list read page by page with `limit`, following `continue`. */
async function paged(path: string, limit: number, secret = ROOT): Promise<any[]> {
  const out: any[] = []
  let cont = ''
  const sep = path.includes('?') ? '&' : '?'
  for (let i = 0; i < 1000; i++) {
    const res = await t.json('GET', `${path}${sep}limit=${limit}${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`, undefined, bearer(secret))
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    out.push(...res.body.items)
    cont = res.body.metadata.continue ?? ''
    if (!cont) return out
  }
  throw new Error(`${path}: more than 1000 pages`)
}

/** An unpaged list as it streams: its chunks and the list they make. */
async function streamed(path: string, headers: Record<string, string> = bearer(ROOT), between?: (n: number) => Promise<void>) {
  const res = await t.req('GET', path, undefined, headers)
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toMatch(/^application\/json/)
  const parts = await chunks(res, between)
  return { parts, list: JSON.parse(parts.join('')) }
}

const key = (item: any) => `${item.metadata.namespace ?? ''}/${item.metadata.name}`

describe('unpaged Endpoints and EndpointSlice lists are streamed', () => {
  it.each([
    [`${API}/endpoints`, 'EndpointsList', 'v1'],
    [`${SLICES}/endpointslices`, 'EndpointSliceList', 'discovery.k8s.io/v1'],
  ])('%s arrives in many chunks and equals the paged list', async (path, listKind, apiVersion) => {
    const { parts, list } = await streamed(path)
    expect(parts.length).toBeGreaterThan(2)
    expect(list).toMatchObject({ apiVersion, kind: listKind, metadata: { resourceVersion: expect.any(String) } })
    expect(list.metadata.continue).toBeUndefined()
    // Every selector service and the mirrored one, in both namespaces (slices: one or more each).
    expect(list.items.length).toBeGreaterThanOrEqual(SERVICES.a + SERVICES.b + 2)
    for (const limit of [7, 100, 1000]) expect(await paged(path, limit)).toEqual(list.items)
    for (const item of list.items) expect(Number(item.metadata.resourceVersion ?? 0)).toBeLessThanOrEqual(Number(list.metadata.resourceVersion))
  })

  it.each([
    `${API}/namespaces/a/endpoints`,
    `${SLICES}/namespaces/b/endpointslices`,
    `${API}/endpoints?labelSelector=tier%3Deven`,
    `${SLICES}/endpointslices?labelSelector=tier%3Dodd`,
    `${SLICES}/endpointslices?fieldSelector=metadata.namespace%3Da`,
  ])('%s streams the same items as its pages', async (path) => {
    const { list } = await streamed(path)
    expect(list.items.length).toBeGreaterThan(10)
    expect(list.items.map(key)).toEqual((await paged(path, 13)).map(key))
    expect(list.items).toEqual(await paged(path, 13))
  })

  it.each([`${API}/endpoints`, `${SLICES}/endpointslices`])('%s: a read token for namespace b streams b alone', async (path) => {
    const { parts, list } = await streamed(path, bearer(readB))
    expect(parts.length).toBeGreaterThan(2)
    expect(new Set(list.items.map((i: any) => i.metadata.namespace))).toEqual(new Set(['b']))
    expect(list.items).toEqual((await paged(path, 50)).filter((i) => i.metadata.namespace === 'b'))
  })

  it.each([`${API}/endpoints`, `${SLICES}/endpointslices`])('%s does not show writes made while it is being sent', async (path) => {
    const before = await paged(path, 1000)
    const rv = (await t.json('GET', `${path}?limit=1`, undefined, bearer(ROOT))).body.metadata.resourceVersion
    const { parts, list } = await streamed(path, bearer(ROOT), async (n) => {
      if (n !== 1) return
      // After the first page: delete a service further on, add a pod to another, add a service — none of it is in this list.
      expect((await t.req('DELETE', `${API}/namespaces/b/services/${svcName(90)}`, undefined, bearer(ROOT))).status).toBe(200)
      await asRoot('POST', `${API}/namespaces/b/pods`, {
        metadata: { name: 'late', labels: { app: svcName(80) } },
        spec: { containers: [{ name: 'app', ports: [{ name: 'http', containerPort: 8080 }] }] },
        status: { podIP: '10.2.250.1', conditions: [{ type: 'Ready', status: 'True' }] },
      })
      await asRoot('POST', `${API}/namespaces/b/services`, { metadata: { name: 'zz-late' }, spec: { selector: { app: 'none' }, ports: [{ port: 80 }] } })
    })
    expect(parts.length).toBeGreaterThan(2)
    expect(list.metadata.resourceVersion).toBe(rv)
    expect(list.items).toEqual(before)
    // The writes happened: a list now sees them.
    const after = await t.json('GET', path, undefined, bearer(ROOT))
    expect(Number(after.body.metadata.resourceVersion)).toBeGreaterThan(Number(rv))
    const keys = after.body.items.map((i: any) => `${i.metadata.namespace}/${i.metadata.labels?.['kubernetes.io/service-name'] ?? i.metadata.name}`)
    expect(keys).toContain('b/zz-late')
    expect(keys).not.toContain(`b/${svcName(90)}`)
    // Put the namespace back as it was for the other tests.
    for (const [kind, name] of [['services', 'zz-late'], ['pods', 'late']]) {
      expect((await t.req('DELETE', `${API}/namespaces/b/${kind}/${name}?gracePeriodSeconds=0`, undefined, bearer(ROOT))).status).toBe(200)
    }
    await asRoot('POST', `${API}/namespaces/b/services`, {
      metadata: { name: svcName(90), labels: { tier: 'even' } },
      spec: { selector: { app: svcName(90) }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    })
  })

  it.each([`${API}/endpoints`, `${SLICES}/endpointslices`])('%s as a Table: the column definitions once, a row per item', async (path) => {
    const { parts, list: table } = await streamed(path, { ...bearer(ROOT), accept: TABLE })
    expect(parts.length).toBeGreaterThan(2)
    expect(table).toMatchObject({ kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion: expect.any(String) } })
    expect(table.columnDefinitions.map((c: any) => c.name)).toContain('Name')
    const listed = (await t.json('GET', path, undefined, bearer(ROOT))).body.items
    expect(table.rows.map((r: any) => `${r.object.metadata.namespace}/${r.object.metadata.name}`)).toEqual(listed.map(key))
    expect(table.rows[0].cells[0]).toBe(listed[0].metadata.name)
  })

  it('an empty selection is still one list', async () => {
    for (const path of [`${API}/endpoints?labelSelector=nothing`, `${SLICES}/namespaces/none/endpointslices`]) {
      const res = await t.json('GET', path, undefined, bearer(ROOT))
      expect(res.status).toBe(200)
      expect(res.body).toMatchObject({ items: [], metadata: { resourceVersion: expect.any(String) } })
    }
  })
})

describe('the unpaged Token list is streamed', () => {
  it('arrives in many chunks and equals the paged list, as JSON and as a Table', async () => {
    const { parts, list } = await streamed(TOKENS)
    expect(parts.length).toBeGreaterThan(2)
    expect(list).toMatchObject({ apiVersion: 'switchboard.dev/v1', kind: 'TokenList', metadata: { resourceVersion: expect.any(String) } })
    expect(list.items).toHaveLength(TOKEN_COUNT)
    expect(list.items.map((i: any) => i.metadata.name)).toEqual([...list.items.map((i: any) => i.metadata.name)].sort())
    expect(await paged(TOKENS, 33)).toEqual(list.items)
    for (const token of list.items) expect(token.status).toBeUndefined()
    const table = await streamed(TOKENS, { ...bearer(ROOT), accept: TABLE })
    expect(table.parts.length).toBeGreaterThan(2)
    expect(table.list.rows.map((r: any) => r.cells[0])).toEqual(list.items.map((i: any) => i.metadata.name))
  })

  it('with a field selector', async () => {
    const { list } = await streamed(`${TOKENS}?fieldSelector=metadata.name!%3Dread-b`)
    expect(list.items.map((i: any) => i.metadata.name)).toEqual(Array.from({ length: TOKEN_COUNT - 1 }, (_, i) => `t-${String(i).padStart(3, '0')}`))
  })
})
