/**
 * Leases: what renewals cost, and whether they disturb discovery. 100,000 held leases in
 * one namespace (created in-process through the registry, in chunks), 1,000 of them each
 * covering one of the 1,000 pods behind a service, then:
 *
 * - the ceiling (GET /bench/constant) and renewals with 16 in flight: merge PATCHes of
 *   spec.renewTime over a shuffled list of every lease (so no two in flight touch the same
 *   lease), each answer checked (200, renewTime as sent); the renewals of leases that
 *   cover a pod are timed apart too. Target: ≥ 0.5× the ceiling.
 * - the database's growth over those renewals (at least 50,000): file and WAL bytes, the
 *   change log's rows and sizes, the leases table's pages, per renewal and per million;
 *   and the change log's steady-state size given its retention (bytes per event × events
 *   kept).
 * - DoH A queries over the doh zone in rounds rotating without and with renewals paced at
 *   1,000/s (several paced loops in a worker thread, paced.ts), the median of the per-rotation ratios (target ≥ 0.9×)
 *   and the discovery cache's database reads per round, which renewals must leave equal; with constant GETs paced
 *   instead as the control. Twice: the queries answered by the server that takes the renewals (one event loop), then
 *   by a second server process on the same database file (no event loop shared with the renewals; the second
 *   process still reads them from the change log, and the machine's cores are shared by all).
 * - the leased service itself: its DNS answer and picks, asked before and after a renewal
 *   of each of its 1,000 leases, must cost no database read in between.
 */
import { cpus } from 'node:os'
import { performance } from 'node:perf_hooks'
import { parseConfig } from '../worker/config'
import { CHECKPOINT_PAGES } from '../worker/db/checkpointer'
import { microTimeOf } from '../worker/registry/lease'
import { checkAnswers, dohQueries, inPool, seedZone, type ZoneService } from './doh'
import { CONSTANT_ANSWER, groupName, leaseName, podIP, shuffled } from './fixtures'
import { startServer, type BenchServer, type ServerStats } from './harness'
import { runLoad, summarize, type LoadResult, type Phase, type Shot } from './load'
import { paced, type PacedOutcome, type PacedShots } from './paced'
import { ms, renderTable, serverMicrosPerRequest, type Row } from './report'
import { fmt, machineCores, measure, systemTicks, type BenchContext, type Scenario } from './scenario'
import type { ChangeLogSize } from './server'

export const LEASES = {
  namespace: 'leases',
  leases: 100_000,
  durationSeconds: 10,
  seedChunk: 5_000,
  /** Pod i of the service is bound to lease i × leaseStride. */
  bound: { service: 'leased', pods: 1_000, ipBlock: 112, leaseStride: 100 },
  constant: { warmup: { requests: 10_000, seconds: 2 }, measure: { requests: 100_000, seconds: 6 } },
  renew: { warmup: { requests: 2_000, seconds: 2 }, measure: { requests: 60_000, seconds: 50 } },
  /** The growth is measured over at least this many renewals (topped up after the measured phase if it fell short). */
  growthRenewals: 50_000,
  paced: { perSecond: 1_000, loops: 16 },
  /** Renewals and constant GETs sent one at a time, as the paced requests arrive: what each then costs the server. */
  alone: { warmup: { requests: 1_000, seconds: 1 }, measure: { requests: 20_000, seconds: 4 } },
  rotations: 5,
  /** Shorter than the DNS TTL (5 s by default), so that no cache entry expires during a round. */
  round: { warmup: { requests: 1_000_000, seconds: 0.5 }, measure: { requests: 10_000_000, seconds: 3 } } satisfies { warmup: Phase; measure: Phase },
  target: { ceiling: 0.5, doh: 0.9 },
}

/** The DNS TTL, which is also how long the discovery cache keeps an entry (the server has this process' environment). */
const TTL_MS = parseConfig(process.env).dnsTtl * 1000
const RETENTION_SECONDS = parseConfig(process.env).changeLogRetentionSeconds
const CONSTANT = JSON.stringify(CONSTANT_ANSWER)

