/**
 * The real app over a real database, driven through `app.request()`.
 */
import { parseConfig } from '../../worker/config'
import { buildApp, seededClock } from '../../worker/wiring'
import type { Clock } from '../../worker/registry/meta'
import { testDatabase, type TestDatabase } from './db'

export interface TestApp extends TestDatabase {
  app: ReturnType<typeof buildApp>['app']
  registry: ReturnType<typeof buildApp>['registry']
  resolver: ReturnType<typeof buildApp>['resolver']
  picker: ReturnType<typeof buildApp>['picker']
  tokens: ReturnType<typeof buildApp>['tokens']
  /** The discovery cache behind DNS and the pick (its `loads` count database reads). */
  discovery: ReturnType<typeof buildApp>['discovery']
  /** Sends a request; a non-string body is sent as JSON. */
  req: (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<Response>
  json: <T = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<{ status: number; body: T }>
  /** Another app over the same database, as another process or isolate would be. */
  peer: () => ReturnType<typeof buildApp>['app']
}

export async function testApp(
  options: { env?: Record<string, string>; clock?: Clock; database?: 'memory' | 'file' } = {},
): Promise<TestApp> {
  const database = await testDatabase(options.database)
  // Audit lines would flood the test output; a test of them sets LOG_AUDIT (and LOG_LEVEL) itself.
  const config = parseConfig({ LOG_LEVEL: 'warn', LOG_AUDIT: 'false', ...options.env })
  const clock = options.clock ?? seededClock(42)
  const { app, registry, resolver, picker, tokens, discovery } = buildApp(database.db, config, clock)
  const peer = () => buildApp(database.db, config, clock).app
  const req = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const init: RequestInit = { method, headers: { ...headers } }
    if (body !== undefined) {
      init.body = typeof body === 'string' || body instanceof Uint8Array ? (body as BodyInit) : JSON.stringify(body)
      const contentType = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json'
      init.headers = { 'content-type': contentType, ...headers }
    }
    return Promise.resolve(app.request(path, init))
  }
  const json = async <T = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>) => {
    const res = await req(method, path, body, headers)
    return { status: res.status, body: (await res.json()) as T }
  }
  return { ...database, app, registry, resolver, picker, tokens, discovery, req, json, peer }
}
