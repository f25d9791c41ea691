/**
 * DNS-over-HTTPS throughput (GET /dns-query?dns=<base64url>) measured with h2load beside
 * two references in the same run on the same machine:
 *
 * - the ceiling: GET /bench/constant, a constant-response Hono handler on the same server
 *   and listener (the most our HTTP stack answers)
 * - Unbound 1.17 (Debian's `unbound`) serving the same records as `local-data`, on its
 *   DoH port without TLS (`http-notls-downstream: yes`), one thread
 *
 * Unbound speaks DoH over HTTP/2 only, so the comparison with it is over h2c (prior
 * knowledge) on both sides: the bench server answers h2c on a second listener
 * (node:http2 through @hono/node-server's `createServer` option). Our DoH and its ceiling
 * are also measured over HTTP/1.1 (h2load --h1), the protocol of the server's main
 * listener.
 *
 * The zone is seeded through the API first: 100 services in one namespace, every 20th
 * headless, each selecting 3 ready pods (the headless ones one more that is not ready).
 * Every request of a connection is the next of 100 A queries, one per service, each DNS
 * message with ID 0 and RD set, no EDNS. Before measuring, all 100 are asked once of our
 * server over both protocols and of Unbound, decoded with worker/dns/wire.ts, and must
 * answer NOERROR with exactly the expected addresses; a mismatch is a problem and the
 * measurement is skipped.
 */
import { createSocket } from 'node:dgram'
import { connect, type ClientHttp2Session } from 'node:http2'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RCODE, TYPE, decodeMessage, encodeMessage, type Message } from '../worker/dns/wire'
import { podBody, podIP } from './fixtures'
import { freePort, stopProcess, track, type Call } from './harness'
import { compare, compareCaveats, compareTable, ceilingFor, cpuPerRequest, pct, ratio, type Rounds, type Target } from './compare'
import { H2LOAD, UNBOUND, ensureTools, packageVersion, type Protocol } from './h2load'
import { fmt, type BenchContext, type Scenario } from './scenario'

export const DOH = {
  namespace: 'dns',
  zone: 'cluster.local',
  services: 100,
  /** Every n-th service is headless. */
  headlessEvery: 20,
  podsPerService: 3,
  ttl: 5,
  ipBlock: 40,
  setupConcurrency: 4,
  load: { rounds: 3, seconds: 4, warmupSeconds: 1, clients: 16, streams: 1 } satisfies Rounds,
  target: 0.8,
  unboundVersion: '1.17',
}

export interface ZoneService {
  name: string
  fqdn: string
  headless: boolean
  /** The A records a query for the service answers: its ClusterIP, or its ready pods' addresses. */
  addresses: string[]
}

const CEILING_NAME = 'GET /bench/constant'
const DOH_NAME = 'DoH GET /dns-query'

