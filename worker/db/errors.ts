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
