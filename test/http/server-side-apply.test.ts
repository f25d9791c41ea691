/**
 * Server-side apply (`application/apply-patch+yaml` with `fieldManager`) and the managed
 * fields every write keeps, through the real app over a real database: apply creates and
 * updates, removes what a manager stops applying, conflicts between managers (409 naming
 * each field) and `force`, no-op repeats, updates taking ownership, dry runs, and the
 * option errors.
 */
import { describe, expect, it } from 'vitest'
import { testApp, type TestApp } from '../support/app'

const NS = '/api/v1/namespaces/default'
const APPLY = { 'content-type': 'application/apply-patch+yaml' }

const apply = (t: TestApp, path: string, yaml: string, query = '') => t.json('PATCH', `${path}?${query}`, yaml, APPLY)

const serviceYaml = (ports: string, extra = '') => `apiVersion: v1
kind: Service
metadata:
  name: web
  labels:
    app: web
spec:
  selector:
    app: web
  ports:
${ports}${extra}`

const managers = (obj: any) => (obj.metadata.managedFields ?? []).map((m: any) => `${m.manager}/${m.operation}`).sort()

describe('server-side apply', () => {
  it('creates the object (201), then updates it (200), the manager owning what it applied', async () => {
    const t = await testApp()
    const created = await apply(t, `${NS}/services/web`, serviceYaml('  - port: 80\n    targetPort: 8080\n'), 'fieldManager=alice')
    expect(created.status).toBe(201)
    expect(created.body.spec.ports).toEqual([expect.objectContaining({ port: 80, targetPort: 8080 })])
    expect(created.body.spec.clusterIP).toMatch(/^10\./)
    const [entry] = created.body.metadata.managedFields
    expect(entry).toMatchObject({ manager: 'alice', operation: 'Apply', apiVersion: 'v1', fieldsType: 'FieldsV1' })
    expect(entry.fieldsV1['f:spec']['f:ports']).toEqual({ 'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:port': {}, 'f:targetPort': {} } })
    // The allocated ClusterIP is nobody's: alice did not set it.
    expect(entry.fieldsV1['f:spec']).not.toHaveProperty('f:clusterIP')

    const updated = await apply(t, `${NS}/services/web`, serviceYaml('  - name: http\n    port: 80\n    targetPort: 9090\n  - name: https\n    port: 443\n'), 'fieldManager=alice')
    expect(updated.status).toBe(200)
    expect(updated.body.spec.ports.map((p: any) => [p.port, p.targetPort])).toEqual([[80, 9090], [443, 443]])
    expect(updated.body.spec.clusterIP).toBe(created.body.spec.clusterIP)
  })

  it('removes what the manager stops applying, keeps what another manager set', async () => {
    const t = await testApp()
    await apply(t, `${NS}/services/web`, serviceYaml('  - name: http\n    port: 80\n  - name: https\n    port: 443\n', '  sessionAffinity: ClientIP\n'), 'fieldManager=alice')
    // bob (a merge patch) sets a label alice never applied.
    const patched = await t.json('PATCH', `${NS}/services/web?fieldManager=bob`, { metadata: { labels: { team: 'blue' } } })
    expect(managers(patched.body)).toEqual(['alice/Apply', 'bob/Update'])
    const res = await apply(t, `${NS}/services/web`, `apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector:\n    app: web\n  ports:\n  - name: http\n    port: 80\n`, 'fieldManager=alice')
    expect(res.status).toBe(200)
    expect(res.body.spec.ports.map((p: any) => p.port)).toEqual([80])
    expect(res.body.spec.sessionAffinity ?? 'None').toBe('None')
    expect(res.body.metadata.labels).toEqual({ team: 'blue' })
  })

  it('answers 409 naming every field another manager owns with another value, and force takes them', async () => {
    const t = await testApp()
    await apply(t, `${NS}/services/web`, serviceYaml('  - port: 80\n    targetPort: 8080\n'), 'fieldManager=alice')
    const before = await t.json('GET', `${NS}/services/web`)
    const refused = await apply(t, `${NS}/services/web`, serviceYaml('  - port: 80\n    targetPort: 9090\n', '  sessionAffinity: ClientIP\n'), 'fieldManager=bob')
    expect(refused.status).toBe(409)
    expect(refused.body).toMatchObject({ kind: 'Status', reason: 'Conflict', code: 409 })
    expect(refused.body.message).toBe('Apply failed with 1 conflict: conflict with "alice" using v1: .spec.ports[port=80,protocol="TCP"].targetPort')
    expect(refused.body.details.causes).toEqual([{ reason: 'FieldManagerConflict', message: 'conflict with "alice" using v1', field: '.spec.ports[port=80,protocol="TCP"].targetPort' }])
    expect((await t.json('GET', `${NS}/services/web`)).body).toEqual(before.body)

    const forced = await apply(t, `${NS}/services/web`, serviceYaml('  - port: 80\n    targetPort: 9090\n'), 'fieldManager=bob&force=true')
    expect(forced.status).toBe(200)
    expect(forced.body.spec.ports[0].targetPort).toBe(9090)
    const alice = forced.body.metadata.managedFields.find((m: any) => m.manager === 'alice')
    expect(alice.fieldsV1['f:spec']['f:ports']['k:{"port":80,"protocol":"TCP"}']).not.toHaveProperty('f:targetPort')
  })

  it('is a no-op when repeated: same resourceVersion, same managed fields', async () => {
    const t = await testApp()
    const first = await apply(t, `${NS}/services/web`, serviceYaml('  - port: 80\n'), 'fieldManager=alice')
    const again = await apply(t, `${NS}/services/web`, serviceYaml('  - port: 80\n'), 'fieldManager=alice')
    expect(again.status).toBe(200)
    expect(again.body.metadata.resourceVersion).toBe(first.body.metadata.resourceVersion)
    expect(again.body.metadata.managedFields).toEqual(first.body.metadata.managedFields)
  })

  it('takes JSON too (JSON is YAML), and a dry run stores nothing', async () => {
    const t = await testApp()
    const body = JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { ports: [{ port: 80 }] } })
    const dry = await t.json('PATCH', `${NS}/services/web?fieldManager=alice&dryRun=All`, body, APPLY)
    expect(dry.status).toBe(201)
    expect((await t.json('GET', `${NS}/services/web`)).status).toBe(404)
    expect((await t.json('PATCH', `${NS}/services/web?fieldManager=alice`, body, APPLY)).status).toBe(201)
  })

  it('refuses an apply without a field manager, force on other patches, and a configuration that is not one', async () => {
    const t = await testApp()
    const unnamed = await apply(t, `${NS}/services/web`, serviceYaml('  - port: 80\n'))
    expect(unnamed.status).toBe(422)
    expect(unnamed.body.details.causes[0]).toMatchObject({ field: 'fieldManager', message: 'Required value: is required for apply patch' })
    await apply(t, `${NS}/services/web`, serviceYaml('  - port: 80\n'), 'fieldManager=alice')
    const forced = await t.json('PATCH', `${NS}/services/web?force=true`, { metadata: { labels: { a: 'b' } } })
    expect(forced.status).toBe(422)
    expect(forced.body.details.causes[0]).toMatchObject({ field: 'force', message: 'Forbidden: may not be specified for non-apply patch' })
    const long = await apply(t, `${NS}/services/web`, serviceYaml('  - port: 80\n'), `fieldManager=${'m'.repeat(129)}`)
    expect(long.status).toBe(422)
    expect(long.body.details.causes[0].field).toBe('fieldManager')
    for (const bad of ['kind: Service\nmetadata:\n  name: web\n', 'apiVersion: v1\nmetadata:\n  name: web\n', 'apiVersion: v1\nkind: Service\nmetadata:\n  name: other\n', '- a\n- b\n']) {
      const res = await apply(t, `${NS}/services/web`, bad, 'fieldManager=alice')
      expect(res.status, bad).toBe(400)
    }
    const invalid = await apply(t, `${NS}/services/web`, serviceYaml('  - port: 0\n'), 'fieldManager=alice')
    expect(invalid.status).toBe(422)
    expect(invalid.body.details.causes[0].field).toBe('spec.ports[0].port')
  })
})

