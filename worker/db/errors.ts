/**
 * What a failed write batch means. Guards (see `guard` in schema.ts) and unique
 * allocations fail inside the batch, which rolls it back whole; this maps the
 * driver's error to the precondition that failed.
 */
import { GUARD_CODES, type GuardCode } from './schema'

export type PreconditionCode = GuardCode | 'ip_taken' | 'port_taken'

/** A write was refused by a precondition; nothing in its batch was applied. */
export class PreconditionFailed extends Error {
  constructor(readonly code: PreconditionCode) {
    super(`precondition failed: ${code}`)
    this.name = 'PreconditionFailed'
  }
}

const UNIQUE: Record<string, PreconditionCode> = {
  'cluster_ips.ip': 'ip_taken',
  'node_ports.port': 'port_taken',
}

/** Returns the precondition a driver error stands for, or null for any other error. */
export function preconditionOf(error: unknown): PreconditionCode | null {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const guard = /CHECK constraint failed: guard_([a-z_]+)/.exec(e.message)
    if (guard && (GUARD_CODES as readonly string[]).includes(guard[1]!)) return guard[1] as GuardCode
    const unique = /UNIQUE constraint failed: ([a-z_]+\.[a-z_]+)/.exec(e.message)
    if (unique && UNIQUE[unique[1]!]) return UNIQUE[unique[1]!]!
  }
  return null
}

/**
 * A fault of the storage itself, not of the request: the disk is full (`full`), the
 * database file was removed or replaced while the registry had it open (`moved`), or the
 * database refuses writes (`readonly`: a read-only file or mount) or cannot reach the disk
 * (`io`), or another process held the database's write lock for longer than a write
 * waits (`busy`). Nothing of the failed write was applied.
 */
export type StorageFault = 'full' | 'moved' | 'readonly' | 'io' | 'busy'

/** The extended code of a write refused because the database file was removed or replaced (SQLite's own name for it). */
export const DBMOVED = 'SQLITE_READONLY_DBMOVED'

/**
 * Returns the storage fault a driver error stands for, or null. libSQL (embedded and
 * remote) names the SQLite code in `code`/`extendedCode`; D1 only in the message.
 */
export function storageFaultOf(error: unknown): StorageFault | null {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const { code, extendedCode } = e as { code?: unknown; extendedCode?: unknown }
    const codes = `${String(code ?? '')} ${String(extendedCode ?? '')} ${e.message}`
    if (/\bSQLITE_FULL\b|database or disk is full/.test(codes)) return 'full'
    if (new RegExp(`\\b${DBMOVED}\\b`).test(codes)) return 'moved'
    if (/\bSQLITE_READONLY(_[A-Z]+)?\b|attempt to write a readonly database/.test(codes)) return 'readonly'
    if (/\bSQLITE_IOERR(_[A-Z]+)?\b|disk I\/O error/.test(codes)) return 'io'
    if (/\bSQLITE_BUSY(_[A-Z]+)?\b|database is locked/.test(codes)) return 'busy'
  }
  return null
}
