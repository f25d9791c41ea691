/**
 * `/healthz` (200 once the database is usable, 503 otherwise) and `/version` (Kubernetes'
 * version.Info: the Kubernetes release whose semantics are served, the registry's own
 * version in gitVersion); both open.
 */
import type { Hono } from 'hono'
import { RegistryError } from '../registry/errors'
import type { AppEnv } from '../http/env'
import { verbs } from './verbs'
import { KUBERNETES_VERSION, gitVersion } from '../version'

export function healthRoutes(app: Hono<AppEnv>, options: { version: string; ready: () => Promise<boolean> }): void {
  verbs(app, '/healthz', {
    get: async (c) => {
      if (!(await options.ready())) throw new RegistryError('ServiceUnavailable', 'the database is not usable yet')
      return c.text('ok')
    },
  })
  verbs(app, '/version', {
    get: (c) =>
      c.json({
        major: String(KUBERNETES_VERSION.major),
        minor: String(KUBERNETES_VERSION.minor),
        gitVersion: gitVersion(options.version),
        gitCommit: '',
        gitTreeState: '',
        buildDate: '',
        goVersion: '',
        compiler: '',
        platform: 'switchboard',
      }),
  })
}
