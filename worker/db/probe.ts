/**
 * The write probe of readiness (/readyz): a write that commits. It rewrites the resourceVersion row with its own value: the transaction takes
 * the write lock and its page goes to the disk (the WAL, or the journal) like any
 * commit's, yet nothing changes, nothing enters the change log and no resourceVersion
 * moves.
 */
import { sql } from './sql'
import type { Database } from './client'

export async function probeWrite(db: Database): Promise<void> {
  await db.batch([db.run(sql`UPDATE meta SET value = value WHERE key = 'resourceVersion'`)])
}
