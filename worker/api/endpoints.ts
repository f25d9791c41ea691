/**
 * Endpoints (core/v1) and EndpointSlices (discovery.k8s.io/v1): computed, read-only for
 * services with a selector; Endpoints may be written for selectorless services.
 */
import type { Context, Hono } from 'hono'
import type { AppEnv } from '../http/env'
import { readDeleteOptions, readObject } from '../http/body'
import { refuseDryRun } from './resources'
import { listQuery, route } from './route'

export function mountEndpoints(app: Hono<AppEnv>): void {
  const eps = { get: (c: Context<AppEnv>) => c.get('registry').endpoints }
  const ns = (c: Context) => c.req.param('namespace')!
  const name = (c: Context) => c.req.param('name')!

  route(app, '/api/v1/endpoints', { get: async (c) => c.json(await eps.get(c).listEndpoints(undefined, listQuery(c))) })
  route(app, '/api/v1/namespaces/:namespace/endpoints', {
    get: async (c) => c.json(await eps.get(c).listEndpoints(ns(c), listQuery(c))),
    post: async (c) => c.json(await eps.get(c).createEndpoints(ns(c), await refuseDryRun(c, readObject)), 201),
  })
  route(app, '/api/v1/namespaces/:namespace/endpoints/:name', {
    get: async (c) => c.json(await eps.get(c).getEndpoints(ns(c), name(c))),
    put: async (c) => c.json(await eps.get(c).replaceEndpoints(ns(c), name(c), await refuseDryRun(c, readObject))),
    delete: async (c) => {
      await refuseDryRun(c, readDeleteOptions)
      return c.json(await eps.get(c).deleteEndpoints(ns(c), name(c)))
    },
  })

  const slices = '/apis/discovery.k8s.io/v1'
  route(app, `${slices}/endpointslices`, { get: async (c) => c.json(await eps.get(c).listEndpointSlices(undefined, listQuery(c))) })
  route(app, `${slices}/namespaces/:namespace/endpointslices`, {
    get: async (c) => c.json(await eps.get(c).listEndpointSlices(ns(c), listQuery(c))),
  })
  route(app, `${slices}/namespaces/:namespace/endpointslices/:name`, {
    get: async (c) => c.json(await eps.get(c).getEndpointSlice(ns(c), name(c))),
  })
}
