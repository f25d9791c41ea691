/**
 * Declares the verbs of one path; any other method gets a 405 Status naming the
 * allowed ones.
 */
import type { Context, Hono } from 'hono'
import { badRequest } from '../registry/errors'
import { methodNotAllowed } from './status'
import { visibleNamespaces } from './auth'
import type { AppEnv } from '../http/env'

type Handler = (c: Context<AppEnv>) => Promise<Response> | Response
type Verb = 'get' | 'post' | 'put' | 'patch' | 'delete'

export function route(app: Hono<AppEnv>, path: string, handlers: Partial<Record<Verb, Handler>>): void {
  const allowed: string[] = []
  for (const [verb, handler] of Object.entries(handlers) as [Verb, Handler][]) {
    app.on(verb.toUpperCase(), path, handler)
    allowed.push(verb.toUpperCase())
  }
  app.all(path, (c) => {
    c.header('Allow', allowed.join(', '))
    throw methodNotAllowed(c.req.method, allowed)
  })
}

/** The list query of a request: selectors, limit, continue token, and the caller's namespaces. */
export function listQuery(c: Context<AppEnv>) {
  const q = c.req.query()
  if (q.watch === 'true' || q.watch === '1') {
    throw badRequest('watch is not supported: list with a resourceVersion and poll instead')
  }
  const limit = q.limit === undefined || q.limit === '' ? undefined : Number(q.limit)
  return {
    ...(q.labelSelector !== undefined ? { labelSelector: q.labelSelector } : {}),
    ...(q.fieldSelector !== undefined ? { fieldSelector: q.fieldSelector } : {}),
    ...(limit !== undefined ? { limit } : {}),
    ...(q.continue ? { continue: q.continue } : {}),
    ...(visibleNamespaces(c) ? { namespaces: visibleNamespaces(c) } : {}),
  }
}
