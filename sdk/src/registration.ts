/**
 * A registration kept alive by a lease: `sb.register()` writes the lease (held by this
 * process) and then the pod, annotated with the lease's name, and renews the lease in the
 * background. While renewals succeed the pod is what its status says; if this process
 * dies, the lease lapses and the registry drops the pod from DNS and the pick at once.
 *
 * Taking the lease is a compare-and-swap (lease-hold.ts): of two processes registering
 * one name at once, one holds it and the other gets a `NameTakenError`. Renewals run every
 * third of the lease's duration (±10%) as a merge PATCH of `spec.renewTime` conditional on
 * the resourceVersion last written; after a failure they are retried sooner; when none has
 * succeeded for the renew deadline the registration gives up: `signal` aborts with a
 * `LeaseLostError` and `onLost` runs. A renewal that finds the lease held by another holder
 * (taken over) stops at once with a `TakenOverError`, and the registration no longer
 * writes the pod. `close()` (or `await using`) drains, deletes the pod and the lease, while
 * this registration still holds them.
 */
import { asyncDispose } from './dispose.js'
import { AlreadyExistsError, ConflictError, LeaseLostError, NameTakenError, NotFoundError, TakenOverError } from './errors.js'
import { GiveUp, Heartbeat } from './heartbeat.js'
import { heldElsewhereUntil, holdLease } from './lease-hold.js'
import { LEASE_ANNOTATION, ownedFields, podBody, type PodRegistration, type PodResource } from './pods.js'
import type { CallOptions, Resource } from './resources.js'
import { jittered, monotonic, notify } from './background.js'
import type { Lease, LeaseInput, Pod } from './types.js'

export interface RegisterOptions {
  /**
   * The lease that keeps the pod alive; default: the pod's own, named as the pod. Many pods
   * may share one lease: `close()` deletes a shared lease only when no other pod names it.
   */
  lease?: string
  /** Who holds the lease; default `<pod name>-<random>`. */
  holderIdentity?: string
  /** Whole seconds, at least 1; default 10. */
  leaseDurationSeconds?: number
  /** Give up when no renewal succeeded for this long; default two thirds of the duration. */
  renewDeadlineSeconds?: number
  /** Called once when the lease is lost (after `signal` aborts). */
  onLost?: (error: LeaseLostError) => void
  /** Cancels the registration's first writes. */
  signal?: AbortSignal
  /**
   * Take the name over even when another live registration holds it (its lease renewed
   * within its duration by another holder). Default false: a `NameTakenError`.
   */
  takeOver?: boolean
}

export interface CloseOptions {
  /** How long to stay registered with weight 0 (drained) before leaving; default 0. */
  drainSeconds?: number
}

/** The clients a registration writes through (`renewals` does not retry: the renewal loop does). */
export interface RegistrationClients {
  pods: PodResource
  leases: Resource<Lease, LeaseInput>
  renewals: Resource<Lease, LeaseInput>
}

const DEFAULT_DURATION_SECONDS = 10

