/**
 * Namespaces are replaceable and patchable, as in Kubernetes (what `kubectl label ns`,
 * `annotate ns`, `edit ns` and `replace -f` need): labels and annotations change, the
 * label naming the namespace stays, and `spec.finalizers` and the status stay as stored
 * (Kubernetes changes finalizers only through `/finalize`).
 */
import { describe, expect, it } from 'vitest'
import { testApp } from '../support/app'

const NS = '/api/v1/namespaces'

describe('namespace updates', () => {
  it('patches labels (merge patch), which label selectors then see, and removes one with null', async () => {
    const t = await testApp()
    const created = (await t.json('POST', NS, { metadata: { name: 'team-a' } })).body
    const patched = await t.json('PATCH', `${NS}/team-a`, { metadata: { labels: { tier: 'gold' } } })
    expect(patched.status).toBe(200)
    expect(patched.body.metadata.labels).toEqual({ 'kubernetes.io/metadata.name': 'team-a', tier: 'gold' })
    expect(Number(patched.body.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion))
    expect(patched.body.metadata.uid).toBe(created.metadata.uid)
    const selected = async (selector: string) => (await t.json('GET', `${NS}?labelSelector=${encodeURIComponent(selector)}`)).body.items.map((n: any) => n.metadata.name)
    expect(await selected('tier=gold')).toEqual(['team-a'])
    await t.json('PATCH', `${NS}/team-a`, { metadata: { labels: { tier: null } } })
    expect(await selected('tier=gold')).toEqual([])
    expect((await t.json('GET', `${NS}/team-a`)).body.metadata.labels).toEqual({ 'kubernetes.io/metadata.name': 'team-a' })
  })

  it('replaces labels and annotations, keeping the name label, spec.finalizers and the status', async () => {
    const t = await testApp()
    const created = (await t.json('POST', NS, { metadata: { name: 'team-b' } })).body
    const replaced = await t.json('PUT', `${NS}/team-b`, {
      ...created,
      metadata: { ...created.metadata, labels: { owner: 'ops' }, annotations: { note: 'hi' } },
      spec: { finalizers: [] },
      status: { phase: 'Terminating' },
    })
    expect(replaced.status).toBe(200)
    expect(replaced.body.metadata.labels).toEqual({ owner: 'ops', 'kubernetes.io/metadata.name': 'team-b' })
    expect(replaced.body.metadata.annotations).toEqual({ note: 'hi' })
    expect(replaced.body.spec).toEqual({ finalizers: ['kubernetes'] })
    expect(replaced.body.status).toEqual({ phase: 'Active' })
    expect((await t.json('GET', `${NS}/team-b`)).body).toEqual(replaced.body)
  })

  it('validates an update, answers a stale resourceVersion with 409 and a missing namespace with 404', async () => {
    const t = await testApp()
    const created = (await t.json('POST', NS, { metadata: { name: 'team-c' } })).body
    const bad = await t.json('PATCH', `${NS}/team-c`, { metadata: { labels: { 'bad key!': 'x' } } })
    expect(bad.status).toBe(422)
    expect(bad.body.details.causes[0].field).toBe('metadata.labels')
    await t.json('PATCH', `${NS}/team-c`, { metadata: { labels: { a: 'b' } } })
    const stale = await t.json('PUT', `${NS}/team-c`, created)
    expect(stale.status).toBe(409)
    expect((await t.json('PATCH', `${NS}/nowhere`, { metadata: { labels: { a: 'b' } } })).status).toBe(404)
  })

  it('keeps what is in the namespace when it is updated', async () => {
    const t = await testApp()
    await t.json('POST', NS, { metadata: { name: 'team-d' } })
    expect((await t.json('POST', `${NS}/team-d/services`, { metadata: { name: 'web' }, spec: { ports: [{ port: 80 }] } })).status).toBe(201)
    await t.json('PATCH', `${NS}/team-d`, { metadata: { labels: { a: 'b' } } })
    expect((await t.json('GET', `${NS}/team-d/services/web`)).status).toBe(200)
  })
})
