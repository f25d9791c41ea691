/**
 * `npm run backup -- FILE`, run as the README says, against a running `npm start` that
 * is taking concurrent pod creates: the copy is opened by a second `npm start` on another
 * port and holds exactly the objects of one commit (the resourceVersion the command
 * reports): every pod created at or before it, each equal to the original's, and none
 * after; its endpoints equal a from-scratch recomputation (test/support/recompute.ts);
 * SQLite finds the file intact. Also: an existing FILE is kept unless --force is given,
 * and a remote or in-memory DATABASE_URL, a missing database and a missing FILE are
 * refused with a message. The README's restore steps bring the registry back to the copy.
 */
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'libsql'
import { afterAll, describe, expect, it } from 'vitest'
import { compare, snapshot, urlFetcher, type PodJson, type ServiceJson } from '../support/recompute'
import { startServer, type ServerProcess } from '../support/server'
import { OPEN_ACCESS, serverApi } from '../support/server-api'
import { npmScript } from '../support/npm-script'

const NS = '/api/v1/namespaces/default'
const MAX_PER_SLICE = 3
const WRITERS = 6

const backupCli = (env: Record<string, string>, ...args: string[]) => npmScript('backup', env, ...args)

const dir = () => mkdtempSync(join(tmpdir(), 'switchboard-backup-'))

function integrity(path: string): string {
  const db = new Database(path)
  try {
    return String((db.prepare('PRAGMA integrity_check').raw(true).get() as unknown[])[0])
  } finally {
    db.close()
  }
}

const servers: ServerProcess[] = []
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop('SIGKILL')))
})

