/**
 * The inputs of the hot reads (DNS and the pick), cached per key: each answer's inputs (a
 * service and its endpoints `s/<ns>/<name>`, a namespace `n/<ns>`, an address `a/<ip>`)
 * are read once in one consistent query and kept until an event of the change feed
 * affects them. Every read first brings the feed up to date (`feed.sync()`: at once after
 * a write through this process, otherwise at most once per catch-up interval), so a
 * local write is seen by the next read and another process's write within the interval.
 *
 * Which events drop which entries (`dropsOf`):
 * - Service or Endpoints (user-written, or the computed endpoints of a service): that
 *   service's entry;
 * - Namespace: the namespace's entry and those of all its services;
 * - Pod: no service entry (a pod's effect on endpoints arrives as an Endpoints event);
 * - addresses (reverse lookups, rare): a Pod event drops the entries of the pod's
 *   addresses, old and new; a user-written Endpoints event those of its addresses; a
 *   Service or Namespace event drops every address entry, since a changed selector moves
 *   endpoints between services with no pod event, and services change seldom;
 * - a reset of the feed (events lost to compaction) drops everything.
 * The zone's SOA serial is the feed's latest resourceVersion, read from memory.
 *
 * Pods bound to a lease are judged when answering, not when read: each entry keeps the
 * endpoints as stored, and a judged view of them (endpoints whose lease no longer holds
 * read as not ready, see lease-expiry.ts) that is made again only when a lease it judged
 * lapses or comes back. A renewal updates the lease book and drops nothing.
 *
 * Entries also expire after `maxAgeMs` (the DNS TTL): the log records every write made
 * through the registry, but not a change made to the database behind its back (SQL by
 * hand, a restored backup); the TTL bounds how long such a change can go unseen, for one
 * read per key per TTL.
 */
import type { EndpointRow, ServiceSourceRow } from '../db/endpoint-reads'
import type { Store } from '../db/store'
import type { ChangeEvent, ChangeFeed, FeedUpdate } from './change-feed'
import { isServed, withAddressPolicy, withLapsedLease } from './endpoint-conditions'
import type { AddressPolicy } from './endpoint-address'
import type { EndpointPort } from './endpoint-views'
import type { LeaseBook } from './lease-book'
import { rowLease, type LeaseState } from './lease-expiry'
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
  /** The lease that keeps the pod alive, if it names one. */
  lease: string | null
  /** Set in a judged view: the pod's lease does not hold now. */
  leaseLapsed?: boolean
  /** Set when the address may not be handed out (see `withAddressPolicy`): read as not ready. */
  unservable?: boolean
}

export interface CachedService {
  namespace: string
  name: string
  type: ServiceType
  headless: boolean
  clusterIPs: string[]
  externalName?: string
  publishNotReady: boolean
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

/** The key of the zone serial among the inputs an answer was built from (see `Inputs`). */
const SERIAL = 'serial'

/**
 * The inputs an answer was built from: cache key → the entry and the judged view it read
 * (or the serial). An answer built from them is current while `DiscoveryCache.current`
 * holds for them.
 */
export type Inputs = Map<string, unknown>

/** What an answer read of one entry: the entry, and the view of it judged against the leases. */
interface Read {
  entry: Entry<unknown>
  view: unknown
}

/** A view of an entry's value judged against the leases, valid until `until` while the leases it found lapsed stay lapsed. */
interface Judged<T> {
  value: T
  /** When the first lease that held lapses. */
  until: number
  /** The lapsed leases (`<namespace>/<name>`), sorted: the view stays right while this set does. */
  lapsed: string[]
  /** The lease book's version when the view was last checked. */
  version: number
}

/** The reads an answer is built from (the cache itself, or a view of it that records them). */
export interface DiscoveryReads {
  service(namespace: string, name: string): Promise<ServiceLookup>
  namespace(namespace: string): Promise<{ serial: number; exists: boolean }>
  address(ip: string): Promise<AddressLookup>
  serial(): Promise<number>
}

interface Entry<T> {
  value: T
  /** The registry's resourceVersion the value was read at. */
  rv: number
  expires: number
  /** Judges the value against the leases (absent: nothing in it is bound to a lease). */
  judge?: (value: T, nowMs: number) => Judged<T>
  judged?: Judged<T>
}

/** What one event makes stale: exact keys, key prefixes, and whether every address entry. */
interface Drops {
  keys: string[]
  prefixes: string[]
  allAddresses: boolean
}

/** Entries kept at most; beyond that the cache starts again. */
const MAX_ENTRIES = 50_000

export class DiscoveryCache implements DiscoveryReads {
  private readonly cache = new Map<string, Entry<unknown>>()
  /** Loads in flight, by key: the newest resourceVersion of an event that affected the key meanwhile. */
  private readonly loading = new Map<string, { promise: Promise<Entry<unknown>>; staleAfter: number }>()
  /** Database reads made so far (for the benchmarks: a write elsewhere should cause none). */
  loads = 0
  /** Lookups answered from a fresh entry, and lookups that had to wait for a load (/metrics). */
  hits = 0
  misses = 0

