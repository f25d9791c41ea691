/**
 * What happens to pods when their lease lapses, and when it comes back. Answers already
 * judge leases when they are made (lease-expiry.ts); this records the transitions in the
 * pods themselves, so that the API, watches and the stored endpoints say it too:
 *
 * - the sweep marks a Ready pod whose lease no longer holds Ready=False with reason
 *   LeaseExpired (its endpoints become not ready in the same write), and deletes the pods
 *   of a lease lapsed for `deleteAfterDurations` of its durations;
 * - a lease write that leaves the lease held restores its marked pods to Ready=True at
 *   once, in the same request.
 *
 * Only pods that were Ready are marked, so a restore knows the pod's readiness: it was
 * True. Every pod write here is guarded by the lease's resourceVersion as it was judged,
 * so a renewal racing the sweep wins. The sweep runs every second on Node and on the cron
 * trigger and after requests on Workers.
 */
import type { BoundPodRow, Store } from '../db/store'
import { PreconditionFailed } from '../db/errors'
import { copyJson } from '../json'
import type { GenericStore } from './generic-store'
import type { LeaseBook } from './lease-book'
import { judgedAlike } from './event-before'
import { LEASE_EXPIRED, deleteAt, leaseHolds, type LeaseState } from './lease-expiry'
import { timestamp, type Clock } from './meta'
import { isReady } from './pod'
import { podWrite } from './strategies/pod'
import type { LeaseObject, PodCondition, PodObject } from './types'
import { leaseExpiresMs, renewMs } from './lease'

/** Pods naming a lease that does not exist are looked for at most this often (it reads every bound pod). */
const MISSING_SCAN_INTERVAL_MS = 30_000

export interface SweepResult {
  marked: number
  deleted: number
}

export class LeaseLifecycle {
  private lastMissingScan = Number.NEGATIVE_INFINITY
  private lastSweep = Number.NEGATIVE_INFINITY
  private sweeping: Promise<SweepResult> | undefined

  constructor(
    private readonly store: Store,
    private readonly pods: GenericStore<PodObject>,
    private readonly book: LeaseBook,
    private readonly clock: Clock,
    private readonly deleteAfterDurations: number,
  ) {}

  /** Beats, then marks and deletes the pods of lapsed leases (one sweep at a time per process). */
  sweep(): Promise<SweepResult> {
    // Asked while the last sweep still runs (its heartbeat waiting for the database): the process is running all the same.
    this.book.running()
    this.sweeping ??= this.run().finally(() => (this.sweeping = undefined))
    return this.sweeping
  }

  /**
   * After a write of `lease`: when it holds, its pods marked for a lapse read Ready again.
   * Best effort: the lease write has committed, so a failure here is logged and the next
   * write of the lease (or the next renewal) tries again. Returns how many were restored.
   */
  async restore(lease: LeaseObject): Promise<number> {
    try {
      return await this.restoreNow(lease)
    } catch (e) {
      console.error(`switchboard: restoring the pods of lease ${lease.metadata.namespace}/${lease.metadata.name} failed:`, e)
      return 0
    }
  }

  /**
   * Sweeps unless this process swept less than `intervalMs` ago (Workers: after requests);
   * undefined when it does not, so that a request has nothing to wait for.
   */
  sweepSoon(intervalMs: number): Promise<SweepResult> | undefined {
    const now = this.clock.now().getTime()
    if (now - this.lastSweep < intervalMs) return undefined
    this.lastSweep = now
    return this.sweep()
  }

  private async restoreNow(lease: LeaseObject): Promise<number> {
    const namespace = lease.metadata.namespace!
    const state: LeaseState = {
      holder: lease.spec.holderIdentity ?? null,
      durationSeconds: lease.spec.leaseDurationSeconds ?? null,
      renewMs: renewMs(lease.spec),
      expiresMs: leaseExpiresMs(lease.spec),
    }
    if (!leaseHolds(state, this.book.presence, this.clock.now().getTime())) return 0
    let restored = 0
    for (const { name } of await this.store.lapsedPodsOf(namespace, lease.metadata.name)) {
      const written = await this.rewrite(namespace, name, { name: lease.metadata.name, rv: Number(lease.metadata.resourceVersion) }, (pod) => {
        const ready = pod.status.conditions?.find((c) => c.type === 'Ready')
        if (ready?.status !== 'False' || ready.reason !== LEASE_EXPIRED) return null
        return withReady(pod, { type: 'Ready', status: 'True', lastTransitionTime: timestamp(this.clock.now()) })
      })
      if (written) restored++
    }
    return restored
  }

  private async run(): Promise<SweepResult> {
    const presence = await this.book.beat()
    const now = this.clock.now().getTime()
    const rows = await this.store.podsOfLapsedLeases(now)
    if (now - this.lastMissingScan >= MISSING_SCAN_INTERVAL_MS) {
      rows.push(...(await this.store.podsOfMissingLeases()))
      this.lastMissingScan = now
    }
    const result: SweepResult = { marked: 0, deleted: 0 }
    for (const row of rows) {
      const state = stateOf(row)
      if (leaseHolds(state, presence, now)) continue
      const lease = { name: row.lease, rv: row.leaseRv }
      const due = deleteAt(state, presence, this.deleteAfterDurations)
      if (due !== null && now >= due) {
        if (await this.guarded(() => this.store.deletePod(row.namespace, row.name, { rv: row.rv }, lease))) result.deleted++
        continue
      }
      // Marked already, or not Ready (nothing to mark: only Ready pods are marked, see the top).
      if (row.leaseLapsed || !row.ready) continue
      const message = row.leaseRv === null ? `lease "${row.lease}" does not exist` : `lease "${row.lease}" was not renewed in time`
      const marked = await this.rewrite(row.namespace, row.name, lease, (pod) =>
        isReady(pod) ? withReady(pod, { type: 'Ready', status: 'False', reason: LEASE_EXPIRED, message, lastTransitionTime: timestamp(this.clock.now()) }) : null,
      )
      if (marked) result.marked++
    }
    return result
  }

  /** Rewrites a pod's status as `change` says (null: leave it), while the lease is as judged. */
  private async rewrite(namespace: string, name: string, lease: { name: string; rv: number | null }, change: (pod: PodObject) => PodObject | null): Promise<boolean> {
    let pod: PodObject
    try {
      pod = await this.pods.get(namespace, name)
    } catch {
      return false // gone meanwhile
    }
    const next = change(copyJson(pod))
    if (!next) return false
    return this.guarded(() =>
      this.store.putPod(podWrite(next), { rv: Number(pod.metadata.resourceVersion) }, podWrite(pod), { lease, recordBefore: !judgedAlike(this.pods.kind, pod, next) }),
    )
  }

  /** Runs a guarded write; a failed guard (the pod or the lease changed meanwhile) is not an error here. */
  private async guarded(write: () => Promise<number>): Promise<boolean> {
    try {
      await write()
      return true
    } catch (e) {
      if (e instanceof PreconditionFailed) return false
      throw e
    }
  }
}

function stateOf(row: BoundPodRow): LeaseState | null {
  return row.leaseRv === null ? null : { holder: row.holder, durationSeconds: row.durationSeconds, renewMs: row.renewMs, expiresMs: row.expiresMs }
}

/** The pod with its Ready condition replaced. */
function withReady(pod: PodObject, ready: PodCondition): PodObject {
  const others = (pod.status.conditions ?? []).filter((c) => c.type !== 'Ready')
  pod.status.conditions = [...others, ready]
  return pod
}
