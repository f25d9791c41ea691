/**
 * Leader election over a Lease, as client-go's `leaderelection` does it. Contenders try to
 * acquire or renew one lease every retry period:
 *
 * - no lease: create it, held by us (acquireTime = renewTime = now, leaseTransitions 0);
 * - held by someone else and not expired: not leader. Expiry is judged by our own
 *   observation, not by the server's renewTime: we note, on our monotonic clock, when we
 *   last saw the record change, and it expires leaseDurationSeconds after that, so the
 *   holder's clock skew does not matter;
 * - otherwise replace it with the resourceVersion we read, held by us (a new holder gets
 *   acquireTime = now and leaseTransitions + 1); a 409 means someone else won.
 *
 * The read-decide-write step is lease-hold.ts's, which registrations use too.
 *
 * The leader renews every retry period; when it could not renew for renewDeadline (which
 * is shorter than the lease duration, so no contender can take over before it steps
 * down) it stops leading. `stop()` releases a lease we hold (holderIdentity '', renewTime
 * now), so another contender takes over at its next try.
 */
import { APIError, LeaseLostError, TimeoutError } from './errors.js'
import { tryHoldLease } from './lease-hold.js'
import { GiveUp, Heartbeat } from './heartbeat.js'
import type { CallOptions, Resource } from './resources.js'
import { monotonic, notify, pause, withDeadline } from './background.js'
import type { Lease, LeaseInput } from './types.js'

export interface LeaderElectionOptions {
  /** The lease's namespace; default the client's. */
  namespace?: string
  /** The lease's name. */
  lease: string
  /** This contender's identity, unique among contenders. */
  identity: string
  /** How long a leader holds the lease without renewing it (whole seconds); default 15. */
  leaseDurationSeconds?: number
  /** How long the leader keeps trying to renew before it steps down; default 10. */
  renewDeadlineSeconds?: number
  /** How often contenders try to acquire, and the leader renews; default 2. */
  retryPeriodSeconds?: number
  /** We became leader; `signal` aborts when we stop leading. */
  onStartedLeading: (signal: AbortSignal) => unknown
  /** We stopped leading (only ever after onStartedLeading). */
  onStoppedLeading: () => unknown
  /** Someone (we included) holds the lease now that another did before. */
  onNewLeader?: (identity: string) => unknown
}

export interface LeaderElector {
  /**
   * Contends, then leads until leadership is lost or `stop()` is called, and resolves then.
   * As client-go's Run, it does not contend again: start a new elector (or exit). It
   * rejects on an error retrying cannot mend (401, 403, 400/422: a bad lease name).
   */
  run(): Promise<void>
  /** Stops contending or leading, releasing the lease if we hold it; resolves when done. */
  stop(): Promise<void>
  isLeader(): boolean
}

/** Answers that trying again will not change. */
const PERMANENT = [400, 401, 403, 422]

interface Observation {
  /** The record's fields, to tell whether it changed. */
  key: string
  holder: string
  durationMs: number
  /** When we first saw this record (monotonic ms). */
  at: number
}

export class LeaderElection implements LeaderElector {
  private readonly durationSeconds: number
  private readonly deadlineMs: number
  private readonly retryMs: number
  private readonly call: CallOptions
  private readonly stopping = new AbortController()
  private running: Promise<void> | undefined
  private heartbeat: Heartbeat | undefined
  private leading = false
  private record: Lease | undefined
  private observed: Observation | undefined
  private reportedLeader = ''

  /** Use `sb.leaderElection()`. */
  constructor(
    private readonly leases: Resource<Lease, LeaseInput>,
    private readonly options: LeaderElectionOptions,
  ) {
    this.durationSeconds = options.leaseDurationSeconds ?? 15
    const deadlineSeconds = options.renewDeadlineSeconds ?? 10
    const retrySeconds = options.retryPeriodSeconds ?? 2
    if (!options.lease) throw new RangeError('lease must name the lease to elect over')
    if (!options.identity) throw new RangeError('identity must not be empty')
    if (!Number.isInteger(this.durationSeconds) || this.durationSeconds < 1) throw new RangeError('leaseDurationSeconds must be a whole number of seconds, at least 1')
    if (!(deadlineSeconds < this.durationSeconds)) throw new RangeError('renewDeadlineSeconds must be less than leaseDurationSeconds')
    if (!(retrySeconds > 0 && retrySeconds < deadlineSeconds)) throw new RangeError('retryPeriodSeconds must be more than 0 and less than renewDeadlineSeconds')
    this.deadlineMs = deadlineSeconds * 1000
    this.retryMs = retrySeconds * 1000
    this.call = options.namespace ? { namespace: options.namespace } : {}
  }

