/**
 * Request ids: every response carries `X-Request-Id`, the caller's own when it sent one,
 * otherwise a fresh UUID, so a client can quote it when reporting a failure.
 */
import type { MiddlewareHandler } from 'hono'

export const REQUEST_ID_HEADER = 'X-Request-Id'

export function requestId(): MiddlewareHandler {
  return async (c, next) => {
    const id = c.req.header(REQUEST_ID_HEADER) || crypto.randomUUID()
    c.header(REQUEST_ID_HEADER, id)
    await next()
  }
}
