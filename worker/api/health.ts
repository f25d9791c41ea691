/**
 * `/healthz` (200 once the database is usable, 503 otherwise) and `/version`; both open.
 */
import type { Hono } from 'hono'
import { RegistryError } from '../registry/errors'
import type { AppEnv } from '../http/env'
import { verbs } from './verbs'

export function healthRoutes(app: Hono<AppEnv>, options: { version: string; ready: () => Promise<boolean> }): void {
  verbs(app, '/healthz', {
    get: async (c) => {
      if (!(await options.ready())) throw new RegistryError('ServiceUnavailable', 'the database is not usable yet')
      return c.text('ok')
    },
  })
  verbs(app, '/version', {
    get: (c) => {
      const [major = '0', minor = '0'] = options.version.split('.')
      return c.json({ version: options.version, gitVersion: `v${options.version}`, major, minor, platform: 'switchboard' })
    },
  })
}
