/**
 * The embedded client keeps prepared statements but must answer exactly as
 * `@libsql/client`'s own file client does: same rows (by index and by name), same
 * counts, same errors, same rollback. Each case runs on both clients over equal
 * databases and compares.
 */
import { createClient, LibsqlBatchError, LibsqlError, type Client, type ResultSet } from '@libsql/client'
import { afterEach, describe, expect, it } from 'vitest'
import { EmbeddedClient, STATEMENT_CACHE_SIZE } from '../../worker/db/embedded-client'

const SETUP = [
  'CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, n INTEGER, data BLOB, CHECK (n IS NULL OR n >= 0))',
  "INSERT INTO t (name, n, data) VALUES ('a', 1, x'0102'), ('b', 2, NULL)",
]

const open: Client[] = []
afterEach(() => {
  for (const c of open.splice(0)) c.close()
})

async function both(): Promise<[Client, Client]> {
  const ours = new EmbeddedClient(':memory:')
  const theirs = createClient({ url: ':memory:', intMode: 'number' })
  open.push(ours, theirs)
  for (const c of [ours, theirs]) for (const sql of SETUP) await c.execute(sql)
  return [ours, theirs]
}

/** What a caller can see of a result: columns, rows by index, by name and as drizzle reads them, counts. */
function seen(r: ResultSet) {
  return {
    columns: r.columns,
    columnTypes: r.columnTypes,
    byIndex: r.rows.map((row) => Array.prototype.slice.call(row)),
    byName: r.rows.map((row) => Object.fromEntries(Object.keys(row).map((k) => [k, (row as Record<string, unknown>)[k]]))),
    lengths: r.rows.map((row) => row.length),
    rowsAffected: r.rowsAffected,
    lastInsertRowid: r.lastInsertRowid,
    json: JSON.stringify(r.toJSON()),
  }
}

async function failure(run: () => Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await run()
  } catch (e) {
    const err = e as LibsqlBatchError
    return { type: err.constructor.name, message: err.message, code: err.code, extendedCode: err.extendedCode, rawCode: err.rawCode, statementIndex: err.statementIndex }
  }
  throw new Error('expected a failure')
}

