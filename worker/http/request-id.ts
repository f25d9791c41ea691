/**
 * Request ids: every response carries `X-Request-Id`, so a client can quote it when
 * reporting a failure. The caller's own id is echoed only when it is 1 to 128 printable
 * ASCII characters without spaces (what nginx and Envoy issue: hex digits, UUIDs, tokens);
 * anything else (control characters, CR/LF, non-ASCII, overlong) is replaced with a fresh
 * UUID, so an id can neither forge log lines nor bloat answers.
 */
import type { MiddlewareHandler } from 'hono'

export const REQUEST_ID_HEADER = 'X-Request-Id'
export const MAX_REQUEST_ID_LENGTH = 128

const PRINTABLE_ASCII = new RegExp(`^[\\x21-\\x7e]{1,${MAX_REQUEST_ID_LENGTH}}$`)

export function isValidRequestId(id: string): boolean {
  return PRINTABLE_ASCII.test(id)
}

export function requestId(): MiddlewareHandler {
  return async (c, next) => {
    const sent = c.req.header(REQUEST_ID_HEADER)
    c.header(REQUEST_ID_HEADER, sent !== undefined && isValidRequestId(sent) ? sent : crypto.randomUUID())
    await next()
  }
}
