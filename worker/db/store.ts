/**
 * The store: every read and write of the registry's tables. Each write is one atomic
 * `db.batch`: its guards, the resourceVersion bump, the object rows, their label, port
 * and allocation rows and the change record commit together or not at all.
 */
import { sql, type SQL } from 'drizzle-orm'
import { sameJson } from '../json'
import type { Database } from './client'
import { PreconditionFailed, preconditionOf } from './errors'
import { listWhere, type ListFilter } from './filters'
import { RV, manualEndpoints, podConditions, podEndpoints, podGone, serviceEndpoints, serviceGone, type ManualEndpoint } from './endpoints'
import type { GuardCode } from './schema'

export type Kind = 'Namespace' | 'Service' | 'Pod'

/** A service as the endpoint views need it. */
export interface ServiceSourceRow {
  namespace: string
  name: string
  rv: number
  endpoints_rv: number
  selector_size: number
  type: string
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
}

export interface EndpointSources {
  rv: number
  services: ServiceSourceRow[]
  rows: EndpointRow[]
  user: { namespace: string; name: string; rv: number; body: Record<string, unknown> }[]
}

/** What decides which services a pod's endpoints belong to, and with which addresses and hostname. */
function matchInputs(w: PodWrite): unknown {
  const body = w.body as { spec?: { hostname?: string; subdomain?: string }; status?: { podIPs?: unknown } }
  return [w.phase, w.uid, body.status?.podIPs ?? null, body.spec?.hostname ?? null, body.spec?.subdomain ?? null]
}

/** The columns an `EndpointRow` is read from. */
const ENDPOINT_COLUMNS = sql.raw(
  'namespace, service, pod, pod_uid, ip, family, ready, serving, terminating, weight, hostname, node_name, zone, ports, rv',
)
/** The columns a `ServiceSourceRow` is read from. */
const SERVICE_COLUMNS = sql.raw('namespace, name, rv, endpoints_rv, selector_size, type, body')

function sqlFor(namespace: string | undefined, name: string | undefined, nameColumn: string): SQL {
  if (namespace === undefined) return sql`1 = 1`
  if (name === undefined) return sql`namespace = ${namespace}`
  return sql`namespace = ${namespace} AND ${sql.raw(nameColumn)} = ${name}`
}

/** A stored object: its JSON body (resourceVersion not included) and its resourceVersion. */
export interface StoredObject {
  rv: number
  body: Record<string, unknown>
}

export interface ListResult {
  rv: number
  items: StoredObject[]
  /** The (namespace, name) of the last item when more items follow. */
  next?: { namespace: string; name: string }
}

interface ObjectWrite {
  name: string
  uid: string
  body: Record<string, unknown>
  labels: Record<string, string>
}

export type NamespaceWrite = ObjectWrite

export interface ServicePortRow {
  name: string
  protocol: string
  port: number
  targetPort: number | null
  targetPortName: string | null
  appProtocol: string | null
}

export interface ServiceWrite extends ObjectWrite {
  namespace: string
  type: string
  clusterIP: string | null
  /** IPs this service holds in the allocator (empty for headless and ExternalName). */
  allocatedIPs: string[]
  nodePorts: number[]
  selector: Record<string, string>
  publishNotReady: boolean
  ports: ServicePortRow[]
}

export interface PodPortRow {
  name: string
  protocol: string
  port: number
}

export interface PodWrite extends ObjectWrite {
  namespace: string
  nodeName: string | null
  phase: string | null
  podIP: string | null
  ready: boolean
  weight: number
  deletionTimestamp: string | null
  zone: string | null
  ports: PodPortRow[]
}

/** `create`: the name must be free. A number: the stored object must have that resourceVersion. */
export type Precondition = 'create' | { rv: number }

type Statement = Parameters<Database['batch']>[0][number]


const FIELD_COLUMNS: Record<Kind, Record<string, SQL>> = {
  Namespace: { 'metadata.name': sql`o.name` },
  Service: {
    'metadata.name': sql`o.name`,
    'metadata.namespace': sql`o.namespace`,
    'spec.type': sql`o.type`,
    'spec.clusterIP': sql`o.cluster_ip`,
  },
  Pod: {
    'metadata.name': sql`o.name`,
    'metadata.namespace': sql`o.namespace`,
    'spec.nodeName': sql`o.node_name`,
    'status.phase': sql`o.phase`,
    'status.podIP': sql`o.pod_ip`,
  },
}

