/**
 * The printed report: the machine, the settings, one table of scenario rows with each
 * row's throughput as a fraction of the constant-response ceiling measured in the same
 * run, and the notes a reader needs to judge the numbers.
 */
import { cpus, freemem, platform, release, totalmem } from 'node:os'
import type { LoadResult, Transport } from './load'

/** How a row's work was driven: over HTTP by the load generator, or in the server's own process (the storage rows). */
export type Source = Transport | 'in-process'

export interface Row {
  /** The group the row belongs to; its ceilings are the rows of the same group marked `ceiling`. */
  group: string
  scenario: string
  existing: string
  result: LoadResult
  /** How the row's requests were sent, or `in-process` for work the server ran on its own (no HTTP). */
  transport: Source
  /**
   * Marks the row as the group's ceiling for its transport: the constant-response row over
   * HTTP; in-process, the raw single-commit rate of the storage (what "vs storage" divides by).
   */
  ceiling?: boolean
  /** Fraction of a core the server process used during the measured phase. */
  serverCores?: number
  /** Event-loop utilisation of the server during the measured phase (0–1). */
  serverElu?: number
  /** Cores' worth of CPU the rest of the machine used during the measured phase. */
  otherCores?: number
  /** Of the machine's busy time, the softirq part (kernel networking) and the steal part (other guests of the host), in cores. */
  softirqCores?: number
  stealCores?: number
}

/** A row's server CPU per successful request, µs (all the server's threads); NaN without a CPU figure or requests. */
export function serverMicrosPerRequest(r: Row | undefined): number {
  return r?.serverCores === undefined || !r.result.rps ? NaN : (r.serverCores * 1e6) / r.result.rps
}

/**
 * The machine's softirq and steal time during a row, when known: softirq is mostly the
 * kernel's processing of the benchmark's own loopback traffic, steal the time the host
 * ran other guests while this one wanted to run (neither is in any process' CPU time).
 */
export function otherBreakdown(r: { softirqCores?: number | undefined; stealCores?: number | undefined }): string {
  if (r.softirqCores === undefined || r.stealCores === undefined) return ''
  return `; the machine also spent ${r.softirqCores.toFixed(2)} cores in softirq (kernel networking, mostly this benchmark's loopback traffic) and lost ${r.stealCores.toFixed(2)} cores to steal (the host running other guests)`
}

export class Report {
  readonly rows: Row[] = []
  readonly notes: string[] = []
  /** Checks that failed: the data the server holds is not what the load generator wrote. */
  readonly problems: string[] = []
  readonly settings: [string, string][] = []
  /** Titled blocks of text a scenario prints after the main table. */
  readonly sections: { title: string; lines: string[] }[] = []

  add(row: Row): void {
    this.rows.push(row)
  }

  note(text: string): void {
    this.notes.push(text)
  }

  problem(text: string): void {
    this.problems.push(text)
  }

  setting(name: string, value: string): void {
    this.settings.push([name, value])
  }

  section(title: string, lines: string[]): void {
    this.sections.push({ title, lines })
  }

  ceilingOf(group: string, transport: Source): Row | undefined {
    return this.rows.find((r) => r.group === group && r.ceiling && r.transport === transport)
  }

  /** The row's req/s over its group's ceiling measured with `transport`, or undefined without one. */
  ratio(row: Row, transport: Source = row.transport): number | undefined {
    const ceiling = this.ceilingOf(row.group, transport)
    if (!ceiling || ceiling.result.rps === 0) return undefined
    return row.result.rps / ceiling.result.rps
  }

  /** Readings of the rows that change what their numbers mean. */
  caveats(): string[] {
    const out: string[] = []
    for (const r of this.rows) {
      const where = `${r.scenario}${r.transport === 'http' ? ' [node:http client]' : ''} @ ${r.existing}`
      if (r.ceiling && r.transport !== 'in-process' && r.serverElu !== undefined && r.serverElu < 0.9) {
        out.push(
          `${where}: the server's event loop was only ${(r.serverElu * 100).toFixed(0)}% busy, so this ceiling is not the ` +
            `server's: it is held down by the load generator (${r.result.clientCores.toFixed(2)} cores)` +
            (r.otherCores !== undefined ? ` and the rest of the machine (${r.otherCores.toFixed(2)} cores)` : '') +
            `; at full load the server would answer roughly ${int(r.result.rps / r.serverElu)} req/s (req/s ÷ loop busy, an extrapolation)`,
        )
      }
      if (r.otherCores !== undefined && r.otherCores > 0.25) {
        out.push(`${where}: other processes used ${r.otherCores.toFixed(2)} cores meanwhile${otherBreakdown(r)}; this row is depressed by the shared machine`)
      }
    }
    return out
  }

