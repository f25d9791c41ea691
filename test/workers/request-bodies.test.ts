/**
 * The request bodies beyond JSON inside workerd, on D1: a YAML create (the yaml package
 * runs in the Workers runtime), a strategic merge patch and a protobuf create as kubectl
 * sends it (`kubectl create namespace pb-ns`).
 */
import { SELF } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { testDatabase } from './db'

const AUTH = { authorization: 'Bearer workers-test-root-credential-0123456789' }
const KUBECTL_NAMESPACE = '6b3873000a0f0a02763112094e616d657370616365121d0a150a0570622d6e7312001a0022002a0032003800420012001a020a001a002200'

async function send(method: string, path: string, body: string | Uint8Array, contentType: string) {
  const res = await SELF.fetch(`http://registry${path}`, { method, headers: { ...AUTH, 'content-type': contentType }, body })
  return { status: res.status, body: (await res.json()) as any }
}

describe('YAML, strategic merge patch and protobuf in the Worker', () => {
  beforeEach(async () => {
    await testDatabase()
  })

  it('creates from YAML, patches ports by port, creates a namespace from protobuf', async () => {
    const yaml = 'metadata:\n  name: web\n  labels: {switch: on}\nspec:\n  ports:\n  - {name: http, port: 80}\n  - {name: https, port: 443}\n'
    const created = await send('POST', '/api/v1/namespaces/default/services', yaml, 'application/yaml')
    expect(created.status).toBe(201)
    expect(created.body.metadata.labels).toEqual({ switch: 'on' })
    const patch = JSON.stringify({ spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443, $patch: 'delete' }] } })
    const patched = await send('PATCH', '/api/v1/namespaces/default/services/web', patch, 'application/strategic-merge-patch+json')
    expect(patched.status).toBe(200)
    expect(patched.body.spec.ports).toEqual([{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }])
    const bytes = Uint8Array.from(KUBECTL_NAMESPACE.match(/../g)!.map((b) => parseInt(b, 16)))
    const ns = await send('POST', '/api/v1/namespaces', bytes, 'application/vnd.kubernetes.protobuf')
    expect(ns.status).toBe(201)
    expect(ns.body.metadata.name).toBe('pb-ns')
  })
})
