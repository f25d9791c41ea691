/**
 * The change feed: this process's (or isolate's) view of the change log. It follows the
 * log with one indexed query for the events after the last resourceVersion it saw — at
 * most once per catch-up interval, and at once after a write through this process
 * (read-your-writes) — keeps the most recent events in a bounded ring, and hands every
 * new batch of events to its listeners (the caches that follow the log object by object).
 * Watches read from the ring, or from the log when they start further back.
 *
 * Nothing here runs in the background: whoever reads (a cache lookup, a watch waiting for
 * events) calls `sync()`, so the same code serves Node and Workers isolates alike.
 */
import type { ChangeRow, Store } from '../db/store'
import { RegistryError } from './errors'
import type { Clock } from './meta'

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED'

/** One event of the log: the object as written (null: a computed view that changed) and, for MODIFIED, as it was. */
export interface ChangeEvent {
  rv: number
  kind: string
  namespace: string
  name: string
  type: EventType
  object: Record<string, unknown> | null
  oldObject: Record<string, unknown> | null
}

/** What listeners get: the events of one catch-up in order, or `reset` when events were lost (compacted away). */
export type FeedUpdate = { events: ChangeEvent[] } | { reset: true }

export interface ChangeFeedOptions {
  /** At most one catch-up query per this many milliseconds (a write through this process forces one). */
  intervalMs: number
  /** Events kept in memory for watches. */
  ringSize?: number
}

/** Events read per query while catching up. */
const READ_LIMIT = 1000
const DEFAULT_RING = 10_000

export class ChangeFeed {
  private latestRv = -1
  private compactedRv = 0
  private lastSync = -Infinity
  private behind = true
  private running: Promise<void> | undefined
  private readonly ring: ChangeEvent[] = []
  private readonly listeners = new Set<(update: FeedUpdate) => void>()
  private readonly waiters = new Set<() => void>()
  private readonly ringSize: number
  /** Watches running on this feed now (registry/watch.ts; /metrics). */
  openWatches = 0

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly options: ChangeFeedOptions,
  ) {
    this.ringSize = options.ringSize ?? DEFAULT_RING
    store.onWrite(() => {
      this.behind = true
      // Watches waiting here catch up at once: a local write reaches them without waiting for the interval.
      for (const wake of [...this.waiters]) wake()
    })
  }

  /** The newest resourceVersion the feed has applied (−1 before the first sync). */
  get latest(): number {
    return this.latestRv
  }

  /** Calls `listener` with every batch of new events; returns a function that stops it. */
  subscribe(listener: (update: FeedUpdate) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /**
   * Catches up when a write went through this process since the last catch-up, or when
   * the last one is older than the interval; otherwise returns at once.
   */
  sync(): Promise<void> {
    if (!this.behind && this.clock.now().getTime() - this.lastSync < this.options.intervalMs) return Promise.resolve()
    return this.catchUp()
  }

  /**
   * Catches up now (one catch-up at a time; callers during one share it). A write through
   * this process that lands while a catch-up is running may not be in it: its writer then
   * waits for one more, so a process always reads its own writes.
   */
  catchUp(): Promise<void> {
    if (this.running) return this.running.then(() => (this.behind ? this.catchUp() : undefined))
    this.running = this.read().finally(() => {
      this.running = undefined
    })
    return this.running
  }

  /**
   * The events after `rv`, oldest first: from memory when the ring reaches back that far,
   * else from the log. A resourceVersion older than the log's compaction is 410 Expired.
   */
  async eventsAfter(rv: number): Promise<ChangeEvent[]> {
    await this.sync()
    if (rv >= this.latestRv) return []
    if (rv < this.compactedRv) throw expired(rv, this.compactedRv)
    // Every write has at least one event, so a ring that starts at or before `rv` holds all that follow it.
    const first = this.ring[0]
    if (first && first.rv <= rv) return this.ring.filter((e) => e.rv > rv)
    const out: ChangeEvent[] = []
    for (let after = rv; ; ) {
      const read = await this.store.changesSince(after, READ_LIMIT)
      if (after < read.compactedRv) throw expired(rv, read.compactedRv)
      out.push(...read.rows.map(eventOf))
      if (!read.more) return out
      after = read.rows[read.rows.length - 1]!.rv
    }
  }

  /**
   * Waits until the feed has events after `rv` or `ms` pass, catching up at most once per
   * interval meanwhile. Resolves either way; the caller reads `eventsAfter`.
   */
  async waitAfter(rv: number, ms: number, signal?: AbortSignal): Promise<void> {
    const until = this.clock.now().getTime() + ms
    while (!signal?.aborted && this.latestRv <= rv) {
      const left = until - this.clock.now().getTime()
      if (left <= 0) return
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer)
          this.waiters.delete(wake)
          signal?.removeEventListener('abort', wake)
          resolve()
        }
        const timer = setTimeout(wake, Math.min(left, this.options.intervalMs))
        this.waiters.add(wake)
        signal?.addEventListener('abort', wake)
      })
      await this.sync()
    }
  }

  private async read(): Promise<void> {
    this.behind = false
    this.lastSync = this.clock.now().getTime()
    if (this.latestRv < 0) {
      const first = await this.store.changesSince(Number.MAX_SAFE_INTEGER, 1)
      this.latestRv = first.rv
      this.compactedRv = first.compactedRv
      return
    }
    const events: ChangeEvent[] = []
    for (;;) {
      const read = await this.store.changesSince(this.latestRv, READ_LIMIT)
      this.compactedRv = read.compactedRv
      if (this.latestRv < read.compactedRv || read.rv < this.latestRv) {
        // Events this process never saw were compacted away, or the database went back (a restore):
        // everything derived from the log starts again.
        this.ring.length = 0
        this.latestRv = read.rv
        this.emit({ reset: true })
        return
      }
      events.push(...read.rows.map(eventOf))
      if (read.rows.length) this.latestRv = read.rows[read.rows.length - 1]!.rv
      if (!read.more) {
        this.latestRv = Math.max(this.latestRv, read.rv)
        break
      }
    }
    if (events.length === 0) return
    for (const event of events.slice(-this.ringSize)) this.ring.push(event)
    if (this.ring.length > this.ringSize) this.ring.splice(0, this.ring.length - this.ringSize)
    this.emit({ events })
  }

  private emit(update: FeedUpdate): void {
    for (const listener of this.listeners) listener(update)
    for (const wake of [...this.waiters]) wake()
  }
}

function eventOf(row: ChangeRow): ChangeEvent {
  return {
    rv: row.rv,
    kind: row.kind,
    namespace: row.namespace,
    name: row.name,
    type: row.type,
    object: row.object ? (JSON.parse(row.object) as Record<string, unknown>) : null,
    oldObject: row.oldObject ? (JSON.parse(row.oldObject) as Record<string, unknown>) : null,
  }
}

/** The Status of a watch or catch-up from before the log's compaction. */
export function expired(rv: number, compactedRv: number): RegistryError {
  return new RegistryError('Expired', `too old resource version: ${rv} (${compactedRv + 1})`)
}
