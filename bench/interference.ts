/**
 * Interference: do writes in one namespace slow discovery in another? DoH A queries over
 * the 100 services of the doh zone, and picks of a service with 1,000 ready endpoints,
 * each measured in alternating rounds with no writes and with readiness flips going to
 * another namespace at WRITES_PER_SECOND; the report prints both rates side by side and
 * their ratio (target ≥ 0.9×: the caches follow the change feed key by key, so a write
 * drops only what it affects).
 *
 * Then memory: the server's RSS and heap with 100,000 pods and 10,000 services (10 pods
 * each, 100 services in each of 100 namespaces), after every service was asked once over
 * DoH and picked once, so that all of them sit in the discovery cache.
 */
import { performance } from 'node:perf_hooks'
import { groupName, seedRef, statusBody } from './fixtures'
import { startServer, type Call } from './harness'
import { runLoad, type LoadResult, type Shot } from './load'
import { renderTable } from './report'
import { dohQueries, inPool, seedZone } from './doh'
import { fmt, type BenchContext, type Scenario } from './scenario'

export const INTERFERENCE = {
  pick: { namespace: 'interference-pick', service: 'big', pods: 1_000, ipBlock: 100 },
  writes: { namespace: 'interference-writes', pods: 50, ipBlock: 104, perSecond: 25 },
  round: { warmup: { requests: 1_000_000, seconds: 1 }, measure: { requests: 10_000_000, seconds: 4 } },
  /** Rotations (no writes; writes through this server; through a second process): each gives one ratio per condition. */
  rounds: 5,
  memory: { namespaces: 100, servicesPerNamespace: 100, podsPerService: 10, ipBlock: 108, concurrency: 8 },
  target: 0.9,
  /** The ratios measured before the caches followed the change feed (issue 13). */
  before: { doh: 0.2, pick: 0.39 },
}

export const interference: Scenario = {
  name: 'interference',
  run: async (ctx) => {
    const call = ctx.server.call
    const zone = await seedZone(ctx)
    await seedPick(ctx, call)
    await seedWriters(ctx, call)
    const dns = dohQueries(zone)
    const pickPath = `/api/v1/namespaces/${INTERFERENCE.pick.namespace}/services/${INTERFERENCE.pick.service}/pick`
    const targets = [
      { name: `DoH A queries (${dns.length} services)`, key: 'doh' as const, shot: (n: number): Shot => ({ url: ctx.server.url + dns[n % dns.length]!.path }) },
      { name: `picks (${fmt(INTERFERENCE.pick.pods)} endpoints)`, key: 'pick' as const, shot: (): Shot => ({ url: ctx.server.url + pickPath }) },
    ]
    // A second server process on the same database file: its writes cost this server only the catch-up.
    const peer = await startServer({ dbPath: ctx.server.dbPath })
    const lines: string[][] = []
    try {
      for (const target of targets) {
        const quiet: Round[] = []
        const local: Written[] = []
        const remote: Written[] = []
        for (let r = 0; r < INTERFERENCE.rounds; r++) {
          quiet.push(await load(ctx, target.shot))
          local.push(await withWrites(call, () => load(ctx, target.shot)))
          remote.push(await withWrites(peer.call, () => load(ctx, target.shot)))
        }
        const errors = [...quiet, ...local, ...remote].reduce((sum, x) => sum + x.result.errors, 0)
        if (errors) ctx.report.problem(`interference: ${errors} failed ${target.name} requests`)
        const base = rate(quiet)
        for (const [via, runs] of [
          ['this server', local],
          ['a second process', remote],
        ] as const) {
          const busy = rate(runs)
          const writes = runs.reduce((sum, w) => sum + w.writes, 0) / runs.reduce((sum, w) => sum + w.seconds, 0)
          // Each rotation's ratio against its own quiet round, so that drift of the shared machine between rotations cancels.
          const ratios = runs.map((w, r) => w.result.rps / quiet[r]!.result.rps).sort((a, b) => a - b)
          const median = ratios[Math.floor(ratios.length / 2)]!
          ctx.log(`${target.name}: ${Math.round(base)}/s without writes, ${Math.round(busy)}/s with ${writes.toFixed(1)} writes/s elsewhere through ${via}; ratios ${ratios.map((x) => x.toFixed(2)).join(' ')}`)
          lines.push([
            target.name,
            via,
            fmt(Math.round(base)),
            fmt(Math.round(busy)),
            writes.toFixed(1),
            `${median.toFixed(2)}× (${ratios[0]!.toFixed(2)}–${ratios[ratios.length - 1]!.toFixed(2)})`,
            `${INTERFERENCE.before[target.key].toFixed(2)}×`,
            `${loadsOf(quiet).toFixed(0)} / ${loadsOf(runs).toFixed(0)}`,
          ])
        }
      }
    } finally {
      await peer.stop()
    }
    ctx.report.section('Interference: discovery while another namespace is written', [
      ...renderTable(['target', 'writes through', 'q/s, no writes', 'q/s, with writes', 'writes/s', 'ratio: median (range)', 'ratio before', 'cache reads/round, no writes / writes'], lines).split('\n'),
      `Rounds rotate (no writes; writes through this server; writes through a second server process on the same database file) ` +
        `${INTERFERENCE.rounds} times, ${INTERFERENCE.round.measure.seconds} s each after ${INTERFERENCE.round.warmup.seconds} s warm-up, ` +
        `16 requests in flight (node:http); the writes are readiness flips (PUT …/status) of ${INTERFERENCE.writes.pods} pods ` +
        `in namespace ${INTERFERENCE.writes.namespace} behind one service, one at a time, paced at ${INTERFERENCE.writes.perSecond}/s. ` +
        `The ratio is the median over the rotations of each rotation's rate with writes over its rate without (the range beside it); q/s columns are means. ` +
        `Target: ratio ≥ ${INTERFERENCE.target}×. Writes through this server also cost it the writes' own work on its one event loop; ` +
        `through the second process they cost it only the catch-up and the cache entries they drop. Cache reads per round count the ` +
        `discovery cache's database reads (misses, entries a write dropped, entries past the DNS TTL): equal with and without writes means ` +
        `the writes dropped nothing the target reads; on 2 shared cores the q/s ratios also carry the writes' CPU and other processes' noise.`,
    ])
    await memory(ctx, call)
  },
}

