/**
 * A watch of one kind: the initial objects (ADDED, read through the kind's REST list, page
 * by page) when asked, then the feed's events after the list's (or the client's)
 * resourceVersion, translated for the kind and filtered by the watch's scope, BOOKMARKs
 * when allowed (at least once a minute and just before the end), until `timeoutSeconds`
 * or the client goes. It waits with `feed.waitAfter` and reads with `feed.eventsAfter`,
 * so however many watches run, the log is read at most once per catch-up interval; no
 * timer outlives the request, so it runs the same on Node and in a Workers isolate.
 *
 * A resourceVersion older than the log's compaction throws the feed's 410 Expired
 * RegistryError; the API turns any error into the stream's last (ERROR) event.
 */
import type { ChangeEvent } from './change-feed'
import { ENDPOINTS, ENDPOINT_SLICES, TOKENS } from './kinds'
import type { Registry } from './registry'
import { bookmark, objectEvents, tokenEvents, type WatchEvent } from './watch-events'
import { BOOKMARK_INTERVAL_MS, type WatchOptions } from './watch-options'
import type { WatchObject, WatchScope } from './watch-scope'
import { ViewWatch } from './watch-views'

/** Where a watch's events go: false when the stream is gone (closed, or cut off as too slow). */
export type WatchSink = (event: WatchEvent) => boolean

export interface WatchRun {
  registry: Registry
  scope: WatchScope
  options: WatchOptions
  signal: AbortSignal
  /** The time, in milliseconds. */
  now: () => number
  /** Defaults to BOOKMARK_INTERVAL_MS. */
  bookmarkIntervalMs?: number
}

/** Page size of the initial list. */
const LIST_PAGE = 500

export async function runWatch(run: WatchRun, send: WatchSink): Promise<void> {
  run.registry.feed.openWatches++
  try {
    await watch(run, send)
  } finally {
    run.registry.feed.openWatches--
  }
}

async function watch(run: WatchRun, send: WatchSink): Promise<void> {
  const { registry, scope, options, signal, now } = run
  const feed = registry.feed
  const end = now() + options.timeoutMs
  const interval = run.bookmarkIntervalMs ?? BOOKMARK_INTERVAL_MS
  const views = scope.kind === ENDPOINTS || scope.kind === ENDPOINT_SLICES ? new ViewWatch(registry, scope) : undefined
  const translate = (events: ChangeEvent[], replayedTo?: number): Promise<WatchEvent[]> | WatchEvent[] =>
    views ? views.translate(events, replayedTo) : scope.kind === TOKENS ? tokenEvents(registry, scope, events) : objectEvents(scope, events)

  let rv: number
  let replayedTo = 0
  if (options.initialEvents) {
    rv = await listAll(run, (obj) => {
      views?.listed(obj)
      return send({ type: 'ADDED', object: scope.stamp(obj, Number(obj.metadata?.resourceVersion ?? 0)) })
    })
    if (signal.aborted) return
    if (options.resourceVersion !== undefined) rv = Math.max(rv, options.resourceVersion)
    if (options.initialEventsEnd && !send(bookmark(scope, rv, true))) return
  } else if (options.resourceVersion !== undefined) {
    rv = options.resourceVersion
    // A computed view's watch learns what exists now, so that a view gone later is sent as DELETED.
    if (views) replayedTo = await listAll(run, (obj) => (views.listed(obj), true))
  } else {
    rv = await registry.store.resourceVersion()
    if (views) await listAll(run, (obj) => (views.listed(obj), true))
  }

  let nextBookmark = now() + interval
  while (!signal.aborted) {
    const events = await feed.eventsAfter(rv)
    if (events.length) {
      for (const event of await translate(events, replayedTo)) if (!send(event)) return
      rv = events[events.length - 1]!.rv
    }
    const t = now()
    if (t >= end || signal.aborted) break
    if (options.bookmarks && t >= nextBookmark) {
      if (!send(bookmark(scope, rv))) return
      nextBookmark = t + interval
    }
    await waitAtMost(Math.min(end, options.bookmarks ? nextBookmark : end) - t, signal, (wake) => feed.waitAfter(rv, wake.ms, wake.signal))
  }
  if (options.bookmarks && !signal.aborted) send(bookmark(scope, rv))
}

/**
 * Waits with `wait` for at most `ms` of real time, whatever clock the feed keeps (a test's
 * clock may stand still), or until `signal` aborts.
 */
async function waitAtMost(ms: number, signal: AbortSignal, wait: (wake: { ms: number; signal: AbortSignal }) => Promise<void>): Promise<void> {
  const wake = new AbortController()
  const stop = () => wake.abort()
  const timer = setTimeout(stop, ms)
  signal.addEventListener('abort', stop)
  try {
    await wait({ ms, signal: wake.signal })
  } finally {
    clearTimeout(timer)
    signal.removeEventListener('abort', stop)
  }
}

/** Reads every page of the kind's list in the watch's scope; returns the first page's resourceVersion. */
async function listAll(run: WatchRun, each: (obj: WatchObject) => boolean): Promise<number> {
  const { registry, scope, signal } = run
  const rest = registry.rest(scope.kind)
  const { continue: _from, limit: _limit, ...query } = scope.query // a watch's list is whole: its own pages
  let rv: number | undefined
  let token: string | undefined
  do {
    const page = (await rest.list!(scope.namespace, { ...query, limit: LIST_PAGE, ...(token ? { continue: token } : {}) })) as {
      metadata: { resourceVersion: string; continue?: string }
      items: WatchObject[]
    }
    rv ??= Number(page.metadata.resourceVersion)
    for (const item of page.items) if (!each(item)) return rv
    token = page.metadata.continue
  } while (token && !signal.aborted)
  return rv
}
