/**
 * The renewal, the write a lease holder makes every third of its duration: a merge patch
 * that sets `spec.renewTime` and nothing else. It is the most frequent write of a registry
 * whose workloads hold leases, so it has a path of its own: one conditional write that sets
 * the time in place (no read first, no decode of the stored object), with its change-log
 * event and a new resourceVersion like any write, answering the lease as written. When the
 * write does not apply as such — the lease is missing, the time is the stored one, the
 * last write was by another token — the general path handles the patch and answers as it
 * always does (404, a no-op, the modified-by annotation).
 */
import type { Store } from '../db/store'
import { microTime } from './lease'
import { withRv } from './meta'
import type { PatchType } from './patch'
import type { LeaseObject } from './types'

/** The new renewTime (MicroTime) of a patch that renews and does nothing else; null for any other patch. */
export function renewalOf(type: PatchType, patch: unknown): string | null {
  if (type !== 'merge' || !isObject(patch)) return null
  const keys = Object.keys(patch)
  if (keys.length !== 1 || keys[0] !== 'spec' || !isObject(patch.spec)) return null
  const spec = patch.spec
  if (Object.keys(spec).length !== 1 || typeof spec.renewTime !== 'string') return null
  return microTime(spec.renewTime)
}

/** Renews in one write when the patch is a plain renewal that applies; null: take the general path. */
export async function renew(store: Store, namespace: string, name: string, type: PatchType, patch: unknown): Promise<{ lease: LeaseObject; marked: boolean } | null> {
  const renewTime = renewalOf(type, patch)
  if (renewTime === null) return null
  const written = await store.renewLease({ namespace, name, renewTime, renewMs: Date.parse(renewTime) })
  if (!written) return null
  return { lease: withRv(written.body as unknown as LeaseObject, written.rv), marked: written.marked }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
