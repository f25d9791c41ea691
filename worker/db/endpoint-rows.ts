/**
 * Endpoint computation in SQL. These statements run inside the write batch of the pod
 * or service change that calls for them, after that change's own rows, so they see the
 * batch's state and need no read beforehand. Matching is by selector pairs against pod
 * labels (`selectors` × `labels`); a pod matches a service when every selector pair is
 * among its labels. Named target ports resolve through `pod_ports` (same name and
 * protocol); a port a pod lacks is left out of that pod's `ports`.
 *
 * The joins between `labels` and `selectors` are CROSS JOINs on purpose: SQLite keeps
 * their order, so matching starts from the changed pod's few labels (or the changed
 * service's few selector pairs) and never scans every selector or label of a namespace.
 */
import type { SQL } from 'drizzle-orm'
import { sql } from './sql'
import { RV } from './batch'

/**
 * The endpoint `ready` condition, the one rule for it (Kubernetes' EndpointSlice
 * controller): every endpoint of a service with publishNotReadyAddresses, else a
 * serving (pod Ready) endpoint that is not terminating. Arguments are 0/1 expressions.
 */
export function endpointReady(publishNotReady: SQL, serving: SQL, terminating: SQL): SQL {
  return sql`CASE WHEN ${publishNotReady} = 1 OR (${serving} = 1 AND ${terminating} = 0) THEN 1 ELSE 0 END`
}

/** Whether the service row aliased `s` has computed endpoints: a selector, and not ExternalName. */
export function hasComputedEndpoints(s: string): SQL {
  const t = sql.raw(s)
  return sql`(${t}.selector_size > 0 AND ${t}.type <> 'ExternalName')`
}

/** The address family of an IP address expression: 'IPv6' when it has a colon, else 'IPv4'. */
function familyOf(ip: SQL): SQL {
  return sql`CASE WHEN instr(${ip}, ':') > 0 THEN 'IPv6' ELSE 'IPv4' END`
}

/** Whether the pod row aliased `p` is terminating (being deleted gracefully), as 0/1. */
const POD_TERMINATING = sql`CASE WHEN p.deletion_timestamp IS NULL THEN 0 ELSE 1 END`

/** The endpoint rows of the (service s, pod p) pairs that `match` admits. */
function insertEndpoints(match: SQL): SQL {
  return sql`
    INSERT INTO endpoints (namespace, service, pod, pod_uid, ip, family, ready, serving, terminating, weight,
                           hostname, node_name, zone, lease, ports, rv)
    SELECT s.namespace, s.name, p.name, p.uid, json_extract(j.value, '$.ip'),
      ${familyOf(sql`json_extract(j.value, '$.ip')`)},
      ${endpointReady(sql`s.publish_not_ready`, sql`p.ready`, POD_TERMINATING)},
      p.ready,
      ${POD_TERMINATING},
      p.weight,
      CASE WHEN json_extract(p.body, '$.spec.subdomain') = s.name THEN json_extract(p.body, '$.spec.hostname') END,
      p.node_name, p.zone, p.lease,
      (SELECT json_group_array(
                CASE WHEN sp.app_protocol IS NULL
                  THEN json_object('name', sp.name, 'port', coalesce(sp.target_port, pp.port), 'protocol', sp.protocol)
                  ELSE json_object('name', sp.name, 'port', coalesce(sp.target_port, pp.port), 'protocol', sp.protocol,
                                   'appProtocol', sp.app_protocol)
                END ORDER BY sp.idx)
         FROM service_ports sp
         LEFT JOIN pod_ports pp ON pp.namespace = sp.namespace AND pp.pod = p.name
                               AND pp.name = sp.target_port_name AND pp.protocol = sp.protocol
        WHERE sp.namespace = s.namespace AND sp.service = s.name
          AND (sp.target_port IS NOT NULL OR pp.port IS NOT NULL)),
      ${RV}
    FROM services s
    JOIN pods p ON p.namespace = s.namespace
    JOIN json_each(p.body, '$.status.podIPs') j
    WHERE ${hasComputedEndpoints('s')}
      AND coalesce(p.phase, '') NOT IN ('Succeeded', 'Failed')
      AND ${match}`
}

