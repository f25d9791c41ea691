/**
 * /livez and /readyz on the Worker (D1): open without a token, and readiness probes a
 * read and a committed write of the D1 database.
 */
import { SELF } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { testDatabase } from './db'

describe('health on the Worker', () => {
  beforeEach(async () => {
    await testDatabase()
  })

  it('answers /livez and /readyz without a token, listing the D1 checks with ?verbose', async () => {
    const live = await SELF.fetch('http://registry/livez')
    expect([live.status, await live.text()]).toEqual([200, 'ok'])
    const ready = await SELF.fetch('http://registry/readyz?verbose')
    expect(ready.status).toBe(200)
    expect(await ready.text()).toBe('[+]ping ok\n[+]database ok\n[+]database-write ok\nreadyz check passed\n')
    expect((await SELF.fetch('http://registry/api/v1/namespaces')).status).toBe(401)
  })
})
