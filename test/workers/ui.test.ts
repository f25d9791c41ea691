/**
 * The dashboard through the Worker's own entry (worker/index.ts, D1, access control on):
 * its pages and modules open without a token, under the Content-Security-Policy, while
 * the API the pages call still needs one.
 */
import { SELF } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { testDatabase } from './db'
import { UI_ASSETS } from '../../worker/ui/assets'
import { CONTENT_SECURITY_POLICY } from '../../worker/ui/headers'

describe('the dashboard on the Worker', () => {
  beforeEach(async () => {
    await testDatabase()
  })

  it('serves /ui, /ui/openapi and every asset without a token; the API still needs one', async () => {
    const paths: [string, string][] = [
      ['/ui', 'dashboard.html'],
      ['/ui/openapi', 'openapi.html'],
      ...Object.keys(UI_ASSETS)
        .filter((name) => !name.endsWith('.html'))
        .map((name): [string, string] => [`/ui/assets/${name}`, name]),
    ]
    for (const [path, name] of paths) {
      const res = await SELF.fetch(`http://registry${path}`)
      expect(res.status, path).toBe(200)
      expect(res.headers.get('content-security-policy'), path).toBe(CONTENT_SECURITY_POLICY)
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff')
      expect(await res.text(), path).toBe(UI_ASSETS[name]!.body)
    }
    expect((await SELF.fetch('http://registry/api/v1/namespaces')).status).toBe(401)
  })
})
