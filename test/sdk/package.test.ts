import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NotFoundError, Switchboard } from '../../sdk/src/index'
import { E2E_TOKEN } from '../support/auth'
import { startServer, type ServerProcess } from '../support/server'

const ROOT = new URL('../..', import.meta.url).pathname
const SRC = join(ROOT, 'sdk/src')

describe('the SDK package', () => {
  it('builds to ESM with declarations, and its JavaScript imports nothing of the server', async () => {
    execFileSync(join(ROOT, 'node_modules/.bin/tsc'), ['-p', 'sdk/tsconfig.json'], { cwd: ROOT })
    const out = join(ROOT, 'sdk/dist/sdk/src')
    const files = readdirSync(out)
    expect(files).toEqual(expect.arrayContaining(['index.js', 'index.d.ts', 'client.js', 'errors.js', 'registration.js', 'leader-election.js']))
    for (const f of files.filter((x) => x.endsWith('.js'))) {
      const imports = [...readFileSync(join(out, f), 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1])
      for (const i of imports) expect(i, `${f} imports ${i}`).toMatch(/^\.\/[a-z-]+\.js$/)
    }
    const pkg = await import(join(out, 'index.js'))
    expect(typeof pkg.Switchboard).toBe('function')
    expect(JSON.parse(readFileSync(join(ROOT, 'sdk/package.json'), 'utf8')).exports['.'].import).toBe('./dist/sdk/src/index.js')
  }, 60_000)

  it('uses no Node-only API', () => {
    for (const f of readdirSync(SRC)) {
      const text = readFileSync(join(SRC, f), 'utf8')
      expect(text, f).not.toMatch(/from 'node:|require\(|\bBuffer\b|\bprocess\./)
    }
  })
})

describe('the examples run against a real server', () => {
  let server: ServerProcess
  beforeAll(async () => {
    // The register example serves on loopback and registers that address, which access control refuses unless allowed.
    server = await startServer({ env: { ALLOW_LOOPBACK_ADDRESSES: 'true' } })
    const sb = new Switchboard({ baseUrl: server.url, token: E2E_TOKEN })
    await sb.services.create({ metadata: { name: 'checkout' }, spec: { selector: { app: 'checkout' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } })
    await sb.pods.register({ name: 'checkout-a', ip: '10.30.0.1', labels: { app: 'checkout' }, ports: { http: 8080 }, weight: 2 })
    await sb.pods.register({ name: 'checkout-b', ip: '10.30.0.2', labels: { app: 'checkout' }, ports: { http: 8080 }, weight: 1 })
  }, 60_000)
  afterAll(async () => {
    await server?.stop('SIGKILL')
  })

  const run = (example: string, args: string[] = [], env: Record<string, string> = {}) => {
    const res = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'sdk/examples', example), ...args], {
      cwd: ROOT,
      env: { ...process.env, SWITCHBOARD_URL: server.url, SWITCHBOARD_TOKEN: E2E_TOKEN, ...env },
      encoding: 'utf8',
      timeout: 30_000,
    })
    expect(res.status, res.stderr).toBe(0)
    return res.stdout.trim().split('\n')
  }

  it('register: registers with a lease, turns ready, and on SIGTERM drains, deregisters and exits 0', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'sdk/examples', 'register.ts')], {
      cwd: ROOT,
      env: { ...process.env, SWITCHBOARD_URL: server.url, SWITCHBOARD_TOKEN: E2E_TOKEN, POD_NAME: 'checkout-x', POD_IP: '127.0.0.1', LEASE_SECONDS: '2', DRAIN_SECONDS: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    const waitFor = async (text: string) => {
      const deadline = Date.now() + 30_000
      while (!stdout.includes(text)) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`no "${text}":\n${stdout}\n${stderr}`)
        await new Promise((r) => setTimeout(r, 20))
      }
    }
    const sb = new Switchboard({ baseUrl: server.url, token: E2E_TOKEN })
    try {
      await waitFor('ready\n')
      const port = Number(/on port (\d+)/.exec(stdout)![1])
      const pod = await sb.pods.get('checkout-x')
      expect(pod.metadata.annotations).toMatchObject({ 'switchboard.dev/lease': 'checkout-x', 'switchboard.dev/weight': '2' })
      expect(pod.spec.containers?.[0]?.ports).toEqual([expect.objectContaining({ name: 'http', containerPort: port })])
      expect((await sb.leases.get('checkout-x')).spec.leaseDurationSeconds).toBe(2)
      // The workload answers where it registered.
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('hello from checkout-x\n')
      // Past a lease duration, renewals keep it registered.
      await new Promise((r) => setTimeout(r, 2500))
      expect((await sb.lookup('checkout')).map((e) => e.pod)).toContain('checkout-x')

      child.kill('SIGTERM')
      await waitFor('draining')
      await new Promise((r) => setTimeout(r, 300))
      expect((await sb.pods.get('checkout-x')).metadata.annotations?.['switchboard.dev/weight']).toBe('0')
      expect(await exited, stderr).toBe(0)
      expect(stdout.trim().split('\n')).toEqual([`registered checkout-x on port ${port}, lease checkout-x`, 'ready', 'SIGTERM: draining for 1 s', 'deregistered'])
      await expect(sb.pods.get('checkout-x')).rejects.toBeInstanceOf(NotFoundError)
      await expect(sb.leases.get('checkout-x')).rejects.toBeInstanceOf(NotFoundError)
    } finally {
      child.kill('SIGKILL')
    }
  }, 60_000)

  it('pick: spreads calls by weight', () => {
    expect(run('pick.ts', [], { CALLS: '6' })).toEqual(['checkout-a 4', 'checkout-b 2'])
  })

  it('resolve: answers the service name', () => {
    const lines = run('resolve.ts', ['_http._tcp.checkout.default.svc.cluster.local', 'SRV'])
    expect(lines).toEqual(['SRV 0 100 80 checkout.default.svc.cluster.local.'])
  })
})