export const leases: Scenario = {
  name: 'leases',
  run: async (ctx) => {
    const { namespace, bound } = LEASES
    const group = `${fmt(LEASES.leases)} leases`
    const seeded = await seed(ctx)
    const zone = await seedZone(ctx)
    const base = `${ctx.server.url}/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`
    const covers = (i: number) => i % bound.leaseStride === 0 && i / bound.leaseStride < bound.pods
    const order = shuffled(Array.from({ length: LEASES.leases }, (_, i) => i), 14)
    let cursor = 0
    // The next lease of the shuffled list: 16 in flight are 16 different leases.
    const next = (timed?: (ms: number) => void): Shot => {
      const i = order[cursor++ % order.length]!
      return renewal(base, i, timed && covers(i) ? timed : undefined)
    }
    const existing = (before: number, after: number) => `${fmt(LEASES.leases)} leases, ${before === after ? fmt(before) : `${fmt(before)}→${fmt(after)}`} pods`

    await measure(ctx, {
      group,
      scenario: 'GET /bench/constant',
      namespace,
      ceiling: true,
      existing,
      ...LEASES.constant,
      next: () => ({ url: `${ctx.server.url}/bench/constant`, verify: (_status, text) => (text === CONSTANT ? undefined : `unexpected answer ${text}`) }),
    })

    // Renewals, 16 in flight; the database's growth over them (warm-up included).
    const start = await sizes(ctx)
    const covering: number[] = []
    const scenario = 'PATCH leases/{name} (renewTime)'
    const renewed = await measure(ctx, { group, scenario, namespace, existing, ...LEASES.renew, warmupNext: () => next(), next: () => next((t) => covering.push(t)) })
    const r = renewed.row.result
    let renewals = r.ok + r.warmupRequests - r.warmupErrors
    if (renewals < LEASES.growthRenewals) {
      const more = await runLoad({ concurrency: ctx.concurrency, warmup: { requests: 0, seconds: 0 }, measure: { requests: LEASES.growthRenewals - renewals, seconds: 300 }, next: () => next() })
      if (more.errors) ctx.report.problem(`leases: ${more.errors} failed renewals while topping up the growth measurement (${more.errorSamples[0]})`)
      renewals += more.ok
      ctx.log(`topped up the growth measurement with ${fmt(more.ok)} renewals`)
    }
    const end = await sizes(ctx)

    // DoH over the doh zone, rotating without and with paced renewals: first from this server,
    // then from a second server process on the same file while the paced requests still go to this one.
    const dns = dohQueries(zone)
    const names = order.map(leaseName)
    const arrangements: Arrangement[] = []
    for (const second of [false, true]) {
      const answering = second ? await startServer({ dbPath: ctx.server.dbPath }) : ctx.server
      try {
        const rounds: Arrangement = { second, quiet: [], busy: [], constant: [] }
        for (let k = 0; k < LEASES.rotations; k++) {
          rounds.quiet.push(await dohRound(ctx, answering, dns))
          // The paced renewals continue the shuffled list where the rows before left it.
          const round = await dohRound(ctx, answering, dns, { kind: 'renewal', base, names, from: cursor })
          cursor += round.pacedSent
          rounds.busy.push(round)
          rounds.constant.push(await dohRound(ctx, answering, dns, { kind: 'get', url: `${ctx.server.url}/bench/constant`, expect: CONSTANT }))
        }
        arrangements.push(rounds)
      } finally {
        if (second) {
          await answering.stop()
          if (answering.stderr.length) ctx.report.problem(`leases: the second server process wrote to stderr: ${answering.stderr.slice(0, 3).join(' | ')}`)
        }
      }
    }
    // What the paced requests cost when they come one at a time, as they do beside the queries.
    const single = { ...ctx, concurrency: 1 }
    const alone = { group, namespace, existing, transport: 'http' as const, ...LEASES.alone }
    const renewalAlone = await measure(single, { ...alone, scenario: `${scenario}, one at a time`, next: () => next() })
    const constantAlone = await measure(single, {
      ...alone,
      scenario: 'GET /bench/constant, one at a time',
      next: () => ({ url: `${ctx.server.url}/bench/constant`, verify: (_status, text) => (text === CONSTANT ? undefined : `unexpected answer ${text}`) }),
    })
    const leased = await leasedService(ctx, base)

    renewalSection(ctx, renewed.row, covering, seeded)
    growthSection(ctx, start, end, renewals, r.rps)
    interferenceSection(ctx, arrangements, dns.length, cpuPerRequest(renewed.row), { renewal: perRequest(renewalAlone.row), constant: perRequest(constantAlone.row) })
    ctx.report.section('Leases: the leased service across renewals of its leases', [
      `DNS A for ${bound.service}.${namespace} and ${leased.asked} picks of it, asked after a renewal of each of its ${fmt(bound.pods)} leases, then ` +
        `again after a second renewal of each, ${(leased.seconds).toFixed(1)} s apart: ${leased.loads} database read(s) of the discovery cache in between ` +
        `(must be 0); ${leased.picked}/${leased.asked} picks answered one of its pods.`,
    ])
    if (leased.seconds * 1000 >= TTL_MS) ctx.report.note(`leases: the leased-service check took longer than the DNS TTL, so its reads may include expiries`)
    else if (leased.loads !== 0) ctx.report.problem(`leases: renewing the leased service's leases made the discovery cache read the database ${leased.loads} time(s)`)
  },
}

