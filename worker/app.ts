/**
 * createApp(deps): the Hono app shared by the Node and Workers runtimes. It mounts the
 * routers, answers every error as a Kubernetes Status, and never lets an unexpected
 * error out as anything but a 500 Status without internals.
 */
import { Hono } from 'hono'
import { mountDiscovery } from './api/discovery'
import { mountEndpoints } from './api/endpoints'
import { mountResources } from './api/resources'
import { pathNotFound, statusResponse } from './api/status'
import { RegistryError } from './registry/errors'
import type { Registry } from './registry/registry'
import { mountDoh } from './dns/doh'
import type { Resolver } from './dns/resolve'
import { mountPick } from './api/pick'
import type { Picker } from './registry/pick'

export interface AppDeps {
  registry: Registry
  resolver: Resolver
  picker: Picker
  version: string
  /** Logs an unexpected error; defaults to console.error. */
  logError?: (error: unknown) => void
}

export function createApp(deps: AppDeps): Hono {
  const app = new Hono()
  const logError = deps.logError ?? ((e: unknown) => console.error(e))

  app.use('*', async (c, next) => {
    const id = c.req.header('x-request-id') || crypto.randomUUID()
    c.header('X-Request-Id', id)
    await next()
  })

  mountDiscovery(app, { version: deps.version, ready: () => deps.registry.store.ping() })
  mountResources(app, deps.registry)
  mountEndpoints(app, deps.registry)
  mountPick(app, deps.picker)
  mountDoh(app, deps.resolver)

  app.notFound((c) => statusResponse(c, pathNotFound()))
  app.onError((error, c) => {
    if (error instanceof RegistryError) return statusResponse(c, error)
    logError(error)
    return statusResponse(c, new RegistryError('InternalError', 'an internal error occurred'))
  })
  return app
}
