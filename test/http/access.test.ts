/**
 * Access control, route by route: every route the API serves, called by every kind of
 * caller (the root credential, read/register/admin tokens scoped to `team-a`, an admin
 * token over every namespace, no token, a revoked, an expired and an unknown token), on
 * objects in the caller's own namespace and in another one. Refusals never tell whether
 * an object exists; DNS answers names the token does not reach as if they did not
 * exist; secrets appear only in the answer that creates them; every write records the
 * token that made it.
 */
import { inspect } from 'node:util'
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { seededClock } from '../../worker/wiring'
import { RCODE, TYPE, decodeMessage, type Message } from '../../worker/dns/wire'
import { MODIFIED_BY } from '../../worker/registry/registry'
import { sha256, type Role } from '../../worker/registry/tokens'
import { testApp, type TestApp } from '../support/app'
import { base64url as b64url, wireQuery as dnsQuery } from '../support/dns-query'

const ROOT = 'root-credential-for-the-access-tests-0123456789'
const ENV = { SWITCHBOARD_ADMIN_TOKEN: ROOT }
const OWN = 'team-a'
const OTHER = 'team-b'
/** A namespace that does not exist: refusals there must look exactly like refusals in OTHER. */
const NOWHERE = 'team-z'

const API = '/api/v1'
const SLICES = '/apis/discovery.k8s.io/v1'
const TOKENS = '/apis/switchboard.dev/v1/tokens'
const ns = (namespace: string) => `${API}/namespaces/${namespace}`

const bearer = (secret: string): Record<string, string> => ({ authorization: `Bearer ${secret}` })

// ---- objects ----

let ipSeq = 0
function nextIP(): string {
  ipSeq++
  return `10.200.${Math.floor(ipSeq / 250)}.${(ipSeq % 250) + 1}`
}

function pod(name: string, app: string, ip = nextIP(), extra: { annotations?: Record<string, string>; hostname?: string; subdomain?: string } = {}) {
  return {
    metadata: { name, labels: { app }, ...(extra.annotations ? { annotations: extra.annotations } : {}) },
    spec: {
      ...(extra.hostname ? { hostname: extra.hostname } : {}),
      ...(extra.subdomain ? { subdomain: extra.subdomain } : {}),
      containers: [{ name: 'app', ports: [{ name: 'http', containerPort: 8080 }] }],
    },
    status: { podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] },
  }
}

function service(name: string, app = name, spec: Record<string, unknown> = {}) {
  return { metadata: { name }, spec: { selector: { app }, ports: [{ name: 'http', port: 80, targetPort: 'http' }], ...spec } }
}

const selectorless = (name: string) => ({ metadata: { name }, spec: { ports: [{ name: 'http', port: 80 }] } })
const endpoints = (name: string, ip = nextIP()) => ({ metadata: { name }, subsets: [{ addresses: [{ ip }], ports: [{ name: 'http', port: 80 }] }] })
const tokenBody = (name: string, role: Role, namespaces: string[], expiresAt?: string) => ({
  metadata: { name },
  spec: { role, namespaces, ...(expiresAt ? { expiresAt } : {}) },
})

// ---- DNS messages ----



// ---- responses ----

interface Req {
  path: string
  body?: unknown
  headers?: Record<string, string>
}

/** What a caller can observe of an answer, without its request ID. */
interface Seen {
  status: number
  body: string
  headers: [string, string][]
}

async function seen(res: Response): Promise<Seen> {
  const headers = [...res.headers.entries()].filter(([k]) => k.toLowerCase() !== 'x-request-id').sort(([a], [b]) => a.localeCompare(b))
  return { status: res.status, body: await res.text(), headers }
}

/** The answer with one namespace name written as another, to compare refusals across namespaces. */
function renamed(s: Seen, from: string, to: string): Seen {
  const swap = (x: string) => x.split(from).join(to)
  return { status: s.status, body: swap(s.body), headers: s.headers.map(([k, v]) => [k, swap(v)] as [string, string]) }
}

async function send(t: TestApp, method: string, req: Req, secret: string | null): Promise<Response> {
  return t.req(method, req.path, req.body, { ...(req.headers ?? {}), ...(secret === null ? {} : bearer(secret)) })
}