describe('embedded client', () => {
  it('answers reads, writes and RETURNING as @libsql/client does', async () => {
    const [ours, theirs] = await both()
    for (const stmt of [
      { sql: 'SELECT id, name, n, data FROM t ORDER BY id', args: [] },
      { sql: 'SELECT name, n AS name FROM t WHERE n >= ?', args: [1] },
      { sql: 'SELECT * FROM t WHERE name = :name', args: { name: 'b' } },
      { sql: 'INSERT INTO t (name, n) VALUES (?, ?)', args: ['c', 3] },
      { sql: 'UPDATE t SET n = n + 1 WHERE n > ? RETURNING id, n', args: [1] },
      { sql: 'UPDATE t SET n = n + 1 WHERE name = ?', args: ['zzz'] },
      { sql: 'DELETE FROM t WHERE name = ?', args: ['c'] },
      { sql: 'SELECT count(*) AS c, 1.5 AS f, NULL AS z FROM t', args: [] },
    ]) {
      expect(seen(await ours.execute(stmt)), stmt.sql).toEqual(seen(await theirs.execute(stmt)))
    }
  })

  it('runs a batch atomically and reports the failing statement as @libsql/client does', async () => {
    const [ours, theirs] = await both()
    const ok = ["INSERT INTO t (name, n) VALUES ('d', 4)", 'SELECT name FROM t ORDER BY id']
    expect((await ours.batch(ok)).map(seen)).toEqual((await theirs.batch(ok)).map(seen))
    for (const bad of [
      ["INSERT INTO t (name, n) VALUES ('e', 5)", "INSERT INTO t (name, n) VALUES ('a', 9)"],
      ["UPDATE t SET n = 7 WHERE name = 'a'", "INSERT INTO t (name, n) VALUES ('f', -1)"],
      ['SELECT 1', 'SELECT nope FROM t'],
    ]) {
      const mine = await failure(() => ours.batch(bad))
      expect(mine.type).toBe('LibsqlBatchError')
      expect(mine).toEqual(await failure(() => theirs.batch(bad)))
    }
    // Nothing of the failed batches stayed, and the cached statements still run.
    const read = 'SELECT name, n FROM t ORDER BY id'
    expect(seen(await ours.execute(read))).toEqual(seen(await theirs.execute(read)))
    expect(seen(await ours.execute(read)).byIndex).toEqual([['a', 1], ['b', 2], ['d', 4]])
  })

  it('fails single statements with the same LibsqlError', async () => {
    const [ours, theirs] = await both()
    for (const stmt of ["INSERT INTO t (name) VALUES ('a')", 'SELEC 1', { sql: 'SELECT nope FROM t WHERE id = ?', args: [1] }]) {
      const mine = await failure(() => ours.execute(stmt))
      expect(mine.type).toBe('LibsqlError')
      expect(mine).toEqual(await failure(() => theirs.execute(stmt)))
    }
  })

  it('refuses integers JavaScript cannot hold and arguments SQLite cannot take, as @libsql/client does', async () => {
    const [ours, theirs] = await both()
    await expect(ours.execute('SELECT 9007199254740993 AS big')).rejects.toThrow(RangeError)
    await expect(theirs.execute('SELECT 9007199254740993 AS big')).rejects.toThrow(RangeError)
    for (const arg of [Number.NaN, 2n ** 64n]) {
      await expect(ours.execute({ sql: 'SELECT ?', args: [arg] })).rejects.toThrow(RangeError)
      await expect(theirs.execute({ sql: 'SELECT ?', args: [arg] })).rejects.toThrow(RangeError)
    }
    const values = { sql: 'SELECT ? AS b, ? AS t, ? AS d, ? AS x', args: [true, 'x', new Date(5), new Uint8Array([7, 8]).buffer] }
    expect(seen(await ours.execute(values))).toEqual(seen(await theirs.execute(values)))
  })

  it(`keeps at most ${STATEMENT_CACHE_SIZE} statements prepared and still answers past that`, async () => {
    const ours = new EmbeddedClient(':memory:')
    open.push(ours)
    for (let i = 0; i < STATEMENT_CACHE_SIZE + 50; i++) {
      const r = await ours.execute(`SELECT ${i} AS v`)
      expect(r.rows[0]!.v).toBe(i)
    }
    expect(ours.preparedStatements).toBe(STATEMENT_CACHE_SIZE)
    expect((await ours.execute('SELECT 3 AS v')).rows[0]!.v).toBe(3)
  })

  it('drops the least recently used statement past the limit, not the first prepared', async () => {
    const ours = new EmbeddedClient(':memory:')
    open.push(ours)
    await ours.execute('SELECT 0 AS v')
    await ours.execute('SELECT 1 AS v')
    for (let i = 2; i < STATEMENT_CACHE_SIZE + 1; i++) {
      await ours.execute(`SELECT ${i} AS v`)
      // The first statement stays in use all along; the second is used once, at the start.
      await ours.execute('SELECT 0 AS v')
    }
    expect(ours.preparedStatements).toBe(STATEMENT_CACHE_SIZE)
    expect(ours.isPrepared('SELECT 0 AS v')).toBe(true)
    expect(ours.isPrepared('SELECT 1 AS v')).toBe(false)
    expect(ours.isPrepared(`SELECT ${STATEMENT_CACHE_SIZE} AS v`)).toBe(true)
    expect((await ours.execute('SELECT 1 AS v')).rows[0]!.v).toBe(1)
    expect(ours.isPrepared('SELECT 2 AS v')).toBe(false)
  })

  it('commits concurrent write batches together, each atomic on its own and in arrival order', async () => {
    const ours = new EmbeddedClient(':memory:')
    open.push(ours)
    for (const sql of SETUP) await ours.execute(sql)
    const before = { ...ours.commits }
    const readsBefore = { ...ours.reads }
    const results = await Promise.allSettled([
      ours.batch(["INSERT INTO t (name, n) VALUES ('g1', 10)", "UPDATE t SET n = n + 1 WHERE name = 'g1'"]),
      // Fails on its second statement (name 'a' exists): its first insert must not stay.
      ours.batch(["INSERT INTO t (name, n) VALUES ('g2', 20)", "INSERT INTO t (name, n) VALUES ('a', 0)"]),
      // Sees the first batch's row: batches run in arrival order.
      ours.batch(["UPDATE t SET n = n * 2 WHERE name = 'g1'", "INSERT INTO t (name, n) SELECT 'g3', n FROM t WHERE name = 'g1'"]),
      ours.batch(['SELECT count(*) AS c FROM t']),
    ])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled'])
    const failed = (results[1] as PromiseRejectedResult).reason
    expect(failed).toBeInstanceOf(LibsqlBatchError)
    expect(failed.statementIndex).toBe(1)
    expect(failed.code).toBe('SQLITE_CONSTRAINT')
    const rows = (await ours.execute("SELECT name, n FROM t WHERE name LIKE 'g%' ORDER BY name")).rows.map((r) => [r.name, r.n])
    expect(rows).toEqual([['g1', 22], ['g3', 22]])
    // The three write batches took one transaction; the read ran on its own and is no commit.
    expect(ours.commits.batches - before.batches).toBe(3)
    expect(ours.commits.transactions - before.transactions).toBe(1)
    expect(ours.commits.ms).toBeGreaterThan(before.ms)
    expect(ours.reads.count - readsBefore.count).toBe(2) // the batch of a read alone, and the SELECT above
    expect(ours.reads.ms).toBeGreaterThan(readsBefore.ms)
  })

  it('runs a read at once over what is committed, and commits writes issued between reads together', async () => {
    const ours = new EmbeddedClient(':memory:')
    open.push(ours)
    for (const sql of SETUP) await ours.execute(sql)
    const before = { ...ours.commits }
    const readsBefore = ours.reads.count
    const count = async () => Number((await ours.execute("SELECT count(*) AS c FROM t WHERE name LIKE 'r%'")).rows[0]!.c)
    // Reads and writes taking turns in one turn of the event loop, as concurrent requests that
    // read before they write do: a read after a queued write neither waits for it nor commits it.
    const seen: number[] = []
    const writes: Promise<unknown>[] = []
    for (let i = 0; i < 4; i++) {
      seen.push(await count())
      writes.push(ours.batch([`INSERT INTO t (name, n) VALUES ('r${i}', ${i})`]))
    }
    expect(seen).toEqual([0, 0, 0, 0])
    await Promise.all(writes)
    // A caller that awaited its write sees it; the four writes took one transaction.
    expect(await count()).toBe(4)
    expect(ours.commits.transactions - before.transactions).toBe(1)
    expect(ours.commits.batches - before.batches).toBe(4)
    expect(ours.reads.count - readsBefore).toBe(5)
  })

  it('fails a lone write batch alone and commits nothing of it', async () => {
    const ours = new EmbeddedClient(':memory:')
    open.push(ours)
    for (const sql of SETUP) await ours.execute(sql)
    const before = { ...ours.commits }
    const failed = await ours.batch(["INSERT INTO t (name, n) VALUES ('lone', 1)", "INSERT INTO t (name, n) VALUES ('a', 0)"]).catch((e: unknown) => e)
    expect(failed).toBeInstanceOf(LibsqlBatchError)
    expect((failed as LibsqlBatchError).statementIndex).toBe(1)
    expect((await ours.execute("SELECT count(*) AS c FROM t WHERE name = 'lone'")).rows[0]!.c).toBe(0)
    expect(ours.commits).toEqual(before)
    // The next group commits as usual.
    await Promise.all([ours.batch(["INSERT INTO t (name, n) VALUES ('next1', 1)"]), ours.batch(["INSERT INTO t (name, n) VALUES ('next2', 2)"])])
    expect((await ours.execute("SELECT count(*) AS c FROM t WHERE name LIKE 'next%'")).rows[0]!.c).toBe(2)
    expect(ours.commits.transactions - before.transactions).toBe(1)
  })

  it('is unusable once closed', async () => {
    const ours = new EmbeddedClient(':memory:')
    ours.close()
    expect(ours.closed).toBe(true)
    await expect(ours.execute('SELECT 1')).rejects.toThrow(LibsqlError)
  })
})
