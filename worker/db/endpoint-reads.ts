/**
 * The reads behind the endpoint views: the stored endpoint rows with the services they
 * belong to, each read in one consistent batch (the list pages also from a snapshot). Pages of the Endpoints and EndpointSlice
 * lists (keyset over (namespace, service), filtered by namespace in SQL), and the
 * lookups that DNS and the pick make: a service with its endpoints, a namespace, an
 * address.
 */
import type { SQL } from 'drizzle-orm'
import { sql } from './sql'
import type { Database } from './client'
import { hasComputedEndpoints } from './endpoint-rows'
import { listWhere } from './filters'
import { RESOURCE_VERSION, readResourceVersion, rvOf } from './objects'
import { pageOf } from './page'
import type { ReadAll } from './snapshot'

/** A service as the endpoint views need it. */
export interface ServiceSourceRow {
  namespace: string
  name: string
  rv: number
  endpoints_rv: number
  selector_size: number
  type: string
  /** 1 when the service's endpoints are computed from its selector (see `hasComputedEndpoints`). */
  computed: number
  body: Record<string, unknown>
}

/** One stored endpoint: a (service, pod, IP) with its conditions and resolved ports. */
export interface EndpointRow {
  namespace: string
  service: string
  pod: string
  pod_uid: string | null
  ip: string
  family: 'IPv4' | 'IPv6'
  ready: number
  serving: number
  terminating: number
  weight: number
  hostname: string | null
  node_name: string | null
  zone: string | null
  ports: string
  rv: number
  /** The pod's lease and its state when read (`lease_exists` 0: no such lease). */
  lease: string | null
  lease_exists: number
  lease_holder: string | null
  lease_duration_seconds: number | null
  lease_renew_ms: number | null
  lease_expires_ms: number | null
  /** Address lookups only: the service's publishNotReadyAddresses as 0/1. */
  publish_not_ready?: number
}

export interface UserEndpointsRow {
  namespace: string
  name: string
  rv: number
  body: Record<string, unknown>
}

export interface EndpointSources {
  rv: number
  services: ServiceSourceRow[]
  rows: EndpointRow[]
  user: UserEndpointsRow[]
  /** The (namespace, service) of the page's last key when more keys follow. */
  next?: { namespace: string; name: string }
}

/**
 * Which (namespace, service) keys a read covers. The keys of `endpoints` are the
 * services with computed endpoints and the Endpoints users wrote; those of `slices` are
 * the services with computed endpoints and those whose user-written Endpoints are
 * mirrored.
 */
export interface EndpointScope {
  view: 'endpoints' | 'slices'
  namespace?: string
  /** Only these namespaces (a token's reach). */
  namespaces?: string[]
  /** One service (with `namespace`). */
  service?: string
  /** Keys strictly after this one... */
  after?: { namespace: string; name: string }
  /** ...or from this one on. */
  from?: { namespace: string; name: string }
  /** At most this many keys, each with all its rows. */
  limit?: number
}

/** The columns a `ServiceSourceRow` is read from, on the services table aliased `s`. */
const SERVICE_COLUMNS = sql`s.namespace, s.name, s.rv, s.endpoints_rv, s.selector_size, s.type, ${hasComputedEndpoints('s')} AS computed, s.body`
/** The columns an `EndpointRow` is read from, on the endpoints table aliased `e` joined with `LEASE_JOIN`. */
const ENDPOINT_COLUMNS = sql.raw(
  'e.namespace, e.service, e.pod, e.pod_uid, e.ip, e.family, e.ready, e.serving, e.terminating, e.weight, e.hostname, e.node_name, e.zone, e.ports, e.rv, ' +
    'e.lease, l.name IS NOT NULL AS lease_exists, l.holder AS lease_holder, l.duration_seconds AS lease_duration_seconds, ' +
    'l.renew_ms AS lease_renew_ms, l.expires_ms AS lease_expires_ms',
)
/** The lease of each endpoint's pod, for judging it when answering (registry/lease-expiry.ts). */
const LEASE_JOIN = sql.raw('LEFT JOIN leases l ON l.namespace = e.namespace AND l.name = e.lease')

type ServiceRowJson = Omit<ServiceSourceRow, 'body'> & { body: string }

function serviceRow(s: ServiceRowJson): ServiceSourceRow {
  return { ...s, rv: Number(s.rv), endpoints_rv: Number(s.endpoints_rv), computed: Number(s.computed), body: JSON.parse(s.body) }
}

/** The scope's conditions on a table whose key columns are `<alias>.namespace` and `<alias>.name`. */
function scopeWhere(scope: EndpointScope, alias: string): SQL {
  const namespace = sql.raw(`${alias}.namespace`)
  const name = sql.raw(`${alias}.name`)
  const terms = [
    listWhere('', { namespace, name }, scope, (field) => {
      throw new Error(`no field ${field} in an endpoint scope`)
    }),
  ]
  if (scope.service !== undefined) terms.push(sql`${name} = ${scope.service}`)
  if (scope.from) terms.push(sql`(${namespace}, ${name}) >= (${scope.from.namespace}, ${scope.from.name})`)
  return sql.join(terms, sql` AND `)
}

