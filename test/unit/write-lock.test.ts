/**
 * Another connection (another process, in production) holding the database's write lock
 * must not freeze this one's event loop: a write batch waits for the lock without
 * blocking, reads (of what is committed) and other callbacks go on meanwhile, the write
 * commits once the lock is free, and every read after it is acknowledged sees it. Past the wait limit the write fails as
 * SQLITE_BUSY with nothing applied. The other connection here is the `libsql` driver
 * itself on the same file, in this process: if the client waited synchronously, the
 * timer that releases the lock could not even run.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'libsql'
import { afterEach, describe, expect, it } from 'vitest'
import { EmbeddedClient } from '../../worker/db/embedded-client'
import { tuneEmbedded } from '../../worker/db/client'

const opened: { close: () => void }[] = []
afterEach(() => {
  for (const c of opened.splice(0).reverse()) c.close()
})

async function setup(options: { busyTimeoutMs?: number } = {}) {
  const path = join(mkdtempSync(join(tmpdir(), 'switchboard-lock-')), 'db.sqlite')
  const client = new EmbeddedClient(path, options)
  opened.push(client)
  await tuneEmbedded(client)
  await client.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)')
  const other = new Database(path)
  opened.push(other)
  return { client, other }
}

/** Counts timer ticks (every 5 ms) until stopped: a frozen event loop gets none. */
function ticker() {
  let ticks = 0
  let longest = 0
  let last = performance.now()
  const timer = setInterval(() => {
    const now = performance.now()
    longest = Math.max(longest, now - last)
    last = now
    ticks++
  }, 5)
  return {
    stop: () => {
      clearInterval(timer)
      return { ticks, longestGapMs: Math.max(longest, performance.now() - last) }
    },
  }
}

const rows = async (client: EmbeddedClient) => (await client.execute('SELECT v FROM t ORDER BY id')).rows.map((r) => r.v)

