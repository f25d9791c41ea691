/**
 * `sb.discover()` against real server processes: the local pick follows the same
 * sequence as the server's pick for the same weights (one implementation, sdk/src/wrr.ts),
 * sticks keys to the same endpoints, follows drains, readiness and lapsed leases through the
 * watch, falls back to the server before its view is ready, and keeps serving its last
 * view, saying so, while the registry is unreachable.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { Switchboard, UnauthorizedError, type PickResult } from '../../sdk/src/index'
import { SmoothWRR as SdkWRR, rendezvous as sdkRendezvous } from '../../sdk/src/wrr'
import { SmoothWRR as ServerWRR, rendezvous as serverRendezvous } from '../../worker/registry/wrr'
import { E2E_TOKEN } from '../support/auth'
import { startServer, type ServerProcess } from '../support/server'

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Whether `b` is `a` started at another point of its period. */
function isRotation(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false
  const doubled = [...a, ...a]
  return a.some((_, i) => doubled.slice(i, i + a.length).join() === b.join())
}

async function setup(url: string, ns: string) {
  const admin = new Switchboard({ baseUrl: url, token: E2E_TOKEN })
  await admin.namespaces.create({ metadata: { name: ns } })
  const sb = new Switchboard({ baseUrl: url, token: E2E_TOKEN, namespace: ns, maxRetries: 0 })
  await sb.services.create({ metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } })
  return sb
}