/** A renewal of lease `i`: a merge patch of renewTime (now), checked in the answer. */
export function renewal(base: string, i: number, timed?: (ms: number) => void): Shot {
  const renewTime = microTimeOf(new Date())
  return {
    method: 'PATCH',
    url: `${base}/${leaseName(i)}`,
    headers: { 'content-type': 'application/merge-patch+json' },
    body: JSON.stringify({ spec: { renewTime } }),
    verify: (status, text) => {
      if (status !== 200) return `expected 200, got ${status}`
      const got = (JSON.parse(text) as { spec?: { renewTime?: string } }).spec?.renewTime
      return got === renewTime ? undefined : `renewTime is ${got}, expected ${renewTime}`
    },
    ...(timed ? { timed } : {}),
  }
}

/** Sends one shot with fetch; the problem with its answer, if any. */
async function send(shot: Shot): Promise<string | undefined> {
  try {
    const res = await fetch(shot.url, { method: shot.method ?? 'GET', ...(shot.headers ? { headers: shot.headers } : {}), ...(shot.body !== undefined ? { body: shot.body } : {}) })
    const text = await res.text()
    if (!res.ok) return `answered ${res.status}: ${text.slice(0, 200)}`
    return shot.verify?.(res.status, text)
  } catch (e) {
    return (e as Error).message
  }
}

async function seed(ctx: BenchContext): Promise<Seeded> {
  const { namespace, bound } = LEASES
  const call = ctx.server.call
  await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } })
  const t0 = performance.now()
  for (let start = 0; start < LEASES.leases; start += LEASES.seedChunk) {
    await call('POST', '/bench/seed-leases', { namespace, start, count: Math.min(LEASES.seedChunk, LEASES.leases - start), durationSeconds: LEASES.durationSeconds })
  }
  const leaseSeconds = (performance.now() - t0) / 1000
  ctx.log(`seeded ${fmt(LEASES.leases)} leases in ${leaseSeconds.toFixed(1)} s`)
  const t1 = performance.now()
  const spec = { selector: { group: groupName(0) }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] }
  await call('POST', `/api/v1/namespaces/${namespace}/services`, { metadata: { name: bound.service }, spec })
  await call('POST', '/bench/import-leased', { namespace, start: 0, count: bound.pods, ipBlock: bound.ipBlock, groupSize: bound.pods, leaseStride: bound.leaseStride })
  const podSeconds = (performance.now() - t1) / 1000
  const pods = (await ctx.server.stats(namespace)).pods
  if (pods !== bound.pods) throw new Error(`namespace ${namespace} holds ${pods} pods, expected ${bound.pods}`)
  return { leaseSeconds, podSeconds }
}

type Seeded = { leaseSeconds: number; podSeconds: number }
type Sizes = { stats: ServerStats; log: ChangeLogSize }

/** How long `sizes` waits for the WAL file to be emptied. */
const EMPTY_WAIT_MS = 5_000
/** SQLite's page size, which the registry does not change. */
const PAGE_BYTES = 4096

/**
 * The database's sizes once the WAL file is empty: the checkpoint thread empties one past
 * CHECKPOINT_PAGES when nothing is written (the bench server writes nothing on its own), so
 * the database file then holds everything written, and a WAL left large by the last burst
 * of writes does not count as growth. A smaller WAL is left as it is, and counted.
 */
async function sizes(ctx: BenchContext): Promise<Sizes> {
  const until = performance.now() + EMPTY_WAIT_MS
  let stats = await ctx.server.stats(LEASES.namespace)
  while (stats.walBytes >= CHECKPOINT_PAGES * PAGE_BYTES && performance.now() < until) {
    await new Promise((r) => setTimeout(r, 100))
    stats = await ctx.server.stats(LEASES.namespace)
  }
  if (stats.walBytes >= CHECKPOINT_PAGES * PAGE_BYTES) ctx.report.problem(`leases: the WAL still held ${stats.walBytes} bytes ${EMPTY_WAIT_MS} ms after the last write`)
  return { stats, log: await ctx.server.call<ChangeLogSize>('GET', '/bench/changes') }
}

