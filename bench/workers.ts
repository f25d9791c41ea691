/**
 * The Workers runtime on this machine: DoH queries/s and picks/s against `wrangler dev`,
 * beside the Node server of the same run, with the same load and in rotating rounds so
 * that both see the same machine.
 *
 * The Worker is the bundle `wrangler deploy --dry-run` builds (what a deploy uploads),
 * run by `wrangler dev` with the project's wrangler.toml over a fresh local D1 in a temp
 * dir (migrations applied with `wrangler d1 migrations apply DB --local`), and an admin
 * token passed as a var. Running the built bundle rather than worker/index.ts keeps the
 * code fixed for the run: wrangler dev reloads on a change to the sources it bundles.
 *
 * Both runtimes are seeded with the fixtures of the doh and pick scenarios through their
 * APIs (the Node server keeps them if those scenarios ran first), the Worker's calls with
 * `authorization: Bearer <token>`. Before measuring, every DoH query of the mix is asked
 * once of each runtime and must answer NOERROR with exactly the expected addresses, and
 * a sample of picks must each name a ready pod with its address and weight.
 *
 * Beside DoH and the pick, two floors are measured in each runtime: `GET /version` (the
 * app with every middleware and access control, no storage), and a constant answer from
 * the bare runtime (a one-line Worker `new Response('ok')` under a second wrangler dev
 * with the same wrangler.toml, and a Node process answering the same through
 * @hono/node-server, as `npm start` serves the app). The constant answer is what each
 * runtime costs per request before any of our code runs; what DoH and the pick cost above
 * it is what our code costs there.
 *
 * The load is h2load over HTTP/1.1 (what wrangler dev speaks), the same URIs and
 * headers for both runtimes. CPU per request is the answering process' user+system CPU
 * over its requests: the Node server's process, or the workerd that runs the Worker;
 * wrangler dev's proxy (a second workerd) and wrangler's own node process, which every
 * request also passes through, are reported apart.
 *
 * With BENCH_CPU_PROF=<dir> (which also profiles the Node server, see run.ts), the Worker's
 * V8 CPU profile under each of its loads is written to <dir> after the measured rounds.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { compare, compareCaveats, cpuPerRequest, type Rounds, type Target, type TargetResult } from './compare'
import { DOH, checkAnswers, dohQueries, seedZone } from './doh'
import { H2LOAD, ensureTools, h2load, packageVersion } from './h2load'
import { apiClient, removeTempDir, stopProcess, tempDir, track } from './harness'
import { PICK, checkPick, seed, type PickPod } from './pick'
import { int, ms, renderTable } from './report'
import type { BenchContext, Scenario } from './scenario'
import { WRANGLER_CONFIG, buildWorker, profileWorker, runWrangler, startDev, versions, type WranglerDev } from './wrangler'

export const WORKERS = {
  load: { rounds: 3, seconds: 5, warmupSeconds: 1, clients: 16, streams: 1 } satisfies Rounds,
  /** Picks asked of each runtime, one at a time, before measuring: two rounds of the weights. */
  pickSample: 2 * PICK.weights.reduce((a, b) => a + b, 0),
}

const NODE = 'Node'
const WORKERD = 'workerd (wrangler dev)'
const PROXY = 'wrangler dev proxy (workerd)'
const WRANGLER_NODE = 'wrangler (node)'
const DOH_NAME = 'DoH GET /dns-query'
const PICK_NAME = `GET services/${PICK.service}/pick`
const VERSION_NAME = 'GET /version (app floor)'
const CONSTANT_NAME = 'constant answer (runtime floor)'
const ROOT = dirname(dirname(fileURLToPath(import.meta.url)))
/** The bare Worker of the runtime floor. */
const CONSTANT_WORKER = "export default { fetch() { return new Response('ok') } }\n"
/** The bare Node server of the runtime floor: @hono/node-server, as worker/node.ts serves the app. */
const CONSTANT_NODE = [
  "import { serve } from '@hono/node-server'",
  "serve({ fetch: () => new Response('ok'), hostname: '127.0.0.1', port: 0 }, (info) => console.log(`listening ${info.port}`))",
].join('\n')

