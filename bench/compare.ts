/**
 * Throughput of several HTTP targets side by side with h2load: every target is measured
 * in each of a few rounds, the order rotating from round to round, so that a change in
 * the load the rest of the machine puts on the cores falls on all targets alike rather
 * than on whichever came last. A target's figures are over all its rounds together:
 * req/s is its successful requests (h2load's "succeeded", complete with a 2xx status)
 * over its measured time, errors are h2load's failed requests (including 4xx and 5xx
 * answers and streams cut when a run stops) and any 3xx, and the latency percentiles are
 * over every logged request. Each run also records the CPU the serving process, the
 * processes relaying its requests (if any) and h2load used, the server's event-loop use
 * when the server is ours, and what the rest of the machine used.
 */
import { cpus } from 'node:os'
import { summarize, type Latency } from './load'
import { h2load, cpuOf, type H2loadResult, type Protocol } from './h2load'
import { int, ms, otherBreakdown, renderTable } from './report'
import { machineCores, systemTicks, type BenchContext } from './scenario'

export interface Target {
  name: string
  protocol: Protocol
  /** The process that answers, for its CPU time. */
  pid: number
  /** What answers: our server, or a reference. */
  server: string
  uris: string[]
  /** The constant-response row that the other rows of the same protocol are compared with. */
  ceiling?: boolean
  /** Whether the answering process is our server, whose event loop /bench/stats reports. */
  ours?: boolean
  /** Header lines sent with every request ("name: value"). */
  headers?: string[]
  /**
   * Other processes every request passes through (such as a local proxy in front of the
   * answering process): their CPU is reported apart, and not counted as the rest of the machine's.
   */
  relays?: Relay[]
}

export interface Relay {
  name: string
  pids: number[]
}

export interface Rounds {
  rounds: number
  seconds: number
  warmupSeconds: number
  clients: number
  streams: number
}

export interface TargetResult {
  target: Target
  runs: H2loadResult[]
  /** 2xx answers per second over all rounds. */
  rps: number
  requests: number
  errors: number
  latency: Latency
  /** Cores the answering process, h2load and the rest of the machine used, averaged over the rounds. */
  serverCores: number
  clientCores: number
  otherCores: number | undefined
  /** Parts of the machine's busy time: softirq (kernel networking) and steal (other guests of the host), in cores. */
  softirqCores: number | undefined
  stealCores: number | undefined
  /** Event-loop utilisation of our server over the runs (0–1), when the target is ours. */
  serverElu: number | undefined
  /** Cores each of the target's relays used, averaged over the rounds, in the order of `target.relays`. */
  relayCores: number[]
}

export async function compare(ctx: BenchContext, label: string, targets: Target[], o: Rounds, bin?: string): Promise<TargetResult[]> {
  type Run = {
    result: H2loadResult
    serverCores: number
    otherCores: number | undefined
    softirqCores: number | undefined
    stealCores: number | undefined
    elu: [number, number] | undefined
    relayCores: number[]
  }
  const runs = new Map<Target, Run[]>(
    targets.map((t) => [t, []]),
  )
  for (let round = 0; round < o.rounds; round++) {
    for (let i = 0; i < targets.length; i++) {
      const target = targets[(i + round) % targets.length]!
      const stats0 = target.ours ? await ctx.server.stats('') : undefined
      const relays = target.relays ?? []
      const relay0 = relays.map((r) => cpuOfAll(r.pids))
      const cpu0 = cpuOf(target.pid)
      const sys0 = systemTicks()
      const result = await h2load({
        uris: target.uris,
        protocol: target.protocol,
        clients: o.clients,
        streams: o.streams,
        seconds: o.seconds,
        warmupSeconds: o.warmupSeconds,
        ...(target.headers ? { headers: target.headers } : {}),
        ...(bin ? { bin } : {}),
      })
      const sys1 = systemTicks()
      const cpu1 = cpuOf(target.pid)
      const relayCores = relays.map((r, k) => (cpuOfAll(r.pids) - relay0[k]!) / result.wallSeconds)
      const stats1 = target.ours ? await ctx.server.stats('') : undefined
      const serverCores = (cpu1 - cpu0) / result.wallSeconds
      const machine = machineCores(sys0, sys1)
      const relayed = relayCores.reduce((a, c) => a + c, 0)
      const otherCores =
        machine === undefined || !Number.isFinite(serverCores) || !Number.isFinite(relayed) ? undefined : Math.max(0, machine.busy - serverCores - relayed - result.cores)
      const elu: [number, number] | undefined =
        stats0 && stats1 ? [stats1.eluActive - stats0.eluActive, stats1.eluIdle - stats0.eluIdle] : undefined
      runs.get(target)!.push({ result, serverCores, otherCores, softirqCores: machine?.softirq, stealCores: machine?.steal, elu, relayCores })
      const errors = result.failed + result.status['3xx']
      ctx.log(
        `${label} round ${round + 1}/${o.rounds}: ${target.name} [${target.server}, ${target.protocol}]: ${int(result.okRps)} req/s, ` +
          `mean ${ms(result.latency.mean)} ms, p99 ${ms(result.latency.p99)} ms, ${errors} errors; ` +
          `server ${serverCores.toFixed(2)} cores, ` +
          relays.map((r, k) => `${r.name} ${relayCores[k]!.toFixed(2)} cores, `).join('') +
          `h2load ${result.cores.toFixed(2)} cores` +
          (otherCores !== undefined ? `, other processes ${otherCores.toFixed(2)} cores (softirq ${machine!.softirq.toFixed(2)}, steal ${machine!.steal.toFixed(2)})` : ''),
      )
    }
  }
  return targets.map((target) => {
    const list = runs.get(target)!
    const ok = list.reduce((a, r) => a + r.result.succeeded - r.result.status['3xx'], 0)
    const requests = list.reduce((a, r) => a + r.result.requests, 0)
    // h2load's req/s is over its measured duration; the time each run measured follows from it.
    const seconds = list.reduce((a, r) => a + (r.result.rps > 0 ? r.result.requests / r.result.rps : o.seconds), 0)
    const samples = new Float64Array(list.reduce((a, r) => a + r.result.samples.length, 0))
    let at = 0
    for (const r of list) {
      samples.set(r.result.samples, at)
      at += r.result.samples.length
    }
    const mean = (f: (r: Run) => number | undefined) => {
      const v = list.map(f)
      return v.some((x) => x === undefined || !Number.isFinite(x)) ? undefined : v.reduce<number>((a, x) => a + x!, 0) / v.length
    }
    const active = list.reduce((a, r) => a + (r.elu?.[0] ?? 0), 0)
    const idle = list.reduce((a, r) => a + (r.elu?.[1] ?? 0), 0)
    return {
      target,
      runs: list.map((r) => r.result),
      rps: seconds > 0 ? ok / seconds : 0,
      requests,
      errors: list.reduce((a, r) => a + r.result.failed + r.result.status['3xx'], 0),
      latency: summarize(samples),
      serverCores: mean((r) => r.serverCores) ?? NaN,
      clientCores: mean((r) => r.result.cores) ?? NaN,
      otherCores: mean((r) => r.otherCores),
      softirqCores: mean((r) => r.softirqCores),
      stealCores: mean((r) => r.stealCores),
      serverElu: target.ours && active + idle > 0 ? active / (active + idle) : undefined,
      relayCores: (target.relays ?? []).map((_, k) => mean((r) => r.relayCores[k]) ?? NaN),
    }
  })
}