/** Sends as the root credential and fails loudly unless the answer is a success. */
async function asRoot<T = any>(t: TestApp, method: string, path: string, body?: unknown): Promise<T> {
  const res = await t.json<T>(method, path, body, bearer(ROOT))
  if (res.status >= 300) throw new Error(`${method} ${path} as root: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body
}

// ---- the callers ----

interface Caller {
  label: string
  /** Null for a caller that must be refused with 401 (no token, revoked, expired, unknown). */
  role: Role | null
  namespaces: string[] | '*'
}

const CALLERS: Caller[] = [
  { label: 'root credential', role: 'admin', namespaces: '*' },
  { label: 'read token on team-a', role: 'read', namespaces: [OWN] },
  { label: 'register token on team-a', role: 'register', namespaces: [OWN] },
  { label: 'admin token on team-a', role: 'admin', namespaces: [OWN] },
  { label: 'admin token on *', role: 'admin', namespaces: '*' },
  { label: 'no token', role: null, namespaces: [] },
  { label: 'revoked token', role: null, namespaces: [] },
  { label: 'expired token', role: null, namespaces: [] },
  { label: 'unknown token', role: null, namespaces: [] },
]

// ---- the routes ----

type Scope =
  /** Open to anyone. */
  | 'public'
  /** Any valid token (DNS). */
  | 'dns'
  /** The role, whatever namespaces the token reaches. */
  | 'any'
  /** The role over every namespace. */
  | 'everywhere'
  /** The role over the namespace in the path. */
  | 'namespace'

interface Route {
  label: string
  method: string
  scope: Scope
  role?: Role
  /** The status of an allowed call. */
  ok: number
  /** Creates (as root) what the call needs in `namespace` and returns the call. */
  request: (t: TestApp, namespace: string, id: string) => Promise<Req>
  /** Calls on objects that do not exist (or, for a create, that do): refused exactly like `request`. */
  twins?: (namespace: string) => Req[]
  /** Puts back what an allowed call took away. */
  after?: (t: TestApp, namespace: string) => Promise<void>
}

const RANK: Record<Role, number> = { read: 0, register: 1, admin: 2 }

function expectedStatus(route: Route, caller: Caller, namespace: string): number {
  if (route.scope === 'public') return route.ok
  if (caller.role === null) return 401
  if (route.scope === 'dns') return route.ok
  if (RANK[caller.role] < RANK[route.role!]) return 403
  if (route.scope === 'everywhere' && caller.namespaces !== '*') return 403
  if (route.scope === 'namespace' && caller.namespaces !== '*' && !caller.namespaces.includes(namespace)) return 403
  return route.ok
}

/** What every namespace starts with; the cluster-wide list checks rely on it. */
async function seedNamespace(t: TestApp, namespace: string): Promise<void> {
  await asRoot(t, 'POST', `${API}/namespaces`, { metadata: { name: namespace } })
  await asRoot(t, 'POST', `${ns(namespace)}/services`, service('web'))
  await asRoot(t, 'POST', `${ns(namespace)}/pods`, pod('web-1', 'web'))
  await asRoot(t, 'POST', `${ns(namespace)}/services`, selectorless('ext'))
  await asRoot(t, 'PUT', `${ns(namespace)}/endpoints/ext`, endpoints('ext'))
}

async function seedPod(t: TestApp, namespace: string, name: string, app = name): Promise<void> {
  await asRoot(t, 'POST', `${ns(namespace)}/pods`, pod(name, app))
}

async function seedServiceWithPod(t: TestApp, namespace: string, name: string): Promise<void> {
  await asRoot(t, 'POST', `${ns(namespace)}/services`, service(name))
  await seedPod(t, namespace, `${name}-0`, name)
}

const namespaced = (scope: Scope) => scope === 'namespace'

/** Issues again, under their callers, the tokens bound to a namespace that was deleted and re-created (set by the matrix). */
let reissueTokens: (t: TestApp, namespace: string) => Promise<void> = async () => {}

const ROUTES: Route[] = [
  // namespaces
  { label: 'GET /api/v1/namespaces', method: 'GET', scope: 'any', role: 'read', ok: 200, request: async () => ({ path: `${API}/namespaces` }) },
  {
    label: 'POST /api/v1/namespaces',
    method: 'POST',
    scope: 'everywhere',
    role: 'admin',
    ok: 201,
    request: async (_t, _ns, id) => ({ path: `${API}/namespaces`, body: { metadata: { name: `ns-${id}` } } }),
    twins: () => [{ path: `${API}/namespaces`, body: { metadata: { name: OTHER } } }],
  },
  { label: 'GET /api/v1/namespaces/{ns}', method: 'GET', scope: 'namespace', role: 'read', ok: 200, request: async (_t, n) => ({ path: ns(n) }) },
  {
    label: 'DELETE /api/v1/namespaces/{ns}',
    method: 'DELETE',
    scope: 'namespace',
    role: 'admin',
    ok: 200,
    request: async (_t, n) => ({ path: ns(n) }),
    // The deletion revoked the tokens bound to the namespace: the re-created one gets new ones.
    after: async (t, n) => {
      await seedNamespace(t, n)
      await reissueTokens(t, n)
    },
  },

  // services
  { label: 'GET /api/v1/services', method: 'GET', scope: 'any', role: 'read', ok: 200, request: async () => ({ path: `${API}/services` }) },
  { label: 'GET services', method: 'GET', scope: 'namespace', role: 'read', ok: 200, request: async (_t, n) => ({ path: `${ns(n)}/services` }) },
  {
    label: 'POST services',
    method: 'POST',
    scope: 'namespace',
    role: 'admin',
    ok: 201,
    request: async (_t, n, id) => ({ path: `${ns(n)}/services`, body: service(`svc-${id}`) }),
    twins: (n) => [{ path: `${ns(n)}/services`, body: service('web') }],
  },
  ...(['GET', 'PUT', 'PATCH', 'DELETE'] as const).map(
    (method): Route => ({
      label: `${method} services/{name}`,
      method,
      scope: 'namespace',
      role: method === 'GET' ? 'read' : 'admin',
      ok: 200,
      request: async (t, n, id) => {
        const name = `svc-${id}`
        await asRoot(t, 'POST', `${ns(n)}/services`, service(name))
        const body = method === 'PUT' ? service(name, 'replaced') : method === 'PATCH' ? { metadata: { labels: { patched: 'yes' } } } : undefined
        return { path: `${ns(n)}/services/${name}`, body }
      },
      twins: (n) => [
        {
          path: `${ns(n)}/services/ghost`,
          body: method === 'PUT' ? service('ghost', 'replaced') : method === 'PATCH' ? { metadata: { labels: { patched: 'yes' } } } : undefined,
        },
      ],
    }),
  ),
  {
    label: 'GET services/{name}/pick',
    method: 'GET',
    scope: 'namespace',
    role: 'read',
    ok: 200,
    request: async (t, n, id) => {
      await seedServiceWithPod(t, n, `pick-${id}`)
      return { path: `${ns(n)}/services/pick-${id}/pick` }
    },
    twins: (n) => [{ path: `${ns(n)}/services/ghost/pick` }],
  },

  // pods
  { label: 'GET /api/v1/pods', method: 'GET', scope: 'any', role: 'read', ok: 200, request: async () => ({ path: `${API}/pods` }) },
  { label: 'GET pods', method: 'GET', scope: 'namespace', role: 'read', ok: 200, request: async (_t, n) => ({ path: `${ns(n)}/pods` }) },
  {
    label: 'POST pods',
    method: 'POST',
    scope: 'namespace',
    role: 'register',
    ok: 201,
    request: async (_t, n, id) => ({ path: `${ns(n)}/pods`, body: pod(`pod-${id}`, 'web', '10.250.0.1') }),
    twins: (n) => [{ path: `${ns(n)}/pods`, body: pod('web-1', 'web', '10.250.0.1') }],
  },
  ...(['GET', 'PUT', 'PATCH', 'DELETE'] as const).map(
    (method): Route => ({
      label: `${method} pods/{name}`,
      method,
      scope: 'namespace',
      role: method === 'GET' ? 'read' : 'register',
      ok: 200,
      request: async (t, n, id) => {
        const name = `pod-${id}`
        await seedPod(t, n, name, 'web')
        const body = method === 'PUT' ? pod(name, 'replaced', '10.250.0.2') : method === 'PATCH' ? { metadata: { labels: { patched: 'yes' } } } : undefined
        return { path: `${ns(n)}/pods/${name}`, body }
      },
      twins: (n) => [
        {
          path: `${ns(n)}/pods/ghost`,
          body: method === 'PUT' ? pod('ghost', 'replaced', '10.250.0.2') : method === 'PATCH' ? { metadata: { labels: { patched: 'yes' } } } : undefined,
        },
      ],
    }),
  ),
  ...(['GET', 'PUT', 'PATCH'] as const).map((method): Route => {
    const notReady = { status: { conditions: [{ type: 'Ready', status: 'False' }] } }
    return {
      label: `${method} pods/{name}/status`,
      method,
      scope: 'namespace',
      role: method === 'GET' ? 'read' : 'register',
      ok: 200,
      request: async (t, n, id) => {
        const name = `pod-${id}`
        await seedPod(t, n, name, 'web')
        const body = method === 'PUT' ? { ...pod(name, 'web', '10.250.0.3'), ...notReady } : method === 'PATCH' ? notReady : undefined
        return { path: `${ns(n)}/pods/${name}/status`, body }
      },
      twins: (n) => [
        { path: `${ns(n)}/pods/ghost/status`, body: method === 'PUT' ? { ...pod('ghost', 'web', '10.250.0.3'), ...notReady } : method === 'PATCH' ? notReady : undefined },
      ],
    }
  }),

  // endpoints
  { label: 'GET /api/v1/endpoints', method: 'GET', scope: 'any', role: 'read', ok: 200, request: async () => ({ path: `${API}/endpoints` }) },
  { label: 'GET endpoints', method: 'GET', scope: 'namespace', role: 'read', ok: 200, request: async (_t, n) => ({ path: `${ns(n)}/endpoints` }) },
  {
    label: 'POST endpoints',
    method: 'POST',
    scope: 'namespace',
    role: 'admin',
    ok: 201,
    request: async (_t, n, id) => ({ path: `${ns(n)}/endpoints`, body: endpoints(`ep-${id}`, '10.250.0.4') }),
    twins: (n) => [{ path: `${ns(n)}/endpoints`, body: endpoints('ext', '10.250.0.4') }],
  },
  ...(['GET', 'PUT', 'DELETE'] as const).map(
    (method): Route => ({
      label: `${method} endpoints/{name}`,
      method,
      scope: 'namespace',
      role: method === 'GET' ? 'read' : 'admin',
      ok: 200,
      request: async (t, n, id) => {
        const name = `ep-${id}`
        await asRoot(t, 'POST', `${ns(n)}/services`, selectorless(name))
        await asRoot(t, 'PUT', `${ns(n)}/endpoints/${name}`, endpoints(name))
        return { path: `${ns(n)}/endpoints/${name}`, body: method === 'PUT' ? endpoints(name, '10.250.0.5') : undefined }
      },
      twins: (n) => [{ path: `${ns(n)}/endpoints/ghost`, body: method === 'PUT' ? endpoints('ghost', '10.250.0.5') : undefined }],
    }),
  ),

  // endpointslices
  { label: 'GET /apis/discovery.k8s.io/v1/endpointslices', method: 'GET', scope: 'any', role: 'read', ok: 200, request: async () => ({ path: `${SLICES}/endpointslices` }) },
  {
    label: 'GET endpointslices',
    method: 'GET',
    scope: 'namespace',
    role: 'read',
    ok: 200,
    request: async (_t, n) => ({ path: `${SLICES}/namespaces/${n}/endpointslices` }),
  },
  {
    label: 'GET endpointslices/{name}',
    method: 'GET',
    scope: 'namespace',
    role: 'read',
    ok: 200,
    request: async (t, n, id) => {
      await seedServiceWithPod(t, n, `slice-${id}`)
      const selector = encodeURIComponent(`kubernetes.io/service-name=slice-${id}`)
      const list = await asRoot(t, 'GET', `${SLICES}/namespaces/${n}/endpointslices?labelSelector=${selector}`)
      return { path: `${SLICES}/namespaces/${n}/endpointslices/${list.items[0].metadata.name}` }
    },
    twins: (n) => [{ path: `${SLICES}/namespaces/${n}/endpointslices/ghost-abcde` }],
  },

  // tokens
  { label: 'GET tokens', method: 'GET', scope: 'everywhere', role: 'admin', ok: 200, request: async () => ({ path: TOKENS }) },
  {
    label: 'POST tokens',
    method: 'POST',
    scope: 'everywhere',
    role: 'admin',
    ok: 201,
    request: async (_t, _n, id) => ({ path: TOKENS, body: tokenBody(`tok-${id}`, 'read', [OWN]) }),
    twins: () => [{ path: TOKENS, body: tokenBody('reader', 'read', [OWN]) }],
  },
  ...(['GET', 'DELETE'] as const).map(
    (method): Route => ({
      label: `${method} tokens/{name}`,
      method,
      scope: 'everywhere',
      role: 'admin',
      ok: 200,
      request: async (t, _n, id) => {
        await asRoot(t, 'POST', TOKENS, tokenBody(`tok-${id}`, 'read', [OWN]))
        return { path: `${TOKENS}/tok-${id}` }
      },
      twins: () => [{ path: `${TOKENS}/ghost` }],
    }),
  ),

  // discovery
  ...['/api', '/api/v1', '/apis', '/apis/discovery.k8s.io', '/apis/discovery.k8s.io/v1'].map(
    (path): Route => ({ label: `GET ${path}`, method: 'GET', scope: 'any', role: 'read', ok: 200, request: async () => ({ path }) }),
  ),

  // DNS over HTTPS
  {
    label: 'GET /dns-query (wire)',
    method: 'GET',
    scope: 'dns',
    ok: 200,
    request: async () => ({ path: `/dns-query?dns=${b64url(dnsQuery('web.team-a.svc.cluster.local', TYPE.A))}` }),
  },
  {
    label: 'POST /dns-query (wire)',
    method: 'POST',
    scope: 'dns',
    ok: 200,
    request: async () => ({ path: '/dns-query', body: dnsQuery('web.team-a.svc.cluster.local', TYPE.A), headers: { 'content-type': 'application/dns-message' } }),
  },
  {
    label: 'GET /dns-query (JSON)',
    method: 'GET',
    scope: 'dns',
    ok: 200,
    request: async () => ({ path: '/dns-query?name=web.team-a.svc.cluster.local&type=A', headers: { accept: 'application/dns-json' } }),
  },
  { label: 'GET /resolve', method: 'GET', scope: 'dns', ok: 200, request: async () => ({ path: '/resolve?name=web.team-a.svc.cluster.local&type=A' }) },

  // open
  { label: 'GET /healthz', method: 'GET', scope: 'public', ok: 200, request: async () => ({ path: '/healthz' }) },
  { label: 'GET /version', method: 'GET', scope: 'public', ok: 200, request: async () => ({ path: '/version' }) },
]

interface Case {
  route: Route
  caller: Caller
  target: string
  expected: number
}

const CASES: Case[] = ROUTES.flatMap((route) =>
  (namespaced(route.scope) ? [OWN, OTHER] : [OWN]).flatMap((target) =>
    CALLERS.map((caller) => ({ route, caller, target, expected: expectedStatus(route, caller, target) })),
  ),
)

describe('every route × caller × namespace', () => {
  let t: TestApp
  const secrets = new Map<string, string | null>()
  let seq = 0

  beforeAll(async () => {
    // The clock runs with real time, plus a skew that moves it past the expired token's expiry.
    let skew = 0
    t = await testApp({ env: ENV, clock: seededClock(42, () => new Date(Date.now() + skew)) })
    await seedNamespace(t, OWN)
    await seedNamespace(t, OTHER)
    const create = async (name: string, role: Role, namespaces: string[], expiresAt?: string) =>
      (await asRoot(t, 'POST', TOKENS, tokenBody(name, role, namespaces, expiresAt))).status.secret as string
    secrets.set('root credential', ROOT)
    const own: [string, string, Role][] = [
      ['read token on team-a', 'reader', 'read'],
      ['register token on team-a', 'registrar', 'register'],
      ['admin token on team-a', 'team-admin', 'admin'],
    ]
    for (const [label, name, role] of own) secrets.set(label, await create(name, role, [OWN]))
    reissueTokens = async (t, namespace) => {
      if (namespace !== OWN) return
      for (const [label, name, role] of own) {
        await asRoot(t, 'DELETE', `${TOKENS}/${name}`)
        secrets.set(label, await create(name, role, [OWN]))
      }
    }
    secrets.set('admin token on *', await create('cluster-admin', 'admin', ['*']))
    secrets.set('no token', null)
    // Expired: issued to expire a minute from now, and the clock then moved an hour on.
    secrets.set('expired token', await create('expired', 'admin', ['*'], new Date(Date.now() + 60_000).toISOString()))
    skew = 3_600_000
    secrets.set('unknown token', `sb_${'x'.repeat(43)}`)

    // Revoked: it worked, it is revoked, and the very next request is refused.
    const revoked = await create('revoked', 'admin', ['*'])
    expect((await t.req('GET', `${ns(OTHER)}/pods`, undefined, bearer(revoked))).status).toBe(200)
    expect((await t.json('DELETE', `${TOKENS}/revoked`, undefined, bearer(ROOT))).status).toBe(200)
    const next = await t.json('GET', `${ns(OTHER)}/pods`, undefined, bearer(revoked))
    expect(next.status).toBe(401)
    expect(next.body).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 })
    secrets.set('revoked token', revoked)
  })

  it('covers every route the API serves', () => {
    const labels = ROUTES.map((r) => r.label)
    expect(new Set(labels).size).toBe(labels.length)
    expect(ROUTES).toHaveLength(46)
  })

  it.each(CASES.map((c) => [`${c.route.label} · ${c.caller.label} · ${c.target} → ${c.expected}`, c] as const))('%s', async (_name, c) => {
    const secret = secrets.get(c.caller.label)!
    const id = String(++seq)
    const req = await c.route.request(t, c.target, id)
    const before = await t.registry.store.resourceVersion()
    const res = await send(t, c.route.method, req, secret)
    const first = await seen(res)
    expect({ status: first.status, body: first.body }).toMatchObject({ status: c.expected })

    if (c.expected < 400) {
      if (c.route.after) await c.route.after(t, c.target)
      return
    }

    // A refusal changes nothing and says why in a Status.
    expect(await t.registry.store.resourceVersion()).toBe(before)
    const status = JSON.parse(first.body)
    expect(status).toMatchObject({ kind: 'Status', status: 'Failure', code: c.expected, reason: c.expected === 401 ? 'Unauthorized' : 'Forbidden' })
    if (c.expected === 401) expect(res.headers.get('www-authenticate')).toBe('Bearer realm="switchboard"')
    if (secret !== null) expect(first.body).not.toContain(secret)

    // The same refusal for an object that does not exist (or, for a create, one that does)...
    for (const twin of c.route.twins?.(c.target) ?? []) {
      expect(await seen(await send(t, c.route.method, twin, secret))).toEqual(first)
    }
    // ...and for the same call in a namespace that does not exist.
    if (namespaced(c.route.scope)) {
      const elsewhere = { ...req, path: req.path.replace(`/namespaces/${c.target}`, `/namespaces/${NOWHERE}`) }
      expect(elsewhere.path).not.toBe(req.path)
      expect(renamed(await seen(await send(t, c.route.method, elsewhere, secret)), NOWHERE, c.target)).toEqual(first)
    }
    expect(await t.registry.store.resourceVersion()).toBe(before)
  })

  describe('cluster-wide lists show a team-a token only team-a', () => {
    const LISTS: [string, (item: any) => string][] = [
      [`${API}/namespaces`, (i) => i.metadata.name],
      [`${API}/services`, (i) => i.metadata.namespace],
      [`${API}/pods`, (i) => i.metadata.namespace],
      [`${API}/endpoints`, (i) => i.metadata.namespace],
      [`${SLICES}/endpointslices`, (i) => i.metadata.namespace],
    ]
    const SCOPED = ['read token on team-a', 'register token on team-a', 'admin token on team-a']

    it.each(LISTS)('%s', async (path, namespaceOf) => {
      const all = await asRoot(t, 'GET', path)
      expect(all.items.map(namespaceOf)).toContain(OTHER)
      expect(all.items.map(namespaceOf)).toContain(OWN)
      const ownItems = all.items.filter((i: any) => namespaceOf(i) === OWN).map((i: any) => i.metadata.name)
      for (const label of SCOPED) {
        const res = await t.json('GET', path, undefined, bearer(secrets.get(label)!))
        expect(res.status).toBe(200)
        expect([...new Set(res.body.items.map(namespaceOf))]).toEqual([OWN])
        expect(res.body.items.map((i: any) => i.metadata.name)).toEqual(ownItems)
        // selecting the other namespace finds nothing
        const sep = path.includes('?') ? '&' : '?'
        const field = path.endsWith('/namespaces') ? `metadata.name=${OTHER}` : `metadata.namespace=${OTHER}`
        const selected = await t.json('GET', `${path}${sep}fieldSelector=${encodeURIComponent(field)}`, undefined, bearer(secrets.get(label)!))
        expect(selected.status).toBe(200)
        expect(selected.body.items).toEqual([])
      }
    })

    it.each(LISTS)('%s, page by page', async (path, namespaceOf) => {
      const secret = secrets.get('read token on team-a')!
      const names: string[] = []
      let cont = ''
      for (let page = 0; page < 1000; page++) {
        const res = await t.json('GET', `${path}?limit=1${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`, undefined, bearer(secret))
        expect(res.status).toBe(200)
        for (const item of res.body.items) {
          expect(namespaceOf(item)).toBe(OWN)
          names.push(item.metadata.name)
        }
        cont = res.body.metadata.continue ?? ''
        if (!cont) break
      }
      const unpaged = await t.json('GET', path, undefined, bearer(secret))
      expect(names).toEqual(unpaged.body.items.map((i: any) => i.metadata.name))
    })
  })
})

describe('the namespace judged is the namespace acted on', () => {
  let t: TestApp
  let registrar: string
  let teamAdmin: string

  beforeAll(async () => {
    t = await testApp({ env: ENV })
    await seedNamespace(t, OWN)
    await seedNamespace(t, OTHER)
    registrar = (await asRoot(t, 'POST', TOKENS, tokenBody('registrar', 'register', [OWN]))).status.secret as string
    teamAdmin = (await asRoot(t, 'POST', TOKENS, tokenBody('team-admin', 'admin', [OWN]))).status.secret as string
  })

  it.each([
    '/api/v1/namespaces/team%2Db/pods',
    '/api/v1/namespaces/team%2db/pods/web-1',
    '/api/v1/namespaces/team-b/pods/',
    '/api/v1/namespaces/team-b/pods/web-1/status/',
    '//api/v1/namespaces/team-b/pods',
    '/api/v1//namespaces/team-b/pods',
    '/api/v1/namespaces//team-b/pods',
    '/api/v1/namespaces/team-a/../team-b/pods',
    '/api/v1/namespaces/team-a/%2e%2e/team-b/pods',
    '/api/v1/namespaces/team-a%2F..%2Fteam-b/pods',
    '/api/v1/namespaces/team-b/services/web/pick/',
    '/apis/discovery.k8s.io/v1/namespaces/team-b/endpointslices/',
    '/apis/switchboard.dev/v1/tokens/',
  ])('%s is refused to a team-a token, by GET and HEAD', async (path) => {
    for (const method of ['GET', 'HEAD']) {
      const res = await t.req(method, path, undefined, bearer(registrar))
      expect({ method, status: res.status }).toEqual({ method, status: 403 })
    }
  })

  it.each(['/API/v1/namespaces/team-b/pods', '/api/v1/namespaces/TEAM-B/pods', '/apis/Switchboard.dev/v1/tokens'])(
    '%s answers nothing of team-b to a team-a token',
    async (path) => {
      const res = await t.json('GET', path, undefined, bearer(registrar))
      expect([403, 404]).toContain(res.status)
      expect(JSON.stringify(res.body)).not.toContain('web-1')
    },
  )

  it('a body naming another namespace writes nothing there', async () => {
    const before = await asRoot(t, 'GET', `${ns(OTHER)}/pods`)
    const writes: [string, string, unknown, string][] = [
      ['POST', `${ns(OWN)}/pods`, { ...pod('moved', 'web'), metadata: { name: 'moved', namespace: OTHER } }, registrar],
      ['PUT', `${ns(OWN)}/pods/web-1`, { ...pod('web-1', 'web'), metadata: { name: 'web-1', namespace: OTHER } }, registrar],
      ['PATCH', `${ns(OWN)}/pods/web-1`, { metadata: { namespace: OTHER } }, registrar],
      ['PUT', `${ns(OWN)}/pods/web-1/status`, { ...pod('web-1', 'web'), metadata: { name: 'web-1', namespace: OTHER } }, registrar],
      ['POST', `${ns(OWN)}/services`, { ...service('moved'), metadata: { name: 'moved', namespace: OTHER } }, teamAdmin],
      ['POST', `${ns(OWN)}/endpoints`, { ...endpoints('moved'), metadata: { name: 'moved', namespace: OTHER } }, teamAdmin],
      ['PUT', `${ns(OWN)}/endpoints/moved`, { ...endpoints('moved'), metadata: { name: 'moved', namespace: OTHER } }, teamAdmin],
    ]
    for (const [method, path, body, secret] of writes) {
      const res = await t.json(method, path, body, bearer(secret))
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 400 })
    }
    expect(await asRoot(t, 'GET', `${ns(OTHER)}/pods`)).toEqual(before)
    expect((await asRoot(t, 'GET', `${ns(OTHER)}/services/moved`).catch((e: Error) => e.message))).toMatch(/404/)
    expect((await asRoot(t, 'GET', `${ns(OTHER)}/endpoints/moved`).catch((e: Error) => e.message))).toMatch(/404/)
  })
})

describe('tokens that stop working', () => {
  it('an expired token is refused, from the instant it expires, even when it was just used', async () => {
    let now = new Date('2030-01-01T00:00:00.000Z')
    const t = await testApp({ env: ENV, clock: seededClock(7, () => now) })
    await asRoot(t, 'POST', `${API}/namespaces`, { metadata: { name: OWN } })
    const soon = (await asRoot(t, 'POST', TOKENS, tokenBody('soon', 'read', [OWN], '2030-01-01T00:01:00Z'))).status.secret as string
    // a token cannot be issued already expired
    expect((await t.json('POST', TOKENS, tokenBody('past', 'read', [OWN], '2029-12-31T23:59:59Z'), bearer(ROOT))).status).toBe(422)

    const get = (secret: string) => t.req('GET', `${ns(OWN)}/pods`, undefined, bearer(secret))
    const dns = (secret: string) => t.req('GET', `/dns-query/${secret}?dns=${b64url(dnsQuery('team-a.svc.cluster.local', TYPE.A))}`)
    expect((await get(soon)).status).toBe(200)
    expect((await dns(soon)).status).toBe(200)
    now = new Date('2030-01-01T00:00:59.999Z')
    expect((await get(soon)).status).toBe(200)
    now = new Date('2030-01-01T00:01:00.000Z')
    const refused = await t.json('GET', `${ns(OWN)}/pods`, undefined, bearer(soon))
    expect(refused.status).toBe(401)
    expect(refused.body).toMatchObject({ reason: 'Unauthorized' })
    expect((await dns(soon)).status).toBe(401)
    // the token object is still listed: it has expired, not been revoked
    expect((await t.json('GET', `${TOKENS}/soon`, undefined, bearer(ROOT))).status).toBe(200)
  })

  it('a revoked token is refused on the very next request, by header and by DoH path', async () => {
    const t = await testApp({ env: ENV })
    await asRoot(t, 'POST', `${API}/namespaces`, { metadata: { name: OWN } })
    const secret = (await asRoot(t, 'POST', TOKENS, tokenBody('gone', 'register', [OWN]))).status.secret as string
    const dnsPath = `/dns-query/${secret}?dns=${b64url(dnsQuery('team-a.svc.cluster.local', TYPE.A))}`
    expect((await t.req('GET', `${ns(OWN)}/pods`, undefined, bearer(secret))).status).toBe(200)
    expect((await t.req('GET', dnsPath)).status).toBe(200)
    expect((await t.json('DELETE', `${TOKENS}/gone`, undefined, bearer(ROOT))).status).toBe(200)
    expect((await t.req('GET', dnsPath)).status).toBe(401)
    expect((await t.req('GET', `${ns(OWN)}/pods`, undefined, bearer(secret))).status).toBe(401)
    expect((await t.req('POST', `${ns(OWN)}/pods`, pod('p', 'web'), bearer(secret))).status).toBe(401)
    // a new token of the same name is a new secret; the old one stays refused
    const again = (await asRoot(t, 'POST', TOKENS, tokenBody('gone', 'register', [OWN]))).status.secret as string
    expect(again).not.toBe(secret)
    expect((await t.req('GET', `${ns(OWN)}/pods`, undefined, bearer(secret))).status).toBe(401)
    expect((await t.req('GET', `${ns(OWN)}/pods`, undefined, bearer(again))).status).toBe(200)
  })
})

describe('DNS over HTTPS with access control', () => {
  let t: TestApp
  let reader: string
  const clusterIP: Record<string, string> = {}

  beforeAll(async () => {
    t = await testApp({ env: ENV })
    for (const [n, i] of [
      [OWN, 1],
      [OTHER, 2],
    ] as const) {
      await asRoot(t, 'POST', `${API}/namespaces`, { metadata: { name: n } })
      clusterIP[n] = (await asRoot(t, 'POST', `${ns(n)}/services`, service('web'))).spec.clusterIP
      await asRoot(t, 'POST', `${ns(n)}/services`, service('db', 'db', { clusterIP: 'None' }))
      await asRoot(t, 'POST', `${ns(n)}/pods`, pod('web-1', 'web', `10.${i}.0.1`))
      await asRoot(t, 'POST', `${ns(n)}/pods`, pod('db-0', 'db', `10.${i}.0.2`, { hostname: 'db-0', subdomain: 'db' }))
    }
    await asRoot(t, 'POST', `${ns(OWN)}/services`, { metadata: { name: 'to-b' }, spec: { type: 'ExternalName', externalName: 'web.team-b.svc.cluster.local' } })
    await asRoot(t, 'POST', `${ns(OWN)}/services`, { metadata: { name: 'to-z' }, spec: { type: 'ExternalName', externalName: 'web.team-z.svc.cluster.local' } })
    reader = (await asRoot(t, 'POST', TOKENS, tokenBody('dns-reader', 'read', [OWN]))).status.secret as string
  })

  type Via = 'bearer GET' | 'bearer POST' | 'path GET' | 'path POST'
  const VIAS: Via[] = ['bearer GET', 'bearer POST', 'path GET', 'path POST']

  async function ask(via: Via, secret: string, name: string, type: number): Promise<Message> {
    const bytes = dnsQuery(name, type)
    const path = via.startsWith('path') ? `/dns-query/${encodeURIComponent(secret)}` : '/dns-query'
    const headers = via.startsWith('bearer') ? bearer(secret) : {}
    const res = via.endsWith('GET')
      ? await t.req('GET', `${path}?dns=${b64url(bytes)}`, undefined, headers)
      : await t.req('POST', path, bytes, { ...headers, 'content-type': 'application/dns-message' })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/dns-message')
    return decodeMessage(new Uint8Array(await res.arrayBuffer()))
  }

  const addresses = (m: Message) => m.answers.map((r) => (r.data.kind === 'A' || r.data.kind === 'AAAA' ? r.data.address : r.data.kind)).sort()
  /** The answer as a client sees it, with one name written as another. */
  const answerOf = (m: Message, from = NOWHERE, to = OTHER) =>
    JSON.parse(JSON.stringify({ header: m.header, answers: m.answers, authorities: m.authorities, additionals: m.additionals }).split(from).join(to))

  it('refuses every DoH form without a valid token', async () => {
    const bytes = dnsQuery('web.team-a.svc.cluster.local', TYPE.A)
    const calls: [string, string, Uint8Array | undefined, Record<string, string>][] = [
      ['GET', `/dns-query?dns=${b64url(bytes)}`, undefined, {}],
      ['POST', '/dns-query', bytes, { 'content-type': 'application/dns-message' }],
      ['GET', '/dns-query?name=web.team-a.svc.cluster.local', undefined, { accept: 'application/dns-json' }],
      ['GET', '/resolve?name=web.team-a.svc.cluster.local', undefined, {}],
      ['GET', `/dns-query/not-a-token?dns=${b64url(bytes)}`, undefined, {}],
      ['POST', '/dns-query/not-a-token', bytes, { 'content-type': 'application/dns-message' }],
      ['GET', `/dns-query?dns=${b64url(bytes)}`, undefined, { authorization: 'Bearer not-a-token' }],
      ['GET', `/dns-query?dns=${b64url(bytes)}`, undefined, { authorization: `Basic ${btoa(`x:${reader}`)}` }],
    ]
    for (const [method, path, body, headers] of calls) {
      const res = await t.req(method, path, body, headers)
      expect({ method, path, headers, status: res.status }).toEqual({ method, path, headers, status: 401 })
    }
  })

  it.each(VIAS)('a team-a read token (%s) answers team-a names', async (via) => {
    const web = await ask(via, reader, 'web.team-a.svc.cluster.local', TYPE.A)
    expect(web.header.rcode).toBe(RCODE.NOERROR)
    expect(addresses(web)).toEqual([clusterIP[OWN]])
    expect(addresses(await ask(via, reader, 'db.team-a.svc.cluster.local', TYPE.A))).toEqual(['10.1.0.2'])
    expect(addresses(await ask(via, reader, 'db-0.db.team-a.svc.cluster.local', TYPE.A))).toEqual(['10.1.0.2'])
    expect((await ask(via, reader, '_http._tcp.web.team-a.svc.cluster.local', TYPE.SRV)).answers).toHaveLength(1)
  })

  it('the root credential sees team-b names (they exist)', async () => {
    expect(addresses(await ask('bearer GET', ROOT, 'web.team-b.svc.cluster.local', TYPE.A))).toEqual([clusterIP[OTHER]])
    expect(addresses(await ask('bearer GET', ROOT, 'db-0.db.team-b.svc.cluster.local', TYPE.A))).toEqual(['10.2.0.2'])
    const reverse = `${clusterIP[OTHER]!.split('.').reverse().join('.')}.in-addr.arpa`
    expect((await ask('bearer GET', ROOT, reverse, TYPE.PTR)).answers).toHaveLength(1)
  })

  const HIDDEN: [string, number][] = [
    ['web.team-b.svc.cluster.local', TYPE.A],
    ['web.team-b.svc.cluster.local', TYPE.AAAA],
    ['web.team-b.svc.cluster.local', TYPE.SRV],
    ['db.team-b.svc.cluster.local', TYPE.A],
    ['db-0.db.team-b.svc.cluster.local', TYPE.A],
    ['_http._tcp.web.team-b.svc.cluster.local', TYPE.SRV],
    ['_http._tcp.db.team-b.svc.cluster.local', TYPE.SRV],
    ['team-b.svc.cluster.local', TYPE.A],
    ['nope.team-b.svc.cluster.local', TYPE.A],
  ]

  it.each(VIAS)('a team-a read token (%s) gets NXDOMAIN for team-b names, exactly as for a namespace that does not exist', async (via) => {
    for (const [name, type] of HIDDEN) {
      const hidden = await ask(via, reader, name, type)
      const absent = await ask(via, reader, name.replace(OTHER, NOWHERE), type)
      expect({ name, type, rcode: hidden.header.rcode }).toEqual({ name, type, rcode: RCODE.NXDOMAIN })
      expect({ name, type, answer: answerOf(hidden) }).toEqual({ name, type, answer: answerOf(absent) })
    }
  })

  it('reverse lookups of team-b addresses answer like unknown addresses', async () => {
    const reverse = (ip: string) => `${ip.split('.').reverse().join('.')}.in-addr.arpa`
    for (const ip of [clusterIP[OTHER]!, '10.2.0.1', '10.2.0.2']) {
      const hidden = await ask('bearer GET', reader, reverse(ip), TYPE.PTR)
      const unknown = await ask('bearer GET', reader, reverse('10.99.99.99'), TYPE.PTR)
      expect(hidden.header.rcode).toBe(RCODE.NXDOMAIN)
      expect(answerOf(hidden)).toEqual(answerOf(unknown))
    }
    expect((await ask('bearer GET', reader, reverse(clusterIP[OWN]!), TYPE.PTR)).answers).toHaveLength(1)
  })

  it('an ExternalName in team-a pointing into team-b chases no further than one pointing nowhere', async () => {
    const toB = await ask('bearer GET', reader, 'to-b.team-a.svc.cluster.local', TYPE.A)
    const toZ = await ask('bearer GET', reader, 'to-z.team-a.svc.cluster.local', TYPE.A)
    expect(toB.answers.map((r) => r.data.kind)).toEqual(['CNAME'])
    expect(toB.header.rcode).toBe(RCODE.NXDOMAIN)
    expect(answerOf(toB)).toEqual(answerOf(renameMessage(toZ, 'to-z', 'to-b')))
  })

  it('the JSON forms answer team-b names exactly as names in a namespace that does not exist', async () => {
    for (const base of ['/resolve?name=', '/dns-query?ct=application/dns-json&name=']) {
      for (const [name, type] of HIDDEN) {
        const hidden = await t.json('GET', `${base}${name}&type=${type}`, undefined, bearer(reader))
        const absent = await t.json('GET', `${base}${name.replace(OTHER, NOWHERE)}&type=${type}`, undefined, bearer(reader))
        expect(hidden.status).toBe(200)
        expect(hidden.body.Status).toBe(RCODE.NXDOMAIN)
        expect(JSON.parse(JSON.stringify(absent.body).split(NOWHERE).join(OTHER))).toEqual(hidden.body)
      }
      const own = await t.json('GET', `${base}web.team-a.svc.cluster.local&type=A`, undefined, bearer(reader))
      expect(own.body.Answer.map((a: any) => a.data)).toEqual([clusterIP[OWN]])
    }
  })

  it('DOH_PUBLIC=true answers without a token, and only DNS is open', async () => {
    const open = await testApp({ env: { ...ENV, DOH_PUBLIC: 'true' } })
    await asRoot(open, 'POST', `${API}/namespaces`, { metadata: { name: OTHER } })
    const ip = (await asRoot(open, 'POST', `${ns(OTHER)}/services`, service('web'))).spec.clusterIP
    const bytes = dnsQuery('web.team-b.svc.cluster.local', TYPE.A)
    const get = await open.req('GET', `/dns-query?dns=${b64url(bytes)}`)
    expect(get.status).toBe(200)
    const msg = decodeMessage(new Uint8Array(await get.arrayBuffer()))
    expect(addresses(msg)).toEqual([ip])
    const post = await open.req('POST', '/dns-query', bytes, { 'content-type': 'application/dns-message' })
    expect(post.status).toBe(200)
    const json = await open.json('GET', '/resolve?name=web.team-b.svc.cluster.local')
    expect(json.status).toBe(200)
    expect(json.body.Answer.map((a: any) => a.data)).toEqual([ip])
    expect((await open.req('GET', `${API}/pods`)).status).toBe(401)
    expect((await open.req('GET', `${ns(OTHER)}/services/web`)).status).toBe(401)
  })
})

/** A message with one name written as another, for comparing two answers that differ only in it. */
function renameMessage(m: Message, from: string, to: string): Message {
  return JSON.parse(JSON.stringify(m).split(from).join(to)) as Message
}

describe('secrets', () => {
  /** Everything written to the console or the process streams while it runs. */
  function captureOutput() {
    const chunks: string[] = []
    const restores: (() => void)[] = []
    for (const level of ['log', 'error', 'warn', 'info', 'debug', 'trace'] as const) {
      const spy = vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        chunks.push(args.map((a) => (typeof a === 'string' ? a : inspect(a, { depth: 10, showHidden: true }))).join(' '))
      })
      restores.push(() => spy.mockRestore())
    }
    // Node's process streams; workerd has none, and its only output is the console.
    for (const stream of [globalThis.process?.stdout, globalThis.process?.stderr]) {
      if (!stream) continue
      const original = stream.write
      stream.write = ((chunk: unknown) => {
        chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'))
        return true
      }) as typeof stream.write
      restores.push(() => {
        stream.write = original
      })
    }
    return { text: () => chunks.join('\n'), restore: () => restores.reverse().forEach((r) => r()) }
  }

  let capture: ReturnType<typeof captureOutput> | null = null
  afterEach(() => {
    capture?.restore()
    capture = null
  })

  /** An answer as text: status line, every header, the body. */
  async function transcript(res: Response): Promise<string> {
    const headers = [...res.headers.entries()].map(([k, v]) => `${k}: ${v}`).join('\n')
    return `${res.status}\n${headers}\n\n${new TextDecoder().decode(await res.clone().arrayBuffer())}`
  }

  /** Keys named like a secret, and values shaped like a SHA-256, anywhere in a JSON value. */
  function secretish(value: unknown, path = '$'): string[] {
    if (typeof value === 'string') return /^[0-9a-f]{64}$/i.test(value) ? [`${path} looks like a hash`] : []
    if (Array.isArray(value)) return value.flatMap((v, i) => secretish(v, `${path}[${i}]`))
    if (value && typeof value === 'object') {
      return Object.entries(value).flatMap(([k, v]) => [...(/secret|hash/i.test(k) ? [`${path}.${k}`] : []), ...secretish(v, `${path}.${k}`)])
    }
    return []
  }

  it('never appear in logs, errors, headers or lists — only in the answer that creates them', async () => {
    capture = captureOutput()
    const t = await testApp({ env: ENV })
    const others: string[] = []
    const creations: { name: string; text: string }[] = []
    const call = async (method: string, path: string, body?: unknown, headers?: Record<string, string>) => {
      const res = await t.req(method, path, body, headers)
      others.push(`${method} ${path}\n${await transcript(res)}`)
      return res
    }
    const create = async (name: string, role: Role, namespaces: string[]) => {
      const res = await t.req('POST', TOKENS, tokenBody(name, role, namespaces), bearer(ROOT))
      expect(res.status).toBe(201)
      expect(res.headers.get('cache-control')).toBe('no-store')
      creations.push({ name, text: await transcript(res) })
      const body = await res.json()
      expect(body.status.secret).toMatch(/^sb_[A-Za-z0-9_-]{40,}$/)
      return body.status.secret as string
    }

    await call('POST', `${API}/namespaces`, { metadata: { name: OWN } }, bearer(ROOT))
    const readSecret = await create('leak-reader', 'read', [OWN])
    const registerSecret = await create('leak-registrar', 'register', [OWN])
    const adminSecret = await create('leak-admin', 'admin', ['*'])
    const secrets = [ROOT, readSecret, registerSecret, adminSecret]
    const hashes = await Promise.all(secrets.map(sha256))

    // use
    expect((await call('POST', `${ns(OWN)}/pods`, pod('p1', 'web'), bearer(registerSecret))).status).toBe(201)
    expect((await call('GET', `${ns(OWN)}/pods/p1`, undefined, bearer(readSecret))).status).toBe(200)
    expect((await call('GET', `/dns-query/${readSecret}?dns=${b64url(dnsQuery('p1.team-a.svc.cluster.local', TYPE.A))}`)).status).toBe(200)
    expect((await call('GET', '/resolve?name=team-a.svc.cluster.local', undefined, bearer(readSecret))).status).toBe(200)
    // refusals: wrong role, wrong namespace, wrong token, a token one character off, no scheme
    expect((await call('DELETE', `${ns(OWN)}/pods/p1`, undefined, bearer(readSecret))).status).toBe(403)
    expect((await call('GET', `${ns('team-b')}/pods`, undefined, bearer(registerSecret))).status).toBe(403)
    expect((await call('GET', TOKENS, undefined, bearer(registerSecret))).status).toBe(403)
    expect((await call('GET', `${ns(OWN)}/pods`, undefined, bearer(`${readSecret}x`))).status).toBe(401)
    expect((await call('GET', `${ns(OWN)}/pods`, undefined, bearer(readSecret.slice(0, -1)))).status).toBe(401)
    expect((await call('GET', `${ns(OWN)}/pods`, undefined, { authorization: readSecret })).status).toBe(401)
    expect((await call('GET', `${ns(OWN)}/pods`, undefined, bearer(ROOT.toUpperCase()))).status).toBe(401)
    expect((await call('GET', `/dns-query/${readSecret}x?dns=${b64url(dnsQuery('team-a.svc.cluster.local', TYPE.A))}`)).status).toBe(401)
    // errors that are not about access: bad input, unknown paths and methods
    expect((await call('POST', `${ns(OWN)}/pods`, '{not json', bearer(registerSecret))).status).toBe(400)
    expect((await call('GET', `${API}/nothing-here`, undefined, bearer(adminSecret))).status).toBe(404)
    expect((await call('PUT', TOKENS, tokenBody('x', 'read', [OWN]), bearer(adminSecret))).status).toBe(405)
    expect((await call('POST', TOKENS, tokenBody('leak-reader', 'read', [OWN]), bearer(adminSecret))).status).toBe(409)
    expect((await call('POST', TOKENS, { metadata: { name: 'Bad_Name' }, spec: { role: 'root', namespaces: [] } }, bearer(adminSecret))).status).toBe(422)
    // listing and getting tokens
    const list = await call('GET', TOKENS, undefined, bearer(adminSecret))
    expect(list.status).toBe(200)
    const listed = await list.json()
    expect(listed.items.map((i: any) => i.metadata.name)).toEqual(['leak-admin', 'leak-reader', 'leak-registrar'])
    expect(secretish(listed)).toEqual([])
    for (const name of ['leak-reader', 'leak-registrar', 'leak-admin']) {
      const got = await call('GET', `${TOKENS}/${name}`, undefined, bearer(ROOT))
      expect(got.status).toBe(200)
      const body = await got.json()
      expect(body.status).toBeUndefined()
      expect(secretish(body)).toEqual([])
    }
    // revoking, then using the revoked token
    const revoked = await call('DELETE', `${TOKENS}/leak-reader`, undefined, bearer(adminSecret))
    expect(revoked.status).toBe(200)
    expect(secretish(await revoked.json())).toEqual([])
    expect((await call('GET', `${ns(OWN)}/pods`, undefined, bearer(readSecret))).status).toBe(401)
    expect((await call('GET', `/dns-query/${readSecret}?dns=${b64url(dnsQuery('team-a.svc.cluster.local', TYPE.A))}`)).status).toBe(401)
    expect((await call('GET', TOKENS, undefined, bearer(adminSecret))).status).toBe(200)

    capture.restore()
    const logs = capture.text()
    capture = null
    for (const [i, secret] of secrets.entries()) {
      const hash = hashes[i]!
      expect(logs).not.toContain(secret)
      expect(logs).not.toContain(hash)
      for (const text of others) {
        // a DoH path token is part of the request line, not of the answer
        const answer = text.slice(text.indexOf('\n') + 1)
        expect(answer).not.toContain(secret)
        expect(answer).not.toContain(hash)
      }
      for (const c of creations) {
        expect(c.text).not.toContain(hash)
        // each creation answer shows its own secret once and no other
        const own = [readSecret, registerSecret, adminSecret][['leak-reader', 'leak-registrar', 'leak-admin'].indexOf(c.name)]
        if (secret === own) expect(c.text.split(secret)).toHaveLength(2)
        else expect(c.text).not.toContain(secret)
      }
    }
    // nor does the database keep a secret
    const rows = JSON.stringify((await t.client.execute('SELECT * FROM tokens')).rows)
    for (const secret of secrets) expect(rows).not.toContain(secret)
  })

  it('an unexpected database failure while checking a token logs neither the secret nor its hash', async () => {
    const t = await testApp({ env: ENV })
    const secret = (await asRoot(t, 'POST', TOKENS, tokenBody('db-failure', 'read', ['*']))).status.secret as string
    const hash = await sha256(secret)
    await t.client.execute('ALTER TABLE tokens RENAME TO tokens_elsewhere')
    capture = captureOutput()
    let res: Response
    try {
      res = await t.req('GET', `${API}/pods`, undefined, bearer(secret))
    } finally {
      capture.restore()
      await t.client.execute('ALTER TABLE tokens_elsewhere RENAME TO tokens')
    }
    const logs = capture.text()
    capture = null
    expect(res.status).toBe(500)
    expect(logs).toContain('no such table')
    const body = await res.text()
    expect(body).not.toContain(hash)
    expect(body).not.toContain(secret)
    expect(logs).not.toContain(secret)
    expect(logs).not.toContain(hash)
  })

  it('an unexpected database failure while creating a token logs neither the new secret nor its hash', async () => {
    const t = await testApp({ env: ENV })
    await t.client.execute('ALTER TABLE changes RENAME TO changes_elsewhere')
    capture = captureOutput()
    let res: Response
    try {
      res = await t.req('POST', TOKENS, tokenBody('never-made', 'read', ['*']), bearer(ROOT))
    } finally {
      capture.restore()
      await t.client.execute('ALTER TABLE changes_elsewhere RENAME TO changes')
    }
    const logs = capture.text()
    capture = null
    expect(res.status).toBe(500)
    expect(await res.text()).not.toMatch(/sb_|[0-9a-f]{64}/)
    expect(logs).toContain('no such table')
    // the secret was never shown, so no hash of anything may reach the log either
    expect(logs).not.toMatch(/[0-9a-f]{64}/)
    expect(logs).not.toMatch(/sb_[A-Za-z0-9_-]{40,}/)
  })
})

describe('audit', () => {
  it('a write by a register token records its name on the pod and in the changes table', async () => {
    const t = await testApp({ env: ENV })
    await asRoot(t, 'POST', `${API}/namespaces`, { metadata: { name: OWN } })
    const secret = (await asRoot(t, 'POST', TOKENS, tokenBody('checkout-agent', 'register', [OWN]))).status.secret as string
    const as = (method: string, path: string, body?: unknown) => t.json(method, path, body, bearer(secret))
    const actors = async (name: string) =>
      (await t.client.execute({ sql: "SELECT type, actor FROM changes WHERE kind = 'Pod' AND namespace = ? AND name = ? ORDER BY rv", args: [OWN, name] })).rows.map(
        (r) => [String(r.type), String(r.actor)],
      )

    // a caller cannot write someone else's name
    const created = await as('POST', `${ns(OWN)}/pods`, pod('checkout-1', 'checkout', '10.7.0.1', { annotations: { [MODIFIED_BY]: 'somebody-else' } }))
    expect(created.status).toBe(201)
    expect(created.body.metadata.annotations[MODIFIED_BY]).toBe('checkout-agent')
    expect((await asRoot(t, 'GET', `${ns(OWN)}/pods/checkout-1`)).metadata.annotations[MODIFIED_BY]).toBe('checkout-agent')
    expect(await actors('checkout-1')).toEqual([['ADDED', 'checkout-agent']])

    // a later write by another token records that one
    expect((await t.json('PATCH', `${ns(OWN)}/pods/checkout-1`, { metadata: { labels: { v: '2' } } }, bearer(ROOT))).status).toBe(200)
    expect((await asRoot(t, 'GET', `${ns(OWN)}/pods/checkout-1`)).metadata.annotations[MODIFIED_BY]).toBe('admin')
    expect((await as('PATCH', `${ns(OWN)}/pods/checkout-1/status`, { status: { conditions: [{ type: 'Ready', status: 'False' }] } })).status).toBe(200)
    const patched = await asRoot(t, 'GET', `${ns(OWN)}/pods/checkout-1`)
    expect(patched.metadata.annotations[MODIFIED_BY]).toBe('checkout-agent')
    expect((await as('DELETE', `${ns(OWN)}/pods/checkout-1`)).status).toBe(200)
    expect(await actors('checkout-1')).toEqual([
      ['ADDED', 'checkout-agent'],
      ['MODIFIED', 'admin'],
      ['MODIFIED', 'checkout-agent'],
      ['DELETED', 'checkout-agent'],
    ])
  })
})

describe('a refusal names the resource as Kubernetes does', () => {
  it('with its API group for a grouped resource (leases.coordination.k8s.io), without one for a core resource', async () => {
    const t = await testApp({ env: ENV })
    await asRoot(t, 'POST', `${API}/namespaces`, { metadata: { name: OWN } })
    const reader = (await asRoot(t, 'POST', TOKENS, tokenBody('reader', 'read', [OWN]))).status.secret as string
    const lease = await t.json('GET', `/apis/coordination.k8s.io/v1/namespaces/${OTHER}/leases/l`, undefined, bearer(reader))
    expect(lease.status).toBe(403)
    expect(lease.body.details).toEqual({ group: 'coordination.k8s.io', kind: 'leases' })
    expect(lease.body.message).toBe(`leases.coordination.k8s.io is forbidden: token "reader" cannot get leases in the namespace "${OTHER}"`)
    const tokens = await t.json('GET', TOKENS, undefined, bearer(reader))
    expect(tokens.status).toBe(403)
    expect(tokens.body.details).toEqual({ group: 'switchboard.dev', kind: 'tokens' })
    const pods = await t.json('GET', `${ns(OTHER)}/pods`, undefined, bearer(reader))
    expect(pods.status).toBe(403)
    expect(pods.body.details).toEqual({ kind: 'pods' })
    expect(pods.body.message).toBe(`pods is forbidden: token "reader" cannot list pods in the namespace "${OTHER}"`)
  })
})
