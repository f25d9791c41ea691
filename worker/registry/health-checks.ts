/**
 * The checks behind /livez, /readyz and /healthz, by name, as Kubernetes' API server
 * has them: `ping` (the process answers), `database` (a read answers) and
 * `database-write` (a write commits: the disk has room, the database is not read-only
 * and, on Node, its file is still the one opened at start). The write is probed at most
 * once per PROBE_INTERVAL_MS, whoever asks and however often: concurrent and repeated
 * probes share the last outcome, so an open endpoint cannot be made to write at will.
 */
import type { Store } from '../db/store'
import { storageError } from './errors'

export const PROBE_INTERVAL_MS = 1000

export interface CheckResult {
  name: string
  ok: boolean
  /** Why a check failed, when that is safe to show (a storage fault); otherwise null. */
  reason: string | null
}

export interface HealthCheck {
  name: string
  /** Resolves when the check passes, rejects with why it does not. */
  run: () => Promise<void>
}

export class HealthChecks {
  readonly livez: HealthCheck[]
  readonly readyz: HealthCheck[]
  private lastWrite: { at: number; outcome: Promise<void> } | null = null

  constructor(
    private readonly store: Store,
    private readonly nowMs: () => number,
  ) {
    const ping: HealthCheck = { name: 'ping', run: async () => {} }
    this.livez = [ping]
    this.readyz = [ping, { name: 'database', run: async () => void (await store.resourceVersion()) }, { name: 'database-write', run: () => this.probeWrite() }]
  }

  /** Runs checks side by side. */
  async run(checks: readonly HealthCheck[]): Promise<CheckResult[]> {
    return Promise.all(
      checks.map((c) =>
        c.run().then(
          () => ({ name: c.name, ok: true, reason: null }),
          (e: unknown) => ({ name: c.name, ok: false, reason: storageError(e)?.message ?? null }),
        ),
      ),
    )
  }

  private probeWrite(): Promise<void> {
    const now = this.nowMs()
    if (this.lastWrite && now - this.lastWrite.at < PROBE_INTERVAL_MS && now >= this.lastWrite.at) return this.lastWrite.outcome
    const outcome = Promise.resolve().then(() => this.store.probeWrite())
    outcome.catch(() => {}) // the outcome is read by each caller; an unread rejection is not an error here
    this.lastWrite = { at: now, outcome }
    return outcome
  }
}
