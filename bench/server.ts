/**
 * The server under test, run as its own process (`node --import tsx bench/server.ts`):
 * the registry built exactly as worker/node.ts builds it (embedded libSQL file from
 * DATABASE_URL, tuned, migrated, buildApp, @hono/node-server on HOST:PORT), plus the
 * routes under /bench/ listed below, on the same app. The same app also listens on a second port of
 * HOST through node:http2 without TLS (h2c with prior knowledge, as HTTP/2 load
 * generators speak it), so that one process answers both protocols from the same
 * registry, snapshot and event loop:
 *
 * - GET  /bench/constant  a fixed small JSON answer: the ceiling of this HTTP stack
 * - GET  /bench/stats     process CPU and event-loop counters, memory, pod count, file sizes
 * - POST /bench/seed      creates pods through the registry in-process: {namespace, start, count}
 * - POST /bench/import    imports the endpoints benchmark's pods in one write: {namespace, start, count, ipBlock}
 * - GET  /bench/endpoints the endpoint rows of a namespace, counted: rows, services, pods, per service, per pod
 * - PUT  /bench/status-floor/{namespace}/{name}  the floor of a status update: a body {status: {conditions}}
 *                         written into the stored pod by the registry's own store write (the statements,
 *                         endpoints and change record of PUT …/pods/{name}/status, one group-committed batch),
 *                         from a bare handler (the same middleware, body reader, read and answer), without
 *                         decode, validation, managed fields, size check or audit line
 * - POST /bench/create-floor/{namespace}  the floor of a create: a pod body given the create's
 *                         metadata (uid, creation time), built and defaulted as a create builds it, and
 *                         written by the registry's own store write
 *                         (the statements, ports, labels, endpoints and change record of POST …/pods, one
 *                         group-committed batch), from a bare handler (the same middleware, body reader and
 *                         answer), without decode, validation, managed fields, size check or audit line
 * - POST /bench/seed-leases  creates held leases through the registry in-process: {namespace, start, count, durationSeconds}
 * - POST /bench/import-leased imports pods bound to leases in one write: {namespace, start, count, ipBlock, groupSize, leaseStride}
 * - GET  /bench/changes   the change log's rows and sizes, and the leases table's size (ChangeLogSize)
 * - POST /bench/timings/start, /bench/timings/stop  record each HTTP/1.1 request's time inside
 *                         this process (from the request event to the answer's finish), and
 *                         answer them: [{path, ms}] (ServerTiming)
 * - POST /bench/commit-rate  the raw commit rate of the registry's own libSQL client: one-row UPDATE
 *                         batches on a table of its own for {seconds, inFlight} (CommitRate, commit-rate.ts)
 *
 * It prints `h2c <url>` and then `listening <url>` on stdout once both listeners accept
 * connections, and exits on
 * SIGTERM/SIGINT or when its stdin closes (the parent is gone); in that last case it also
 * removes the directory named by BENCH_REMOVE_DIR, if any.
 */
import { mkdirSync, rmSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import type { AddressInfo } from 'node:net'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer as createH2cServer } from 'node:http2'
import { performance } from 'node:perf_hooks'
import { serve } from '@hono/node-server'
import { parseConfig } from '../worker/config'
import { buildApp } from '../worker/wiring'
import { bufferedLines } from '../worker/node-log'
import { drizzleLibsql, openLibsql, tuneEmbedded } from '../worker/db/client'
import { applyMigrations } from '../worker/db/migrate'
import { EmbeddedClient } from '../worker/db/embedded-client'
import { LEASES, PODS } from '../worker/registry/kinds'
import { microTimeOf } from '../worker/registry/lease'
import { readObject } from '../worker/http/body'
import { judgedAlike } from '../worker/registry/event-before'
import { metaForCreate, withRv } from '../worker/registry/meta'
import { timestamp } from '../worker/registry/rfc3339'
import { podStrategy, podWrite } from '../worker/registry/strategies/pod'
import type { PodObject } from '../worker/registry/types'
import type { PodInput } from '../worker/registry/schemas'
import { commitRate } from './commit-rate'
import { CONSTANT_ANSWER, groupedPodBody, leaseBody, leaseName, leasedPodBody, podBody, seedRef } from './fixtures'
import { selectionPodBody } from './selection'

