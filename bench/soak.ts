/**
 * The soak: BENCH_SOAK_MINUTES (default 10; fractions allowed; 0 skips it) of mixed load
 * against `npm start`'s own server (bench/soak-server.ts: a fresh process and database,
 * with the reaper, the lease sweep and the change log's compaction running), asking
 * whether anything degrades with time: errors, memory, latency drift.
 *
 * Fixtures, in namespace `soak`: 100 leases; 30 stable pods, each bound to one of them,
 * behind service `stable` (ClusterIP); churn pods behind the headless service `churn`.
 * The load, from paced closed loops (one request in flight per loop, at most a set rate,
 * so that on a 2-core machine the load generator does not starve the server):
 *
 * - pod writes: churn pods created, their readiness flipped (PUT …/status), deleted;
 * - lease renewals: merge PATCHes of renewTime, round robin over the 100 leases, so each
 *   is renewed well within its duration (a stable pod whose lease lapses is an error);
 * - DoH: wire-format GETs (A, AAAA and SRV of `stable`, A and SRV of `churn`) and the
 *   JSON form, every answer checked;
 * - picks of `stable`, each answer one of its pods;
 * - lists: the namespace's pods page by page (limit 25, following `continue`), and every
 *   pod unpaged (all namespaces), each checked to hold every stable pod once;
 * - watches (bench/soak-watch.ts): the namespace's pods, its pods of one label selection,
 *   and its leases, each checked for order, gaps against the writes made, and its end
 *   state against a list;
 * - GET /version, the peer: a constant answer through the same server and middleware,
 *   whose drift is the machine's and the HTTP stack's, not the registry's.
 *
 * The report: p50/p99 per operation per bucket (a minute; a third of a soak shorter than
 * three minutes), the drift (last bucket's p99 over the first's), the server's RSS at the
 * start, the end and its peak (/proc/<pid>/status), CPU per bucket, and errors by kind.
 */
import { performance } from 'node:perf_hooks'
import { decodeMessage, RCODE, TYPE } from '../worker/dns/wire'
import { LEASE_ANNOTATION, microTimeOf } from '../worker/registry/lease'
import { dohPath, inPool } from './doh'
import { leaseBody, leaseName, podBody, podIP, statusBody, type PodRef } from './fixtures'
import { cpuOf } from './h2load'
import { systemTicks, type BenchContext, type Scenario } from './scenario'
import { databaseBytes, memoryOf, startSoakServer, type Memory, type SoakServer } from './soak-server'
import { mib, soakSection, type Sample } from './soak-report'
import { paced, send, Timeline } from './soak-timeline'
import { SoakWatch } from './soak-watch'

export const SOAK = {
  namespace: 'soak',
  minutes: soakMinutes(process.env.BENCH_SOAK_MINUTES),
  /** Not measured: the first 10% of the soak, at most this long. */
  warmupSeconds: 15,
  stable: { pods: 30, ipBlock: 120 },
  churn: { ipBlock: 124, perLoop: 25 },
  leases: { count: 100, durationSeconds: 15 },
  /** Requests (or, for writes and paged lists, steps) per second, and the loops that send them. */
  rates: {
    writes: { perSecond: 16, loops: 2 },
    renewals: { perSecond: 40, loops: 2 },
    doh: { perSecond: 200, loops: 4 },
    dohJson: { perSecond: 30, loops: 1 },
    picks: { perSecond: 100, loops: 2 },
    pagedLists: { perSecond: 1, loops: 1 },
    unpagedLists: { perSecond: 1, loops: 1 },
    baseline: { perSecond: 20, loops: 1 },
  },
  pageSize: 25,
  /** How long the watches may take to deliver the last writes once the load stops. */
  settleMs: 10_000,
}

/** BENCH_SOAK_MINUTES: a non-negative number of minutes, 10 without it. */
export function soakMinutes(text: string | undefined): number {
  if (text === undefined || text.trim() === '') return 10
  const minutes = Number(text)
  if (!Number.isFinite(minutes) || minutes < 0) throw new Error(`BENCH_SOAK_MINUTES must be a non-negative number of minutes, got ${JSON.stringify(text)}`)
  return minutes
}

