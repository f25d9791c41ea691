/**
 * The Endpoints and EndpointSlice lists, paged in the database. The store reads the
 * services of a page in (namespace, service) order, filtered by namespace and by the
 * caller's namespaces in SQL; the views are built for those services only. A service may
 * have several slices: the continue token then names the last slice given, so that a
 * page never holds more than `limit` items and the next one starts right after it.
 * Label and field selectors filter the built items; pages are read until `limit` items
 * pass them, as Kubernetes does. An unpaged list is streamed: read a round of services at
 * a time from one snapshot and handed out as it is built (snapshot-pages.ts).
 */
import type { EndpointScope, EndpointSources } from '../db/endpoint-reads'
import { SERVICE_NAME_LABEL, buildEndpoints, buildSlices, type EndpointSlice, type EndpointsObject } from './endpoint-views'
import { encodeContinue, type ListKey } from './continue-token'
import { ENDPOINTS, ENDPOINT_SLICES } from './kinds'
import { apiVersionOf, type KindInfo } from './kind-info'
import { matchesFields } from '../selectors/fields'
import { matchesLabels } from '../selectors/labels'
import { STREAM_PAGE_SIZE, listOptions, type ListOptions, type ListQuery, type ListStream } from './list-options'
import { snapshotPages } from './snapshot-pages'
import type { ObjectMetaOut } from './types'

interface Keyed<T> {
  key: ListKey
  item: T
}

/** Items built from the services of one read, and where the next read starts when more services follow. */
interface Chunk<T> {
  rv: number
  items: Keyed<T>[]
  next?: ListKey
  /** The endpoint rows the items were built from. */
  rows: number
}

/** Services read at most per round when selectors leave items out (the first round reads `limit`). */
const MAX_ROUND = 1000

/** Reads the sources of a scope (judged against the leases, see EndpointRegistry.sources). */
export type ReadSources = (scope: EndpointScope) => Promise<EndpointSources>

/** Reads of sources from one snapshot when the database offers one (see snapshot-pages.ts), closed by their reader. */
export interface SourceReads {
  read: ReadSources
  snapshot: boolean
  close(): void
}

/** Reads the items of the services after a key, at most `limit` services (all when undefined). */
type ReadChunk<T> = (after: ListKey | undefined, limit: number | undefined) => Promise<Chunk<T>>

export function listEndpoints(read: ReadSources, namespace: string | undefined, query: ListQuery) {
  return list(ENDPOINTS, query, endpointChunks(read, namespace, query))
}

/** The whole Endpoints list, page by page from one snapshot (a `limit` is not applied). */
export function streamEndpoints(open: () => Promise<SourceReads>, namespace: string | undefined, query: ListQuery) {
  return stream(ENDPOINTS, query, open, (read) => endpointChunks(read, namespace, query))
}

export function listEndpointSlices(read: ReadSources, maxPerSlice: number, namespace: string | undefined, query: ListQuery) {
  return list(ENDPOINT_SLICES, query, sliceChunks(read, maxPerSlice, namespace, query))
}

/** The whole EndpointSlice list, page by page from one snapshot (a `limit` is not applied). */
export function streamEndpointSlices(open: () => Promise<SourceReads>, maxPerSlice: number, namespace: string | undefined, query: ListQuery) {
  return stream(ENDPOINT_SLICES, query, open, (read) => sliceChunks(read, maxPerSlice, namespace, query))
}

function endpointChunks(read: ReadSources, namespace: string | undefined, query: ListQuery): ReadChunk<EndpointsObject> {
  return async (after, limit) => {
    const sources = await read(scopeOf('endpoints', namespace, query, after, limit))
    return chunkOf(sources, buildEndpoints(sources).map((e) => ({ key: keyOf(e.metadata), item: e })))
  }
}

function sliceChunks(read: ReadSources, maxPerSlice: number, namespace: string | undefined, query: ListQuery): ReadChunk<EndpointSlice> {
  return async (after, limit) => {
    const sources = await read(scopeOf('slices', namespace, query, after, limit))
    const items = buildSlices(sources, maxPerSlice).map((s) => ({
      key: { namespace: s.metadata.namespace ?? '', name: s.metadata.labels?.[SERVICE_NAME_LABEL] ?? '', part: s.metadata.name },
      item: s,
    }))
    // Resuming inside a service: its slices up to the one named were given already.
    const given = (k: ListKey) => after?.part !== undefined && k.namespace === after.namespace && k.name === after.name && k.part! <= after.part
    return chunkOf(sources, items.filter((i) => !given(i.key)))
  }
}