/** The keys of a scope, in (namespace, name) order, at most `limit`. */
function keys(scope: EndpointScope, limit: number | undefined): SQL {
  const bound = limit ? sql` LIMIT ${limit}` : sql``
  if (scope.view === 'slices') {
    return sql`SELECT s.namespace, s.name FROM services s
      WHERE ${scopeWhere(scope, 's')} AND (${hasComputedEndpoints('s')}
        OR EXISTS (SELECT 1 FROM user_endpoints u WHERE u.namespace = s.namespace AND u.name = s.name))
      ORDER BY s.namespace, s.name${bound}`
  }
  return sql`SELECT s.namespace, s.name FROM services s WHERE ${scopeWhere(scope, 's')} AND ${hasComputedEndpoints('s')}
    UNION SELECT u.namespace, u.name FROM user_endpoints u WHERE ${scopeWhere(scope, 'u')}
    ORDER BY 1, 2${bound}`
}

/**
 * Everything the Endpoints and EndpointSlice views of a scope are built from, read in
 * one consistent read (one batch, or a snapshot's reads: see snapshot.ts): its services,
 * their endpoint rows, and the Endpoints objects users wrote, for the first `limit` keys
 * of the scope (all when no limit).
 */
export async function endpointSources(read: ReadAll, scope: EndpointScope): Promise<EndpointSources> {
  const page = sql`WITH page (namespace, name) AS (${keys(scope, scope.limit)})`
  const [rv, services, rows, user, more] = (await read([
    RESOURCE_VERSION,
    sql`${page} SELECT ${SERVICE_COLUMNS} FROM page p CROSS JOIN services s ON s.namespace = p.namespace AND s.name = p.name
                ORDER BY s.namespace, s.name`,
    sql`${page} SELECT ${ENDPOINT_COLUMNS} FROM page p CROSS JOIN endpoints e ON e.namespace = p.namespace AND e.service = p.name
                ${LEASE_JOIN} ORDER BY e.namespace, e.service, e.pod, e.ip`,
    sql`${page} SELECT u.namespace, u.name, u.rv, u.body FROM page p CROSS JOIN user_endpoints u ON u.namespace = p.namespace AND u.name = p.name
                ORDER BY u.namespace, u.name`,
    // One key beyond the page tells whether more follow.
    ...(scope.limit ? [keys(scope, scope.limit + 1)] : []),
  ])) as [unknown, ServiceRowJson[], EndpointRow[], (Omit<UserEndpointsRow, 'body'> & { body: string })[], { namespace: string; name: string }[]?]
  const { last } = pageOf(more ?? [], scope.limit)
  return {
    rv: rvOf(rv),
    services: services.map(serviceRow),
    rows,
    user: user.map((u) => ({ namespace: u.namespace, name: u.name, rv: Number(u.rv), body: JSON.parse(u.body) })),
    ...(last ? { next: { namespace: last.namespace, name: last.name } } : {}),
  }
}

/** A service with its endpoint rows and whether its namespace exists, in one consistent read. */
export async function serviceWithEndpoints(
  db: Database,
  namespace: string,
  name: string,
): Promise<{ namespaceExists: boolean; rv: number; service: ServiceSourceRow | null; rows: EndpointRow[] }> {
  const [ns, rv, svc, rows] = (await db.batch([
    db.all(sql`SELECT 1 AS one FROM namespaces WHERE name = ${namespace}`),
    readResourceVersion(db),
    db.all(sql`SELECT ${SERVICE_COLUMNS} FROM services s WHERE s.namespace = ${namespace} AND s.name = ${name}`),
    // `+e.pod`: sorting must not make SQLite walk endpoints_by_pod (every endpoint of the namespace)
    // instead of endpoints_by_service (this service's): 39 ms against 0.8 ms at 100k endpoints.
    db.all(sql`SELECT ${ENDPOINT_COLUMNS} FROM endpoints e ${LEASE_JOIN} WHERE e.namespace = ${namespace} AND e.service = ${name} ORDER BY +e.pod, e.ip`),
  ])) as [unknown[], unknown, ServiceRowJson[], EndpointRow[]]
  const s = svc[0]
  return { namespaceExists: ns.length > 0, rv: rvOf(rv), service: s ? serviceRow(s) : null, rows }
}

/** Whether a namespace exists, and the registry's resourceVersion. */
export async function namespaceExists(db: Database, namespace: string): Promise<{ exists: boolean; rv: number }> {
  const [ns, rv] = (await db.batch([
    db.all(sql`SELECT 1 AS one FROM namespaces WHERE name = ${namespace}`),
    readResourceVersion(db),
  ])) as [unknown[], unknown]
  return { exists: ns.length > 0, rv: rvOf(rv) }
}

/** The services whose ClusterIP is `ip`, and the endpoint rows (of existing services) with that address. */
export async function endpointsByAddress(
  db: Database,
  ip: string,
): Promise<{ rv: number; services: { namespace: string; name: string }[]; rows: EndpointRow[] }> {
  const [rv, services, rows] = (await db.batch([
    readResourceVersion(db),
    db.all(sql`SELECT namespace, service AS name FROM cluster_ips WHERE ip = ${ip} ORDER BY namespace, service`),
    db.all(sql`SELECT ${ENDPOINT_COLUMNS}, s.publish_not_ready FROM endpoints e JOIN services s ON s.namespace = e.namespace AND s.name = e.service
                ${LEASE_JOIN} WHERE e.ip = ${ip} ORDER BY e.namespace, e.service, e.pod`),
  ])) as [unknown, { namespace: string; name: string }[], EndpointRow[]]
  return { rv: rvOf(rv), services, rows }
}
