import { describe, expect, it } from 'vitest'
import { testApp, type TestApp } from '../support/app'

const BASE = '/api/v1/namespaces/default/pods'

function pod(name: string, extra: { labels?: Record<string, string>; ip?: string; ready?: boolean; node?: string; weight?: string } = {}) {
  return {
    metadata: {
      name,
      labels: extra.labels ?? { app: 'web' },
      ...(extra.weight !== undefined ? { annotations: { 'switchboard.dev/weight': extra.weight } } : {}),
    },
    spec: {
      ...(extra.node ? { nodeName: extra.node } : {}),
      containers: [{ name: 'app', ports: [{ name: 'http', containerPort: 8080 }] }],
    },
    status: {
      podIP: extra.ip ?? '10.244.0.5',
      conditions: [{ type: 'Ready', status: extra.ready === false ? 'False' : 'True' }],
    },
  }
}

async function create(t: TestApp, body: unknown) {
  return t.json('POST', BASE, body)
}

describe('pods', () => {
  it('registers a pod with its status, and defaults what Kubernetes defaults', async () => {
    const t = await testApp()
    const res = await create(t, pod('web-1'))
    expect(res.status).toBe(201)
    expect(res.body.status.podIPs).toEqual([{ ip: '10.244.0.5' }])
    expect(res.body.status.phase).toBe('Running')
    expect(res.body.spec.containers[0].ports[0]).toEqual({ name: 'http', containerPort: 8080, protocol: 'TCP' })
    expect(res.body.status.conditions[0].lastTransitionTime).toMatch(/Z$/)
    const row = await t.client.execute("SELECT ready, weight, pod_ip FROM pods WHERE name = 'web-1'")
    expect(row.rows[0]).toMatchObject({ ready: 1, weight: 1, pod_ip: '10.244.0.5' })
  })

  it('accepts and canonicalises IPv6 addresses; rejects invalid ones with the field', async () => {
    const t = await testApp()
    const v6 = await create(t, pod('v6', { ip: '2001:DB8:0:0:0:0:0:1' }))
    expect(v6.status).toBe(201)
    expect(v6.body.status.podIP).toBe('2001:db8::1')
    for (const ip of ['10.0.0.256', '2001:db8::g', '1.2.3', 'fe80::1%eth0']) {
      const bad = await create(t, pod('bad', { ip }))
      expect(bad.status).toBe(422)
      expect(bad.body.details.causes.map((c: any) => c.field)).toContain('status.podIP')
    }
    const dual = await create(t, { ...pod('dual'), status: { podIPs: [{ ip: '10.0.0.1' }, { ip: 'fd00::1' }] } })
    expect(dual.status).toBe(201)
    expect(dual.body.status.podIP).toBe('10.0.0.1')
  })

  it('takes the weight from its annotation, 0 to 65535', async () => {
    const t = await testApp()
    expect((await create(t, pod('w0', { weight: '0' }))).status).toBe(201)
    expect((await create(t, pod('w9', { weight: '65535' }))).status).toBe(201)
    const rows = await t.client.execute('SELECT name, weight FROM pods ORDER BY name')
    expect(rows.rows.map((r) => [r.name, r.weight])).toEqual([
      ['w0', 0],
      ['w9', 65535],
    ])
    for (const w of ['-1', '65536', 'abc', '1.5', '']) {
      const res = await create(t, pod('wx', { weight: w }))
      expect(res.status).toBe(422)
      expect(res.body.details.causes[0].field).toBe('metadata.annotations[switchboard.dev/weight]')
    }
  })

  it('validates names, ports and conditions', async () => {
    const t = await testApp()
    const cases: [unknown, string][] = [
      [{ ...pod('x'), metadata: { name: 'Bad_Name' } }, 'metadata.name'],
      [{ ...pod('x'), spec: { containers: [{ ports: [{ containerPort: 0 }] }] } }, 'spec.containers[0].ports[0].containerPort'],
      [{ ...pod('x'), spec: { containers: [{ ports: [{ containerPort: 80, name: 'way-too-long-port-name' }] }] } }, 'spec.containers[0].ports[0].name'],
      [{ ...pod('x'), spec: { containers: [{ ports: [{ containerPort: 80, name: 'a' }, { containerPort: 81, name: 'a' }] }] } }, 'spec.containers[0].ports[1].name'],
      [{ ...pod('x'), spec: { hostname: 'Host' } }, 'spec.hostname'],
      [{ ...pod('x'), status: { conditions: [{ type: 'Ready', status: 'Maybe' }] } }, 'status.conditions[0].status'],
      [{ ...pod('x'), status: { phase: 'Sleeping' } }, 'status.phase'],
    ]
    for (const [body, field] of cases) {
      const res = await create(t, body)
      expect(res.status, field).toBe(422)
      expect(res.body.details.causes.map((c: any) => c.field)).toContain(field)
    }
    expect((await t.json('GET', BASE)).body.items).toEqual([])
  })

  it('updates only the status through /status, keeping spec and labels', async () => {
    const t = await testApp()
    const created = await create(t, pod('web-1'))
    const res = await t.json('PUT', `${BASE}/web-1/status`, {
      metadata: { name: 'web-1', labels: { changed: 'yes' } },
      spec: { nodeName: 'elsewhere' },
      status: { podIP: '10.244.0.5', conditions: [{ type: 'Ready', status: 'False' }] },
    })
    expect(res.status).toBe(200)
    expect(res.body.metadata.labels).toEqual({ app: 'web' })
    expect(res.body.spec).toEqual(created.body.spec)
    expect(res.body.status.conditions[0].status).toBe('False')
    expect(res.body.metadata.generation).toBe(created.body.metadata.generation ?? 1)
    const patched = await t.json('PATCH', `${BASE}/web-1/status`, { status: { conditions: [{ type: 'Ready', status: 'True' }] } })
    expect(patched.status).toBe(200)
    expect(patched.body.status.conditions[0].status).toBe('True')
    expect(patched.body.status.podIP).toBe('10.244.0.5')
    const row = await t.client.execute("SELECT ready FROM pods WHERE name = 'web-1'")
    expect(row.rows[0]!.ready).toBe(1)
  })

  it('refuses a replace or status update whose body names another pod or namespace, and changes nothing', async () => {
    const t = await testApp()
    const created = await create(t, pod('web-1'))
    const flip = { podIP: '10.244.0.5', conditions: [{ type: 'Ready', status: 'False' }] }
    for (const path of [`${BASE}/web-1`, `${BASE}/web-1/status`]) {
      const renamed = await t.json('PUT', path, { ...pod('web-2', { ready: false }), status: flip })
      expect(renamed.status).toBe(400)
      expect(renamed.body.message).toBe('the name of the object (web-2) does not match the name on the URL (web-1)')
      const moved = await t.json('PUT', path, { ...pod('web-1', { ready: false }), metadata: { name: 'web-1', namespace: 'other' }, status: flip })
      expect(moved.status).toBe(400)
      expect(moved.body.message).toBe('the namespace of the provided object does not match the namespace sent on the request')
    }
    const after = await t.json('GET', `${BASE}/web-1`)
    expect(after.body).toEqual(created.body)
  })

  it('keeps lastTransitionTime while a condition stays the same', async () => {
    let now = new Date('2026-01-01T00:00:00Z')
    const { seededClock } = await import('../../worker/wiring')
    const t = await testApp({ clock: seededClock(1, () => now) })
    await create(t, pod('p'))
    now = new Date('2026-01-01T00:01:00Z')
    const same = await t.json('PATCH', `${BASE}/p/status`, { status: { message: 'still fine' } })
    expect(same.body.status.conditions[0].lastTransitionTime).toBe('2026-01-01T00:00:00Z')
    const flipped = await t.json('PATCH', `${BASE}/p/status`, { status: { conditions: [{ type: 'Ready', status: 'False' }] } })
    expect(flipped.body.status.conditions[0].lastTransitionTime).toBe('2026-01-01T00:01:00Z')
  })

  it('replaces, patches and deletes', async () => {
    const t = await testApp()
    await create(t, pod('web-1'))
    const replaced = await t.json('PUT', `${BASE}/web-1`, pod('web-1', { labels: { app: 'api' }, node: 'node-a' }))
    expect(replaced.status).toBe(200)
    expect(replaced.body.metadata.labels).toEqual({ app: 'api' })
    const patched = await t.json('PATCH', `${BASE}/web-1`, { metadata: { annotations: { 'switchboard.dev/weight': '5' } } })
    expect(patched.status).toBe(200)
    const row = await t.client.execute("SELECT weight, node_name FROM pods WHERE name = 'web-1'")
    expect(row.rows[0]).toMatchObject({ weight: 5, node_name: 'node-a' })
    const deleted = await t.json('DELETE', `${BASE}/web-1`)
    expect(deleted.status).toBe(200)
    expect(deleted.body.metadata.name).toBe('web-1')
    expect((await t.json('GET', `${BASE}/web-1`)).status).toBe(404)
    const left = await t.client.execute("SELECT (SELECT count(*) FROM labels WHERE kind = 'Pod') + (SELECT count(*) FROM pod_ports) AS n")
    expect(Number(left.rows[0]!.n)).toBe(0)
  })

  it('keeps the stored status on a replace whose body has none, and takes it from a body that has one', async () => {
    const t = await testApp()
    await create(t, pod('web-1', { ip: '10.244.0.9' }))
    await t.json('POST', '/api/v1/namespaces/default/services', {
      metadata: { name: 'web' },
      spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
    })
    const { status: _omitted, ...withoutStatus } = pod('web-1', { labels: { app: 'web', v: '2' } })
    const replaced = await t.json('PUT', `${BASE}/web-1`, withoutStatus)
    expect(replaced.status).toBe(200)
    expect(replaced.body.metadata.labels).toEqual({ app: 'web', v: '2' })
    expect(replaced.body.status).toMatchObject({ podIP: '10.244.0.9', conditions: [{ type: 'Ready', status: 'True' }] })
    const eps = await t.json('GET', '/api/v1/namespaces/default/endpoints/web')
    expect(eps.body.subsets[0].addresses.map((a: any) => a.ip)).toEqual(['10.244.0.9'])
    const withStatus = await t.json('PUT', `${BASE}/web-1`, pod('web-1', { ip: '10.244.0.10', ready: false }))
    expect(withStatus.body.status).toMatchObject({ podIP: '10.244.0.10', conditions: [{ type: 'Ready', status: 'False' }] })
  })

  it('validates propagationPolicy from the body and the query, and deletes alike under each policy', async () => {
    const t = await testApp()
    for (const name of ['a', 'b', 'c']) await create(t, pod(name))
    const bad = await t.json('DELETE', `${BASE}/a?propagationPolicy=Sideways`)
    expect(bad.status).toBe(422)
    expect(bad.body.details.causes[0]).toMatchObject({ field: 'propagationPolicy', reason: 'FieldValueNotSupported' })
    expect((await t.json('DELETE', `${BASE}/a`, { propagationPolicy: 'background' })).status).toBe(422)
    expect((await t.json('GET', `${BASE}/a`)).status).toBe(200)
    expect((await t.json('DELETE', `${BASE}/a?propagationPolicy=Orphan`)).status).toBe(200)
    expect((await t.json('DELETE', `${BASE}/b`, { propagationPolicy: 'Foreground' })).status).toBe(200)
    expect((await t.json('DELETE', `${BASE}/c`, { propagationPolicy: 'Background' })).status).toBe(200)
    expect((await t.json('GET', BASE)).body.items).toEqual([])
  })

  it('applies concurrent unconditional patches of one pod from two apps on one database: no conflict, no lost update', async () => {
    const t = await testApp()
    const created = await create(t, pod('web-1'))
    const other = t.peer()
    const n = 40
    const answers = await Promise.all(
      Array.from({ length: n }, (_, i) => {
        const patch = { metadata: { annotations: { [`note-${i}`]: String(i) } } }
        const init = { method: 'PATCH', headers: { 'content-type': 'application/merge-patch+json' }, body: JSON.stringify(patch) }
        return i % 2 ? Promise.resolve(other.request(`${BASE}/web-1`, init)) : t.req('PATCH', `${BASE}/web-1`, patch)
      }),
    )
    expect(answers.map((r) => r.status)).toEqual(Array(n).fill(200))
    // They did collide: some guarded batches failed and their writes were computed again.
    expect(t.calls.batch).toBeGreaterThan(n)
    const final = (await t.json('GET', `${BASE}/web-1`)).body
    const notes = Object.keys(final.metadata.annotations).filter((k) => k.startsWith('note-'))
    expect(notes.sort()).toEqual(Array.from({ length: n }, (_, i) => `note-${i}`).sort())
    expect(Number(final.metadata.resourceVersion)).toBe(Number(created.body.metadata.resourceVersion) + n)
  })

  it('keeps patches and graceful deletes that name a resourceVersion conditional', async () => {
    const t = await testApp()
    const rv = (await create(t, pod('web-1'))).body.metadata.resourceVersion
    const restated = await t.json('PATCH', `${BASE}/web-1`, { metadata: { resourceVersion: rv, labels: { app: 'web', v: '1' } } })
    expect(restated.status).toBe(200)
    const current = restated.body.metadata.resourceVersion
    expect((await t.json('PATCH', `${BASE}/web-1`, { metadata: { resourceVersion: rv, labels: { v: '2' } } })).status).toBe(409)
    const tested = [
      { op: 'test', path: '/metadata/resourceVersion', value: rv },
      { op: 'add', path: '/metadata/labels/v', value: '3' },
    ]
    expect((await t.req('PATCH', `${BASE}/web-1`, JSON.stringify(tested), { 'content-type': 'application/json-patch+json' })).status).toBe(422)
    const stale = await t.json('DELETE', `${BASE}/web-1?gracePeriodSeconds=60`, { preconditions: { resourceVersion: rv } })
    expect(stale.status).toBe(409)
    const graceful = await t.json('DELETE', `${BASE}/web-1?gracePeriodSeconds=60`, { preconditions: { resourceVersion: current } })
    expect(graceful.status).toBe(200)
    expect(graceful.body.metadata.deletionTimestamp).toBeTruthy()
    // Already terminating: a stale precondition is still a conflict; a current one changes nothing.
    expect((await t.json('DELETE', `${BASE}/web-1?gracePeriodSeconds=60`, { preconditions: { resourceVersion: current } })).status).toBe(409)
    const again = await t.json('DELETE', `${BASE}/web-1?gracePeriodSeconds=60`, { preconditions: { resourceVersion: graceful.body.metadata.resourceVersion } })
    expect(again.status).toBe(200)
    expect(again.body.metadata.resourceVersion).toBe(graceful.body.metadata.resourceVersion)
    expect((await t.json('GET', `${BASE}/web-1`)).body.metadata.labels).toEqual({ app: 'web', v: '1' })
  })

  it('generates names from generateName', async () => {
    const t = await testApp()
    const res = await create(t, { ...pod('x'), metadata: { generateName: 'web-' } })
    expect(res.status).toBe(201)
    expect(res.body.metadata.name).toMatch(/^web-[a-z0-9]{5}$/)
  })
})

