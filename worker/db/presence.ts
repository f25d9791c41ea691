/**
 * The registry's presence: a heartbeat in the `meta` table, and the latest absence it
 * revealed. Each process (or isolate) beats while it runs; a beat that finds the last
 * one older than the absence threshold records that the registry was away from the last
 * beat until now (see registry/lease-expiry.ts for what that grants leases). None of this
 * is an object: no resourceVersion moves and nothing enters the change log.
 */
import { sql } from './sql'
import type { Database } from './client'

/** `absentFrom` before any absence: far in the future, so no lease expiry falls after it. */
const NEVER = 8_640_000_000_000_000

export interface PresenceRow {
  absentFrom: number
  resumedAt: number
}

/** Beats at `nowMs`; a gap since the last beat longer than `absenceMs` becomes the latest absence. */
export async function heartbeat(db: Database, nowMs: number, absenceMs: number): Promise<PresenceRow> {
  const lastBeat = sql`(SELECT value FROM meta WHERE key = 'presenceBeat')`
  const away = sql`${lastBeat} IS NOT NULL AND ${nowMs} - ${lastBeat} > ${absenceMs}`
  const results = await db.batch([
    db.run(sql`INSERT OR IGNORE INTO meta (key, value) VALUES ('absentFrom', ${NEVER}), ('resumedAt', 0)`),
    db.run(sql`UPDATE meta SET value = ${lastBeat} WHERE key = 'absentFrom' AND ${away}`),
    db.run(sql`UPDATE meta SET value = ${nowMs} WHERE key = 'resumedAt' AND ${away} AND ${lastBeat} < ${nowMs}`),
    db.run(sql`INSERT INTO meta (key, value) VALUES ('presenceBeat', ${nowMs}) ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)`),
    db.all(sql`SELECT key, value FROM meta WHERE key IN ('absentFrom', 'resumedAt')`),
  ])
  const rows = results[4] as { key: string; value: number }[]
  const value = (key: string) => Number(rows.find((r) => r.key === key)?.value)
  return { absentFrom: value('absentFrom'), resumedAt: value('resumedAt') }
}