export const workers: Scenario = {
  name: 'workers',
  run: async (ctx) => {
    let tools: Record<string, string>
    try {
      tools = await ensureTools([H2LOAD], ctx.log)
    } catch (e) {
      ctx.report.problem(`scenario workers not measured: ${(e as Error).message}`)
      return
    }
    const dir = tempDir('switchboard-workers-')
    const logDir = join(dir, 'logs')
    let dev: WranglerDev | undefined
    let constantDev: WranglerDev | undefined
    let constantNode: ConstantNode | undefined
    try {
      const token = randomBytes(24).toString('hex')
      try {
        const built = await buildWorker(join(dir, 'bundle'), logDir)
        await runWrangler(['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', join(dir, 'state'), '-c', WRANGLER_CONFIG], logDir)
        dev = await startDev({ script: built.main, persistTo: join(dir, 'state'), vars: { SWITCHBOARD_ADMIN_TOKEN: token }, logDir })
        const constantScript = join(dir, 'constant.js')
        writeFileSync(constantScript, CONSTANT_WORKER)
        constantDev = await startDev({ script: constantScript, persistTo: join(dir, 'constant-state'), vars: {}, logDir })
        constantNode = await startConstantNode()
      } catch (e) {
        ctx.report.problem(`scenario workers not measured: ${(e as Error).message}`)
        return
      }
      for (const [what, d] of [['Worker', dev], ['constant Worker', constantDev]] as const) {
        const p = d.processes
        ctx.log(`wrangler dev (${what}) pid ${d.pid} on ${d.url}: Worker workerd ${p.worker.join(', ')}, proxy workerd ${p.proxy.join(', ')}, wrangler ${p.wrangler.join(', ')}`)
        if (p.worker.length !== 1 || p.proxy.length !== 1) {
          ctx.report.problem(`scenario workers not measured: expected one Worker workerd and one proxy workerd in wrangler dev's process group (${what}), found ${JSON.stringify(p)}`)
          return
        }
      }
      const p = dev.processes

      const auth = { authorization: `Bearer ${token}` }
      const workerCall = apiClient(dev.url, auth)
      const zones = { node: await seedZone(ctx), worker: await seedZone(ctx, workerCall) }
      const pods = { node: await seed(ctx), worker: await seed(ctx, workerCall) }
      const runtimes = [
        { name: NODE, url: ctx.server.url, zone: zones.node, pods: pods.node },
        { name: WORKERD, url: dev.url, zone: zones.worker, pods: pods.worker },
      ]
      let failed = false
      for (const r of runtimes) {
        const wrongDoh = await checkAnswers(r.url, 'HTTP/1.1', dohQueries(r.zone), auth)
        const wrongPick = await checkPicks(`${r.url}${pickPath()}`, r.pods, auth)
        const line =
          `${r.name}: ${r.zone.length - wrongDoh.length}/${r.zone.length} DoH A queries answered NOERROR with exactly the expected addresses; ` +
          `${WORKERS.pickSample - wrongPick.problems.length}/${WORKERS.pickSample} picks named a ready pod with its address and weight ` +
          `(${wrongPick.seen} of ${r.pods.length} pods seen)`
        ctx.log(`answers checked before measuring, ${line}`)
        if (wrongDoh.length || wrongPick.problems.length) {
          failed = true
          ctx.report.problem(`workers: answers checked before measuring, ${line}; ${[...wrongDoh, ...wrongPick.problems].slice(0, 3).join('; ')}`)
        } else {
          ctx.report.note(`workers: answers checked before measuring, ${line}`)
        }
      }
      if (failed) return

      const headers = [`authorization: Bearer ${token}`]
      const node = { pid: ctx.server.pid, server: NODE, ours: true, protocol: 'HTTP/1.1' as const, headers }
      const workerOf = (d: WranglerDev) => ({
        pid: d.processes.worker[0]!,
        server: WORKERD,
        protocol: 'HTTP/1.1' as const,
        headers,
        relays: [
          { name: PROXY, pids: d.processes.proxy },
          { name: WRANGLER_NODE, pids: d.processes.wrangler },
        ],
      })
      const worker = workerOf(dev)
      const dohUris = (base: string, zone: typeof zones.node) => dohQueries(zone).map((q) => base + q.path)
      const targets: Target[] = [
        { ...node, name: DOH_NAME, uris: dohUris(ctx.server.url, zones.node) },
        { ...worker, name: DOH_NAME, uris: dohUris(dev.url, zones.worker) },
        { ...node, name: PICK_NAME, uris: [`${ctx.server.url}${pickPath()}`] },
        { ...worker, name: PICK_NAME, uris: [`${dev.url}${pickPath()}`] },
        { ...node, name: VERSION_NAME, uris: [`${ctx.server.url}/version`] },
        { ...worker, name: VERSION_NAME, uris: [`${dev.url}/version`] },
        { pid: constantNode.pid, server: NODE, protocol: 'HTTP/1.1', headers, name: CONSTANT_NAME, uris: [`${constantNode.url}/`] },
        { ...workerOf(constantDev), name: CONSTANT_NAME, uris: [`${constantDev.url}/`] },
      ]
      const results = await compare(ctx, 'workers', targets, WORKERS.load, tools.h2load)

      for (const d of [dev, constantDev]) {
        const after = d.current()
        const before = d.processes
        if (JSON.stringify(after.worker) !== JSON.stringify(before.worker) || JSON.stringify(after.proxy) !== JSON.stringify(before.proxy)) {
          ctx.report.problem(`workers: wrangler dev's workerd processes changed during the run (${JSON.stringify(before)} → ${JSON.stringify(after)}); its CPU figures are incomplete`)
        }
      }
      ctx.report.section('Workers runtime: DoH and pick against wrangler dev, beside the Node server', section(ctx, results, dev))
      const profiles = process.env.BENCH_CPU_PROF
      if (profiles) await profileTargets(ctx, dev, targets.filter((t) => t.pid === worker.pid), resolve(profiles), tools.h2load)
    } finally {
      await dev?.stop()
      await constantDev?.stop()
      await constantNode?.stop()
      removeTempDir(dir)
    }
  },
}

