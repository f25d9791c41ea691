/**
 * Pod rows, with their named ports; every pod write recomputes the pod's endpoints in
 * the same batch, or only their conditions when nothing that decides matching changed.
 */
import { sql } from '../sql'
import { sameJson } from '../../json'
import type { Database } from '../client'
import { bodyText, RV, type Batch, type Precondition, type Statement } from '../batch'
import { endpointChanges, podConditions, podEndpoints, podGone } from '../endpoint-rows'
import { podTable, type ObjectWrite } from '../tables'
import { deleteRows, replaceRows } from './child-rows'
import { deleteLabels, labelRows } from './labels'

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
  /** The lease that keeps the pod alive (its `switchboard.dev/lease` annotation), if any. */
  lease: string | null
  /** Whether the pod reads Ready=False for its lapsed lease (reason LeaseExpired). */
  leaseLapsed: boolean
  ports: PodPortRow[]
}

/** What decides which services a pod's endpoints belong to, and with which addresses and hostname. */
function matchInputs(w: PodWrite): unknown {
  const body = w.body as { spec?: { hostname?: string; subdomain?: string }; status?: { podIPs?: unknown } }
  return [w.phase, w.uid, body.status?.podIPs ?? null, body.spec?.hostname ?? null, body.spec?.subdomain ?? null]
}

function portRows(b: Batch, w: PodWrite, fresh: boolean): Statement[] {
  return replaceRows(b, 'pod_ports', w.namespace, 'pod', w.name, ['name', 'protocol', 'port'], w.ports.map((p) => [p.name, p.protocol, p.port]), fresh)
}

/**
 * Writes a pod and its endpoints. Given the pod as stored (`previous`), rows that did
 * not change are left alone: a change of readiness, deletion, weight, node or zone
 * only updates the conditions of the pod's endpoint rows. `recordBefore` false: its
 * MODIFIED event leaves out the pod before (the caller judged it needless).
 */
export function putPod(b: Batch, w: PodWrite, pre: Precondition, previous?: PodWrite, guards: Statement[] = [], recordBefore = true): Promise<number> {
  const { namespace: ns, name } = w
  const sameLabels = previous !== undefined && sameJson(previous.labels, w.labels)
  const samePorts = previous !== undefined && sameJson(previous.ports, w.ports)
  const sameMatch = sameLabels && samePorts && previous !== undefined && sameJson(matchInputs(previous), matchInputs(w))
  const fresh = pre === 'create'
  return b.write([...b.precondition(podTable, ns, name, pre), ...guards], [
    b.change('Pod', podTable, ns, name, fresh ? 'ADDED' : 'MODIFIED', w.body, recordBefore),
    previous ? updatePodRow(b, w, previous) : insertPodRow(b, w),
    ...(samePorts ? [] : portRows(b, w, fresh)),
    ...(sameLabels ? [] : labelRows(b, podTable.labelKind, ns, name, w.labels, fresh)),
    ...(sameMatch
      ? podConditions(ns, name, { ...w, terminating: w.deletionTimestamp !== null })
      : podEndpoints(ns, name, fresh)
    ).map((q) => b.run(q)),
    b.run(endpointChanges(ns, b.at(), b.actor)),
  ])
}

export function deletePod(b: Batch, namespace: string, name: string, pre?: Precondition, guards: Statement[] = []): Promise<number> {
  return b.write([...b.existing(podTable, namespace, name, pre), ...guards], [
    b.change('Pod', podTable, namespace, name, 'DELETED'),
    deleteRows(b, 'pod_ports', namespace, 'pod', name),
    deleteLabels(b, podTable.labelKind, namespace, name),
    b.run(sql`DELETE FROM pods WHERE namespace = ${namespace} AND name = ${name}`),
    ...podGone(namespace, name).map((q) => b.run(q)),
    b.run(endpointChanges(namespace, b.at(), b.actor)),
  ])
}

/**
 * Imports many new pods of one namespace in one batch (with their labels, ports and
 * endpoint rows), for seeding and migrations. Fails whole if the namespace is missing
 * or any of the pods exists.
 */
