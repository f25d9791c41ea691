import { describe, expect, it } from 'vitest'
import { testApp, type TestApp } from '../support/app'

const BASE = '/api/v1/namespaces/default/pods'
const JSON_PATCH = { 'content-type': 'application/json-patch+json' }

async function withPod(): Promise<TestApp> {
  const t = await testApp()
  const created = await t.json('POST', BASE, { metadata: { name: 'web-1', labels: { app: 'web', tier: 'fe' } } })
  expect(created.status).toBe(201)
  return t
}

function patch(t: TestApp, ops: unknown[]) {
  return t.json('PATCH', `${BASE}/web-1`, JSON.stringify(ops), JSON_PATCH)
}

describe('JSON patch test operation (RFC 6902 §4.6)', () => {
  it('compares objects member by member, whatever the order of their keys', async () => {
    const t = await withPod()
    const res = await patch(t, [
      { op: 'test', path: '/metadata/labels', value: { tier: 'fe', app: 'web' } },
      { op: 'add', path: '/metadata/labels/v', value: '2' },
    ])
    expect(res.status).toBe(200)
    expect(res.body.metadata.labels).toEqual({ app: 'web', tier: 'fe', v: '2' })
  })

  it('still fails on a different value, a missing member or a different array order', async () => {
    const t = await withPod()
    for (const value of [{ tier: 'fe', app: 'db' }, { app: 'web' }, { app: 'web', tier: 'fe', v: '1' }]) {
      const res = await patch(t, [{ op: 'test', path: '/metadata/labels', value }])
      expect(res.status).toBe(422)
      expect(res.body.details.causes[0].field).toBe('metadata.labels')
    }
    await patch(t, [{ op: 'add', path: '/metadata/finalizers', value: ['a/x', 'b/y'] }])
    expect((await patch(t, [{ op: 'test', path: '/metadata/finalizers', value: ['b/y', 'a/x'] }])).status).toBe(422)
    expect((await patch(t, [{ op: 'test', path: '/metadata/finalizers', value: ['a/x', 'b/y'] }])).status).toBe(200)
  })
})
