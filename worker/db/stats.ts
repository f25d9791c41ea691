/**
 * What /metrics reports of the database: its size (page_count × page_size, where the
 * driver lets PRAGMA functions be read: an embedded file, Turso; null where it does not),
 * the change log's length in rows, and the leases held (a holder, not yet expired) and
 * expired (a holder, expiry passed).
 */
import { sql } from 'drizzle-orm'
import type { Database } from './client'

export interface StorageStats {
  databaseBytes: number | null
  changeLogRows: number
  leasesHeld: number
  leasesExpired: number
}

export async function storageStats(db: Database, nowMs: number): Promise<StorageStats> {
  const [changes, leases] = (await db.batch([
    db.all(sql`SELECT count(*) AS n FROM changes`),
    db.all(sql`SELECT coalesce(sum(expires_ms >= ${nowMs}), 0) AS held, coalesce(sum(expires_ms < ${nowMs}), 0) AS expired
                FROM leases WHERE holder IS NOT NULL AND holder <> ''`),
  ])) as [{ n: number }[], { held: number; expired: number }[]]
  return {
    databaseBytes: await databaseBytes(db),
    changeLogRows: Number(changes[0]?.n ?? 0),
    leasesHeld: Number(leases[0]?.held ?? 0),
    leasesExpired: Number(leases[0]?.expired ?? 0),
  }
}

async function databaseBytes(db: Database): Promise<number | null> {
  try {
    const rows = (await db.all(sql`SELECT page_count * page_size AS bytes FROM pragma_page_count(), pragma_page_size()`)) as { bytes: number }[]
    const bytes = Number(rows[0]?.bytes)
    return Number.isFinite(bytes) ? bytes : null
  } catch {
    return null
  }
}
