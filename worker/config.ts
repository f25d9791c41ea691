/**
 * Configuration from environment variables (Workers: vars and secrets), parsed by one
 * zod schema. A bad value stops start-up with a message that names the variable.
 */
import * as z from 'zod'
import { parseCIDR, type CIDR } from './registry/ipnet'
import { ipFamily } from './registry/ip-address'
import type { Synchronous } from './db/client'
import type { RateLimits } from './http/rate-limit'
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from './log'

/** An optional whole number in [min, max]; empty or unset gives the fallback. */
const integer = (fallback: number, min: number, max: number, what: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallback
      const n = Number(v)
      if (!/^\d+$/.test(v) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `must be ${what} from ${min} to ${max}, got "${v}"` })
        return z.NEVER
      }
      return n
    })

const cidr = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const text = v === undefined || v === '' ? '10.96.0.0/12' : v
    const parsed = parseCIDR(text)
    if (!parsed) {
      ctx.addIssue({ code: 'custom', message: `must be a CIDR such as 10.96.0.0/12, got "${text}"` })
      return z.NEVER
    }
    return { range: parsed, text }
  })

const portRange = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const text = v === undefined || v === '' ? '30000-32767' : v
    const m = /^(\d+)-(\d+)$/.exec(text)
    const base = m ? Number(m[1]) : NaN
    const last = m ? Number(m[2]) : NaN
    if (!m || base < 1 || last > 65535 || base > last) {
      ctx.addIssue({ code: 'custom', message: `must be a port range such as 30000-32767, got "${text}"` })
      return z.NEVER
    }
    return { base, last }
  })

const domain = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const text = (v === undefined || v === '' ? 'cluster.local' : v).toLowerCase().replace(/\.$/, '')
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(text) || text.length > 200) {
      ctx.addIssue({ code: 'custom', message: `must be a DNS domain such as cluster.local, got "${v}"` })
      return z.NEVER
    }
    return text
  })

const bool = (fallback: boolean) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallback
      if (['true', '1', 'yes'].includes(v.toLowerCase())) return true
      if (['false', '0', 'no'].includes(v.toLowerCase())) return false
      ctx.addIssue({ code: 'custom', message: `must be true or false, got "${v}"` })
      return z.NEVER
    })

/** One of `choices` (case-insensitive); empty or unset gives the fallback. */
const oneOf = <T extends string>(choices: readonly T[], fallback: T) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallback
      const found = choices.find((c) => c === v.toLowerCase())
      if (found === undefined) {
        ctx.addIssue({ code: 'custom', message: `must be one of ${choices.join(', ')}, got "${v}"` })
        return z.NEVER
      }
      return found
    })
/** Exact browser origins (`https://app.example.com`), comma-separated; none by default. */
const origins = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const list = (v ?? '').split(',').map((o) => o.trim()).filter(Boolean)
    for (const origin of list) {
      let parsed: URL | null = null
      try {
        parsed = new URL(origin)
      } catch {
        // reported below
      }
      if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || parsed.origin !== origin) {
        ctx.addIssue({ code: 'custom', message: `must be exact origins such as https://app.example.com (scheme, host and port, no path or trailing slash), comma-separated; got "${origin}"` })
        return z.NEVER
      }
    }
    return [...new Set(list)]
  })

/** The root credential's shortest length: 32 characters (e.g. 128 bits as hex), so it cannot be guessed. */
export const MIN_ADMIN_TOKEN_LENGTH = 32

