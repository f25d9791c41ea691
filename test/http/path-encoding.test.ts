/**
 * Malformed percent-encoding anywhere in a path (`%` without two hex digits, escapes that
 * are not UTF-8) is a 400 BadRequest Status, with nothing logged and nothing changed,
 * whether or not access control is on; well-formed escapes still route as before.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { testApp } from '../support/app'
import { dumpTables } from '../support/db'

const TOKEN = 'path-encoding-root-credential-0123456789'
const MALFORMED = ['/dns-query/%E0%A4%A?dns=AAA', '/api/v1/namespaces/%E0%A4%A/pods', '/api/v1/namespaces/default/pods/%zz', '/api/v1/namespaces/default/pods/a%', '/%C0%AF']

describe('malformed percent-encoding in the path', () => {
  afterEach(() => vi.restoreAllMocks())

  for (const access of ['on', 'off'] as const) {
    it(`is a 400 Status with access control ${access}, and nothing is logged`, async () => {
      const errors = vi.spyOn(console, 'error').mockImplementation(() => {})
      const t = await testApp({ env: access === 'on' ? { SWITCHBOARD_ADMIN_TOKEN: TOKEN } : {} })
      const auth: Record<string, string> = access === 'on' ? { authorization: `Bearer ${TOKEN}` } : {}
      for (const path of MALFORMED) {
        for (const headers of [{}, auth]) {
          const res = await t.json('GET', path, undefined, headers)
          expect(res.status, path).toBe(400)
          expect(res.body).toMatchObject({ kind: 'Status', reason: 'BadRequest', code: 400 })
        }
      }
      expect(errors).not.toHaveBeenCalled()
    })
  }

  it('changes nothing on a write', async () => {
    const t = await testApp()
    const before = await dumpTables(t.client)
    const res = await t.json('POST', '/api/v1/namespaces/%E0%A4%A/pods', { metadata: { name: 'p' } })
    expect(res.status).toBe(400)
    expect(await dumpTables(t.client)).toBe(before)
  })

  it('leaves well-formed escapes alone', async () => {
    const t = await testApp()
    expect((await t.json('POST', '/api/v1/namespaces/default/pods', { metadata: { name: 'web-1' } })).status).toBe(201)
    const res = await t.json('GET', '/api/v1/namespaces/default/pods/web%2D1')
    expect(res.status).toBe(200)
    expect(res.body.metadata.name).toBe('web-1')
  })
})
