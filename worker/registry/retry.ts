/**
 * Retrying a read-compute-write after a concurrent change. Each round lets at least one
 * writer of the object through, so contention always drains; writers that collided
 * pause at random (up to 2^round ms, at most MAX_BACKOFF_MS) so that they spread out.
 */
import type { Clock } from './meta'

/** How long an update without a resourceVersion keeps trying after concurrent changes. */
export const UPDATE_DEADLINE_MS = 10_000
export const MAX_BACKOFF_MS = 64

/**
 * Runs `attempt` until it succeeds, or fails with an error `retriable` does not accept,
 * or the deadline has passed (then the last error is thrown).
 */
export async function retryAfterConflicts<T>(clock: Clock, attempt: () => Promise<T>, retriable: (e: unknown) => boolean): Promise<T> {
  const deadline = clock.now().getTime() + UPDATE_DEADLINE_MS
  for (let round = 0; ; round++) {
    if (round > 0) await pause(clock.random() * Math.min(2 ** round, MAX_BACKOFF_MS))
    try {
      return await attempt()
    } catch (e) {
      if (!retriable(e) || clock.now().getTime() >= deadline) throw e
    }
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
