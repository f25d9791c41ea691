/**
 * Per request: the request counter and latency histogram of /metrics, labelled by method,
 * route pattern (`/api/v1/namespaces/:namespace/pods/:name`, never the path, so the label
 * set stays bounded; `unmatched` for a path no route serves) and status code; and, with
 * LOG_FORMAT=json, one request line carrying the request id, method, route, path (a DoH
 * path token redacted; none for an unmatched path; never the query string), status,
 * duration and the token's name.
 * The duration runs to the response's head (a watch or streamed list goes on after it).
 */
import type { Context, MiddlewareHandler } from 'hono'
import { matchedRoutes } from 'hono/route'
import type { AppEnv } from './env'
import { REQUEST_ID_HEADER } from './request-id'
import { LATENCY_BUCKETS, type Metrics } from './metrics'
import type { Logger } from '../log'

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])

/** The route label of a request no route serves. */
export const UNMATCHED = 'unmatched'

export function observe(metrics: Metrics, log: Logger): MiddlewareHandler<AppEnv> {
  const requests = metrics.counter('switchboard_http_requests_total', 'HTTP requests answered, by method, route pattern and status code.')
  const duration = metrics.histogram(
    'switchboard_http_request_duration_seconds',
    'Time from a request to its response head, by method and route pattern.',
    LATENCY_BUCKETS,
  )
  const logging = log.format === 'json'
  return async (c, next) => {
    const started = performance.now()
    await next()
    const ms = performance.now() - started
    const method = METHODS.has(c.req.method) ? c.req.method : 'OTHER'
    const route = routeOf(c)
    const status = c.res.status
    requests.inc({ method, route, code: String(status) })
    duration.observe({ method, route }, ms / 1000)
    if (!logging) return
    const principal = c.get('principal') as { name: string } | undefined
    log.log(status >= 500 ? 'error' : 'info', 'request', {
      requestId: c.res.headers.get(REQUEST_ID_HEADER) ?? undefined,
      method: c.req.method.slice(0, 16),
      route,
      // A path no route serves is any text a client sent: it is left out.
      path: route === UNMATCHED ? undefined : redactedPath(c.req.path),
      status,
      durationMs: Math.round(ms * 1000) / 1000,
      token: principal?.name || undefined,
    })
  }
}

/** The pattern of the route that answered: the last matched route that is not a middleware's `*`. */
function routeOf(c: Context): string {
  const routes = matchedRoutes(c)
  for (let i = routes.length - 1; i >= 0; i--) {
    const path = routes[i]!.path
    if (path !== '*' && path !== '/*') return path
  }
  return UNMATCHED
}

/** The path without the token of `/dns-query/<token>` (the query string is never logged). */
export function redactedPath(path: string): string {
  return path.replace(/^\/dns-query\/.*$/s, '/dns-query/<redacted>').slice(0, 1024)
}
