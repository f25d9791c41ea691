/**
 * The Node entry (`npm start`): the registry on an embedded libSQL file
 * (`./data/switchboard.db` unless DATABASE_URL says otherwise), migrations applied at
 * start, served on http://127.0.0.1:8787 (PORT and HOST override); with TLS_CERT_FILE and
 * TLS_KEY_FILE, HTTPS with HTTP/2 and HTTP/1.1 (node-tls.ts); classic DNS on
 * DNS_HOST:DNS_PORT (UDP and TCP) when DNS_PORT is set.
 */
import { mkdirSync } from 'node:fs'
import type { Server } from 'node:http'
import { createSecureServer, type Http2SecureServer } from 'node:http2'
import { dirname } from 'node:path'
import { serve } from '@hono/node-server'
import { drizzleLibsql, openLibsql, tuneEmbedded } from './db/client'
import { applyMigrations } from './db/migrate'
import { DEFAULT_DATABASE_URL, redactUrl } from './db/location'
import { storageFaultOf } from './db/errors'
import { ConfigError, parseConfig, type Config } from './config'
import { buildApp, systemClock } from './wiring'
import { isIPv6 } from 'node:net'
import { dnsNeedsNoToken } from './api/auth'
import { Answerer } from './dns/answer'
import { classicDnsMetrics, listenClassicDns, type ClassicDns, type ClassicDnsMetrics } from './dns/classic-server'
import { connectionCap, limitConnections, serverOptions, type ConnectionLimits } from './node-connections'
import { eventLoopLag } from './node-metrics'
import { bufferedLines } from './node-log'
import { ignoreHangup, readKeyPair, reloadOnHangup, tlsServerOptions } from './node-tls'

const COMPACTION_INTERVAL_MS = 10_000
/** Node beats every second: a gap of 5 s means the registry was down. */
const NODE_ABSENCE_SECONDS = 5

