/**
 * Health, as Kubernetes' API server reports it, and `/version`; all open (no token).
 *
 * - `/livez`: the process is alive and answers (`ping`). It does not look at the
 *   database: a full disk is not cured by a restart.
 * - `/readyz`: ready to serve: `ping`, `database` (a read answers) and `database-write`
 *   (a write commits; see registry/health-checks.ts).
 * - `/healthz`: kept, with the checks of `/readyz`.
 *
 * 200 `ok` when every check passes; `?verbose` lists them (`[+]database ok`); a failing
 * check answers 503 and the list, with `[-]<check> failed: <reason>` (the reason of a
 * storage fault, otherwise "reason withheld", as Kubernetes does). `?exclude=<check>`
 * (repeatable) skips a check, and `/readyz/<check>` runs one. `/version` is Kubernetes'
 * version.Info: the Kubernetes release whose semantics are served, the registry's own
 * version in gitVersion.
 */
import type { Context, Hono } from 'hono'
import type { AppEnv } from '../http/env'
import type { HealthCheck, HealthChecks } from '../registry/health-checks'
import { pathNotFound } from './status'
import { verbs } from './verbs'
import { KUBERNETES_VERSION, gitVersion } from '../version'

export function healthRoutes(app: Hono<AppEnv>, options: { version: string; checks: HealthChecks }): void {
  const endpoints: [string, readonly HealthCheck[]][] = [
    ['livez', options.checks.livez],
    ['readyz', options.checks.readyz],
    ['healthz', options.checks.readyz],
  ]
  for (const [endpoint, checks] of endpoints) {
    verbs(app, `/${endpoint}`, { get: (c) => report(c, options.checks, endpoint, checks) })
    verbs(app, `/${endpoint}/:check`, {
      get: (c) => {
        const one = checks.filter((check) => check.name === c.req.param('check'))
        if (one.length === 0) throw pathNotFound()
        return report(c, options.checks, endpoint, one)
      },
    })
  }
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

async function report(c: Context<AppEnv>, runner: HealthChecks, endpoint: string, checks: readonly HealthCheck[]): Promise<Response> {
  const excluded = new Set(c.req.queries('exclude') ?? [])
  const results = await runner.run(checks.filter((check) => !excluded.has(check.name)))
  const failed = results.some((r) => !r.ok)
  c.header('X-Content-Type-Options', 'nosniff')
  c.header('Cache-Control', 'no-store')
  if (!failed && c.req.query('verbose') === undefined) return c.text('ok')
  const lines = results.map((r) => (r.ok ? `[+]${r.name} ok` : `[-]${r.name} failed: ${r.reason ?? 'reason withheld'}`))
  lines.push(`${endpoint} check ${failed ? 'failed' : 'passed'}`)
  return c.text(`${lines.join('\n')}\n`, failed ? 503 : 200)
}
