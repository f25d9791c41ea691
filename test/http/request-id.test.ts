import { describe, expect, it } from 'vitest'
import { testApp } from '../support/app'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

async function answered(sent?: string): Promise<string | null> {
  const t = await testApp()
  const headers: Record<string, string> = sent === undefined ? {} : { 'x-request-id': sent }
  return (await t.req('GET', '/version', undefined, headers)).headers.get('x-request-id')
}

describe('X-Request-Id', () => {
  it('assigns a fresh UUID when the caller sends none', async () => {
    expect(await answered()).toMatch(UUID)
    expect(await answered('')).toMatch(UUID)
  })

  it("echoes the caller's id when it is printable ASCII without spaces, up to 128 characters", async () => {
    for (const id of ['abc', '3f1c9a0e-8d2b-4f4e-9a51-0c7d2e6b8a13', 'req:1/2_x.y+z=~!', '0123456789abcdef0123456789abcdef', 'x'.repeat(128)]) {
      expect(await answered(id), id).toBe(id)
    }
  })

  it('replaces an id with a control character, a space, a non-ASCII character or more than 128 characters', async () => {
    const bad = {
      'a control character': 'abc\x01def',
      DEL: 'abc\x7fdef',
      'a tab': 'abc\tdef',
      'a space': 'abc def',
      'a non-ASCII character': 'r\xe9quete',
      'UTF-8 bytes read as Latin-1': 'caf\xc3\xa9',
      '129 characters': 'x'.repeat(129),
      'a forged log line': 'x'.repeat(64) + '\x1b[2J',
    }
    for (const [what, id] of Object.entries(bad)) {
      const got = await answered(id)
      expect(got, what).toMatch(UUID)
      expect(got, what).not.toBe(id)
    }
  })

  it('is on error answers too', async () => {
    const t = await testApp()
    const res = await t.req('GET', '/api/v1/namespaces/default/services/missing', undefined, { 'x-request-id': 'trace-404' })
    expect(res.status).toBe(404)
    expect(res.headers.get('x-request-id')).toBe('trace-404')
    const bad = await t.req('GET', '/api/v1/namespaces/default/services/missing', undefined, { 'x-request-id': 'bad id' })
    expect(bad.headers.get('x-request-id')).toMatch(UUID)
  })
})
