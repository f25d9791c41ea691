/**
 * Paging of the Endpoints, EndpointSlice and Token lists (`limit` and `continue`, as the
 * object lists page): pages concatenate to the whole list in order, a page never holds
 * more than `limit` items, a token scoped to one namespace never sees another one on any
 * page, and a negative limit is a 400 on every list.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { testApp, type TestApp } from '../support/app'
import { chunks } from '../support/chunks'

const ROOT = 'root-credential-for-the-paging-tests-0123456789'
const API = '/api/v1'
const SLICES = '/apis/discovery.k8s.io/v1'
const TOKENS = '/apis/switchboard.dev/v1/tokens'
const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` })

let t: TestApp
let readA: string

function pod(name: string, app: string, ips: string[]) {
  return {
    metadata: { name, labels: { app } },
    spec: { containers: [{ name: 'app', ports: [{ name: 'http', containerPort: 8080 }] }] },
    status: { podIPs: ips.map((ip) => ({ ip })), conditions: [{ type: 'Ready', status: 'True' }] },
  }
}

async function asRoot(method: string, path: string, body?: unknown) {
  const res = await t.json(method, path, body, bearer(ROOT))
  expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBeLessThan(300)
  return res.body
}

/** Fills a namespace: selector services of 0 to 5 dual-stack pods (slices split at 2), selectorless ones with and without Endpoints. */
async function seed(namespace: string, octet: number) {
  await asRoot('POST', `${API}/namespaces`, { metadata: { name: namespace } })
  const base = `${API}/namespaces/${namespace}`
  let ip = 0
  for (const [i, size] of [3, 0, 5, 1, 2].entries()) {
    const name = `svc-${i}`
    await asRoot('POST', `${base}/services`, {
      metadata: { name, labels: { tier: i % 2 ? 'odd' : 'even' } },
      spec: { ipFamilyPolicy: 'PreferDualStack', selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    })
    for (let p = 0; p < size; p++) {
      ip++
      await asRoot('POST', `${base}/pods`, pod(`${name}-${p}`, name, [`10.${octet}.0.${ip}`, `fd00::${octet}:${ip}`]))
    }
  }
  await asRoot('POST', `${base}/services`, { metadata: { name: 'bare' }, spec: { ports: [{ name: 'http', port: 80 }] } })
  await asRoot('POST', `${base}/services`, { metadata: { name: 'mirrored' }, spec: { ports: [{ name: 'http', port: 80 }] } })
  for (const name of ['mirrored', 'orphan']) {
    await asRoot('PUT', `${base}/endpoints/${name}`, {
      metadata: { name, labels: { tier: 'even' } },
      subsets: [{ addresses: [{ ip: `10.${octet}.1.1` }, { ip: `10.${octet}.1.2` }, { ip: `10.${octet}.1.3` }], ports: [{ name: 'http', port: 80 }] }],
    })
  }
}

beforeAll(async () => {
  t = await testApp({ env: { SWITCHBOARD_ADMIN_TOKEN: ROOT, MAX_ENDPOINTS_PER_SLICE: '2' } })
  await seed('a', 1)
  await seed('b', 2)
  await asRoot('POST', `${API}/namespaces`, { metadata: { name: 'empty' } })
  readA = (await asRoot('POST', TOKENS, { metadata: { name: 'read-a' }, spec: { role: 'read', namespaces: ['a'] } })).status.secret
  for (const name of ['t-3', 't-1', 't-4', 't-2']) {
    await asRoot('POST', TOKENS, { metadata: { name }, spec: { role: 'read', namespaces: ['b'] } })
  }
})

const key = (item: any) => `${item.metadata.namespace ?? ''}/${item.metadata.name}`

/** Every page of a list, following `continue`. */
async function pages(path: string, limit: number, secret = ROOT): Promise<any[][]> {
  const out: any[][] = []
  let cont = ''
  const sep = path.includes('?') ? '&' : '?'
  for (let i = 0; i < 200; i++) {
    const res = await t.json('GET', `${path}${sep}limit=${limit}${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`, undefined, bearer(secret))
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(res.body.items.length).toBeLessThanOrEqual(limit)
    out.push(res.body.items)
    cont = res.body.metadata.continue ?? ''
    if (!cont) return out
  }
  throw new Error(`${path}: more than 200 pages`)
}

const LISTS = [
  `${API}/endpoints`,
  `${API}/namespaces/a/endpoints`,
  `${SLICES}/endpointslices`,
  `${SLICES}/namespaces/b/endpointslices`,
  `${API}/endpoints?labelSelector=tier%3Deven`,
  `${SLICES}/endpointslices?labelSelector=tier%3Dodd`,
  `${SLICES}/endpointslices?fieldSelector=metadata.namespace%3Da`,
]

describe('Endpoints and EndpointSlice lists', () => {
  it.each(LISTS)('%s: pages of every size concatenate to the whole list, in order', async (path) => {
    const whole = (await t.json('GET', path, undefined, bearer(ROOT))).body
    expect(whole.metadata.continue).toBeUndefined()
    expect(whole.items.length).toBeGreaterThan(3)
    for (const limit of [1, 2, 3, 7, 1000]) {
      const paged = (await pages(path, limit)).flat()
      expect({ limit, keys: paged.map(key) }).toEqual({ limit, keys: whole.items.map(key) })
      expect(paged).toEqual(whole.items)
    }
  })

  it('lists in (namespace, name) order, slices grouped by their service', async () => {
    const endpoints = (await t.json('GET', `${API}/endpoints`, undefined, bearer(ROOT))).body.items.map(key)
    expect(endpoints).toEqual([...endpoints].sort())
    expect(endpoints).toContain('a/orphan')
    expect(endpoints).not.toContain('a/bare')
    const slices = (await t.json('GET', `${SLICES}/endpointslices`, undefined, bearer(ROOT))).body.items
    const owners = slices.map((s: any) => `${s.metadata.namespace}/${s.metadata.labels['kubernetes.io/service-name']}`)
    expect(owners).toEqual([...owners].sort())
    // svc-2 has 5 dual-stack pods: 3 IPv4 and 3 IPv6 slices of at most 2
    expect(owners.filter((o: string) => o === 'a/svc-2')).toHaveLength(6)
  })

  it.each([`${API}/endpoints`, `${SLICES}/endpointslices`])('%s: a read token for namespace a sees a alone, on every page', async (path) => {
    const own = (await t.json('GET', path, undefined, bearer(ROOT))).body.items.filter((i: any) => i.metadata.namespace === 'a')
    expect(own.length).toBeGreaterThan(3)
    for (const limit of [1, 4]) {
      expect((await pages(path, limit, readA)).flat()).toEqual(own)
    }
  })

  it('an empty namespace lists nothing, with no continue token', async () => {
    for (const path of [`${API}/namespaces/empty/endpoints?limit=5`, `${SLICES}/namespaces/empty/endpointslices?limit=5`]) {
      const res = await t.json('GET', path, undefined, bearer(ROOT))
      expect(res.body).toMatchObject({ items: [], metadata: {} })
      expect(res.body.metadata.continue).toBeUndefined()
    }
  })

  it('a continue token that is not ours is a 400', async () => {
    for (const path of [`${API}/endpoints`, `${SLICES}/endpointslices`, TOKENS]) {
      const res = await t.json('GET', `${path}?limit=1&continue=garbage!`, undefined, bearer(ROOT))
      expect(res.status).toBe(400)
      expect(res.body.kind).toBe('Status')
    }
  })
})

describe('Token list', () => {
  it('pages by name', async () => {
    const whole = (await t.json('GET', TOKENS, undefined, bearer(ROOT))).body.items.map((i: any) => i.metadata.name)
    expect(whole).toEqual(['read-a', 't-1', 't-2', 't-3', 't-4'])
    for (const limit of [1, 2, 5, 6]) {
      expect((await pages(TOKENS, limit)).flat().map((i: any) => i.metadata.name)).toEqual(whole)
    }
  })

  it('selects by metadata.name; tokens have no labels', async () => {
    const names = async (query: string) => (await t.json('GET', `${TOKENS}?${query}`, undefined, bearer(ROOT))).body.items.map((i: any) => i.metadata.name)
    expect(await names('fieldSelector=metadata.name%3Dt-2')).toEqual(['t-2'])
    expect(await names('fieldSelector=metadata.name!%3Dt-2&limit=2')).toEqual(['read-a', 't-1'])
    expect(await names('labelSelector=team')).toEqual([])
    expect(await names('labelSelector=!team')).toHaveLength(5)
  })
})

describe('limit', () => {
  it.each([
    `${API}/namespaces`,
    `${API}/services`,
    `${API}/namespaces/a/pods`,
    `${API}/endpoints`,
    `${API}/namespaces/a/endpoints`,
    `${SLICES}/endpointslices`,
    `${SLICES}/namespaces/a/endpointslices`,
    TOKENS,
  ])('%s: a negative or non-integer limit is a 400 naming it; 0 means no limit', async (path) => {
    for (const limit of ['-1', 'abc', '1.5']) {
      const res = await t.json('GET', `${path}?limit=${limit}`, undefined, bearer(ROOT))
      expect(res.status).toBe(400)
      expect(res.body).toMatchObject({ kind: 'Status', code: 400 })
      expect(res.body.message).toContain('limit')
    }
    const all = await t.json('GET', path, undefined, bearer(ROOT))
    const zero = await t.json('GET', `${path}?limit=0`, undefined, bearer(ROOT))
    expect(zero.status).toBe(200)
    expect(zero.body.items).toEqual(all.body.items)
    expect(zero.body.metadata.continue).toBeUndefined()
  })
})

describe('limit is an int64, capped at the maximum page size', () => {
  const PODS = 1_200
  let big: TestApp

  beforeAll(async () => {
    big = await testApp({ env: { SWITCHBOARD_ADMIN_TOKEN: ROOT } })
    expect((await big.json('POST', `${API}/namespaces`, { metadata: { name: 'big' } }, bearer(ROOT))).status).toBe(201)
    await big.registry.importPods('big', Array.from({ length: PODS }, (_, i) => ({ metadata: { name: `p-${String(i).padStart(5, '0')}` } })))
  })

  it.each(['1e19', '9223372036854775808', '-1', '1.5', ' 5'])('limit=%s is a 400 naming limit, on every list', async (limit) => {
    for (const path of [`${API}/pods`, `${API}/namespaces/big/pods`, `${API}/endpoints`, `${SLICES}/endpointslices`, TOKENS]) {
      const res = await big.json('GET', `${path}?limit=${encodeURIComponent(limit)}`, undefined, bearer(ROOT))
      expect({ path, status: res.status }).toEqual({ path, status: 400 })
      expect(res.body).toMatchObject({ kind: 'Status', reason: 'BadRequest', code: 400 })
      expect(res.body.message).toContain('limit')
    }
  })

  it.each(['1001', '5000', '9223372036854775807'])('limit=%s answers 1,000 items and a continue token; the next page has the rest', async (limit) => {
    const first = await big.json('GET', `${API}/namespaces/big/pods?limit=${limit}`, undefined, bearer(ROOT))
    expect(first.status).toBe(200)
    expect(first.body.items).toHaveLength(1000)
    expect(first.body.metadata.continue).toBeTruthy()
    const rest = await big.json('GET', `${API}/namespaces/big/pods?limit=${limit}&continue=${encodeURIComponent(first.body.metadata.continue)}`, undefined, bearer(ROOT))
    expect(rest.body.items).toHaveLength(PODS - 1000)
    expect(rest.body.metadata.continue).toBeUndefined()
    expect([...first.body.items, ...rest.body.items].map((p: any) => p.metadata.name)).toEqual(Array.from({ length: PODS }, (_, i) => `p-${String(i).padStart(5, '0')}`))
  })
})

describe('an unpaged list is streamed, page by page, from one snapshot', () => {
  const PODS = 2_000
  let big: TestApp
  const names = Array.from({ length: PODS }, (_, i) => `p-${String(i).padStart(5, '0')}`)

  beforeAll(async () => {
    big = await testApp({ env: { SWITCHBOARD_ADMIN_TOKEN: ROOT }, database: 'file' })
    expect((await big.json('POST', `${API}/namespaces`, { metadata: { name: 'big' } }, bearer(ROOT))).status).toBe(201)
    await big.registry.importPods('big', names.map((name, i) => ({ metadata: { name, labels: { half: String(i % 2) } } })))
  })

  it('arrives in many chunks that make one list, every item at or before its resourceVersion', async () => {
    for (const path of [`${API}/pods`, `${API}/namespaces/big/pods`]) {
      const res = await big.req('GET', path, undefined, bearer(ROOT))
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toMatch(/^application\/json/)
      const parts = await chunks(res)
      expect(parts.length).toBeGreaterThan(2)
      const list = JSON.parse(parts.join(''))
      expect(list).toMatchObject({ apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: expect.any(String) } })
      expect(list.metadata.continue).toBeUndefined()
      expect(list.items.map((p: any) => p.metadata.name)).toEqual(names)
      for (const pod of list.items) expect(Number(pod.metadata.resourceVersion)).toBeLessThanOrEqual(Number(list.metadata.resourceVersion))
    }
  })

  it('does not see writes made while it is being read', async () => {
    const before = (await big.json('GET', `${API}/namespaces/big/pods?labelSelector=half%3D1`, undefined, bearer(ROOT))).body
    const res = await big.req('GET', `${API}/namespaces/big/pods?labelSelector=half%3D1`, undefined, bearer(ROOT))
    const parts = await chunks(res, async (n) => {
      if (n !== 1) return
      // After the first page: delete pods further on, add one, relabel one — none of it is in this list.
      for (const name of [names[1001], names[1999]]) expect((await big.req('DELETE', `${API}/namespaces/big/pods/${name}`, undefined, bearer(ROOT))).status).toBe(200)
      expect((await big.req('POST', `${API}/namespaces/big/pods`, { metadata: { name: 'p-01500x', labels: { half: '1' } } }, bearer(ROOT))).status).toBe(201)
      expect((await big.req('PATCH', `${API}/namespaces/big/pods/${names[1501]}`, { metadata: { labels: { half: '0' } } }, bearer(ROOT))).status).toBe(200)
    })
    const list = JSON.parse(parts.join(''))
    expect(list.metadata.resourceVersion).toBe(before.metadata.resourceVersion)
    expect(list.items).toEqual(before.items)
    // The writes happened: a list now sees them.
    const after = (await big.json('GET', `${API}/namespaces/big/pods?labelSelector=half%3D1`, undefined, bearer(ROOT))).body
    expect(Number(after.metadata.resourceVersion)).toBeGreaterThan(Number(list.metadata.resourceVersion))
    expect(after.items.map((p: any) => p.metadata.name)).toContain('p-01500x')
    expect(after.items.map((p: any) => p.metadata.name)).not.toContain(names[1001])
  })

  it('as a Table too: the column definitions once, a row per pod', async () => {
    const res = await big.req('GET', `${API}/namespaces/big/pods`, undefined, { ...bearer(ROOT), accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' })
    expect(res.status).toBe(200)
    const parts = await chunks(res)
    expect(parts.length).toBeGreaterThan(2)
    const table = JSON.parse(parts.join(''))
    expect(table).toMatchObject({ kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion: expect.any(String) } })
    expect(table.columnDefinitions.map((c: any) => c.name)).toContain('Name')
    const listed = (await big.json('GET', `${API}/namespaces/big/pods`, undefined, bearer(ROOT))).body.items.map((p: any) => p.metadata.name)
    expect(table.rows.map((r: any) => r.object.metadata.name)).toEqual(listed)
    expect(table.rows[0].cells[0]).toBe(listed[0])
  })

  it('an empty list is still one list', async () => {
    const res = await big.json('GET', `${API}/namespaces/big/pods?labelSelector=nothing`, undefined, bearer(ROOT))
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ kind: 'PodList', items: [] })
  })
})
