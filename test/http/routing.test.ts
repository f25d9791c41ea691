/**
 * The app's router. hono's default router (SmartRouter) settles, on the first request, on
 * the first of its routers that takes every route: RegExpRouter, which matches a request
 * with one regular expression per method, or else TrieRouter, which walks a tree of every
 * route's segments on each request (several times slower over this app's routes). RegExpRouter
 * refuses a route whose pattern holds a capturing group, so one such route (the dashboard's
 * assets once had one) sends every request of the API, DNS included, through the slower
 * walk. test/http/ui.test.ts checks that the assets' route still serves what it should.
 */
import { beforeAll, expect, it } from 'vitest'
import { testApp, type TestApp } from '../support/app'

let t: TestApp
beforeAll(async () => {
  t = await testApp()
})

it('matches requests with RegExpRouter: no route pattern is one it refuses', async () => {
  expect((await t.req('GET', '/version')).status).toBe(200)
  expect(t.app.router.name).toBe('SmartRouter + RegExpRouter')
})

it('still matches item, subresource and DoH routes, with their parameters', async () => {
  expect((await t.req('POST', '/api/v1/namespaces', { metadata: { name: 'routing' } })).status).toBe(201)
  const pod = { metadata: { name: 'p-1' }, status: { podIP: '10.9.0.1', conditions: [{ type: 'Ready', status: 'True' }] } }
  expect((await t.req('POST', '/api/v1/namespaces/routing/pods', pod)).status).toBe(201)
  const got = await t.json('GET', '/api/v1/namespaces/routing/pods/p-1/status')
  expect(got.status).toBe(200)
  expect(got.body.metadata).toMatchObject({ name: 'p-1', namespace: 'routing' })
  expect((await t.req('GET', '/api/v1/namespaces/routing/pods/p-1/nothing')).status).toBe(404)
  expect((await t.req('GET', '/dns-query?name=p-1.routing.svc.cluster.local&type=A', undefined, { accept: 'application/dns-json' })).status).toBe(200)
})
