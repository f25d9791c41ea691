/**
 * The Lease strategy: created, replaced, patched and deleted like any object; no status
 * subresource and no generation, as in Kubernetes. A write stores the lease's expiry
 * beside its body and recomputes nothing else: pods bound to the lease are judged
 * against it when DNS, the pick and the endpoint views answer (lease-expiry.ts).
 */
import type { LeaseWrite } from '../../db/store'
import { buildLease, leaseExpiresMs, renewMs, validateLease } from '../lease'
import { objectWrite } from '../meta'
import type { LeaseInput } from '../schemas'
import type { Strategy } from '../strategy'
import type { LeaseObject } from '../types'
import { sameJson } from '../../json'
import { ageColumn, nameColumn, type Columns } from '../columns'

/** Kubernetes' lease columns. */
const columns: Columns<LeaseObject> = [
  nameColumn,
  { name: 'Holder', type: 'string', description: 'holderIdentity contains the identity of the holder of a current lease.', cell: (l) => l.spec.holderIdentity ?? '' },
  ageColumn,
]

export const leaseStrategy: Strategy<LeaseObject, LeaseInput> = {
  create: (input, metadata) => buildLease(input, metadata),
  update: (input, metadata) => buildLease(input, metadata),
  validate: (lease, old) => validateLease(lease, old),
  generation: false,
  write: ({ store }, lease, old, pre, recordBefore) =>
    store.putLease(leaseWrite(lease), pre, old !== undefined && sameJson(old.metadata.labels ?? {}, lease.metadata.labels ?? {}), recordBefore),
  remove: ({ store }, namespace, name, pre) => store.deleteLease(namespace, name, pre),
  columns,
}

export function leaseWrite(lease: LeaseObject): LeaseWrite {
  return objectWrite(lease, {
    holder: lease.spec.holderIdentity ?? null,
    durationSeconds: lease.spec.leaseDurationSeconds ?? null,
    renewMs: renewMs(lease.spec),
    expiresMs: leaseExpiresMs(lease.spec),
  })
}