export function importPods(b: Batch, namespace: string, writes: PodWrite[]): Promise<number> {
  const guards = [b.namespaceExists(namespace)]
  const statements: Statement[] = []
  for (const w of writes) {
    if (w.namespace !== namespace) throw new Error(`pod ${w.name} is not in namespace ${namespace}`)
    guards.push(b.absent(podTable, namespace, w.name))
    statements.push(
      b.change('Pod', podTable, namespace, w.name, 'ADDED', w.body),
      insertPodRow(b, w),
      ...portRows(b, w, true),
      ...labelRows(b, podTable.labelKind, namespace, w.name, w.labels, true),
      ...podEndpoints(namespace, w.name, true).map((q) => b.run(q)),
    )
  }
  return b.write(guards, [...statements, b.run(endpointChanges(namespace, b.at(), b.actor))])
}

/**
 * The pods whose graceful deletion is due at `now` (a registry timestamp, rfc3339.ts).
 *
 * The comparison is of text, and it is a comparison of instants because every deletion
 * timestamp the registry writes has one fixed-width form, `YYYY-MM-DDTHH:MM:SSZ` in UTC
 * with a four-digit year (delete-options.ts `deletionAt` clamps the instant to year 9999),
 * and in that form text order is time order. Comparing as text keeps the range scan on
 * `pods_by_deletion`; converting each row with a date function in SQL would read every
 * terminating pod instead. A row in any other form (written before the clamp, e.g.
 * `+255536-10-29T13:58:00Z`, which sorts before every four-digit year) is left out rather
 * than taken as due.
 */
export async function expiredPods(db: Database, now: string): Promise<{ namespace: string; name: string; rv: number }[]> {
  const rows = await db.all<{ namespace: string; name: string; rv: number }>(
    sql`SELECT namespace, name, rv FROM pods WHERE deletion_timestamp IS NOT NULL AND deletion_timestamp <= ${now}
          AND length(deletion_timestamp) = 20 AND substr(deletion_timestamp, 1, 1) BETWEEN '0' AND '9'`,
  )
  return rows.map((r) => ({ ...r, rv: Number(r.rv) }))
}

function insertPodRow(b: Batch, w: PodWrite): Statement {
  return b.run(sql`
    INSERT INTO pods (namespace, name, uid, rv, node_name, phase, pod_ip, ready, weight, deletion_timestamp, zone, lease, lease_lapsed, body)
    VALUES (${w.namespace}, ${w.name}, ${w.uid}, ${RV}, ${w.nodeName}, ${w.phase}, ${w.podIP}, ${w.ready ? 1 : 0}, ${w.weight},
            ${w.deletionTimestamp}, ${w.zone}, ${w.lease}, ${w.leaseLapsed ? 1 : 0}, ${bodyText(w.body)})`)
}

/**
 * Updates a stored pod's row, setting only the columns that changed: SQLite rewrites
 * an index only when a column it covers is set, so a readiness change touches no index.
 */
function updatePodRow(b: Batch, w: PodWrite, previous: PodWrite): Statement {
  const columns: [string, unknown, unknown][] = [
    ['uid', w.uid, previous.uid],
    ['node_name', w.nodeName, previous.nodeName],
    ['phase', w.phase, previous.phase],
    ['pod_ip', w.podIP, previous.podIP],
    ['ready', w.ready ? 1 : 0, previous.ready ? 1 : 0],
    ['weight', w.weight, previous.weight],
    ['deletion_timestamp', w.deletionTimestamp, previous.deletionTimestamp],
    ['zone', w.zone, previous.zone],
    ['lease', w.lease, previous.lease],
    ['lease_lapsed', w.leaseLapsed ? 1 : 0, previous.leaseLapsed ? 1 : 0],
  ]
  const sets = [
    sql`rv = ${RV}`,
    sql`body = ${bodyText(w.body)}`,
    ...columns.filter(([, now, before]) => now !== before).map(([column, now]) => sql`${sql.raw(column)} = ${now}`),
  ]
  return b.run(sql`UPDATE pods SET ${sql.join(sets, sql`, `)} WHERE namespace = ${w.namespace} AND name = ${w.name}`)
}