export const EnvSchema = z.object({
  SWITCHBOARD_ADMIN_TOKEN: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return null
      if (v.length < MIN_ADMIN_TOKEN_LENGTH) {
        ctx.addIssue({
          code: 'custom',
          message: `must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters long: a random one, e.g. openssl rand -hex 32`,
        })
        return z.NEVER
      }
      return v
    }),
  DOH_PUBLIC: bool(false),
  CLUSTER_DOMAIN: domain,
  DNS_TTL: integer(5, 0, 3600, 'a number of seconds'),
  MAX_ENDPOINTS_PER_SLICE: integer(100, 1, 1000, 'an integer'),
  PORT: integer(8787, 0, 65535, 'a port number'),
  HOST: z.string().optional().transform((v) => (v === undefined || v === '' ? '127.0.0.1' : v)),
  DATABASE_URL: z.string().optional().transform((v) => (v === undefined || v === '' ? undefined : v)),
  DATABASE_AUTH_TOKEN: z.string().optional().transform((v) => (v === undefined || v === '' ? undefined : v)),
  DATABASE_SYNCHRONOUS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const text = v === undefined || v === '' ? 'NORMAL' : v.toUpperCase()
      if (text !== 'NORMAL' && text !== 'FULL') {
        ctx.addIssue({ code: 'custom', message: `must be NORMAL or FULL, got "${v}"` })
        return z.NEVER
      }
      return text as Synchronous
    }),
  DATABASE_MIN_FREE_MB: integer(16, 0, 1_048_576, 'a number of MiB'),
  DATABASE_BUSY_TIMEOUT_MS: integer(5_000, 0, 600_000, 'a number of milliseconds'),
  SERVICE_CLUSTER_IP_RANGE: cidr,
  SERVICE_NODE_PORT_RANGE: portRange,
  CHANGE_LOG_RETENTION_SECONDS: integer(300, 10, 86_400, 'a number of seconds'),
  CATCH_UP_INTERVAL_MS: integer(1000, 10, 60_000, 'a number of milliseconds'),
  LEASE_DELETE_AFTER_DURATIONS: integer(3, 1, 10_000, 'a number of lease durations'),
  REGISTRY_ABSENCE_SECONDS: integer(0, 0, 86_400, 'a number of seconds (0: the runtime default)'),
  ALLOW_LOOPBACK_ADDRESSES: bool(false),
  MAX_CONNECTIONS: integer(0, 0, 1_000_000, 'a number of connections (0: as the file descriptor limit allows)'),
  HEADERS_TIMEOUT_MS: integer(10_000, 100, 600_000, 'a number of milliseconds'),
  REQUEST_TIMEOUT_MS: integer(30_000, 100, 3_600_000, 'a number of milliseconds'),
  KEEP_ALIVE_TIMEOUT_MS: integer(5_000, 100, 600_000, 'a number of milliseconds'),
  RATE_LIMIT_PER_SECOND: integer(5_000, 0, 1_000_000, 'a number of requests per second (0: no limit)'),
  RATE_LIMIT_BURST: integer(10_000, 1, 10_000_000, 'a number of requests'),
  AUTH_FAILURES_PER_MINUTE: integer(30, 0, 1_000_000, 'a number of failed authentications per minute (0: no limit)'),
  AUTH_FAILURE_BURST: integer(10, 1, 1_000_000, 'a number of failed authentications'),
  LOG_FORMAT: oneOf<LogFormat>(LOG_FORMATS, 'plain'),
  LOG_LEVEL: oneOf<LogLevel>(LOG_LEVELS, 'info'),
  LOG_AUDIT: bool(true),
  TLS_CERT_FILE: z.string().optional().transform((v) => (v === undefined || v === '' ? undefined : v)),
  TLS_KEY_FILE: z.string().optional().transform((v) => (v === undefined || v === '' ? undefined : v)),
  ALLOW_PLAIN_HTTP: bool(false),
  CORS_ORIGINS: origins,
  DNS_PORT: integer(0, 0, 65535, 'a port number (0: no classic DNS)'),
  DNS_HOST: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const text = v === undefined || v === '' ? '127.0.0.1' : v
      if (!ipFamily(text)) {
        ctx.addIssue({ code: 'custom', message: `must be an IPv4 or IPv6 address such as 127.0.0.1 or ::, got "${v}"` })
        return z.NEVER
      }
      return text
    }),
}).superRefine((e, ctx) => {
  if ((e.TLS_CERT_FILE === undefined) !== (e.TLS_KEY_FILE === undefined)) {
    const [set, unset] = e.TLS_CERT_FILE === undefined ? ['TLS_KEY_FILE', 'TLS_CERT_FILE'] : ['TLS_CERT_FILE', 'TLS_KEY_FILE']
    ctx.addIssue({ code: 'custom', path: [unset], message: `must be set when ${set} is (both or neither: the certificate chain and its private key, PEM files)` })
  }
})

