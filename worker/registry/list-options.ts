/**
 * The options of a list request, read once for every kind: label and field selectors
 * (fields from the kind's allow-list), `limit` and the continue token, and the namespaces
 * the caller reaches.
 *
 * `limit` is an int64, as in Kubernetes: a decimal integer up to 9223372036854775807 (0 or
 * absent: no limit); anything else (negative, a fraction, `1e19`, past int64) is a 400. A
 * limit above MAX_PAGE_SIZE is lowered to it: the page then holds fewer items than asked,
 * with a continue token for the rest, as Kubernetes allows a server to answer. An
 * unpaged list is read and sent page by page from one snapshot (snapshot-pages.ts).
 */
import { decodeContinue, type ListKey } from './continue-token'
import { badRequest } from './errors'
import { parseInt64 } from '../selectors/int64'
import { parseFieldSelector } from '../selectors/fields'
import { parseLabelSelector } from '../selectors/labels'
import { SelectorError, type FieldRequirement, type Requirement } from '../selectors/types'

/** A list request as the API passes it on. */
export interface ListQuery {
  labelSelector?: string
  fieldSelector?: string
  /** As the query gives it (a string), or a number from within the registry. */
  limit?: number | string
  continue?: string
  /** Only these namespaces (the caller's reach); all when absent. */
  namespaces?: string[]
}

export interface ListOptions {
  labels: Requirement[]
  fields: FieldRequirement[]
  /** Items per page; absent means all. */
  limit?: number
  /** Items strictly after this key. */
  after?: ListKey
  namespaces?: string[]
}

/** Items per page at most, whatever `limit` asks for. */
export const MAX_PAGE_SIZE = 1000

/** Items per page of a streamed (unpaged) list: small enough that reading one is a short pause for everyone else. */
export const STREAM_PAGE_SIZE = 100

/** An unpaged list's metadata (its items empty) and its items, page by page, all as of the list's resourceVersion. */
export interface ListStream<T> {
  list: { apiVersion: string; kind: string; metadata: { resourceVersion: string }; items: T[] }
  /** The next page of items; null after the last. */
  next(): Promise<T[] | null>
  /** Ends the read (after the last page it has ended already). */
  close(): void
}

/** Whether a list asks for everything at once (no `limit`, or 0); a bad limit is left for `listOptions` to refuse. */
export function unpaged(query: ListQuery): boolean {
  return query.limit === undefined || query.limit === 0 || (typeof query.limit === 'string' && parseInt64(query.limit) === 0n)
}

/** The page size a `limit` asks for: undefined for none (0 or absent), at most MAX_PAGE_SIZE. */
function pageSize(limit: number | string | undefined): number | undefined {
  if (limit === undefined) return undefined
  const n = typeof limit === 'number' ? (Number.isSafeInteger(limit) ? BigInt(limit) : null) : parseInt64(limit.trim() === limit ? limit : '')
  if (n === null || n < 0n) throw badRequest(`limit must be a non-negative integer (at most 9223372036854775807), got ${limit}`)
  if (n === 0n) return undefined
  return n > BigInt(MAX_PAGE_SIZE) ? MAX_PAGE_SIZE : Number(n)
}

export function listOptions(query: ListQuery, fieldSelectors: readonly string[]): ListOptions {
  const labels = selector('labelSelector', () => parseLabelSelector(query.labelSelector ?? ''))
  const fields = selector('fieldSelector', () => parseFieldSelector(query.fieldSelector ?? '', fieldSelectors))
  const limit = pageSize(query.limit)
  return {
    labels,
    fields,
    ...(limit ? { limit } : {}),
    ...(query.continue ? { after: decodeContinue(query.continue) } : {}),
    ...(query.namespaces !== undefined ? { namespaces: query.namespaces } : {}),
  }
}

/** A selector parsed; one that cannot be is a 400 whose cause names the query parameter. */
function selector<T>(field: 'labelSelector' | 'fieldSelector', parse: () => T): T {
  try {
    return parse()
  } catch (e) {
    if (e instanceof SelectorError) throw badRequest(e.message, [{ reason: 'FieldValueInvalid', field, message: e.message }])
    throw e
  }
}
