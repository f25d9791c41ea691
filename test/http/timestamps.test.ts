/**
 * Times users write are RFC 3339 (Kubernetes' metav1.Time and MicroTime): a time that is
 * not (garbage, a day the month lacks, a five-digit year, a bare number) is a 422 naming
 * the field and changes nothing; a valid one is stored in UTC in one fixed-width form.
 * Deletion instants are compared as instants: a grace period too long to write as such a
 * time is refused, and a deletion timestamp in another form is never taken as due.
 */
import { describe, expect, it } from 'vitest'
import { testApp, type TestApp } from '../support/app'
import { dumpTables } from '../support/db'
import { metaForCreate } from '../../worker/registry/meta'
import { podStrategy, podWrite } from '../../worker/registry/strategies/pod'
import { leaseStrategy, leaseWrite } from '../../worker/registry/strategies/lease'

const PODS = '/api/v1/namespaces/default/pods'
const LEASES = '/apis/coordination.k8s.io/v1/namespaces/default/leases'
const BAD_TIMES = ['garbage', '2031-02-30T00:00:00Z', '99999-01-01T00:00:00Z', '1', '2031-02-28T24:00:00Z', '2031-02-28']

async function withPod(): Promise<TestApp> {
  const t = await testApp()
  const res = await t.json('POST', PODS, { metadata: { name: 'web-1' }, status: { podIP: '10.0.0.1', conditions: [{ type: 'Ready', status: 'True' }] } })
  expect(res.status).toBe(201)
  return t
}

const condition = (time: string) => ({ status: { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: time }] } })

describe('pod condition times', () => {
  it('refuse what is not RFC 3339, on create, replace and the status subresource, and change nothing', async () => {
    const t = await withPod()
    const before = await dumpTables(t.client)
    for (const time of BAD_TIMES) {
      const sent = [
        await t.json('POST', PODS, { metadata: { name: 'web-2' }, ...condition(time) }),
        await t.json('PUT', `${PODS}/web-1/status`, { metadata: { name: 'web-1' }, ...condition(time) }),
        await t.json('PATCH', `${PODS}/web-1/status`, condition(time)),
        await t.json('PATCH', `${PODS}/web-1`, { status: { conditions: [{ type: 'Ready', status: 'True', lastProbeTime: time }] } }),
      ]
      for (const res of sent) {
        expect(res.status, `${time}: ${JSON.stringify(res.body)}`).toBe(422)
        expect(res.body.details.causes.map((c: any) => c.field).join()).toMatch(/^status\.conditions\[0\]\.last(Transition|Probe)Time$/)
      }
    }
    expect(await dumpTables(t.client)).toBe(before)
  })

  it('store a valid time in UTC, whole seconds', async () => {
    const t = await withPod()
    const res = await t.json('PATCH', `${PODS}/web-1/status`, condition('2031-02-28T23:30:00.5+01:00'))
    expect(res.status).toBe(200)
    expect(res.body.status.conditions[0].lastTransitionTime).toBe('2031-02-28T22:30:00Z')
  })
})

