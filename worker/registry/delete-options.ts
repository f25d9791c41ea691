/**
 * DeleteOptions, from a DELETE body and from the query (`?gracePeriodSeconds=`,
 * `?propagationPolicy=`), as Kubernetes reads them, and the preconditions they carry.
 *
 * `propagationPolicy` must be Orphan, Background or Foreground; all three delete alike
 * here: Switchboard has no garbage collector, so what an object owns by computation (a
 * service's Endpoints and EndpointSlices, everything in a namespace) goes in the same
 * atomic write as the object whatever the policy, and `ownerReferences` that users set are
 * stored but not acted on (nothing is orphaned, nothing waits in the foreground).
 */
import type { Precondition } from '../db/store'
import { badRequest, conflict, fieldError, invalidOptions, type FieldError } from './errors'
import { decode } from './meta'
import { DeleteOptions, type DeleteOptionsInput } from './schemas'
import type { RegistryObject } from './types'
import { isDryRun } from './write-options'
import { MAX_GRACE_PERIOD_SECONDS } from './limits'
import { MAX_TIME_MS, timestamp } from './rfc3339'

export const PROPAGATION_POLICIES = ['Orphan', 'Background', 'Foreground'] as const

export interface DeletePreconditions {
  rv?: string
  uid?: string
  /** The grace period asked for, in seconds. */
  grace?: number
  /** `dryRun: ["All"]` (the body's or the query's): check everything, delete nothing. */
  dryRun?: boolean
}

/** The query parameters of a DELETE that stand for DeleteOptions fields. */
export interface DeleteQuery {
  gracePeriodSeconds?: string | undefined
  propagationPolicy?: string | undefined
  /** Every `?dryRun=` value. */
  dryRun?: readonly string[] | undefined
}

/** Reads DeleteOptions; the query's grace period wins over the body's, as in Kubernetes. */
export function deleteOptions(body: unknown, query: DeleteQuery = {}): DeletePreconditions {
  const o: DeleteOptionsInput = body === undefined ? {} : decode(DeleteOptions, body, 'DeleteOptions')
  if (o.kind && o.kind !== 'DeleteOptions') {
    throw badRequest(`the kind in the data (${o.kind}) does not match the expected kind (DeleteOptions)`)
  }
  if (o.apiVersion && o.apiVersion !== 'v1' && o.apiVersion !== 'meta.k8s.io/v1') {
    throw badRequest(`the API version in the data (${o.apiVersion}) does not match the expected API version (v1)`)
  }
  const dryRun = isDryRun([...(o.dryRun ?? []), ...(query.dryRun ?? [])], 'DeleteOptions')
  const causes: FieldError[] = []
  for (const policy of [o.propagationPolicy, query.propagationPolicy]) {
    if (policy && !(PROPAGATION_POLICIES as readonly string[]).includes(policy)) {
      causes.push(fieldError.notSupported('propagationPolicy', policy, PROPAGATION_POLICIES))
    }
  }
  if (o.gracePeriodSeconds != null) causes.push(...validateGracePeriod(o.gracePeriodSeconds, 'gracePeriodSeconds'))
  if (causes.length) throw invalidOptions('DeleteOptions', causes)
  const grace = gracePeriodQuery(query.gracePeriodSeconds) ?? o.gracePeriodSeconds ?? undefined
  return {
    ...(o.preconditions?.resourceVersion ? { rv: o.preconditions.resourceVersion } : {}),
    ...(o.preconditions?.uid ? { uid: o.preconditions.uid } : {}),
    ...(grace !== undefined ? { grace } : {}),
    ...(dryRun ? { dryRun } : {}),
  }
}

function gracePeriodQuery(query: string | undefined): number | undefined {
  if (query === undefined || query === '') return undefined
  if (!/^\d+$/.test(query)) throw badRequest(`gracePeriodSeconds must be a non-negative integer, got "${query}"`)
  const seconds = Number(query)
  if (seconds > MAX_GRACE_PERIOD_SECONDS) {
    throw badRequest(`gracePeriodSeconds must be no more than ${MAX_GRACE_PERIOD_SECONDS}, got "${query.length > 40 ? `${query.slice(0, 37)}...` : query}"`, [
      fieldError.invalid('gracePeriodSeconds', seconds, `must be less than or equal to ${MAX_GRACE_PERIOD_SECONDS}`),
    ])
  }
  return seconds
}

/** A grace period (DeleteOptions' or a pod's terminationGracePeriodSeconds): 0 to MAX_GRACE_PERIOD_SECONDS. */
export function validateGracePeriod(seconds: number, field: string): FieldError[] {
  if (seconds < 0) return [fieldError.invalid(field, seconds, 'must be greater than or equal to 0')]
  if (seconds > MAX_GRACE_PERIOD_SECONDS) return [fieldError.invalid(field, seconds, `must be less than or equal to ${MAX_GRACE_PERIOD_SECONDS}`)]
  return []
}

/**
 * When an object deleted at `now` with a grace period of `grace` seconds goes: the
 * `metadata.deletionTimestamp` to store, and the grace it stands for. A grace beyond the
 * limit (stored before the limit existed) is clamped to it, and the instant never passes
 * the end of year 9999, so the timestamp keeps its fixed-width form (rfc3339.ts) and a
 * deletion never fails on a time that cannot be written.
 */
export function deletionAt(now: Date, grace: number): { deletionTimestamp: string; grace: number } {
  const seconds = Math.min(grace, MAX_GRACE_PERIOD_SECONDS)
  return { deletionTimestamp: timestamp(new Date(Math.min(now.getTime() + seconds * 1000, MAX_TIME_MS))), grace: seconds }
}

/** The write precondition for a resourceVersion the caller named; a stale one is a 409 at once. */
export function precondition(rv: string | undefined, current: RegistryObject, resource: string): Precondition | undefined {
  if (rv === undefined) return undefined
  if (rv !== current.metadata.resourceVersion) throw conflict(resource, current.metadata.name)
  return { rv: Number(rv) }
}

export function checkUid(obj: RegistryObject, uid: string | undefined, resource: string): void {
  if (uid && uid !== obj.metadata.uid) {
    throw conflict(resource, obj.metadata.name, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${obj.metadata.uid}`)
  }
}
