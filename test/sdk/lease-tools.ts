/**
 * Instruments for lease tests: a fetch that records the requests for one lease object
 * (by default renewals: merge PATCHes) and can make them fail or hang, and a record of the
 * timers that a part of the code base sets and has not yet cleared or run.
 */

export interface Renewal {
  /** performance.now() when it was sent. */
  at: number
  ok: boolean
}

export function leaseRequests(methods: string[] = ['PATCH']) {
  const renewals: Renewal[] = []
  let failing = 0
  let hanging = false
  let waiters: ((r: Renewal) => void)[] = []
  const record = (r: Renewal) => {
    renewals.push(r)
    if (!r.ok) return
    const ready = waiters
    waiters = []
    for (const w of ready) w(r)
  }
  const fetchLeases: typeof fetch = async (input, init) => {
    const url = input instanceof Request ? input.url : String(input)
    if (!methods.includes(init?.method ?? 'GET') || !/\/leases\/[^/]+$/.test(new URL(url).pathname)) return fetch(input, init)
    const at = performance.now()
    if (hanging) {
      await new Promise((_, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason)))
    }
    if (failing > 0) {
      failing--
      record({ at, ok: false })
      throw new TypeError('fetch failed')
    }
    try {
      const res = await fetch(input, init)
      record({ at, ok: res.ok })
      return res
    } catch (e) {
      record({ at, ok: false })
      throw e
    }
  }
  return {
    fetch: fetchLeases,
    renewals,
    /** The next request that succeeds (rejects when none does within `timeoutMs`). */
    renewed: (timeoutMs = 5000) =>
      new Promise<Renewal>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no successful lease request within ${timeoutMs} ms`)), timeoutMs)
        waiters.push((r) => {
          clearTimeout(timer)
          resolve(r)
        })
      }),
    /** The next `n` requests fail as a refused connection would. */
    failNext: (n: number) => {
      failing = n
    },
    /** Requests hang (until their signal aborts) as in a network partition. */
    blackhole: () => {
      hanging = true
    },
    restore: () => {
      hanging = false
      failing = 0
    },
  }
}

/**
 * Tracks the timers set from files whose path contains `marker` (by the stack at
 * `setTimeout`): `live()` lists the stacks of those neither run nor cleared yet.
 */
export function timersFrom(marker: string) {
  const realSet = globalThis.setTimeout
  const realClear = globalThis.clearTimeout
  const live = new Map<unknown, string>()
  globalThis.setTimeout = ((fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const stack = new Error().stack ?? ''
    const timer = realSet(() => {
      live.delete(timer)
      fn(...args)
    }, ms)
    if (stack.includes(marker)) live.set(timer, stack)
    return timer
  }) as typeof setTimeout
  globalThis.clearTimeout = ((timer: Parameters<typeof clearTimeout>[0]) => {
    live.delete(timer)
    realClear(timer)
  }) as typeof clearTimeout
  return {
    live: () => [...live.values()],
    restore: () => {
      globalThis.setTimeout = realSet
      globalThis.clearTimeout = realClear
    },
  }
}
