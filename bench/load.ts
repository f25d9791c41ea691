/**
 * A closed-loop HTTP load generator: a fixed number of workers, each with one request in
 * flight at a time, over Node's global fetch (undici, keep-alive connections) or, when
 * asked, node:http with a keep-alive agent of one socket per worker. A warm-up
 * phase runs first and is thrown away; the measured phase then stops at whichever comes
 * first, its request count or its time limit, and waits for the requests in flight.
 *
 * Latency is measured per request with performance.now() from just before fetch() to the
 * end of the response body. Any non-2xx answer, network failure, or failed verification
 * counts as an error; req/s counts successful requests only.
 */
import { Agent, request } from 'node:http'
import { performance } from 'node:perf_hooks'

export interface Shot {
  method?: string
  url: string
  headers?: Record<string, string>
  body?: string
  /** Checks a 2xx answer; a returned string makes the request an error with that message. */
  verify?: (status: number, body: string) => string | undefined
  /** Called after the request succeeded (2xx and verified). */
  succeeded?: () => void
  /** Called with the request's latency in milliseconds once it completed, whether it succeeded or not. */
  timed?: (ms: number) => void
}

export interface Phase {
  requests: number
  seconds: number
}

/** How requests are sent: Node's global fetch (undici), or the lighter node:http client. */
export type Transport = 'fetch' | 'http'

export interface LoadOptions {
  concurrency: number
  /** Defaults to `fetch`. */
  transport?: Transport
  warmup: Phase
  measure: Phase
  /**
   * Builds the n-th request, from 0. Without `warmupNext` the warm-up uses it too and the
   * measured requests continue its numbering.
   */
  next: (n: number) => Shot
  /** Builds the n-th warm-up request (from 0), for a warm-up that must not touch the measured data. */
  warmupNext?: (n: number) => Shot
  /** Runs between the warm-up and the measured phase, with nothing in flight. */
  beforeMeasure?: () => Promise<void>
  /** Runs after the measured phase, with nothing in flight. */
  afterMeasure?: () => Promise<void>
}

export interface Latency {
  mean: number
  p50: number
  p90: number
  p99: number
  max: number
}

export interface LoadResult {
  /** Measured requests that completed (successfully or not). */
  requests: number
  ok: number
  errors: number
  /** Error counts by cause: an HTTP status, `network`, or `verify`. */
  errorsBy: Record<string, number>
  /** The first few error messages of the measured phase, then of the warm-up. */
  errorSamples: string[]
  seconds: number
  /** Successful requests per second of the measured phase. */
  rps: number
  /** Milliseconds, over every measured request. */
  latency: Latency
  /** Which bound ended the measured phase. */
  stoppedBy: 'count' | 'time'
  /** CPU time the load generator's process used during the measured phase, in cores. */
  clientCores: number
  warmupRequests: number
  warmupErrors: number
}

const MAX_SAMPLES = 5

interface PhaseOutcome {
  latencies: Float64Array
  done: number
  ok: number
  errorsBy: Record<string, number>
  errorSamples: string[]
  seconds: number
  stoppedBy: 'count' | 'time'
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  if (options.concurrency < 1) throw new Error('concurrency must be at least 1')
  let seq = 0
  let warmSeq = 0
  const take = () => options.next(seq++)
  const agent = options.transport === 'http' ? new Agent({ keepAlive: true, maxSockets: options.concurrency }) : undefined
  const send: Send = agent ? (shot) => viaHttp(agent, shot) : viaFetch
  let warm: PhaseOutcome, measured: PhaseOutcome, cpu: NodeJS.CpuUsage
  try {
    warm = await phase(options.concurrency, options.warmup, options.warmupNext ? () => options.warmupNext!(warmSeq++) : take, send)
    await options.beforeMeasure?.()
    const cpuBefore = process.cpuUsage()
    measured = await phase(options.concurrency, options.measure, take, send)
    cpu = process.cpuUsage(cpuBefore)
    await options.afterMeasure?.()
  } finally {
    agent?.destroy()
  }

