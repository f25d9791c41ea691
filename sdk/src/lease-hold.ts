/**
 * Taking hold of a lease, as client-go's leader election does it, for registrations and
 * leader election alike: read the lease; create it when there is none (POST: a 409
 * AlreadyExists means another writer came first); otherwise ask the caller whether it may
 * take it, and write it held by us with the resourceVersion read as precondition (a 409
 * Conflict means another writer came first). A new holder counts as a transition, with a
 * new acquireTime, as Kubernetes records it.
 */
import { AlreadyExistsError, ConflictError, NotFoundError } from './errors.js'
import type { CallOptions, Resource } from './resources.js'
import type { Lease, LeaseInput } from './types.js'

export interface LeaseClaim {
  name: string
  holder: string
  durationSeconds: number
}

/** The outcome of one try: held (the lease as written), refused (the lease as read), or raced (another write came first). */
export type LeaseTry =
  | { outcome: 'held'; lease: Lease; created: boolean }
  | { outcome: 'refused'; lease: Lease }
  | { outcome: 'raced' }

/** One compare-and-swap try; `mayTake` judges the lease as read (not called when there is none). */
export async function tryHoldLease(
  leases: Resource<Lease, LeaseInput>,
  claim: LeaseClaim,
  call: CallOptions,
  mayTake: (current: Lease) => boolean,
): Promise<LeaseTry> {
  const now = new Date().toISOString()
  const base = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' }
  let current: Lease
  try {
    current = await leases.get(claim.name, call)
  } catch (e) {
    if (!(e instanceof NotFoundError)) throw e
    const spec = { holderIdentity: claim.holder, leaseDurationSeconds: claim.durationSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 }
    return written(async () => ({ lease: await leases.create({ ...base, metadata: { name: claim.name }, spec }, call), created: true }))
  }
  if (!mayTake(current)) return { outcome: 'refused', lease: current }
  const old = current.spec
  const ours = old.holderIdentity === claim.holder
  const spec = {
    holderIdentity: claim.holder,
    leaseDurationSeconds: claim.durationSeconds,
    acquireTime: ours ? (old.acquireTime ?? now) : now,
    renewTime: now,
    leaseTransitions: ours ? (old.leaseTransitions ?? 0) : (old.leaseTransitions ?? 0) + 1,
  }
  const metadata = { name: claim.name, resourceVersion: current.metadata.resourceVersion }
  return written(async () => ({ lease: await leases.replace(claim.name, { ...base, metadata, spec }, call), created: false }))
}

async function written(write: () => Promise<{ lease: Lease; created: boolean }>): Promise<LeaseTry> {
  try {
    return { outcome: 'held', ...(await write()) }
  } catch (e) {
    if (e instanceof ConflictError || e instanceof AlreadyExistsError) return { outcome: 'raced' }
    throw e
  }
}

/** Tries until the lease is held or refused: after a race it reads again and decides again. */
export async function holdLease(
  leases: Resource<Lease, LeaseInput>,
  claim: LeaseClaim,
  call: CallOptions,
  mayTake: (current: Lease) => boolean,
): Promise<Exclude<LeaseTry, { outcome: 'raced' }>> {
  for (;;) {
    const result = await tryHoldLease(leases, claim, call, mayTake)
    if (result.outcome !== 'raced') return result
  }
}

/** When another holder's lease expires, by this client's clock (renewTime + duration); 0 when no one else holds it. */
export function heldElsewhereUntil(lease: Lease, holder: string): number {
  const other = lease.spec.holderIdentity
  if (!other || other === holder || !lease.spec.renewTime) return 0
  const expires = Date.parse(lease.spec.renewTime) + (lease.spec.leaseDurationSeconds ?? 0) * 1000
  return expires > Date.now() ? expires : 0
}
