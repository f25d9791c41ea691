/**
 * DNS from a second process: two servers started the way the README says on one database
 * file. A workload registers through the first with a 2 s lease and renews there; the
 * second, which takes none of those writes, answers DNS and the pick from caches that
 * follow the first one's writes through the change log, read at most every
 * CATCH_UP_INTERVAL_MS (250 ms here, as the README advises for leases this short: the SDK
 * renews a third of the duration after its last renewal, so a renewal reaches the log
 * about 1.3 s before the lease would lapse, and the second process must read it by then).
 * Its DNS_TTL is a minute, so that no cached answer is read afresh during the test: the
 * second process answers the service empty before the registration, learns the
 * registration through the log, keeps the pod through its renewals, and drops it within
 * 3 s of the workload's SIGKILL (leases are judged when answering).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ServiceUnavailableError, Switchboard } from '../../sdk/src/index'
import { E2E_TOKEN } from '../support/auth'
import { startLeaseHolder } from '../support/lease-holder-process'
import { startServer, type ServerProcess } from '../support/server'

const NAME = 'worker.default.svc.cluster.local'
const IP = '10.41.0.1'

let writer: ServerProcess
let reader: ServerProcess
let probe: Switchboard

beforeAll(async () => {
  writer = await startServer()
  reader = await startServer({ databasePath: writer.databasePath, env: { CATCH_UP_INTERVAL_MS: '250', DNS_TTL: '60' } })
  const sb = new Switchboard({ baseUrl: writer.url, token: E2E_TOKEN })
  probe = new Switchboard({ baseUrl: reader.url, token: E2E_TOKEN, maxRetries: 0 })
  await sb.services.create({ metadata: { name: 'worker' }, spec: { clusterIP: 'None', selector: { app: 'worker' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } })
}, 60_000)
afterAll(async () => {
  await reader?.stop('SIGKILL')
  await writer?.stop('SIGKILL')
})

/** The addresses the second server's DNS (JSON form) answers for the service (headless: its ready pods' addresses). */
async function addresses(): Promise<string[]> {
  const res = await fetch(`${reader.url}/resolve?name=${NAME}&type=A`, { headers: { authorization: `Bearer ${E2E_TOKEN}` } })
  expect(res.status).toBe(200)
  const body = (await res.json()) as { Status: number; Answer?: { data: string }[] }
  return (body.Answer ?? []).map((a) => a.data)
}

describe('a second server process on the same file', () => {
  it('answers for a workload that registers and renews through the first, and drops it within 3 s of its SIGKILL', async () => {
    // Asked first, so that the answer is cached empty: the registration must then come through the change log.
    expect(await addresses()).toEqual([])
    const holder = startLeaseHolder('register', writer.url, { POD_NAME: 'worker-1', POD_IP: IP, APP: 'worker', LEASE_SECONDS: '2' })
    try {
      await holder.waitFor('registered worker-1')
      const registeredAt = performance.now()
      while (!(await addresses()).includes(IP)) {
        expect(performance.now() - registeredAt, 'the second server learned the registration within the catch-up interval (250 ms) and some slack').toBeLessThan(1500)
        await new Promise((r) => setTimeout(r, 20))
      }
      // Through two and a half lease durations of renewals sent to the first server, the second keeps answering the pod.
      const until = performance.now() + 5000
      let asked = 0
      while (performance.now() < until) {
        expect(await addresses()).toEqual([IP])
        expect((await probe.services.pick('worker')).address).toBe(IP)
        asked++
        await new Promise((r) => setTimeout(r, 25))
      }
      expect(asked).toBeGreaterThan(20)

      await holder.kill()
      const killedAt = performance.now()
      let goneAfterMs: number | undefined
      while (performance.now() - killedAt < 5000) {
        const found = await addresses()
        const picked = await probe.services.pick('worker').catch((e) => e)
        if (found.length === 0 && picked instanceof ServiceUnavailableError) {
          goneAfterMs = performance.now() - killedAt
          break
        }
        await new Promise((r) => setTimeout(r, 20))
      }
      console.log(`the second server dropped the SIGKILLed workload after ${goneAfterMs?.toFixed(0) ?? '> 5000'} ms (lease 2 s)`)
      expect(goneAfterMs).toBeDefined()
      expect(goneAfterMs!).toBeLessThan(3000)
    } finally {
      await holder.kill()
    }
  }, 60_000)
})
