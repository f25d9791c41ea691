/**
 * createApp(deps): the Hono app shared by the Node and Workers runtimes. It mounts the
 * routers, answers every error as a Kubernetes Status, and never lets an unexpected
 * error out as anything but a 500 Status without internals.
 */
import { Hono } from 'hono'
import { discoveryRoutes } from './api/discovery'
import { healthRoutes } from './api/health'
import { HealthChecks } from './registry/health-checks'
import { openApiRoutes } from './api/openapi'
import { gitVersion } from './version'
import { kindRoutes } from './api/kind-routes'
import { KINDS } from './registry/kinds'
import { pathNotFound, statusResponse } from './api/status'
import { RegistryError, storageError } from './registry/errors'
import type { Registry } from './registry/registry'
import { mountDoh } from './dns/doh'
import type { Resolver } from './dns/resolve'
import { mountPick } from './api/pick'
import { mountUi } from './ui/routes'
import { accessControl } from './api/auth'
import type { AppEnv } from './http/env'
import { requestId } from './http/request-id'
import { corsPolicy } from './http/cors'
import { pathEncoding } from './http/path-encoding'
import { RateLimiter, type RateLimits } from './http/rate-limit'
import type { TokenRegistry } from './registry/tokens'
import type { Picker } from './registry/pick'
import type { Clock } from './registry/meta'
import { Metrics } from './http/metrics'
import { observe } from './http/observe'
import { mountMetrics } from './api/metrics'
import { createLogger, type Logger } from './log'

export interface AppDeps {
  registry: Registry
  resolver: Resolver
  picker: Picker
  tokens: TokenRegistry
  /** DNS answers need no token. */
  dohPublic?: boolean
  /** With no root credential, refuse every call rather than serve openly (Workers). */
  failClosed?: boolean
  version: string
  /** Time for what the app keeps in memory (the DoH answer cache); defaults to the system time. */
  clock?: Pick<Clock, 'now'>
  /** Per-token (per-address) request limits and the failed-authentication limit; none when absent. */
  rateLimits?: RateLimits
  /** Browser origins the API answers CORS for (DoH answers every origin); none when absent. */
  corsOrigins?: readonly string[]
  /** Logs an unexpected error; defaults to console.error (an error line with LOG_FORMAT=json). */
  logError?: (error: unknown) => void
  /** What /metrics exposes; the app adds its request counters to it. */
  metrics?: Metrics
  /** Request lines (LOG_FORMAT=json) and error lines; plain at info when absent. */
  logger?: Logger
}

export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  const logger = deps.logger ?? createLogger({ format: 'plain', level: 'info' })
  const logError =
    deps.logError ??
    (logger.format === 'json' ? (e: unknown) => logger.log('error', 'unexpected error', { error: describeError(e) }) : (e: unknown) => console.error(describeError(e)))
  const metrics = deps.metrics ?? new Metrics()

  app.use('*', requestId())
  app.use('*', observe(metrics, logger))
  // Before access control: a preflight carries no token.
  app.use('*', corsPolicy(deps.corsOrigins ?? []))
  app.use('*', pathEncoding())

  const clock = deps.clock ?? { now: () => new Date() }
  const limiter = deps.rateLimits ? new RateLimiter(deps.rateLimits, () => clock.now().getTime()) : undefined
  app.use('*', accessControl(deps.registry, { tokens: deps.tokens, dohPublic: deps.dohPublic ?? false, failClosed: deps.failClosed ?? false, ...(limiter ? { limiter } : {}) }))

  healthRoutes(app, { version: deps.version, checks: new HealthChecks(deps.registry.store, () => clock.now().getTime()) })
  discoveryRoutes(app)
  openApiRoutes(app, { version: gitVersion(deps.version) })
  for (const kind of KINDS) app.route('/', kindRoutes(kind))
  mountPick(app, deps.picker)
  mountDoh(app, deps.resolver, clock)
  mountMetrics(app, metrics)
  mountUi(app)

  app.notFound((c) => statusResponse(c, pathNotFound()))
  app.onError((error, c) => {
    if (error instanceof RegistryError) return statusResponse(c, error)
    // A full disk or a database file gone under the process: the driver logs it once (embedded-client.ts).
    const storage = storageError(error)
    if (storage) return statusResponse(c, storage)
    logError(error)
    return statusResponse(c, new RegistryError('InternalError', 'an internal error occurred'))
  })
  return app
}

/**
 * An unexpected error for the log, without the parameters of a failed query: they can
 * hold request data such as the hash of a token's secret.
 */
export function describeError(e: unknown): string {
  if (!(e instanceof Error)) return String(e)
  const clean = (text: string) => text.split('\nparams:')[0]!
  const cause = e.cause instanceof Error ? ` (caused by ${e.cause.name}: ${clean(e.cause.message)})` : ''
  const frames = (e.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line))
  return [`${e.name}: ${clean(e.message)}${cause}`, ...frames].join('\n')
}