/** The longest the soak takes beyond its minutes: start, seeding, warm-up, settling and stopping. */
export const SOAK_OVERHEAD_SECONDS = 120

const FRONTEND = 'role=churn,tier=frontend'

/** The peer of every operation: the cheapest request through the same server, app and middleware (a constant answer). */
export const BASELINE = 'GET /version (baseline)'

/** The operations timed, in the order the report shows them. */
const OPS = [
  'pod create',
  'pod readiness flip',
  'pod delete',
  'lease renewal',
  'DoH wire',
  'DoH JSON',
  'pick',
  `list page (limit ${SOAK.pageSize})`,
  'list unpaged (all namespaces)',
  BASELINE,
  'watch delivery (pods)',
]

const fmtRate = (r: { steps: number; seconds: number }) => `${(r.steps / r.seconds).toFixed(1)}/s`

export const soak: Scenario = {
  name: 'soak',
  run: async (ctx) => {
    if (SOAK.minutes === 0) {
      ctx.report.note('soak: skipped (BENCH_SOAK_MINUTES=0)')
      return
    }
    const server = await startSoakServer()
    ctx.log(`soak server pid ${server.pid} (worker/node.ts) listening on ${server.url}`)
    try {
      await run(ctx, server)
    } finally {
      await server.stop()
      const lines = server.stderr
      ctx.report.note(lines.length ? `soak: the server wrote ${lines.length} line(s) to stderr; the first: ${lines.slice(0, 5).join(' | ')}` : 'soak: the server wrote nothing to stderr')
    }
  },
}

/** The resourceVersions of the writes the load made, by the watch that must see them. */
interface Written {
  pods: Set<number>
  frontend: Set<number>
  leases: Set<number>
}