describe('pod lists', () => {
  async function seeded() {
    const t = await testApp()
    await create(t, pod('a', { labels: { app: 'web', tier: 'fe', env: 'prod' }, node: 'n1', ip: '10.0.0.1' }))
    await create(t, pod('b', { labels: { app: 'web', tier: 'be', env: 'qa' }, node: 'n2', ip: '10.0.0.2' }))
    await create(t, pod('c', { labels: { app: 'db', legacy: 'true', rank: '7' }, node: 'n1', ip: '10.0.0.3' }))
    await create(t, { ...pod('d', { labels: { app: 'db', rank: '12' }, ip: '10.0.0.4' }), status: { phase: 'Succeeded', podIP: '10.0.0.4' } })
    return t
  }
  const names = (res: { body: any }) => res.body.items.map((p: any) => p.metadata.name)

  it('filters by the full label-selector grammar', async () => {
    const t = await seeded()
    const q = async (sel: string) => names(await t.json('GET', `${BASE}?labelSelector=${encodeURIComponent(sel)}`))
    expect(await q('app=web')).toEqual(['a', 'b'])
    expect(await q('app==db')).toEqual(['c', 'd'])
    expect(await q('app!=web')).toEqual(['c', 'd'])
    expect(await q('tier!=fe')).toEqual(['b', 'c', 'd'])
    expect(await q('env in (prod, qa)')).toEqual(['a', 'b'])
    expect(await q('tier notin (fe)')).toEqual(['b', 'c', 'd'])
    expect(await q('legacy')).toEqual(['c'])
    expect(await q('!legacy')).toEqual(['a', 'b', 'd'])
    expect(await q('rank>8')).toEqual(['d'])
    expect(await q('rank<8')).toEqual(['c'])
    expect(await q('environment in (production,qa),tier notin (frontend),partition,!legacy')).toEqual([])
    expect(await q('app=web,tier=fe')).toEqual(['a'])
  })

  it('400s a malformed selector', async () => {
    const t = await seeded()
    for (const sel of ['app in (web', 'a=b=c', 'app in web', '-a=b', `a=${'x'.repeat(64)}`]) {
      const res = await t.json('GET', `${BASE}?labelSelector=${encodeURIComponent(sel)}`)
      expect(res.status, sel).toBe(400)
      expect(res.body.reason).toBe('BadRequest')
    }
  })

  it('filters by field selectors', async () => {
    const t = await seeded()
    const q = async (sel: string) => names(await t.json('GET', `/api/v1/pods?fieldSelector=${encodeURIComponent(sel)}`))
    expect(await q('spec.nodeName=n1')).toEqual(['a', 'c'])
    expect(await q('status.phase!=Succeeded')).toEqual(['a', 'b', 'c'])
    expect(await q('status.podIP=10.0.0.2')).toEqual(['b'])
    expect(await q('metadata.name=c,metadata.namespace=default')).toEqual(['c'])
    expect(await q('spec.nodeName=')).toEqual(['d'])
    const bad = await t.json('GET', `${BASE}?fieldSelector=spec.restartPolicy%3DAlways`)
    expect(bad.status).toBe(400)
  })

  it('pages with limit and continue', async () => {
    const t = await seeded()
    const first = await t.json('GET', `${BASE}?limit=3`)
    expect(names(first)).toEqual(['a', 'b', 'c'])
    const token = first.body.metadata.continue
    expect(token).toBeTruthy()
    const second = await t.json('GET', `${BASE}?limit=3&continue=${token}`)
    expect(names(second)).toEqual(['d'])
    expect(second.body.metadata.continue).toBeUndefined()
    expect((await t.json('GET', `${BASE}?limit=2&labelSelector=app%3Ddb`)).body.metadata.continue).toBeUndefined()
    expect((await t.json('GET', `${BASE}?continue=garbage!`)).status).toBe(400)
    expect((await t.json('GET', `${BASE}?limit=-1`)).status).toBe(400)
    expect((await t.json('GET', `${BASE}?limit=abc`)).status).toBe(400)
  })
})
