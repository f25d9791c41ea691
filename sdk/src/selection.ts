/**
 * Who may be picked among a service's endpoints, and why the others may not: the one
 * statement of the rule, shared by the server's pick (worker/registry/pick.ts) and the
 * SDK's local pick (`sb.discover()`), so that both choose among the same candidates. It
 * imports nothing.
 *
 * One address per pod (IPv4 first); an endpoint the caller's `unserved` rules out (not
 * ready, drained, terminating...) is excluded for that reason; with a port name, only
 * endpoints that have it; with a zone, only that zone's endpoints when it has any (the
 * others are excluded as `OtherZone`), else every zone (`zoneFallback`). Also the rule
 * for endpoints as EndpointSlices report them (`sliceEndpointUnserved`) and the fields of
 * a pick's answer (`answerFields`).
 */

export interface SelectionQuery {
  /** A port name: only endpoints that have it. */
  port?: string | undefined
  /** Prefer endpoints in this zone; fall back to all when it has none. */
  zone?: string | undefined
}

/** How to read an endpoint of the caller's shape. */
export interface EndpointAccess<E, R extends string> {
  /** The pod behind the endpoint; '' or undefined when none. */
  pod(e: E): string | undefined
  address(e: E): string
  family(e: E): 'IPv4' | 'IPv6'
  zone(e: E): string | null | undefined
  weight(e: E): number
  portNames(e: E): readonly (string | null | undefined)[]
  /** Why the endpoint may not be picked at all; null when it may. */
  unserved(e: E): R | null
}

export interface Selection<E, R extends string> {
  /** The members to pick among: key (pod/address, or the address), weight, endpoint. */
  candidates: { key: string; weight: number; endpoint: E }[]
  excluded: { endpoint: E; reason: R | 'NoSuchPort' | 'OtherZone' }[]
  /** True when the zone asked for had no candidate and every zone was taken. */
  zoneFallback: boolean
}

export function selectCandidates<E, R extends string>(endpoints: readonly E[], access: EndpointAccess<E, R>, query: SelectionQuery): Selection<E, R> {
  const excluded: Selection<E, R>['excluded'] = []
  const eligible: E[] = []
  const seen = new Set<string>()
  // One address per pod: IPv4 first (a stable sort keeps the pod-then-address order within a family).
  const ordered = [...endpoints].sort((a, b) => {
    const [fa, fb] = [access.family(a), access.family(b)]
    return fa === fb ? 0 : fa === 'IPv4' ? -1 : 1
  })
  for (const e of ordered) {
    const owner = access.pod(e) || access.address(e)
    if (seen.has(owner)) continue
    seen.add(owner)
    const reason = access.unserved(e) ?? (query.port !== undefined && !access.portNames(e).includes(query.port) ? ('NoSuchPort' as const) : null)
    if (reason) excluded.push({ endpoint: e, reason })
    else eligible.push(e)
  }
  let chosen = eligible
  let zoneFallback = false
  if (query.zone !== undefined) {
    const inZone = eligible.filter((e) => access.zone(e) === query.zone)
    if (inZone.length) {
      for (const e of eligible) if (access.zone(e) !== query.zone) excluded.push({ endpoint: e, reason: 'OtherZone' })
      chosen = inZone
    } else zoneFallback = true
  }
  const candidates = chosen.map((e) => {
    const pod = access.pod(e)
    return { key: pod ? `${pod}/${access.address(e)}` : access.address(e), weight: access.weight(e), endpoint: e }
  })
  return { candidates, excluded, zoneFallback }
}

/**
 * Why an endpoint as the registry reports it (an EndpointSlice endpoint, `ready` as the
 * registry judged it) is not served: not ready, or drained to weight 0; null when served.
 */
export function sliceEndpointUnserved(ready: boolean, weight: number): 'NotReady' | 'Drained' | null {
  return !ready ? 'NotReady' : weight > 0 ? null : 'Drained'
}

/** A chosen endpoint, as a pick's answer describes it. */
export interface PickedEndpoint<P extends { name?: string | undefined; port: number }> {
  address: string
  ports: P[]
  pod?: string | null | undefined
  node?: string | null | undefined
  zone?: string | null | undefined
  weight: number
}

/** The fields of a pick's answer for the chosen endpoint: the port asked for alone, else every port. */
export function answerFields<P extends { name?: string | undefined; port: number }>(e: PickedEndpoint<P>, portName: string | undefined, zoneFallback: boolean) {
  const port = portName !== undefined ? e.ports.find((p) => p.name === portName) : undefined
  return {
    address: e.address,
    ...(port ? { port: port.port } : { ports: e.ports }),
    ...(e.pod ? { pod: e.pod } : {}),
    ...(e.node ? { node: e.node } : {}),
    ...(e.zone ? { zone: e.zone } : {}),
    weight: e.weight,
    ...(zoneFallback ? { zoneFallback: true as const } : {}),
  }
}
