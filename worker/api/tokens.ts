/**
 * Tokens at `/apis/switchboard.dev/v1/tokens[/{name}]`: create (the answer shows the
 * secret once), list, get, revoke (DELETE). Admins of every namespace only.
 */
import type { Hono } from 'hono'
import type { TokenRegistry } from '../registry/tokens'
import type { AppEnv } from '../http/env'
import { readDeleteOptions, readObject } from '../http/body'
import { refuseDryRun } from './resources'
import { route } from './route'

export function mountTokens(app: Hono<AppEnv>, tokens: TokenRegistry): void {
  route(app, '/apis/switchboard.dev/v1/tokens', {
    get: async (c) => c.json(await tokens.list()),
    post: async (c) => {
      c.header('Cache-Control', 'no-store')
      return c.json(await tokens.create(await refuseDryRun(c, readObject), c.get('principal').name), 201)
    },
  })
  route(app, '/apis/switchboard.dev/v1/tokens/:name', {
    get: async (c) => c.json(await tokens.get(c.req.param('name')!)),
    delete: async (c) => {
      await refuseDryRun(c, readDeleteOptions)
      return c.json(await tokens.revoke(c.req.param('name')!))
    },
  })
}
