/**
 * `sb.register()`: a pod kept alive by a lease the SDK renews, against a real server
 * process. Leases of 2 s: renewals every ~0.67 s, the renew deadline 1.33 s. Calls that
 * watch the pick use a client without retries, so that a 503 is seen when it happens.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import {
  ConnectionError,
  LeaseLostError,
  NameTakenError,
  NotFoundError,
  Registration,
  ServiceUnavailableError,
  Switchboard,
  TakenOverError,
  type Lease,
  type Pod,
} from '../../sdk/src/index'
import { E2E_TOKEN } from '../support/auth'
import { startServer, useServer } from '../support/server'
import { leaseRequests, timersFrom } from './lease-tools'

const server = useServer()
let admin: Switchboard

beforeAll(() => {
  admin = new Switchboard({ baseUrl: server.url, token: E2E_TOKEN })
})

/** A namespace with a service `web` (app=web), and a register token for it. */
async function namespace(name: string, baseUrl = server.url, root = admin) {
  await root.namespaces.create({ metadata: { name } })
  await root.services.create({ metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } }, { namespace: name })
  const token = await root.tokens.create({ metadata: { name: `${name}-workload` }, spec: { role: 'register', namespaces: [name] } })
  const secret = token.status!.secret!
  const probe = new Switchboard({ baseUrl, token: E2E_TOKEN, namespace: name, maxRetries: 0 })
  return {
    secret,
    workload: (options: { fetch?: typeof fetch; maxRetries?: number } = {}) => new Switchboard({ baseUrl, token: secret, namespace: name, ...options }),
    /** The pod the pick answers with, or null when it answers 503. */
    picked: async (): Promise<string | null> => {
      const res = await probe.services.pick('web').catch((e) => e)
      if (res instanceof ServiceUnavailableError) return null
      if (res instanceof Error) throw res
      return res.pod ?? null
    },
  }
}

const web = (name: string, ip: string) => ({ name, ip, labels: { app: 'web' }, ports: { http: 8080 } })
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const readyOf = (pod: Pod) => pod.status.conditions?.find((c) => c.type === 'Ready')

