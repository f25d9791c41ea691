/**
 * dryRun=All on every write of every kind: the request is decoded, defaulted, validated
 * and checked against what is stored exactly as a real write is, answers with the same
 * status code and the object the write would have stored, and stores nothing — every
 * table (the objects, the change log, allocations, endpoint rows, the resourceVersion)
 * reads the same after it. Errors are the real write's errors. Any other value is a 422
 * naming `dryRun`, as the API server answers.
 */
import { describe, expect, it } from 'vitest'
import { dumpTables } from '../support/db'
import { testApp, type TestApp } from '../support/app'

const NS = '/api/v1/namespaces/default'
const SVC = `${NS}/services`
const PODS = `${NS}/pods`
const EPS = `${NS}/endpoints`
const LEASES = '/apis/coordination.k8s.io/v1/namespaces/default/leases'
const TOKENS = '/apis/switchboard.dev/v1/tokens'
const ADMIN = 'root-credential-for-the-dry-run-tests-0123456789'

const web = { metadata: { name: 'web', labels: { app: 'web' } }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } }
const pod = (name: string, ip: string) => ({
  metadata: { name, labels: { app: 'web' } },
  spec: { terminationGracePeriodSeconds: 30, containers: [{ name: 'app', ports: [{ name: 'http', containerPort: 8080 }] }] },
  status: { podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] },
})
const lease = { metadata: { name: 'host-a' }, spec: { holderIdentity: 'agent-a', leaseDurationSeconds: 30, renewTime: '2026-06-01T12:00:00.000000Z' } }
const userEndpoints = { metadata: { name: 'db' }, subsets: [{ addresses: [{ ip: '10.9.0.1' }], ports: [{ port: 5432 }] }] }

/** An app with a service over one pod, a lease, user Endpoints behind a selectorless service, and a token. */
async function seeded(): Promise<TestApp & { auth: Record<string, string> }> {
  const t = await testApp({ env: { SWITCHBOARD_ADMIN_TOKEN: ADMIN } })
  const auth = { authorization: `Bearer ${ADMIN}` }
  const ok = async (method: string, path: string, body: unknown) => {
    const res = await t.json(method, path, body, auth)
    expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBeLessThan(300)
  }
  await ok('POST', '/api/v1/namespaces', { metadata: { name: 'team-a' } })
  await ok('POST', SVC, web)
  await ok('POST', PODS, pod('web-1', '10.1.0.1'))
  await ok('POST', LEASES, lease)
  await ok('POST', SVC, { metadata: { name: 'db' }, spec: { ports: [{ port: 5432 }] } })
  await ok('PUT', `${EPS}/db`, userEndpoints)
  await ok('POST', TOKENS, { metadata: { name: 'ci' }, spec: { role: 'read', namespaces: ['default'] } })
  return Object.assign(t, { auth })
}

/** Sends a request with the admin token, and checks that it stored nothing. */
async function dry(t: TestApp & { auth: Record<string, string> }, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const before = await dumpTables(t.client)
  const res = await t.json(method, path, body, { ...t.auth, ...headers })
  expect(await dumpTables(t.client), `${method} ${path} stored something`).toBe(before)
  return res
}

const withDryRun = (path: string) => `${path}${path.includes('?') ? '&' : '?'}dryRun=All`

/**
 * The parts of an answer a dry run and a real write share: not the uid, times and
 * resourceVersion, nor the dynamic allocations (a dry run keeps none; checked below).
 */
function withoutKey(tree: any, key: string): any {
  if (typeof tree !== 'object' || tree === null) return tree
  return Object.fromEntries(Object.entries(tree).filter(([k]) => k !== key).map(([k, v]) => [k, withoutKey(v, key)]))
}

function shape(obj: any): unknown {
  const { uid: _u, creationTimestamp: _c, resourceVersion: _r, deletionTimestamp: _d, ...metadata } = obj.metadata ?? {}
  // Timestamps differ by when each write ran: the managed fields' too.
  // (A condition's lastTransitionTime counts as changed, and so as owned, only when the write fell in another second than the last.)
  if (metadata.managedFields) metadata.managedFields = metadata.managedFields.map(({ time: _t, fieldsV1, ...entry }: any) => ({ ...entry, fieldsV1: withoutKey(fieldsV1, 'f:lastTransitionTime') }))
  const copy = { ...obj, metadata }
  if (copy.status?.conditions) copy.status = { ...copy.status, conditions: copy.status.conditions.map(({ lastTransitionTime: _t, ...c }: any) => c) }
  if (copy.kind === 'Service') {
    const { clusterIP: _ip, clusterIPs: _ips, ...spec } = copy.spec
    copy.spec = { ...spec, ports: spec.ports?.map(({ nodePort: _n, ...p }: any) => p) }
  }
  return copy
}

