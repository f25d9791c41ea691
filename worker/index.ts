/**
 * The Workers entry: builds the app from the env bindings. A D1 binding named `DB` is
 * used when present; otherwise DATABASE_URL and DATABASE_AUTH_TOKEN name a libSQL (Turso)
 * database reached over HTTP. With neither, every request gets a 503 Status naming the
 * missing setting. Migrations are applied before deploy, not here. A cron trigger
 * (wrangler.toml) removes terminating pods whose grace period has ended and prunes the
 * change log.
 */
import type { Hono } from 'hono'
import type { AppEnv } from './http/env'
import type { Env } from './bindings'
import { ConfigError, parseConfig } from './config'
import { buildApp } from './wiring'
import type { Database } from './db/client'
import type { Registry } from './registry/registry'
import { drizzleD1 } from './db/d1'
import { drizzleRemote } from './db/remote'
import { RegistryError } from './registry/errors'
import { toStatus } from './api/status'

/**
 * One app per isolate and configuration. The env object may be a new one on every
 * request, so the app is kept by the configuration it was built from: its snapshot and
 * pick sequences then live as long as the isolate (a pick follows the weights exactly
 * within an isolate, and a write through it refreshes its snapshot at once).
 */
let cached: { env: Env; key: string; built: Built } | undefined

/** The cron trigger beats every minute: a gap of 90 s means the registry was away. */
const WORKERS_ABSENCE_SECONDS = 90
/** After a request, an isolate sweeps lapsed leases at most this often. */
const SWEEP_AFTER_REQUESTS_MS = 1000

interface Built {
  app: Hono<AppEnv>
  registry: Registry
}

function build(env: Env): Built {
  // workerd hands an isolate the same env object request after request: then nothing is read again.
  if (cached?.env === env) return cached.built
  const key = JSON.stringify(Object.entries(env).map(([k, v]) => [k, typeof v === 'string' ? v : typeof v]))
  if (cached?.key === key) {
    cached.env = env
    return cached.built
  }
  const config = parseConfig(env as Record<string, string | undefined>)
  let db: Database
  if (env.DB) db = drizzleD1(env.DB)
  else if (config.databaseUrl) db = drizzleRemote(config.databaseUrl, config.databaseAuthToken)
  else {
    throw new RegistryError(
      'ServiceUnavailable',
      'no database is configured: bind a D1 database as DB, or set DATABASE_URL (and DATABASE_AUTH_TOKEN) for libSQL',
    )
  }
  // Without SWITCHBOARD_ADMIN_TOKEN the Worker refuses every API call (it fails closed).
  const { app, registry } = buildApp(db, config, undefined, { failClosed: true, defaultAbsenceSeconds: WORKERS_ABSENCE_SECONDS })
  cached = { env, key, built: { app, registry } }
  return cached.built
}

interface WaitUntil {
  waitUntil(promise: Promise<unknown>): void
}

export default {
  fetch(request: Request, env: Env, ctx: WaitUntil): Response | Promise<Response> {
    try {
      const { app, registry } = build(env)
      // Lapsed leases are recorded after requests too, not only on the cron trigger (a minute apart).
      const sweep = registry.sweepLeasesSoon(SWEEP_AFTER_REQUESTS_MS)
      if (sweep) ctx.waitUntil(sweep.catch((e) => console.error('switchboard: sweeping lapsed leases failed:', e)))
      return app.fetch(request, env, ctx as never)
    } catch (e) {
      const error =
        e instanceof RegistryError
          ? e
          : new RegistryError('ServiceUnavailable', e instanceof ConfigError ? e.message : 'the registry failed to start')
      return Response.json(toStatus(error), { status: error.code })
    }
  },

  /** The cron trigger: the registry's heartbeat and lease sweep, the removal of pods whose grace period ended, compaction. */
  scheduled(_controller: unknown, env: Env, ctx: WaitUntil): void {
    const { registry } = build(env)
    ctx.waitUntil(registry.sweepLeases())
    ctx.waitUntil(
      registry.reapExpired().then((removed) => {
        if (removed) console.log(`switchboard: removed ${removed} pod(s) whose grace period ended`)
      }),
    )
    ctx.waitUntil(registry.compactChanges())
  },
}
