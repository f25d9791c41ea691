/**
 * CORS: DNS over HTTPS answers pages of every origin, preflights included (a POST of
 * application/dns-message and any request with Authorization are preflighted); the API
 * answers only the origins of CORS_ORIGINS. Preflights need no token and are not failed
 * authentications. Headless Chromium checks the same from real pages
 * (test/e2e/cors-browser.test.ts).
 */
import { describe, expect, it } from 'vitest'
import { ConfigError, parseConfig } from '../../worker/config'
import { RCODE, TYPE, decodeMessage } from '../../worker/dns/wire'
import { CORS_MAX_AGE } from '../../worker/http/cors'
import { testApp } from '../support/app'
import { wireQuery } from '../support/dns-query'

const ROOT = 'root-credential-for-the-cors-tests-0123456789ab'
const PAGE = 'http://page.example:8080'
const OTHER = 'http://other.example'
const auth = { authorization: `Bearer ${ROOT}` }
const NAMESPACES = '/api/v1/namespaces'
const WEB = 'web.default.svc.cluster.local'

const preflight = (method: string, headers: string, origin = PAGE): Record<string, string> => ({
  origin,
  'access-control-request-method': method,
  'access-control-request-headers': headers,
})

const list = (value: string | null) => (value ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean)

const query = (name: string) => wireQuery(name, TYPE.A, { id: 0x1234 })

async function seeded(env: Record<string, string> = {}) {
  const t = await testApp({ env: { SWITCHBOARD_ADMIN_TOKEN: ROOT, ...env } })
  expect((await t.req('POST', '/api/v1/namespaces/default/services', { metadata: { name: 'web' }, spec: { clusterIP: '10.96.0.10', ports: [{ port: 80 }] } }, auth)).status).toBe(201)
  return t
}

describe('DNS over HTTPS answers every origin', () => {
  for (const path of ['/dns-query', `/dns-query/${ROOT}`, '/dns-query/not-a-token', '/resolve']) {
    it(`a preflight of ${path} needs no token and allows the DoH methods and headers`, async () => {
      const t = await seeded()
      const method = path === '/resolve' ? 'GET' : 'POST'
      const res = await t.req('OPTIONS', path, undefined, preflight(method, 'content-type,authorization'))
      expect(res.status).toBe(204)
      expect(res.headers.get('access-control-allow-origin')).toBe('*')
      expect(list(res.headers.get('access-control-allow-methods'))).toEqual(expect.arrayContaining(['get', 'post']))
      expect(list(res.headers.get('access-control-allow-headers'))).toEqual(expect.arrayContaining(['content-type', 'authorization', 'accept']))
      expect(res.headers.get('access-control-max-age')).toBe(String(CORS_MAX_AGE))
      expect(res.headers.get('www-authenticate')).toBeNull()
    })
  }

  it('a wire POST from a page carries Access-Control-Allow-Origin: * with its answer', async () => {
    const t = await seeded()
    const res = await t.req('POST', '/dns-query', query(WEB), { ...auth, origin: PAGE, 'content-type': 'application/dns-message' })
    expect(res.status).toBe(200)
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    expect(list(res.headers.get('access-control-expose-headers'))).toContain('x-request-id')
    const answer = decodeMessage(new Uint8Array(await res.arrayBuffer()))
    expect(answer.header.rcode).toBe(RCODE.NOERROR)
    expect(answer.answers.map((a) => a.data)).toEqual([expect.objectContaining({ address: '10.96.0.10' })])
  })

  it('a JSON GET from a page, and a refusal for want of a token, are readable by the page', async () => {
    const t = await seeded()
    const ok = await t.req('GET', `/resolve?name=${WEB}&type=A`, undefined, { ...auth, origin: PAGE })
    expect(ok.status).toBe(200)
    expect(ok.headers.get('access-control-allow-origin')).toBe('*')
    expect((await ok.json()).Answer).toEqual([expect.objectContaining({ name: `${WEB}.`, data: '10.96.0.10' })])
    const refused = await t.req('GET', `/dns-query?name=${WEB}`, undefined, { origin: PAGE })
    expect(refused.status).toBe(401)
    expect(refused.headers.get('access-control-allow-origin')).toBe('*')
    const badType = await t.req('POST', '/dns-query', 'x', { ...auth, origin: PAGE, 'content-type': 'text/plain' })
    expect(badType.status).toBe(415)
    expect(badType.headers.get('access-control-allow-origin')).toBe('*')
  })

  it('an OPTIONS request that is not a preflight is still refused with 405', async () => {
    const t = await seeded()
    const res = await t.req('OPTIONS', '/dns-query', undefined, { ...auth, origin: PAGE })
    expect(res.status).toBe(405)
    expect(res.headers.get('allow')).toBe('GET, POST')
  })
})

