/**
 * Lease rows. A lease write touches only its own row, its labels and the change log: no
 * endpoint is recomputed, since expiry is judged when answering (registry/lease-expiry.ts).
 * The sweep's reads are here too: the pods whose lease has lapsed, and the pods marked
 * for a lapsed lease that a renewal restores.
 */
import { sql } from '../sql'
import type { Database } from '../client'
import { bodyText, NEXT_RV, RV, recorded, type Batch, type Precondition } from '../batch'
import { leaseTable, type ObjectWrite } from '../tables'
import { deleteLabels, labelRows } from './labels'

export interface LeaseWrite extends ObjectWrite {
  namespace: string
  holder: string | null
  durationSeconds: number | null
  /** renewTime in ms since the epoch, if any. */
  renewMs: number | null
  /** renewTime + leaseDurationSeconds in ms since the epoch; null when nobody holds the lease. */
  expiresMs: number | null
}

/** A lease as the sweep and the discovery cache judge it. */
export interface LeaseRow {
  namespace: string
  name: string
  rv: number
  holder: string | null
  durationSeconds: number | null
  renewMs: number | null
  expiresMs: number | null
}

/** A pod bound to a lease, as the sweep sees it (`lease*` null: the lease does not exist). */
export interface BoundPodRow {
  namespace: string
  name: string
  rv: number
  lease: string
  /** The pod's Ready condition as stored (1: True). */
  ready: boolean
  leaseLapsed: boolean
  leaseRv: number | null
  holder: string | null
  durationSeconds: number | null
  renewMs: number | null
  expiresMs: number | null
}

/** Writes a lease; `recordBefore` false: its MODIFIED event leaves out the lease before (the caller judged it needless). */
export function putLease(b: Batch, w: LeaseWrite, pre: Precondition, sameLabels: boolean, recordBefore = true): Promise<number> {
  const { namespace: ns, name } = w
  return b.write(b.precondition(leaseTable, ns, name, pre), [
    b.change('Lease', leaseTable, ns, name, pre === 'create' ? 'ADDED' : 'MODIFIED', w.body, recordBefore),
    b.run(sql`
      INSERT INTO leases (namespace, name, uid, rv, holder, duration_seconds, renew_ms, expires_ms, body)
      VALUES (${ns}, ${name}, ${w.uid}, ${RV}, ${w.holder}, ${w.durationSeconds}, ${w.renewMs}, ${w.expiresMs}, ${bodyText(w.body)})
      ON CONFLICT (namespace, name) DO UPDATE SET uid = excluded.uid, rv = excluded.rv, holder = excluded.holder,
        duration_seconds = excluded.duration_seconds, renew_ms = excluded.renew_ms, expires_ms = excluded.expires_ms,
        body = excluded.body`),
    ...(sameLabels ? [] : labelRows(b, leaseTable.labelKind, ns, name, w.labels, pre === 'create')),
  ])
}

/** A renewal: a new renewTime for a lease, applied only to the lease as the caller expects it. */
export interface Renewal {
  namespace: string
  name: string
  /** The new spec.renewTime (MicroTime) and the same in ms since the epoch. */
  renewTime: string
  renewMs: number
  /** The holder the renewal names, if any: the stored one must be the same. */
  holder?: string
  /** The token recorded with the change; the stored object must carry it already (or none). */
  actor: string
}

/**
 * Renews a lease in one write without reading it first: sets spec.renewTime (and the
 * expiry) in place, with its change-log event, provided the lease exists, its renewTime
 * differs, its holder is the one named (if any), and its last write was by the same token. Returns the lease as written, its
 * resourceVersion and whether it has pods marked for a lapse; null when the provisos did
 * not hold (the caller takes the general path, which reports why).
 */
