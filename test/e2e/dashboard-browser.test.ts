/**
 * The dashboard in a real browser: headless Chromium (Debian's `chromium`, driven by
 * playwright-core with `executablePath`; nothing is downloaded) against the real server
 * (`npm start`, access control on). It signs in with a token; sees a service, its
 * endpoints and its pods; sees a pod's readiness, flipped through the API, change on the
 * page within a second without a reload; drains a pod from the page and sees the pick
 * simulator's distribution change; resolves a name in the DNS box; sees a weight
 * conflict shown rather than lost; sees Endpoints written through the API for a service
 * without a selector within a second; creates and revokes a token; follows the watches
 * across a restart of the server, and re-lists when the resourceVersion it would resume
 * from was compacted away; shows only the chosen namespace's pods when the previous
 * namespace's list arrives after the switch; browses the OpenAPI document; and signs out. The page
 * must raise no error and no Content-Security-Policy violation on the way.
 *
 * Screenshots go to $DASHBOARD_SCREENSHOTS, or a new temporary directory whose path the
 * test prints. Pods here have addresses in 10.0.0.0/8; nothing connects to them.
 *
 * Needs Chromium ($CHROMIUM, or `chromium` on the PATH; Debian: `apt-get install chromium`).
 * Without it every test here is skipped, and the run says so.
 */
import { mkdirSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { E2E_TOKEN, authHeaders } from '../support/auth'
import { CHROMIUM_INSTALL_HINT, findChromium, reportSkip, whyMissing } from '../support/tools'
import { startServer, type ServerProcess } from '../support/server'
import { serverApi, type ServerApi } from '../support/server-api'

const CHROMIUM = findChromium()
if (!CHROMIUM) reportSkip('dashboard browser tests', whyMissing('chromium', 'CHROMIUM'), CHROMIUM_INSTALL_HINT)


const NS = '/api/v1/namespaces/default'
/** A change on the page must follow its write within this (watches, README "Dashboard"). */
const LIVE_MS = 1000
/** The shortest change-log retention, so a resourceVersion can be compacted away within the test. */
const SERVER_ENV = { CHANGE_LOG_RETENTION_SECONDS: '10' }

const pod = (name: string, ip: string, weight: number, extra: Record<string, string> = {}) => ({
  metadata: { name, labels: { app: 'web', 'topology.kubernetes.io/zone': 'zone-a' }, annotations: { 'switchboard.dev/weight': String(weight), ...extra } },
  spec: { containers: [{ name: 'app', ports: [{ name: 'http', containerPort: 8080 }] }] },
  status: { podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] },
})