/** Marks the services that have endpoint rows for a pod as having changed endpoints. */
function touchServicesOfPod(ns: string, pod: string): SQL {
  return sql`UPDATE services SET endpoints_rv = ${RV}
    WHERE namespace = ${ns} AND name IN (SELECT service FROM endpoints WHERE namespace = ${ns} AND pod = ${pod})`
}

/** Recomputes the endpoints of one pod against every service of its namespace (a new pod has none to remove). */
export function podEndpoints(ns: string, pod: string, fresh = false): SQL[] {
  return [
    ...(fresh ? [] : [touchServicesOfPod(ns, pod), sql`DELETE FROM endpoints WHERE namespace = ${ns} AND pod = ${pod}`]),
    insertEndpoints(sql`p.namespace = ${ns} AND p.name = ${pod} AND s.name IN (
      SELECT ss.service FROM labels l
        CROSS JOIN selectors ss ON ss.namespace = l.namespace AND ss.key = l.key AND ss.value = l.value
       WHERE l.kind = 'Pod' AND l.namespace = ${ns} AND l.name = ${pod}
       GROUP BY ss.service
      HAVING count(*) = (SELECT s2.selector_size FROM services s2 WHERE s2.namespace = ${ns} AND s2.name = ss.service))`),
    touchServicesOfPod(ns, pod),
  ]
}

/**
 * A pod change that leaves its matching and ports alone (readiness, deletion, weight,
 * node, zone) updates the conditions of its endpoint rows in place.
 */
export function podConditions(
  ns: string,
  pod: string,
  w: { ready: boolean; terminating: boolean; weight: number; nodeName: string | null; zone: string | null; lease: string | null },
): SQL[] {
  const serving = w.ready ? 1 : 0
  const terminating = w.terminating ? 1 : 0
  const publishNotReady = sql`(SELECT s.publish_not_ready FROM services s WHERE s.namespace = endpoints.namespace AND s.name = endpoints.service)`
  return [
    sql`UPDATE endpoints SET
          ready = ${endpointReady(publishNotReady, sql`${serving}`, sql`${terminating}`)},
          serving = ${serving}, terminating = ${terminating}, weight = ${w.weight},
          node_name = ${w.nodeName}, zone = ${w.zone}, lease = ${w.lease}, rv = ${RV}
        WHERE namespace = ${ns} AND pod = ${pod} AND pod_uid IS NOT NULL`,
    touchServicesOfPod(ns, pod),
  ]
}

/** Removes a deleted pod's endpoints. */
export function podGone(ns: string, pod: string): SQL[] {
  return [touchServicesOfPod(ns, pod), sql`DELETE FROM endpoints WHERE namespace = ${ns} AND pod = ${pod}`]
}

/**
 * Recomputes the endpoints of one service against every pod of its namespace. A service
 * with a selector owns its endpoints: Endpoints a user wrote for it before are dropped.
 */
export function serviceEndpoints(ns: string, service: string, hasSelector: boolean): SQL[] {
  if (!hasSelector) {
    return [sql`DELETE FROM endpoints WHERE namespace = ${ns} AND service = ${service} AND pod <> ''`]
  }
  return [
    sql`DELETE FROM endpoints WHERE namespace = ${ns} AND service = ${service}`,
    sql`DELETE FROM user_endpoints WHERE namespace = ${ns} AND name = ${service}`,
    insertEndpoints(sql`s.namespace = ${ns} AND s.name = ${service} AND p.name IN (
      SELECT l.name FROM selectors ss
        CROSS JOIN labels l ON l.kind = 'Pod' AND l.namespace = ss.namespace AND l.key = ss.key AND l.value = ss.value
       WHERE ss.namespace = ${ns} AND ss.service = ${service}
       GROUP BY l.name
      HAVING count(*) = (SELECT s2.selector_size FROM services s2 WHERE s2.namespace = ${ns} AND s2.name = ${service}))`),
    sql`UPDATE services SET endpoints_rv = ${RV} WHERE namespace = ${ns} AND name = ${service}`,
  ]
}