  constructor(
    private readonly store: Store,
    private readonly feed: ChangeFeed,
    private readonly leases: LeaseBook,
    private readonly maxAgeMs: number,
    private readonly now: () => number,
    /** Which stored addresses may be handed out (see `withAddressPolicy`). */
    private readonly addresses: AddressPolicy,
  ) {
    feed.subscribe((update) => this.apply(update))
    leases.onForget(() => this.apply({ reset: true }))
  }

  /** Brings this cache up to date with the change log (see ChangeFeed.sync). */
  sync(): Promise<void> {
    return this.feed.sync()
  }

  service(namespace: string, name: string, inputs?: Inputs): Promise<ServiceLookup> {
    return this.cached(`s/${namespace}/${name}`, inputs, async () => {
      const r = await this.store.serviceWithEndpoints(namespace, name)
      this.observeLeases(r.rows, r.rv)
      const service = r.service ? toService(r.service, r.rows, this.addresses) : null
      const value = { serial: r.rv, namespaceExists: r.namespaceExists, service }
      const leased = service?.endpoints.some((e) => e.lease !== null) ?? false
      return { value, rv: r.rv, ...(leased ? { judge: (v: ServiceLookup, now: number) => this.judgeService(v, now) } : {}) }
    })
  }

  namespace(namespace: string, inputs?: Inputs): Promise<{ serial: number; exists: boolean }> {
    return this.cached(`n/${namespace}`, inputs, async () => {
      const r = await this.store.namespaceExists(namespace)
      return { value: { serial: r.rv, exists: r.exists }, rv: r.rv }
    })
  }

  address(ip: string, inputs?: Inputs): Promise<AddressLookup> {
    return this.cached(`a/${ip}`, inputs, async () => {
      const r = await this.store.endpointsByAddress(ip)
      this.observeLeases(r.rows, r.rv)
      // The endpoints served, with those of the `lapsed` leases read as not ready.
      const served = (lapsed: Set<string>) =>
        r.rows
          .map((row) => withAddressPolicy(row, this.addresses))
          .filter((row) => isServed(row.lease !== null && lapsed.has(`${row.namespace}/${row.lease}`) ? withLapsedLease(row, row.publish_not_ready === 1) : row))
          .map((row) => ({ namespace: row.namespace, service: row.service, hostname: row.hostname }))
      const value: AddressLookup = { serial: r.rv, services: r.services, endpoints: served(new Set()) }
      const judge = (v: AddressLookup, now: number): Judged<AddressLookup> => {
        const { until, lapsed } = this.scanLeases(r.rows, now)
        return { value: lapsed.size ? { ...v, endpoints: served(lapsed) } : v, until, lapsed: [...lapsed].sort(), version: this.leases.version }
      }
      return { value, rv: r.rv, ...(r.rows.some((row) => row.lease !== null) ? { judge } : {}) }
    })
  }

  /** The registry's resourceVersion as this process last saw it in the log, for the SOA serial. */
  async serial(inputs?: Inputs): Promise<number> {
    await this.feed.sync()
    const rv = this.feed.latest
    inputs?.set(SERIAL, rv)
    return rv
  }

  /** The same reads, each recording into `inputs` the entry it read. */
  recording(inputs: Inputs): DiscoveryReads {
    return {
      service: (namespace, name) => this.service(namespace, name, inputs),
      namespace: (namespace) => this.namespace(namespace, inputs),
      address: (ip) => this.address(ip, inputs),
      serial: () => this.serial(inputs),
    }
  }

  /**
   * Whether an answer built from `inputs` is still current: every entry it read is still
   * the cached one (none was dropped, replaced or expired since), and the serial, if it
   * read it, has not moved. Call after `sync()`.
   */
  current(inputs: Inputs): boolean {
    const now = this.now()
    for (const [key, seen] of inputs) {
      if (key === SERIAL) {
        if (seen !== this.feed.latest) return false
        continue
      }
      const entry = this.cache.get(key)
      const read = seen as Read
      if (!entry || entry !== read.entry || entry.expires <= now || this.view(entry) !== read.view) return false
    }
    return true
  }