describe('dry-run writes store nothing and answer as the real write', () => {
  type Case = { label: string; method: string; path: string; body?: unknown; code: number; contentType?: string }
  const cases: Case[] = [
    { label: 'create namespace', method: 'POST', path: '/api/v1/namespaces', body: { metadata: { name: 'team-b' } }, code: 201 },
    { label: 'delete namespace', method: 'DELETE', path: '/api/v1/namespaces/team-a', code: 200 },
    { label: 'create service', method: 'POST', path: SVC, body: { metadata: { name: 'api' }, spec: { selector: { app: 'web' }, ports: [{ port: 81, targetPort: 8080 }] } }, code: 201 },
    { label: 'create NodePort service', method: 'POST', path: SVC, body: { metadata: { name: 'np' }, spec: { type: 'NodePort', ports: [{ port: 82 }] } }, code: 201 },
    { label: 'replace service', method: 'PUT', path: `${SVC}/web`, body: { ...web, spec: { ...web.spec, ports: [{ name: 'http', port: 8080 }] } }, code: 200 },
    { label: 'patch service', method: 'PATCH', path: `${SVC}/web`, body: { metadata: { labels: { tier: 'front' } } }, code: 200 },
    { label: 'patch service to NodePort', method: 'PATCH', path: `${SVC}/web`, body: { spec: { type: 'NodePort' } }, code: 200 },
    { label: 'delete service', method: 'DELETE', path: `${SVC}/web`, code: 200 },
    { label: 'create pod', method: 'POST', path: PODS, body: pod('web-2', '10.1.0.2'), code: 201 },
    { label: 'replace pod', method: 'PUT', path: `${PODS}/web-1`, body: pod('web-1', '10.1.0.9'), code: 200 },
    { label: 'patch pod', method: 'PATCH', path: `${PODS}/web-1`, body: { metadata: { annotations: { 'switchboard.dev/weight': '0' } } }, code: 200 },
    { label: 'replace pod status', method: 'PUT', path: `${PODS}/web-1/status`, body: { ...pod('web-1', '10.1.0.1'), status: { podIP: '10.1.0.1', conditions: [{ type: 'Ready', status: 'False' }] } }, code: 200 },
    { label: 'patch pod status', method: 'PATCH', path: `${PODS}/web-1/status`, body: { status: { conditions: [{ type: 'Ready', status: 'False' }] } }, code: 200 },
    { label: 'delete pod (graceful)', method: 'DELETE', path: `${PODS}/web-1`, code: 200 },
    { label: 'delete pod (at once)', method: 'DELETE', path: `${PODS}/web-1?gracePeriodSeconds=0`, code: 200 },
    { label: 'create lease', method: 'POST', path: LEASES, body: { ...lease, metadata: { name: 'host-b' } }, code: 201 },
    { label: 'replace lease', method: 'PUT', path: `${LEASES}/host-a`, body: { ...lease, spec: { ...lease.spec, holderIdentity: 'agent-b' } }, code: 200 },
    { label: 'renew lease (patch)', method: 'PATCH', path: `${LEASES}/host-a`, body: { spec: { renewTime: '2026-06-01T12:00:10.000000Z' } }, code: 200 },
    { label: 'delete lease', method: 'DELETE', path: `${LEASES}/host-a`, code: 200 },
    { label: 'create endpoints', method: 'POST', path: EPS, body: { ...userEndpoints, metadata: { name: 'cache' } }, code: 201 },
    { label: 'replace endpoints', method: 'PUT', path: `${EPS}/db`, body: { ...userEndpoints, subsets: [{ addresses: [{ ip: '10.9.0.2' }], ports: [{ port: 5432 }] }] }, code: 200 },
    { label: 'delete endpoints', method: 'DELETE', path: `${EPS}/db`, code: 200 },
    { label: 'create token', method: 'POST', path: TOKENS, body: { metadata: { name: 'deploy' }, spec: { role: 'register', namespaces: ['default'] } }, code: 201 },
    { label: 'delete token', method: 'DELETE', path: `${TOKENS}/ci`, code: 200 },
  ]

  it.each(cases)('$label', async ({ method, path, body, code }) => {
    const t = await seeded()
    const res = await dry(t, method, withDryRun(path), body)
    expect(res.status, JSON.stringify(res.body)).toBe(code)
    // The same write for real answers the same object (but for what only a stored write has).
    const real = await t.json(method, path, body, t.auth)
    expect(real.status).toBe(code)
    const { status: _secret, ...answer } = real.body
    if (method === 'POST' && path === TOKENS) expect(res.body.status).toBeUndefined() // no secret was issued
    expect(shape(res.body)).toEqual(shape(method === 'POST' && path === TOKENS ? answer : real.body))
  })

  it('answers a create at no resourceVersion, an update and a delete at the stored one', async () => {
    const t = await seeded()
    const stored = (await t.json('GET', `${SVC}/web`, undefined, t.auth)).body
    const created = await dry(t, 'POST', withDryRun(SVC), { metadata: { name: 'api' }, spec: { ports: [{ port: 80 }] } })
    expect(created.body.metadata.resourceVersion).toBeUndefined()
    expect(created.body.metadata.uid).toMatch(/^[0-9a-f-]{36}$/)
    const patched = await dry(t, 'PATCH', withDryRun(`${SVC}/web`), { metadata: { labels: { tier: 'front' } } })
    expect(patched.body.metadata.resourceVersion).toBe(stored.metadata.resourceVersion)
    expect(patched.body.metadata.labels).toEqual({ app: 'web', tier: 'front' })
    const deleted = await dry(t, 'DELETE', withDryRun(`${PODS}/web-1`))
    expect(deleted.body.metadata.deletionTimestamp).toBeDefined() // marked as the graceful delete would, not stored
    expect((await t.json('GET', `${PODS}/web-1`, undefined, t.auth)).body.metadata.deletionTimestamp).toBeUndefined()
  })

  it('reads dryRun from a DELETE body (DeleteOptions), as kubectl sends it', async () => {
    const t = await seeded()
    const res = await dry(t, 'DELETE', `${SVC}/web`, { apiVersion: 'v1', kind: 'DeleteOptions', dryRun: ['All'], propagationPolicy: 'Background' })
    expect(res.status).toBe(200)
    expect(res.body.metadata.name).toBe('web')
    expect((await t.json('GET', `${SVC}/web`, undefined, t.auth)).status).toBe(200)
  })
})