const TABLES: Record<Kind, SQL> = { Namespace: sql`namespaces`, Service: sql`services`, Pod: sql`pods` }

/** TEMPORARY shim until the store split lands. */
export interface ObjectTable { table: string; labelKind: string; namespaced: boolean; fieldColumns: Record<string, string> }
export const namespaceTable: ObjectTable = { table: 'namespaces', labelKind: 'Namespace', namespaced: false, fieldColumns: { 'metadata.name': 'name' } }
export const serviceTable: ObjectTable = { table: 'services', labelKind: 'Service', namespaced: true, fieldColumns: { 'metadata.name': 'name', 'metadata.namespace': 'namespace', 'spec.type': 'type', 'spec.clusterIP': 'cluster_ip' } }
export const podTable: ObjectTable = { table: 'pods', labelKind: 'Pod', namespaced: true, fieldColumns: { 'metadata.name': 'name', 'metadata.namespace': 'namespace', 'spec.nodeName': 'node_name', 'status.phase': 'phase', 'status.podIP': 'pod_ip' } }

/** A stored token (its secret is never stored, only its SHA-256). */
export interface TokenRow {
  name: string
  uid: string
  hash: string
  role: string
  namespaces: string[]
  expiresAt: string | null
  createdAt: string
  createdBy: string
  rv: number
}

export class Store {
  private readonly listeners: ((rv: number) => void)[] = []
  /** The token name recorded with each change this store writes. */
  readonly actor: string = ''

  /** This store, recording `actor` with every change it writes. */
  as(actor: string): Store {
    return Object.assign(Object.create(this) as Store, { actor })
  }

  constructor(
    readonly db: Database,
    private readonly now: () => Date,
  ) {}

  /** Calls `listener` after every committed write of this store, with its resourceVersion. */
  onWrite(listener: (rv: number) => void): void {
    this.listeners.push(listener)
  }

  /** The registry's current resourceVersion. */
  async resourceVersion(): Promise<number> {
    const rows = await this.db.all<{ value: number }>(sql`SELECT value FROM meta WHERE key = 'resourceVersion'`)
    return Number(rows[0]?.value ?? 0)
  }

  /** Whether the database answers and is migrated. */
  async ping(): Promise<boolean> {
    try {
      await this.resourceVersion()
      return true
    } catch {
      return false
    }
  }

  // ---- reads ----

  async get(table: ObjectTable, namespace: string, name: string): Promise<StoredObject | null> {
    const kind = table.labelKind as Kind
    const where = kind === 'Namespace' ? sql`name = ${name}` : sql`namespace = ${namespace} AND name = ${name}`
    const rows = await this.db.all<{ rv: number; body: string }>(
      sql`SELECT rv, body FROM ${TABLES[kind]} WHERE ${where}`,
    )
    const row = rows[0]
    return row ? { rv: Number(row.rv), body: JSON.parse(row.body) } : null
  }

  /** A consistent page of objects and the resourceVersion it was read at. */
  async list(table: ObjectTable, filter: ListFilter): Promise<ListResult> {
    const kind = table.labelKind as Kind
    const columns = FIELD_COLUMNS[kind]
    // The listed table is aliased `o` so that label subqueries refer to its columns, not their own.
    const namespaceColumn = kind === 'Namespace' ? sql`''` : sql`o.namespace`
    const scope = kind === 'Namespace' ? sql`o.name` : namespaceColumn
    const where = listWhere(kind, { namespace: namespaceColumn, name: sql`o.name`, scope }, filter, (field) => {
      const column = columns[field]
      if (!column) throw new Error(`no column for field ${field}`)
      return column
    })
    const limit = filter.limit && filter.limit > 0 ? sql` LIMIT ${filter.limit + 1}` : sql``
    const [rvRows, rows] = (await this.db.batch([
      this.db.all(sql`SELECT value FROM meta WHERE key = 'resourceVersion'`),
      this.db.all(
        sql`SELECT ${namespaceColumn} AS ns, o.name AS name, o.rv AS rv, o.body AS body FROM ${TABLES[kind]} o WHERE ${where} ORDER BY ${namespaceColumn}, o.name${limit}`,
      ),
    ])) as [{ value: number }[], { ns: string; name: string; rv: number; body: string }[]]
    const page = filter.limit && rows.length > filter.limit ? rows.slice(0, filter.limit) : rows
    const last = page[page.length - 1]
    return {
      rv: Number(rvRows[0]?.value ?? 0),
      items: page.map((r) => ({ rv: Number(r.rv), body: JSON.parse(r.body) })),
      ...(page.length < rows.length && last ? { next: { namespace: last.ns, name: last.name } } : {}),
    }
  }

