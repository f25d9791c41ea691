/**
 * The OpenAPI documents: generated from the zod schemas and the table of kinds, so every
 * kind has its definition (tagged with its group, version and kind), every field of a
 * schema appears in it, every path has exactly the operations its kind's verbs serve,
 * every write lists the fieldValidation, dryRun and fieldManager parameters (kubectl
 * reads them off PATCH to leave validation to the server), and every reference resolves.
 */
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { openApiV3 } from '../../worker/api/openapi-documents'
import { definitionName } from '../../worker/api/openapi-operations'
import { toJsonSchema } from '../../worker/registry/json-schema'
import { groupPath, type KindInfo } from '../../worker/registry/kind-info'
import { KINDS, SERVICES } from '../../worker/registry/kinds'
import { schemaOf } from '../../worker/registry/openapi-schemas'
import { testApp, type TestApp } from '../support/app'

const METHODS: Record<string, string> = { create: 'post', delete: 'delete', get: 'get', list: 'get', patch: 'patch', update: 'put' }

async function v3(t: TestApp): Promise<Map<string, any>> {
  const index = await t.json('GET', '/openapi/v3')
  expect(index.status).toBe(200)
  const docs = new Map<string, any>()
  for (const [key, entry] of Object.entries<any>(index.body.paths)) {
    const res = await t.json('GET', entry.serverRelativeURL)
    expect(res.status, key).toBe(200)
    docs.set(key, res.body)
  }
  return docs
}

/** Every `$ref` in a document, with the definition it names. */
function refs(node: unknown, prefix: string, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => refs(n, prefix, out))
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref') {
        expect(v).toMatch(new RegExp(`^${prefix}`))
        out.push((v as string).slice(prefix.length))
      } else refs(v, prefix, out)
    }
  }
  return out
}

/** Every property path of a zod object schema, as `a.b.c` (arrays step into their items). */
function zodPaths(schema: z.ZodType, prefix = ''): string[] {
  const json = toJsonSchema(schema)
  const walk = (s: any, p: string): string[] => {
    if (!s || typeof s !== 'object') return []
    if (s.items) return walk(s.items, p)
    return Object.entries<any>(s.properties ?? {}).flatMap(([k, v]) => [`${p}${k}`, ...walk(v, `${p}${k}.`)])
  }
  return walk(json, prefix)
}

