/**
 * `npm run bench`: starts the server under test as a child process on 127.0.0.1 over a
 * fresh embedded libSQL file, runs every scenario in order against it from this process
 * (the load generator), stops the server, removes its files, and prints the report.
 * Progress goes to stderr; the report to stdout. A watchdog ends the run if it overruns.
 *
 * BENCH_ONLY=<name,name> runs only the named scenarios (writes, endpoints, doh, udp, pick, discover, interference,
 * leases, lists, bundle, workers, durability, soak), in their usual order; every scenario runs by default.
 * BENCH_SOAK_MINUTES sets the soak's length (default 10; 0 skips it). bundle builds the Worker
 * with wrangler and reports its size; workers runs it under `wrangler dev` beside the server.
 * BENCH_CPU_PROF=<dir> runs the server with --cpu-prof and leaves its V8 CPU profile in <dir>.
 */
import { execFileSync } from 'node:child_process'
import { resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { BUNDLE, bundle } from './bundle'
import { killAllSync, startServer, type BenchServer } from './harness'
import { DOH, doh } from './doh'
import { UDP, udp } from './classic-dns'
import { DURABILITY, durability } from './durability'
import { ENDPOINTS, endpoints } from './endpoints'
import { INTERFERENCE, interference } from './interference'
import { LEASES, leases } from './leases'
import { LISTS, lists } from './lists'
import { PICK, pick } from './pick'
import { discover } from './sdk-discover'
import { Report } from './report'
import { SOAK, SOAK_OVERHEAD_SECONDS, soak } from './soak'
import { fmt, type BenchContext, type Scenario } from './scenario'
import { WORKERS, workers } from './workers'
import { WRITES, writes } from './writes'

const CONCURRENCY = 16
const WATCHDOG_SECONDS = 2400
const ALL: Scenario[] = [writes, endpoints, doh, udp, pick, discover, interference, leases, lists, bundle, workers, durability, soak]
const SCENARIOS = selected(process.env.BENCH_ONLY)

/** The scenarios BENCH_ONLY names (comma-separated), in their usual order; all of them without it. */
function selected(only: string | undefined): Scenario[] {
  if (!only?.trim()) return ALL
  const names = only.split(',').map((n) => n.trim()).filter(Boolean)
  const unknown = names.filter((n) => !ALL.some((s) => s.name === n))
  if (unknown.length) {
    process.stderr.write(`BENCH_ONLY names unknown scenario(s) ${unknown.join(', ')}; known: ${ALL.map((s) => s.name).join(', ')}\n`)
    process.exit(2)
  }
  return ALL.filter((s) => names.includes(s.name))
}

const started = performance.now()
const elapsed = () => ((performance.now() - started) / 1000).toFixed(1)
const log = (message: string) => process.stderr.write(`[${elapsed().padStart(6)} s] ${message}\n`)

function settings(report: Report): void {
  const phase = (p: { requests: number; seconds: number }) => `${fmt(p.requests)} requests or ${p.seconds} s, whichever first`
  const run = (name: string) => SCENARIOS.some((s) => s.name === name)
  report.setting('concurrency', `${CONCURRENCY} requests in flight (closed loop, global fetch, keep-alive)`)
  report.setting(
    'server',
    'bench/server.ts in a child process: worker/node.ts wiring, embedded libSQL file (WAL) in a temp dir; ' +
      'HTTP/1.1 on one port and h2c (node:http2, prior knowledge) on a second, both 127.0.0.1, same app',
  )
  report.setting('access control', 'off: no SWITCHBOARD_ADMIN_TOKEN (unset for the server), listening on loopback only')
  if (run('writes')) {
    report.setting('pod counts', WRITES.levels.map(fmt).join(' and ') + ` in namespace ${WRITES.namespace}`)
    report.setting(
      'write rows',
      'status updates (flips, and the same PUT changing nothing), the floor under them, creates, the floor under them and lease renewals ' +
        `(${fmt(WRITES.leases.count)} leases, round robin) sent with the node:http client (keep-alive agent, one socket per request in flight)`,
    )
    report.setting(
      'raw storage',
      `${WRITES.storage.seconds} s of one-row UPDATE batches per row, in the server process on its own libSQL client, ${WRITES.storage.inFlight.join(' and ')} in flight`,
    )
  }
  if (run('endpoints')) {
    report.setting(
      'endpoints',
      ENDPOINTS.levels.map((l) => fmt(l.pods)).join(', ') + ' pods (one namespace each) × ' +
        ENDPOINTS.services.map(fmt).join(' then ') + ' services, same server; flips and selector changes one at a time take turns between namespaces',
    )
  }
  for (const [name, s, each, scenario] of [
    ['constant', WRITES.constant, undefined, 'writes'],
    ['status updates', WRITES.status, undefined, 'writes'],
    ['creates', WRITES.create, undefined, 'writes'],
    ['flips, one at a time', ENDPOINTS.flip, ' per namespace', 'endpoints'],
    [`flips, ${ENDPOINTS.flipConcurrent.concurrency} in flight`, ENDPOINTS.flipConcurrent, undefined, 'endpoints'],
    ['selector changes', ENDPOINTS.selector, ' per namespace', 'endpoints'],
  ] as const) {
    if (run(scenario)) report.setting(name, `warm-up ${phase(s.warmup)}; measured ${phase(s.measure)}${each ?? ''}`)
  }
  const h2 = (l: { rounds: number; seconds: number; warmupSeconds: number; clients: number; streams: number }) =>
    `h2load -c ${l.clients} -m ${l.streams} -t 1, ${l.rounds} rounds of ${l.warmupSeconds} s warm-up + ${l.seconds} s per target, order rotating`
  if (run('doh')) {
    report.setting('doh', `${DOH.services} services in namespace ${DOH.namespace}, A-query mix; ${h2(DOH.load)}; beside Unbound (h2c) and /bench/constant (h2c and HTTP/1.1)`)
  }
  if (run('udp')) {
    report.setting('udp', `classic DNS over UDP on npm start's own server (DNS_PORT) beside Unbound over UDP, the doh zone; dnsperf -q ${UDP.outstanding}, ${UDP.rounds} rounds of ${UDP.warmupSeconds} s warm-up + ${UDP.seconds} s per target`)
  }
  if (run('pick')) {
    report.setting(
      'pick',
      `${PICK.weights.length} ready pods of weights ${PICK.weights[0]}–${PICK.weights[PICK.weights.length - 1]}; node:http load generator ` +
        `warm-up ${phase(PICK.loadgen.warmup)}, measured ${phase(PICK.loadgen.measure)}; then ${h2(PICK.load)} (h2c and HTTP/1.1)`,
    )
  }
  if (run('interference')) {
    report.setting(
      'interference',
      `DoH over the doh zone and picks of ${fmt(INTERFERENCE.pick.pods)} endpoints, without and with ${INTERFERENCE.writes.perSecond} readiness writes/s in another namespace; ` +
        `then RSS with ${fmt(INTERFERENCE.memory.namespaces * INTERFERENCE.memory.servicesPerNamespace * INTERFERENCE.memory.podsPerService)} pods and ${fmt(INTERFERENCE.memory.namespaces * INTERFERENCE.memory.servicesPerNamespace)} services cached`,
    )
  }
  if (run('leases')) {
    report.setting(
      'leases',
      `${fmt(LEASES.leases)} held leases (${LEASES.durationSeconds} s) in namespace ${LEASES.namespace}, ${fmt(LEASES.bound.pods)} of them covering the pods of one service; ` +
        `constant warm-up ${phase(LEASES.constant.warmup)}, measured ${phase(LEASES.constant.measure)}; renewals (merge PATCH of renewTime) ` +
        `warm-up ${phase(LEASES.renew.warmup)}, measured ${phase(LEASES.renew.measure)}; then DoH over the doh zone without and with ` +
        `${fmt(LEASES.paced.perSecond)} renewals/s, ${LEASES.rotations} rotations, answered by the same server and then by a second server process on its file; then renewals and constant GETs one at a time, ` +
        `warm-up ${phase(LEASES.alone.warmup)}, measured ${phase(LEASES.alone.measure)}`,
    )
  }
  if (run('lists')) {
    report.setting(
      'lists',
      `${fmt(LISTS.pods)} pods in namespace ${LISTS.namespace}; DoH over the doh zone (${LISTS.dohConcurrency} in flight) alone, then beside ${LISTS.lists} clients listing them unpaged over and over; ` +
        `${LISTS.round.warmup.seconds} s warm-up + ${LISTS.round.measure.seconds} s per round; target DoH p99 < ${LISTS.targetP99Ms} ms`,
    )
  }
  if (run('bundle')) report.setting('bundle', `wrangler deploy --dry-run --outdir <temp dir>; raw and gzipped (zlib level 6) size, target ≤ ${BUNDLE.targetGzipKiB} KiB gzipped`)
  if (run('workers')) {
    report.setting(
      'workers',
      `DoH (the doh zone and query mix) and picks (the pick service) against wrangler dev (local D1, admin token) and this server, ` +
        `HTTP/1.1; ${h2(WORKERS.load)}`,
    )
  }
  if (run('durability')) {
    report.setting('durability', `POST pods on two more servers, DATABASE_SYNCHRONOUS=NORMAL and FULL, ${DURABILITY.concurrencies.join(' and ')} in flight, ${DURABILITY.rounds} rounds alternating; warm-up ${phase(DURABILITY.create.warmup)}, measured ${phase(DURABILITY.create.measure)}`)
  }
  if (run('soak')) report.setting('soak', `${SOAK.minutes} min (BENCH_SOAK_MINUTES) of mixed load against its own npm start server (worker/node.ts, fresh database)`)
  report.setting('scenarios', SCENARIOS.map((s) => s.name).join(', ') + (SCENARIOS.length < ALL.length ? ` (BENCH_ONLY; all: ${ALL.map((s) => s.name).join(', ')})` : ''))
  report.setting('code', codeVersion())
}

/** The commit under test and whether the server's sources differ from it (read-only git). */
function codeVersion(): string {
  const git = (...args: string[]) => execFileSync('git', ['--no-optional-locks', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trimEnd()
  try {
    const commit = git('rev-parse', '--short', 'HEAD')
    const dirty = git('status', '--porcelain', '--', 'worker', 'migrations', 'package.json', 'wrangler.toml')
    return dirty ? `${commit} with uncommitted changes: ${dirty.split('\n').map((l) => l.slice(3)).join(', ')}` : commit
  } catch {
    return 'unknown (no git)'
  }
}

async function main(): Promise<number> {
  const report = new Report()
  settings(report)
  let server: BenchServer | undefined
  try {
    const profile = process.env.BENCH_CPU_PROF
    server = await startServer(profile ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${resolve(profile)}`] } : {})
    if (profile) report.note(`the server ran with --cpu-prof (profile in ${resolve(profile)}): its numbers include the profiler's overhead`)
    log(`server pid ${server.pid} listening on ${server.url}, database ${server.dbPath}`)
    const ctx: BenchContext = { server, report, concurrency: CONCURRENCY, log }
    for (const scenario of SCENARIOS) {
      log(`scenario ${scenario.name}`)
      await scenario.run(ctx)
    }
  } finally {
    if (server) {
      await server.stop()
      const lines = server.stderr.filter((l) => l.trim() !== '')
      if (lines.length) {
        report.note(`the server wrote ${lines.length} line(s) to stderr; the first ones:`)
        for (const l of lines.slice(0, 20)) report.note(`  ${l}`)
      } else {
        report.note('the server wrote nothing to stderr during the run')
      }
    }
  }
  const failed = report.rows.some((r) => r.result.errors > 0 || r.result.warmupErrors > 0) || report.problems.length > 0
  process.stdout.write(report.render() + '\n')
  process.stdout.write(`\nTotal run time: ${elapsed()} s\n`)
  return failed ? 1 : 0
}

// The soak's own length comes on top.
const watchdogSeconds = WATCHDOG_SECONDS + (SCENARIOS.includes(soak) ? SOAK.minutes * 60 + SOAK_OVERHEAD_SECONDS : 0)
const watchdog = setTimeout(() => {
  log(`the run took longer than ${watchdogSeconds} s; stopping`)
  killAllSync()
  process.exit(2)
}, watchdogSeconds * 1000)
watchdog.unref()

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAllSync()
    process.exit(130)
  })
}

main().then(
  (code) => {
    killAllSync()
    process.exit(code)
  },
  (e) => {
    log(`failed: ${(e as Error).stack ?? e}`)
    killAllSync()
    process.exit(1)
  },
)
