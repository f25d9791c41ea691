/**
 * Plain GETs of one object carry an ETag (the resourceVersion, quoted) and honour
 * If-None-Match with a 304 and no body, for stored objects, the status subresource and
 * computed Endpoints alike; a write changes the tag.
 */
import { describe, expect, it } from 'vitest'
import { testApp } from '../support/app'

const NS = '/api/v1/namespaces/default'

describe('ETag and If-None-Match on a GET of one object', () => {
  it('tags a service with its resourceVersion and answers 304 while it is unchanged', async () => {
    const t = await testApp()
    const created = await t.json('POST', `${NS}/services`, { metadata: { name: 'web' }, spec: { ports: [{ port: 80 }] } })
    const rv = created.body.metadata.resourceVersion as string
    const first = await t.req('GET', `${NS}/services/web`)
    expect(first.status).toBe(200)
    expect(first.headers.get('etag')).toBe(`"${rv}"`)

    for (const tag of [`"${rv}"`, `W/"${rv}"`, `"1", "${rv}"`, '*']) {
      const again = await t.req('GET', `${NS}/services/web`, undefined, { 'if-none-match': tag })
      expect(again.status, tag).toBe(304)
      expect(await again.text()).toBe('')
      expect(again.headers.get('etag')).toBe(`"${rv}"`)
    }
    const other = await t.req('GET', `${NS}/services/web`, undefined, { 'if-none-match': `"${rv}0"` })
    expect(other.status).toBe(200)
    expect(((await other.json()) as any).metadata.name).toBe('web')

    await t.json('PATCH', `${NS}/services/web`, { metadata: { labels: { v: '2' } } })
    const changed = await t.req('GET', `${NS}/services/web`, undefined, { 'if-none-match': `"${rv}"` })
    expect(changed.status).toBe(200)
    expect(changed.headers.get('etag')).not.toBe(`"${rv}"`)
  })

  it('tags the status subresource and computed Endpoints, whose tag moves when a pod becomes ready', async () => {
    const t = await testApp()
    await t.json('POST', `${NS}/services`, { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } })
    const pod = {
      metadata: { name: 'p', labels: { app: 'web' } },
      status: { podIP: '10.0.0.1', conditions: [{ type: 'Ready', status: 'False' }] },
    }
    expect((await t.json('POST', `${NS}/pods`, pod)).status).toBe(201)
    const status = await t.req('GET', `${NS}/pods/p/status`)
    const podTag = status.headers.get('etag')!
    expect(podTag).toMatch(/^"\d+"$/)
    expect((await t.req('GET', `${NS}/pods/p/status`, undefined, { 'if-none-match': podTag })).status).toBe(304)

    const endpoints = await t.req('GET', `${NS}/endpoints/web`)
    const tag = endpoints.headers.get('etag')!
    expect(tag).toMatch(/^"\d+"$/)
    expect((await t.req('GET', `${NS}/endpoints/web`, undefined, { 'if-none-match': tag })).status).toBe(304)
    await t.json('PATCH', `${NS}/pods/p/status`, { status: { conditions: [{ type: 'Ready', status: 'True' }] } })
    const ready = await t.req('GET', `${NS}/endpoints/web`, undefined, { 'if-none-match': tag })
    expect(ready.status).toBe(200)
    expect(((await ready.json()) as any).subsets[0].addresses).toHaveLength(1)
  })

  it('leaves lists and missing objects untagged', async () => {
    const t = await testApp()
    expect((await t.req('GET', `${NS}/services`)).headers.get('etag')).toBeNull()
    const missing = await t.req('GET', `${NS}/services/nope`, undefined, { 'if-none-match': '*' })
    expect(missing.status).toBe(404)
    expect(missing.headers.get('etag')).toBeNull()
  })
})
