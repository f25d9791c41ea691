/**
 * The renewal loop of a lease, shared by registrations and leader election: one call
 * (`beat`) repeated every interval; after a failure it is retried sooner, with a growing
 * wait that never reaches past the deadline; when no beat has succeeded for `deadlineMs`
 * it gives up. Every beat is aborted at the deadline, so a request that hangs cannot hold
 * the loop past it.
 */
import { TimeoutError } from './errors.js'
import { backgroundPause, monotonic, pause, withDeadline } from './background.js'

export interface HeartbeatOptions {
  /** The wait before the next beat after a success (jitter is the caller's). */
  intervalMs: () => number
  /** Give up when no beat succeeded for this long. */
  deadlineMs: number
  /** The wait before the n-th retry in a row (n = 1, 2, ...); capped at half the time left. */
  retryMs: (failures: number) => number
  /** One renewal. Throwing `GiveUp` ends the loop at once (e.g. someone else holds the lease). */
  beat: (signal: AbortSignal) => Promise<void>
  /** True when nothing awaits the loop (a registration's renewals): its waits do not keep a Node process alive. */
  background?: boolean
}

/** How the loop ended: stopped, or lost (no success within the deadline, or `GiveUp`). */
export type HeartbeatEnd = { lost: false } | { lost: true; cause: unknown }

/** Thrown by a beat that knows retrying is pointless. */
export class GiveUp extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}

/** Retries below this are not worth it: the loop waits out the deadline instead. */
const MIN_RETRY_MS = 10

export class Heartbeat {
  private readonly stopping = new AbortController()
  private ended: Promise<HeartbeatEnd> | undefined

  constructor(private readonly options: HeartbeatOptions) {}

  /** Starts beating, the last success at `lastSuccess` (monotonic ms; default now); resolves when the loop ends. */
  run(lastSuccess = monotonic()): Promise<HeartbeatEnd> {
    this.ended ??= this.loop(lastSuccess)
    return this.ended
  }

  /** Ends the loop (a beat in flight finishes first) and leaves no timer behind. */
  async stop(): Promise<void> {
    this.stopping.abort()
    await this.ended
  }

  private async loop(lastSuccess: number): Promise<HeartbeatEnd> {
    const { deadlineMs, intervalMs, retryMs, beat, background } = this.options
    const sleep = background ? backgroundPause : pause
    const stop = this.stopping.signal
    let failures = 0
    let wait = intervalMs()
    let cause: unknown = new TimeoutError(`no renewal succeeded within ${deadlineMs} ms`)
    for (;;) {
      await sleep(wait, stop)
      if (stop.aborted) return { lost: false }
      const started = monotonic()
      const left = lastSuccess + deadlineMs - started
      if (left <= 0) return { lost: true, cause }
      try {
        await withDeadline(left, () => new TimeoutError(`the renewal got no answer within ${Math.round(left)} ms`), beat)
        lastSuccess = started
        failures = 0
        wait = intervalMs()
      } catch (e) {
        cause = e
        if (e instanceof GiveUp) return { lost: true, cause: e.cause ?? e }
        if (stop.aborted) return { lost: false }
        const remaining = lastSuccess + deadlineMs - monotonic()
        const retry = Math.min(retryMs(++failures), remaining / 2)
        // Too close to the deadline for another try: wait it out (one ms past it).
        wait = retry < MIN_RETRY_MS ? remaining + 1 : retry
      }
    }
  }
}
