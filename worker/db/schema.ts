/**
 * The drizzle schema: every table of the registry.
 *
 * Objects are stored whole as JSON (`body`, without `metadata.resourceVersion`, which
 * lives in the `rv` column) beside the columns that SQL needs to select, match and
 * guard them: labels and selectors as key/value rows so that selectors match in SQL,
 * ports as rows so that named target ports resolve in SQL, and the computed endpoints
 * as rows written by the same batch as the change that caused them.
 */
import { sql } from 'drizzle-orm'
import { check, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'

/** Registry-wide counters; the row `resourceVersion` is bumped by every write. */
export const meta = sqliteTable('meta', {
  key: text('key').primaryKey(),
  value: integer('value').notNull(),
})

/**
 * Preconditions inside a batch. A guard statement inserts a row only when its
 * precondition is false; every code violates its named CHECK, so the statement fails
 * and the whole batch rolls back. The constraint name tells which precondition failed.
 */
export const GUARD_CODES = ['missing_namespace', 'not_found', 'conflict', 'exists'] as const
export type GuardCode = (typeof GUARD_CODES)[number]

export const guard = sqliteTable(
  'guard',
  { code: text('code').notNull() },
  (t) => GUARD_CODES.map((code) => check(`guard_${code}`, sql`${t.code} <> ${sql.raw(`'${code}'`)}`)),
)

export const namespaces = sqliteTable('namespaces', {
  name: text('name').primaryKey(),
  uid: text('uid').notNull(),
  rv: integer('rv').notNull(),
  body: text('body').notNull(),
})

export const services = sqliteTable(
  'services',
  {
    namespace: text('namespace').notNull(),
    name: text('name').notNull(),
    uid: text('uid').notNull(),
    rv: integer('rv').notNull(),
    type: text('type').notNull(),
    clusterIP: text('cluster_ip'),
    /** Number of selector pairs; 0 means the service has no computed endpoints. */
    selectorSize: integer('selector_size').notNull(),
    publishNotReady: integer('publish_not_ready').notNull(),
    /** The resourceVersion of the last write that changed this service's endpoints. */
    endpointsRv: integer('endpoints_rv').notNull().default(0),
    body: text('body').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.namespace, t.name] }),
    index('services_by_type').on(t.type),
    // The services a write changed the endpoints of (endpoint-rows.ts `endpointChanges`), found without reading the namespace's others.
    index('services_by_endpoints_rv').on(t.namespace, t.endpointsRv),
  ],
)

/** A service's selector, one row a pair, for matching in SQL. */
export const selectors = sqliteTable(
  'selectors',
  {
    namespace: text('namespace').notNull(),
    service: text('service').notNull(),
    key: text('key').notNull(),
    value: text('value').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.namespace, t.service, t.key] }),
    index('selectors_by_pair').on(t.namespace, t.key, t.value),
  ],
)

/** A service's ports, in order, with the target port as a number or a name. */
export const servicePorts = sqliteTable(
  'service_ports',
  {
    namespace: text('namespace').notNull(),
    service: text('service').notNull(),
    idx: integer('idx').notNull(),
    name: text('name').notNull(),
    protocol: text('protocol').notNull(),
    port: integer('port').notNull(),
    targetPort: integer('target_port'),
    targetPortName: text('target_port_name'),
    appProtocol: text('app_protocol'),
  },
  (t) => [primaryKey({ columns: [t.namespace, t.service, t.idx] })],
)

/** Allocated ClusterIPs: unique across the registry. */
export const clusterIPs = sqliteTable(
  'cluster_ips',
  {
    ip: text('ip').primaryKey(),
    namespace: text('namespace').notNull(),
    service: text('service').notNull(),
  },
  (t) => [index('cluster_ips_by_service').on(t.namespace, t.service)],
)

/** Allocated NodePorts: unique across the registry. */
export const nodePorts = sqliteTable(
  'node_ports',
  {
    port: integer('port').primaryKey(),
    namespace: text('namespace').notNull(),
    service: text('service').notNull(),
  },
  (t) => [index('node_ports_by_service').on(t.namespace, t.service)],
)

export const pods = sqliteTable(
  'pods',
  {
    namespace: text('namespace').notNull(),
    name: text('name').notNull(),
    uid: text('uid').notNull(),
    rv: integer('rv').notNull(),
    nodeName: text('node_name'),
    phase: text('phase'),
    podIP: text('pod_ip'),
    ready: integer('ready').notNull(),
    weight: integer('weight').notNull(),
    deletionTimestamp: text('deletion_timestamp'),
    zone: text('zone'),
    /** The Lease (same namespace) that keeps the pod alive: its `switchboard.dev/lease` annotation. */
    lease: text('lease'),
    /** 1 while the pod reads Ready=False for its lapsed lease (reason LeaseExpired): a renewal restores these. */
    leaseLapsed: integer('lease_lapsed').notNull().default(0),
    body: text('body').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.namespace, t.name] }),
    index('pods_by_lease').on(t.namespace, t.lease),
    index('pods_by_node').on(t.nodeName),
    index('pods_by_ip').on(t.podIP),
    index('pods_by_deletion').on(t.deletionTimestamp),
  ],
)

