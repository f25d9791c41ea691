/**
 * Whether a pod's lease holds: the one rule, used by DNS, the pick, the endpoint views
 * and the sweep. Expiry is judged when answering, so no sweeper delay shows in an answer.
 *
 * A lease holds while somebody holds it (`holderIdentity` set) and renewTime +
 * leaseDurationSeconds is in the future. A lease that does not exist never holds.
 *
 * The registry's own absence evicts nobody: when the registry was away (a Node process
 * stopped, a Workers deployment that ran neither a request nor its cron trigger), leases
 * whose expiry fell after it went away get one full duration from its return before they
 * count as lapsed (`Presence`). Leases that lapsed before it went away stay lapsed, and
 * a lease not renewed within that one duration lapses as usual: the grace hides the
 * registry's outage, not a workload's.
 */
import type { EndpointRow } from '../db/endpoint-reads'
import type { LeaseRow } from '../db/store'

/** The Ready condition's reason on a pod whose lease lapsed. */
export const LEASE_EXPIRED = 'LeaseExpired'

/** Pods of a lapsed lease are deleted this many lease durations after it lapsed, by default. */
export const DEFAULT_LEASE_DELETE_AFTER_DURATIONS = 3

/** The registry's latest absence, in ms since the epoch: last seen alive at `absentFrom`, back at `resumedAt`. */
export interface Presence {
  absentFrom: number
  resumedAt: number
}

/** A registry that was never away. */
export const ALWAYS_PRESENT: Presence = { absentFrom: Number.POSITIVE_INFINITY, resumedAt: 0 }

export type LeaseState = Pick<LeaseRow, 'holder' | 'durationSeconds' | 'renewMs' | 'expiresMs'>

/**
 * When the lease lapses (ms since the epoch), the absence grace applied: -Infinity for a
 * lease that does not exist or that nobody holds.
 */
export function lapsesAt(lease: LeaseState | null | undefined, presence: Presence): number {
  if (!lease || !lease.holder || lease.expiresMs === null || !lease.durationSeconds) return Number.NEGATIVE_INFINITY
  if (lease.expiresMs <= presence.absentFrom) return lease.expiresMs
  return Math.max(lease.expiresMs, presence.resumedAt + lease.durationSeconds * 1000)
}

/** Whether the lease holds at `nowMs`. */
export function leaseHolds(lease: LeaseState | null | undefined, presence: Presence, nowMs: number): boolean {
  return nowMs < lapsesAt(lease, presence)
}

/**
 * When the pods of a lapsed lease are deleted: `factor` durations after it lapsed, counted
 * from its last renewal's expiry (absence grace applied). Null (never) for a lease that
 * does not exist or that has no renewal or duration: its pods stay, marked not ready.
 */
export function deleteAt(lease: LeaseState | null | undefined, presence: Presence, factor: number): number | null {
  if (!lease || lease.renewMs === null || !lease.durationSeconds) return null
  const duration = lease.durationSeconds * 1000
  const lapsed = lapsesAt({ ...lease, holder: lease.holder || '-', expiresMs: lease.renewMs + duration }, presence)
  return lapsed + factor * duration
}

/** The state of an endpoint row's lease as read with it (null: the lease does not exist). */
export function rowLease(row: Pick<EndpointRow, 'lease_exists' | 'lease_holder' | 'lease_duration_seconds' | 'lease_renew_ms' | 'lease_expires_ms'>): LeaseState | null {
  if (!row.lease_exists) return null
  return { holder: row.lease_holder, durationSeconds: row.lease_duration_seconds, renewMs: row.lease_renew_ms, expiresMs: row.lease_expires_ms }
}
