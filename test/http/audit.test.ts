/**
 * Audit lines (registry/audit.ts): one per accepted write through any kind's REST
 * storage — create, update, patch, server-side apply, the status subresource, delete,
 * a lease's one-statement renewal, tokens, user-written Endpoints — with the actor, verb,
 * kind, namespace, name and the resourceVersion the write was answered with; none for a
 * dry run, a refused write or a read. Read from the app's own output (console).
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { testApp, type TestApp } from '../support/app'

const ROOT = 'root-credential-for-the-audit-tests-0123456789'
const NS = '/api/v1/namespaces/default'
const LEASES = '/apis/coordination.k8s.io/v1/namespaces/default/leases'
const TOKENS = '/apis/switchboard.dev/v1/tokens'
const root = { authorization: `Bearer ${ROOT}` }

function pod(name: string, ip: string) {
  return {
    metadata: { name, labels: { app: 'web' } },
    spec: { containers: [{ name: 'app', ports: [{ name: 'http', containerPort: 8080 }] }] },
    status: { podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] },
  }
}

/** The audit lines written while `run` runs, without their time and level. */
async function auditLines(run: () => Promise<void>): Promise<Record<string, unknown>[]> {
  const lines: string[] = []
  const spy = vi.spyOn(console, 'log').mockImplementation((line: unknown) => void lines.push(String(line)))
  try {
    await run()
  } finally {
    spy.mockRestore()
  }
  return lines
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.msg === 'audit')
    .map(({ time, level, msg: _msg, ...rest }) => {
      expect(Date.parse(time as string)).not.toBeNaN()
      expect(level).toBe('info')
      return rest
    })
}

const rvOf = async (res: Response) => {
  const body = (await res.json()) as { metadata: { resourceVersion: string } }
  return body.metadata.resourceVersion
}

afterEach(() => vi.restoreAllMocks())

