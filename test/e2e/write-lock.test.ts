/**
 * Two processes on one database file: another process (here a plain libsql connection in a
 * child process, as a second registry, a backup or a migration would be) holds the write
 * lock while the server (`npm start`) takes requests. The server's event loop must not
 * freeze: health checks, reads, DNS and picks answer at once while its write waits (and
 * while its own heartbeats wait), the write lands once the lock is free, and a lock held
 * past DATABASE_BUSY_TIMEOUT_MS turns the waiting write into a 503 with Retry-After that
 * changed nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { authHeaders } from '../support/auth'
import { startServer, type ServerProcess } from '../support/server'

const ROOT = new URL('../..', import.meta.url).pathname

/** A child process that takes the write lock of `path` (BEGIN IMMEDIATE) and holds it for `ms`, then rolls back. */
async function holdLock(path: string, ms: number): Promise<{ child: ChildProcess; released: Promise<void> }> {
  const script = `
    import Database from 'libsql'
    const db = new Database(${JSON.stringify(path)})
    db.exec('BEGIN IMMEDIATE')
    db.exec("UPDATE meta SET value = value WHERE key = 'resourceVersion'")
    console.log('locked')
    setTimeout(() => { db.exec('ROLLBACK'); console.log('released'); db.close() }, ${ms})`
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  let onReleased: () => void = () => undefined
  const released = new Promise<void>((resolve) => (onReleased = resolve))
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d
      if (out.includes('locked')) resolve()
      if (out.includes('released')) onReleased()
    })
    child.once('exit', (code) => (code ? reject(new Error(`the lock holder exited with ${code}`)) : onReleased()))
  })
  return { child, released }
}

/** Asks GET `path` every 10 ms until stopped; the slowest answer is what a frozen event loop would show. */
function poll(server: ServerProcess, path: string) {
  let stopped = false
  let slowest = 0
  let answers = 0
  const running = (async () => {
    while (!stopped) {
      const began = performance.now()
      const res = await fetch(`${server.url}${path}`, { headers: authHeaders() })
      const body = await res.text()
      if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${body}`)
      slowest = Math.max(slowest, performance.now() - began)
      answers++
      await new Promise((r) => setTimeout(r, 10))
    }
  })()
  return {
    stop: async () => {
      stopped = true
      await running
      return { slowestMs: slowest, answers }
    },
  }
}

const namespace = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })

async function create(server: ServerProcess, name: string): Promise<{ status: number; headers: Headers; body: any; ms: number }> {
  const began = performance.now()
  const res = await fetch(`${server.url}/api/v1/namespaces`, {
    method: 'POST',
    headers: authHeaders({ 'content-type': 'application/json' }),
    body: JSON.stringify(namespace(name)),
  })
  return { status: res.status, headers: res.headers, body: await res.json(), ms: performance.now() - began }
}

describe('another process holding the write lock', () => {
  let server: ServerProcess
  beforeAll(async () => {
    // DNS_TTL=0: every DNS answer and pick is judged afresh, none served from the answer cache.
    server = await startServer({ env: { DATABASE_BUSY_TIMEOUT_MS: '2000', DNS_TTL: '0', ALLOW_LOOPBACK_ADDRESSES: 'true' } })
    const post = (path: string, body: unknown) =>
      fetch(`${server.url}${path}`, { method: 'POST', headers: authHeaders({ 'content-type': 'application/json' }), body: JSON.stringify(body) }).then((r) => r.status)
    expect(await post('/api/v1/namespaces/default/services', { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } })).toBe(201)
    const pod = { metadata: { name: 'web-0', labels: { app: 'web' } }, spec: { containers: [{ name: 'app' }] }, status: { podIP: '127.0.0.9', conditions: [{ type: 'Ready', status: 'True' }] } }
    expect(await post('/api/v1/namespaces/default/pods', pod)).toBe(201)
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('does not freeze the server: reads answer while a write waits, and the write lands once the lock is free', async () => {
    const { released } = await holdLock(server.databasePath, 800)
    const health = poll(server, '/livez')
    const reads = poll(server, '/api/v1/namespaces')
    const write = create(server, 'waited')
    await released
    const written = await write
    const [h, r] = [await health.stop(), await reads.stop()]
    expect(written.status).toBe(201)
    // It could only commit after the holder let go, about 800 ms after it took the lock.
    expect(written.ms).toBeGreaterThan(500)
    // Dozens of answers while the write waited, none held up for the lock's duration.
    expect(h.answers).toBeGreaterThan(10)
    expect(r.answers).toBeGreaterThan(10)
    expect(h.slowestMs).toBeLessThan(300)
    expect(r.slowestMs).toBeLessThan(300)
    const got = await fetch(`${server.url}/api/v1/namespaces/waited`, { headers: authHeaders() })
    expect(got.status).toBe(200)
  }, 30_000)

  it('keeps answering DNS and picks, judged afresh, while its own heartbeats wait for the lock and then fail', async () => {
    // Held past half the absence threshold (2.5 s on Node), so that the last heartbeat that committed is older than a reader trusts,
    // and past DATABASE_BUSY_TIMEOUT_MS, so that the heartbeats waiting meanwhile fail.
    const { released } = await holdLock(server.databasePath, 4000)
    const dns = poll(server, '/resolve?name=web.default.svc.cluster.local&type=A')
    const picks = poll(server, '/api/v1/namespaces/default/services/web/pick')
    const health = poll(server, '/livez')
    await released
    const [d, p, h] = [await dns.stop(), await picks.stop(), await health.stop()]
    for (const r of [d, p, h]) {
      expect(r.answers).toBeGreaterThan(20)
      expect(r.slowestMs).toBeLessThan(300)
    }
  }, 30_000)

  it('answers 503 with Retry-After, changing nothing, when the lock is held past DATABASE_BUSY_TIMEOUT_MS', async () => {
    const { released } = await holdLock(server.databasePath, 3000)
    const health = poll(server, '/livez')
    const refused = await create(server, 'refused')
    const h = await health.stop()
    expect(refused.status).toBe(503)
    expect(refused.body).toMatchObject({ kind: 'Status', reason: 'ServiceUnavailable', code: 503 })
    expect(refused.body.message).toMatch(/write lock/)
    expect(refused.headers.get('retry-after')).toBe('1')
    expect(refused.ms).toBeGreaterThan(1_800)
    expect(h.slowestMs).toBeLessThan(300)
    await released
    expect((await fetch(`${server.url}/api/v1/namespaces/refused`, { headers: authHeaders() })).status).toBe(404)
    expect((await create(server, 'refused')).status).toBe(201)
    expect(server.output()).toMatch(/held the write lock .* past the wait limit/)
  }, 30_000)
})
