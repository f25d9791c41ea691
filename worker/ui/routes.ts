/**
 * The dashboard at `/ui` (and the OpenAPI viewer at `/ui/openapi`): server-rendered
 * pages and their assets, served without a token; every data call the pages make goes
 * to the API with the token the user signed in with. Every response here carries the
 * headers of `headers.ts`.
 */
import type { Context, Hono } from 'hono'
import type { AppEnv } from '../http/env'
import { verbs } from '../api/verbs'
import { pathNotFound, statusResponse } from '../api/status'
import { uiHeaders } from './headers'
import { dashboardPage, openApiPage } from './pages'
import { CLIENT_MODULES } from './client-modules'
import { STYLES } from './styles'

const ASSETS: Record<string, { body: string; type: string }> = {
  'dashboard.css': { body: STYLES, type: 'text/css; charset=utf-8' },
  ...Object.fromEntries(Object.entries(CLIENT_MODULES).map(([name, body]) => [name, { body, type: 'text/javascript; charset=utf-8' }])),
}

function page(render: () => string) {
  let html: string | undefined
  return (c: Context<AppEnv>) => {
    c.header('Cache-Control', 'no-cache')
    return c.html((html ??= render()))
  }
}

export function mountUi(app: Hono<AppEnv>): void {
  app.use('/ui', uiHeaders())
  app.use('/ui/*', uiHeaders())
  const dashboard = page(dashboardPage)
  verbs(app, '/ui', { get: dashboard })
  verbs(app, '/ui/', { get: dashboard })
  verbs(app, '/ui/openapi', { get: page(openApiPage) })
  verbs(app, '/ui/assets/:file', {
    get: (c) => {
      const asset = ASSETS[c.req.param('file')!]
      if (!asset) return statusResponse(c, pathNotFound())
      return c.body(asset.body, 200, { 'Content-Type': asset.type, 'Cache-Control': 'no-cache' })
    },
  })
}