describe('dry runs beside real writes', () => {
  it('commit none of their own and all of the real writes sent at the same moment (one group commit)', async () => {
    const t = await testApp()
    const sent = Array.from({ length: 20 }, (_, i) => t.json('POST', i % 2 ? withDryRun(PODS) : PODS, pod(`p-${i}`, `10.2.0.${i + 1}`)))
    const answers = await Promise.all(sent)
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 201))
    const names = (await t.json('GET', PODS)).body.items.map((p: any) => p.metadata.name).sort()
    expect(names).toEqual(Array.from({ length: 10 }, (_, i) => `p-${i * 2}`).sort())
    const changes = await t.client.execute("SELECT count(*) AS n FROM changes WHERE kind = 'Pod'")
    expect(Number(changes.rows[0]!.n)).toBe(10)
  })
})

describe('a dry-run Service create keeps no allocation', () => {
  it('shows a dynamic ClusterIP as the range network address and leaves every IP of a tiny range free', async () => {
    // A /30 has two allocatable addresses.
    const t = await testApp({ env: { SERVICE_CLUSTER_IP_RANGE: '10.0.0.0/30' } })
    const body = (name: string) => ({ metadata: { name }, spec: { ports: [{ port: 80 }] } })
    for (const name of ['a', 'b', 'c']) {
      const res = await t.json('POST', withDryRun(SVC), body(name))
      expect(res.status).toBe(201)
      expect(res.body.spec.clusterIP).toBe('10.0.0.0')
      expect(res.body.spec.clusterIPs).toEqual(['10.0.0.0'])
    }
    expect((await t.json('POST', SVC, body('a'))).status).toBe(201)
    expect((await t.json('POST', SVC, body('b'))).status).toBe(201)
    const full = await t.json('POST', withDryRun(SVC), body('c'))
    expect(full.status).toBe(422) // the range is full: the dry run fails as the real create does
    expect(full.body.details.causes[0].field).toBe('spec.clusterIPs')
  })

  it('leaves a requested ClusterIP and NodePort free', async () => {
    const t = await testApp()
    const body = { metadata: { name: 'np' }, spec: { type: 'NodePort', clusterIP: '10.96.0.10', ports: [{ port: 80, nodePort: 30080 }] } }
    const dryRun = await t.json('POST', withDryRun(SVC), body)
    expect(dryRun.status).toBe(201)
    expect(dryRun.body.spec.clusterIP).toBe('10.96.0.10')
    expect(dryRun.body.spec.ports[0].nodePort).toBe(30080)
    expect((await t.json('POST', SVC, { ...body, metadata: { name: 'np2' } })).status).toBe(201)
  })
})

