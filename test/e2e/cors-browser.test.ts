/**
 * CORS as a browser enforces it: headless Chromium (driven by playwright-core, no browser
 * download) loads pages from two other loopback origins and calls the real server
 * (`npm start` with `CORS_ORIGINS` naming the first) with fetch:
 *
 * - from both pages, DNS over HTTPS works: a wire POST of application/dns-message with
 *   Authorization (preflighted) and a JSON GET
 * - the API serves the listed page, which can read the exposed headers, and the browser
 *   refuses the API's answer to the unlisted one
 *
 * Nothing connects to the addresses resolved (they are not loopback): the answers are
 * only decoded. Needs Chromium ($CHROMIUM, or `chromium` on the PATH;
 * Debian: apt-get install chromium); without it the tests are skipped and the run says so.
 */
import { createServer, type Server } from 'node:http'
import * as dnsPacket from 'dns-packet'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { E2E_TOKEN, authHeaders } from '../support/auth'
import { useServer } from '../support/server'
import { CHROMIUM_INSTALL_HINT, findChromium, reportSkip, whyMissing } from '../support/tools'

const CHROMIUM = findChromium()
if (!CHROMIUM) {
  reportSkip('Chromium CORS tests', whyMissing('chromium', 'CHROMIUM'), CHROMIUM_INSTALL_HINT)
}

const NAME = 'web.default.svc.cluster.local'
const CLUSTER_IP = '10.96.0.10'

/** A page server on a loopback port of its own: a second (or third) origin. */
async function pageServer(): Promise<{ server: Server; origin: string }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    res.end('<!doctype html><title>a page of another origin</title>')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  return { server, origin: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}` }
}

interface Fetched {
  ok: boolean
  status?: number
  headers?: Record<string, string | null>
  text?: string
  bytes?: number[]
  error?: string
}

/** Runs fetch in the page; what the page could read, or the error the browser raised. */
function pageFetch(page: Page, url: string, init: { method?: string; headers?: Record<string, string>; body?: number[] }, read: string[] = []): Promise<Fetched> {
  return page.evaluate(
    async ({ url, init, read }) => {
      try {
        const res = await fetch(url, { method: init.method ?? 'GET', headers: init.headers ?? {}, ...(init.body ? { body: new Uint8Array(init.body) } : {}) })
        const headers = Object.fromEntries(read.map((h) => [h, res.headers.get(h)]))
        const type = res.headers.get('content-type') ?? ''
        if (type.startsWith('application/dns-message')) return { ok: true, status: res.status, headers, bytes: [...new Uint8Array(await res.arrayBuffer())] }
        return { ok: true, status: res.status, headers, text: await res.text() }
      } catch (e) {
        return { ok: false, error: String(e) }
      }
    },
    { url, init, read },
  )
}

describe.skipIf(!CHROMIUM)(`headless Chromium (${CHROMIUM ?? 'not installed'}) calls the registry from other origins`, () => {
  let listed: { server: Server; origin: string }
  let unlisted: { server: Server; origin: string }
  let browser: Browser
  let pages: { listed: Page; unlisted: Page }
  // Pages are served before the registry starts, so that CORS_ORIGINS can name one of them.
  const origins: { listed?: string } = {}
  beforeAll(async () => {
    listed = await pageServer()
    unlisted = await pageServer()
    origins.listed = listed.origin
  })
  const registry = useServer({
    get env() {
      return { CORS_ORIGINS: origins.listed ?? '' }
    },
  } as { env: Record<string, string> })

  beforeAll(async () => {
    const res = await fetch(`${registry.url}/api/v1/namespaces/default/services`, {
      method: 'POST',
      headers: authHeaders({ 'content-type': 'application/json' }),
      body: JSON.stringify({ metadata: { name: 'web' }, spec: { clusterIP: CLUSTER_IP, ports: [{ name: 'http', port: 80 }] } }),
    })
    expect(res.status).toBe(201)
    browser = await chromium.launch({ executablePath: CHROMIUM!, headless: true, args: ['--no-proxy-server', '--disable-background-networking'] })
    const open = async (origin: string) => {
      const page = await browser.newPage()
      await page.goto(`${origin}/`)
      return page
    }
    pages = { listed: await open(listed.origin), unlisted: await open(unlisted.origin) }
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await Promise.all([listed, unlisted].filter(Boolean).map(({ server }) => new Promise((r) => server.close(r))))
  })

  for (const which of ['listed', 'unlisted'] as const) {
    it(`a page of the ${which} origin resolves through /dns-query with a wire POST (preflighted: dns-message and Authorization)`, async () => {
      const query = dnsPacket.encode({ type: 'query', id: 4242, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name: NAME }] })
      const res = await pageFetch(pages[which], `${registry.url}/dns-query`, {
        method: 'POST',
        headers: { 'content-type': 'application/dns-message', accept: 'application/dns-message', authorization: `Bearer ${E2E_TOKEN}` },
        body: [...query],
      }, ['x-request-id', 'cache-control'])
      expect(res.error).toBeUndefined()
      expect(res.status).toBe(200)
      expect(res.headers!['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
      expect(res.headers!['cache-control']).toBe('max-age=5')
      const answer = dnsPacket.decode(Buffer.from(res.bytes!))
      expect(answer.id).toBe(4242)
      expect((answer as { rcode?: string }).rcode).toBe('NOERROR')
      expect(answer.answers!.map((a) => [a.name, a.type, (a as { data: unknown }).data])).toEqual([[NAME, 'A', CLUSTER_IP]])
    })

    it(`a page of the ${which} origin resolves through /dns-query with a JSON GET`, async () => {
      const res = await pageFetch(pages[which], `${registry.url}/dns-query?name=${NAME}&type=A`, { headers: { accept: 'application/dns-json', authorization: `Bearer ${E2E_TOKEN}` } })
      expect(res.error).toBeUndefined()
      expect(res.status).toBe(200)
      const body = JSON.parse(res.text!)
      expect(body.Status).toBe(0)
      expect(body.Answer).toEqual([expect.objectContaining({ name: `${NAME}.`, type: 1, data: CLUSTER_IP })])
    })
  }

  it('the API serves the listed origin, whose page reads ETag and X-Request-Id', async () => {
    const res = await pageFetch(pages.listed, `${registry.url}/api/v1/namespaces/default/services/web`, { headers: { authorization: `Bearer ${E2E_TOKEN}` } }, ['etag', 'x-request-id'])
    expect(res.error).toBeUndefined()
    expect(res.status).toBe(200)
    expect(JSON.parse(res.text!).spec.clusterIP).toBe(CLUSTER_IP)
    expect(res.headers!.etag).toMatch(/^"/)
    expect(res.headers!['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('the browser refuses the API to an unlisted origin, and a write from it changes nothing', async () => {
    const read = await pageFetch(pages.unlisted, `${registry.url}/api/v1/namespaces/default/services/web`, { headers: { authorization: `Bearer ${E2E_TOKEN}` } })
    expect(read.ok).toBe(false)
    expect(read.error).toMatch(/TypeError: Failed to fetch/)
    const write = await pageFetch(pages.unlisted, `${registry.url}/api/v1/namespaces/default/services/web`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${E2E_TOKEN}` },
    })
    expect(write.ok).toBe(false)
    const still = await fetch(`${registry.url}/api/v1/namespaces/default/services/web`, { headers: authHeaders() })
    expect(still.status).toBe(200)
  })
})