describe('managed fields of other writes', () => {
  it('records the field manager (or the User-Agent product) of creates, patches and status updates', async () => {
    const t = await testApp()
    const created = await t.json('POST', `${NS}/pods`, { metadata: { name: 'p' }, spec: { containers: [{ name: 'c' }] } }, { 'user-agent': 'agent/1.2 (linux)' })
    expect(created.body.metadata.managedFields).toEqual([
      expect.objectContaining({ manager: 'agent', operation: 'Update', apiVersion: 'v1', fieldsV1: { 'f:spec': { 'f:containers': { 'k:{"name":"c"}': { '.': {}, 'f:name': {} } } } } }),
    ])
    const status = await t.json('PATCH', `${NS}/pods/p/status?fieldManager=kubelet`, { status: { podIP: '10.1.0.9' } })
    const entry = status.body.metadata.managedFields.find((m: any) => m.manager === 'kubelet')
    expect(entry).toMatchObject({ operation: 'Update', subresource: 'status', fieldsV1: { 'f:status': { 'f:podIP': {} } } })
  })

  it('lets an update take a field from the manager that applied it, without conflict', async () => {
    const t = await testApp()
    await apply(t, `${NS}/services/web`, serviceYaml('  - port: 80\n    targetPort: 8080\n'), 'fieldManager=alice')
    const edited = await t.json('PATCH', `${NS}/services/web?fieldManager=kubectl-edit`, { spec: { sessionAffinity: 'ClientIP' } })
    expect(edited.status).toBe(200)
    expect(managers(edited.body)).toEqual(['alice/Apply', 'kubectl-edit/Update'])
    // alice applying again without sessionAffinity leaves it: kubectl-edit owns it now.
    const again = await apply(t, `${NS}/services/web`, serviceYaml('  - port: 80\n    targetPort: 8080\n'), 'fieldManager=alice')
    expect(again.body.spec.sessionAffinity).toBe('ClientIP')
  })
})

