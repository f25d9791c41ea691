/**
 * Leases (`coordination.k8s.io/v1`), Kubernetes' own liveness and leader-election kind:
 * a holder renews `spec.renewTime`, and the lease is held while renewTime +
 * leaseDurationSeconds is in the future. A pod names the lease that keeps it alive in the
 * annotation `switchboard.dev/lease` (same namespace); many pods may share one lease.
 *
 * Times are MicroTime, as Kubernetes writes them: RFC 3339 in UTC with six fraction
 * digits. Any RFC 3339 time is accepted and normalized.
 */
import { fieldError, invalid, type FieldError } from './errors'
import { validateMeta } from './meta'
import type { LeaseInput } from './schemas'
import type { LeaseObject, ObjectMetaOut } from './types'
import { validateName } from './validation'
import { MAX_INT32 } from './limits'
import { microTime, timeMessage } from './rfc3339'
import { ratchet } from './ratchet'

/** The API group of leases. */
export const LEASE_GROUP = 'coordination.k8s.io'

export const LEASE_ANNOTATION = 'switchboard.dev/lease'
/** The only leader-election strategy Kubernetes defines (coordinated leader election). */
const STRATEGIES = ['OldestEmulationVersion']

export { microTime }

/** MicroTime of a Date (for the leases the registry writes itself, and for tests). */
export function microTimeOf(date: Date): string {
  return `${date.toISOString().slice(0, 23)}000Z`
}

/** The lease's renewTime in ms since the epoch, if it has one. */
export function renewMs(spec: LeaseObject['spec']): number | null {
  if (!spec.renewTime) return null
  const renewed = Date.parse(spec.renewTime)
  return Number.isNaN(renewed) ? null : renewed
}

/** When the lease lapses unless renewed, in ms since the epoch: null when nobody holds it. */
export function leaseExpiresMs(spec: LeaseObject['spec']): number | null {
  const renewed = renewMs(spec)
  if (!spec.holderIdentity || renewed === null || !spec.leaseDurationSeconds) return null
  return renewed + spec.leaseDurationSeconds * 1000
}

export function buildLease(input: LeaseInput, metadata: ObjectMetaOut): LeaseObject {
  const s = input.spec ?? {}
  const spec: LeaseObject['spec'] = {}
  if (s.holderIdentity != null) spec.holderIdentity = s.holderIdentity
  if (s.leaseDurationSeconds != null) spec.leaseDurationSeconds = s.leaseDurationSeconds
  if (s.acquireTime != null) spec.acquireTime = microTime(s.acquireTime) ?? s.acquireTime
  if (s.renewTime != null) spec.renewTime = microTime(s.renewTime) ?? s.renewTime
  if (s.leaseTransitions != null) spec.leaseTransitions = s.leaseTransitions
  if (s.strategy != null) spec.strategy = s.strategy
  if (s.preferredHolder != null) spec.preferredHolder = s.preferredHolder
  return { apiVersion: `${LEASE_GROUP}/v1`, kind: 'Lease', metadata, spec }
}

/**
 * Kubernetes' ValidateLease: the name, a positive duration, non-negative transitions, times
 * that parse. On update (`old`), a value kept as stored is not judged again (see ratchet.ts).
 */
export function validateLease(lease: LeaseObject, old?: LeaseObject): void {
  const s = lease.spec
  const causes: FieldError[] = [...validateMeta(lease.metadata, 'dns1123subdomain')]
  if (s.leaseDurationSeconds !== undefined && s.leaseDurationSeconds <= 0) {
    causes.push(fieldError.invalid('spec.leaseDurationSeconds', s.leaseDurationSeconds, 'must be greater than 0'))
  }
  if (s.leaseTransitions !== undefined && s.leaseTransitions < 0) {
    causes.push(fieldError.invalid('spec.leaseTransitions', s.leaseTransitions, 'must be greater than or equal to 0'))
  }
  // Both are int32 in Kubernetes' Lease.
  for (const field of ['leaseDurationSeconds', 'leaseTransitions'] as const) {
    const value = s[field]
    if (value !== undefined && value > MAX_INT32) causes.push(fieldError.invalid(`spec.${field}`, value, `must be less than or equal to ${MAX_INT32}`))
  }
  for (const field of ['acquireTime', 'renewTime'] as const) {
    const value = s[field]
    if (value !== undefined && microTime(value) === null) causes.push(fieldError.invalid(`spec.${field}`, value, timeMessage('2006-01-02T15:04:05.000000Z')))
  }
  if (s.strategy !== undefined && !STRATEGIES.includes(s.strategy)) {
    causes.push({ reason: 'FieldValueNotSupported', field: 'spec.strategy', message: `Unsupported value: "${s.strategy}": supported values: ${STRATEGIES.map((x) => `"${x}"`).join(', ')}` })
  }
  if (s.preferredHolder !== undefined && s.strategy === undefined) {
    causes.push(fieldError.required('spec.strategy', 'must be specified when preferredHolder is set'))
  }
  const judged = ratchet(causes, lease, old)
  if (judged.length) throw invalid(`Lease.${LEASE_GROUP}`, lease.metadata.name, judged)
}

/** The lease a pod names in its annotation, if any. */
export function podLease(annotations: Record<string, string> | undefined): string | null {
  return annotations?.[LEASE_ANNOTATION] ?? null
}

/** Problems with a pod's lease annotation: it must name a lease (a DNS subdomain). */
export function validatePodLease(annotations: Record<string, string> | undefined): FieldError[] {
  const name = podLease(annotations)
  return name === null ? [] : validateName('dns1123subdomain', name, `metadata.annotations[${LEASE_ANNOTATION}]`)
}
