/**
 * The registry's own absence evicts nobody, end to end: the real server (`npm start`)
 * holds a pod bound to a 3 s lease; the server stops for longer than the lease; when it
 * comes back the pod is still picked (one full duration of grace from its return), and
 * without a renewal it leaves the pick once that duration is over.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { startServer, type ServerProcess } from '../support/server'
import { OPEN_ACCESS, serverApi } from '../support/server-api'

const NS = '/api/v1/namespaces/default'
const LEASE_SECONDS = 3

describe('a registry restart and the leases it holds', () => {
  let server: ServerProcess | undefined
  afterAll(async () => {
    await server?.stop('SIGKILL')
  })

  it('gives leases that lapsed while it was down one full duration from its return', async () => {
    server = await startServer({ env: OPEN_ACCESS })
    const databasePath = server.databasePath
    let api = serverApi(server.url)
    await api('POST', '/apis/coordination.k8s.io/v1/namespaces/default/leases', {
      metadata: { name: 'host-a' },
      spec: { holderIdentity: 'agent-a', leaseDurationSeconds: LEASE_SECONDS, renewTime: new Date().toISOString() },
    })
    await api('POST', `${NS}/services`, { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } })
    await api('POST', `${NS}/pods`, {
      metadata: { name: 'web-1', labels: { app: 'web' }, annotations: { 'switchboard.dev/lease': 'host-a' } },
      status: { podIP: '10.9.0.1', conditions: [{ type: 'Ready', status: 'True' }] },
    })
    expect((await api('GET', `${NS}/services/web/pick`)).address).toBe('10.9.0.1')

    await server.stop('SIGTERM')
    // Down for longer than the lease and than the absence threshold (5 s on Node).
    await new Promise((resolve) => setTimeout(resolve, 6_500))
    server = await startServer({ env: OPEN_ACCESS, databasePath })
    const back = Date.now()
    api = serverApi(server.url)
    expect((await api('GET', `${NS}/services/web/pick`)).address).toBe('10.9.0.1')

    // No renewal comes: the pod leaves the pick one duration after the return (plus the sweep's second).
    let goneAt: number | undefined
    while (Date.now() - back < (LEASE_SECONDS + 5) * 1000) {
      const res = await fetch(`${server.url}${NS}/services/web/pick`)
      await res.arrayBuffer()
      if (res.status === 503) {
        goneAt = Date.now()
        break
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect(goneAt, 'the pod never left the pick').toBeDefined()
    const after = (goneAt! - back) / 1000
    console.log(`after the restart the pod left the pick ${after.toFixed(2)} s after the registry's return (lease ${LEASE_SECONDS} s)`)
    expect(after).toBeGreaterThanOrEqual(LEASE_SECONDS - 0.5)
    expect(after).toBeLessThan(LEASE_SECONDS + 2)
  }, 60_000)
})
