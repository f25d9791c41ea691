/**
 * The inputs of the hot reads (DNS and the pick), cached per key with a TTL: each
 * answer's inputs (a service and its endpoints, a namespace, an address) are read once
 * in one consistent query and kept until the next write through this registry
 * (read-your-writes in the Node runtime) or for at most `maxAgeMs` (the DNS TTL), so an
 * entry is never older than the TTL even when another process writes.
 */
import type { EndpointRow, ServiceSourceRow } from '../db/endpoint-reads'
import type { Store } from '../db/store'
import { isServed } from './endpoint-conditions'
import type { EndpointPort } from './endpoint-views'
import type { ServiceObject, ServiceType } from './types'

/** An endpoint of a service, with its conditions. */
export interface CachedEndpoint {
  ip: string
  family: 'IPv4' | 'IPv6'
  /** The endpoint's hostname, if it has one (DNS names the others by their dashed IP). */
  hostname: string | null
  ports: EndpointPort[]
  weight: number
  ready: boolean
  terminating: boolean
  /** The pod behind the endpoint ('' for Endpoints a user wrote). */
  pod: string
  node: string | null
  zone: string | null
}

export interface CachedService {
  namespace: string
  name: string
  type: ServiceType
  headless: boolean
  clusterIPs: string[]
  externalName?: string
  ports: { name: string; port: number; protocol: string }[]
  /** Every endpoint, served or not. */
  endpoints: CachedEndpoint[]
}

export interface ServiceLookup {
  serial: number
  namespaceExists: boolean
  service: CachedService | null
}

export interface AddressLookup {
  serial: number
  /** Services whose ClusterIP is the address. */
  services: { namespace: string; name: string }[]
  /** Served endpoints with the address (see `isServed`): the service they belong to and their hostname, if any. */
  endpoints: { namespace: string; service: string; hostname: string | null }[]
}

interface Entry<T> {
  value: T
  expires: number
}

/** Entries kept at most; beyond that the cache starts again. */
const MAX_ENTRIES = 50_000

export class DiscoveryCache {
  private readonly cache = new Map<string, Entry<unknown>>()

  constructor(
    private readonly store: Store,
    private readonly maxAgeMs: number,
    private readonly now: () => number,
  ) {
    store.onWrite(() => {
      this.cache.clear()
      for (const listener of this.listeners) listener()
    })
  }

  private readonly listeners: (() => void)[] = []

  /** Calls `listener` whenever the cache is dropped by a write. */
  onInvalidate(listener: () => void): void {
    this.listeners.push(listener)
  }

  service(namespace: string, name: string): Promise<ServiceLookup> {
    return this.cached(`s/${namespace}/${name}`, async () => {
      const r = await this.store.serviceWithEndpoints(namespace, name)
      return { serial: r.rv, namespaceExists: r.namespaceExists, service: r.service ? toService(r.service, r.rows) : null }
    })
  }

  namespace(namespace: string): Promise<{ serial: number; exists: boolean }> {
    return this.cached(`n/${namespace}`, async () => {
      const r = await this.store.namespaceExists(namespace)
      return { serial: r.rv, exists: r.exists }
    })
  }

  address(ip: string): Promise<AddressLookup> {
    return this.cached(`a/${ip}`, async () => {
      const r = await this.store.endpointsByAddress(ip)
      return {
        serial: r.rv,
        services: r.services,
        endpoints: r.rows
          .filter(isServed)
          .map((row) => ({ namespace: row.namespace, service: row.service, hostname: row.hostname })),
      }
    })
  }

  /** The registry's resourceVersion, for the SOA serial. */
  serial(): Promise<number> {
    return this.cached('rv', () => this.store.resourceVersion())
  }

  private async cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.cache.get(key)
    const now = this.now()
    if (hit && hit.expires > now) return hit.value as T
    const value = await load()
    if (this.cache.size >= MAX_ENTRIES) this.cache.clear()
    this.cache.set(key, { value, expires: now + this.maxAgeMs })
    return value
  }
}

function toService(row: ServiceSourceRow, rows: EndpointRow[]): CachedService {
  const svc = row.body as unknown as ServiceObject
  const headless = svc.spec.clusterIP === 'None'
  return {
    namespace: row.namespace,
    name: row.name,
    type: svc.spec.type,
    headless,
    clusterIPs: headless ? [] : (svc.spec.clusterIPs ?? []).filter((ip) => ip !== 'None'),
    ...(svc.spec.type === 'ExternalName' && svc.spec.externalName ? { externalName: svc.spec.externalName } : {}),
    ports: (svc.spec.ports ?? []).map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol })),
    endpoints: rows.map((r) => ({
      ip: r.ip,
      family: r.family,
      hostname: r.hostname,
      ports: JSON.parse(r.ports) as EndpointPort[],
      weight: r.weight,
      ready: r.ready === 1,
      terminating: r.terminating === 1,
      pod: r.pod,
      node: r.node_name,
      zone: r.zone,
    })),
  }
}
