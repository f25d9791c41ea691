/**
 * `?fieldValidation=`: unknown fields (what the kind's schema would drop, at any depth)
 * and duplicate fields (which JSON.parse hides) are a 400 under Strict, `Warning`
 * headers under Warn — Kubernetes' default when the parameter is absent — and nothing
 * under Ignore; an unknown directive is Kubernetes' 422 naming the parameter. The same
 * on create, replace, patch (merge, JSON) and the status subresource, for generic kinds
 * and for those with registries of their own.
 */
import { describe, expect, it } from 'vitest'
import { testApp, type TestApp } from '../support/app'

const SERVICES = '/api/v1/namespaces/default/services'
const svc = (name: string, spec: Record<string, unknown> = {}) => ({ metadata: { name }, spec: { selector: { app: name }, ports: [{ port: 80 }], ...spec } })
const warnings = (res: Response) => (res.headers.get('warning') ?? '').split(/,\s*(?=299 )/).filter(Boolean)

async function create(t: TestApp, body: unknown, query = '') {
  return t.req('POST', `${SERVICES}${query}`, body)
}

describe('fieldValidation', () => {
  it('Strict: an unknown field is a 400 worded as a strict decoding error, and nothing is stored', async () => {
    const t = await testApp()
    const res = await create(t, svc('web', { foo: 1 }), '?fieldValidation=Strict')
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({
      kind: 'Status',
      reason: 'BadRequest',
      code: 400,
      message: 'Service in version "v1" cannot be handled as a Service: strict decoding error: unknown field "spec.foo"',
    })
    expect((await t.req('GET', `${SERVICES}/web`)).status).toBe(404)
  })

  it('names nested unknown fields in the order of the body, and leaves maps (labels, selector) alone', async () => {
    const t = await testApp()
    const body = { metadata: { name: 'web', labels: { anything: 'goes' }, bogus: 'x' }, spec: { selector: { any: 'key' }, ports: [{ port: 80, extra: true }], foo: 1 } }
    const res = await create(t, body, '?fieldValidation=Strict')
    expect(res.status).toBe(400)
    expect(((await res.json()) as any).message).toMatch(/strict decoding error: unknown field "metadata.bogus", unknown field "spec.ports\[0\].extra", unknown field "spec.foo"$/)
  })

  it('Strict: a duplicate field, which JSON.parse would hide, is named', async () => {
    const t = await testApp()
    const text = '{"metadata":{"name":"web","name":"other"},"spec":{"ports":[{"port":80,"port":81}]}}'
    const res = await t.req('POST', `${SERVICES}?fieldValidation=Strict`, text)
    expect(res.status).toBe(400)
    expect(((await res.json()) as any).message).toContain('strict decoding error: duplicate field "metadata.name", duplicate field "spec.ports[0].port"')
  })

  it('Warn (and the default, no parameter): the write proceeds with a Warning header per field', async () => {
    const t = await testApp()
    for (const [name, query] of [['warned', '?fieldValidation=Warn'], ['default', '']] as const) {
      const res = await create(t, svc(name, { foo: 1, bar: 2 }), query)
      expect(res.status, name).toBe(201)
      expect(warnings(res)).toEqual(['299 - "unknown field \\"spec.foo\\""', '299 - "unknown field \\"spec.bar\\""'])
      expect(((await res.json()) as any).spec.foo).toBeUndefined()
    }
  })

  it('Ignore: the write proceeds and nothing is said; a clean body gets no warning under any directive', async () => {
    const t = await testApp()
    const ignored = await create(t, svc('ignored', { foo: 1 }), '?fieldValidation=Ignore')
    expect(ignored.status).toBe(201)
    expect(ignored.headers.get('warning')).toBeNull()
    const clean = await create(t, svc('clean'), '?fieldValidation=Strict')
    expect(clean.status).toBe(201)
    expect(clean.headers.get('warning')).toBeNull()
  })

  it('an unknown directive is a 422 naming the parameter, as Kubernetes validates CreateOptions', async () => {
    const t = await testApp()
    const res = await create(t, svc('web'), '?fieldValidation=strict')
    expect(res.status).toBe(422)
    const body = (await res.json()) as any
    expect(body).toMatchObject({ reason: 'Invalid', details: { kind: 'CreateOptions', causes: [{ field: 'fieldValidation', reason: 'FieldValueNotSupported' }] } })
    expect(body.details).toMatchObject({ group: 'meta.k8s.io', kind: 'CreateOptions' })
    expect(body.message).toBe('CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "strict": supported values: "", "Ignore", "Strict", "Warn"')
    const patch = await t.req('PATCH', `${SERVICES}/web?fieldValidation=nope`, { metadata: { labels: { a: 'b' } } })
    expect(((await patch.json()) as any).details.kind).toBe('PatchOptions')
    // a write the kind does not serve is still its 405
    const slices = await t.req('POST', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?fieldValidation=nope', { metadata: { name: 'x' } })
    expect(slices.status).toBe(405)
  })

  it('checks a replace, a merge patch and a JSON patch the same way', async () => {
    const t = await testApp()
    const created = (await t.json('POST', SERVICES, svc('web'))).body
    const put = await t.req('PUT', `${SERVICES}/web?fieldValidation=Strict`, { ...created, spec: { ...created.spec, foo: 1 } })
    expect(put.status).toBe(400)
    expect(((await put.json()) as any).message).toContain('unknown field "spec.foo"')

    const merge = await t.req('PATCH', `${SERVICES}/web?fieldValidation=Strict`, { spec: { ports: [{ port: 80, nope: 1 }] } })
    expect(merge.status).toBe(400)
    expect(((await merge.json()) as any).message).toContain('unknown field "spec.ports[0].nope"')

    const json = (ops: unknown) => t.req('PATCH', `${SERVICES}/web?fieldValidation=Strict`, JSON.stringify(ops), { 'content-type': 'application/json-patch+json' })
    const unknownPath = await json([{ op: 'add', path: '/spec/foo', value: 1 }])
    expect(unknownPath.status).toBe(400)
    expect(((await unknownPath.json()) as any).message).toContain('unknown field "spec.foo"')
    const unknownInValue = await json([{ op: 'add', path: '/spec/ports/0', value: { port: 81, extra: 1 } }])
    expect(((await unknownInValue.json()) as any).message).toContain('unknown field "spec.ports[0].extra"')
    const fine = await json([{ op: 'add', path: '/metadata/labels', value: { tier: 'web' } }])
    expect(fine.status).toBe(200)

    const smp = { spec: { '$setElementOrder/ports': [{ port: 80 }], ports: [{ port: 80, $patch: 'merge', extra: 1 }] } }
    const strategic = await t.req('PATCH', `${SERVICES}/web?fieldValidation=Strict`, JSON.stringify(smp), { 'content-type': 'application/strategic-merge-patch+json' })
    expect(strategic.status).toBe(400)
    // directives are not fields
    expect(((await strategic.json()) as any).message).toMatch(/strict decoding error: unknown field "spec.ports\[0\].extra"$/)

    const warned = await t.req('PATCH', `${SERVICES}/web`, { metadata: { labels: { a: 'b' } }, spec: { foo: 1 } })
    expect(warned.status).toBe(200)
    expect(warnings(warned)).toEqual(['299 - "unknown field \\"spec.foo\\""'])
    expect(((await warned.json()) as any).metadata.labels).toMatchObject({ a: 'b' })
  })

  it('checks the status subresource, and kinds with registries of their own (Endpoints)', async () => {
    const t = await testApp()
    const pod = { metadata: { name: 'p' }, status: { podIP: '10.0.0.1', conditions: [{ type: 'Ready', status: 'True' }] } }
    expect((await t.req('POST', '/api/v1/namespaces/default/pods', pod)).status).toBe(201)
    const status = await t.req('PUT', '/api/v1/namespaces/default/pods/p/status?fieldValidation=Strict', { ...pod, status: { ...pod.status, bogus: 1 } })
    expect(status.status).toBe(400)
    expect(((await status.json()) as any).message).toBe('Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "status.bogus"')

    await t.json('POST', SERVICES, { metadata: { name: 'ext' }, spec: { ports: [{ port: 80 }] } })
    const endpoints = { metadata: { name: 'ext' }, subsets: [{ addresses: [{ ip: '10.1.0.1', bogus: 1 }], ports: [{ port: 80 }] }] }
    const res = await t.req('POST', '/api/v1/namespaces/default/endpoints?fieldValidation=Strict', endpoints)
    expect(res.status).toBe(400)
    expect(((await res.json()) as any).message).toContain('unknown field "subsets[0].addresses[0].bogus"')
  })

  it('checks a YAML body the same way', async () => {
    const t = await testApp()
    const yaml = 'metadata:\n  name: web\nspec:\n  ports:\n  - port: 80\n    bogus: 1\n'
    const res = await t.req('POST', `${SERVICES}?fieldValidation=Strict`, yaml, { 'content-type': 'application/yaml' })
    expect(res.status).toBe(400)
    expect(((await res.json()) as any).message).toContain('strict decoding error: unknown field "spec.ports[0].bogus"')
  })

  it('a YAML body with duplicate keys: Strict names each as the YAML decoder of apimachinery does, Warn warns per key, Ignore says nothing', async () => {
    const t = await testApp()
    const yaml = 'metadata:\n  name: web\n  name: other\nspec:\n  ports:\n  - port: 80\n    port: 81\n    bogus: 1\n'
    const post = (name: string, query: string) => t.req('POST', `${SERVICES}${query}`, yaml.replace('other', name), { 'content-type': 'application/yaml' })

    const strict = await post('strict', '?fieldValidation=Strict')
    expect(strict.status).toBe(400)
    expect(((await strict.json()) as any).message).toBe(
      'Service in version "v1" cannot be handled as a Service: strict decoding error: yaml: unmarshal errors:\n  line 3: key "name" already set in map\n  line 7: key "port" already set in map, unknown field "spec.ports[0].bogus"',
    )
    expect((await t.req('GET', `${SERVICES}/strict`)).status).toBe(404)

    const warned = await post('warned', '?fieldValidation=Warn')
    expect(warned.status).toBe(201)
    expect(warnings(warned)).toEqual([
      '299 - "line 3: key \\"name\\" already set in map"',
      '299 - "line 7: key \\"port\\" already set in map"',
      '299 - "unknown field \\"spec.ports[0].bogus\\""',
    ])
    const body = (await warned.json()) as any
    expect([body.metadata.name, body.spec.ports[0].port]).toEqual(['warned', 81])

    const ignored = await post('ignored', '?fieldValidation=Ignore')
    expect(ignored.status).toBe(201)
    expect(ignored.headers.get('warning')).toBeNull()
  })

  it('a server-side apply body (YAML) with a duplicate key is refused under Strict', async () => {
    const t = await testApp()
    const yaml = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n  - port: 80\n    port: 81\n'
    const res = await t.req('PATCH', `${SERVICES}/web?fieldManager=me&fieldValidation=Strict`, yaml, { 'content-type': 'application/apply-patch+yaml' })
    expect(res.status).toBe(400)
    expect(((await res.json()) as any).message).toContain('strict decoding error: yaml: unmarshal errors:\n  line 8: key "port" already set in map')
  })

  it('escapes what is not ASCII in a Warning, as Go quotes it, so that any field name makes a valid header', async () => {
    const t = await testApp()
    const res = await create(t, svc('web', { 'é😀': 1 }))
    expect(res.status).toBe(201)
    expect(res.headers.get('warning')).toBe('299 - "unknown field \\"spec[\\u00e9\\U0001f600]\\""')
  })

  it('leaves a body that is not JSON to the handler to refuse as before', async () => {
    const t = await testApp()
    const res = await t.req('POST', `${SERVICES}?fieldValidation=Strict`, '{"metadata":', { 'content-type': 'application/json' })
    expect(res.status).toBe(400)
    expect(((await res.json()) as any).message).toContain('not valid JSON')
  })
})
