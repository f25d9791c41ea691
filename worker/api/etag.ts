/**
 * Conditional GETs of one object, for clients that poll: the answer carries an `ETag`,
 * the object's resourceVersion quoted (it changes with every write of the object, and for
 * computed Endpoints and EndpointSlices with every change of their endpoints), and a
 * request whose `If-None-Match` names it (or is `*`) gets 304 Not Modified with no body
 * (RFC 9110 §13.1.2; weak tags compare by their opaque part, as the weak comparison does).
 */
import type { Context } from 'hono'

/** The entity tag of an object: its resourceVersion, quoted; none when it has none. */
export function etagOf(object: unknown): string | null {
  const rv = (object as { metadata?: { resourceVersion?: unknown } } | null)?.metadata?.resourceVersion
  return typeof rv === 'string' && rv !== '' ? `"${rv}"` : null
}

/** Whether an `If-None-Match` header value matches `etag`. */
export function noneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false
  return header.split(',').some((tag) => {
    const t = tag.trim()
    return t === '*' || (t.startsWith('W/') ? t.slice(2) : t) === etag
  })
}

/** Answers with `object` and its ETag, or 304 with no body when the client already holds it. */
export function conditionalJson(c: Context, object: unknown): Response {
  const etag = etagOf(object)
  if (etag === null) return c.json(object)
  c.header('ETag', etag)
  if (noneMatch(c.req.header('if-none-match'), etag)) return c.body(null, 304)
  return c.json(object)
}
