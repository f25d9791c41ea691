/**
 * What every benchmark scenario shares: the running server, the report it adds rows
 * to, the load settings, and `measure`, which runs one closed-loop load against the
 * server and records the row with the server's CPU and event-loop use during the
 * measured phase.
 */
import { readFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { performance } from 'node:perf_hooks'
import type { BenchServer, ServerStats } from './harness'
import { runLoad, type LoadOptions, type LoadResult } from './load'
import type { Report, Row } from './report'

export interface BenchContext {
  server: BenchServer
  report: Report
  /** Requests in flight during every closed-loop measurement. */
  concurrency: number
  /** Progress output (stderr), kept apart from the report. */
  log: (message: string) => void
}

/** A named step of the benchmark; run.ts runs them in order against one server. */
export interface Scenario {
  name: string
  run: (ctx: BenchContext) => Promise<void>
}

export interface Measured {
  row: Row
  /** Server stats taken just before and just after the measured phase. */
  before: ServerStats
  after: ServerStats
}

export interface MeasureOptions extends Omit<LoadOptions, 'concurrency' | 'beforeMeasure' | 'afterMeasure'> {
  /** Runs right before the measured phase starts and right after it ends (inside the stats taken around it). */
  aroundMeasure?: { before: () => Promise<void>; after: () => Promise<void> }
  group: string
  scenario: string
  /** The namespace whose pods the stats count. */
  namespace: string
  ceiling?: boolean
  /** The existing-pods cell, from the pod counts before and after the measured phase. */
  existing?: (before: number, after: number) => string
}

export async function measure(ctx: BenchContext, options: MeasureOptions): Promise<Measured> {
  let before: ServerStats | undefined
  let after: ServerStats | undefined
  let t0 = 0
  let t1 = 0
  let sys0: SystemTicks | undefined
  let sys1: SystemTicks | undefined
  const result: LoadResult = await runLoad({
    ...options,
    concurrency: ctx.concurrency,
    beforeMeasure: async () => {
      before = await ctx.server.stats(options.namespace)
      sys0 = systemTicks()
      await options.aroundMeasure?.before()
      t0 = performance.now()
    },
    afterMeasure: async () => {
      t1 = performance.now()
      await options.aroundMeasure?.after()
      sys1 = systemTicks()
      after = await ctx.server.stats(options.namespace)
    },
  })
  if (!before || !after) throw new Error('server stats were not taken')
  const wall = (t1 - t0) / 1000
  const cpuMicros = after.cpuUserMicros + after.cpuSystemMicros - before.cpuUserMicros - before.cpuSystemMicros
  const active = after.eluActive - before.eluActive
  const idle = after.eluIdle - before.eluIdle
  const existing = options.existing ?? ((b: number, a: number) => (a === b ? fmt(b) : `${fmt(b)}→${fmt(a)}`))
  const serverCores = wall > 0 ? cpuMicros / 1e6 / wall : 0
  const machine = machineCores(sys0, sys1)
  const busyCores = machine?.busy
  const row: Row = {
    group: options.group,
    scenario: options.scenario,
    existing: existing(before.pods, after.pods),
    result,
    transport: options.transport ?? 'fetch',
    ...(options.ceiling ? { ceiling: true } : {}),
    serverCores,
    ...(busyCores !== undefined ? { otherCores: Math.max(0, busyCores - serverCores - result.clientCores) } : {}),
    ...(machine ? { softirqCores: machine.softirq, stealCores: machine.steal } : {}),
    serverElu: active + idle > 0 ? active / (active + idle) : 0,
  }
  ctx.report.add(row)
  const ratio = ctx.report.ratio(row)
  ctx.log(
    `${options.scenario}${row.transport === 'http' ? ' [node:http client]' : ''} @ ${row.existing}: ${result.requests} requests in ${result.seconds.toFixed(1)} s (stopped by ${result.stoppedBy}), ` +
      `${Math.round(result.rps)} req/s, p50 ${result.latency.p50.toFixed(2)} ms, p99 ${result.latency.p99.toFixed(2)} ms, ` +
      `${result.errors} errors` +
      (ratio !== undefined && !options.ceiling ? `, ${(ratio * 100).toFixed(1)}% of ceiling` : '') +
      `, server ${serverCores.toFixed(2)} cores (event loop ${(row.serverElu! * 100).toFixed(0)}% busy)` +
      (row.otherCores !== undefined ? `, other processes ${row.otherCores.toFixed(2)} cores` : ''),
  )
  return { row, before, after }
}

export interface SystemTicks {
  busy: number
  total: number
  /** Time in softirq handlers: mostly the kernel's network processing (here, loopback TCP). */
  softirq: number
  /** Time the hypervisor gave to other guests while this one wanted to run. */
  steal: number
}

/** What the whole machine used between two readings, in cores: busy in all, and the softirq and steal parts of it. */
export function machineCores(a: SystemTicks | undefined, b: SystemTicks | undefined): { busy: number; softirq: number; steal: number } | undefined {
  if (!a || !b || b.total <= a.total) return undefined
  const cores = (x: number) => (x / (b.total - a.total)) * cpus().length
  return { busy: cores(b.busy - a.busy), softirq: cores(b.softirq - a.softirq), steal: cores(b.steal - a.steal) }
}

/** Busy and total CPU time of the whole machine so far, from /proc/stat (Linux only). */
export function systemTicks(): SystemTicks | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!
    const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1, 9).map(Number)
    const total = user! + nice! + system! + idle! + iowait! + irq! + softirq! + steal!
    return { busy: total - idle! - iowait!, total, softirq: softirq!, steal: steal! }
  } catch {
    return undefined
  }
}

export function fmt(n: number): string {
  return n.toLocaleString('en-US')
}
