/**
 * The core/v1 resources: namespaces, services and pods, each with its Kubernetes paths
 * and verbs. Handlers are thin: read the request, call the registry, answer.
 */
import type { Context, Hono } from 'hono'
import type { AppEnv } from '../http/env'
import { badRequest } from '../registry/errors'
import { readDeleteOptions, readObject, readPatch } from '../http/body'
import { listQuery, route } from './route'

const NS = '/api/v1/namespaces/:namespace'

export function mountResources(app: Hono<AppEnv>): void {
  const ns = (c: Context) => c.req.param('namespace')!
  const name = (c: Context) => c.req.param('name')!
  // The registry acting for the caller (set by access control).
  const registry = { get: (c: Context<AppEnv>) => c.get('registry') }

  route(app, '/api/v1/namespaces', {
    get: async (c) => c.json(await registry.get(c).list('Namespace', undefined, listQuery(c))),
    post: async (c) => c.json(await registry.get(c).createNamespace(await refuseDryRun(c, readObject)), 201),
  })
  route(app, '/api/v1/namespaces/:name', {
    get: async (c) => c.json(await registry.get(c).get('Namespace', '', name(c))),
    delete: async (c) => c.json(await registry.get(c).deleteNamespace(name(c), await refuseDryRun(c, readDeleteOptions))),
  })

  route(app, '/api/v1/services', { get: async (c) => c.json(await registry.get(c).list('Service', undefined, listQuery(c))) })
  route(app, `${NS}/services`, {
    get: async (c) => c.json(await registry.get(c).list('Service', ns(c), listQuery(c))),
    post: async (c) => c.json(await registry.get(c).createService(ns(c), await refuseDryRun(c, readObject)), 201),
  })
  route(app, `${NS}/services/:name`, {
    get: async (c) => c.json(await registry.get(c).get('Service', ns(c), name(c))),
    put: async (c) => c.json(await registry.get(c).replaceService(ns(c), name(c), await refuseDryRun(c, readObject))),
    patch: async (c) => {
      const { type, patch } = await refuseDryRun(c, readPatch)
      return c.json(await registry.get(c).patchService(ns(c), name(c), type, patch))
    },
    delete: async (c) => c.json(await registry.get(c).deleteService(ns(c), name(c), await refuseDryRun(c, readDeleteOptions))),
  })

  route(app, '/api/v1/pods', { get: async (c) => c.json(await registry.get(c).list('Pod', undefined, listQuery(c))) })
  route(app, `${NS}/pods`, {
    get: async (c) => c.json(await registry.get(c).list('Pod', ns(c), listQuery(c))),
    post: async (c) => c.json(await registry.get(c).createPod(ns(c), await refuseDryRun(c, readObject)), 201),
  })
  route(app, `${NS}/pods/:name`, {
    get: async (c) => c.json(await registry.get(c).get('Pod', ns(c), name(c))),
    put: async (c) => c.json(await registry.get(c).replacePod(ns(c), name(c), await refuseDryRun(c, readObject))),
    patch: async (c) => {
      const { type, patch } = await refuseDryRun(c, readPatch)
      return c.json(await registry.get(c).patchPod(ns(c), name(c), type, patch))
    },
    delete: async (c) =>
      c.json(await registry.get(c).deletePod(ns(c), name(c), await refuseDryRun(c, readDeleteOptions), c.req.query('gracePeriodSeconds'))),
  })
  route(app, `${NS}/pods/:name/status`, {
    get: async (c) => c.json(await registry.get(c).get('Pod', ns(c), name(c))),
    put: async (c) => c.json(await registry.get(c).replacePodStatus(ns(c), name(c), await refuseDryRun(c, readObject))),
    patch: async (c) => {
      const { type, patch } = await refuseDryRun(c, readPatch)
      return c.json(await registry.get(c).patchPodStatus(ns(c), name(c), type, patch))
    },
  })
}

/** Reads the body of a write; a dry run is refused rather than applied. */
export async function refuseDryRun<T>(c: Context, read: (c: Context) => Promise<T>): Promise<T> {
  if (c.req.query('dryRun') !== undefined) throw badRequest('dryRun is not supported')
  return read(c)
}