/** Writes the lease and the pod, and starts renewing. */
export async function register(clients: RegistrationClients, r: PodRegistration, options: RegisterOptions = {}): Promise<Registration> {
  const durationSeconds = options.leaseDurationSeconds ?? DEFAULT_DURATION_SECONDS
  if (!Number.isInteger(durationSeconds) || durationSeconds < 1) {
    throw new RangeError(`leaseDurationSeconds must be a whole number of seconds, at least 1 (got ${durationSeconds})`)
  }
  const deadlineSeconds = options.renewDeadlineSeconds ?? (durationSeconds * 2) / 3
  if (!(deadlineSeconds > 0 && deadlineSeconds <= durationSeconds)) {
    throw new RangeError(`renewDeadlineSeconds must be more than 0 and at most leaseDurationSeconds (got ${deadlineSeconds})`)
  }
  const lease = {
    name: options.lease ?? r.name,
    shared: options.lease !== undefined && options.lease !== r.name,
    namespace: r.namespace,
    holder: options.holderIdentity ?? `${r.name}-${randomSuffix()}`,
    durationSeconds,
  }
  const call: CallOptions = { ...(r.namespace ? { namespace: r.namespace } : {}), ...(options.signal ? { signal: options.signal } : {}) }
  const existing = await clients.pods.get(r.name, call).catch((e: unknown) => {
    if (e instanceof NotFoundError) return null
    throw e
  })
  if (existing && !options.takeOver) await refuseLiveOwner(clients.leases, existing, lease, call)
  const renewed = monotonic()
  // Pods that share a lease take turns holding it: sharing it is not a takeover.
  const mayTake = options.takeOver || lease.shared ? () => true : (current: Lease) => !heldElsewhereUntil(current, lease.holder)
  const held = await holdLease(clients.leases, lease, call, mayTake)
  if (held.outcome === 'refused') throw nameTaken(r.name, held.lease, lease.holder)
  let pod: Pod
  try {
    pod = await writePod(clients.pods, r, lease.name, existing, call)
  } catch (e) {
    // Leave no lease behind that this call made and nothing uses.
    if (held.created) await clients.leases.delete(lease.name, { ...call, resourceVersion: held.lease.metadata.resourceVersion! }).catch(() => {})
    throw e
  }
  return new Registration(clients, { ...lease, deadlineSeconds, onLost: options.onLost, renewed }, pod, held.lease)
}

/**
 * A new pod is created whole; an existing one gets only what a registration owns (labels,
 * addresses, ports, node, its lease): its readiness and weight stay as they are, so a
 * registration does not undo a drain or a readiness someone else set.
 */
async function writePod(pods: PodResource, r: PodRegistration, lease: string, existing: Pod | null, call: CallOptions): Promise<Pod> {
  if (!existing) {
    try {
      return await pods.create(podBody(r, lease), call)
    } catch (e) {
      if (!(e instanceof AlreadyExistsError)) throw e // created meanwhile: update it as ours
    }
  }
  return pods.patch(r.name, ownedFields(r, lease), call)
}

/** Throws a `NameTakenError` when the pod names a lease that another holder keeps alive. */
async function refuseLiveOwner(
  leases: Resource<Lease, LeaseInput>,
  pod: Pod,
  ours: { name: string; shared: boolean; holder: string },
  call: CallOptions,
): Promise<void> {
  const name = pod.metadata.annotations?.[LEASE_ANNOTATION]
  // Our own lease is judged when it is taken (compare-and-swap); here only another one the pod names.
  if (!name || name === ours.name) return
  const lease = await leases.get(name, call).catch((e: unknown) => {
    if (e instanceof NotFoundError) return null
    throw e
  })
  if (lease && heldElsewhereUntil(lease, ours.holder)) throw nameTaken(pod.metadata.name, lease, ours.holder)
}

function nameTaken(pod: string, lease: Lease, ours: string): NameTakenError {
  const where = `${lease.metadata.namespace}/${lease.metadata.name}`
  const holder = lease.spec.holderIdentity ?? ''
  const until = new Date(heldElsewhereUntil(lease, ours)).toISOString()
  return new NameTakenError(
    `pod ${lease.metadata.namespace}/${pod} is held by another live registration: lease ${where} is held by "${holder}" ` +
      `until ${until} unless renewed; register under another name, wait for it to lapse, or pass takeOver: true`,
    where,
    holder,
  )
}

export interface RegistrationState {
  name: string
  /** Named by the caller, so other pods may name it too. */
  shared: boolean
  namespace: string | undefined
  holder: string
  durationSeconds: number
  deadlineSeconds: number
  onLost: ((error: LeaseLostError) => void) | undefined
  /** When the lease write that took hold of it was sent (monotonic ms). */
  renewed: number
}

export class Registration {
  /** The pod, as last written by this registration. */
  pod: Pod
  /** The lease, as last written by this registration. */
  lease: Lease
  /** Aborts, with a `LeaseLostError`, when the lease could not be kept. */
  readonly signal: AbortSignal
  private readonly lost = new AbortController()
  private readonly heartbeat: Heartbeat
  private closing: Promise<void> | undefined
  /** Set when a renewal found the lease held by another holder: nothing here is ours any more. */
  private takenOver: TakenOverError | undefined

