/**
 * `?watch=true` on a list route: an HTTP 200 whose body is a stream of newline-delimited
 * JSON events, `{"type":…,"object":…}`, fed by the registry's watch (registry/watch.ts).
 * Options and selectors are checked before the stream starts (a bad one is a 4xx Status);
 * an error after that — a resourceVersion older than the log's compaction (410 Expired)
 * or any other — becomes the stream's last event, an ERROR carrying its Status.
 *
 * A watcher that does not read is cut off: the stream buffers at most MAX_BUFFERED_BYTES
 * of events it has not taken, and past that it is closed with an error and its buffer
 * dropped (as Kubernetes closes an unresponsive watcher), so a slow client costs the
 * server a bounded amount of memory and never holds up other watchers.
 */
import type { Context } from 'hono'
import type { AppEnv } from '../http/env'
import { RegistryError } from '../registry/errors'
import type { KindInfo } from '../registry/kind-info'
import type { ListQuery } from '../registry/list-options'
import type { WatchEvent } from '../registry/watch-events'
import { watchOptions } from '../registry/watch-options'
import { WatchScope } from '../registry/watch-scope'
import { runWatch } from '../registry/watch'
import { toStatus } from './status'

/** What one watch may hold unread before it is cut off. */
export const MAX_BUFFERED_BYTES = 4 * 1024 * 1024

/** `present` renders each event as the client asked (a Table of one row with `as=Table`; see table.ts). */
export function watchResponse(
  c: Context<AppEnv>,
  kind: KindInfo,
  namespace: string | undefined,
  query: ListQuery,
  maxBuffered = MAX_BUFFERED_BYTES,
  present: (event: WatchEvent) => WatchEvent = (event) => event,
): Response {
  const options = watchOptions(c.req.query())
  const scope = new WatchScope(kind, namespace, query)
  const registry = c.get('registry')
  const stop = new AbortController()
  const encoder = new TextEncoder()
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const send = (event: WatchEvent): boolean => {
          if (stop.signal.aborted) return false
          controller.enqueue(encoder.encode(`${JSON.stringify(present(event))}\n`))
          if ((controller.desiredSize ?? 0) >= 0) return true
          stop.abort()
          controller.error(new RegistryError('TooManyRequests', 'the watcher did not keep up with its events and was closed'))
          return false
        }
        const run = { registry, scope, options, signal: stop.signal, now: () => registry.clock.now().getTime() }
        runWatch(run, send)
          .catch((e: unknown) => send(errorEvent(e)))
          .finally(() => {
            if (stop.signal.aborted) return
            stop.abort()
            controller.close()
          })
      },
      cancel() {
        stop.abort()
      },
    },
    { highWaterMark: maxBuffered, size: (chunk) => chunk.byteLength },
  )
  return new Response(body, { status: 200, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } })
}

/** The ERROR event of a failed watch: its Status (a 500 without internals for an unexpected error). */
function errorEvent(e: unknown): WatchEvent {
  if (!(e instanceof RegistryError)) console.error('watch failed:', e instanceof Error ? e.message : String(e))
  const error = e instanceof RegistryError ? e : new RegistryError('InternalError', 'an internal error occurred')
  return { type: 'ERROR', object: toStatus(error) as unknown as Record<string, unknown> }
}
