/** Reads until `check` holds or `ms` pass (answering the last value read), pausing `pauseMs` between reads. */
export async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, ms = 5000, pauseMs = 100): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await read()
    if (check(value) || Date.now() > deadline) return value
    await new Promise((r) => setTimeout(r, pauseMs))
  }
}