export const doh: Scenario = {
  name: 'doh',
  run: async (ctx) => {
    let tools: Record<string, string>
    try {
      tools = await ensureTools([H2LOAD, UNBOUND], ctx.log)
    } catch (e) {
      ctx.report.problem(`scenario doh not measured: ${(e as Error).message}`)
      return
    }
    const unboundVersion = packageVersion('unbound') ?? 'unknown'
    const h2loadVersion = packageVersion('nghttp2-client') ?? 'unknown'
    if (!unboundVersion.startsWith(DOH.unboundVersion)) {
      ctx.report.note(`Unbound is ${unboundVersion}, not ${DOH.unboundVersion} as the comparison assumes`)
    }

    const zone = await seedZone(ctx)
    const queries = dohQueries(zone)
    let unbound: Unbound
    try {
      unbound = await startUnbound(tools.unbound!, zone, ctx)
    } catch (e) {
      ctx.report.problem(`scenario doh not measured: ${(e as Error).message}`)
      return
    }
    try {
      // Every name is asked once of each server before anything is measured.
      const checks: [string, string, Protocol][] = [
        ['ours', ctx.server.h2cUrl, 'h2c'],
        ['ours', ctx.server.url, 'HTTP/1.1'],
        ['Unbound', unbound.url, 'h2c'],
      ]
      let failed = false
      for (const [who, url, protocol] of checks) {
        const wrong = await checkAnswers(url, protocol, queries)
        const line = `DoH answers checked before measuring (${who}, ${protocol}): ${queries.length - wrong.length}/${queries.length} A queries answered NOERROR with exactly the expected addresses`
        if (wrong.length) {
          failed = true
          ctx.report.problem(`${line}; ${wrong.slice(0, 3).join('; ')}`)
        } else {
          ctx.report.note(line)
        }
        ctx.log(line)
      }
      if (failed) return

      const uris = (base: string) => queries.map((q) => base + q.path)
      const ours = { pid: ctx.server.pid, server: 'switchboard (Node)', ours: true }
      const targets: Target[] = [
        { ...ours, name: CEILING_NAME, protocol: 'h2c', uris: [`${ctx.server.h2cUrl}/bench/constant`], ceiling: true },
        { ...ours, name: DOH_NAME, protocol: 'h2c', uris: uris(ctx.server.h2cUrl) },
        { name: DOH_NAME, protocol: 'h2c', uris: uris(unbound.url), pid: unbound.child.pid!, server: `Unbound ${unboundVersion}` },
        { ...ours, name: CEILING_NAME, protocol: 'HTTP/1.1', uris: [`${ctx.server.url}/bench/constant`], ceiling: true },
        { ...ours, name: DOH_NAME, protocol: 'HTTP/1.1', uris: uris(ctx.server.url) },
      ]
      const results = await compare(ctx, 'doh', targets, DOH.load, tools.h2load)

      const find = (server: 'ours' | 'unbound', protocol: Protocol, ceiling = false) =>
        results.find((r) => r.target.protocol === protocol && !!r.target.ceiling === ceiling && (server === 'ours') === !!r.target.ours)
      const lines: string[] = []
      const l = DOH.load
      const headless = zone.filter((s) => s.headless)
      lines.push(
        `Zone: namespace ${DOH.namespace}, ${zone.length} services (${headless.length} headless, every ${DOH.headlessEvery}th), ${DOH.podsPerService} ready pods each ` +
          `(the headless ones one more, not ready), TTL ${DOH.ttl} s. Query mix: each connection goes round ${queries.length} A queries,`,
        `one per service (${zone.length - headless.length} answer 1 record, the ClusterIP; ${headless.length} answer ${DOH.podsPerService}, the ready pods), DNS ID 0, RD set, no EDNS; ` +
          `the same URIs on every target.`,
        `Load: h2load ${h2loadVersion}, ${l.clients} connections, ${l.streams} request in flight per connection (${l.clients * l.streams} in all), one h2load thread; ` +
          `${l.rounds} rounds of ${l.warmupSeconds} s warm-up + ${l.seconds} s measured per target,`,
        `the order rotating each round. Protocols: "h2c" is HTTP/2 over cleartext with prior knowledge (h2load's default for http:// URIs);`,
        `"HTTP/1.1" is h2load --h1 (keep-alive, no pipelining). Our h2c listener is node:http2 through @hono/node-server's createServer option,`,
        `the same app and process as the HTTP/1.1 listener.`,
        `Unbound ${unboundVersion}: ${unbound.summary[0]}`,
        ...unbound.summary.slice(1),
        `Our server: one JavaScript thread (the event loop); DNS answers come from its in-memory snapshot (each name read from the`,
        `database at most once per TTL). Access control is off (no SWITCHBOARD_ADMIN_TOKEN, loopback only) on both the DoH and the ceiling routes.`,
        `req/s counts successful (2xx) answers; latencies are h2load's per-request times from its log (request sent to response complete);`,
        `errors are h2load's failed requests (non-2xx, or streams still open when a run stops).`,
        `server CPU is the answering process' user+system CPU over each h2load run's wall time (its warm-up included); h2load CPU likewise;`,
        `server CPU per request is server CPU over req/s.`,
        `other CPU is what the rest of the machine used meanwhile (from /proc/stat); beside it, the machine's softirq time (kernel networking,`,
        `mostly this benchmark's own loopback traffic) and steal time (the host running other guests), in cores.`,
        '',
        compareTable(results),
        '',
      )
      const dohH2 = find('ours', 'h2c')
      const ceilH2 = find('ours', 'h2c', true)
      const dohH1 = find('ours', 'HTTP/1.1')
      const ceilH1 = find('ours', 'HTTP/1.1', true)
      const ub = find('unbound', 'h2c')
      const verdict = (r: number | undefined) => (r === undefined ? 'not measured' : r >= DOH.target ? 'met' : 'NOT met')
      const x = (r: number | undefined) => (r === undefined ? '-' : r.toFixed(2))
      for (const [doh, ceil, protocol] of [[dohH2, ceilH2, 'h2c'], [dohH1, ceilH1, 'HTTP/1.1']] as const) {
        const r = ratio(doh, ceil)
        lines.push(`DoH / ceiling = ${x(r)} over ${protocol} (${fmt(Math.round(doh?.rps ?? 0))} / ${fmt(Math.round(ceil?.rps ?? 0))} req/s; target ≥ ${DOH.target}): ${verdict(r)}`)
      }
      for (const [doh, ceil, protocol] of [[dohH2, ceilH2, 'h2c'], [dohH1, ceilH1, 'HTTP/1.1']] as const) {
        const a = cpuPerRequest(doh)
        const b = cpuPerRequest(ceil)
        if (a !== undefined && b !== undefined) {
          lines.push(
            `  by server CPU per request over ${protocol} (less sensitive to the rest of the machine): DoH ${a.toFixed(0)} µs, ceiling ${b.toFixed(0)} µs; ` +
              `ceiling / DoH = ${x(b / a)}`,
          )
        }
      }
      lines.push(
        `DoH / Unbound = ${x(ratio(dohH2, ub))} over h2c (${fmt(Math.round(dohH2?.rps ?? 0))} / ${fmt(Math.round(ub?.rps ?? 0))} req/s); ` +
          `Unbound / our h2c ceiling = ${pct(ratio(ub, ceilingFor(results, ub!)))}`,
      )
      const caveats = compareCaveats(results)
      if (caveats.length) lines.push('', 'Caveats', ...caveats.map((c) => `  - ${c}`))
      ctx.report.section('DoH: GET /dns-query with h2load, beside Unbound and the constant-response ceiling', lines)
    } finally {
      await unbound.stop()
    }
  },
}