export interface Config {
  port: number
  host: string
  databaseUrl: string | undefined
  databaseAuthToken: string | undefined
  /** How an embedded database file syncs its commits: FULL survives power loss, NORMAL only a process crash (see db/client.ts). */
  databaseSynchronous: Synchronous
  /** An embedded database file takes no writes (507) while its disk has less free space than this; 0: until the disk is full. */
  databaseMinFreeBytes: number
  /** An embedded database file: how long a write waits for another process's write lock (without blocking) before a 503. */
  databaseBusyTimeoutMs: number
  serviceClusterIPRange: CIDR
  serviceClusterIPRangeText: string
  serviceNodePortRange: { base: number; last: number }
  maxEndpointsPerSlice: number
  clusterDomain: string
  dnsTtl: number
  /** The root credential; null turns access control off (Node, loopback only) or refuses every call (Workers). */
  adminToken: string | null
  dohPublic: boolean
  /** Events older than this are pruned from the change log (a watch from before gets 410 Expired). */
  changeLogRetentionSeconds: number
  /** Each process or isolate reads the change log at most this often (at once after its own writes). */
  catchUpIntervalMs: number
  /** Pods of a lapsed lease are deleted this many lease durations after it lapsed. */
  leaseDeleteAfterDurations: number
  /** A gap between the registry's heartbeats longer than this is an absence (leases get a grace); 0: the runtime's default. */
  registryAbsenceSeconds: number
  /** Pod and endpoint addresses may be loopback addresses (always so with access control off). */
  allowLoopbackAddresses: boolean
  /** Node: open connections at most (0: the file descriptor limit less a headroom); the oldest idle one makes room. */
  maxConnections: number
  /** Node: a request's headers (and a new connection's first request) must arrive within this time. */
  headersTimeoutMs: number
  /** Node: a whole request, body included, must arrive within this time. */
  requestTimeoutMs: number
  /** Node: an idle keep-alive connection is closed after this time. */
  keepAliveTimeoutMs: number
  /** Requests per token (per client address without one), and failed authentications per address; per process or isolate. */
  rateLimits: RateLimits
  /** `plain` (start-up messages and audit lines) or `json` (also one line per request); see log.ts. */
  logFormat: LogFormat
  /** The least severe log lines written. */
  logLevel: LogLevel
  /** One audit line per accepted write, whatever `logLevel` says (false: none). */
  logAudit: boolean
  /** Node: the PEM certificate chain and private key files to serve HTTPS (HTTP/2 and HTTP/1.1) with; null: plain HTTP. */
  tls: { certFile: string; keyFile: string } | null
  /** Node: a non-loopback HOST with access control on may serve plain HTTP (tokens in cleartext). */
  allowPlainHttp: boolean
  /** Browser origins the API answers CORS for (DoH answers every origin). */
  corsOrigins: string[]
  /** Node: classic DNS over UDP and TCP on this port of `dnsHost` (0: off). */
  dnsPort: number
  dnsHost: string
}

/** Thrown for a bad environment; its message names every wrong variable. */
export class ConfigError extends Error {
  override name = 'ConfigError'
}

export function parseConfig(env: Record<string, string | undefined>): Config {
  const result = EnvSchema.safeParse(env)
  if (!result.success) {
    const lines = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
    throw new ConfigError(`invalid configuration: ${lines.join('; ')}`)
  }
  const e = result.data
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    databaseAuthToken: e.DATABASE_AUTH_TOKEN,
    databaseSynchronous: e.DATABASE_SYNCHRONOUS,
    databaseMinFreeBytes: e.DATABASE_MIN_FREE_MB * 1024 * 1024,
    databaseBusyTimeoutMs: e.DATABASE_BUSY_TIMEOUT_MS,
    serviceClusterIPRange: e.SERVICE_CLUSTER_IP_RANGE.range,
    serviceClusterIPRangeText: e.SERVICE_CLUSTER_IP_RANGE.text,
    serviceNodePortRange: e.SERVICE_NODE_PORT_RANGE,
    maxEndpointsPerSlice: e.MAX_ENDPOINTS_PER_SLICE,
    clusterDomain: e.CLUSTER_DOMAIN,
    dnsTtl: e.DNS_TTL,
    adminToken: e.SWITCHBOARD_ADMIN_TOKEN,
    dohPublic: e.DOH_PUBLIC,
    changeLogRetentionSeconds: e.CHANGE_LOG_RETENTION_SECONDS,
    catchUpIntervalMs: e.CATCH_UP_INTERVAL_MS,
    leaseDeleteAfterDurations: e.LEASE_DELETE_AFTER_DURATIONS,
    registryAbsenceSeconds: e.REGISTRY_ABSENCE_SECONDS,
    allowLoopbackAddresses: e.ALLOW_LOOPBACK_ADDRESSES,
    maxConnections: e.MAX_CONNECTIONS,
    headersTimeoutMs: e.HEADERS_TIMEOUT_MS,
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: e.KEEP_ALIVE_TIMEOUT_MS,
    rateLimits: {
      requests: { perSecond: e.RATE_LIMIT_PER_SECOND, burst: e.RATE_LIMIT_BURST },
      authFailures: { perSecond: e.AUTH_FAILURES_PER_MINUTE / 60, burst: e.AUTH_FAILURE_BURST },
    },
    logFormat: e.LOG_FORMAT,
    logLevel: e.LOG_LEVEL,
    logAudit: e.LOG_AUDIT,
    tls: e.TLS_CERT_FILE !== undefined && e.TLS_KEY_FILE !== undefined ? { certFile: e.TLS_CERT_FILE, keyFile: e.TLS_KEY_FILE } : null,
    allowPlainHttp: e.ALLOW_PLAIN_HTTP,
    corsOrigins: e.CORS_ORIGINS,
    dnsPort: e.DNS_PORT,
    dnsHost: e.DNS_HOST,
  }
}
