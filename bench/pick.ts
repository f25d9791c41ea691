/**
 * Pick throughput: GET /api/v1/namespaces/{ns}/services/{name}/pick of one service with
 * 10 ready pods of weights 1 to 10 (and one not-ready pod the pick must never answer),
 * beside the constant-response ceiling (GET /bench/constant) of the same server, both
 * measured twice in the same run:
 *
 * - with the load generator of the other scenarios (node:http client, 16 in flight):
 *   every answer is checked (one of the ready pods, with its address and weight) and the
 *   pods are counted, and the counts must follow the weights as smooth weighted round
 *   robin promises: over N consecutive picks, each pod within its weight of N·w/W
 * - with h2load over h2c and over HTTP/1.1, in rotating rounds, since the JavaScript
 *   load generator needs about as much CPU as the server and on 2 cores holds the server
 *   below its own ceiling; h2load checks status codes only
 */
import { podBody, podIP, CONSTANT_ANSWER } from './fixtures'
import { compare, compareCaveats, compareTable, cpuPerRequest, pct, ratio, type Rounds, type Target } from './compare'
import { H2LOAD, ensureTools, packageVersion, type Protocol } from './h2load'
import { int, ms, renderTable } from './report'
import type { Call } from './harness'
import { fmt, measure, type BenchContext, type Scenario } from './scenario'

export const PICK = {
  namespace: 'pick',
  service: 'api',
  weights: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
  ipBlock: 44,
  loadgen: { warmup: { requests: 5_000, seconds: 2 }, measure: { requests: 200_000, seconds: 8 } },
  load: { rounds: 3, seconds: 4, warmupSeconds: 1, clients: 16, streams: 1 } satisfies Rounds,
  target: 0.8,
}

const CONSTANT = JSON.stringify(CONSTANT_ANSWER)

export interface PickPod {
  name: string
  ip: string
  weight: number
  count: number
}

interface PickAnswer {
  kind?: string
  address?: string
  pod?: string
  weight?: number
}

