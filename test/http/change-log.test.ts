/**
 * The change log: every write appends its events in its own batch (object as written, the
 * object before a MODIFIED, the last state of a DELETED), computed endpoints changes are
 * marked per service, compaction prunes old events and records what it pruned, and the
 * change feed follows the log: at once after a local write, at most once per interval for
 * another process's writes.
 */
import { describe, expect, it } from 'vitest'
import { seededClock } from '../../worker/wiring'
import { testApp } from '../support/app'

const NS = '/api/v1/namespaces/default'

function pod(name: string, ready = true, labels: Record<string, string> = { app: 'web' }) {
  return {
    metadata: { name, labels },
    spec: { containers: [{ name: 'app', ports: [{ name: 'http', containerPort: 8080 }] }] },
    status: { podIP: '10.0.0.1', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  }
}

async function events(t: Awaited<ReturnType<typeof testApp>>, after = 0) {
  const read = await t.registry.store.changesSince(after, 1000)
  return read.rows.map((r) => ({
    rv: r.rv,
    kind: r.kind,
    name: r.name,
    type: r.type,
    object: r.object ? JSON.parse(r.object) : null,
    old: r.oldObject ? JSON.parse(r.oldObject) : null,
  }))
}

describe('the change log', () => {
  it('records each write with the object as written, the object before, and the last state of a deleted one', async () => {
    const t = await testApp()
    const start = await t.registry.store.resourceVersion()
    await t.json('POST', `${NS}/services`, { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } })
    const created = (await t.json('POST', `${NS}/pods`, pod('p1'))).body
    const flipped = (await t.json('PATCH', `${NS}/pods/p1/status`, { status: { conditions: [{ type: 'Ready', status: 'False' }] } })).body
    await t.json('DELETE', `${NS}/pods/p1`)
    const log = await events(t, start)
    expect(log.map((e) => `${e.kind} ${e.name} ${e.type}`)).toEqual([
      'Service web ADDED',
      'Endpoints web MODIFIED',
      'Pod p1 ADDED',
      'Endpoints web MODIFIED',
      'Pod p1 MODIFIED',
      'Endpoints web MODIFIED',
      'Pod p1 DELETED',
      'Endpoints web MODIFIED',
    ])
    const [added, modified, deleted] = log.filter((e) => e.kind === 'Pod')
    expect(added!.rv).toBe(Number(created.metadata.resourceVersion))
    expect(added!.object.metadata.uid).toBe(created.metadata.uid)
    expect(added!.object.metadata.resourceVersion).toBeUndefined()
    expect(modified!.rv).toBe(Number(flipped.metadata.resourceVersion))
    expect(modified!.object.status.conditions[0].status).toBe('False')
    // A readiness flip changes nothing a selector or the discovery cache reads: no object before.
    expect(modified!.old).toBeNull()
    expect(deleted!.object.status.conditions[0].status).toBe('False')
    expect(log.filter((e) => e.kind === 'Endpoints').every((e) => e.object === null)).toBe(true)
  })

  it('records the object before a change of what selectors or the discovery cache read: labels, selectable fields, addresses', async () => {
    const t = await testApp()
    await t.json('POST', `${NS}/pods`, pod('p1'))
    const start = await t.registry.store.resourceVersion()
    const writes: [string, unknown][] = [
      ['labels', { metadata: { labels: { app: 'api' } } }],
      ['an annotation', { metadata: { annotations: { note: 'x' } } }],
      ['the node (spec.nodeName)', { spec: { nodeName: 'node-1' } }],
      ['readiness', { status: { conditions: [{ type: 'Ready', status: 'False' }] } }],
      ['the phase (status.phase)', { status: { phase: 'Pending' } }],
      ['the address (status.podIP)', { status: { podIP: '10.0.0.2', podIPs: [{ ip: '10.0.0.2' }] } }],
      ['the addresses (status.podIPs)', { status: { podIPs: [{ ip: '10.0.0.2' }, { ip: 'fd00::2' }] } }],
    ]
    for (const [, patch] of writes) {
      const status = (patch as { status?: unknown }).status !== undefined
      const res = await t.json('PATCH', `${NS}/pods/p1${status ? '/status' : ''}`, patch)
      expect(res.status, JSON.stringify(res.body)).toBe(200)
    }
    const log = (await events(t, start)).filter((e) => e.kind === 'Pod')
    expect(log).toHaveLength(writes.length)
    const recorded = Object.fromEntries(writes.map(([what], i) => [what, log[i]!.old !== null]))
    expect(recorded).toEqual({
      labels: true,
      'an annotation': false,
      'the node (spec.nodeName)': true,
      readiness: false,
      'the phase (status.phase)': true,
      'the address (status.podIP)': true,
      'the addresses (status.podIPs)': true,
    })
    // The object before is the stored one.
    expect(log[0]!.old.metadata.labels).toEqual({ app: 'web' })
  })

  it('records a lease or namespace before its write only when its labels change', async () => {
    const t = await testApp()
    const leases = '/apis/coordination.k8s.io/v1/namespaces/default/leases'
    await t.json('POST', leases, { metadata: { name: 'l' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 10 } })
    await t.json('POST', '/api/v1/namespaces', { metadata: { name: 'team' } })
    const start = await t.registry.store.resourceVersion()
    const writes: [string, string, unknown][] = [
      ['a new holder', leases + '/l', { spec: { holderIdentity: 'b' } }],
      ['lease labels', leases + '/l', { metadata: { labels: { role: 'leader' } } }],
      ['a namespace annotation', '/api/v1/namespaces/team', { metadata: { annotations: { owner: 'x' } } }],
      ['namespace labels', '/api/v1/namespaces/team', { metadata: { labels: { env: 'prod' } } }],
    ]
    for (const [, path, patch] of writes) expect((await t.json('PATCH', path, patch)).status).toBe(200)
    const log = await events(t, start)
    expect(log.map((e) => `${e.kind} ${e.type}`)).toEqual(['Lease MODIFIED', 'Lease MODIFIED', 'Namespace MODIFIED', 'Namespace MODIFIED'])
    expect(Object.fromEntries(writes.map(([what], i) => [what, log[i]!.old !== null]))).toEqual({
      'a new holder': false,
      'lease labels': true,
      'a namespace annotation': false,
      'namespace labels': true,
    })
    expect(log[1]!.old.metadata.labels).toBeUndefined()
  })

  it('records a namespace deletion as DELETED events for everything in it', async () => {
    const t = await testApp()
    await t.json('POST', '/api/v1/namespaces', { metadata: { name: 'team' } })
    await t.json('POST', '/api/v1/namespaces/team/pods', pod('p'))
    await t.json('POST', '/api/v1/namespaces/team/services', { metadata: { name: 's' }, spec: { ports: [{ port: 80 }] } })
    const before = await t.registry.store.resourceVersion()
    await t.json('DELETE', '/api/v1/namespaces/team')
    const log = await events(t, before)
    expect(log.map((e) => `${e.kind} ${e.name} ${e.type}`).sort()).toEqual(['Namespace team DELETED', 'Pod p DELETED', 'Service s DELETED'])
    expect(log.find((e) => e.kind === 'Pod')!.object.metadata.name).toBe('p')
  })

  it('prunes events older than the retention window and records what it pruned', async () => {
    let now = Date.parse('2026-06-01T00:00:00Z')
    const t = await testApp({ clock: seededClock(1, () => new Date(now)), env: { CHANGE_LOG_RETENTION_SECONDS: '60' } })
    await t.json('POST', `${NS}/pods`, pod('old'))
    const oldRv = await t.registry.store.resourceVersion()
    now += 120_000
    await t.json('POST', `${NS}/pods`, pod('new'))
    expect(await t.registry.compactChanges()).toBeGreaterThan(0)
    const read = await t.registry.store.changesSince(0, 1000)
    expect(read.compactedRv).toBeGreaterThanOrEqual(oldRv)
    expect(read.rows.map((r) => r.name)).toEqual(['new'])
    await expect(t.registry.feed.eventsAfter(oldRv - 1)).rejects.toMatchObject({ reason: 'Expired', code: 410 })
    expect((await t.registry.feed.eventsAfter(oldRv)).map((e) => e.name)).toEqual(['new'])
  })

  it('follows the log: at once after a local write, within the interval for another process', async () => {
    let now = Date.parse('2026-06-01T00:00:00Z')
    const t = await testApp({ clock: seededClock(1, () => new Date(now)), env: { CATCH_UP_INTERVAL_MS: '1000' } })
    const seen: string[] = []
    await t.registry.feed.sync()
    t.registry.feed.subscribe((u) => {
      if ('events' in u) seen.push(...u.events.map((e) => `${e.kind} ${e.name}`))
    })
    await t.json('POST', `${NS}/pods`, pod('local'))
    await t.registry.feed.sync()
    expect(seen).toEqual(['Pod local'])
    const peer = t.peer()
    await peer.request(`${NS}/pods`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(pod('remote')) })
    await t.registry.feed.sync()
    expect(seen).toEqual(['Pod local'])
    now += 1000
    await t.registry.feed.sync()
    expect(seen).toEqual(['Pod local', 'Pod remote'])
  })

  it('starts again when the database goes back (a restore) or the events it missed were pruned', async () => {
    let now = Date.parse('2026-06-01T00:00:00Z')
    const t = await testApp({ clock: seededClock(1, () => new Date(now)) })
    await t.json('POST', `${NS}/pods`, pod('a'))
    await t.registry.feed.sync()
    const updates: string[] = []
    t.registry.feed.subscribe((u) => updates.push('reset' in u ? 'reset' : `${u.events.length} events`))
    await t.client.execute("UPDATE meta SET value = 1 WHERE key = 'resourceVersion'")
    now += 1000
    await t.registry.feed.sync()
    expect(updates).toEqual(['reset'])
    expect(t.registry.feed.latest).toBe(1)
  })
})
