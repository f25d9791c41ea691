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
}

const MAX_BACKOFF_MS = 8_000
const MAX_RETRY_AFTER_MS = 60_000

export async function request<T>(http: HttpOptions, method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const url = new URL(path.replace(/^\//, ''), http.baseUrl.endsWith('/') ? http.baseUrl : `${http.baseUrl}/`)
  for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v))
  const idempotent = options.idempotent ?? method !== 'POST'
  for (let attempt = 0; ; attempt++) {
    let response: Response
    try {
      response = await send(http, method, url, options)
    } catch (e) {
      if (e instanceof AbortError || !idempotent || attempt >= http.maxRetries) throw e
      await sleep(backoff(attempt), options.signal)
      continue
    }
    if (response.ok) {
      const text = await response.text()
      return (text ? JSON.parse(text) : undefined) as T
    }
    const requestId = response.headers.get('x-request-id')
    const body = await statusOf(response)
    const retryAfter = retryAfterMs(response.headers.get('retry-after'))
    const retriable =
      response.status === 429 || (response.status === 503 && retryAfter !== null) || (idempotent && response.status >= 500)
    if (!retriable || attempt >= http.maxRetries) throw APIError.from(response.status, body, requestId)
    await sleep(retryAfter ?? backoff(attempt), options.signal)
  }
}

async function send(http: HttpOptions, method: string, url: URL, options: RequestOptions): Promise<Response> {
  const headers: Record<string, string> = { accept: options.accept ?? 'application/json' }
  if (http.token) headers.authorization = `Bearer ${http.token}`
  let body: string | undefined
  if (options.body !== undefined) {
    body = JSON.stringify(options.body)
    headers['content-type'] = options.contentType ?? 'application/json'
  }
  const timeout = AbortSignal.timeout(http.timeoutMs)
  const signal = options.signal ? anySignal([options.signal, timeout]) : timeout
  try {
    return await http.fetch(url, { method, headers, ...(body !== undefined ? { body } : {}), signal })
  } catch (e) {
    if (options.signal?.aborted) throw new AbortError('the request was aborted')
    if (timeout.aborted) throw new TimeoutError(`the request took longer than ${http.timeoutMs} ms`)
    throw new ConnectionError(`could not reach ${url.origin}: ${(e as Error).message}`, { cause: e })
  }
}

async function statusOf(response: Response): Promise<Status | undefined> {
  try {
    const body = (await response.json()) as Status
    return body && body.kind === 'Status' ? body : undefined
  } catch {
    return undefined
  }
}

/** min(0.5·2ⁿ s, 8 s), less up to a quarter at random. */
function backoff(attempt: number): number {
  return Math.min(500 * 2 ** attempt, MAX_BACKOFF_MS) * (1 - 0.25 * Math.random())
}

function retryAfterMs(value: string | null): number | null {
  if (value === null) return null
  const seconds = Number(value)
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, MAX_RETRY_AFTER_MS)
  const date = Date.parse(value)
  return Number.isNaN(date) ? null : Math.min(Math.max(0, date - Date.now()), MAX_RETRY_AFTER_MS)
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortError('the request was aborted'))
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener('abort', () => {
      clearTimeout(timer)
      reject(new AbortError('the request was aborted'))
    })
  })
}

function anySignal(signals: AbortSignal[]): AbortSignal {
  const controller = new AbortController()
  for (const s of signals) {
    if (s.aborted) controller.abort(s.reason)
    else s.addEventListener('abort', () => controller.abort(s.reason), { once: true })
  }
  return controller.signal
}