async function run(ctx: BenchContext, server: SoakServer): Promise<void> {
  const seconds = SOAK.minutes * 60
  const warmupSeconds = Math.min(SOAK.warmupSeconds, seconds / 10)
  const buckets = seconds >= 180 ? Math.ceil(seconds / 60) : 3
  const timeline = new Timeline((seconds * 1000) / buckets, buckets, OPS)
  const idle = memoryOf(server.pid)
  const fixtures = await seed(server)
  ctx.log(`soak: seeded ${SOAK.stable.pods} stable pods, ${SOAK.leases.count} leases; ${SOAK.minutes} min of mixed load after ${warmupSeconds.toFixed(0)} s of warm-up`)

  const written: Written = { pods: new Set(), frontend: new Set(), leases: new Set() }
  // Watch delivery: from a write's answer to its event on the pods watch, whichever of the two arrives second.
  const answered = new Map<number, number>()
  const delivered = new Map<number, number>()
  const deliver = (rv: number, at: number, first: Map<number, number>, second: Map<number, number>) => {
    const other = first.get(rv)
    if (other === undefined) return second.set(rv, at)
    first.delete(rv)
    timeline.record('watch delivery (pods)', Math.max(0, Math.abs(at - other)), at)
  }
  const timeoutSeconds = Math.min(3600, Math.ceil(seconds + SOAK_OVERHEAD_SECONDS))
  const ns = `/api/v1/namespaces/${SOAK.namespace}`
  const watches = [
    new SoakWatch(timeline, 'pods', server.url, `${ns}/pods`, timeoutSeconds, (rv, at, type, name) => {
      deliver(rv, at, answered, delivered)
      if (name.startsWith('stable-')) timeline.error('lease lapsed: a stable pod changed', `${type} ${name} rv ${rv}: only the lease sweep writes stable pods`, at)
    }),
    new SoakWatch(timeline, 'pods (label selector)', server.url, `${ns}/pods?labelSelector=${encodeURIComponent(FRONTEND)}`, timeoutSeconds),
    new SoakWatch(timeline, 'leases', server.url, `/apis/coordination.k8s.io/v1/namespaces/${SOAK.namespace}/leases`, timeoutSeconds),
  ]
  try {
    for (const w of watches) await w.start()
    await loadAndCheck()
  } finally {
    for (const w of watches) await w.stop()
  }

  /** The load with the watches running, then the checks of what they saw, and the report. */
  async function loadAndCheck(): Promise<void> {
    const wrote = (answer: { text: string; at: number } | undefined, ref?: { n: number }) => {
      if (!answer) return
      const rv = Number((JSON.parse(answer.text) as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion)
      if (!Number.isSafeInteger(rv)) throw new Error(`a write answered without a resourceVersion: ${answer.text.slice(0, 200)}`)
      if (!ref) return written.leases.add(rv)
      written.pods.add(rv)
      if (ref.n % 4 === 0) written.frontend.add(rv)
      deliver(rv, answer.at, delivered, answered)
    }

    const samples: Sample[] = []
    const sample = () => samples.push(sampleOf(server))
    const sampler = setInterval(sample, 1000)
    const loops = startLoad(server.url, timeline, fixtures, wrote)
    let measuredFrom: Memory | undefined
    let reached: string[] = []
    try {
      await new Promise((r) => setTimeout(r, warmupSeconds * 1000))
      measuredFrom = memoryOf(server.pid)
      timeline.begin()
      sample()
      for (let b = 1; b <= buckets; b++) {
        await new Promise((r) => setTimeout(r, timeline.bucketMs))
        sample()
        ctx.log(`soak: ${b}/${buckets} done, ${timeline.errorCount} errors so far, RSS ${mib(memoryOf(server.pid)?.rss)}`)
      }
    } finally {
      clearInterval(sampler)
      reached = await Promise.all(loops.map(async (l) => `${l.name}: ${l.perSecond}/s from ${l.loops} loop(s), ${fmtRate(await l.stop())} reached`))
    }
    const end = memoryOf(server.pid)

    // Every write's event must have arrived, and each watch must hold what a list holds.
    const expected: [SoakWatch, Set<number>][] = [
      [watches[0]!, written.pods],
      [watches[1]!, written.frontend],
      [watches[2]!, written.leases],
    ]
    const watchLines: string[][] = []
    for (const [w, rvs] of expected) {
      const last = [...rvs].reduce((a, b) => Math.max(a, b), 0)
      if (!(await w.reached(last, SOAK.settleMs))) timeline.error(`watch ${w.name}: did not catch up`, `last event rv ${w.lastRv}, last write rv ${last}, after ${SOAK.settleMs} ms`)
      const missing = w.missing(rvs)
      if (missing.length) timeline.error(`watch ${w.name}: gap (a write that never arrived)`, `first rvs ${missing.slice(0, 10).join(', ')}`, undefined, missing.length)
      let differences = await w.differences()
      if (differences.length) {
        await new Promise((r) => setTimeout(r, 2000))
        differences = await w.differences()
      }
      if (differences.length) timeline.error(`watch ${w.name}: differs from a list`, `${differences.length} object(s): ${differences.slice(0, 3).join('; ')}`)
      watchLines.push([w.name, w.path, String(w.events), String(w.bookmarks), `${rvs.size - missing.length}/${rvs.size}`, String(missing.length), differences.length ? `${differences.length} differ` : 'equal', String(w.resumes), String(w.relists)])
    }

    soakSection(ctx, { timeline, samples, memory: { idle, start: measuredFrom, end }, watches: watchLines, warmupSeconds, steps: reached, baseline: BASELINE })
    if (timeline.errorCount) {
      const kinds = [...timeline.errors].map(([kind, e]) => `${kind}: ${e.count}`).join(', ')
      ctx.report.problem(`soak: ${timeline.errorCount} error(s) (${kinds})`)
    }
  }
}

interface Fixtures {
  clusterIP: string
  stableIPs: Set<string>
  stableNames: string[]
}

async function seed(server: SoakServer): Promise<Fixtures> {
  const { namespace, stable, leases } = SOAK
  const call = server.call
  await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } })
  const ports = [{ name: 'http', port: 80, targetPort: 'http' }]
  const svc = await call<{ spec: { clusterIP: string } }>('POST', `/api/v1/namespaces/${namespace}/services`, { metadata: { name: 'stable' }, spec: { selector: { role: 'stable' }, ports } })
  await call('POST', `/api/v1/namespaces/${namespace}/services`, { metadata: { name: 'churn' }, spec: { selector: { role: 'churn' }, clusterIP: 'None', ports } })
  const renewTime = microTimeOf(new Date())
  const indices = (n: number) => Array.from({ length: n }, (_, i) => i)
  await inPool(indices(leases.count), 4, (i) => call('POST', `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`, leaseBody(i, renewTime, leases.durationSeconds)))
  const stableNames: string[] = []
  const stableIPs = new Set<string>()
  await inPool(indices(stable.pods), 4, (i) => {
    const ref = { name: `stable-${i}`, ip: podIP(stable.ipBlock, i), ready: true }
    stableNames.push(ref.name)
    stableIPs.add(ref.ip)
    return call('POST', `/api/v1/namespaces/${namespace}/pods`, labelled(ref, i, 'stable', { [LEASE_ANNOTATION]: leaseName(i) }))
  })
  return { clusterIP: svc.spec.clusterIP, stableIPs, stableNames }
}