export const pick: Scenario = {
  name: 'pick',
  run: async (ctx) => {
    let tools: Record<string, string>
    try {
      tools = await ensureTools([H2LOAD], ctx.log)
    } catch (e) {
      ctx.report.problem(`scenario pick not measured: ${(e as Error).message}`)
      return
    }
    const s = ctx.server
    const ns = PICK.namespace
    const pods = await seed(ctx)
    const byName = new Map(pods.map((p) => [p.name, p]))
    const path = `/api/v1/namespaces/${ns}/services/${PICK.service}/pick`
    const group = 'pick'

    // The load generator of the other scenarios: the ceiling, then the pick.
    const ceiling = await measure(ctx, {
      group,
      scenario: 'GET /bench/constant',
      namespace: ns,
      ceiling: true,
      transport: 'http',
      ...PICK.loadgen,
      next: () => ({ url: `${s.url}/bench/constant`, verify: (_status, text) => (text === CONSTANT ? undefined : `unexpected answer ${text}`) }),
    })
    const picked = await measure(ctx, {
      group,
      scenario: `GET services/${PICK.service}/pick`,
      namespace: ns,
      transport: 'http',
      ...PICK.loadgen,
      warmupNext: () => pickShot(`${s.url}${path}`, byName, false),
      next: () => pickShot(`${s.url}${path}`, byName, true),
    })
    const distribution = checkDistribution(ctx, pods)

    // h2load, h2c and HTTP/1.1, the ceiling and the pick of each.
    const ours = { pid: s.pid, server: 'switchboard (Node)', ours: true }
    const targets: Target[] = (['h2c', 'HTTP/1.1'] as Protocol[]).flatMap((protocol) => {
      const base = protocol === 'h2c' ? s.h2cUrl : s.url
      return [
        { ...ours, name: 'GET /bench/constant', protocol, uris: [`${base}/bench/constant`], ceiling: true },
        { ...ours, name: `GET services/${PICK.service}/pick`, protocol, uris: [`${base}${path}`] },
      ]
    })
    const results = await compare(ctx, 'pick', targets, PICK.load, tools.h2load)

    const lines: string[] = []
    const l = PICK.load
    const x = (r: number | undefined) => (r === undefined ? '-' : r.toFixed(2))
    const verdict = (r: number | undefined) => (r === undefined ? 'not measured' : r >= PICK.target ? 'met' : 'NOT met')
    const W = PICK.weights.reduce((a, b) => a + b, 0)
    lines.push(
      `Service ${ns}/${PICK.service}: ${pods.length} ready pods of weights ${PICK.weights.join(', ')} (W = ${W}) and one not-ready pod; ` +
        `GET ${path} with no query (smooth weighted round robin).`,
      `Access control is off (no SWITCHBOARD_ADMIN_TOKEN, loopback only).`,
      '',
      `Load generator (node:http client, ${ctx.concurrency} in flight, warm-up ${fmt(PICK.loadgen.warmup.requests)} requests or ` +
        `${PICK.loadgen.warmup.seconds} s, measured ${fmt(PICK.loadgen.measure.requests)} requests or ${PICK.loadgen.measure.seconds} s; rows "pick" of the main table):`,
      `  picks/s ${int(picked.row.result.rps)}, p50 ${ms(picked.row.result.latency.p50)} ms, p99 ${ms(picked.row.result.latency.p99)} ms; ` +
        `ceiling ${int(ceiling.row.result.rps)} req/s, p99 ${ms(ceiling.row.result.latency.p99)} ms`,
      `  pick / ceiling = ${x(ratio_(picked.row.result.rps, ceiling.row.result.rps))} (target ≥ ${PICK.target}): ${verdict(ratio_(picked.row.result.rps, ceiling.row.result.rps))}; ` +
        `server event loop ${pctOf(picked.row.serverElu)} busy (ceiling: ${pctOf(ceiling.row.serverElu)}), ` +
        `load generator ${picked.row.result.clientCores.toFixed(2)} cores, other processes ${picked.row.otherCores?.toFixed(2) ?? '-'} cores`,
      '',
      ...distribution,
      '',
      `h2load ${packageVersion('nghttp2-client') ?? ''}: ${l.clients} connections, ${l.streams} request in flight per connection, one thread; ` +
        `${l.rounds} rounds of ${l.warmupSeconds} s warm-up + ${l.seconds} s measured per target, the order rotating each round;`,
      `"h2c" is HTTP/2 over cleartext with prior knowledge (the server's node:http2 listener), "HTTP/1.1" is h2load --h1 (keep-alive, no pipelining).`,
      `h2load checks status codes only; the answers' contents were checked in the load-generator run above. req/s counts successful (2xx)`,
      `answers, errors h2load's failed requests (non-2xx, or streams still open when a run stops); latencies from h2load's per-request log.`,
      `server/h2load CPU: each process' user+system CPU over each run's wall time (its warm-up included), per request: over req/s; other CPU: the rest of the machine`,
      `(/proc/stat); beside it, the machine's softirq time (kernel networking, mostly this benchmark's loopback traffic) and steal time (the host running other guests).`,
      '',
      compareTable(results),
      '',
    )
    for (const protocol of ['h2c', 'HTTP/1.1'] as const) {
      const p = results.find((r) => r.target.protocol === protocol && !r.target.ceiling)
      const c = results.find((r) => r.target.protocol === protocol && r.target.ceiling)
      const r = ratio(p, c)
      lines.push(
        `h2load ${protocol}: ${int(p?.rps ?? NaN)} picks/s, p99 ${ms(p?.latency.p99 ?? NaN)} ms; ceiling ${int(c?.rps ?? NaN)} req/s, p99 ${ms(c?.latency.p99 ?? NaN)} ms; ` +
          `pick / ceiling = ${x(r)} (target ≥ ${PICK.target}): ${verdict(r)}`,
      )
      const a = cpuPerRequest(p)
      const b = cpuPerRequest(c)
      if (a !== undefined && b !== undefined) {
        lines.push(`  by server CPU per request (less sensitive to the rest of the machine): pick ${a.toFixed(0)} µs, ceiling ${b.toFixed(0)} µs; ceiling / pick = ${x(b / a)}`)
      }
    }
    const caveats = compareCaveats(results)
    if (caveats.length) lines.push('', 'Caveats (h2load rows)', ...caveats.map((c) => `  - ${c}`))
    ctx.report.section(`Pick: GET …/services/${PICK.service}/pick beside the constant-response ceiling`, lines)
  },
}

function ratio_(a: number, b: number): number | undefined {
  return b > 0 ? a / b : undefined
}

function pctOf(elu: number | undefined): string {
  return elu === undefined ? '-' : `${(elu * 100).toFixed(0)}%`
}

/** A pick request whose answer must be one of the ready pods, with its address and weight; counted if `counted`. */
function pickShot(url: string, pods: Map<string, PickPod>, counted: boolean) {
  let pod: PickPod | undefined
  return {
    url,
    verify: (_status: number, text: string) => {
      const checked = checkPick(text, pods)
      pod = checked.pod
      return checked.problem
    },
    succeeded: () => {
      if (pod && counted) pod.count++
    },
  }
}

