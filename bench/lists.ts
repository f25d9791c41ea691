/**
 * Lists beside DNS: does an unpaged list of 100,000 pods starve DoH? DoH A queries over
 * the 100 services of the doh zone are measured alone, then while eight clients each
 * list the 100,000 pods of one namespace unpaged (`GET /api/v1/namespaces/lists/pods`),
 * again and again; the report prints DoH's rate and latency (p50, p99) both ways, how long
 * a list took and how big it was, and the server's RSS before, at its highest during, and
 * after the lists. Target: DoH p99 under 50 ms during the lists (an unpaged list is sent
 * page by page from one snapshot, so no list holds the event loop or 56 MB at once).
 */
import { Buffer } from 'node:buffer'
import { performance } from 'node:perf_hooks'
import type { Call } from './harness'
import { runLoad, type LoadResult, type Shot } from './load'
import { ms, renderTable } from './report'
import { dohQueries, seedZone } from './doh'
import { fmt, type BenchContext, type Scenario } from './scenario'

export const LISTS = {
  namespace: 'lists',
  pods: 100_000,
  ipBlock: 120,
  /** Concurrent unpaged lists during the second round. */
  lists: 8,
  /** DoH requests in flight (few, so that latency shows blocking rather than the queue DoH makes itself). */
  dohConcurrency: 4,
  round: { warmup: { requests: 1_000_000, seconds: 1 }, measure: { requests: 10_000_000, seconds: 30 } },
  targetP99Ms: 50,
}

export const lists: Scenario = {
  name: 'lists',
  run: async (ctx) => {
    const zone = await seedZone(ctx)
    await seedPods(ctx, ctx.server.call)
    const dns = dohQueries(zone)
    const shot = (n: number): Shot => ({ url: ctx.server.url + dns[n % dns.length]!.path })
    const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`
    const stats = () => ctx.server.stats('default')

    await checkList(ctx)
    const before = await stats()
    const alone = await dohRound(shot)
    ctx.log(`DoH alone: ${Math.round(alone.rps)}/s, p50 ${ms(alone.latency.p50)}, p99 ${ms(alone.latency.p99)}`)

    const listing = startLists(ctx, LISTS.lists, stats)
    let during: LoadResult
    try {
      during = await dohRound(shot)
    } finally {
      await listing.stop()
    }
    const after = await stats()
    const l = listing.result()
    ctx.log(
      `DoH beside ${LISTS.lists} unpaged lists: ${Math.round(during.rps)}/s, p50 ${ms(during.latency.p50)}, p99 ${ms(during.latency.p99)}; ` +
        `${l.done} lists of ${mib(l.bytes)}, ${(l.seconds / Math.max(1, l.done)).toFixed(1)} s each, ${(l.streamed / 2 ** 20 / l.wall).toFixed(1)} MiB/s sent; RSS peak ${mib(l.peakRss)}`,
    )
    const errors = alone.errors + during.errors
    if (errors) ctx.report.problem(`lists: ${errors} failed DoH requests`)
    if (l.errors.length) ctx.report.problem(`lists: ${l.errors.length} failed lists; ${l.errors.slice(0, 3).join('; ')}`)
    const verdict = during.latency.p99 < LISTS.targetP99Ms ? 'met' : 'missed'
    ctx.report.section(`Lists: DoH beside ${LISTS.lists} unpaged lists of ${fmt(LISTS.pods)} pods`, [
      ...renderTable(
        ['DoH', 'q/s', 'p50', 'p99', 'max', 'lists done', 'list time (mean)', 'list size', 'lists sent', 'RSS'],
        [
          ['alone', fmt(Math.round(alone.rps)), ms(alone.latency.p50), ms(alone.latency.p99), ms(alone.latency.max), '—', '—', '—', '—', mib(before.rssBytes)],
          [
            `beside ${LISTS.lists} lists`,
            fmt(Math.round(during.rps)),
            ms(during.latency.p50),
            ms(during.latency.p99),
            ms(during.latency.max),
            String(l.done),
            l.done ? `${(l.seconds / l.done).toFixed(1)} s` : '—',
            l.done ? `${mib(l.bytes)}` : '—',
            `${(l.streamed / 2 ** 20 / l.wall).toFixed(1)} MiB/s`,
            `peak ${mib(l.peakRss)}, after ${mib(after.rssBytes)}`,
          ],
        ],
      ).split('\n'),
      `DoH A queries over the doh zone (${dns.length} services), ${LISTS.dohConcurrency} in flight (node:http), ${LISTS.round.warmup.seconds} s warm-up + ` +
        `${LISTS.round.measure.seconds} s per round; in the second round ${LISTS.lists} clients (global fetch) each list the ${fmt(LISTS.pods)} pods of namespace ` +
        `${LISTS.namespace} unpaged, over and over, reading every byte (lists still running when the round ends are cut off and not counted as done; 'lists sent' counts every byte received, over the round). ` +
        `RSS: the server's before the rounds, its highest sampled every 100 ms during the lists, and after them. ` +
        `Target: DoH p99 < ${LISTS.targetP99Ms} ms beside the lists — ${verdict}.`,
    ])
  },
}

