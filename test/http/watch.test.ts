/**
 * Watch on every list route: the stream of newline-delimited events read from
 * app.request() with a reader, on Node and (unchanged) in workerd against D1.
 */
import { describe, expect, it } from 'vitest'
import { seededClock } from '../../worker/wiring'
import { testApp, type TestApp } from '../support/app'

const NS = '/api/v1/namespaces/default'

function pod(name: string, labels: Record<string, string> = { app: 'web' }, ready = true, ip = '10.0.0.1') {
  return {
    metadata: { name, labels },
    spec: { containers: [{ name: 'app', ports: [{ name: 'http', containerPort: 8080 }] }] },
    status: { podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  }
}

interface Event {
  type: string
  object: any
}

/** A watch's stream, read event by event. */
async function watch(t: TestApp, path: string, headers: Record<string, string> = {}) {
  const res = await t.req('GET', path, undefined, headers)
  expect(res.status, await peekError(res)).toBe(200)
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  let done = false
  // A read that a timeout left waiting is kept for the next call, so that no chunk is lost.
  let pending: Promise<ReadableStreamReadResult<Uint8Array>> | undefined
  const next = async (ms = 5000): Promise<Event | undefined> => {
    const deadline = Date.now() + ms
    for (;;) {
      const nl = buffer.indexOf('\n')
      if (nl >= 0) {
        const line = buffer.slice(0, nl)
        buffer = buffer.slice(nl + 1)
        return JSON.parse(line) as Event
      }
      if (done) return undefined
      const left = deadline - Date.now()
      if (left <= 0) return undefined
      pending ??= reader.read()
      const read = await Promise.race([pending, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), left))])
      if (read === 'timeout') return undefined
      pending = undefined
      if (read.done) done = true
      else buffer += decoder.decode(read.value, { stream: true })
    }
  }
  /** The next `n` events that are not bookmarks. */
  const take = async (n: number): Promise<Event[]> => {
    const out: Event[] = []
    while (out.length < n) {
      const e = await next()
      if (!e) break
      if (e.type !== 'BOOKMARK') out.push(e)
    }
    return out
  }
  /** Every event until the stream ends. */
  const rest = async (): Promise<Event[]> => {
    const out: Event[] = []
    for (let e = await next(); e; e = await next()) out.push(e)
    return out
  }
  return { res, reader, next, take, rest, cancel: () => reader.cancel() }
}

async function peekError(res: Response): Promise<string> {
  return res.status === 200 ? '' : await res.clone().text()
}

const brief = (events: Event[]) => events.map((e) => `${e.type} ${e.object.metadata?.name ?? ''}`)