/** The pod a pick answer names, if it is one of the ready pods with its address and weight; otherwise what is wrong. */
export function checkPick(text: string, pods: Map<string, PickPod>): { pod?: PickPod; problem?: string } {
  const a = JSON.parse(text) as PickAnswer
  const pod = a.pod === undefined ? undefined : pods.get(a.pod)
  if (a.kind !== 'Pick' || !pod) return { problem: `picked ${a.pod ?? a.address}, not a ready pod of the service` }
  if (a.address !== pod.ip || a.weight !== pod.weight) {
    return { problem: `picked ${a.pod} with address ${a.address} weight ${a.weight}, expected ${pod.ip} weight ${pod.weight}` }
  }
  return { pod }
}

const seeded = new WeakMap<Call, Promise<PickPod[]>>()

/**
 * The namespace, the service and its pods, through the API `call` reaches (the bench
 * server's by default), once per API; resolves to the ready pods, their counts at zero.
 */
export async function seed(ctx: BenchContext, call: Call = ctx.server.call): Promise<PickPod[]> {
  let pods = seeded.get(call)
  if (!pods) {
    pods = createPods(ctx, call)
    seeded.set(call, pods)
  }
  return (await pods).map((p) => ({ ...p, count: 0 }))
}

async function createPods(ctx: BenchContext, call: Call): Promise<PickPod[]> {
  const ns = PICK.namespace
  await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })
  await call('POST', `/api/v1/namespaces/${ns}/services`, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: PICK.service, labels: { bench: 'pick' } },
    spec: { selector: { app: PICK.service }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
  })
  const pods: PickPod[] = []
  const create = async (i: number, weight: number, ready: boolean) => {
    const name = `${PICK.service}-${i}`
    const ip = podIP(PICK.ipBlock, i)
    const body = podBody({ name, ip, ready }, i)
    const metadata = body.metadata as { labels: Record<string, string>; annotations?: Record<string, string> }
    metadata.labels = { ...metadata.labels, app: PICK.service }
    metadata.annotations = { 'switchboard.dev/weight': String(weight) }
    await call('POST', `/api/v1/namespaces/${ns}/pods`, body)
    if (ready) pods.push({ name, ip, weight, count: 0 })
  }
  for (const [i, weight] of PICK.weights.entries()) await create(i, weight, true)
  await create(PICK.weights.length, 10, false)
  const explain = await call<{ explain?: { candidates: unknown[]; excluded: unknown[] } }>(
    'GET',
    `/api/v1/namespaces/${ns}/services/${PICK.service}/pick?explain=true`,
  )
  ctx.log(`seeded ${ns}/${PICK.service}: ${explain.explain?.candidates.length} candidates, ${explain.explain?.excluded.length} excluded`)
  if (explain.explain?.candidates.length !== PICK.weights.length) {
    throw new Error(`the pick has ${explain.explain?.candidates.length} candidates, expected ${PICK.weights.length}`)
  }
  return pods
}

/**
 * Compares the counted picks with the weights. Smooth weighted round robin puts each pod
 * exactly w times in every W consecutive picks, so over N consecutive picks a pod's count
 * is within w of N·w/W; more than that is a problem.
 */
function checkDistribution(ctx: BenchContext, pods: PickPod[]): string[] {
  const W = pods.reduce((a, p) => a + p.weight, 0)
  const N = pods.reduce((a, p) => a + p.count, 0)
  const off = pods.filter((p) => Math.abs(p.count - (N * p.weight) / W) > p.weight)
  const table = renderTable(
    ['pod', 'weight', 'expected share', 'picks', 'share', 'picks − N·w/W'],
    pods.map((p) => [
      p.name,
      String(p.weight),
      pct(p.weight / W),
      int(p.count),
      pct(N > 0 ? p.count / N : undefined),
      (p.count - (N * p.weight) / W).toFixed(1),
    ]),
  )
  const line =
    `pick distribution over the ${fmt(N)} measured picks of the load-generator run: ` +
    (off.length === 0
      ? `every pod within its weight of N·w/W, as smooth weighted round robin promises (the not-ready pod never picked)`
      : `${off.length} pod(s) off by more than their weight: ${off.map((p) => p.name).join(', ')}`)
  if (off.length || N === 0) ctx.report.problem(line)
  else ctx.report.note(line)
  return [`Pick distribution (measured phase of the load-generator run, N = ${fmt(N)} picks, W = ${W}):`, table, line]
}