/** A pod's named container ports, for resolving named target ports in SQL. */
export const podPorts = sqliteTable(
  'pod_ports',
  {
    namespace: text('namespace').notNull(),
    pod: text('pod').notNull(),
    name: text('name').notNull(),
    protocol: text('protocol').notNull(),
    port: integer('port').notNull(),
  },
  (t) => [primaryKey({ columns: [t.namespace, t.pod, t.name, t.protocol] })],
)

/** Labels of every kind of object, one row a pair, for label selectors in SQL. */
export const labels = sqliteTable(
  'labels',
  {
    kind: text('kind').notNull(),
    namespace: text('namespace').notNull(),
    name: text('name').notNull(),
    key: text('key').notNull(),
    value: text('value').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.kind, t.namespace, t.name, t.key] }),
    index('labels_by_pair').on(t.kind, t.namespace, t.key, t.value),
  ],
)

/**
 * The computed endpoints: one row per (service, pod, pod IP), written by the same batch
 * as the pod or service change that caused it. `ports` is the JSON list of the
 * service's ports resolved for that pod (named target ports through `pod_ports`).
 * Rows with `pod = ''` come from Endpoints that users wrote for selectorless services.
 */
export const endpoints = sqliteTable(
  'endpoints',
  {
    namespace: text('namespace').notNull(),
    service: text('service').notNull(),
    pod: text('pod').notNull(),
    podUid: text('pod_uid'),
    ip: text('ip').notNull(),
    family: text('family').notNull(),
    ready: integer('ready').notNull(),
    serving: integer('serving').notNull(),
    terminating: integer('terminating').notNull(),
    weight: integer('weight').notNull(),
    hostname: text('hostname'),
    nodeName: text('node_name'),
    zone: text('zone'),
    /** The pod's lease, copied from `pods.lease`: DNS, the pick and the views judge it when they answer. */
    lease: text('lease'),
    ports: text('ports').notNull(),
    rv: integer('rv').notNull(),
  },
  (t) => [
    index('endpoints_by_service').on(t.namespace, t.service),
    index('endpoints_by_pod').on(t.namespace, t.pod),
    index('endpoints_by_ip').on(t.ip),
  ],
)

/** Endpoints objects written by users for selectorless services, as they wrote them. */
export const userEndpoints = sqliteTable(
  'user_endpoints',
  {
    namespace: text('namespace').notNull(),
    name: text('name').notNull(),
    uid: text('uid').notNull(),
    rv: integer('rv').notNull(),
    body: text('body').notNull(),
  },
  (t) => [primaryKey({ columns: [t.namespace, t.name] })],
)

/**
 * Leases (coordination.k8s.io/v1). Besides the body: the holder, the duration, the last
 * renewal (`renew_ms`, ms since the epoch) and `expires_ms`, when the lease lapses unless
 * renewed (renewTime + leaseDurationSeconds; NULL when nobody holds it), so that the
 * sweep finds lapsed leases by index.
 */
export const leases = sqliteTable(
  'leases',
  {
    namespace: text('namespace').notNull(),
    name: text('name').notNull(),
    uid: text('uid').notNull(),
    rv: integer('rv').notNull(),
    holder: text('holder'),
    durationSeconds: integer('duration_seconds'),
    renewMs: integer('renew_ms'),
    expiresMs: integer('expires_ms'),
    body: text('body').notNull(),
  },
  (t) => [primaryKey({ columns: [t.namespace, t.name] }), index('leases_by_expiry').on(t.expiresMs)],
)

/**
 * API tokens. Only the SHA-256 of a secret is stored; `namespaces` is a JSON list, or
 * `["*"]` for every namespace. `namespace_uids` binds the token to its namespaces as they
 * were when it was issued (a JSON object, name → uid; `{}` for `["*"]`): once one of them
 * is deleted, or deleted and re-created under the same name, the token is refused.
 */
export const tokens = sqliteTable(
  'tokens',
  {
    name: text('name').primaryKey(),
    uid: text('uid').notNull(),
    hash: text('hash').notNull(),
    role: text('role').notNull(),
    namespaces: text('namespaces').notNull(),
    expiresAt: text('expires_at'),
    createdAt: text('created_at').notNull(),
    createdBy: text('created_by').notNull(),
    rv: integer('rv').notNull(),
    namespaceUids: text('namespace_uids').notNull().default('{}'),
  },
  (t) => [uniqueIndex('tokens_by_hash').on(t.hash)],
)

/**
 * The change log: one row per event of every write, in the write's own batch, in
 * resourceVersion order. `object` is the object as written (for DELETED, as it was last
 * stored), without its resourceVersion (the `rv` column); `old_object` is the object before
 * a MODIFIED event, so that a watch can tell an object that stops matching its selectors
 * (null for a pod's, lease's or namespace's write that changed nothing a follower reads:
 * registry/event-before.ts).
 * Kind `Endpoints` with no object marks a change of a service's computed endpoints (its
 * Endpoints and EndpointSlices are built when they are read). Rows older than the
 * compaction window are pruned (the meta row `compactedRv` is the newest pruned
 * resourceVersion: a watch or catch-up from before it gets 410 Expired).
 */
export const changes = sqliteTable(
  'changes',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    rv: integer('rv').notNull(),
    kind: text('kind').notNull(),
    namespace: text('namespace').notNull(),
    name: text('name').notNull(),
    type: text('type').notNull(),
    at: text('at').notNull(),
    actor: text('actor').notNull().default(''),
    object: text('object'),
    oldObject: text('old_object'),
  },
  (t) => [index('changes_by_rv').on(t.rv)],
)
