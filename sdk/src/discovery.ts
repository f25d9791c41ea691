/**
 * Discovery without a round trip: `sb.discover(namespace, service)` keeps a local view of a
 * service's endpoints from a watch of its EndpointSlices, and picks from it with the same
 * smooth weighted round robin and weighted rendezvous hashing as the server's pick (one
 * implementation: wrr.ts) and the same rules for who may be picked:
 *
 * - served endpoints only: ready (the slice's condition, which the registry computes: it
 *   already leaves out terminating pods, addresses it will not hand out and pods whose
 *   lease lapsed) and not drained (weight 0);
 * - one address per pod, IPv4 first; with `port`, endpoints that have a port of that name;
 *   with `zone`, that zone's endpoints, or every zone when it has none (`zoneFallback`).
 *
 * Until the view is ready (the first list), and whenever the view has no candidate for a
 * pick (so the server answers ExternalName services, unknown ports and "no ready endpoint"
 * with its own reason), `pick()` asks the server. When the registry becomes unreachable
 * the view keeps serving what it last knew, as Eureka clients keep their cache, and says
 * so: `stale` is true and `onStale` is called; the watch reconnects on its own and resumes
 * from the last resourceVersion it saw.
 */
import { asyncDispose } from './dispose.js'
import { notify } from './background.js'
import type { PickOptions, ServiceResource } from './client.js'
import type { Resource } from './resources.js'
import type { EndpointPort, EndpointSlice, PickResult } from './types.js'
import type { Watch } from './watch.js'
import { answerFields, selectCandidates, sliceEndpointUnserved, type EndpointAccess } from './selection.js'
import { Sequences, rendezvous, type Member } from './wrr.js'

export interface DiscoverOptions {
  /** Called when the view's endpoints change (after the first list, and on every change). */
  onChange?: (endpoints: LocalEndpoint[]) => void
  /** Called when the view becomes stale (the registry unreachable: `error` says why) and when it is current again. */
  onStale?: (stale: boolean, error?: unknown) => void
  /** A stream that brings nothing for this long is cut and resumed; default 90 s. */
  idleTimeoutMs?: number
  /** Where a new sequence starts in its period (default `Math.random`), as on the server. */
  random?: () => number
}

/** One endpoint of the local view. */
export interface LocalEndpoint {
  address: string
  family: 'IPv4' | 'IPv6'
  ports: EndpointPort[]
  pod?: string
  node?: string
  zone?: string
  weight: number
  ready: boolean
}

export type LocalPickOptions = Pick<PickOptions, 'port' | 'key' | 'zone'>

interface Candidate extends Member {
  endpoint: LocalEndpoint
}

interface Selection {
  candidates: Candidate[]
  zoneFallback: boolean
}

export interface DiscoveryClients {
  services: ServiceResource
  endpointSlices: Resource<EndpointSlice, never>
}

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name'

/** The view's endpoints are served when ready (the slices' `ready`, which the server judged) with a weight above 0. */
const ACCESS: EndpointAccess<LocalEndpoint, 'NotReady' | 'Drained'> = {
  pod: (e) => e.pod,
  address: (e) => e.address,
  family: (e) => e.family,
  zone: (e) => e.zone,
  weight: (e) => e.weight,
  portNames: (e) => e.ports.map((p) => p.name),
  unserved: (e) => sliceEndpointUnserved(e.ready, e.weight),
}

export class Discovery {
  /** True once the first list arrived: picks are local from then on. */
  ready = false
  /** True while the registry is unreachable: picks use the last view. */
  stale = false
  /** Why the view is stale (the last connection error), or why the watch ended. */
  error: unknown = undefined
  private readonly slices = new Map<string, EndpointSlice>()
  private view: LocalEndpoint[] = []
  private readonly selections = new Map<string, Selection>()
  private readonly sequences: Sequences
  private readonly watch: Watch<EndpointSlice>
  private readonly firstList: Promise<void>
  private resolveFirst!: () => void
  private rejectFirst!: (error: unknown) => void