describe('a write lock held by another connection', () => {
  it('is waited for without blocking the event loop or reads; the write commits after it is released, and reads after that see it', async () => {
    const { client, other } = await setup()
    other.exec('BEGIN IMMEDIATE')
    other.exec("INSERT INTO t (v) VALUES ('theirs')")
    const ticks = ticker()
    const began = performance.now()
    setTimeout(() => other.exec('COMMIT'), 1000)
    const write = client.batch([{ sql: 'INSERT INTO t (v) VALUES (?)', args: ['ours'] }], 'write')
    // A read while the write waits answers at once, with what is committed (the write is not acknowledged yet).
    const readBegan = performance.now()
    expect(await rows(client)).toEqual([])
    expect(performance.now() - readBegan).toBeLessThan(250)
    await write
    const waited = performance.now() - began
    // Once acknowledged, every read sees it (after the other connection's row, committed first).
    expect(await rows(client)).toEqual(['theirs', 'ours'])
    const { ticks: n, longestGapMs } = ticks.stop()
    expect(waited).toBeGreaterThanOrEqual(990)
    // About 200 ticks of 5 ms in the second the lock is held; a client that waited synchronously would get none until then.
    expect(n).toBeGreaterThan(40)
    expect(longestGapMs).toBeLessThan(500)
  })

  it('keeps the order of writes queued while it waits', async () => {
    const { client, other } = await setup()
    other.exec('BEGIN IMMEDIATE')
    setTimeout(() => other.exec('COMMIT'), 100)
    const first = client.batch([{ sql: 'INSERT INTO t (v) VALUES (?)', args: ['1'] }], 'write')
    await new Promise((r) => setTimeout(r, 30))
    const second = client.batch([{ sql: 'INSERT INTO t (v) VALUES (?)', args: ['2'] }], 'write')
    const third = client.batch([{ sql: 'INSERT INTO t (v) VALUES (?)', args: ['3'] }], 'write')
    await Promise.all([first, second, third])
    expect(await rows(client)).toEqual(['1', '2', '3'])
  })

  it('fails a write as SQLITE_BUSY, applying nothing, when the lock is held past the wait limit, and writes again once it is free', async () => {
    const { client, other } = await setup({ busyTimeoutMs: 200 })
    other.exec('BEGIN IMMEDIATE')
    const ticks = ticker()
    const began = performance.now()
    const error = await client.batch([{ sql: 'INSERT INTO t (v) VALUES (?)', args: ['refused'] }], 'write').catch((e: unknown) => e)
    const waited = performance.now() - began
    expect(error).toMatchObject({ code: 'SQLITE_BUSY' })
    expect(waited).toBeGreaterThanOrEqual(190)
    expect(waited).toBeLessThan(2_000)
    expect(ticks.stop().longestGapMs).toBeLessThan(150)
    other.exec('ROLLBACK')
    expect(await rows(client)).toEqual([])
    await client.batch([{ sql: 'INSERT INTO t (v) VALUES (?)', args: ['later'] }], 'write')
    expect(await rows(client)).toEqual(['later'])
  })

  it('lets reads that follow no pending write run at once while the lock is held (WAL readers do not wait for writers)', async () => {
    const { client, other } = await setup()
    await client.batch([{ sql: 'INSERT INTO t (v) VALUES (?)', args: ['committed'] }], 'write')
    other.exec('BEGIN IMMEDIATE')
    other.exec("INSERT INTO t (v) VALUES ('uncommitted')")
    const began = performance.now()
    expect(await rows(client)).toEqual(['committed'])
    expect(performance.now() - began).toBeLessThan(250)
    other.exec('ROLLBACK')
  })

  it('gives each write its own wait: one queued late behind a waiting write is not failed at the first one\'s deadline', async () => {
    const { client, other } = await setup({ busyTimeoutMs: 600 })
    other.exec('BEGIN IMMEDIATE')
    const first = client.batch([{ sql: 'INSERT INTO t (v) VALUES (?)', args: ['first'] }], 'write').catch((e: unknown) => e)
    await new Promise((r) => setTimeout(r, 400))
    const lateBegan = performance.now()
    const late = client.batch([{ sql: 'INSERT INTO t (v) VALUES (?)', args: ['late'] }], 'write')
    expect(await first).toMatchObject({ code: 'SQLITE_BUSY' })
    // The first gave up at its deadline; the late one still waits, and commits once the lock is free.
    setTimeout(() => other.exec('ROLLBACK'), 100)
    await late
    expect(performance.now() - lateBegan).toBeLessThan(600)
    expect(await rows(client)).toEqual(['late'])
  })

  it('commits read transactions (batches of reads) while a write waits for the lock, and after a write gave up on it', async () => {
    const { client, other } = await setup({ busyTimeoutMs: 200 })
    other.exec('BEGIN IMMEDIATE')
    const refused = client.batch([{ sql: 'INSERT INTO t (v) VALUES (?)', args: ['x'] }], 'write').catch((e: unknown) => e)
    await new Promise((r) => setTimeout(r, 20))
    const read = async () => (await client.batch([{ sql: 'SELECT count(*) AS n FROM t', args: [] }], 'deferred'))[0]!.rows[0]!.n
    expect(await read()).toBe(0)
    expect(await refused).toMatchObject({ code: 'SQLITE_BUSY' })
    // A statement that met SQLITE_BUSY and stayed active would make this COMMIT fail ("SQL statements in progress").
    expect(await read()).toBe(0)
    other.exec('ROLLBACK')
    await client.batch([{ sql: 'INSERT INTO t (v) VALUES (?)', args: ['y'] }], 'write')
    expect(await read()).toBe(1)
  })

  it('fails the writes still waiting when it is closed, applying nothing', async () => {
    const { client, other } = await setup({ busyTimeoutMs: 100 })
    other.exec('BEGIN IMMEDIATE')
    const waiting = client.batch([{ sql: 'INSERT INTO t (v) VALUES (?)', args: ['x'] }], 'write').catch((e: unknown) => e)
    await new Promise((r) => setTimeout(r, 20))
    opened.splice(opened.indexOf(client), 1)
    client.close()
    expect(await waiting).toMatchObject({ code: 'SQLITE_BUSY' })
    other.exec('ROLLBACK')
    expect(other.prepare('SELECT count(*) AS n FROM t').get()).toMatchObject({ n: 0 })
  })
})