/** A DoH round: its load, the discovery cache's database reads during it, the paced requests/s sent meanwhile, and whether it outlasted the TTL (then its reads may include expiries). */
type Round = { result: LoadResult; loads: number; pacedPerSecond: number; pacedSent: number; late: boolean; cpuMicros: number; machineBusy: number }
/** The DoH rounds of one arrangement: the queries answered by the server taking the paced requests, or by a second server process on the same file. */
type Arrangement = { second: boolean; quiet: Round[]; busy: Round[]; constant: Round[] }
/** What requests sent one at a time cost the server, per request. */
type Alone = { renewal: PerRequest; constant: PerRequest }
/** Server CPU (all its threads), event-loop time and the sender's CPU (the load generator's process) per request, µs. */
type PerRequest = { cpu: number; loop: number; sender: number }

/** When the doh zone's cache entries were last loaded afresh (performance.now()): the first and the last load. */
let primed = { from: Number.NEGATIVE_INFINITY, to: Number.NEGATIVE_INFINITY }

/**
 * One round of DoH load (node:http, 16 in flight), with requests (renewals, or the
 * constant handler) paced alongside when `alongside` is given. Once the entries of the last round have expired (the DNS TTL), the
 * round first asks every query once, checking the answers, so that every cache entry it
 * reads is loaded afresh; the round is shorter than the TTL, so a database read during it
 * is an entry something dropped.
 */
async function dohRound(ctx: BenchContext, answering: BenchServer, dns: { svc: ZoneService; path: string }[], alongside?: PacedShots): Promise<Round> {
  const wait = primed.to + TTL_MS + 50 - performance.now()
  if (wait > 0) await new Promise((r) => setTimeout(r, wait))
  const from = performance.now()
  const wrong = await checkAnswers(answering.url, 'HTTP/1.1', dns)
  primed = { from, to: performance.now() }
  if (wrong.length) ctx.report.problem(`leases: ${wrong.length} wrong DoH answers before a round (${wrong[0]})`)
  const before = await answering.stats(LEASES.namespace)
  const renewals = alongside ? await paced(alongside, LEASES.paced.perSecond, LEASES.paced.loops) : undefined
  let result: LoadResult
  let sent: PacedOutcome | undefined
  const ticks = systemTicks()
  try {
    result = await runLoad({ concurrency: ctx.concurrency, transport: 'http', ...LEASES.round, next: (n) => ({ url: answering.url + dns[n % dns.length]!.path }) })
  } finally {
    sent = await renewals?.stop()
  }
  const machine = machineCores(ticks, systemTicks())
  const after = await answering.stats(LEASES.namespace)
  const cpuMicros = after.cpuUserMicros + after.cpuSystemMicros - before.cpuUserMicros - before.cpuSystemMicros
  if (sent?.problems.length) ctx.report.problem(`leases: ${sent.problems.length} paced requests failed (${sent.problems[0]})`)
  return { result, loads: after.discoveryLoads - before.discoveryLoads, pacedPerSecond: sent ? sent.sent / sent.seconds : 0, pacedSent: sent?.sent ?? 0, late: performance.now() - primed.from >= TTL_MS, cpuMicros, machineBusy: machine?.busy ?? NaN }
}

/**
 * Renews every lease of the leased service, then asks its DNS answer and picks; then
 * renews them all again and asks again. Returns the discovery cache's reads between the
 * two asks, and how far apart they were (entries older than the TTL are read again).
 */
async function leasedService(ctx: BenchContext, base: string): Promise<{ loads: number; seconds: number; picked: number; asked: number }> {
  const { namespace, bound } = LEASES
  const service = await ctx.server.call<{ spec: { clusterIP: string } }>('GET', `/api/v1/namespaces/${namespace}/services/${bound.service}`)
  const svc = { name: bound.service, fqdn: `${bound.service}.${namespace}.svc.cluster.local`, headless: false, addresses: [service.spec.clusterIP] }
  const ips = new Set(Array.from({ length: bound.pods }, (_, i) => podIP(bound.ipBlock, i)))
  const indices = Array.from({ length: bound.pods }, (_, i) => i * bound.leaseStride)
  let picked = 0
  let asked = 0
  const renewAll = () =>
    inPool(indices, ctx.concurrency, async (i) => {
      const problem = await send(renewal(base, i))
      if (problem) ctx.report.problem(`leases: renewing ${leaseName(i)} failed: ${problem}`)
    })
  const ask = async () => {
    const wrong = await checkAnswers(ctx.server.url, 'HTTP/1.1', dohQueries([svc]))
    if (wrong.length) ctx.report.problem(`leases: DNS for ${svc.fqdn}: ${wrong.join('; ')}`)
    for (let k = 0; k < 10; k++, asked++) {
      const pick = await fetch(`${ctx.server.url}/api/v1/namespaces/${namespace}/services/${bound.service}/pick`)
      const body = (await pick.json()) as { address?: string }
      if (pick.status === 200 && body.address && ips.has(body.address)) picked++
    }
  }
  await renewAll()
  const t0 = performance.now()
  await ask()
  const before = (await ctx.server.stats(namespace)).discoveryLoads
  await renewAll()
  await ask()
  const after = (await ctx.server.stats(namespace)).discoveryLoads
  return { loads: after - before, seconds: (performance.now() - t0) / 1000, picked, asked }
}