  constructor(
    private readonly clients: DiscoveryClients,
    readonly namespace: string,
    readonly service: string,
    private readonly options: DiscoverOptions = {},
  ) {
    this.sequences = new Sequences(options.random ?? Math.random)
    this.firstList = new Promise((resolve, reject) => {
      this.resolveFirst = resolve
      this.rejectFirst = reject
    })
    this.firstList.catch(() => {}) // a rejection nobody awaits is not an unhandled one
    this.watch = clients.endpointSlices.watch({
      namespace,
      labelSelector: { [SERVICE_NAME_LABEL]: service },
      ...(options.idleTimeoutMs !== undefined ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
      onConnect: () => this.connected(),
      onDisconnect: (e) => this.disconnected(e),
    })
    void this.follow()
  }

  /**
   * Resolves once the view is ready (or at once if it is). Rejects with the watch's error
   * when the watch ends, before the first list, on an error retrying cannot mend (400,
   * 401, 403, 404): the view will never be ready (picks still go to the server).
   */
  whenReady(): Promise<void> {
    return this.firstList
  }

  /** The endpoints of the view (every one, ready or not; `ready && weight > 0` are the ones picked). */
  endpoints(): LocalEndpoint[] {
    return this.view
  }

  /**
   * A pick from the local view, or null when the view is not ready or has no candidate for
   * these options (then `pick()` asks the server). No I/O.
   */
  tryPick(options: LocalPickOptions = {}): PickResult | null {
    if (!this.ready) return null
    const { candidates, zoneFallback } = this.select(options)
    if (candidates.length === 0) return null
    const chosen = options.key !== undefined ? rendezvous(options.key, candidates)! : this.sequences.next(`${options.zone ?? ''}|${options.port ?? ''}`, candidates)
    return { kind: 'Pick', namespace: this.namespace, service: this.service, ...answerFields(chosen.endpoint, options.port, zoneFallback) }
  }

  /** A local pick when the view can answer it, else the server's (see `tryPick`). */
  async pick(options: PickOptions = {}): Promise<PickResult> {
    return this.tryPick(options) ?? this.clients.services.pick(this.service, { ...options, namespace: this.namespace })
  }

  /** Stops the watch. */
  close(): void {
    this.watch.close()
  }

  [asyncDispose](): Promise<void> {
    this.close()
    return Promise.resolve()
  }

  private async follow(): Promise<void> {
    try {
      for await (const event of this.watch) {
        if (event.type === 'BOOKMARK') continue
        const name = event.object.metadata.name
        if (event.type === 'DELETED') this.slices.delete(name)
        else this.slices.set(name, event.object)
        // Before the first list is complete, `connected()` publishes the view.
        if (this.ready) this.publish()
      }
    } catch (e) {
      // An error retrying cannot mend (e.g. 401, 403): picks go to the server, which says why.
      this.error = e
      if (!this.ready) this.rejectFirst(e)
    }
  }

  private connected(): void {
    const first = !this.ready
    this.ready = true
    if (first) {
      this.publish()
      this.resolveFirst()
    }
    if (this.stale) {
      this.stale = false
      this.error = undefined
      notify(this.options.onStale, false)
    }
  }

  private disconnected(error: unknown): void {
    this.error = error
    if (this.stale || !this.ready) return
    this.stale = true
    notify(this.options.onStale, true, error)
  }

  /** Rebuilds the view from the slices: one entry per address, ordered by pod then address. */
  private publish(): void {
    const view: LocalEndpoint[] = []
    for (const slice of this.slices.values()) {
      for (const e of slice.endpoints) {
        for (const address of e.addresses) {
          view.push({
            address,
            family: slice.addressType,
            ports: slice.ports,
            ...(e.targetRef ? { pod: e.targetRef.name } : {}),
            ...(e.nodeName ? { node: e.nodeName } : {}),
            ...(e.zone ? { zone: e.zone } : {}),
            weight: e.weight,
            ready: e.conditions.ready,
          })
        }
      }
    }
    view.sort((a, b) => compare(a.pod ?? '', b.pod ?? '') || compare(a.address, b.address))
    this.view = view
    this.selections.clear()
    notify(this.options.onChange, view)
  }

  /** Who may be picked: the server's rule (selection.ts, shared with worker/registry/pick.ts). */
  private select(options: LocalPickOptions): Selection {
    const id = `${options.zone ?? ''}|${options.port ?? ''}`
    let selection = this.selections.get(id)
    if (!selection) {
      const { candidates, zoneFallback } = selectCandidates(this.view, ACCESS, options)
      selection = { candidates, zoneFallback }
      this.selections.set(id, selection)
    }
    return selection
  }

}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
