/**
 * Taking hold of a lease for a registration: create it held by us, or, when it exists,
 * make us its holder and renew it (a new holder counts as a transition, with a new
 * acquireTime, as Kubernetes records it).
 */
import { AlreadyExistsError, NotFoundError } from './errors.js'
import type { CallOptions, Resource } from './resources.js'
import type { Lease, LeaseInput } from './types.js'

export interface LeaseClaim {
  name: string
  holder: string
  durationSeconds: number
}

/** The lease as written, and whether this call created it. */
export async function holdLease(
  leases: Resource<Lease, LeaseInput>,
  claim: LeaseClaim,
  call: CallOptions,
): Promise<{ lease: Lease; created: boolean }> {
  const now = new Date().toISOString()
  const spec = { holderIdentity: claim.holder, leaseDurationSeconds: claim.durationSeconds, renewTime: now }
  for (let attempt = 1; ; attempt++) {
    let current: Lease
    try {
      current = await leases.get(claim.name, call)
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e
      try {
        const body = { metadata: { name: claim.name }, spec: { ...spec, acquireTime: now, leaseTransitions: 0 } }
        return { lease: await leases.create(body, call), created: true }
      } catch (e) {
        if (e instanceof AlreadyExistsError && attempt < 3) continue // created meanwhile: take it over
        throw e
      }
    }
    const transition =
      current.spec.holderIdentity === claim.holder ? {} : { acquireTime: now, leaseTransitions: (current.spec.leaseTransitions ?? 0) + 1 }
    return { lease: await leases.patch(claim.name, { spec: { ...spec, ...transition } }, call), created: false }
  }
}
