/**
 * The SDK in headless Chromium: the compiled package (its ES modules as the browser loads
 * them, no bundler) runs a page's calls against a real server. The registry serves no
 * CORS headers, so the page and the registry share one origin, as an app served from
 * behind the registry's origin would: a loopback server here serves the page and the
 * SDK's files and passes every other request through to the registry unchanged (answers
 * streamed as they come, so a watch's events reach the page when they happen).
 *
 * Skipped, saying so, where Chromium is not installed.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { E2E_TOKEN } from '../support/auth'
import { startServer, type ServerProcess } from '../support/server'
import { CHROMIUM_INSTALL_HINT, findChromium, runPage } from './chromium'

const ROOT = new URL('../..', import.meta.url).pathname
const CHROMIUM = findChromium()
if (!CHROMIUM) console.log(`SDK browser tests skipped: no Chromium; ${CHROMIUM_INSTALL_HINT}`)

describe.skipIf(!CHROMIUM)(`the SDK in headless Chromium (${CHROMIUM ?? 'not installed'})`, () => {
  let registry: ServerProcess
  let page: Server
  let origin: string
  let dist: string

  beforeAll(async () => {
    // Its own build, so that the package test's build of sdk/dist cannot race this one.
    dist = mkdtempSync(join(tmpdir(), 'switchboard-sdk-browser-'))
    execFileSync(join(ROOT, 'node_modules/.bin/tsc'), ['-p', 'sdk/tsconfig.json', '--outDir', dist], { cwd: ROOT })
    registry = await startServer()
    page = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://page').pathname
      if (req.method === 'POST' && path === '/__report') return // runPage's
      if (req.method === 'GET' && path === '/') return void res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE)
      if (req.method === 'GET' && path === '/main.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(program(E2E_TOKEN))
      if (req.method === 'GET' && /^\/sdk\/[a-z-]+\.js$/.test(path)) {
        return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(join(dist, path.slice('/sdk/'.length))))
      }
      void passThrough(req, res, registry.url)
    })
    await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve))
    origin = `http://127.0.0.1:${(page.address() as { port: number }).port}`
  }, 120_000)

  afterAll(async () => {
    await new Promise((resolve) => page?.close(resolve))
    await registry?.stop('SIGKILL')
    if (dist) rmSync(dist, { recursive: true, force: true })
  })

  it('registers, picks by weight, looks up, resolves, keeps a lease and closes it, raises typed errors, and watches', async () => {
    const report = await runPage(CHROMIUM!, page, `${origin}/`, 60_000)
    expect(report).toEqual({
      userAgent: expect.stringContaining('HeadlessChrome'),
      created: 'api',
      picks: { 'api-1': 4, 'api-2': 2 },
      pickedPort: 8080,
      lookup: ['10.1.0.1', '10.1.0.2'],
      listed: ['api-1', 'api-2'],
      srv: { type: 'SRV', port: 80, target: 'api.default.svc.cluster.local.' },
      notFound: { class: 'NotFoundError', isAPIError: true, status: 404, reason: 'NotFound' },
      aborted: 'AbortError',
      registered: { pod: 'api-3', lease: 'api-3', holder: 'browser-tab', ready: 'True' },
      closed: ['NotFoundError', 'NotFoundError'],
      watched: { listed: [], streamed: ['ADDED w-1 10.1.0.9', 'MODIFIED w-1 10.1.0.9'] },
    })
  }, 90_000)
})

const PAGE = '<!doctype html><meta charset="utf-8"><title>SDK</title><script type="module" src="/main.js"></script>'

/** The page's program: plain JavaScript importing the compiled SDK, as a browser app would. */
function program(token: string): string {
  return `import { Switchboard, APIError, NotFoundError } from './sdk/index.js'

const report = (body) => fetch('/__report', { method: 'POST', body: JSON.stringify(body) })
const errorName = (p) => p.then(() => 'no error', (e) => e.constructor.name)

try {
  const sb = new Switchboard({ baseUrl: location.origin, token: ${JSON.stringify(token)} })
  const svc = await sb.services.create({ metadata: { name: 'api' }, spec: { selector: { app: 'api' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } })
  await sb.pods.register({ name: 'api-1', ip: '10.1.0.1', labels: { app: 'api' }, ports: { http: 8080 }, weight: 2 })
  await sb.pods.register({ name: 'api-2', ip: '10.1.0.2', labels: { app: 'api' }, ports: { http: 8080 }, weight: 1 })
  const picks = {}
  let picked
  for (let i = 0; i < 6; i++) {
    picked = await sb.services.pick('api', { port: 'http' })
    picks[picked.pod] = (picks[picked.pod] ?? 0) + 1
  }
  const lookup = (await sb.lookup('api')).map((e) => e.address).sort()
  const listed = (await sb.pods.listAll({ labelSelector: { app: 'api' }, limit: 1 })).items.map((p) => p.metadata.name).sort()
  const dns = await sb.resolve('_http._tcp.api.default.svc.cluster.local', 'SRV')
  let notFound
  try {
    await sb.pods.get('nope')
  } catch (e) {
    notFound = { class: e.constructor.name, isAPIError: e instanceof APIError && e instanceof NotFoundError, status: e.status, reason: e.reason }
  }
  const controller = new AbortController()
  controller.abort()
  const aborted = await errorName(sb.pods.get('api-1', { signal: controller.signal }))

  const reg = await sb.register({ name: 'api-3', ip: '10.1.0.3', labels: { app: 'api' }, ports: { http: 8080 }, ready: false }, { holderIdentity: 'browser-tab', leaseDurationSeconds: 2 })
  await reg.setReady(true)
  const pod = await sb.pods.get('api-3')
  const lease = await sb.leases.get('api-3')
  await reg.close()
  const closed = [await errorName(sb.pods.get('api-3')), await errorName(sb.leases.get('api-3'))]

  // A watch: a pod created once the stream is open arrives as an event.
  let connected
  const open = new Promise((resolve) => (connected = resolve))
  const watch = sb.pods.watch({ labelSelector: { app: 'watched' }, bookmarks: false, onConnect: () => connected() })
  const streamed = []
  const watching = (async () => {
    for await (const e of watch) {
      if (e.type !== 'BOOKMARK') streamed.push(e.type + ' ' + e.object.metadata.name + ' ' + e.object.status.podIP)
      if (streamed.length === 2) watch.close()
    }
  })()
  await open
  const watchListed = [...streamed]
  await sb.pods.register({ name: 'w-1', ip: '10.1.0.9', labels: { app: 'watched' } })
  await sb.pods.drain('w-1')
  await watching

  await report({
    userAgent: navigator.userAgent,
    created: svc.metadata.name,
    picks,
    pickedPort: picked.port,
    lookup,
    listed,
    srv: { type: dns.answers[0]?.type, port: dns.answers[0]?.port, target: dns.answers[0]?.target },
    notFound,
    aborted,
    registered: { pod: pod.metadata.name, lease: pod.metadata.annotations['switchboard.dev/lease'], holder: lease.spec.holderIdentity, ready: pod.status.conditions.find((c) => c.type === 'Ready')?.status },
    closed,
    watched: { listed: watchListed, streamed },
  })
} catch (e) {
  await report({ error: String(e), stack: e.stack })
}
`
}

/** Sends a request on to the registry and its answer back, unchanged. */
async function passThrough(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, registry: string): Promise<void> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  const headers = new Headers()
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || ['host', 'connection', 'content-length', 'accept-encoding'].includes(k)) continue
    headers.set(k, Array.isArray(v) ? v.join(', ') : v)
  }
  try {
    const upstream = await fetch(new URL(req.url ?? '/', registry), {
      method: req.method ?? 'GET',
      headers,
      ...(chunks.length ? { body: Buffer.concat(chunks) } : {}),
    })
    const out: Record<string, string> = {}
    upstream.headers.forEach((v, k) => {
      if (!['content-length', 'content-encoding', 'transfer-encoding', 'connection'].includes(k)) out[k] = v
    })
    // Streamed as it comes, so that a watch's events reach the page when they happen.
    res.writeHead(upstream.status, out).flushHeaders()
    res.once('close', () => void upstream.body?.cancel().catch(() => {}))
    const reader = upstream.body?.getReader()
    for (let chunk = await reader?.read(); chunk && !chunk.done; chunk = await reader!.read()) res.write(chunk.value)
    res.end()
  } catch (e) {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' })
    res.end(String(e))
  }
}
