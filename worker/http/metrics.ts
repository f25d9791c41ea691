/**
 * The registry's metrics and their Prometheus text exposition (format 0.0.4): counters
 * and histograms kept in memory by this process or isolate, and gauges read when the
 * metrics are scraped (collectors). No dependency: the format is small, and this runs in
 * Workers as well as in Node.
 *
 * Label values are escaped as the format says (`\\`, `\"`, `\n`); HELP text likewise
 * (`\\`, `\n`). A histogram writes cumulative `_bucket` lines ending with `le="+Inf"`
 * (equal to `_count`), then `_sum` and `_count`.
 */

export type Labels = Record<string, string>
export type MetricType = 'counter' | 'gauge' | 'histogram'

export interface Sample {
  labels?: Labels
  value: number
}

/** One metric family as exposed: a histogram's samples are written by `Histogram`. */
export interface Family {
  name: string
  help: string
  type: MetricType
  samples: Sample[]
  /** A histogram's own text (its _bucket, _sum and _count lines). */
  text?: () => string[]
}

/** Gauges (or counters kept elsewhere) read at scrape time; a collector that fails leaves its families out. */
export type Collector = () => Family[] | Promise<Family[]>

/** Request latencies, in seconds: 1 ms to 10 s. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

export class Counter {
  private readonly values = new Map<string, { labels: Labels; value: number }>()

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = labelKey(labels)
    const found = this.values.get(key)
    if (found) found.value += by
    else this.values.set(key, { labels, value: by })
  }

  family(): Family {
    return { name: this.name, help: this.help, type: 'counter', samples: [...this.values.values()] }
  }
}

export class Histogram {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>()

  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[] = LATENCY_BUCKETS,
  ) {}

  observe(labels: Labels, value: number): void {
    const key = labelKey(labels)
    let s = this.series.get(key)
    if (!s) this.series.set(key, (s = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 }))
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++
    s.sum += value
    s.count++
  }

  family(): Family {
    return {
      name: this.name,
      help: this.help,
      type: 'histogram',
      samples: [],
      text: () => {
        const lines: string[] = []
        for (const s of this.series.values()) {
          this.buckets.forEach((le, i) => lines.push(sampleLine(`${this.name}_bucket`, { ...s.labels, le: formatNumber(le) }, s.counts[i]!)))
          lines.push(sampleLine(`${this.name}_bucket`, { ...s.labels, le: '+Inf' }, s.count))
          lines.push(sampleLine(`${this.name}_sum`, s.labels, s.sum))
          lines.push(sampleLine(`${this.name}_count`, s.labels, s.count))
        }
        return lines
      },
    }
  }
}

/** The metrics of one app: its counters and histograms, and the collectors read at scrape time. */
export class Metrics {
  private readonly owned: (Counter | Histogram)[] = []
  private readonly collectors: Collector[] = []

  counter(name: string, help: string): Counter {
    const c = new Counter(name, help)
    this.owned.push(c)
    return c
  }

  histogram(name: string, help: string, buckets?: readonly number[]): Histogram {
    const h = new Histogram(name, help, buckets)
    this.owned.push(h)
    return h
  }

  collect(collector: Collector): void {
    this.collectors.push(collector)
  }

  /** The exposition text: every family once, its HELP and TYPE lines first. */
  async render(): Promise<string> {
    const families = this.owned.map((m) => m.family())
    const collected = await Promise.all(this.collectors.map((c) => Promise.resolve().then(c).catch(() => [] as Family[])))
    for (const list of collected) families.push(...list)
    const lines: string[] = []
    for (const f of families) {
      lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`)
      if (f.text) lines.push(...f.text())
      else for (const s of f.samples) lines.push(sampleLine(f.name, s.labels ?? {}, s.value))
    }
    return `${lines.join('\n')}\n`
  }
}

/** The content type of the text format. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

function sampleLine(name: string, labels: Labels, value: number): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`)
  return `${name}${pairs.length ? `{${pairs.join(',')}}` : ''} ${formatNumber(value)}`
}

export function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
}

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN'
  if (n === Infinity) return '+Inf'
  if (n === -Infinity) return '-Inf'
  return String(n)
}

function labelKey(labels: Labels): string {
  // Names and values joined by control characters, which neither holds: cheaper than JSON on every request.
  let key = ''
  for (const name in labels) key += `${name}\u0001${labels[name]}\u0002`
  return key
}
