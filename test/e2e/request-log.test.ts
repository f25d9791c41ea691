/**
 * The request log and the audit lines of the real server (`npm start`), read from its
 * stdout and stderr. With LOG_FORMAT=json: one JSON line per request (time, level,
 * request id, method, route, status, duration, the token's name) and one audit line per
 * accepted write (actor, verb, kind, namespace, name, resourceVersion), none for dry runs
 * or refused writes. No secret appears anywhere in the output: not the root credential,
 * not an issued token sent in the Authorization header or in the DoH path
 * (`/dns-query/<token>`), not a wrong token, not a query string, not the path of an
 * unmatched request. With the default (plain)
 * format, audit lines are written as `switchboard audit: key=value …` and requests are not.
 */
import { describe, expect, it } from 'vitest'
import { ConfigError, parseConfig } from '../../worker/config'
import { useServer, type UsedServer } from '../support/server'
import { E2E_TOKEN, authHeaders } from '../support/auth'

const NS = '/api/v1/namespaces/default'
const TOKENS = '/apis/switchboard.dev/v1/tokens'
const POD_ROUTE = '/api/v1/namespaces/:namespace/pods/:name'
const WRONG_TOKEN = 'wrong-token-that-must-not-be-logged-31415926'
const QUERY_SECRET = 'query-secret-that-must-not-be-logged-27182818'

function pod(name: string, ip: string) {
  return {
    metadata: { name, labels: { app: 'web' } },
    spec: { containers: [{ name: 'app', ports: [{ name: 'http', containerPort: 8080 }] }] },
    status: { podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] },
  }
}

/** A DNS query for `name` (type A, RD set), built here byte by byte (RFC 1035 4.1). */
function dnsQuery(name: string): Uint8Array {
  const labels = name.split('.').flatMap((l) => [l.length, ...new TextEncoder().encode(l)])
  return new Uint8Array([0x00, 0x00, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, ...labels, 0, 0, 1, 0, 1])
}

const base64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url')

async function call(server: UsedServer, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
  const init: RequestInit = { method, headers: { ...headers } }
  if (body !== undefined) {
    init.body = body instanceof Uint8Array ? (body as unknown as BodyInit) : JSON.stringify(body)
    init.headers = { 'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json', ...headers }
  }
  return fetch(`${server.url}${path}`, init)
}

/** The JSON lines of the output so far. */
function jsonLines(server: UsedServer): Record<string, unknown>[] {
  return server.process
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
}

describe('LOG_FORMAT=json', () => {
  const server = useServer({ env: { LOG_FORMAT: 'json', LOG_LEVEL: 'info' } })

  it('writes one request line per request and one audit line per accepted write, and no secret', async () => {
    const root = authHeaders()
    // A token issued by the root credential, used in the header and in the DoH path.
    const issued = await call(server, 'POST', TOKENS, { metadata: { name: 'web-agent' }, spec: { role: 'register', namespaces: ['default'] } }, root)
    expect(issued.status).toBe(201)
    const secret = ((await issued.json()) as { status: { secret: string } }).status.secret
    const agent = { authorization: `Bearer ${secret}` }

    const sent: { id: string; method: string; route: string; status: number; token?: string; path: string }[] = []
    const send = async (method: string, path: string, route: string, body?: unknown, headers: Record<string, string> = {}) => {
      const res = await call(server, method, path, body, headers)
      const id = res.headers.get('x-request-id')!
      const token = headers.authorization === root.authorization ? 'admin' : headers.authorization === agent.authorization || path.startsWith(`/dns-query/${secret}`) ? 'web-agent' : undefined
      sent.push({ id, method, route, status: res.status, path, ...(token ? { token } : {}) })
      return res
    }

    const created = await send('POST', `${NS}/pods`, '/api/v1/namespaces/:namespace/pods', pod('web-1', '10.1.0.1'), agent)
    expect(created.status).toBe(201)
    const createdRv = ((await created.json()) as { metadata: { resourceVersion: string } }).metadata.resourceVersion
    const patched = await send('PATCH', `${NS}/pods/web-1`, POD_ROUTE, { metadata: { labels: { tier: 'front' } } }, root)
    expect(patched.status).toBe(200)
    const patchedRv = ((await patched.json()) as { metadata: { resourceVersion: string } }).metadata.resourceVersion
    // A dry run and a refused write: no audit line.
    expect((await send('POST', `${NS}/pods?dryRun=All`, '/api/v1/namespaces/:namespace/pods', pod('web-2', '10.1.0.2'), root)).status).toBe(201)
    expect((await send('POST', `${NS}/pods`, '/api/v1/namespaces/:namespace/pods', pod('web-1', '10.1.0.1'), root)).status).toBe(409)
    expect((await send('DELETE', `${NS}/services/web`, '/api/v1/namespaces/:namespace/services/:name', undefined, agent)).status).toBe(403)
    // DoH with the token in the path (GET and POST), and in the header; a wrong token; a secret in a query string.
    const q = dnsQuery('web.default.svc.cluster.local')
    expect((await send('GET', `/dns-query/${secret}?dns=${base64url(q)}`, '/dns-query/:token', undefined, { accept: 'application/dns-message' })).status).toBe(200)
    expect((await send('POST', `/dns-query/${secret}`, '/dns-query/:token', q, { 'content-type': 'application/dns-message' })).status).toBe(200)
    expect((await send('GET', `/dns-query?dns=${base64url(q)}`, '/dns-query', undefined, { ...agent, accept: 'application/dns-message' })).status).toBe(200)
    expect((await send('GET', `${NS}/pods/web-1`, POD_ROUTE, undefined, { authorization: `Bearer ${WRONG_TOKEN}` })).status).toBe(401)
    expect((await send('GET', `${NS}/pods?token=${QUERY_SECRET}&labelSelector=app%3Dweb`, '/api/v1/namespaces/:namespace/pods', undefined, root)).status).toBe(200)
    expect((await send('GET', `/nowhere/${QUERY_SECRET}x`, 'unmatched', undefined, root)).status).toBe(404)
    const deleted = await send('DELETE', `${NS}/pods/web-1`, POD_ROUTE, { gracePeriodSeconds: 0 }, agent)
    expect(deleted.status).toBe(200)
    const deletedRv = ((await deleted.json()) as { metadata: { resourceVersion: string } }).metadata.resourceVersion

    await expect.poll(() => jsonLines(server).filter((l) => l.msg === 'request').length, { timeout: 10_000 }).toBeGreaterThanOrEqual(sent.length + 1)
    const lines = jsonLines(server)
    const requests = lines.filter((l) => l.msg === 'request')
    for (const s of sent) {
      const line = requests.find((l) => l.requestId === s.id)
      expect(line, `${s.method} ${s.path}`).toBeDefined()
      expect(line).toMatchObject({ level: s.status >= 500 ? 'error' : 'info', method: s.method, route: s.route, status: s.status })
      expect(Date.parse(line!.time as string), 'time').not.toBeNaN()
      expect(line!.durationMs).toEqual(expect.any(Number))
      expect(line!.durationMs as number).toBeGreaterThanOrEqual(0)
      expect(line!.token).toBe(s.token)
      expect(String(line!.path)).not.toContain('?')
    }
    expect(requests.filter((l) => l.route === '/dns-query/:token').map((l) => l.path)).toEqual(['/dns-query/<redacted>', '/dns-query/<redacted>'])
    expect(requests.find((l) => l.route === 'unmatched')!.path).toBeUndefined()

    const audits = lines.filter((l) => l.msg === 'audit')
    const strip = (l: Record<string, unknown>) => {
      const { time: _t, level: _l, msg: _m, ...rest } = l
      return rest
    }
    expect(audits.every((l) => l.level === 'info')).toBe(true)
    expect(audits.map(strip)).toEqual([
      { actor: 'admin', verb: 'create', kind: 'Token', namespace: '', name: 'web-agent', resourceVersion: expect.any(String) },
      { actor: 'web-agent', verb: 'create', kind: 'Pod', namespace: 'default', name: 'web-1', resourceVersion: createdRv },
      { actor: 'admin', verb: 'patch', kind: 'Pod', namespace: 'default', name: 'web-1', resourceVersion: patchedRv },
      { actor: 'web-agent', verb: 'delete', kind: 'Pod', namespace: 'default', name: 'web-1', resourceVersion: deletedRv },
    ])

    const output = server.process.output()
    for (const never of [E2E_TOKEN, secret, WRONG_TOKEN, QUERY_SECRET]) expect(output).not.toContain(never)
  })
})

