/**
 * Reads of Endpoints and EndpointSlices (built from the stored endpoint rows in one
 * consistent read), and writes of the Endpoints users keep for selectorless services.
 */
import type { Precondition, Store } from '../db/store'
import { buildEndpoints, buildSlices, type EndpointSlice, type EndpointsObject } from './endpoints'
import { RegistryError, badRequest, conflict, notFound } from './errors'
import { parseFieldSelector } from '../selectors/fields'
import { matchesLabels, parseLabelSelector } from '../selectors/labels'
import { SelectorError } from '../selectors/types'
import { guarded } from './preconditions'
import { checkTypeMeta, decode, metaForCreate, metaForUpdate, type Clock } from './meta'
import type { ListQuery } from './list-options'
import { Endpoints } from './schemas'
import { buildUserEndpoints, userEndpointRows } from './user-endpoints'

export class EndpointRegistry {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly maxPerSlice: number,
  ) {}

  async getEndpoints(namespace: string, name: string): Promise<EndpointsObject> {
    const found = buildEndpoints(await this.store.endpointSources(namespace, name)).find((e) => e.metadata.name === name)
    if (!found) throw notFound('endpoints', name)
    return found
  }

  async listEndpoints(namespace: string | undefined, query: ListQuery) {
    const sources = await this.store.endpointSources(namespace)
    return list('EndpointsList', 'v1', sources.rv, filter(buildEndpoints(sources), query))
  }

  async getEndpointSlice(namespace: string, name: string): Promise<EndpointSlice> {
    const found = buildSlices(await this.store.endpointSources(namespace), this.maxPerSlice).find((s) => s.metadata.name === name)
    if (!found) throw new RegistryError('NotFound', `endpointslices.discovery.k8s.io "${name}" not found`, { name, group: 'discovery.k8s.io', kind: 'endpointslices' })
    return found
  }

  async listEndpointSlices(namespace: string | undefined, query: ListQuery) {
    const sources = await this.store.endpointSources(namespace)
    return list('EndpointSliceList', 'discovery.k8s.io/v1', sources.rv, filter(buildSlices(sources, this.maxPerSlice), query))
  }

  async createEndpoints(namespace: string, body: unknown): Promise<EndpointsObject> {
    const input = decode(Endpoints, body, 'Endpoints')
    checkTypeMeta(input, 'v1', 'Endpoints')
    const ep = buildUserEndpoints(input, metaForCreate(input.metadata, namespace, this.clock))
    await this.refuseComputed(namespace, ep.metadata.name)
    return this.write(ep, 'create')
  }

  /** Creates or replaces (PUT creates a missing Endpoints object, as Kubernetes allows). */
  async replaceEndpoints(namespace: string, name: string, body: unknown): Promise<EndpointsObject> {
    const input = decode(Endpoints, body, 'Endpoints')
    checkTypeMeta(input, 'v1', 'Endpoints')
    const sources = await this.store.endpointSources(namespace, name)
    if (sources.services.some((svc) => svc.selector_size > 0)) throw managed(name)
    const existing = sources.user[0]
    if (!existing) {
      const meta = metaForCreate({ ...input.metadata, name: input.metadata?.name ?? name }, namespace, this.clock)
      if (meta.name !== name) throw badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${name})`)
      return this.write(buildUserEndpoints(input, meta), 'create')
    }
    const old = existing.body as unknown as EndpointsObject
    const wanted = input.metadata?.resourceVersion
    if (wanted && wanted !== String(existing.rv)) throw conflict('endpoints', name)
    const ep = buildUserEndpoints(input, metaForUpdate(input.metadata, { ...old.metadata, resourceVersion: String(existing.rv) }, name))
    return this.write(ep, { rv: existing.rv })
  }

  async deleteEndpoints(namespace: string, name: string): Promise<EndpointsObject> {
    const existing = (await this.store.endpointSources(namespace, name)).user[0]
    if (!existing) {
      const computed = buildEndpoints(await this.store.endpointSources(namespace, name)).find((e) => e.metadata.name === name)
      if (computed) throw managed(name)
      throw notFound('endpoints', name)
    }
    const rv = await this.run(namespace, name, () => this.store.deleteUserEndpoints(namespace, name, { rv: existing.rv }))
    const body = existing.body as unknown as EndpointsObject
    return { ...body, metadata: { ...body.metadata, resourceVersion: String(rv) } }
  }

  private async refuseComputed(namespace: string, name: string): Promise<void> {
    const sources = await this.store.endpointSources(namespace, name)
    if (sources.services.some((svc) => svc.selector_size > 0)) throw managed(name)
  }

  private async write(ep: EndpointsObject, pre: Precondition): Promise<EndpointsObject> {
    const { resourceVersion: _rv, ...metadata } = ep.metadata
    const rv = await this.run(ep.metadata.namespace!, ep.metadata.name, () =>
      this.store.putUserEndpoints(
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
    return { ...ep, metadata: { ...ep.metadata, resourceVersion: String(rv) } }
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

function filter<T extends { metadata: { name: string; namespace?: string; labels?: Record<string, string> } }>(items: T[], query: ListQuery): T[] {
  try {
    const labels = parseLabelSelector(query.labelSelector ?? '')
    const fields = parseFieldSelector(query.fieldSelector ?? '', ['metadata.name', 'metadata.namespace'])
    return items.filter(
      (i) =>
        (query.namespaces === undefined || query.namespaces.includes(i.metadata.namespace ?? '')) &&
        matchesLabels(labels, i.metadata.labels ?? {}) &&
        fields.every((f) => {
          const v = f.field === 'metadata.name' ? i.metadata.name : (i.metadata.namespace ?? '')
          return f.operator === 'equals' ? v === f.value : v !== f.value
        }),
    )
  } catch (e) {
    if (e instanceof SelectorError) throw badRequest(e.message)
    throw e
  }
}

function list<T>(kind: string, apiVersion: string, rv: number, items: T[]) {
  return { apiVersion, kind, metadata: { resourceVersion: String(rv) }, items }
}
