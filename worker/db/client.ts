/**
 * The driver factory: a drizzle database over libSQL (an embedded file, `:memory:`, or a
 * remote libSQL/Turso URL). The schema and every query are shared by all drivers.
 */
import { createClient, type Client, type Config } from '@libsql/client'
import { expandConfig } from '@libsql/core/config'
import { drizzle } from 'drizzle-orm/libsql'
import type { BaseSQLiteDatabase } from 'drizzle-orm/sqlite-core'
import { EmbeddedClient } from './embedded-client'
import { withLibsqlBatch } from './compile'
import * as schema from './schema'

/** The database every store query runs on, whatever the driver. */
export type Database = BaseSQLiteDatabase<'async', unknown, typeof schema> & {
  batch: (queries: readonly [unknown, ...unknown[]] | readonly unknown[]) => Promise<unknown[]>
}

export interface LibsqlOptions {
  url: string
  authToken?: string
  /** An embedded file refuses writes (507) while its disk has less free space than this (see embedded-client.ts). */
  minFreeBytes?: number
  /** An embedded file: how long a write waits for another process's write lock before SQLITE_BUSY (see embedded-client.ts). */
  busyTimeoutMs?: number
}

/**
 * Opens a libSQL client; a plain path is taken as a `file:` URL. A local file or
 * `:memory:` gets the embedded client, which keeps prepared statements (see
 * embedded-client.ts); a remote URL gets `@libsql/client`.
 */
export function openLibsql(options: LibsqlOptions): Client {
  const config: Config = { url: normaliseUrl(options.url), intMode: 'number' }
  const embedded = embeddedTarget(options.url)
  if (embedded !== null) {
    return new EmbeddedClient(embedded, { minFreeBytes: options.minFreeBytes ?? 0, ...(options.busyTimeoutMs !== undefined ? { busyTimeoutMs: options.busyTimeoutMs } : {}) })
  }
  if (options.authToken) config.authToken = options.authToken
  return createClient(config)
}

/** What the embedded client opens for `url`: a file path, or `:memory:`; null for a URL `@libsql/client` serves (a remote database). */
export function embeddedTarget(url: string): string | null {
  const expanded = expandConfig({ url: normaliseUrl(url) }, true)
  return expanded.scheme === 'file' && !expanded.syncUrl && plainFile(expanded.authority) ? expanded.path : null
}

export function drizzleLibsql(client: Client): Database {
  return withLibsqlBatch(drizzle(client, { schema }) as unknown as Database, client)
}

/**
 * How an embedded file's commits reach the disk (DATABASE_SYNCHRONOUS). In WAL mode,
 * NORMAL syncs the WAL only at checkpoints: a commit survives a crash of the process but
 * the last ones can be lost on power loss or an OS crash. FULL syncs the WAL on every
 * commit, so an acknowledged write survives power loss too, at the cost of one fsync per
 * commit (group commit shares it between the writes of one event-loop turn).
 */
export type Synchronous = 'NORMAL' | 'FULL'

/**
 * Pragmas for an embedded file: WAL for concurrent readers and the durability asked for.
 * (The embedded client sets its own busy timeout and waits for another process's write lock without blocking.)
 */
export async function tuneEmbedded(client: Client, options: { synchronous?: Synchronous } = {}): Promise<void> {
  if (client.protocol !== 'file') return
  const mode = await client.execute('PRAGMA journal_mode')
  if (String(mode.rows[0]?.[0]).toLowerCase() !== 'memory') {
    await client.execute('PRAGMA journal_mode = WAL')
    await client.execute(`PRAGMA synchronous = ${options.synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`)
    // Checkpoints in a thread of their own, not in the commits on the event loop (checkpointer.ts).
    if (client instanceof EmbeddedClient) client.checkpointInBackground(options.synchronous === 'FULL' ? 'FULL' : 'NORMAL')
  }
}

/** A `file:` URL without a host other than localhost, a port or a user: the others get `@libsql/client`'s error. */
function plainFile(authority: ReturnType<typeof expandConfig>['authority']): boolean {
  if (!authority) return true
  return ['', 'localhost'].includes(authority.host.toLowerCase()) && authority.port === undefined && authority.userinfo === undefined
}

function normaliseUrl(url: string): string {
  if (url === ':memory:') return ':memory:'
  if (/^[a-z][a-z0-9+.-]*:/i.test(url)) return url
  return `file:${url}`
}