/** fixtures.ts' pod `i` as `ref`, with the label `role` and `annotations` added. */
function labelled(ref: PodRef, i: number, role: string, annotations: Record<string, string> = {}): Record<string, unknown> {
  const body = podBody(ref, i)
  const metadata = body.metadata as { labels: Record<string, string>; annotations?: Record<string, string> }
  metadata.labels = { ...metadata.labels, role }
  metadata.annotations = { ...metadata.annotations, ...annotations }
  return body
}

type Wrote = (answer: { text: string; at: number } | undefined, ref?: { n: number }) => void

/** Starts every load loop; each stops with its `stop`. */
function startLoad(base: string, timeline: Timeline, fixtures: Fixtures, wrote: Wrote): { name: string; perSecond: number; loops: number; stop: () => Promise<{ steps: number; seconds: number }> }[] {
  const { namespace, rates } = SOAK
  const ns = `${base}/api/v1/namespaces/${namespace}`
  const json = (method: string, body: unknown, type = 'application/json'): RequestInit => ({ method, headers: { 'content-type': type }, body: JSON.stringify(body) })

  // Pod writes: each loop keeps up to `perLoop` churn pods, creating, flipping and deleting them.
  let created = 0
  const pools: { ref: PodRef; n: number }[][] = Array.from({ length: rates.writes.loops }, () => [])
  const steps = pools.map(() => 0)
  const write = async (loop: number) => {
    const pool = pools[loop]!
    const step = steps[loop]!++
    const k = step % 6
    if (k === 0 || pool.length === 0 || (k === 5 && pool.length < SOAK.churn.perLoop)) {
      const n = created++
      const ref = { name: `churn-${n}`, ip: podIP(SOAK.churn.ipBlock, n), ready: n % 2 === 0 }
      const answer = await send(timeline, 'pod create', `${ns}/pods`, json('POST', labelled(ref, n, 'churn')))
      wrote(answer, { n })
      if (answer) pool.push({ ref, n })
    } else if (k === 5) {
      const { ref, n } = pool.shift()!
      wrote(await send(timeline, 'pod delete', `${ns}/pods/${ref.name}`, { method: 'DELETE' }), { n })
    } else {
      const entry = pool[(step * 7919) % pool.length]!
      entry.ref = { ...entry.ref, ready: !entry.ref.ready }
      wrote(await send(timeline, 'pod readiness flip', `${ns}/pods/${entry.ref.name}/status`, json('PUT', statusBody(entry.ref))), entry)
    }
  }

  let renewed = 0
  const renew = async () => {
    const i = renewed++ % SOAK.leases.count
    const renewTime = microTimeOf(new Date())
    const url = `${base}/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/${leaseName(i)}`
    const verify = (text: string) => {
      const got = (JSON.parse(text) as { spec?: { renewTime?: string } }).spec?.renewTime
      return got === renewTime ? undefined : `renewTime is ${got}, expected ${renewTime}`
    }
    wrote(await send(timeline, 'lease renewal', url, json('PATCH', { spec: { renewTime } }, 'application/merge-patch+json'), verify))
  }

  const zone = `svc.cluster.local`
  const stable = `stable.${namespace}.${zone}`
  const churn = `churn.${namespace}.${zone}`
  const inChurnBlock = (ip: string) => ip.startsWith(`10.${SOAK.churn.ipBlock}.`) || ip.startsWith(`10.${SOAK.churn.ipBlock + 1}.`)
  const queries: { name: string; path: string; check: (rcode: number, answers: ReturnType<typeof decodeMessage>['answers']) => string | undefined }[] = [
    { name: `A ${stable}`, path: dohPath(stable, TYPE.A), check: (rcode, answers) => (rcode === RCODE.NOERROR && answers.length === 1 && answers[0]!.data.kind === 'A' && answers[0]!.data.address === fixtures.clusterIP ? undefined : `expected A ${fixtures.clusterIP}`) },
    { name: `AAAA ${stable}`, path: dohPath(stable, TYPE.AAAA), check: (rcode, answers) => (rcode === RCODE.NOERROR && answers.length === 0 ? undefined : 'expected NODATA') },
    { name: `SRV _http._tcp.${stable}`, path: dohPath(`_http._tcp.${stable}`, TYPE.SRV), check: (rcode, answers) => (rcode === RCODE.NOERROR && answers.length === 1 && answers[0]!.data.kind === 'SRV' ? undefined : 'expected one SRV record') },
    {
      name: `A ${churn}`,
      path: dohPath(churn, TYPE.A),
      check: (rcode, answers) =>
        (rcode === RCODE.NOERROR && answers.length > 0) || (rcode === RCODE.NXDOMAIN && answers.length === 0)
          ? answers.every((r) => r.data.kind === 'A' && inChurnBlock(r.data.address)) ? undefined : 'an A record outside the churn pods'
          : `rcode ${rcode} with ${answers.length} answers`,
    },
    { name: `SRV _http._tcp.${churn}`, path: dohPath(`_http._tcp.${churn}`, TYPE.SRV), check: (rcode, answers) => (rcode === RCODE.NOERROR || rcode === RCODE.NXDOMAIN ? answers.every((r) => r.data.kind === 'SRV') ? undefined : 'a record that is not SRV' : `rcode ${rcode}`) },
  ]
  let asked = 0
  const doh = async () => {
    const q = queries[asked++ % queries.length]!
    const t0 = performance.now()
    const res = await fetch(base + q.path, { headers: { accept: 'application/dns-message' } }).then(
      async (r) => ({ status: r.status, body: new Uint8Array(await r.arrayBuffer()) }),
      (e: Error) => e,
    )
    timeline.record('DoH wire', performance.now() - t0)
    if (res instanceof Error) return timeline.error('DoH wire: network', `${q.name}: ${res.message}`)
    if (res.status !== 200) return timeline.error(`DoH wire: HTTP ${res.status}`, q.name)
    let problem: string | undefined
    try {
      const msg = decodeMessage(res.body)
      problem = msg.header.tc ? 'TC set' : q.check(msg.header.rcode, msg.answers)
    } catch (e) {
      problem = `undecodable: ${(e as Error).message}`
    }
    if (problem) timeline.error('DoH wire: wrong answer', `${q.name}: ${problem}`)
  }

  const dohJson = async () => {
    const verify = (text: string) => {
      const answer = JSON.parse(text) as { Status?: number; Answer?: { data?: string }[] }
      return answer.Status === 0 && answer.Answer?.length === 1 && answer.Answer[0]!.data === fixtures.clusterIP ? undefined : `expected Status 0 and A ${fixtures.clusterIP}, got ${text.slice(0, 200)}`
    }
    await send(timeline, 'DoH JSON', `${base}/dns-query?name=${stable}&type=A`, { headers: { accept: 'application/dns-json' } }, verify)
  }

  const pick = async () => {
    const verify = (text: string) => {
      const address = (JSON.parse(text) as { address?: string }).address
      return address && fixtures.stableIPs.has(address) ? undefined : `picked ${address}, not a stable pod`
    }
    await send(timeline, 'pick', `${ns}/services/stable/pick`, {}, verify)
  }

  const holdsStable = (names: string[]) => {
    const counts = new Map<string, number>()
    for (const n of names) counts.set(n, (counts.get(n) ?? 0) + 1)
    const twice = [...counts].filter(([, c]) => c > 1).map(([n]) => n)
    const absent = fixtures.stableNames.filter((n) => !counts.has(n))
    return twice.length ? `listed more than once: ${twice.slice(0, 3).join(', ')}` : absent.length ? `stable pods missing: ${absent.slice(0, 3).join(', ')}` : undefined
  }
  type PodList = { kind?: string; items?: { metadata?: { name?: string } }[]; metadata?: { continue?: string } }
  const namesOf = (list: PodList) => (list.items ?? []).map((p) => p.metadata?.name ?? '')

  const pagedList = async () => {
    const names: string[] = []
    let token = ''
    do {
      const url = `${ns}/pods?limit=${SOAK.pageSize}${token ? `&continue=${encodeURIComponent(token)}` : ''}`
      const answer = await send(timeline, `list page (limit ${SOAK.pageSize})`, url)
      if (!answer) return
      const page = JSON.parse(answer.text) as PodList
      names.push(...namesOf(page))
      token = page.metadata?.continue ?? ''
    } while (token)
    const problem = holdsStable(names)
    if (problem) timeline.error('list page: wrong answer', `the pages of ${ns}/pods: ${problem}`)
  }

  const unpagedList = async () => {
    await send(timeline, 'list unpaged (all namespaces)', `${base}/api/v1/pods`, {}, (text) => {
      const list = JSON.parse(text) as PodList
      return list.kind !== 'PodList' ? `kind ${list.kind}` : list.metadata?.continue ? 'a continue token on an unpaged list' : holdsStable(namesOf(list))
    })
  }

  const baseline = async () => {
    await send(timeline, BASELINE, `${base}/version`, {}, (text) => ((JSON.parse(text) as { platform?: string }).platform === 'switchboard' ? undefined : `not the version: ${text.slice(0, 200)}`))
  }

  const loops: [string, { perSecond: number; loops: number }, (loop: number) => Promise<void>][] = [
    ['pod writes', rates.writes, write],
    ['lease renewals', rates.renewals, renew],
    ['DoH wire', rates.doh, doh],
    ['DoH JSON', rates.dohJson, dohJson],
    ['picks', rates.picks, pick],
    ['paged lists', rates.pagedLists, pagedList],
    ['unpaged lists', rates.unpagedLists, unpagedList],
    ['baseline', rates.baseline, baseline],
  ]
  // A step that throws (an answer that is not what it should be) is an error of its loop, and the loop goes on.
  const guarded = (name: string, step: (loop: number) => Promise<void>) => (loop: number) =>
    step(loop).catch((e: unknown) => timeline.error(`${name}: failed`, e instanceof Error ? e.message : String(e)))
  return loops.map(([name, rate, step]) => ({ name, ...rate, stop: paced(rate.perSecond, rate.loops, guarded(name, step)).stop }))
}

function sampleOf(server: SoakServer): Sample {
  const cpu = process.cpuUsage()
  const { pid, dbPath } = server
  return { at: performance.now(), memory: memoryOf(pid), serverCpu: cpuOf(pid), clientCpu: (cpu.user + cpu.system) / 1e6, ticks: systemTicks(), ...databaseBytes(dbPath) }
}
