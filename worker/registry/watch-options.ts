/**
 * The options of a watch (`?watch=true`), read and checked as Kubernetes checks them
 * (apimachinery's `validateWatchOptions`, with the WatchList feature on):
 * `resourceVersion` (""/"0": start from the current objects; N: the changes after N),
 * `sendInitialEvents` with `resourceVersionMatch=NotOlderThan`, `allowWatchBookmarks`
 * and `timeoutSeconds` (default 1800, at most 3600). A bad combination is a 422 naming
 * the field; a value that does not parse is a 400 naming it.
 */
import { badRequest, fieldError, invalidOptions, type FieldError } from './errors'

/** A watch without `timeoutSeconds` ends after this long. */
export const DEFAULT_TIMEOUT_SECONDS = 1800
/** A longer `timeoutSeconds` is cut to this. */
export const MAX_TIMEOUT_SECONDS = 3600
/** With `allowWatchBookmarks=true`, a BOOKMARK at least this often. */
export const BOOKMARK_INTERVAL_MS = 60_000

export interface WatchOptions {
  /** The changes after this resourceVersion; undefined: from the current state. */
  resourceVersion?: number
  /** Start with ADDED events for the current objects. */
  initialEvents: boolean
  /** After the initial events, a BOOKMARK annotated `k8s.io/initial-events-end: "true"`. */
  initialEventsEnd: boolean
  bookmarks: boolean
  timeoutMs: number
}

/** Whether `?watch=` asks for a watch. */
export function isWatch(value: string | undefined): boolean {
  return value !== undefined && parseBool('watch', value)
}

export function watchOptions(query: Record<string, string | undefined>): WatchOptions {
  const rvText = query.resourceVersion ?? ''
  const match = query.resourceVersionMatch ?? ''
  const sendInitial = query.sendInitialEvents === undefined || query.sendInitialEvents === '' ? undefined : parseBool('sendInitialEvents', query.sendInitialEvents)
  const causes: FieldError[] = []
  if (sendInitial !== undefined && match !== 'NotOlderThan') {
    causes.push(fieldError.forbidden('resourceVersionMatch', 'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan'))
  }
  if (match) {
    if (sendInitial === undefined) {
      causes.push(fieldError.forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided'))
    }
    if (match !== 'NotOlderThan') causes.push(fieldError.notSupported('resourceVersionMatch', match, ['NotOlderThan']))
    if (query.continue) causes.push(fieldError.forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided'))
  }
  if (causes.length) throw invalidOptions('ListOptions', causes)
  const fromNow = rvText === '' || rvText === '0'
  if (!fromNow && !/^[0-9]{1,15}$/.test(rvText)) {
    throw badRequest(`invalid resourceVersion: ${JSON.stringify(rvText)}`, [
      fieldError.invalid('resourceVersion', rvText, 'must be a resourceVersion returned by the server'),
    ])
  }
  return {
    ...(fromNow ? {} : { resourceVersion: Number(rvText) }),
    initialEvents: sendInitial ?? fromNow,
    initialEventsEnd: sendInitial === true,
    bookmarks: query.allowWatchBookmarks !== undefined && query.allowWatchBookmarks !== '' && parseBool('allowWatchBookmarks', query.allowWatchBookmarks),
    timeoutMs: timeoutSeconds(query.timeoutSeconds) * 1000,
  }
}

function timeoutSeconds(text: string | undefined): number {
  if (text === undefined || text === '') return DEFAULT_TIMEOUT_SECONDS
  if (!/^[0-9]{1,9}$/.test(text)) {
    throw badRequest(`invalid timeoutSeconds: ${JSON.stringify(text)}`, [fieldError.invalid('timeoutSeconds', text, 'must be a non-negative integer')])
  }
  const seconds = Number(text)
  return seconds === 0 ? DEFAULT_TIMEOUT_SECONDS : Math.min(seconds, MAX_TIMEOUT_SECONDS)
}

/** Go's strconv.ParseBool, which Kubernetes uses for query flags. */
function parseBool(field: string, text: string): boolean {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(text)) return true
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(text)) return false
  throw badRequest(`invalid ${field}: ${JSON.stringify(text)}`, [fieldError.invalid(field, text, 'must be true or false')])
}