describe('watch', { timeout: 30_000 }, () => {
  it('starts with ADDED events for the current objects, then sends every change with its resourceVersion', async () => {
    const t = await testApp()
    await t.json('POST', `${NS}/pods`, pod('a'))
    const w = await watch(t, `${NS}/pods?watch=true&timeoutSeconds=5`)
    expect(w.res.headers.get('content-type')).toContain('application/json')
    const [added] = await w.take(1)
    expect(added).toMatchObject({ type: 'ADDED', object: { kind: 'Pod', apiVersion: 'v1', metadata: { name: 'a' } } })
    const created = (await t.json('POST', `${NS}/pods`, pod('b'))).body
    const patched = (await t.json('PATCH', `${NS}/pods/b`, { metadata: { annotations: { x: '1' } } })).body
    await t.json('DELETE', `${NS}/pods/a?gracePeriodSeconds=0`)
    const events = await w.take(3)
    expect(brief(events)).toEqual(['ADDED b', 'MODIFIED b', 'DELETED a'])
    expect(events[0]!.object.metadata.resourceVersion).toBe(created.metadata.resourceVersion)
    expect(events[1]!.object.metadata.resourceVersion).toBe(patched.metadata.resourceVersion)
    expect(events[1]!.object.metadata.annotations.x).toBe('1')
    expect(events[2]!.object.kind).toBe('Pod')
    await w.cancel()
  })

  it('with resourceVersion N sends only the changes after N; watch=1 and cluster-wide lists too', async () => {
    const t = await testApp()
    await t.json('POST', '/api/v1/namespaces', { metadata: { name: 'team' } })
    const list = (await t.json('GET', `/api/v1/services`)).body
    await t.json('POST', `/api/v1/namespaces/team/services`, { metadata: { name: 's1' }, spec: { ports: [{ port: 80 }] } })
    const w = await watch(t, `/api/v1/services?watch=1&resourceVersion=${list.metadata.resourceVersion}&timeoutSeconds=5`)
    await t.json('POST', `${NS}/services`, { metadata: { name: 's2' }, spec: { ports: [{ port: 80 }] } })
    const events = await w.take(2)
    expect(events.map((e) => `${e.type} ${e.object.metadata.namespace}/${e.object.metadata.name}`)).toEqual(['ADDED team/s1', 'ADDED default/s2'])
    expect(events[0]!.object).toMatchObject({ kind: 'Service', apiVersion: 'v1' })
    await w.cancel()
  })

  it('serves namespaces and tokens, never a token secret', async () => {
    const t = await testApp()
    const ns = await watch(t, '/api/v1/namespaces?watch=true&timeoutSeconds=5')
    expect(brief(await ns.take(1))).toEqual(['ADDED default'])
    await t.json('POST', '/api/v1/namespaces', { metadata: { name: 'team' } })
    await t.json('DELETE', '/api/v1/namespaces/team')
    expect(brief(await ns.take(2))).toEqual(['ADDED team', 'DELETED team'])
    await ns.cancel()
    const tokens = await watch(t, '/apis/switchboard.dev/v1/tokens?watch=true&timeoutSeconds=5')
    await t.json('POST', '/apis/switchboard.dev/v1/tokens', { metadata: { name: 'ci' }, spec: { role: 'read', namespaces: ['default'] } })
    const [added] = await tokens.take(1)
    expect(added).toMatchObject({ type: 'ADDED', object: { kind: 'Token', apiVersion: 'switchboard.dev/v1', metadata: { name: 'ci' }, spec: { role: 'read' } } })
    await t.json('DELETE', '/apis/switchboard.dev/v1/tokens/ci')
    // A token revoked before its ADDED is sent still arrives as ADDED (name only), then DELETED.
    await t.json('POST', '/apis/switchboard.dev/v1/tokens', { metadata: { name: 'brief' }, spec: { role: 'read', namespaces: ['default'] } })
    await t.json('DELETE', '/apis/switchboard.dev/v1/tokens/brief')
    const events = [added!, ...(await tokens.take(3))]
    expect(brief(events)).toEqual(['ADDED ci', 'DELETED ci', 'ADDED brief', 'DELETED brief'])
    expect(JSON.stringify(events)).not.toMatch(/secret|hash|sb_/)
    await tokens.cancel()
  })

  it('applies selectors to the object and the object before: leaving is DELETED, entering is ADDED', async () => {
    const t = await testApp()
    await t.json('POST', `${NS}/pods`, pod('p', { app: 'web' }))
    await t.json('POST', `${NS}/pods`, pod('other', { app: 'db' }))
    const w = await watch(t, `${NS}/pods?watch=true&labelSelector=app%3Dweb&timeoutSeconds=5`)
    expect(brief(await w.take(1))).toEqual(['ADDED p'])
    const moved = (await t.json('PATCH', `${NS}/pods/p`, { metadata: { labels: { app: 'db' } } })).body
    await t.json('PATCH', `${NS}/pods/other`, { metadata: { annotations: { a: 'b' } } }) // never matched: nothing
    await t.json('PATCH', `${NS}/pods/p`, { metadata: { labels: { app: 'web' } } })
    const events = await w.take(2)
    expect(brief(events)).toEqual(['DELETED p', 'ADDED p'])
    // DELETED carries the previous content, at the event's resourceVersion.
    expect(events[0]!.object.metadata.labels.app).toBe('web')
    expect(events[0]!.object.metadata.resourceVersion).toBe(moved.metadata.resourceVersion)
    await w.cancel()
    const byField = await watch(t, `${NS}/pods?watch=true&fieldSelector=metadata.name%3Dother&timeoutSeconds=5`)
    expect(brief(await byField.take(1))).toEqual(['ADDED other'])
    await byField.cancel()
  })

  it('judges a write the log records without the object before (a readiness flip) by the object written; a selected field that changes is a transition', async () => {
    const t = await testApp()
    await t.json('POST', `${NS}/pods`, { ...pod('p'), status: { ...pod('p').status, phase: 'Running' } })
    const rv = await t.registry.store.resourceVersion()
    const byLabel = await watch(t, `${NS}/pods?watch=true&labelSelector=app%3Dweb&resourceVersion=${rv}&timeoutSeconds=5`)
    const byPhase = await watch(t, `${NS}/pods?watch=true&fieldSelector=status.phase%3DRunning&resourceVersion=${rv}&timeoutSeconds=5`)
    await t.json('PATCH', `${NS}/pods/p/status`, { status: { conditions: [{ type: 'Ready', status: 'False' }] } })
    await t.json('PATCH', `${NS}/pods/p/status`, { status: { phase: 'Pending' } })
    await t.json('PATCH', `${NS}/pods/p/status`, { status: { phase: 'Running' } })
    expect(brief(await byLabel.take(3))).toEqual(['MODIFIED p', 'MODIFIED p', 'MODIFIED p'])
    const phased = await byPhase.take(3)
    expect(brief(phased)).toEqual(['MODIFIED p', 'DELETED p', 'ADDED p'])
    // Leaving carries the object as it was: still Running, already not ready.
    expect(phased[1]!.object.status.phase).toBe('Running')
    expect(phased[1]!.object.status.conditions.find((c: { type: string }) => c.type === 'Ready').status).toBe('False')
    await byLabel.cancel()
    await byPhase.cancel()
  })

  it('refuses bad options and selectors with a 4xx Status naming the field, before any stream', async () => {
    const t = await testApp()
    const cases: [string, number, string][] = [
      ['resourceVersionMatch=NotOlderThan', 422, 'resourceVersionMatch'],
      ['sendInitialEvents=true', 422, 'resourceVersionMatch'],
      ['sendInitialEvents=true&resourceVersionMatch=Exact', 422, 'resourceVersionMatch'],
      ['timeoutSeconds=-1', 400, 'timeoutSeconds'],
      ['timeoutSeconds=x', 400, 'timeoutSeconds'],
      ['resourceVersion=abc', 400, 'resourceVersion'],
      ['allowWatchBookmarks=maybe', 400, 'allowWatchBookmarks'],
    ]
    for (const [query, code, field] of cases) {
      const res = await t.json('GET', `${NS}/pods?watch=true&${query}`)
      expect(res.status, query).toBe(code)
      expect(res.body.kind, query).toBe('Status')
      expect(res.body.details.causes.map((c: any) => c.field), query).toContain(field)
    }
    const watchValue = await t.json('GET', `${NS}/pods?watch=maybe`)
    expect(watchValue.status).toBe(400)
    const selector = await t.json('GET', `${NS}/pods?watch=true&fieldSelector=spec.nope%3D1`)
    expect(selector.status).toBe(400)
    expect(selector.body.message).toContain('spec.nope')
  })

  it('sends initial events then a BOOKMARK annotated k8s.io/initial-events-end (sendInitialEvents=true)', async () => {
    const t = await testApp()
    await t.json('POST', `${NS}/pods`, pod('a'))
    await t.json('POST', `${NS}/pods`, pod('b'))
    const rv = (await t.json('GET', `${NS}/pods`)).body.metadata.resourceVersion
    const w = await watch(t, `${NS}/pods?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=5`)
    const first = [await w.next(), await w.next(), await w.next()] as Event[]
    expect(first.map((e) => e.type)).toEqual(['ADDED', 'ADDED', 'BOOKMARK'])
    expect(first[2]!.object).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { resourceVersion: rv, annotations: { 'k8s.io/initial-events-end': 'true' } },
    })
    await w.cancel()
  })

  it('ends cleanly after timeoutSeconds, with a BOOKMARK just before the end when bookmarks are allowed', async () => {
    const t = await testApp()
    const started = Date.now()
    const w = await watch(t, `${NS}/pods?watch=true&resourceVersion=0&allowWatchBookmarks=true&timeoutSeconds=1`)
    const events = await w.rest()
    expect(Date.now() - started).toBeGreaterThanOrEqual(900)
    expect(events.map((e) => e.type)).toEqual(['BOOKMARK'])
    expect(Object.keys(events[0]!.object.metadata)).toEqual(['resourceVersion'])
  })

  it('sends a BOOKMARK at least once a minute', async () => {
    let offset = 0
    const t = await testApp({ clock: seededClock(7, () => new Date(Date.now() + offset)), env: { CATCH_UP_INTERVAL_MS: '50' } })
    const w = await watch(t, `${NS}/pods?watch=true&allowWatchBookmarks=true&timeoutSeconds=30`)
    expect(await w.next(300)).toBeUndefined()
    offset = 61_000 // the watch keeps time by the app's clock: jump it
    const e = await w.next(2000)
    expect(e?.type).toBe('BOOKMARK')
    await w.cancel()
  })

  it('answers a resourceVersion older than the compaction with HTTP 200 and one ERROR event: 410 Expired', async () => {
    let now = Date.parse('2026-06-01T00:00:00Z')
    const t = await testApp({ clock: seededClock(1, () => new Date(now)), env: { CHANGE_LOG_RETENTION_SECONDS: '10' } })
    await t.json('POST', `${NS}/pods`, pod('old'))
    const oldRv = await t.registry.store.resourceVersion()
    await t.json('POST', `${NS}/pods`, pod('older'))
    now += 60_000
    await t.json('POST', `${NS}/pods`, pod('new'))
    expect(await t.registry.compactChanges()).toBeGreaterThan(0)
    const w = await watch(t, `${NS}/pods?watch=true&resourceVersion=${oldRv - 1}&timeoutSeconds=5`)
    const events = await w.rest()
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } })
    expect(events[0]!.object.message).toMatch(/too old resource version/)
  })

  it('access control: a read token for one namespace never gets events of another', async () => {
    const t = await testApp({ env: { SWITCHBOARD_ADMIN_TOKEN: 'root-credential-for-the-watch-tests-0123456789' } })
    const root = { authorization: 'Bearer root-credential-for-the-watch-tests-0123456789' }
    await t.json('POST', '/api/v1/namespaces', { metadata: { name: 'a' } }, root)
    await t.json('POST', '/api/v1/namespaces', { metadata: { name: 'b' } }, root)
    const token = (await t.json('POST', '/apis/switchboard.dev/v1/tokens', { metadata: { name: 'ra' }, spec: { role: 'read', namespaces: ['a'] } }, root)).body
    const reader = { authorization: `Bearer ${token.status.secret}` }
    expect((await t.req('GET', '/api/v1/namespaces/b/pods?watch=true', undefined, reader)).status).toBe(403)
    const pods = await watch(t, '/api/v1/pods?watch=true&timeoutSeconds=5', reader)
    const namespaces = await watch(t, '/api/v1/namespaces?watch=true&timeoutSeconds=5', reader)
    expect(brief(await namespaces.take(1))).toEqual(['ADDED a'])
    await t.json('POST', '/api/v1/namespaces/b/pods', pod('secret-b'), root)
    await t.json('POST', '/api/v1/namespaces/a/pods', pod('visible-a'), root)
    await t.json('DELETE', '/api/v1/namespaces/b', undefined, root)
    await t.json('DELETE', '/api/v1/namespaces/a', undefined, root)
    expect(brief(await pods.take(2))).toEqual(['ADDED visible-a', 'DELETED visible-a'])
    expect(brief(await namespaces.take(1))).toEqual(['DELETED a'])
    await pods.cancel()
    await namespaces.cancel()
  })

  it('endpoints and endpointslices follow a pod readiness flip, and a slice that disappears is DELETED', async () => {
    const t = await testApp()
    await t.json('POST', `${NS}/services`, { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } })
    await t.json('POST', `${NS}/pods`, pod('w1'))
    const eps = await watch(t, `${NS}/endpoints?watch=true&timeoutSeconds=5`)
    const slices = await watch(t, `/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?watch=true&timeoutSeconds=5`)
    const [ep] = await eps.take(1)
    expect(ep).toMatchObject({ type: 'ADDED', object: { kind: 'Endpoints', metadata: { name: 'web' }, subsets: [{ addresses: [{ ip: '10.0.0.1' }] }] } })
    const [slice] = await slices.take(1)
    expect(slice).toMatchObject({ type: 'ADDED', object: { kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1', endpoints: [{ conditions: { ready: true } }] } })
    const flipped = (await t.json('PATCH', `${NS}/pods/w1/status`, { status: { conditions: [{ type: 'Ready', status: 'False' }] } })).body
    const [epFlip] = await eps.take(1)
    expect(epFlip).toMatchObject({ type: 'MODIFIED', object: { subsets: [{ notReadyAddresses: [{ ip: '10.0.0.1' }] }] } })
    expect(Number(epFlip!.object.metadata.resourceVersion)).toBeGreaterThanOrEqual(Number(flipped.metadata.resourceVersion))
    const [sliceFlip] = await slices.take(1)
    expect(sliceFlip).toMatchObject({ type: 'MODIFIED', object: { metadata: { name: slice!.object.metadata.name }, endpoints: [{ conditions: { ready: false } }] } })
    // The service's port changes its name: the slice set changes, the old slice goes.
    await t.json('PATCH', `${NS}/services/web`, { spec: { ports: [{ name: 'web', port: 81, targetPort: 8081 }] } })
    const changed = await slices.take(2)
    expect(changed.map((e) => e.type).sort()).toEqual(['ADDED', 'DELETED'])
    expect(changed.find((e) => e.type === 'DELETED')!.object.metadata.name).toBe(slice!.object.metadata.name)
    await t.json('DELETE', `${NS}/services/web`)
    const gone = await eps.take(2)
    expect(brief(gone).at(-1)).toBe('DELETED web')
    const sliceGone = await slices.take(1)
    expect(sliceGone[0]!.type).toBe('DELETED')
    await eps.cancel()
    await slices.cancel()
  })

  it('no spurious wake-ups: a watch of endpoints with fieldSelector=metadata.name=web gets nothing while others change', async () => {
    const t = await testApp()
    await t.json('POST', `${NS}/services`, { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } })
    await t.json('POST', `${NS}/services`, { metadata: { name: 'api' }, spec: { selector: { app: 'api' }, ports: [{ port: 80 }] } })
    const w = await watch(t, `${NS}/endpoints?watch=true&fieldSelector=metadata.name%3Dweb&resourceVersion=${await t.registry.store.resourceVersion()}&timeoutSeconds=3`)
    for (let i = 0; i < 5; i++) {
      await t.json('POST', `${NS}/pods`, pod(`api-${i}`, { app: 'api' }, true, `10.0.1.${i + 1}`))
      await t.json('PATCH', `${NS}/pods/api-${i}/status`, { status: { conditions: [{ type: 'Ready', status: 'False' }] } })
    }
    await t.json('POST', `${NS}/services`, { metadata: { name: 'other' }, spec: { selector: { app: 'api' }, ports: [{ port: 80 }] } })
    expect(await w.rest()).toEqual([])
    // ...and a change of web itself does arrive.
    const again = await watch(t, `${NS}/endpoints?watch=true&fieldSelector=metadata.name%3Dweb&resourceVersion=${await t.registry.store.resourceVersion()}&timeoutSeconds=5`)
    await t.json('POST', `${NS}/pods`, pod('web-1', { app: 'web' }, true, '10.0.2.1'))
    expect(brief(await again.take(1))).toEqual(['MODIFIED web'])
    await again.cancel()
  })

  it('cuts off a watcher that stops reading; its buffer is bounded and other watchers are unaffected', async () => {
    const t = await testApp()
    const slow = await watch(t, `${NS}/pods?watch=true&timeoutSeconds=20`)
    const fast = await watch(t, `${NS}/pods?watch=true&timeoutSeconds=20`)
    const big = 'x'.repeat(50_000)
    const names: string[] = []
    const received: Event[] = []
    for (let batch = 0; batch < 10; batch++) {
      const bodies = Array.from({ length: 10 }, (_, i) => {
        const name = `p-${batch}-${i}`
        names.push(name)
        return { ...pod(name), metadata: { name, labels: { app: 'web' }, annotations: { big } } }
      })
      await t.registry.importPods('default', bodies)
      received.push(...(await fast.take(10)))
    }
    expect(received.map((e) => e.object.metadata.name)).toEqual(names)
    // The slow watcher now reads: it gets at most its buffer's worth, then the stream fails.
    let bytes = 0
    let ended = false
    try {
      for (;;) {
        const read = await slow.reader.read()
        if (read.done) break
        bytes += read.value.byteLength
      }
    } catch {
      ended = true
    }
    expect(ended).toBe(true)
    expect(bytes).toBeLessThanOrEqual(4 * 1024 * 1024 + 60_000)
    await fast.cancel()
  })
})