  /** The entry's value as it stands now: judged against the leases when it has pods bound to one. */
  private view<T>(entry: Entry<T>): T {
    if (!entry.judge) return entry.value
    const now = this.now()
    const judged = entry.judged
    if (judged && now < judged.until) {
      if (judged.version === this.leases.version) return judged.value
      // Some lease changed: the view stands while every lapsed lease it found is still lapsed.
      if (!judged.lapsed.some((key) => this.leases.holds(...splitKey(key), now))) {
        judged.version = this.leases.version
        return judged.value
      }
    }
    const next = entry.judge(entry.value, now)
    // The same leases lapsed as before: keep the view (and so every answer built from it).
    if (judged && judged.lapsed.length === next.lapsed.length && judged.lapsed.every((k, i) => k === next.lapsed[i])) {
      judged.until = next.until
      judged.version = next.version
      return judged.value
    }
    entry.judged = next
    return next.value
  }

  /** A service lookup with the endpoints whose lease does not hold now read as not ready. */
  private judgeService(lookup: ServiceLookup, now: number): Judged<ServiceLookup> {
    const version = this.leases.version
    const service = lookup.service!
    const { until, lapsed } = this.scanLeases(service.endpoints.map((e) => ({ namespace: service.namespace, lease: e.lease })), now)
    if (lapsed.size === 0) return { value: lookup, until, lapsed: [], version }
    const endpoints = service.endpoints.map((e) =>
      e.lease !== null && lapsed.has(`${service.namespace}/${e.lease}`) ? { ...withLapsedLease(e, service.publishNotReady), leaseLapsed: true } : e,
    )
    return { value: { ...lookup, service: { ...service, endpoints } }, until, lapsed: [...lapsed].sort(), version }
  }

  /** The leases named that do not hold at `now` (`<namespace>/<name>`), and when the first that holds lapses. */
  private scanLeases(items: { namespace: string; lease: string | null }[], now: number): { until: number; lapsed: Set<string> } {
    let until = Number.POSITIVE_INFINITY
    const lapsed = new Set<string>()
    for (const { namespace, lease } of items) {
      if (lease === null) continue
      const at = this.leases.lapsesAt(namespace, lease)
      if (now < at) until = Math.min(until, at)
      else lapsed.add(`${namespace}/${lease}`)
    }
    return { until, lapsed }
  }

  /** Tells the lease book the states of the leases named by endpoint rows read at `rv`. */
  private observeLeases(rows: EndpointRow[], rv: number): void {
    const byNamespace = new Map<string, { names: Set<string>; rows: (LeaseState & { name: string })[] }>()
    for (const row of rows) {
      if (row.lease === null) continue
      let ns = byNamespace.get(row.namespace)
      if (!ns) byNamespace.set(row.namespace, (ns = { names: new Set(), rows: [] }))
      if (ns.names.has(row.lease)) continue
      ns.names.add(row.lease)
      const state = rowLease(row)
      if (state) ns.rows.push({ name: row.lease, ...state })
    }
    for (const [namespace, { names, rows: found }] of byNamespace) this.leases.observe(namespace, names, found, rv)
  }

  private async cached<T>(
    key: string,
    inputs: Inputs | undefined,
    load: () => Promise<{ value: T; rv: number; judge?: (value: T, nowMs: number) => Judged<T> }>,
  ): Promise<T> {
    await this.feed.sync()
    await this.leases.fresh()
    const hit = this.cache.get(key) as Entry<T> | undefined
    if (hit && hit.expires > this.now()) {
      this.hits++
      return this.read(hit, key, inputs)
    }
    this.misses++
    let pending = this.loading.get(key)
    // A load that an event has overtaken may predate it (a write this caller made, say): start another.
    if (!pending || pending.staleAfter >= 0) {
      const started = { promise: undefined as unknown as Promise<Entry<unknown>>, staleAfter: -1 }
      this.loads++
      started.promise = load()
        .then(({ value, rv, judge }) => {
          const entry: Entry<unknown> = { value, rv, expires: this.now() + this.maxAgeMs, ...(judge ? { judge: judge as Entry<unknown>['judge'] } : {}) }
          // An event after what the load read made it stale while it ran: answer with it, keep nothing.
          if (started.staleAfter <= rv) {
            if (this.cache.size >= MAX_ENTRIES) this.cache.clear()
            this.cache.set(key, entry)
          }
          return entry
        })
        .finally(() => {
          if (this.loading.get(key) === started) this.loading.delete(key)
        })
      this.loading.set(key, started)
      pending = started
    }
    const entry = (await pending.promise) as Entry<T>
    return this.read(entry, key, inputs)
  }

