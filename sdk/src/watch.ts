/**
 * A watch as an informer runs it: an async iterator of typed events (ADDED, MODIFIED,
 * DELETED, BOOKMARK) that
 *
 * - starts with a list (its objects as ADDED events) unless given a `resourceVersion`;
 * - after a disconnect (the stream cut, the registry restarting or unreachable) connects
 *   again from the last resourceVersion it saw, with backoff, losing no event;
 * - after a 410 Expired (that resourceVersion is older than the registry's change log
 *   keeps) lists again and reports the difference from what it had reported as events
 *   (`relisted: true`), so a cache kept from the events stays equal to a list.
 *
 * It ends when `close()` is called, its signal aborts, or the consumer leaves the loop; an
 * error retrying cannot mend (401, 403, 404, 400) ends it by throwing.
 */
import { pause } from './background.js'
import { APIError, AbortError, isExpired } from './errors.js'
import { backoff, openStream, type HttpOptions, type RequestOptions } from './http.js'
import type { ListAll } from './pages.js'
import type { Selector } from './resources.js'
import type { Status } from './types.js'

export interface WatchOptions<T> {
  namespace?: string
  allNamespaces?: boolean
  labelSelector?: Selector
  fieldSelector?: Selector
  /**
   * Start after this resourceVersion (a list's, e.g. `(await sb.pods.listAll()).resourceVersion`)
   * instead of listing first. Pass the list's items as `known` so that a re-list after a
   * 410 can report the ones deleted meanwhile.
   */
  resourceVersion?: string
  known?: T[]
  /** Ask for BOOKMARK events (default true): they move the resourceVersion a resume starts from. */
  bookmarks?: boolean
  /** Ends the watch. */
  signal?: AbortSignal
  /** A stream that brings nothing for this long is cut and resumed; default 90 s (the server bookmarks every minute). */
  idleTimeoutMs?: number
  /** Called when a connection failed or was cut (the watch retries on its own). */
  onDisconnect?: (error: unknown) => void
  /** Called when a connection is established (or re-established) and the watch is current. */
  onConnect?: () => void
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED'

/** A change to an object; `relisted` when a re-list after a 410 found it, rather than the stream. */
export interface ObjectEvent<T> {
  type: WatchEventType
  object: T
  relisted?: true
}

/** The registry's progress: nothing changed up to `object.metadata.resourceVersion`. */
export interface BookmarkEvent {
  type: 'BOOKMARK'
  object: { kind: string; apiVersion: string; metadata: { resourceVersion: string; annotations?: Record<string, string> } }
}

export type WatchEvent<T> = ObjectEvent<T> | BookmarkEvent

/** What a watch needs of its resource. */
export interface WatchTarget<T> {
  path: string
  query: RequestOptions['query']
  list: (signal: AbortSignal) => Promise<ListAll<T>>
}

interface Meta {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string }
}

const IDLE_TIMEOUT_MS = 90_000

export class Watch<T> implements AsyncIterable<WatchEvent<T>> {
  /** The resourceVersion of the last event (or list) the watch has seen: a resume starts after it. */
  resourceVersion: string | undefined
  /** The objects the watch has reported and not deleted, by `namespace/name`. */
  private readonly known = new Map<string, T>()
  private readonly closing = new AbortController()
  private started = false

  constructor(
    private readonly http: HttpOptions,
    private readonly target: WatchTarget<T>,
    private readonly options: WatchOptions<T>,
  ) {
    this.resourceVersion = options.resourceVersion
    for (const o of options.known ?? []) this.known.set(keyOf(o), o)
  }

  /** Ends the watch: the iteration returns, the connection is closed. */
  close(): void {
    this.closing.abort()
  }

  [Symbol.asyncIterator](): AsyncGenerator<WatchEvent<T>, void, undefined> {
    if (this.started) throw new Error('a watch is iterated once; start another with watch()')
    this.started = true
    return this.run()
  }

