/**
 * WAL checkpoints run in a thread of their own (worker/db/checkpointer.ts), not in the
 * registry's commits: the registry's connection never checkpoints, the WAL still stays
 * bounded under writes (it starts over past its restart size) and its contents reach the
 * database file, a large WAL file is emptied once nothing is written, and should the
 * thread fail the connection checkpoints again as SQLite does by default.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'libsql'
import { afterEach, describe, expect, it } from 'vitest'
import { EmbeddedClient } from '../../worker/db/embedded-client'
import { tuneEmbedded } from '../../worker/db/client'
import { CHECK_MS, CHECKPOINT_PAGES, QUIET_MS, RESTART_PAGES, startCheckpointer } from '../../worker/db/checkpointer'
import { eventually } from '../support/eventually'

/** Polls every 20 ms for up to 5 s. */
const until = <T>(read: () => Promise<T>, check: (value: T) => boolean) => eventually(read, check, 5_000, 20)

const opened: { close: () => void }[] = []
afterEach(() => {
  for (const c of opened.splice(0).reverse()) c.close()
})

const PAGE = 4096
/** The tests that write megabytes take 1–2 s alone and have taken over 5 s beside the rest of the suite on two cores. */
const WRITES_MS = 30_000
const walBytes = (path: string) => statSync(`${path}-wal`).size

/** A registry connection (restarting its WAL past `restartPages`, if given) on a new file, with an empty table `t`. */
async function openTable(restartPages?: number): Promise<{ path: string; client: EmbeddedClient }> {
  const path = join(mkdtempSync(join(tmpdir(), 'switchboard-ckpt-')), 'db.sqlite')
  const client = new EmbeddedClient(path, restartPages === undefined ? {} : { restartPages })
  opened.push(client)
  await tuneEmbedded(client)
  await client.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)')
  return { path, client }
}

/** Inserts rounds of 300 rows of 3 KB (about 300 pages a round: a 3 KB row has a page to itself), the rows of a round concurrently; ids from `first * 300`. */
async function insertRounds(client: EmbeddedClient, rounds: number, between?: () => Promise<void>, first = 0): Promise<void> {
  const text = 'x'.repeat(3_000)
  for (let round = first; round < first + rounds; round++) {
    await Promise.all(Array.from({ length: 300 }, (_, i) => client.batch([{ sql: 'INSERT INTO t (id, v) VALUES (?, ?)', args: [round * 300 + i, text] }])))
    await between?.()
  }
}

