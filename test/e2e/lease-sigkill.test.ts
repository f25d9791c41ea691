/**
 * A workload killed with SIGKILL leaves the pick within 3 s: it registered through the
 * SDK with a 2 s lease, its renewals stop with it, and the registry judges the lease when
 * it answers. The registry is a real server process started the way the README says, the
 * workload a real Node process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ServiceUnavailableError, Switchboard } from '../../sdk/src/index'
import { E2E_TOKEN } from '../support/auth'
import { startLeaseHolder } from '../support/lease-holder-process'
import { startServer, type ServerProcess } from '../support/server'

let server: ServerProcess
let sb: Switchboard
/** Polls the pick: an answer of 503 is the news, not something to retry. */
let probe: Switchboard

beforeAll(async () => {
  server = await startServer()
  sb = new Switchboard({ baseUrl: server.url, token: E2E_TOKEN })
  probe = new Switchboard({ baseUrl: server.url, token: E2E_TOKEN, maxRetries: 0 })
  await sb.services.create({ metadata: { name: 'worker' }, spec: { selector: { app: 'worker' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } })
}, 60_000)
afterAll(async () => {
  await server?.stop('SIGKILL')
})

describe('a registered workload killed with SIGKILL', () => {
  it('is gone from the pick within 3 s', async () => {
    const holder = startLeaseHolder('register', server.url, { POD_NAME: 'worker-1', POD_IP: '10.40.0.1', APP: 'worker', LEASE_SECONDS: '2' })
    try {
      await holder.waitFor('registered worker-1')
      expect(await sb.services.pick('worker')).toMatchObject({ address: '10.40.0.1', pod: 'worker-1' })
      // Let a few renewals go by, so the kill lands between two of them.
      await new Promise((r) => setTimeout(r, 1500))
      expect((await sb.services.pick('worker')).pod).toBe('worker-1')

      await holder.kill()
      const killedAt = performance.now()
      let goneAfterMs: number | undefined
      while (performance.now() - killedAt < 5000) {
        const picked = await probe.services.pick('worker').catch((e) => e)
        if (picked instanceof ServiceUnavailableError) {
          goneAfterMs = performance.now() - killedAt
          break
        }
        expect(picked.pod).toBe('worker-1')
        await new Promise((r) => setTimeout(r, 20))
      }
      console.log(`SIGKILLed workload left the pick after ${goneAfterMs?.toFixed(0) ?? '> 5000'} ms (lease 2 s)`)
      expect(goneAfterMs).toBeDefined()
      expect(goneAfterMs!).toBeLessThan(3000)
      // The pod itself is still there: marked, and deleted later by the sweep.
      expect((await sb.pods.get('worker-1')).metadata.annotations).toMatchObject({ 'switchboard.dev/lease': 'worker-1' })
    } finally {
      await holder.kill()
    }
  }, 60_000)
})