async function seedPods(ctx: BenchContext, call: Call): Promise<void> {
  const { namespace, pods, ipBlock } = LISTS
  const t0 = performance.now()
  await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } })
  for (let start = 0; start < pods; start += 1_000) {
    await call('POST', '/bench/import-groups', { namespace, start, count: Math.min(1_000, pods - start), ipBlock, groupSize: 100 })
  }
  ctx.log(`seeded namespace ${namespace}: ${fmt(pods)} pods in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
}

/** One unpaged list, parsed and checked before anything is measured: every pod, in order, one resourceVersion. */
async function checkList(ctx: BenchContext): Promise<void> {
  const t0 = performance.now()
  const list = await ctx.server.call<{ metadata: { resourceVersion: string }; items: { metadata: { name: string; resourceVersion: string } }[] }>('GET', `/api/v1/namespaces/${LISTS.namespace}/pods`)
  const names = list.items.map((p) => p.metadata.name)
  const sorted = names.every((n, i) => i === 0 || names[i - 1]! < n)
  const rv = Number(list.metadata.resourceVersion)
  const line = `lists: an unpaged list checked before measuring: ${fmt(list.items.length)} pods in name order ${sorted ? 'yes' : 'NO'}, none newer than the list's resourceVersion ${list.items.every((p) => Number(p.metadata.resourceVersion) <= rv) ? 'yes' : 'NO'} (${((performance.now() - t0) / 1000).toFixed(1)} s)`
  if (list.items.length !== LISTS.pods || !sorted) ctx.report.problem(line)
  else ctx.report.note(line)
}

function dohRound(next: (n: number) => Shot): Promise<LoadResult> {
  return runLoad({ concurrency: LISTS.dohConcurrency, transport: 'http', warmup: LISTS.round.warmup, measure: LISTS.round.measure, next })
}

/** `count` clients listing the namespace's pods unpaged until stopped, and the server's RSS sampled meanwhile. */
function startLists(ctx: BenchContext, count: number, stats: () => Promise<{ rssBytes: number }>) {
  const url = `${ctx.server.url}/api/v1/namespaces/${LISTS.namespace}/pods`
  const abort = new AbortController()
  let done = 0
  let seconds = 0
  let bytes = 0
  /** Bytes received across every list, finished or not. */
  let streamed = 0
  let peakRss = 0
  const errors: string[] = []
  const began = performance.now()
  const clients = Array.from({ length: count }, async () => {
    while (!abort.signal.aborted) {
      const t0 = performance.now()
      try {
        // Read as bytes, not parsed: the load generator's own event loop must stay free for the DoH clients it times.
        const res = await fetch(url, { signal: abort.signal })
        if (!res.ok) throw new Error(`HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`)
        let size = 0
        let tail = ''
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          size += chunk.byteLength
          streamed += chunk.byteLength
          tail = Buffer.from(chunk.subarray(Math.max(0, chunk.byteLength - 2))).toString()
        }
        if (!tail.endsWith(']}')) throw new Error(`a list ended with ${JSON.stringify(tail)}, not ]}`)
        done++
        seconds += (performance.now() - t0) / 1000
        bytes = size
      } catch (e) {
        if (!abort.signal.aborted) errors.push(`${(e as Error).message}${(e as Error).cause ? ` (${((e as Error).cause as Error).message})` : ''}`)
      }
    }
  })
  const sampler = (async () => {
    while (!abort.signal.aborted) {
      try {
        peakRss = Math.max(peakRss, (await stats()).rssBytes)
      } catch (e) {
        errors.push(`RSS sample: ${(e as Error).message}`)
      }
      await new Promise((r) => setTimeout(r, 100))
    }
  })()
  return {
    stop: async () => {
      abort.abort()
      await Promise.all([...clients, sampler])
    },
    result: () => ({ done, seconds, bytes, streamed, peakRss, errors, wall: (performance.now() - began) / 1000 }),
  }
}
