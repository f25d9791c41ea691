/**
 * What the soak records as it runs: each request's latency under its operation and the
 * time bucket (a minute, or a third of a shorter soak) it completed in, and every error
 * by kind with its first samples; plus the paced closed loops that send the load and the
 * one request helper they all use, which times a request and classifies its failure.
 */
import { performance } from 'node:perf_hooks'
import { summarize, type Latency } from './load'

const SAMPLES_PER_KIND = 3

export class Timeline {
  /** Latencies in milliseconds, per operation, per bucket. */
  private readonly latencies = new Map<string, number[][]>()
  readonly errors = new Map<string, { count: number; samples: string[] }>()
  /** Errors per bucket, all kinds together. */
  readonly errorsPerBucket: number[] = []
  private start = 0
  private measuring = false

  constructor(
    /** Length of a bucket, in milliseconds. */
    readonly bucketMs: number,
    readonly buckets: number,
    /** The operations in the order the report shows them (others follow, as they first occur). */
    order: string[] = [],
  ) {
    for (const op of order) this.latencies.set(op, this.empty())
  }

  private empty(): number[][] {
    return Array.from({ length: this.buckets }, () => [])
  }

  /** Starts the measured time: nothing before it is kept (the warm-up), errors included. */
  begin(): void {
    this.start = performance.now()
    this.measuring = true
  }

  /** When the measured time began (performance.now()). */
  get startedAt(): number {
    return this.start
  }

  /** The bucket `at` (performance.now()) falls in, or undefined outside the measured time. */
  bucketOf(at: number): number | undefined {
    if (!this.measuring) return undefined
    const b = Math.floor((at - this.start) / this.bucketMs)
    return b >= 0 && b < this.buckets ? b : undefined
  }

  record(op: string, ms: number, at = performance.now()): void {
    const b = this.bucketOf(at)
    if (b === undefined) return
    let perBucket = this.latencies.get(op)
    if (!perBucket) this.latencies.set(op, (perBucket = this.empty()))
    perBucket[b]!.push(ms)
  }

  /** Counts `count` errors of `kind` (an operation and a cause); errors during the warm-up count too, in bucket 0's total. */
  error(kind: string, sample: string, at = performance.now(), count = 1): void {
    const entry = this.errors.get(kind) ?? { count: 0, samples: [] }
    entry.count += count
    if (entry.samples.length < SAMPLES_PER_KIND) entry.samples.push(sample.slice(0, 300))
    this.errors.set(kind, entry)
    const b = this.bucketOf(at) ?? 0
    this.errorsPerBucket[b] = (this.errorsPerBucket[b] ?? 0) + count
  }

  get errorCount(): number {
    let n = 0
    for (const e of this.errors.values()) n += e.count
    return n
  }

  ops(): string[] {
    return [...this.latencies.keys()]
  }

  /** The latency summary and count of `op` in bucket `b`, or over all buckets without it. */
  summary(op: string, b?: number): { count: number; latency: Latency } {
    const perBucket = this.latencies.get(op) ?? []
    const samples = b === undefined ? perBucket.flat() : (perBucket[b] ?? [])
    return { count: samples.length, latency: summarize(Float64Array.from(samples)) }
  }
}

export interface Answer {
  status: number
  text: string
  at: number
}

/**
 * Sends one request as operation `op`, records its latency, and returns its answer; a
 * network failure, a status outside `expected` (2xx by default) or a problem `verify`
 * finds is recorded as an error of `op` and returns undefined.
 */
export async function send(
  timeline: Timeline,
  op: string,
  url: string,
  init: RequestInit = {},
  verify?: (text: string, status: number) => string | undefined,
  expected: (status: number) => boolean = (s) => s >= 200 && s < 300,
): Promise<Answer | undefined> {
  const method = init.method ?? 'GET'
  const t0 = performance.now()
  let status: number
  let text: string
  try {
    const res = await fetch(url, init)
    status = res.status
    text = await res.text()
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause
    timeline.record(op, performance.now() - t0)
    timeline.error(`${op}: network ${cause?.code ?? ''}`.trimEnd(), `${method} ${url}: ${(e as Error).message}${cause ? ` (${cause.code ?? cause.message})` : ''}`)
    return undefined
  }
  const at = performance.now()
  timeline.record(op, at - t0, at)
  if (!expected(status)) {
    timeline.error(`${op}: HTTP ${status}`, `${method} ${url} → ${status}: ${text.slice(0, 200)}`, at)
    return undefined
  }
  let problem: string | undefined
  try {
    problem = verify?.(text, status)
  } catch (e) {
    problem = `the answer could not be checked: ${(e as Error).message}`
  }
  if (problem) {
    timeline.error(`${op}: wrong answer`, `${method} ${url}: ${problem}`, at)
    return undefined
  }
  return { status, text, at }
}

/**
 * `loops` closed loops that each run `step` at most `perSecond / loops` times a second
 * (one step in flight per loop: when the server is slower than the pace, a loop waits for
 * it rather than piling requests up), until stopped. Returns how many steps ran, in how long.
 */
export function paced(perSecond: number, loops: number, step: (loop: number) => Promise<void>): { stop: () => Promise<{ steps: number; seconds: number }> } {
  const began = performance.now()
  const interval = (1000 * loops) / perSecond
  let stopped = false
  let steps = 0
  const run = async (loop: number) => {
    // Loops start spread over one interval, so that they do not send in bursts; a loop that fell behind does not catch up in a burst either.
    for (let due = performance.now() + (interval * loop) / loops; !stopped; due = Math.max(due + interval, performance.now())) {
      const wait = due - performance.now()
      if (wait > 0) await new Promise((r) => setTimeout(r, wait))
      if (stopped) return
      await step(loop)
      steps++
    }
  }
  const running = Promise.all(Array.from({ length: loops }, (_, loop) => run(loop)))
  return {
    stop: async () => {
      stopped = true
      await running
      return { steps, seconds: (performance.now() - began) / 1000 }
    },
  }
}