  async usedNodePorts(): Promise<number[]> {
    const rows = await this.db.all<{ port: number }>(sql`SELECT port FROM node_ports`)
    return rows.map((r) => Number(r.port))
  }

  async usedClusterIPs(): Promise<string[]> {
    const rows = await this.db.all<{ ip: string }>(sql`SELECT ip FROM cluster_ips`)
    return rows.map((r) => r.ip)
  }

  // ---- writes ----

  async createNamespace(w: NamespaceWrite): Promise<number> {
    return this.write([
      this.guard('exists', sql`EXISTS (SELECT 1 FROM namespaces WHERE name = ${w.name})`),
    ], [
      this.db.run(
        sql`INSERT INTO namespaces (name, uid, rv, body) VALUES (${w.name}, ${w.uid}, ${RV}, ${JSON.stringify(w.body)})`,
      ),
      ...this.labelRows('Namespace', '', w.name, w.labels),
      this.change('Namespace', '', w.name, 'ADDED'),
    ])
  }

  /** Deletes a namespace and everything in it, in one batch. */
  async deleteNamespace(name: string, pre?: Precondition): Promise<number> {
    return this.write([
      ...this.existing('Namespace', '', name, pre),
    ], [
      this.db.run(
        sql`INSERT INTO changes (rv, kind, namespace, name, type, at, actor) SELECT ${RV}, 'Pod', namespace, name, 'DELETED', ${this.at()}, ${this.actor} FROM pods WHERE namespace = ${name}`,
      ),
      this.db.run(
        sql`INSERT INTO changes (rv, kind, namespace, name, type, at, actor) SELECT ${RV}, 'Service', namespace, name, 'DELETED', ${this.at()}, ${this.actor} FROM services WHERE namespace = ${name}`,
      ),
      ...[
        'endpoints',
        'user_endpoints',
        'pods',
        'pod_ports',
        'services',
        'selectors',
        'service_ports',
        'cluster_ips',
        'node_ports',
        'labels',
      ].map(
        (table) => this.db.run(sql`DELETE FROM ${sql.raw(table)} WHERE namespace = ${name}`),
      ),
      this.db.run(sql`DELETE FROM labels WHERE kind = 'Namespace' AND namespace = '' AND name = ${name}`),
      this.db.run(sql`DELETE FROM namespaces WHERE name = ${name}`),
      this.change('Namespace', '', name, 'DELETED'),
    ])
  }

  async putService(w: ServiceWrite, pre: Precondition): Promise<number> {
    const { namespace: ns, name } = w
    return this.write([
      ...this.precondition('Service', ns, name, pre),
    ], [
      this.db.run(sql`
        INSERT INTO services (namespace, name, uid, rv, type, cluster_ip, selector_size, publish_not_ready, body)
        VALUES (${ns}, ${name}, ${w.uid}, ${RV}, ${w.type}, ${w.clusterIP}, ${Object.keys(w.selector).length},
                ${w.publishNotReady ? 1 : 0}, ${JSON.stringify(w.body)})
        ON CONFLICT (namespace, name) DO UPDATE SET uid = excluded.uid, rv = excluded.rv, type = excluded.type,
          cluster_ip = excluded.cluster_ip, selector_size = excluded.selector_size,
          publish_not_ready = excluded.publish_not_ready, body = excluded.body`),
      ...this.replaceRows('selectors', ns, 'service', name, ['key', 'value'], Object.entries(w.selector)),
      ...this.replaceRows(
        'service_ports',
        ns,
        'service',
        name,
        ['idx', 'name', 'protocol', 'port', 'target_port', 'target_port_name', 'app_protocol'],
        w.ports.map((p, i) => [i, p.name, p.protocol, p.port, p.targetPort, p.targetPortName, p.appProtocol]),
      ),
      ...this.replaceRows(
        'cluster_ips',
        ns,
        'service',
        name,
        ['ip'],
        w.allocatedIPs.map((ip) => [ip]),
      ),
      ...this.replaceRows(
        'node_ports',
        ns,
        'service',
        name,
        ['port'],
        w.nodePorts.map((p) => [p]),
      ),
      ...this.labelRows('Service', ns, name, w.labels),
      ...serviceEndpoints(ns, name, Object.keys(w.selector).length > 0).map((q) => this.db.run(q)),
      this.change('Service', ns, name, pre === 'create' ? 'ADDED' : 'MODIFIED'),
    ])
  }

