/**
 * Paging of the Endpoints, EndpointSlice and Token lists (`limit` and `continue`, as the
 * object lists page): pages concatenate to the whole list in order, a page never holds
 * more than `limit` items, a token scoped to one namespace never sees another one on any
 * page, and a negative limit is a 400 on every list.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { testApp, type TestApp } from '../support/app'

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
