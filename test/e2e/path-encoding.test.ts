/**
 * The real server (`npm start`, access control on) answers a malformed percent-encoded
 * path with a 400 Status, unauthenticated or not, and logs nothing for it: such a request
 * used to be a 500 with a stack trace in the log on every call.
 */
import { describe, expect, it } from 'vitest'
import { authHeaders } from '../support/auth'
import { useServer } from '../support/server'

describe('malformed percent-encoding against the real server', () => {
  const server = useServer()

  it('is a 400 Status with nothing in the log', async () => {
    const before = server.process.output().length
    for (const path of ['/dns-query/%E0%A4%A?dns=AAA', '/api/v1/namespaces/%E0%A4%A/pods']) {
      for (const headers of [{}, authHeaders()]) {
        const res = await fetch(`${server.url}${path}`, { headers })
        expect(res.status, path).toBe(400)
        expect(((await res.json()) as { reason: string }).reason).toBe('BadRequest')
      }
    }
    await new Promise((r) => setTimeout(r, 100))
    expect(server.process.output().slice(before)).toBe('')
  })
})