describe('background checkpoints', () => {
  it('keep the WAL bounded while the registry connection never checkpoints, and lose nothing', async () => {
    // Restarts every 1,000 pages here (RESTART_PAGES in a registry), so that a few of them happen.
    const restartPages = 1_000
    expect(RESTART_PAGES).toBeGreaterThan(restartPages)
    const { path, client } = await openTable(restartPages)
    expect((await client.execute('PRAGMA wal_autocheckpoint')).rows[0]![0]).toBe(0)
    let largest = 0
    // 12,000 rows of 3 KB: about 12,000 pages, twelve times the restart size.
    await insertRounds(client, 40, async () => {
      largest = Math.max(largest, walBytes(path))
      await new Promise((r) => setTimeout(r, 10))
    })
    // Each of the 40 rounds wrote over 200 pages: the WAL passed its restart size several times while they went on.
    const stats = await until(() => client.checkpointStats()!, (s) => s.checkpoints >= 3)
    expect(stats.checkpoints).toBeGreaterThanOrEqual(3)
    // Without checkpoints the WAL would hold every page written (over 49 MB); it starts over after them (about 9 MB at most here).
    expect(largest).toBeLessThan(8 * restartPages * PAGE)
    // Once writes stop the file is emptied, and then nothing is done over and over (no RESTART or TRUNCATE again at every look).
    await until(async () => walBytes(path), (bytes) => bytes === 0)
    const settled = await client.checkpointStats()!
    await new Promise((r) => setTimeout(r, 300))
    expect(await client.checkpointStats()).toEqual(settled)
    client.close()
    opened.pop()
    const other = new Database(path)
    opened.push(other)
    const { n, bytes } = other.prepare('SELECT count(*) AS n, sum(length(v)) AS bytes FROM t').get() as { n: number; bytes: number }
    expect([n, bytes]).toEqual([12_000, 12_000 * 3_000])
  }, WRITES_MS)

  it('copies a burst of writes at once, however little the copy before it found', async () => {
    const restartPages = 1_000
    const { path, client } = await openTable(restartPages)
    await insertRounds(client, 5) // about 1,500 pages: copied, then the WAL starts over
    await until(() => client.checkpointStats()!, (s) => s.checkpoints >= 1)
    // One small write, copied alone a look or two later: the copy after it waits for SLOW_COPY_MS.
    await client.batch([{ sql: 'UPDATE t SET v = ? WHERE id = 0', args: ['y'] }])
    await new Promise((r) => setTimeout(r, 3 * CHECK_MS))
    // A burst of about 7,600 pages, a round every 20 ms or so: once it has taken the file well past its end, the thread copies
    // it and has the WAL start over (left to SLOW_COPY_MS, the file would hold nearly all of it).
    const before = await client.checkpointStats()!
    let largest = 0
    await insertRounds(
      client,
      25,
      async () => {
        largest = Math.max(largest, walBytes(path))
        await new Promise((r) => setTimeout(r, 20))
      },
      5,
    )
    expect(largest).toBeLessThan(4 * restartPages * PAGE)
    expect((await client.checkpointStats())!.checkpoints).toBeGreaterThan(before.checkpoints)
  }, WRITES_MS)

  it('empties a large WAL file once nothing is written, deferring while a reader holds an old snapshot, then does nothing', async () => {
    const { path, client } = await openTable()
    const snapshot = await client.transaction('read')
    await snapshot.execute('SELECT count(*) FROM t') // the snapshot is taken at its first read
    await insertRounds(client, 10)
    // Fewer pages than the restart size, more than CHECKPOINT_PAGES: the file is to be emptied now that nothing is written.
    // The reader still needs the WAL's frames: the thread tries, and gives up at once each time.
    const held = await until(() => client.checkpointStats()!, (s) => s.deferred >= 2)
    expect(held.deferred).toBeGreaterThanOrEqual(2)
    expect(held.checkpoints).toBe(0)
    expect(walBytes(path)).toBeGreaterThan(CHECKPOINT_PAGES * PAGE)
    expect(walBytes(path)).toBeLessThan(RESTART_PAGES * PAGE)
    snapshot.close()
    const emptied = await until(() => client.checkpointStats()!, (s) => s.checkpoints >= 1)
    expect(emptied.checkpoints).toBe(1)
    expect(walBytes(path)).toBe(0)
    // Idle: nothing to do, nothing done.
    await new Promise((r) => setTimeout(r, 300))
    expect(await client.checkpointStats()).toEqual(emptied)
    expect(Number((await client.execute('SELECT count(*) AS n FROM t')).rows[0]!.n)).toBe(3_000)
  }, WRITES_MS)

  it('keeps a large WAL file while writes go on, however small and spaced out, and empties it once they stop', async () => {
    const { path, client } = await openTable()
    // About 3,000 pages: past CHECKPOINT_PAGES, under RESTART_PAGES.
    await insertRounds(client, 10)
    expect(walBytes(path)).toBeGreaterThan(CHECKPOINT_PAGES * PAGE)
    expect(QUIET_MS).toBeGreaterThan(150)
    // One small write every 150 ms for 1.5 s: several looks in a row find nothing new, but never QUIET_MS of them, so the file
    // is not emptied (copied, the WAL starts over and the same small writes follow: a count of frames would look the same).
    const before = await client.checkpointStats()!
    let longest = 0 // the longest time between two writes: on a loaded machine a timer may fire late
    let last = performance.now()
    for (let i = 0; i < 10; i++) {
      await client.batch([{ sql: 'UPDATE t SET v = ? WHERE id = 0', args: [String(i)] }])
      longest = Math.max(longest, performance.now() - last)
      last = performance.now()
      await new Promise((r) => setTimeout(r, 150))
      if (longest < QUIET_MS - 2 * CHECK_MS) expect(walBytes(path)).toBeGreaterThan(0) // else see below
    }
    longest = Math.max(longest, performance.now() - last)
    const calm = longest < QUIET_MS - 2 * CHECK_MS
    if (calm) expect((await client.checkpointStats())!.checkpoints).toBe(before.checkpoints)
    else console.log(`two writes came ${Math.round(longest)} ms apart (the machine is loaded): the file may have been emptied between them`)
    await until(async () => walBytes(path), (bytes) => bytes === 0)
    expect(walBytes(path)).toBe(0)
    const after = (await client.checkpointStats())!.checkpoints
    if (calm) expect(after).toBe(before.checkpoints + 1)
    else expect(after).toBeGreaterThan(before.checkpoints)
  }, WRITES_MS)

  it('tells its owner when the thread fails, so that the connection checkpoints again', async () => {
    const reasons: string[] = []
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-ckpt-'))
    // The thread cannot open a database in a directory that does not exist: it fails at once.
    const c = startCheckpointer(join(dir, 'missing', 'db.sqlite'), { synchronous: 'NORMAL', onFailure: (r) => reasons.push(r) })
    opened.push({ close: () => c.stop() })
    await until(async () => reasons.length, (n) => n > 0)
    expect(reasons).toHaveLength(1)
  })

  it('lets the process exit cleanly while the thread is checkpointing', () => {
    // Torn down in the middle of a call into the driver, the thread used to abort the process (SIGABRT) now and then.
    const script = join(__dirname, '..', 'support', 'checkpoint-exit.ts')
    const codes: (number | string | null)[] = []
    for (let i = 0; i < 12; i++) {
      const dir = mkdtempSync(join(tmpdir(), 'switchboard-ckpt-exit-'))
      const run = spawnSync(process.execPath, ['--import', 'tsx', script, dir], {
        env: { ...process.env, CHECKPOINT_EXIT_MS: String(150 + 25 * i) },
        encoding: 'utf8',
        timeout: 20_000,
      })
      codes.push(run.status ?? run.signal)
      if (run.status !== 0) console.error(run.stderr)
    }
    expect(codes).toEqual(Array(12).fill(0))
  }, 120_000)
})