export interface EndpointCounts {
  /** Endpoint rows of the namespace (one per service, pod and IP). */
  rows: number
  /** Services with at least one endpoint row. */
  services: number
  /** Pods with at least one endpoint row. */
  pods: number
  minPerService: number
  maxPerService: number
  maxPerPod: number
  /** Pods of every namespace. */
  podsInDatabase: number
}

/** One request's time inside the server (POST /bench/timings/stop). */
export interface ServerTiming {
  path: string
  ms: number
}

export interface ChangeLogSize {
  /** Rows of the change log. */
  rows: number
  /** Total length(object) + length(old_object) of those rows. */
  objectBytes: number
  /** Pages of the change log's table and its index (dbstat), in bytes. */
  changesBytes: number
  /** Pages of the leases table and its indexes (dbstat), in bytes. */
  leasesBytes: number
}

export interface ServerStats {
  cpuUserMicros: number
  cpuSystemMicros: number
  eluActive: number
  eluIdle: number
  rssBytes: number
  heapUsedBytes: number
  pods: number
  dbBytes: number
  walBytes: number
  /** Reads of the database the discovery cache has made so far (a miss, or an entry a write dropped). */
  discoveryLoads: number
  /** Write transactions the embedded client committed, and the write batches they held (group commit). */
  writeTransactions: number
  writeBatches: number
  /** Milliseconds the committed write transactions held the server's event loop (file checks, statements, commits). */
  writeMs: number
  /** Reads the embedded client ran (the change feed's included), and the milliseconds they held the event loop. */
  reads: number
  readMs: number
}

