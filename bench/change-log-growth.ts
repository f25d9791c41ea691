/**
 * How much the change log adds to the database per write, and what compaction gives back:
 * `npx tsx bench/change-log-growth.ts [writes]` (default 20,000). On an embedded libSQL file
 * with the migrations applied, 1,000 pods behind 10 services, it flips pod readiness through
 * the app (each flip is one write: a Pod event with the object and the object before, and an
 * Endpoints event for the service), then reports the `changes` table's pages (dbstat) per
 * write and per million writes, and its size after a compaction that prunes every event.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../worker/config'
import { drizzleLibsql, openLibsql, tuneEmbedded } from '../worker/db/client'
import { applyMigrations } from '../worker/db/migrate'
import { buildApp, systemClock } from '../worker/wiring'

const WRITES = Number(process.argv[2] ?? 20_000)
const PODS = 1000
const SERVICES = 10

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-changelog-'))
  const client = openLibsql({ url: `file:${join(dir, 'db')}` })
  try {
    await tuneEmbedded(client)
    const db = drizzleLibsql(client)
    await applyMigrations(db)
    let offset = 0
    const clock = { ...systemClock(), now: () => new Date(Date.now() + offset) }
    const { app, registry } = buildApp(db, parseConfig({ CHANGE_LOG_RETENTION_SECONDS: '60' }), clock)
    const send = async (method: string, path: string, body: unknown, type = 'application/json') => {
      const res = await app.request(path, { method, headers: { 'content-type': type }, body: JSON.stringify(body) })
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
    }
    const ns = '/api/v1/namespaces/default'
    for (let s = 0; s < SERVICES; s++) {
      await send('POST', `${ns}/services`, { metadata: { name: `svc-${s}` }, spec: { selector: { app: `a${s}` }, ports: [{ port: 80 }] } })
    }
    await registry.importPods(
      'default',
      Array.from({ length: PODS }, (_, i) => ({
        metadata: { name: `pod-${i}`, labels: { app: `a${i % SERVICES}` } },
        status: { podIP: `10.1.${i >> 8}.${i & 255}`, conditions: [{ type: 'Ready', status: 'True' }] },
      })),
    )
    const size = async () => {
      const rows = await client.execute("SELECT coalesce(sum(pgsize), 0) AS bytes, (SELECT count(*) FROM changes) AS n FROM dbstat WHERE name IN ('changes', 'changes_by_rv')")
      return { bytes: Number(rows.rows[0]!.bytes), rows: Number(rows.rows[0]!.n) }
    }
    const before = await size()
    const started = performance.now()
    for (let i = 0; i < WRITES; i++) {
      const status = i % 2 === 0 ? 'False' : 'True'
      await send('PATCH', `${ns}/pods/pod-${(i >> 1) % PODS}/status`, { status: { conditions: [{ type: 'Ready', status }] } }, 'application/merge-patch+json')
    }
    const seconds = (performance.now() - started) / 1000
    const after = await size()
    const perWrite = (after.bytes - before.bytes) / WRITES
    offset = 120_000
    const pruned = await registry.compactChanges()
    const compacted = await size()
    const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`
    console.log(`writes                       ${WRITES.toLocaleString('en')} readiness flips in ${seconds.toFixed(1)} s (${Math.round(WRITES / seconds)}/s, in process)`)
    console.log(`change rows added            ${(after.rows - before.rows).toLocaleString('en')} (${((after.rows - before.rows) / WRITES).toFixed(2)} per write)`)
    console.log(`changes table + index growth ${mb(after.bytes - before.bytes)}: ${Math.round(perWrite)} bytes per write, ${mb(perWrite * 1e6)} per million writes`)
    console.log(`after compaction             ${pruned.toLocaleString('en')} events pruned; table + index ${mb(compacted.bytes)} (pages stay allocated in the file for reuse)`)
  } finally {
    client.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