describe('sb.discover()', () => {
  const servers: ServerProcess[] = []
  afterAll(async () => {
    for (const s of servers) await s.stop('SIGKILL')
  })

  it('whenReady() rejects with the error when the watch ends on one retrying cannot mend (401)', async () => {
    const server = await startServer()
    servers.push(server)
    await setup(server.url, 'disc-denied')
    const denied = new Switchboard({ baseUrl: server.url, token: 'sb_not-a-credential-of-this-registry-000000', maxRetries: 0 })
    const view = denied.discover('disc-denied', 'web')
    const outcome = await Promise.race([view.whenReady().then(() => 'resolved', (e: unknown) => e), new Promise((r) => setTimeout(() => r('pending'), 10_000))])
    expect(outcome).toBeInstanceOf(UnauthorizedError)
    expect(view.ready).toBe(false)
    expect(view.error).toBe(outcome)
    // Later calls say the same.
    await expect(view.whenReady()).rejects.toBe(outcome)
    expect(view.tryPick()).toBeNull()
    view.close()
  }, 30_000)

  it('the server and the SDK share one weighted selection', () => {
    expect(ServerWRR).toBe(SdkWRR)
    expect(serverRendezvous).toBe(sdkRendezvous)
  })

  it('picks locally in the server’s sequence for the same weights, and sticks keys to the same endpoints', async () => {
    const server = await startServer()
    servers.push(server)
    const sb = await setup(server.url, 'disc-a')
    const weights: Record<string, number> = { 'web-a': 5, 'web-b': 1, 'web-c': 1, 'web-d': 3 }
    let i = 0
    for (const [name, weight] of Object.entries(weights)) {
      await sb.pods.register({ name, ip: `10.80.0.${++i}`, labels: { app: 'web' }, ports: { http: 8080 }, weight, zone: i % 2 ? 'z1' : 'z2' })
    }
    const period = Object.values(weights).reduce((a, b) => a + b, 0)
    const discovery = sb.discover('disc-a', 'web')
    expect(discovery.tryPick()).toBeNull() // not ready yet: pick() asks the server
    expect((await discovery.pick({ port: 'http' })).pod).toMatch(/^web-/)
    await discovery.whenReady()
    const sequence = async (pick: () => Promise<PickResult> | PickResult) => {
      const out: string[] = []
      for (let n = 0; n < 3 * period; n++) out.push((await pick()).pod!)
      return out
    }
    const remote = await sequence(() => sb.services.pick('web', { port: 'http' }))
    const local = await sequence(() => discovery.tryPick({ port: 'http' })!)
    // both start at a random point of the period: the same sequence, rotated
    expect(isRotation(remote.slice(0, period), local.slice(0, period))).toBe(true)
    expect(remote.join()).toBe([...remote.slice(0, period), ...remote.slice(0, period), ...remote.slice(0, period)].join())
    expect(local.join()).toBe([...local.slice(0, period), ...local.slice(0, period), ...local.slice(0, period)].join())
    for (const [name, weight] of Object.entries(weights)) expect(local.filter((p) => p === name).length).toBe(3 * weight)
    // sticky picks: the same endpoint per key, and the zone preference as the server's
    for (let k = 0; k < 40; k++) {
      const key = `user-${k}`
      expect(discovery.tryPick({ key })!.pod).toBe((await sb.services.pick('web', { key })).pod)
      expect(discovery.tryPick({ key, zone: 'z2' })).toEqual(await sb.services.pick('web', { key, zone: 'z2' }))
    }
    expect(discovery.tryPick({ zone: 'nowhere', key: 'k' })).toEqual(await sb.services.pick('web', { zone: 'nowhere', key: 'k' }))
    discovery.close()
  }, 60_000)

  it('follows drains, readiness and lapsed leases; with no candidate it asks the server, which says why', async () => {
    const server = await startServer()
    servers.push(server)
    const sb = await setup(server.url, 'disc-b')
    await sb.pods.register({ name: 'web-1', ip: '10.81.0.1', labels: { app: 'web' }, ports: { http: 8080 } })
    await sb.pods.register({ name: 'web-2', ip: '10.81.0.2', labels: { app: 'web' }, ports: { http: 8080 } })
    const changes: number[] = []
    const discovery = sb.discover('disc-b', 'web', { onChange: (eps) => changes.push(eps.length) })
    await discovery.whenReady()
    const picked = () => new Set(Array.from({ length: 6 }, () => discovery.tryPick()?.pod ?? null))
    expect(picked()).toEqual(new Set(['web-1', 'web-2']))
    await sb.pods.drain('web-1')
    await until('the drain', () => picked().size === 1)
    expect(picked()).toEqual(new Set(['web-2']))
    // a lease that lapses: the registry marks the pod not ready, and the view follows
    await sb.leases.create({ metadata: { name: 'short' }, spec: { holderIdentity: 'x', leaseDurationSeconds: 1, renewTime: new Date().toISOString() } })
    await sb.pods.patch('web-2', { metadata: { annotations: { 'switchboard.dev/lease': 'short' } } })
    await until('the lapse', () => discovery.tryPick() === null, 10_000)
    expect(discovery.endpoints().find((e) => e.pod === 'web-2')!.ready).toBe(false)
    await expect(sb.services.pick('web')).rejects.toThrow('service "web" has no ready endpoint')
    await expect(discovery.pick()).rejects.toThrow('service "web" has no ready endpoint')
    expect(changes.length).toBeGreaterThanOrEqual(3)
    discovery.close()
  }, 60_000)

  it('keeps serving its last view while the registry is unreachable, and says so', async () => {
    const first = await startServer()
    servers.push(first)
    const sb = await setup(first.url, 'disc-c')
    await sb.pods.register({ name: 'web-1', ip: '10.82.0.1', labels: { app: 'web' }, ports: { http: 8080 }, weight: 2 })
    await sb.pods.register({ name: 'web-2', ip: '10.82.0.2', labels: { app: 'web' }, ports: { http: 8080 } })
    const stale: boolean[] = []
    const discovery = sb.discover('disc-c', 'web', { onStale: (s) => stale.push(s) })
    await discovery.whenReady()
    await first.stop('SIGKILL')
    await until('the view to turn stale', () => discovery.stale)
    expect(stale).toEqual([true])
    const picks = Array.from({ length: 3 }, () => discovery.tryPick({ port: 'http' })!)
    expect(picks.map((p) => p.pod).sort()).toEqual(['web-1', 'web-1', 'web-2'])
    expect(picks[0]).toMatchObject({ kind: 'Pick', namespace: 'disc-c', service: 'web', port: 8080 })
    expect((await discovery.pick()).pod).toMatch(/^web-[12]$/) // no round trip: the server is gone
    const second = await startServer({ port: first.port, databasePath: first.databasePath })
    servers.push(second)
    await until('the view to be current again', () => !discovery.stale)
    expect(stale).toEqual([true, false])
    await sb.pods.register({ name: 'web-3', ip: '10.82.0.3', labels: { app: 'web' }, ports: { http: 8080 } })
    await until('the new endpoint', () => discovery.endpoints().some((e) => e.pod === 'web-3'))
    discovery.close()
  }, 60_000)
})
