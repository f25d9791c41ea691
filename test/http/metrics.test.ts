/**
 * /metrics: the Prometheus text exposition, read by an independent parser
 * (parse-prometheus-text-format, a port of the Prometheus Python client's) and checked
 * against the format's own rules; counters that move with requests and writes,
 * consistent histograms, a label set that stays bounded under a thousand distinct paths,
 * no token anywhere in it, and who may read it.
 */
import parsePrometheusTextFormat, { type ParsedFamily, type ParsedSample } from 'parse-prometheus-text-format'
import { describe, expect, it } from 'vitest'
import { Metrics } from '../../worker/http/metrics'
import { testApp, type TestApp } from '../support/app'

const ROOT = 'root-credential-for-the-metrics-tests-0123456789'
const TOKENS = '/apis/switchboard.dev/v1/tokens'
const PODS = '/api/v1/namespaces/default/pods'
const POD_ROUTE = '/api/v1/namespaces/:namespace/pods/:name'
const LEASES = '/apis/coordination.k8s.io/v1/namespaces/default/leases'

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_PAIR = /^[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"$/
const VALUE = /^(?:[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|[+-]Inf|NaN)$/

interface Line {
  name: string
  labels: Record<string, string>
  value: number
}

interface Exposition {
  text: string
  /** As parse-prometheus-text-format reads it. */
  families: ParsedFamily[]
  /** Every sample line, as the format's grammar reads it. */
  lines: Line[]
  types: Map<string, string>
}

/**
 * The text format's rules (exposition_formats.md, "Text format details"): every line a
 * comment or a sample; a family's HELP and TYPE at most once each and before its
 * samples; sample names, label pairs and values as the grammar says; a histogram's
 * samples only _bucket (with le), _sum and _count, its buckets cumulative up to
 * le="+Inf", which equals _count. Every counter and gauge sample must read the same
 * through parse-prometheus-text-format (which merges a histogram's labelled series into
 * one, so histograms are read from the lines here).
 */
function checkedExposition(text: string): Exposition {
  expect(text.endsWith('\n')).toBe(true)
  const types = new Map<string, string>()
  const helped = new Set<string>()
  const sampled = new Set<string>()
  const lines: Line[] = []
  for (const line of text.slice(0, -1).split('\n')) {
    const comment = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line)
    if (comment) {
      const [, what, name, rest] = comment
      expect(name, line).toMatch(NAME)
      expect(sampled.has(name!), `${what} after samples: ${line}`).toBe(false)
      if (what === 'TYPE') {
        expect(types.has(name!), line).toBe(false)
        expect(['counter', 'gauge', 'histogram', 'summary', 'untyped']).toContain(rest)
        types.set(name!, rest!)
      } else {
        expect(helped.has(name!), line).toBe(false)
        helped.add(name!)
      }
      continue
    }
    const sample = /^([^{\s]+)(?:\{(.*)\})? (\S+)$/.exec(line)
    expect(sample, line).not.toBeNull()
    const [, name, labels, value] = sample!
    expect(name, line).toMatch(NAME)
    expect(value, line).toMatch(VALUE)
    const pairs = labels ? splitPairs(labels) : []
    for (const pair of pairs) expect(pair, line).toMatch(LABEL_PAIR)
    if (labels) expect(pairs.join(','), line).toBe(labels)
    const family = types.has(name!) ? name! : name!.replace(/_(bucket|sum|count)$/, '')
    expect(types.has(family), `a sample without a TYPE: ${line}`).toBe(true)
    if (types.get(family) === 'histogram') {
      expect(name, line).toMatch(/_(bucket|sum|count)$/)
      if (name!.endsWith('_bucket')) expect(labels, line).toMatch(/(^|,)le="/)
    }
    sampled.add(family)
    lines.push({ name: name!, labels: Object.fromEntries(pairs.map(unescapePair)), value: value === '+Inf' ? Infinity : Number(value) })
  }
  const families = parsePrometheusTextFormat(text)
  const exposition = { text, families, lines, types }
  for (const l of lines) {
    const type = types.get(l.name)
    if (type !== 'counter' && type !== 'gauge') continue
    const parsed = families.find((f) => f.name === l.name)?.metrics.find((m) => sameLabels(m.labels ?? {}, l.labels))
    expect(parsed, `${l.name} ${JSON.stringify(l.labels)}`).toBeDefined()
    expect(Number(parsed!.value)).toBe(l.value)
  }
  for (const [name, type] of types) if (type === 'histogram') for (const h of histograms(exposition, name)) checkHistogram(name, h)
  return exposition
}

/** Label pairs split at the commas between them (not those inside quoted values). */
function splitPairs(labels: string): string[] {
  return labels.match(/[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"/g) ?? []
}

function unescapePair(pair: string): [string, string] {
  const eq = pair.indexOf('=')
  const raw = pair.slice(eq + 2, -1)
  return [pair.slice(0, eq), raw.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))]
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  return Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v)
}

interface HistogramSeries {
  labels: Record<string, string>
  buckets: [number, number][]
  sum: number
  count: number
}

/** The series of a histogram, each by its labels (without le). */
function histograms(e: Exposition, name: string): HistogramSeries[] {
  const series = new Map<string, HistogramSeries>()
  for (const l of e.lines) {
    if (!l.name.startsWith(`${name}_`)) continue
    const { le, ...labels } = l.labels
    const key = JSON.stringify(Object.entries(labels).sort())
    let s = series.get(key)
    if (!s) series.set(key, (s = { labels, buckets: [], sum: NaN, count: NaN }))
    if (l.name === `${name}_bucket`) s.buckets.push([le === '+Inf' ? Infinity : Number(le), l.value])
    else if (l.name === `${name}_sum`) s.sum = l.value
    else if (l.name === `${name}_count`) s.count = l.value
  }
  return [...series.values()]
}

/** Buckets cumulative in `le` order, `+Inf` equal to `_count`, a sum that is a number. */
function checkHistogram(name: string, h: HistogramSeries): void {
  const buckets = [...h.buckets].sort((a, b) => a[0] - b[0])
  expect(buckets.at(-1)?.[0], name).toBe(Infinity)
  for (let i = 1; i < buckets.length; i++) expect(buckets[i]![1], `${name} le=${buckets[i]![0]}`).toBeGreaterThanOrEqual(buckets[i - 1]![1])
  expect(buckets.at(-1)![1], name).toBe(h.count)
  expect(h.sum).toBeGreaterThanOrEqual(0)
}

async function scrape(t: TestApp, headers: Record<string, string> = {}): Promise<Exposition> {
  const res = await t.req('GET', '/metrics', undefined, headers)
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
  return checkedExposition(await res.text())
}

/** The value of a counter or gauge sample whose labels include `labels` (0 when there is none). */
function value(e: Exposition, name: string, labels: Record<string, string> = {}): number {
  const m = e.families.find((x) => x.name === name)?.metrics.find((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v))
  return m ? Number(m.value) : 0
}

/** The _count of the histogram series whose labels are `labels`. */
function histogramCount(e: Exposition, name: string, labels: Record<string, string> = {}): number {
  return histograms(e, name).find((h) => sameLabels(h.labels, labels))?.count ?? 0
}

function series(e: Exposition, name: string): Line[] {
  return e.lines.filter((l) => l.name === name)
}

function pod(name: string, ip: string) {
  return {
    metadata: { name, labels: { app: 'web' } },
    spec: { containers: [{ name: 'app', ports: [{ name: 'http', containerPort: 8080 }] }] },
    status: { podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] },
  }
}

describe('the exposition format', () => {
  it('escapes label values and HELP text so that a parser reads back what was counted', async () => {
    const metrics = new Metrics()
    const odd = 'back\\slash "quoted"\nnew line'
    metrics.counter('odd_total', 'help with a \\ backslash\nand a new line').inc({ value: odd }, 2)
    metrics.histogram('odd_seconds', 'a histogram', [0.1, 1]).observe({ value: odd }, 0.5)
    const e = checkedExposition(await metrics.render())
    const odds = e.families.find((f) => f.name === 'odd_total')!
    expect(odds.metrics).toEqual([{ value: '2', labels: { value: odd } }])
    expect(odds.help).toBe('help with a \\ backslash\nand a new line')
    expect(histograms(e, 'odd_seconds')).toEqual([{ labels: { value: odd }, buckets: [[0.1, 0], [1, 1], [Infinity, 1]], sum: 0.5, count: 1 }])
  })
})

describe('/metrics', () => {
  it('counts requests by route pattern and status code, with a histogram per route that agrees', async () => {
    const t = await testApp()
    const before = await scrape(t)
    expect((await t.req('POST', PODS, pod('web-1', '10.1.0.1'))).status).toBe(201)
    for (let i = 0; i < 3; i++) expect((await t.req('GET', `${PODS}/web-1`)).status).toBe(200)
    expect((await t.req('GET', `${PODS}/missing`)).status).toBe(404)
    const after = await scrape(t)
    const get = { method: 'GET', route: POD_ROUTE }
    expect(value(after, 'switchboard_http_requests_total', { ...get, code: '200' }) - value(before, 'switchboard_http_requests_total', { ...get, code: '200' })).toBe(3)
    expect(value(after, 'switchboard_http_requests_total', { ...get, code: '404' })).toBe(1)
    expect(value(after, 'switchboard_http_requests_total', { method: 'POST', route: '/api/v1/namespaces/:namespace/pods', code: '201' })).toBe(1)
    // The histogram of a route counts every request the counter counts, whatever its code.
    const counted = series(after, 'switchboard_http_requests_total')
    const timed = histograms(after, 'switchboard_http_request_duration_seconds')
    expect(timed.length).toBeGreaterThan(0)
    for (const h of timed) {
      const sum = counted.filter((c) => c.labels.method === h.labels.method && c.labels.route === h.labels.route).reduce((n, c) => n + c.value, 0)
      expect(h.count, JSON.stringify(h.labels)).toBe(sum)
    }
    expect(histogramCount(after, 'switchboard_http_request_duration_seconds', get)).toBe(4)
  })

  it('times each committed write batch, and not dry runs or refused writes', async () => {
    const t = await testApp()
    const count = async () => histogramCount(await scrape(t), 'switchboard_write_batch_duration_seconds')
    const start = await count()
    expect((await t.req('POST', PODS, pod('a', '10.1.0.2'))).status).toBe(201)
    expect((await t.req('PATCH', `${PODS}/a`, { metadata: { labels: { tier: 'x' } } })).status).toBe(200)
    expect(await count()).toBe(start + 2)
    expect((await t.req('POST', `${PODS}?dryRun=All`, pod('b', '10.1.0.3'))).status).toBe(201)
    expect((await t.req('POST', PODS, pod('a', '10.1.0.2'))).status).toBe(409)
    expect(await count()).toBe(start + 2)
    expect((await t.req('DELETE', `${PODS}/a`, { gracePeriodSeconds: 0 })).status).toBe(200)
    expect(await count()).toBe(start + 3)
  })

  it('counts discovery cache hits and misses of DNS answers and picks', async () => {
    const t = await testApp()
    expect((await t.req('POST', '/api/v1/namespaces/default/services', { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http' }] } })).status).toBe(201)
    expect((await t.req('POST', PODS, pod('web-1', '10.1.0.4'))).status).toBe(201)
    const before = await scrape(t)
    const ask = () => t.req('GET', '/resolve?name=web.default.svc.cluster.local&type=A')
    expect((await ask()).status).toBe(200)
    const mid = await scrape(t)
    expect(value(mid, 'switchboard_discovery_cache_misses_total')).toBeGreaterThan(value(before, 'switchboard_discovery_cache_misses_total'))
    for (let i = 0; i < 5; i++) expect((await ask()).status).toBe(200)
    expect((await t.req('GET', '/api/v1/namespaces/default/services/web/pick')).status).toBe(200)
    const after = await scrape(t)
    expect(value(after, 'switchboard_discovery_cache_hits_total') - value(mid, 'switchboard_discovery_cache_hits_total')).toBeGreaterThanOrEqual(5)
  })

  it('reports the database size, the change log length, leases held and expired, and open watches', async () => {
    const t = await testApp({ database: 'file' })
    const now = Date.now()
    const lease = (name: string, renewedAgoMs: number) => ({
      metadata: { name },
      spec: { holderIdentity: 'agent-1', leaseDurationSeconds: 30, renewTime: new Date(now - renewedAgoMs).toISOString().replace(/Z$/, '000Z') },
    })
    const before = await scrape(t)
    expect(value(before, 'switchboard_database_size_bytes')).toBeGreaterThan(0)
    expect((await t.req('POST', LEASES, lease('live', 1000))).status).toBe(201)
    expect((await t.req('POST', LEASES, lease('lapsed', 3_600_000))).status).toBe(201)
    const after = await scrape(t)
    expect(value(after, 'switchboard_change_log_rows') - value(before, 'switchboard_change_log_rows')).toBe(2)
    expect(value(after, 'switchboard_leases', { state: 'held' })).toBe(1)
    expect(value(after, 'switchboard_leases', { state: 'expired' })).toBe(1)

    expect(value(after, 'switchboard_watches_open')).toBe(0)
    const watch = await t.req('GET', `${PODS}?watch=true&timeoutSeconds=30`)
    expect(watch.status).toBe(200)
    const reader = watch.body!.getReader()
    await expect.poll(async () => value(await scrape(t), 'switchboard_watches_open')).toBe(1)
    await reader.cancel()
    await expect.poll(async () => value(await scrape(t), 'switchboard_watches_open')).toBe(0)
  })

  it('keeps its label set bounded under a thousand distinct paths, and never shows a path', async () => {
    const t = await testApp()
    const baseline = series(await scrape(t), 'switchboard_http_requests_total').length
    for (let i = 0; i < 1000; i++) {
      const path = i % 2 ? `/nowhere/${i}-zz-${i}` : `${PODS}/p-zz-${i}`
      expect((await t.req('GET', path)).status).toBe(404)
    }
    const after = await scrape(t)
    expect(series(after, 'switchboard_http_requests_total').length - baseline).toBeLessThanOrEqual(3)
    expect(histograms(after, 'switchboard_http_request_duration_seconds').length).toBeLessThanOrEqual(baseline + 3)
    expect(value(after, 'switchboard_http_requests_total', { route: 'unmatched', code: '404' })).toBe(500)
    expect(value(after, 'switchboard_http_requests_total', { route: POD_ROUTE, code: '404' })).toBe(500)
    expect(after.text).not.toMatch(/zz-/)
  })
})

describe('/metrics access', () => {
  async function issue(t: TestApp, name: string, role: string, namespaces: string[]): Promise<string> {
    const res = await t.json('POST', TOKENS, { metadata: { name }, spec: { role, namespaces } }, { authorization: `Bearer ${ROOT}` })
    expect(res.status).toBe(201)
    return res.body.status.secret as string
  }

  it('needs a token that reads every namespace, and shows no token, whether sent in the header or the DoH path', async () => {
    const t = await testApp({ env: { SWITCHBOARD_ADMIN_TOKEN: ROOT } })
    const everywhere = await issue(t, 'scraper', 'read', ['*'])
    const narrow = await issue(t, 'team-reader', 'read', ['default'])
    const registrar = await issue(t, 'team-registrar', 'register', ['default'])
    expect((await t.req('GET', '/metrics')).status).toBe(401)
    expect((await t.req('GET', '/metrics', undefined, { authorization: 'Bearer not-a-token' })).status).toBe(401)
    expect((await t.req('GET', '/metrics', undefined, { authorization: `Bearer ${narrow}` })).status).toBe(403)
    expect((await t.req('GET', '/metrics', undefined, { authorization: `Bearer ${registrar}` })).status).toBe(403)
    await scrape(t, { authorization: `Bearer ${ROOT}` })
    // DNS with the token in the path, and in the header.
    expect((await t.req('GET', `/dns-query/${everywhere}?name=x.default.svc.cluster.local&type=A`)).status).toBe(200)
    expect((await t.req('GET', `/dns-query/${narrow}?name=x.default.svc.cluster.local&type=A`)).status).toBe(200)
    expect((await t.req('GET', '/resolve?name=x.default.svc.cluster.local&type=A', undefined, { authorization: `Bearer ${narrow}` })).status).toBe(200)
    const e = await scrape(t, { authorization: `Bearer ${everywhere}` })
    for (const secret of [ROOT, everywhere, narrow, registrar]) expect(e.text).not.toContain(secret)
    expect(value(e, 'switchboard_http_requests_total', { route: '/dns-query/:token', code: '200' })).toBe(2)
    expect(value(e, 'switchboard_http_requests_total', { route: '/metrics', code: '403' })).toBe(2)
  })

  it('is open while access control is off', async () => {
    const t = await testApp()
    await scrape(t)
  })
})
