/**
 * An online, consistent copy of an embedded database file (`npm run backup`), taken with
 * SQLite's `VACUUM INTO` on a connection of its own: it reads one snapshot of the
 * database (WAL mode lets the server go on writing meanwhile), so the copy is the
 * database as it was at one commit, every write whole or absent.
 *
 * The copy is written beside the target under a temporary name, synced, checked
 * (`PRAGMA quick_check`), and only then put in place: linked (which fails if the target
 * appeared meanwhile) or, with `force`, renamed over the target, so an existing backup is
 * never lost to a failed one.
 */
import { closeSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, realpathSync, renameSync, statSync, unlinkSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { openLibsql } from './client'

export interface BackupResult {
  /** The copy's size in bytes. */
  bytes: number
  /** The registry's resourceVersion in the copy: the commit it was taken at. */
  resourceVersion: string | null
  ms: number
}

/** A backup that was not taken (nothing was written to the target). */
export class BackupError extends Error {
  override name = 'BackupError'
}

export async function backupEmbedded(source: string, target: string, options: { force?: boolean } = {}): Promise<BackupResult> {
  const started = performance.now()
  if (!existsSync(source)) throw new BackupError(`there is no database at ${source}`)
  if (sameFile(source, target)) throw new BackupError(`${target} is the database itself: name another file`)
  if (existsSync(target) && !options.force) throw new BackupError(`${target} exists: pass --force to replace it`)
  mkdirSync(dirname(target), { recursive: true })
  const temporary = join(dirname(target), `.${basename(target)}.${process.pid}.partial`)
  try {
    // VACUUM INTO reads one snapshot and takes no write lock: a running registry's writes go on meanwhile.
    const client = openLibsql({ url: source })
    try {
      await client.execute({ sql: 'VACUUM INTO ?', args: [temporary] })
    } finally {
      client.close()
    }
    syncFile(temporary)
    const copy = openLibsql({ url: temporary })
    let resourceVersion: string | null
    try {
      const check = (await copy.execute('PRAGMA quick_check')).rows.map((r) => String(r[0]))
      if (check.join() !== 'ok') throw new BackupError(`the copy failed its check (${check.slice(0, 3).join('; ')}): no backup was written`)
      const meta = await copy.execute(`SELECT value FROM meta WHERE key = 'resourceVersion'`).catch(() => null)
      resourceVersion = meta?.rows[0] ? String(meta.rows[0][0]) : null
    } finally {
      copy.close()
    }
    if (options.force) renameSync(temporary, target)
    else {
      try {
        linkSync(temporary, target)
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new BackupError(`${target} exists: pass --force to replace it`)
        throw e
      }
    }
    syncFile(dirname(target))
    return { bytes: statSync(target).size, resourceVersion, ms: performance.now() - started }
  } finally {
    for (const leftover of [temporary, `${temporary}-wal`, `${temporary}-shm`]) {
      if (existsSync(leftover)) unlinkSync(leftover)
    }
  }
}

/** Whether `target` names the database file, or its WAL or shared-memory index. */
function sameFile(source: string, target: string): boolean {
  const real = (path: string) => (existsSync(path) ? realpathSync(path) : resolve(path))
  const db = real(source)
  return [db, `${db}-wal`, `${db}-shm`].includes(real(target))
}

function syncFile(path: string): void {
  const fd = openSync(path, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}