  isLeader(): boolean {
    return this.leading
  }

  run(): Promise<void> {
    this.running ??= this.contendThenLead()
    return this.running
  }

  async stop(): Promise<void> {
    this.stopping.abort()
    await this.heartbeat?.stop()
    await this.running
  }

  private async contendThenLead(): Promise<void> {
    const stop = this.stopping.signal
    let acquiredAt: number
    for (;;) {
      if (stop.aborted) return
      const started = monotonic()
      const acquired = await withDeadline(this.deadlineMs, () => new TimeoutError(`no answer within ${this.deadlineMs} ms`), (signal) =>
        this.tryAcquireOrRenew(signal),
      ).catch((e) => {
        if (e instanceof APIError && PERMANENT.includes(e.status)) throw e
        return false
      })
      if (stop.aborted) {
        if (acquired) await this.release()
        return
      }
      if (acquired) {
        acquiredAt = started
        break
      }
      await pause(this.nextTry(), stop)
    }
    const leadership = new AbortController()
    this.leading = true
    notify(this.options.onStartedLeading, leadership.signal)
    this.heartbeat = new Heartbeat({
      intervalMs: () => this.retryMs * (0.9 + 0.1 * Math.random()),
      deadlineMs: this.deadlineMs,
      retryMs: () => this.retryMs,
      beat: (signal) => this.renew(signal),
    })
    const end = await this.heartbeat.run(acquiredAt)
    this.leading = false
    const lease = `${this.record?.metadata.namespace}/${this.options.lease}`
    leadership.abort(end.lost ? new LeaseLostError(`lost the lease ${lease}: ${(end.cause as Error)?.message}`, lease, { cause: end.cause }) : undefined)
    notify(this.options.onStoppedLeading)
    if (!end.lost) await this.release()
  }

  private async renew(signal: AbortSignal): Promise<void> {
    if (await this.tryAcquireOrRenew(signal)) return
    const holder = this.observed?.holder
    if (holder && holder !== this.options.identity) throw new GiveUp(`the lease is held by ${holder}`)
    throw new Error('the lease was not renewed')
  }

  /** One try: true when we hold the lease now. */
  private async tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    const { lease: name, identity } = this.options
    const claim = { name, holder: identity, durationSeconds: this.durationSeconds }
    const result = await tryHoldLease(this.leases, claim, { ...this.call, signal }, (current) => {
      this.observe(current)
      const o = this.observed!
      return !o.holder || o.holder === identity || monotonic() >= o.at + o.durationMs
    })
    if (result.outcome === 'held') this.observe(result.lease)
    return result.outcome === 'held'
  }

  /** Notes the record as read or written: when it changed, and who holds it. */
  private observe(lease: Lease): void {
    this.record = lease
    const s = lease.spec
    const key = JSON.stringify([s.holderIdentity, s.leaseDurationSeconds, s.acquireTime, s.renewTime, s.leaseTransitions])
    if (key !== this.observed?.key) {
      const durationMs = (s.leaseDurationSeconds ?? this.durationSeconds) * 1000
      this.observed = { key, holder: s.holderIdentity ?? '', durationMs, at: monotonic() }
    }
    const holder = this.observed.holder
    if (holder && holder !== this.reportedLeader) {
      this.reportedLeader = holder
      notify(this.options.onNewLeader, holder)
    }
  }

  /** The wait before the next try: the retry period (less up to 10%), or less when the holder's lease expires sooner. */
  private nextTry(): number {
    const wait = this.retryMs * (0.9 + 0.1 * Math.random())
    const o = this.observed
    if (!o?.holder) return wait
    return Math.max(0, Math.min(wait, o.at + o.durationMs - monotonic() + 1))
  }

  /** Gives the lease up if we hold it, so another contender need not wait for it to expire. */
  private async release(): Promise<void> {
    const record = this.record
    if (!record || record.spec.holderIdentity !== this.options.identity) return
    const now = new Date().toISOString()
    const metadata = { name: this.options.lease, resourceVersion: record.metadata.resourceVersion }
    const spec = { ...record.spec, holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now }
    try {
      this.observe(await this.leases.replace(this.options.lease, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata, spec }, this.call))
    } catch {
      // Someone else wrote it since (409), it is gone, or the registry is unreachable: it lapses on its own.
    }
  }
}
