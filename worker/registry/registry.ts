/**
 * The registry: the domain operations behind the API, one REST storage per kind of the
 * table (kinds.ts). Generic kinds are served by the generic store with their strategy;
 * Endpoints and EndpointSlices by the endpoint registry (views of the endpoint rows, and
 * the Endpoints users write for selectorless services); tokens by the token registry.
 */
import { PreconditionFailed } from '../db/errors'
import type { Store } from '../db/store'
import type { AllocationConfig } from './allocate'
import { audited, type AuditSink } from './audit'
import type { ChangeFeed } from './change-feed'
import type { AddressPolicy } from './endpoint-address'
import { deleteOptions, type DeleteQuery } from './delete-options'
import { EndpointRegistry } from './endpoint-registry'
import { GenericStore } from './generic-store'
import type { KindInfo } from './kind-info'
import { ENDPOINTS, ENDPOINT_SLICES, KINDS, LEASES, PODS, TOKENS } from './kinds'
import type { LeaseBook } from './lease-book'
import { LeaseLifecycle, type SweepResult } from './lease-lifecycle'
import { renew } from './lease-renewal'
import type { ListQuery, ListStream } from './list-options'
import { timestamp, type Clock } from './meta'
import type { PatchType } from './patch'
import { guarded } from './preconditions'
import { podWrite } from './strategies/pod'
import type { WriteContext } from './strategy'
import type { TokenRegistry } from './tokens'
import type { LeaseObject, PodObject, RegistryObject } from './types'
import type { WriteOptions } from './write-options'

export { MODIFIED_BY } from './generic-store'

export interface RegistryOptions {
  store: Store
  clock: Clock
  allocation: AllocationConfig
  /** Which pod and endpoint addresses writes accept. */
  addresses: AddressPolicy
  maxEndpointsPerSlice: number
  tokens: TokenRegistry
  /** Events older than this many seconds are pruned from the change log. */
  changeLogRetentionSeconds: number
  /** This process's view of the change log (shared by every registry acting for a caller). */
  feed: ChangeFeed
  /** This process's view of the leases pods name, and of the registry's presence (shared likewise). */
  leases: LeaseBook
  /** Pods of a lapsed lease are deleted this many lease durations after it lapsed. */
  leaseDeleteAfterDurations: number
  /** Told of every accepted write through the REST storages (audit.ts). */
  audit?: AuditSink
}

/**
 * What the API may do with one kind; a route exists for each verb of the kind's table
 * entry. Writes take their options (a dry run, the field manager; see write-options.ts);
 * a delete reads its dry run from DeleteOptions or the query.
 */
export interface Rest {
  get?(namespace: string, name: string): Promise<object>
  list?(namespace: string | undefined, query: ListQuery): Promise<object>
  /** An unpaged list, read and handed out page by page from one snapshot. */
  stream?(namespace: string | undefined, query: ListQuery): Promise<ListStream<object>>
  create?(namespace: string, body: unknown, options?: WriteOptions): Promise<object>
  replace?(namespace: string, name: string, body: unknown, scope?: 'all' | 'status', options?: WriteOptions): Promise<object>
  patch?(namespace: string, name: string, type: PatchType, patch: unknown, scope?: 'all' | 'status', options?: WriteOptions): Promise<object>
  /** Server-side apply: the object as written, and whether the apply created it. */
  apply?(namespace: string, name: string, config: unknown, scope?: 'all' | 'status', options?: WriteOptions): Promise<{ object: object; created: boolean }>
  delete?(namespace: string, name: string, options: unknown, query: DeleteQuery): Promise<object>
}

/** Actor views kept at most (one per token in use); beyond that they are made again. */
const MAX_VIEWS = 1000

export class Registry {
  readonly store: Store
  /** Endpoints and EndpointSlices. */
  readonly endpoints: EndpointRegistry
  /** Access tokens (see tokens.ts). */
  readonly tokens: TokenRegistry
  /** The change log as this process follows it (see change-feed.ts). */
  readonly feed: ChangeFeed
  /** The leases pods name, as this process knows them, and the registry's presence. */
  readonly leases: LeaseBook
  /** The app's source of time and randomness. */
  readonly clock: Clock
  /** Which pod and endpoint addresses writes accept and reads hand out. */
  readonly addresses: AddressPolicy
  private readonly context: WriteContext
  private readonly rests = new Map<KindInfo, Rest>()
  private readonly generic = new Map<KindInfo, GenericStore>()
  private readonly lifecycle: LeaseLifecycle
  /** The views `as` made, by actor. */
  private readonly views = new Map<string, Registry>()

