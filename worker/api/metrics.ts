/**
 * `GET /metrics`: the Prometheus text exposition (http/metrics.ts) of this process or
 * isolate. Access: a token of every namespace with the `read` role or more (an admin
 * token, or the root credential); open while access control is off (see auth.ts).
 *
 * The registry's own families are registered here: write-batch commit latency, the
 * discovery cache's hits and misses, open watches, and, read at scrape time, the
 * database's size, the change log's length and the leases held and expired.
 */
import type { Hono } from 'hono'
import type { AppEnv } from '../http/env'
import { EXPOSITION_CONTENT_TYPE, type Family, type Metrics } from '../http/metrics'
import type { Registry } from '../registry/registry'
import type { DiscoveryCache } from '../registry/discovery-cache'
import { verbs } from './verbs'

export function mountMetrics(app: Hono<AppEnv>, metrics: Metrics): void {
  verbs(app, '/metrics', {
    get: async (c) => {
      c.header('Cache-Control', 'no-store')
      return c.body(await metrics.render(), 200, { 'Content-Type': EXPOSITION_CONTENT_TYPE })
    },
  })
}

/** WRITE_BUCKETS: a write batch commits in well under a millisecond embedded, tens of ms over the network. */
const WRITE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]

export function registryMetrics(metrics: Metrics, registry: Registry, discovery: DiscoveryCache, nowMs: () => number): void {
  const writes = metrics.histogram('switchboard_write_batch_duration_seconds', 'Time to commit one write batch to the database.', WRITE_BUCKETS)
  registry.store.onWrite((_rv, ms) => writes.observe({}, ms / 1000))
  metrics.collect(() => [
    counter('switchboard_discovery_cache_hits_total', 'DNS and pick lookups answered from the discovery cache.', discovery.hits),
    counter('switchboard_discovery_cache_misses_total', 'DNS and pick lookups that read the database.', discovery.misses),
    gauge('switchboard_watches_open', 'Watches being served now.', registry.feed.openWatches),
  ])
  metrics.collect(async () => {
    const stats = await registry.store.stats(nowMs())
    return [
      ...(stats.databaseBytes === null ? [] : [gauge('switchboard_database_size_bytes', 'Size of the database (page_count * page_size).', stats.databaseBytes)]),
      gauge('switchboard_change_log_rows', 'Events held in the change log (it is compacted after CHANGE_LOG_RETENTION_SECONDS).', stats.changeLogRows),
      {
        name: 'switchboard_leases',
        help: 'Leases with a holder, by state: held (not yet expired) or expired.',
        type: 'gauge',
        samples: [
          { labels: { state: 'held' }, value: stats.leasesHeld },
          { labels: { state: 'expired' }, value: stats.leasesExpired },
        ],
      },
    ]
  })
}

function counter(name: string, help: string, value: number): Family {
  return { name, help, type: 'counter', samples: [{ value }] }
}

function gauge(name: string, help: string, value: number): Family {
  return { name, help, type: 'gauge', samples: [{ value }] }
}