describe('server-side apply and access control', () => {
  const ROOT = 'root-credential-for-the-apply-tests-0123456789'
  const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` })
  const token = async (t: TestApp, name: string, namespaces: string[]) =>
    (await t.json('POST', '/apis/switchboard.dev/v1/tokens', { metadata: { name }, spec: { role: 'admin', namespaces } }, bearer(ROOT))).body.status.secret as string
  const namespaceYaml = (name: string) => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n  labels:\n    team: a\n`

  it('refuses to create a namespace through an apply to a token that may not create namespaces, as its POST does', async () => {
    const t = await testApp({ env: { SWITCHBOARD_ADMIN_TOKEN: ROOT } })
    await t.json('POST', '/api/v1/namespaces', { metadata: { name: 'team-a' } }, bearer(ROOT))
    // A token can only be issued for namespaces that exist (and is revoked with them), so one
    // that reaches the namespace it would create cannot exist: the apply is refused by its reach.
    const scoped = await token(t, 'team-admin', ['team-a'])
    const posted = await t.json('POST', '/api/v1/namespaces', { metadata: { name: 'team-new' } }, bearer(scoped))
    expect(posted.status).toBe(403)
    const applied = await t.json('PATCH', '/api/v1/namespaces/team-new?fieldManager=x', namespaceYaml('team-new'), { ...APPLY, ...bearer(scoped) })
    expect(applied.status).toBe(403)
    expect(applied.body.reason).toBe(posted.body.reason)
    expect((await t.json('GET', '/api/v1/namespaces/team-new', undefined, bearer(ROOT))).status).toBe(404)
    // Its own namespace it may apply to; a token of every namespace may create one.
    expect((await t.json('PATCH', '/api/v1/namespaces/team-a?fieldManager=x', namespaceYaml('team-a'), { ...APPLY, ...bearer(scoped) })).status).toBe(200)
    const everywhere = await token(t, 'cluster-admin', ['*'])
    expect((await t.json('PATCH', '/api/v1/namespaces/team-new?fieldManager=x', namespaceYaml('team-new'), { ...APPLY, ...bearer(everywhere) })).status).toBe(201)
  })
})

describe('server-side apply and hostile input', () => {
  it('never reaches Object.prototype through managed fields or an apply configuration', async () => {
    const t = await testApp()
    const evil = [{ manager: 'evil', operation: 'Apply', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:__proto__': { 'f:toString': {} }, 'f:constructor': { 'f:prototype': { 'f:hasOwnProperty': {} } } } } }]
    expect((await t.json('POST', `${NS}/services`, { metadata: { name: 'web', managedFields: evil }, spec: { ports: [{ port: 80 }] } })).status).toBe(201)
    const res = await apply(t, `${NS}/services/web`, 'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n', 'fieldManager=evil')
    expect(res.status).toBe(200)
    expect(typeof Object.prototype.toString).toBe('function')
    expect(typeof Object.prototype.hasOwnProperty).toBe('function')
    const proto = await t.json('PATCH', `${NS}/services/web?fieldManager=evil`, '{"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},"spec":{"__proto__":{"type":"NodePort"},"ports":[{"port":80}]}}', APPLY)
    expect(proto.status).toBe(400)
    expect(proto.body.details.causes[0].field).toBe('spec.__proto__')
    expect(({} as any).type).toBeUndefined()
  })

  it('refuses metadata that is not an object', async () => {
    const t = await testApp()
    const res = await apply(t, `${NS}/services/web`, 'apiVersion: v1\nkind: Service\nmetadata: abc\n', 'fieldManager=alice')
    expect(res.status).toBe(400)
    expect((await t.json('GET', `${NS}/services/web`)).status).toBe(404)
  })

  it('stays linear in the size of long lists (an apply of 4,000 containers costs about what the same merge patch does)', async () => {
    const t = await testApp()
    const containers = Array.from({ length: 4000 }, (_, i) => ({ name: `c${i}`, image: `img:${i}` }))
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'big' }, spec: { containers } }
    expect((await t.json('POST', `${NS}/pods`, pod)).status).toBe(201)
    const timed = async (send: () => Promise<{ status: number }>) => {
      const t0 = performance.now()
      expect((await send()).status).toBe(200)
      return performance.now() - t0
    }
    const changed = { ...pod, spec: { containers: containers.map((c) => ({ ...c, image: `${c.image}-2` })) } }
    const merge = await timed(() => t.json('PATCH', `${NS}/pods/big?dryRun=All`, changed))
    const applied = await timed(() => t.json('PATCH', `${NS}/pods/big?fieldManager=big&force=true&dryRun=All`, JSON.stringify(changed), APPLY))
    // Quadratic work on 4,000 items is 16 million steps (seconds); linear stays within a small multiple of the merge patch.
    expect(applied).toBeLessThan(merge * 20 + 500)
  })
})