  constructor(private readonly options: RegistryOptions) {
    this.store = options.store
    this.feed = options.feed
    this.clock = options.clock
    this.addresses = options.addresses
    this.context = { store: options.store, clock: options.clock, allocation: options.allocation, addresses: options.addresses }
    this.leases = options.leases
    this.endpoints = new EndpointRegistry(options.store, options.clock, options.maxEndpointsPerSlice, options.leases, options.addresses)
    for (const kind of KINDS) {
      if (!kind.strategy) continue
      const store = new GenericStore(kind, this.context)
      this.generic.set(kind, store)
      this.rests.set(kind, store)
    }
    this.lifecycle = new LeaseLifecycle(options.store, this.objects<PodObject>(PODS), options.leases, options.clock, options.leaseDeleteAfterDurations)
    // A lease written while held brings back at once the pods a lapse marked not ready.
    const leases = this.objects<LeaseObject>(LEASES)
    leases.afterWrite = (lease) => this.lifecycle.restore(lease)
    // A plain renewal takes one conditional write (lease-renewal.ts); any other patch, and a dry run, the general path.
    this.rests.set(LEASES, {
      get: (ns, name) => leases.get(ns, name),
      list: (ns, query) => leases.list(ns, query),
      stream: (ns, query) => leases.stream(ns, query),
      create: (ns, body, write) => leases.create(ns, body, write),
      replace: (ns, name, body, scope, write) => leases.replace(ns, name, body, scope, write),
      delete: (ns, name, options, query) => leases.delete(ns, name, options, query),
      apply: (ns, name, config, scope, write) => leases.apply(ns, name, config, scope, write),
      patch: async (ns, name, type, patch, scope, write) => {
        const renewed = scope === 'status' || write?.dryRun ? null : await renew(options.store, ns, name, type, patch)
        if (!renewed) return leases.patch(ns, name, type, patch, scope, write)
        if (renewed.marked) await this.lifecycle.restore(renewed.lease)
        return renewed.lease
      },
    })
    const eps = this.endpoints
    this.rests.set(ENDPOINTS, {
      get: (ns, name) => eps.getEndpoints(ns, name),
      list: (ns, query) => eps.listEndpoints(ns, query),
      stream: (ns, query) => eps.streamEndpoints(ns, query),
      create: (ns, body, write) => eps.createEndpoints(ns, body, write),
      replace: (ns, name, body, _scope, write) => eps.replaceEndpoints(ns, name, body, write),
      delete: (ns, name, options, query) => eps.deleteEndpoints(ns, name, { dryRun: deleteOptions(options, query).dryRun ?? false }),
    })
    this.rests.set(ENDPOINT_SLICES, {
      get: (ns, name) => eps.getEndpointSlice(ns, name),
      list: (ns, query) => eps.listEndpointSlices(ns, query),
      stream: (ns, query) => eps.streamEndpointSlices(ns, query),
    })
    const tokens = (this.tokens = options.tokens)
    this.rests.set(TOKENS, {
      get: (_ns, name) => tokens.get(name),
      list: (_ns, query) => tokens.list(query),
      stream: (_ns, query) => tokens.stream(query),
      create: (_ns, body, write) => tokens.create(body, this.store.actor, write),
      delete: (_ns, name, options, query) => tokens.revoke(name, { dryRun: deleteOptions(options, query).dryRun ?? false }),
    })
    const sink = options.audit
    if (sink) for (const [kind, rest] of this.rests) this.rests.set(kind, audited(kind, rest, this.store.actor, sink))
  }

  /**
   * This registry acting for a token: its writes record the token's name. The view is made
   * once per actor and kept (it holds no request's state), so an authenticated request
   * costs a lookup, not the set-up of a registry.
   */
  as(actor: string): Registry {
    if (!actor) return this
    let view = this.views.get(actor)
    if (!view) {
      if (this.views.size >= MAX_VIEWS) this.views.clear()
      view = new Registry({ ...this.options, store: this.options.store.as(actor) })
      this.views.set(actor, view)
    }
    return view
  }

  /** The REST storage of a kind of the table. */
  rest(kind: KindInfo): Rest {
    const rest = this.rests.get(kind)
    if (!rest) throw new Error(`${kind.kind} is not served by this registry`)
    return rest
  }

  /** The generic store of a generic kind. */
  objects<T extends RegistryObject = RegistryObject>(kind: KindInfo): GenericStore<T> {
    const store = this.generic.get(kind)
    if (!store) throw new Error(`${kind.kind} is not a generic kind`)
    return store as unknown as GenericStore<T>
  }

  /**
   * Creates many pods of one namespace in one write (all or none), each prepared exactly
   * as a create of one. Returns the resourceVersion of the write.
   */
  async importPods(namespace: string, bodies: unknown[]): Promise<number> {
    const pods = this.objects<PodObject>(PODS)
    const writes = bodies.map((body) => podWrite(pods.prepareCreate(namespace, body)))
    return guarded(PODS.resource, namespace, writes[0]?.name ?? '', () => this.store.importPods(namespace, writes))
  }

  /** Prunes the change log's events older than the retention window; returns how many. */
  compactChanges(): Promise<number> {
    const before = new Date(this.options.clock.now().getTime() - this.options.changeLogRetentionSeconds * 1000)
    return this.store.compactChanges(before.toISOString())
  }

  /**
   * Records that the registry is up, and acts on lapsed leases: marks their pods not ready
   * (reason LeaseExpired) and deletes those lapsed for too long (see lease-lifecycle.ts).
   */
  sweepLeases(): Promise<SweepResult> {
    return this.lifecycle.sweep()
  }

  /** Sweeps unless this process swept within `intervalMs` (Workers sweep after requests, throttled so); undefined when it does not. */
  sweepLeasesSoon(intervalMs: number): Promise<SweepResult> | undefined {
    return this.lifecycle.sweepSoon(intervalMs)
  }

  /** Removes the pods whose grace period has ended; returns how many. */
  async reapExpired(): Promise<number> {
    let removed = 0
    for (const pod of await this.store.expiredPods(timestamp(this.options.clock.now()))) {
      try {
        await this.store.deletePod(pod.namespace, pod.name, { rv: pod.rv })
        removed++
      } catch (e) {
        if (!(e instanceof PreconditionFailed)) throw e
      }
    }
    return removed
  }
}