const zones = new WeakMap<Call, Promise<ZoneService[]>>()

/**
 * Creates the namespace, its services and their pods through the API `call` reaches (the
 * bench server's by default), once per API; returns what each A query should answer.
 */
export function seedZone(ctx: BenchContext, call: Call = ctx.server.call): Promise<ZoneService[]> {
  let zone = zones.get(call)
  if (!zone) {
    zone = createZone(ctx, call)
    zones.set(call, zone)
  }
  return zone
}

async function createZone(ctx: BenchContext, call: Call): Promise<ZoneService[]> {
  const ns = DOH.namespace
  const t0 = performance.now()
  await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })
  const zone: ZoneService[] = []
  const pods: { body: Record<string, unknown>; svc: number; ip: string; ready: boolean }[] = []
  let podIndex = 0
  for (let k = 0; k < DOH.services; k++) {
    const name = `svc-${String(k).padStart(3, '0')}`
    const headless = k % DOH.headlessEvery === 0
    const count = DOH.podsPerService + (headless ? 1 : 0)
    for (let j = 0; j < count; j++) {
      const i = podIndex++
      const ready = j < DOH.podsPerService
      const ip = podIP(DOH.ipBlock, i)
      const body = podBody({ name: `${name}-${j}`, ip, ready }, i)
      const metadata = body.metadata as { labels: Record<string, string> }
      metadata.labels = { ...metadata.labels, app: name }
      pods.push({ body, svc: k, ip, ready })
    }
    zone.push({ name, fqdn: `${name}.${ns}.svc.${DOH.zone}`, headless, addresses: [] })
  }
  await inPool(zone, DOH.setupConcurrency, async (svc) => {
    const created = await call<{ spec: { clusterIP: string } }>('POST', `/api/v1/namespaces/${ns}/services`, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: svc.name, labels: { bench: 'doh' } },
      spec: {
        selector: { app: svc.name },
        ...(svc.headless ? { clusterIP: 'None' } : {}),
        ports: [{ name: 'http', port: 80, targetPort: 'http' }],
      },
    })
    if (!svc.headless) svc.addresses = [created.spec.clusterIP]
  })
  await inPool(pods, DOH.setupConcurrency, (p) => call('POST', `/api/v1/namespaces/${ns}/pods`, p.body))
  for (const p of pods) {
    const svc = zone[p.svc]!
    if (svc.headless && p.ready) svc.addresses.push(p.ip)
  }
  for (const svc of zone) svc.addresses.sort()
  ctx.log(`seeded namespace ${ns}: ${zone.length} services, ${pods.length} pods in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  return zone
}

/** The query mix: one A query per service of the zone, as the path of a DoH GET. */
export function dohQueries(zone: ZoneService[]): { svc: ZoneService; path: string }[] {
  return zone.map((svc) => ({ svc, path: dohPath(svc.fqdn) }))
}

/** The path of a DoH GET (RFC 8484 wire format) asking `name` for records of `type`. */
export function dohPath(name: string, type: number = TYPE.A): string {
  return `/dns-query?dns=${b64url(query(name, type))}`
}

/** A query for `name` and `type`, ID 0, RD set, no EDNS. */
export function query(name: string, type: number): Uint8Array {
  const msg: Message = {
    header: { id: 0, qr: false, opcode: 0, aa: false, tc: false, rd: true, ra: false, ad: false, cd: false, rcode: 0 },
    questions: [{ name, type, class: 1 }],
    answers: [],
    authorities: [],
    additionals: [],
  }
  return encodeMessage(msg)
}

function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url')
}

/** Asks every query once over `protocol`, sending `headers`; returns a description of each wrong answer. */
export async function checkAnswers(
  base: string,
  protocol: Protocol,
  queries: { svc: ZoneService; path: string }[],
  headers: Record<string, string> = {},
): Promise<string[]> {
  const client = protocol === 'h2c' ? await h2cClient(base) : undefined
  const wrong: string[] = []
  try {
    for (const q of queries) {
      let problem: string | undefined
      try {
        const { status, type, body } = client ? await client.get(q.path, headers) : await http1Get(base + q.path, headers)
        if (status !== 200) problem = `HTTP ${status}`
        else if (type !== 'application/dns-message') problem = `content type ${type}`
        else {
          const msg = decodeMessage(body)
          const got = msg.answers.filter((r) => r.type === TYPE.A).map((r) => (r.data.kind === 'A' ? r.data.address : '?')).sort()
          if (msg.header.id !== 0 || !msg.header.qr) problem = `header ${JSON.stringify(msg.header)}`
          else if (msg.header.rcode !== RCODE.NOERROR) problem = `rcode ${msg.header.rcode}`
          else if (msg.questions[0]?.name.toLowerCase() !== q.svc.fqdn) problem = `question ${msg.questions[0]?.name}`
          else if (got.join() !== q.svc.addresses.join()) problem = `A ${got.join(',')}, expected ${q.svc.addresses.join(',')}`
        }
      } catch (e) {
        problem = (e as Error).message
      }
      if (problem) wrong.push(`${q.svc.fqdn}: ${problem}`)
    }
  } finally {
    client?.close()
  }
  return wrong
}

interface Answered {
  status: number
  type: string
  body: Uint8Array
}

async function http1Get(url: string, headers: Record<string, string>): Promise<Answered> {
  const res = await fetch(url, { headers: { ...headers, accept: 'application/dns-message' } })
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: new Uint8Array(await res.arrayBuffer()) }
}

/** An HTTP/2 cleartext client (prior knowledge) on one connection. */
async function h2cClient(base: string): Promise<{ get: (path: string, headers?: Record<string, string>) => Promise<Answered>; close: () => void }> {
  const session: ClientHttp2Session = connect(base)
  await new Promise<void>((resolve, reject) => {
    session.once('connect', () => resolve())
    session.once('error', reject)
  })
  session.on('error', () => {})
  const get = (path: string, headers: Record<string, string> = {}) =>
    new Promise<Answered>((resolve, reject) => {
      const req = session.request({ ...headers, ':method': 'GET', ':path': path, accept: 'application/dns-message' })
      const chunks: Buffer[] = []
      let status = 0
      let type = ''
      req.on('response', (h) => {
        status = Number(h[':status'])
        type = String(h['content-type'] ?? '')
      })
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => resolve({ status, type, body: new Uint8Array(Buffer.concat(chunks)) }))
      req.on('error', reject)
      req.setTimeout(5000, () => req.close())
      req.end()
    })
  return { get, close: () => session.close() }
}

export interface Unbound {
  url: string
  port: number
  child: ChildProcess
  /** The configuration, as lines for the report. */
  summary: string[]
  stop: () => Promise<void>
}

/**
 * Starts Unbound in the foreground on a free loopback port with a config of its own in a
 * temp dir: DoH without TLS on that port (or, for `udp`, classic DNS over UDP), one thread, no chroot and no user switch, only
 * the local zone (no recursion, no validation), the zone's records as `local-data`.
 * Resolves once it answers a query.
 */
export async function startUnbound(bin: string, zone: ZoneService[], ctx: BenchContext, transport: 'doh' | 'udp' = 'doh'): Promise<Unbound> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-unbound-'))
  const conf = join(dir, 'unbound.conf')
  const q = (s: string) => `"${s}"`
  const settings = [
    'verbosity: 0',
    'num-threads: 1',
    `interface: 127.0.0.1@${port}`,
    `port: ${port}`,
    ...(transport === 'doh'
      ? [
          `https-port: ${port}`,
          'http-notls-downstream: yes',
          `http-endpoint: ${q('/dns-query')}`,
          'http-max-streams: 100',
          'incoming-num-tcp: 64',
          'tcp-idle-timeout: 120000',
          'do-udp: no',
          'do-tcp: yes',
        ]
      : ['do-udp: yes', 'do-tcp: no', 'so-rcvbuf: 4m', 'so-sndbuf: 4m']),
    'do-ip6: no',
    `chroot: ${q('')}`,
    `username: ${q('')}`,
    `directory: ${q(dir)}`,
    `pidfile: ${q(join(dir, 'unbound.pid'))}`,
    'use-syslog: no',
    `logfile: ${q('')}`,
    'do-daemonize: no',
    `module-config: ${q('iterator')}`,
    'access-control: 127.0.0.0/8 allow',
    `local-zone: ${q(`${DOH.zone}.`)} static`,
  ]
  const data = zone.flatMap((svc) => svc.addresses.map((ip) => `local-data: ${q(`${svc.fqdn}. ${DOH.ttl} IN A ${ip}`)}`))
  writeFileSync(conf, ['server:', ...[...settings, ...data].map((l) => `  ${l}`), 'remote-control:', '  control-enable: no', ''].join('\n'))

  const child = track(spawn(bin, ['-d', '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] }))
  let output = ''
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (output += c))
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (output += c))
  const stop = async () => {
    await stopProcess(child)
    rmSync(dir, { recursive: true, force: true })
  }
  const url = `http://127.0.0.1:${port}`
  const probe = dohPath(zone[0]!.fqdn)
  const deadline = performance.now() + 10_000
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop()
      throw new Error(`unbound exited before answering (${child.exitCode ?? child.signalCode}): ${output.slice(-2000)}`)
    }
    try {
      if (transport === 'udp') {
        if ((await udpExchange(port, query(zone[0]!.fqdn, TYPE.A), 500)).length) break
      } else {
        const client = await h2cClient(url)
        try {
          const answer = await client.get(probe)
          if (answer.status === 200) break
        } finally {
          client.close()
        }
      }
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) {
      await stop()
      throw new Error(`unbound did not answer ${transport === 'udp' ? 'over UDP' : 'DoH'} on ${url} within 10 s: ${output.slice(-2000)}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  ctx.log(`unbound pid ${child.pid} answers ${transport === 'udp' ? `over UDP on 127.0.0.1:${port}` : `DoH on ${url}`} (${data.length} local-data records)`)
  const shown = settings.filter((s) => !/^(directory|pidfile|logfile|use-syslog|verbosity|do-daemonize|port|interface)/.test(s))
  const summary = [
    `its own unbound.conf (run with -d -c): interface 127.0.0.1@${port}, ${shown.slice(0, 8).join('; ')};`,
    `  ${shown.slice(8).join('; ')}; remote-control off;`,
    `  ${data.length} local-data A records (the same addresses our server answers). Cache: on, default sizes, but local-zone answers are`,
    `  made before any cache lookup, so the cache plays no part in these answers.`,
  ]
  return { url, port, child, summary, stop }
}

/** One DNS query over UDP to 127.0.0.1:`port`, and its reply (rejects after `timeoutMs`). */
export async function udpExchange(port: number, bytes: Uint8Array, timeoutMs = 2000): Promise<Uint8Array> {
  const sock = createSocket('udp4')
  try {
    return await new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no UDP reply from 127.0.0.1:${port} within ${timeoutMs} ms`)), timeoutMs)
      sock.once('message', (m) => {
        clearTimeout(timer)
        resolve(new Uint8Array(m))
      })
      sock.once('error', reject)
      sock.send(bytes, port, '127.0.0.1')
    })
  } finally {
    sock.close()
  }
}

/** Runs `fn` over `items` with at most `limit` calls in flight. */
export async function inPool<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let i = 0
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (i < items.length) await fn(items[i++]!)
    }),
  )
}
