/**
 * What an endpoint's conditions mean for the places that serve it. The `ready` condition
 * itself is computed once, in SQL, when the endpoint rows are written (see
 * `endpointReady` in db/endpoint-rows.ts); these rules read it. Rows carry conditions as
 * 0/1, the discovery cache as booleans: both are accepted.
 */

type Flag = boolean | number

/**
 * Served: answered in DNS and picked. Ready (which already counts
 * publishNotReadyAddresses and leaves out terminating pods) and not drained (weight 0).
 */
export function isServed(e: { ready: Flag; weight: number }): boolean {
  return Boolean(e.ready) && e.weight > 0
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
