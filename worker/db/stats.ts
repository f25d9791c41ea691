/**
 * What /metrics reports of the database: its size (page_count × page_size where PRAGMA
 * functions may be read: an embedded file, Turso; on D1 the size each result reports;
 * null where neither answers),
 * the change log's length in rows, and the leases held (a holder, not yet expired) and
 * expired (a holder, expiry passed).
 */
import { sql } from './sql'
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
    if (Number.isFinite(bytes) && bytes > 0) return bytes
  } catch {
    // D1 refuses PRAGMA functions: it reports the size with every result instead.
  }
  const d1 = (db as { $client?: D1Like }).$client
  if (typeof d1?.prepare !== 'function') return null
  try {
    const size = Number((await d1.prepare('SELECT 1').run()).meta?.size_after)
    return Number.isFinite(size) && size > 0 ? size : null
  } catch {
    return null
  }
}

/** What a D1 binding's result says of the database (D1Result.meta.size_after). */
interface D1Like {
  prepare(query: string): { run(): Promise<{ meta?: { size_after?: number } }> }
}
