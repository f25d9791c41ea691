/**
 * The options of a list request, read once for every kind: label and field selectors
 * (fields from the kind's allow-list), `limit` (0 or absent: no limit; negative: 400) and
 * the continue token, and the namespaces the caller reaches.
 */
import { decodeContinue, type ListKey } from './continue-token'
import { badRequest } from './errors'
import { parseFieldSelector } from '../selectors/fields'
import { parseLabelSelector } from '../selectors/labels'
import { SelectorError, type FieldRequirement, type Requirement } from '../selectors/types'

/** A list request as the API passes it on. */
export interface ListQuery {
  labelSelector?: string
  fieldSelector?: string
  limit?: number
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

export function listOptions(query: ListQuery, fieldSelectors: readonly string[]): ListOptions {
  const labels = selector('labelSelector', () => parseLabelSelector(query.labelSelector ?? ''))
  const fields = selector('fieldSelector', () => parseFieldSelector(query.fieldSelector ?? '', fieldSelectors))
  if (query.limit !== undefined && (!Number.isSafeInteger(query.limit) || query.limit < 0)) {
    throw badRequest(`limit must be a non-negative integer, got ${query.limit}`)
  }
  return {
    labels,
    fields,
    ...(query.limit ? { limit: query.limit } : {}),
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