/** The renewals row beside its ceiling, with the latencies of the renewals of leases that cover a pod (`covering`, ms). */
function renewalSection(ctx: BenchContext, row: Row, covering: number[], seeded: Seeded): void {
  const r = row.result
  const c = summarize(Float64Array.from(covering))
  const ratio = ctx.report.ratio(row)
  const ceiling = ctx.report.ceilingOf(row.group, row.transport)?.result.rps ?? NaN
  ctx.report.section(`Leases: renewals of ${fmt(LEASES.leases)} leases`, [
    ...renderTable(
      ['renewals (16 in flight)', 'renewals/s', 'ceiling req/s', 'ratio to ceiling', 'target', 'p50 ms', 'p99 ms', 'renewals', 'server CPU ms each'],
      [
        ['every lease', fmt(Math.round(r.rps)), fmt(Math.round(ceiling)), `${(ratio ?? NaN).toFixed(2)}×`, `≥ ${LEASES.target.ceiling}×`, ms(r.latency.p50), ms(r.latency.p99), fmt(r.requests), cpuPerRequest(row).toFixed(2)],
        [`of them, leases covering a pod (${fmt(LEASES.bound.pods)})`, '', '', '', '', ms(c.p50), ms(c.p99), fmt(covering.length), ''],
      ],
    ).split('\n'),
    `Seeding: ${fmt(LEASES.leases)} leases (holderIdentity, leaseDurationSeconds ${LEASES.durationSeconds}, renewTime now) created one by one in-process ` +
      `through the registry, ${fmt(LEASES.seedChunk)} per request, in ${seeded.leaseSeconds.toFixed(1)} s (${fmt(Math.round(LEASES.leases / seeded.leaseSeconds))}/s); ` +
      `then service ${LEASES.bound.service} over ${fmt(LEASES.bound.pods)} pods, pod i bound to lease i × ${LEASES.bound.leaseStride}, in ${seeded.podSeconds.toFixed(1)} s.`,
    `A renewal is PATCH …/leases/{name}, content-type application/merge-patch+json, {"spec":{"renewTime":"<MicroTime now>"}}, over a shuffled ` +
      `list of every lease (each renewed at most once per ${fmt(LEASES.leases)}); the answer must be 200 with renewTime as sent. The ceiling is ` +
      `GET /bench/constant on the same server with the same load generator (global fetch), just before. Most leases had lapsed when renewed ` +
      `(${LEASES.durationSeconds} s leases, renewed about once a pass): the bench server runs no sweep, so no pod was marked and a renewal restored none.`,
  ])
}

