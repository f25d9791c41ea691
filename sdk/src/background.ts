/**
 * The tools of the client's waits and background work: waits that end early, without
 * error, when their signal aborts, and the calls of the caller's callbacks.
 *
 * Which waits keep a Node process alive is decided per use. A wait that something the
 * caller awaits depends on keeps it alive (`pause`): a watch's or a discovery's reconnect
 * backoff (the caller awaits the next event or `whenReady()`), leader election (the caller
 * awaits `run()`). Truly background work does not (`backgroundPause`, `backgroundTimeout`:
 * `unref`; other runtimes have no such notion): a registration's renewals, which go on
 * beside whatever keeps the process running (its server), and the deadlines of requests
 * in flight (the request itself keeps the process alive).
 */

/** `setTimeout` that does not keep the process alive. */
export function backgroundTimeout(fn: () => void, ms: number): ReturnType<typeof setTimeout> {
  const timer = setTimeout(fn, ms)
  ;(timer as { unref?: () => void }).unref?.()
  return timer
}

/**
 * Resolves after `ms`, or as soon as `signal` aborts (leaving no timer and no listener
 * behind). Keeps a Node process alive meanwhile: for waits the caller is awaiting.
 */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return wait(ms, signal, setTimeout)
}

/** `pause` that does not keep a Node process alive: for background work only. */
export function backgroundPause(ms: number, signal?: AbortSignal): Promise<void> {
  return wait(ms, signal, backgroundTimeout)
}

function wait(ms: number, signal: AbortSignal | undefined, timeout: (fn: () => void, ms: number) => ReturnType<typeof setTimeout>): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const done = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = timeout(done, Math.max(0, ms))
    signal?.addEventListener('abort', done, { once: true })
  })
}

/**
 * Runs `fn` with a signal that aborts after `ms`, and settles by then even if `fn` ignores
 * its signal (rejecting with `onTimeout()`).
 */
export async function withDeadline<T>(ms: number, onTimeout: () => Error, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController()
  let timer: ReturnType<typeof setTimeout> | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = backgroundTimeout(() => {
      const error = onTimeout()
      controller.abort(error)
      reject(error)
    }, Math.max(0, ms))
  })
  const attempt = fn(controller.signal)
  attempt.catch(() => {}) // settled after the deadline: already reported as the timeout
  try {
    return await Promise.race([attempt, expired])
  } finally {
    clearTimeout(timer)
  }
}

/** `ms` spread by ±`fraction` at random (0.1: ±10%). */
export function jittered(ms: number, fraction: number): number {
  return ms * (1 + fraction * (2 * Math.random() - 1))
}

/** A clock that only moves forward (wall-clock changes do not move it), in ms. */
export function monotonic(): number {
  return performance.now()
}

/**
 * Calls a caller's callback from background work. What it throws is not the loop's to
 * handle: it is rethrown on its own, as an uncaught error (as a throwing event listener's is).
 */
export function notify<A extends unknown[]>(callback: ((...args: A) => unknown) | undefined, ...args: A): void {
  try {
    callback?.(...args)
  } catch (e) {
    queueMicrotask(() => {
      throw e
    })
  }
}
