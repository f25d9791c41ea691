/**
 * The headers on every response under `/ui`: a Content-Security-Policy that lets the
 * page load only its own scripts, styles and data (no inline script, no other origin,
 * no framing), `X-Content-Type-Options: nosniff`, and no referrer.
 */
import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../http/env'

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

export function uiHeaders(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next()
    c.res.headers.set('Content-Security-Policy', CONTENT_SECURITY_POLICY)
    c.res.headers.set('X-Content-Type-Options', 'nosniff')
    c.res.headers.set('Referrer-Policy', 'no-referrer')
    c.res.headers.set('X-Frame-Options', 'DENY')
  }
}
