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
import { RegistryError, badRequest, conflict, fieldError, invalid, type FieldError } from './errors'
import { decode } from './meta'
import { DeleteOptions, type DeleteOptionsInput } from './schemas'
import type { RegistryObject } from './types'
import { isDryRun } from './write-options'

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
  if (o.gracePeriodSeconds != null && o.gracePeriodSeconds < 0) {
    causes.push(fieldError.invalid('gracePeriodSeconds', o.gracePeriodSeconds, 'must be greater than or equal to 0'))
  }
  if (causes.length) throw invalid('DeleteOptions', '', causes)
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
  if (!/^\d{1,9}$/.test(query)) throw badRequest(`gracePeriodSeconds must be a non-negative integer, got "${query}"`)
  return Number(query)
}

/** The write precondition for a resourceVersion the caller named; a stale one is a 409 at once. */
export function precondition(rv: string | undefined, current: RegistryObject, resource: string): Precondition | undefined {
  if (rv === undefined) return undefined
  if (rv !== current.metadata.resourceVersion) throw conflict(resource, current.metadata.name)
  return { rv: Number(rv) }
}

export function checkUid(obj: RegistryObject, uid: string | undefined, resource: string): void {
  if (uid && uid !== obj.metadata.uid) {
    throw new RegistryError('Conflict', `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${obj.metadata.uid}`, {
      name: obj.metadata.name,
      kind: resource,
    })
  }
}
