/**
 * Wires a registry from a database and configuration; both runtimes and the tests
 * build the app through here.
 */
import { createApp } from './app'
import type { Database } from './db/client'
import { Store } from './db/store'
import type { Config } from './config'
import { uuidFrom, type Clock } from './registry/meta'
import { Registry } from './registry/registry'
import { VERSION } from './version'
import { DiscoveryCache } from './registry/discovery-cache'
import { Picker } from './registry/pick'
import { TokenRegistry } from './registry/tokens'
import { ChangeFeed } from './registry/change-feed'
import type { AuditEntry } from './registry/audit'
import { Resolver } from './dns/resolve'
import { LeaseBook } from './registry/lease-book'
import { Metrics, type Collector } from './http/metrics'
import { registryMetrics } from './api/metrics'
import { createLogger, type LineWriter } from './log'

/** Options of a runtime: how long a gap between heartbeats must be to count as the registry's absence, unless configured. */
export interface RuntimeOptions {
  /** Node beats every second (5 s); Workers on the cron trigger, every minute (90 s). */
  defaultAbsenceSeconds?: number
  /** Runtime measures for /metrics (Node: the event loop's delay). */
  collectors?: Collector[]
  /** Where log lines go (Node: node-log.ts); console otherwise. */
  logWriter?: LineWriter
}

export function systemClock(): Clock {
  return { now: () => new Date(), random: Math.random, uuid: () => crypto.randomUUID() }
}

/** A clock whose randomness comes from a seed, for deterministic tests. */
export function seededClock(seed: number, now: () => Date = () => new Date()): Clock {
  let state = seed >>> 0
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return { now, random, uuid: () => uuidFrom(random) }
}

export function buildRegistry(db: Database, config: Config, clock: Clock = systemClock(), runtime: { failClosed?: boolean } & RuntimeOptions = {}): Registry {
  const store = new Store(db, clock.now)
  const feed = new ChangeFeed(store, clock, { intervalMs: config.catchUpIntervalMs })
  const absenceSeconds = config.registryAbsenceSeconds || runtime.defaultAbsenceSeconds || 5
  const leases = new LeaseBook(store, feed, () => clock.now().getTime(), absenceSeconds * 1000)
  return new Registry({
    store,
    clock,
    allocation: {
      range: config.serviceClusterIPRange,
      cidrText: config.serviceClusterIPRangeText,
      nodePorts: config.serviceNodePortRange,
    },
    // Loopback addresses are for local development: access control off (Node without a root credential), or allowed by setting.
    addresses: { allowLoopback: config.allowLoopbackAddresses || (config.adminToken === null && !runtime.failClosed) },
    maxEndpointsPerSlice: config.maxEndpointsPerSlice,
    tokens: new TokenRegistry(store, clock, config.adminToken, feed),
    changeLogRetentionSeconds: config.changeLogRetentionSeconds,
    feed,
    leases,
    leaseDeleteAfterDurations: config.leaseDeleteAfterDurations,
    // Every accepted write is an audit line, in either log format (registry/audit.ts), whatever LOG_LEVEL says: only LOG_AUDIT=false stops them.
    ...(config.logAudit ? { audit: auditLine(config, runtime.logWriter) } : {}),
  })
}

export function buildApp(db: Database, config: Config, clock: Clock = systemClock(), options: { failClosed?: boolean } & RuntimeOptions = {}) {
  const registry = buildRegistry(db, config, clock, options)
  const tokens = registry.tokens
  const snapshot = new DiscoveryCache(registry.store, registry.feed, registry.leases, config.dnsTtl * 1000, () => clock.now().getTime(), registry.addresses)
  const resolver = new Resolver(snapshot, { zone: config.clusterDomain, ttl: config.dnsTtl })
  const picker = new Picker(snapshot, clock.random)
  const metrics = new Metrics()
  registryMetrics(metrics, registry, snapshot, () => clock.now().getTime())
  for (const collector of options.collectors ?? []) metrics.collect(collector)
  const app = createApp({
    registry,
    resolver,
    picker,
    tokens,
    dohPublic: config.dohPublic,
    corsOrigins: config.corsOrigins,
    rateLimits: config.rateLimits,
    ...(options.failClosed ? { failClosed: true } : {}),
    version: VERSION,
    clock,
    metrics,
    logger: createLogger({ format: config.logFormat, level: config.logLevel, ...(options.logWriter ? { write: options.logWriter } : {}) }),
  })
  return { app, registry, resolver, picker, tokens, discovery: snapshot }
}

/** Writes an audit line at info, in the configured format, whatever LOG_LEVEL lets through of the other lines. */
function auditLine(config: Config, write: LineWriter | undefined): (entry: AuditEntry) => void {
  const audit = createLogger({ format: config.logFormat, level: 'info', ...(write ? { write } : {}) })
  return (entry) => audit.log('info', 'audit', { ...entry })
}
