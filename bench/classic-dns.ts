/**
 * Classic DNS over UDP (`BENCH_ONLY=udp`): queries per second answered by `npm start`'s own
 * server (worker/node.ts with DNS_PORT, a fresh database, access control off) beside Unbound
 * (Debian's `unbound`) serving the same records as `local-data` over UDP on loopback, in the
 * same run, as a ratio.
 *
 * The zone is the DoH scenario's (bench/doh.ts `seedZone`: 100 services in one namespace,
 * every 20th headless), seeded through our server's API; Unbound is set up as for the DoH
 * scenario (`startUnbound`), with UDP instead of DoH. Before measuring, every one of the 100
 * A queries is asked once of both over UDP and must answer NOERROR with exactly the expected
 * addresses.
 *
 * Load: dnsperf (Debian `dnsperf`, installed with apt-get when running as root, as the DoH
 * scenario installs h2load), one thread, one client socket, a fixed number of queries
 * outstanding, going round the 100 queries (no EDNS). Each target runs a short warm-up and then
 * a measured run, in rounds whose order alternates; the figure of a target is its median
 * round. Latencies (p50, p99) come from dnsperf's per-query report (-v); lost queries are
 * those that timed out. The server's CPU is its process's user+system time over the measured
 * run, from /proc.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { execFile } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RCODE, TYPE, decodeMessage } from '../worker/dns/wire'
import { DOH, query, seedZone, startUnbound, udpExchange, type Unbound, type ZoneService } from './doh'
import { freePort } from './harness'
import { UNBOUND, childrenCpu, cpuOf, ensureTools, packageVersion, type Tool } from './h2load'
import { renderTable } from './report'
import { fmt, type Scenario } from './scenario'
import { startSoakServer, type SoakServer } from './soak-server'

export const UDP = {
  rounds: 3,
  warmupSeconds: 1,
  seconds: 4,
  /** Queries outstanding at once (dnsperf -q). */
  outstanding: 64,
  timeoutSeconds: 2,
}

const DNSPERF: Tool = { bin: 'dnsperf', pkg: 'dnsperf' }

interface Run {
  qps: number
  sent: number
  completed: number
  lost: number
  p50Ms: number
  p99Ms: number
  /** The answering process's CPU over the run, in cores. */
  serverCores: number
  /** dnsperf's own CPU over the run, in cores (near 1: the load generator is the limit). */
  loadCores: number
}

interface Target {
  name: string
  port: number
  pid: number
  runs: Run[]
}