  async deleteService(namespace: string, name: string, pre?: Precondition): Promise<number> {
    return this.write([
      ...this.existing('Service', namespace, name, pre),
    ], [
      ...['selectors', 'service_ports', 'cluster_ips', 'node_ports'].map((table) =>
        this.db.run(sql`DELETE FROM ${sql.raw(table)} WHERE namespace = ${namespace} AND service = ${name}`),
      ),
      this.db.run(sql`DELETE FROM labels WHERE kind = 'Service' AND namespace = ${namespace} AND name = ${name}`),
      this.db.run(sql`DELETE FROM services WHERE namespace = ${namespace} AND name = ${name}`),
      ...serviceGone(namespace, name).map((q) => this.db.run(q)),
      this.change('Service', namespace, name, 'DELETED'),
    ])
  }

  /**
   * Writes a pod and its endpoints. Given the pod as stored (`previous`), rows that did
   * not change are left alone: a change of readiness, deletion, weight, node or zone
   * only updates the conditions of the pod's endpoint rows.
   */
  async putPod(w: PodWrite, pre: Precondition, previous?: PodWrite): Promise<number> {
    const { namespace: ns, name } = w
    const sameLabels = previous !== undefined && sameJson(previous.labels, w.labels)
    const samePorts = previous !== undefined && sameJson(previous.ports, w.ports)
    const sameMatch = sameLabels && samePorts && previous !== undefined && sameJson(matchInputs(previous), matchInputs(w))
    const fresh = pre === 'create'
    return this.write(this.precondition('Pod', ns, name, pre), [
      previous ? this.updatePodRow(w, previous) : this.insertPodRow(w),
      ...(samePorts
        ? []
        : this.replaceRows(
            'pod_ports',
            ns,
            'pod',
            name,
            ['name', 'protocol', 'port'],
            w.ports.map((p) => [p.name, p.protocol, p.port]),
            fresh,
          )),
      ...(sameLabels ? [] : this.labelRows('Pod', ns, name, w.labels, fresh)),
      ...(sameMatch
        ? podConditions(ns, name, { ...w, terminating: w.deletionTimestamp !== null })
        : podEndpoints(ns, name, fresh)
      ).map((q) => this.db.run(q)),
      this.change('Pod', ns, name, pre === 'create' ? 'ADDED' : 'MODIFIED'),
    ])
  }

  async deletePod(namespace: string, name: string, pre?: Precondition): Promise<number> {
    return this.write([
      ...this.existing('Pod', namespace, name, pre),
    ], [
      this.db.run(sql`DELETE FROM pod_ports WHERE namespace = ${namespace} AND pod = ${name}`),
      this.db.run(sql`DELETE FROM labels WHERE kind = 'Pod' AND namespace = ${namespace} AND name = ${name}`),
      this.db.run(sql`DELETE FROM pods WHERE namespace = ${namespace} AND name = ${name}`),
      ...podGone(namespace, name).map((q) => this.db.run(q)),
      this.change('Pod', namespace, name, 'DELETED'),
    ])
  }

