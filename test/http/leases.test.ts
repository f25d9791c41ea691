/**
 * Leases: the Lease kind itself, and pods bound to one. Time is an injected clock, so
 * expiry is tested at its instant: DNS, the pick and the EndpointSlices change when the
 * lease lapses, before any sweep; the sweep records it in the pod; a renewal restores at
 * once; pods go after the deletion period; the registry's own absence evicts nobody.
 */
import { describe, expect, it } from 'vitest'
import { seededClock } from '../../worker/wiring'
import { microTimeOf } from '../../worker/registry/lease'
import { renewalOf } from '../../worker/registry/lease-renewal'
import { testApp, type TestApp } from '../support/app'

const LEASES = '/apis/coordination.k8s.io/v1/namespaces/default/leases'
const T0 = Date.parse('2026-06-01T12:00:00.000Z')

/**
 * A lease `host-a` held from T0, a headless service `web` over web-1 (bound to the lease)
 * and web-2 (not bound). The clock jumps: unless a test is about the registry's absence,
 * the absence threshold is a day, so that a jump is not taken for the registry being away.
 */
async function leased(options: { duration?: number; env?: Record<string, string> } = {}) {
  let now = T0
  const t = await testApp({ clock: seededClock(7, () => new Date(now)), env: { CATCH_UP_INTERVAL_MS: '10', REGISTRY_ABSENCE_SECONDS: '86400', ...options.env } })
  const duration = options.duration ?? 2
  const at = (ms: number) => {
    now = ms
  }
  await t.registry.leases.beat()
  const lease = await t.json('POST', LEASES, {
    metadata: { name: 'host-a' },
    spec: { holderIdentity: 'agent-a', leaseDurationSeconds: duration, renewTime: microTimeOf(new Date(now)), acquireTime: microTimeOf(new Date(now)) },
  })
  expect(lease.status).toBe(201)
  expect((await t.json('POST', '/api/v1/namespaces/default/services', { metadata: { name: 'web' }, spec: { clusterIP: 'None', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } })).status).toBe(201)
  for (const [name, ip, lease] of [
    ['web-1', '10.1.0.1', 'host-a'],
    ['web-2', '10.1.0.2', undefined],
  ] as const) {
    const res = await t.json('POST', '/api/v1/namespaces/default/pods', {
      metadata: { name, labels: { app: 'web' }, ...(lease ? { annotations: { 'switchboard.dev/lease': lease } } : {}) },
      spec: { containers: [{ name: 'app', ports: [{ name: 'http', containerPort: 8080 }] }] },
      status: { podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] },
    })
    expect(res.status).toBe(201)
  }
  return { t, at, duration, now: () => now }
}

async function answered(t: TestApp): Promise<string[]> {
  const res = (await (await t.req('GET', '/resolve?name=web.default.svc.cluster.local&type=A')).json()) as { Answer?: { data: string }[] }
  return (res.Answer ?? []).map((a) => a.data).sort()
}

/** The names a reverse (PTR) lookup of an IPv4 address answers. */
async function reverse(t: TestApp, ip: string): Promise<string[]> {
  const res = (await (await t.req('GET', `/resolve?name=${ip.split('.').reverse().join('.')}.in-addr.arpa&type=PTR`)).json()) as { Answer?: { data: string }[] }
  return (res.Answer ?? []).map((a) => a.data)
}

async function picked(t: TestApp, times = 6): Promise<string[]> {
  const seen = new Set<string>()
  for (let i = 0; i < times; i++) {
    const res = await t.json('GET', '/api/v1/namespaces/default/services/web/pick')
    if (res.status === 200) seen.add(res.body.address)
  }
  return [...seen].sort()
}

