/**
 * `npx tsx bench/endpoint-list-scope.ts [endpoints]`: how long the Endpoints and
 * EndpointSlice lists take for a caller whose namespace is empty while another namespace
 * holds many endpoints (100,000 by default). Lists are filtered by namespace and paged
 * in the database, so the empty namespace should cost about what an empty database
 * costs. Prints the median and worst of each request; not part of `npm test`.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { buildApp, seededClock } from '../worker/wiring'
import { parseConfig } from '../worker/config'
import { drizzleLibsql, openLibsql, tuneEmbedded } from '../worker/db/client'
import { applyMigrations } from '../worker/db/migrate'

const ENDPOINTS = Number(process.argv[2] ?? 100_000)
const PODS_PER_SERVICE = 100
const IMPORT_BATCH = 5_000
const RUNS = 30
const ROOT = 'bench-root-credential-0123456789abcdef'

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-scope-'))
  const client = openLibsql({ url: `file:${join(dir, 'bench.db')}` })
  await tuneEmbedded(client)
  const db = drizzleLibsql(client)
  await applyMigrations(db)
  const { app, registry } = buildApp(db, parseConfig({ SWITCHBOARD_ADMIN_TOKEN: ROOT }), seededClock(1))
  const call = async (path: string, secret: string, method = 'GET', body?: unknown) => {
    const res = await app.request(path, {
      method,
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    })
    const json = (await res.json()) as any
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`)
    return json
  }

  const started = performance.now()
  await call('/api/v1/namespaces', ROOT, 'POST', { metadata: { name: 'big' } })
  await call('/api/v1/namespaces', ROOT, 'POST', { metadata: { name: 'empty' } })
  const services = Math.ceil(ENDPOINTS / PODS_PER_SERVICE)
  for (let s = 0; s < services; s++) {
    await call('/api/v1/namespaces/big/services', ROOT, 'POST', {
      metadata: { name: `svc-${s}` },
      spec: { clusterIP: 'None', selector: { app: `app-${s}` }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    })
  }
  for (let first = 0; first < ENDPOINTS; first += IMPORT_BATCH) {
    const pods = []
    for (let i = first; i < Math.min(first + IMPORT_BATCH, ENDPOINTS); i++) {
      pods.push({
        metadata: { name: `pod-${i}`, labels: { app: `app-${i % services}` } },
        spec: { containers: [{ name: 'app', ports: [{ name: 'http', containerPort: 8080 }] }] },
        status: { podIP: `10.${64 + (i >>> 16)}.${(i >>> 8) & 255}.${i & 255}`, conditions: [{ type: 'Ready', status: 'True' }] },
      })
    }
    await registry.importPods('big', pods)
  }
  const reader = (await call('/apis/switchboard.dev/v1/tokens', ROOT, 'POST', { metadata: { name: 'reader' }, spec: { role: 'read', namespaces: ['empty'] } }))
    .status.secret as string
  const stored = Number((await client.execute('SELECT count(*) AS n FROM endpoints')).rows[0]!.n)
  process.stdout.write(`seeded ${stored} endpoints in ${services} services of namespace "big" in ${((performance.now() - started) / 1000).toFixed(1)} s\n\n`)

  const cases: [string, string, string][] = [
    ['read token for "empty"', '/api/v1/endpoints', reader],
    ['read token for "empty"', '/apis/discovery.k8s.io/v1/endpointslices', reader],
    ['read token for "empty"', '/api/v1/namespaces/empty/endpoints', reader],
    ['read token for "empty"', '/apis/discovery.k8s.io/v1/namespaces/empty/endpointslices', reader],
    ['root, first page', '/api/v1/endpoints?limit=50', ROOT],
    ['root, first page', '/apis/discovery.k8s.io/v1/endpointslices?limit=50', ROOT],
  ]
  process.stdout.write('| caller | request | items | median ms | worst ms |\n| --- | --- | --- | --- | --- |\n')
  for (const [who, path, secret] of cases) {
    const times: number[] = []
    let items = 0
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now()
      items = (await call(path, secret)).items.length
      times.push(performance.now() - t0)
    }
    times.sort((a, b) => a - b)
    const median = times[Math.floor(times.length / 2)]!
    process.stdout.write(`| ${who} | GET ${path} | ${items} | ${median.toFixed(2)} | ${times[times.length - 1]!.toFixed(2)} |\n`)
  }
  client.close()
  rmSync(dir, { recursive: true, force: true })
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`)
  process.exit(1)
})