describe('audit lines', () => {
  let t: TestApp

  it('follow every accepted write of every kind, and no dry run, refusal or read', async () => {
    t = await testApp({ env: { SWITCHBOARD_ADMIN_TOKEN: ROOT, LOG_FORMAT: 'json', LOG_LEVEL: 'info', LOG_AUDIT: 'true' } })
    const rvs: Record<string, string> = {}
    let agent = ''
    const lines = await auditLines(async () => {
      const issued = await t.req('POST', TOKENS, { metadata: { name: 'agent' }, spec: { role: 'register', namespaces: ['default'] } }, root)
      expect(issued.status).toBe(201)
      const body = (await issued.json()) as { status: { secret: string }; metadata: { resourceVersion: string } }
      agent = body.status.secret
      rvs.token = body.metadata.resourceVersion
      const as = { authorization: `Bearer ${agent}` }
      const go = async (key: string, method: string, path: string, payload: unknown, headers: Record<string, string>, status: number, contentType?: string) => {
        const res = await t.req(method, path, payload, { ...headers, ...(contentType ? { 'content-type': contentType } : {}) })
        expect(res.status, `${method} ${path}`).toBe(status)
        rvs[key] = await rvOf(res)
      }
      await go('create', 'POST', `${NS}/pods`, pod('web-1', '10.1.0.1'), as, 201)
      await go('update', 'PUT', `${NS}/pods/web-1`, { ...pod('web-1', '10.1.0.1'), metadata: { name: 'web-1', labels: { app: 'web', v: '2' } } }, as, 200)
      await go('patch', 'PATCH', `${NS}/pods/web-1`, { metadata: { labels: { v: '3' } } }, root, 200)
      await go('status', 'PATCH', `${NS}/pods/web-1/status`, { status: { conditions: [{ type: 'Ready', status: 'False' }] } }, as, 200)
      await go('apply', 'PATCH', `${NS}/pods/web-2?fieldManager=agent`, JSON.stringify({ apiVersion: 'v1', kind: 'Pod', ...pod('web-2', '10.1.0.2') }), as, 201, 'application/apply-patch+yaml')
      await go('lease', 'POST', LEASES, { metadata: { name: 'agent-1' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 30 } }, as, 201)
      await go('renew', 'PATCH', `${LEASES}/agent-1`, { spec: { renewTime: new Date().toISOString().replace(/Z$/, '000Z') } }, as, 200)
      await go('service', 'POST', `${NS}/services`, { metadata: { name: 'ext' }, spec: { ports: [{ port: 80 }] } }, root, 201)
      await go('endpoints', 'POST', `${NS}/endpoints`, { metadata: { name: 'ext' }, subsets: [{ addresses: [{ ip: '10.2.0.1' }], ports: [{ port: 80 }] }] }, root, 201)
      // Not audited: a dry run of each verb, a refused write, a read.
      await go('-', 'POST', `${NS}/pods?dryRun=All`, pod('web-3', '10.1.0.3'), as, 201)
      await go('-', 'PATCH', `${NS}/pods/web-1?dryRun=All`, { metadata: { labels: { v: '4' } } }, as, 200)
      await go('-', 'DELETE', `${NS}/pods/web-1?dryRun=All`, undefined, as, 200)
      expect((await t.req('POST', `${NS}/pods`, pod('web-1', '10.1.0.1'), as)).status).toBe(409)
      expect((await t.req('DELETE', `${NS}/services/ext`, undefined, as)).status).toBe(403)
      expect((await t.req('GET', `${NS}/pods/web-1`, undefined, as)).status).toBe(200)
      await go('delete', 'DELETE', `${NS}/pods/web-1`, { gracePeriodSeconds: 0 }, as, 200)
      const revoked = await t.req('DELETE', `${TOKENS}/agent`, undefined, root)
      expect(revoked.status).toBe(200)
    })
    const entry = (actor: string, verb: string, kind: string, name: string, rv: string | undefined, more: Record<string, string> = {}) => ({
      actor,
      verb,
      kind,
      ...more,
      namespace: kind === 'Token' ? '' : 'default',
      name,
      resourceVersion: rv ?? expect.any(String),
    })
    expect(lines).toEqual([
      entry('admin', 'create', 'Token', 'agent', rvs.token),
      entry('agent', 'create', 'Pod', 'web-1', rvs.create),
      entry('agent', 'update', 'Pod', 'web-1', rvs.update),
      entry('admin', 'patch', 'Pod', 'web-1', rvs.patch),
      entry('agent', 'patch', 'Pod', 'web-1', rvs.status, { subresource: 'status' }),
      entry('agent', 'create', 'Pod', 'web-2', rvs.apply),
      entry('agent', 'create', 'Lease', 'agent-1', rvs.lease),
      entry('agent', 'patch', 'Lease', 'agent-1', rvs.renew),
      entry('admin', 'create', 'Service', 'ext', rvs.service),
      entry('admin', 'create', 'Endpoints', 'ext', rvs.endpoints),
      entry('agent', 'delete', 'Pod', 'web-1', rvs.delete),
      entry('admin', 'delete', 'Token', 'agent', undefined),
    ])
    // Every resourceVersion is one the registry moved to, in order.
    const numbers = lines.map((l) => Number(l.resourceVersion))
    expect(numbers.every((n, i) => n > 0 && (i === 0 || n > numbers[i - 1]!))).toBe(true)
    expect(JSON.stringify(lines)).not.toContain(agent)
  })

  it('name the actor "anonymous" with access control off, go on at LOG_LEVEL=warn, and stop with LOG_AUDIT=false', async () => {
    t = await testApp({ env: { LOG_LEVEL: 'info', LOG_FORMAT: 'json', LOG_AUDIT: 'true' } })
    expect(await auditLines(async () => void expect((await t.req('POST', `${NS}/pods`, pod('a', '10.1.0.9'))).status).toBe(201))).toEqual([
      { actor: 'anonymous', verb: 'create', kind: 'Pod', namespace: 'default', name: 'a', resourceVersion: expect.any(String) },
    ])
    const warn = await testApp({ env: { LOG_LEVEL: 'warn', LOG_FORMAT: 'json', LOG_AUDIT: 'true' } })
    expect(await auditLines(async () => void expect((await warn.req('POST', `${NS}/pods`, pod('b', '10.1.0.8'))).status).toBe(201))).toEqual([
      { actor: 'anonymous', verb: 'create', kind: 'Pod', namespace: 'default', name: 'b', resourceVersion: expect.any(String) },
    ])
    const quiet = await testApp({ env: { LOG_LEVEL: 'info', LOG_FORMAT: 'json', LOG_AUDIT: 'false' } })
    expect(await auditLines(async () => void expect((await quiet.req('POST', `${NS}/pods`, pod('c', '10.1.0.7'))).status).toBe(201))).toEqual([])
  })
})