describe('sb.register()', () => {
  it('writes the lease, then the pod naming it; the pod is picked', async () => {
    const ns = await namespace('reg-a')
    const reg = await ns.workload().register(web('web-1', '10.60.0.1'), { leaseDurationSeconds: 2 })
    expect(reg).toBeInstanceOf(Registration)
    expect(reg.holderIdentity).toMatch(/^web-1-[a-z0-9]{8}$/)
    const lease = await admin.leases.get('web-1', { namespace: 'reg-a' })
    expect(lease).toMatchObject({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', spec: { holderIdentity: reg.holderIdentity, leaseDurationSeconds: 2, leaseTransitions: 0 } })
    expect(lease.spec.acquireTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/)
    const pod = await admin.pods.get('web-1', { namespace: 'reg-a' })
    expect(pod.metadata.annotations).toMatchObject({ 'switchboard.dev/lease': 'web-1', 'switchboard.dev/weight': '1' })
    expect(reg.pod.metadata.uid).toBe(pod.metadata.uid)
    expect(reg.lease.metadata.uid).toBe(lease.metadata.uid)
    expect(await ns.picked()).toBe('web-1')

    // Readiness and drain through the handle.
    expect(readyOf(await reg.setReady(false))?.status).toBe('False')
    expect(await ns.picked()).toBeNull()
    await reg.setReady(true)
    expect(await ns.picked()).toBe('web-1')
    expect((await reg.drain()).metadata.annotations?.['switchboard.dev/weight']).toBe('0')
    expect(await ns.picked()).toBeNull()
    expect(reg.pod.metadata.annotations?.['switchboard.dev/weight']).toBe('0')
    await reg.close()
  }, 30_000)

  it('takes over an existing lease as a new holder: a transition, with a new acquireTime', async () => {
    const ns = await namespace('reg-b')
    await admin.leases.create({ metadata: { name: 'host' }, spec: { holderIdentity: 'old-agent', leaseDurationSeconds: 30, acquireTime: '2026-01-01T00:00:00Z', leaseTransitions: 4 } }, { namespace: 'reg-b' })
    const reg = await ns.workload().register(web('web-1', '10.60.1.1'), { lease: 'host', holderIdentity: 'agent-1', leaseDurationSeconds: 2 })
    expect(reg.lease.spec).toMatchObject({ holderIdentity: 'agent-1', leaseDurationSeconds: 2, leaseTransitions: 5 })
    expect(reg.lease.spec.acquireTime).not.toBe('2026-01-01T00:00:00.000000Z')
    expect(reg.pod.metadata.annotations?.['switchboard.dev/lease']).toBe('host')
    await reg.close()
  }, 30_000)

  it('refuses a lease duration below one second or not whole, and a deadline past the duration, before writing', async () => {
    const ns = await namespace('reg-c')
    const sb = ns.workload()
    await expect(sb.register(web('web-1', '10.60.2.1'), { leaseDurationSeconds: 0 })).rejects.toThrow(/leaseDurationSeconds/)
    await expect(sb.register(web('web-1', '10.60.2.1'), { leaseDurationSeconds: 1.5 })).rejects.toThrow(RangeError)
    await expect(sb.register(web('web-1', '10.60.2.1'), { leaseDurationSeconds: 2, renewDeadlineSeconds: 3 })).rejects.toThrow(/renewDeadlineSeconds/)
    expect((await admin.leases.listAll({ namespace: 'reg-c' })).items).toEqual([])
    // A pod the server refuses leaves no lease behind.
    await expect(sb.register({ ...web('web-1', 'not-an-ip') }, { leaseDurationSeconds: 2 })).rejects.toThrow()
    expect((await admin.leases.listAll({ namespace: 'reg-c' })).items).toEqual([])
  }, 30_000)

  it('keeps the pod picked past several lease durations by renewing', async () => {
    const ns = await namespace('reg-d')
    const reg = await ns.workload().register(web('web-1', '10.60.3.1'), { leaseDurationSeconds: 2 })
    const firstRenewal = Date.parse(reg.lease.spec.renewTime!)
    const started = Date.now()
    while (Date.now() - started < 7000) {
      expect(await ns.picked()).toBe('web-1')
      await sleep(100)
    }
    const pod = await admin.pods.get('web-1', { namespace: 'reg-d' })
    expect(readyOf(pod)).toMatchObject({ status: 'True' })
    expect(readyOf(pod)?.reason).toBeUndefined()
    // About one renewal every 0.67 s: the handle holds the last one written.
    const lease = await admin.leases.get('web-1', { namespace: 'reg-d' })
    expect(Date.parse(lease.spec.renewTime!) - firstRenewal).toBeGreaterThan(5000)
    expect(reg.lease.spec.renewTime).toBe(lease.spec.renewTime)
    expect(reg.signal.aborted).toBe(false)
    await reg.close()
  }, 30_000)

  it('retries a failed renewal sooner than the next renewal, and recovers within the deadline', async () => {
    const ns = await namespace('reg-e')
    const requests = leaseRequests()
    const reg = await ns.workload({ fetch: requests.fetch }).register(web('web-1', '10.60.4.1'), { leaseDurationSeconds: 2 })
    await requests.renewed()
    requests.failNext(3)
    const recovered = await requests.renewed()
    const attempts = requests.renewals.filter((r) => r.at >= recovered.at - 2000)
    const failures = attempts.slice(-4, -1)
    expect(failures.map((r) => r.ok)).toEqual([false, false, false])
    // Retries come faster than the renewal interval (0.6–0.73 s), and the renewal lands within the deadline (1.33 s).
    expect(failures[1]!.at - failures[0]!.at).toBeLessThan(500)
    expect(failures[2]!.at - failures[1]!.at).toBeLessThan(500)
    expect(recovered.at - failures[0]!.at).toBeLessThan(1333)
    expect(reg.signal.aborted).toBe(false)
    expect(await ns.picked()).toBe('web-1')
    await reg.close()
  }, 30_000)

  it('leaves the pick within the lease duration (+1 s) once renewals stop reaching the registry', async () => {
    const ns = await namespace('reg-f')
    const requests = leaseRequests()
    const reg = await ns.workload({ fetch: requests.fetch }).register(web('web-1', '10.60.5.1'), { leaseDurationSeconds: 2 })
    await requests.renewed()
    expect(await ns.picked()).toBe('web-1')
    requests.blackhole()
    const cut = performance.now()
    let goneAfter: number | undefined
    while (performance.now() - cut < 6000) {
      if ((await ns.picked()) === null) {
        goneAfter = performance.now() - cut
        break
      }
      await sleep(20)
    }
    console.log(`renewals cut off: the pod left the pick after ${goneAfter?.toFixed(0)} ms (lease 2 s)`)
    expect(goneAfter).toBeDefined()
    expect(goneAfter!).toBeLessThan(3000)
    // By then the registration has given up (deadline 1.33 s): renewals stopped hanging on.
    expect(reg.signal.reason).toBeInstanceOf(LeaseLostError)
    requests.restore()
    await reg.close()
    await expect(admin.pods.get('web-1', { namespace: 'reg-f' })).rejects.toBeInstanceOf(NotFoundError)
  }, 30_000)

  it('close() drains, waits, deletes the pod and the lease, and leaves no timer behind', async () => {
    const ns = await namespace('reg-g')
    const timers = timersFrom('/sdk/src/')
    try {
      const reg = await ns.workload().register(web('web-1', '10.60.6.1'), { leaseDurationSeconds: 2 })
      await sleep(1000)
      expect(timers.live().length).toBeGreaterThan(0)
      const closing = reg.close({ drainSeconds: 0.5 })
      expect(reg.close()).toBe(closing)
      await sleep(250)
      // Draining: still registered, no longer picked.
      expect((await admin.pods.get('web-1', { namespace: 'reg-g' })).metadata.annotations?.['switchboard.dev/weight']).toBe('0')
      expect(await ns.picked()).toBeNull()
      await closing
      expect(timers.live()).toEqual([])
      await expect(admin.pods.get('web-1', { namespace: 'reg-g' })).rejects.toBeInstanceOf(NotFoundError)
      await expect(admin.leases.get('web-1', { namespace: 'reg-g' })).rejects.toBeInstanceOf(NotFoundError)
      // A renewal still running would write the lease again.
      await sleep(1200)
      await expect(admin.leases.get('web-1', { namespace: 'reg-g' })).rejects.toBeInstanceOf(NotFoundError)
      await reg.close()
      expect(reg.signal.aborted).toBe(false)
    } finally {
      timers.restore()
    }
  }, 30_000)

  it('await using closes the registration at the end of the block', async () => {
    const ns = await namespace('reg-h')
    {
      await using reg = await ns.workload().register(web('web-1', '10.60.7.1'), { leaseDurationSeconds: 2 })
      expect(reg.pod.metadata.name).toBe('web-1')
      expect(await ns.picked()).toBe('web-1')
    }
    await expect(admin.pods.get('web-1', { namespace: 'reg-h' })).rejects.toBeInstanceOf(NotFoundError)
    await expect(admin.leases.get('web-1', { namespace: 'reg-h' })).rejects.toBeInstanceOf(NotFoundError)
  }, 30_000)

  it('shares one lease among pods: closing one keeps the lease while another pod names it', async () => {
    const ns = await namespace('reg-i')
    const sb = ns.workload()
    const one = await sb.register(web('web-1', '10.60.8.1'), { lease: 'host-a', leaseDurationSeconds: 2 })
    const two = await sb.register(web('web-2', '10.60.8.2'), { lease: 'host-a', leaseDurationSeconds: 2 })
    expect(two.lease.spec.leaseTransitions).toBe(1)
    await one.close()
    const lease: Lease = await admin.leases.get('host-a', { namespace: 'reg-i' })
    expect(lease.metadata.name).toBe('host-a')
    expect(await ns.picked()).toBe('web-2')
    await two.close()
    await expect(admin.leases.get('host-a', { namespace: 'reg-i' })).rejects.toBeInstanceOf(NotFoundError)
  }, 30_000)
})

describe('sb.register() ownership of a name', () => {
  it('of two registrations of one name started at the same moment, exactly one succeeds; the other gets NameTakenError', async () => {
    const ns = await namespace('reg-race')
    const a = ns.workload()
    const b = ns.workload()
    for (let round = 0; round < 5; round++) {
      const name = `race-${round}`
      const results = await Promise.allSettled([
        a.register(web(name, '10.62.0.1'), { holderIdentity: 'proc-a', leaseDurationSeconds: 2 }),
        b.register(web(name, '10.62.0.2'), { holderIdentity: 'proc-b', leaseDurationSeconds: 2 }),
      ])
      const won = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
      const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []))
      expect(won).toHaveLength(1)
      expect(refused).toHaveLength(1)
      expect(refused[0]).toBeInstanceOf(NameTakenError)
      const winner = won[0]!
      expect((refused[0] as NameTakenError).holderIdentity).toBe(winner.holderIdentity)
      // The winner keeps the lease and the pod over a renewal or two.
      await sleep(1000)
      const lease = await admin.leases.get(name, { namespace: 'reg-race' })
      expect(lease.spec.holderIdentity).toBe(winner.holderIdentity)
      expect((await admin.pods.get(name, { namespace: 'reg-race' })).status.podIP).toBe(winner.pod.status.podIP)
      expect(winner.signal.aborted).toBe(false)
      await winner.close()
    }
  }, 60_000)

  it('after takeOver the old registration aborts its signal with TakenOverError within a renewal period and its close() leaves the new pod', async () => {
    const ns = await namespace('reg-takeover')
    const lost: LeaseLostError[] = []
    const old = await ns.workload().register(web('web-1', '10.63.0.1'), { holderIdentity: 'old', leaseDurationSeconds: 2, onLost: (e) => lost.push(e) })
    const aborted = new Promise<number>((resolve) => old.signal.addEventListener('abort', () => resolve(performance.now())))
    const neu = await ns.workload().register(web('web-1', '10.63.0.2'), { holderIdentity: 'new', leaseDurationSeconds: 2, takeOver: true })
    const tookOver = performance.now()
    // Renewals every 2/3 s (±10%): the old one's next renewal finds the new holder.
    const abortedAt = await Promise.race([aborted, sleep(3000).then(() => Infinity)])
    expect(abortedAt - tookOver).toBeLessThan(2000 / 3 * 1.1 + 300)
    expect(old.signal.reason).toBeInstanceOf(TakenOverError)
    expect(old.signal.reason).toBeInstanceOf(LeaseLostError)
    expect(old.signal.reason.holderIdentity).toBe('new')
    expect(old.signal.reason.message).toMatch(/taken over by "new"/)
    expect(lost).toEqual([old.signal.reason])
    // It stopped renewing: the lease stays the new holder's.
    for (let i = 0; i < 4; i++) {
      await sleep(300)
      expect((await admin.leases.get('web-1', { namespace: 'reg-takeover' })).spec.holderIdentity).toBe('new')
    }
    await expect(old.drain()).rejects.toBeInstanceOf(TakenOverError)
    await old.close()
    const pod = await admin.pods.get('web-1', { namespace: 'reg-takeover' })
    expect(pod.status.podIP).toBe('10.63.0.2')
    expect(pod.metadata.annotations?.['switchboard.dev/weight']).toBe('1')
    expect((await admin.leases.get('web-1', { namespace: 'reg-takeover' })).spec.holderIdentity).toBe('new')
    expect(await ns.picked()).toBe('web-1')
    expect(neu.signal.aborted).toBe(false)
    await neu.close()
    await expect(admin.pods.get('web-1', { namespace: 'reg-takeover' })).rejects.toBeInstanceOf(NotFoundError)
  }, 30_000)

  it("close() leaves a pod alone whose lease another holder took while the registration's renewals were stopped", async () => {
    const ns = await namespace('reg-takeover-close')
    const old = await ns.workload().register(web('web-1', '10.63.1.1'), { holderIdentity: 'old', leaseDurationSeconds: 2 })
    // Taken over between two renewals: close() comes before the old one's next renewal could notice.
    const neu = await ns.workload().register(web('web-1', '10.63.1.2'), { holderIdentity: 'new', leaseDurationSeconds: 2, takeOver: true })
    await old.close()
    const pod = await admin.pods.get('web-1', { namespace: 'reg-takeover-close' })
    expect(pod.status.podIP).toBe('10.63.1.2')
    expect(pod.metadata.annotations?.['switchboard.dev/weight']).toBe('1')
    expect((await admin.leases.get('web-1', { namespace: 'reg-takeover-close' })).spec.holderIdentity).toBe('new')
    await neu.close()
  }, 30_000)
})

