/**
 * The dashboard at `/ui` (and the OpenAPI viewer at `/ui/openapi`): its pages, script
 * modules and stylesheet, built into `assets.ts` by `build.ts` and served without a
 * token; every data call the pages make goes to the API with the token the user signed
 * in with. Every response here carries the headers of `headers.ts`.
 */
import type { Context, Hono } from 'hono'
import type { AppEnv } from '../http/env'
import { verbs } from '../api/verbs'
import { pathNotFound, statusResponse } from '../api/status'
import { uiHeaders } from './headers'
import { UI_ASSETS } from './assets'

function serve(c: Context<AppEnv>, name: string): Response {
  const asset = UI_ASSETS[name]
  if (!asset) return statusResponse(c, pathNotFound())
  return c.body(asset.body, 200, { 'Content-Type': asset.type, 'Cache-Control': 'no-cache' })
}

export function mountUi(app: Hono<AppEnv>): void {
  app.use('/ui', uiHeaders())
  app.use('/ui/*', uiHeaders())
  verbs(app, '/ui', { get: (c) => serve(c, 'dashboard.html') })
  verbs(app, '/ui/', { get: (c) => serve(c, 'dashboard.html') })
  verbs(app, '/ui/openapi', { get: (c) => serve(c, 'openapi.html') })
  verbs(app, '/ui/assets/:file{[a-z-]+\\.(?:js|css)}', { get: (c) => serve(c, c.req.param('file')!) })
}
