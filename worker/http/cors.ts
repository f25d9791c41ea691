/**
 * CORS (the Fetch standard's cross-origin protocol), so that pages can call the registry.
 *
 * DNS over HTTPS (`/dns-query`, `/dns-query/<token>`, `/resolve`) answers every origin
 * (`Access-Control-Allow-Origin: *`): a browser's POST of `application/dns-message` is not
 * a CORS-safelisted request and is preceded by a preflight, as is any request carrying
 * `Authorization`, so the preflight allows both. The API answers only the exact origins
 * of `CORS_ORIGINS` (none by default), with `Vary: Origin` on every API response then.
 * A DoH request without `Origin` (any client but a browser's cross-origin fetch) gets only
 * `Access-Control-Allow-Origin: *`, set without hono's middleware, which costs DoH's hot
 * path more than the answer's own encoding.
 *
 * A preflight (OPTIONS with `Access-Control-Request-Method`) is answered here, before
 * access control: it carries no token, so it needs none and never counts as a failed
 * authentication. An origin that is not allowed gets a preflight answer without
 * `Access-Control-Allow-Origin` (with no `CORS_ORIGINS`, every API preflight does), which
 * the browser takes as a refusal. Any other OPTIONS request goes on to the routes.
 */
import type { MiddlewareHandler } from 'hono'
import { cors } from 'hono/cors'
import { REQUEST_ID_HEADER } from './request-id'

/** The DoH paths, as access control names them (api/auth.ts). */
const DOH_PATH = /^\/(dns-query(\/[^/]+)?|resolve)\/*$/

/** How long a browser may keep a preflight's answer, in seconds (Chromium keeps it 2 hours at most). */
export const CORS_MAX_AGE = 7200

const doh = cors({
  origin: '*',
  allowMethods: ['GET', 'POST'],
  allowHeaders: ['Content-Type', 'Accept', 'Authorization', REQUEST_ID_HEADER],
  exposeHeaders: [REQUEST_ID_HEADER, 'Retry-After'],
  maxAge: CORS_MAX_AGE,
})

const apiCors = (origins: string[]) =>
  cors({
    origin: origins,
    allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowHeaders: ['Content-Type', 'Accept', 'Authorization', 'If-Match', 'If-None-Match', REQUEST_ID_HEADER],
    exposeHeaders: [REQUEST_ID_HEADER, 'ETag', 'Warning', 'Retry-After', 'WWW-Authenticate', 'X-Switchboard-Zone-Fallback'],
    maxAge: CORS_MAX_AGE,
  })

/** CORS for DoH (every origin) and for the API (the listed origins only; none: no CORS headers at all). */
export function corsPolicy(apiOrigins: readonly string[]): MiddlewareHandler {
  const api = apiCors([...apiOrigins])
  return async (c, next) => {
    const isDoh = DOH_PATH.test(c.req.path)
    // hono's cors answers every OPTIONS request itself; only a real preflight should be.
    if (c.req.method === 'OPTIONS') {
      if (c.req.header('access-control-request-method') === undefined) return next()
      return (isDoh ? doh : api)(c, next)
    }
    if (isDoh) {
      // A request without Origin is not a browser's cross-origin one: the grant alone (it is the same for every origin) is enough.
      if (c.req.header('origin') === undefined) {
        c.header('Access-Control-Allow-Origin', '*')
        return next()
      }
      return doh(c, next)
    }
    return apiOrigins.length ? api(c, next) : next()
  }
}