export const udp: Scenario = {
  name: 'udp',
  run: async (ctx) => {
    let tools: Record<string, string>
    try {
      tools = await ensureTools([DNSPERF, UNBOUND], ctx.log)
    } catch (e) {
      ctx.report.problem(`scenario udp not measured: ${(e as Error).message}`)
      return
    }
    const dnsPort = await freePort()
    let server: SoakServer | undefined
    let unbound: Unbound | undefined
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-udp-'))
    try {
      server = await startSoakServer({ DNS_PORT: String(dnsPort) })
      ctx.log(`npm start server pid ${server.pid}: API ${server.url}, classic DNS on 127.0.0.1:${dnsPort}`)
      const zone = await seedZone(ctx, server.call)
      unbound = await startUnbound(tools.unbound!, zone, ctx, 'udp')

      const targets: Target[] = [
        { name: 'switchboard (Node, npm start)', port: dnsPort, pid: server.pid, runs: [] },
        { name: `Unbound ${packageVersion('unbound') ?? ''}`.trim(), port: unbound.port, pid: unbound.child.pid!, runs: [] },
      ]
      let failed = false
      for (const t of targets) {
        const wrong = await checkUdpAnswers(t.port, zone)
        const line = `UDP answers checked before measuring (${t.name}): ${zone.length - wrong.length}/${zone.length} A queries answered NOERROR with exactly the expected addresses`
        ctx.log(line)
        if (wrong.length) {
          failed = true
          ctx.report.problem(`${line}; ${wrong.slice(0, 3).join('; ')}`)
        } else ctx.report.note(line)
      }
      if (failed) return

      const data = join(dir, 'queries.txt')
      writeFileSync(data, zone.map((s) => `${s.fqdn} A`).join('\n') + '\n')
      for (let round = 0; round < UDP.rounds; round++) {
        const order = round % 2 === 0 ? targets : [...targets].reverse()
        for (const t of order) {
          await dnsperf(tools.dnsperf!, t, data, UDP.warmupSeconds)
          const run = await dnsperf(tools.dnsperf!, t, data, UDP.seconds)
          t.runs.push(run)
          ctx.log(`udp round ${round + 1}: ${t.name} ${fmt(Math.round(run.qps))} queries/s, p50 ${run.p50Ms.toFixed(3)} ms, p99 ${run.p99Ms.toFixed(3)} ms, lost ${run.lost}`)
        }
      }
      const [ours, theirs] = targets.map((t) => ({ t, m: median(t.runs) }))
      const rows = [ours!, theirs!].map(({ t, m }) => [
        t.name,
        fmt(Math.round(m.qps)),
        m.p50Ms.toFixed(3),
        m.p99Ms.toFixed(3),
        `${m.lost} of ${fmt(m.sent)}`,
        m.serverCores.toFixed(2),
        m.qps > 0 ? ((m.serverCores / m.qps) * 1e6).toFixed(1) : '-',
        m.loadCores.toFixed(2),
        t.runs.map((r) => fmt(Math.round(r.qps))).join(', '),
      ])
      const ratio = theirs!.m.qps > 0 ? ours!.m.qps / theirs!.m.qps : undefined
      const headless = zone.filter((s) => s.headless).length
      ctx.report.section('Classic DNS over UDP: queries/s with dnsperf, beside Unbound', [
        `Zone: the DoH scenario's, ${zone.length} services in namespace ${DOH.namespace} (${headless} headless answering ${DOH.podsPerService} A records, the rest 1), TTL ${DOH.ttl} s.`,
        `Query mix: dnsperf ${packageVersion('dnsperf') ?? ''} goes round the ${zone.length} A queries, no EDNS; one thread, one client socket, ${UDP.outstanding} queries outstanding (-q), ` +
          `timeout ${UDP.timeoutSeconds} s; ${UDP.rounds} rounds of ${UDP.warmupSeconds} s warm-up + ${UDP.seconds} s measured per target, the order alternating; the median round is shown.`,
        `Ours: npm start's own server (worker/node.ts) with DNS_PORT on 127.0.0.1, access control off, one JavaScript thread, fresh database; ` +
          `answers from the same Answerer and in-memory snapshot as DoH.`,
        `Unbound: ${unbound.summary[0]}`,
        ...unbound.summary.slice(1),
        `server CPU is the answering process' user+system CPU over the measured run, in cores; µs CPU/query is that over queries/s;`,
        `dnsperf CPU is the load generator's own (one thread: near 1.00 it, not the server, is the limit). The machine has 2 cores shared by all.`,
        '',
        renderTable(['target', 'queries/s', 'p50 ms', 'p99 ms', 'lost', 'server CPU', 'µs CPU/query', 'dnsperf CPU', 'rounds (queries/s)'], rows),
        '',
        `ours / Unbound = ${ratio === undefined ? '-' : ratio.toFixed(2)} (${fmt(Math.round(ours!.m.qps))} / ${fmt(Math.round(theirs!.m.qps))} queries/s over UDP)`,
        `  by server CPU per query (less sensitive to the rest of the machine): Unbound / ours = ${cpuRatio(theirs!.m, ours!.m)}`,
      ])
      const lost = targets.flatMap((t) => t.runs).reduce((n, r) => n + r.lost, 0)
      if (lost) ctx.report.note(`udp: ${lost} queries timed out in the measured runs (dnsperf "T")`)
    } catch (e) {
      ctx.report.problem(`scenario udp not measured: ${(e as Error).message}`)
    } finally {
      await unbound?.stop()
      await server?.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  },
}

/** Asks every A query of the zone once over UDP; returns a description of each wrong answer. */
async function checkUdpAnswers(port: number, zone: ZoneService[]): Promise<string[]> {
  const wrong: string[] = []
  for (const svc of zone) {
    try {
      const msg = decodeMessage(await udpExchange(port, query(svc.fqdn, TYPE.A)))
      const got = msg.answers.map((r) => (r.data.kind === 'A' ? r.data.address : '?')).sort()
      if (msg.header.rcode !== RCODE.NOERROR) wrong.push(`${svc.fqdn}: rcode ${msg.header.rcode}`)
      else if (got.join() !== svc.addresses.join()) wrong.push(`${svc.fqdn}: A ${got.join(',')}, expected ${svc.addresses.join(',')}`)
    } catch (e) {
      wrong.push(`${svc.fqdn}: ${(e as Error).message}`)
    }
  }
  return wrong
}

/** One dnsperf run of `seconds` against the target; CPU of the target's process over it. */
async function dnsperf(bin: string, t: Target, data: string, seconds: number): Promise<Run> {
  const args = ['-s', '127.0.0.1', '-p', String(t.port), '-m', 'udp', '-d', data, '-l', String(seconds), '-c', '1', '-T', '1', '-q', String(UDP.outstanding), '-t', String(UDP.timeoutSeconds), '-v']
  const cpu0 = cpuOf(t.pid)
  const load0 = childrenCpu()
  const t0 = performance.now()
  const out = await new Promise<string>((resolve, reject) => {
    execFile(bin, args, { maxBuffer: 512 * 2 ** 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`dnsperf ${args.join(' ')} failed: ${error.message}\n${stderr.slice(-2000)}`))
      else resolve(stdout)
    })
  })
  const wall = (performance.now() - t0) / 1000
  const cores = (cpuOf(t.pid) - cpu0) / wall
  const loadCores = (childrenCpu() - load0) / wall
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? NaN)
  // Per query: "> NOERROR <name> A <latency in seconds>"; timed-out ones report "T".
  const latencies: number[] = []
  for (const m of out.matchAll(/^> (\S+) .* (\d+\.\d+)$/gm)) latencies.push(Number(m[2]) * 1000)
  latencies.sort((a, b) => a - b)
  const at = (q: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]! : NaN)
  return {
    qps: num(/Queries per second:\s+([\d.]+)/),
    sent: num(/Queries sent:\s+(\d+)/),
    completed: num(/Queries completed:\s+(\d+)/),
    lost: num(/Queries lost:\s+(\d+)/),
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    serverCores: cores,
    loadCores,
  }
}

/** a's CPU per query over b's. */
function cpuRatio(a: Run, b: Run): string {
  const per = (r: Run) => (r.qps > 0 ? r.serverCores / r.qps : NaN)
  const x = per(a) / per(b)
  return Number.isFinite(x) ? x.toFixed(2) : '-'
}

function median(runs: Run[]): Run {
  const sorted = [...runs].sort((a, b) => a.qps - b.qps)
  return sorted[Math.floor(sorted.length / 2)]!
}