interface Round {
  result: LoadResult
  /** Database reads of the discovery cache during the round (warm-up included). */
  loads: number
}

interface Written extends Round {
  writes: number
  seconds: number
}

const rate = (rounds: Round[]) => rounds.reduce((sum, x) => sum + x.result.rps, 0) / rounds.length
const loadsOf = (rounds: Round[]) => rounds.reduce((sum, x) => sum + x.loads, 0) / rounds.length

/** Runs `measure` while readiness writes go through `call`. */
async function withWrites(call: Call, measure: () => Promise<Round>): Promise<Written> {
  const writer = startWriter(call)
  try {
    return { ...(await measure()), ...(await writer.stop()) }
  } finally {
    await writer.stop()
  }
}

/** One measured round, with the discovery cache's database reads during it. */
async function load(ctx: BenchContext, shot: (n: number) => Shot): Promise<Round> {
  const before = await ctx.server.stats('default')
  const result = await runLoad({ concurrency: 16, transport: 'http', warmup: INTERFERENCE.round.warmup, measure: INTERFERENCE.round.measure, next: shot })
  const after = await ctx.server.stats('default')
  return { result, loads: after.discoveryLoads - before.discoveryLoads }
}

async function seedPick(ctx: BenchContext, call: Call): Promise<void> {
  const { namespace, service, pods, ipBlock } = INTERFERENCE.pick
  await namespaceWithService(call, namespace, service, groupName(0))
  await importGroups(call, namespace, 0, pods, ipBlock, pods, pods)
  ctx.log(`seeded namespace ${namespace}: service ${service} over ${fmt(pods)} ready pods`)
}

async function seedWriters(ctx: BenchContext, call: Call): Promise<void> {
  const { namespace, pods, ipBlock } = INTERFERENCE.writes
  await namespaceWithService(call, namespace, 'flapping', groupName(0))
  await importGroups(call, namespace, 0, pods, ipBlock, pods, pods)
  ctx.log(`seeded namespace ${namespace}: ${pods} pods whose readiness flips during the rounds with writes`)
}

async function namespaceWithService(call: Call, namespace: string, service: string, group: string): Promise<void> {
  await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } })
  await call('POST', `/api/v1/namespaces/${namespace}/services`, serviceBody(service, group))
}

function serviceBody(name: string, group: string): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { group }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } }
}