describe('sb.register() when the registry goes away', () => {
  it('aborts signal with LeaseLostError after the renew deadline, calls onLost once, and stops renewing', async () => {
    const own = await startServer()
    try {
      const root = new Switchboard({ baseUrl: own.url, token: E2E_TOKEN })
      const ns = await namespace('reg-lost', own.url, root)
      const lost: LeaseLostError[] = []
      const requests = leaseRequests()
      const reg = await ns.workload({ maxRetries: 0, fetch: requests.fetch }).register(web('web-1', '10.61.0.1'), { leaseDurationSeconds: 2, onLost: (e) => lost.push(e) })
      const aborted = new Promise<number>((resolve) => reg.signal.addEventListener('abort', () => resolve(Date.now())))
      await sleep(1000)
      await own.stop('SIGKILL')
      const stoppedAt = Date.now()
      const lastRenewal = Date.parse(reg.lease.spec.renewTime!)
      const abortedAt = await aborted
      console.log(`registry gone: lease lost ${abortedAt - lastRenewal} ms after the last renewal (deadline 1333 ms), ${abortedAt - stoppedAt} ms after the registry died`)
      expect(abortedAt - lastRenewal).toBeGreaterThanOrEqual(1333 - 50)
      expect(abortedAt - stoppedAt).toBeLessThan(1333 + 1500)
      const reason = reg.signal.reason
      expect(reason).toBeInstanceOf(LeaseLostError)
      expect(reason.lease).toBe('reg-lost/web-1')
      expect(reason.cause).toBeInstanceOf(ConnectionError)
      expect(lost).toEqual([reason])
      const tries = requests.renewals.length
      await sleep(1000)
      expect(lost).toHaveLength(1)
      expect(requests.renewals).toHaveLength(tries)
      // Closing still tries to leave, and says why it could not.
      await expect(reg.close()).rejects.toBeInstanceOf(ConnectionError)
    } finally {
      await own.stop('SIGKILL')
    }
  }, 60_000)
})
