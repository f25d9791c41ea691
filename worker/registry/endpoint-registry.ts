/**
 * Reads of Endpoints and EndpointSlices (built from the stored endpoint rows in one
 * consistent read), and writes of the Endpoints users keep for selectorless services.
 */
import type { EndpointScope, EndpointSources } from '../db/endpoint-reads'
import type { Precondition, Store } from '../db/store'
import { listEndpointSlices, listEndpoints, streamEndpointSlices, streamEndpoints, type SourceReads } from './endpoint-lists'
import { buildEndpoints, buildSlices, withServableAddresses, type EndpointSlice, type EndpointsObject } from './endpoint-views'
import { RegistryError, badRequest, conflict, notFound } from './errors'
import { guarded } from './preconditions'
import { checkTypeMeta, decode, metaForCreate, metaForUpdate, type Clock } from './meta'
import type { ListQuery } from './list-options'
import { retryAfterConflicts } from './retry'
import { Endpoints, type EndpointsInput } from './schemas'
import { buildUserEndpoints, userEndpointRows } from './user-endpoints'
import { withLapsedLease } from './endpoint-conditions'
import type { LeaseBook } from './lease-book'
import type { AddressPolicy } from './endpoint-address'
import { leaseHolds, rowLease } from './lease-expiry'
import type { ServiceObject } from './types'
import type { WriteOptions } from './write-options'

