/**
 * The soak's part of the report: latency per operation per bucket (p50 / p99), the
 * requests, errors, memory and CPU of each bucket, each operation's totals and drift (its
 * last bucket's p99 over its first's), the server's memory, the watches' checks, and the
 * errors by kind with their first samples.
 */
import { cpus } from 'node:os'
import type { Memory } from './soak-server'
import type { Timeline } from './soak-timeline'
import { machineCores, type BenchContext, type SystemTicks } from './scenario'
import { int, ms, renderTable } from './report'

/** One reading, taken every second and at each bucket's edges. */
export interface Sample {
  at: number
  memory: Memory | undefined
  /** CPU seconds so far: the server's (from /proc) and this process' (the load generator). */
  serverCpu: number
  clientCpu: number
  ticks: SystemTicks | undefined
  /** The database file, in bytes. */
  dbBytes: number
  /** Its WAL, in bytes: bounded, and reused from its start under writes (worker/db/checkpointer.ts). */
  walBytes: number
}

export interface SoakResult {
  timeline: Timeline
  samples: Sample[]
  memory: { idle: Memory | undefined; start: Memory | undefined; end: Memory | undefined }
  /** Rows of the watches table. */
  watches: string[][]
  warmupSeconds: number
  /** The load loops, described. */
  steps: string[]
  /** The operation every other's drift is set beside. */
  baseline: string
}