describe('npm run backup', () => {
  it('copies a running registry under concurrent creates: the copy is the registry at one commit', async () => {
    const env = { ...OPEN_ACCESS, MAX_ENDPOINTS_PER_SLICE: String(MAX_PER_SLICE) }
    const original = await startServer({ env })
    servers.push(original)
    const api = serverApi(original.url)
    for (const app of ['a', 'b']) {
      await api('POST', `${NS}/services`, { metadata: { name: `svc-${app}` }, spec: { selector: { app }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } })
    }

    // The load: WRITERS loops creating pods until told to stop; each create's resourceVersion is kept.
    const created: { name: string; rv: number; at: number }[] = []
    let stop = false
    const failures: string[] = []
    const writer = async (w: number) => {
      for (let n = 0; !stop; n++) {
        const name = `w${w}-${n}`
        const res = await fetch(`${original.url}${NS}/pods`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            metadata: { name, labels: { app: n % 2 ? 'a' : 'b' } },
            status: { podIP: `10.1.${w}.${n % 250}`, conditions: [{ type: 'Ready', status: n % 3 ? 'True' : 'False' }] },
          }),
        })
        const body = (await res.json()) as PodJson
        if (res.status !== 201) failures.push(`${name}: ${res.status} ${JSON.stringify(body)}`)
        else created.push({ name, rv: Number(body.metadata.resourceVersion), at: Date.now() })
        if (n >= 249) break
      }
    }
    const load = Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)))
    while (created.length < 60) await new Promise((r) => setTimeout(r, 20))

    const target = join(dir(), 'copy.db')
    const began = Date.now()
    const run = await backupCli({ DATABASE_URL: `file:${original.databasePath}` }, target)
    const ended = Date.now()
    const during = created.filter((c) => c.at > began && c.at < ended).length
    const atBackup = created.length
    while (created.length < atBackup + 60) await new Promise((r) => setTimeout(r, 20))
    stop = true
    await load
    expect(failures).toEqual([])
    expect(run.code, run.stderr).toBe(0)
    const match = /copied .* to (\S+) at resourceVersion (\d+): (\d+) bytes/.exec(run.stdout)
    expect(match, run.stdout).not.toBeNull()
    expect(match![1]).toBe(target)
    const cut = Number(match![2])
    console.log(`backup: ${run.stdout.trim()}; ${during} creates were answered while the command ran, ${created.length} in all`)
    expect(during, 'the registry took writes while the backup ran').toBeGreaterThan(0)
    expect(integrity(target)).toBe('ok')

    // The copy, served by a fresh npm start on another port.
    const copy = await startServer({ env, databasePath: target })
    servers.push(copy)
    const copyApi = serverApi(copy.url)
    const copyPods = (await copyApi('GET', `${NS}/pods`)).items as PodJson[]
    const originalPods = (await api('GET', `${NS}/pods`)).items as PodJson[]
    const expected = created.filter((c) => c.rv <= cut).map((c) => c.name)
    expect(expected.length, 'the copy holds part of the load').toBeGreaterThan(0)
    expect(expected.length, 'the load went on after the copy').toBeLessThan(created.length)
    expect(copyPods.map((p) => p.metadata.name).sort()).toEqual([...expected].sort())
    const byName = new Map(originalPods.map((p) => [p.metadata.name, p]))
    for (const pod of copyPods) expect(pod).toEqual(byName.get(pod.metadata.name))
    expect(((await copyApi('GET', `${NS}/services`)).items as ServiceJson[]).map((s) => s.metadata.name)).toEqual(['svc-a', 'svc-b'])

    // The endpoints invariant holds in the copy.
    const snap = await snapshot(urlFetcher(copy.url), 'default')
    expect(snap.pods).toHaveLength(expected.length)
    expect(compare(snap, MAX_PER_SLICE)).toEqual({ problems: [], endpoints: [], addresses: [] })
    expect(snap.slices.length).toBeGreaterThan(2)

    // The README's restore: stop the server, remove the old WAL and its index, copy the backup in place, start.
    expect(await original.stop('SIGTERM')).toBe(0)
    rmSync(`${original.databasePath}-wal`, { force: true })
    rmSync(`${original.databasePath}-shm`, { force: true })
    copyFileSync(target, original.databasePath)
    const restored = await startServer({ env, databasePath: original.databasePath })
    servers.push(restored)
    const restoredPods = (await serverApi(restored.url)('GET', `${NS}/pods`)).items as PodJson[]
    expect(restoredPods).toEqual(copyPods)
  }, 120_000)

  it('keeps an existing FILE unless --force is given, never writes over the database itself, and leaves no partial file behind', async () => {
    const folder = dir()
    const source = join(folder, 'registry.db')
    const db = new Database(source)
    db.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER); INSERT INTO meta VALUES ('resourceVersion', 42)`)
    db.close()
    const target = join(folder, 'backup.db')
    writeFileSync(target, 'an older backup')

    const refused = await backupCli({ DATABASE_URL: `file:${source}` }, target)
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain(`${target} exists: pass --force to replace it`)
    expect(readFileSync(target, 'utf8')).toBe('an older backup')

    const itself = await backupCli({ DATABASE_URL: `file:${source}` }, source, '--force')
    expect(itself.code).toBe(1)
    expect(itself.stderr).toContain(`${source} is the database itself`)

    const forced = await backupCli({ DATABASE_URL: `file:${source}` }, target, '--force')
    expect(forced.code, forced.stderr).toBe(0)
    expect(forced.stdout).toContain('at resourceVersion 42')
    expect(integrity(target)).toBe('ok')
    const copy = new Database(target)
    expect(copy.prepare('SELECT value FROM meta').raw(true).get()).toEqual([42])
    copy.close()
    expect(readdirSync(folder).sort()).toEqual(['backup.db', 'registry.db'])
  }, 60_000)

  it('refuses a remote or in-memory DATABASE_URL, a missing database and a missing FILE, writing nothing', async () => {
    const folder = dir()
    const target = join(folder, 'out.db')
    const remote = await backupCli({ DATABASE_URL: 'libsql://switchboard-example.turso.io', DATABASE_AUTH_TOKEN: 'secret-token-value' }, target)
    expect(remote.code).toBe(1)
    expect(remote.stderr).toContain('is a remote database')
    expect(remote.stderr).toContain('turso db create')
    expect(remote.stderr).toContain('wrangler d1 time-travel')
    expect(remote.stderr).not.toContain('secret-token-value')

    const memory = await backupCli({ DATABASE_URL: ':memory:' }, target)
    expect(memory.code).toBe(1)
    expect(memory.stderr).toContain('no file to back up')

    const missing = join(folder, 'none.db')
    const absent = await backupCli({ DATABASE_URL: `file:${missing}` }, target)
    expect(absent.code).toBe(1)
    expect(absent.stderr).toContain(`there is no database at ${missing}`)
    expect(existsSync(missing)).toBe(false)

    const usage = await backupCli({ DATABASE_URL: `file:${missing}` })
    expect(usage.code).toBe(2)
    expect(usage.stderr).toContain('usage: npm run backup -- FILE [--force]')
    expect(readdirSync(folder)).toEqual([])
  }, 60_000)
})