  /**
   * Writes an Endpoints object for a selectorless service. Fails with `conflict` when a
   * service of that name has a selector (its endpoints are computed) or when the stored
   * object is not at the expected resourceVersion.
   */
  async putUserEndpoints(
    w: { namespace: string; name: string; uid: string; body: Record<string, unknown>; rows: ManualEndpoint[] },
    pre: Precondition,
  ): Promise<number> {
    const { namespace: ns, name } = w
    const guards =
      pre === 'create'
        ? [
            this.guard('missing_namespace', sql`NOT EXISTS (SELECT 1 FROM namespaces WHERE name = ${ns})`),
            this.guard('exists', sql`EXISTS (SELECT 1 FROM user_endpoints WHERE namespace = ${ns} AND name = ${name})`),
          ]
        : [
            this.guard('not_found', sql`NOT EXISTS (SELECT 1 FROM user_endpoints WHERE namespace = ${ns} AND name = ${name})`),
            this.guard('conflict', sql`NOT EXISTS (SELECT 1 FROM user_endpoints WHERE namespace = ${ns} AND name = ${name} AND rv = ${pre.rv})`),
          ]
    guards.push(
      this.guard(
        'conflict',
        sql`EXISTS (SELECT 1 FROM services WHERE namespace = ${ns} AND name = ${name} AND selector_size > 0)`,
      ),
    )
    return this.write(guards, [
      this.db.run(sql`
        INSERT INTO user_endpoints (namespace, name, uid, rv, body) VALUES (${ns}, ${name}, ${w.uid}, ${RV}, ${JSON.stringify(w.body)})
        ON CONFLICT (namespace, name) DO UPDATE SET uid = excluded.uid, rv = excluded.rv, body = excluded.body`),
      ...manualEndpoints(ns, name, w.rows).map((q) => this.db.run(q)),
      this.change('Endpoints', ns, name, pre === 'create' ? 'ADDED' : 'MODIFIED'),
    ])
  }

  async deleteUserEndpoints(namespace: string, name: string, pre?: Precondition): Promise<number> {
    const where = sql`namespace = ${namespace} AND name = ${name}`
    const guards = [this.guard('not_found', sql`NOT EXISTS (SELECT 1 FROM user_endpoints WHERE ${where})`)]
    if (pre && pre !== 'create') {
      guards.push(this.guard('conflict', sql`NOT EXISTS (SELECT 1 FROM user_endpoints WHERE ${where} AND rv = ${pre.rv})`))
    }
    return this.write(guards, [
      this.db.run(sql`DELETE FROM user_endpoints WHERE ${where}`),
      ...manualEndpoints(namespace, name, []).map((q) => this.db.run(q)),
      this.change('Endpoints', namespace, name, 'DELETED'),
    ])
  }

  /**
   * Everything the Endpoints and EndpointSlice views are built from, read in one
   * consistent batch: the services (all, or one), their endpoint rows, and the Endpoints
   * objects users wrote.
   */
  async endpointSources(namespace: string | undefined, service?: string): Promise<EndpointSources> {
    const svcWhere = sqlFor(namespace, service, 'name')
    const [rv, services, rows, user] = (await this.db.batch([
      this.db.all(sql`SELECT value FROM meta WHERE key = 'resourceVersion'`),
      this.db.all(sql`SELECT ${SERVICE_COLUMNS} FROM services WHERE ${svcWhere} ORDER BY namespace, name`),
      this.db.all(sql`SELECT ${ENDPOINT_COLUMNS} FROM endpoints WHERE ${sqlFor(namespace, service, 'service')}
                       ORDER BY namespace, service, pod, ip`),
      this.db.all(sql`SELECT namespace, name, rv, body FROM user_endpoints WHERE ${svcWhere} ORDER BY namespace, name`),
    ])) as [
      { value: number }[],
      (Omit<ServiceSourceRow, 'body'> & { body: string })[],
      EndpointRow[],
      { namespace: string; name: string; rv: number; body: string }[],
    ]
    return {
      rv: Number(rv[0]?.value ?? 0),
      services: services.map((s) => ({ ...s, rv: Number(s.rv), endpoints_rv: Number(s.endpoints_rv), body: JSON.parse(s.body) })),
      rows,
      user: user.map((u) => ({ namespace: u.namespace, name: u.name, rv: Number(u.rv), body: JSON.parse(u.body) })),
    }
  }