/** Server CPU per successful request, in microseconds (the server's cores over its req/s); or a relay's, given its cores. */
export function cpuPerRequest(r: TargetResult | undefined, cores = r?.serverCores): number | undefined {
  return r && r.rps > 0 && cores !== undefined && Number.isFinite(cores) ? (cores / r.rps) * 1e6 : undefined
}

function cpuOfAll(pids: number[]): number {
  return pids.reduce((a, pid) => a + cpuOf(pid), 0)
}

/** The ceiling row of the result's protocol, if it is not the ceiling itself. */
export function ceilingFor(results: TargetResult[], r: TargetResult): TargetResult | undefined {
  return results.find((c) => c.target.ceiling && c.target.protocol === r.target.protocol)
}

export function ratio(a: TargetResult | undefined, b: TargetResult | undefined): number | undefined {
  return a && b && b.rps > 0 ? a.rps / b.rps : undefined
}

/** The table of a comparison: one row per target. */
export function compareTable(results: TargetResult[]): string {
  return renderTable(
    [
      'target', 'server', 'protocol', 'requests', 'req/s', 'mean ms', 'p50 ms', 'p99 ms', 'max ms', 'errors', 'vs ceiling (same protocol)',
      'req/s by round', 'answer bytes', 'server loop busy', 'server CPU', 'server CPU per request', 'h2load CPU', 'other CPU', 'machine softirq / steal',
    ],
    results.map((r) => {
      const c = ceilingFor(results, r)
      return [
        r.target.ceiling ? `${r.target.name} (ceiling)` : r.target.name,
        r.target.server,
        r.target.protocol,
        int(r.requests),
        int(r.rps),
        ms(r.latency.mean),
        ms(r.latency.p50),
        ms(r.latency.p99),
        ms(r.latency.max),
        int(r.errors),
        r.target.ceiling ? '-' : pct(ratio(r, c)),
        r.runs.map((x) => int(x.okRps)).join(' / '),
        int(average(r.runs.map((x) => x.bytesPerRequest))),
        r.serverElu === undefined ? '-' : `${(r.serverElu * 100).toFixed(0)}%`,
        `${r.serverCores.toFixed(2)} cores`,
        cpuPerRequest(r) === undefined ? '-' : `${cpuPerRequest(r)!.toFixed(0)} µs`,
        `${r.clientCores.toFixed(2)} cores`,
        r.otherCores === undefined ? '-' : `${r.otherCores.toFixed(2)} cores`,
        r.softirqCores === undefined || r.stealCores === undefined ? '-' : `${r.softirqCores.toFixed(2)} / ${r.stealCores.toFixed(2)}`,
      ]
    }),
  )
}

/** The readings that change what a comparison's numbers mean: a busy machine, a ceiling not reached. */
export function compareCaveats(results: TargetResult[]): string[] {
  const out: string[] = []
  for (const r of results) {
    const where = `${r.target.name} [${r.target.server}, ${r.target.protocol}]`
    if (r.otherCores !== undefined && r.otherCores > 0.25) {
      out.push(`${where}: other processes used ${r.otherCores.toFixed(2)} cores (of ${cpus().length}) meanwhile${otherBreakdown(r)}; this row is depressed by the shared machine`)
    }
    if (r.serverElu !== undefined && r.serverElu < 0.9) {
      out.push(
        `${where}: the server's event loop was only ${(r.serverElu * 100).toFixed(0)}% busy, so the server was not the only bottleneck ` +
          `(h2load ${r.clientCores.toFixed(2)} cores` + (r.otherCores !== undefined ? `, the rest of the machine ${r.otherCores.toFixed(2)} cores` : '') + ')',
      )
    }
  }
  return out
}

export function pct(r: number | undefined): string {
  return r === undefined ? '-' : `${(r * 100).toFixed(1)}%`
}

function average(v: number[]): number {
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN
}
