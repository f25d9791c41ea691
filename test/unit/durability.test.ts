/**
 * DATABASE_SYNCHRONOUS: the embedded file's commits are synced as configured (NORMAL by
 * default, FULL on request), read back from SQLite itself.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { Client } from '@libsql/client'
import { openLibsql, tuneEmbedded } from '../../worker/db/client'
import { ConfigError, parseConfig } from '../../worker/config'

const open: Client[] = []
afterEach(() => {
  for (const c of open.splice(0)) c.close()
})

async function synchronousOf(config: ReturnType<typeof parseConfig>): Promise<{ synchronous: number; journal: string }> {
  const client = openLibsql({ url: `file:${join(mkdtempSync(join(tmpdir(), 'switchboard-sync-')), 'registry.db')}` })
  open.push(client)
  await tuneEmbedded(client, { synchronous: config.databaseSynchronous })
  const synchronous = Number((await client.execute('PRAGMA synchronous')).rows[0]![0])
  const journal = String((await client.execute('PRAGMA journal_mode')).rows[0]![0])
  return { synchronous, journal }
}

describe('DATABASE_SYNCHRONOUS', () => {
  it('is NORMAL (1) in WAL mode unless set', async () => {
    expect(await synchronousOf(parseConfig({}))).toEqual({ synchronous: 1, journal: 'wal' })
  })

  it('FULL syncs the WAL on every commit (PRAGMA synchronous reads 2)', async () => {
    expect(await synchronousOf(parseConfig({ DATABASE_SYNCHRONOUS: 'FULL' }))).toEqual({ synchronous: 2, journal: 'wal' })
    expect(await synchronousOf(parseConfig({ DATABASE_SYNCHRONOUS: 'full' }))).toEqual({ synchronous: 2, journal: 'wal' })
  })

  it('refuses any other value, naming the variable', () => {
    expect(() => parseConfig({ DATABASE_SYNCHRONOUS: 'OFF' })).toThrow(ConfigError)
    expect(() => parseConfig({ DATABASE_SYNCHRONOUS: 'OFF' })).toThrow(/DATABASE_SYNCHRONOUS: must be NORMAL or FULL, got "OFF"/)
  })
})

describe('DATABASE_MIN_FREE_MB', () => {
  it('is 16 MiB unless set, 0 turns it off, and a bad value names the variable', () => {
    expect(parseConfig({}).databaseMinFreeBytes).toBe(16 * 1024 * 1024)
    expect(parseConfig({ DATABASE_MIN_FREE_MB: '0' }).databaseMinFreeBytes).toBe(0)
    expect(() => parseConfig({ DATABASE_MIN_FREE_MB: 'lots' })).toThrow(/DATABASE_MIN_FREE_MB: must be a number of MiB/)
  })
})