function growthSection(ctx: BenchContext, start: Sizes, end: Sizes, renewals: number, rps: number): void {
  const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`
  const rows: [string, number, number, boolean][] = [
    ['database file', start.stats.dbBytes, end.stats.dbBytes, true],
    ['WAL', start.stats.walBytes, end.stats.walBytes, true],
    ['database + WAL', start.stats.dbBytes + start.stats.walBytes, end.stats.dbBytes + end.stats.walBytes, true],
    ['change-log rows', start.log.rows, end.log.rows, false],
    ['change-log objects (length of object + old_object)', start.log.objectBytes, end.log.objectBytes, true],
    ['change-log table + index pages (dbstat)', start.log.changesBytes, end.log.changesBytes, true],
    ['leases table + indexes pages (dbstat)', start.log.leasesBytes, end.log.leasesBytes, true],
  ]
  const per = (d: number) => (Math.abs(d / renewals) >= 10 ? fmt(Math.round(d / renewals)) : (d / renewals).toFixed(2))
  const events = end.log.rows - start.log.rows
  const perEvent = (end.log.changesBytes - start.log.changesBytes) / events
  const kept = (rate: number, what: string) => [what, fmt(Math.round(rate)), fmt(Math.round(rate * RETENTION_SECONDS)), mb(perEvent * rate * RETENTION_SECONDS)]
  if (events !== renewals) ctx.report.problem(`leases: ${fmt(renewals)} renewals added ${fmt(events)} change-log rows, expected one each`)
  ctx.report.section(`Leases: database growth over ${fmt(renewals)} renewals`, [
    ...renderTable(
      ['', 'before', 'after', 'per renewal', 'per million renewals'],
      rows.map(([name, a, b, bytes]) => [name, bytes ? mb(a) : fmt(a), bytes ? mb(b) : fmt(b), bytes ? `${per(b - a)} B` : per(b - a), bytes ? mb((b - a) * (1e6 / renewals)) : fmt(Math.round((b - a) * (1e6 / renewals)))]),
    ).split('\n'),
    `Steady state: the change log keeps CHANGE_LOG_RETENTION_SECONDS (${RETENTION_SECONDS} s) of events, one per renewal, at ${fmt(Math.round(perEvent))} bytes ` +
      `of table and index pages each (plus what arrives between two compactions); the leases table is updated in place:`,
    ...renderTable(['renewal rate', 'renewals/s', 'events kept', 'change log'], [kept(LEASES.paced.perSecond, 'paced (the DoH rounds)'), kept(rps, 'the most measured here (16 in flight)')]).split('\n'),
    `The bench server runs no compaction, so the log above only grows. Pages that compaction frees stay in the file for reuse, so the file settles at ` +
      `about its largest log plus the leases table. Both sizes are read once the checkpoint thread has emptied the WAL file (it does when nothing is ` +
      `written; under writes it holds up to about 41 MB, reused from its start).`,
  ])
}

/**
 * What bounds the ratio from a second process: the machine. If the queries are to keep
 * the target of their rate, the paced requests get the cores the rounds alone left idle
 * and the target's share of what the queries used (assuming the queries' CPU goes with
 * their rate); per paced request, beside what one costs its server and its sender one at
 * a time, and what the second process spent per renewal reading the change log.
 */
function secondProcess(m: { busyAlone: number; busyBeside: number; renewed: number; ceiling: number; perRenewal: number }, alone: Alone): string {
  const cores = cpus().length
  const spare = cores - LEASES.target.doh * m.busyAlone
  const perPaced = (spare / LEASES.paced.perSecond) * 1e6
  const cost = (r: PerRequest) => `${fmt(Math.round(r.cpu))} + ${fmt(Math.round(r.sender))} µs`
  return (
    ` From a second process (measured ${m.renewed.toFixed(2)}× beside renewals and ${m.ceiling.toFixed(2)}× beside constant GETs) no loop is shared, and the machine is what stops 0.9×: ` +
    `alone, the rounds kept ${m.busyAlone.toFixed(2)} of its ${cores} cores busy (the query server and the load generator; ${m.busyBeside.toFixed(2)} beside renewals), ` +
    `so keeping ${LEASES.target.doh}× of their rate would leave ${spare.toFixed(2)} cores to ${fmt(LEASES.paced.perSecond)} paced requests/s: ` +
    `${fmt(Math.round(perPaced))} µs of CPU each, all told, against (server + sender, one at a time) ${cost(alone.constant)} for a constant GET and ` +
    `${cost(alone.renewal)} for a renewal, and ${fmt(Math.round(m.perRenewal))} µs per renewal that the second process spent besides its queries ` +
    `(reading the renewals from the change log: an estimate, by the difference of its CPU beside renewals and alone, the median over the rotations; ` +
    `renewals it had not yet read when a round ended are counted but their reading is not, so it runs low). The CPU model explains why 0.9× is out ` +
    `of reach, not the whole loss. Both servers run without \`npm start\`'s once-a-second timer, so a query waits for a heartbeat write of its own ` +
    `about every 2.5 s (lease-book.ts \`fresh\`), which beside renewals waits for the write lock too.`
  )
}

/** The middle value (the upper one of an even count). */
function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? NaN
}

/** Milliseconds of server CPU per successful request of a row. */
const cpuPerRequest = (row: Row) => serverMicrosPerRequest(row) / 1000
/** A row's server CPU, event-loop time, and the load generator's CPU per request, µs. */
const perRequest = (row: Row): PerRequest => ({ cpu: serverMicrosPerRequest(row), loop: ((row.serverElu ?? NaN) * 1e6) / row.result.rps, sender: (row.result.clientCores * 1e6) / row.result.rps })

