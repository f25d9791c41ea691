import { SELF } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { testDatabase } from './db'
import { NotFoundError, Switchboard } from '../../sdk/src/index'

describe('the SDK inside workerd', () => {
  // A fresh registry for every test (the Worker under SELF uses the same D1 binding).
  beforeEach(async () => {
    await testDatabase()
  })

  it('registers, picks, resolves and raises typed errors through the Worker', async () => {
    const sb = new Switchboard({
      baseUrl: 'http://registry',
      token: 'workers-test-root-credential-0123456789',
      fetch: (input, init) => SELF.fetch(input, init),
    })
    await sb.services.create({ metadata: { name: 'api' }, spec: { selector: { app: 'api' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } })
    await sb.pods.register({ name: 'api-1', ip: '10.1.0.1', labels: { app: 'api' }, ports: { http: 8080 }, weight: 2 })
    await sb.pods.register({ name: 'api-1', ip: '10.1.0.1', labels: { app: 'api' }, ports: { http: 8080 }, weight: 2 })
    const pick = await sb.services.pick('api', { port: 'http' })
    expect(pick).toMatchObject({ address: '10.1.0.1', port: 8080, pod: 'api-1', weight: 2 })
    expect((await sb.lookup('api')).map((e) => e.address)).toEqual(['10.1.0.1'])
    const dns = await sb.resolve('_http._tcp.api.default.svc.cluster.local', 'SRV')
    expect(dns.answers[0]).toMatchObject({ type: 'SRV', port: 80, target: 'api.default.svc.cluster.local.' })
    await expect(sb.pods.get('nope')).rejects.toBeInstanceOf(NotFoundError)
  })

  it('watches: a pod created once the stream is open arrives as an event', async () => {
    const sb = new Switchboard({
      baseUrl: 'http://registry',
      token: 'workers-test-root-credential-0123456789',
      fetch: (input, init) => SELF.fetch(input, init),
    })
    let connected!: () => void
    const open = new Promise<void>((resolve) => (connected = resolve))
    const watch = sb.pods.watch({ labelSelector: { app: 'watched' }, bookmarks: false, onConnect: () => connected() })
    const events: string[] = []
    const watching = (async () => {
      for await (const e of watch) {
        if (e.type !== 'BOOKMARK') events.push(`${e.type} ${e.object.metadata.name} ${e.object.status.podIP}`)
        if (events.length === 2) watch.close()
      }
    })()
    await open
    expect(events).toEqual([]) // nothing listed: what follows came through the stream
    await sb.pods.register({ name: 'w-1', ip: '10.1.0.9', labels: { app: 'watched' } })
    await sb.pods.drain('w-1')
    await watching
    expect(events).toEqual(['ADDED w-1 10.1.0.9', 'MODIFIED w-1 10.1.0.9'])
  })
})
