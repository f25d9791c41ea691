import { describe, expect, it } from 'vitest'
import worker from '../../worker/index'

describe('the Workers entry', () => {
  it('answers every request with a 503 Status naming the missing database setting', async () => {
    const res = await worker.fetch(new Request('http://registry/api/v1/namespaces'), { SWITCHBOARD_ADMIN_TOKEN: 'x'.repeat(32) }, { waitUntil: () => {} })
    expect(res.status).toBe(503)
    const body = (await res.json()) as { kind: string; reason: string; message: string }
    expect(body).toMatchObject({ kind: 'Status', reason: 'ServiceUnavailable' })
    expect(body.message).toContain('DATABASE_URL')
    expect(body.message).toContain('DB')
  })

  it('names a bad setting', async () => {
    const res = await worker.fetch(new Request('http://registry/healthz'), { DATABASE_URL: 'libsql://x.example', DNS_TTL: 'soon' }, { waitUntil: () => {} })
    expect(res.status).toBe(503)
    expect(((await res.json()) as { message: string }).message).toContain('DNS_TTL')
  })
})