describe('/metrics of the Node server', () => {
  const server = useServer()

  it("reports the event loop's delay beside the request counters, to the root credential", async () => {
    expect((await call(server, 'GET', '/metrics')).status).toBe(401)
    const res = await call(server, 'GET', '/metrics', undefined, authHeaders())
    expect(res.status).toBe(200)
    const text = await res.text()
    for (const name of ['switchboard_event_loop_lag_seconds', 'switchboard_event_loop_lag_p99_seconds', 'switchboard_event_loop_lag_max_seconds']) {
      expect(text).toContain(`# TYPE ${name} gauge\n`)
      expect(Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1])).toBeGreaterThanOrEqual(0)
    }
    expect(text).toMatch(/^switchboard_database_size_bytes \d+$/m)
    expect(text).toMatch(/^switchboard_http_requests_total\{method="GET",route="\/metrics",code="401"\} 1$/m)
    expect(text).not.toContain(E2E_TOKEN)
  })
})

describe('LOG_FORMAT unset (plain)', () => {
  const server = useServer()

  it('writes audit lines as key=value text and no request lines', async () => {
    const res = await call(server, 'POST', `${NS}/pods`, pod('plain-1', '10.1.0.9'), authHeaders())
    expect(res.status).toBe(201)
    const rv = ((await res.json()) as { metadata: { resourceVersion: string } }).metadata.resourceVersion
    expect((await call(server, 'GET', `${NS}/pods/plain-1`, undefined, authHeaders())).status).toBe(200)
    const line = `switchboard audit: actor=admin verb=create kind=Pod namespace=default name=plain-1 resourceVersion=${rv}`
    await expect.poll(() => server.process.output(), { timeout: 10_000 }).toContain(line)
    expect(jsonLines(server)).toEqual([])
    expect(server.process.output()).not.toContain('switchboard request')
    expect(server.process.output()).not.toContain(E2E_TOKEN)
  })
})

describe('LOG_FORMAT and LOG_LEVEL settings', () => {
  it('refuses an unknown format or level, naming the variable', () => {
    expect(() => parseConfig({ LOG_FORMAT: 'xml' })).toThrow(ConfigError)
    expect(() => parseConfig({ LOG_FORMAT: 'xml' })).toThrow(/LOG_FORMAT: must be one of plain, json, got "xml"/)
    expect(() => parseConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL: must be one of error, warn, info, debug, got "loud"/)
    expect(parseConfig({})).toMatchObject({ logFormat: 'plain', logLevel: 'info' })
    expect(parseConfig({ LOG_FORMAT: 'JSON', LOG_LEVEL: 'Warn' })).toMatchObject({ logFormat: 'json', logLevel: 'warn' })
  })
})