/** Removes a deleted service's computed endpoints (Endpoints a user wrote stay, as in Kubernetes). */
export function serviceGone(ns: string, service: string): SQL[] {
  return [sql`DELETE FROM endpoints WHERE namespace = ${ns} AND service = ${service} AND pod <> ''`]
}

export interface ManualEndpoint {
  ip: string
  ready: boolean
  hostname: string | null
  nodeName: string | null
  /** The JSON port list of the address's subset: one string shared by the subset's rows (compared by value). */
  ports: string
}

/**
 * Replaces the rows of an Endpoints object a user wrote for a selectorless service. The
 * rows go as one JSON parameter and each distinct port list once in a second one, which
 * each row indexes: neither parameter repeats a subset's ports per address, so each stays smaller
 * than the Endpoints object itself (D1 refuses a string over 2 MB), and the statement's
 * size and parameter count do not grow with the rows (D1 takes at most 100 parameters).
 */
export function manualEndpoints(ns: string, service: string, rows: ManualEndpoint[]): SQL[] {
  const out = [sql`DELETE FROM endpoints WHERE namespace = ${ns} AND service = ${service} AND pod = ''`]
  if (rows.length) {
    const { addresses, ports } = manualEndpointParameters(rows)
    const at = (i: number) => sql.raw(`json_extract(j.value, '$[${i}]')`)
    // A row's port list is looked up by index in the ports parameter: SQLite keeps the parse of a JSON argument
    // that repeats, so 5000 subsets of one address each store in about 0.4 s (a json_each join per list: 11 s).
    const portsOf = sql`json_extract(${ports}, '$[' || ${at(4)} || ']')`
    out.push(sql`INSERT INTO endpoints (namespace, service, pod, pod_uid, ip, family, ready, serving, terminating, weight,
                                        hostname, node_name, zone, ports, rv)
      SELECT ${ns}, ${service}, '', NULL, ${at(0)}, ${familyOf(at(0))}, ${at(1)}, ${at(1)}, 0, 1, ${at(2)}, ${at(3)}, NULL, ${portsOf}, ${RV}
        FROM json_each(${addresses}) j`)
  }
  out.push(sql`UPDATE services SET endpoints_rv = ${RV} WHERE namespace = ${ns} AND name = ${service}`)
  return out
}

/**
 * The two JSON parameters of `manualEndpoints`: each row as `[ip, ready, hostname, nodeName,
 * index of its port list]`, and the distinct port lists, each once.
 */
function manualEndpointParameters(rows: ManualEndpoint[]): { addresses: string; ports: string } {
  const index = new Map<string, number>()
  const lists: string[] = []
  const addresses = rows.map((r) => {
    let i = index.get(r.ports)
    if (i === undefined) {
      i = lists.length
      index.set(r.ports, i)
      lists.push(r.ports)
    }
    return [r.ip, r.ready ? 1 : 0, r.hostname, r.nodeName, i]
  })
  return { addresses: JSON.stringify(addresses), ports: `[${lists.join(',')}]` }
}

/**
 * A MODIFIED event of kind `Endpoints`, without an object, for every service of a namespace
 * whose computed endpoints the current batch changed: its Endpoints and EndpointSlices are
 * built when read. Goes after the batch's endpoint statements.
 */
export function endpointChanges(ns: string, at: string, actor: string): SQL {
  return sql`INSERT INTO changes (rv, kind, namespace, name, type, at, actor)
    SELECT ${RV}, 'Endpoints', s.namespace, s.name, 'MODIFIED', ${at}, ${actor} FROM services s
     WHERE s.namespace = ${ns} AND s.endpoints_rv = ${RV} AND ${hasComputedEndpoints('s')}`
}