async function sliceConditions(t: TestApp): Promise<Record<string, { ready: boolean; serving: boolean }>> {
  const res = await t.json('GET', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices')
  const out: Record<string, { ready: boolean; serving: boolean }> = {}
  for (const slice of res.body.items) for (const e of slice.endpoints) out[e.targetRef.name] = { ready: e.conditions.ready, serving: e.conditions.serving }
  return out
}

function readyOf(pod: any) {
  return pod.status.conditions.find((c: any) => c.type === 'Ready')
}

describe('the Lease kind', () => {
  it('creates, reads, lists, replaces with resourceVersion checks, patches and deletes leases', async () => {
    const t = await testApp()
    const created = await t.json('POST', LEASES, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'leader' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15, renewTime: '2026-06-01T12:00:00Z', leaseTransitions: 0 } })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', spec: { holderIdentity: 'a', leaseDurationSeconds: 15, renewTime: '2026-06-01T12:00:00.000000Z' } })
    expect(created.body.metadata.generation).toBeUndefined()
    expect((await t.json('GET', `${LEASES}/leader`)).body.spec.holderIdentity).toBe('a')
    expect((await t.json('GET', LEASES)).body).toMatchObject({ kind: 'LeaseList', apiVersion: 'coordination.k8s.io/v1', items: [{ metadata: { name: 'leader' } }] })

    // Two contenders replace from the same resourceVersion: one wins, the other gets 409.
    const base = created.body
    const first = await t.json('PUT', `${LEASES}/leader`, { ...base, spec: { ...base.spec, holderIdentity: 'b', leaseTransitions: 1 } })
    const second = await t.json('PUT', `${LEASES}/leader`, { ...base, spec: { ...base.spec, holderIdentity: 'c', leaseTransitions: 1 } })
    expect(first.status).toBe(200)
    expect(second.status).toBe(409)
    expect(second.body).toMatchObject({ kind: 'Status', reason: 'Conflict' })
    expect((await t.json('GET', `${LEASES}/leader`)).body.spec.holderIdentity).toBe('b')

    const patched = await t.json('PATCH', `${LEASES}/leader`, { spec: { renewTime: '2026-06-01T12:00:05.123456+00:00' } })
    expect(patched.body.spec).toMatchObject({ holderIdentity: 'b', renewTime: '2026-06-01T12:00:05.123456Z' })
    expect((await t.json('DELETE', `${LEASES}/leader`)).status).toBe(200)
    expect((await t.json('GET', `${LEASES}/leader`)).status).toBe(404)
  })

  it('answers and logs a plain renewal exactly as the general path answers and logs the same change', async () => {
    // One instant for both writes, so their managedFields times agree whatever second the test runs in.
    const now = new Date('2026-06-01T12:00:06Z')
    const t = await testApp({ clock: seededClock(42, () => now) })
    const spec = { holderIdentity: 'a', leaseDurationSeconds: 15, renewTime: '2026-06-01T12:00:00Z' }
    for (const name of ['fast', 'general']) expect((await t.json('POST', LEASES, { metadata: { name, labels: { tier: 'x' } }, spec })).status).toBe(201)
    const renewTime = '2026-06-01T12:00:05.5Z'
    const fast = await t.json('PATCH', `${LEASES}/fast`, { spec: { renewTime } })
    // A JSON patch of the same change takes the general path.
    const general = await t.req('PATCH', `${LEASES}/general`, JSON.stringify([{ op: 'replace', path: '/spec/renewTime', value: renewTime }]), { 'content-type': 'application/json-patch+json' })
    expect(fast.status).toBe(200)
    expect(general.status).toBe(200)
    const strip = (lease: any) => ({ ...lease, metadata: { ...lease.metadata, name: '-', uid: '-', resourceVersion: '-' } })
    const generalBody = await general.json()
    expect(strip(fast.body)).toEqual(strip(generalBody))
    expect(fast.body.spec.renewTime).toBe('2026-06-01T12:00:05.500000Z')
    expect(Number(fast.body.metadata.resourceVersion)).toBeGreaterThan(0)
    expect((await t.json('GET', `${LEASES}/fast`)).body).toEqual(fast.body)
    const events = (await t.client.execute("SELECT name, type, object, old_object FROM changes WHERE kind = 'Lease' AND type = 'MODIFIED' ORDER BY rv")).rows
    expect(events.map((e) => e.name)).toEqual(['fast', 'general'])
    const [a, b] = events.map((e) => ({ object: strip(JSON.parse(String(e.object))), old: e.old_object === null ? null : strip(JSON.parse(String(e.old_object))) }))
    expect(a!.object).toEqual(b!.object)
    // Neither records the object before: a renewal changes neither labels nor name, all that a lease's selectors
    // read, so watches judge it by the object written (below, a label-selected watch sees it).
    expect(a!.old).toBeNull()
    expect(b!.old).toBeNull()
    // The same time again is a no-op, as on the general path: no write, same resourceVersion.
    const again = await t.json('PATCH', `${LEASES}/fast`, { spec: { renewTime } })
    expect(again.body.metadata.resourceVersion).toBe(fast.body.metadata.resourceVersion)
    // Naming the holder it has is still a renewal; naming another holder is a takeover, on the general path.
    const same = await t.json('PATCH', `${LEASES}/fast`, { spec: { holderIdentity: 'a', renewTime: '2026-06-01T12:00:06Z' } })
    expect(same.body.spec).toMatchObject({ holderIdentity: 'a', renewTime: '2026-06-01T12:00:06.000000Z' })
    const taken = await t.json('PATCH', `${LEASES}/fast`, { spec: { holderIdentity: 'b', renewTime: '2026-06-01T12:00:07Z' } })
    expect(taken.body.spec).toMatchObject({ holderIdentity: 'b', renewTime: '2026-06-01T12:00:07.000000Z' })
    expect(Number(taken.body.metadata.resourceVersion)).toBeGreaterThan(Number(same.body.metadata.resourceVersion))
    // A renewal of a missing lease, or with a bad time, answers as the general path does.
    expect((await t.json('PATCH', `${LEASES}/missing`, { spec: { renewTime } })).status).toBe(404)
    const bad = await t.json('PATCH', `${LEASES}/fast`, { spec: { renewTime: 'soon' } })
    expect(bad.status).toBe(422)
    expect(bad.body.details.causes[0].field).toBe('spec.renewTime')
  })

  it('takes the renewal path only for merge (or strategic merge) patches of renewTime (and the holder) alone', () => {
    expect(renewalOf('merge', { spec: { renewTime: '2026-06-01T12:00:00Z' } })).toEqual({ renewTime: '2026-06-01T12:00:00.000000Z' })
    expect(renewalOf('strategic', { spec: { renewTime: '2026-06-01T12:00:00Z' } })).toEqual({ renewTime: '2026-06-01T12:00:00.000000Z' })
    expect(renewalOf('merge', { spec: { holderIdentity: 'a', renewTime: '2026-06-01T12:00:00Z' } })).toEqual({ renewTime: '2026-06-01T12:00:00.000000Z', holder: 'a' })
    for (const [type, patch] of [
      ['json', [{ op: 'replace', path: '/spec/renewTime', value: '2026-06-01T12:00:00Z' }]],
      ['merge', { spec: { renewTime: '2026-06-01T12:00:00Z', leaseDurationSeconds: 5 } }],
      ['merge', { spec: { renewTime: 'soon' } }],
      ['merge', { spec: { holderIdentity: '', renewTime: '2026-06-01T12:00:00Z' } }],
      ['merge', { metadata: { labels: { a: 'b' } }, spec: { renewTime: '2026-06-01T12:00:00Z' } }],
      ['merge', { spec: null }],
      ['strategic', { spec: { renewTime: '2026-06-01T12:00:00Z', $patch: 'replace' } }],
      ['strategic', { $patch: 'replace', spec: { renewTime: '2026-06-01T12:00:00Z' } }],
    ] as const) {
      expect(renewalOf(type, patch), JSON.stringify(patch)).toBeNull()
    }
  })

  it('refuses invalid leases with a Status naming the field, and writes nothing', async () => {
    const t = await testApp()
    for (const [spec, field] of [
      [{ leaseDurationSeconds: 0 }, 'spec.leaseDurationSeconds'],
      [{ leaseTransitions: -1 }, 'spec.leaseTransitions'],
      [{ renewTime: 'yesterday' }, 'spec.renewTime'],
      [{ acquireTime: '2026-13-01T00:00:00Z' }, 'spec.acquireTime'],
      [{ preferredHolder: 'x' }, 'spec.strategy'],
    ] as const) {
      const res = await t.json('POST', LEASES, { metadata: { name: 'bad' }, spec })
      expect(res.status, JSON.stringify(spec)).toBe(422)
      expect(res.body.details.causes.map((c: { field: string }) => c.field)).toContain(field)
    }
    const typed = await t.json('POST', LEASES, { metadata: { name: 'bad' }, spec: { leaseDurationSeconds: 'ten' } })
    expect(typed.status).toBe(400)
    expect((await t.json('GET', LEASES)).body.items).toEqual([])
    const pod = await t.json('POST', '/api/v1/namespaces/default/pods', { metadata: { name: 'p', annotations: { 'switchboard.dev/lease': 'Not_A_Name' } }, status: { podIP: '10.0.0.9' } })
    expect(pod.status).toBe(422)
    expect(pod.body.details.causes[0].field).toBe('metadata.annotations[switchboard.dev/lease]')
  })

  it('is listed by discovery with every verb', async () => {
    const t = await testApp()
    const res = await t.json('GET', '/apis/coordination.k8s.io/v1')
    expect(res.body.resources).toContainEqual(expect.objectContaining({ name: 'leases', kind: 'Lease', namespaced: true, verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] }))
  })
})