  /**
   * Imports many new pods of one namespace in one batch (with their labels, ports and
   * endpoint rows), for seeding and migrations. Fails whole if the namespace is missing
   * or any of the pods exists.
   */
  async importPods(namespace: string, writes: PodWrite[]): Promise<number> {
    const guards = [this.guard('missing_namespace', sql`NOT EXISTS (SELECT 1 FROM namespaces WHERE name = ${namespace})`)]
    const statements: Statement[] = []
    for (const w of writes) {
      if (w.namespace !== namespace) throw new Error(`pod ${w.name} is not in namespace ${namespace}`)
      guards.push(this.guard('exists', sql`EXISTS (SELECT 1 FROM pods WHERE namespace = ${namespace} AND name = ${w.name})`))
      statements.push(
        this.insertPodRow(w),
        ...this.replaceRows('pod_ports', namespace, 'pod', w.name, ['name', 'protocol', 'port'], w.ports.map((p) => [p.name, p.protocol, p.port]), true),
        ...this.labelRows('Pod', namespace, w.name, w.labels, true),
        ...podEndpoints(namespace, w.name, true).map((q) => this.db.run(q)),
        this.change('Pod', namespace, w.name, 'ADDED'),
      )
    }
    return this.write(guards, statements)
  }

  // ---- tokens ----

  async createToken(t: Omit<TokenRow, 'rv'>): Promise<number> {
    return this.write(
      [this.guard('exists', sql`EXISTS (SELECT 1 FROM tokens WHERE name = ${t.name})`)],
      [
        this.db.run(sql`
          INSERT INTO tokens (name, uid, hash, role, namespaces, expires_at, created_at, created_by, rv)
          VALUES (${t.name}, ${t.uid}, ${t.hash}, ${t.role}, ${JSON.stringify(t.namespaces)}, ${t.expiresAt}, ${t.createdAt},
                  ${t.createdBy}, ${RV})`),
        this.change('Token', '', t.name, 'ADDED'),
      ],
    )
  }

  async deleteToken(name: string): Promise<number> {
    return this.write(
      [this.guard('not_found', sql`NOT EXISTS (SELECT 1 FROM tokens WHERE name = ${name})`)],
      [this.db.run(sql`DELETE FROM tokens WHERE name = ${name}`), this.change('Token', '', name, 'DELETED')],
    )
  }

  /** Tokens by name, or the one whose secret hashes to `hash`. */
  async tokens(by: { name?: string; hash?: string } = {}): Promise<TokenRow[]> {
    const where = by.hash !== undefined ? sql`hash = ${by.hash}` : by.name !== undefined ? sql`name = ${by.name}` : sql`1 = 1`
    const rows = await this.db.all<Omit<TokenRow, 'namespaces' | 'expiresAt' | 'createdAt' | 'createdBy'> & Record<string, unknown>>(
      sql`SELECT name, uid, hash, role, namespaces, expires_at, created_at, created_by, rv FROM tokens WHERE ${where} ORDER BY name`,
    )
    return rows.map((r) => ({
      name: r.name,
      uid: r.uid,
      hash: r.hash,
      role: r.role,
      namespaces: JSON.parse(String(r.namespaces)) as string[],
      expiresAt: (r.expires_at as string | null) ?? null,
      createdAt: String(r.created_at),
      createdBy: String(r.created_by),
      rv: Number(r.rv),
    }))
  }

  // ---- DNS reads ----

  /** A service with its endpoint rows and whether its namespace exists, in one consistent read. */
  async dnsService(namespace: string, name: string): Promise<{ namespaceExists: boolean; rv: number; service: ServiceSourceRow | null; rows: EndpointRow[] }> {
    const [ns, rv, svc, rows] = (await this.db.batch([
      this.db.all(sql`SELECT 1 AS one FROM namespaces WHERE name = ${namespace}`),
      this.db.all(sql`SELECT value FROM meta WHERE key = 'resourceVersion'`),
      this.db.all(sql`SELECT ${SERVICE_COLUMNS} FROM services WHERE namespace = ${namespace} AND name = ${name}`),
      this.db.all(sql`SELECT ${ENDPOINT_COLUMNS} FROM endpoints WHERE namespace = ${namespace} AND service = ${name} ORDER BY pod, ip`),
    ])) as [unknown[], { value: number }[], (Omit<ServiceSourceRow, 'body'> & { body: string })[], EndpointRow[]]
    const s = svc[0]
    return {
      namespaceExists: ns.length > 0,
      rv: Number(rv[0]?.value ?? 0),
      service: s ? { ...s, rv: Number(s.rv), endpoints_rv: Number(s.endpoints_rv), body: JSON.parse(s.body) } : null,
      rows,
    }
  }