function interferenceSection(ctx: BenchContext, arrangements: Arrangement[], services: number, cpuPerRenewal: number, alone: Alone): void {
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
  const rows: string[][] = []
  const measured: { second: boolean; renewed: number; ceiling: number; rate: number; busyAlone: number; busyBeside: number; perRenewal: number }[] = []
  let perQuery = NaN
  for (const { second, quiet, busy, constant } of arrangements) {
    const where = second ? 'second process' : 'same process'
    /** The median (and range) over the rotations of each rotation's rate beside `rounds` over its rate without. */
    const ratio = (rounds: Round[]) => {
      const ratios = rounds.map((b, k) => b.result.rps / quiet[k]!.result.rps).sort((a, b) => a - b)
      const middle = median(ratios)
      return { median: middle, text: `${middle.toFixed(2)}× (${ratios[0]!.toFixed(2)}–${ratios[ratios.length - 1]!.toFixed(2)})` }
    }
    const errors = [...quiet, ...busy, ...constant].reduce((sum, x) => sum + x.result.errors, 0)
    if (errors) ctx.report.problem(`leases (${where}): ${errors} failed DoH queries in the rounds with and without renewals`)
    const loads = [quiet, busy, constant].map((rounds) => mean(rounds.map((x) => x.loads)))
    const late = [...quiet, ...busy, ...constant].filter((x) => x.late).length
    if (late) ctx.report.note(`leases (${where}): ${late} DoH round(s) outlasted the DNS TTL, so their cache reads include expiries`)
    else if (loads[1]! > loads[0]!) ctx.report.problem(`leases (${where}): the discovery cache read the database ${loads[1]!.toFixed(1)} times per round with renewals, ${loads[0]!.toFixed(1)} without`)
    const rate = mean(busy.map((x) => x.pacedPerSecond))
    const constantRate = mean(constant.map((x) => x.pacedPerSecond))
    const qps = [quiet, busy, constant].map((rounds) => mean(rounds.map((x) => x.result.rps)))
    const renewed = ratio(busy)
    const ceiling = ratio(constant)
    // A DoH query's CPU in the answering server in the rounds alone (warm-up included, as in the stats taken around it).
    const queried = (x: Round) => x.result.requests + x.result.warmupRequests
    const queryCpu = mean(quiet.map((x) => x.cpuMicros / Math.max(1, queried(x))))
    if (!second) perQuery = queryCpu
    // What else the answering server spent beside renewals, per renewal (by the difference: beside the queries' own CPU at their cost alone).
    const perRenewal = median(busy.map((x) => (x.cpuMicros - queried(x) * queryCpu) / Math.max(1, x.pacedSent)))
    const machine = [quiet, busy, constant].map((rounds) => mean(rounds.map((x) => x.machineBusy)))
    measured.push({ second, renewed: renewed.median, ceiling: ceiling.median, rate, busyAlone: machine[0]!, busyBeside: machine[1]!, perRenewal })
    const label = second ? 'DoH from a second process, ' : ''
    const busyCores = machine.map((cores) => cores.toFixed(2))
    const p99 = [quiet, busy, constant].map((rounds) => ms(mean(rounds.map((x) => x.result.latency.p99))))
    rows.push([`${label}beside renewals`, fmt(Math.round(qps[0]!)), fmt(Math.round(qps[1]!)), fmt(Math.round(rate)), renewed.text, `≥ ${LEASES.target.doh}×`, `${p99[0]} / ${p99[1]}`, `${loads[0]!.toFixed(1)} / ${loads[1]!.toFixed(1)}`, `${busyCores[0]} / ${busyCores[1]}`])
    rows.push([`${label}beside GET /bench/constant (ceiling)`, fmt(Math.round(qps[0]!)), fmt(Math.round(qps[2]!)), fmt(Math.round(constantRate)), ceiling.text, '', `${p99[0]} / ${p99[2]}`, `${loads[0]!.toFixed(1)} / ${loads[2]!.toFixed(1)}`, `${busyCores[0]} / ${busyCores[2]}`])
    ctx.log(`DoH (${where}): ${Math.round(qps[0]!)}/s alone, ${Math.round(qps[1]!)}/s beside ${rate.toFixed(0)} renewals/s, ${Math.round(qps[2]!)}/s beside ${constantRate.toFixed(0)} constant GETs/s`)
  }
  const same = measured.find((m) => !m.second)!
  const other = measured.find((m) => m.second)
  const share = (r: PerRequest) => (r.loop * LEASES.paced.perSecond) / 1e6
  const left = (r: PerRequest) => `${Math.max(0, 1 - share(r)).toFixed(2)}×`
  ctx.report.section('Leases: discovery while leases are renewed', [
    ...renderTable([`DoH A queries (${services} services)`, 'q/s alone', 'q/s beside', 'paced req/s', 'ratio: median (range)', 'target', 'DoH p99 ms, alone / beside', 'cache reads/round, alone / beside', 'machine busy, alone / beside'], rows).split('\n'),
    `Rounds rotate (alone; beside renewals; beside constant GETs) ${LEASES.rotations} times, ${LEASES.round.measure.seconds} s each after ${LEASES.round.warmup.seconds} s warm-up, ` +
      `16 DoH requests in flight (node:http) over the doh zone; the paced requests go to this server from ${LEASES.paced.loops} loops paced together at ` +
      `${fmt(LEASES.paced.perSecond)}/s (node:http from a worker thread of the load generator, so that they leave the loop sending the queries alone; renewals continue the shuffled list). ` +
      `In the first two rows the queries go to the same server and share its one event loop with the paced requests; in the last two` +
      ` ("from a second process") a second server process on the same database file answers them (bench/server.ts again, the registry as \`npm start\` builds ` +
      `it but without its once-a-second heartbeat and sweep; its caches follow the change log the first one writes), so that they share no event loop with the ` +
      `paced requests: the second process still reads each renewal from the change log, and the machine's cores are shared by all. ` +
      `The ratio is the median over the rotations of each rotation's rate beside the paced requests over its rate alone (the range beside it); q/s, req/s and the p99 (of each round's queries) are means over the rotations; ` +
      `machine busy is the CPU the whole machine used during the rounds (from /proc/stat: servers, load generator and the rest), in cores of its ${cpus().length}. ` +
      `Each constant row is the ceiling of its arrangement's ratio on this machine: the same number of the cheapest requests the server answers ` +
      `(renewals reached ${(same.renewed / same.ceiling).toFixed(2)}× of it from the same process${other ? `, ${(other.renewed / other.ceiling).toFixed(2)}× from a second` : ''}). ` +
      `Each round starts once the entries of the one before have expired (the DNS TTL, ${TTL_MS / 1000} s), asks every query once (answers checked), ` +
      `and is shorter than the TTL: a cache read during it is an entry something dropped, so equal reads (0) with and without renewals mean the ` +
      `renewals dropped no entry. ` +
      `What bounds the ratio in one process: the paced requests arrive one at a time, so each pays an HTTP exchange and (a renewal) a commit of its own. ` +
      `Sent one at a time (node:http), a renewal cost the server ${fmt(Math.round(alone.renewal.cpu))} µs of CPU, all its threads ` +
      `(16 in flight over fetch: ${fmt(Math.round(cpuPerRenewal * 1000))} µs), and GET /bench/constant ${fmt(Math.round(alone.constant.cpu))} µs; a DoH query ` +
      `${fmt(Math.round(perQuery))} µs. Of the event loop, one at a time, a renewal took ${fmt(Math.round(alone.renewal.loop))} µs and a constant GET ` +
      `${fmt(Math.round(alone.constant.loop))} µs, so ${fmt(LEASES.paced.perSecond)} of them per second take ${share(alone.renewal).toFixed(2)} and ` +
      `${share(alone.constant).toFixed(2)} of the loop; queries that kept the loop busy alone would keep about ${left(alone.renewal)} and ` +
      `${left(alone.constant)} of their rate (measured ${same.renewed.toFixed(2)}× and ${same.ceiling.toFixed(2)}×). ` +
      `The machine was ${same.busyBeside.toFixed(2)} cores busy beside renewals against ${same.busyAlone.toFixed(2)} alone` +
      (same.busyBeside < same.busyAlone ? ': in one process the loop bounds the ratio, not the machine.' : '.') +
      (other ? secondProcess(other, alone) : '') +
      measured
        .filter((m) => m.rate < 0.95 * LEASES.paced.perSecond)
        .map(
          (m) =>
            ` The paced loops reached only ${fmt(Math.round(m.rate))} renewals/s beside the queries ${m.second ? 'from a second process' : 'in one process'}: ` +
            (m.second
              ? `the machine was ${m.busyBeside.toFixed(2)} of its ${cpus().length} cores busy.`
              : `a renewal costs the server ${cpuPerRenewal.toFixed(2)} ms of CPU (the 16-in-flight row), so ${fmt(LEASES.paced.perSecond)}/s would take ` +
                `${((cpuPerRenewal * LEASES.paced.perSecond) / 1000).toFixed(2)} cores of its one event loop.`),
        )
        .join(''),
  ])
}