async function main(): Promise<void> {
  const config = parseConfig(process.env)
  if (config.adminToken === null && !isLoopback(config.host)) {
    throw new ConfigError(
      `HOST=${config.host} is not a loopback address: without SWITCHBOARD_ADMIN_TOKEN the registry serves on loopback only (set the token, or HOST=127.0.0.1)`,
    )
  }
  if (config.adminToken !== null && config.tls === null && !isLoopback(config.host)) {
    if (!config.allowPlainHttp) {
      throw new ConfigError(
        `HOST=${config.host} is not a loopback address: with access control on, tokens must not cross the network in cleartext; set TLS_CERT_FILE and TLS_KEY_FILE, or ALLOW_PLAIN_HTTP=true behind a proxy that terminates TLS`,
      )
    }
    console.warn(`switchboard: ALLOW_PLAIN_HTTP=true: serving plain HTTP on ${config.host}; tokens cross the network in cleartext unless a proxy in front terminates TLS`)
  }
  if (config.dnsPort && config.adminToken === null && !isLoopback(config.dnsHost)) {
    throw new ConfigError(
      `DNS_HOST=${config.dnsHost} is not a loopback address: without SWITCHBOARD_ADMIN_TOKEN the registry answers DNS on loopback only (set the token, or DNS_HOST=127.0.0.1)`,
    )
  }
  const keyPair = config.tls && readKeyPair(config.tls)
  // Classic DNS binds before the database is opened, so that a DNS_PORT in use stops start-up
  // with nothing written; its queries wait for the answerer until the registry is ready.
  let answererReady: (answerer: Answerer) => void = () => {}
  const answerer = new Promise<Answerer>((resolve) => (answererReady = resolve))
  const dnsMetrics = config.dnsPort ? classicDnsMetrics() : null
  const dns = dnsMetrics ? await startClassicDns(config, answerer, dnsMetrics) : null
  const url = config.databaseUrl ?? DEFAULT_DATABASE_URL
  const path = /^file:/.test(url) ? url.slice(5) : !/^[a-z][a-z0-9+.-]*:/i.test(url) && url !== ':memory:' ? url : null
  if (path) mkdirSync(dirname(path), { recursive: true })

  const client = openLibsql({ url, minFreeBytes: config.databaseMinFreeBytes, busyTimeoutMs: config.databaseBusyTimeoutMs, ...(config.databaseAuthToken ? { authToken: config.databaseAuthToken } : {}) })
  await tuneEmbedded(client, { synchronous: config.databaseSynchronous })
  const db = drizzleLibsql(client)
  await applyMigrations(db, { log: (line) => console.log(`switchboard: ${line}`) })
  const { app, registry, resolver } = buildApp(db, config, undefined, {
    defaultAbsenceSeconds: NODE_ABSENCE_SECONDS,
    collectors: [eventLoopLag(), ...(dnsMetrics ? [dnsMetrics.collector] : [])],
    logWriter: bufferedLines(),
  })
  answererReady(new Answerer(resolver, systemClock()))
  // The first heartbeat, before serving: if the registry was down, leases get their grace from now (lease-expiry.ts).
  // On a full disk (or a read-only file) it fails: the registry still starts and serves reads, and says so once.
  await registry.leases.beat().catch((e: unknown) => {
    if (!storageFaultOf(e)) throw e
  })
  // Every second: pods deleted with a grace period are removed once it ends; the registry beats and records lapsed leases.
  const reaper = setInterval(() => {
    registry.reapExpired().catch(failed('removing expired pods'))
    registry.sweepLeases().catch(failed('sweeping lapsed leases'))
  }, 1000)
  reaper.unref()
  // The change log keeps CHANGE_LOG_RETENTION_SECONDS of events; older ones are pruned in slices.
  const compactor = setInterval(() => {
    registry.compactChanges().catch(failed('compacting the change log'))
  }, COMPACTION_INTERVAL_MS)
  compactor.unref()

  const { cap, note } = connectionCap(config.maxConnections)
  if (note) console.warn(`switchboard: ${note}`)
  const limits: ConnectionLimits = {
    maxConnections: cap,
    headersTimeoutMs: config.headersTimeoutMs,
    requestTimeoutMs: Math.max(config.requestTimeoutMs, config.headersTimeoutMs),
    keepAliveTimeoutMs: config.keepAliveTimeoutMs,
  }
  const listen = { fetch: app.fetch, port: config.port, hostname: config.host }
  const options = keyPair
    ? { ...listen, createServer: createSecureServer, serverOptions: tlsServerOptions(keyPair, limits.headersTimeoutMs) }
    : { ...listen, serverOptions: serverOptions(limits) }
  const server = serve(options, (info) => {
    const host = info.family === 'IPv6' ? `[${info.address}]` : info.address
    const served = keyPair ? `https://${host}:${info.port} (HTTP/2 and HTTP/1.1; ` : `http://${host}:${info.port} (`
    console.log(`switchboard listening on ${served}database ${redactUrl(url)})`)
    if (config.adminToken === null) {
      console.log('switchboard: access control is off (no SWITCHBOARD_ADMIN_TOKEN): anyone on this machine may read and write')
    }
  })
  limitConnections(server as Server | Http2SecureServer, limits)
  const stopReloading = config.tls ? reloadOnHangup(server as Http2SecureServer, config.tls) : ignoreHangup()
  server.on('error', (e) => {
    console.error(`switchboard: cannot listen on ${config.host}:${config.port}: ${(e as Error).message}`)
    process.exit(1)
  })

  const stop = () => {
    clearInterval(reaper)
    clearInterval(compactor)
    stopReloading()
    void dns?.close()
    server.close(() => {
      client.close()
      process.exit(0)
    })
    setTimeout(() => process.exit(0), 2000).unref()
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

/**
 * Classic DNS on DNS_HOST:DNS_PORT (UDP and TCP). It carries no token, so it answers what a
 * caller without one may see (api/auth.ts `dnsNeedsNoToken`), and REFUSED otherwise. With
 * access control on, UDP queries count against RATE_LIMIT_PER_SECOND / RATE_LIMIT_BURST per
 * source address, as HTTP requests without a token do.
 */
async function startClassicDns(config: Config, answerer: Promise<Answerer>, metrics: ClassicDnsMetrics): Promise<ClassicDns> {
  const accessControl = config.adminToken !== null
  const open = dnsNeedsNoToken(accessControl, config.dohPublic)
  const where = `${isIPv6(config.dnsHost) ? `[${config.dnsHost}]` : config.dnsHost}:${config.dnsPort}`
  const dns = await listenClassicDns({
    host: config.dnsHost,
    port: config.dnsPort,
    answerer,
    scope: open ? { key: '*' } : { key: 'refused', refuse: true },
    idleTimeoutMs: config.keepAliveTimeoutMs,
    ...(accessControl ? { udpRate: config.rateLimits.requests } : {}),
    metrics,
    onError: failed('answering classic DNS'),
  }).catch((e: unknown) => {
    throw new ConfigError(`DNS_PORT=${config.dnsPort}: cannot listen on UDP and TCP ${where}: ${(e as Error).message}`)
  })
  console.log(`switchboard: classic DNS on udp://${where} and tcp://${where}`)
  if (!open) {
    console.log('switchboard: classic DNS answers REFUSED to every query: it carries no token, and access control is on without DOH_PUBLIC=true')
  }
  return dns
}

/** Logs a background task's failure; a storage fault (a full disk, the file gone) the database client has logged once already. */
function failed(task: string): (e: unknown) => void {
  return (e) => {
    if (!storageFaultOf(e)) console.error(`switchboard: ${task} failed:`, e)
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host)
}

main().catch((e) => {
  if (e instanceof ConfigError) console.error(`switchboard: ${e.message}`)
  else console.error('switchboard: failed to start:', e)
  process.exit(1)
})