async function importGroups(call: Call, namespace: string, start: number, count: number, ipBlock: number, groupSize: number, chunk: number): Promise<void> {
  for (let i = start; i < start + count; i += chunk) {
    await call('POST', '/bench/import-groups', { namespace, start: i, count: Math.min(chunk, start + count - i), ipBlock, groupSize })
  }
}

/** Flips so far, across writers: each flip changes its pod's readiness. */
let flips = 0

/** Flips the readiness of the writers' pods, one write at a time, paced at `perSecond`. */
function startWriter(call: Call): { stop: () => Promise<{ writes: number; seconds: number }> } {
  const { namespace, pods, perSecond } = INTERFERENCE.writes
  const began = performance.now()
  let writes = 0
  let stopped = false
  const done = (async () => {
    while (!stopped) {
      const n = flips++
      const ref = { ...seedRef(n % pods), ready: Math.floor(n / pods) % 2 === 1 }
      await call('PUT', `/api/v1/namespaces/${namespace}/pods/${ref.name}/status`, statusBody(ref))
      writes++
      const due = began + (writes * 1000) / perSecond
      const wait = due - performance.now()
      if (wait > 0) await new Promise((r) => setTimeout(r, wait))
    }
  })()
  return {
    stop: async () => {
      stopped = true
      await done
      return { writes, seconds: (performance.now() - began) / 1000 }
    },
  }
}

async function memory(ctx: BenchContext, call: Call): Promise<void> {
  const { namespaces, servicesPerNamespace, podsPerService, ipBlock, concurrency } = INTERFERENCE.memory
  const services = namespaces * servicesPerNamespace
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`
  const stats = () => ctx.server.stats('default')
  const start = await stats()
  const t0 = performance.now()
  const all: { namespace: string; name: string; k: number }[] = []
  for (let n = 0; n < namespaces; n++) {
    const namespace = `memory-${String(n).padStart(3, '0')}`
    await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } })
    const first = n * servicesPerNamespace
    await importGroups(call, namespace, first * podsPerService, servicesPerNamespace * podsPerService, ipBlock, podsPerService, 1_000)
    for (let k = first; k < first + servicesPerNamespace; k++) all.push({ namespace, name: `svc-${String(k).padStart(5, '0')}`, k })
  }
  await inPool(all, concurrency, ({ namespace, name, k }) => call('POST', `/api/v1/namespaces/${namespace}/services`, serviceBody(name, groupName(k))))
  const seeded = await stats()
  ctx.log(`seeded ${namespaces} namespaces: ${fmt(services)} services, ${fmt(services * podsPerService)} pods in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  const t1 = performance.now()
  const base = ctx.server.url
  const queries = dohQueries(all.map(({ namespace, name }) => ({ name, fqdn: `${name}.${namespace}.svc.cluster.local`, headless: false, addresses: [] })))
  await inPool(
    all.map((s, i) => ({ ...s, path: queries[i]!.path })),
    16,
    async ({ namespace, name, path }) => {
      const res = await fetch(base + path)
      if (!res.ok) throw new Error(`DoH ${name} answered ${res.status}`)
      await res.arrayBuffer()
      await call('GET', `/api/v1/namespaces/${namespace}/services/${name}/pick`)
    },
  )
  const cached = await stats()
  ctx.log(`asked and picked every service in ${((performance.now() - t1) / 1000).toFixed(1)} s; RSS ${mib(cached.rssBytes)}`)
  ctx.report.section(`Memory: ${fmt(services * podsPerService)} pods and ${fmt(services)} services cached`, [
    ...renderTable(
      ['when', 'RSS', 'heap used', 'database + WAL'],
      [
        ['before seeding', mib(start.rssBytes), mib(start.heapUsedBytes), mib(start.dbBytes + start.walBytes)],
        ['seeded, not asked', mib(seeded.rssBytes), mib(seeded.heapUsedBytes), mib(seeded.dbBytes + seeded.walBytes)],
        ['every service asked (DoH) and picked', mib(cached.rssBytes), mib(cached.heapUsedBytes), mib(cached.dbBytes + cached.walBytes)],
      ],
    ).split('\n'),
    `${fmt(services)} services of ${podsPerService} ready pods each, ${servicesPerNamespace} services per namespace in ${namespaces} namespaces; ` +
      `the server process also holds the other scenarios' data. Seeding and asking took ${((performance.now() - t0) / 1000).toFixed(0)} s.`,
  ])
}
