/**
 * Runs tasks that share a key one after another, within this process (or Workers
 * isolate). Read-compute-write updates of one object then never race each other here,
 * so they do not spend their conditional writes on conflicts they made themselves;
 * updates from other processes still meet the write guard and retry.
 */
export class KeyedSerial {
  private readonly tails = new Map<string, Promise<unknown>>()

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve()
    const result = previous.then(task)
    const tail = result.then(
      () => undefined,
      () => undefined,
    )
    this.tails.set(key, tail)
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key)
    })
    return result
  }

  /** Keys with a task running or queued. */
  get size(): number {
    return this.tails.size
  }
}