export function soakSection(ctx: BenchContext, r: SoakResult): void {
  const { timeline } = r
  const ops = timeline.ops()
  const buckets = Array.from({ length: timeline.buckets }, (_, b) => b)
  const span = timeline.bucketMs / 1000
  const label = (b: number) => (span === 60 ? `min ${b + 1}` : `${(b * span).toFixed(0)}–${((b + 1) * span).toFixed(0)} s`)
  const at = (b: number) => timeline.startedAt + b * timeline.bucketMs
  // The samples taken at the measured start and at each bucket's end, by time.
  const edge = (b: number) => r.samples.reduce((best, s) => (Math.abs(s.at - at(b)) < Math.abs(best.at - at(b)) ? s : best))

  const latency = renderTable(
    ['bucket', ...ops],
    buckets.map((b) => [
      label(b),
      ...ops.map((op) => {
        const s = timeline.summary(op, b)
        return s.count ? `${ms(s.latency.p50)} / ${ms(s.latency.p99)}` : '-'
      }),
    ]),
  )
  const resources = renderTable(
    ['bucket', 'requests', 'req/s', 'errors', 'server RSS at end', 'database file / WAL at end', 'server CPU', 'load generator CPU', 'other CPU'],
    buckets.map((b) => {
      const a = edge(b)
      const z = edge(b + 1)
      const wall = (z.at - a.at) / 1000
      const requests = ops.filter((op) => !op.startsWith('watch')).reduce((sum, op) => sum + timeline.summary(op, b).count, 0)
      const machine = machineCores(a.ticks, z.ticks)
      const server = (z.serverCpu - a.serverCpu) / wall
      const client = (z.clientCpu - a.clientCpu) / wall
      return [
        label(b),
        int(requests),
        int(requests / span),
        int(timeline.errorsPerBucket[b] ?? 0),
        mib(z.memory?.rss),
        `${(z.dbBytes / 1e6).toFixed(1)} / ${(z.walBytes / 1e6).toFixed(1)} MB`,
        `${server.toFixed(2)} cores`,
        `${client.toFixed(2)} cores`,
        machine ? `${Math.max(0, machine.busy - server - client).toFixed(2)} cores` : '-',
      ]
    }),
  )
  const last = timeline.buckets - 1
  const drift = (op: string) => {
    const first = timeline.summary(op, 0).latency
    const end = timeline.summary(op, last).latency
    return { first, last: end, p99: end.p99 / first.p99 }
  }
  const base = drift(r.baseline)
  const totals = renderTable(
    ['operation', 'count', 'per s', 'p50 ms', 'p99 ms', 'max ms', `p99 ${label(0)}`, `p99 ${label(last)}`, 'p99 drift (last / first)', 'p50 drift', 'p99 drift ÷ baseline\'s'],
    ops.map((op) => {
      const all = timeline.summary(op)
      const d = drift(op)
      return [op, int(all.count), int(all.count / (span * timeline.buckets)), ms(all.latency.p50), ms(all.latency.p99), ms(all.latency.max), ms(d.first.p99), ms(d.last.p99), ratio(d.last.p99, d.first.p99), ratio(d.last.p50, d.first.p50), op === r.baseline ? '' : ratio(d.p99, base.p99)]
    }),
  )
  const { idle, start, end } = r.memory
  const peak = end?.peak
  const errors = [...timeline.errors].flatMap(([kind, e]) => [`  ${kind}: ${e.count}`, ...e.samples.map((s) => `    ${s}`)])
  ctx.report.section(`Soak: ${fmtMinutes(span * timeline.buckets)} of mixed load against npm start's server (worker/node.ts)`, [
    `Load (paced closed loops, one request in flight per loop): ${r.steps.join('; ')}; 3 watches. ${r.warmupSeconds.toFixed(0)} s of the same load ran first, unmeasured ` +
      `(its errors are counted, in the first bucket).`,
    '',
    `Latency per bucket, p50 / p99 ms (each request alone; a paged list is one request per page; watch delivery is from a write's ` +
      `answer to its event on the pods watch, whichever came second; the p99 of fewer than 100 requests is their maximum):`,
    ...latency.split('\n'),
    '',
    ...resources.split('\n'),
    '',
    ...totals.split('\n'),
    '',
    `Server memory (/proc/<pid>/status): ${mib(idle?.rss)} idle after start; ${mib(start?.rss)} when the measurement started; ${mib(end?.rss)} at the end ` +
      `(${start && end ? `${end.rss >= start.rss ? '+' : ''}${mib(end.rss - start.rss)}` : '-'}); peak ${mib(peak)} (VmHWM, the whole run). ` +
      `Over the second half of the soak RSS moved ${slope(r.samples.filter((x) => x.at >= at(timeline.buckets / 2) && x.at <= at(timeline.buckets)))} ` +
      `(least-squares slope of the samples taken every second; a registry that holds steady shows about 0).`,
    '',
    'Watches (list, then watch with bookmarks from the list\'s resourceVersion, resuming from the last one seen):',
    ...renderTable(['watch', 'path', 'events', 'bookmarks', 'writes seen', 'gaps', 'end state vs a list', 'resumed', 're-listed'], r.watches).split('\n'),
    '',
    timeline.errorCount ? `Errors by kind (${timeline.errorCount}):` : 'Errors: none (every answer was the expected status and checked; no watch gap, disorder or difference).',
    ...errors,
    `The database file holds the change log, which keeps CHANGE_LOG_RETENTION_SECONDS of events and is compacted every 10 s, so it should level off; the WAL beside it is bounded (about 41 MB under steady writes, reused from its start, and emptied when writes pause). CPU columns are cores over each bucket's wall time (/proc/<pid>/stat for the server, process.cpuUsage for the load generator, /proc/stat for the rest); ` +
      `the machine has ${cpus().length} cores, shared with other work, so "other CPU" says how much of a drift is the machine's. ` +
      `The baseline is ${r.baseline}, a constant answer through the same server: an operation's drift over the baseline's is what the registry adds to the machine's.`,
  ])
}

function ratio(a: number, b: number): string {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '-'
}

function fmtMinutes(seconds: number): string {
  return seconds >= 60 ? `${+(seconds / 60).toFixed(2)} min` : `${seconds.toFixed(0)} s`
}

export function mib(bytes: number | undefined): string {
  return bytes === undefined || !Number.isFinite(bytes) ? '-' : `${(bytes / 2 ** 20).toFixed(0)} MiB`
}

/** The least-squares slope of the samples' RSS over time, in MiB per minute. */
function slope(samples: Sample[]): string {
  const points = samples.filter((x) => x.memory).map((x) => [x.at / 60_000, x.memory!.rss / 2 ** 20] as const)
  if (points.length < 2) return '-'
  const mx = points.reduce((sum, [x]) => sum + x, 0) / points.length
  const my = points.reduce((sum, [, y]) => sum + y, 0) / points.length
  const sxx = points.reduce((sum, [x]) => sum + (x - mx) ** 2, 0)
  const sxy = points.reduce((sum, [x, y]) => sum + (x - mx) * (y - my), 0)
  const perMinute = sxx > 0 ? sxy / sxx : NaN
  return Number.isFinite(perMinute) ? `${perMinute >= 0 ? '+' : ''}${perMinute.toFixed(1)} MiB per minute` : '-'
}
