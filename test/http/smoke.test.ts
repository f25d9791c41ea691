import { describe, expect, it } from 'vitest'
import { testApp } from '../support/app'

describe('smoke', () => {
  it('serves the default namespace and creates a service', async () => {
    const t = await testApp()
    const list = await t.json('GET', '/api/v1/namespaces')
    expect(list.body.items.map((n: any) => n.metadata.name)).toEqual(['default'])
    const created = await t.json('POST', '/api/v1/namespaces/default/services', {
      metadata: { name: 'web' },
      spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
    })
    expect(created.status).toBe(201)
    expect(created.body.spec.clusterIP).toMatch(/^10\./)
  })
})