  table(): string {
    return renderTable(
      [
        'scenario', 'existing pods', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'mean ms', 'max ms', 'errors',
        'vs ceiling', 'vs node:http ceiling', 'vs storage', 'server loop busy', 'server CPU', 'server CPU µs/req', 'client CPU', 'other CPU',
      ],
      this.rows.map((r) => {
        const ratio = this.ratio(r, 'fetch')
        const httpRatio = this.ratio(r, 'http')
        const storageRatio = this.ratio(r, 'in-process')
        const name = r.transport === 'http' ? `${r.scenario} [node:http client]` : r.transport === 'in-process' ? `${r.scenario} [in-process]` : r.scenario
        return [
          r.ceiling ? `${name} (${r.transport === 'in-process' ? 'storage' : 'ceiling'})` : name,
          r.existing,
          int(r.result.requests),
          int(r.result.rps),
          ms(r.result.latency.p50),
          ms(r.result.latency.p99),
          ms(r.result.latency.mean),
          ms(r.result.latency.max),
          int(r.result.errors),
          percent(ratio),
          percent(httpRatio),
          percent(storageRatio),
          r.serverElu === undefined ? '-' : `${(r.serverElu * 100).toFixed(0)}%`,
          r.serverCores === undefined ? '-' : `${r.serverCores.toFixed(2)} cores`,
          Number.isFinite(serverMicrosPerRequest(r)) ? micros(serverMicrosPerRequest(r)) : '-',
          `${r.result.clientCores.toFixed(2)} cores`,
          r.otherCores === undefined ? '-' : `${r.otherCores.toFixed(2)} cores`,
        ]
      }),
    )
  }

  render(): string {
    const cpu = cpus()
    const out: string[] = []
    out.push('Machine')
    out.push(`  cpu       ${cpu[0]?.model ?? 'unknown'} × ${cpu.length} cores`)
    out.push(`  memory    ${gib(totalmem())} total, ${gib(freemem())} free at the end`)
    out.push(`  os        ${platform()} ${release()}`)
    out.push(`  node      ${process.version}`)
    out.push('')
    out.push('Settings')
    const w = Math.max(...this.settings.map(([k]) => k.length))
    for (const [k, v] of this.settings) out.push(`  ${k.padEnd(w)}  ${v}`)
    // The load-generator table, when a scenario measured with it (writes, endpoints, pick).
    if (this.rows.length) {
      out.push('')
      out.push(this.table())
      out.push('')
      out.push('req/s counts 2xx answers only; latencies cover every measured request. "vs ceiling" is the row\'s')
      out.push('req/s over the constant-response row measured the same way (global fetch) at the same pod count;')
      out.push('"vs node:http ceiling" over the constant-response row driven by the lighter node:http client;')
      out.push('"vs storage" over the raw storage row of the same pod count: one-row UPDATE batches committed one')
      out.push('at a time in the server process, on its own libSQL client and file, no HTTP ([in-process] rows: a')
      out.push('"request" is one committed batch, latency from the batch call to its acknowledgement, no client).')
      out.push('server CPU µs/req is the server\'s CPU time per successful request (server CPU ÷ req/s).')
      out.push('server loop busy is the server\'s event-loop utilisation over the measured phase (near 100%: the')
      out.push('server is the bottleneck); server CPU and client CPU are each process\'s user+system CPU time over')
      out.push(`the measured wall time (the load generator is this process); other CPU is what the rest of the`)
      out.push(`machine used meanwhile (from /proc/stat). The machine has ${cpu.length} cores in all.`)
    }
    for (const section of this.sections) {
      out.push('')
      out.push(section.title)
      out.push(...section.lines)
    }
    const errored = this.rows.filter((r) => r.result.errors > 0 || r.result.warmupErrors > 0)
    if (errored.length) {
      out.push('')
      out.push('Errors')
      for (const r of errored) {
        const by = Object.entries(r.result.errorsBy).map(([k, v]) => `${k}: ${v}`).join(', ')
        out.push(`  ${r.scenario} @ ${r.existing}: ${r.result.errors} measured (${by || 'none'}), ${r.result.warmupErrors} in warm-up`)
        for (const s of r.result.errorSamples) out.push(`    ${s}`)
      }
    }
    if (this.problems.length) {
      out.push('')
      out.push('Problems')
      for (const p of this.problems) out.push(`  - ${p}`)
    }
    const caveats = this.caveats()
    if (caveats.length) {
      out.push('')
      out.push('Caveats')
      for (const c of caveats) out.push(`  - ${c}`)
    }
    if (this.notes.length) {
      out.push('')
      out.push('Notes')
      for (const n of this.notes) out.push(`  - ${n}`)
    }
    return out.join('\n')
  }
}

/** A markdown table: the first column left-aligned, the others right-aligned. */
export function renderTable(head: string[], body: string[][]): string {
  const right = head.map((_, i) => i > 0)
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)))
  const line = (cells: string[]) =>
    '| ' + cells.map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ') + ' |'
  const rule = '|' + widths.map((w, i) => (right[i] ? '-'.repeat(w + 1) + ':' : '-'.repeat(w + 2))).join('|') + '|'
  return [line(head), rule, ...body.map(line)].join('\n')
}

function percent(ratio: number | undefined): string {
  return ratio === undefined ? '-' : `${(ratio * 100).toFixed(1)}%`
}

export function int(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-'
}

/** Microseconds: one decimal below 100, whole above. */
function micros(n: number): string {
  return n < 100 ? n.toFixed(1) : int(n)
}

export function ms(n: number): string {
  if (!Number.isFinite(n)) return '-'
  return n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0)
}

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)} GiB`
}