export class EndpointRegistry {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly maxPerSlice: number,
    private readonly leases: LeaseBook,
    private readonly addresses: AddressPolicy,
  ) {}

  /**
   * The sources of a scope in one consistent read, with the endpoints at addresses the
   * registry may not hand out, and those of pods whose lease does not hold now, read as not
   * ready (as DNS and the pick answer them).
   */
  readonly sources = async (scope: EndpointScope): Promise<EndpointSources> => {
    const [sources] = await Promise.all([this.store.endpointSources(scope), this.leases.fresh()])
    return this.judged(sources, this.clock.now().getTime())
  }

  /** Reads of sources, judged likewise, from one snapshot of the database (the leases judged at one instant). */
  private readonly openSources = async (): Promise<SourceReads> => {
    await this.leases.fresh()
    const now = this.clock.now().getTime()
    const snapshot = await this.store.snapshot()
    return { read: async (scope) => this.judged(await snapshot.endpointSources(scope), now), snapshot: snapshot.snapshot, close: () => snapshot.close() }
  }

  private judged(read: EndpointSources, now: number): EndpointSources {
    const sources = withServableAddresses(read, this.addresses)
    if (!sources.rows.some((r) => r.lease !== null)) return sources
    const publishNotReady = new Set(
      sources.services.filter((s) => (s.body as unknown as ServiceObject).spec?.publishNotReadyAddresses === true).map((s) => `${s.namespace}/${s.name}`),
    )
    const rows = sources.rows.map((r) => {
      if (r.lease === null) return r
      return leaseHolds(rowLease(r), this.leases.presence, now) ? r : withLapsedLease(r, publishNotReady.has(`${r.namespace}/${r.service}`))
    })
    return { ...sources, rows }
  }

  async getEndpoints(namespace: string, name: string): Promise<EndpointsObject> {
    const found = buildEndpoints(await this.sourcesOf(namespace, name)).find((e) => e.metadata.name === name)
    if (!found) throw notFound('endpoints', name)
    return found
  }

  listEndpoints(namespace: string | undefined, query: ListQuery) {
    return listEndpoints(this.sources, namespace, query)
  }

  /** The whole Endpoints list, page by page from one snapshot. */
  streamEndpoints(namespace: string | undefined, query: ListQuery) {
    return streamEndpoints(this.openSources, namespace, query)
  }

  async getEndpointSlice(namespace: string, name: string): Promise<EndpointSlice> {
    const sources = await this.sources({ view: 'slices', namespace })
    const found = buildSlices(sources, this.maxPerSlice).find((s) => s.metadata.name === name)
    if (!found) throw notFound('endpointslices.discovery.k8s.io', name)
    return found
  }

  listEndpointSlices(namespace: string | undefined, query: ListQuery) {
    return listEndpointSlices(this.sources, this.maxPerSlice, namespace, query)
  }

  /** The whole EndpointSlice list, page by page from one snapshot. */
  streamEndpointSlices(namespace: string | undefined, query: ListQuery) {
    return streamEndpointSlices(this.openSources, this.maxPerSlice, namespace, query)
  }

  async createEndpoints(namespace: string, body: unknown, options: WriteOptions = {}): Promise<EndpointsObject> {
    const input = decode(Endpoints, body, 'Endpoints')
    checkTypeMeta(input, 'v1', 'Endpoints')
    const ep = buildUserEndpoints(input, metaForCreate(input.metadata, namespace, this.clock), this.addresses)
    await this.refuseComputed(namespace, ep.metadata.name)
    return this.write(ep, 'create', options)
  }

  /**
   * Creates or replaces (PUT creates a missing Endpoints object, as Kubernetes allows).
   * Without a resourceVersion in the body, a concurrent change makes it read and try
   * again, as replaces of the other kinds do; with one, it is a 409.
   */
  async replaceEndpoints(namespace: string, name: string, body: unknown, options: WriteOptions = {}): Promise<EndpointsObject> {
    const input = decode(Endpoints, body, 'Endpoints')
    checkTypeMeta(input, 'v1', 'Endpoints')
    const wanted = input.metadata?.resourceVersion ?? undefined
    return retryAfterConflicts(
      this.clock,
      () => this.replaceOnce(namespace, name, input, wanted, options),
      (e) => !wanted && e instanceof RegistryError && e.reason === 'Conflict',
    )
  }

  /** Deletes the Endpoints a user wrote; a dry run answers the same and deletes nothing. */
  async deleteEndpoints(namespace: string, name: string, options: WriteOptions = {}): Promise<EndpointsObject> {
    const sources = await this.sourcesOf(namespace, name)
    const existing = sources.user[0]
    if (!existing) {
      if (buildEndpoints(sources).some((e) => e.metadata.name === name)) throw managed(name)
      throw notFound('endpoints', name)
    }
    const rv = await this.run(namespace, name, () => this.storeFor(options).deleteUserEndpoints(namespace, name, { rv: existing.rv }))
    const body = existing.body as unknown as EndpointsObject
    return { ...body, metadata: { ...body.metadata, resourceVersion: String(options.dryRun ? existing.rv : rv) } }
  }

  /** What the Endpoints of one service are built from. */
  private sourcesOf(namespace: string, name: string): Promise<EndpointSources> {
    return this.sources({ view: 'endpoints', namespace, service: name })
  }

  private async replaceOnce(namespace: string, name: string, input: EndpointsInput, wanted: string | undefined, options: WriteOptions): Promise<EndpointsObject> {
    const sources = await this.sourcesOf(namespace, name)
    if (sources.services.some((svc) => svc.selector_size > 0)) throw managed(name)
    const existing = sources.user[0]
    if (!existing) {
      const meta = metaForCreate({ ...input.metadata, name: input.metadata?.name ?? name }, namespace, this.clock)
      if (meta.name !== name) throw badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${name})`)
      try {
        return await this.write(buildUserEndpoints(input, meta, this.addresses), 'create', options)
      } catch (e) {
        // Another PUT created it first: this one replaces it (or, when it must not retry, conflicts).
        if (e instanceof RegistryError && e.reason === 'AlreadyExists') throw conflict('endpoints', name)
        throw e
      }
    }
    const old = existing.body as unknown as EndpointsObject
    if (wanted && wanted !== String(existing.rv)) throw conflict('endpoints', name)
    const ep = buildUserEndpoints(input, metaForUpdate(input.metadata, { ...old.metadata, resourceVersion: String(existing.rv) }, name), this.addresses)
    return this.write(ep, { rv: existing.rv }, options)
  }

  private async refuseComputed(namespace: string, name: string): Promise<void> {
    const sources = await this.sourcesOf(namespace, name)
    if (sources.services.some((svc) => svc.selector_size > 0)) throw managed(name)
  }

  /**
   * Writes user Endpoints. A dry run answers the object as it would be stored: a create
   * without a resourceVersion, a replace at the stored one.
   */
  private async write(ep: EndpointsObject, pre: Precondition, options: WriteOptions): Promise<EndpointsObject> {
    const { resourceVersion: _rv, ...metadata } = ep.metadata
    const rv = await this.run(ep.metadata.namespace!, ep.metadata.name, () =>
      this.storeFor(options).putUserEndpoints(
        {
          namespace: ep.metadata.namespace!,
          name: ep.metadata.name,
          uid: ep.metadata.uid,
          body: { ...ep, metadata } as unknown as Record<string, unknown>,
          rows: userEndpointRows(ep),
        },
        pre,
      ),
    )
    if (!options.dryRun) return { ...ep, metadata: { ...ep.metadata, resourceVersion: String(rv) } }
    return pre === 'create' ? { ...ep, metadata: metadata as EndpointsObject['metadata'] } : { ...ep, metadata: { ...ep.metadata, resourceVersion: String(pre.rv) } }
  }

  private storeFor(options: WriteOptions): Store {
    return options.dryRun ? this.store.dryRun() : this.store
  }

  private run(namespace: string, name: string, write: () => Promise<number>): Promise<number> {
    return guarded('endpoints', namespace, name, write, () => managedOrConflict(name))
  }
}

function managed(name: string): RegistryError {
  return new RegistryError(
    'MethodNotAllowed',
    `endpoints "${name}" are computed from the selector of service "${name}" and are read-only`,
    { name, kind: 'endpoints' },
  )
}

/** The batch's conflict guard covers both a selector service and a stale resourceVersion. */
function managedOrConflict(name: string): RegistryError {
  const e = conflict('endpoints', name)
  return new RegistryError('Conflict', `${e.message} (or service "${name}" has a selector, which makes its endpoints read-only)`, e.details)
}