export async function renewLease(b: Batch, r: Renewal): Promise<{ rv: number; body: Record<string, unknown>; marked: boolean } | null> {
  const key = sql`namespace = ${r.namespace} AND name = ${r.name}`
  const modifiedBy = sql`json_extract(body, '$.metadata.annotations."switchboard.dev/modified-by"')`
  const applies = sql`${key} AND json_extract(body, '$.spec.renewTime') IS NOT ${r.renewTime}
    AND ${r.actor === '' ? sql`${modifiedBy} IS NULL` : sql`${modifiedBy} = ${r.actor}`}${r.holder !== undefined ? sql` AND holder = ${r.holder}` : sql``}`
  // The event is recorded first, judging the provisos once; the lease row then takes the object it recorded.
  // It records no object before: a renewal changes neither labels nor name, all a lease's
  // selectors look at, so a watch judges it as it judges the object written (watch-events.ts).
  const event = recorded('Lease', r.namespace, r.name)
  const written = await b.writeIf(
    b.run(sql`INSERT INTO changes (rv, kind, namespace, name, type, at, actor, object)
      SELECT ${NEXT_RV}, 'Lease', namespace, name, 'MODIFIED', ${b.at()}, ${b.actor}, json_set(body, '$.spec.renewTime', ${r.renewTime})
        FROM leases WHERE ${applies}`),
    [
      b.db.all(sql`UPDATE leases SET rv = ${RV}, renew_ms = ${r.renewMs},
          body = (SELECT object FROM changes WHERE rv = ${RV} AND kind = 'Lease' AND namespace = ${r.namespace} AND name = ${r.name}),
          expires_ms = CASE WHEN holder IS NOT NULL AND holder <> '' AND duration_seconds > 0 THEN ${r.renewMs} + duration_seconds * 1000 END
        WHERE ${key} AND rv <> ${RV} AND ${event}
        RETURNING body, EXISTS (SELECT 1 FROM pods WHERE pods.namespace = leases.namespace AND pods.lease = leases.name AND pods.lease_lapsed = 1) AS marked`),
    ],
  )
  if (!written) return null
  const [updated] = written.results as [{ body: string; marked: number }[]]
  return { rv: written.rv, body: JSON.parse(updated[0]!.body), marked: Number(updated[0]!.marked) === 1 }
}

export function deleteLease(b: Batch, namespace: string, name: string, pre?: Precondition): Promise<number> {
  return b.write(b.existing(leaseTable, namespace, name, pre), [
    b.change('Lease', leaseTable, namespace, name, 'DELETED'),
    deleteLabels(b, leaseTable.labelKind, namespace, name),
    b.run(sql`DELETE FROM leases WHERE namespace = ${namespace} AND name = ${name}`),
  ])
}

const BOUND_COLUMNS = sql`p.namespace AS namespace, p.name AS name, p.rv AS rv, p.lease AS lease, p.ready AS ready, p.lease_lapsed AS lease_lapsed,
  l.rv AS lease_rv, l.holder AS holder, l.duration_seconds AS duration_seconds, l.renew_ms AS renew_ms, l.expires_ms AS expires_ms`

/**
 * Every pod bound to a lease that nobody holds or whose own expiry is before `nowMs`,
 * found through the leases' expiry index. The caller judges each (the registry's absence
 * grace, whether to mark or to delete).
 */
export async function podsOfLapsedLeases(db: Database, nowMs: number): Promise<BoundPodRow[]> {
  const rows = await db.all<Record<string, unknown>>(sql`
    SELECT ${BOUND_COLUMNS}
      FROM leases l CROSS JOIN pods p ON p.namespace = l.namespace AND p.lease = l.name
     WHERE l.expires_ms < ${nowMs} OR l.expires_ms IS NULL`)
  return rows.map(boundRow)
}

/** Pods that name a lease that does not exist (a deleted lease, or one never created). */
export async function podsOfMissingLeases(db: Database): Promise<BoundPodRow[]> {
  const rows = await db.all<Record<string, unknown>>(sql`
    SELECT ${BOUND_COLUMNS}
      FROM pods p LEFT JOIN leases l ON l.namespace = p.namespace AND l.name = p.lease
     WHERE p.lease IS NOT NULL AND l.name IS NULL`)
  return rows.map(boundRow)
}

/** The pods of a lease marked Ready=False for its lapse, which a renewal restores. */
export async function lapsedPodsOf(db: Database, namespace: string, lease: string): Promise<{ name: string; rv: number }[]> {
  const rows = await db.all<{ name: string; rv: number }>(
    sql`SELECT name, rv FROM pods WHERE namespace = ${namespace} AND lease = ${lease} AND lease_lapsed = 1`,
  )
  return rows.map((r) => ({ name: r.name, rv: Number(r.rv) }))
}

function boundRow(r: Record<string, unknown>): BoundPodRow {
  return {
    namespace: String(r.namespace),
    name: String(r.name),
    rv: Number(r.rv),
    lease: String(r.lease),
    ready: Number(r.ready) === 1,
    leaseLapsed: Number(r.lease_lapsed) === 1,
    leaseRv: r.lease_rv == null ? null : Number(r.lease_rv),
    holder: r.holder == null ? null : String(r.holder),
    durationSeconds: r.duration_seconds == null ? null : Number(r.duration_seconds),
    renewMs: r.renew_ms == null ? null : Number(r.renew_ms),
    expiresMs: r.expires_ms == null ? null : Number(r.expires_ms),
  }
}
