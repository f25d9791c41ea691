/**
 * The remote libSQL driver for Workers: Turso (or any libSQL server) over HTTP, with
 * the web build of the client (no Node APIs).
 */
import { createClient } from '@libsql/client/web'
import { drizzle } from 'drizzle-orm/libsql/web'
import type { Database } from './client'
import { withLibsqlBatch } from './compile'
import * as schema from './schema'

export function drizzleRemote(url: string, authToken?: string): Database {
  const client = createClient({ url, ...(authToken ? { authToken } : {}), intMode: 'number' })
  return withLibsqlBatch(drizzle(client, { schema }) as unknown as Database, client)
}