  /** Whether a namespace exists, and the registry's resourceVersion. */
  async dnsNamespace(namespace: string): Promise<{ exists: boolean; rv: number }> {
    const [ns, rv] = (await this.db.batch([
      this.db.all(sql`SELECT 1 AS one FROM namespaces WHERE name = ${namespace}`),
      this.db.all(sql`SELECT value FROM meta WHERE key = 'resourceVersion'`),
    ])) as [unknown[], { value: number }[]]
    return { exists: ns.length > 0, rv: Number(rv[0]?.value ?? 0) }
  }

  /** The services whose ClusterIP is `ip`, and the endpoint rows with that address. */
  async dnsByIP(ip: string): Promise<{ rv: number; services: { namespace: string; name: string }[]; rows: EndpointRow[] }> {
    const [rv, services, rows] = (await this.db.batch([
      this.db.all(sql`SELECT value FROM meta WHERE key = 'resourceVersion'`),
      this.db.all(sql`SELECT namespace, service AS name FROM cluster_ips WHERE ip = ${ip} ORDER BY namespace, service`),
      this.db.all(sql`SELECT e.namespace, e.service, e.pod, e.pod_uid, e.ip, e.family, e.ready, e.serving, e.terminating, e.weight,
                             e.hostname, e.node_name, e.zone, e.ports, e.rv
                        FROM endpoints e JOIN services s ON s.namespace = e.namespace AND s.name = e.service
                       WHERE e.ip = ${ip} ORDER BY e.namespace, e.service, e.pod`),
    ])) as [{ value: number }[], { namespace: string; name: string }[], EndpointRow[]]
    return { rv: Number(rv[0]?.value ?? 0), services, rows }
  }

  /** The pods whose graceful deletion is due. */
  async expiredPods(now: string): Promise<{ namespace: string; name: string; rv: number }[]> {
    const rows = await this.db.all<{ namespace: string; name: string; rv: number }>(
      sql`SELECT namespace, name, rv FROM pods WHERE deletion_timestamp IS NOT NULL AND deletion_timestamp <= ${now}`,
    )
    return rows.map((r) => ({ ...r, rv: Number(r.rv) }))
  }

  // ---- batch building ----

  private insertPodRow(w: PodWrite): Statement {
    return this.db.run(sql`
      INSERT INTO pods (namespace, name, uid, rv, node_name, phase, pod_ip, ready, weight, deletion_timestamp, zone, body)
      VALUES (${w.namespace}, ${w.name}, ${w.uid}, ${RV}, ${w.nodeName}, ${w.phase}, ${w.podIP}, ${w.ready ? 1 : 0}, ${w.weight},
              ${w.deletionTimestamp}, ${w.zone}, ${JSON.stringify(w.body)})`)
  }

  /**
   * Updates a stored pod's row, setting only the columns that changed: SQLite rewrites
   * an index only when a column it covers is set, so a readiness change touches no index.
   */
  private updatePodRow(w: PodWrite, previous: PodWrite): Statement {
    const columns: [string, unknown, unknown][] = [
      ['uid', w.uid, previous.uid],
      ['node_name', w.nodeName, previous.nodeName],
      ['phase', w.phase, previous.phase],
      ['pod_ip', w.podIP, previous.podIP],
      ['ready', w.ready ? 1 : 0, previous.ready ? 1 : 0],
      ['weight', w.weight, previous.weight],
      ['deletion_timestamp', w.deletionTimestamp, previous.deletionTimestamp],
      ['zone', w.zone, previous.zone],
    ]
    const sets = [
      sql`rv = ${RV}`,
      sql`body = ${JSON.stringify(w.body)}`,
      ...columns.filter(([, now, before]) => now !== before).map(([column, now]) => sql`${sql.raw(column)} = ${now}`),
    ]
    return this.db.run(sql`UPDATE pods SET ${sql.join(sets, sql`, `)} WHERE namespace = ${w.namespace} AND name = ${w.name}`)
  }