describe('watches of leases', () => {
  it('see a plain renewal as MODIFIED through a label selector, and a lease that leaves the selector as DELETED', async () => {
    const t = await testApp()
    const spec = { holderIdentity: 'a', leaseDurationSeconds: 15, renewTime: microTimeOf(new Date()) }
    expect((await t.json('POST', LEASES, { metadata: { name: 'held', labels: { tier: 'x' } }, spec })).status).toBe(201)
    const res = await t.req('GET', `${LEASES}?watch=true&labelSelector=tier%3Dx&timeoutSeconds=3`)
    expect(res.status).toBe(200)
    const renewed = await t.json('PATCH', `${LEASES}/held`, { spec: { renewTime: microTimeOf(new Date(Date.now() + 1000)) } })
    expect(renewed.status).toBe(200)
    expect((await t.json('PATCH', `${LEASES}/held`, { metadata: { labels: { tier: 'y' } } })).status).toBe(200)
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as { type: string; object: { metadata: { resourceVersion: string } } })
    const events = lines.filter((e) => e.type !== 'BOOKMARK').map((e) => `${e.type} ${e.object.metadata.resourceVersion}`)
    expect(events).toEqual([
      expect.stringMatching(/^ADDED /),
      `MODIFIED ${renewed.body.metadata.resourceVersion}`,
      expect.stringMatching(/^DELETED /),
    ])
  })
})

