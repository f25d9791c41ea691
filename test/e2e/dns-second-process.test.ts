/**
 * DNS from a second process: two servers started the way the README says on one database
 * file. A workload registers through the first with a 2 s lease and renews there; the
 * second, which takes none of those writes, answers DNS and the pick from caches that
 * follow the first one's writes through the change log. It learns the registration
 * within the catch-up interval, keeps the pod through its renewals (they reach it through
 * the log well before each expiry), and drops it within 3 s of the workload's SIGKILL.
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
  reader = await startServer({ databasePath: writer.databasePath })
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
    const holder = startLeaseHolder('register', writer.url, { POD_NAME: 'worker-1', POD_IP: IP, APP: 'worker', LEASE_SECONDS: '2' })
    try {
      await holder.waitFor('registered worker-1')
      const registeredAt = performance.now()
      while (!(await addresses()).includes(IP)) {
        expect(performance.now() - registeredAt, 'the second server learned the registration within the catch-up interval (1 s) and some slack').toBeLessThan(3000)
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