  /**
   * Runs one write batch: the guards, the resourceVersion bump, then the changes.
   * Returns the resourceVersion the batch committed at.
   */
  private async write(guards: Statement[], changes: Statement[]): Promise<number> {
    const bump = this.db.all(sql`UPDATE meta SET value = value + 1 WHERE key = 'resourceVersion' RETURNING value`)
    let results: unknown[]
    try {
      results = await this.db.batch([...guards, bump, ...changes])
    } catch (error) {
      const code = preconditionOf(error)
      if (code) throw new PreconditionFailed(code)
      throw error
    }
    const rows = results[guards.length] as { value: number }[] | undefined
    if (!rows?.[0]) throw new Error('write batch did not return the new resourceVersion')
    const rv = Number(rows[0].value)
    for (const listener of this.listeners) listener(rv)
    return rv
  }

  /** A statement that fails the batch with `code` when `failure` holds. */
  private guard(code: GuardCode, failure: SQL): Statement {
    return this.db.run(sql`INSERT INTO guard (code) SELECT ${code} WHERE ${failure}`)
  }

  private precondition(kind: 'Service' | 'Pod', ns: string, name: string, pre: Precondition): Statement[] {
    if (pre !== 'create') return this.existing(kind, ns, name, pre)
    return [
      this.guard('missing_namespace', sql`NOT EXISTS (SELECT 1 FROM namespaces WHERE name = ${ns})`),
      this.guard('exists', sql`EXISTS (SELECT 1 FROM ${TABLES[kind]} WHERE namespace = ${ns} AND name = ${name})`),
    ]
  }

  /** Guards that the object exists and, when asked, that it is still at a resourceVersion. */
  private existing(kind: Kind, ns: string, name: string, pre?: Precondition): Statement[] {
    const where = kind === 'Namespace' ? sql`name = ${name}` : sql`namespace = ${ns} AND name = ${name}`
    const guards = [this.guard('not_found', sql`NOT EXISTS (SELECT 1 FROM ${TABLES[kind]} WHERE ${where})`)]
    if (pre && pre !== 'create') {
      guards.push(this.guard('conflict', sql`NOT EXISTS (SELECT 1 FROM ${TABLES[kind]} WHERE ${where} AND rv = ${pre.rv})`))
    }
    return guards
  }

  /** Replaces an object's label rows; a new object (`fresh`) has none to delete. */
  private labelRows(kind: Kind, ns: string, name: string, labels: Record<string, string>, fresh = false): Statement[] {
    const del = fresh ? [] : [this.db.run(sql`DELETE FROM labels WHERE kind = ${kind} AND namespace = ${ns} AND name = ${name}`)]
    const entries = Object.entries(labels)
    if (entries.length === 0) return del
    const values = sql.join(
      entries.map(([k, v]) => sql`(${kind}, ${ns}, ${name}, ${k}, ${v})`),
      sql`, `,
    )
    return [...del, this.db.run(sql`INSERT INTO labels (kind, namespace, name, key, value) VALUES ${values}`)]
  }

  /** Replaces the rows of a child table that belong to one owner; a new owner (`fresh`) has none to delete. */
  private replaceRows(
    table: string,
    ns: string,
    ownerColumn: string,
    owner: string,
    columns: string[],
    rows: unknown[][],
    fresh = false,
  ): Statement[] {
    const t = sql.raw(table)
    const del = fresh ? [] : [this.db.run(sql`DELETE FROM ${t} WHERE namespace = ${ns} AND ${sql.raw(ownerColumn)} = ${owner}`)]
    if (rows.length === 0) return del
    const names = sql.raw(['namespace', ownerColumn, ...columns].join(', '))
    const values = sql.join(
      rows.map((r) =>
        sql`(${sql.join(
          [ns, owner, ...r].map((v) => sql`${v}`),
          sql`, `,
        )})`,
      ),
      sql`, `,
    )
    return [...del, this.db.run(sql`INSERT INTO ${t} (${names}) VALUES ${values}`)]
  }

  private change(kind: Kind | 'Endpoints' | 'Token', ns: string, name: string, type: 'ADDED' | 'MODIFIED' | 'DELETED'): Statement {
    return this.db.run(
      sql`INSERT INTO changes (rv, kind, namespace, name, type, at, actor) VALUES (${RV}, ${kind}, ${ns}, ${name}, ${type}, ${this.at()}, ${this.actor})`,
    )
  }

  private at(): string {
    return this.now().toISOString()
  }
}
