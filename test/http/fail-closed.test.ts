import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../worker/config'
import { buildApp, seededClock } from '../../worker/wiring'
import { testDatabase } from '../support/db'

describe('without a root credential, the Workers runtime fails closed', () => {
  it('refuses every API call and DNS with a 503 Status naming the missing secret; health stays open', async () => {
    const { db } = await testDatabase()
    const { app } = buildApp(db, parseConfig({}), seededClock(1), { failClosed: true })
    for (const path of ['/api/v1/namespaces', '/api/v1/namespaces/default/pods', '/dns-query?name=a.cluster.local', '/apis/switchboard.dev/v1/tokens']) {
      const res = await app.request(path)
      expect(res.status, path).toBe(503)
      const body = (await res.json()) as any
      expect(body).toMatchObject({ kind: 'Status', reason: 'ServiceUnavailable' })
      expect(body.message).toContain('SWITCHBOARD_ADMIN_TOKEN')
    }
    expect((await app.request('/healthz')).status).toBe(200)
  })

  it('answers DNS without a token when DOH_PUBLIC=true', async () => {
    const { db } = await testDatabase()
    const { app } = buildApp(db, parseConfig({ DOH_PUBLIC: 'true' }), seededClock(1), { failClosed: true })
    expect((await app.request('/resolve?name=dns-version.cluster.local&type=TXT')).status).toBe(200)
    expect((await app.request('/api/v1/pods')).status).toBe(503)
  })
})