async function main(): Promise<void> {
  const config = parseConfig(process.env)
  const url = config.databaseUrl
  if (!url || !url.startsWith('file:')) throw new Error('DATABASE_URL must be a file: URL for the benchmark')
  const path = url.slice(5)
  mkdirSync(dirname(path), { recursive: true })

  const client = openLibsql({ url, minFreeBytes: config.databaseMinFreeBytes })
  await tuneEmbedded(client, { synchronous: config.databaseSynchronous })
  const db = drizzleLibsql(client)
  await applyMigrations(db)
  const { app, registry, discovery } = buildApp(db, config, undefined, { logWriter: bufferedLines() })

  app.get('/bench/constant', (c) => c.json(CONSTANT_ANSWER))

  const commits = client instanceof EmbeddedClient ? client.commits : undefined
  const reads = client instanceof EmbeddedClient ? client.reads : undefined
  app.get('/bench/stats', async (c) => {
    const namespace = c.req.query('namespace') ?? 'default'
    // The reads so far, before this request's own count.
    const read = { count: reads?.count ?? 0, ms: reads?.ms ?? 0 }
    const count = await client.execute({ sql: 'SELECT count(*) AS n FROM pods WHERE namespace = ?', args: [namespace] })
    const cpu = process.cpuUsage()
    const elu = performance.eventLoopUtilization()
    const mem = process.memoryUsage()
    const stats: ServerStats = {
      cpuUserMicros: cpu.user,
      cpuSystemMicros: cpu.system,
      eluActive: elu.active,
      eluIdle: elu.idle,
      rssBytes: mem.rss,
      heapUsedBytes: mem.heapUsed,
      pods: Number(count.rows[0]?.n ?? 0),
      dbBytes: sizeOf(path),
      walBytes: sizeOf(`${path}-wal`),
      discoveryLoads: discovery.loads,
      writeTransactions: commits?.transactions ?? 0,
      writeBatches: commits?.batches ?? 0,
      writeMs: commits?.ms ?? 0,
      reads: read.count,
      readMs: read.ms,
    }
    return c.json(stats)
  })

  app.post('/bench/seed', async (c) => {
    const { namespace, start, count } = (await c.req.json()) as { namespace: string; start: number; count: number }
    const began = performance.now()
    for (let i = start; i < start + count; i++) {
      await registry.objects(PODS).create(namespace, podBody(seedRef(i), i))
    }
    return c.json({ created: count, seconds: (performance.now() - began) / 1000 })
  })

  // Pods in groups of `groupSize` (label `group: g-<n>`), so that a service can select one group.
  app.post('/bench/import-groups', async (c) => {
    const { namespace, start, count, ipBlock, groupSize } = (await c.req.json()) as { namespace: string; start: number; count: number; ipBlock: number; groupSize: number }
    const began = performance.now()
    const bodies = Array.from({ length: count }, (_, k) => groupedPodBody(start + k, ipBlock, groupSize))
    await registry.importPods(namespace, bodies)
    return c.json({ created: count, seconds: (performance.now() - began) / 1000 })
  })

  app.post('/bench/import', async (c) => {
    const { namespace, start, count, ipBlock } = (await c.req.json()) as { namespace: string; start: number; count: number; ipBlock: number }
    const began = performance.now()
    const bodies = Array.from({ length: count }, (_, k) => selectionPodBody(start + k, ipBlock))
    await registry.importPods(namespace, bodies)
    return c.json({ created: count, seconds: (performance.now() - began) / 1000 })
  })

  app.get('/bench/endpoints', async (c) => {
    const namespace = c.req.query('namespace') ?? 'default'
    const [totals, perService, perPod, all] = await client.batch(
      [
        { sql: 'SELECT count(*) AS rows, count(DISTINCT service) AS services, count(DISTINCT pod) AS pods FROM endpoints WHERE namespace = ?', args: [namespace] },
        { sql: 'SELECT min(n) AS lo, max(n) AS hi FROM (SELECT count(*) AS n FROM endpoints WHERE namespace = ? GROUP BY service)', args: [namespace] },
        { sql: 'SELECT max(n) AS hi FROM (SELECT count(*) AS n FROM endpoints WHERE namespace = ? GROUP BY pod)', args: [namespace] },
        'SELECT count(*) AS n FROM pods',
      ],
      'read',
    )
    const t = totals!.rows[0]
    const counts: EndpointCounts = {
      rows: Number(t?.rows ?? 0),
      services: Number(t?.services ?? 0),
      pods: Number(t?.pods ?? 0),
      minPerService: Number(perService!.rows[0]?.lo ?? 0),
      maxPerService: Number(perService!.rows[0]?.hi ?? 0),
      maxPerPod: Number(perPod!.rows[0]?.hi ?? 0),
      podsInDatabase: Number(all!.rows[0]?.n ?? 0),
    }
    return c.json(counts)
  })

  // What a status update costs without the registry's logic: read the pod, set its conditions, and
  // write it as the registry's pod strategy does (the same statements, guarded at the read rv, the
  // change record leaving out the pod before when the log's followers judge both alike, as it does).
  app.put('/bench/status-floor/:namespace/:name', async (c) => {
    const { namespace, name } = c.req.param()
    const input = (await readObject(c)) as { status: { conditions: NonNullable<PodObject['status']['conditions']> } }
    const stored = await registry.store.get(PODS.storage!, namespace, name)
    if (!stored) return c.json({ message: `pod ${name} not found` }, 404)
    const old = stored.body as unknown as PodObject
    const at = timestamp(registry.clock.now())
    const pod: PodObject = { ...old, status: { ...old.status, conditions: input.status.conditions.map((k) => ({ ...k, lastTransitionTime: at })) } }
    const rv = await registry.store.putPod(podWrite(pod), { rv: stored.rv }, podWrite(old), { recordBefore: !judgedAlike(PODS, old, pod) })
    return c.json(withRv(pod, rv))
  })

  app.post('/bench/create-floor/:namespace', async (c) => {
    const namespace = c.req.param('namespace')
    // The body is taken as decoded (the bench's pods are well formed), built and defaulted as a create builds it.
    const input = (await readObject(c)) as unknown as PodInput
    const pod = podStrategy.create(input, metaForCreate(input.metadata, namespace, registry.clock), registry.clock)
    const rv = await registry.store.putPod(podWrite(pod), 'create')
    return c.json(withRv(pod, rv), 201)
  })

  app.post('/bench/seed-leases', async (c) => {
    const { namespace, start, count, durationSeconds } = (await c.req.json()) as { namespace: string; start: number; count: number; durationSeconds: number }
    const began = performance.now()
    for (let i = start; i < start + count; i++) {
      await registry.objects(LEASES).create(namespace, leaseBody(i, microTimeOf(registry.clock.now()), durationSeconds))
    }
    return c.json({ created: count, seconds: (performance.now() - began) / 1000 })
  })

  // Pod i is bound to lease i × leaseStride.
  app.post('/bench/import-leased', async (c) => {
    const { namespace, start, count, ipBlock, groupSize, leaseStride } = (await c.req.json()) as {
      namespace: string
      start: number
      count: number
      ipBlock: number
      groupSize: number
      leaseStride: number
    }
    const began = performance.now()
    const bodies = Array.from({ length: count }, (_, k) => leasedPodBody(start + k, ipBlock, groupSize, leaseName((start + k) * leaseStride)))
    await registry.importPods(namespace, bodies)
    return c.json({ created: count, seconds: (performance.now() - began) / 1000 })
  })

  app.get('/bench/changes', async (c) => {
    const [log, pages] = await client.batch(
      [
        'SELECT count(*) AS n, coalesce(sum(coalesce(length(object), 0) + coalesce(length(old_object), 0)), 0) AS bytes FROM changes',
        `SELECT s.tbl_name AS tbl, sum(d.pgsize) AS bytes FROM sqlite_schema s JOIN dbstat d ON d.name = s.name
          WHERE s.tbl_name IN ('changes', 'leases') GROUP BY s.tbl_name`,
      ],
      'read',
    )
    const bytes = (table: string) => Number(pages!.rows.find((r) => r.tbl === table)?.bytes ?? 0)
    const size: ChangeLogSize = {
      rows: Number(log!.rows[0]?.n ?? 0),
      objectBytes: Number(log!.rows[0]?.bytes ?? 0),
      changesBytes: bytes('changes'),
      leasesBytes: bytes('leases'),
    }
    return c.json(size)
  })

  // Server-side latencies: start clears and records, stop answers what was recorded and stops.
  let timings: ServerTiming[] | null = null
  app.post('/bench/timings/start', (c) => {
    timings = []
    return c.json({ recording: true })
  })
  app.post('/bench/timings/stop', (c) => {
    const recorded = timings ?? []
    timings = null
    return c.json(recorded)
  })

  app.post('/bench/commit-rate', async (c) => {
    const { seconds, inFlight } = (await c.req.json()) as { seconds: unknown; inFlight: unknown }
    if (typeof seconds !== 'number' || !(seconds > 0 && seconds <= 60)) return c.json({ message: 'seconds must be a number in (0, 60]' }, 400)
    if (typeof inFlight !== 'number' || !Number.isInteger(inFlight) || inFlight < 1 || inFlight > 1024) {
      return c.json({ message: 'inFlight must be an integer from 1 to 1024' }, 400)
    }
    return c.json(await commitRate(client, { seconds, inFlight }))
  })

  const listen = (h2c: boolean) =>
    new Promise<{ server: ReturnType<typeof serve>; url: string }>((resolve) => {
      const options = { fetch: app.fetch, port: h2c ? 0 : config.port, hostname: config.host }
      const server = h2c ? serve({ ...options, createServer: createH2cServer }, ready) : serve(options, ready)
      server.on('error', (e) => {
        console.error(`bench server: cannot listen on ${config.host}:${h2c ? 0 : config.port}: ${(e as Error).message}`)
        process.exit(1)
      })
      function ready(info: AddressInfo) {
        const host = info.family === 'IPv6' ? `[${info.address}]` : info.address
        resolve({ server, url: `http://${host}:${info.port}` })
      }
    })
  const h2c = await listen(true)
  const http1 = await listen(false)
  // Each HTTP/1.1 request's time inside this process while recording: from its 'request'
  // event (headers parsed) to 'finish' (the answer handed to the socket). Ahead of the app's
  // own listener, which runs the handler's synchronous part before returning.
  http1.server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!timings) return
    const start = performance.now()
    const list = timings
    res.once('finish', () => list.push({ path: req.url ?? '', ms: performance.now() - start }))
  })
  process.stdout.write(`h2c ${h2c.url}\nlistening ${http1.url}\n`)

  // Without a parent (stdin closed) nobody else will remove the database's directory.
  let stopping = false
  const stop = (orphaned: boolean) => {
    if (stopping) return
    stopping = true
    const exit = () => {
      const dir = process.env.BENCH_REMOVE_DIR
      if (orphaned && dir) rmSync(dir, { recursive: true, force: true })
      process.exit(0)
    }
    h2c.server.close()
    http1.server.close(() => {
      client.close()
      exit()
    })
    setTimeout(exit, 2000).unref()
  }
  process.once('SIGINT', () => stop(false))
  process.once('SIGTERM', () => stop(false))
  process.stdin.on('close', () => stop(true))
  process.stdin.on('end', () => stop(true))
  process.stdin.resume()
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size
  } catch {
    return 0
  }
}

main().catch((e) => {
  console.error('bench server: failed to start:', e)
  process.exit(1)
})