describe('OpenAPI v3', () => {
  it('indexes one document per group-version, each with a hash in its URL', async () => {
    const t = await testApp()
    const index = (await t.json('GET', '/openapi/v3')).body
    const expected = [...new Set(KINDS.map((k) => groupPath(k).slice(1)))].sort()
    expect(Object.keys(index.paths).sort()).toEqual(expected)
    for (const [key, entry] of Object.entries<any>(index.paths)) expect(entry.serverRelativeURL).toMatch(new RegExp(`^/openapi/v3/${key}\\?hash=[0-9A-F]{128}$`))
  })

  it('defines every kind from its zod schema, tagged with its group, version and kind', async () => {
    const docs = await v3(await testApp())
    for (const kind of KINDS) {
      const doc = docs.get(groupPath(kind).slice(1))
      expect(doc.openapi).toBe('3.0.0')
      const def = doc.components.schemas[definitionName(kind)]
      expect(def, kind.kind).toBeDefined()
      expect(def['x-kubernetes-group-version-kind']).toEqual([{ group: kind.group, kind: kind.kind, version: kind.version }])
      // generated, not kept by hand: the definition's properties are those of the schema the registry decodes with
      const { description: _d, 'x-kubernetes-group-version-kind': _g, ...generated } = def
      expect(generated).toEqual(JSON.parse(JSON.stringify(toJsonSchema(schemaOf(kind)))))
      const list = doc.components.schemas[definitionName(kind, 'List')]
      expect(list['x-kubernetes-group-version-kind']).toEqual([{ group: kind.group, kind: kind.listKind, version: kind.version }])
    }
  })

  it('has every field the zod schemas have, e.g. Service spec.publishNotReadyAddresses and Pod spec.containers.ports.containerPort', async () => {
    const docs = await v3(await testApp())
    const service = docs.get('api/v1').components.schemas['io.k8s.api.core.v1.Service']
    expect(service.properties.spec.properties.publishNotReadyAddresses).toMatchObject({ type: 'boolean' })
    expect(service.properties.spec.properties.ports.items.properties.targetPort).toMatchObject({ type: 'string', format: 'int-or-string', 'x-kubernetes-int-or-string': true })
    const pod = docs.get('api/v1').components.schemas['io.k8s.api.core.v1.Pod']
    expect(pod.properties.spec.properties.containers.items.properties.ports.items.properties.containerPort).toMatchObject({ type: 'integer' })
    for (const kind of KINDS) {
      const def = docs.get(groupPath(kind).slice(1)).components.schemas[definitionName(kind)]
      for (const path of zodPaths(schemaOf(kind))) {
        let node = def
        for (const part of path.split('.')) node = (node.items ?? node).properties?.[part]
        expect(node, `${kind.kind} ${path}`).toBeDefined()
      }
    }
  })

  it('serves each verb of each kind as an operation, and no other', async () => {
    const docs = await v3(await testApp())
    for (const kind of KINDS) {
      const paths = docs.get(groupPath(kind).slice(1)).paths
      const base = kind.namespaced ? `${groupPath(kind)}/namespaces/{namespace}/${kind.resource}` : `${groupPath(kind)}/${kind.resource}`
      const ops = (path: string) => Object.keys(paths[path] ?? {}).filter((k) => k !== 'parameters').sort()
      const methods = (...verbs: string[]) => [...new Set(verbs.filter((v) => kind.verbs.includes(v as never)).map((v) => METHODS[v]!))].sort()
      expect(ops(base), `${kind.kind} collection`).toEqual(methods('list', 'create'))
      expect(ops(`${base}/{name}`), `${kind.kind} item`).toEqual(methods('get', 'update', 'patch', 'delete'))
      expect(ops(`${base}/{name}/status`)).toEqual(kind.subresources.includes('status') ? ['get', 'patch', 'put'] : [])
      for (const item of Object.values<any>(paths)) {
        for (const [method, op] of Object.entries<any>(item)) {
          if (method === 'parameters') continue
          expect(op['x-kubernetes-group-version-kind']).toBeDefined()
          expect(op['x-kubernetes-action']).toBeDefined()
        }
      }
    }
  })

  it('lists fieldValidation, dryRun and fieldManager on every PATCH, PUT and POST, and the patch media types on PATCH', async () => {
    const docs = await v3(await testApp())
    let patches = 0
    for (const doc of docs.values()) {
      for (const item of Object.values<any>(doc.paths)) {
        for (const method of ['patch', 'put', 'post']) {
          if (!item[method]) continue
          const names = item[method].parameters.filter((p: any) => p.in === 'query').map((p: any) => p.name)
          expect(names).toEqual(expect.arrayContaining(['fieldValidation', 'dryRun', 'fieldManager']))
        }
        if (item.patch) {
          patches++
          expect(Object.keys(item.patch.requestBody.content)).toEqual(expect.arrayContaining(['application/merge-patch+json', 'application/json-patch+json', 'application/strategic-merge-patch+json']))
        }
      }
    }
    expect(patches).toBeGreaterThanOrEqual(KINDS.filter((k) => k.verbs.includes('patch')).length)
  })

  it('resolves every reference within its own document', async () => {
    const docs = await v3(await testApp())
    for (const [key, doc] of docs) {
      for (const name of refs(doc, '#/components/schemas/')) expect(doc.components.schemas[name], `${key}: ${name}`).toBeDefined()
    }
  })

  it('carries what .meta() says of a field (patch strategy and merge key) into the document', () => {
    const Port = z.object({ port: z.number().int(), name: z.string().optional() })
    const schema = z.object({
      apiVersion: z.string().nullish(),
      kind: z.string().nullish(),
      spec: z.object({ ports: z.array(Port).nullish().meta({ 'x-kubernetes-patch-merge-key': 'port', 'x-kubernetes-patch-strategy': 'merge' }) }).nullish(),
    })
    const kind: KindInfo = { ...SERVICES, kind: 'Thing', listKind: 'ThingList', resource: 'things', singular: 'thing', group: 'example.dev', schema }
    const doc = openApiV3([kind], { title: 'test', version: 'v0' }) as any
    const ports = doc.components.schemas[definitionName(kind)].properties.spec.properties.ports
    expect(ports).toMatchObject({ type: 'array', 'x-kubernetes-patch-merge-key': 'port', 'x-kubernetes-patch-strategy': 'merge' })
    expect(definitionName(kind)).toBe('dev.example.v1.Thing')
    expect(doc.paths['/apis/example.dev/v1/namespaces/{namespace}/things/{name}'].patch.operationId).toBe('patchExampleDevV1NamespacedThing')
  })

  it('answers a known ETag with 304, and lets a document fetched by its hash be cached for good', async () => {
    const t = await testApp()
    const index = (await t.json('GET', '/openapi/v3')).body
    const url = index.paths['api/v1'].serverRelativeURL
    const first = await t.req('GET', url)
    expect(first.headers.get('cache-control')).toContain('immutable')
    const etag = first.headers.get('etag')!
    expect(etag).toBe(`"${url.split('hash=')[1]}"`)
    const again = await t.req('GET', url, undefined, { 'if-none-match': etag })
    expect(again.status).toBe(304)
    expect(await again.text()).toBe('')
    const unhashed = await t.req('GET', '/openapi/v3/api/v1')
    expect(unhashed.headers.get('cache-control')).toBe('no-cache, private')
    // the same process serves the same document to every app it builds
    expect((await (await testApp()).json('GET', '/openapi/v3')).body).toEqual(index)
  })
})

describe('OpenAPI v2', () => {
  it('is swagger 2.0 JSON of every kind (in protobuf too: openapi-v2-protobuf.test.ts)', async () => {
    const t = await testApp()
    const res = await t.req('GET', '/openapi/v2', undefined, { accept: 'application/json' })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('application/json')
    const doc = (await res.json()) as any
    expect(doc.swagger).toBe('2.0')
    for (const kind of KINDS) {
      expect(doc.definitions[definitionName(kind)]['x-kubernetes-group-version-kind']).toEqual([{ group: kind.group, kind: kind.kind, version: kind.version }])
    }
    for (const name of refs(doc, '#/definitions/')) expect(doc.definitions[name], name).toBeDefined()
    const text = JSON.stringify(doc.definitions)
    expect(text).not.toContain('"nullable"')
    expect(text).not.toContain('"anyOf"')
    const patch = doc.paths['/api/v1/namespaces/{namespace}/services/{name}'].patch
    expect(patch.parameters.map((p: any) => p.name)).toEqual(expect.arrayContaining(['body', 'fieldValidation', 'dryRun', 'fieldManager']))
    expect(patch['x-kubernetes-group-version-kind']).toEqual({ group: '', kind: 'Service', version: 'v1' })
  })
})