describe('dry runs fail exactly as the real writes do', () => {
  type Case = { label: string; method: string; path: string; body?: unknown; code: number; reason: string }
  const cases: Case[] = [
    { label: 'create of an existing name', method: 'POST', path: SVC, body: web, code: 409, reason: 'AlreadyExists' },
    { label: 'create in a missing namespace', method: 'POST', path: '/api/v1/namespaces/nope/pods', body: pod('x', '10.1.0.3'), code: 404, reason: 'NotFound' },
    { label: 'invalid create', method: 'POST', path: SVC, body: { metadata: { name: 'bad' }, spec: { ports: [{ port: 0 }] } }, code: 422, reason: 'Invalid' },
    { label: 'requested ClusterIP taken', method: 'POST', path: SVC, body: { metadata: { name: 'x' }, spec: { clusterIP: 'TAKEN', ports: [{ port: 80 }] } }, code: 422, reason: 'Invalid' },
    { label: 'replace of a missing object', method: 'PUT', path: `${SVC}/nope`, body: { ...web, metadata: { name: 'nope' } }, code: 404, reason: 'NotFound' },
    { label: 'replace at a stale resourceVersion', method: 'PUT', path: `${SVC}/web`, body: { ...web, metadata: { ...web.metadata, resourceVersion: '1' } }, code: 409, reason: 'Conflict' },
    { label: 'patch of a missing object', method: 'PATCH', path: `${PODS}/nope`, body: { metadata: { labels: { a: 'b' } } }, code: 404, reason: 'NotFound' },
    { label: 'invalid patch', method: 'PATCH', path: `${PODS}/web-1`, body: { metadata: { annotations: { 'switchboard.dev/weight': 'heavy' } } }, code: 422, reason: 'Invalid' },
    { label: 'delete of a missing object', method: 'DELETE', path: `${LEASES}/nope`, code: 404, reason: 'NotFound' },
    { label: 'delete with a stale precondition', method: 'DELETE', path: `${SVC}/web`, body: { preconditions: { resourceVersion: '1' } }, code: 409, reason: 'Conflict' },
    { label: 'delete of the default namespace', method: 'DELETE', path: '/api/v1/namespaces/default', code: 403, reason: 'Forbidden' },
    { label: 'write of computed Endpoints', method: 'PUT', path: `${EPS}/web`, body: { metadata: { name: 'web' }, subsets: [] }, code: 405, reason: 'MethodNotAllowed' },
    { label: 'create of an existing token', method: 'POST', path: TOKENS, body: { metadata: { name: 'ci' }, spec: { role: 'read', namespaces: ['*'] } }, code: 409, reason: 'AlreadyExists' },
  ]

  it.each(cases)('$label', async ({ method, path, body, code, reason }) => {
    const t = await seeded()
    let sent = body
    if (JSON.stringify(body ?? '').includes('TAKEN')) {
      const ip = (await t.json('GET', `${SVC}/web`, undefined, t.auth)).body.spec.clusterIP
      sent = JSON.parse(JSON.stringify(body).replace('TAKEN', ip))
    }
    const dryRun = await dry(t, method, withDryRun(path), sent)
    const real = await t.json(method, path, sent, t.auth)
    expect(real.status).toBe(code)
    expect(real.body.reason).toBe(reason)
    expect(dryRun.status).toBe(code)
    expect(dryRun.body).toEqual(real.body)
  })
})

describe('dryRun values', () => {
  it.each([
    ['POST', SVC, 'CreateOptions'],
    ['PUT', `${SVC}/web`, 'UpdateOptions'],
    ['PATCH', `${SVC}/web`, 'PatchOptions'],
    ['DELETE', `${SVC}/web`, 'DeleteOptions'],
  ])('%s with dryRun=Yes is a 422 naming dryRun, and writes nothing', async (method, path, kind) => {
    const t = await seeded()
    const body = method === 'DELETE' ? undefined : method === 'PATCH' ? { metadata: { labels: { a: 'b' } } } : web
    const res = await dry(t, method, `${path}?dryRun=Yes`, body)
    expect(res.status).toBe(422)
    expect(res.body.reason).toBe('Invalid')
    expect(res.body.details.kind).toBe(kind)
    expect(res.body.details.causes).toEqual([{ reason: 'FieldValueNotSupported', field: 'dryRun', message: 'Unsupported value: ["Yes"]: supported values: "All"' }])
    expect(res.body.message).toContain('dryRun: Unsupported value')
  })

  it('refuses a bad dryRun in DeleteOptions, and an empty one in the query', async () => {
    const t = await seeded()
    const body = await dry(t, 'DELETE', `${SVC}/web`, { kind: 'DeleteOptions', apiVersion: 'v1', dryRun: ['Server'] })
    expect(body.status).toBe(422)
    expect(body.body.details.causes[0].field).toBe('dryRun')
    const empty = await dry(t, 'POST', `${SVC}?dryRun=`, web)
    expect(empty.status).toBe(422)
  })

  it('keeps writes without dryRun real (the option is off unless asked)', async () => {
    const t = await seeded()
    expect((await t.json('PATCH', `${SVC}/web?fieldManager=kubectl-edit`, { metadata: { labels: { tier: 'x' } } }, t.auth)).status).toBe(200)
    expect((await t.json('GET', `${SVC}/web`, undefined, t.auth)).body.metadata.labels.tier).toBe('x')
  })
})