/** Whether a pod watch from `rv` is refused as expired (an ERROR event with a 410 Status, or a 410). */
async function expired(url: string, rv: string): Promise<boolean> {
  const abort = new AbortController()
  try {
    const res = await fetch(`${url}${NS}/pods?watch=1&resourceVersion=${rv}`, { headers: authHeaders(), signal: abort.signal })
    if (res.status === 410) return true
    const reader = res.body!.getReader()
    const timer = setTimeout(() => abort.abort(), 500)
    let text = ''
    try {
      while (!text.includes('\n')) {
        const { done, value } = await reader.read()
        if (done) break
        text += new TextDecoder().decode(value)
      }
    } catch {
      // no event within the half second: not expired
    }
    clearTimeout(timer)
    return /^\{"type":"ERROR".*"code":410/.test(text)
  } finally {
    abort.abort()
  }
}

describe.skipIf(!CHROMIUM)('the dashboard in headless Chromium', { timeout: 30_000 }, () => {
  let server: ServerProcess
  let api: ServerApi
  let browser: Browser
  let page: Page
  let shots: string
  const problems: string[] = []

  const shot = async (name: string) => {
    await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true })
  }
  const podRow = (name: string) => page.locator(`#pods tr[data-pod="${name}"]`)
  const picks = async (count: number) => {
    await page.selectOption('#pick-service', 'web')
    await page.fill('#pick-count', String(count))
    // The previous drawing goes first, so the one read below is this run's.
    await page.evaluate(() => document.getElementById('pick-result')!.replaceChildren())
    await page.click('#pick-form button[type=submit]')
    await page.locator('#pick-table').waitFor({ timeout: 20_000 })
    const result: Record<string, number> = {}
    for (const row of await page.locator('#pick-table tbody tr').all()) {
      result[(await row.getAttribute('data-pick'))!] = Number(await row.locator('td.picks').textContent())
    }
    return result
  }

  beforeAll(async () => {
    shots = process.env.DASHBOARD_SCREENSHOTS ?? mkdtempSync(join(tmpdir(), 'switchboard-dashboard-'))
    mkdirSync(shots, { recursive: true })
    console.log(`dashboard screenshots: ${shots}`)
    server = await startServer({ env: SERVER_ENV })
    api = serverApi(server.url, authHeaders())
    await api('POST', `${NS}/services`, { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } })
    const now = new Date().toISOString().replace(/\.\d+Z$/, '.000000Z')
    await api('POST', '/apis/coordination.k8s.io/v1/namespaces/default/leases', {
      metadata: { name: 'host-a' },
      spec: { holderIdentity: 'agent-a', leaseDurationSeconds: 600, renewTime: now },
    })
    await api('POST', `${NS}/pods`, pod('web-1', '10.0.0.1', 1))
    await api('POST', `${NS}/pods`, pod('web-2', '10.0.0.2', 3, { 'switchboard.dev/lease': 'host-a' }))
    browser = await chromium.launch({
      executablePath: CHROMIUM!,
      headless: true,
      args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    })
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    page.on('console', (m) => {
      // The browser logs every failed request ("Failed to load resource"): the refused token, the 409, the server's restart.
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`)
    })
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
    // Only the server under test is ever contacted.
    await page.route('**/*', (route) => {
      const url = new URL(route.request().url())
      if (url.origin === server.url) return route.continue()
      problems.push(`request outside the server: ${url.href}`)
      return route.abort()
    })
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await server?.stop('SIGKILL')
  })

  it('opens without a token, asks for one, and refuses a wrong one', async () => {
    await page.goto(`${server.url}/ui`)
    await page.locator('#sign-in-section').waitFor({ state: 'visible' })
    expect(await page.locator('#app').isHidden()).toBe(true)
    await page.fill('#token', 'not-a-token-of-this-registry')
    await page.click('#sign-in button[type=submit]')
    await expect.poll(() => page.locator('#sign-in-error').textContent()).toContain('refused')
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0)
  })

  it('signs in; shows the service, its endpoints with the lease counting down, and the pods', async () => {
    await page.fill('#token', E2E_TOKEN)
    await page.click('#sign-in button[type=submit]')
    await page.locator('#app').waitFor({ state: 'visible' })
    expect(await page.evaluate(() => sessionStorage.getItem('switchboard.token'))).toBe(E2E_TOKEN)
    expect(await page.evaluate(() => localStorage.length)).toBe(0)
    const svc = page.locator('#services tbody tr', { hasText: 'web' })
    await svc.waitFor()
    const clusterIP = (await api('GET', `${NS}/services/web`)).spec.clusterIP
    expect(await svc.textContent()).toContain(clusterIP)
    expect(await svc.textContent()).toContain('app=web')
    await podRow('web-1').waitFor()
    expect(await podRow('web-1').textContent()).toContain('Ready=True')
    expect(await podRow('web-2').locator('td.weight').textContent()).toBe('3')
    const endpoints = page.locator('#endpoints table[data-service="web"] tbody tr')
    await expect.poll(() => endpoints.count()).toBe(2)
    const web2 = endpoints.filter({ hasText: 'web-2' })
    expect(await web2.textContent()).toContain('10.0.0.2')
    expect(await web2.textContent()).toContain('zone-a')
    // The lease's time left counts down.
    const left = async () => Number(/host-a: ([\d.]+) s/.exec((await web2.locator('td').last().textContent())!)?.[1])
    const first = await left()
    expect(first).toBeGreaterThan(500)
    await expect.poll(left, { timeout: 3000 }).toBeLessThan(first)
    await shot('1-signed-in')
  })

  it("shows a pod's readiness, flipped through the API, within a second and without a reload", async () => {
    const marker = await page.evaluate(() => ((window as any).__sameDocument = Math.random()))
    for (const [status, shown, ready] of [
      ['False', 'Ready=False', 'no'],
      ['True', 'Ready=True', 'yes'],
    ] as const) {
      const started = Date.now()
      await api('PATCH', `${NS}/pods/web-1/status`, { status: { conditions: [{ type: 'Ready', status }] } }, 'application/strategic-merge-patch+json')
      await podRow('web-1').filter({ hasText: shown }).waitFor({ timeout: LIVE_MS })
      const endpoint = page.locator('#endpoints table[data-service="web"] tbody tr', { hasText: 'web-1' })
      await expect.poll(() => endpoint.locator('td').nth(2).textContent(), { timeout: LIVE_MS }).toBe(ready)
      console.log(`dashboard: web-1 Ready=${status} on the page ${Date.now() - started} ms after the write was sent`)
      if (status === 'False') await shot('2-not-ready')
    }
    expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(marker)
  })

  it("flips a pod's readiness from the page, through the status subresource", async () => {
    await page.click('#pods button[data-key="ready:web-1"]')
    await podRow('web-1').filter({ hasText: 'Ready=False' }).waitFor({ timeout: LIVE_MS })
    expect((await api('GET', `${NS}/pods/web-1`)).status.conditions.find((c: { type: string }) => c.type === 'Ready').status).toBe('False')
    // The button keeps keyboard focus across the re-rendering, and now restores readiness.
    expect(await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.key)).toBe('ready:web-1')
    await page.keyboard.press('Enter')
    await podRow('web-1').filter({ hasText: 'Ready=True' }).waitFor({ timeout: LIVE_MS })
    expect((await api('GET', `${NS}/pods/web-1`)).status.conditions.find((c: { type: string }) => c.type === 'Ready').status).toBe('True')
  })

  it('drains a pod from the page, and the pick distribution follows', async () => {
    const before = await picks(40)
    // Smooth weighted round robin: 40 picks over weights 1 and 3 are exactly 10 and 30.
    expect(before).toEqual({ 'web-1': 10, 'web-2': 30 })
    await shot('3-picks-weighted')
    await page.click('#pods button[data-key="drain:web-2"]')
    await podRow('web-2').locator('td.weight', { hasText: /^0$/ }).waitFor({ timeout: LIVE_MS })
    expect((await api('GET', `${NS}/pods/web-2`)).metadata.annotations['switchboard.dev/weight']).toBe('0')
    const after = await picks(40)
    expect(after).toEqual({ 'web-1': 40, 'web-2': 0 })
    expect(await page.locator('#pick-table tr[data-pick="web-2"]').textContent()).toContain('left out: Drained')
    await shot('4-picks-drained')
    await page.click('#pods button[data-key="drain:web-2"]')
    await podRow('web-2').locator('td.weight', { hasText: /^1$/ }).waitFor({ timeout: LIVE_MS })
    expect(await picks(20)).toEqual({ 'web-1': 10, 'web-2': 10 })
  })

  it('resolves a name in the DNS box and prints it as dig does', async () => {
    const clusterIP = (await api('GET', `${NS}/services/web`)).spec.clusterIP
    await page.fill('#dns-name', 'web.default.svc.cluster.local')
    await page.fill('#dns-type', 'A')
    await page.click('#dns-form button[type=submit]')
    await expect.poll(() => page.locator('#dig').textContent()).toContain('ANSWER SECTION')
    const dig = (await page.locator('#dig').textContent())!
    expect(dig).toContain(';; ->>HEADER<<- opcode: QUERY, status: NOERROR')
    expect(dig).toMatch(/;; flags: qr[^;]*; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 0/)
    expect(dig).toContain(';; QUESTION SECTION:\n;web.default.svc.cluster.local.\t\tIN\tA')
    expect(dig).toMatch(new RegExp(`\\nweb\\.default\\.svc\\.cluster\\.local\\.\\t\\d+\\tIN\\tA\\t${clusterIP.replace(/\./g, '\\.')}\\n`))
    await page.fill('#dns-name', '_http._tcp.web.default.svc.cluster.local')
    await page.fill('#dns-type', 'srv')
    await page.click('#dns-form button[type=submit]')
    await expect.poll(() => page.locator('#dig').textContent()).toContain('\tIN\tSRV\t')
    await page.fill('#dns-name', 'nothing.default.svc.cluster.local')
    await page.fill('#dns-type', 'A')
    await page.click('#dns-form button[type=submit]')
    await expect.poll(() => page.locator('#dig').textContent()).toContain('status: NXDOMAIN')
    expect(await page.locator('#dig').textContent()).toContain(';; AUTHORITY SECTION:')
    await shot('5-dns')
  })

  it('shows a weight conflict with the current value, and applies the value when submitted again', async () => {
    // Choosing the pod takes its resourceVersion as the precondition.
    await page.selectOption('#weight-pod', 'web-2')
    await page.selectOption('#weight-pod', 'web-1')
    expect(await page.inputValue('#weight-value')).toBe('1')
    await api('PATCH', `${NS}/pods/web-1`, { metadata: { annotations: { 'switchboard.dev/weight': '5' } } }, 'application/merge-patch+json')
    await podRow('web-1').locator('td.weight', { hasText: /^5$/ }).waitFor({ timeout: LIVE_MS })
    await page.fill('#weight-value', '7')
    await page.click('#weight-form button[type=submit]')
    await expect.poll(() => page.locator('#weight-result').textContent()).toContain('Conflict')
    expect(await page.locator('#weight-result').textContent()).toContain('its weight is now 5')
    expect((await api('GET', `${NS}/pods/web-1`)).metadata.annotations['switchboard.dev/weight']).toBe('5')
    await shot('6-weight-conflict')
    await page.click('#weight-form button[type=submit]')
    await expect.poll(() => page.locator('#weight-result').textContent()).toContain('set to 7')
    expect((await api('GET', `${NS}/pods/web-1`)).metadata.annotations['switchboard.dev/weight']).toBe('7')
  })

  it('shows endpoints written through the API for a service without a selector, within a second', async () => {
    await api('POST', `${NS}/services`, { metadata: { name: 'ext' }, spec: { ports: [{ name: 'http', port: 80 }] } })
    const table = page.locator('#endpoints table[data-service="ext"]')
    await table.locator('caption', { hasText: 'ext: 0 endpoint(s)' }).waitFor({ timeout: LIVE_MS })
    const endpoints = (ip: string) => ({ metadata: { name: 'ext' }, subsets: [{ addresses: [{ ip }], ports: [{ name: 'http', port: 80 }] }] })
    let started = Date.now()
    await api('POST', `${NS}/endpoints`, endpoints('10.99.0.1'))
    await table.locator('tbody tr', { hasText: '10.99.0.1' }).waitFor({ timeout: LIVE_MS })
    console.log(`dashboard: ext's created Endpoints on the page ${Date.now() - started} ms after the write was sent`)
    // Nothing else changes in the namespace meanwhile: only the EndpointSlice watch can bring the replacement.
    started = Date.now()
    await api('PUT', `${NS}/endpoints/ext`, endpoints('10.99.0.2'))
    await table.locator('tbody tr', { hasText: '10.99.0.2' }).waitFor({ timeout: LIVE_MS })
    console.log(`dashboard: ext's replaced Endpoints on the page ${Date.now() - started} ms after the write was sent`)
    expect(await table.textContent()).not.toContain('10.99.0.1')
    expect(await table.locator('caption').textContent()).toBe('ext: 1 endpoint(s)')
    await shot('6b-selectorless-endpoints')
  })

  it('creates a token with its secret shown once, and revokes it', async () => {
    await page.locator('#tokens-section').waitFor({ state: 'visible' })
    await page.fill('#token-name', 'ui-reader')
    await page.selectOption('#token-role', 'read')
    await page.fill('#token-namespaces', 'default')
    await page.click('#token-form button[type=submit]')
    const secret = page.locator('#token-result .secret')
    await secret.waitFor()
    const value = (await secret.textContent())!
    expect(value).toMatch(/^sb_/)
    const read = await fetch(`${server.url}${NS}/pods`, { headers: { authorization: `Bearer ${value}` } })
    expect(read.status).toBe(200)
    await page.locator('#tokens tbody tr', { hasText: 'ui-reader' }).waitFor()
    expect(await page.locator('#tokens').textContent()).not.toContain(value)
    await shot('7-token-created')
    await page.click('#tokens button[data-revoke="ui-reader"]')
    await page.locator('#tokens tbody tr', { hasText: 'ui-reader' }).waitFor({ state: 'detached' })
    expect((await fetch(`${server.url}${NS}/pods`, { headers: { authorization: `Bearer ${value}` } })).status).toBe(401)
  })

  it('shows a read token what it reaches, hides tokens from it, and reports its refused actions', async () => {
    await api('POST', '/api/v1/namespaces', { metadata: { name: 'team-a' } })
    await api('POST', '/api/v1/namespaces/team-a/services', { metadata: { name: 'billing' }, spec: { selector: { app: 'billing' }, ports: [{ port: 80 }] } })
    await api('POST', '/api/v1/namespaces/team-a/pods', { ...pod('billing-1', '10.0.2.1', 1), metadata: { name: 'billing-1', labels: { app: 'billing' }, annotations: { 'switchboard.dev/weight': '1' } } })
    const reader = await api('POST', '/apis/switchboard.dev/v1/tokens', { metadata: { name: 'team-a-reader' }, spec: { role: 'read', namespaces: ['team-a'] } })
    const context = await browser.newContext()
    const other = await context.newPage()
    other.on('pageerror', (e) => problems.push(`page error (read token): ${e.message}`))
    try {
      await other.goto(`${server.url}/ui`)
      await other.fill('#token', reader.status.secret)
      await other.click('#sign-in button[type=submit]')
      // The token does not reach `default`: the page starts on the namespace it does reach.
      await other.locator('#services tbody tr', { hasText: 'billing' }).waitFor()
      expect(await other.locator('#namespace option').allTextContents()).toEqual(['team-a'])
      expect(await other.locator('#tokens-section').isHidden()).toBe(true)
      await other.click('#pods button[data-key="drain:billing-1"]')
      await expect.poll(() => other.locator('#live').textContent()).toContain('forbidden')
      expect((await api('GET', '/api/v1/namespaces/team-a/pods/billing-1')).metadata.annotations?.['switchboard.dev/weight']).toBe('1')
      await other.screenshot({ path: join(shots, '7b-read-token.png'), fullPage: true })
    } finally {
      await context.close()
    }
  })

  it('keeps following the watches after the server restarts', async () => {
    const { port, databasePath } = server
    await server.stop('SIGTERM')
    await expect.poll(() => page.locator('#connection').textContent(), { timeout: 5000 }).toMatch(/^Updates paused: .*reconnecting/)
    server = await startServer({ port, databasePath, env: SERVER_ENV })
    api = serverApi(server.url, authHeaders())
    await api('POST', `${NS}/pods`, pod('web-3', '10.0.0.3', 2))
    await podRow('web-3').waitFor({ timeout: 10_000 })
    await expect.poll(() => page.locator('#connection').textContent(), { timeout: 10_000 }).toMatch(/^Live/)
    const started = Date.now()
    await api('PATCH', `${NS}/pods/web-3/status`, { status: { conditions: [{ type: 'Ready', status: 'False' }] } }, 'application/strategic-merge-patch+json')
    await podRow('web-3').filter({ hasText: 'Ready=False' }).waitFor({ timeout: LIVE_MS })
    console.log(`dashboard: after the restart, web-3 Ready=False on the page ${Date.now() - started} ms after the write was sent`)
  })

  it('re-lists when the resourceVersion it would resume from was compacted away (410 Expired)', { timeout: 60_000 }, async () => {
    const rv: string = (await api('GET', `${NS}/pods`)).metadata.resourceVersion
    // The page's watches are cut (a restart) and kept from reconnecting, as by a network partition, while the log moves on.
    await page.route(/[?&]watch=1/, (route) => route.abort('connectionrefused'))
    const { port, databasePath } = server
    await server.stop('SIGTERM')
    server = await startServer({ port, databasePath, env: SERVER_ENV })
    api = serverApi(server.url, authHeaders())
    await api('DELETE', `${NS}/pods/web-3`)
    await api('POST', `${NS}/pods`, pod('web-4', '10.0.0.4', 1))
    // Wait until a watch from the page's resourceVersion is refused as expired (retention 10 s, compaction every 10 s).
    await expect.poll(() => expired(server.url, rv), { timeout: 40_000, interval: 1000 }).toBe(true)
    const lists: string[] = []
    const onRequest = (r: { url: () => string }) => {
      if (/\/pods(\?|$)/.test(r.url()) && !r.url().includes('watch=')) lists.push(r.url())
    }
    page.on('request', onRequest)
    await page.unroute(/[?&]watch=1/)
    await podRow('web-4').waitFor({ timeout: 10_000 })
    page.off('request', onRequest)
    expect(lists.length, 'the pods were listed again').toBeGreaterThan(0)
    await podRow('web-3').waitFor({ state: 'detached', timeout: LIVE_MS })
    await expect.poll(() => page.locator('#connection').textContent(), { timeout: 10_000 }).toMatch(/^Live/)
    await shot('8-relisted')
  })

  it("shows only the chosen namespace's pods when the previous namespace's list arrives after the switch", async () => {
    // default's pod list is slow (a big namespace, a slow link); team-a (created above) holds billing-1 only.
    const slowList = /\/api\/v1\/namespaces\/default\/pods$/
    let lateListAnswered!: () => void
    const answered = new Promise<void>((resolve) => (lateListAnswered = resolve))
    await page.route(slowList, async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 1500))
      await route.continue().catch(() => {})
      const response = await route.request().response()
      await response?.finished()
      lateListAnswered()
    })
    try {
      await page.reload()
      await page.locator('#app').waitFor({ state: 'visible' })
      await page.locator('#namespace option[value="team-a"]').waitFor({ state: 'attached' })
      await page.selectOption('#namespace', 'team-a')
      await podRow('billing-1').waitFor({ timeout: LIVE_MS })
      await answered
      // Let the page take the late list (a response read and a render) before looking.
      await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 200)))
      const shown = () => page.locator('#pods tbody tr[data-pod]').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.pod))
      expect(await page.inputValue('#namespace')).toBe('team-a')
      expect(await shown()).toEqual(['billing-1'])
      expect(await page.locator('#weight-pod option').allTextContents()).toEqual(['billing-1'])
      // And it stays live for team-a.
      await api('POST', '/api/v1/namespaces/team-a/pods', { ...pod('billing-2', '10.0.2.2', 1), metadata: { name: 'billing-2', labels: { app: 'billing' } } })
      await podRow('billing-2').waitFor({ timeout: LIVE_MS })
      expect(await shown()).toEqual(['billing-1', 'billing-2'])
      await shot('8b-namespace-switched')
    } finally {
      await page.unroute(slowList)
    }
  })

  it('browses the OpenAPI documents', async () => {
    await page.click('a[href="/ui/openapi"]')
    await expect.poll(() => page.locator('#doc-status').textContent(), { timeout: 10_000 }).toMatch(/^\/openapi\/v2: \d+ paths\.$/)
    const options = await page.locator('#doc option').allTextContents()
    expect(options).toContain('/openapi/v2')
    expect(options).toContain('/openapi/v3/api/v1')
    await page.locator('#tree summary', { hasText: 'paths' }).first().click()
    await page.locator('#tree summary', { hasText: '/api/v1/namespaces/{namespace}/pods' }).first().waitFor()
    await page.selectOption('#doc', { label: '/openapi/v3/api/v1' })
    await page.click('#doc-form button[type=submit]')
    await expect.poll(() => page.locator('#doc-status').textContent()).toContain('/openapi/v3/api/v1')
    await shot('9-openapi')
  })

  it('signs out, clearing the token', async () => {
    await page.click('#sign-out')
    await page.locator('#sign-in-section').waitFor({ state: 'visible' })
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0)
    await page.goto(`${server.url}/ui`)
    await page.locator('#sign-in-section').waitFor({ state: 'visible' })
    expect(await page.locator('#app').isHidden()).toBe(true)
  })

  it('raised no page error and no Content-Security-Policy violation', () => {
    expect(problems).toEqual([])
  })
})
