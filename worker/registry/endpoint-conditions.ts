/**
 * What an endpoint's conditions mean for the places that serve it. The `ready` condition
 * itself is computed once, in SQL, when the endpoint rows are written (see
 * `endpointReady` in db/endpoint-rows.ts); these rules read it. Rows carry conditions as
 * 0/1, the discovery cache as booleans: both are accepted.
 */

import { isServable, type AddressPolicy } from './endpoint-address'

type Flag = boolean | number

/**
 * Served: answered in DNS and picked. Ready (which already counts
 * publishNotReadyAddresses, leaves out terminating pods and, once read through
 * `withAddressPolicy`, addresses clients may not be sent to) and not drained (weight 0).
 */
export function isServed(e: { ready: Flag; weight: number }): boolean {
  return Boolean(e.ready) && e.weight > 0
}

/**
 * An endpoint at an address the registry may not hand out (`isServable`: link-local,
 * unspecified, multicast, or loopback where the policy does not allow it), which can only be
 * stored from before the address rules: not ready and not serving, whatever its pod says and
 * even when its service publishes not-ready addresses. Kubernetes would never have stored it;
 * not serving it is the closest. Every read that serves endpoints (the views, DNS, the pick)
 * applies this first.
 */
export function withAddressPolicy<T extends { ip: string; ready: Flag; serving?: Flag }>(e: T, policy: AddressPolicy): T {
  if (isServable(e.ip, policy)) return e
  return { ...e, ready: off(e.ready), ...(e.serving !== undefined ? { serving: off(e.serving) } : {}) }
}

function off(flag: Flag): Flag {
  return typeof flag === 'number' ? 0 : false
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
  return { ...e, ready: publishNotReady ? e.ready : off(e.ready), ...(e.serving !== undefined ? { serving: off(e.serving) } : {}) }
}
