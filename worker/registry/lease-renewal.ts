/**
 * The renewal, the write a lease holder makes every third of its duration: a merge patch
 * that sets `spec.renewTime` and nothing else (or also `spec.holderIdentity`, to the holder
 * it already has). It is the most frequent write of a registry
 * whose workloads hold leases, so it has a path of its own: one conditional write that sets
 * the time in place (no read first, no decode of the stored object), with its change-log
 * event and a new resourceVersion like any write, answering the lease as written. When the
 * write does not apply as such — the lease is missing, the time is the stored one, the
 * holder named is not the stored one, the last write was by another token — the general
 * path handles the patch and answers as it
 * always does (404, a no-op, the modified-by annotation).
 */
import type { Store } from '../db/store'
import { microTime } from './lease'
import { withRv } from './meta'
import type { PatchType } from './patch'
import type { LeaseObject } from './types'

/** The new renewTime (MicroTime), and the holder it names if any, of a patch that only renews; null for any other patch. */
export function renewalOf(type: PatchType, patch: unknown): { renewTime: string; holder?: string } | null {
  // A strategic merge patch of these two scalars means the same as a merge patch.
  if ((type !== 'merge' && type !== 'strategic') || !isObject(patch)) return null
  const keys = Object.keys(patch)
  if (keys.length !== 1 || keys[0] !== 'spec' || !isObject(patch.spec)) return null
  const { renewTime, holderIdentity, ...rest } = patch.spec
  if (Object.keys(rest).length || typeof renewTime !== 'string') return null
  if (holderIdentity !== undefined && (typeof holderIdentity !== 'string' || holderIdentity === '')) return null
  const time = microTime(renewTime)
  return time === null ? null : { renewTime: time, ...(holderIdentity !== undefined ? { holder: holderIdentity } : {}) }
}

/** Renews in one write when the patch is a plain renewal that applies; null: take the general path. */
export async function renew(store: Store, namespace: string, name: string, type: PatchType, patch: unknown): Promise<{ lease: LeaseObject; marked: boolean } | null> {
  const renewal = renewalOf(type, patch)
  if (renewal === null) return null
  const written = await store.renewLease({ namespace, name, ...renewal, renewMs: Date.parse(renewal.renewTime) })
  if (!written) return null
  return { lease: withRv(written.body as unknown as LeaseObject, written.rv), marked: written.marked }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
