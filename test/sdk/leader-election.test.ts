/**
 * Leader election over a Lease, against a real server process: contenders in this
 * process and in a child process that is killed. Leases of 2 s, a renew deadline of
 * 1.5 s and a retry period of 0.5 s; who leads is recorded as intervals (from
 * onStartedLeading to onStoppedLeading), which must never overlap.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { ForbiddenError, LeaseLostError, Switchboard, type LeaderElector } from '../../sdk/src/index'
import { E2E_TOKEN } from '../support/auth'
import { startLeaseHolder } from '../support/lease-holder-process'
import { useServer } from '../support/server'
import { leaseRequests } from './lease-tools'

const server = useServer()
let sb: Switchboard

beforeAll(() => {
  sb = new Switchboard({ baseUrl: server.url, token: E2E_TOKEN })
})

const TIMING = { leaseDurationSeconds: 2, renewDeadlineSeconds: 1.5, retryPeriodSeconds: 0.5 }
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

interface Interval {
  who: string
  start: number
  end?: number
  signal: AbortSignal
}

/** Contenders for one lease, recording who led when. */
function election(lease: string, client = sb) {
  const intervals: Interval[] = []
  const newLeaders: Record<string, string[]> = {}
  const contender = (identity: string, options: { client?: Switchboard } = {}): LeaderElector & { runs: Promise<void> } => {
    newLeaders[identity] = []
    const elector = (options.client ?? client).leaderElection({
      lease,
      identity,
      ...TIMING,
      onStartedLeading: (signal) => intervals.push({ who: identity, start: performance.now(), signal }),
      onStoppedLeading: () => {
        const open = intervals.find((i) => i.who === identity && i.end === undefined)!
        open.end = performance.now()
      },
      onNewLeader: (id) => newLeaders[identity]!.push(id),
    })
    return Object.assign(elector, { runs: elector.run() })
  }
  /** Waits until `pred` holds; returns when (performance.now()). */
  const until = async (pred: () => boolean, timeoutMs: number, what: string): Promise<number> => {
    const deadline = performance.now() + timeoutMs
    while (!pred()) {
      if (performance.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`)
      await sleep(10)
    }
    return performance.now()
  }
  const overlaps = () => {
    const sorted = [...intervals].sort((a, b) => a.start - b.start)
    return sorted.slice(1).filter((next, i) => (sorted[i]!.end ?? Number.POSITIVE_INFINITY) > next.start)
  }
  return { contender, intervals, newLeaders, until, overlaps }
}

describe('sb.leaderElection()', () => {
  it('lets exactly one of two contenders lead; stop() releases, and the other leads within the retry period', async () => {
    const e = election('le-two')
    const a = e.contender('a')
    const b = e.contender('b')
    await e.until(() => a.isLeader() || b.isLeader(), 5000, 'a leader')
    const samplingEnds = performance.now() + 3000
    while (performance.now() < samplingEnds) {
      expect([a, b].filter((c) => c.isLeader())).toHaveLength(1)
      await sleep(25)
    }
    const [leader, other] = a.isLeader() ? [a, b] : [b, a]
    const leaderId = leader === a ? 'a' : 'b'
    const otherId = leader === a ? 'b' : 'a'
    const held = await sb.leases.get('le-two')
    expect(held.spec).toMatchObject({ holderIdentity: leaderId, leaseDurationSeconds: 2, leaseTransitions: 0 })
    expect(held.spec.acquireTime).toBeDefined()
    expect(e.newLeaders).toEqual({ a: [leaderId], b: [leaderId] })

    await leader.stop()
    const stoppedAt = performance.now()
    await leader.runs
    expect(leader.isLeader()).toBe(false)
    expect(e.intervals[0]!.signal.aborted).toBe(true)
    expect((await sb.leases.get('le-two')).spec.holderIdentity).not.toBe(leaderId)
    const tookOver = await e.until(() => other.isLeader(), 3000, 'the other contender leading')
    console.log(`released: ${otherId} led ${(tookOver - stoppedAt).toFixed(0)} ms after the leader stopped (retry period 500 ms)`)
    expect(tookOver - stoppedAt).toBeLessThan(500 + 300)
    const taken = await sb.leases.get('le-two')
    expect(taken.spec).toMatchObject({ holderIdentity: otherId, leaseTransitions: 1 })
    expect(taken.spec.acquireTime).not.toBe(held.spec.acquireTime)
    expect(e.newLeaders[otherId]).toEqual([leaderId, otherId])

    await other.stop()
    await other.runs
    expect((await sb.leases.get('le-two')).spec.holderIdentity).toBe('')
    expect(e.intervals.map((i) => i.who)).toEqual([leaderId, otherId])
    expect(e.overlaps()).toEqual([])
  }, 30_000)

  it('takes over from a leader killed without releasing within leaseDuration + retryPeriod', async () => {
    const e = election('le-kill')
    const child = startLeaseHolder('lead', server.url, {
      LEASE: 'le-kill',
      IDENTITY: 'child',
      LEASE_SECONDS: '2',
      RENEW_DEADLINE_SECONDS: '1.5',
      RETRY_PERIOD_SECONDS: '0.5',
    })
    try {
      await child.waitFor('leading child')
      const b = e.contender('b')
      // The child renews: b does not lead, however long it waits.
      await sleep(2500)
      expect(b.isLeader()).toBe(false)
      expect(e.newLeaders.b).toEqual(['child'])
      await child.kill()
      const killedAt = performance.now()
      const tookOver = await e.until(() => b.isLeader(), 6000, 'b leading')
      console.log(`killed: b led ${(tookOver - killedAt).toFixed(0)} ms after the leader was SIGKILLed (lease 2 s + retry 0.5 s)`)
      // Not before the lease could have lapsed (the last renewal was at most one retry period before the kill) ...
      expect(tookOver - killedAt).toBeGreaterThan(2000 - 500 - 100)
      // ... and within a lease duration and a retry period (and the requests' time).
      expect(tookOver - killedAt).toBeLessThan(2000 + 500 + 300)
      expect((await sb.leases.get('le-kill')).spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 })
      await b.stop()
    } finally {
      await child.kill()
    }
  }, 30_000)

  it('judges expiry by its own observation of changes, not by the holder clock in renewTime', async () => {
    const e = election('le-skew')
    const hourAgo = Date.now() - 3600_000
    // A holder whose clock is an hour slow keeps renewing: renewTime is always in the past.
    await sb.leases.create({ metadata: { name: 'le-skew' }, spec: { holderIdentity: 'slow-clock', leaseDurationSeconds: 2, renewTime: new Date(hourAgo).toISOString(), leaseTransitions: 0 } })
    const b = e.contender('b')
    const renewingUntil = performance.now() + 3000
    for (let i = 1; performance.now() < renewingUntil; i++) {
      await sb.leases.patch('le-skew', { spec: { renewTime: new Date(hourAgo + i * 400).toISOString() } })
      expect(b.isLeader()).toBe(false)
      await sleep(400)
    }
    expect(b.isLeader()).toBe(false)
    // It stops renewing: b takes over once it has seen no change for a lease duration.
    const stoppedAt = performance.now()
    const tookOver = await e.until(() => b.isLeader(), 6000, 'b leading')
    expect(tookOver - stoppedAt).toBeGreaterThan(2000 - 500)
    expect(tookOver - stoppedAt).toBeLessThan(2000 + 500 + 400 + 300)
    await b.stop()

    // A holder whose clock is an hour fast, gone: renewTime is in the future, yet the lease is taken after a duration.
    await sb.leases.replace('le-skew', { metadata: { name: 'le-skew' }, spec: { holderIdentity: 'fast-clock', leaseDurationSeconds: 2, renewTime: new Date(Date.now() + 3600_000).toISOString() } })
    const c = e.contender('c')
    const startedAt = performance.now()
    const cLeads = await e.until(() => c.isLeader(), 6000, 'c leading')
    expect(cLeads - startedAt).toBeGreaterThan(2000 - 100)
    expect(cLeads - startedAt).toBeLessThan(2000 + 500 + 300)
    await c.stop()
    expect(e.overlaps()).toEqual([])
  }, 30_000)

  it('steps down when it cannot renew within the renew deadline, before another contender can take over', async () => {
    const e = election('le-cut')
    const requests = leaseRequests(['GET', 'PUT'])
    const cutOff = new Switchboard({ baseUrl: server.url, token: E2E_TOKEN, fetch: requests.fetch })
    const a = e.contender('a', { client: cutOff })
    await e.until(() => a.isLeader(), 5000, 'a leading')
    const b = e.contender('b')
    await sleep(1000)
    expect(b.isLeader()).toBe(false)
    await requests.renewed()
    const lastRenewal = requests.renewals.filter((r) => r.ok).at(-1)!.at
    requests.blackhole()
    await a.runs
    const steppedDown = e.intervals[0]!.end!
    expect(e.intervals[0]!.signal.reason).toBeInstanceOf(LeaseLostError)
    // The last renewal it sent may have been a GET: its PUT followed within the same try.
    expect(steppedDown - lastRenewal).toBeGreaterThanOrEqual(1500 - 50 - 500)
    expect(steppedDown - lastRenewal).toBeLessThan(1500 + 300)
    const bLeads = await e.until(() => b.isLeader(), 5000, 'b leading')
    expect(bLeads).toBeGreaterThan(steppedDown)
    expect(e.overlaps()).toEqual([])
    await b.stop()
    requests.restore()
  }, 30_000)

  it('run() rejects when the token may not write leases, instead of retrying for ever', async () => {
    const token = await sb.tokens.create({ metadata: { name: 'le-reader' }, spec: { role: 'read', namespaces: ['default'] } })
    const reader = new Switchboard({ baseUrl: server.url, token: token.status!.secret! })
    const started: string[] = []
    const elector = reader.leaderElection({ lease: 'le-denied', identity: 'r', ...TIMING, onStartedLeading: () => started.push('r'), onStoppedLeading: () => {} })
    await expect(elector.run()).rejects.toBeInstanceOf(ForbiddenError)
    expect(started).toEqual([])
    expect(elector.isLeader()).toBe(false)
  })

  it('refuses timings that cannot keep one leader', () => {
    const base = { lease: 'x', identity: 'a', onStartedLeading: () => {}, onStoppedLeading: () => {} }
    expect(() => sb.leaderElection({ ...base, leaseDurationSeconds: 10, renewDeadlineSeconds: 10 })).toThrow(/renewDeadlineSeconds/)
    expect(() => sb.leaderElection({ ...base, renewDeadlineSeconds: 2, retryPeriodSeconds: 2 })).toThrow(/retryPeriodSeconds/)
    expect(() => sb.leaderElection({ ...base, identity: '' })).toThrow(/identity/)
    expect(() => sb.leaderElection({ ...base, leaseDurationSeconds: 1.5, renewDeadlineSeconds: 1, retryPeriodSeconds: 0.5 })).toThrow(/leaseDurationSeconds/)
  })
})