describe('pods bound to a lease', () => {
  it('leave DNS, the pick and ready endpoints the moment the lease lapses, before any sweep', async () => {
    const { t, at } = await leased()
    expect(await answered(t)).toEqual(['10.1.0.1', '10.1.0.2'])
    expect(await picked(t)).toEqual(['10.1.0.1', '10.1.0.2'])
    expect(await reverse(t, '10.1.0.1')).toEqual(['10-1-0-1.web.default.svc.cluster.local.'])
    at(T0 + 1999)
    expect(await answered(t)).toEqual(['10.1.0.1', '10.1.0.2'])
    at(T0 + 2000)
    expect(await answered(t)).toEqual(['10.1.0.2'])
    expect(await picked(t)).toEqual(['10.1.0.2'])
    expect(await sliceConditions(t)).toEqual({ 'web-1': { ready: false, serving: false }, 'web-2': { ready: true, serving: true } })
    expect(await reverse(t, '10.1.0.1')).toEqual([])
    expect(await reverse(t, '10.1.0.2')).toEqual(['10-1-0-2.web.default.svc.cluster.local.'])
    const endpoints = await t.json('GET', '/api/v1/namespaces/default/endpoints/web')
    expect(endpoints.body.subsets[0].addresses.map((a: { ip: string }) => a.ip)).toEqual(['10.1.0.2'])
    expect(endpoints.body.subsets[0].notReadyAddresses.map((a: { ip: string }) => a.ip)).toEqual(['10.1.0.1'])
  })

  it('are marked Ready=False (LeaseExpired) by the sweep, restored at once by a renewal, and deleted after the period', async () => {
    const { t, at } = await leased()
    at(T0 + 2500)
    expect(await t.registry.sweepLeases()).toEqual({ marked: 1, deleted: 0 })
    const marked = (await t.json('GET', '/api/v1/namespaces/default/pods/web-1')).body
    expect(readyOf(marked)).toMatchObject({ status: 'False', reason: 'LeaseExpired' })
    expect((await t.client.execute("SELECT ready, serving FROM endpoints WHERE pod = 'web-1'")).rows[0]).toMatchObject({ ready: 0, serving: 0 })
    expect(await t.registry.sweepLeases()).toEqual({ marked: 0, deleted: 0 })

    // A renewal brings the pod back in the same request.
    const renewed = await t.json('PATCH', `${LEASES}/host-a`, { spec: { renewTime: microTimeOf(new Date(T0 + 2600)) } })
    expect(renewed.status).toBe(200)
    expect(readyOf((await t.json('GET', '/api/v1/namespaces/default/pods/web-1')).body)).toMatchObject({ status: 'True' })
    expect(readyOf((await t.json('GET', '/api/v1/namespaces/default/pods/web-1')).body).reason).toBeUndefined()
    expect(await answered(t)).toEqual(['10.1.0.1', '10.1.0.2'])
    expect(await sliceConditions(t)).toEqual({ 'web-1': { ready: true, serving: true }, 'web-2': { ready: true, serving: true } })

    // Lapsed again (renewed at +2.6 s for 2 s): deleted 3 durations after the lapse, not before.
    at(T0 + 4600 + 5999)
    expect((await t.registry.sweepLeases()).deleted).toBe(0)
    at(T0 + 4600 + 6000)
    expect((await t.registry.sweepLeases()).deleted).toBe(1)
    expect((await t.json('GET', '/api/v1/namespaces/default/pods/web-1')).status).toBe(404)
    expect((await t.json('GET', '/api/v1/namespaces/default/pods/web-2')).status).toBe(200)
  })

  it('do not lapse while renewals come in, and a renewal drops no cached answer and recomputes no endpoint', async () => {
    // A long DNS TTL: cached entries would otherwise be read again when it runs out.
    const { t, at } = await leased({ env: { DNS_TTL: '3600' } })
    expect(await answered(t)).toEqual(['10.1.0.1', '10.1.0.2'])
    expect(await picked(t)).toEqual(['10.1.0.1', '10.1.0.2'])
    const loads = t.discovery.loads
    const endpointEvents = async () => Number((await t.client.execute("SELECT count(*) AS n FROM changes WHERE kind = 'Endpoints'")).rows[0]!.n)
    const before = await endpointEvents()
    const endpointRows = async () => (await t.client.execute("SELECT rv FROM endpoints WHERE pod = 'web-1'")).rows[0]!.rv
    const rowRv = await endpointRows()
    for (let i = 1; i <= 10; i++) {
      at(T0 + i * 700)
      const res = await t.json('PATCH', `${LEASES}/host-a`, { spec: { renewTime: microTimeOf(new Date(T0 + i * 700)) } })
      expect(res.status).toBe(200)
      expect(await answered(t)).toEqual(['10.1.0.1', '10.1.0.2'])
      expect(await picked(t, 2)).toHaveLength(2)
      expect((await t.registry.sweepLeases()).marked).toBe(0)
    }
    expect(await endpointEvents()).toBe(before)
    expect(await endpointRows()).toBe(rowRv)
    // No renewal made DNS or the pick read the database again.
    expect(t.discovery.loads).toBe(loads)
  })

  it('lapse when their lease is deleted or never existed', async () => {
    const { t } = await leased({ duration: 30 })
    expect((await t.json('DELETE', `${LEASES}/host-a`)).status).toBe(200)
    expect(await answered(t)).toEqual(['10.1.0.2'])
    expect((await t.registry.sweepLeases()).marked).toBe(1)
    expect(readyOf((await t.json('GET', '/api/v1/namespaces/default/pods/web-1')).body)).toMatchObject({ status: 'False', reason: 'LeaseExpired', message: 'lease "host-a" does not exist' })
  })

  it("get one full duration from the registry's return when their lease lapsed while it was away", async () => {
    const { t, at } = await leased({ duration: 10, env: { REGISTRY_ABSENCE_SECONDS: '5' } })
    // Up, beating every second, for 3 s.
    const upTo = async (from: number, to: number) => {
      for (let ms = from; ms <= to; ms += 1000) {
        at(T0 + ms)
        await t.registry.sweepLeases()
      }
    }
    await upTo(1000, 3000)
    // Away from +3 s to +60 s; the lease (renewed at 0 for 10 s) lapsed at +10 s, meanwhile.
    at(T0 + 60_000)
    await t.registry.leases.beat()
    expect(await answered(t)).toEqual(['10.1.0.1', '10.1.0.2'])
    expect((await t.registry.sweepLeases()).marked).toBe(0)
    await upTo(61_000, 69_000)
    at(T0 + 69_999)
    expect(await answered(t)).toEqual(['10.1.0.1', '10.1.0.2'])
    at(T0 + 70_000)
    expect(await answered(t)).toEqual(['10.1.0.2'])
    expect((await t.registry.sweepLeases()).marked).toBe(1)
    // A lease that lapsed before the registry went away gets no grace.
    const other = await t.json('PUT', `${LEASES}/host-a`, { metadata: { name: 'host-a' }, spec: { holderIdentity: 'agent-a', leaseDurationSeconds: 10, renewTime: microTimeOf(new Date(T0 + 70_000)) } })
    expect(other.status).toBe(200)
    await upTo(71_000, 85_000) // lapsed at +80 s
    expect(await answered(t)).toEqual(['10.1.0.2'])
    at(T0 + 200_000)
    await t.registry.leases.beat()
    expect(await answered(t)).toEqual(['10.1.0.2'])
  })
})
