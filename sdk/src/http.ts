/**
 * One request to the registry, with a timeout, cancellation, and retries with
 * exponential backoff and jitter (honouring Retry-After) for calls that are safe to
 * repeat. A create is retried only when the server said it did nothing (429, or 503
 * with Retry-After), never blindly.
 */
import { APIError, AbortError, ConnectionError, TimeoutError } from './errors.js'
import type { Status } from './types.js'

export interface HttpOptions {
  baseUrl: string
  token?: string
  fetch: typeof fetch
  timeoutMs: number
  maxRetries: number
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>
  body?: unknown
  contentType?: string
  accept?: string
  signal?: AbortSignal
  /** Safe to repeat (GET, PUT, DELETE, merge PATCH); POST is not. */
  idempotent?: boolean
  /** Retry a 503 that carries Retry-After (default true; a pick turns it off unless asked to wait). */
  retryUnavailable?: boolean
}

const MAX_BACKOFF_MS = 8_000
const MAX_RETRY_AFTER_MS = 60_000

export async function request<T>(http: HttpOptions, method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const url = urlOf(http, path, options.query)
  const idempotent = options.idempotent ?? method !== 'POST'
  for (let attempt = 0; ; attempt++) {
    let response: Answer
    try {
      response = await send(http, method, url, options)
    } catch (e) {
      if (e instanceof AbortError || !idempotent || attempt >= http.maxRetries) throw e
      await sleep(backoff(attempt), options.signal)
      continue
    }
    if (response.ok) return (response.text ? JSON.parse(response.text) : undefined) as T
    const body = statusFrom(response.text)
    const retryAfter = retryAfterMs(response.headers.get('retry-after'))
    const unavailable = response.status === 503 && retryAfter !== null
    const retriable = unavailable
      ? options.retryUnavailable !== false
      : response.status === 429 || (idempotent && response.status >= 500)
    if (!retriable || attempt >= http.maxRetries) throw APIError.from(response.status, body, response.headers)
    await sleep(retryAfter ?? backoff(attempt), options.signal)
  }
}

/** An answer read whole. */
interface Answer {
  status: number
  ok: boolean
  headers: Headers
  text: string
}

/**
 * Sends the request and reads its answer whole, both under the call's timeout and signal:
 * a timeout, an abort or a broken connection while the body is read are the same errors
 * (`TimeoutError`, `AbortError`, `ConnectionError`), and retried the same way, as before
 * the headers came.
 */
async function send(http: HttpOptions, method: string, url: URL, options: RequestOptions): Promise<Answer> {
  const headers = headersOf(http, options.accept)
  let body: string | undefined
  if (options.body !== undefined) {
    body = JSON.stringify(options.body)
    headers['content-type'] = options.contentType ?? 'application/json'
  }
  const timeout = AbortSignal.timeout(http.timeoutMs)
  // AbortSignal.any adds no listener to the caller's signal: nothing is left on it after the call.
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout
  try {
    const response = await http.fetch(url, { method, headers, ...(body !== undefined ? { body } : {}), signal })
    return { status: response.status, ok: response.ok, headers: response.headers, text: await response.text() }
  } catch (e) {
    if (options.signal?.aborted) throw new AbortError('the request was aborted')
    if (timeout.aborted) throw new TimeoutError(`the request took longer than ${http.timeoutMs} ms`)
    throw new ConnectionError(`could not reach ${url.origin}: ${(e as Error).message}`, { cause: e })
  }
}

/** The request headers every call sends. */
export function headersOf(http: HttpOptions, accept = 'application/json'): Record<string, string> {
  return http.token ? { accept, authorization: `Bearer ${http.token}` } : { accept }
}

/** The URL of a path with a query. */
export function urlOf(http: HttpOptions, path: string, query: RequestOptions['query'] = {}): URL {
  const url = new URL(path.replace(/^\//, ''), http.baseUrl.endsWith('/') ? http.baseUrl : `${http.baseUrl}/`)
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v))
  return url
}

/**
 * Opens a streaming GET (a watch): the answer's headers must come within `timeoutMs`, its
 * body may stream for as long as the server keeps it open (until `signal` aborts). Not
 * retried here: the watch resumes on its own.
 */
export async function openStream(http: HttpOptions, path: string, query: RequestOptions['query'], signal: AbortSignal): Promise<Response> {
  const url = urlOf(http, path, query)
  const connecting = new AbortController()
  const timer = setTimeout(() => connecting.abort(), http.timeoutMs)
  let response: Response
  try {
    response = await http.fetch(url, { method: 'GET', headers: headersOf(http), signal: AbortSignal.any([signal, connecting.signal]) })
  } catch (e) {
    if (signal.aborted) throw new AbortError('the request was aborted')
    if (connecting.signal.aborted) throw new TimeoutError(`the watch got no answer within ${http.timeoutMs} ms`)
    throw new ConnectionError(`could not reach ${url.origin}: ${(e as Error).message}`, { cause: e })
  } finally {
    clearTimeout(timer)
  }
  if (!response.ok) throw APIError.from(response.status, await statusOf(response), response.headers)
  return response
}

export async function statusOf(response: Response): Promise<Status | undefined> {
  try {
    return statusFrom(await response.text())
  } catch {
    return undefined
  }
}

/** The Kubernetes Status an answer's body holds, if it holds one. */
function statusFrom(text: string): Status | undefined {
  try {
    const body = JSON.parse(text) as Status
    return body && body.kind === 'Status' ? body : undefined
  } catch {
    return undefined
  }
}

/** min(0.5·2ⁿ s, 8 s), less up to a quarter at random. */
export function backoff(attempt: number): number {
  return Math.min(500 * 2 ** attempt, MAX_BACKOFF_MS) * (1 - 0.25 * Math.random())
}

function retryAfterMs(value: string | null): number | null {
  if (value === null) return null
  const seconds = Number(value)
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, MAX_RETRY_AFTER_MS)
  const date = Date.parse(value)
  return Number.isNaN(date) ? null : Math.min(Math.max(0, date - Date.now()), MAX_RETRY_AFTER_MS)
}

/** Waits `ms`; an abort of `signal` ends the wait with an AbortError. The listener is removed either way. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortError('the request was aborted'))
    const aborted = () => {
      clearTimeout(timer)
      reject(new AbortError('the request was aborted'))
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', aborted)
      resolve()
    }, ms)
    signal?.addEventListener('abort', aborted, { once: true })
  })
}
