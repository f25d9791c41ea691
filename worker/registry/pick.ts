/**
 * The pick: one ready endpoint of a service, chosen by smooth weighted round robin (or,
 * with a key, by weighted rendezvous hashing), served from the snapshot without a
 * database query in steady state. A weight means the same here as in the endpoint
 * lists and in DNS: only served endpoints are picked (`isServed`: ready, which leaves
 * out terminating pods unless the service publishes not-ready addresses and addresses
 * the registry may not hand out, and not drained to weight 0).
 */
import { isServed } from './endpoint-conditions'
import type { EndpointPort } from './endpoint-views'
import { RegistryError, notFound } from './errors'
import type { CachedEndpoint, CachedService, DiscoveryCache } from './discovery-cache'
import { rendezvous, type Member } from './wrr'
import { Sequences } from '../../sdk/src/wrr'
import { answerFields, selectCandidates, type EndpointAccess } from '../../sdk/src/selection'

export interface PickQuery {
  /** A port name: pick among endpoints that have it, and answer that port alone. */
  port?: string
  /** A client key for a sticky pick. */
  key?: string
  /** Prefer endpoints in this zone; fall back to all when it has none. */
  zone?: string
  explain?: boolean
}

export type ExclusionReason = 'NotReady' | 'Terminating' | 'Drained' | 'UnservableAddress' | 'OtherZone' | 'NoSuchPort'

export interface PickResult {
  kind: 'Pick'
  namespace: string
  service: string
  address: string
  port?: number
  ports?: EndpointPort[]
  pod?: string
  node?: string
  zone?: string
  weight?: number
  externalName?: string
  /** True when `zone` had no ready endpoint and the pick fell back to every zone. */
  zoneFallback?: boolean
  explain?: {
    algorithm: 'smooth-weighted-round-robin' | 'weighted-rendezvous'
    candidates: { address: string; pod?: string; zone?: string; weight: number }[]
    excluded: { address: string; pod?: string; zone?: string; weight: number; reason: ExclusionReason }[]
  }
}

/** Sequences kept at most; beyond that they start again (each from a random point). */
const MAX_SEQUENCES = 10_000
/** How long a client should wait before asking again when no endpoint is ready. */
export const RETRY_AFTER_SECONDS = 1

interface Candidate extends Member {
  endpoint: CachedEndpoint
  /** The answer for this endpoint, once built (see `pick`). */
  answer?: PickResult
}

type Selection = ReturnType<Picker['select']>

/** Why an endpoint of the snapshot may not be picked at all: only served endpoints are (`isServed`). */
function unserved(e: CachedEndpoint): ExclusionReason | null {
  if (isServed(e)) return null
  return e.unservable ? 'UnservableAddress' : e.ready ? 'Drained' : e.terminating ? 'Terminating' : 'NotReady'
}

const ACCESS: EndpointAccess<CachedEndpoint, ExclusionReason> = {
  pod: (e) => e.pod,
  address: (e) => e.ip,
  family: (e) => e.family,
  zone: (e) => e.zone,
  weight: (e) => e.weight,
  portNames: (e) => e.ports.map((p) => p.name),
  unserved,
}

export class Picker {
  private readonly sequences: Sequences
  /** Candidates by snapshot entry: a snapshot entry never changes, a write replaces it. */
  private readonly selections = new WeakMap<CachedService, Map<string, Selection>>()

  constructor(
    private readonly snapshot: DiscoveryCache,
    random: () => number,
  ) {
    this.sequences = new Sequences(random, MAX_SEQUENCES)
  }

  async pick(namespace: string, name: string, query: PickQuery = {}): Promise<PickResult> {
    const { service } = await this.snapshot.service(namespace, name)
    if (!service) throw notFound('services', name)
    const base = { kind: 'Pick' as const, namespace, service: name }
    if (service.type === 'ExternalName') {
      return { ...base, address: service.externalName ?? '', externalName: service.externalName ?? '' }
    }
    if (query.port !== undefined && !service.ports.some((p) => p.name === query.port)) {
      throw new RegistryError('NotFound', `service "${name}" has no port named "${query.port}"`, { name, kind: 'services' })
    }
    const { candidates, excluded, zoneFallback } = this.candidates(service, query)

    if (candidates.length === 0) {
      throw new RegistryError('ServiceUnavailable', `service "${name}" has no ready endpoint`, {
        name,
        kind: 'services',
        retryAfterSeconds: RETRY_AFTER_SECONDS,
      })
    }
    const id = `${namespace}/${name}|${query.zone ?? ''}|${query.port ?? ''}`
    const chosen = (query.key !== undefined ? rendezvous(query.key, candidates) : this.sequences.next(id, candidates))!
    if (!query.explain) {
      // Without an explanation the answer depends only on the endpoint: built once per snapshot entry.
      let answer = chosen.answer
      if (!answer) {
        answer = Object.freeze(answerOf(base, chosen.endpoint, query.port, zoneFallback))
        chosen.answer = answer
      }
      return answer
    }
    return {
      ...answerOf(base, chosen.endpoint, query.port, zoneFallback),
      explain: {
        algorithm: query.key !== undefined ? ('weighted-rendezvous' as const) : ('smooth-weighted-round-robin' as const),
        candidates: candidates.map((c) => describe(c.endpoint)),
        excluded: excluded.map(({ endpoint, reason }) => ({ ...describe(endpoint), reason })),
      },
    }
  }

  private candidates(service: CachedService, query: PickQuery): Selection {
    let byQuery = this.selections.get(service)
    if (!byQuery) {
      byQuery = new Map()
      this.selections.set(service, byQuery)
    }
    const key = `${query.zone ?? ''}|${query.port ?? ''}`
    let selection = byQuery.get(key)
    if (!selection) {
      selection = this.select(service, query)
      byQuery.set(key, selection)
    }
    return selection
  }

  /** Who may be picked for a query, and why the others may not (the rule shared with the SDK's local pick). */
  select(service: CachedService, query: PickQuery): { candidates: Candidate[]; excluded: { endpoint: CachedEndpoint; reason: ExclusionReason }[]; zoneFallback: boolean } {
    return selectCandidates(service.endpoints, ACCESS, query)
  }

}

function answerOf(
  base: { kind: 'Pick'; namespace: string; service: string },
  e: CachedEndpoint,
  portName: string | undefined,
  zoneFallback: boolean,
): PickResult {
  return { ...base, ...answerFields({ ...e, address: e.ip }, portName, zoneFallback) }
}

function describe(e: CachedEndpoint) {
  return { address: e.ip, ...(e.pod ? { pod: e.pod } : {}), ...(e.zone ? { zone: e.zone } : {}), weight: e.weight }
}
