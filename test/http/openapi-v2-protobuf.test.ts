/**
 * `/openapi/v2` negotiated by the Accept header as Kubernetes negotiates it: gnostic's
 * protobuf when asked for first (kubectl's spelling with `@`, or the newer one), answered
 * with the newer spelling (Go cannot parse the `@` one as a Content-Type), with an ETag
 * of its own and 304 for it; JSON for JSON, wildcards, no Accept, and types the server
 * does not serve. And the empty CustomResourceDefinitionList kubectl's validation asks
 * for when a kind has no PATCH operation.
 */
import { describe, expect, it } from 'vitest'
import { decodeOpenApiV2 } from '../support/openapi-v2-decoder'
import { testApp } from '../support/app'

const PROTOBUF = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf'
const KUBECTL_ACCEPT = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf'

describe('/openapi/v2 in protobuf', () => {
  it('answers kubectl in protobuf: the JSON document, with its own ETag', async () => {
    const t = await testApp()
    const json = await t.req('GET', '/openapi/v2')
    expect(json.headers.get('content-type')).toBe('application/json')
    const doc = (await json.json()) as any
    for (const accept of [KUBECTL_ACCEPT, PROTOBUF, `application/json;q=0.5, ${KUBECTL_ACCEPT}`]) {
      const res = await t.req('GET', '/openapi/v2', undefined, { accept })
      expect(res.status, accept).toBe(200)
      expect(res.headers.get('content-type'), accept).toBe(PROTOBUF)
      expect(res.headers.get('vary')).toBe('Accept')
      expect(res.headers.get('etag')).not.toBe(json.headers.get('etag'))
      const decoded = decodeOpenApiV2(new Uint8Array(await res.arrayBuffer())) as any
      expect(decoded.info).toEqual(doc.info)
      expect(Object.keys(decoded.paths)).toEqual(Object.keys(doc.paths))
      expect(decoded.definitions['io.k8s.api.core.v1.Service']).toEqual(doc.definitions['io.k8s.api.core.v1.Service'])
    }
  })

  it('a request naming the protobuf ETag gets 304; the JSON ETag does not match it', async () => {
    const t = await testApp()
    const first = await t.req('GET', '/openapi/v2', undefined, { accept: KUBECTL_ACCEPT })
    const etag = first.headers.get('etag')!
    expect(etag).toMatch(/^"[0-9A-F]{128}"$/)
    const again = await t.req('GET', '/openapi/v2', undefined, { accept: KUBECTL_ACCEPT, 'if-none-match': etag })
    expect(again.status).toBe(304)
    expect(await again.text()).toBe('')
    const jsonEtag = (await t.req('GET', '/openapi/v2')).headers.get('etag')!
    expect((await t.req('GET', '/openapi/v2', undefined, { accept: KUBECTL_ACCEPT, 'if-none-match': jsonEtag })).status).toBe(200)
    expect((await t.req('GET', '/openapi/v2', undefined, { 'if-none-match': etag })).status).toBe(200)
  })

  it('is JSON when JSON or a wildcard comes first, when nothing is asked, and for types it does not serve', async () => {
    const t = await testApp()
    for (const accept of ['application/json', '*/*', 'application/*', `application/json, ${KUBECTL_ACCEPT}`, `${KUBECTL_ACCEPT};q=0.1, */*;q=0.5`, `${KUBECTL_ACCEPT};q=0`, 'text/html', 'application/yaml', '']) {
      const res = await t.req('GET', '/openapi/v2', undefined, accept ? { accept } : {})
      expect(res.status, accept).toBe(200)
      expect(res.headers.get('content-type'), accept).toBe('application/json')
      expect(((await res.json()) as any).swagger).toBe('2.0')
    }
  })
})

describe('the CustomResourceDefinition list', () => {
  it('is empty: the registry serves no custom resources', async () => {
    const t = await testApp()
    const res = await t.json('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions')
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ kind: 'CustomResourceDefinitionList', apiVersion: 'apiextensions.k8s.io/v1', metadata: {}, items: [] })
    const post = await t.json('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {})
    expect(post.status).toBe(405)
    expect(post.body.kind).toBe('Status')
  })
})
