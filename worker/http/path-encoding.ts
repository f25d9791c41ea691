/**
 * Percent-encoding in the path: a path whose escapes do not decode (`%` without two hex
 * digits, or bytes that are not UTF-8, as in `/dns-query/%E0%A4%A`) is a 400 BadRequest
 * Status before anything else reads it. Without this, routing would match such a segment
 * undecoded (a list in a namespace named `%E0%A4%A`), and code that decodes a segment
 * itself would throw.
 */
import type { MiddlewareHandler } from 'hono'
import { badRequest } from '../registry/errors'

/** The path of a URL as sent, before any decoding. */
function rawPath(url: string): string {
  const start = url.indexOf('/', url.indexOf('://') + 3)
  if (start === -1) return '/'
  const end = url.slice(start).search(/[?#]/)
  return end === -1 ? url.slice(start) : url.slice(start, start + end)
}

/** Whether every percent escape in `path` is well formed and the bytes they stand for are UTF-8. */
export function isWellEncoded(path: string): boolean {
  if (!path.includes('%')) return true
  try {
    decodeURIComponent(path)
    return true
  } catch {
    return false
  }
}

export function pathEncoding(): MiddlewareHandler {
  return async (c, next) => {
    if (!isWellEncoded(rawPath(c.req.url))) throw badRequest('the request path has malformed percent-encoding (each % must start an escape of two hex digits, and the escapes must form UTF-8)')
    await next()
  }
}