  /** Use `sb.register()`. */
  constructor(
    private readonly clients: RegistrationClients,
    private readonly state: RegistrationState,
    pod: Pod,
    lease: Lease,
  ) {
    this.pod = pod
    this.lease = lease
    this.signal = this.lost.signal
    const intervalMs = (state.durationSeconds * 1000) / 3
    this.heartbeat = new Heartbeat({
      intervalMs: () => jittered(intervalMs, 0.1),
      deadlineMs: state.deadlineSeconds * 1000,
      retryMs: (failures) => (intervalMs / 8) * 2 ** (failures - 1),
      beat: (signal) => this.renew(signal),
      // Renewals go on beside what keeps the process running; they do not keep it alive themselves.
      background: true,
    })
    void this.heartbeat.run(state.renewed).then((end) => {
      if (end.lost) this.lose(end.cause)
    })
  }

  /** The pod's name. */
  get name(): string {
    return this.pod.metadata.name
  }

  /** Who holds the lease. */
  get holderIdentity(): string {
    return this.state.holder
  }

  /** Sets the pod's Ready condition. */
  async setReady(ready: boolean): Promise<Pod> {
    this.refuseIfTakenOver()
    this.pod = await this.clients.pods.setReady(this.name, ready, this.call())
    return this.pod
  }

  /** Sets the pod's weight to 0: registered, but never picked nor answered in DNS. */
  async drain(): Promise<Pod> {
    this.refuseIfTakenOver()
    this.pod = await this.clients.pods.drain(this.name, this.call())
    return this.pod
  }

  /**
   * Stops renewing, drains the pod, waits `drainSeconds`, then deletes the pod and the
   * lease (the pod's own lease while this registration still holds it; a shared lease when
   * no other pod names it). Idempotent: later calls return the first call's promise.
   * Objects already gone are not an error.
   */
  close(options: CloseOptions = {}): Promise<void> {
    this.closing ??= this.shutdown(options.drainSeconds ?? 0)
    return this.closing
  }

  [asyncDispose](): Promise<void> {
    return this.close()
  }

  private async shutdown(drainSeconds: number): Promise<void> {
    await this.heartbeat.stop()
    if (this.takenOver) return // the pod and the lease are another registration's now
    const errors: unknown[] = []
    const step = async (write: () => Promise<unknown>) => {
      try {
        await write()
      } catch (e) {
        if (!(e instanceof NotFoundError)) errors.push(e)
      }
    }
    const call = this.call()
    await step(() =>
      this.whileOurs(async (rv) => {
        this.pod = await this.clients.pods.drain(this.name, { ...call, resourceVersion: rv })
      }),
    )
    // Awaited by the caller: this wait keeps the process alive, unlike the renewals'.
    if (drainSeconds > 0) await new Promise((resolve) => setTimeout(resolve, drainSeconds * 1000))
    await step(() => this.whileOurs((rv) => this.clients.pods.delete(this.name, { ...call, resourceVersion: rv })))
    await step(() => this.releaseLease())
    if (errors.length) throw errors[0]
  }

  /**
   * Runs a write of the pod, conditional on the resourceVersion read, while the pod is
   * still this registration's: it names our lease, and (unless shared) we hold that lease.
   * The pod is read before the lease, so a takeover in between moves the pod's
   * resourceVersion and the write fails with 409; then both are read again.
   */
  private async whileOurs(write: (resourceVersion: string) => Promise<unknown>): Promise<void> {
    const { name, shared, holder } = this.state
    for (;;) {
      const pod = await this.clients.pods.get(this.name, this.call())
      if (pod.metadata.annotations?.[LEASE_ANNOTATION] !== name) return
      if (!shared) {
        const lease = await this.clients.leases.get(name, this.call()).catch((e: unknown) => {
          if (e instanceof NotFoundError) return null
          throw e
        })
        if (lease && lease.spec.holderIdentity !== holder) return
      }
      try {
        await write(pod.metadata.resourceVersion!)
        return
      } catch (e) {
        if (!(e instanceof ConflictError)) throw e
      }
    }
  }

