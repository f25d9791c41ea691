/**
 * The Workers env (worker/index.ts): the Worker's bindings, vars and secrets. It matches
 * what `wrangler types` generates for wrangler.toml and the secrets the README names
 * (test/e2e/worker-env.test.ts checks that), with every key optional: the database is a
 * D1 binding or a libSQL URL, and every setting has a default.
 */
import type { D1Database } from '@cloudflare/workers-types/2023-07-01'

export interface Env {
  DB?: D1Database
  DATABASE_URL?: string
  DATABASE_AUTH_TOKEN?: string
  SERVICE_CLUSTER_IP_RANGE?: string
  SERVICE_NODE_PORT_RANGE?: string
  SWITCHBOARD_ADMIN_TOKEN?: string
  DOH_PUBLIC?: string
  CLUSTER_DOMAIN?: string
  DNS_TTL?: string
  MAX_ENDPOINTS_PER_SLICE?: string
  CHANGE_LOG_RETENTION_SECONDS?: string
  CATCH_UP_INTERVAL_MS?: string
  LOG_FORMAT?: string
  LOG_LEVEL?: string
  LOG_AUDIT?: string
  CORS_ORIGINS?: string
}