function scopeOf(view: EndpointScope['view'], namespace: string | undefined, query: ListQuery, after: ListKey | undefined, limit: number | undefined): EndpointScope {
  const key = after && { namespace: after.namespace, name: after.name }
  return {
    view,
    ...(namespace !== undefined ? { namespace } : {}),
    ...(query.namespaces !== undefined ? { namespaces: query.namespaces } : {}),
    ...(key ? (after.part !== undefined ? { from: key } : { after: key }) : {}),
    ...(limit ? { limit } : {}),
  }
}

function chunkOf<T>(sources: EndpointSources, items: Keyed<T>[]): Chunk<T> {
  return { rv: sources.rv, items, rows: sources.rows.length, ...(sources.next ? { next: sources.next } : {}) }
}

function keyOf(m: ObjectMetaOut): ListKey {
  return { namespace: m.namespace ?? '', name: m.name }
}

type Listed = { metadata: ObjectMetaOut }

/** A list page: at most `limit` items that pass the query's selectors, read in rounds from `read`. */
async function list<T extends Listed>(
  kind: KindInfo,
  query: ListQuery,
  read: ReadChunk<T>,
) {
  const options = listOptions(query, kind.fieldSelectors)
  const { limit } = options
  let after = options.after
  const items: T[] = []
  let rv: number | undefined
  const page = (next?: ListKey) => ({
    apiVersion: apiVersionOf(kind),
    kind: kind.listKind,
    metadata: { resourceVersion: String(rv ?? 0), ...(next ? { continue: encodeContinue(next) } : {}) },
    items,
  })
  for (let size = limit; ; size = size && Math.max(size, Math.min(size * 2, MAX_ROUND))) {
    const chunk = await read(after, size)
    rv ??= chunk.rv
    for (const [i, { key, item }] of chunk.items.entries()) {
      if (matches(options, item)) items.push(item)
      if (items.length === limit) return page(i < chunk.items.length - 1 ? key : chunk.next)
    }
    if (!chunk.next) return page()
    after = chunk.next
  }
}

/** Endpoint rows per read of a streamed list, about (a service's rows are read whole, however many). */
const STREAM_ROWS = 1000

/**
 * A whole list from one snapshot of the database (snapshot-pages.ts): the items that
 * pass the query's selectors, as `list` gives them. Each read takes as many services as
 * make about STREAM_ROWS endpoint rows at the size of those read before (at most
 * STREAM_PAGE_SIZE, starting at a tenth of it), so that reading a page stays a short
 * pause for everyone else however many endpoints a service has.
 */
async function stream<T extends Listed>(
  kind: KindInfo,
  query: ListQuery,
  open: () => Promise<SourceReads>,
  chunks: (read: ReadSources) => ReadChunk<T>,
): Promise<ListStream<T>> {
  const options = listOptions(query, kind.fieldSelectors)
  const reads = await open()
  const read = chunks(reads.read)
  let services = Math.ceil(STREAM_PAGE_SIZE / 10)
  const pages = await snapshotPages(
    reads,
    async (after: ListKey | undefined, limit) => {
      const size = limit && services
      const chunk = await read(after, size)
      if (size) services = Math.max(1, Math.min(STREAM_PAGE_SIZE, Math.floor((size * STREAM_ROWS) / Math.max(chunk.rows, 1))))
      return { rv: chunk.rv, items: chunk.items.filter((i) => matches(options, i.item)).map((i) => i.item), ...(chunk.next ? { next: chunk.next } : {}) }
    },
    options.after,
    STREAM_PAGE_SIZE,
  )
  return {
    list: { apiVersion: apiVersionOf(kind), kind: kind.listKind, metadata: { resourceVersion: String(pages.rv) }, items: [] },
    next: pages.next,
    close: pages.close,
  }
}

/** Whether an item passes the list's label and field selectors (the kinds' fields: name and namespace). */
function matches(options: ListOptions, item: Listed): boolean {
  const m = item.metadata
  return (
    matchesLabels(options.labels, m.labels ?? {}) &&
    matchesFields(options.fields, { 'metadata.name': m.name, 'metadata.namespace': m.namespace ?? '' })
  )
}
