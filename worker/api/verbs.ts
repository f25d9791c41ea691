/**
 * Declares the methods one path answers; any other method gets a 405 Status naming the
 * allowed ones (and an `Allow` header).
 */
import type { Context, Hono } from 'hono'
import { methodNotAllowed } from './status'
import type { AppEnv } from '../http/env'

type Handler = (c: Context<AppEnv>) => Promise<Response> | Response
type Method = 'get' | 'post' | 'put' | 'patch' | 'delete'

export function verbs(app: Hono<AppEnv>, path: string, handlers: Partial<Record<Method, Handler>>): void {
  const allowed: string[] = []
  for (const [method, handler] of Object.entries(handlers) as [Method, Handler][]) {
    app.on(method.toUpperCase(), path, handler)
    allowed.push(method.toUpperCase())
  }
  app.all(path, (c) => {
    c.header('Allow', allowed.join(', '))
    throw methodNotAllowed(c.req.method, allowed)
  })
}
