/**
 * This process's view of the leases that pods name, and of the registry's presence, for
 * judging pods when answering (lease-expiry.ts). Lease states come from the discovery
 * cache's reads (each service read brings the leases of its endpoints) and then follow
 * the change feed lease by lease: a renewal updates the state in place and drops no cache
 * entry. The presence is refreshed by heartbeats (`beat`): the Node timer and the sweep
 * on Workers call it; a reader that finds it older than half the absence threshold waits
 * for one, so that no answer after an absence misses the grace. A process that has kept
 * running all along (its timer asked for a heartbeat at least every half threshold since
 * the last one committed) has not been absent, whatever became of those heartbeats: its
 * readers do not wait, so a heartbeat held up by another process's write lock holds up no
 * DNS answer or pick.
 */
import type { LeaseRow, Store } from '../db/store'
import type { ChangeFeed, ChangeEvent, FeedUpdate } from './change-feed'
import { leaseExpiresMs, renewMs } from './lease'
import { ALWAYS_PRESENT, leaseHolds, lapsesAt, type LeaseState, type Presence } from './lease-expiry'
import type { LeaseObject } from './types'

interface Known {
  /** Null: the lease does not exist. */
  state: LeaseState | null
  rv: number
}

/** Leases remembered at most; beyond that the book starts again (reads fill it back). */
const MAX_LEASES = 200_000

export class LeaseBook {
  private readonly known = new Map<string, Known>()
  private presenceNow: Presence = ALWAYS_PRESENT
  private lastBeat = Number.NEGATIVE_INFINITY
  /** When this process last said it was running (`running`), and since when it has said so without a gap longer than half the threshold. */
  private lastRunning = Number.NEGATIVE_INFINITY
  private runningSince = Number.NEGATIVE_INFINITY
  private beating: Promise<Presence> | undefined
  private readonly forgetters: (() => void)[] = []
  /** Bumped whenever a lease's state or the presence changes: a judged view made at the same version is still right until its own deadline. */
  version = 0

  constructor(
    private readonly store: Store,
    feed: ChangeFeed,
    private readonly now: () => number,
    /** A gap between heartbeats longer than this is an absence of the registry. */
    readonly absenceMs: number,
  ) {
    feed.subscribe((update) => this.apply(update))
  }

  get presence(): Presence {
    return this.presenceNow
  }

  /** Calls `listener` when the book forgets every lease (a reset of the feed, or too many leases): what was judged from it must be read again. */
  onForget(listener: () => void): void {
    this.forgetters.push(listener)
  }

  /** Says that this process is running now (each heartbeat asked for says so too). */
  running(): void {
    const now = this.now()
    if (now - this.lastRunning > this.absenceMs / 2) this.runningSince = now
    this.lastRunning = now
  }

  /** Records a heartbeat now and learns the latest absence. */
  beat(): Promise<Presence> {
    this.running()
    this.beating ??= this.store
      .heartbeat(this.now(), this.absenceMs)
      .then((row) => {
        if (row.absentFrom !== this.presenceNow.absentFrom || row.resumedAt !== this.presenceNow.resumedAt) this.version++
        this.presenceNow = row
        this.lastBeat = this.now()
        return row
      })
      .finally(() => (this.beating = undefined))
    return this.beating
  }

  /** Waits for a heartbeat when the last one this process made is too old to trust, unless the process has been running all along since it. */
  async fresh(): Promise<void> {
    const now = this.now()
    if (now - this.lastBeat <= this.absenceMs / 2) return
    if (this.runningSince <= this.lastBeat && now - this.lastRunning <= this.absenceMs / 2) return
    await this.beat()
  }

  /** Learns lease states read at `rv` (rows of `names` that were not found do not exist). */
  observe(namespace: string, names: Iterable<string>, rows: Pick<LeaseRow, 'name' | 'holder' | 'durationSeconds' | 'renewMs' | 'expiresMs'>[], rv: number): void {
    const found = new Map(rows.map((r) => [r.name, r]))
    for (const name of names) {
      const row = found.get(name)
      this.set(`${namespace}/${name}`, row ? { holder: row.holder, durationSeconds: row.durationSeconds, renewMs: row.renewMs, expiresMs: row.expiresMs } : null, rv)
    }
  }

  /** Whether the lease holds now (an unknown lease counts as not existing). */
  holds(namespace: string, name: string, nowMs = this.now()): boolean {
    return leaseHolds(this.known.get(`${namespace}/${name}`)?.state, this.presenceNow, nowMs)
  }

  /** When the lease lapses (−Infinity: it does not hold). */
  lapsesAt(namespace: string, name: string): number {
    return lapsesAt(this.known.get(`${namespace}/${name}`)?.state, this.presenceNow)
  }

  private apply(update: FeedUpdate): void {
    if ('reset' in update) return this.forget()
    for (const event of update.events) if (event.kind === 'Lease') this.set(`${event.namespace}/${event.name}`, stateOf(event), event.rv)
  }

  private set(key: string, state: LeaseState | null, rv: number): void {
    const before = this.known.get(key)
    if (before && before.rv > rv) return
    if (!before && this.known.size >= MAX_LEASES) this.forget()
    this.known.set(key, { state, rv })
    this.version++
  }

  private forget(): void {
    this.known.clear()
    this.version++
    for (const listener of this.forgetters) listener()
  }
}

function stateOf(event: ChangeEvent): LeaseState | null {
  if (event.type === 'DELETED' || !event.object) return null
  const spec = ((event.object as unknown as LeaseObject).spec ?? {}) as LeaseObject['spec']
  return { holder: spec.holderIdentity ?? null, durationSeconds: spec.leaseDurationSeconds ?? null, renewMs: renewMs(spec), expiresMs: leaseExpiresMs(spec) }
}
