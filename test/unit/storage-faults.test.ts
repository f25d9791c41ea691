/**
 * The embedded client's storage checks, on real files: a write after the database file
 * (or its WAL) was removed or replaced is refused with SQLITE_READONLY_DBMOVED and
 * applies nothing; reads go on; a disk with less free space than the reserve refuses
 * write batches as SQLITE_FULL; each fault is logged once when it begins and once when
 * writes commit again.
 */
import { copyFileSync, mkdtempSync, renameSync, unlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { LibsqlError } from '@libsql/client'
import { tuneEmbedded } from '../../worker/db/client'
import { EmbeddedClient } from '../../worker/db/embedded-client'
import { storageFaultOf } from '../../worker/db/errors'

const open: EmbeddedClient[] = []
afterEach(() => {
  for (const c of open.splice(0)) c.close()
})

async function fileClient(options: { minFreeBytes?: number } = {}) {
  const path = join(mkdtempSync(join(tmpdir(), 'switchboard-faults-')), 'registry.db')
  const logged: string[] = []
  const client = new EmbeddedClient(path, { ...options, log: (line) => logged.push(line) })
  open.push(client)
  await tuneEmbedded(client)
  await client.execute('CREATE TABLE t (v INTEGER NOT NULL)')
  await client.execute('INSERT INTO t (v) VALUES (1)')
  return { client, path, logged }
}

const insert = (client: EmbeddedClient, v: number) => client.batch([{ sql: 'INSERT INTO t (v) VALUES (?)', args: [v] }], 'write')
const count = async (client: EmbeddedClient) => Number((await client.execute('SELECT count(*) FROM t')).rows[0]![0])

async function refused(write: Promise<unknown>): Promise<unknown> {
  const error = await write.then(
    () => null,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(LibsqlError)
  return error
}

describe('the embedded client under storage faults', () => {
  it('refuses writes once the database file is removed, applies none of them, keeps reading, and logs it once', async () => {
    const { client, path, logged } = await fileClient()
    unlinkSync(path)
    for (let i = 0; i < 3; i++) expect(storageFaultOf(await refused(insert(client, 2)))).toBe('moved')
    // Grouped writes of one turn are refused together.
    const group = await Promise.allSettled([insert(client, 3), insert(client, 4)])
    expect(group.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    expect(storageFaultOf(await refused(client.execute('INSERT INTO t (v) VALUES (5)')))).toBe('moved')
    expect(await count(client)).toBe(1)
    expect(logged).toHaveLength(1)
    expect(logged[0]).toMatch(new RegExp(`${path} was removed or replaced while the registry had it open`))
  })

  it('refuses writes once another file is moved onto its path', async () => {
    const { client, path } = await fileClient()
    copyFileSync(path, `${path}.new`)
    renameSync(`${path}.new`, path)
    expect(storageFaultOf(await refused(insert(client, 2)))).toBe('moved')
  })

  it('refuses writes once its WAL is removed', async () => {
    const { client, path } = await fileClient()
    unlinkSync(`${path}-wal`)
    expect(storageFaultOf(await refused(insert(client, 2)))).toBe('moved')
  })

  it('counts the disk full below the reserve, for write batches, and logs the start and the end once', async () => {
    const { client, logged } = await fileClient({ minFreeBytes: Number.MAX_SAFE_INTEGER })
    for (let i = 0; i < 3; i++) expect(storageFaultOf(await refused(insert(client, 2)))).toBe('full')
    expect(await count(client)).toBe(1)
    expect(logged).toHaveLength(1)
    expect(logged[0]).toMatch(/is full: writes are refused \(507 InsufficientStorage\)/)
    // Set-up statements (pragmas, the migrator's bookkeeping) are not held to the reserve.
    await client.execute('CREATE TABLE IF NOT EXISTS t (v INTEGER NOT NULL)')

    Object.assign(client, { minFreeBytes: 0 }) // space freed
    await insert(client, 3)
    expect(await count(client)).toBe(2)
    expect(logged).toHaveLength(2)
    expect(logged[1]).toMatch(/writes commit again/)
  })
})

describe('writes that return rows', () => {
  it('are refused too once the database file is removed', async () => {
    const { client, path } = await fileClient()
    unlinkSync(path)
    const returning = { sql: 'INSERT INTO t (v) VALUES (7) RETURNING v', args: [] }
    expect(storageFaultOf(await refused(client.batch([returning], 'write')))).toBe('moved')
    expect(storageFaultOf(await refused(client.execute(returning)))).toBe('moved')
    expect(await count(client)).toBe(1)
  })
})
