/**
 * The registry's explicit size limits, in one place (README, "Limits"). Where Kubernetes
 * has a limit it is Kubernetes' own; where it has none the limit is generous for any real
 * workload and keeps every statement a write or list sends to the database (libSQL, Turso
 * or D1, whose statements take at most 100 bound parameters) well within its bounds.
 * Beyond a limit a body is a 422 Invalid and a query a 400 BadRequest, naming the field.
 */
import { bodyText } from '../db/batch'
import { tooLarge } from './errors'

/** Labels on one object, and pairs in a service's `spec.selector` (Kubernetes has no count limit; each is a row of `labels` or `selectors`). */
export const MAX_LABELS = 256
/**
 * Containers in one pod (Kubernetes sets none; registry pods need none at all). A container
 * adds no row (its named ports do, bounded below), so this only bounds the work of
 * validating and merging one pod, and it is generous.
 */
export const MAX_CONTAINERS = 5000
/** Ports of one container. */
export const MAX_CONTAINER_PORTS = 500
/** Ports of all of a pod's containers together (each named one is a row of `pod_ports`). */
export const MAX_POD_PORTS = 1000
/**
 * Ports of one service, and of one subset of user-written Endpoints: a service's ports are
 * the ports of each of its EndpointSlices, which Kubernetes caps at 100
 * (pkg/apis/discovery/validation `maxPorts`).
 */
export const MAX_SERVICE_PORTS = 100
/**
 * Addresses (ready and not ready) in one subset of user-written Endpoints: Kubernetes'
 * EndpointSlice mirroring takes at most 1000 per subset (`--mirroring-max-endpoints-per-subset`),
 * as an EndpointSlice holds at most 1000 endpoints.
 */
export const MAX_SUBSET_ADDRESSES = 1000
/** Addresses in all subsets of one user-written Endpoints object (each is an endpoint row). */
export const MAX_ENDPOINTS_ADDRESSES = 5000
/**
 * Requirements of one `labelSelector`, and values in all of them together (an `in` set
 * counts each distinct value; `=`, `!=`, `>` and `<` count one). A list writes each key and
 * value into its statement (db/filters.ts): at these limits, with the longest keys and
 * values, the statement stays under 80 KB (D1 takes at most 100 KB).
 */
export const MAX_SELECTOR_REQUIREMENTS = 64
export const MAX_SELECTOR_VALUES = 100
/** Terms of one `fieldSelector`. */
export const MAX_FIELD_SELECTOR_TERMS = 100
/**
 * A grace period (DeleteOptions' and the query's `gracePeriodSeconds`, a pod's
 * `spec.terminationGracePeriodSeconds`): about 31.7 years, so that the deletion instant
 * stays a four-digit-year RFC 3339 time. A stored value from before this limit is
 * clamped to it when a deletion uses it.
 */
export const MAX_GRACE_PERIOD_SECONDS = 1_000_000_000
/** Kubernetes' int32 fields (a lease's duration and transitions). */
export const MAX_INT32 = 2_147_483_647
/**
 * The encoded size of one object as stored (its JSON, after any merge, managedFields
 * included), in bytes. etcd refuses requests over 1.5 MiB; this limit is lower so that a
 * change's log row, which holds the object and the object as it was, stays under the 2 MB
 * that D1 takes for one row. Beyond it a write is a 413 RequestEntityTooLarge.
 */
export const MAX_OBJECT_BYTES = 960 * 1024

/**
 * Refuses an object whose JSON as stored (without its resourceVersion) is over
 * `MAX_OBJECT_BYTES` in UTF-8: a 413 naming it. For a stored form (meta.ts storedForm)
 * the text measured is kept (bodyText) and is the one its write stores; a service is
 * measured before its allocation adds an address and ports, and stored as a copy.
 */
export function checkObjectSize(kind: string, name: string, stored: Record<string, unknown>): void {
  const json = bodyText(stored)
  // A UTF-16 code unit takes one to three bytes: a short JSON needs no encoding.
  const bytes = json.length * 3 <= MAX_OBJECT_BYTES ? json.length : new TextEncoder().encode(json).length
  if (bytes > MAX_OBJECT_BYTES) throw tooLarge(kind, name, bytes, MAX_OBJECT_BYTES)
}
/**
 * Conditions of one pod's `status.conditions` (Kubernetes sets no count; a pod has a
 * handful). Strategic-merge and apply patches merge conditions by `type`, so without a
 * count they would pile up across requests.
 */
export const MAX_POD_CONDITIONS = 64

/** Lists with a count limit, per kind: the path of the list, its field name in a Status, and the most items. */
export const LIST_COUNT_LIMITS: Record<string, { path: readonly string[]; field: string; max: number }[]> = {
  Pod: [{ path: ['status', 'conditions'], field: 'status.conditions', max: MAX_POD_CONDITIONS }],
}
