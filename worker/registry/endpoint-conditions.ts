/**
 * What an endpoint's conditions mean for the places that serve it. The `ready` condition
 * itself is computed once, in SQL, when the endpoint rows are written (see
 * `endpointReady` in db/endpoint-rows.ts); these rules read it. Rows carry conditions as
 * 0/1, the discovery cache as booleans: both are accepted.
 */

import { isServable } from './endpoint-address'

type Flag = boolean | number

/**
 * Served: answered in DNS and picked. Ready (which already counts
 * publishNotReadyAddresses and leaves out terminating pods), not drained (weight 0), and at
 * an address clients may be sent to (`isServable`: never link-local, unspecified or multicast).
 */
export function isServed(e: { ready: Flag; weight: number; ip: string }): boolean {
  return Boolean(e.ready) && e.weight > 0 && isServable(e.ip)
}

/**
 * Where a legacy Endpoints object lists an endpoint: ready ones under `addresses`, the
 * others under `notReadyAddresses` unless they are terminating (left out, as Kubernetes
 * leaves them out).
 */
export function legacySubset(e: { ready: Flag; terminating: Flag }): 'addresses' | 'notReadyAddresses' | null {
  if (e.ready) return 'addresses'
  return e.terminating ? null : 'notReadyAddresses'
}

/**
 * An endpoint whose pod's lease does not hold (lease-expiry.ts): not serving, and not ready
 * unless its service publishes not-ready addresses (which publishes every endpoint, as in
 * Kubernetes). This is what the sweep later records in the pod (Ready=False, reason
 * LeaseExpired), applied when answering so that no sweep delay shows.
 */
export function withLapsedLease<T extends { ready: Flag; serving?: Flag }>(e: T, publishNotReady: boolean): T {
  const off = (flag: Flag) => (typeof flag === 'number' ? 0 : false)
  return { ...e, ready: publishNotReady ? e.ready : off(e.ready), ...(e.serving !== undefined ? { serving: off(e.serving) } : {}) }
}