  /** Deletes the lease unless something else still needs it. */
  private async releaseLease(): Promise<void> {
    const { name, shared, holder } = this.state
    const current = await this.clients.leases.get(name, this.call())
    if (shared) {
      // Holders of a shared lease take turns renewing it: what counts is who names it.
      const { items: pods } = await this.clients.pods.listAll(this.call())
      if (pods.some((p) => p.metadata.name !== this.name && p.metadata.annotations?.[LEASE_ANNOTATION] === name)) return
    } else if (current.spec.holderIdentity !== holder) {
      return // taken over since (the pod registered again elsewhere)
    }
    try {
      await this.clients.leases.delete(name, { ...this.call(), resourceVersion: current.metadata.resourceVersion! })
    } catch (e) {
      if (!(e instanceof ConflictError)) throw e // written since: whoever wrote it still uses it
    }
  }

  /**
   * One renewal. A lease of our own is renewed only while we hold it: the patch is
   * conditional on the resourceVersion we last wrote; when it moved (409) or the lease is
   * gone, it is read again and taken again only if no other holder has it (a deleted one is
   * written again, held by us). Holders of a shared lease take turns: theirs is renewed as is.
   */
  private async renew(signal: AbortSignal): Promise<void> {
    const call = { ...this.call(), signal }
    const { name, shared, holder } = this.state
    const renewTime = new Date().toISOString()
    if (shared) {
      try {
        this.lease = await this.clients.renewals.patch(name, { spec: { holderIdentity: holder, renewTime } }, call)
        return
      } catch (e) {
        if (!(e instanceof NotFoundError)) throw e
      }
    } else {
      try {
        const lease = await this.clients.renewals.patch(name, { metadata: { resourceVersion: this.lease.metadata.resourceVersion }, spec: { renewTime } }, call)
        if (lease.spec.holderIdentity !== holder) throw this.takeOver(lease)
        this.lease = lease
        return
      } catch (e) {
        if (!(e instanceof ConflictError || e instanceof NotFoundError)) throw e
      }
    }
    const held = await holdLease(this.clients.renewals, this.state, call, (current) => shared || current.spec.holderIdentity === holder)
    if (held.outcome === 'refused') throw this.takeOver(held.lease)
    this.lease = held.lease
  }

  private refuseIfTakenOver(): void {
    if (this.takenOver) throw this.takenOver
  }

  /** Notes that another holder has the lease now; the error ends the renewals at once. */
  private takeOver(lease: Lease): GiveUp {
    const where = `${lease.metadata.namespace}/${lease.metadata.name}`
    const other = lease.spec.holderIdentity ?? ''
    const error = new TakenOverError(`lease ${where} was taken over by "${other}": pod ${this.pod.metadata.namespace}/${this.name} is no longer this registration's`, where, other)
    this.takenOver = error
    return new GiveUp(error.message, { cause: error })
  }

  private lose(cause: unknown): void {
    if (cause instanceof TakenOverError) {
      this.lost.abort(cause)
      notify(this.state.onLost, cause)
      return
    }
    const { namespace, name, deadlineSeconds } = this.state
    const lease = `${namespace ?? this.pod.metadata.namespace}/${name}`
    const reason = cause instanceof Error ? `: ${cause.message}` : ''
    const error = new LeaseLostError(`lease ${lease} was not renewed within ${deadlineSeconds} s${reason}`, lease, { cause })
    this.lost.abort(error)
    notify(this.state.onLost, error)
  }

  private call(): CallOptions {
    return this.state.namespace ? { namespace: this.state.namespace } : {}
  }
}

function randomSuffix(): string {
  return Math.random().toString(36).slice(2, 10).padEnd(8, '0')
}