describe('a condition time stored before times were checked', () => {
  it('does not block a later status update that leaves the time out', async () => {
    const t = await withPod()
    const row = await t.client.execute(`SELECT body FROM pods WHERE name = 'web-1'`)
    const body = JSON.parse(String(row.rows[0]!.body))
    body.status.conditions[0].lastTransitionTime = 'garbage'
    await t.client.execute({ sql: `UPDATE pods SET body = ? WHERE name = 'web-1'`, args: [JSON.stringify(body)] })
    const res = await t.json('PATCH', `${PODS}/web-1/status`, { status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Probed' }] } })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(res.body.status.conditions[0].lastTransitionTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
  })
})

describe('lease times', () => {
  it('refuse a day the month lacks rather than roll it over', async () => {
    const t = await testApp()
    const res = await t.json('POST', LEASES, { metadata: { name: 'a' }, spec: { holderIdentity: 'x', leaseDurationSeconds: 10, renewTime: '2031-02-30T00:00:00.000000Z' } })
    expect(res.status).toBe(422)
    expect(res.body.details.causes.map((c: any) => c.field)).toEqual(['spec.renewTime'])
  })
})

describe('managed fields times', () => {
  it('refuse what is not RFC 3339', async () => {
    const t = await withPod()
    const current = await t.json('GET', `${PODS}/web-1`)
    const body = structuredClone(current.body)
    body.metadata.managedFields[0].time = 'garbage'
    const res = await t.json('PUT', `${PODS}/web-1`, body)
    expect(res.status).toBe(422)
    expect(res.body.details.causes.map((c: any) => c.field)).toEqual(['metadata.managedFields[0].time'])
  })
})

describe('deletion instants', () => {
  it('a grace of 8e12 s is refused, so no deletion timestamp past year 9999 is written', async () => {
    const t = await withPod()
    const res = await t.json('DELETE', `${PODS}/web-1`, { gracePeriodSeconds: 8e12 })
    expect(res.status).toBe(422)
    expect(await t.registry.reapExpired()).toBe(0)
    expect((await t.json('GET', `${PODS}/web-1`)).body.metadata.deletionTimestamp).toBeUndefined()
  })

  it('a pod deleted with the longest grace is not removed now', async () => {
    const t = await withPod()
    const res = await t.json('DELETE', `${PODS}/web-1?gracePeriodSeconds=1000000000`)
    expect(res.status).toBe(200)
    expect(res.body.metadata.deletionTimestamp).toMatch(/^\d{4}-/)
    expect(await t.registry.reapExpired()).toBe(0)
    expect((await t.json('GET', `${PODS}/web-1`)).status).toBe(200)
  })

  it('a deletion timestamp written before the clamp (a six-digit year) is never taken as due', async () => {
    const t = await withPod()
    await t.client.execute(`UPDATE pods SET deletion_timestamp = '+255536-10-29T13:58:00Z' WHERE name = 'web-1'`)
    expect(await t.registry.reapExpired()).toBe(0)
    expect((await t.json('GET', `${PODS}/web-1`)).status).toBe(200)
  })
})

describe('values stored before a rule are not judged again while an update keeps them (ratcheting)', () => {
  /** Stores a pod through the store alone, as a registry without today's rules stored it. */
  async function storeUnchecked(t: TestApp, body: any) {
    const obj = podStrategy.create(body, metaForCreate(body.metadata, 'default', t.registry.clock), t.registry.clock)
    await t.registry.store.putPod(podWrite(obj), 'create')
  }
  const ready = (extra: Record<string, unknown> = {}) => ({ podIP: '10.0.0.1', conditions: [{ type: 'Ready', status: 'True', ...extra }] })

  it('a condition time "garbage": a label patch is taken, a new bad time is refused', async () => {
    const t = await testApp()
    await storeUnchecked(t, { metadata: { name: 'old' }, status: ready({ lastTransitionTime: 'garbage' }) })
    const labelled = await t.json('PATCH', `${PODS}/old`, { metadata: { labels: { x: 'y' } } })
    expect(labelled.status, JSON.stringify(labelled.body)).toBe(200)
    expect(labelled.body.metadata.labels).toEqual({ x: 'y' })
    const changed = await t.json('PATCH', `${PODS}/old`, condition('other-garbage'))
    expect(changed.status).toBe(422)
    expect(changed.body.details.causes.map((c: any) => c.field)).toEqual(['status.conditions[0].lastTransitionTime'])
  })

  it('a grace period of 1e15 s: the pod can be drained, a new grace past the limit is refused', async () => {
    const t = await testApp()
    await t.json('POST', '/api/v1/namespaces/default/services', { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } })
    await storeUnchecked(t, { metadata: { name: 'old', labels: { app: 'web' } }, spec: { terminationGracePeriodSeconds: 1e15 }, status: ready() })
    const drained = await t.json('PATCH', `${PODS}/old`, { metadata: { annotations: { 'switchboard.dev/weight': '0' } } })
    expect(drained.status, JSON.stringify(drained.body)).toBe(200)
    const eps = await t.json('GET', '/api/v1/namespaces/default/endpoints/web')
    expect(eps.body.subsets[0].addresses).toEqual([expect.objectContaining({ ip: '10.0.0.1', weight: 0 })])
    const longer = await t.json('PATCH', `${PODS}/old`, { spec: { terminationGracePeriodSeconds: 2e15 } })
    expect(longer.status).toBe(422)
    expect(longer.body.details.causes.map((c: any) => c.field)).toEqual(['spec.terminationGracePeriodSeconds'])
  })

  it('300 labels: an annotation and a readiness report are taken, another label is refused', async () => {
    const t = await testApp()
    const labels = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`l${i}`, 'v']))
    await storeUnchecked(t, { metadata: { name: 'old', labels }, status: ready() })
    const annotated = await t.json('PATCH', `${PODS}/old`, { metadata: { annotations: { 'switchboard.dev/weight': '0' } } })
    expect(annotated.status, JSON.stringify(annotated.body)).toBe(200)
    expect((await t.json('PATCH', `${PODS}/old/status`, { status: { conditions: [{ type: 'Ready', status: 'False' }] } })).status).toBe(200)
    const more = await t.json('PATCH', `${PODS}/old`, { metadata: { labels: { extra: 'v' } } })
    expect(more.status).toBe(422)
    expect(more.body.details.causes.map((c: any) => c.field)).toEqual(['metadata.labels'])
  })

  it('rules that compare two fields are judged on every update: podIP and podIPs[0] must agree', async () => {
    const t = await withPod()
    const res = await t.json('PATCH', `${PODS}/web-1/status`, { status: { podIP: '10.0.0.2' } })
    expect(res.status).toBe(422)
    expect(res.body.details.causes.map((c: any) => c.field)).toEqual(['status.podIPs[0].ip'])
  })

  it('a lease renewTime "garbage": a label patch is taken, a new bad time is refused', async () => {
    const t = await testApp()
    const input = { metadata: { name: 'l' }, spec: { holderIdentity: 'x', leaseDurationSeconds: 10, renewTime: 'garbage' } }
    const lease = leaseStrategy.create(input as never, metaForCreate(input.metadata as never, 'default', t.registry.clock), t.registry.clock)
    await t.registry.store.putLease(leaseWrite(lease), 'create')
    const labelled = await t.json('PATCH', `${LEASES}/l`, { metadata: { labels: { x: 'y' } } })
    expect(labelled.status, JSON.stringify(labelled.body)).toBe(200)
    const changed = await t.json('PATCH', `${LEASES}/l`, { spec: { renewTime: 'other-garbage' } })
    expect(changed.status).toBe(422)
    expect(changed.body.details.causes.map((c: any) => c.field)).toEqual(['spec.renewTime'])
  })
})