describe('the API answers only the origins of CORS_ORIGINS', () => {
  it('by default no origin: no CORS headers, and preflights are answered without a grant', async () => {
    const t = await seeded()
    const pre = await t.req('OPTIONS', NAMESPACES, undefined, preflight('POST', 'authorization,content-type'))
    expect(pre.status).toBe(204)
    expect(pre.headers.get('access-control-allow-origin')).toBeNull()
    const res = await t.req('GET', NAMESPACES, undefined, { ...auth, origin: PAGE })
    expect(res.status).toBe(200)
    expect(res.headers.get('access-control-allow-origin')).toBeNull()
    expect(res.headers.get('access-control-expose-headers')).toBeNull()
  })

  it('a listed origin is granted, with Authorization allowed and the headers clients read exposed', async () => {
    const t = await seeded({ CORS_ORIGINS: `${OTHER}, ${PAGE}` })
    const pre = await t.req('OPTIONS', `${NAMESPACES}/default/services/web`, undefined, preflight('PUT', 'authorization,content-type,if-match'))
    expect(pre.status).toBe(204)
    expect(pre.headers.get('access-control-allow-origin')).toBe(PAGE)
    expect(list(pre.headers.get('vary'))).toContain('origin')
    expect(list(pre.headers.get('access-control-allow-methods'))).toEqual(expect.arrayContaining(['get', 'post', 'put', 'patch', 'delete']))
    expect(list(pre.headers.get('access-control-allow-headers'))).toEqual(expect.arrayContaining(['authorization', 'content-type', 'if-match']))
    expect(pre.headers.get('access-control-max-age')).toBe(String(CORS_MAX_AGE))

    const res = await t.req('GET', `${NAMESPACES}/default/services/web`, undefined, { ...auth, origin: PAGE })
    expect(res.status).toBe(200)
    expect(res.headers.get('access-control-allow-origin')).toBe(PAGE)
    expect(list(res.headers.get('vary'))).toContain('origin')
    expect(list(res.headers.get('access-control-expose-headers'))).toEqual(expect.arrayContaining(['warning', 'x-request-id', 'etag', 'retry-after']))
    expect(res.headers.get('access-control-allow-credentials')).toBeNull()

    // A refusal is readable too, so the page can tell a missing token from a network error.
    const refused = await t.req('GET', NAMESPACES, undefined, { origin: PAGE })
    expect(refused.status).toBe(401)
    expect(refused.headers.get('access-control-allow-origin')).toBe(PAGE)
  })

  it('an unlisted origin gets no grant, and Vary: Origin keeps caches from mixing the two', async () => {
    const t = await seeded({ CORS_ORIGINS: PAGE })
    const pre = await t.req('OPTIONS', NAMESPACES, undefined, preflight('POST', 'authorization', 'http://evil.example'))
    expect(pre.status).toBe(204)
    expect(pre.headers.get('access-control-allow-origin')).toBeNull()
    expect(pre.headers.get('access-control-allow-methods')).not.toBeNull() // harmless without the origin grant
    const res = await t.req('GET', NAMESPACES, undefined, { ...auth, origin: 'http://evil.example' })
    expect(res.status).toBe(200)
    expect(res.headers.get('access-control-allow-origin')).toBeNull()
    expect(list(res.headers.get('vary'))).toContain('origin')
    const none = await t.req('GET', NAMESPACES, undefined, auth)
    expect(none.headers.get('access-control-allow-origin')).toBeNull()
    expect(list(none.headers.get('vary'))).toContain('origin')
  })
})

describe('preflights and access control', () => {
  it('preflights, even to /dns-query/<wrong token>, are not failed authentications', async () => {
    const t = await seeded({ CORS_ORIGINS: PAGE, AUTH_FAILURE_BURST: '1', AUTH_FAILURES_PER_MINUTE: '1' })
    const from = { 'cf-connecting-ip': '192.0.2.1' }
    for (let i = 0; i < 5; i++) {
      expect((await t.req('OPTIONS', '/dns-query/wrong-token', undefined, { ...from, ...preflight('POST', 'content-type') })).status).toBe(204)
      expect((await t.req('OPTIONS', NAMESPACES, undefined, { ...from, ...preflight('GET', 'authorization', 'http://evil.example') })).status).toBe(204)
    }
    // The first real failure is a 401; only the one after it is over the limit of one.
    const wrong = { ...from, authorization: 'Bearer wrong-token', origin: PAGE }
    expect((await t.req('GET', NAMESPACES, undefined, wrong)).status).toBe(401)
    const second = await t.req('GET', NAMESPACES, undefined, wrong)
    expect(second.status).toBe(429)
    expect(second.headers.get('access-control-allow-origin')).toBe(PAGE)
  })

  it('a preflight changes nothing', async () => {
    const t = await seeded({ CORS_ORIGINS: PAGE })
    const before = (await t.json('GET', NAMESPACES, undefined, auth)).body.metadata.resourceVersion
    for (const method of ['POST', 'DELETE', 'PUT']) {
      expect((await t.req('OPTIONS', `${NAMESPACES}/default`, undefined, preflight(method, 'authorization'))).status).toBe(204)
    }
    expect((await t.json('GET', NAMESPACES, undefined, auth)).body.metadata.resourceVersion).toBe(before)
  })
})

describe('CORS_ORIGINS', () => {
  it('takes exact origins, comma-separated', () => {
    expect(parseConfig({}).corsOrigins).toEqual([])
    expect(parseConfig({ CORS_ORIGINS: 'https://a.example, http://127.0.0.1:5173' }).corsOrigins).toEqual(['https://a.example', 'http://127.0.0.1:5173'])
  })

  for (const bad of ['*', 'https://a.example/', 'https://a.example/app', 'a.example', 'ftp://a.example', 'https://A.example', 'https://a.example:443']) {
    it(`refuses ${JSON.stringify(bad)}, naming the variable`, () => {
      expect(() => parseConfig({ CORS_ORIGINS: bad })).toThrow(ConfigError)
      expect(() => parseConfig({ CORS_ORIGINS: `https://ok.example,${bad}` })).toThrow(/CORS_ORIGINS: must be exact origins/)
    })
  }
})
