/**
 * The dashboard's routes through the real app with access control on: the pages and
 * their assets answer without a token, every one with the Content-Security-Policy and
 * nosniff; the pages reference only their own assets (no inline script, no other
 * origin); the data calls the pages make still need a token; other methods are a 405,
 * an unknown asset a 404 Status. It runs on Node and, with the rest of test/http, in workerd
 * (the Worker serves the same files). test/unit/ui-assets.test.ts checks that the built
 * files are those of the sources.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { UI_ASSETS } from '../../worker/ui/assets'
import { CONTENT_SECURITY_POLICY } from '../../worker/ui/headers'
import { testApp, type TestApp } from '../support/app'

const ROOT = 'root-credential-for-the-ui-tests-0123456789abcdef'

let t: TestApp
beforeAll(async () => {
  t = await testApp({ env: { SWITCHBOARD_ADMIN_TOKEN: ROOT } })
})

/** The client modules, by file name. */
function scripts(): Record<string, string> {
  return Object.fromEntries(Object.entries(UI_ASSETS).filter(([name]) => name.endsWith('.js')).map(([name, a]) => [name, a.body]))
}

function expectUiHeaders(res: Response): void {
  const csp = res.headers.get('content-security-policy') ?? ''
  expect(csp).toBe(CONTENT_SECURITY_POLICY)
  expect(csp).toContain("default-src 'self'")
  expect(csp).toContain("script-src 'self'")
  expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*|https?:/)
  expect(res.headers.get('x-content-type-options')).toBe('nosniff')
}

describe('the dashboard pages', () => {
  for (const path of ['/ui', '/ui/', '/ui/openapi']) {
    it(`GET ${path} answers HTML without a token, with the CSP`, async () => {
      const res = await t.req('GET', path)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toMatch(/^text\/html/)
      expectUiHeaders(res)
      const html = await res.text()
      expect(html.startsWith('<!DOCTYPE html>')).toBe(true)
      // Every script is an external module from /ui/assets; no inline script, no inline handler.
      const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)]
      expect(scripts.length).toBe(1)
      for (const [, attrs, body] of scripts) {
        expect(attrs).toMatch(/src="\/ui\/assets\/[a-z-]+\.js"/)
        expect(body).toBe('')
      }
      expect(html).not.toMatch(/\son[a-z]+=/i)
      expect(html).not.toMatch(/(src|href)="(https?:)?\/\//)
      // Every input has a label.
      const inputs = [...html.matchAll(/<(input|select)\b[^>]*>/g)].length
      const labelled = [...html.matchAll(/<label>[\s\S]*?<(input|select)\b/g)].length
      expect(inputs).toBeGreaterThan(0)
      expect(labelled).toBe(inputs)
    })
  }

  it('the dashboard holds the sections it fills in', async () => {
    const html = await (await t.req('GET', '/ui')).text()
    for (const id of ['sign-in', 'namespace', 'services', 'endpoints', 'pods', 'weight-form', 'pick-form', 'dns-form', 'tokens', 'live', 'connection']) {
      expect(html).toContain(`id="${id}"`)
    }
    expect(html).toContain('aria-live="polite"')
    expect(html).toContain('href="/ui/openapi"')
  })

  it('HEAD answers as GET does; other methods are a 405 Status with Allow', async () => {
    const head = await t.req('HEAD', '/ui')
    expect(head.status).toBe(200)
    const post = await t.req('POST', '/ui', {})
    expect(post.status).toBe(405)
    expect(post.headers.get('allow')).toBe('GET')
    expect((await post.json()).kind).toBe('Status')
    expectUiHeaders(post)
  })
})

describe('the dashboard assets', () => {
  it('serves the stylesheet and every client module with their types and the CSP', async () => {
    const css = await t.req('GET', '/ui/assets/dashboard.css')
    expect(css.status).toBe(200)
    expect(css.headers.get('content-type')).toMatch(/^text\/css/)
    expect(await css.text()).toContain(':focus-visible')
    expectUiHeaders(css)
    const modules = scripts()
    expect(Object.keys(modules).sort()).toEqual(expect.arrayContaining(['api.js', 'dashboard.js', 'dig.js', 'openapi.js', 'session.js', 'watch.js']))
    for (const [name, text] of Object.entries(modules)) {
      const res = await t.req('GET', `/ui/assets/${name}`)
      expect(res.status, name).toBe(200)
      expect(res.headers.get('content-type')).toMatch(/^text\/javascript/)
      expectUiHeaders(res)
      expect(await res.text()).toBe(text)
    }
  })

  it('the modules import only each other, by relative path (nothing from another origin)', () => {
    const modules = scripts()
    for (const [name, text] of Object.entries(modules)) {
      for (const [, spec] of text.matchAll(/\bfrom\s+'([^']+)'/g)) {
        expect(spec, name).toMatch(/^\.\/[a-z-]+\.js$/)
        expect(Object.keys(modules), `${name} imports ${spec}`).toContain(spec!.slice(2))
      }
      // Data never reaches the page as HTML.
      expect(text, name).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/)
    }
  })

  it('an unknown asset, or a page asked for as an asset, is a 404 Status, with the CSP', async () => {
    for (const path of ['/ui/assets/nothing.js', '/ui/assets/dashboard.html', '/ui/assets/sub/api.js', '/ui/nothing']) {
      const res = await t.req('GET', path)
      expect(res.status, path).toBe(404)
      expect((await res.json()).kind).toBe('Status')
      expectUiHeaders(res)
    }
  })
})

describe('the data behind the pages', () => {
  it('still needs a token: the shell opens, the calls it makes do not without one', async () => {
    expect((await t.req('GET', '/ui')).status).toBe(200)
    for (const path of ['/api/v1/namespaces', '/api/v1/namespaces/default/pods', '/apis/switchboard.dev/v1/tokens', '/openapi/v2', '/resolve?name=x.default.svc.cluster.local&type=A']) {
      const res = await t.req('GET', path)
      expect(res.status, path).toBe(401)
      expect(res.headers.get('content-security-policy'), path).toBeNull()
    }
    const ok = await t.req('GET', '/api/v1/namespaces', undefined, { authorization: `Bearer ${ROOT}` })
    expect(ok.status).toBe(200)
  })

  it('a path outside /ui that starts with its letters is not opened', async () => {
    expect((await t.req('GET', '/uix')).status).toBe(401)
    expect((await t.req('GET', '/ui-api/v1/pods')).status).toBe(401)
  })
})