  private async *run(): AsyncGenerator<WatchEvent<T>, void, undefined> {
    const signal = this.options.signal ? AbortSignal.any([this.options.signal, this.closing.signal]) : this.closing.signal
    let needList = this.resourceVersion === undefined
    let failures = 0
    try {
      while (!signal.aborted) {
        try {
          if (needList) {
            const events = this.relist(await this.target.list(signal), this.resourceVersion !== undefined)
            needList = false
            for (const e of events) yield e
          }
          for await (const event of this.stream(signal, () => (failures = 0))) yield event
        } catch (e) {
          if (signal.aborted) return
          if (isExpired(e)) {
            needList = true
            continue
          }
          if (!retriable(e)) throw e
          this.options.onDisconnect?.(e)
          await pause(backoff(Math.min(failures++, 4)), signal)
        }
      }
    } finally {
      this.closing.abort()
    }
  }

  /** One connection's events; returns when the server ends the stream (its timeout). */
  private async *stream(signal: AbortSignal, connected: () => void): AsyncGenerator<WatchEvent<T>, void, undefined> {
    const connection = new AbortController()
    const linked = AbortSignal.any([signal, connection.signal])
    const response = await openStream(
      this.http,
      this.target.path,
      {
        ...this.target.query,
        watch: 'true',
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: this.options.bookmarks === false ? undefined : 'true',
      },
      linked,
    )
    connected()
    this.options.onConnect?.()
    const idleMs = this.options.idleTimeoutMs ?? IDLE_TIMEOUT_MS
    let idle = setTimeout(() => connection.abort(), idleMs)
    try {
      for await (const line of lines(response.body!, linked)) {
        clearTimeout(idle)
        idle = setTimeout(() => connection.abort(), idleMs)
        const event = JSON.parse(line) as { type: string; object: unknown }
        if (event.type === 'ERROR') {
          const status = event.object as Status
          throw APIError.from(status.code ?? 500, status, response.headers)
        }
        const rv = (event.object as Meta).metadata?.resourceVersion
        if (rv) this.resourceVersion = rv
        if (event.type === 'BOOKMARK') {
          yield event as BookmarkEvent
          continue
        }
        const object = event.object as T
        if (event.type === 'DELETED') this.known.delete(keyOf(object))
        else this.known.set(keyOf(object), object)
        yield { type: event.type as WatchEventType, object }
      }
    } catch (e) {
      if (connection.signal.aborted && !signal.aborted) throw new AbortError(`the watch brought nothing for ${idleMs} ms`)
      throw e
    } finally {
      clearTimeout(idle)
      connection.abort()
    }
  }

  /** A list's objects as events: after a 410, only the difference from what was reported. */
  private relist(list: ListAll<T>, relisted: boolean): ObjectEvent<T>[] {
    const flag = relisted ? { relisted: true as const } : {}
    const events: ObjectEvent<T>[] = []
    const seen = new Set<string>()
    for (const object of list.items) {
      const key = keyOf(object)
      seen.add(key)
      const before = this.known.get(key)
      if (!before) events.push({ type: 'ADDED', object, ...flag })
      else if (rvOf(before) !== rvOf(object)) events.push({ type: 'MODIFIED', object, ...flag })
      this.known.set(key, object)
    }
    for (const [key, object] of this.known) {
      if (seen.has(key)) continue
      this.known.delete(key)
      events.push({ type: 'DELETED', object, ...flag })
    }
    this.resourceVersion = list.resourceVersion
    return events
  }
}

/** Errors a new connection may mend: no answer, a timeout, 429 and 5xx. */
function retriable(e: unknown): boolean {
  if (e instanceof APIError) return e.status === 429 || e.status >= 500
  return true
}

function keyOf(o: unknown): string {
  const m = (o as Meta).metadata
  return `${m?.namespace ?? ''}/${m?.name ?? ''}`
}

function rvOf(o: unknown): string | undefined {
  return (o as Meta).metadata?.resourceVersion
}

/** The lines of a streamed body (one JSON event each). */
async function* lines(body: ReadableStream<Uint8Array>, signal: AbortSignal): AsyncGenerator<string, void, undefined> {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  const cancel = () => void reader.cancel().catch(() => {})
  signal.addEventListener('abort', cancel, { once: true })
  let buffered = ''
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      buffered += decoder.decode(value, { stream: true })
      let newline: number
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline).trim()
        buffered = buffered.slice(newline + 1)
        if (line) yield line
      }
    }
    if (signal.aborted) throw new AbortError('the watch was closed')
    const rest = (buffered + decoder.decode()).trim()
    if (rest) yield rest
  } finally {
    signal.removeEventListener('abort', cancel)
    cancel()
  }
}