/**
 * With BENCH_CPU_PROF=<dir>: after the measured rounds, the Worker's CPU profile under
 * each of its targets' load (one h2load run each, as measured), written as
 * <dir>/workerd-<target>.cpuprofile. The figures above were taken without the profiler.
 */
async function profileTargets(ctx: BenchContext, dev: WranglerDev, targets: Target[], dir: string, bin: string | undefined): Promise<void> {
  mkdirSync(dir, { recursive: true })
  const l = WORKERS.load
  for (const t of targets) {
    const file = join(dir, `workerd-${t.name.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').toLowerCase()}.cpuprofile`)
    try {
      const { result, profile } = await profileWorker(dev, () =>
        h2load({ uris: t.uris, protocol: t.protocol, clients: l.clients, streams: l.streams, seconds: l.seconds, warmupSeconds: 0, headers: t.headers ?? [], ...(bin ? { bin } : {}) }),
      )
      writeFileSync(file, JSON.stringify(profile))
      ctx.report.note(`workers: the Worker's CPU profile under ${t.name} (${int(result.okRps)} req/s while profiled) is in ${file}`)
    } catch (e) {
      ctx.report.problem(`workers: no CPU profile of the Worker under ${t.name}: ${(e as Error).message}`)
    }
  }
}

interface ConstantNode {
  url: string
  pid: number
  stop: () => Promise<void>
}

/** Starts the Node process of the runtime floor (`CONSTANT_NODE`) on a free loopback port. */
async function startConstantNode(): Promise<ConstantNode> {
  const child = track(spawn(process.execPath, ['--input-type=module', '-e', CONSTANT_NODE], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }))
  let output = ''
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the constant Node server did not start within 10 s: ${output.slice(-500)}`)), 10_000)
    const fail = (why: string) => {
      clearTimeout(timer)
      reject(new Error(`the constant Node server ${why}: ${output.slice(-500)}`))
    }
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (output += c))
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      output += c
      const m = /listening (\d+)/.exec(output)
      if (m) {
        clearTimeout(timer)
        resolve(Number(m[1]))
      }
    })
    child.once('error', (e) => fail(e.message))
    child.once('exit', (code, signal) => fail(`exited (${code ?? signal})`))
  })
  return { url: `http://127.0.0.1:${port}`, pid: child.pid!, stop: () => stopProcess(child) }
}