  /** The entry's current view, recorded in `inputs`. */
  private read<T>(entry: Entry<T>, key: string, inputs: Inputs | undefined): T {
    const view = this.view(entry)
    inputs?.set(key, { entry: entry as Entry<unknown>, view } satisfies Read)
    return view
  }

  private apply(update: FeedUpdate): void {
    if ('reset' in update) {
      this.cache.clear()
      for (const pending of this.loading.values()) pending.staleAfter = Number.MAX_SAFE_INTEGER
      return
    }
    for (const event of update.events) {
      const drops = dropsOf(event)
      for (const key of drops.keys) this.drop(key, event.rv)
      if (drops.prefixes.length || drops.allAddresses) {
        const hit = (key: string) => drops.prefixes.some((p) => key.startsWith(p)) || (drops.allAddresses && key.startsWith('a/'))
        for (const key of [...this.cache.keys(), ...this.loading.keys()]) if (hit(key)) this.drop(key, event.rv)
      }
    }
  }

  /** Drops the entry at `key` if it was read before the event at `rv`, and marks a load in flight stale. */
  private drop(key: string, rv: number): void {
    const entry = this.cache.get(key)
    if (entry && entry.rv < rv) this.cache.delete(key)
    const pending = this.loading.get(key)
    if (pending) pending.staleAfter = Math.max(pending.staleAfter, rv)
  }
}

/** The cache entries an event makes stale (see the comment at the top). */
export function dropsOf(event: ChangeEvent): Drops {
  const { kind, namespace, name } = event
  switch (kind) {
    case 'Service':
      return { keys: [`s/${namespace}/${name}`], prefixes: [], allAddresses: true }
    case 'Endpoints':
      return { keys: [`s/${namespace}/${name}`, ...addressKeys(event, endpointsAddresses)], prefixes: [], allAddresses: false }
    case 'Namespace':
      return { keys: [`n/${name}`], prefixes: [`s/${name}/`], allAddresses: true }
    case 'Pod':
      return { keys: addressKeys(event, podAddresses), prefixes: [], allAddresses: false }
    default:
      return { keys: [], prefixes: [], allAddresses: false }
  }
}

function addressKeys(event: ChangeEvent, addresses: (object: Record<string, unknown>) => string[]): string[] {
  const ips = new Set<string>()
  for (const object of [event.object, event.oldObject]) if (object) for (const ip of addresses(object)) ips.add(ip)
  return [...ips].map((ip) => `a/${ip}`)
}

/** A pod's addresses, as the cache keys its reverse lookups (event-before.ts compares them too). */
export function podAddresses(pod: Record<string, unknown>): string[] {
  const status = (pod.status ?? {}) as { podIP?: string; podIPs?: { ip: string }[] }
  return [...(status.podIP ? [status.podIP] : []), ...(status.podIPs ?? []).map((p) => p.ip)]
}

function endpointsAddresses(endpoints: Record<string, unknown>): string[] {
  const subsets = (endpoints.subsets ?? []) as { addresses?: { ip: string }[]; notReadyAddresses?: { ip: string }[] }[]
  return subsets.flatMap((s) => [...(s.addresses ?? []), ...(s.notReadyAddresses ?? [])].map((a) => a.ip))
}

function splitKey(key: string): [string, string] {
  const slash = key.indexOf('/')
  return [key.slice(0, slash), key.slice(slash + 1)]
}

function toService(row: ServiceSourceRow, rows: EndpointRow[], addresses: AddressPolicy): CachedService {
  const svc = row.body as unknown as ServiceObject
  const headless = svc.spec.clusterIP === 'None'
  return {
    namespace: row.namespace,
    name: row.name,
    type: svc.spec.type,
    headless,
    clusterIPs: headless ? [] : (svc.spec.clusterIPs ?? []).filter((ip) => ip !== 'None'),
    ...(svc.spec.type === 'ExternalName' && svc.spec.externalName ? { externalName: svc.spec.externalName } : {}),
    publishNotReady: svc.spec.publishNotReadyAddresses === true,
    ports: (svc.spec.ports ?? []).map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol })),
    endpoints: rows.map((row) => {
      const r = withAddressPolicy(row, addresses)
      return {
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
      lease: r.lease,
      ...(r === row ? {} : { unservable: true }),
      }
    }),
  }
}
