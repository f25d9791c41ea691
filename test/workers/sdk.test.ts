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
})
