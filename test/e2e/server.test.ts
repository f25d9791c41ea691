import { spawnSync } from 'node:child_process'
import { afterAll, describe, expect, it } from 'vitest'
import { startServer, type ServerProcess } from '../support/server'
import { authHeaders } from '../support/auth'
import { serverPid } from '../support/tls'

const servers: ServerProcess[] = []
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop('SIGKILL')))
})

describe('the server process (npm start)', () => {
  it('goes on serving after SIGHUP over plain HTTP (nothing to reload), saying so', async () => {
    const server = await startServer()
    servers.push(server)
    process.kill(serverPid(server), 'SIGHUP')
    const deadline = Date.now() + 5000
    while (!server.output().includes('SIGHUP: nothing to reload') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    expect(server.output()).toContain('SIGHUP: nothing to reload')
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200)
  })

  it('prints one line with its URL, serves the API, keeps data across restarts and exits cleanly on SIGTERM and SIGINT', async () => {
    const server = await startServer()
    servers.push(server)
    expect(server.output().trim().split('\n').filter((l) => l.includes('http://'))).toHaveLength(1)
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200)
    const version = (await (await fetch(`${server.url}/version`)).json()) as any
    expect(version.gitVersion).toMatch(/^v1\.32\.\d+\+switchboard\.\d+\.\d+\.\d+/)

    const created = await fetch(`${server.url}/api/v1/namespaces/default/services`, {
      method: 'POST',
      headers: authHeaders({ 'content-type': 'application/json' }),
      body: JSON.stringify({ metadata: { name: 'web' }, spec: { ports: [{ port: 80 }] } }),
    })
    expect(created.status).toBe(201)
    const ip = ((await created.json()) as any).spec.clusterIP
    expect(await server.stop('SIGTERM')).toBe(0)

    const again = await startServer({ databasePath: server.databasePath })
    servers.push(again)
    expect((await fetch(`${again.url}/api/v1/namespaces/default/services/web`)).status).toBe(401)
    const got = (await (await fetch(`${again.url}/api/v1/namespaces/default/services/web`, { headers: authHeaders() })).json()) as any
    expect(got.spec.clusterIP).toBe(ip)
    expect(await again.stop('SIGINT')).toBe(0)
  }, 60_000)

  it('refuses to start on a bad environment value, naming the variable', () => {
    const res = spawnSync('npm', ['start', '--silent'], {
      cwd: new URL('../..', import.meta.url).pathname,
      env: { ...process.env, PORT: 'not-a-port', DATABASE_URL: ':memory:' },
      encoding: 'utf8',
      timeout: 30_000,
    })
    expect(res.status).not.toBe(0)
    expect(res.stderr).toContain('PORT')
  }, 40_000)
})