  const errors = measured.done - measured.ok
  return {
    requests: measured.done,
    ok: measured.ok,
    errors,
    errorsBy: measured.errorsBy,
    errorSamples: [...measured.errorSamples, ...warm.errorSamples.map((m) => `(warm-up) ${m}`)],
    seconds: measured.seconds,
    rps: measured.seconds > 0 ? measured.ok / measured.seconds : 0,
    latency: summarize(measured.latencies.subarray(0, measured.done)),
    stoppedBy: measured.stoppedBy,
    clientCores: measured.seconds > 0 ? (cpu.user + cpu.system) / 1e6 / measured.seconds : 0,
    warmupRequests: warm.done,
    warmupErrors: warm.done - warm.ok,
  }
}

type Send = (shot: Shot) => Promise<{ status: number; text: string }>

async function viaFetch(shot: Shot): Promise<{ status: number; text: string }> {
  const res = await fetch(shot.url, {
    method: shot.method ?? 'GET',
    ...(shot.headers ? { headers: shot.headers } : {}),
    ...(shot.body !== undefined ? { body: shot.body } : {}),
  })
  return { status: res.status, text: await res.text() }
}

function viaHttp(agent: Agent, shot: Shot): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...shot.headers }
    if (shot.body !== undefined) headers['content-length'] = Buffer.byteLength(shot.body)
    const req = request(shot.url, { method: shot.method ?? 'GET', headers, agent }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (text += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(shot.body)
  })
}

async function phase(concurrency: number, limits: Phase, take: () => Shot, send: Send): Promise<PhaseOutcome> {
  const latencies = new Float64Array(Math.max(0, limits.requests))
  const errorsBy: Record<string, number> = {}
  const errorSamples: string[] = []
  let issued = 0
  let done = 0
  let ok = 0
  let stoppedBy: 'count' | 'time' = 'count'
  const started = performance.now()
  const deadline = started + limits.seconds * 1000

  const fail = (cause: string, message: string) => {
    errorsBy[cause] = (errorsBy[cause] ?? 0) + 1
    if (errorSamples.length < MAX_SAMPLES) errorSamples.push(message)
  }

  const worker = async () => {
    for (;;) {
      if (issued >= limits.requests) return
      if (performance.now() >= deadline) {
        stoppedBy = 'time'
        return
      }
      const slot = issued++
      const shot = take()
      const method = shot.method ?? 'GET'
      const t0 = performance.now()
      let status = 0
      let text = ''
      let failure: [string, string] | undefined
      try {
        const answer = await send(shot)
        status = answer.status
        text = answer.text
      } catch (e) {
        const cause = (e as { cause?: { code?: string; message?: string } }).cause
        failure = ['network', `${method} ${shot.url}: ${(e as Error).message}${cause ? ` (${cause.code ?? cause.message})` : ''}`]
      }
      const latency = performance.now() - t0
      latencies[slot] = latency
      shot.timed?.(latency)
      done++
      if (!failure && (status < 200 || status > 299)) {
        failure = [String(status), `${method} ${shot.url} → ${status}: ${text.slice(0, 300)}`]
      }
      if (!failure && shot.verify) {
        let problem: string | undefined
        try {
          problem = shot.verify(status, text)
        } catch (e) {
          problem = `the answer could not be checked: ${(e as Error).message}`
        }
        if (problem) failure = ['verify', `${method} ${shot.url}: ${problem}`]
      }
      if (failure) {
        fail(failure[0], failure[1])
      } else {
        ok++
        shot.succeeded?.()
      }
    }
  }

  await Promise.all(Array.from({ length: concurrency }, worker))
  const seconds = (performance.now() - started) / 1000
  return { latencies, done, ok, errorsBy, errorSamples, seconds, stoppedBy }
}

/** Mean and nearest-rank percentiles, in milliseconds. */
export function summarize(samples: Float64Array): Latency {
  if (samples.length === 0) return { mean: NaN, p50: NaN, p90: NaN, p99: NaN, max: NaN }
  const sorted = Float64Array.from(samples).sort()
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!
  let sum = 0
  for (const v of sorted) sum += v
  return { mean: sum / sorted.length, p50: rank(0.5), p90: rank(0.9), p99: rank(0.99), max: sorted[sorted.length - 1]! }
}