function pickPath(): string {
  return `/api/v1/namespaces/${PICK.namespace}/services/${PICK.service}/pick`
}

/** Asks for `WORKERS.pickSample` picks one at a time; each must name a ready pod with its address and weight. */
async function checkPicks(url: string, pods: PickPod[], headers: Record<string, string>): Promise<{ problems: string[]; seen: number }> {
  const byName = new Map(pods.map((p) => [p.name, p]))
  const seen = new Set<string>()
  const problems: string[] = []
  for (let i = 0; i < WORKERS.pickSample; i++) {
    try {
      const res = await fetch(url, { headers })
      const text = await res.text()
      const checked = res.status === 200 ? checkPick(text, byName) : { problem: `HTTP ${res.status}: ${text.slice(0, 200)}` }
      if (checked.problem) problems.push(checked.problem)
      if ('pod' in checked && checked.pod) seen.add(checked.pod.name)
    } catch (e) {
      problems.push((e as Error).message)
    }
  }
  return { problems, seen: seen.size }
}

function section(ctx: BenchContext, results: TargetResult[], dev: WranglerDev): string[] {
  const v = versions()
  const l = WORKERS.load
  const find = (name: string, server: string) => results.find((r) => r.target.name === name && r.target.server === server)
  const relay = (r: TargetResult | undefined, k: number) => (r ? cpuPerRequest(r, r.relayCores[k]) : undefined)
  const total = (r: TargetResult | undefined) => {
    if (!r) return undefined
    const parts = [cpuPerRequest(r), ...r.relayCores.map((_, k) => relay(r, k))]
    return parts.some((x) => x === undefined) ? undefined : parts.reduce<number>((a, x) => a + x!, 0)
  }
  const us = (x: number | undefined) => (x === undefined ? '-' : `${int(x)} µs`)
  const cores = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '-' : `${x.toFixed(2)} cores`)
  const table = renderTable(
    [
      'target', 'runtime', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'errors', 'req/s by round',
      'runtime CPU / req', 'proxy workerd CPU / req', 'wrangler node CPU / req', 'all CPU / req',
      'runtime CPU', 'proxy workerd CPU', 'wrangler node CPU', 'h2load CPU', 'other CPU', 'softirq / steal',
    ],
    results.map((r) => [
      r.target.name,
      r.target.server,
      int(r.requests),
      int(r.rps),
      ms(r.latency.p50),
      ms(r.latency.p99),
      ms(r.latency.max),
      int(r.errors),
      r.runs.map((x) => int(x.okRps)).join(' / '),
      us(cpuPerRequest(r)),
      r.target.relays ? us(relay(r, 0)) : '-',
      r.target.relays ? us(relay(r, 1)) : '-',
      us(total(r)),
      cores(r.serverCores),
      r.target.relays ? cores(r.relayCores[0]) : '-',
      r.target.relays ? cores(r.relayCores[1]) : '-',
      cores(r.clientCores),
      cores(r.otherCores),
      r.softirqCores === undefined || r.stealCores === undefined ? '-' : `${r.softirqCores.toFixed(2)} / ${r.stealCores.toFixed(2)}`,
    ]),
  )
  const lines = [
    `CAVEAT: wrangler dev is a local simulator, not the production edge. The Worker runs in workerd ${v.workerd} on this machine`,
    `behind wrangler's proxy (a second workerd) and wrangler's node process; D1 is SQLite inside miniflare's local D1 (a Durable`,
    `Object in the same workerd), not Cloudflare's D1. Its figures say what the Worker's code costs in the Workers runtime here, not what`,
    `the edge will serve or how long its requests take there.`,
    '',
    `wrangler ${v.wrangler} dev, log level warn (no line per request), on 127.0.0.1; the Worker is the bundle of wrangler deploy --dry-run`,
    `(wrangler.toml: minify, nodejs_compat), over a fresh local D1 (--persist-to <temp dir>, migrations applied with wrangler d1 migrations apply`,
    `DB --local), with SWITCHBOARD_ADMIN_TOKEN passed as a var; every request carries authorization: Bearer <token> (the Worker checks it:`,
    `one SHA-256 per request; the Node server, access control off, ignores it). The Node server is the run's bench server (its HTTP/1.1`,
    `listener, the same process and database as the other scenarios, their data included; pid ${ctx.server.pid}). wrangler dev pid ${dev.pid}.`,
    `Fixtures: the doh scenario's zone (${DOH.services} services in namespace ${DOH.namespace}, the same ${DOH.services}-query A mix) and the pick`,
    `scenario's service (${PICK.namespace}/${PICK.service}, ${PICK.weights.length} ready pods of weights ${PICK.weights[0]}–${PICK.weights[PICK.weights.length - 1]}), seeded through each runtime's API.`,
    `Load: h2load ${packageVersion('nghttp2-client') ?? ''} --h1 (HTTP/1.1 keep-alive, no pipelining), ${l.clients} connections, ${l.streams} request in flight each,`,
    `one thread; ${l.rounds} rounds of ${l.warmupSeconds} s warm-up + ${l.seconds} s measured per target, the order rotating each round. req/s counts 2xx answers;`,
    `latencies from h2load's per-request log; h2load checks status codes only (the answers were checked before measuring, see Notes).`,
    `CPU: each process' user+system CPU (/proc/<pid>/stat) over each h2load run's wall time (its warm-up included), averaged over the rounds;`,
    `per request: over req/s. "runtime" is the answering process: the Node server, or the workerd that runs the Worker. Every request to wrangler`,
    `dev also passes through its proxy workerd (which listens on the dev port) and costs wrangler's node process CPU (its own processes and`,
    `esbuild, summed); those are reported apart, and "all" adds them up. other CPU is the rest of the machine (/proc/stat) without all of these.`,
    `Floors: ${VERSION_NAME} is the app answering its version through every middleware (request id, metrics, CORS, access control: public path),`,
    `no storage; ${CONSTANT_NAME} is the bare runtime answering "ok": a one-line Worker under a second wrangler dev (same wrangler.toml and flags;`,
    `its own proxy workerd and wrangler), and a Node process answering through @hono/node-server, as npm start serves the app.`,
    '',
    table,
    '',
  ]
  const times = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || b <= 0 ? '-' : `${(a / b).toFixed(1)}×`)
  for (const name of [DOH_NAME, PICK_NAME, VERSION_NAME, CONSTANT_NAME]) {
    const n = find(name, NODE)
    const w = find(name, WORKERD)
    const unit = name === DOH_NAME ? 'queries/s' : name === PICK_NAME ? 'picks/s' : 'req/s'
    lines.push(
      `${name}: Node ${int(n?.rps ?? NaN)} ${unit}, p99 ${ms(n?.latency.p99 ?? NaN)} ms, ${us(cpuPerRequest(n))} CPU per request; ` +
        `wrangler dev ${int(w?.rps ?? NaN)} ${unit}, p99 ${ms(w?.latency.p99 ?? NaN)} ms, workerd ${us(cpuPerRequest(w))} CPU per request ` +
        `(+ proxy workerd ${us(relay(w, 0))} + wrangler node ${us(relay(w, 1))} = ${us(total(w))}); workerd/Node ${times(cpuPerRequest(w), cpuPerRequest(n))}`,
    )
  }
  // What our code costs per request in each runtime: the runtime CPU per request above the bare runtime's constant answer.
  const above = (name: string, server: string) => {
    const x = cpuPerRequest(find(name, server))
    const floor = cpuPerRequest(find(CONSTANT_NAME, server))
    return x === undefined || floor === undefined ? undefined : x - floor
  }
  lines.push('', `Above the runtime floor (runtime CPU per request minus the constant answer's, in the same runtime):`)
  for (const name of [DOH_NAME, PICK_NAME, VERSION_NAME]) {
    const n = above(name, NODE)
    const w = above(name, WORKERD)
    lines.push(`  ${name}: Node ${us(n)}, workerd ${us(w)}; workerd/Node ${times(w, n)}`)
  }
  const caveats = compareCaveats(results)
  if (caveats.length) lines.push('', 'Caveats', ...caveats.map((c) => `  - ${c}`))
  return lines
}
